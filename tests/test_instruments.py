"""The instruments as legislated: guarantees rated and priced at expected loss, reimbursed grants, de minimis,
additionality."""

from __future__ import annotations

import numpy as np
import pytest

from sim import DistrictModel, load_scenario
from sim.config import ScenarioError
from sim.model.accounts import credit_headroom, credit_multiple, rating_classes
from sim.run import simulate
from sim.submodels import guarantees, policy
from sim.submodels.finance import book_production_costs

FIRMS = 600


def run(policies: dict, steps: int = 24, seed: int = 4, **overrides) -> DistrictModel:
    params = load_scenario("baseline", n_firms=FIRMS, budget_reference_firms=FIRMS, policies=policies, **overrides)
    return simulate(params, seed=seed, steps=steps, progress=False)


def guarantee_spec(**fields):
    return load_scenario(
        "baseline", policies={"g": {"instrument": "credit_guarantee", "budget_per_year": 1.0, **fields}}
    ).policies["g"]


def test_expected_loss_rate_matches_a_hand_computation():
    # one quarter: the loss is the quarterly hazard times the whole loan
    h = 1 - (1 - 0.04) ** 0.25
    assert guarantees.expected_loss_rate(0.04, 1) == pytest.approx(h)
    # two quarters, linear repayment: default in q1 loses all, in q2 half
    assert guarantees.expected_loss_rate(0.04, 2) == pytest.approx(h + (1 - h) * h * 0.5)
    # riskier classes cost more, and so do longer loans
    assert guarantees.expected_loss_rate(0.10, 20) > guarantees.expected_loss_rate(0.01, 20)
    assert guarantees.expected_loss_rate(0.01, 20) > guarantees.expected_loss_rate(0.01, 8)


def test_rating_classes_follow_return_on_sales_and_leverage(small_model):
    model, spec = small_model, guarantee_spec()
    f = model.firms
    rows = np.arange(5)
    f.revenue[rows] = 100.0
    f.debt[rows] = 0.0
    f.profit_trend[rows] = [10.0, 4.0, 1.0, -3.0, -20.0]  # returns on sales 10 %, 4 %, 1 %, -3 %, -20 %
    np.testing.assert_array_equal(guarantees.rating(spec, model, rows), [1, 2, 3, 4, 5])
    # the same firm with heavy debt rates worse
    f.debt[0] = 2.0 * (model.params.capital_per_worker * f.employees[0] + max(f.cash[0], 0.0))
    assert guarantees.rating(spec, model, rows[:1])[0] > 1


def test_banks_rate_a_firm_without_a_year_of_accounts_on_its_business_plan(small_model):
    model, f = small_model, small_model.firms
    rows = np.arange(4)
    f.revenue[rows], f.debt[rows] = 100.0, 0.0
    f.profit_trend[rows] = [10.0, -20.0, 10.0, -20.0]  # classes 1 and 5 on their accounts
    f.entered_step[rows] = [-40, -40, model.steps - 1, model.steps - 3]  # two old firms, two born this year
    np.testing.assert_array_equal(rating_classes(model, rows), [1, 5, 3, 3])
    model.params.new_firm_rating_class = 5
    np.testing.assert_array_equal(rating_classes(model, rows), [1, 5, 5, 5])
    model.params.rating_history_quarters = 0  # every firm scored on its accounts
    np.testing.assert_array_equal(rating_classes(model, rows), [1, 5, 1, 5])


