"""Employment, wages and pricing: firms plan capacity for expected demand (ODD 7.5).

Expected demand is an exponential average of units demanded. Firms close a
share ``employment_speed`` of the gap to the workforce that would serve it
at the target utilisation, paying hiring and firing costs; new workers
need capital, which must be financed (cash or credit), so growth is
finance-constrained. Markups rise when demand exceeds capacity and fall
when capacity sits idle.
"""

from __future__ import annotations

import numpy as np

from sim.submodels import finance

#: Demand above twice full capacity raises markups no faster than demand at twice capacity.
MAX_PRESSURE = 2.0


def update_wage(model) -> None:
    """The regional wage follows average productivity: w_t = w_0 (exp(mean ln A_t) / A_0)^psi.

    psi = wage_indexation. Real wages grow with productivity, so unit labour costs and prices are
    stationary on average; a firm gains price competitiveness only by
    raising productivity faster than the region.
    """
    f, p = model.firms, model.params
    if f.n == 0:
        return  # an emptied district keeps its last wage
    mean_productivity = float(np.exp(np.log(f.productivity).mean()))
    model.wage = p.wage * (mean_productivity / model.reference_productivity) ** p.wage_indexation


def adjust(model) -> None:
    """Update markups, expected demand and next quarter's workforce."""
    set_markups(model)
    expect_demand(model)
    hire_and_fire(model)


def set_markups(model) -> None:
    """Markups rise when demand presses on capacity: mu_i <- clip(mu_i + varsigma (min(D_i / (L_i A_i), 2) - u*)).

    Clipped to [mu_min, mu_max]; u* is the target utilisation.
    """
    f, p = model.firms, model.params
    pressure = f.demanded / np.maximum(f.employees * f.productivity, 1e-12)
    change = p.markup_speed * (np.minimum(pressure, MAX_PRESSURE) - p.utilisation_target)
    f.markup[:] = np.clip(f.markup + change, p.markup_min, p.markup_max)


def expect_demand(model) -> None:
    """Dhat_i <- omega_D D_i + (1 - omega_D) Dhat_i: an exponential average of units demanded."""
    f, p = model.firms, model.params
    w = p.expectation_weight
    f.expected_demand[:] = w * f.demanded + (1 - w) * f.expected_demand


def hire_and_fire(model) -> None:
    """Close a share theta of the gap to L*_i = max(Dhat_i / (A_i u*), 1), hiring only what the firm can finance.

    hires = min(max(Delta, 0), max(Lambda_i, 0) / (kappa + h)) with Delta = theta (L* - L) and
    Lambda_i the firm's liquidity; fires = min(max(-Delta, 0), L - 1). Costs h per hire and
    f + kappa d per separation; capital kappa per worker is invested or sold.
    """
    f, p = model.firms, model.params
    desired = np.maximum(f.expected_demand / (f.productivity * p.utilisation_target), 1.0)
    change = p.employment_speed * (desired - f.employees)

    unit_hire = p.capital_per_worker + p.hiring_cost
    affordable = np.maximum(finance.liquidity(model), 0.0) / unit_hire
    hires = np.minimum(np.maximum(change, 0.0), affordable)
    fires = np.minimum(np.maximum(-change, 0.0), np.maximum(f.employees - 1.0, 0.0))

    k = p.capital_per_worker
    model.quarter_costs["adjustment"] = p.hiring_cost * hires + (p.firing_cost + k * p.resale_discount) * fires
    # Capital leaves the books at its value k; the resale loss k x discount is a cost.
    model.quarter_investment += k * hires - k * fires
    f.employees[:] += hires - fires
