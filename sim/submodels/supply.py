"""Supply chains: larger firms subcontract part of their production to smaller regional suppliers (ODD 7.16).

A client (at least ``subcontract_min_employees``) buys a share
``subcontract_share`` of its intermediate inputs from regional suppliers,
split evenly among them; the rest comes from outside the region. Clients
review their suppliers once a year (first quarter): links end at random or
when a supplier's served share of its orders (averaged over recent
quarters) has fallen below ``supply_reliability``, and clients short of
suppliers search for the missing ones in buckets (province x niche: mostly
their own province, then neighbouring ones; mostly their own niche, then
related ones), never among all firms, drawing smaller firms with
probability rising with size and value for money.

Every quarter suppliers serve orders from the capacity their market sales
leave; what they cannot serve the client buys outside. So a supplier's
sales follow its clients' output (a client's collapse or exit cuts them),
and a client's unit cost and product quality follow its suppliers' prices
and quality relative to other clients' suppliers (a supplier's failure
costs it a good input).

B2B sales are part of the supplier's revenue but not of the district's
sales to final buyers (no double counting): they replace inputs the client
would otherwise buy, at the outside price, from outside the region.
"""

from __future__ import annotations

import numpy as np

from sim.model.arrays import weighted_pick
from sim.model.calendar import is_first_quarter
from sim.model.firms import bucket_groups, bucket_keys, bucket_of
from sim.model.links import SupplyLinks, supply_counts, supply_key, supply_rows
from sim.model.space import PROXIMITY
from sim.model.world import N_PROVINCES, related_niches

#: The initial supply network is searched for at most this many rounds per supplier a client may want.
SETUP_ROUNDS_PER_SUPPLIER = 2
#: Weight of the latest quarter in a link's fill rate (the share of orders the supplier served).
FILL_WEIGHT = 0.5

#: Each province's neighbours (row p, first _N_NEIGHBOURS[p] entries), for searches outside the client's province.
_N_NEIGHBOURS = (PROXIMITY == 1).sum(axis=1)
_NEIGHBOURS = np.zeros((N_PROVINCES, int(_N_NEIGHBOURS.max())), dtype=np.intp)
for _p in range(N_PROVINCES):
    _NEIGHBOURS[_p, : _N_NEIGHBOURS[_p]] = np.nonzero(PROXIMITY[_p] == 1)[0]


def setup(model) -> None:
    """The supply network before the first quarter: clients search until they have the suppliers they want.

    Each round draws one candidate per missing supplier; draws that fail (no
    smaller firm drawn, or one already a supplier) are tried again, at most
    ``SETUP_ROUNDS_PER_SUPPLIER x max_suppliers`` rounds.
    """
    model.supply = SupplyLinks()
    rng = model.streams["supply"]
    for _ in range(SETUP_ROUNDS_PER_SUPPLIER * model.params.max_suppliers):
        n_suppliers, _ = supply_counts(model)
        missing = np.maximum(wanted_suppliers(model) - n_suppliers, 0)
        short = np.nonzero(missing)[0]
        if short.size == 0:
            break
        search(model, np.repeat(short, missing[short]), rng)
    price_inputs(model)


def wanted_suppliers(model) -> np.ndarray:
    """Suppliers a firm wants: ``suppliers_per_worker`` x employees, 1 to max_suppliers, if it is a client (else 0)."""
    f, p = model.firms, model.params
    want = np.clip(np.rint(p.suppliers_per_worker * f.employees), 1, p.max_suppliers).astype(np.int64)
    if f.foreign_owned.any():  # a foreign-owned firm buys part of its inputs through its group (ODD 7.20)
        factor = np.where(f.foreign_owned, p.acquired_sourcing_factor, 1.0)
        want = np.maximum(np.rint(want * factor), 1).astype(np.int64)
    return np.where(f.employees >= p.subcontract_min_employees, want, 0)


def _search_provinces(province: np.ndarray, rng: np.random.Generator, p) -> np.ndarray:
    """Province searched by each client: its own, a neighbouring one, or any (shares in ``supplier_same_province``)."""
    u = rng.random(province.size)
    pick = rng.random(province.size)
    out = province.copy()
    near = u >= p.supplier_same_province
    far = u >= p.supplier_same_province + (1.0 - p.supplier_same_province) * 2.0 / 3.0
    neighbour = near & ~far
    home = province[neighbour]
    out[neighbour] = _NEIGHBOURS[home, (pick[neighbour] * _N_NEIGHBOURS[home]).astype(np.intp)]
    out[far] = np.minimum((pick[far] * N_PROVINCES).astype(np.intp), N_PROVINCES - 1)
    return out


def source(model) -> None:
    """Before markets clear, in a year's first quarter: clients review their suppliers and inputs are priced."""
    if is_first_quarter(model):
        review(model)
        price_inputs(model)


def review(model) -> None:
    """Drop unreliable and worn-out links; clients short of suppliers search for as many as they miss."""
    f, p, links = model.firms, model.params, model.supply
    rng = model.streams["supply"]
    supply_rows(model)
    if links.n:
        links.keep((rng.random(links.n) >= p.supply_break_rate) & (links.fill >= p.supply_reliability))
    n_suppliers, _ = supply_counts(model)
    missing = np.maximum(wanted_suppliers(model) - n_suppliers, 0)
    searching = np.nonzero((missing > 0) & (rng.random(f.n) < p.supplier_search_rate))[0]
    search(model, np.repeat(searching, missing[searching]), rng)


