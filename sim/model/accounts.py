"""A firm's balance sheet as banks see it: net worth, the debt that counts against its limit, the headroom left.

Shared by finance (ODD 7.6) and the guarantee fund (ODD 7.19), which both lend against it.
"""

from __future__ import annotations

import numpy as np


def net_worth(model, rows: slice | int | np.ndarray = slice(None)) -> np.ndarray:
    """Capital plus cash minus debt (EUR thousand)."""
    f, p = model.firms, model.params
    return p.capital_per_worker * f.employees[rows] + f.cash[rows] - f.debt[rows]


def bank_debt(model, rows: slice | np.ndarray = slice(None)) -> np.ndarray:
    """B_i = D_i - a c_i G_i - S_i: debt that counts against the bank limit (a share a of the guaranteed part does not).

    a = guarantee_capital_relief: the guaranteed part carries less risk for the bank, which lends
    part of it on top of what it would lend the firm on its own. S_i: the firm's subsidised
    investment-abroad loans (ODD 7.20), lent outside its bank credit.
    """
    f = model.firms
    bank = f.debt[rows] - model.params.guarantee_capital_relief * f.guarantee_cover[rows] * f.guaranteed[rows]
    return bank - f.abroad_loan[rows]  # an investment-abroad loan is not the bank's (submodels/affiliates.py)


def credit_headroom(model, rows: slice | np.ndarray = slice(None)) -> np.ndarray:
    """How much more a firm could borrow now: H_i = max(l max(NW_i, 0) - B_i, 0)."""
    limit = model.leverage * np.maximum(net_worth(model, rows), 0.0)
    return np.maximum(limit - bank_debt(model, rows), 0.0)
