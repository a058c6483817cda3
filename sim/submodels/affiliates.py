"""Foreign affiliates and foreign ownership: the proximity-concentration choice, and inward acquisitions (ODD 7.20).

A firm that serves a foreign market in full (not on trial, not through a consortium) may
serve it through an affiliate of its own instead of exporting from the region alone:

- a **sales-and-service affiliate** (``SERVICE``): buyers of machinery value installation
  and after-sales service close to them, so the firm's appeal there rises by
  ``service_appeal`` log points, and the affiliate does a share ``service_presence_saving``
  of the work trips and agents did (the presence cost); it costs ``service_fixed_cost``
  P_m a quarter and ``service_setup_cost`` F_m to open. The goods still come from the
  region: its sales are sold by an affiliate, and exported (intra-group) all the same.
- an **assembly plant** (``ASSEMBLY``): it also gives the service, and buyers no longer
  pay the trade cost tau_m on what it sells; a share ``assembly_local_share`` of that value
  is produced abroad, by workers abroad (``jobs_abroad``) paid ``assembly_wage_ratio`` of the
  region's wage, the rest is parts shipped from the region. It costs ``assembly_fixed_cost``
  P_m a quarter and ``assembly_setup_cost`` F_m to open.

The choice is Helpman, Melitz & Yeaple's (2004): an affiliate trades a higher fixed cost for
lower variable costs (and, here, more appeal), so it pays only to firms that sell much in a
market, and more so where trade costs are high. Firms that review their modes (probability
``affiliate_attention`` a quarter) compare the expected profit of each mode over
``affiliate_horizon`` quarters, minus the setup cost, and open the best if it pays and they
can finance the setup (``finance.spendable``, plus a subsidised loan where the
``investment_abroad`` instrument is active). An affiliate that does worse than exporting for
``affiliate_exit_patience`` quarters in a row is closed; leaving the market closes it. Which
firms own affiliates, and where, is never assigned: the sorting by size and productivity
(affiliate owners, then exporters, then firms selling at home) emerges.

Accounting. A firm's revenue is its group's sales, affiliates' included, and so are its
profits (the affiliates' fixed costs, the plants' costs abroad). Exports are the foreign
sales less the value produced abroad; the region's value added and employment count only
production in the region (the plants' output and jobs abroad are not in them).

The market side (an affiliate's appeal, a plant's untaxed sales and the units it makes
abroad) is part of clearing, ``competition.add_affiliate_appeal``, ``produce_abroad`` and
``book_affiliate_sales``. Foreign groups buy regional firms (``acquire``) at a yearly hazard rising with size,
productivity and exporting; an acquired firm keeps producing in the region, but spends a
share ``acquired_rd_factor`` of its former R&D intensity and keeps ``acquired_sourcing_factor``
of its regional suppliers.
"""

from __future__ import annotations

import functools

import numpy as np

from sim.model.firms import ASSEMBLY_PLANT, FOREIGN_COLUMNS, NO_AFFILIATE, SERVICE_AFFILIATE, exporters, niche_rows
from sim.model.links import supply_rows
from sim.model.world import MARKETS, N_MARKETS
from sim.submodels import finance, policy
from sim.submodels.competition import appeal_bonus, assembly_bonus
from sim.submodels.internationalisation import discount_weights, margin, presence_costs

#: Codes of ``firms.affiliate``.
NONE, SERVICE, ASSEMBLY = NO_AFFILIATE, SERVICE_AFFILIATE, ASSEMBLY_PLANT
MODES: tuple[str, ...] = ("export", "service", "assembly")
N_MODES = len(MODES)


# --- the choice of mode ---------------------------------------------------------------------------


def setup_costs(model) -> np.ndarray:
    """Sunk cost of opening each mode in each market, shape (modes, markets): 0, k_S F_m, k_A F_m (F_m x scale)."""
    p = model.params
    entry = p.market_array("entry_cost") * p.entry_cost_scale
    return np.stack([np.zeros(N_MARKETS), p.service_setup_cost * entry, p.assembly_setup_cost * entry])


