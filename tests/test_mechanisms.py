"""Innovation, internationalisation, finance, employment and demography on small cases."""

from __future__ import annotations

import numpy as np
import pytest

from sim import DistrictModel
from sim.model.world import DOMESTIC, MARKETS
from sim.submodels import employment, finance, innovation, internationalisation
from sim.submodels.demography import gpd_sizes


def test_random_peer_stays_in_niche():
    rng = np.random.default_rng(0)
    niche = rng.integers(0, 8, size=5000)
    peer = innovation.random_peer(niche, rng)
    assert (niche[peer] == niche).all()
    # peers are spread over the niche, not one firm
    assert len(np.unique(peer[niche == 3])) > 0.5 * (niche == 3).sum()


def test_innovation_never_lowers_productivity_or_quality(small_model):
    f = small_model.firms
    small_model.quarter_costs = {}
    f.revenue[:] = 1e4  # plenty of R&D: many successes
    before = f.productivity.copy(), f.quality.copy()
    innovation.innovate(small_model)
    assert (f.productivity >= before[0]).all() and (f.quality >= before[1]).all()
    assert (f.productivity > before[0]).mean() > 0.3


def test_no_rd_no_innovation(small_model):
    f = small_model.firms
    small_model.quarter_costs = {}
    f.revenue[:] = 0.0
    before = f.productivity.copy()
    innovation.innovate(small_model)
    np.testing.assert_array_equal(f.productivity, before)


def test_gpd_sizes_mean_and_floor():
    sizes = gpd_sizes(np.random.default_rng(1), 200_000, mean=9.0, shape=0.5, cap=1e9)
    assert sizes.min() >= 1.0
    assert sizes.mean() == pytest.approx(9.0, rel=0.05)


def test_discount_weights():
    flat, ramp = internationalisation.discount_weights(4, 0.0, 1.0)
    assert flat == 4 and ramp == 4
    flat, ramp = internationalisation.discount_weights(2, 0.0, 0.5)
    assert ramp == pytest.approx(0.5 + 0.75)


def _entry_setup(model: DistrictModel, market: str):
    """Make every firm want to enter ``market`` and no other."""
    m = MARKETS.index(market)
    p = model.params
    for name in MARKETS[1:]:
        if name != market:
            p.markets[name].entry_cost = 1e6
    p.entry_attention = 1.0
    p.entry_noise = 0.0
    model.quarter_costs = {}
    model.quarter_investment = np.zeros(model.firms.n)
    leave_all = np.zeros_like(model.firms.served)
    leave_all[:, 1:] = True
    internationalisation.leave(model, leave_all)
    return m


def test_entry_pays_sunk_cost_and_needs_finance():
    model = DistrictModel(n_firms=200, rng=11)
    m = _entry_setup(model, "eu")
    f = model.firms
    poor = np.arange(f.n) % 2 == 0
    f.cash[poor] = -1e5  # no liquidity at all
    internationalisation.review_markets(model)
    entered = f.served[:, m]
    assert entered.any()
    assert not entered[poor].any()
    # in full the sunk cost F, on trial kappa F (entry_noise 0: the firms' studies are exact)
    p = model.params
    cost = internationalisation.entry_costs(model)[m] * np.where(f.trial[entered, m], p.trial_cost_share, 1.0)
    np.testing.assert_allclose(model.quarter_costs["entry"][entered], cost)
    assert (model.quarter_costs["entry"][~entered] == 0).all()
    assert (f.market_entered[entered, m] == model.steps).all()


def test_leaving_returns_buyers_to_rivals_and_reentry_pays_again():
    model = DistrictModel(n_firms=200, rng=12)
    f, mk = model.firms, model.markets
    exporter = np.nonzero(f.served[:, 1])[0][0]
    niche = f.niche[exporter]
    rival_before = mk.rival_share[1, niche]
    share = f.share[exporter, 1]
    mask = np.zeros_like(f.served)
    mask[exporter, 1] = True
    internationalisation.leave(model, mask)
    assert not f.served[exporter, 1]
    assert mk.rival_share[1, niche] == pytest.approx(rival_before + share)
    # back in later: the sunk cost is charged again
    _entry_setup(model, "eu")
    f.cash[exporter] = 1e6
    model.steps = 5
    internationalisation.review_markets(model)
    assert f.served[exporter, 1]
    p = model.params
    paid = internationalisation.entry_costs(model)[1] * (p.trial_cost_share if f.trial[exporter, 1] else 1.0)
    assert model.quarter_costs["entry"][exporter] == pytest.approx(paid)
    assert f.market_entered[exporter, 1] == 5


def test_loss_making_market_is_abandoned_after_patience():
    model = DistrictModel(n_firms=200, rng=13)
    f, p = model.firms, model.params
    p.entry_attention = 0.0
    exporter = np.nonzero(f.served[:, 1])[0][0]
    f.sales[exporter, 1] = 0.0  # no sales: presence costs make it a loss
    for quarter in range(p.market_exit_patience):
        model.quarter_costs = {}
        assert f.served[exporter, 1], quarter
        internationalisation.review_markets(model)
        f.sales[exporter, 1] = 0.0
    assert not f.served[exporter, 1]
    assert f.served[exporter, DOMESTIC]


