"""Internationalisation: entry into and exit from foreign markets with sunk costs.

A firm that reviews its markets (probability ``entry_attention`` a quarter)
estimates, with error, what each foreign market it does not serve would
bring: the logit share it would win there (sim.competition) times the
market's expenditure, reached gradually as buyers move (customer inertia),
times its margin, minus the presence cost, discounted over
``entry_horizon``. It enters the best market whose value exceeds the sunk
entry cost, if it can finance that cost. A market that loses money for
``market_exit_patience`` quarters in a row is abandoned; coming back later
pays the sunk cost again; a partner already in a market makes entering it
cheaper (sim/networks.py). Who exports is thus decided by size,
productivity, quality and finance, never assigned.
"""

from __future__ import annotations

import functools

import numpy as np

from sim import finance, networks, policy
from sim.competition import attractiveness, niche_rows, target_shares, update_rival_share
from sim.state import any_in_row, exporters, nonzero_cells, row_sums, take_rows
from sim.world import DOMESTIC, MARKETS, N_NICHES


def entry_costs(model, rows: np.ndarray | None = None, contacts: np.ndarray | None = None) -> np.ndarray:
    """Sunk entry cost of each market (EUR thousand), times the scenario's ``entry_cost_scale``.

    With ``rows``, the cost each of those firms faces, shape (rows, markets):
    knowing a partner, client or supplier that already serves a market
    (``contacts``, default networks.contacts_present) cuts it by
    ``network_entry_discount``.
    """
    base = model.params.market_array("entry_cost") * model.params.entry_cost_scale
    if rows is None:
        return base
    if contacts is None:
        contacts = networks.contacts_present(model, rows)
    return base[None, :] * (1.0 - model.params.network_entry_discount * contacts)


@functools.lru_cache(maxsize=64)
def discount_weights(horizon: int, rate: float, speed: float) -> tuple[float, float]:
    """Present value of 1 per quarter, and of a flow ramping up as 1 - (1 - speed)^h (cached: parameters repeat)."""
    h = np.arange(1, horizon + 1)
    beta = (1.0 + rate) ** -h
    return float(beta.sum()), float((beta * (1.0 - (1.0 - speed) ** h)).sum())


def margin(model, rows: slice | np.ndarray = slice(None)) -> np.ndarray:
    """Contribution margin on sales, (price - unit variable cost) / price, of firms ``rows``."""
    mu = model.firms.markup[rows]
    return mu / (1.0 + mu)


