"""What the page reads off the two worlds: monitors, the growing series, and one firm's record.

Plain numbers and text, no drawing and no solara, so that they can be checked against the model directly and
timed on their own. Series come from the DataCollector's lists (no DataFrame is built per quarter).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.model.calendar import QUARTERS_PER_YEAR, quarter_of, year_of
from sim.model.district import DistrictModel
from sim.model.firms import exporters
from sim.view.model import StudentModel


def when(step: int, start_year: int) -> str:
    """A step as the page writes it: "2012 Q3", or "start of 2010" for the initial state."""
    if step <= 0:
        return f"start of {start_year}"
    return f"{year_of(step, start_year)} Q{quarter_of(step)}"


def series(model: DistrictModel, column: str) -> np.ndarray:
    """One model indicator, quarter by quarter (empty before the first step)."""
    return np.asarray(model.datacollector.model_vars.get(column, []), dtype=float)


def years(model: DistrictModel, n: int | None = None) -> np.ndarray:
    """Each recorded quarter as a decimal year (2010.0 is 2010 Q1), the x axis of the plots."""
    n = len(model.datacollector.model_vars.get("step", [])) if n is None else n
    return model.params.start_year + np.arange(n) / QUARTERS_PER_YEAR


@dataclass(frozen=True)
class Monitor:
    """One line of the monitors: the lever world's value, the twin's, and their difference (as text)."""

    key: str
    label: str
    world: str
    twin: str
    difference: str


def _stocks(model: DistrictModel) -> dict[str, float]:
    f = model.firms
    exports = series(model, "export_sales")
    return {
        "firms": float(f.n),
        "employment": float(f.employees.sum()),
        "exporters": float(exporters(f.served).sum()),
        "exports": exports[-1] / 1000.0 if exports.size else 0.0,  # EUR thousand -> EUR million
        "spending": series(model, "policy_spending").sum() / 1000.0,
    }


MONITORS: tuple[tuple[str, str, str], ...] = (
    ("firms", "Firms", "{:,.0f}"),
    ("employment", "Employment", "{:,.0f}"),
    ("exporters", "Exporters", "{:,.0f}"),
    ("exports", "Exports this quarter (EUR M)", "{:,.1f}"),
    ("spending", "Policy spending so far (EUR M)", "{:,.2f}"),
)


def monitors(model: StudentModel) -> list[Monitor]:
    """The monitors' lines: time, then firms, employment, exporters, exports and spending in both worlds."""
    now = when(model.steps, model.params.start_year)
    lines = [Monitor("time", "Year and quarter", now, when(model.twin.steps, model.twin.params.start_year), "")]
    world, twin = _stocks(model), _stocks(model.twin)
    for key, label, fmt in MONITORS:
        difference = world[key] - twin[key]
        lines.append(
            Monitor(key, label, fmt.format(world[key]), fmt.format(twin[key]), ("{:+" + fmt[2:]).format(difference))
        )
    return lines


def region_equivalent(model: DistrictModel, meur: float) -> float:
    """A sum spent in this sample of firms as it would be for the whole region (budgets scale with n_firms)."""
    p = model.params
    return meur * p.budget_reference_firms / p.n_firms


# ---------------------------------------------------------------------------
# One firm


def largest_firm(model: DistrictModel) -> int:
    """Id of the firm with the most employees."""
    f = model.firms
    return int(f.firm_id[int(np.argmax(f.employees))])


def an_exporter(model: DistrictModel, pick: int) -> int | None:
    """Id of one exporter, the ``pick``-th (cycling) in order of size from the smallest; None if none exports."""
    f = model.firms
    rows = np.flatnonzero(exporters(f.served))
    if rows.size == 0:
        return None
    rows = rows[np.argsort(f.employees[rows], kind="stable")]
    return int(f.firm_id[rows[pick % rows.size]])


def history(model: DistrictModel, firm_id: int) -> pd.DataFrame:
    """The firm's rows of the yearly panel (its history), with a year column; empty if it was never recorded."""
    panel = model.observer.panel_frame()
    rows = panel[panel["firm_id"] == firm_id].copy()
    rows.insert(0, "when", [when(int(s), model.params.start_year) for s in rows["step"]])
    return rows


def firm_record(model: StudentModel, firm_id: int, past: pd.DataFrame | None = None) -> dict[str, Any] | None:
    """What the inspector shows about one firm: its state now, markets since when, links, support, twin.

    ``past``: its ``history`` if already read (the panel grows once a year, the state every quarter). None if
    the id never belonged to a firm of this world; ``alive`` is False for a firm that has exited.
    """
    start_year = model.params.start_year
    agent = model.firm_agents.get(firm_id)
    past = history(model, firm_id) if past is None else past
    if agent is None:
        if past.empty:
            return None
        last = past.iloc[-1]
        return {"firm_id": firm_id, "alive": False, "exited": when(int(last["step"]), start_year), "history": past}
    now = agent.describe()
    record = {
        "firm_id": firm_id,
        "alive": True,
        "now": now,
        "markets": {
            m: ("from the start" if s <= 0 else f"since {when(s, start_year)}") for m, s in now["markets_since"].items()
        },
        "support": {k: v for k, v in now["support"].items() if v > 0},
        "history": past,
        "twin": None,
    }
    if int(model.firms.entered_step[agent.row]) <= 0:
        # initial firms are the same firms in both worlds (same seed); later entrants' ids may differ
        twin_agent = model.twin.firm_agents.get(firm_id)
        record["twin"] = (
            {"alive": False}
            if twin_agent is None
            else {
                "alive": True,
                "employees": twin_agent.employees,
                "markets": twin_agent.markets,
                "support": sum(twin_agent.support.values()),
            }
        )
    return record
