"""Competition: logit demand with decreasing-returns market reach and customer inertia (ODD 7.2).

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
pure replicator. A firm's own affiliate in a market (ODD 7.20) raises its appeal
there, and an assembly plant's buyers pay no trade cost; the units a plant makes
abroad are not the region's (they use no regional capacity).
"""

from __future__ import annotations

import numpy as np

from sim.model.arrays import flat_index, row_sums, served_cells
from sim.model.firms import ASSEMBLY_PLANT, SERVICE_AFFILIATE, firm_cell_totals, niche_rows
from sim.model.world import N_MARKETS, N_NICHES

#: |ln a| is clipped here: a firm that far from its rivals has a share of 0 or 1 either way.
LOG_ATTRACTIVENESS_BOUND = 200.0


def set_prices(model) -> None:
    """Ex-works price p_i = (1 + mu_i) (w / A_i + c_m (1 + gamma_i + gamma^I_i)): markup over unit labour and materials.

    gamma_i is the change in material cost due to the firm's regional suppliers (submodels/supply.py),
    gamma^I_i the change due to its foreign suppliers (submodels/sourcing.py).
    """
    f, p = model.firms, model.params
    unit_materials = p.material_cost * (1.0 + f.input_cost_gap + f.import_cost_gap)
    f.price[:] = (1.0 + f.markup) * (model.wage / f.productivity + unit_materials)


def _cell_constant(model) -> np.ndarray:
    """The (market, niche) part of ln(E_i): bp (ln p_R - ln((1 + tau) e)) - bq ln q_R, shape (niches, markets)."""
    p, mk = model.params, model.markets
    bq = p.market_array("quality_weight")[:, None]
    bp = p.market_array("price_weight")[:, None]
    tau = p.market_array("trade_cost")
    cell = bp * (np.log(mk.rival_price) - np.log((1.0 + tau) * mk.price_factor)[:, None]) - bq * np.log(
        mk.rival_quality
    )
    return cell.T


def _log_competitiveness_by_market(model) -> np.ndarray:
    """ln E_im = bq_m (ln q_i + nu_i) - bp_m ln p_i + the cell constant, shape (markets, firms).

    Markets first: rows are long, so numpy's loops are fast. nu_i is the
    log quality the firm's suppliers add (submodels/supply.py).
    """
    f, p = model.firms, model.params
    bq = p.market_array("quality_weight")
    bp = p.market_array("price_weight")
    out = bq[:, None] * (np.log(f.quality) + f.input_quality)
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
    """ln a_im = alpha ln L_i + ln E_im + theta_im + x_im (+ ln rho_T on trial), every market, served or not.

    theta is the firm's fit with the market's buyers and x its transitory match (submodels/demand.py,
    learning.py); a trial entrant reaches a share rho_T = trial_reach of the buyers. Shape
    (firms, markets); clipped to +-LOG_ATTRACTIVENESS_BOUND so that exp() stays finite.
    """
    f, p = model.firms, model.params
    log_a = _log_competitiveness_by_market(model)
    log_a += p.reach_elasticity * np.log(f.employees)
    out = np.add(log_a.T, f.match, out=np.empty((f.n, N_MARKETS)))
    out += f.fit
    trial = np.flatnonzero(f.trial)
    if trial.size:
        out.ravel()[trial] += np.log(p.trial_reach)
    add_affiliate_appeal(model, out)  # a firm's own affiliate raises its appeal (ODD 7.20)
    return np.clip(out, -LOG_ATTRACTIVENESS_BOUND, LOG_ATTRACTIVENESS_BOUND, out=out)


def attractiveness(model) -> np.ndarray:
    """a = employees^alpha x E x exp(match) in every market, shape (firms, markets), served or not."""
    out = log_attractiveness(model)
    return np.exp(out, out=out)