def mode_profits(model, rows: np.ndarray) -> np.ndarray:
    """Expected quarterly profit of serving each market by each mode, shape (rows, markets, modes).

    At this quarter's clearing, with a the firm's attractiveness without an affiliate, D the rest of
    its cell and S the buyers' spending (net of exchange rates), R_k = a g_k / (D + a g_k) S_k with
    g_0 = 1 and S_0 = S / (1 + tau) (exporting), g_S = e^zeta_S (service), g_A = e^zeta_S (1 + tau)^bp
    and S_A = S (assembly, no trade cost). Then
    pi_0 = R_0 m_i - P_im,  pi_S = R_S m_i - (1 - s_P) P_im - k_S P_m,
    pi_A = R_A (m_i + lambda (1 - omega) w / (A_i p_i)) - (1 - s_P) P_im - k_A P_m,
    m_i = mu_i / (1 + mu_i) the contribution margin, lambda the plant's local share of value and
    omega its wage relative to the region's (the saving on labour of what the plant makes).
    """
    f, p, mk = model.firms, model.params, model.markets
    niche = niche_rows(f).take(rows)
    codes = f.affiliate.take(rows, axis=0)
    log_now = model.log_attract.take(rows, axis=0)
    served = f.served.take(rows, axis=0)
    now = np.exp(log_now)
    others = np.take(model.denominator.T, niche, axis=0) - np.where(served, now, 0.0)
    others = np.maximum(others, 1e-300)
    base = np.exp(log_now - appeal_bonus(model, codes))
    tau = p.market_array("trade_cost")
    spending = np.take(mk.expenditure.T, niche, axis=0) / mk.price_factor[None, :]
    presence = presence_costs(model, rows)
    fixed = p.market_array("presence_cost")
    gain = margin(model, rows)[:, None]
    labour = p.assembly_local_share * (1.0 - p.assembly_wage_ratio) * model.wage / (f.productivity * f.price)
    out = np.empty((rows.size, N_MARKETS, N_MODES))
    for k, (g, s) in enumerate(
        (
            (np.ones(N_MARKETS), spending / (1.0 + tau)),
            (np.full(N_MARKETS, np.exp(p.service_appeal)), spending / (1.0 + tau)),
            (np.exp(assembly_bonus(model)), spending),
        )
    ):
        a = base * g[None, :]
        out[:, :, k] = a / (others + a) * s
    out[:, :, 0] = out[:, :, 0] * gain - presence
    kept = (1.0 - p.service_presence_saving) * presence
    out[:, :, 1] = out[:, :, 1] * gain - kept - p.service_fixed_cost * fixed[None, :]
    out[:, :, 2] = out[:, :, 2] * (gain + labour.take(rows)[:, None]) - kept - p.assembly_fixed_cost * fixed[None, :]
    return out


def candidates(model, rows: np.ndarray) -> np.ndarray:
    """Cells where firms ``rows`` may hold an affiliate: foreign markets served in full and alone, (rows, markets)."""
    f = model.firms
    ok = f.served.take(rows, axis=0) & ~f.trial.take(rows, axis=0) & ~f.consortium.take(rows, axis=0)
    return ok & FOREIGN_COLUMNS[None, :]


def mode_values(model, rows: np.ndarray) -> np.ndarray:
    """V_imk = Gamma_H (pi_imk - pi_imj) - K_km: the value of moving market m to mode k from the current j.

    Gamma_H discounts ``affiliate_horizon`` quarters at ``discount_rate``; K_km the setup cost
    (``setup_costs``). Only moves up (export -> service -> assembly) are valued here, in the cells
    of ``candidates``; every other entry is -inf. Shape (rows, markets, modes).
    """
    p = model.params
    flat, _ = discount_weights(p.affiliate_horizon, p.discount_rate, p.customer_inertia_speed)
    profits = mode_profits(model, rows)
    codes = model.firms.affiliate.take(rows, axis=0).astype(np.intp)
    current = np.take_along_axis(profits, codes[:, :, None], axis=2)
    value = flat * (profits - current) - setup_costs(model).T[None, :, :]
    upward = np.arange(N_MODES)[None, None, :] > codes[:, :, None]
    value[~(upward & candidates(model, rows)[:, :, None])] = -np.inf
    return value


