"""The district's inter-firm network as one graph: who knows whom, its metrics, its edge list.

Collaborations and supply links (sim/model/links.py) together make the
network through which firms hear of foreign markets (``contacts_present``)
and whose shape the observer measures (``metrics``); ``edge_list`` is the
network as written to network.parquet, university collaborations included.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

from sim.model.arrays import true_cells
from sim.model.links import partner_rows, supply_rows
from sim.model.world import N_MARKETS, UNIVERSITY_NAMES

#: Clustering is averaged over a sample of at most this many firms.
CLUSTERING_SAMPLE = 2000


def contacts_present(model, rows: np.ndarray) -> np.ndarray:
    """Whether each firm of ``rows`` knows a firm serving each market, shape (rows, markets).

    Contacts are technical partners, clients and suppliers: firms that would
    share what they know of a foreign market's buyers.
    """
    f = model.firms
    rows = np.asarray(rows)
    ra, rb = partner_rows(model)
    rc, rs = supply_rows(model)
    position = np.full(f.n, -1)
    position[rows] = np.arange(rows.size)
    mine = np.concatenate([ra, rb, rc, rs])
    other = np.concatenate([rb, ra, rs, rc])
    at = position[mine]
    asked = at >= 0  # only links of the firms asked about
    link, market = true_cells(f.served.take(other[asked], axis=0))
    present = np.zeros((rows.size, N_MARKETS), dtype=bool)
    present[at[asked][link], market] = True  # setting True twice is harmless: no reduction needed
    return present


def contact_pairs(model, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Collaboration and supply links between two of ``members`` (rows), as pairs of positions in ``members``."""
    position = np.full(model.firms.n, -1)
    position[members] = np.arange(members.size)
    ra, rb = partner_rows(model)
    rc, rs = supply_rows(model)
    a, b = position[np.concatenate([ra, rc])], position[np.concatenate([rb, rs])]
    inside = (a >= 0) & (b >= 0)
    return a[inside], b[inside]


def adjacency(model) -> sparse.csr_matrix:
    """The network as a 0/1 symmetric sparse matrix over rows: collaborations and supply links.

    A pair linked both ways (partners that also trade) counts once.
    """
    n = model.firms.n
    ra, rb = partner_rows(model)
    rc, rs = supply_rows(model)
    a, b = np.concatenate([ra, rc]), np.concatenate([rb, rs])
    matrix = sparse.csr_matrix((np.ones(2 * a.size), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(n, n))
    matrix.data[:] = 1.0  # duplicates were summed
    return matrix


def metrics(model) -> dict[str, float]:
    """Density, average clustering (on a sample of firms) and giant component share of the network.

    Computed with sparse matrices (scipy) so that it stays cheap at the
    region's scale; clustering counts firms with fewer than two neighbours
    as 0, like networkx's average_clustering.
    """
    f = model.firms
    n = f.n
    collab = int(partner_rows(model)[0].size)
    if n < 2:
        return {
            "n_collab_links": collab,
            "network_density": 0.0,
            "network_clustering": 0.0,
            "giant_component_share": 0.0,
        }
    matrix = adjacency(model)
    _, labels = csgraph.connected_components(matrix, directed=False)
    if n <= CLUSTERING_SAMPLE:
        sample = np.arange(n)
    else:
        sample = np.sort(model.streams["measurement"].choice(n, size=CLUSTERING_SAMPLE, replace=False))
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
    """The network now, as a tidy edge list (network.parquet).

    Collaborations, supply links (client -> supplier) and university
    collaborations under way.
    """
    f, links, chain = model.firms, model.links, model.supply
    partner_rows(model)  # drop links of firms that have exited
    supply_rows(model)
    active = np.nonzero((f.collab_until >= model.steps) & (f.university >= 0))[0]
    names = np.array(UNIVERSITY_NAMES, dtype=object)
    no_partner = pd.array([None] * active.size, dtype="Int64")

    def frame(firm_id, partner_id, university, kind, since) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "firm_id": firm_id,
                "partner_id": pd.array(partner_id, dtype="Int64"),
                "university": pd.array(university, dtype="string"),
                "kind": kind,
                "since": since,
            }
        )

    collab = frame(links.a, links.b, [None] * links.n, "collaboration", links.since)
    supply = frame(chain.client, chain.supplier, [None] * chain.n, "supply", chain.since)
    since_university = f.collab_until[active] - model.params.collaboration_quarters + 1
    univ = frame(f.firm_id[active], no_partner, names[f.university[active]], "university", since_university)
    out = pd.concat([collab, supply, univ], ignore_index=True)
    out.insert(0, "step", np.int32(model.steps))
    out["kind"] = pd.Categorical(out["kind"], categories=["collaboration", "supply", "university"])
    out["since"] = out["since"].astype(np.int32)
    return out
