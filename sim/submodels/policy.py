"""Policy: the regional government and the EU programme, their budgets and instruments (ODD 7.10).

Each policy of a scenario (sim/config/specs.py) becomes an ``Instrument`` owned by
its payer, a ``PolicyMaker`` Mesa agent. Budgets are yearly, released in
quarterly tranches (unspent money carries over within the year); a pool is a
budget shared by several instruments (a combined package). Firms apply when
support makes an action pay for them; applications are funded in the order
the scenario chooses until the budget runs out, and no firm receives more
than ``cap_per_firm`` a year from one instrument. The
submodels call ``allocate`` at the point where firms decide (entry into
markets, collaborations, training, credit shortfalls); every euro granted is
recorded per instrument and per firm.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import mesa
import numpy as np

from sim.config.specs import INSTRUMENTS
from sim.model.calendar import is_first_quarter

#: Instrument types, in the order of the per-firm support columns.
INSTRUMENT_TYPES: tuple[str, ...] = tuple(INSTRUMENTS)


@dataclass
class Budget:
    """A yearly budget (EUR thousand), released in four quarterly tranches.

    What is not spent in a quarter carries over to the next quarters of the
    same year; what is left at the end of the year lapses.
    """

    per_year: float
    left: float = 0.0
    spent_total: float = 0.0

    def release(self, first_quarter: bool) -> None:
        self.left = (0.0 if first_quarter else self.left) + self.per_year / 4.0


@dataclass
class Instrument:
    """One policy of the scenario, ready to fund applications."""

    name: str
    spec: object
    budget: Budget
    kind: int = field(init=False)

    def __post_init__(self) -> None:
        self.kind = INSTRUMENT_TYPES.index(self.spec.instrument)


class PolicyMaker(mesa.Agent):
    """The regional government (``region``) or the EU programme (``eu``), with its instruments."""

    def __init__(self, model: mesa.Model, payer: str) -> None:
        super().__init__(model)
        self.payer = payer
        self.instruments: list[Instrument] = []
        self.pools: dict[str, Budget] = {}

    @property
    def spent_total(self) -> float:
        """EUR thousand granted so far by all its instruments."""
        return float(
            sum(i.budget.spent_total for i in self.instruments if i.spec.pool is None)
            + sum(b.spent_total for b in self.pools.values())
        )


def setup(model) -> None:
    """Create the two policy makers and the scenario's instruments and pools."""
    p = model.params
    # Budgets are written for the whole region; a smaller run gets its share.
    scale = p.n_firms / p.budget_reference_firms
    makers = {payer: PolicyMaker(model, payer) for payer in ("region", "eu")}
    pools: dict[str, Budget] = {}
    for name, pool in p.pools.items():
        pools[name] = Budget(pool.budget_per_year * scale)
        makers[pool.payer].pools[name] = pools[name]
    instruments = []
    for name, spec in p.policies.items():
        budget = pools[spec.pool] if spec.pool is not None else Budget(spec.budget_per_year * scale)
        instrument = Instrument(name, spec, budget)
        payer = spec.payer if spec.pool is None else p.pools[spec.pool].payer
        makers[payer].instruments.append(instrument)
        instruments.append(instrument)
    model.policy_makers = makers
    model.instruments = instruments
    model.policy_spending = np.zeros(len(INSTRUMENT_TYPES))
    model.guarantee_losses = 0.0
    model.consortia_formed = 0
    model.last_consortium_id = 0  # consortia are numbered from 1 (submodels/consortia.py)


def begin_quarter(model) -> None:
    """Release this quarter's budget tranches; renew per-firm yearly caps each first quarter; reset step spending."""
    first_quarter = is_first_quarter(model)
    seen: set[int] = set()
    for instrument in model.instruments:
        if id(instrument.budget) not in seen:
            instrument.budget.release(first_quarter)
            seen.add(id(instrument.budget))
    if first_quarter:
        model.firms.support_year[:] = 0.0
    model.policy_spending = np.zeros(len(INSTRUMENT_TYPES))
    model.guarantee_losses = 0.0
    model.consortia_formed = 0


