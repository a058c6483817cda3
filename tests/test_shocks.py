"""Each shock hits only its markets, niches or credit, and only inside its window."""

from __future__ import annotations

import numpy as np

from sim import DistrictModel
from sim.model.world import MARKETS, NICHES


def model_with(**shock) -> DistrictModel:
    return DistrictModel(n_firms=200, rng=3, shocks={"s": {"start": 3, "end": 5, **shock}})


def run_to(model: DistrictModel, step: int) -> DistrictModel:
    while model.steps < step:
        model.step()
    return model


def test_market_closure_hits_only_its_market_in_its_window():
    base = run_to(DistrictModel(n_firms=200, rng=3), 4)
    hit = run_to(model_with(kind="market_closure", markets=["russia"], size=1.0), 4)
    r = MARKETS.index("russia")
    assert (hit.markets.expenditure[r] == 0).all()
    others = np.ones(len(MARKETS), dtype=bool)
    others[r] = False
    # demand has its own random stream, so the other markets are identical to the baseline
    np.testing.assert_array_equal(hit.markets.expenditure[others], base.markets.expenditure[others])
    run_to(hit, 6)
    assert (hit.markets.demand_multiplier == 1).all()


def test_demand_drop_hits_only_its_niches():
    model = run_to(model_with(kind="demand_drop", niches=["packaging", "ceramics"], size=0.3), 3)
    multiplier = model.markets.demand_multiplier
    cols = np.isin(NICHES, ["packaging", "ceramics"])
    np.testing.assert_allclose(multiplier[:, cols], 0.7)
    np.testing.assert_allclose(multiplier[:, ~cols], 1.0)


def test_growth_slowdown_changes_only_the_trend_of_its_market():
    base = run_to(DistrictModel(n_firms=200, rng=3), 5)
    slow = run_to(model_with(kind="growth_slowdown", markets=["china"], size=0.2), 5)
    c = MARKETS.index("china")
    ratio = slow.markets.trend / base.markets.trend
    np.testing.assert_allclose(ratio[c], np.exp(-0.2 / 4 * 3))  # three quarters (3, 4, 5) slower
    np.testing.assert_allclose(np.delete(ratio, c, axis=0), 1.0)


def test_exchange_rate_raises_prices_abroad_only():
    model = run_to(model_with(kind="exchange_rate", size=0.1), 3)
    assert model.markets.price_factor[0] == 1.0
    np.testing.assert_allclose(model.markets.price_factor[1:], 1.1)
    model = run_to(model_with(kind="exchange_rate", markets=["usa"], size=0.2), 3)
    expected = np.where(np.array(MARKETS) == "usa", 1.2, 1.0)
    np.testing.assert_allclose(model.markets.price_factor, expected)


def test_credit_crunch_tightens_credit_only_in_its_window():
    model = model_with(kind="credit_crunch", size=0.5, rate_increase=0.02)
    p = model.params
    run_to(model, 2)
    assert model.leverage == p.leverage_max and model.interest_rate == p.interest_rate
    run_to(model, 3)
    assert model.leverage == 0.5 * p.leverage_max and model.interest_rate == p.interest_rate + 0.02
    run_to(model, 6)
    assert model.leverage == p.leverage_max


def test_rival_leap_shifts_only_its_cell_and_only_while_it_lasts():
    # the rivals' paths are exogenous (own random stream, no anchor to the region): the twin without
    # the shock has the same paths, so the leap is exactly the difference
    base = DistrictModel(n_firms=200, rng=3)
    leap = model_with(kind="rival_leap", niches=["machine_tools"], markets=["china"], size=0.3)
    hit = np.zeros((len(MARKETS), len(NICHES)), dtype=bool)
    hit[MARKETS.index("china"), NICHES.index("machine_tools")] = True
    for step in range(1, 8):
        run_to(base, step)
        run_to(leap, step)
        gap = np.log(leap.markets.rival_quality / base.markets.rival_quality)
        inside = 3 <= step <= 5  # the shock's window, start 3 to end 5
        np.testing.assert_allclose(gap[hit], 0.3 if inside else 0.0, atol=1e-12, err_msg=f"step {step}")
        np.testing.assert_allclose(gap[~hit], 0.0, atol=1e-12)
        np.testing.assert_array_equal(leap.markets.rival_price, base.markets.rival_price)
