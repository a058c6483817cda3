"""Universities: research partners with a limited number of new collaborations a year (ODD 7.11).

Firms that consider a collaboration (probability ``collaboration_attention`` a
quarter) start one when its expected value (knowhow.knowhow_value)
exceeds the fee they pay, net of any voucher (submodels/policy.py). Each university
takes firms from its catchment provinces, in random order, until its yearly
capacity is used; the regional technology-transfer network takes firms from
anywhere. A collaboration lasts ``collaboration_quarters``: it raises the
firm's innovation efficiency and its quality a little every quarter.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.model.calendar import is_first_quarter
from sim.model.world import PROVINCES, UNIVERSITIES
from sim.submodels import finance, policy
from sim.submodels.knowhow import knowhow_value


class University(mesa.Agent):
    """A university or the regional technology network: a catchment and a yearly capacity."""

    def __init__(self, model: mesa.Model, name: str, provinces: tuple[str, ...], capacity: int) -> None:
        super().__init__(model)
        self.name = name
        self.catchment = (
            np.array([p in provinces for p in PROVINCES]) if provinces else np.ones(len(PROVINCES), dtype=bool)
        )
        self.capacity = capacity
        self.used = 0

    @property
    def collaborations(self) -> int:
        """Collaborations under way now."""
        f = self.model.firms
        index = self.model.universities.index(self)
        return int(((f.university == index) & (f.collab_until >= self.model.steps)).sum())


def setup(model) -> None:
    """Create the universities with capacities scaled to the number of firms."""
    p = model.params
    total = p.university_capacity * p.n_firms / 1000.0
    model.universities = [
        University(model, name, provinces, max(int(round(total * share)), 1)) for name, provinces, share in UNIVERSITIES
    ]


def collaborate(model) -> None:
    """Renew capacities each year; match firms that want a collaboration with universities.

    A firm not in a collaboration considers one with probability
    collaboration_attention and applies if its value W_i (knowhow.knowhow_value)
    exceeds the fee net of the best voucher O_i, W_i > fee - O_i, and it can
    spend fee - O_i. Each university takes applicants from its catchment in
    random order up to its yearly capacity. A collaboration lasts
    collaboration_quarters and raises quality by collaboration_quality_gain a quarter.
    """
    f, p = model.firms, model.params
    step = model.steps
    if is_first_quarter(model):
        for uni in model.universities:
            uni.used = 0
    rng = model.streams["universities"]
    considering = (f.collab_until < step) & (rng.random(f.n) < p.collaboration_attention)
    candidates = np.nonzero(considering)[0]
    fee = p.collaboration_fee
    value = knowhow_value(model, p.collaboration_quality_gain, p.collaboration_quarters, candidates)
    offer, source = policy.best_offers(
        model, "university_vouchers", candidates, lambda spec: np.full(candidates.size, spec.voucher_share * fee)
    )
    wants = (value > fee - offer) & (finance.spendable(model, candidates) >= fee - offer)
    candidates, value, offer, source = candidates[wants], value[wants], offer[wants], source[wants]

    # Places: each university takes applicants from its catchment in random order.
    place = np.full(candidates.size, -1)
    order = rng.permutation(candidates.size)
    province = f.province[candidates]
    for index, uni in enumerate(model.universities):
        free = order[(place[order] == -1) & uni.catchment[province[order]]]
        taken = free[: max(uni.capacity - uni.used, 0)]
        place[taken] = index
        uni.used += taken.size
    placed = place >= 0
    candidates, value, offer, source, place = (
        candidates[placed],
        value[placed],
        offer[placed],
        source[placed],
        place[placed],
    )

    grant = policy.fund(model, candidates, offer, source)
    alone = (value > fee) & (finance.spendable(model, candidates) >= fee)
    policy.record(model, "university_vouchers", grant, ~alone)  # additional: no collaboration without the voucher
    start = (grant > 0) | alone
    for index, uni in enumerate(model.universities):
        uni.used -= int(((place == index) & ~start).sum())  # unfunded applicants give their place back
    rows = candidates[start]
    f.collab_until[rows] = step + p.collaboration_quarters - 1
    f.university[rows] = place[start]
    cost = np.zeros(f.n)
    cost[rows] = fee - grant[start]
    model.quarter_costs["collaboration"] = cost

    under_way = f.collab_until >= step
    f.quality[under_way] *= np.exp(p.collaboration_quality_gain)
