"""A firm's balance sheet as banks see it: its rating, net worth, the debt that counts against its limit, the headroom.

Shared by finance (ODD 7.6) and the guarantee fund (ODD 7.19), which both lend against it. Banks rate
every firm each quarter from its accounts (classes 1, safest, to 5) and price and limit its credit by class.
"""

from __future__ import annotations

import numpy as np


def score_classes(model, rows: slice | np.ndarray, bounds: list[float], leverage_weight: float) -> np.ndarray:
    """Class 1-5 of firms ``rows`` on their accounts: s = pibar_i / R_i - w_D D_i / (kappa L_i + cash_i^+); 1 + #(b>s).

    Return on sales (profit trend over revenue) and leverage (debt over assets), the ratios
    credit scoring weighs most; shared by the banks (``rating_classes``) and the guarantee
    fund (``guarantees.rating``), each with its own bounds b and weight w_D.
    """
    f, p = model.firms, model.params
    assets = p.capital_per_worker * f.employees[rows] + np.maximum(f.cash[rows], 0.0)
    score = f.profit_trend[rows] / np.maximum(f.revenue[rows], 1e-9)
    score -= leverage_weight * f.debt[rows] / np.maximum(assets, 1e-9)
    return (1 + (score[:, None] < np.asarray(bounds)[None, :]).sum(axis=1)).astype(np.int8)


def rating_classes(model, rows: slice | np.ndarray = slice(None)) -> np.ndarray:
    """Banks' class 1-5 of firms ``rows`` (``score_classes`` with rating_bounds, rating_leverage_weight).

    A firm younger than ``rating_history_quarters`` has no year of accounts to score: banks
    rate it on its business plan, class ``new_firm_rating_class``.
    """
    f, p = model.firms, model.params
    scored = score_classes(model, rows, p.rating_bounds, p.rating_leverage_weight)
    young = model.steps - f.entered_step[rows] < p.rating_history_quarters
    return np.where(young, p.new_firm_rating_class, scored).astype(np.int8)


def by_class(values: list[float], classes: np.ndarray) -> np.ndarray:
    """A per-class value (classes 1-5) for each firm; class 0 (not rated yet) takes class 1's."""
    table = np.asarray([values[0], *values])
    return table[classes]


def credit_multiple(model, rows: slice | np.ndarray = slice(None)) -> np.ndarray:
    """lambda_i = l m_k: banks lend firm i up to this multiple of its net worth (l: leverage_max, less in a crunch)."""
    return model.leverage * by_class(model.params.rating_limits, model.firms.bank_rating[rows])


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
    """How much more a firm could borrow now: H_i = max(lambda_i max(NW_i, 0) - B_i, 0)."""
    limit = credit_multiple(model, rows) * np.maximum(net_worth(model, rows), 0.0)
    return np.maximum(limit - bank_debt(model, rows), 0.0)