def review(model) -> None:
    """The quarter's affiliates: book their costs, close those that lose, open the ones that pay.

    In the first quarter the district's history comes first (``open_initial``).
    """
    if model.steps == 1:
        open_initial(model)
    book_costs(model)
    repay_loans(model)
    close_losing(model)
    open_affiliates(model)


def book_costs(model) -> None:
    """Cost item ``affiliates``: k P_m fixed costs, less s_P P_im of presence costs saved, plus costs abroad.

    A plant's costs abroad are (omega w / A_i + c) U_i (workers paid omega w, materials bought
    abroad at c); the subsidised loans' interest cut, c_r B_i, comes off.
    """
    f, p = model.firms, model.params
    cost = np.zeros(f.n)
    rows, markets = np.nonzero(f.affiliate)
    if rows.size:
        codes = f.affiliate[rows, markets]
        multiple = np.where(codes == SERVICE, p.service_fixed_cost, p.assembly_fixed_cost)
        fixed = multiple * p.market_array("presence_cost")[markets]
        saved = p.service_presence_saving * presence_costs(model, rows)[np.arange(rows.size), markets]
        np.add.at(cost, rows, fixed - saved)
        plants = np.flatnonzero(f.jobs_abroad)
        units = f.jobs_abroad[plants] * f.productivity[plants]
        cost[plants] += p.assembly_wage_ratio * model.wage * f.jobs_abroad[plants] + p.material_cost * units
    if f.abroad_loan.any():
        cost -= f.abroad_rate_cut * f.abroad_loan
    model.quarter_costs["affiliates"] = cost


def repay_loans(model) -> None:
    """Each quarter a firm repays the instalment of its investment-abroad loan until it is repaid."""
    f = model.firms
    if not f.abroad_loan.any():
        return
    paid = np.minimum(f.abroad_loan_instalment, f.abroad_loan)
    f.cash[:] -= paid  # repaying principal: cash out, debt down, net worth unchanged
    f.debt[:] -= paid
    f.abroad_loan[:] -= paid
    done = f.abroad_loan <= 1e-9
    f.abroad_loan_instalment[done] = 0.0
    f.abroad_rate_cut[done] = 0.0


def close_losing(model) -> None:
    """pi_imj < pi_im0 adds one to ``affiliate_loss_quarters``, else resets it; after the patience the affiliate closes.

    The firm goes back to exporting to the market (it may open another affiliate at a later review).
    """
    f, p = model.firms, model.params
    owners = np.flatnonzero(f.affiliate.any(axis=1))
    if owners.size == 0:
        return
    profits = mode_profits(model, owners)
    codes = f.affiliate[owners].astype(np.intp)
    worse = np.take_along_axis(profits, codes[:, :, None], axis=2)[:, :, 0] < profits[:, :, 0]
    worse &= codes > 0
    streak = np.where(worse, f.affiliate_loss_quarters[owners] + 1, 0).astype(np.int16)
    closing = streak >= p.affiliate_exit_patience
    streak[closing] = 0
    f.affiliate_loss_quarters[owners] = streak
    f.affiliate[owners] = np.where(closing, NONE, codes).astype(np.int8)
    model.affiliates_closed += int(closing.sum())


