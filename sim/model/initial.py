"""Initialization: the starting population, market sizes, rivals and initial shares (ODD 5).

Firms start from the regional size, niche and province mix. Each market's
expenditure is sized relative to the region's output in each niche, and the
rivals' mass so that the region would hold ``potential_share`` of the market
if all its firms served it. Who exports at the start is decided by the
model's own entry rule (submodels/internationalisation.py), not assigned; firms'
appeal is then tuned so that each starts at rest with its drawn workforce.
"""

from __future__ import annotations

import numpy as np

from sim.model.firms import N_BUCKETS, bucket_keys, cell_totals
from sim.model.world import N_NICHES
from sim.submodels import affiliates, demand, demography, employment, finance, internationalisation, shocks, sourcing
from sim.submodels.competition import attractiveness, log_attractiveness, set_prices, target_shares, update_rival_share

INIT_ITERATIONS = 30


def initialise(model) -> None:
    """Build firms and markets so that step 1 starts from a consistent state."""
    p = model.params
    demography.initial_population(model)
    f = model.firms
    model.reference_productivity = employment.regional_productivity(model)
    sourcing.setup(model)  # foreign input shares at their targets: prices include what they save
    set_prices(model)
    niche = f.niche.astype(np.intp)
    output_value = f.employees * f.productivity * p.utilisation_target * f.price
    regional_output = np.maximum(np.bincount(niche, weights=output_value, minlength=N_NICHES), 1e-9)
    med_price = np.array([np.median(f.price[niche == k]) if (niche == k).any() else 1.0 for k in range(N_NICHES)])
    med_quality = np.array([np.median(f.quality[niche == k]) if (niche == k).any() else 1.0 for k in range(N_NICHES)])
    mk = model.markets = demand.initial_markets(model, regional_output, med_price, med_quality)
    shocks.apply(model)  # no shock is active before step 1: sets the neutral conditions

    potential = p.market_array("potential_share")[:, None]
    everyone = cell_totals(niche, attractiveness(model))
    mk.rival_mass = np.maximum(everyone, 1e-12) * (1.0 - potential) / potential

    internationalisation.initial_presence(model)
    # Start at rest: adjust each firm's appeal (quality) until the demand it
    # wins at home and abroad keeps its drawn workforce at the target
    # utilisation. Exporters need less appeal for their size than others.
    tau = p.market_array("trade_cost")
    bq = p.markets["italy"].quality_weight
    capacity_units = f.employees * f.productivity * p.utilisation_target
    for _ in range(INIT_ITERATIONS):
        f.share[:] = target_shares(model, attractiveness(model))[0]
        units = (f.share * mk.expenditure.T[niche] / (f.price[:, None] * (1.0 + tau)[None, :])).sum(axis=1)
        f.quality[:] *= (capacity_units / units) ** (1.0 / bq)
    update_rival_share(model)
    f.expected_demand[:] = units
    model.log_attract = log_attractiveness(model)
    model.denominator = target_shares(model, np.exp(model.log_attract))[1]
    model.entrepreneurs = np.bincount(bucket_keys(f), minlength=N_BUCKETS) + 0.5
    sales = units * f.price
    f.revenue[:] = sales
    f.output[:] = units
    f.cash[:] = p.initial_cash * sales
    f.debt[:] = p.initial_debt * p.capital_per_worker * f.employees
    f.profit_trend[:] = f.operating_trend[:] = at_rest_profit(model)  # the accounts of a quarter at rest
    demand.anchor_rivals(model)  # the rivals' gaps to the region, now that prices, appeal and sales are set
    affiliates.initial_owners(model)  # foreign groups' past purchases (affiliates: at the first clearing)


def at_rest_profit(model) -> np.ndarray:
    """pi0_i = R_i - [w L_i + c (1 + gamma_i + gamma^I_i) Y_i + delta kappa L_i + F] - r D_i - rho_i R_i - P_i - S_i.

    A quarter at the initial state: revenue R_i and output Y_i those the firm sells at rest, interest
    at the base rate (no class spread yet), R&D rho_i R_i, presence costs abroad P_i and the costs of
    foreign supply relationships S_i (ODD 7.3, 7.4, 7.22). It seeds the profit trends, so that banks
    rate the initial firms, and their owners weigh closing, on accounts like the ones their history
    would have left rather than on a trend of zero (ODD 5).
    """
    f = model.firms
    presence = internationalisation.presence_paid(model, *internationalisation.foreign_served(model))
    recurring = f.rd_intensity * f.revenue + presence + sourcing.relationship_costs(model)
    return f.revenue - finance.production_costs(model) - model.interest_rate * f.debt - recurring