def test_banks_price_and_limit_credit_by_rating_class(small_model):
    model, f, p = small_model, small_model.firms, small_model.params
    rows = np.arange(5)
    f.revenue[rows], f.debt[rows], f.entered_step[rows] = 100.0, 10.0, -40
    f.profit_trend[rows] = [10.0, 4.0, 1.0, -3.0, -20.0]  # classes 1-5
    f.guarantee_instalment[:] = 0.0
    book_production_costs(model)
    np.testing.assert_array_equal(f.bank_rating[rows], [1, 2, 3, 4, 5])
    spreads = np.asarray(p.rating_spreads)
    np.testing.assert_allclose(model.quarter_costs["interest"][rows], (model.interest_rate + spreads) * 10.0)
    np.testing.assert_allclose(credit_multiple(model, rows), model.leverage * np.asarray(p.rating_limits))
    # the riskier classes get less headroom on the same balance sheet
    f.employees[rows], f.cash[rows] = 10.0, 0.0
    headroom = credit_headroom(model, rows)
    assert headroom[0] == headroom[2] > headroom[3] > headroom[4] > 0


def test_loan_terms_keep_the_bank_within_its_limit(small_model):
    model, spec = small_model, guarantee_spec(coverage=0.5)
    model.params.guarantee_capital_relief = 1.0  # relief a c = 0.5
    f = model.firms
    rows = np.arange(3)
    f.guaranteed[rows] = 0.0
    f.guarantee_cover[rows] = 0.0
    f.debt[rows] = 100.0
    f.cash[rows] = 0.0
    # no headroom left: limit = l NW exactly the debt
    f.employees[rows] = (
        100.0 / model.leverage / model.params.capital_per_worker + 100.0 / model.params.capital_per_worker
    )
    assert guarantees.credit_headroom(model, rows) == pytest.approx(np.zeros(3), abs=1e-9)
    new, moved = guarantees.loan_terms(model, spec, rows, np.array([10.0, 50.0, 500.0]))
    # N (1 - 0.5) - 0.5 R <= 0: R = N, at most the debt of 100, so N at most 100
    np.testing.assert_allclose(new, [10.0, 50.0, 100.0])
    np.testing.assert_allclose(moved, [10.0, 50.0, 100.0])
    # after the loan the bank's own exposure B = D - a c G is still within the limit
    after_debt = f.debt[rows] + new
    exposure = after_debt - 0.5 * (new + moved)
    assert (exposure <= 100.0 + 1e-9).all()


def test_guarantee_fund_charges_expected_losses_and_serves_only_rated_smes():
    model = run(
        {"g": {"instrument": "credit_guarantee", "budget_per_year": 2000.0, "max_class": 3, "max_employees": 100}},
        shocks={"crunch": {"kind": "credit_crunch", "size": 0.6, "start": 3, "end": 16}},
    )
    frame = model.observer.model_frame(model)
    assert frame.guarantee_expected_loss.sum() > 0
    np.testing.assert_allclose(frame.spending_credit_guarantee, frame.guarantee_expected_loss)
    f = model.firms
    rated = f.rating > 0
    assert rated.any() and (f.rating[rated] <= 3).all()
    assert (f.guaranteed <= f.debt + 1e-6).all() and (f.guarantee_instalment >= 0).all()
    # refinanced debt is never additional; the deadweight is at most what was spent
    assert frame.additional_credit_guarantee.sum() <= frame.supported_credit_guarantee.sum()
    assert frame.deadweight_credit_guarantee.sum() <= frame.spending_credit_guarantee.sum() + 1e-9


def test_guaranteed_loans_are_amortised(small_model):
    model = small_model
    f = model.firms
    f.debt[:2] = 100.0
    f.guaranteed[:2] = 100.0
    f.guarantee_instalment[:2] = 25.0
    cash = f.cash[:2].copy()
    for _ in range(5):
        guarantees.amortise(model)
    np.testing.assert_allclose(f.guaranteed[:2], 0.0)
    np.testing.assert_allclose(f.debt[:2], 0.0)
    np.testing.assert_allclose(f.cash[:2], cash - 100.0)
    assert (f.guarantee_instalment[:2] == 0).all()