def open_initial(model) -> None:
    """The affiliates the initial firms opened before the run: each cell moves to its best mode, setup cost sunk.

    At the first quarter's clearing, each exporter moves each market it serves in full to the mode
    k of highest V_imk + K_km > 0 (``mode_values`` with the setup cost added back: it was paid in
    the past), so that the run starts with the affiliates its firms' sales and costs call for
    rather than with none (docs/ODD.md, section 5). One pass: the argmax is over every mode above
    the current one, and no cash moves.
    """
    f = model.firms
    rows = np.flatnonzero(exporters(f.served))
    if rows.size == 0:
        return
    value = mode_values(model, rows) + setup_costs(model).T[None, :, :]
    best = value.argmax(axis=2)
    r, m = np.nonzero(np.take_along_axis(value, best[:, :, None], axis=2)[:, :, 0] > 0)
    f.affiliate[rows[r], m] = best[r, m]
    f.affiliate_loss_quarters[rows[r], m] = 0


def initial_owners(model) -> None:
    """Foreign groups' past purchases: initial firm i is foreign-owned with probability 1 - (1 - h_i)^(a_i / 4).

    h_i the yearly ``acquisition_hazard``, a_i the firm's age in quarters (its drawn age at birth
    of the run), so that the share of foreign-owned firms starts near the one the hazard sustains.
    """
    f = model.firms
    if f.n == 0 or model.params.acquisition_rate <= 0:
        return
    age_years = np.maximum(-f.entered_step, 0) / 4.0
    owned = model.streams["acquisitions"].random(f.n) < 1.0 - (1.0 - acquisition_hazard(model)) ** age_years
    f.foreign_owned[owned] = True
    f.rd_intensity[owned] *= model.params.acquired_rd_factor


def open_affiliates(model) -> None:
    """Reviewing exporters open the mode and market of highest V_imk > 0 that they can finance.

    With a loan offer (``investment_abroad``: the loan B_k = b K_km and its subsidy G_k, the present
    value of the interest cut) a firm may also choose by V_imk + G_k and finance the setup cost less
    B_k; it applies if that makes a difference or adds value, and the support is additional when,
    without it, the firm would not have opened that mode in that market this quarter. One affiliate
    a firm a quarter; its setup cost is booked as ``entry`` (a sunk cost).
    """
    f, p = model.firms, model.params
    rng = model.streams["affiliates"]
    draws = rng.random(f.n)
    rows = np.flatnonzero((draws < p.affiliate_attention) & exporters(f.served))
    if rows.size == 0:
        return
    value = mode_values(model, rows)
    setup = setup_costs(model).T[None, :, :]  # (1, markets, modes)
    spendable = finance.spendable(model, rows)
    own = np.where(spendable[:, None, None] >= setup, value, -np.inf)
    pick = np.arange(rows.size)
    own_best = own.reshape(rows.size, -1).argmax(axis=1)
    own_ok = own.reshape(rows.size, -1)[pick, own_best] > 0

    offer, source, loan = loan_offers(model, rows, np.broadcast_to(setup, value.shape))
    supported = np.where(spendable[:, None, None] >= setup - loan, value + offer, -np.inf)
    best = supported.reshape(rows.size, -1).argmax(axis=1)
    best_ok = supported.reshape(rows.size, -1)[pick, best] > 0
    flat_offer = offer.reshape(rows.size, -1)[pick, best]
    applies = best_ok & (flat_offer > 0)
    grant = np.zeros(rows.size)
    if applies.any():
        grant[applies] = policy.fund(
            model, rows[applies], flat_offer[applies], source.reshape(rows.size, -1)[pick, best][applies]
        )
    funded = grant > 0
    policy.record(model, "investment_abroad", grant, ~(own_ok & (own_best == best)))
    chosen = np.where(funded, best, own_best)
    opens = funded | own_ok
    market, mode = np.divmod(chosen, N_MODES)
    r, m, k = rows[opens], market[opens], mode[opens]
    f.affiliate[r, m] = k
    f.affiliate_loss_quarters[r, m] = 0
    model.quarter_costs["entry"][r] += setup[0, m, k]
    model.affiliates_opened += int(opens.sum())
    lent = funded[opens]
    if lent.any():
        share = grant[opens][lent] / np.maximum(flat_offer[opens][lent], 1e-300)  # a grant cut by caps cuts the loan
        amount = loan.reshape(rows.size, -1)[pick, best][opens][lent] * share
        spec_of = source.reshape(rows.size, -1)[pick, best][opens][lent]
        borrowers = r[lent]
        f.cash[borrowers] += amount
        f.debt[borrowers] += amount
        f.abroad_loan[borrowers] += amount
        quarters = np.array([model.instruments[s].spec.loan_quarters for s in spec_of], dtype=float)
        f.abroad_loan_instalment[borrowers] += amount / quarters
        f.abroad_rate_cut[borrowers] = [model.instruments[s].spec.rate_cut for s in spec_of]
        model.abroad_loans += float(amount.sum())


