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

from sim.state import row_sums
from sim.world import N_MARKETS, N_NICHES

_MARKET_INDEX = np.arange(N_MARKETS)[None, :]


def set_prices(model) -> None:
    """Ex-works price = (1 + markup) x unit variable cost (labour + materials, cheaper or dearer with regional suppliers)."""
    f, p = model.firms, model.params
    f.price[:] = (1.0 + f.markup) * (model.wage / f.productivity + p.material_cost * (1.0 + f.input_cost_gap))


def niche_rows(firms) -> np.ndarray:
    """The firms' niches as indices (cached until firms enter or exit)."""
    return firms.cached("niche_intp", lambda: firms.niche.astype(np.intp))


def _cell_index(firms) -> np.ndarray:
    """Flat (niche, market) cell of every element of a (firms, markets) array (cached)."""
    return firms.cached("cell_index", lambda: (niche_rows(firms)[:, None] * N_MARKETS + _MARKET_INDEX).ravel())


def _cell_constant(model) -> np.ndarray:
    """The (market, niche) part of log(E_firm / E_rival), transposed to (niches, markets)."""
    p, mk = model.params, model.markets
    bq = p.market_array("quality_weight")
    bp = p.market_array("price_weight")
    tau = p.market_array("trade_cost")
    cell = bp[:, None] * (np.log(mk.rival_price) - np.log((1.0 + tau) * mk.price_factor)[:, None]) - bq[:, None] * np.log(mk.rival_quality)
    return cell.T


def _log_competitiveness_by_market(model) -> np.ndarray:
    """log_competitiveness transposed, shape (markets, firms): rows are long, so numpy's loops are fast."""
    f, p = model.firms, model.params
    bq = p.market_array("quality_weight")
    bp = p.market_array("price_weight")
    out = bq[:, None] * (np.log(f.quality) + f.input_quality)  # suppliers' quality enters the product (sim/supply.py)
    out -= bp[:, None] * np.log(f.price)
    out += np.take(_cell_constant(model).T, niche_rows(f), axis=1)
    return out


def log_competitiveness(model) -> np.ndarray:
    """log(E_firm / E_rival) in every market, shape (firms, markets).

    Separable: bq log q_i - bp log p_i plus a (market, niche) constant holding
    the rivals, trade costs and exchange rates, so only 2n logs are taken.
    """
    return np.ascontiguousarray(_log_competitiveness_by_market(model).T)


def log_attractiveness(model) -> np.ndarray:
    """log a, clipped to [-200, 200], in every market, shape (firms, markets), served or not."""
    f = model.firms
    log_a = _log_competitiveness_by_market(model)
    log_a += model.params.reach_elasticity * np.log(f.employees)
    out = np.add(log_a.T, f.match, out=np.empty((f.n, N_MARKETS)))
    return np.clip(out, -200, 200, out=out)


def attractiveness(model) -> np.ndarray:
    """a = employees^alpha x E x exp(match) in every market, shape (firms, markets), served or not."""
    out = log_attractiveness(model)
    return np.exp(out, out=out)


def cell_totals(niche: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Sum a (firms, markets) array over the firms of each niche: shape (markets, niches)."""
    flat = (niche.astype(np.intp)[:, None] * N_MARKETS + _MARKET_INDEX).ravel()
    return _cell_sums(flat, values)


def _cell_sums(flat: np.ndarray, values: np.ndarray) -> np.ndarray:
    sums = np.bincount(flat, weights=values.ravel(), minlength=N_NICHES * N_MARKETS)
    return sums.reshape(N_NICHES, N_MARKETS).T


def firm_cell_totals(firms, values: np.ndarray) -> np.ndarray:
    """cell_totals(firms.niche, values) for a (living firms, markets) array, with the cell index cached."""
    return _cell_sums(_cell_index(firms), values)


def target_shares(model, attract: np.ndarray | None, present: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Logit shares s* of the served cells and the denominators R + sum a, shape (markets, niches).

    ``present``: the attractiveness of served cells, 0 elsewhere, if already known (``attract`` is then not used).
    """
    f, mk = model.firms, model.markets
    niche = niche_rows(f)
    if present is None:
        present = attract * f.served
    denominator = mk.rival_mass + firm_cell_totals(f, present)
    present /= np.take(denominator.T, niche, axis=0)
    return present, denominator


def update_rival_share(model) -> None:
    """The rivals hold whatever share of each cell the region's firms do not.

    Call after changing the firms' shares; the sums are taken when
    ``model.markets.rival_share`` is next read (nothing in a step reads it).
    """
    model.markets._rival_share_of = model


def clear_markets(model) -> None:
    """Move shares toward the logit targets, serve demand up to capacity, book sales.

    Attractiveness is computed for every cell (kept in logs: this quarter's
    entry decisions read it for the firms that review their markets); the
    rest works on the served (firm, market) cells alone, a fifth of them in
    the baseline.
    """
    f, p, mk = model.firms, model.params, model.markets
    set_prices(model)
    model.log_attract = log_attractiveness(model)
    cells = np.flatnonzero(f.served)  # row-major, the order of the dense sums
    rows, markets = np.divmod(cells, N_MARKETS)
    cell = niche_rows(f)[rows] * N_MARKETS + markets  # (niche, market) cell of each
    present = np.exp(model.log_attract.take(cells))
    # Unserved cells only added zeros to these sums: leaving them out changes no bit.
    totals = np.bincount(cell, weights=present, minlength=N_NICHES * N_MARKETS)
    model.denominator = mk.rival_mass + totals.reshape(N_NICHES, N_MARKETS).T
    old = f.share.take(cells)
    share = present / model.denominator.T.ravel()[cell]  # logit target
    share -= old
    share *= p.customer_inertia_speed
    share += old  # share + speed x (target - share)

    tau = p.market_array("trade_cost")
    # Buyers' spending on each firm, net of trade costs and exchange rates, is
    # what the firm would invoice at its own price (the price cancels out).
    invoiced = np.zeros((f.n, N_MARKETS))
    np.put(invoiced, cells, mk.expenditure.T.ravel()[cell] * share * (1.0 / ((1.0 + tau) * mk.price_factor))[markets])
    demanded = row_sums(invoiced) / f.price  # units
    capacity = f.employees * f.productivity
    served_frac = np.minimum(1.0, capacity / np.maximum(demanded, 1e-12))

    np.put(f.share, cells, share * served_frac[rows])
    update_rival_share(model)
    f.demanded[:] = demanded
    f.output[:] = demanded * served_frac
    np.multiply(invoiced, served_frac[:, None], out=f.sales)
    f.revenue[:] = row_sums(f.sales)
