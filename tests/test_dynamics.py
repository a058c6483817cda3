"""Export entry under uncertainty, learning, exit by choice and the model's closure, rule by rule on small cases."""

from __future__ import annotations

import numpy as np
import pytest

from sim import DistrictModel
from sim.model.calendar import is_first_quarter
from sim.model.firms import CLOSURE, EXIT_CAUSES, INSOLVENCY, SUCCESSION
from sim.model.world import MARKETS
from sim.submodels import competition, demography, employment, finance, internationalisation, learning

EU = MARKETS.index("eu")


#: The rules are tested in a fixed world, not at whatever the calibration makes the defaults.
WORLD = {
    "fit_sd": 0.8,
    "match_sd_foreign": 0.44,
    "entry_noise": 0.5,
    "trial_cost_share": 0.3,
    "trial_reach": 0.3,
    "presence_size_elasticity": 0.0,
    "market_exit_patience": 2,
    "entry_cost_scale": 1.0,
}


def _stepped(seed: int, n_firms: int = 300, quarters: int = 2, **params) -> DistrictModel:
    model = DistrictModel(n_firms=n_firms, rng=seed, **{**WORLD, **params})
    for _ in range(quarters):
        model.step()
    return model


def _only_eu_on_trial(model: DistrictModel, rows: np.ndarray) -> None:
    """Firms ``rows`` leave every foreign market and start a trial in the EU this quarter, knowing only the prior."""
    f, p = model.firms, model.params
    foreign = np.zeros_like(f.served)
    foreign[rows, 1:] = True
    internationalisation.leave(model, foreign)
    internationalisation.enter(model, rows, np.full(rows.size, EU), np.full(rows.size, 1e-4), trial=True)
    f.belief[rows, EU] = 0.0
    f.belief_precision[rows, EU] = learning.prior_precision(p)


def test_learning_converges_to_the_fit_and_keeps_it():
    model = _stepped(21)
    f, p = model.firms, model.params
    rows = np.arange(10)
    _only_eu_on_trial(model, rows)
    f.fit[rows, EU] = np.linspace(-1.5, 1.5, rows.size)
    f.match[rows, EU] = 0.0
    for _ in range(200):
        learning.learn(model)
    # 200 signals of variance sigma_y^2 leave a posterior s.d. of sigma_y / sqrt(200), plus the (frozen) match
    np.testing.assert_allclose(f.belief[rows, EU], f.fit[rows, EU], atol=0.05)
    assert (f.belief_precision[rows, EU] > 200 / learning.signal_variance(p)).all()
    # a firm that stops selling there keeps what it learned
    internationalisation.leave(model, (rows, np.full(rows.size, EU)))
    before = f.belief[rows, EU].copy()
    learning.learn(model)
    np.testing.assert_array_equal(f.belief[rows, EU], before)


def test_study_error_shrinks_with_contacts_and_the_regions_presence():
    model = DistrictModel(n_firms=200, rng=22, entry_noise=0.8, network_noise_cut=0.5, regional_information=0.0)
    rows = np.arange(50)
    eps = np.zeros((rows.size, len(MARKETS)))
    model.firms.belief_precision[rows] = 0.0  # never sold anywhere
    alone = np.zeros((rows.size, len(MARKETS)), dtype=bool)
    _, sd_alone = learning.beliefs(model, rows, alone, eps)
    _, sd_contact = learning.beliefs(model, rows, ~alone, eps)
    prior = model.params.fit_sd**-2
    np.testing.assert_allclose(sd_alone[:, EU], (prior + 0.8**-2) ** -0.5)
    np.testing.assert_allclose(sd_contact[:, EU], (prior + 0.4**-2) ** -0.5)


def test_firm_with_a_bad_draw_leaves_after_its_trial_and_a_good_one_expands():
    model = _stepped(23, entry_attention=0.0, closure_attention=0.0, succession_hazard=0.0)
    f, p = model.firms, model.params
    rows = np.argsort(-f.employees)[5:25]  # large, solvent firms (finance does not decide), not the very largest
    _only_eu_on_trial(model, rows)
    bad_ids, good_ids = f.firm_id[rows[:10]].copy(), f.firm_id[rows[10:]].copy()
    f.fit[rows[:10], EU] = -6.0 * p.fit_sd  # far enough below that the shrunk posterior still says "leave"
    f.fit[rows[10:], EU] = 4.0 * p.fit_sd
    f.cash[rows] = 1e5
    for quarter in range(p.trial_quarters - 1):
        # a bad draw may also leave early, after losses (the market-exit rule); a good one stays on trial
        assert f.trial[f.row_of[good_ids], EU].all(), quarter
        model.step()  # other firms may exit: rows move, ids do not
        rows = f.row_of[np.concatenate([bad_ids, good_ids])]
        f.cash[rows] = np.maximum(f.cash[rows], 1e5)
    bad, good = f.row_of[bad_ids], f.row_of[good_ids]
    assert (bad >= 0).all() and (good >= 0).all() and f.trial[good, EU].all()
    # the trial's last quarter: the decision the model takes at the start of the next one
    still = bad[f.trial[bad, EU]]
    f.market_entered[rows, EU] -= 1
    model.quarter_costs = {"entry": np.zeros(f.n)}
    left = internationalisation.end_trials(model)
    assert left[still, EU].all() and not f.served[bad, EU].any()
    assert f.served[good, EU].all() and not f.trial[good, EU].any()
    # expanding pays the rest of the sunk cost, (1 - kappa) F
    rest = (1.0 - p.trial_cost_share) * internationalisation.entry_costs(model, good)[:, EU]
    np.testing.assert_allclose(model.quarter_costs["entry"][good], rest)
    assert (model.quarter_costs["entry"][bad] == 0).all()
    # the bad ones learned it: their belief is well below the prior mean
    assert (f.belief[bad, EU] < -p.fit_sd).all()


