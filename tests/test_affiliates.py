"""Foreign affiliates (the proximity-concentration choice), inward acquisitions and the investment-abroad loans."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import DistrictModel, load_scenario
from sim.cli import main
from sim.config import ScenarioError
from sim.model.world import MARKETS
from sim.run import simulate
from sim.submodels import affiliates, competition

USA = MARKETS.index("usa")


def stepped(seed: int = 3, steps: int = 8, n_firms: int = 400, **overrides) -> DistrictModel:
    model = DistrictModel(n_firms=n_firms, rng=seed, affiliate_attention=0.0, acquisition_rate=0.0, **overrides)
    for _ in range(steps):
        model.step()
    return model


def usa_exporter(model) -> int:
    """The largest firm that serves the USA in full, alone, with no affiliate."""
    f = model.firms
    ok = f.served[:, USA] & ~f.trial[:, USA] & ~f.consortium[:, USA] & (f.affiliate.max(axis=1) == 0)
    rows = np.flatnonzero(ok)
    assert rows.size
    return int(rows[np.argmax(f.employees[rows])])


def values_after(model, row: int, level: float, trade_cost: float) -> np.ndarray:
    """Mode values of firm ``row`` in the USA with its productivity and quality at ``level`` x the firm's own.

    In the model a more productive firm is a larger one with a more appealing product (ODD 7.20):
    ``level`` scales its productivity and its quality, and its size is set to 25 ``level`` employees.
    """
    f = model.firms
    if not hasattr(model, "_own"):
        model._own = (float(f.productivity[row]), float(f.quality[row]))
    productivity, quality = model._own
    f.productivity[row] = level * productivity
    f.quality[row] = level**0.35 * quality
    f.employees[row] = 25.0 * level
    model.params.markets["usa"].trade_cost = trade_cost
    competition.clear_markets(model)  # prices, attractiveness and denominators at the new values
    return affiliates.mode_values(model, np.array([row]))[0, USA]


def test_a_firm_chooses_an_affiliate_over_exporting_when_productivity_and_trade_cost_are_high():
    """Helpman, Melitz & Yeaple (2004): a plant pays where the firm is productive and the trade cost high."""
    model = stepped()
    f = model.firms
    row = usa_exporter(model)
    low = values_after(model, row, 1.0, 0.12)
    assert np.isneginf(low[0]) and (low[1:] < 0).all()  # exporting stays best: no affiliate pays
    high = values_after(model, row, 10.0, 0.8)
    assert high[affiliates.ASSEMBLY] > 0 and high[affiliates.ASSEMBLY] > high[affiliates.SERVICE]
    # the same firm where the trade cost is low: a plant is worth less than a service affiliate
    free = values_after(model, row, 10.0, 0.0)
    assert (
        free[affiliates.ASSEMBLY] < high[affiliates.ASSEMBLY] and free[affiliates.ASSEMBLY] < free[affiliates.SERVICE]
    )
    # a less productive firm facing the high trade cost does not open a plant
    assert values_after(model, row, 2.0, 0.8)[affiliates.ASSEMBLY] < 0

    # ... and opens it when it reviews its modes and can finance the setup cost
    values_after(model, row, 10.0, 0.8)
    model.params.affiliate_attention = 1.0
    f.cash[row] += 1e6
    model.quarter_costs["entry"] = np.zeros(f.n)
    affiliates.begin_quarter(model)
    affiliates.open_affiliates(model)
    assert f.affiliate[row].max() > 0
    market = int(np.argmax(f.affiliate[row]))
    assert model.quarter_costs["entry"][row] == pytest.approx(
        affiliates.setup_costs(model)[f.affiliate[row, market], market]
    )

    # a firm that cannot finance the setup cost does not open it
    other = stepped()
    row2 = usa_exporter(other)
    values_after(other, row2, 10.0, 0.8)
    other.params.affiliate_attention = 1.0
    other.firms.cash[row2] = -1e7
    other.quarter_costs["entry"] = np.zeros(other.firms.n)
    affiliates.open_affiliates(other)
    assert other.firms.affiliate[row2].max() == 0


def test_an_affiliate_that_does_worse_than_exporting_is_closed_after_the_patience():
    model = stepped()
    f, p = model.firms, model.params
    row = usa_exporter(model)
    f.affiliate[row, USA] = affiliates.ASSEMBLY  # a plant where the firm sells too little to pay for it
    p.assembly_fixed_cost = 1000.0
    affiliates.begin_quarter(model)
    for quarter in range(1, p.affiliate_exit_patience + 1):
        assert f.affiliate[row, USA] == affiliates.ASSEMBLY
        affiliates.close_losing(model)
        assert f.affiliate_loss_quarters[row, USA] == (quarter % p.affiliate_exit_patience)
    assert f.affiliate[row, USA] == affiliates.NONE and model.affiliates_closed >= 1
    # leaving the market closes the affiliate too
    f.affiliate[row, USA] = affiliates.SERVICE
    from sim.submodels import internationalisation

    internationalisation.leave(model, (np.array([row]), np.array([USA])))
    assert f.affiliate[row, USA] == affiliates.NONE


def test_assembly_plants_save_the_trade_cost_and_move_jobs_abroad():
    model = stepped()
    f = model.firms
    row = usa_exporter(model)
    competition.clear_markets(model)
    before = f.sales[row, USA]
    employment = f.employees.sum()
    f.affiliate[row, USA] = affiliates.ASSEMBLY
    competition.clear_markets(model)
    tau = model.params.markets["usa"].trade_cost
    assert f.sales[row, USA] > before * (1 + tau) * 0.99  # no trade cost, and more appeal
    assert f.affiliate_sales[row, USA] == pytest.approx(f.sales[row, USA])
    assert f.abroad_sales[row, USA] == pytest.approx(model.params.assembly_local_share * f.sales[row, USA])
    assert f.jobs_abroad[row] > 0 and f.employees.sum() == employment
    frame = affiliates.indicators(model, None)
    assert frame["affiliate_jobs_abroad"] == pytest.approx(f.jobs_abroad.sum())


def test_the_initial_district_holds_the_affiliates_that_pay_with_their_setup_sunk():
    """ODD section 5: each exporter's cell starts in the mode of highest value, setup paid in the past."""
    model = DistrictModel(n_firms=1500, rng=2)
    competition.clear_markets(model)
    f = model.firms
    assert f.affiliate.max() == 0
    rows = np.flatnonzero(affiliates.exporters(f.served))
    value = affiliates.mode_values(model, rows) + affiliates.setup_costs(model).T[None, :, :]
    cash = f.cash.copy()
    affiliates.open_initial(model)
    codes = f.affiliate[rows]
    pays = value.max(axis=2) > 0
    assert pays.any()
    np.testing.assert_array_equal(codes[pays], value.argmax(axis=2)[pays])  # the best mode where one pays
    assert (codes[~pays] == affiliates.NONE).all()  # exporting where none does
    assert (f.affiliate[np.setdiff1d(np.arange(f.n), rows)] == affiliates.NONE).all()
    np.testing.assert_array_equal(f.cash, cash)  # no setup cost charged
    owners = f.affiliate.max(axis=1) > 0
    assert owners.mean() < 0.05
    exporters_only = affiliates.exporters(f.served) & ~owners
    assert f.employees[owners].mean() > 3 * f.employees[exporters_only].mean()


