"""Networks: technical collaborations between firms, local knowledge spillovers, network metrics.

Collaborations (after the partner search of the SKIN model, Gilbert, Pyka &
Ahrweiler 2001): every quarter some firms look for a partner. Candidates come
from buckets, never from all firms: the same province and niche, the same
province (complementary niches), or the same niche anywhere, drawn with
probability rising with the candidate's size and number of partners
(well-known firms are easier to find). A link forms if one side has something to teach
the other (higher quality or productivity, a different mix of know-how) and
both have room. Partners are
each other's first source for imitation and do joint R&D (higher innovation
efficiency); a link dissolves at random or once there is nothing left to
learn. Complementarity is measured on quality, productivity and the mix of
know-how across technology domains (sim/knowhow.py). Knowing partners already
present in a foreign market lowers the cost of entering it and the error in
judging it. All work is linear in the number of firms and links.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

from sim import knowhow
from sim.state import nonzero_cells
from sim.world import N_MARKETS, N_NICHES


def pair_key(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One integer per unordered pair of firm ids."""
    return np.minimum(a, b) * (1 << 32) + np.maximum(a, b)


@dataclass
class SortedLinks:
    """Links between firms kept sorted by one integer key per link (collaborations, supply links)."""

    version: int = 0  # incremented whenever links are added or removed (rows_of caches against it)
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
class Links(SortedLinks):
    """Undirected collaboration links as arrays of firm ids (a < b), kept sorted by pair key."""

    a: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    b: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    since: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))

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


