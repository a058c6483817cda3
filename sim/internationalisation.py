"""Internationalisation: entry into and exit from foreign markets with sunk costs.

A firm that reviews its markets (probability ``entry_attention`` a quarter)
estimates, with error, what each foreign market it does not serve would
bring: the logit share it would win there (sim.competition) times the
market's expenditure, reached gradually as buyers move (customer inertia),
times its margin, minus the presence cost, discounted over
``entry_horizon``. It enters the best market whose value exceeds the sunk
entry cost, if it can finance that cost. A market that loses money for
``market_exit_patience`` quarters in a row is abandoned; coming back later
pays the sunk cost again. Who exports is thus decided by size,
productivity, quality and finance, never assigned.
"""

from __future__ import annotations

import numpy as np

from sim import finance
from sim.competition import attractiveness, cell_totals, target_shares
from sim.world import DOMESTIC


def discount_weights(horizon: int, rate: float, speed: float) -> tuple[float, float]:
    """Present value of 1 per quarter, and of a flow ramping up as 1 - (1 - speed)^h."""
    h = np.arange(1, horizon + 1)
    beta = (1.0 + rate) ** -h
    return float(beta.sum()), float((beta * (1.0 - (1.0 - speed) ** h)).sum())


def margin(model) -> np.ndarray:
    """Contribution margin on sales: (price - unit variable cost) / price."""
    mu = model.firms.markup
    return mu / (1.0 + mu)


def expected_entry_revenue(model) -> np.ndarray:
    """Quarterly revenue at the logit share a firm would win in each market, shape (firms, markets)."""
    f, p, mk = model.firms, model.params, model.markets
    niche = f.niche.astype(np.intp)
    attract = attractiveness(model)
    _, denominator = target_shares(model, attract)
    share = attract / (denominator.T[niche] + np.where(f.served, 0.0, attract))
    tau = p.market_array("trade_cost")
    return share * mk.expenditure.T[niche] / ((1.0 + tau)[None, :] * mk.price_factor[None, :])


def entry_values(model, expected_revenue: np.ndarray) -> np.ndarray:
    """Discounted profit of entering each market minus its sunk cost, shape (firms, markets)."""
    p = model.params
    flat, ramp = discount_weights(p.entry_horizon, p.discount_rate, p.customer_inertia_speed)
    value = ramp * expected_revenue * margin(model)[:, None] - flat * p.market_array("presence_cost")[None, :]
    return value - p.market_array("entry_cost")[None, :]


def _enter(model, rows: np.ndarray, markets: np.ndarray, share: np.ndarray) -> None:
    """Put firms ``rows`` into ``markets`` starting from ``share`` of the buyers."""
    f, mk = model.firms, model.markets
    f.share[rows, markets] = share
    f.served[rows, markets] = True
    f.market_entered[rows, markets] = model.steps
    f.loss_quarters[rows, markets] = 0
    mk.rival_share = 1.0 - cell_totals(f.niche, f.share)


def leave(model, mask: np.ndarray) -> None:
    """Withdraw from the (firm, market) cells in ``mask``; buyers go to the rivals."""
    f, mk = model.firms, model.markets
    f.share[mask] = 0.0
    f.served[mask] = False
    f.loss_quarters[mask] = 0
    mk.rival_share = 1.0 - cell_totals(f.niche, f.share)


def initial_presence(model) -> None:
    """Pre-history: apply the entry rule once, without noise or cost, to every market."""
    value = entry_values(model, expected_entry_revenue(model))
    value[:, DOMESTIC] = -np.inf
    rows, markets = np.nonzero(value > 0)
    _enter(model, rows, markets, np.zeros(rows.size))


def review_markets(model) -> None:
    """Book presence costs, leave loss-making markets, enter the most valuable new one."""
    f, p = model.firms, model.params
    rng = model.streams["internationalisation"]
    presence = p.market_array("presence_cost")
    foreign = f.served.copy()
    foreign[:, DOMESTIC] = False
    model.quarter_costs["presence"] = (foreign * presence[None, :]).sum(axis=1)

    profit = f.sales * margin(model)[:, None] - presence[None, :]
    f.loss_quarters[:] = np.where(foreign & (profit < 0), f.loss_quarters + 1, 0)
    leave(model, foreign & (f.loss_quarters >= p.market_exit_patience))

    reviewing = rng.random(f.n) < p.entry_attention
    noise = np.exp(p.entry_noise * rng.standard_normal((f.n, f.served.shape[1])))
    revenue = expected_entry_revenue(model)
    value = entry_values(model, revenue * noise)
    value[f.served] = -np.inf
    value[:, DOMESTIC] = -np.inf
    value[~reviewing] = -np.inf
    best = np.argmax(value, axis=1)
    rows = np.nonzero(value[np.arange(f.n), best] > 0)[0]
    best = best[rows]
    cost = p.market_array("entry_cost")[best]
    affordable = finance.liquidity(model)[rows] >= cost
    rows, best, cost = rows[affordable], best[affordable], cost[affordable]
    model.quarter_costs["entry"] = np.bincount(rows, weights=cost, minlength=f.n)
    niche = f.niche[rows].astype(np.intp)
    start = p.customer_inertia_speed * revenue[rows, best] / model.markets.expenditure[best, niche]
    tau = p.market_array("trade_cost")
    _enter(model, rows, best, start * (1 + tau[best]) * model.markets.price_factor[best])
