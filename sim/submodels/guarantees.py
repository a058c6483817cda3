"""Guarantees: a public fund guarantees part of bank loans to SMEs, priced by their rating (ODD 7.19).

After Italy's SME guarantee fund (Fondo di Garanzia PMI, L. 662/1996) and the regional confidi.
A firm that needs credit its bank would not give (a cash shortfall beyond its credit limit,
or capital for hiring that its liquidity does not cover) asks for a guaranteed loan. The
fund rates it from its accounts (classes 1 to 5) and guarantees a share ``coverage`` of
loans to SMEs of classes up to ``max_class``, against a one-off fee. Banks leave a share
``guarantee_capital_relief`` of the guaranteed part out of the firm's credit limit, so a
guarantee buys new credit, but only once part of the firm's existing bank debt has been
moved under it too (what evaluations call substitution). The loan is repaid in equal
instalments. The fund's budget is charged, when it grants a guarantee, with the loan's
expected loss at its class's default rate; what defaults actually cost is recorded beside it.
"""

from __future__ import annotations

import functools

import numpy as np

from sim.model.accounts import credit_headroom, net_worth, score_classes
from sim.model.firms import INSOLVENCY
from sim.submodels import policy

#: Rating classes of the fund's model (1: safest).
N_CLASSES = 5


def rating(spec, model, rows: np.ndarray) -> np.ndarray:
    """The fund's class 1-5 of firms ``rows``: ``accounts.score_classes`` with its class_bounds and leverage_weight.

    Return on sales and leverage, the two ratios the fund's scoring weighs most; in the
    baseline the classes' yearly insolvency rates rise from 0.11 % (class 1) to 13 % (class
    5), docs/scenarios.md.
    """
    return score_classes(model, rows, spec.class_bounds, spec.leverage_weight)


@functools.lru_cache(maxsize=64)
def expected_loss_rate(annual_default_rate: float, quarters: int) -> float:
    """Expected loss per euro guaranteed of a loan repaid linearly over T quarters.

    EL = sum_{t=1..T} (1 - h)^(t-1) h (1 - (t - 1) / T), h = 1 - (1 - PD)^(1/4) the quarterly
    default hazard: the fund loses what is still outstanding when the firm defaults.
    """
    h = 1.0 - (1.0 - annual_default_rate) ** 0.25
    t = np.arange(1, quarters + 1)
    return float(((1.0 - h) ** (t - 1) * h * (1.0 - (t - 1) / quarters)).sum())


