"""Employment, wages and pricing: firms plan capacity for expected demand (ODD 7.5).

Expected demand is an exponential average of units demanded. Firms close a
share ``employment_speed`` of the gap to the workforce that would serve it
at the target utilisation, paying hiring and firing costs; new workers
need capital, which must be financed (cash or credit), so growth is
finance-constrained. The wage follows a national contract path plus a
share of the region's productivity gains beyond it. Markups move part way
toward the markup the elasticity of each firm's demand calls for, and rise
when demand exceeds capacity and fall when capacity sits idle.
"""

from __future__ import annotations

import numpy as np

from sim.model.arrays import row_sums
from sim.model.calendar import QUARTERS_PER_YEAR
from sim.model.world import DOMESTIC, N_MARKETS
from sim.submodels import finance, guarantees

#: Demand above twice full capacity raises markups no faster than demand at twice capacity.
MAX_PRESSURE = 2.0


def regional_productivity(model) -> float:
    """The region's geometric mean productivity, over workers (``wage_weights = "employment"``) or over firms."""
    f = model.firms
    log_a = np.log(f.productivity)
    if model.params.wage_weights == "employment":
        return float(np.exp((f.employees * log_a).sum() / f.employees.sum()))
    return float(np.exp(log_a.mean()))


def update_wage(model) -> None:
    """A national contract path plus regional bargaining over productivity gains beyond it.

    ln w_t = ln w_0 + g_w t / 4 + psi (ln A_t - ln A_0 - g_w t / 4): g_w = wage_growth (the
    national contract, CCNL), A the region's employment-weighted geometric mean productivity
    and psi = wage_indexation the share of its gains over the contract path that second-level
    bargaining passes into wages. psi = 1 with firm weights and g_w = 0 is the alternative
    closure: the wage follows the region's unweighted mean productivity one for one.
    """
    f, p = model.firms, model.params
    if f.n == 0:
        return  # an emptied district keeps its last wage
    contract = p.wage_growth * model.steps / QUARTERS_PER_YEAR
    gains = np.log(regional_productivity(model) / model.reference_productivity) - contract
    model.wage = p.wage * float(np.exp(contract + p.wage_indexation * gains))


def adjust(model) -> None:
    """Update markups, expected demand and next quarter's workforce."""
    set_markups(model)
    expect_demand(model)
    hire_and_fire(model)


def desired_markups(model) -> np.ndarray:
    """Profit-maximising markup given the elasticity of the firm's demand: mu*_i = 1 / sum_m w_im bp_m (1 - s_im).

    With logit shares s and buyers' price weights bp, a firm's units fall with its price at
    elasticity 1 + bp_m (1 - s_im) in market m; one price serves every market, so the
    elasticities are averaged over the markets with the firm's sales as weights (Italy alone
    for a firm with no sales yet).
    """
    f, p = model.firms, model.params
    bp = p.market_array("price_weight")
    total = row_sums(f.sales)
    weights = f.sales / np.maximum(total, 1e-300)[:, None]
    weights[total <= 0] = np.eye(N_MARKETS)[DOMESTIC]
    slope = row_sums(weights * bp[None, :] * (1.0 - f.share))
    return 1.0 / np.maximum(slope, 1e-9)


def set_markups(model) -> None:
    """Markups move toward the elasticity's markup and rise when demand presses on capacity.

    mu_i <- clip(mu_i + kappa_mu (mu*_i - mu_i) + varsigma (min(D_i / (L_i A_i), 2) - u*), mu_min, mu_max),
    kappa_mu = markup_adjustment (``desired_markups``), varsigma = markup_speed, u* the target
    utilisation.
    """
    f, p = model.firms, model.params
    pressure = f.demanded / np.maximum(f.employees * f.productivity, 1e-12)
    change = p.markup_speed * (np.minimum(pressure, MAX_PRESSURE) - p.utilisation_target)
    change += p.markup_adjustment * (desired_markups(model) - f.markup)
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
    wanted = np.maximum(change, 0.0)
    short = np.flatnonzero(wanted > affordable)
    if short.size:  # a guarantee fund may finance the hires credit limits stop (submodels/guarantees.py)
        affordable[short] += (
            guarantees.investment_loans(model, short, (wanted - affordable)[short] * unit_hire) / unit_hire
        )
    hires = np.minimum(wanted, affordable)
    fires = np.minimum(np.maximum(-change, 0.0), np.maximum(f.employees - 1.0, 0.0))

    k = p.capital_per_worker
    model.quarter_costs["adjustment"] = p.hiring_cost * hires + (p.firing_cost + k * p.resale_discount) * fires
    # Capital leaves the books at its value k; the resale loss k x discount is a cost.
    model.quarter_investment += k * hires - k * fires
    f.employees[:] += hires - fires