@functools.lru_cache(maxsize=64)
def subsidy_factor(rate_cut: float, quarters: int, discount_rate: float) -> float:
    """PV of the interest cut per euro lent, linear repayment: c_r sum_{t=1..T} (1 - (t - 1) / T) (1 + r)^-t."""
    t = np.arange(1, quarters + 1)
    return float(rate_cut * ((1.0 - (t - 1) / quarters) * (1.0 + discount_rate) ** -t).sum())


def loan_offers(model, rows: np.ndarray, setup: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best investment-abroad offer for each (firm, market, mode): subsidy G, its instrument (-1: none), loan B.

    B = b K_km (b = loan_share) in covered markets and modes, G = B x ``subsidy_factor``; G is capped
    by the instrument's yearly cap and de minimis (``policy.best_offers``) and the loan with it.
    """
    shape = setup.shape
    offer, loan = np.zeros(shape), np.zeros(shape)
    source = np.full(shape, -1)
    if not policy.active(model, "investment_abroad"):
        return offer, source, loan
    r = model.params.discount_rate
    for m, market in enumerate(MARKETS):
        for k, mode in enumerate(MODES[1:], start=1):

            def amount(spec, m=m, k=k, market=market, mode=mode):
                covered = market in spec.markets and mode in spec.modes
                lent = covered * spec.loan_share * setup[:, m, k]
                return lent * subsidy_factor(spec.rate_cut, spec.loan_quarters, r)

            offer[:, m, k], source[:, m, k] = policy.best_offers(model, "investment_abroad", rows, amount)
            for s in np.unique(source[:, m, k][source[:, m, k] >= 0]):
                spec = model.instruments[s].spec
                mine = source[:, m, k] == s
                full = spec.loan_share * setup[mine, m, k]
                uncapped = full * subsidy_factor(spec.rate_cut, spec.loan_quarters, r)
                loan[mine, m, k] = full * np.minimum(offer[mine, m, k] / np.maximum(uncapped, 1e-300), 1.0)
    return offer, source, loan


# --- inward acquisitions --------------------------------------------------------------------------


def acquisition_hazard(model) -> np.ndarray:
    """Yearly hazard of being bought: h_i = min(h_0 (L_i / L_0)^eta_L (A_i / Abar)^eta_A (1 + x X_i), 1).

    h_0 = acquisition_rate at L_0 = acquisition_reference_employees, Abar the employment-weighted
    mean productivity, X_i whether the firm exports; 0 for firms already foreign-owned.
    """
    f, p = model.firms, model.params
    mean_a = (f.employees * f.productivity).sum() / max(f.employees.sum(), 1e-300)
    hazard = p.acquisition_rate * (f.employees / p.acquisition_reference_employees) ** p.acquisition_size_elasticity
    hazard *= (f.productivity / mean_a) ** p.acquisition_productivity_elasticity
    hazard *= 1.0 + p.acquisition_exporter_premium * exporters(f.served)
    return np.where(f.foreign_owned, 0.0, np.minimum(hazard, 1.0))


def acquire(model) -> None:
    """Foreign groups buy firms with quarterly probability 1 - (1 - h_i)^(1/4); the firm changes owner, not place.

    Its R&D intensity is multiplied by ``acquired_rd_factor``, and it keeps each regional
    supplier with probability ``acquired_sourcing_factor`` (and wants that share of them after).
    """
    f, p = model.firms, model.params
    rng = model.streams["acquisitions"]
    u = rng.random(f.n)
    model.n_acquired = 0
    if f.n == 0 or p.acquisition_rate <= 0:
        return
    bought = np.flatnonzero(u < 1.0 - (1.0 - acquisition_hazard(model)) ** 0.25)
    if bought.size == 0:
        return
    f.foreign_owned[bought] = True
    f.acquired_step[bought] = model.steps
    f.rd_intensity[bought] *= p.acquired_rd_factor
    model.n_acquired = int(bought.size)
    links = model.supply
    if links.n:
        rc, _ = supply_rows(model)
        new = np.zeros(f.n, dtype=bool)
        new[bought] = True
        keep = ~new[rc] | (rng.random(rc.size) < p.acquired_sourcing_factor)
        if not keep.all():
            links.keep(keep)


# --- outputs --------------------------------------------------------------------------------------


def begin_quarter(model) -> None:
    """Reset the quarter's counters."""
    model.affiliates_opened = 0
    model.affiliates_closed = 0
    model.abroad_loans = 0.0
    model.n_acquired = 0


def indicators(model, exiting: dict | None) -> dict[str, float]:
    """Model-level affiliate and ownership outputs (docs/outputs.md)."""
    f = model.firms
    by_market = f.affiliate_sales.sum(axis=0)
    if exiting is not None and "affiliate_by_market" in exiting:
        by_market = by_market + exiting["affiliate_by_market"]
    codes = f.affiliate
    return {
        "n_affiliates": int((codes > 0).sum()),
        "n_service_affiliates": int((codes == SERVICE).sum()),
        "n_assembly_plants": int((codes == ASSEMBLY).sum()),
        "n_affiliate_owners": int(codes.any(axis=1).sum()),
        "affiliates_opened": int(getattr(model, "affiliates_opened", 0)),
        "affiliates_closed": int(getattr(model, "affiliates_closed", 0)),
        "affiliate_sales": float(by_market[1:].sum()),
        **{f"affiliate_sales_{m}": float(by_market[i]) for i, m in enumerate(MARKETS) if i > 0},
        "abroad_production": float(abroad_by_market(model, exiting)[1:].sum()),
        "affiliate_jobs_abroad": float(f.jobs_abroad.sum()),
        "abroad_loans": float(getattr(model, "abroad_loans", 0.0)),
        "abroad_loan_stock": float(f.abroad_loan.sum()),
        "n_acquired": int(getattr(model, "n_acquired", 0)),
        "n_foreign_owned": int(f.foreign_owned.sum()),
    }


def abroad_by_market(model, exiting: dict | None = None) -> np.ndarray:
    """Value produced abroad by the plants in each market this quarter (firms that exited included)."""
    total = model.firms.abroad_sales.sum(axis=0)
    if exiting is not None and "abroad_by_market" in exiting:
        total = total + exiting["abroad_by_market"]
    return total


def exiting_flows(model, rows: np.ndarray) -> dict[str, np.ndarray]:
    """The quarter's affiliate flows of firms about to exit (kept for the indicators)."""
    f = model.firms
    return {
        "affiliate_by_market": f.affiliate_sales[rows].sum(axis=0),
        "abroad_by_market": f.abroad_sales[rows].sum(axis=0),
    }


def owner_markets(model, mask) -> np.ndarray:
    """The affiliates' markets of firms ``mask`` as a boolean (rows, markets) array."""
    return model.firms.affiliate[mask] > 0
