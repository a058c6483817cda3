"""Space: the nine provinces as a Mesa discrete space, and where firms stand in them (ODD 2.7, 7.13).

Provinces are the cells of a ``mesa.discrete_space.Network`` whose links join
provinces that share a border; every firm is a ``CellAgent`` in the cell of
its province. Firms also have coordinates (km east and north of Bologna),
drawn around their province's capital, so that distance can matter: same
province, then neighbouring provinces, then the rest of the region.
"""

from __future__ import annotations

import functools
import math

import networkx as nx
import numpy as np
from mesa.discrete_space import Cell, Network

from sim.model.world import PROVINCES

#: Provincial capitals (latitude, longitude in degrees).
CAPITALS: dict[str, tuple[float, float]] = {
    "piacenza": (45.052, 9.693),
    "parma": (44.801, 10.328),
    "reggio_emilia": (44.698, 10.631),
    "modena": (44.647, 10.925),
    "bologna": (44.494, 11.343),
    "ferrara": (44.838, 11.620),
    "ravenna": (44.418, 12.204),
    "forli_cesena": (44.222, 12.041),
    "rimini": (44.060, 12.566),
}

#: Provinces that share a border.
BORDERS: tuple[tuple[str, str], ...] = (
    ("piacenza", "parma"),
    ("parma", "reggio_emilia"),
    ("reggio_emilia", "modena"),
    ("modena", "bologna"),
    ("modena", "ferrara"),
    ("bologna", "ferrara"),
    ("bologna", "ravenna"),
    ("ferrara", "ravenna"),
    ("ravenna", "forli_cesena"),
    ("forli_cesena", "rimini"),
)

_ORIGIN = CAPITALS["bologna"]
_KM_PER_DEGREE = 111.2


@functools.cache
def capital_km() -> np.ndarray:
    """Capitals as (east, north) km from Bologna, shape (provinces, 2) (computed once: do not modify)."""
    lat0, lon0 = _ORIGIN
    east = [(CAPITALS[p][1] - lon0) * _KM_PER_DEGREE * math.cos(math.radians(lat0)) for p in PROVINCES]
    north = [(CAPITALS[p][0] - lat0) * _KM_PER_DEGREE for p in PROVINCES]
    return np.column_stack([east, north])


def province_graph() -> nx.Graph:
    """Provinces as nodes (indices of world.PROVINCES) joined where they share a border."""
    graph = nx.Graph()
    graph.add_nodes_from(range(len(PROVINCES)))
    graph.add_edges_from((PROVINCES.index(a), PROVINCES.index(b)) for a, b in BORDERS)
    return graph


#: proximity class of two provinces: 0 same, 1 neighbours, 2 rest of the region
PROXIMITY = np.full((len(PROVINCES), len(PROVINCES)), 2, dtype=np.int8)
for _a, _b in province_graph().edges:
    PROXIMITY[_a, _b] = PROXIMITY[_b, _a] = 1
np.fill_diagonal(PROXIMITY, 0)


class ProvinceCell(Cell):
    """A province: a Mesa cell holding thousands of firms.

    Mesa's Cell keeps its agents in a list, whose removal is linear in their
    number; a province loses hundreds of firms a quarter at the region's
    scale, so agents are kept in an insertion-ordered dict instead (the same
    iteration order, constant-time removal).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._agents = {}

    def add_agent(self, agent) -> None:
        if self.capacity is not None and len(self._agents) >= self.capacity:
            raise ValueError(f"province cell {self.coordinate} is full")
        self._agents[agent] = None
        self.empty = False

    def remove_agent(self, agent) -> None:
        del self._agents[agent]
        self.empty = not self._agents

    @property
    def is_empty(self) -> bool:
        return not self._agents

    @property
    def is_full(self) -> bool:
        return self.capacity is not None and len(self._agents) >= self.capacity

    @property
    def agents(self) -> list:
        return list(self._agents)


def build(model) -> Network:
    """The provinces as a Mesa Network space (cells are provinces)."""
    return Network(province_graph(), random=model.random, cell_klass=ProvinceCell)


def locate(model, province: np.ndarray, rng: np.random.Generator, near: np.ndarray | None = None) -> np.ndarray:
    """Coordinates (km) for new firms: around their capital, or close to ``near`` (e.g. a parent)."""
    if near is not None:
        return near + rng.normal(0.0, model.params.spinoff_distance_km, size=near.shape)
    return capital_km()[province] + rng.normal(0.0, model.params.province_radius_km, size=(province.size, 2))


def place(model, agents, province: np.ndarray) -> None:
    """Put new firm agents in the cell of their province."""
    cells = model.space._cells
    for agent, p in zip(agents, province.tolist(), strict=True):
        agent.cell = cells[p]
