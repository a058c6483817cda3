"""The firm table: per-firm state as a struct of numpy arrays, one row per living firm.

Every step touches every firm, so the hot state lives here rather than on
Python objects (``sim.model.agents.Firm`` is the view of one row). Rows are
kept compact (dead firms are removed at the end of a step); ``row_of`` maps a
firm id (the Mesa ``unique_id``) to its row. Also here: the views of the
table that many submodels read (exporters, niche indices, (niche, market)
cells).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config.specs import INSTRUMENTS
from sim.model.arrays import any_per_row, group_rows
from sim.model.world import DOMESTIC, N_DOMAINS, N_MARKETS, N_NICHES, N_PROVINCES

N_INSTRUMENTS = len(INSTRUMENTS)

#: name -> (dtype, trailing shape). Documented in docs/ODD.md, section 2.
FIELDS: dict[str, tuple[type, tuple[int, ...]]] = {
    "firm_id": (np.int64, ()),
    "province": (np.int8, ()),
    "niche": (np.int8, ()),
    "niche_entered": (np.int32, ()),  # step the firm entered its current niche (at birth or by switching)
    "parent_id": (np.int64, ()),  # firm it was spun off from (-1: none)
    "location": (np.float64, (2,)),  # km east and north of Bologna
    "entered_step": (np.int32, ()),  # step at which the firm was born (initial firms: minus their drawn age)
    "employees": (np.float64, ()),
    "productivity": (np.float64, ()),  # units of output per worker per quarter
    "quality": (np.float64, ()),  # index of buyers' valuation (appeal); geometric mean ~1 at the start
    "markup": (np.float64, ()),
    "price": (np.float64, ()),  # EUR thousand per unit, ex works
    "rd_intensity": (np.float64, ()),  # share of revenue spent on R&D
    "know_how": (np.float64, (N_DOMAINS,)),  # stock of know-how in each technology domain (submodels/knowhow.py)
    "cash": (np.float64, ()),
    "debt": (np.float64, ()),
    "expected_demand": (np.float64, ()),  # units per quarter
    "demanded": (np.float64, ()),  # units demanded this quarter (before rationing)
    "output": (np.float64, ()),  # units sold this quarter
    "revenue": (np.float64, ()),  # market sales plus sales to regional clients
    "b2b_sales": (np.float64, ()),  # revenue from regional clients this quarter (submodels/supply.py)
    "input_cost_gap": (np.float64, ()),  # relative change of the unit material cost due to regional suppliers
    "input_quality": (np.float64, ()),  # log quality the firm's suppliers add to its products
    "costs": (np.float64, ()),  # all costs booked this quarter
    "materials": (np.float64, ()),  # intermediate inputs bought this quarter (regional suppliers included)
    "wage_bill": (np.float64, ()),  # wages paid this quarter
    "profit": (np.float64, ()),
    "profit_trend": (np.float64, ()),  # exponential average of quarterly profit (weight 1/4 on the latest)
    "operating_trend": (np.float64, ()),  # the same of profit before sunk investments (entry, niche moves, programmes)
    "share": (np.float64, (N_MARKETS,)),  # share of each market's expenditure in the firm's niche
    "sales": (np.float64, (N_MARKETS,)),  # revenue from each market this quarter
    "match": (np.float64, (N_MARKETS,)),  # log buyer-firm match quality in each market (AR(1) shock)
    "fit": (np.float64, (N_MARKETS,)),  # the firm's persistent log fit with each market's buyers (0 at home)
    "belief": (np.float64, (N_MARKETS,)),  # what the firm believes its fit is (submodels/learning.py)
    "belief_precision": (np.float64, (N_MARKETS,)),  # 1 / variance of that belief (0: nothing learned yet)
    "trial": (np.bool_, (N_MARKETS,)),  # serves the market on trial (small reach, part of the sunk cost paid)
    "served": (np.bool_, (N_MARKETS,)),
    "consortium": (np.bool_, (N_MARKETS,)),  # serves the market as a member of an export consortium
    "consortium_group": (np.int64, (N_MARKETS,)),  # id of that consortium (0: none)
    "market_entered": (np.int32, (N_MARKETS,)),  # step the firm last entered each market (-1: never)
    "loss_quarters": (np.int16, (N_MARKETS,)),  # consecutive loss-making quarters in each market
    "exiting": (np.bool_, ()),  # flagged for exit at the end of this step
    "exit_cause": (np.int8, ()),  # why it exits (EXIT_CAUSES code; 0 while it does not)
    "guaranteed": (np.float64, ()),  # part of the debt guaranteed by a policy fund
    "guarantee_cover": (np.float64, ()),  # share of the guaranteed debt the fund repays on default
    "guarantee_instalment": (np.float64, ()),  # principal of guaranteed loans due each quarter
    "bank_rating": (np.int8, ()),  # banks' rating class (1-5) this quarter (0: not rated yet)
    "rating": (np.int8, ()),  # rating class (1-5) at the firm's latest guarantee (0: never rated)
    "collab_until": (np.int32, ()),  # last step of the current university collaboration (0: none)
    "university": (np.int8, ()),  # index of the partner university (-1: none)
    "training_until": (np.int32, ()),  # last step of the current training programme (0: none)
    "support": (np.float64, (N_INSTRUMENTS,)),  # policy support received so far, by instrument type
    "support_year": (np.float64, (N_INSTRUMENTS,)),  # policy support received this calendar year
    "aid_recent": (np.float64, (3,)),  # aid of all instruments in each of the last three fiscal years (de minimis)
    # global sourcing (submodels/sourcing.py)
    "import_share": (np.float64, (N_MARKETS,)),  # share of material inputs bought from each market's suppliers
    "import_cost_gap": (np.float64, ()),  # relative change of the unit material cost due to foreign suppliers
    "input_shortfall": (np.float64, ()),  # share of this quarter's inputs foreign suppliers failed to deliver
    # --- foreign affiliates and foreign ownership (submodels/affiliates.py, ODD 7.20) ---
    "affiliate": (np.int8, (N_MARKETS,)),  # affiliate in each market: 0 none, 1 sales and service, 2 assembly plant
    "affiliate_loss_quarters": (np.int16, (N_MARKETS,)),  # consecutive quarters the affiliate did worse than exporting
    "affiliate_sales": (np.float64, (N_MARKETS,)),  # sales made through the firm's affiliate in each market
    "abroad_sales": (np.float64, (N_MARKETS,)),  # value of those sales produced abroad (assembly plants)
    "jobs_abroad": (np.float64, ()),  # workers of the firm's assembly plants abroad (not regional employment)
    "abroad_loan": (np.float64, ()),  # subsidised investment-abroad loan outstanding (not bank credit)
    "abroad_loan_instalment": (np.float64, ()),  # principal of that loan due each quarter
    "abroad_rate_cut": (np.float64, ()),  # quarterly interest the subsidy takes off that loan
    "foreign_owned": (np.bool_, ()),  # bought by a foreign group (submodels/affiliates.py, acquisitions)
    "acquired_step": (np.int32, ()),  # step of that acquisition (0: never acquired)
}


#: Fields of one dtype and trailing shape live in one block, a row of the
#: block per field: moving firms' rows (``FirmTable.remove``) is then one
#: operation per block rather than per field.
_BLOCKS: dict[tuple[np.dtype, tuple[int, ...]], list[str]] = {}
for _name, (_dtype, _shape) in FIELDS.items():
    _BLOCKS.setdefault((np.dtype(_dtype), _shape), []).append(_name)


@dataclass
class FirmTable:
    """Struct-of-arrays store for living firms, grown by appending rows."""

    n: int = 0

    def __post_init__(self) -> None:
        self._capacity = 0
        self._blocks: dict[tuple, np.ndarray] = {}
        self._data: dict[str, np.ndarray] = {}  # each field's row of its block (full capacity)
        self.row_of = np.full(1, -1, dtype=np.int64)
        # Incremented whenever rows are added or removed: arrays derived only
        # from which firm sits in which row (and fixed fields such as niche) are
        # cached against it (see ``cached``).
        self.version = 0
        self._cache: dict[str, tuple[int, np.ndarray]] = {}
        self._reserve(16)

    # Fields are read as attributes: ``table.employees`` is a view of live rows.
    # The view is kept as an instance attribute (so later reads skip this
    # method) until rows are added or removed, when ``_forget_views`` drops it.
    def __getattr__(self, name: str) -> np.ndarray:
        data = self.__dict__.get("_data")
        if data is not None and name in data:
            view = data[name][: self.n]
            self.__dict__[name] = view
            return view
        raise AttributeError(name)

    def _forget_views(self) -> None:
        for name in self._data:
            self.__dict__.pop(name, None)

    def cached(self, key: str, build) -> np.ndarray:
        """``build()``, computed once per row layout (until the next append or remove).

        Only for values that depend on nothing but the living rows' fixed
        fields (firm_id, province, niche); callers must not modify the result.
        """
        hit = self._cache.get(key)
        if hit is not None and hit[0] == self.version:
            return hit[1]
        value = build()
        self._cache[key] = (self.version, value)
        return value

    def touch(self) -> None:
        """Invalidate cached layouts after changing a fixed field in place (a firm switching niche)."""
        self.version += 1

    def _reserve(self, capacity: int) -> None:
        if capacity <= self._capacity:
            return
        capacity = max(capacity, 2 * self._capacity)
        for key, names in _BLOCKS.items():
            dtype, shape = key
            new = np.zeros((len(names), capacity, *shape), dtype=dtype)
            if key in self._blocks:
                new[:, : self.n] = self._blocks[key][:, : self.n]
            self._blocks[key] = new
        self._capacity = capacity
        self._bind()

    def _bind(self) -> None:
        """Point each field at its row of its block (after the blocks were reallocated or unpickled)."""
        self._forget_views()
        self._data = {name: self._blocks[key][j] for key, names in _BLOCKS.items() for j, name in enumerate(names)}

    def __getstate__(self) -> dict:
        # Views share the blocks' memory only within a process: pickle the blocks, rebind on load.
        return {key: value for key, value in self.__dict__.items() if key != "_data" and key not in FIELDS}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._data = {}
        self._bind()

    def append(self, count: int, **values: np.ndarray) -> slice:
        """Add ``count`` rows; unspecified fields are zero. Returns the new rows."""
        self._reserve(self.n + count)
        self._forget_views()
        self.version += 1
        rows = slice(self.n, self.n + count)
        self.n += count
        for name in FIELDS:  # slots freed by remove() still hold dead firms' values
            self._data[name][rows] = values.get(name, 0)
        self.market_entered[rows] = np.where(self.served[rows], self.market_entered[rows], -1)
        for name in ("university", "parent_id"):
            if name not in values:
                getattr(self, name)[rows] = -1
        ids = self.firm_id[rows]
        if ids.size and ids.max() >= self.row_of.size:
            grown = np.full(max(ids.max() + 1, 2 * self.row_of.size), -1, dtype=np.int64)
            grown[: self.row_of.size] = self.row_of
            self.row_of = grown
        self.row_of[ids] = np.arange(rows.start, rows.stop)
        return rows

    def remove(self, mask: np.ndarray) -> None:
        """Drop the rows where ``mask`` is true: the last living rows move into the holes.

        Work is proportional to the number of rows removed, not to the table.
        """
        if not mask.any():
            return
        self.version += 1
        firm_id = self._data["firm_id"]
        self.row_of[firm_id[: self.n][mask]] = -1
        m = self.n - int(mask.sum())
        holes = np.nonzero(mask[:m])[0]  # removed rows that living rows must fill
        movers = np.nonzero(~mask[m:])[0] + m  # living rows beyond the new end
        for block in self._blocks.values():
            block[:, holes] = block.take(movers, axis=1)
        self.n = m
        self._forget_views()
        self.row_of[firm_id[holes]] = holes


#: Why firms exit, coded 1, 2, 3 in ``exit_cause`` (0: not exiting): they cannot pay; their owners close them
#: (going on is worth less than closing); or no successor takes over.
EXIT_CAUSES: tuple[str, ...] = ("insolvency", "closure", "succession")
INSOLVENCY, CLOSURE, SUCCESSION = 1, 2, 3

#: How a firm serves a foreign market through an affiliate, coded 0, 1, 2 in ``affiliate`` (ODD 7.20).
AFFILIATE_KINDS: tuple[str, ...] = ("none", "service", "assembly")
NO_AFFILIATE, SERVICE_AFFILIATE, ASSEMBLY_PLANT = 0, 1, 2

#: The foreign markets as a mask over market columns.
FOREIGN_COLUMNS = np.arange(N_MARKETS) != DOMESTIC
_MARKET_INDEX = np.arange(N_MARKETS)[None, :]


def exporters(served: np.ndarray) -> np.ndarray:
    """Which firms serve at least one foreign market: ``served[:, 1:].any(axis=1)``."""
    return any_per_row(served, FOREIGN_COLUMNS)


#: Size classes by employees, the EU's SME bands (micro < 10, small 10-49, medium 50-249, large >= 250):
#: name -> (label, lowest number of employees). One definition for the outputs, the calibration and validation.
SIZE_CLASSES: dict[str, tuple[str, float]] = {
    "micro": ("0-9", 0.0),
    "small": ("10-49", 10.0),
    "medium": ("50-249", 50.0),
    "large": ("250+", 250.0),
}
N_SIZE_CLASSES = len(SIZE_CLASSES)
#: Firms below this many employees are "small" in the regional sense (micro and small classes together).
SMALL_FIRM_LIMIT = SIZE_CLASSES["medium"][1]
_SIZE_BOUNDS = np.array([low for _, low in SIZE_CLASSES.values()][1:])


def size_class(employees: np.ndarray) -> np.ndarray:
    """Index of each firm's size class in ``SIZE_CLASSES`` (0 micro ... 3 large); employees are continuous."""
    return np.searchsorted(_SIZE_BOUNDS, employees, side="right")


