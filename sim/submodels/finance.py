"""Finance: the quarter's accounts, bank credit limited by net worth, insolvency (ODD 7.6).

Net worth is capital (capital_per_worker x employees) plus cash minus debt.
Banks lend up to ``leverage_max`` times net worth (less in a credit crunch,
see submodels/shocks.py) and call in a share ``credit_recall`` of any debt above
that limit each quarter. A firm whose cash stays
negative after borrowing up to its limit, or whose net worth turns
negative, is insolvent and exits. Cash above a buffer repays debt first;
part of what remains is paid out.
"""

from __future__ import annotations

import numpy as np

from sim.model.firms import INSOLVENCY
from sim.submodels import policy

#: Costs that buy something lasting (a market, a niche, know-how): left out of the operating profit.
SUNK_ITEMS = ("entry", "switch", "collaboration", "training")
#: Weight of the latest quarter in the profit trend (an exponential average over about a year).
PROFIT_TREND_WEIGHT = 0.25
#: Cash this far below zero (EUR thousand) is rounding, not insolvency.
CASH_TOLERANCE = 1e-9


def net_worth(model, rows: slice | int | np.ndarray = slice(None)) -> np.ndarray:
    """Capital plus cash minus debt (EUR thousand)."""
    f, p = model.firms, model.params
    return p.capital_per_worker * f.employees[rows] + f.cash[rows] - f.debt[rows]


def bank_debt(model) -> np.ndarray:
    """Debt that counts against the bank limit: guaranteed credit sits on top of it."""
    f = model.firms
    return f.debt - f.guaranteed


def credit_headroom(model) -> np.ndarray:
    """How much more a firm could borrow now: H_i = max(l max(NW_i, 0) - B_i, 0), B_i its bank debt."""
    limit = model.leverage * np.maximum(net_worth(model), 0.0)
    return np.maximum(limit - bank_debt(model), 0.0)


def booked_costs(model, rows: slice | np.ndarray = slice(None), items: tuple[str, ...] | None = None) -> np.ndarray:
    """Costs booked so far this quarter, summed over items (all, or those named), for firms ``rows``."""
    costs = model.quarter_costs
    items = iter(costs.values() if items is None else [costs[name] for name in items if name in costs])
    first = next(items, None)
    if first is None:
        return np.zeros(model.firms.n)[rows]
    total = np.array(first[rows], dtype=np.float64)  # a copy
    for values in items:
        total += values[rows]
    return total


def pending_cash(model, rows: slice | np.ndarray = slice(None)) -> np.ndarray:
    """Cash once this quarter's booked result and investment are settled."""
    f = model.firms
    return f.cash[rows] + f.revenue[rows] - booked_costs(model, rows) - model.quarter_investment[rows]


def liquidity(model) -> np.ndarray:
    """What a firm can spend on capital (which keeps net worth): pending cash plus credit headroom.

    The headroom is computed on net worth after this quarter's booked result,
    so a firm that has just paid an entry cost cannot also hire beyond its limit.
    """
    f, p = model.firms, model.params
    pending = pending_cash(model)
    worth = p.capital_per_worker * f.employees + pending - f.debt
    return pending + np.maximum(model.leverage * np.maximum(worth, 0.0) - bank_debt(model), 0.0)


def spendable(model, rows: slice | np.ndarray = slice(None)) -> np.ndarray:
    """The most firms ``rows`` (default all) can spend on an expense (which lowers net worth, and so the credit limit).

    Spending x leaves pending - x + max(leverage (NW - x) - debt, 0) >= 0 when
    x <= max(pending, (pending + leverage NW - debt) / (1 + leverage)).
    """
    f, p = model.firms, model.params
    pending = pending_cash(model, rows)
    worth = p.capital_per_worker * f.employees[rows] + pending - f.debt[rows]
    lam = model.leverage
    return np.maximum(pending, (pending + lam * worth - (f.debt[rows] - f.guaranteed[rows])) / (1.0 + lam))


def book_production_costs(model) -> None:
    """Wages, materials, depreciation, overhead and interest of the quarter.

    production = w L + c (1 + gamma) Y + delta kappa L + F (materials cheaper or dearer with
    regional suppliers, submodels/supply.py); interest = r debt.
    """
    f, p = model.firms, model.params
    np.multiply(p.material_cost * (1.0 + f.input_cost_gap), f.output, out=f.materials)
    np.multiply(model.wage, f.employees, out=f.wage_bill)
    model.quarter_costs["production"] = (
        f.wage_bill + f.materials + p.depreciation * p.capital_per_worker * f.employees + p.fixed_cost
    )
    model.quarter_costs["interest"] = model.interest_rate * f.debt