def loan_terms(model, spec, rows: np.ndarray, need: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """New credit N_i the bank will lend with the guarantee, and the existing debt R_i it moves under it.

    With a = guarantee_capital_relief and c = coverage, the loan N + R keeps the bank within
    its limit when N (1 - a c) - a c R <= H_i (H_i the headroom), R at most the firm's
    unguaranteed debt M_i; the firm's guaranteed loans stay within ``max_guaranteed`` (C_i left).
    """
    f = model.firms
    relief = model.params.guarantee_capital_relief * spec.coverage
    headroom = credit_headroom(model, rows)
    movable = np.maximum(f.debt[rows] - f.guaranteed[rows], 0.0)
    left = np.maximum(spec.max_guaranteed - f.guaranteed[rows], 0.0)
    if relief <= 0.0:  # the guarantee buys no credit beyond the limit
        return np.minimum(need, np.minimum(headroom, left)), np.zeros(rows.size)
    feasible = np.inf if relief >= 1.0 else (headroom + relief * movable) / (1.0 - relief)
    # the new credit at which N + R reaches what is left under the cap
    capped = np.where((1.0 - relief) * left <= headroom, left, relief * left + headroom)
    new = np.minimum(need, np.minimum(feasible, capped))
    moved = np.clip(((1.0 - relief) * new - headroom) / relief, 0.0, movable)
    return new, moved


def lend(model, rows: np.ndarray, need: np.ndarray, purpose: str) -> np.ndarray:
    """Guaranteed loans to firms ``rows`` for ``purpose``; returns the new credit (cash) each got.

    ``need``: the new credit asked (working capital: the whole shortfall or nothing, since less
    would not save the firm; investment: as much of it as the bank will lend; refinancing: none,
    the firm moves its existing bank debt under the guarantee for the lower rate). The fund's
    charge is EL_k c (N + R) (``expected_loss_rate`` at the class's default rate), what the
    firm asks of the instrument's budget; a charge that does not fit under the firm's caps is
    refused. The fee f c (N + R) is added to the loan.
    """
    f = model.firms
    got = np.zeros(rows.size)
    if rows.size == 0:
        return got
    worth = net_worth(model, rows)
    terms: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def charge(spec) -> np.ndarray:
        if purpose not in spec.purposes:
            return np.zeros(rows.size)
        classes = rating(spec, model, rows)
        if purpose == "refinancing":
            new = np.zeros(rows.size)
            moved = np.minimum(
                np.maximum(f.debt[rows] - f.guaranteed[rows], 0.0), spec.max_guaranteed - f.guaranteed[rows]
            )
            moved = np.maximum(moved, 0.0)
            wanted = moved > 1e-9
        else:
            new, moved = loan_terms(model, spec, rows, need)
            wanted = new >= need - 1e-9 if purpose == "working_capital" else new > 1e-9
        rate = np.array([expected_loss_rate(spec.default_rates[k - 1], spec.loan_quarters) for k in classes])
        el = spec.coverage * (new + moved) * rate
        ok = wanted & (classes <= spec.max_class) & (worth > spec.fee_rate * spec.coverage * (new + moved))
        ok &= el <= policy.room_for(model, spec, rows) + 1e-12
        terms[id(spec)] = (classes, new, moved)
        return np.where(ok, el, 0.0)

    offer, source = policy.best_offers(model, "credit_guarantee", rows, charge)
    charged = policy.fund(model, rows, offer, source)
    lent = charged > 0
    for k in np.unique(source[lent]):
        spec = model.instruments[k].spec
        classes, new, moved = terms[id(spec)]
        mine = lent & (source == k)
        r = rows[mine]
        loan = new[mine] + moved[mine]
        fee = spec.fee_rate * spec.coverage * loan  # paid to the fund out of an addition to the loan
        f.cash[r] += new[mine]
        f.debt[r] += new[mine] + fee
        f.guaranteed[r] += loan + fee
        f.guarantee_cover[r] = spec.coverage
        f.guarantee_instalment[r] += (loan + fee) / spec.loan_quarters
        f.rating[r] = classes[mine]
        got[mine] = new[mine]
        model.guarantee_expected_loss += float(charged[mine].sum())
        model.guarantee_fees += float(fee.sum())
        model.guarantee_new_credit += float(new[mine].sum())
        model.guarantee_refinanced += float(moved[mine].sum())
        # Staying solvent or hiring needed the new credit: it is additional, and the charge on debt
        # moved under the guarantee is deadweight. A refinancing changes only the rate: none is additional.
        if purpose == "refinancing":
            policy.record(model, "credit_guarantee", charged[mine], np.zeros(r.size, dtype=bool))
        else:
            share_moved = moved[mine] / np.maximum(loan, 1e-300)
            policy.record(
                model, "credit_guarantee", charged[mine], np.ones(r.size, dtype=bool), charged[mine] * share_moved
            )
    return got


def bridge_loans(model) -> None:
    """Firms still short of cash after borrowing up to their bank limit ask for a guaranteed loan of the shortfall."""
    f = model.firms
    if not policy.active(model, "credit_guarantee"):
        return
    short = np.flatnonzero(f.cash < 0)
    lend(model, short, -f.cash[short], "working_capital")


def investment_loans(model, rows: np.ndarray, need: np.ndarray) -> np.ndarray:
    """Firms that cannot finance the hires they plan ask for a guaranteed loan of the gap; returns the credit got."""
    if rows.size == 0 or not policy.active(model, "credit_guarantee"):
        return np.zeros(rows.size)
    return lend(model, rows, need, "investment")


def refinance(model) -> None:
    """Firms renewing their credit lines (``credit_review`` a quarter) move bank debt under a guarantee that pays.

    It pays when the interest saved, r_g c x (the loan's average outstanding over T quarters),
    exceeds the fee f c: with the defaults (r_g = 0.1 % a quarter, T = 20, f = 0.5 %) it always
    does, which is why, in evaluations of guarantee funds, much of the guaranteed credit
    replaces credit banks would have given anyway (no new credit: all deadweight here).
    """
    f, p = model.firms, model.params
    if not policy.active(model, "credit_guarantee"):
        return
    rng = model.streams["finance"]
    # a bank renews the lines of firms that can pay their way this quarter, not of those about to fail
    reviewing = np.flatnonzero((rng.random(f.n) < p.credit_review) & (f.debt - f.guaranteed > 1e-9) & (f.cash >= 0))
    if reviewing.size == 0:
        return
    pays = np.ones(reviewing.size, dtype=bool)
    for instrument in policy.active(model, "credit_guarantee"):
        spec = instrument.spec
        saving = p.guaranteed_rate_discount * spec.coverage * (spec.loan_quarters + 1) / 2.0
        pays &= saving > spec.fee_rate * spec.coverage
    lend(model, reviewing[pays], np.zeros(int(pays.sum())), "refinancing")


def amortise(model) -> None:
    """Each quarter a firm repays the instalment of its guaranteed loans, G_i / T at grant, until they are repaid."""
    f = model.firms
    if not f.guarantee_instalment.any():  # no guaranteed loan outstanding (every run without a guarantee fund)
        return
    paid = np.minimum(f.guarantee_instalment, f.guaranteed)
    f.cash[:] -= paid
    f.debt[:] -= paid
    f.guaranteed[:] -= paid
    f.guarantee_instalment[f.guaranteed <= 1e-9] = 0.0


def record_defaults(model, mask: np.ndarray) -> None:
    """Guarantee funds repay their share of the guaranteed debt that exiting firms leave unpaid.

    An insolvent firm leaves all of it unpaid; a firm that closes by choice pays its debt out
    of its liquidation value (cash, and capital sold at resale_discount), and the fund covers
    its share of whatever of the guaranteed debt that leaves.
    """
    f, p = model.firms, model.params
    rows = np.flatnonzero(mask)
    insolvent = f.exit_cause[rows] == INSOLVENCY
    assets = np.maximum(f.cash[rows], 0.0) + p.capital_per_worker * f.employees[rows] * (1.0 - p.resale_discount)
    unpaid = np.where(
        insolvent, f.guaranteed[rows], np.minimum(f.guaranteed[rows], np.maximum(f.debt[rows] - assets, 0.0))
    )
    model.guarantee_losses += float((unpaid * f.guarantee_cover[rows]).sum())
