"""Competition: logit demand with decreasing-returns market reach and customer inertia.

In every (market, niche) cell the firms present and a pool of foreign rivals
share the buyers' expenditure. A firm's attractiveness is its reach times its
competitiveness, a_i = L_i^alpha x E_i, with E_i = (q_i / q_R)^bq x
(p_i (1 + tau) / p_R)^-bp measured against the rival pool, and alpha < 1
(bigger firms reach more buyers, less than proportionally). The share buyers
would give a firm is the logit s*_i = a_i / (R + sum_j a_j), R being the
rivals' mass. Buyers move slowly: the realised share closes a share lambda
of the gap to s* each quarter. A firm that cannot serve its demand
(capacity = employees x productivity) is rationed and the unserved buyers go
to the rivals. Because alpha < 1, a firm's equilibrium size grows with its
competitiveness with elasticity 1/(1 - alpha) but does not explode, unlike a
pure replicator.
"""

from __future__ import annotations

import numpy as np

from sim.world import N_MARKETS, N_NICHES

_MARKET_INDEX = np.arange(N_MARKETS)[None, :]


def set_prices(model) -> None:
    """Ex-works price = (1 + markup) x unit variable cost (labour + materials)."""
    f, p = model.firms, model.params
    f.price[:] = (1.0 + f.markup) * (model.wage / f.productivity + p.material_cost)


def log_competitiveness(model) -> np.ndarray:
    """log(E_firm / E_rival) in every market, shape (firms, markets).

    Separable: bq log q_i - bp log p_i plus a (market, niche) constant holding
    the rivals, trade costs and exchange rates, so only 2n logs are taken.
    """
    f, p, mk = model.firms, model.params, model.markets
    bq = p.market_array("quality_weight")
    bp = p.market_array("price_weight")
    tau = p.market_array("trade_cost")
    cell = bp[:, None] * (np.log(mk.rival_price) - np.log((1.0 + tau) * mk.price_factor)[:, None]) - bq[:, None] * np.log(mk.rival_quality)
    return np.log(f.quality)[:, None] * bq - np.log(f.price)[:, None] * bp + cell.T[f.niche.astype(np.intp)]


def attractiveness(model) -> np.ndarray:
    """a = employees^alpha x E x exp(match) in every market, shape (firms, markets), served or not."""
    f = model.firms
    log_a = model.params.reach_elasticity * np.log(f.employees)[:, None] + log_competitiveness(model) + f.match
    return np.exp(np.clip(log_a, -200, 200))


def cell_totals(niche: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Sum a (firms, markets) array over the firms of each niche: shape (markets, niches)."""
    flat = (niche.astype(np.intp)[:, None] * N_MARKETS + _MARKET_INDEX).ravel()
    sums = np.bincount(flat, weights=values.ravel(), minlength=N_NICHES * N_MARKETS)
    return sums.reshape(N_NICHES, N_MARKETS).T


def target_shares(model, attract: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Logit shares s* of the served cells and the denominators R + sum a, shape (markets, niches)."""
    f, mk = model.firms, model.markets
    niche = f.niche.astype(np.intp)
    present = attract * f.served
    denominator = mk.rival_mass + cell_totals(niche, present)
    return present / denominator.T[niche], denominator


def update_rival_share(model) -> None:
    """The rivals hold whatever share of each cell the region's firms do not."""
    model.markets.rival_share = 1.0 - cell_totals(model.firms.niche, model.firms.share)


def clear_markets(model) -> None:
    """Move shares toward the logit targets, serve demand up to capacity, book sales."""
    f, p, mk = model.firms, model.params, model.markets
    set_prices(model)
    niche = f.niche.astype(np.intp)
    # Attractiveness and logit denominators are reused by this quarter's entry decisions.
    model.attract = attractiveness(model)
    target, model.denominator = target_shares(model, model.attract)
    share = f.share + p.customer_inertia_speed * (target - f.share)

    tau = p.market_array("trade_cost")
    # Buyers' spending on each firm, net of trade costs and exchange rates, is
    # what the firm would invoice at its own price (the price cancels out).
    invoiced = share * mk.expenditure.T[niche] * (1.0 / ((1.0 + tau) * mk.price_factor))[None, :]
    demanded = invoiced.sum(axis=1) / f.price  # units
    capacity = f.employees * f.productivity
    served_frac = np.minimum(1.0, capacity / np.maximum(demanded, 1e-12))

    f.share[:] = share * served_frac[:, None]
    update_rival_share(model)
    f.demanded[:] = demanded
    f.output[:] = demanded * served_frac
    f.sales[:] = invoiced * served_frac[:, None]
    f.revenue[:] = f.sales.sum(axis=1)
