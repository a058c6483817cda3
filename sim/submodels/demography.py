"""Demography: the initial population, exit by insolvency, closure and succession, entry of new ones (ODD 7.7).

Entry happens in every province and niche at a rate that rises with the
local profit margin. Most entrants are spin-offs of profitable local firms,
inheriting part of their parent's know-how and settling near it; the others
are drawn around the niche's mean productivity with a gap (they learn or
die). Firms exit when they cannot pay (finance, insolvency), when their
owners find closing worth more than going on (``close_firms``), or when an
old small firm finds no successor; an exiting firm's buyers go to the rival
pool.
"""

from __future__ import annotations

import numpy as np

from sim.model import space
from sim.model.agents import Firm
from sim.model.arrays import group_bounds
from sim.model.calendar import is_first_quarter
from sim.model.firms import CLOSURE, N_BUCKETS, SUCCESSION, bucket_groups, bucket_keys
from sim.model.world import (
    DOMESTIC,
    N_MARKETS,
    N_NICHES,
    N_PROVINCES,
    PROVINCE_NICHE_MIX,
    PROVINCE_SHARE,
    related_niches,
)
from sim.submodels import knowhow, learning
from sim.submodels.competition import set_prices, update_rival_share
from sim.submodels.finance import net_worth
from sim.submodels.guarantees import record_defaults
from sim.submodels.internationalisation import discount_weights

#: Initial firms' ages (quarters): exponential with this mean, capped.
INITIAL_AGE_MEAN = 60.0
INITIAL_AGE_MAX = 400
#: Entry into a bucket runs at most this many times its normal rate, however profitable the bucket.
MAX_ENTRY_MULTIPLIER = 3.0
#: Largest entrant (employees): firms are born small.
ENTRANT_MAX_EMPLOYEES = 50.0


def gpd_sizes(rng: np.random.Generator, n: int, mean: float, shape: float, cap: float) -> np.ndarray:
    """Employees >= 1 from a generalized Pareto with the given mean and tail shape."""
    scale = max(mean - 1.0, 1e-9) * (1.0 - shape)
    u = 1.0 - rng.random(n)  # in (0, 1]
    return np.minimum(1.0 + scale / shape * (u ** (-shape) - 1.0), cap)


