"""Firms as Mesa agents: the public face of rows in the model's firm table.

A ``Firm`` holds no state of its own besides its id; every attribute reads
the model's numpy arrays, so vectorised submodels and agent-level code see
the same numbers.
"""

from __future__ import annotations

from mesa.discrete_space import CellAgent

from sim.world import MARKETS, NICHES, PROVINCES


class Firm(CellAgent):
    """A firm of the district, in the cell of its province; its state lives in ``model.firms`` (see sim.state)."""

    @property
    def row(self) -> int:
        """Row of this firm in the model's firm table (-1 once it has exited)."""
        return int(self.model.firms.row_of[self.unique_id])

    def _get(self, field: str) -> float:
        return float(getattr(self.model.firms, field)[self.row])

    @property
    def province(self) -> str:
        return PROVINCES[int(self.model.firms.province[self.row])]

    @property
    def niche(self) -> str:
        return NICHES[int(self.model.firms.niche[self.row])]

    @property
    def employees(self) -> float:
        return self._get("employees")

    @property
    def productivity(self) -> float:
        return self._get("productivity")

    @property
    def quality(self) -> float:
        return self._get("quality")

    @property
    def price(self) -> float:
        return self._get("price")

    @property
    def markup(self) -> float:
        return self._get("markup")

    @property
    def cash(self) -> float:
        return self._get("cash")

    @property
    def debt(self) -> float:
        return self._get("debt")

    @property
    def net_worth(self) -> float:
        """Capital plus cash minus debt (EUR thousand)."""
        from sim.finance import net_worth

        return float(net_worth(self.model, self.row))

    @property
    def age(self) -> int:
        """Quarters since the firm was born (initial firms carry a drawn age)."""
        return int(self.model.steps - self.model.firms.entered_step[self.row])

    @property
    def markets(self) -> list[str]:
        served = self.model.firms.served[self.row]
        return [m for m, on in zip(MARKETS, served, strict=True) if on]

    @property
    def parent(self) -> int | None:
        """Id of the firm this one was spun off from (None for other firms)."""
        parent = int(self.model.firms.parent_id[self.row])
        return parent if parent >= 0 else None

    @property
    def is_exporter(self) -> bool:
        return bool(self.model.firms.served[self.row, 1:].any())
