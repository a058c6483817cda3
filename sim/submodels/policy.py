"""Policy: the regional government and the EU programme, their budgets and instruments (ODD 7.10).

Each policy of a scenario (sim/config/specs.py) becomes an ``Instrument`` owned by
its payer, a ``PolicyMaker`` Mesa agent. Budgets are yearly, released in
quarterly tranches (unspent money carries over within the year); a pool is a
budget shared by several instruments (a combined package). Firms apply when
support makes an action pay for them; applications are funded in the order
the scenario chooses until the budget runs out, and no firm receives more
than ``cap_per_firm`` a year from one instrument, nor more than the de
minimis ceiling over three fiscal years from all instruments together. The
submodels call ``allocate`` at the point where firms decide (entry into
markets, collaborations, training, credit); every euro granted is recorded
per instrument and per firm, and so is, for every supported action, whether
the firm would have taken it without the support (``record``: additionality).
Grants paid after the fact (the EU call's reimbursements) are committed when
awarded and paid ``reimbursement_lag`` quarters later to firms still alive.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import mesa
import numpy as np

from sim.config.specs import INSTRUMENTS
from sim.model.calendar import is_first_quarter, year_of

#: Instrument types, in the order of the per-firm support columns.
INSTRUMENT_TYPES: tuple[str, ...] = tuple(INSTRUMENTS)
#: Fiscal years over which de minimis aid is summed (the current one and the two before).
DEMINIMIS_YEARS = 3
#: Rows of ``model.additionality``: supported actions, additional ones, EUR thousand given to the others.
SUPPORTED, ADDITIONAL, DEADWEIGHT = range(3)


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
    model.reimbursements = _no_reimbursements()
    _reset_quarter(model)
    model.last_consortium_id = 0  # consortia are numbered from 1 (submodels/consortia.py)


def _reset_quarter(model) -> None:
    model.policy_spending = np.zeros(len(INSTRUMENT_TYPES))
    model.additionality = np.zeros((3, len(INSTRUMENT_TYPES)))
    model.guarantee_losses = 0.0
    model.guarantee_expected_loss = 0.0
    model.guarantee_fees = 0.0
    model.guarantee_new_credit = 0.0
    model.guarantee_refinanced = 0.0
    model.reimbursed = 0.0
    model.deminimis_capped = 0
    model.consortia_formed = 0


def _no_reimbursements() -> dict[str, np.ndarray]:
    return {
        "firm_id": np.zeros(0, dtype=np.int64),
        "due": np.zeros(0, dtype=np.int64),
        "amount": np.zeros(0),
        "instrument": np.zeros(0, dtype=np.int64),
    }


def begin_quarter(model) -> None:
    """Release this quarter's budget tranches; renew per-firm yearly caps each first quarter; reset step spending."""
    first_quarter = is_first_quarter(model)
    seen: set[int] = set()
    for instrument in model.instruments:
        if id(instrument.budget) not in seen:
            instrument.budget.release(first_quarter)
            seen.add(id(instrument.budget))
    _reset_quarter(model)
    if first_quarter:
        model.firms.support_year[:] = 0.0
        model.firms.aid_recent[:, deminimis_column(model)] = 0.0  # the oldest of the three years drops out
    pay_reimbursements(model)


def deminimis_column(model) -> int:
    """Column of ``aid_recent`` that holds the current fiscal year."""
    return year_of(model.steps, model.params.start_year) % DEMINIMIS_YEARS


def deminimis_room(model, rows: np.ndarray) -> np.ndarray:
    """Aid firms ``rows`` may still receive under the de minimis ceiling (all instruments, three fiscal years)."""
    return np.maximum(model.params.deminimis_ceiling - model.firms.aid_recent[rows].sum(axis=1), 0.0)


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
    model.deminimis_capped += int((requested > deminimis_room(model, rows) + 1e-9).sum())
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
    np.add.at(f.aid_recent[:, deminimis_column(model)], rows, grants)
    return grants