def insertion_slots(at: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Where new items go when inserted before positions ``at`` (ascending) of an array of ``size``: (their slots, the old items' slots).

    The same layout as ``np.insert(old, at, new)``, computed once for several
    arrays that get the same insertion.
    """
    new = at + np.arange(at.size)
    old = np.ones(size + at.size, dtype=bool)
    old[new] = False
    return new, np.flatnonzero(old)


def merge(old: np.ndarray, new: np.ndarray, slots: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """``old`` with ``new`` inserted at ``insertion_slots``."""
    out = np.empty(old.size + new.size, dtype=old.dtype)
    out[slots[0]] = new
    out[slots[1]] = old
    return out


def setup(model) -> None:
    model.links = Links()


def rows_of(model) -> tuple[np.ndarray, np.ndarray]:
    """Rows of both ends of every link (links of exited firms are dropped first)."""
    return link_rows(model.firms, model.links, "a", "b")


def link_rows(firms, links, first: str, second: str) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the firms named by ``links.<first>`` and ``links.<second>``, after dropping links of exited firms.

    Shared by collaboration and supply links; cached until firms enter or
    exit or the links change (``links.version``), so callers must not
    modify the result.
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


def capacity(model) -> np.ndarray:
    """Most partners each firm keeps: larger firms run more collaborations (1 + sqrt(employees), capped)."""
    return np.minimum(1.0 + np.sqrt(model.firms.employees), model.params.max_partners)


def degree(model) -> np.ndarray:
    """Partners of each firm."""
    ra, rb = rows_of(model)
    return np.bincount(np.concatenate([ra, rb]), minlength=model.firms.n)


def weighted_pick(keys: np.ndarray | None, weight: np.ndarray, wanted: np.ndarray, u: np.ndarray, grouped: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """For each wanted key, a row whose key matches, drawn with probability proportional to weight (-1: none).

    ``grouped``: the stable order of the rows by key and the sorted keys, if already known.
    """
    order, _, bounds = grouped if grouped is not None else group_rows(keys)
    cumulative = np.cumsum(weight[order])
    start, stop = group_bounds(bounds, wanted)
    before = np.where(start > 0, cumulative[np.maximum(start - 1, 0)], 0.0)
    total = np.where(stop > 0, cumulative[np.maximum(stop - 1, 0)], 0.0) - before
    out = np.full(wanted.size, -1)
    able = total > 0
    index = np.minimum(np.searchsorted(cumulative, before[able] + u[able] * total[able], side="right"), stop[able] - 1)
    out[able] = order[index]
    return out


def group_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows in stable order of their (small, non-negative integer) keys, the keys in that order, and where each key's rows start.

    ``bounds[k]`` is the position of the first row with a key >= k, for k up
    to one past the largest key (see ``group_bounds``).
    """
    order = np.argsort(keys.astype(np.int16), kind="stable")  # small integer keys: radix sort
    sorted_keys = keys[order]
    bounds = np.searchsorted(sorted_keys, np.arange(int(sorted_keys[-1]) + 2 if sorted_keys.size else 1))
    return order, sorted_keys, bounds


def group_bounds(bounds: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and one-past-last position of each wanted key's rows in a ``group_rows`` order (empty where a key has none)."""
    last = bounds.size - 1
    return bounds[np.minimum(wanted, last)], bounds[np.minimum(wanted + 1, last)]


def complementarity(model, a: np.ndarray, b: np.ndarray, mix: np.ndarray | None = None) -> np.ndarray:
    """What two firms can learn from each other: log gaps in quality and productivity plus the distance between their know-how mixes."""
    f = model.firms
    gap = np.abs(np.log(f.quality[a] / f.quality[b])) + np.abs(np.log(f.productivity[a] / f.productivity[b]))
    return gap + knowhow.mix_distance(model, a, b, mix)


def collaborate(model) -> None:
    """Dissolve links that no longer pay, then let searching firms find partners."""
    f, p, links = model.firms, model.params, model.links
    rng = model.streams["networks"]
    ra, rb = rows_of(model)
    mix = knowhow.mixes(model)
    if links.n:
        gap = complementarity(model, ra, rb, mix)
        stay = (rng.random(links.n) >= p.partner_break_rate) & (gap > p.partner_min_gap)
        links.keep(stay)
    deg = degree(model)
    cap = capacity(model)
    room = deg < cap
    # Larger firms search more often and are more visible (both grow with their capacity).
    seekers = np.nonzero(room & (rng.random(f.n) < p.partner_search_rate * cap / 2.0))[0]
    if seekers.size == 0:
        return
    where = rng.random(seekers.size)
    u = rng.random(seekers.size)
    weight = np.where(room, (1.0 + deg) * cap, 0.0)
    same_bucket = where < p.partner_same_niche_local
    same_province = ~same_bucket & (where < p.partner_same_niche_local + p.partner_same_province)
    anywhere = ~same_bucket & ~same_province
    candidate = np.full(seekers.size, -1)
    for name, mask, key in (
        ("bucket", same_bucket, lambda rows: f.province[rows].astype(np.intp) * N_NICHES + f.niche[rows]),
        ("province", same_province, lambda rows: f.province[rows].astype(np.intp)),
        ("niche", anywhere, lambda rows: f.niche[rows].astype(np.intp)),
    ):
        if mask.any():
            grouped = f.cached(f"networks_group_{name}", lambda key=key: group_rows(key(slice(None))))  # provinces and niches are fixed between entries and exits
            candidate[mask] = weighted_pick(None, weight, key(seekers[mask]), u[mask], grouped)
    # Triadic closure: some searches go through a partner's partner.
    groups = partner_groups(model)
    model.partners_at_search = ((f.version, model.steps), groups)  # innovation reuses them (sim/innovation.py)
    u_peer = rng.random(f.n)
    first = partner_draw(groups, u_peer, seekers)
    second = np.full(seekers.size, -1)
    second[first >= 0] = partner_draw(groups, u_peer, first[first >= 0])
    through = (rng.random(seekers.size) < p.partner_triadic) & (second >= 0)
    candidate[through] = second[through]
    ok = (candidate >= 0) & (candidate != seekers)
    ok[ok] &= room[candidate[ok]]
    s, c = seekers[ok], candidate[ok]
    complementary = complementarity(model, s, c, mix) > p.partner_min_gap
    s, c = s[complementary], c[complementary]
    # No duplicate links, and at most one new link per firm a quarter (so nobody passes its capacity).
    lo, hi = np.minimum(f.firm_id[s], f.firm_id[c]), np.maximum(f.firm_id[s], f.firm_id[c])
    ends = np.column_stack([s, c]).ravel()
    _, first = np.unique(ends, return_index=True)
    first_at = np.full(f.n, -1)
    first_at[ends[first]] = first
    once = (first_at[s] == 2 * np.arange(s.size)) & (first_at[c] == 2 * np.arange(s.size) + 1)
    fresh = once & ~links.contains(pair_key(lo, hi))
    links.add(lo[fresh], hi[fresh], model.steps)


def partner_groups(model) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each firm's partners grouped together: (order of link ends, partners per firm, first position, partner of each end)."""
    ra, rb = rows_of(model)
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


def partner_peer(model, rng: np.random.Generator, groups: tuple | None = None) -> np.ndarray:
    """For each firm, the row of one of its partners drawn at random (-1: none).

    ``groups``: ``partner_groups(model)``, if already computed for the current firms.
    """
    n = model.firms.n
    u = rng.random(n)
    return partner_draw(partner_groups(model) if groups is None else groups, u, np.arange(n))


def partner_draw(groups: tuple, u: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For firms ``rows``, the partner picked by their uniform draws ``u`` (indexed by row) among ``groups`` (-1: none).

    The same pick as ``partner_peer`` with the same draws, for only the firms that need one.
    """
    order, count, start, others = groups
    c = count[rows]
    out = np.full(rows.size, -1)
    has = c > 0
    r = rows[has]
    out[has] = others[order[start[r] + np.floor(u[r] * c[has]).astype(np.intp)]]
    return out


def search_partners(model) -> tuple | None:
    """The partner groups of this quarter's partner search (before its new links), if the firms have not changed since."""
    stored = getattr(model, "partners_at_search", None)
    if stored is not None and stored[0] == (model.firms.version, model.steps):
        return stored[1]
    return None


def contacts_present(model, rows: np.ndarray) -> np.ndarray:
    """Whether each firm of ``rows`` knows a firm serving each market, shape (rows, markets).

    Contacts are technical partners, clients and suppliers (sim/supply.py):
    firms that would share what they know of a foreign market's buyers.
    """
    from sim import supply

    f = model.firms
    rows = np.asarray(rows)
    ra, rb = rows_of(model)
    rc, rs = supply.rows_of(model)
    position = np.full(f.n, -1)
    position[rows] = np.arange(rows.size)
    mine = np.concatenate([ra, rb, rc, rs])
    other = np.concatenate([rb, ra, rs, rc])
    at = position[mine]
    asked = at >= 0  # only links of the firms asked about
    link, market = nonzero_cells(f.served.take(other[asked], axis=0))
    present = np.zeros((rows.size, N_MARKETS), dtype=bool)
    present[at[asked][link], market] = True  # setting True twice is harmless: no reduction needed
    return present


def adjacency(model) -> sparse.csr_matrix:
    """The district's inter-firm network as a 0/1 symmetric sparse matrix over rows: collaborations and supply links.

    A pair linked both ways (partners that also trade) counts once.
    """
    from sim import supply

    n = model.firms.n
    ra, rb = rows_of(model)
    rc, rs = supply.rows_of(model)
    a, b = np.concatenate([ra, rc]), np.concatenate([rb, rs])
    matrix = sparse.csr_matrix((np.ones(2 * a.size), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(n, n))
    matrix.data[:] = 1.0  # duplicates were summed
    return matrix


def metrics(model) -> dict[str, float]:
    """Density, average clustering (on a sample of at most 2,000 firms) and giant component share of the inter-firm network.

    The network joins collaborations and supply links (``adjacency``).
    Computed with sparse matrices (scipy) so that it stays cheap at the
    region's scale; clustering counts firms with fewer than two neighbours
    as 0, like networkx's average_clustering.
    """
    f = model.firms
    n = f.n
    collab = int(rows_of(model)[0].size)
    if n < 2:
        return {"n_collab_links": collab, "network_density": 0.0, "network_clustering": 0.0, "giant_component_share": 0.0}
    matrix = adjacency(model)
    _, labels = csgraph.connected_components(matrix, directed=False)
    sample = np.arange(n) if n <= 2000 else np.sort(model.streams["measurement"].choice(n, size=2000, replace=False))
    rows = matrix[sample]
    triangles = np.asarray((rows @ matrix).multiply(rows).sum(axis=1)).ravel() / 2.0
    k = np.asarray(rows.sum(axis=1)).ravel()
    local = np.where(k >= 2, 2.0 * triangles / np.maximum(k * (k - 1), 1.0), 0.0)
    return {
        "n_collab_links": collab,
        "network_density": matrix.nnz / (n * (n - 1)),
        "network_clustering": float(local.mean()),
        "giant_component_share": float(np.bincount(labels).max() / n),
    }


def edge_list(model) -> pd.DataFrame:
    """The network now, as a tidy edge list (network.parquet): collaborations, supply links (client -> supplier) and university links."""
    from sim.universities import UNIVERSITIES

    f, links = model.firms, model.links
    rows_of(model)  # drop links of firms that have exited
    active = np.nonzero((f.collab_until >= model.steps) & (f.university >= 0))[0]
    names = np.array([name for name, _, _ in UNIVERSITIES], dtype=object)
    collab = pd.DataFrame({"firm_id": links.a, "partner_id": pd.array(links.b, dtype="Int64"), "university": pd.array([None] * links.n, dtype="string")})
    collab["kind"], collab["since"] = "collaboration", links.since
    univ = pd.DataFrame(
        {"firm_id": f.firm_id[active], "partner_id": pd.array([None] * active.size, dtype="Int64"), "university": pd.array(names[f.university[active]], dtype="string")}
    )
    univ["kind"], univ["since"] = "university", f.collab_until[active] - model.params.collaboration_quarters + 1
    from sim import supply

    supply.rows_of(model)  # drop links of firms that have exited
    chain = pd.DataFrame(
        {"firm_id": model.supply.client, "partner_id": pd.array(model.supply.supplier, dtype="Int64"), "university": pd.array([None] * model.supply.n, dtype="string")}
    )
    chain["kind"], chain["since"] = "supply", model.supply.since
    frame = pd.concat([collab, chain, univ], ignore_index=True)
    frame.insert(0, "step", np.int32(model.steps))
    frame["kind"] = pd.Categorical(frame["kind"], categories=["collaboration", "supply", "university"])
    frame["since"] = frame["since"].astype(np.int32)
    return frame