def _draw_locations(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    province = rng.choice(N_PROVINCES, size=n, p=PROVINCE_SHARE)
    cum = PROVINCE_NICHE_MIX.cumsum(axis=1)[province]
    niche = (rng.random(n)[:, None] > cum).sum(axis=1)
    return province, np.minimum(niche, N_NICHES - 1)


def _add_firms(model, count: int, **values: np.ndarray) -> slice:
    """Create ``count`` Mesa agents in their provinces' cells, and their rows in the firm table."""
    agents = list(Firm.create_agents(model, count))  # one pass over the AgentSet's weak references, then a plain list
    space.place(model, agents, np.asarray(values["province"]))
    ids = np.fromiter((a.unique_id for a in agents), dtype=np.int64, count=count)
    model.firm_agents.update(zip(ids.tolist(), agents, strict=True))
    return model.firms.append(count, firm_id=ids, **values)


def choose_parents(model, bucket: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each entrant of a (province, niche) bucket: the row of the firm it spins off from, or -1.

    A share ``spinoff_share`` of entrants are spin-offs; their parent is drawn
    among the profitable firms of the same bucket with probability
    proportional to employees (each worker of a successful firm is a
    potential founder). For a share ``spinoff_related_share`` of them the
    parent works in a related niche of the same province instead (drawn by
    know-how overlap, world.NICHE_OVERLAP): founders carry what they know
    into a neighbouring product.
    """
    f = model.firms
    parent = np.full(bucket.size, -1)
    spin = rng.random(bucket.size) < model.params.spinoff_share
    pick = rng.random(bucket.size)
    related = rng.random(bucket.size) < model.params.spinoff_related_share
    if related.any():
        own = bucket[related] % N_NICHES
        bucket = bucket.copy()
        bucket[related] = bucket[related] - own + related_niches(own, rng)
    weight = np.where(f.profit_trend > 0, f.employees, 0.0)
    order, _, bounds = bucket_groups(f)  # shared with the partner search and the supplier search
    if order.size == 0:  # the district has emptied: every entrant is a new firm
        return parent
    cumulative = np.cumsum(weight[order])
    start, stop = group_bounds(bounds, bucket)
    before = np.where(start > 0, cumulative[np.maximum(start - 1, 0)], 0.0)
    total = np.where(stop > 0, cumulative[np.maximum(stop - 1, 0)], 0.0) - before
    able = spin & (total > 0)
    target = before[able] + pick[able] * total[able]
    index = np.minimum(np.searchsorted(cumulative, target, side="right"), stop[able] - 1)
    parent[able] = order[index]
    return parent


def _rd_intensity(model, rng: np.random.Generator, n: int) -> np.ndarray:
    p = model.params
    s = p.rd_intensity_sd
    return p.rd_intensity * np.exp(s * rng.standard_normal(n) - s * s / 2)


def appeal_index(model, employees: np.ndarray, price: np.ndarray) -> np.ndarray:
    """log quality that makes domestic demand proportional to size (up to a constant).

    Solves (1 - alpha) log L = bq log q - bp log p for log q: in the data
    larger firms are those whose products buyers value more, so the initial
    population starts near the model's own size-appeal relation.
    """
    p = model.params
    home = p.markets["italy"]
    return ((1 - p.reach_elasticity) * np.log(employees) + home.price_weight * np.log(price)) / max(
        home.quality_weight, 1e-9
    )


def initial_population(model) -> None:
    """Draw the initial firms: provinces and niches by the regional mix, heavy-tailed sizes."""
    p = model.params
    rng = model.streams["population"]
    n = p.n_firms
    province, niche = _draw_locations(rng, n)
    employees = gpd_sizes(rng, n, p.mean_employees, p.size_tail_shape, p.max_employees)
    z_size = np.log(employees)
    z_size = (z_size - z_size.mean()) / max(z_size.std(), 1e-12)
    rho = p.size_productivity_corr
    z_prod = rho * z_size + np.sqrt(1 - rho * rho) * rng.standard_normal(n)
    sd = p.productivity_sd
    productivity = p.productivity_mean * np.exp(sd * z_prod - sd * sd / 2)
    quality_noise = p.quality_sd * rng.standard_normal(n)
    age = np.minimum(rng.exponential(INITIAL_AGE_MEAN, size=n), INITIAL_AGE_MAX).astype(np.int32)
    served = np.zeros((n, N_MARKETS), dtype=bool)
    served[:, DOMESTIC] = True
    rows = _add_firms(
        model,
        n,
        province=province,
        niche=niche,
        location=space.locate(model, province, rng),
        entered_step=-age,
        employees=employees,
        productivity=productivity,
        quality=np.ones(n),
        markup=np.full(n, p.markup_init),
        rd_intensity=_rd_intensity(model, rng, n),
        know_how=knowhow.initial_stock(model, niche, rng),
        niche_entered=-age,
        served=served,
        fit=learning.draw_fit(p, n, model.streams["learning"]),
    )
    f = model.firms
    set_prices(model)
    f.quality[rows] = np.exp(appeal_index(model, f.employees, f.price) + quality_noise)
    f.quality[rows] /= np.exp(np.log(f.quality).mean())


def close_firms(model) -> None:
    """Owners close solvent firms when going on is worth less than closing; old small firms may find no successor.

    Closure (owners who look, probability closure_attention a quarter): going on yields the
    operating profit trend pibar_i (before sunk investments such as market entry) for H
    quarters and the firm's net worth at the end; closing yields its liquidation value now
    (capital sold at resale_discount) and the owner's outside option O:
    close iff Gamma_H pibar_i + beta^H NW_i < NW_i - kappa L_i d + Gamma_H O, i.e.
    Gamma_H (pibar_i - O) < (1 - beta^H) NW_i - kappa L_i d (H = entry_horizon, Gamma_H the
    sum of discount factors). Succession: in a year's first quarter, a firm at least
    succession_min_age quarters old with fewer than succession_max_employees closes with
    probability succession_hazard.
    """
    f, p = model.firms, model.params
    rng = model.streams["demography"]
    going = ~f.exiting
    flat, _ = discount_weights(p.entry_horizon, p.discount_rate, p.customer_inertia_speed)
    beta_h = (1.0 + p.discount_rate) ** -p.entry_horizon
    worth = net_worth(model)
    liquidation_loss = p.capital_per_worker * f.employees * p.resale_discount
    looks = rng.random(f.n) < p.closure_attention
    closes = (
        going
        & looks
        & (flat * (f.operating_trend - p.owner_outside_option) < (1.0 - beta_h) * worth - liquidation_loss)
    )
    f.exit_cause[closes] = CLOSURE
    f.exiting[:] |= closes
    if is_first_quarter(model):
        old_small = (model.steps - f.entered_step >= p.succession_min_age) & (f.employees < p.succession_max_employees)
        heirless = ~f.exiting & old_small & (rng.random(f.n) < p.succession_hazard)
        f.exit_cause[heirless] = SUCCESSION
        f.exiting[:] |= heirless


def exit_firms(model) -> np.ndarray:
    """Remove firms flagged as exiting; returns their ids."""
    f = model.firms
    mask = f.exiting.copy()
    if not mask.any():
        return np.zeros(0, dtype=np.int64)
    model.observer.record_exits(model, mask)
    record_defaults(model, mask)
    ids = f.firm_id[mask].copy()
    for firm_id in ids.tolist():
        model.firm_agents.pop(firm_id).remove()
    f.remove(mask)
    update_rival_share(model)
    return ids


def local_margins(model) -> tuple[np.ndarray, np.ndarray]:
    """Firms and mean profit margin in every (province, niche) bucket."""
    f = model.firms
    bucket = bucket_keys(f)
    size = N_BUCKETS
    count = np.bincount(bucket, minlength=size)
    margin = np.clip(f.profit / np.maximum(f.revenue, 1e-9), -1.0, 1.0)
    total = np.bincount(bucket, weights=margin, minlength=size)
    return count, np.where(count > 0, total / np.maximum(count, 1), 0.0)


def enter_firms(model) -> int:
    """Draw entrants per (province, niche) bucket; returns how many entered.

    Entrants in bucket b ~ Poisson(e E_b clip(1 + s (mbar_b - m*), 0, 3)): e = entry_rate,
    E_b the bucket's pool of would-be founders (its initial firms plus one half),
    mbar_b its mean profit margin, m* = normal_margin, s = entry_profit_sensitivity.
    An entrant's productivity is drawn around its niche's mean log productivity
    with a gap; a spin-off (most entrants) inherits a share of its parent's lead
    instead, settles near it and starts linked to it.
    """
    p, f, mk = model.params, model.firms, model.markets
    rng = model.streams["demography"]
    count, margin = local_margins(model)
    attractiveness = np.clip(1.0 + p.entry_profit_sensitivity * (margin - p.normal_margin), 0.0, MAX_ENTRY_MULTIPLIER)
    # Would-be entrepreneurs come from the local pool, proportional to the
    # initial number of firms in the bucket (not to survivors), so that exit
    # and entry can balance.
    expected = p.entry_rate * model.entrepreneurs * attractiveness
    entrants = rng.poisson(expected)
    n_new = int(entrants.sum())
    model.spinoff_entries = 0
    if n_new == 0:
        return 0
    bucket = np.repeat(np.arange(count.size), entrants)
    province, niche = bucket // N_NICHES, bucket % N_NICHES

    # Entrants look like incumbents of their niche and size, with a productivity gap.
    f_niche = f.niche.astype(np.intp)
    members = np.maximum(np.bincount(f_niche, minlength=N_NICHES), 1)
    log_prod = np.bincount(f_niche, weights=np.log(f.productivity), minlength=N_NICHES) / members
    residual = np.log(f.quality) - appeal_index(model, f.employees, f.price)
    log_appeal = np.bincount(f_niche, weights=residual, minlength=N_NICHES) / members
    sd = p.entrant_productivity_sd
    gap = p.entrant_productivity_gap
    productivity = np.exp(log_prod[niche] + gap + sd * rng.standard_normal(n_new))
    employees = gpd_sizes(rng, n_new, p.entrant_mean_employees, p.size_tail_shape, ENTRANT_MAX_EMPLOYEES)
    served = np.zeros((n_new, N_MARKETS), dtype=bool)
    served[:, DOMESTIC] = True
    markup = np.full(n_new, p.markup_init)
    price = (1 + markup) * (model.wage / productivity + p.material_cost)
    quality = np.exp(
        log_appeal[niche] + appeal_index(model, employees, price) + p.entrant_appeal_sd * rng.standard_normal(n_new)
    )
    location = space.locate(model, province, rng)
    know_how = knowhow.initial_stock(model, niche, rng)

    # Most entrants are spin-offs: they inherit part of a profitable local
    # firm's know-how (productivity and appeal) and settle near it.
    spin_rng = model.streams["spinoffs"]
    parent = choose_parents(model, bucket, spin_rng)
    spin = parent >= 0
    if spin.any():
        par = parent[spin]
        parent_niche = f.niche[par].astype(np.intp)
        lead = np.log(f.productivity[par]) - log_prod[parent_niche]  # the parent's advantage in its own niche
        productivity[spin] = np.exp(
            log_prod[niche[spin]]
            + p.spinoff_inheritance * lead
            + p.spinoff_gap
            + sd * spin_rng.standard_normal(par.size)
        )
        price[spin] = (1 + markup[spin]) * (model.wage / productivity[spin] + p.material_cost)
        premium = residual[par] - log_appeal[parent_niche]
        noise = p.entrant_appeal_sd * spin_rng.standard_normal(par.size)
        quality[spin] = np.exp(
            log_appeal[niche[spin]]
            + appeal_index(model, employees[spin], price[spin])
            + p.spinoff_inheritance * premium
            + noise
        )
        location[spin] = space.locate(model, province[spin], spin_rng, near=f.location.take(par, axis=0))
        inherit = p.spinoff_inheritance
        know_how[spin] = inherit * f.know_how.take(par, axis=0) + (1.0 - inherit) * know_how[spin]
    model.spinoff_entries = int(spin.sum())
    parent_id = np.full(n_new, -1, dtype=np.int64)
    parent_id[spin] = f.firm_id[parent[spin]]
    units = employees * productivity * p.utilisation_target
    sales = units * price
    # An entrant starts with an order book that fills its planned capacity
    # (a founder brings customers); whether it keeps them depends on its appeal.
    share = p.entrant_order_book * sales / mk.expenditure[DOMESTIC, niche]
    market_entered = np.full((n_new, N_MARKETS), -1, dtype=np.int32)
    market_entered[:, DOMESTIC] = model.steps
    share_rows = np.zeros((n_new, N_MARKETS))
    share_rows[:, DOMESTIC] = share
    rows = _add_firms(
        model,
        n_new,
        province=province,
        niche=niche,
        location=location,
        parent_id=parent_id,
        entered_step=np.full(n_new, model.steps),
        employees=employees,
        productivity=productivity,
        quality=quality,
        markup=markup,
        price=price,
        rd_intensity=_rd_intensity(model, rng, n_new),
        know_how=know_how,
        niche_entered=np.full(n_new, model.steps),
        cash=p.initial_cash * sales,
        debt=p.initial_debt * p.capital_per_worker * employees,
        expected_demand=units,
        served=served,
        market_entered=market_entered,
        share=share_rows,
        fit=learning.draw_fit(p, n_new, model.streams["learning"]),
    )
    link_to_parents(model, f.firm_id[rows][spin], parent_id[spin])
    update_rival_share(model)
    return n_new


def link_to_parents(model, children: np.ndarray, parents: np.ndarray) -> None:
    """A spin-off starts linked to its parent: as its supplier if the parent subcontracts, else as a partner.

    Founders keep working with the firm they came from (district spin-offs
    often start as their parent's subcontractors). The links are new: the
    children were born this step.
    """
    f = model.firms
    client = f.employees[f.row_of[parents]] >= model.params.subcontract_min_employees
    model.supply.add(parents[client], children[client], model.steps)
    model.links.add(parents[~client], children[~client], model.steps)
