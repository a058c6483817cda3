"""Shocks: scenario-declared disturbances to markets, credit, exchange rates, rivals and suppliers (ODD 7.9).

Effects are recomputed from scratch every quarter from the shocks active in
it, so a shock ends exactly when its window does and never leaks into later
quarters (except through what firms did meanwhile). Kinds and the meaning of
``size`` are in sim/config/specs.py and docs/scenarios.md.
"""

from __future__ import annotations

import numpy as np

from sim.model.world import DOMESTIC, MARKETS, N_MARKETS, N_NICHES, NICHES


def cells(
    markets: list[str] | None, niches: list[str] | None, default_markets: tuple[str, ...] = MARKETS
) -> np.ndarray:
    """Boolean (markets, niches) mask of the cells a shock hits."""
    rows = np.isin(MARKETS, markets if markets is not None else default_markets)
    cols = np.isin(NICHES, niches) if niches is not None else np.ones(N_NICHES, dtype=bool)
    return rows[:, None] & cols[None, :]


def apply(model) -> None:
    """Set this quarter's shock effects on markets, rivals and credit conditions."""
    p, mk = model.params, model.markets
    step = model.steps
    demand = np.ones((N_MARKETS, N_NICHES))
    growth = np.zeros((N_MARKETS, N_NICHES))
    rival_shift = np.zeros((N_MARKETS, N_NICHES))
    price = np.ones(N_MARKETS)
    leverage, extra_rate = 1.0, 0.0
    undelivered = np.zeros(N_MARKETS)
    for shock in p.shocks.values():
        if not shock.active(step):
            continue
        kind, size = shock.kind, shock.size
        if kind in ("market_closure", "demand_drop"):
            demand[cells(shock.markets, shock.niches)] *= 1.0 - size
        elif kind == "growth_slowdown":
            growth[cells(shock.markets, shock.niches)] -= size
        elif kind == "exchange_rate":
            foreign = np.isin(MARKETS, shock.markets if shock.markets is not None else MARKETS[1:])
            foreign[DOMESTIC] = False
            price[foreign] *= 1.0 + size
        elif kind == "rival_leap":
            hit = cells(shock.markets, shock.niches)
            rival_shift[hit] += size  # demand.move_rivals applies it (and takes it back when the shock ends)
        elif kind == "credit_crunch":
            leverage *= 1.0 - size
            extra_rate += shock.rate_increase
        elif kind == "supply_disruption":
            # shares of orders not delivered combine like independent failures
            hit = np.isin(MARKETS, shock.markets)
            undelivered[hit] = 1.0 - (1.0 - undelivered[hit]) * (1.0 - size)
    mk.demand_multiplier = demand
    mk.growth_shift = growth
    mk.rival_quality_shift = rival_shift
    mk.price_factor = price
    model.leverage = p.leverage_max * leverage
    model.interest_rate = p.interest_rate + extra_rate
    model.supply_disruption = undelivered  # submodels/sourcing.py delivers the rest
