"""Competition: logit shares with reach, customer inertia, capacity rationing."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import DistrictModel
from sim.model.firms import cell_totals
from sim.model.world import N_MARKETS, N_NICHES
from sim.submodels.competition import attractiveness, clear_markets, set_prices, target_shares


def test_cell_totals_sums_by_niche_and_market():
    niche = np.array([0, 0, 2])
    values = np.arange(3 * N_MARKETS, dtype=float).reshape(3, N_MARKETS)
    totals = cell_totals(niche, values)
    assert totals.shape == (N_MARKETS, N_NICHES)
    np.testing.assert_allclose(totals[:, 0], values[0] + values[1])
    np.testing.assert_allclose(totals[:, 2], values[2])
    assert totals[:, 1].sum() == 0


def test_target_shares_are_logit_with_rivals(small_model):
    f, mk = small_model.firms, small_model.markets
    attract = np.ones((f.n, N_MARKETS))
    mk.rival_mass[:] = 3.0
    shares, denominator = target_shares(small_model, attract)
    counts = cell_totals(f.niche, f.served.astype(float))
    np.testing.assert_allclose(denominator, 3.0 + counts)
    # every present firm gets 1 / (3 + number present); absent firms get nothing
    expected = np.where(f.served, 1.0 / denominator.T[f.niche.astype(int)], 0.0)
    np.testing.assert_allclose(shares, expected)


def test_better_quality_wins_more_buyers(small_model):
    f = small_model.firms
    twin = np.nonzero(f.niche == f.niche[0])[0][:2]
    f.employees[twin] = 5.0
    f.productivity[twin] = 60.0
    f.markup[twin] = 0.2
    f.quality[twin[0]] = 2.0 * f.quality[twin[1]]

    set_prices(small_model)
    shares, _ = target_shares(small_model, attractiveness(small_model))
    assert shares[twin[0], 0] > shares[twin[1], 0] * 3.5  # 2^2 with quality weight 2 at home


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    capacity_scale=st.floats(0.05, 5.0),
    inertia=st.floats(0.01, 1.0),
    demand_scale=st.floats(0.1, 10.0),
)
def test_clearing_invariants(seed, capacity_scale, inertia, demand_scale):
    """Shares sum to one with the rivals, sales never exceed capacity or demand."""
    model = DistrictModel(n_firms=60, rng=seed, customer_inertia_speed=inertia)
    f, mk = model.firms, model.markets
    f.employees[:] *= capacity_scale
    mk.expenditure *= demand_scale
    clear_markets(model)
    totals = cell_totals(f.niche, f.share) + mk.rival_share
    np.testing.assert_allclose(totals, 1.0, atol=1e-9)
    assert (f.share >= 0).all() and (mk.rival_share >= -1e-12).all()
    assert (f.share[~f.served] == 0).all()
    capacity = f.employees * f.productivity
    assert (f.output <= capacity * (1 + 1e-9)).all()
    assert (f.output <= f.demanded * (1 + 1e-9)).all()
    # revenue served never exceeds buyers' spending in any cell
    tau = model.params.market_array("trade_cost")
    spent_on_region = cell_totals(f.niche, f.sales * (1 + tau)[None, :])
    assert (spent_on_region <= mk.expenditure * (1 + 1e-9)).all()
