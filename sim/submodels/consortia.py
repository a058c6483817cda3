"""Export consortia and network contracts: small firms that would not enter a market alone enter it together (ODD 7.18).

Members pay a share ``consortium_entry_share`` (sigma_c) of the market's
sunk entry cost F_m and of its presence costs, plus a coordination cost.
An active ``export_consortia`` policy funds promoters (trade associations,
chambers of commerce) that, each quarter, recruit small firms of a province
and related niches into a group aimed at one market, from
``consortium_size`` to ``max_members`` firms, among those for which joining
pays with the policy's share of their costs (``promote``). Then, in the
first quarter of a year, small firms form network contracts on their own
(after the Italian *contratto di rete*) with firms they know: partners,
suppliers, clients, or their contacts, so how many form does not depend on
how many firms the model holds. Members pool part of what they learn of
their market's buyers (``share_information``); a group lasts while any of
its members still serves the market (each leaves by the rule of ODD 7.4).
"""

from __future__ import annotations

import numpy as np

from sim.model.arrays import any_per_row, chunk_labels, true_cells
from sim.model.calendar import is_first_quarter
from sim.model.graph import contact_pairs, contacts_present
from sim.model.world import DOMESTIC, MARKETS, N_MARKETS, NICHE_OVERLAP
from sim.submodels import finance, learning, policy
from sim.submodels.internationalisation import (
    Undecided,
    discount_weights,
    enter,
    entry_costs,
    entry_options,
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
    """Groups assembled by the promoters of each active export_consortia policy, then (Q1) network contracts.

    Network contracts form among ``rows``, the firms that reviewed their markets and entered none
    alone, with their ``value`` of entering each market in full, ``revenue`` expected there and
    ``belief`` (shape (rows, markets, 2): mean and s.d. of their fit; default the prior). A firm
    joins at most one group a quarter.
    """
    f = model.firms
    if belief is None:
        belief = np.stack(np.broadcast_arrays(0.0, np.full(value.shape, model.params.fit_sd)), axis=-1)
    model.consortia_formed = 0
    model.consortium_members = np.zeros(0, dtype=np.int64)
    for instrument in policy.active(model, "export_consortia"):
        promote(model, instrument)
    if not is_first_quarter(model) or rows.size == 0:  # contracts are signed when firms plan the year
        return
    free = ~np.any(f.consortium.take(rows, axis=0) & (f.market_entered.take(rows, axis=0) == model.steps), axis=1)
    rows, value, revenue = rows[free], value.compress(free, axis=0), revenue.compress(free, axis=0)
    _group_up(model, None, rows, value, revenue, belief.compress(free, axis=0))


def member_costs(model, coordination: float) -> np.ndarray:
    """c_m = sigma_c F_m + k: what a member pays to enter market m with its group, by market."""
    p = model.params
    return p.consortium_entry_share * entry_costs(model) + coordination


def member_lift(model, rows: np.ndarray, member_cost: np.ndarray) -> np.ndarray:
    """F_m - c_m + (1 - sigma_c) Gamma_flat P_im: what a firm gains by entering as a member instead of alone."""
    p = model.params
    flat = discount_weights(p.entry_horizon, p.discount_rate, p.customer_inertia_speed)[0]
    saving = (1.0 - p.consortium_entry_share) * flat * presence_costs(model, rows)
    return (entry_costs(model) - member_cost)[None, :] + saving


def promote(model, instrument) -> None:
    """Promoters recruit small firms into groups aimed at one market, province by province.

    Every eligible firm (fewer than ``max_employees``, in no group, not having entered a market
    this quarter) hears from the promoter about the covered markets it does not serve, studies
    them (learning.beliefs) and values joining a group for market m at
    V_im + F_m - c_m + (1 - sigma_c) Gamma_flat P_im + O_im, with O_im = s c_m the policy's
    share of its costs; it is keen on its best market if that is positive and it can spend
    c_m - O_im. In each (province, market) the keenest firm leads; the firms whose niche
    shares at least ``niche_overlap`` of know-how with the lead's join, keenest first, up to
    ``max_members``; a group needs ``consortium_size`` members. Firms whose yearly cap or de
    minimis room cannot take a member's share of the grant are not recruited. Groups are funded
    in order of their members' total value (grants plus the promoter's fee, split among
    members); a group the quarter's budget cannot fund in full does not form, and the next is tried.
    """
    f, p = model.firms, model.params
    spec = instrument.spec
    rng = model.streams["policy"]
    entered_now = np.any(f.market_entered == model.steps, axis=1)
    rows = np.flatnonzero(
        policy.eligible(model, instrument, np.arange(f.n)) & ~any_per_row(f.consortium) & ~entered_now
    )
    if rows.size < p.consortium_size:
        return
    contacts = contacts_present(model, rows)
    mean, sd = learning.beliefs(model, rows, contacts, rng.standard_normal((rows.size, N_MARKETS)))
    costs = entry_costs(model, rows, contacts)
    alone_value, _, revenue = entry_options(model, rows, mean, sd, costs)
    member_cost = member_costs(model, p.consortium_coordination_cost)
    grant = spec.subsidy_share * member_cost
    # alone_value already paid the firm's own sunk cost F_im (less where a contact serves m): add it back
    value = alone_value + costs + (member_lift(model, rows, member_cost) - entry_costs(model)[None, :]) + grant[None, :]
    closed = f.served.take(rows, axis=0) | ~np.isin(MARKETS, spec.markets)[None, :]
    closed[:, DOMESTIC] = True
    value[closed] = -np.inf
    best = np.argmax(value, axis=1)
    pick = np.arange(rows.size)
    total = value[pick, best]
    spendable = finance.spendable(model, rows)
    keen = (total > 0) & (spendable >= member_cost[best] - grant[best])
    # a firm whose yearly cap or de minimis room cannot take its share of a group's grant is not recruited
    keen &= policy.room(model, instrument, rows) >= grant[best] + spec.promoter_cost / p.consortium_size
    if keen.sum() < p.consortium_size:
        return
    cell = f.province[rows].astype(np.int64) * N_MARKETS + best
    order = np.lexsort((-total, cell))
    order = order[keen[order]]
    starts = np.flatnonzero(np.r_[True, cell[order][1:] != cell[order][:-1]])
    groups = []
    for start, stop in zip(starts, np.r_[starts[1:], order.size], strict=True):
        ranked = order[start:stop]  # keenest first: the first is the lead
        related = NICHE_OVERLAP[f.niche[rows[ranked[0]]], f.niche[rows[ranked]]] >= spec.niche_overlap
        members = ranked[related][: spec.max_members]
        if members.size >= p.consortium_size:
            groups.append(members)
    groups.sort(key=lambda g: -float(total[g].sum()))
    for members in groups:
        m = int(best[members[0]])
        asked = np.full(members.size, grant[m] + spec.promoter_cost / members.size)
        got = policy.allocate(model, instrument, rows[members], asked)
        if not np.all(got >= asked - 1e-9):  # the quarter's budget cannot fund the whole group: a smaller one may fit
            policy.refund(model, instrument, rows[members], got)
            continue
        # Without the promoter a firm enters m this quarter only if it reviewed its markets and chose m
        # alone, and then it is not here (it entered): every member is additional in the quarter. Most
        # would have found entering alone worth it had they looked (docs/scenarios.md, Additionality).
        policy.record(model, "export_consortia", got, np.ones(members.size, dtype=bool))
        joined = rows[members]
        market = np.full(members.size, m)
        model.quarter_costs["entry"][joined] += member_cost[m] - grant[m]
        enter(model, joined, market, initial_share(model, joined, market, revenue[members, m]))
        learning.adopt(model, joined, market, mean[members, m], sd[members, m])
        f.consortium[joined, m] = True
        f.consortium_group[joined, m] = model.last_consortium_id + 1
        model.last_consortium_id += 1
        model.consortia_formed += 1
        model.consortium_members = np.concatenate([model.consortium_members, f.firm_id[joined]])


def _group_up(model, instrument, rows: np.ndarray, value: np.ndarray, revenue: np.ndarray, belief: np.ndarray) -> None:
    """Form network contracts (``instrument`` None: no policy) among firms that entered no market alone.

    A member's cost is c_m = sigma_c F_m + k (k = network_contract_cost); its value as a member is
    V_im + F_m - c_m + (1 - sigma_c) Gamma_flat P_im (it pays only its share of presence costs).
    Small firms that would gain as members and know another such firm, able to spend c_m, are
    ranked by value within each group of firms linked by collaborations or supply (directly or
    through one another) that aim at the same market, and cut into groups of ``consortium_size``.
    """
    f, p = model.firms, model.params
    member_cost = member_costs(model, p.network_contract_cost)
    able = (f.employees[rows] < p.consortium_max_employees) & (
        (value + member_lift(model, rows, member_cost))[:, 1:].max(axis=1) > 0
    )
    rows, value, revenue = rows[able], value.compress(able, axis=0), revenue.compress(able, axis=0)
    belief = belief.compress(able, axis=0)
    known = _knows_another(model, rows)
    rows, value, revenue = rows[known], value.compress(known, axis=0), revenue.compress(known, axis=0)
    belief = belief.compress(known, axis=0)
    if rows.size < p.consortium_size:
        return
    member_value = value + member_lift(model, rows, member_cost)
    member_value[:, DOMESTIC] = -np.inf
    best = np.argmax(member_value, axis=1)
    pick = np.arange(rows.size)
    total = member_value[pick, best]
    keen = total > 0
    keen[keen] = finance.spendable(model, rows[keen]) >= member_cost[best][keen]
    if keen.sum() < p.consortium_size:
        return  # no group can be complete
    members, market = rows[keen], best[keen]
    member_revenue = revenue[pick[keen], market]
    member_belief = belief[pick[keen], market]
    key = _contact_groups(model, members, market)
    order = np.lexsort((-total[keen], key))
    group = np.empty(order.size, dtype=np.int64)
    group[order] = chunk_labels(key[order], p.consortium_size)
    sizes = np.unique(group, return_inverse=True, return_counts=True)
    forms = sizes[2][sizes[1]] == p.consortium_size
    joined, market = members[forms], market[forms]
    model.quarter_costs["entry"][joined] += member_cost[market]
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