def test_credit_limit_and_insolvency(small_model):
    model = small_model
    f, p = model.firms, model.params
    model.quarter_costs = {"production": np.zeros(f.n)}
    model.quarter_investment = np.zeros(f.n)
    f.revenue[:] = 0.0
    f.debt[:] = 0.0
    f.cash[:] = 10.0
    loss = np.where(np.arange(f.n) % 2 == 0, 1e7, 5.0)  # half lose far more than they can borrow
    model.quarter_costs["production"] = loss
    finance.settle(model)
    limit = p.leverage_max * np.maximum(finance.net_worth(model) + f.debt, 0.0)
    assert (f.debt <= limit + 1e-6).all()
    assert f.exiting[::2].all()
    assert not f.exiting[1::2].any()


def test_employment_never_below_one_and_hiring_is_financed(small_model):

    model = small_model
    f = model.firms
    model.quarter_costs = {}
    model.quarter_investment = np.zeros(f.n)
    f.demanded[:] = f.employees * f.productivity * 10  # everyone wants to grow
    f.expected_demand[:] = f.demanded
    f.cash[:] = 0.0
    f.revenue[:] = 0.0
    f.debt[:] = 1e9  # and nobody can borrow
    before = f.employees.copy()
    employment.adjust(model)
    np.testing.assert_allclose(f.employees, before)
    f.demanded[:] = 0.0
    f.expected_demand[:] = 0.0
    employment.adjust(model)
    assert (f.employees >= 1.0).all()


def test_spendable_keeps_the_firm_solvent_after_an_expense(small_model):
    """An expense lowers net worth and so the credit limit: spendable accounts for both."""
    model = small_model
    f, p = model.firms, model.params
    model.quarter_costs = {}
    model.quarter_investment = np.zeros(f.n)
    f.revenue[:] = 0.0
    f.cash[:] = 0.0
    f.debt[:] = 0.0
    worth = p.capital_per_worker * f.employees
    liquid = finance.liquidity(model)
    spend = finance.spendable(model)
    np.testing.assert_allclose(liquid, p.leverage_max * worth)
    assert (spend < liquid).all()
    # spending exactly ``spendable`` leaves the firm solvent; a bit more does not
    for extra, insolvent in ((0.0, False), (1.0, True)):
        f.cash[:] = 0.0
        f.debt[:] = 0.0
        f.exiting[:] = False
        model.quarter_costs = {"entry": spend + extra}
        finance.settle(model)
        assert (f.exiting == insolvent).all(), extra


def test_entry_is_refused_when_its_cost_would_break_the_credit_limit():
    def setup(rich: bool) -> DistrictModel:
        model = DistrictModel(n_firms=300, rng=14)
        model.params.network_contract_cost = 1e5  # entering alone only (a network contract costs a member less)
        # and in full: a trial costing the whole sunk cost and reaching almost nobody is never worth more
        model.params.trial_cost_share, model.params.trial_reach = 1.0, 0.01
        m = _entry_setup(model, "eu")
        f, p = model.firms, model.params
        cost = internationalisation.entry_costs(model)[m]
        lam = p.leverage_max
        worth = p.capital_per_worker * f.employees
        f.revenue[:] = 0.0
        f.cash[:] = 1e6 if rich else 0.0
        # debt such that credit covers 1.2 x the cost now, but only 0.6 x once it is paid
        f.debt[:] = 0.0 if rich else np.maximum((lam * worth - 1.2 * cost) / (1 + lam), 0.0)
        if not rich:
            assert (finance.liquidity(model)[lam * worth > 1.2 * cost] >= cost).all()
        internationalisation.review_markets(model)
        return model, m

    rich, m = setup(rich=True)
    assert rich.firms.served[:, m].sum() > 5  # the market is worth entering
    poor, m = setup(rich=False)
    assert not poor.firms.served[:, m].any()


def test_firing_lowers_net_worth_by_severance_and_resale_loss(small_model):

    model = small_model
    f, p = model.firms, model.params
    model.quarter_costs = {}
    model.quarter_investment = np.zeros(f.n)
    f.revenue[:] = 0.0
    f.employees[:] = 20.0
    f.demanded[:] = 0.0
    f.expected_demand[:] = 0.0
    f.cash[:] = 1e6
    f.debt[:] = 0.0
    before = finance.net_worth(model).copy()
    employment.adjust(model)
    model.quarter_costs.pop("rd", None)
    fired = 20.0 - f.employees
    assert (fired > 0).all()
    p.payout_rate = 0.0  # dividends would also lower net worth
    finance.settle(model)
    expected = (p.firing_cost + p.capital_per_worker * p.resale_discount) * fired
    np.testing.assert_allclose(before - finance.net_worth(model), expected, rtol=1e-9)


def test_no_reentry_in_the_quarter_of_exit():
    model = DistrictModel(n_firms=200, rng=15)
    f, p = model.firms, model.params
    _entry_setup(model, "eu")
    f.cash[:] = 1e6
    exporter = 0
    f.served[exporter, 1] = True
    f.share[exporter, 1] = 1e-9
    f.sales[exporter, 1] = 0.0
    f.loss_quarters[exporter, 1] = p.market_exit_patience - 1
    internationalisation.review_markets(model)
    assert not f.served[exporter, 1]
    assert model.quarter_costs["entry"][exporter] == 0