def record(
    model, instrument_type: str, grants: np.ndarray, additional: np.ndarray, deadweight: np.ndarray | None = None
) -> None:
    """Count supported actions (``grants`` > 0) and those the firm would not have taken without the support.

    ``additional``: for each action, whether it happened only because of the support, decided
    exactly by the rule that applies it (the firm's choice evaluated again without the offer).
    Support given to actions that were not additional is deadweight; ``deadweight`` overrides
    that amount per action (a guarantee's charge on debt the bank had already lent).
    """
    kind = INSTRUMENT_TYPES.index(instrument_type)
    supported = grants > 0
    if deadweight is None:
        deadweight = np.where(additional, 0.0, grants)
    model.additionality[SUPPORTED, kind] += int(supported.sum())
    model.additionality[ADDITIONAL, kind] += int((supported & additional).sum())
    model.additionality[DEADWEIGHT, kind] += float(deadweight[supported].sum())


def schedule_reimbursements(model, instrument: Instrument, rows: np.ndarray, amounts: np.ndarray, lag: int) -> None:
    """Grants already committed (``allocate``) to firms ``rows`` are paid ``lag`` quarters from now."""
    paid = amounts > 0
    if not paid.any():
        return
    queue = model.reimbursements
    new = {
        "firm_id": model.firms.firm_id[rows[paid]],
        "due": np.full(int(paid.sum()), model.steps + lag, dtype=np.int64),
        "amount": amounts[paid],
        "instrument": np.full(int(paid.sum()), model.instruments.index(instrument), dtype=np.int64),
    }
    model.reimbursements = {key: np.concatenate([queue[key], new[key]]) for key in queue}


def pay_reimbursements(model) -> None:
    """Pay the reimbursements due this quarter to firms still alive; those of firms that exited lapse.

    A lapsed commitment is counted as negative spending (and comes off the instrument's total);
    the money is not granted again (the year it was committed in may have ended).
    """
    queue = model.reimbursements
    due = queue["due"] <= model.steps
    if not due.any():
        return
    f = model.firms
    ids, amount, source = queue["firm_id"][due], queue["amount"][due], queue["instrument"][due]
    rows = f.row_of[ids]  # -1: the firm has exited
    alive = rows >= 0
    np.add.at(f.cash, rows[alive], amount[alive])
    model.reimbursed += float(amount[alive].sum())
    for k in np.unique(source[~alive]):
        instrument = model.instruments[k]
        lapsed = float(amount[~alive & (source == k)].sum())
        instrument.budget.spent_total -= lapsed
        model.policy_spending[instrument.kind] -= lapsed
    model.reimbursements = {key: values[~due] for key, values in queue.items()}


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
        model.deminimis_capped += int((value > deminimis_room(model, rows) + 1e-9).sum())
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
    """What firms ``rows`` may still receive from the instrument this year, within the de minimis ceiling."""
    return room_for(model, instrument.spec, rows)


def room_for(model, spec, rows: np.ndarray) -> np.ndarray:
    """``room`` of the instrument a policy spec describes (the yearly cap counts support of its type)."""
    kind = INSTRUMENT_TYPES.index(spec.instrument)
    yearly = np.maximum(spec.cap_per_firm - model.firms.support_year[rows, kind], 0.0)
    return np.minimum(yearly, deminimis_room(model, rows))


def refund(model, instrument: Instrument, rows: np.ndarray, amounts: np.ndarray) -> None:
    """Give back grants that were not used (e.g. a consortium that did not form)."""
    f = model.firms
    total = float(amounts.sum())
    instrument.budget.left += total
    instrument.budget.spent_total -= total
    model.policy_spending[instrument.kind] -= total
    np.subtract.at(f.support_year[:, instrument.kind], rows, amounts)
    np.subtract.at(f.support[:, instrument.kind], rows, amounts)
    np.subtract.at(f.aid_recent[:, deminimis_column(model)], rows, amounts)


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
