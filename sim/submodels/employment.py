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


def update_wage(model) -> None:
    """The regional wage follows average productivity (elasticity ``wage_indexation``).

    Real wages grow with productivity, so unit labour costs and prices are
    stationary on average; a firm gains price competitiveness only by
    raising productivity faster than the region.
    """
    f, p = model.firms, model.params
    mean_productivity = float(np.exp(np.log(f.productivity).mean()))
    model.wage = p.wage * (mean_productivity / model.reference_productivity) ** p.wage_indexation


def adjust(model) -> None:
    """Update expectations, markups and next quarter's workforce."""
    f, p = model.firms, model.params
    capacity = f.employees * f.productivity
    pressure = f.demanded / np.maximum(capacity, 1e-12)
    f.markup[:] = np.clip(
        f.markup + p.markup_speed * (np.minimum(pressure, 2.0) - p.utilisation_target), p.markup_min, p.markup_max
    )

    w = p.expectation_weight
    f.expected_demand[:] = w * f.demanded + (1 - w) * f.expected_demand
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