def active(model, instrument_type: str) -> list[Instrument]:
    """Instruments of a type whose window covers this quarter."""
    return [i for i in model.instruments if i.spec.instrument == instrument_type and i.spec.active(model.steps)]


def eligible(model, instrument: Instrument, rows: np.ndarray) -> np.ndarray:
    """Which of ``rows`` meet the instrument's size rule."""
    return model.firms.employees[rows] < instrument.spec.max_employees


def allocate(model, instrument: Instrument, rows: np.ndarray, requested: np.ndarray) -> np.ndarray:
    """Fund applications from firms ``rows`` for ``requested`` EUR thousand each; returns grants.

    Requests are first capped by what each firm may still receive this year.
    Applications are then taken in the scenario's order and funded in full
    while the budget lasts; the first that does not fit ends the round.
    """
    f = model.firms
    grants = np.zeros(rows.size)
    if rows.size == 0:
        return grants
    want = np.minimum(requested, room(model, instrument, rows))
    order = _order(model, instrument.spec.allocation, rows, want)
    fits = np.cumsum(want[order]) <= instrument.budget.left + 1e-9
    funded = order[np.cumprod(fits).astype(bool)]
    grants[funded] = want[funded]
    grants[grants <= 0] = 0.0
    total = float(grants.sum())
    instrument.budget.left -= total
    instrument.budget.spent_total += total
    model.policy_spending[instrument.kind] += total
    np.add.at(f.support_year[:, instrument.kind], rows, grants)
    np.add.at(f.support[:, instrument.kind], rows, grants)
    return grants


def best_offers(
    model, instrument_type: str, rows: np.ndarray, amount: Callable[[Any], np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """The most support any active instrument of a type would give each firm of ``rows``.

    ``amount(spec)`` is what an instrument would pay each of them before
    eligibility and yearly caps. Returns the offers and, for each, the index of
    the instrument in ``model.instruments`` (-1: none).
    """
    offer = np.zeros(rows.size)
    source = np.full(rows.size, -1)
    for k, instrument in enumerate(model.instruments):
        spec = instrument.spec
        if spec.instrument != instrument_type or not spec.active(model.steps):
            continue
        value = np.where(eligible(model, instrument, rows), amount(spec), 0.0)
        value = np.minimum(value, room(model, instrument, rows))
        better = value > offer
        offer[better], source[better] = value[better], k
    return offer, source


def fund(model, rows: np.ndarray, offer: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Submit each firm's application to the instrument that made its offer; returns grants."""
    grants = np.zeros(rows.size)
    for k, instrument in enumerate(model.instruments):
        mine = source == k
        if mine.any():
            grants[mine] = allocate(model, instrument, rows[mine], offer[mine])
    return grants


def room(model, instrument: Instrument, rows: np.ndarray) -> np.ndarray:
    """What firms ``rows`` may still receive from the instrument this year."""
    return np.maximum(instrument.spec.cap_per_firm - model.firms.support_year[rows, instrument.kind], 0.0)


def refund(model, instrument: Instrument, rows: np.ndarray, amounts: np.ndarray) -> None:
    """Give back grants that were not used (e.g. a consortium that did not form)."""
    f = model.firms
    total = float(amounts.sum())
    instrument.budget.left += total
    instrument.budget.spent_total -= total
    model.policy_spending[instrument.kind] -= total
    np.subtract.at(f.support_year[:, instrument.kind], rows, amounts)
    np.subtract.at(f.support[:, instrument.kind], rows, amounts)


def _order(model, rule: str, rows: np.ndarray, want: np.ndarray) -> np.ndarray:
    f = model.firms
    if rule == "first_come":
        return model.streams["policy"].permutation(rows.size)
    if rule == "smallest_first":
        return np.argsort(f.employees[rows], kind="stable")
    if rule == "most_productive_first":
        return np.argsort(-f.productivity[rows], kind="stable")
    if rule == "largest_need_first":
        return np.argsort(-want, kind="stable")
    raise ValueError(f"unknown allocation rule {rule!r}")  # pragma: no cover - validated by the schema