def target_shares(
    model, attract: np.ndarray | None, present: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
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

    In every served cell (firm i, market m of its niche k):
    s*_im = a_im / (R_mk + sum_j a_jm), the sum over the firms serving the
    cell; s_im <- s_im + lambda (s*_im - s_im). Units demanded are
    D_i = sum_m E_mk s_im / ((1 + tau_m) e_m) / p_i (buyers' spending net of
    trade costs tau and exchange rates e, at the firm's price); the firm
    serves the fraction phi_i = min(1, L_i A_i / D_i) of them, and its shares,
    output and sales are scaled by phi_i (unserved buyers go to the rivals).

    Attractiveness is computed for every cell (kept in logs: this quarter's
    entry decisions read it for the firms that review their markets); the
    rest works on the served cells alone, a fifth of them in the baseline.
    """
    f, p, mk = model.firms, model.params, model.markets
    set_prices(model)
    model.log_attract = log_attractiveness(model)
    cells, rows, markets = served_cells(f.served)  # row-major, the order of the dense sums
    cell = flat_index(niche_rows(f)[rows], markets, N_MARKETS)  # the (niche, market) cell of each
    present = np.exp(model.log_attract.take(cells))
    # Unserved cells only added zeros to these sums: leaving them out changes no bit.
    totals = np.bincount(cell, weights=present, minlength=N_NICHES * N_MARKETS)
    model.denominator = mk.rival_mass + totals.reshape(N_NICHES, N_MARKETS).T
    old = f.share.take(cells)
    share = present / model.denominator.T.ravel()[cell]  # logit target s*
    share -= old
    share *= p.customer_inertia_speed
    share += old  # s + lambda (s* - s)

    tau = p.market_array("trade_cost")
    # Buyers' spending on each firm, net of trade costs and exchange rates, is
    # what the firm would invoice at its own price (the price cancels out).
    invoiced = np.zeros((f.n, N_MARKETS))
    np.put(invoiced, cells, mk.expenditure.T.ravel()[cell] * share * (1.0 / ((1.0 + tau) * mk.price_factor))[markets])
    abroad = produce_abroad(model, invoiced)  # assembly plants: no trade cost, units made abroad
    demanded = row_sums(invoiced) / f.price - abroad  # units made in the region
    capacity = f.employees * f.productivity
    served_fraction = np.minimum(1.0, capacity / np.maximum(demanded, 1e-12))

    np.put(f.share, cells, share * served_fraction[rows])
    update_rival_share(model)
    f.demanded[:] = demanded
    f.output[:] = demanded * served_fraction
    np.multiply(invoiced, served_fraction[:, None], out=f.sales)
    f.revenue[:] = row_sums(f.sales)
    book_affiliate_sales(model, abroad, served_fraction)


# --- what a firm's affiliate changes in its market (ODD 7.20, sim/submodels/affiliates.py) ------------


def appeal_bonus(model, codes: np.ndarray) -> np.ndarray:
    """Log appeal an affiliate adds, for affiliate ``codes`` of shape (rows, markets).

    zeta_S for a sales-and-service affiliate; zeta_S + bp_m ln(1 + tau_m) for an assembly plant
    (its buyers pay no trade cost: at the logit, a price lower by the factor 1 + tau_m).
    """
    plant = np.where(codes == ASSEMBLY_PLANT, assembly_bonus(model)[None, :], 0.0)
    return np.where(codes == SERVICE_AFFILIATE, model.params.service_appeal, plant)


def add_affiliate_appeal(model, log_attract: np.ndarray) -> None:
    """ln a_im += the affiliate's bonus (``appeal_bonus``), in place, on the cells where the firm has an affiliate."""
    f = model.firms
    rows, markets = np.nonzero(f.affiliate)
    if rows.size:
        codes = f.affiliate[rows, markets]
        bonus = np.where(codes == SERVICE_AFFILIATE, model.params.service_appeal, assembly_bonus(model)[markets])
        log_attract[rows, markets] += bonus


def assembly_bonus(model) -> np.ndarray:
    """zeta_S + bp_m ln(1 + tau_m): the log appeal of an assembly plant in each market."""
    p = model.params
    return p.service_appeal + p.market_array("price_weight") * np.log1p(p.market_array("trade_cost"))


def produce_abroad(model, invoiced: np.ndarray) -> np.ndarray | float:
    """Where a firm has an assembly plant its buyers pay no trade cost: invoiced_im *= 1 + tau_m, in place.

    Returns the units its plants make abroad, U_i = lambda sum_m invoiced_im / p_i over its plants
    (lambda = assembly_local_share), or 0.0 when no firm has a plant.
    """
    rows, markets = np.nonzero(model.firms.affiliate == ASSEMBLY_PLANT)
    if rows.size == 0:
        return 0.0
    invoiced[rows, markets] *= 1.0 + model.params.market_array("trade_cost")[markets]
    units = np.zeros(model.firms.n)
    np.add.at(units, rows, invoiced[rows, markets])
    return model.params.assembly_local_share * units / model.firms.price


def book_affiliate_sales(model, abroad_units: np.ndarray | float, served_fraction: np.ndarray) -> None:
    """After clearing: affiliates' sales, the value produced abroad and the plants' jobs abroad, U_i / A_i."""
    f = model.firms
    if not f.affiliate.any() and not f.affiliate_sales.any() and not f.jobs_abroad.any():
        return
    through = f.affiliate > 0
    np.multiply(f.sales, through, out=f.affiliate_sales)
    np.multiply(f.sales, (f.affiliate == ASSEMBLY_PLANT) * model.params.assembly_local_share, out=f.abroad_sales)
    f.jobs_abroad[:] = abroad_units * served_fraction / f.productivity
