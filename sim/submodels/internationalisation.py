"""Internationalisation: entry into and exit from foreign markets with sunk costs (ODD 7.4).

A firm that reviews its markets (probability ``entry_attention`` a quarter)
estimates, with error, what each foreign market it does not serve would
bring: the logit share it would win there (submodels/competition.py) times
the market's expenditure, reached gradually as buyers move (customer
inertia), times its margin, minus the presence cost, discounted over
``entry_horizon``. It enters the best market whose value exceeds the sunk
entry cost, if it can finance that cost. A market that loses money for
``market_exit_patience`` quarters in a row is abandoned; coming back later
pays the sunk cost again; a contact (partner, client or supplier) already
in a market makes entering it cheaper and judging it easier. Who exports is
thus decided by size, productivity, quality and finance, never assigned.
Firms that would not enter alone may enter together (submodels/consortia.py).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from sim.model.arrays import any_per_row, flat_index, row_sums, take_rows, true_cells
from sim.model.calendar import is_first_quarter
from sim.model.firms import FOREIGN_COLUMNS, exporters, niche_rows
from sim.model.graph import contacts_present
from sim.model.world import DOMESTIC, MARKETS, N_MARKETS
from sim.submodels import finance, policy
from sim.submodels.competition import attractiveness, target_shares, update_rival_share


class Undecided(NamedTuple):
    """Firms that reviewed their markets this quarter but entered none alone, with their entry values.

    ``value`` and ``revenue`` are shaped (rows, markets): ``entry_values``
    and ``expected_entry_revenue`` as the firms judged them.
    """

    rows: np.ndarray
    value: np.ndarray
    revenue: np.ndarray


def entry_costs(model, rows: np.ndarray | None = None, contacts: np.ndarray | None = None) -> np.ndarray:
    """Sunk entry cost of each market (EUR thousand), times the scenario's ``entry_cost_scale``.

    With ``rows``, the cost each of those firms faces, shape (rows, markets):
    knowing a partner, client or supplier that already serves a market
    (``contacts``, default graph.contacts_present) cuts it by
    ``network_entry_discount``.
    """
    base = model.params.market_array("entry_cost") * model.params.entry_cost_scale
    if rows is None:
        return base
    if contacts is None:
        contacts = contacts_present(model, rows)
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


def expected_entry_revenue(
    model, mine: np.ndarray, denominator: np.ndarray, rows: np.ndarray | slice = slice(None)
) -> np.ndarray:
    """Quarterly revenue at the logit share firms ``rows`` would win in each market, shape (rows, markets).

    ``mine``: their attractiveness in every market, shape (rows, markets).
    """
    f, p, mk = model.firms, model.params, model.markets
    niche = niche_rows(f)[rows]
    share = mine / (np.take(denominator.T, niche, axis=0) + np.where(take_rows(f.served, rows), 0.0, mine))
    tau = p.market_array("trade_cost")
    return share * np.take(mk.expenditure.T, niche, axis=0) / ((1.0 + tau)[None, :] * mk.price_factor[None, :])


def entry_values(
    model, expected_revenue: np.ndarray, rows: np.ndarray | slice = slice(None), cost: np.ndarray | None = None
) -> np.ndarray:
    """V = Gamma_ramp Rev mu / (1 + mu) - Gamma_flat P_m - F: discounted profit of entry minus its sunk cost.

    Shape (rows, markets); ``cost`` is the sunk cost each firm faces (default the market's F_m).
    """
    p = model.params
    flat, ramp = discount_weights(p.entry_horizon, p.discount_rate, p.customer_inertia_speed)
    value = ramp * expected_revenue * margin(model, rows)[:, None] - flat * p.market_array("presence_cost")[None, :]
    return value - (entry_costs(model)[None, :] if cost is None else cost)


def enter(model, rows: np.ndarray, markets: np.ndarray, share: np.ndarray) -> None:
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
    enter(model, rows, markets, np.zeros(rows.size))


def review_markets(model) -> Undecided:
    """Book presence costs, leave loss-making markets, enter the most valuable new one.

    Returns the reviewing firms that entered no market alone (they may
    still enter one together, submodels/consortia.py).
    """
    exporting, foreign = foreign_served(model)
    book_presence_costs(model, exporting, foreign)
    left = leave_losing_markets(model, exporting, foreign)
    return enter_markets(model, left)


def foreign_served(model) -> tuple[np.ndarray, np.ndarray]:
    """The exporters' rows and which foreign markets each serves (Italy cleared): only their cells matter abroad."""
    f = model.firms
    exporting = np.flatnonzero(exporters(f.served))
    foreign = f.served.take(exporting, axis=0)
    foreign[:, DOMESTIC] = False
    return exporting, foreign


def book_presence_costs(model, exporting: np.ndarray, foreign: np.ndarray) -> None:
    """Every foreign market served costs P_m a quarter, sigma_c P_m for a consortium member (cost item ``presence``).

    ``exporting``, ``foreign``: ``foreign_served(model)``.
    """
    f, p = model.firms, model.params
    presence = p.market_array("presence_cost")
    paid = np.zeros(f.n)
    paid[exporting] = row_sums(foreign * presence[None, :])
    # Consortium members share presence costs as they shared the sunk cost (only their rows differ).
    members = np.flatnonzero(any_per_row(f.consortium))
    if members.size:
        mine = presence[None, :] * np.where(f.consortium[members], p.consortium_entry_share, 1.0)
        paid[members] = row_sums(f.served[members] * FOREIGN_COLUMNS[None, :] * mine)
    model.quarter_costs["presence"] = paid


def leave_losing_markets(model, exporting: np.ndarray, foreign: np.ndarray) -> np.ndarray:
    """Leave a foreign market after ``market_exit_patience`` losing quarters in a row; returns the cells left.

    Market profit is pi_im = sales_im mu_i / (1 + mu_i) - P_im (contribution
    margin on its sales minus the presence cost); pi_im < 0 adds one to
    ``loss_quarters``, pi_im >= 0 resets it. The result is a (firms, markets)
    mask of the cells left in this review (not re-entered in the same quarter).
    ``exporting``, ``foreign``: ``foreign_served(model)`` before any exit.
    """
    f, p = model.firms, model.params
    presence = p.market_array("presence_cost")
    at, market = true_cells(foreign)
    rows = exporting[at]
    cells = flat_index(rows, market, N_MARKETS)
    cost = presence[market] * np.where(f.consortium.take(cells), p.consortium_entry_share, 1.0)
    losing = f.sales.take(cells) * margin(model, rows) - cost < 0
    lq = f.loss_quarters
    streak = lq.take(cells) + 1  # consecutive loss-making quarters, counting this one
    lq[:] = 0
    np.put(lq, cells[losing], streak[losing])
    gone = losing & (streak >= p.market_exit_patience)
    leave(model, (rows[gone], market[gone]), update=False)  # entries update the rivals' share
    left = np.zeros(f.served.shape, dtype=bool)
    np.put(left, cells[gone], True)
    return left


def enter_markets(model, left: np.ndarray) -> Undecided:
    """Reviewing firms enter the foreign market with the highest V_im + O_im, if positive and financed.

    V_im = Gamma_ramp Rev_im exp(sigma_im eps_im) mu_i / (1 + mu_i) - Gamma_flat P_m - F_im
    (``entry_values``), with the estimation error sigma_im = sigma_e (1 - c_N)
    and the sunk cost F_im = F_m (1 - d_N) where a contact serves m; O_im is
    the best co-funding on offer. A firm applies if O_im > 0 and its
    spendable cash covers F_im - O_im, and enters if funded; otherwise it
    enters if V_im > 0 and it can spend F_im. At most one market a firm a
    quarter; no re-entry into a market ``left`` in this review.
    """
    f, p = model.firms, model.params
    rng = model.streams["internationalisation"]
    # Entry is judged on the market conditions seen at this quarter's clearing.
    reviewing = np.nonzero(rng.random(f.n) < p.entry_attention)[0]
    shock = rng.standard_normal((reviewing.size, N_MARKETS))
    revenue = expected_entry_revenue(
        model, np.exp(model.log_attract.take(reviewing, axis=0)), model.denominator, reviewing
    )
    closed = f.served.take(reviewing, axis=0) | left.take(reviewing, axis=0)  # no re-entry in the quarter of exit
    closed[:, DOMESTIC] = True
    contacts = _contacts_of_reviewers(model, reviewing, revenue, shock, closed)
    noise = np.exp(p.entry_noise * np.where(contacts, 1.0 - p.network_noise_cut, 1.0) * shock)
    costs = entry_costs(model, reviewing, contacts)
    value = entry_values(model, revenue * noise, reviewing, costs)
    value[closed] = -np.inf

    # Firms apply for entry support when it makes entry pay (submodels/policy.py).
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
    enter(model, entered, best[enters], initial_share(model, entered, best[enters], gain[enters]))

    has_entered = np.zeros(f.n, dtype=bool)
    has_entered[entered] = True
    alone = ~has_entered[reviewing]
    return Undecided(reviewing[alone], value.compress(alone, axis=0), revenue.compress(alone, axis=0))


def _contacts_of_reviewers(
    model, reviewing: np.ndarray, revenue: np.ndarray, shock: np.ndarray, closed: np.ndarray
) -> np.ndarray:
    """graph.contacts_present for the reviewing firms, looked up only where the answer can matter.

    Without entry co-funding or consortia to join (network contracts are
    signed only in first quarters), a firm whose entry value would not be
    positive in any market even with a contact there (the smaller error
    where it raises its estimate, the discounted cost) enters nowhere and
    its contacts change nothing: they are left False. The result of the
    step is the same as looking them all up.
    """
    p = model.params
    if (
        is_first_quarter(model)
        or policy.active(model, "eu_internationalisation")
        or policy.active(model, "export_consortia")
    ):
        return contacts_present(model, reviewing)
    sd = p.entry_noise
    hopeful = np.exp(np.maximum(sd * shock, sd * (1.0 - p.network_noise_cut) * shock))
    cheapest = entry_costs(model)[None, :] * (1.0 - p.network_entry_discount)
    hope = entry_values(model, revenue * hopeful, reviewing, cheapest)
    hope[closed] = -np.inf
    maybe = np.nonzero(any_per_row(hope > 0))[0]
    contacts = np.zeros(hope.shape, dtype=bool)
    if maybe.size:
        contacts[maybe] = contacts_present(model, reviewing.take(maybe))
    return contacts


def initial_share(model, rows: np.ndarray, markets: np.ndarray, revenue: np.ndarray) -> np.ndarray:
    """An entrant starts with one quarter of customer inertia toward the revenue it expects."""
    p, mk = model.params, model.markets
    niche = model.firms.niche[rows].astype(np.intp)
    tau = p.market_array("trade_cost")
    return (
        p.customer_inertia_speed
        * revenue
        * (1 + tau[markets])
        * mk.price_factor[markets]
        / mk.expenditure[markets, niche]
    )


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
            return covered * (
                spec.entry_cost_share * costs[:, m] + spec.presence_cost_share * presence[m] * spec.presence_quarters
            )

        offer[:, m], source[:, m] = policy.best_offers(model, "eu_internationalisation", rows, amount)
    return offer, source