def test_trial_entrant_pays_less_and_reaches_less():
    model = _stepped(24, n_firms=400, entry_noise=0.6, fit_sd=1.0, trial_cost_share=0.5, trial_reach=0.2)
    f, p = model.firms, model.params
    for name in MARKETS[1:]:
        if name != "eu":
            p.markets[name].entry_cost = 1e6
    p.entry_attention = 1.0
    f.cash[:] = 1e5
    foreign = np.zeros_like(f.served)
    foreign[:, 1:] = True
    internationalisation.leave(model, foreign)
    f.belief_precision[:] = 0.0  # nobody has sold abroad: every entry is judged on a study
    model.quarter_costs = {}
    # the sunk cost as the firm sees it before anyone enters (contacts that serve the EU cut it)
    cost = internationalisation.entry_costs(model, np.arange(f.n))[:, EU]
    internationalisation.review_markets(model)
    entered = f.served[:, EU]
    trial = entered & f.trial[:, EU]
    full = entered & ~f.trial[:, EU]
    assert trial.sum() >= 5 and full.sum() >= 5, (trial.sum(), full.sum())
    paid = model.quarter_costs["entry"]
    np.testing.assert_allclose(paid[trial], p.trial_cost_share * cost[trial])
    np.testing.assert_allclose(paid[full], cost[full])
    # the same firm reaches trial_reach of the buyers it would reach in full
    log_a = competition.log_attractiveness(model)
    f.trial[trial, EU] = False
    log_full = competition.log_attractiveness(model)
    np.testing.assert_allclose(log_a[trial, EU] - log_full[trial, EU], np.log(p.trial_reach))
    # and it pays kappa P_m a quarter to be there
    f.trial[trial, EU] = True
    exporting, served = internationalisation.foreign_served(model)
    internationalisation.book_presence_costs(model, exporting, served)
    presence = internationalisation.presence_costs(model)[:, EU]
    np.testing.assert_allclose(model.quarter_costs["presence"][trial], p.trial_cost_share * presence[trial])
    np.testing.assert_allclose(model.quarter_costs["presence"][full], presence[full])


def test_trial_is_worth_more_and_chosen_more_often_under_uncertainty():
    model = _stepped(25, n_firms=400)
    competition.clear_markets(model)  # the caches entry reads, for the firms of now
    rows = np.arange(model.firms.n)
    costs = internationalisation.entry_costs(model, rows)
    mean = np.log(0.5) * np.ones((rows.size, len(MARKETS)))
    certain = internationalisation.entry_options(model, rows, mean, np.full_like(mean, 1e-6), costs)
    unsure = internationalisation.entry_options(model, rows, mean, np.full_like(mean, 1.5), costs)
    # the option to leave after learning is convex in theta: worth more the less the firm knows
    assert (unsure[1][:, 1:] >= certain[1][:, 1:] - 1e-9).all()
    assert (unsure[1][:, 1:] > certain[1][:, 1:] + 1.0).mean() > 0.5

    # "try and see": cells where full entry does not pay in expectation but a trial does exist mostly under uncertainty
    def try_and_see(direct, trial):
        return ((direct <= 0) & (trial > 0))[:, 1:].sum()

    assert try_and_see(*unsure[:2]) > 2 * try_and_see(*certain[:2]) + 10


def _closure_case(seed: int = 26):
    model = _stepped(seed, closure_attention=1.0, succession_hazard=0.0)
    model.firms.exiting[:] = False
    return model


