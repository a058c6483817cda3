"""Innovation, internationalisation, finance, employment and demography on small cases."""

from __future__ import annotations

import numpy as np
import pytest

from sim import DistrictModel, finance, innovation, internationalisation
from sim.demography import gpd_sizes
from sim.world import DOMESTIC, MARKETS


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
    cost = model.params.markets["eu"].entry_cost
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
    assert model.quarter_costs["entry"][exporter] == model.params.markets["eu"].entry_cost
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
    from sim import employment

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