def guaranteed_loans(model) -> None:
    """Firms still short of cash borrow on top of their bank limit against a policy guarantee.

    The fund sets aside ``provision_rate`` of each new guaranteed loan out of
    its budget (that is the policy's spending); the guaranteed credit is at
    most ``extra_leverage`` times net worth; if the firm later defaults, the
    fund repays ``coverage`` of the guaranteed debt (``guarantee_losses``).
    """
    f = model.firms
    short = np.nonzero(f.cash < 0)[0]
    if short.size == 0 or not policy.active(model, "credit_guarantee"):
        return
    worth = net_worth(model, short)
    need = -f.cash[short]
    # Viable: solvent, and average recent losses (if any) small relative to
    # sales; the shortfall is one of liquidity, not of a failing business.
    loss_rate = -f.profit_trend[short] / np.maximum(f.revenue[short], 1e-9)

    def provision(spec) -> np.ndarray:
        # A loan that would not cover the whole shortfall would not save the firm: none is made.
        viable_ok = (worth > 0) & (loss_rate <= spec.max_loss_rate)
        room = np.maximum(spec.extra_leverage * np.maximum(worth, 0.0) - f.guaranteed[short], 0.0)
        asked = spec.provision_rate * need
        within_cap = (
            asked <= spec.cap_per_firm - f.support_year[short, policy.INSTRUMENT_TYPES.index("credit_guarantee")]
        )
        return np.where(viable_ok & (need <= room) & within_cap, asked, 0.0)

    offer, source = policy.best_offers(model, "credit_guarantee", short, provision)
    provided = policy.fund(model, short, offer, source)
    lent = provided > 0
    rows, source = short[lent], source[lent]
    rate = np.array([model.instruments[k].spec.provision_rate for k in source])
    cover = np.array([model.instruments[k].spec.coverage for k in source])
    loan = provided[lent] / rate
    f.cash[rows] += loan
    f.debt[rows] += loan
    f.guaranteed[rows] += loan
    f.guarantee_cover[rows] = cover


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


def settle(model) -> None:
    """Close the quarter: profit, cash, credit recall, borrowing, repayment, dividends, insolvency.

    pi_i = revenue - costs; cash += pi_i - investment; banks call in
    k_r max(B_i - l NW_i, 0) (B: bank debt); a firm short of cash borrows up to
    its headroom H_i = max(l max(NW_i, 0) - B_i, 0), then against a guarantee
    if a fund is active; cash above the buffer b (w L + c Y + F) repays debt,
    and a share of what is left is paid out. A firm with cash < 0 or NW < 0
    after all this is insolvent and exits at the end of the step.
    """
    f, p = model.firms, model.params
    f.costs[:] = booked_costs(model)
    f.profit[:] = f.revenue - f.costs
    w = PROFIT_TREND_WEIGHT
    f.profit_trend[:] = (1.0 - w) * f.profit_trend + w * f.profit
    f.operating_trend[:] = (1.0 - w) * f.operating_trend + w * (f.profit + booked_costs(model, items=SUNK_ITEMS))
    f.cash[:] += f.profit - model.quarter_investment

    # Banks do not renew credit above the limit: a share of the excess is called
    # in. Guaranteed credit is meant to sit above the limit and is not recalled.
    limit = model.leverage * np.maximum(net_worth(model), 0.0)
    recall = p.credit_recall * np.maximum(bank_debt(model) - limit, 0.0)
    f.cash[:] -= recall
    f.debt[:] -= recall

    borrow = np.minimum(np.maximum(-f.cash, 0.0), credit_headroom(model))
    f.cash[:] += borrow
    f.debt[:] += borrow
    guaranteed_loans(model)

    buffer = p.cash_buffer * (model.wage * f.employees + p.material_cost * f.output + p.fixed_cost)
    excess = np.maximum(f.cash - buffer, 0.0)
    repay = np.minimum(excess, f.debt)
    f.guaranteed[:] *= np.where(f.debt > 0, 1.0 - repay / np.maximum(f.debt, 1e-300), 0.0)  # repaid pro rata
    f.cash[:] -= repay
    f.debt[:] -= repay
    f.cash[:] -= p.payout_rate * (excess - repay)

    insolvent = (f.cash < -CASH_TOLERANCE) | (net_worth(model) < 0)
    f.exit_cause[insolvent & ~f.exiting] = INSOLVENCY
    f.exiting[:] |= insolvent