def test_initial_foreign_owners_follow_the_acquisition_hazard_over_each_firms_age():
    """Initial firm i is foreign-owned with probability 1 - (1 - h_i)^(a_i / 4), its R&D cut as after a purchase."""
    owned, expected, large_owned, small_owned = 0, 0.0, [], []
    for seed in (1, 2, 3):
        model = DistrictModel(n_firms=3000, rng=seed, acquisition_rate=0.004)
        f = model.firms
        assert (f.acquired_step == 0).all()  # bought before the run
        was = f.foreign_owned.copy()
        f.foreign_owned[:] = False  # the hazard is zero for the owned: evaluate it as if none were
        hazard = affiliates.acquisition_hazard(model)
        f.foreign_owned[:] = was
        age = np.maximum(-f.entered_step, 0) / 4.0
        owned += int(was.sum())
        expected += float((1.0 - (1.0 - hazard) ** age).sum())
        large = f.employees >= 50
        large_owned.append(was[large].mean())
        small_owned.append(was[f.employees < 10].mean())
        again = DistrictModel(n_firms=3000, rng=seed, acquisition_rate=0.004)
        assert (again.firms.foreign_owned == was).all()  # the draw is part of the seed
        unowned = DistrictModel(n_firms=3000, rng=seed, acquisition_rate=0.0).firms
        assert not unowned.foreign_owned.any()
        factor = model.params.acquired_rd_factor
        np.testing.assert_allclose(f.rd_intensity[was], factor * unowned.rd_intensity[was])
        np.testing.assert_array_equal(f.rd_intensity[~was], unowned.rd_intensity[~was])
    assert owned > 20 and abs(owned - expected) < 4 * np.sqrt(expected)  # a binomial sum: within 4 sd
    assert np.mean(large_owned) > 10 * np.mean(small_owned)


@pytest.fixture(scope="module")
def baseline_runs():
    runs = []
    for seed in (1, 2):
        model = simulate(load_scenario("baseline", n_firms=1500), seed=seed, steps=40, progress=False)
        runs.append((model, model.observer.panel_frame(), model.observer.model_frame(model)))
    return runs


def test_affiliate_owners_are_a_few_large_firms_and_larger_than_exporters_without(baseline_runs):
    for _, panel, frame in baseline_runs:
        alive = panel[~panel.exited & (panel.step >= 20)]
        owners = alive[alive.affiliate_markets.map(len) > 0]
        exporters = alive[(alive.affiliate_markets.map(len) == 0) & (alive.export_sales > 0)]
        assert 0.002 < len(owners) / len(alive) < 0.05  # a small minority
        assert owners.employees.median() > 5 * exporters.employees.median()
        assert owners.employees.mean() > 3 * exporters.employees.mean()
        assert owners.productivity.median() > exporters.productivity.median()
        # sales through affiliates are foreign sales; what plants make abroad is not exported
        later = frame.iloc[20:]
        assert (later.affiliate_sales > 0).all() and (later.abroad_production <= later.affiliate_sales).all()
        foreign = later.sales - later.domestic_sales
        np.testing.assert_allclose(later.export_sales, foreign - later.abroad_production, rtol=1e-9)