def test_eu_call_pays_after_the_lag_and_lapses_for_firms_that_exit(small_model):
    model = small_model
    model.params.policies = {}
    load = load_scenario(
        "baseline",
        policies={"eu": {"instrument": "eu_internationalisation", "budget_per_year": 1e7, "reimbursement_lag": 3}},
    )
    model.params.policies = load.policies
    policy.setup(model)
    policy.begin_quarter(model)
    instrument = model.instruments[0]
    f = model.firms
    rows = np.array([0, 1])
    granted = policy.allocate(model, instrument, rows, np.array([10.0, 20.0]))
    np.testing.assert_allclose(granted, [10.0, 20.0])
    policy.schedule_reimbursements(model, instrument, rows, granted, 3)
    cash = f.cash[:2].copy()
    gone = f.firm_id[1]
    f.remove(np.arange(f.n) == 1)  # the second firm exits before it is paid
    spent = instrument.budget.spent_total
    steps = model.steps
    for lag in (1, 2, 3):
        model.steps = steps + lag
        policy.begin_quarter(model)
        paid_now = lag == 3
        assert f.cash[0] == pytest.approx(cash[0] + (10.0 if paid_now else 0.0))
    assert f.row_of[gone] == -1
    assert instrument.budget.spent_total == pytest.approx(spent - 20.0)  # the lapsed commitment is not spent
    assert model.reimbursements["amount"].size == 0


def test_eu_call_reimburses_after_the_lag_in_a_run():
    model = run(
        {"eu": {"instrument": "eu_internationalisation", "budget_per_year": 3000.0, "reimbursement_lag": 4}},
        steps=20,
        entry_attention=0.2,
    )
    frame = model.observer.model_frame(model).set_index("step")
    first_grant = frame.index[frame.spending_eu_internationalisation > 0].min()
    assert frame.reimbursed.loc[: first_grant + 3].sum() == 0
    assert frame.reimbursed.sum() > 0
    assert frame.reimbursed.sum() <= frame.spending_eu_internationalisation.sum() + 1e-6


def test_de_minimis_ceiling_caps_aid_from_all_instruments_over_three_years():
    ceiling = 40.0
    model = run(
        {
            "t": {"instrument": "training", "budget_per_year": 1e6, "cap_per_firm": 1e5, "subsidy_share": 1.0},
            "v": {
                "instrument": "university_vouchers",
                "budget_per_year": 1e6,
                "cap_per_firm": 1e5,
                "voucher_share": 1.0,
            },
        },
        steps=20,
        deminimis_ceiling=ceiling,
        training_attention=0.5,
    )
    f = model.firms
    assert (f.aid_recent.sum(axis=1) <= ceiling + 1e-9).all()
    assert f.aid_recent.sum(axis=1).max() > 0.5 * ceiling  # the ceiling binds for some firm
    assert model.observer.model_frame(model).n_deminimis_capped.sum() > 0


def test_additionality_rises_with_the_subsidy():
    """A voucher that pays little mostly goes to collaborations that would have happened anyway."""
    shares = []
    for share in (0.05, 0.9):
        model = run(
            {"v": {"instrument": "university_vouchers", "budget_per_year": 1e6, "voucher_share": share}}, steps=16
        )
        frame = model.observer.model_frame(model)
        supported = frame.supported_university_vouchers.sum()
        assert supported > 0
        shares.append(frame.additional_university_vouchers.sum() / supported)
        spent = frame.spending_university_vouchers.sum()
        assert 0 <= frame.deadweight_university_vouchers.sum() <= spent + 1e-9
    assert shares[0] < 0.5 < shares[1]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"class_bounds": [0.0, 0.1, 0.2, 0.3]}, "decreasing"),
        ({"default_rates": [0.1, 0.2]}, "5 annual default probabilities"),
        ({"purposes": ["leasing"]}, "purposes"),
        ({"max_class": 6}, "max_class"),
    ],
)
def test_bad_guarantee_fields_are_refused_with_the_field_named(fields, message):
    with pytest.raises(ScenarioError, match=message):
        load_scenario("baseline", policies={"g": {"instrument": "credit_guarantee", "budget_per_year": 1.0, **fields}})
