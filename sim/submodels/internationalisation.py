"""Internationalisation: entry into and exit from foreign markets with sunk costs, under uncertainty (ODD 7.4).

A firm does not know how well its products fit a foreign market's buyers
until it sells there (submodels/learning.py): it judges a market by its
belief, a study whose error contacts and the region's presence shrink. A firm
that reviews its markets (probability ``entry_attention`` a quarter) values
each foreign market it does not serve in two ways: entering in full, paying
the sunk cost, or entering on trial, paying a share of it and reaching a
share of the buyers for ``trial_quarters``, after which, knowing more, it
expands (paying the rest) or leaves. It takes the better of the two in its
best market, if positive and financed. A market that loses money for
``market_exit_patience`` quarters in a row is abandoned; coming back later pays
the sunk cost again, with what the firm learned the first time. Who exports,
and who stays, is decided by size, productivity, quality, fit and finance,
never assigned. Firms that would not enter alone may enter together
(submodels/consortia.py).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from sim.model.arrays import any_per_row, flat_index, row_sums, take_rows, true_cells
from sim.model.firms import FOREIGN_COLUMNS, exporters, niche_rows
from sim.model.graph import contacts_present
from sim.model.world import DOMESTIC, MARKETS, N_MARKETS
from sim.submodels import finance, learning, policy
from sim.submodels.competition import attractiveness, target_shares, update_rival_share


class Undecided(NamedTuple):
    """Firms that reviewed their markets this quarter but entered none alone, with how they judged each market.

    Shaped (rows, markets): ``value`` of entering in full, minus the sunk cost;
    ``revenue`` expected at full reach; ``mean`` and ``sd`` of the belief about the fit.
    """

    rows: np.ndarray
    value: np.ndarray
    revenue: np.ndarray
    mean: np.ndarray
    sd: np.ndarray


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


def presence_costs(model, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
    """Quarterly cost of serving each market, shape (rows, markets): P_im = P_m (L_i / L_ref)^phi.

    phi = presence_size_elasticity: reaching a market's buyers costs more the more of them a
    firm reaches (Arkolakis 2010), and a firm's reach grows with its size, so a small exporter
    pays less to stay than a large one; phi = 0 gives every firm the market's P_m.
    """
    p = model.params
    size = np.maximum(model.firms.employees[rows], 1.0) / p.presence_reference_employees
    return size[:, None] ** p.presence_size_elasticity * p.market_array("presence_cost")[None, :]


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
    value = ramp * expected_revenue * margin(model, rows)[:, None] - flat * presence_costs(model, rows)
    return value - (entry_costs(model)[None, :] if cost is None else cost)


def enter(model, rows: np.ndarray, markets: np.ndarray, share: np.ndarray, trial: np.ndarray | bool = False) -> None:
    """Put firms ``rows`` into ``markets`` (on trial where ``trial``) with ``share`` of buyers, taken from rivals."""
    f = model.firms
    f.share[rows, markets] = share
    f.served[rows, markets] = True
    f.trial[rows, markets] = trial
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
    f.trial[cells] = False
    f.consortium[cells] = False
    f.consortium_group[cells] = 0
    f.loss_quarters[cells] = 0
    f.affiliate[cells] = 0  # leaving a market closes the firm's affiliate there (submodels/affiliates.py)
    if update:
        update_rival_share(model)


def initial_presence(model) -> None:
    """Pre-history: apply the entry rule once, knowing the fit, without cost, to every market; firms know it there."""
    attract = attractiveness(model)
    value = entry_values(model, expected_entry_revenue(model, attract, target_shares(model, attract)[1]))
    value[:, DOMESTIC] = -np.inf
    rows, markets = np.nonzero(value > 0)
    enter(model, rows, markets, np.zeros(rows.size))
    learning.know_served_markets(model)


def appeal_base(model, rows: np.ndarray) -> np.ndarray:
    """ln a of firms ``rows`` at this quarter's clearing without their fit, match or trial reach: alpha ln L + ln E."""
    f, p = model.firms, model.params
    base = model.log_attract.take(rows, axis=0) - f.fit.take(rows, axis=0) - f.match.take(rows, axis=0)
    base -= np.log(p.trial_reach) * f.trial.take(rows, axis=0)
    return base


def others_denominator(model, rows: np.ndarray) -> np.ndarray:
    """R + sum_j a_j of each market's cell of firms ``rows`` without their own attractiveness, shape (rows, markets)."""
    f = model.firms
    total = np.take(model.denominator.T, niche_rows(f).take(rows), axis=0)
    mine = np.exp(model.log_attract.take(rows, axis=0))
    return total - np.where(f.served.take(rows, axis=0), mine, 0.0)