def test_foreign_groups_buy_larger_exporting_firms(baseline_runs):
    acquired, others = [], []
    for _, panel, frame in baseline_runs:
        assert frame.n_acquired.sum() > 0
        assert (frame.n_foreign_owned.diff().dropna() <= frame.n_acquired.iloc[1:].to_numpy()).all()
        last = panel[panel.step == panel.step.max()]
        acquired.append(last[last.foreign_owned])
        others.append(last[~last.foreign_owned])
    acquired, others = pd.concat(acquired), pd.concat(others)
    assert acquired.employees.mean() > 3 * others.employees.mean()
    assert (acquired.export_sales > 0).mean() > (others.export_sales > 0).mean()


def test_acquired_firms_cut_r_and_d_and_regional_suppliers():
    model = stepped(steps=4)
    f = model.firms
    rows = np.argsort(-f.employees)[:30]
    rd = f.rd_intensity[rows].copy()
    model.params.acquisition_rate = 1.0
    model.params.acquisition_reference_employees = 1.0  # everyone of size >= 1 is bought
    model.params.acquisition_productivity_elasticity = 0.0
    affiliates.acquire(model)
    assert f.foreign_owned[rows].all() and (f.acquired_step[rows] == model.steps).all()
    np.testing.assert_allclose(f.rd_intensity[rows], rd * model.params.acquired_rd_factor)
    from sim.submodels import supply

    wanted = supply.wanted_suppliers(model)
    clients = f.employees >= model.params.subcontract_min_employees
    ref = np.clip(np.rint(model.params.suppliers_per_worker * f.employees), 1, model.params.max_suppliers)
    assert (wanted[clients] <= ref[clients]).all() and (wanted[clients] < ref[clients]).any()


def test_investment_abroad_loans_are_charged_their_subsidy_at_grant_and_recorded():
    params = load_scenario(
        "investment_abroad",
        n_firms=800,
        budget_reference_firms=800,
        policies={
            "simest": {"instrument": "investment_abroad", "budget_per_year": 1e6, "start": 2, "cap_per_firm": 1e4}
        },
        deminimis_ceiling=1e6,
    )
    model = simulate(params, seed=5, steps=24, progress=False)
    frame = model.observer.model_frame(model)
    spec = model.params.policies["simest"]
    assert frame.supported_investment_abroad.sum() > 0
    assert 0 <= frame.additional_investment_abroad.sum() <= frame.supported_investment_abroad.sum()
    factor = affiliates.subsidy_factor(spec.rate_cut, spec.loan_quarters, model.params.discount_rate)
    # the budget pays each loan's subsidy when it is granted: its present value, nothing later
    assert frame.spending_investment_abroad.sum() == pytest.approx(factor * frame.abroad_loans.sum())
    assert frame.policy_cost.sum() >= frame.spending_investment_abroad.sum() - 1e-9
    assert frame.abroad_loan_stock.iloc[-1] > 0  # loans outstanding at the end: already paid for
    assert (model.firms.abroad_loan <= model.firms.debt + 1e-6).all()


def test_no_loans_for_the_eu_or_outside_the_window():
    params = load_scenario(
        "baseline",
        n_firms=600,
        policies={"s": {"instrument": "investment_abroad", "budget_per_year": 1e6, "markets": ["usa"], "start": 30}},
    )
    model = simulate(params, seed=2, steps=20, progress=False)
    assert model.observer.model_frame(model).spending_investment_abroad.sum() == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"markets": ["eu", "usa"]}, "outside the EU"),
        ({"markets": ["mars"]}, "unknown foreign market"),
        ({"loan_share": 1.5}, "loan_share"),
        ({"modes": ["factory"]}, "modes"),
        ({"loan_quarters": 0}, "loan_quarters"),
    ],
)
def test_bad_investment_abroad_fields_are_refused_with_the_field_named(fields, message):
    with pytest.raises(ScenarioError, match=message):
        load_scenario("baseline", policies={"s": {"instrument": "investment_abroad", "budget_per_year": 1.0, **fields}})


@pytest.mark.parametrize(
    "text",
    [
        "acquisition_rate = 2.0\n",
        "assembly_local_share = -0.1\n",
        '[policies.s]\ninstrument = "investment_abroad"\nbudget_per_year = 1.0\nrate_cut = 0.5\n',
    ],
)
def test_bad_affiliate_input_one_line_exit_2_nothing_written(tmp_path, text, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    assert main(["run", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    field = text.split("=")[0].strip() if not text.startswith("[") else "rate_cut"
    assert "bad.toml" in err and field in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o").exists()
