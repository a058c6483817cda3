"""Export consortia and network contracts: small firms that would not enter a market alone enter it together (ODD 7.18).

Members pay a share ``consortium_entry_share`` (sigma_c) of the market's
sunk entry cost F_m and of its presence costs, plus a coordination cost;
groups of ``consortium_size`` form among keen firms, and incomplete groups
do not form. Groups backed by an active ``export_consortia`` policy form
first, within a province, niche and market (the policy's agency brings
local firms together; its grant pays part of each member's cost). Then, in
the first quarter of a year, small firms form network contracts on their
own (after the Italian *contratto di rete*) with firms they know: partners,
suppliers, clients, or their contacts, so how many form does not depend on
how many firms the model holds. Members pool part of what they learn of
their market's buyers (``share_information``).
"""

from __future__ import annotations

import numpy as np

from sim.model.arrays import any_per_row, chunk_labels, true_cells
from sim.model.calendar import is_first_quarter
from sim.model.firms import bucket_of
from sim.model.graph import contact_pairs
from sim.model.world import DOMESTIC, MARKETS, N_MARKETS
from sim.submodels import finance, learning, policy
from sim.submodels.internationalisation import (
    Undecided,
    discount_weights,
    enter,
    entry_costs,
    initial_share,
    presence_costs,
)


def form(model, undecided: Undecided) -> None:
    """Firms that reviewed their markets and entered none alone may enter one together."""
    belief = np.stack([undecided.mean, undecided.sd], axis=-1)
    form_consortia(model, undecided.rows, undecided.value, undecided.revenue, belief)


def form_consortia(
    model, rows: np.ndarray, value: np.ndarray, revenue: np.ndarray, belief: np.ndarray | None = None
) -> None:
    """Groups of each sponsor in turn: every active export_consortia policy, then (first quarters) network contracts.

    A firm joins at most one group a quarter; groups whose grants run out
    give them back. ``belief``, shape (rows, markets, 2): the mean and s.d. of
    what each firm believes of its fit (default: the prior, what a firm knows
    without a study).
    """
    f = model.firms
    if belief is None:
        belief = np.stack(np.broadcast_arrays(0.0, np.full(value.shape, model.params.fit_sd)), axis=-1)
    model.consortia_formed = 0
    model.consortium_members = np.zeros(0, dtype=np.int64)
    sponsors = [i for i in model.instruments if i.spec.instrument == "export_consortia" and i.spec.active(model.steps)]
    if is_first_quarter(model):  # network contracts are signed when firms plan the year, in its first quarter
        sponsors.append(None)
    for instrument in sponsors:
        if rows.size == 0:
            return
        if model.consortia_formed:  # one consortium a quarter
            free = ~np.any(
                f.consortium.take(rows, axis=0) & (f.market_entered.take(rows, axis=0) == model.steps), axis=1
            )
            rows, value, revenue = rows[free], value.compress(free, axis=0), revenue.compress(free, axis=0)
            belief = belief.compress(free, axis=0)
        _group_up(model, instrument, rows, value, revenue, belief)


