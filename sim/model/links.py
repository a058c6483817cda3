"""The link store: collaboration and supply links between firms, kept as sorted arrays of firm ids.

Links name firms by id (stable across entries and exits), not by row. Each
kind of link is kept sorted by one integer key per link, so that "is this
pair linked already?" is a binary search and new links are merged in order.
Links of firms that have exited are dropped the first time the rows of a
link kind are asked for after the exit (``link_rows``). The submodels that
form and dissolve links are sim/submodels/networks.py (collaborations) and
sim/submodels/supply.py (supply).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.model.arrays import insertion_slots, merge
from sim.model.firms import FirmTable

#: Firm ids are below 2^32, so one 64-bit integer holds a pair of them.
_PAIR_SHIFT = np.int64(1 << 32)


def pair_key(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One integer per unordered pair of firm ids: min x 2^32 + max."""
    return np.minimum(a, b) * _PAIR_SHIFT + np.maximum(a, b)


def supply_key(client: np.ndarray, supplier: np.ndarray) -> np.ndarray:
    """One integer per ordered (client, supplier) pair of firm ids: client x 2^32 + supplier."""
    return client * _PAIR_SHIFT + supplier


@dataclass
class SortedLinks:
    """Links between firms kept sorted by one integer key per link."""

    version: int = 0  # incremented whenever links are added or removed (cached rows are checked against it)
    rows_cache: tuple | None = field(default=None, repr=False, compare=False)
    keys_cache: tuple | None = field(default=None, repr=False, compare=False)

    def link_keys(self) -> np.ndarray:
        """The key of every link, computed from its firms."""
        raise NotImplementedError

    def keys(self) -> np.ndarray:
        """The links' keys, in order (cached until the links change)."""
        hit = self.keys_cache
        if hit is None or hit[0] != self.version:
            hit = self.keys_cache = (self.version, self.link_keys())
        return hit[1]

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """Which keys are links already (binary search: links stay sorted)."""
        existing = self.keys()
        if existing.size == 0:
            return np.zeros(keys.size, dtype=bool)
        where = np.minimum(np.searchsorted(existing, keys), existing.size - 1)
        return existing[where] == keys


@dataclass
class CollaborationLinks(SortedLinks):
    """Undirected technical collaborations as arrays of firm ids (a < b), sorted by pair key."""

    a: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    b: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    since: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))  # step the link formed

    @property
    def n(self) -> int:
        return int(self.a.size)

    def link_keys(self) -> np.ndarray:
        return pair_key(self.a, self.b)

    def keep(self, mask: np.ndarray) -> None:
        self.a, self.b, self.since = self.a[mask], self.b[mask], self.since[mask]
        self.version += 1

    def add(self, a: np.ndarray, b: np.ndarray, step: int) -> None:
        """Insert new links (not already present) in key order."""
        order = np.argsort(pair_key(a, b))
        lo, hi = np.minimum(a, b)[order], np.maximum(a, b)[order]
        slots = insertion_slots(np.searchsorted(self.keys(), pair_key(lo, hi)), self.n)
        self.a = merge(self.a, lo, slots)
        self.b = merge(self.b, hi, slots)
        self.since = merge(self.since, np.full(lo.size, step, dtype=np.int32), slots)
        self.version += 1


@dataclass
class SupplyLinks(SortedLinks):
    """Directed client -> supplier links as arrays of firm ids, sorted by (client, supplier)."""

    client: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    supplier: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    since: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    fill: np.ndarray = field(
        default_factory=lambda: np.zeros(0)
    )  # share of recent orders served (weight 1/2 on the latest)

    @property
    def n(self) -> int:
        return int(self.client.size)

    def link_keys(self) -> np.ndarray:
        return supply_key(self.client, self.supplier)

    def keep(self, mask: np.ndarray) -> None:
        self.client, self.supplier = self.client[mask], self.supplier[mask]
        self.since, self.fill = self.since[mask], self.fill[mask]
        self.version += 1

    def add(self, client: np.ndarray, supplier: np.ndarray, step: int) -> None:
        """Insert new links (not already present) in key order."""
        new = supply_key(client, supplier)
        order = np.argsort(new)
        slots = insertion_slots(np.searchsorted(self.keys(), new[order]), self.n)
        self.client = merge(self.client, client[order], slots)
        self.supplier = merge(self.supplier, supplier[order], slots)
        self.since = merge(self.since, np.full(order.size, step, dtype=np.int32), slots)
        self.fill = merge(self.fill, np.ones(order.size), slots)
        self.version += 1


def link_rows(firms: FirmTable, links: SortedLinks, first: str, second: str) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the firms named by ``links.<first>`` and ``links.<second>``, after dropping links of exited firms.

    Cached until firms enter or exit or the links change, so callers must
    not modify the result.
    """
    hit = links.rows_cache
    if hit is not None and hit[0] == (firms.version, links.version):
        return hit[1], hit[2]
    ra, rb = firms.row_of[getattr(links, first)], firms.row_of[getattr(links, second)]
    alive = (ra >= 0) & (rb >= 0)
    if not alive.all():
        links.keep(alive)
        ra, rb = ra[alive], rb[alive]
    links.rows_cache = ((firms.version, links.version), ra, rb)
    return ra, rb


def partner_rows(model) -> tuple[np.ndarray, np.ndarray]:
    """Rows of both ends of every collaboration (links of exited firms are dropped first)."""
    return link_rows(model.firms, model.links, "a", "b")


def supply_rows(model) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the client and the supplier of every supply link (links of exited firms are dropped first)."""
    return link_rows(model.firms, model.supply, "client", "supplier")


def degree(model) -> np.ndarray:
    """Technical partners of each firm."""
    ra, rb = partner_rows(model)
    return np.bincount(np.concatenate([ra, rb]), minlength=model.firms.n)


def supply_counts(model) -> tuple[np.ndarray, np.ndarray]:
    """Suppliers and clients of each firm."""
    rc, rs = supply_rows(model)
    n = model.firms.n
    return np.bincount(rc, minlength=n), np.bincount(rs, minlength=n)


PartnerGroups = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def partner_groups(model) -> PartnerGroups:
    """Each firm's partners grouped together.

    Returns the order of link ends by firm, partners per firm, each firm's
    first position in that order, and the partner at each end.
    """
    ra, rb = partner_rows(model)
    n = model.firms.n
    ends = np.concatenate([ra, rb])
    others = np.concatenate([rb, ra])
    # Group each firm's links, in link order (any order inside a group would do:
    # the draws are uniform). A stable sort is unique, so the draw does not
    # depend on the sorting algorithm; rows fit 16 bits up to 65,536 firms, where
    # numpy sorts stably in linear time (radix sort).
    order = np.argsort(ends.astype(np.uint16) if n <= 1 << 16 else ends, kind="stable")
    count = np.bincount(ends, minlength=n)
    return order, count, np.cumsum(count) - count, others


def partner_draw(groups: PartnerGroups, u: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For firms ``rows``, the partner picked by their uniform draws ``u`` (indexed by row) among ``groups`` (-1: none).

    The k-th of a firm's c partners (in ``groups`` order) is picked when
    floor(u c) = k.
    """
    order, count, start, others = groups
    c = count[rows]
    out = np.full(rows.size, -1)
    has = c > 0
    r = rows[has]
    out[has] = others[order[start[r] + np.floor(u[r] * c[has]).astype(np.intp)]]
    return out