def test_owners_close_exactly_when_going_on_is_worth_less_than_closing():
    model = _closure_case()
    f, p = model.firms, model.params
    f.operating_trend[: f.n // 2] = -50.0  # losing money for good
    flat, _ = internationalisation.discount_weights(p.entry_horizon, p.discount_rate, p.customer_inertia_speed)
    beta_h = (1.0 + p.discount_rate) ** -p.entry_horizon
    go_on = flat * f.operating_trend + beta_h * finance.net_worth(model)
    close = finance.net_worth(model) - p.capital_per_worker * f.employees * p.resale_discount
    close += flat * p.owner_outside_option
    expected = go_on < close
    assert 0 < expected.sum() < f.n
    demography.close_firms(model)
    np.testing.assert_array_equal(f.exiting, expected)
    assert (f.exit_cause[expected] == CLOSURE).all()
    assert (f.exit_cause[~expected] == 0).all()


def test_owners_who_do_not_look_do_not_close():
    model = _closure_case()
    model.params.closure_attention = 0.0
    model.firms.operating_trend[:] = -1e3
    demography.close_firms(model)
    assert not model.firms.exiting.any()


def test_succession_closes_old_small_firms_in_the_first_quarter_only():
    model = _stepped(27, quarters=4, closure_attention=0.0, succession_hazard=1.0)
    f, p = model.firms, model.params
    f.exiting[:] = False
    f.exit_cause[:] = 0
    assert not is_first_quarter(model)  # quarter 4 of year 1
    demography.close_firms(model)
    assert not f.exiting.any()
    model.steps += 1  # quarter 1 of year 2
    assert is_first_quarter(model)
    old_small = (model.steps - f.entered_step >= p.succession_min_age) & (f.employees < p.succession_max_employees)
    assert 0 < old_small.sum() < f.n
    demography.close_firms(model)
    np.testing.assert_array_equal(f.exiting, old_small)
    assert (f.exit_cause[old_small] == SUCCESSION).all()


def test_exits_by_cause_add_up_and_each_cause_occurs():
    model = DistrictModel(n_firms=1500, rng=28)
    for _ in range(40):
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    causes = frame[[f"n_exits_{cause}" for cause in EXIT_CAUSES]]
    np.testing.assert_array_equal(causes.sum(axis=1), frame["n_exits"])
    totals = causes.sum()
    assert (totals > 0).all(), totals.to_dict()
    # Italian business demography: voluntary closures far outnumber bankruptcies
    assert totals["n_exits_insolvency"] < totals["n_exits_closure"] + totals["n_exits_succession"]
    assert EXIT_CAUSES[INSOLVENCY - 1] == "insolvency"


def _rival_paths(quality_rise: float, **params) -> tuple[np.ndarray, np.ndarray]:
    model = DistrictModel(n_firms=300, rng=29, **params)
    model.firms.quality[:] *= quality_rise
    for _ in range(8):
        model.step()
    return model.markets.rival_quality.copy(), model.markets.rival_price.copy()


def test_a_region_wide_rise_in_quality_leaves_the_rivals_path_unchanged():
    same = _rival_paths(1.0)
    better = _rival_paths(1.5)
    np.testing.assert_array_equal(same[0], better[0])
    np.testing.assert_array_equal(same[1], better[1])
    # the alternative closure (rivals catch up with the region's sales-weighted mean) does react
    same = _rival_paths(1.0, rival_anchor="sales_weighted", rival_catchup=0.05)
    better = _rival_paths(1.5, rival_anchor="sales_weighted", rival_catchup=0.05)
    assert (better[0] > same[0]).all()


def test_wage_follows_the_contract_path_plus_a_share_of_the_regions_gains():
    model = DistrictModel(n_firms=300, rng=30, wage_growth=0.02, wage_indexation=0.25)
    f, p = model.firms, model.params
    model.steps = 8  # two years of contract
    employment.update_wage(model)
    # productivity flat while the contract rose 4 %: bargaining gives back psi of the gap
    assert model.wage == pytest.approx(p.wage * np.exp(0.04 - 0.25 * 0.04))
    # every worker 10 % more productive than the contract path: a quarter of it goes into wages
    f.productivity[:] *= 1.1 * np.exp(0.04)
    employment.update_wage(model)
    assert model.wage == pytest.approx(p.wage * np.exp(0.04 + 0.25 * np.log(1.1)))
    # an employment-weighted mean: raising only the smallest firms' productivity hardly moves it
    f.productivity[:] /= 1.1 * np.exp(0.04)
    small = f.employees <= np.quantile(f.employees, 0.5)
    f.productivity[small] *= 2.0
    employment.update_wage(model)
    weighted = model.wage
    jobs_share = f.employees[small].sum() / f.employees.sum()  # the small half of the firms has few of the jobs
    assert jobs_share < 0.5
    assert np.log(weighted / (p.wage * np.exp(0.04))) == pytest.approx(0.25 * (np.log(2.0) * jobs_share - 0.04))
    model.params.wage_weights = "unweighted"
    employment.update_wage(model)
    assert model.wage > weighted  # over firms, the small half counts for half


def test_markups_move_part_way_toward_the_demands_elasticity():
    model = _stepped(31, markup_speed=0.0, markup_adjustment=0.2)
    f, p = model.firms, model.params
    target = employment.desired_markups(model)
    before = f.markup.copy()
    employment.set_markups(model)
    expected = np.clip(before + 0.2 * (target - before), p.markup_min, p.markup_max)
    np.testing.assert_allclose(f.markup, expected)
    # a firm alone in Italy with share s faces elasticity 1 + bp (1 - s): mu* = 1 / (bp (1 - s))
    bp = p.markets["italy"].price_weight
    domestic_only = f.sales[:, 1:].sum(axis=1) == 0
    i = np.flatnonzero(domestic_only & (f.revenue > 0))[0]
    assert target[i] == pytest.approx(1.0 / (bp * (1.0 - f.share[i, 0])))