def search(model, seekers: np.ndarray, rng: np.random.Generator) -> None:
    """Each entry of ``seekers`` (client rows, repeated for several draws) draws a candidate supplier from a bucket.

    The bucket is a province (``_search_provinces``) and a niche (its own, or a
    related one); the candidate is drawn with weight sqrt(L) q^bq p^-bp (size
    and value for money) and linked if it is smaller than the client.
    """
    f, p, links = model.firms, model.params, model.supply
    if seekers.size:
        province = _search_provinces(f.province[seekers].astype(np.intp), rng, p)
        niche = f.niche[seekers].astype(np.intp)
        elsewhere = rng.random(seekers.size) >= p.supplier_same_niche
        niche[elsewhere] = related_niches(niche[elsewhere], rng)
        home = p.markets["italy"]
        weight = np.sqrt(f.employees) * f.quality**home.quality_weight * f.price ** (-home.price_weight)
        candidate = weighted_pick(
            bucket_keys(f), weight, bucket_of(province, niche), rng.random(seekers.size), bucket_groups(f)
        )
        ok = candidate >= 0
        ok[ok] &= f.employees[candidate[ok]] < f.employees[seekers[ok]]
        client, supplier = f.firm_id[seekers[ok]], f.firm_id[candidate[ok]]
        _, once = np.unique(supply_key(client, supplier), return_index=True)  # the same pair drawn twice links once
        client, supplier = client[once], supplier[once]
        fresh = ~links.contains(supply_key(client, supplier))
        links.add(client[fresh], supplier[fresh], model.steps)


def _link_terms(model) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows of clients and suppliers, and each supplier's log price and log quality relative to the mean over links."""
    f = model.firms
    rc, rs = supply_rows(model)
    log_p, log_q = np.log(f.price[rs]), np.log(f.quality[rs])
    if rs.size:
        log_p = log_p - log_p.mean()
        log_q = log_q - log_q.mean()
    return rc, rs, log_p, log_q


def price_inputs(model) -> None:
    """Each client's expected input cost gap and the quality its suppliers add.

    Relative to the average supplier of the region's clients, so the chain
    shifts costs and quality between clients but not their mean: a client
    with cheaper suppliers pays less for its inputs (``input_cost_gap`` =
    share x (relative price - 1)), one with better suppliers sells a better
    product (``input_quality`` = weight x relative log quality).
    """
    f, p = model.firms, model.params
    rc, _, log_p, log_q = _link_terms(model)
    count = np.maximum(np.bincount(rc, minlength=f.n), 1)
    has = np.bincount(rc, minlength=f.n) > 0
    relative_price = np.bincount(rc, weights=np.exp(log_p), minlength=f.n) / count
    f.input_cost_gap[:] = np.where(has, p.subcontract_share * (relative_price - 1.0), 0.0)
    f.input_quality[:] = np.where(
        has, p.supply_quality_weight * np.bincount(rc, weights=log_q, minlength=f.n) / count, 0.0
    )


def trade(model) -> None:
    """After markets clear: clients order inputs, suppliers serve them from spare capacity.

    A client's order to each supplier is its share of ``subcontract_share`` x
    material cost x output, at the supplier's relative price; a supplier
    short of capacity serves every client the same fraction, and the client
    buys the rest outside at the outside price. A supplier short of a share x_j
    of its foreign inputs (submodels/sourcing.py) serves (1 - x_j) of what its
    capacity beyond its uncut output, Y_j / (1 - x_j), would serve.
    """
    f, p, links = model.firms, model.params, model.supply
    f.b2b_sales[:] = 0.0
    rc, rs, log_p, _ = _link_terms(model)
    if rc.size == 0:
        f.input_cost_gap[:] = 0.0
        return
    n_suppliers = np.bincount(rc, minlength=f.n)
    relative_price = np.exp(log_p)
    need = p.subcontract_share * p.material_cost * f.output[rc] / n_suppliers[rc]  # at the outside price
    value = need * relative_price
    units = value / f.price[rs]
    asked = np.bincount(rs, weights=units, minlength=f.n)
    # a supplier short of a share x of its foreign inputs (submodels/sourcing.py) made (1 - x) of its output
    # and delivers (1 - x) of what its capacity would have served
    kept = 1.0 - f.input_shortfall
    spare = np.maximum(f.employees * f.productivity - f.output / np.maximum(kept, 1e-12), 0.0)
    fill = np.where(asked > 0, np.minimum(1.0, spare / np.maximum(asked, 1e-300)), 1.0)
    fill *= kept
    served = fill[rs]
    links.fill = (1.0 - FILL_WEIGHT) * links.fill + FILL_WEIGHT * served  # reliability over a few quarters
    f.b2b_sales[:] = np.bincount(rs, weights=value * served, minlength=f.n)
    f.demanded[:] += asked
    f.output[:] += asked * fill
    f.revenue[:] += f.b2b_sales
    # What the client's inputs cost relative to buying them all outside the region.
    saving = np.bincount(rc, weights=served * (relative_price - 1.0), minlength=f.n) / np.maximum(n_suppliers, 1)
    f.input_cost_gap[:] = p.subcontract_share * saving


def metrics(model) -> dict[str, float]:
    """Supply links and the value traded along them this quarter."""
    return {"n_supply_links": model.supply.n, "b2b_sales": float(model.firms.b2b_sales.sum())}
