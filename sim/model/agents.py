"""Firms as Mesa agents: the view of one row of the model's firm table.

A ``Firm`` holds no state of its own besides its id and its cell; every
attribute reads the model's numpy arrays, so vectorised submodels and
agent-level code see the same numbers. It answers what a student would ask
about one firm: its size, prices and accounts, the markets it serves and
since when, its know-how by domain, its partners, suppliers and clients,
and the support it has received.
"""

from __future__ import annotations

from typing import Any

from mesa.discrete_space import CellAgent

from sim.config.specs import INSTRUMENTS
from sim.model.links import partner_rows, supply_rows
from sim.model.world import DOMAINS, MARKETS, NICHES, PROVINCES


class _Column:
    """A scalar field of the firm table read as an attribute of one firm: ``firm.employees`` is
    ``model.firms.employees[firm.row]`` as a Python number."""

    def __init__(self, meaning: str) -> None:
        self.__doc__ = meaning

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, firm: Firm | None, owner: type | None = None) -> Any:
        if firm is None:
            return self
        return getattr(firm.model.firms, self.name)[firm.row].item()


class Firm(CellAgent):
    """A firm of the district, in the cell of its province; its state is a row of ``model.firms``.

    Each quarter a firm (docs/ODD.md, section 3) sells in the markets it
    serves, at its price and appeal, against regional and foreign rivals;
    spends on R&D and may innovate or imitate; learns from producing, its
    partners, universities and neighbours; may enter a foreign market or
    leave one; hires or lets workers go toward the demand it expects;
    settles its accounts and borrows; and exits when it cannot pay.
    """

    employees = _Column("workers")
    productivity = _Column("units of output per worker per quarter")
    quality = _Column("appeal of its products to buyers (index, geometric mean about 1)")
    markup = _Column("markup over unit variable cost")
    price = _Column("ex-works price, EUR thousand per unit")
    rd_intensity = _Column("share of revenue spent on R&D")
    revenue = _Column("sales this quarter, EUR thousand (markets and regional clients)")
    profit = _Column("profit this quarter, EUR thousand")
    cash = _Column("cash, EUR thousand")
    debt = _Column("bank debt, EUR thousand")

    @property
    def row(self) -> int:
        """Row of this firm in the model's firm table (-1 once it has exited)."""
        return int(self.model.firms.row_of[self.unique_id])

    @property
    def province(self) -> str:
        return PROVINCES[int(self.model.firms.province[self.row])]

    @property
    def niche(self) -> str:
        return NICHES[int(self.model.firms.niche[self.row])]

    @property
    def age(self) -> int:
        """Quarters since the firm was born (initial firms carry a drawn age)."""
        return int(self.model.steps - self.model.firms.entered_step[self.row])

    @property
    def net_worth(self) -> float:
        """Capital (capital_per_worker x employees) plus cash minus debt, EUR thousand."""
        return self.model.params.capital_per_worker * self.employees + self.cash - self.debt

    @property
    def parent(self) -> int | None:
        """Id of the firm this one was spun off from (None for other firms)."""
        parent = int(self.model.firms.parent_id[self.row])
        return parent if parent >= 0 else None

    @property
    def markets(self) -> list[str]:
        """Markets the firm serves, Italy first."""
        return list(self.markets_since)

    @property
    def markets_since(self) -> dict[str, int]:
        """Each market the firm serves and the step it last entered it (0: served from the start)."""
        f, row = self.model.firms, self.row
        return {m: max(int(f.market_entered[row, i]), 0) for i, m in enumerate(MARKETS) if f.served[row, i]}

    @property
    def is_exporter(self) -> bool:
        return bool(self.model.firms.served[self.row, 1:].any())

    @property
    def know_how(self) -> dict[str, float]:
        """Know-how stock in each technology domain (index; docs/ODD.md, 7.15)."""
        return dict(zip(DOMAINS, self.model.firms.know_how[self.row].tolist(), strict=True))

    @property
    def partners(self) -> list[int]:
        """Ids of its technical partners."""
        ra, rb = partner_rows(self.model)
        ids = self.model.firms.firm_id
        row = self.row
        return sorted(ids[rb[ra == row]].tolist() + ids[ra[rb == row]].tolist())

    @property
    def suppliers(self) -> list[int]:
        """Ids of the regional firms it subcontracts to."""
        rc, rs = supply_rows(self.model)
        return sorted(self.model.firms.firm_id[rs[rc == self.row]].tolist())

    @property
    def clients(self) -> list[int]:
        """Ids of the regional firms it supplies."""
        rc, rs = supply_rows(self.model)
        return sorted(self.model.firms.firm_id[rc[rs == self.row]].tolist())

    @property
    def support(self) -> dict[str, float]:
        """Policy support received since birth, EUR thousand, by instrument."""
        return dict(zip(INSTRUMENTS, self.model.firms.support[self.row].tolist(), strict=True))

    def describe(self) -> dict[str, Any]:
        """Everything above in one mapping (what the view's firm inspector shows)."""
        names = [n for n, v in vars(Firm).items() if isinstance(v, _Column | property) and n != "row"]
        out: dict[str, Any] = {"firm_id": self.unique_id}
        out.update({name: getattr(self, name) for name in names})
        return out
