"""Supply chains: larger firms subcontract part of their production to smaller regional suppliers.

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

from dataclasses import dataclass, field

import numpy as np

from sim.knowhow import related_niches
from sim.networks import SortedLinks, group_rows, insertion_slots, link_rows, merge, weighted_pick
from sim.space import PROXIMITY
from sim.world import N_NICHES, N_PROVINCES

_SHIFT = np.int64(1 << 32)


@dataclass
class SupplyLinks(SortedLinks):
    """Directed client -> supplier links as arrays of firm ids, kept sorted by (client, supplier)."""

    client: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    supplier: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    since: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    fill: np.ndarray = field(default_factory=lambda: np.zeros(0))  # share of recent orders the supplier served (average, weight 1/2 on the latest)

    @property
    def n(self) -> int:
        return int(self.client.size)

    def link_keys(self) -> np.ndarray:
        return self.client * _SHIFT + self.supplier

    def keep(self, mask: np.ndarray) -> None:
        self.client, self.supplier, self.since, self.fill = self.client[mask], self.supplier[mask], self.since[mask], self.fill[mask]
        self.version += 1

    def add(self, client: np.ndarray, supplier: np.ndarray, step: int) -> None:
        """Insert new links (not already present) in key order."""
        new = client * _SHIFT + supplier
        order = np.argsort(new)
        slots = insertion_slots(np.searchsorted(self.keys(), new[order]), self.n)
        self.client = merge(self.client, client[order], slots)
        self.supplier = merge(self.supplier, supplier[order], slots)
        self.since = merge(self.since, np.full(order.size, step, dtype=np.int32), slots)
        self.fill = merge(self.fill, np.ones(order.size), slots)
        self.version += 1


#: Each province's neighbours (row p, first _N_NEIGHBOURS[p] entries), for searches outside the client's province.
_N_NEIGHBOURS = (PROXIMITY == 1).sum(axis=1)
_NEIGHBOURS = np.zeros((N_PROVINCES, int(_N_NEIGHBOURS.max())), dtype=np.intp)
for _p in range(N_PROVINCES):
    _NEIGHBOURS[_p, : _N_NEIGHBOURS[_p]] = np.nonzero(PROXIMITY[_p] == 1)[0]


def setup(model) -> None:
    """The supply network before the first quarter: clients search until they have the suppliers they want.

    Each round draws one candidate per missing supplier; draws that fail (no
    smaller firm drawn, or one already a supplier) are tried again, at most
    ``2 x max_suppliers`` rounds.
    """
    model.supply = SupplyLinks()
    rng = model.streams["supply"]
    for _ in range(2 * model.params.max_suppliers):
        n_suppliers, _ = counts(model)
        missing = np.maximum(wanted_suppliers(model) - n_suppliers, 0)
        short = np.nonzero(missing)[0]
        if short.size == 0:
            break
        search(model, np.repeat(short, missing[short]), rng)
    price_inputs(model)


def rows_of(model) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the client and the supplier of every link (links of exited firms are dropped first; cached)."""
    return link_rows(model.firms, model.supply, "client", "supplier")


def counts(model) -> tuple[np.ndarray, np.ndarray]:
    """Suppliers and clients of each firm."""
    rc, rs = rows_of(model)
    n = model.firms.n
    return np.bincount(rc, minlength=n), np.bincount(rs, minlength=n)


def wanted_suppliers(model) -> np.ndarray:
    """How many suppliers each firm wants: ``suppliers_per_worker`` x employees (1 to max_suppliers) if it is a client, else 0."""
    f, p = model.firms, model.params
    want = np.clip(np.rint(p.suppliers_per_worker * f.employees), 1, p.max_suppliers).astype(np.int64)
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
    """Before markets clear, in the first quarter of each year: clients review their suppliers (``review``) and inputs are priced."""
    if (model.steps - 1) % 4 == 0:
        review(model)
        price_inputs(model)


def review(model) -> None:
    """Drop unreliable and worn-out links; clients short of suppliers search for as many as they miss."""
    f, p, links = model.firms, model.params, model.supply
    rng = model.streams["supply"]
    rows_of(model)
    if links.n:
        links.keep((rng.random(links.n) >= p.supply_break_rate) & (links.fill >= p.supply_reliability))
    n_suppliers, _ = counts(model)
    missing = np.maximum(wanted_suppliers(model) - n_suppliers, 0)
    searching = np.nonzero((missing > 0) & (rng.random(f.n) < p.supplier_search_rate))[0]
    search(model, np.repeat(searching, missing[searching]), rng)


def search(model, seekers: np.ndarray, rng: np.random.Generator) -> None:
    """Each entry of ``seekers`` (client rows, repeated for several draws) draws a candidate supplier from a bucket; smaller ones are linked."""
    f, p, links = model.firms, model.params, model.supply
    if seekers.size:
        province = _search_provinces(f.province[seekers].astype(np.intp), rng, p)
        niche = f.niche[seekers].astype(np.intp)
        elsewhere = rng.random(seekers.size) >= p.supplier_same_niche
        niche[elsewhere] = related_niches(niche[elsewhere], rng)
        grouped = f.cached("networks_group_bucket", lambda: group_rows(f.province.astype(np.intp) * N_NICHES + f.niche.astype(np.intp)))
        keys = f.cached("bucket_keys", lambda: f.province.astype(np.intp) * N_NICHES + f.niche.astype(np.intp))
        home = p.markets["italy"]
        weight = np.sqrt(f.employees) * f.quality**home.quality_weight * f.price ** (-home.price_weight)
        candidate = weighted_pick(keys, weight, province * N_NICHES + niche, rng.random(seekers.size), grouped)
        ok = candidate >= 0
        ok[ok] &= f.employees[candidate[ok]] < f.employees[seekers[ok]]
        client, supplier = f.firm_id[seekers[ok]], f.firm_id[candidate[ok]]
        _, once = np.unique(client * _SHIFT + supplier, return_index=True)  # the same pair drawn twice links once
        client, supplier = client[once], supplier[once]
        fresh = ~links.contains(client * _SHIFT + supplier)
        links.add(client[fresh], supplier[fresh], model.steps)


def _link_terms(model) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows of clients and suppliers, and each supplier's log price and log quality relative to the mean over links."""
    f = model.firms
    rc, rs = rows_of(model)
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
    f.input_quality[:] = np.where(has, p.supply_quality_weight * np.bincount(rc, weights=log_q, minlength=f.n) / count, 0.0)


def trade(model) -> None:
    """After markets clear: clients order inputs, suppliers serve them from spare capacity.

    A client's order to each supplier is its share of ``subcontract_share`` x
    material cost x output, at the supplier's relative price; a supplier
    short of capacity serves every client the same fraction, and the client
    buys the rest outside at the outside price.
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
    spare = np.maximum(f.employees * f.productivity - f.output, 0.0)
    fill = np.where(asked > 0, np.minimum(1.0, spare / np.maximum(asked, 1e-300)), 1.0)
    served = fill[rs]
    links.fill = 0.5 * links.fill + 0.5 * served  # clients judge reliability over a few quarters
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
