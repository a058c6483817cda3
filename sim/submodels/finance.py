"""Finance: the quarter's accounts, bank credit priced and limited by rating, insolvency (ODD 7.6).

Net worth is capital (capital_per_worker x employees) plus cash minus debt.
Banks rate each firm every quarter (classes 1-5, sim/model/accounts.py), charge
``interest_rate`` plus the class's spread, and lend up to ``leverage_max`` times
net worth times the class's share ``rating_limits`` (less in a credit crunch, see
submodels/shocks.py); each quarter they call in a share ``credit_recall`` of any
debt above that limit. A firm whose cash stays negative after borrowing up to its
limit, or whose net worth turns negative, is insolvent and exits. Cash above a
buffer repays debt first; part of what remains is paid out.
"""

from __future__ import annotations

import numpy as np

from sim.model.accounts import bank_debt, by_class, credit_headroom, credit_multiple, net_worth, rating_classes
from sim.model.firms import INSOLVENCY
from sim.submodels import guarantees

#: Costs that buy something lasting (a market, a niche, know-how): left out of the operating profit.
SUNK_ITEMS = ("entry", "switch", "collaboration", "training")
#: Weight of the latest quarter in the profit trend (an exponential average over about a year).
PROFIT_TREND_WEIGHT = 0.25
#: Cash this far below zero (EUR thousand) is rounding, not insolvency.
CASH_TOLERANCE = 1e-9


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
    return pending + np.maximum(credit_multiple(model) * np.maximum(worth, 0.0) - bank_debt(model), 0.0)


def spendable(model, rows: slice | np.ndarray = slice(None)) -> np.ndarray:
    """The most firms ``rows`` (default all) can spend on an expense (which lowers net worth, and so the credit limit).

    Spending x leaves pending - x + max(lambda_i (NW - x) - B_i, 0) >= 0 when
    x <= max(pending, (pending + lambda_i NW - B_i) / (1 + lambda_i)), lambda_i = credit_multiple.
    """
    f, p = model.firms, model.params
    pending = pending_cash(model, rows)
    worth = p.capital_per_worker * f.employees[rows] + pending - f.debt[rows]
    lam = credit_multiple(model, rows)
    return np.maximum(pending, (pending + lam * worth - bank_debt(model, rows)) / (1.0 + lam))


def production_costs(model) -> np.ndarray:
    """w L + c (1 + gamma + gamma^I) Y + delta kappa L + F: the quarter's wages, materials, depreciation, overhead.

    Writes the firms' ``wage_bill`` and ``materials`` on the way (the observer reports both).
    """
    f, p = model.firms, model.params
    np.multiply(p.material_cost * (1.0 + f.input_cost_gap + f.import_cost_gap), f.output, out=f.materials)
    np.multiply(model.wage, f.employees, out=f.wage_bill)
    return f.wage_bill + f.materials + p.depreciation * p.capital_per_worker * f.employees + p.fixed_cost


def book_production_costs(model) -> None:
    """Wages, materials, depreciation, overhead and interest of the quarter.

    production = w L + c (1 + gamma + gamma^I) Y + delta kappa L + F (materials cheaper or dearer with
    regional suppliers, submodels/supply.py, and foreign ones, submodels/sourcing.py); interest =
    (r + s_k) D - r_g c G (s_k: the spread of the firm's rating class; guaranteed loans pay less).
    """
    f, p = model.firms, model.params
    model.quarter_costs["production"] = production_costs(model)
    # the guaranteed part of a loan is cheaper: its risk is the fund's
    f.bank_rating[:] = rating_classes(model)  # banks rate every firm on its latest accounts
    model.quarter_costs["interest"] = (model.interest_rate + by_class(p.rating_spreads, f.bank_rating)) * f.debt
    if f.guarantee_instalment.any():
        model.quarter_costs["interest"] -= p.guaranteed_rate_discount * f.guarantee_cover * f.guaranteed


def settle(model) -> None:
    """Close the quarter: profit, cash, credit recall, borrowing, repayment, dividends, insolvency.

    pi_i = revenue - costs; cash += pi_i - investment; banks call in
    k_r max(B_i - l NW_i, 0) (B: bank debt); guaranteed loans pay their instalment;
    a firm short of cash borrows up to its headroom H_i = max(lambda_i max(NW_i, 0) - B_i, 0),
    then against a guarantee if a fund is active; cash above the buffer b (w L + c Y + F)
    repays the bank's own loans, and a share of what is left is paid out. A firm with cash < 0 or NW < 0
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
    limit = credit_multiple(model) * np.maximum(net_worth(model), 0.0)
    recall = p.credit_recall * np.maximum(bank_debt(model) - limit, 0.0)
    f.cash[:] -= recall
    f.debt[:] -= recall

    guarantees.amortise(model)

    borrow = np.minimum(np.maximum(-f.cash, 0.0), credit_headroom(model))
    f.cash[:] += borrow
    f.debt[:] += borrow
    guarantees.bridge_loans(model)
    guarantees.refinance(model)

    buffer = p.cash_buffer * (model.wage * f.employees + p.material_cost * f.output + p.fixed_cost)
    excess = np.maximum(f.cash - buffer, 0.0)
    repay = np.minimum(excess, f.debt - f.guaranteed - f.abroad_loan)  # early repayment goes to the bank's own loans
    f.cash[:] -= repay
    f.debt[:] -= repay
    f.cash[:] -= p.payout_rate * (excess - repay)

    insolvent = (f.cash < -CASH_TOLERANCE) | (net_worth(model) < 0)
    f.exit_cause[insolvent & ~f.exiting] = INSOLVENCY
    f.exiting[:] |= insolvent