def _group_up(model, instrument, rows: np.ndarray, value: np.ndarray, revenue: np.ndarray, belief: np.ndarray) -> None:
    """Form the complete groups of one sponsor (an export_consortia policy, or None: network contracts).

    A member's cost is c_m = sigma_c F_m + k (k: the policy's coordination
    cost, or network_contract_cost); its value as a member is
    V_im + F_m - c_m + (1 - sigma_c) Gamma_flat P_im (it pays only its share of
    presence costs), plus the grant O_im a policy offers. Keen firms (positive
    value, able to spend c_m - O_im) are ranked by value within their group
    key and cut into consecutive groups of ``consortium_size``.
    """
    f, p = model.firms, model.params
    entry = entry_costs(model)
    member_cost = p.consortium_entry_share * entry + (
        p.network_contract_cost if instrument is None else p.consortium_coordination_cost
    )
    flat = discount_weights(p.entry_horizon, p.discount_rate, p.customer_inertia_speed)[0]

    def lift(rows: np.ndarray) -> np.ndarray:
        """F_m - c_m + (1 - sigma_c) Gamma_flat P_im: value already counts full presence costs; members pay a share."""
        saving = (1.0 - p.consortium_entry_share) * flat * presence_costs(model, rows)
        return (entry - member_cost)[None, :] + saving

    if instrument is None:
        # Without a subsidy only small firms that would gain as members, and
        # know another such firm, can form a contract: drop the others first.
        able = (f.employees[rows] < p.consortium_max_employees) & ((value + lift(rows))[:, 1:].max(axis=1) > 0)
        rows, value, revenue = rows[able], value.compress(able, axis=0), revenue.compress(able, axis=0)
        belief = belief.compress(able, axis=0)
        known = _knows_another(model, rows)
        rows, value, revenue = rows[known], value.compress(known, axis=0), revenue.compress(known, axis=0)
        belief = belief.compress(known, axis=0)
        if rows.size < p.consortium_size:
            return
    member_value = value + lift(rows)
    if instrument is None:
        offer = np.zeros_like(member_value)
    else:
        spec = instrument.spec
        member_value[:, ~np.isin(MARKETS, spec.markets)] = -np.inf
        cap = policy.room(model, instrument, rows)[:, None]
        offer = np.where(
            policy.eligible(model, instrument, rows)[:, None],
            np.minimum(spec.subsidy_share * member_cost[None, :], cap),
            0.0,
        )
    member_value[:, DOMESTIC] = -np.inf
    best = np.argmax(member_value + offer, axis=1)
    pick = np.arange(rows.size)
    total = member_value[pick, best] + offer[pick, best]
    net = member_cost[best] - offer[pick, best]
    keen = total > 0
    keen[keen] = finance.spendable(model, rows[keen]) >= net[keen]
    if instrument is not None:
        keen &= offer[pick, best] > 0
    if keen.sum() < p.consortium_size:
        return  # no group can be complete
    members, market, grant_asked = rows[keen], best[keen], offer[pick, best][keen]
    member_revenue = revenue[pick[keen], market]
    member_belief = belief[pick[keen], market]
    # Groups of consortium_size, keenest first, within each (province, niche,
    # market) for a policy (its agency brings local firms together), within
    # each group of firms linked by collaborations or supply (directly or
    # through one another) that aim at the same market for a network contract.
    local = bucket_of(f.province[members], f.niche[members]) * N_MARKETS + market
    key = _contact_groups(model, members, market) if instrument is None else local
    order = np.lexsort((-total[keen], key))
    group = np.empty(order.size, dtype=np.int64)
    group[order] = chunk_labels(key[order], p.consortium_size)
    sizes = np.unique(group, return_inverse=True, return_counts=True)
    complete = sizes[2][sizes[1]] == p.consortium_size
    grant = np.zeros(members.size)
    if instrument is None:
        forms = complete
    else:
        grant[complete] = policy.allocate(model, instrument, members[complete], grant_asked[complete])
        unfunded_groups = np.unique(group[complete & (grant <= 0)])
        forms = complete & (grant > 0) & ~np.isin(group, unfunded_groups)
        refund = complete & (grant > 0) & ~forms
        policy.refund(model, instrument, members[refund], grant[refund])
    joined, market = members[forms], market[forms]
    model.quarter_costs["entry"][joined] += member_cost[market] - grant[forms]
    enter(model, joined, market, initial_share(model, joined, market, member_revenue[forms]))
    # members start from the belief they joined on (their study) and learn from their sales (submodels/learning.py)
    learning.adopt(model, joined, market, member_belief[forms, 0], member_belief[forms, 1])
    f.consortium[joined, market] = True
    ids, number = np.unique(group[forms], return_inverse=True)
    f.consortium_group[joined, market] = model.last_consortium_id + 1 + number
    model.last_consortium_id += int(ids.size)
    model.consortia_formed += int(ids.size)
    model.consortium_members = np.concatenate([model.consortium_members, f.firm_id[joined]])


def _knows_another(model, rows: np.ndarray) -> np.ndarray:
    """Which of ``rows`` have a partner, client or supplier among ``rows``."""
    a, b = contact_pairs(model, rows)
    known = np.zeros(rows.size, dtype=bool)
    known[a] = True
    known[b] = True
    return known


def _contact_groups(model, members: np.ndarray, market: np.ndarray) -> np.ndarray:
    """A label for each of ``members`` (rows): its connected component in the contact network among them.

    Only links between two members aiming at the same market count.

    Labels spread along links (each member takes the smallest label among its
    links, then its label's label) until nothing changes: a few rounds, as
    the groups are small.
    """
    label = np.arange(members.size)
    a, b = contact_pairs(model, members)
    same = market[a] == market[b]
    a, b = a[same], b[same]
    while a.size:
        low = np.minimum(label[a], label[b])
        new = label.copy()
        np.minimum.at(new, a, low)
        np.minimum.at(new, b, low)
        new = new[new]
        if np.array_equal(new, label):
            break
        label = new
    return label.astype(np.int64)


def share_information(model) -> None:
    """Consortium members pool a share ``consortium_information`` of their match with each market's buyers.

    Shared contacts, fairs and market intelligence: a member's fortunes in a
    market move with its group's, so its match is less volatile than a lone
    exporter's.
    """
    f = model.firms
    members = consortium_rows(f)
    if members.size == 0:
        return
    rows, markets = true_cells(f.consortium.take(members, axis=0))  # exactly the cells with a consortium id
    cells = (members[rows], markets)
    _, group = np.unique(f.consortium_group[cells], return_inverse=True)
    match = f.match[cells]
    mean = np.bincount(group, weights=match) / np.bincount(group)
    w = model.params.consortium_information
    f.match[cells] = (1.0 - w) * match + w * mean[group]


def consortium_rows(firms) -> np.ndarray:
    """Rows of the firms in at least one consortium."""
    return np.flatnonzero(any_per_row(firms.consortium))


def n_consortia(model) -> int:
    """Consortia with at least one member still serving their market."""
    f = model.firms
    members = consortium_rows(f)
    return int(np.unique(f.consortium_group[members][f.consortium[members]]).size)
