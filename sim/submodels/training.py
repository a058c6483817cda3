"""Training: programmes that raise a firm's know-how and its capacity to absorb others' (ODD 7.12).

Firms that consider training (probability ``training_attention`` a quarter)
buy a programme when its expected value (knowhow.knowhow_value)
exceeds its cost, ``training_cost_per_worker`` times employees, net of any
subsidy (submodels/policy.py). A programme lasts ``training_quarters``: quality
grows a little every quarter and imitation is more effective.
"""

from __future__ import annotations

import numpy as np

from sim.submodels import finance, policy
from sim.submodels.knowhow import knowhow_value


def train(model) -> None:
    """Firms decide on training programmes; those under way raise quality.

    A firm not in training considers a programme with probability
    training_attention and buys it if its value W_i (knowhow.knowhow_value)
    exceeds its cost c_T L_i net of the best subsidy O_i and it can spend
    c_T L_i - O_i. A programme lasts training_quarters and raises quality by
    training_quality_gain a quarter (and know-how and absorptive capacity).
    """
    f, p = model.firms, model.params
    step = model.steps
    rng = model.streams["training"]
    candidates = np.nonzero((f.training_until < step) & (rng.random(f.n) < p.training_attention))[0]
    cost = p.training_cost_per_worker * f.employees[candidates]
    value = knowhow_value(model, p.training_quality_gain, p.training_quarters, candidates)
    offer, source = policy.best_offers(model, "training", candidates, lambda spec: spec.subsidy_share * cost)
    wants = (value > cost - offer) & (finance.spendable(model, candidates) >= cost - offer)
    candidates, cost, value, offer, source = candidates[wants], cost[wants], value[wants], offer[wants], source[wants]

    grant = policy.fund(model, candidates, offer, source)
    alone = (value > cost) & (finance.spendable(model, candidates) >= cost)
    policy.record(model, "training", grant, ~alone)  # additional: it would not have trained without the subsidy
    start = (grant > 0) | alone
    rows = candidates[start]
    f.training_until[rows] = step + p.training_quarters - 1
    booked = np.zeros(f.n)
    booked[rows] = cost[start] - grant[start]
    model.quarter_costs["training"] = booked

    under_way = f.training_until >= step
    f.quality[under_way] *= np.exp(p.training_quality_gain)
