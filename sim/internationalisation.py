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
from sim.competition import attractiveness, target_shares, update_rival_share
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


def expected_entry_revenue(model, attract: np.ndarray, denominator: np.ndarray, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
    """Quarterly revenue at the logit share firms ``rows`` would win in each market, shape (rows, markets)."""
    f, p, mk = model.firms, model.params, model.markets
    niche = f.niche[rows].astype(np.intp)
    mine = attract[rows]
    share = mine / (denominator.T[niche] + np.where(f.served[rows], 0.0, mine))
    tau = p.market_array("trade_cost")
    return share * mk.expenditure.T[niche] / ((1.0 + tau)[None, :] * mk.price_factor[None, :])


def entry_values(model, expected_revenue: np.ndarray, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
    """Discounted profit of entering each market minus its sunk cost, shape (rows, markets)."""
    p = model.params
    flat, ramp = discount_weights(p.entry_horizon, p.discount_rate, p.customer_inertia_speed)
    value = ramp * expected_revenue * margin(model)[rows, None] - flat * p.market_array("presence_cost")[None, :]
    return value - p.market_array("entry_cost")[None, :]


def _enter(model, rows: np.ndarray, markets: np.ndarray, share: np.ndarray) -> None:
    """Put firms ``rows`` into ``markets`` starting from ``share`` of the buyers (taken from the rivals)."""
    f = model.firms
    f.share[rows, markets] = share
    f.served[rows, markets] = True
    f.market_entered[rows, markets] = model.steps
    f.loss_quarters[rows, markets] = 0
    update_rival_share(model)


def leave(model, mask: np.ndarray, update: bool = True) -> None:
    """Withdraw from the (firm, market) cells in ``mask``; buyers go to the rivals."""
    f = model.firms
    f.share[mask] = 0.0
    f.served[mask] = False
    f.loss_quarters[mask] = 0
    if update:
        update_rival_share(model)


def initial_presence(model) -> None:
    """Pre-history: apply the entry rule once, without noise or cost, to every market."""
    attract = attractiveness(model)
    value = entry_values(model, expected_entry_revenue(model, attract, target_shares(model, attract)[1]))
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
    left = foreign & (f.loss_quarters >= p.market_exit_patience)
    leave(model, left, update=False)  # _enter below updates the rivals' share

    # Entry is judged on the market conditions seen at this quarter's clearing.
    reviewing = np.nonzero(rng.random(f.n) < p.entry_attention)[0]
    noise = np.exp(p.entry_noise * rng.standard_normal((reviewing.size, f.served.shape[1])))
    revenue = expected_entry_revenue(model, model.attract, model.denominator, reviewing)
    value = entry_values(model, revenue * noise, reviewing)
    value[f.served[reviewing] | left[reviewing]] = -np.inf  # no re-entry in the quarter of exit
    value[:, DOMESTIC] = -np.inf
    best = np.argmax(value, axis=1)
    chosen = value[np.arange(reviewing.size), best] > 0
    rows, best, revenue = reviewing[chosen], best[chosen], revenue[chosen, best[chosen]]
    cost = p.market_array("entry_cost")[best]
    affordable = finance.spendable(model)[rows] >= cost  # the sunk cost lowers net worth and credit
    rows, best, cost, revenue = rows[affordable], best[affordable], cost[affordable], revenue[affordable]
    model.quarter_costs["entry"] = np.bincount(rows, weights=cost, minlength=f.n)
    niche = f.niche[rows].astype(np.intp)
    start = p.customer_inertia_speed * revenue / model.markets.expenditure[best, niche]
    tau = p.market_array("trade_cost")
    _enter(model, rows, best, start * (1 + tau[best]) * model.markets.price_factor[best])