def niche_rows(firms: FirmTable) -> np.ndarray:
    """The firms' niches as indices (cached until firms enter, exit or move)."""
    return firms.cached("niche_intp", lambda: firms.niche.astype(np.intp))


def cell_index(firms: FirmTable) -> np.ndarray:
    """Flat (niche, market) cell, niche x N_MARKETS + market, of every element of a (firms, markets) array (cached)."""
    return firms.cached("cell_index", lambda: (niche_rows(firms)[:, None] * N_MARKETS + _MARKET_INDEX).ravel())


def cell_totals(niche: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Sum a (firms, markets) array over the firms of each niche: shape (markets, niches)."""
    flat = (niche.astype(np.intp)[:, None] * N_MARKETS + _MARKET_INDEX).ravel()
    return _cell_sums(flat, values)


def firm_cell_totals(firms: FirmTable, values: np.ndarray) -> np.ndarray:
    """``cell_totals(firms.niche, values)`` for a (living firms, markets) array, with the cell index cached."""
    return _cell_sums(cell_index(firms), values)


def _cell_sums(flat: np.ndarray, values: np.ndarray) -> np.ndarray:
    sums = np.bincount(flat, weights=values.ravel(), minlength=N_NICHES * N_MARKETS)
    return sums.reshape(N_NICHES, N_MARKETS).T


#: (province, niche) buckets: where firms look for partners, suppliers and parents, and learn from neighbours.
N_BUCKETS = N_PROVINCES * N_NICHES


def bucket_of(province: np.ndarray, niche: np.ndarray) -> np.ndarray:
    """The (province, niche) bucket, province x N_NICHES + niche."""
    return province.astype(np.intp) * N_NICHES + niche


def bucket_keys(firms: FirmTable) -> np.ndarray:
    """Each living firm's (province, niche) bucket (cached until firms enter, exit or move)."""
    return firms.cached("bucket_keys", lambda: bucket_of(firms.province, firms.niche.astype(np.intp)))


def bucket_groups(firms: FirmTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``group_rows`` of the firms by (province, niche) bucket (cached)."""
    return firms.cached("bucket_groups", lambda: group_rows(bucket_keys(firms)))


def province_groups(firms: FirmTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``group_rows`` of the firms by province (cached)."""
    return firms.cached("province_groups", lambda: group_rows(firms.province.astype(np.intp)))


def niche_groups(firms: FirmTable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``group_rows`` of the firms by niche (cached)."""
    return firms.cached("niche_groups", lambda: group_rows(niche_rows(firms)))