def expected_entry_revenue(model, mine: np.ndarray, denominator: np.ndarray, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
    """Quarterly revenue at the logit share firms ``rows`` would win in each market, shape (rows, markets).

    ``mine``: their attractiveness in every market, shape (rows, markets).
    """
    f, p, mk = model.firms, model.params, model.markets
    niche = niche_rows(f)[rows]
    share = mine / (np.take(denominator.T, niche, axis=0) + np.where(take_rows(f.served, rows), 0.0, mine))
    tau = p.market_array("trade_cost")
    return share * np.take(mk.expenditure.T, niche, axis=0) / ((1.0 + tau)[None, :] * mk.price_factor[None, :])


def entry_values(model, expected_revenue: np.ndarray, rows: np.ndarray | slice = slice(None), cost: np.ndarray | None = None) -> np.ndarray:
    """Discounted profit of entering each market minus its sunk cost (``cost``, default the base), shape (rows, markets)."""
    p = model.params
    flat, ramp = discount_weights(p.entry_horizon, p.discount_rate, p.customer_inertia_speed)
    value = ramp * expected_revenue * margin(model, rows)[:, None] - flat * p.market_array("presence_cost")[None, :]
    return value - (entry_costs(model)[None, :] if cost is None else cost)


def _enter(model, rows: np.ndarray, markets: np.ndarray, share: np.ndarray) -> None:
    """Put firms ``rows`` into ``markets`` starting from ``share`` of the buyers (taken from the rivals)."""
    f = model.firms
    f.share[rows, markets] = share
    f.served[rows, markets] = True
    f.market_entered[rows, markets] = model.steps
    f.loss_quarters[rows, markets] = 0
    update_rival_share(model)


def leave(model, cells: np.ndarray | tuple[np.ndarray, np.ndarray], update: bool = True) -> None:
    """Withdraw from (firm, market) ``cells`` (a boolean mask or a pair of index arrays); buyers go to the rivals."""
    f = model.firms
    if isinstance(cells, np.ndarray):
        cells = np.nonzero(cells)  # usually a few cells: index them once
    f.share[cells] = 0.0
    f.served[cells] = False
    f.consortium[cells] = False
    f.consortium_group[cells] = 0
    f.loss_quarters[cells] = 0
    if update:
        update_rival_share(model)


def initial_presence(model) -> None:
    """Pre-history: apply the entry rule once, without noise or cost, to every market."""
    attract = attractiveness(model)
    value = entry_values(model, expected_entry_revenue(model, attract, target_shares(model, attract)[1]))
    value[:, DOMESTIC] = -np.inf
    rows, markets = np.nonzero(value > 0)
    _enter(model, rows, markets, np.zeros(rows.size))


def review_markets(model) -> None:
    """Book presence costs, leave loss-making markets, enter the most valuable new one."""
    f, p = model.firms, model.params
    rng = model.streams["internationalisation"]
    # Only exporters' foreign cells matter here: work on them alone.
    presence = p.market_array("presence_cost")
    exporting = np.flatnonzero(exporters(f.served))
    foreign = f.served.take(exporting, axis=0)
    foreign[:, DOMESTIC] = False
    paid = np.zeros(f.n)
    paid[exporting] = row_sums(foreign * presence[None, :])
    # Consortium members share presence costs as they shared the sunk cost (only their rows differ).
    members = _consortium_rows(f)
    if members.size:
        mine = presence[None, :] * np.where(f.consortium[members], p.consortium_entry_share, 1.0)
        paid[members] = row_sums(f.served[members] * (np.arange(len(MARKETS)) != DOMESTIC)[None, :] * mine)
    model.quarter_costs["presence"] = paid
    at, market = nonzero_cells(foreign)
    rows = exporting[at]
    cells = rows * f.served.shape[1] + market  # flat (firm, market) cells: take and put index them fastest
    cost = presence[market] * np.where(f.consortium.take(cells), p.consortium_entry_share, 1.0)
    losing = f.sales.take(cells) * margin(model, rows) - cost < 0
    lq = f.loss_quarters
    streak = lq.take(cells) + 1  # consecutive loss-making quarters, counting this one
    lq[:] = 0
    np.put(lq, cells[losing], streak[losing])
    gone = losing & (streak >= p.market_exit_patience)
    leave(model, (rows[gone], market[gone]), update=False)  # _enter below updates the rivals' share
    left = np.zeros(f.served.shape, dtype=bool)
    np.put(left, cells[gone], True)

    # Entry is judged on the market conditions seen at this quarter's clearing.
    # Contacts already in a market make entering it cheaper and its prospects clearer.
    reviewing = np.nonzero(rng.random(f.n) < p.entry_attention)[0]
    shock = rng.standard_normal((reviewing.size, f.served.shape[1]))
    revenue = expected_entry_revenue(model, np.exp(model.log_attract.take(reviewing, axis=0)), model.denominator, reviewing)
    closed = f.served.take(reviewing, axis=0) | left.take(reviewing, axis=0)  # no re-entry in the quarter of exit
    closed[:, DOMESTIC] = True
    contacts = _contacts_of_reviewers(model, reviewing, revenue, shock, closed)
    noise = np.exp(p.entry_noise * np.where(contacts, 1.0 - p.network_noise_cut, 1.0) * shock)
    costs = entry_costs(model, reviewing, contacts)
    value = entry_values(model, revenue * noise, reviewing, costs)
    value[closed] = -np.inf

    # Firms apply for entry support when it makes entry pay (sim/policy.py).
    offer, source = entry_offers(model, reviewing, costs)
    best = np.argmax(value + offer, axis=1)
    pick = np.arange(reviewing.size)
    chosen = value[pick, best] + offer[pick, best] > 0
    rows, best = reviewing[chosen], best[chosen]
    sel = pick[chosen]
    own_value, offer, source, gain = value[sel, best], offer[sel, best], source[sel, best], revenue[sel, best]
    cost = costs[sel, best]
    spendable = finance.spendable(model, rows)  # the sunk cost lowers net worth and credit
    applies = (offer > 0) & (spendable >= cost - offer)
    grant = np.zeros(rows.size)
    grant[applies] = policy.fund(model, rows[applies], offer[applies], source[applies])
    enters = (grant > 0) | ((own_value > 0) & (spendable >= cost))
    entered = rows[enters]
    booked = np.zeros(f.n)
    booked[entered] = cost[enters] - grant[enters]  # a firm enters at most one market a quarter
    model.quarter_costs["entry"] = booked
    _enter(model, entered, best[enters], initial_share(model, entered, best[enters], gain[enters]))

    has_entered = np.zeros(f.n, dtype=bool)
    has_entered[entered] = True
    alone = ~has_entered[reviewing]
    form_consortia(model, reviewing[alone], value.compress(alone, axis=0), revenue.compress(alone, axis=0))


def _contacts_of_reviewers(model, reviewing: np.ndarray, revenue: np.ndarray, shock: np.ndarray, closed: np.ndarray) -> np.ndarray:
    """networks.contacts_present for the reviewing firms, looked up only where the answer can matter.

    Without entry co-funding or consortia to join (network contracts are
    signed only in first quarters), a firm whose entry value would not be
    positive in any market even with a contact there (the smaller error
    where it raises its estimate, the discounted cost) enters nowhere and
    its contacts change nothing: they are left False. The result of the
    step is the same as looking them all up.
    """
    p = model.params
    if (model.steps - 1) % 4 == 0 or policy.active(model, "eu_internationalisation") or policy.active(model, "export_consortia"):
        return networks.contacts_present(model, reviewing)
    sd = p.entry_noise
    hopeful = np.exp(np.maximum(sd * shock, sd * (1.0 - p.network_noise_cut) * shock))
    cheapest = entry_costs(model)[None, :] * (1.0 - p.network_entry_discount)
    hope = entry_values(model, revenue * hopeful, reviewing, cheapest)
    hope[closed] = -np.inf
    maybe = np.nonzero(any_in_row(hope > 0))[0]
    contacts = np.zeros(hope.shape, dtype=bool)
    if maybe.size:
        contacts[maybe] = networks.contacts_present(model, reviewing.take(maybe))
    return contacts


def initial_share(model, rows: np.ndarray, markets: np.ndarray, revenue: np.ndarray) -> np.ndarray:
    """An entrant starts with one quarter of customer inertia toward the revenue it expects."""
    p, mk = model.params, model.markets
    niche = model.firms.niche[rows].astype(np.intp)
    tau = p.market_array("trade_cost")
    return p.customer_inertia_speed * revenue * (1 + tau[markets]) * mk.price_factor[markets] / mk.expenditure[markets, niche]


def entry_offers(model, rows: np.ndarray, costs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Best EU-programme co-funding each firm could get for each market, and its instrument (-1: none).

    The programme pays its shares of the entry cost the firm actually faces
    (``costs``, shape (rows, markets): a partner in the market lowers it) and
    of the first quarters' presence costs.
    """
    p = model.params
    offer = np.zeros((rows.size, len(MARKETS)))
    source = np.full((rows.size, len(MARKETS)), -1)
    if not policy.active(model, "eu_internationalisation"):
        return offer, source
    presence = p.market_array("presence_cost")
    for m, market in enumerate(MARKETS[1:], start=1):

        def amount(spec, m=m, market=market):
            covered = market in spec.markets
            return covered * (spec.entry_cost_share * costs[:, m] + spec.presence_cost_share * presence[m] * spec.presence_quarters)

        offer[:, m], source[:, m] = policy.best_offers(model, "eu_internationalisation", rows, amount)
    return offer, source


def form_consortia(model, rows: np.ndarray, value: np.ndarray, revenue: np.ndarray) -> None:
    """Small firms that would not enter alone enter together, sharing the sunk cost.

    Firms of the same province and niche that find a market worth entering
    at a member's cost (a share ``consortium_entry_share`` of the sunk cost
    plus a coordination cost; members then also pay that share of the
    presence costs) form groups of ``consortium_size``; incomplete groups do
    not form. Groups backed by an active export_consortia policy form first
    (the subsidy lowers the member's cost; groups whose grants run out give
    them back); then, in the first quarter of a year, firms of at most
    ``consortium_max_employees`` form network contracts on their own, with
    firms they know: partners,
    suppliers, clients, or their contacts (so how many form does not depend
    on how many firms the model holds). Members share market information
    (``share_information``).
    """
    f = model.firms
    model.consortia_formed = 0
    model.consortium_members = np.zeros(0, dtype=np.int64)
    sponsors = [i for i in model.instruments if i.spec.instrument == "export_consortia" and i.spec.active(model.steps)]
    if (model.steps - 1) % 4 == 0:  # network contracts are signed when firms plan the year, in its first quarter
        sponsors.append(None)
    for instrument in sponsors:
        if rows.size == 0:
            return
        if model.consortia_formed:  # one consortium a quarter
            free = ~np.any(f.consortium.take(rows, axis=0) & (f.market_entered.take(rows, axis=0) == model.steps), axis=1)
            rows, value, revenue = rows[free], value.compress(free, axis=0), revenue.compress(free, axis=0)
        _group_up(model, instrument, rows, value, revenue)


def _group_up(model, instrument, rows: np.ndarray, value: np.ndarray, revenue: np.ndarray) -> None:
    """Form the complete groups of one sponsor (an export_consortia policy, or None: network contracts)."""
    f, p = model.firms, model.params
    entry = entry_costs(model)
    member_cost = p.consortium_entry_share * entry + (p.network_contract_cost if instrument is None else p.consortium_coordination_cost)
    # value already counts full presence costs; members pay only their share of them
    saving = (1.0 - p.consortium_entry_share) * discount_weights(p.entry_horizon, p.discount_rate, p.customer_inertia_speed)[0] * p.market_array("presence_cost")
    lift = entry + saving - member_cost
    if instrument is None:
        # Without a subsidy only small firms that would gain as members, and
        # know another such firm, can form a contract: drop the others first.
        able = (f.employees[rows] < p.consortium_max_employees) & ((value[:, 1:] + lift[None, 1:]).max(axis=1) > 0)
        rows, value, revenue = rows[able], value.compress(able, axis=0), revenue.compress(able, axis=0)
        known = _knows_another(model, rows)
        rows, value, revenue = rows[known], value.compress(known, axis=0), revenue.compress(known, axis=0)
        if rows.size < p.consortium_size:
            return
    member_value = value + lift[None, :]
    if instrument is None:
        offer = np.zeros_like(member_value)
    else:
        spec = instrument.spec
        member_value[:, ~np.isin(MARKETS, spec.markets)] = -np.inf
        cap = policy.room(model, instrument, rows)[:, None]
        offer = np.where(policy.eligible(model, instrument, rows)[:, None], np.minimum(spec.subsidy_share * member_cost[None, :], cap), 0.0)
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
    # Groups of consortium_size, keenest first, within each (province, niche,
    # market) for a policy (its agency brings local firms together), within
    # each group of firms linked by collaborations or supply (directly or
    # through one another) that aim at the same market for a network contract.
    local = (f.province[members].astype(np.intp) * N_NICHES + f.niche[members]) * len(MARKETS) + market
    key = _contact_groups(model, members, market) if instrument is None else local
    order = np.lexsort((-total[keen], key))
    key_sorted = key[order]
    first = np.r_[0, np.nonzero(np.diff(key_sorted))[0] + 1]
    rank = np.arange(order.size) - np.repeat(first, np.diff(np.r_[first, order.size]))
    group = np.empty(order.size, dtype=np.int64)
    group[order] = key_sorted * 10_000_000 + rank // p.consortium_size
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
    _enter(model, joined, market, initial_share(model, joined, market, member_revenue[forms]))
    f.consortium[joined, market] = True
    ids, local = np.unique(group[forms], return_inverse=True)
    f.consortium_group[joined, market] = model.last_consortium_id + 1 + local
    model.last_consortium_id += int(ids.size)
    model.consortia_formed += int(ids.size)
    model.consortium_members = np.concatenate([model.consortium_members, f.firm_id[joined]])


def _contact_pairs(model, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Collaboration and supply links between two of ``members`` (rows), as pairs of positions in ``members``."""
    from sim import supply

    position = np.full(model.firms.n, -1)
    position[members] = np.arange(members.size)
    ra, rb = networks.rows_of(model)
    rc, rs = supply.rows_of(model)
    a, b = position[np.concatenate([ra, rc])], position[np.concatenate([rb, rs])]
    inside = (a >= 0) & (b >= 0)
    return a[inside], b[inside]


def _knows_another(model, rows: np.ndarray) -> np.ndarray:
    """Which of ``rows`` have a partner, client or supplier among ``rows``."""
    a, b = _contact_pairs(model, rows)
    known = np.zeros(rows.size, dtype=bool)
    known[a] = True
    known[b] = True
    return known


def _contact_groups(model, members: np.ndarray, market: np.ndarray) -> np.ndarray:
    """A label for each of ``members`` (rows): its connected component in the contact network among them, links only between firms aiming at the same market.

    Labels spread along links (each member takes the smallest label among its
    links, then its label's label) until nothing changes: a few rounds, as
    the groups are small.
    """
    label = np.arange(members.size)
    a, b = _contact_pairs(model, members)
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
    members = _consortium_rows(f)
    if members.size == 0:
        return
    rows, markets = nonzero_cells(f.consortium.take(members, axis=0))  # exactly the cells with a consortium id
    cells = (members[rows], markets)
    _, group = np.unique(f.consortium_group[cells], return_inverse=True)
    match = f.match[cells]
    mean = np.bincount(group, weights=match) / np.bincount(group)
    w = model.params.consortium_information
    f.match[cells] = (1.0 - w) * match + w * mean[group]


def _consortium_rows(firms) -> np.ndarray:
    """Rows of the firms in at least one consortium (each row's eight flags read as one integer)."""
    flags = firms.consortium
    if flags.shape[1] == 8 and flags.flags.c_contiguous:
        return np.flatnonzero(flags.view(np.uint64)[:, 0])
    return np.flatnonzero(flags.any(axis=1))


def n_consortia(model) -> int:
    """Consortia with at least one member still serving their market."""
    f = model.firms
    members = _consortium_rows(f)
    return int(np.unique(f.consortium_group[members][f.consortium[members]]).size)