def revenue_at(model, base: np.ndarray, others: np.ndarray, log_fit: np.ndarray, reach: float, rows) -> np.ndarray:
    """Quarterly revenue at the logit share s = A / (D + A), A = reach exp(base + fit), shape (rows, markets)."""
    p, mk = model.params, model.markets
    a = reach * np.exp(base + log_fit)
    tau = p.market_array("trade_cost")
    niche = niche_rows(model.firms).take(rows)
    spending = np.take(mk.expenditure.T, niche, axis=0) / ((1.0 + tau)[None, :] * mk.price_factor[None, :])
    return a / (others + a) * spending


def entry_options(
    model, rows: np.ndarray, mean: np.ndarray, sd: np.ndarray, costs: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected value of entering each market in full and on trial, and the revenue expected at full reach.

    With theta the fit, believed N(mean, sd^2), V(theta) = Gamma_ramp Rev(theta) mu/(1 + mu) - Gamma_flat P_m:
    in full, E[V(theta)] - F; on trial, -kappa F + E[Gamma^T_ramp Rev_T(theta) mu/(1 + mu) - Gamma^T_flat kappa P_m
    + beta^T max(V(theta) - (1 - kappa) F, 0)], Rev_T at the trial reach: after the trial the firm knows
    its fit and expands only if it pays. Expectations by a five-point Gauss-Hermite rule.
    """
    p = model.params
    flat, ramp = discount_weights(p.entry_horizon, p.discount_rate, p.customer_inertia_speed)
    flat_t, ramp_t = discount_weights(p.trial_quarters, p.discount_rate, p.customer_inertia_speed)
    later = (1.0 + p.discount_rate) ** -p.trial_quarters
    kappa = p.trial_cost_share
    presence = presence_costs(model, rows)
    base, others = appeal_base(model, rows), others_denominator(model, rows)
    gain = margin(model, rows)[:, None]
    direct = -costs.copy()
    trial = -kappa * costs
    for node, weight in zip(learning.NODES, learning.WEIGHTS, strict=True):
        theta = mean + sd * node
        full = ramp * revenue_at(model, base, others, theta, 1.0, rows) * gain - flat * presence
        direct += weight * full
        trying = ramp_t * revenue_at(model, base, others, theta, p.trial_reach, rows) * gain - flat_t * kappa * presence
        trial += weight * (trying + later * np.maximum(full - (1.0 - kappa) * costs, 0.0))
    return direct, trial, revenue_at(model, base, others, mean, 1.0, rows)


def review_markets(model) -> Undecided:
    """Book presence costs, leave loss-making markets, enter the most valuable new one.

    Returns the reviewing firms that entered no market alone (they may
    still enter one together, submodels/consortia.py).
    """
    model.quarter_costs["entry"] = np.zeros(model.firms.n)
    exporting, foreign = foreign_served(model)
    book_presence_costs(model, exporting, foreign)
    left = leave_losing_markets(model, exporting, foreign)
    left |= end_trials(model)
    return enter_markets(model, left)


def foreign_served(model) -> tuple[np.ndarray, np.ndarray]:
    """The exporters' rows and which foreign markets each serves (Italy cleared): only their cells matter abroad."""
    f = model.firms
    exporting = np.flatnonzero(exporters(f.served))
    foreign = f.served.take(exporting, axis=0)
    foreign[:, DOMESTIC] = False
    return exporting, foreign


def book_presence_costs(model, exporting: np.ndarray, foreign: np.ndarray) -> None:
    """Every foreign market served costs P_m a quarter: sigma_c P_m for a consortium member, kappa P_m on trial.

    ``exporting``, ``foreign``: ``foreign_served(model)``. Cost item ``presence``.
    """
    model.quarter_costs["presence"] = presence_paid(model, exporting, foreign)


def presence_paid(model, exporting: np.ndarray, foreign: np.ndarray) -> np.ndarray:
    """Each firm's presence costs of the quarter (``book_presence_costs``), shape (firms,)."""
    f, p = model.firms, model.params
    paid = np.zeros(f.n)
    scale = np.where(f.trial.take(exporting, axis=0), p.trial_cost_share, 1.0)
    paid[exporting] = row_sums(foreign * scale * presence_costs(model, exporting))
    # Consortium members share presence costs as they shared the sunk cost (only their rows differ).
    members = np.flatnonzero(any_per_row(f.consortium))
    if members.size:
        mine = presence_costs(model, members) * np.where(f.consortium[members], p.consortium_entry_share, 1.0)
        mine *= np.where(f.trial[members], p.trial_cost_share, 1.0)
        paid[members] = row_sums(f.served[members] * FOREIGN_COLUMNS[None, :] * mine)
    return paid


def leave_losing_markets(model, exporting: np.ndarray, foreign: np.ndarray) -> np.ndarray:
    """Leave a foreign market after ``market_exit_patience`` losing quarters in a row; returns the cells left.

    Market profit is pi_im = sales_im mu_i / (1 + mu_i) - P_im (contribution
    margin on its sales minus the presence cost); pi_im < 0 adds one to
    ``loss_quarters``, pi_im >= 0 resets it. The result is a (firms, markets)
    mask of the cells left in this review (not re-entered in the same quarter).
    ``exporting``, ``foreign``: ``foreign_served(model)`` before any exit.
    """
    f, p = model.firms, model.params
    at, market = true_cells(foreign)
    rows = exporting[at]
    cells = flat_index(rows, market, N_MARKETS)
    cost = presence_costs(model, exporting)[at, market]
    cost *= np.where(f.consortium.take(cells), p.consortium_entry_share, 1.0)
    cost *= np.where(f.trial.take(cells), p.trial_cost_share, 1.0)
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


def end_trials(model) -> np.ndarray:
    """Trials that have run ``trial_quarters`` end: the firm expands where it expects full entry to pay, else leaves.

    It expands if E[V(theta)] - (1 - kappa) F_im > 0 under what it has learned (``entry_options``'
    V at full reach) and it can spend the rest of the sunk cost, (1 - kappa) F_im, booked as ``entry``.
    Returns the (firms, markets) cells it left.
    """
    f, p = model.firms, model.params
    left = np.zeros(f.served.shape, dtype=bool)
    rows, markets = true_cells(f.trial & (model.steps - f.market_entered >= p.trial_quarters))
    if rows.size == 0:
        return left
    flat, ramp = discount_weights(p.entry_horizon, p.discount_rate, p.customer_inertia_speed)
    mean, sd = f.belief[rows, markets], 1.0 / np.sqrt(f.belief_precision[rows, markets])
    base = appeal_base(model, rows)[np.arange(rows.size), markets]
    others = others_denominator(model, rows)[np.arange(rows.size), markets]
    spending = model.markets.expenditure[markets, niche_rows(f).take(rows)]
    spending /= (1.0 + p.market_array("trade_cost")[markets]) * model.markets.price_factor[markets]
    presence = presence_costs(model, rows)
    value = np.zeros(rows.size)
    for node, weight in zip(learning.NODES, learning.WEIGHTS, strict=True):
        a = np.exp(base + mean + sd * node)
        value += weight * (
            ramp * a / (others + a) * spending * margin(model, rows) - flat * presence[np.arange(rows.size), markets]
        )
    rest = (1.0 - p.trial_cost_share) * entry_costs(model, rows, contacts_present(model, rows))[
        np.arange(rows.size), markets
    ]
    expands = (value - rest > 0) & (finance.spendable(model, rows) >= rest)
    f.trial[rows[expands], markets[expands]] = False
    np.add.at(model.quarter_costs["entry"], rows[expands], rest[expands])
    gone = (rows[~expands], markets[~expands])
    leave(model, gone, update=False)
    left[gone] = True
    return left


def enter_markets(model, left: np.ndarray) -> Undecided:
    """Reviewing firms enter the foreign market, in full or on trial, with the highest value, if positive and financed.

    The value of each market is the better of entering in full and on trial (``entry_options``),
    judged on the firm's belief about its fit (``learning.beliefs``); the sunk cost is
    F_im = F_m (1 - d_N) where a contact serves m, and a trial pays kappa F_im now. With O_im the
    best co-funding on offer, a firm applies if O_im > 0 and its spendable cash covers the cost
    less O_im, and enters if funded; otherwise it enters if the value is positive and it can spend
    the cost. At most one market a firm a quarter; no re-entry into a market ``left`` this quarter.
    """
    f, p = model.firms, model.params
    rng = model.streams["internationalisation"]
    # Entry is judged on the market conditions seen at this quarter's clearing.
    reviewing = np.nonzero(rng.random(f.n) < p.entry_attention)[0]
    eps = rng.standard_normal((reviewing.size, N_MARKETS))
    closed = f.served.take(reviewing, axis=0) | left.take(reviewing, axis=0)  # no re-entry in the quarter of exit
    closed[:, DOMESTIC] = True
    contacts = contacts_present(model, reviewing)
    mean, sd = learning.beliefs(model, reviewing, contacts, eps)
    costs = entry_costs(model, reviewing, contacts)
    direct, trial, revenue = entry_options(model, reviewing, mean, sd, costs)
    on_trial = trial > direct
    value = np.where(on_trial, trial, direct)
    value[closed] = -np.inf
    direct[closed] = -np.inf
    pay = np.where(on_trial, p.trial_cost_share * costs, costs)

    # Firms apply for entry support when it makes entry pay (submodels/policy.py); a grant paid
    # later is worth its present value, beta^lag O_im, and does not help finance the entry.
    offer, source, lag = entry_offers(model, reviewing, pay, on_trial)
    worth = offer * (1.0 + p.discount_rate) ** -lag
    best = np.argmax(value + worth, axis=1)
    pick = np.arange(reviewing.size)
    chosen = value[pick, best] + worth[pick, best] > 0
    rows, best = reviewing[chosen], best[chosen]
    sel = pick[chosen]
    own_value, offer, source = value[sel, best], offer[sel, best], source[sel, best]
    cost, trying, later = pay[sel, best], on_trial[sel, best], lag[sel, best]
    advance = np.where(later == 0, offer, 0.0)  # only a grant paid at entry helps pay for it
    spendable = finance.spendable(model, rows)  # the sunk cost lowers net worth and credit
    applies = (offer > 0) & (spendable >= cost - advance)
    grant = np.zeros(rows.size)
    grant[applies] = policy.fund(model, rows[applies], offer[applies], source[applies])
    alone = (own_value > 0) & (spendable >= cost) & (np.argmax(value[sel], axis=1) == best)
    policy.record(model, "eu_internationalisation", grant, ~alone)  # additional: it would not have entered there
    enters = (grant > 0) | ((own_value > 0) & (spendable >= cost))
    paid_now = np.where(later == 0, grant, 0.0)
    for k in np.unique(source[(grant > 0) & (later > 0)]):
        mine = (grant > 0) & (later > 0) & (source == k)
        policy.schedule_reimbursements(model, model.instruments[k], rows[mine], grant[mine], int(later[mine][0]))
    entered, market, trying = rows[enters], best[enters], trying[enters]
    model.quarter_costs["entry"][entered] += cost[enters] - paid_now[enters]  # at most one market a quarter
    expected = revenue[sel[enters], market] * np.where(trying, p.trial_reach, 1.0)
    enter(model, entered, market, initial_share(model, entered, market, expected), trial=trying)
    learning.adopt(model, entered, market, mean[sel[enters], market], sd[sel[enters], market])

    has_entered = np.zeros(f.n, dtype=bool)
    has_entered[entered] = True
    alone = ~has_entered[reviewing]
    return Undecided(
        reviewing[alone], direct.compress(alone, axis=0), revenue.compress(alone, axis=0),
        mean.compress(alone, axis=0), sd.compress(alone, axis=0),
    )  # fmt: skip


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


def entry_offers(
    model, rows: np.ndarray, costs: np.ndarray, on_trial: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best EU-call grant each firm could get for each market, its instrument (-1: none) and payment lag.

    The call reimburses its shares of the entry cost the firm actually faces
    (``costs``, shape (rows, markets): a partner in the market lowers it) and
    of the first quarters' presence costs (what the firm would pay there a
    quarter, P_im, a share kappa of it where it would enter ``on_trial``).
    """
    offer = np.zeros((rows.size, len(MARKETS)))
    source = np.full((rows.size, len(MARKETS)), -1)
    lag = np.zeros((rows.size, len(MARKETS)), dtype=np.int64)
    if not policy.active(model, "eu_internationalisation"):
        return offer, source, lag
    presence = presence_costs(model, rows) * np.where(on_trial, model.params.trial_cost_share, 1.0)
    for m, market in enumerate(MARKETS[1:], start=1):

        def amount(spec, m=m, market=market):
            covered = market in spec.markets
            return covered * (
                spec.entry_cost_share * costs[:, m] + spec.presence_cost_share * presence[:, m] * spec.presence_quarters
            )

        offer[:, m], source[:, m] = policy.best_offers(model, "eu_internationalisation", rows, amount)
        funded = source[:, m] >= 0
        lag[funded, m] = [model.instruments[k].spec.reimbursement_lag for k in source[funded, m]]
    return offer, source, lag
