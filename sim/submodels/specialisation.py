"""Specialisation and diversification: firms deepen their niche, or move to a related one when it declines (ODD 7.17).

Firms deepen their niche by themselves: learning by doing and R&D add
know-how along the niche's profile (submodels/knowhow.py), so a firm's know-how
mix converges on its niche's. A loss-making firm whose niche's demand (all
markets) has grown over the last year by ``switch_threshold`` less than that
of a related niche (know-how overlap at least ``switch_min_overlap``) may
move there (probability ``switch_attention`` a quarter, not within two years
of its last move). Moving costs ``switch_cost_per_worker`` per employee
(sunk), loses log quality in proportion to the know-how the niches do not
share, and keeps only part of the customers (``switch_customer_retention``
times the overlap). The district's niche diversity and the survival of small
specialised firms are outcomes (sim/model/observe.py).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from sim.model.world import N_NICHES, NICHE_OVERLAP
from sim.submodels import finance, knowhow
from sim.submodels.competition import update_rival_share

#: Quarters a firm stays in a niche before it considers moving again.
SETTLING_QUARTERS = 8
#: Niches' demand growth is measured over this many quarters (a year).
GROWTH_QUARTERS = 4
#: A switcher's share of any cell of its new niche is capped here (its customers follow it, up to a point).
MAX_SHARE_AFTER_SWITCH = 0.5


def niche_demand(model) -> np.ndarray:
    """Expenditure on each niche summed over markets (EUR thousand per quarter)."""
    return model.markets.expenditure.sum(axis=0)


def setup(model) -> None:
    """Start the niches' demand history (the last GROWTH_QUARTERS + 1 quarters) at today's level."""
    model.niche_history = deque([niche_demand(model)] * (GROWTH_QUARTERS + 1), maxlen=GROWTH_QUARTERS + 1)
    model.niche_switches = 0


def niche_growth(model) -> np.ndarray:
    """Growth of each niche's demand over the last GROWTH_QUARTERS quarters (log points)."""
    return np.log(model.niche_history[-1] / model.niche_history[0])


def best_moves(model) -> tuple[np.ndarray, np.ndarray]:
    """For each niche: the related niche whose demand grew most, and its lead over the niche (log points)."""
    return best_moves_from(niche_growth(model), model.params.switch_min_overlap)


def best_moves_from(growth: np.ndarray, min_overlap: float) -> tuple[np.ndarray, np.ndarray]:
    """best_moves for given niche growth rates: the fastest-growing niche with overlap >= min_overlap, and its lead."""
    allowed = (min_overlap <= NICHE_OVERLAP) & ~np.eye(N_NICHES, dtype=bool)
    options = np.where(allowed, growth[None, :], -np.inf)
    target = np.argmax(options, axis=1)
    return target, options[np.arange(N_NICHES), target] - growth


def is_small_specialised(model, rows: slice | np.ndarray = slice(None), fit: np.ndarray | None = None) -> np.ndarray:
    """Small firms whose know-how mix matches their niche's profile (``specialised_threshold``).

    ``fit``: ``knowhow.specialisation`` of those firms, if already computed.
    """
    p = model.params
    fit = knowhow.specialisation(model, rows) if fit is None else fit
    return (model.firms.employees[rows] < p.small_firm_employees) & (fit >= p.specialised_threshold)


def review(model) -> None:
    """Loss-making firms in declining niches may move to a related, growing one.

    A firm with a negative profit trend, settled for SETTLING_QUARTERS, considers
    moving (probability switch_attention) and moves to its niche's best related
    niche k' (overlap o >= switch_min_overlap) if k' grew by more than
    switch_threshold log points above its own over the year and it can spend
    the cost switch_cost_per_worker x L_i. It loses log quality
    switch_quality_loss x (1 - o) and keeps a share switch_customer_retention x o
    of its sales (as shares of the new niche's cells, at most MAX_SHARE_AFTER_SWITCH).
    """
    f, p = model.firms, model.params
    rng = model.streams["specialisation"]
    model.niche_history.append(niche_demand(model))
    model.niche_switches = 0
    considering = (
        (f.profit_trend < 0)
        & (model.steps - f.niche_entered >= SETTLING_QUARTERS)
        & (rng.random(f.n) < p.switch_attention)
    )
    rows = np.nonzero(considering)[0]
    if rows.size == 0:
        return
    target, lead = best_moves(model)
    old = f.niche[rows].astype(np.intp)
    cost = p.switch_cost_per_worker * f.employees[rows]
    moves = (lead[old] > p.switch_threshold) & (finance.spendable(model, rows) >= cost)
    rows, old, cost = rows[moves], old[moves], cost[moves]
    if rows.size == 0:
        return
    new = target[old]
    overlap = NICHE_OVERLAP[old, new]
    booked = np.zeros(f.n)
    booked[rows] = cost
    model.quarter_costs["switch"] = booked
    f.quality[rows] *= np.exp(-p.switch_quality_loss * (1.0 - overlap))
    # Customers who follow the firm buy the same value in the new niche.
    expenditure = model.markets.expenditure
    kept = p.switch_customer_retention * overlap[:, None] * expenditure[:, old].T / expenditure[:, new].T
    f.share[rows] = np.minimum(f.share[rows] * kept, MAX_SHARE_AFTER_SWITCH)
    f.niche[rows] = new
    f.niche_entered[rows] = model.steps
    f.touch()  # niche-keyed caches (cells, partner buckets) are stale
    update_rival_share(model)
    model.niche_switches = int(rows.size)
