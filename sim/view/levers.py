"""The levers of the student view: what the page offers a student, with labels, ranges and starting values.

Budgets for the five instruments (each copies one policy of the scenario library), a shock (a library shock,
or one written here, moved to the chosen year), what the twin leaves out, and the page's fields: their labels
(the page and its messages use the same words) and starting values. Checking values is ``checks``; turning
them into worlds is ``worlds``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sim.config import SCENARIO_DIR, load_scenario

#: Firms a page world may start with (below 10 the initial draw can leave no firm at all).
FIRMS_RANGE = (10, 50_000)
#: The largest budget a field accepts, EUR million a year for the region.
BUDGET_MAX = 1000.0
#: The largest seed a field accepts.
SEED_MAX = 1_000_000_000
#: Years the sliders offer (the library's runs start in 2010).
YEARS = (2010, 2040)


@dataclass(frozen=True)
class Instrument:
    """A budget lever: it copies one policy of a library scenario and gives it the student's budget and start."""

    keyword: str
    label: str
    scenario: str
    policy: str


INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument(
        "eu_budget", "EU internationalisation co-funding (EUR M/year)", "eu_internationalisation", "eu_programme"
    ),
    Instrument("voucher_budget", "University vouchers (EUR M/year)", "university_vouchers", "vouchers"),
    Instrument("guarantee_budget", "Credit guarantees (EUR M/year)", "credit_guarantees", "guarantee_fund"),
    Instrument("training_budget", "Training subsidies (EUR M/year)", "training", "training"),
    Instrument("consortia_budget", "Export consortia (EUR M/year)", "export_consortia", "consortia"),
)


@dataclass(frozen=True)
class Shock:
    """A shock lever: a library scenario's shock (or one written here) moved to start in the chosen year."""

    label: str
    description: str
    scenario: str | None = None
    shock: str | None = None
    spec: tuple[tuple[str, Any], ...] = ()

    def template(self) -> dict[str, Any]:
        """The shock's fields as a scenario file declares them (window as in the library)."""
        if self.scenario is None:
            return dict(self.spec)
        return library_scenario(self.scenario)["shocks"][self.shock]


NO_SHOCK = "No shock"
SHOCKS: dict[str, Shock | None] = {
    NO_SHOCK: None,
    "Russia sanctions: the market closes": Shock(
        "Russia sanctions", "the Russian market closes (90 % of its demand lost to the region)",
        "russia_sanctions", "sanctions_2022",
    ),
    "China slowdown": Shock(
        "China slowdown", "Chinese demand grows 4 points a year less", "china_slowdown", "china_slowdown"
    ),
    "EU demand drop (-20 % for two years)": Shock(
        "EU demand drop", "EU demand 20 % lower for two years",
        spec=(("kind", "demand_drop"), ("markets", ["eu"]), ("size", 0.2), ("start", 1), ("end", 8)),
    ),
    "Global recession (-15 % for two years)": Shock(
        "Global recession", "demand 15 % lower in every market for two years", "global_recession", "recession"
    ),
    "Credit crunch (three years)": Shock(
        "Credit crunch", "banks halve credit limits and add 1 % a quarter to rates for three years",
        "credit_crunch", "crunch",
    ),
    "Automotive demand falls by a third": Shock(
        "Automotive shift", "a third of automotive demand lost in every market, for good",
        "automotive_transition", "ev_shift",
    ),
}  # fmt: skip

#: What the twin leaves out: the select's labels and what they mean.
COMPARE: dict[str, str] = {
    "the same world without its policies": "policies",
    "the same world without its shocks": "shocks",
}

#: Every page field: keyword of StudentModel -> label on the page.
LABELS: dict[str, str] = {
    "scenario_name": "Scenario",
    "seed": "Random seed",
    "n_firms": "Firms at start",
    "compare": "Compare with",
    **{i.keyword: i.label for i in INSTRUMENTS},
    "policy_start_year": "Policies start in (year)",
    "max_employees": "Policies only for firms under (employees)",
    "shock": "Shock",
    "shock_year": "Shock starts in (year)",
    "universities": "Universities take collaborations",
    "end_year": "Run until (year)",
}

#: The page's starting values (text where the page has a text field).
DEFAULTS: dict[str, Any] = {
    "scenario_name": "baseline",
    "seed": "1",
    "n_firms": "2000",
    "compare": next(iter(COMPARE)),
    **{i.keyword: "0" for i in INSTRUMENTS},
    "policy_start_year": 2015,
    "max_employees": 250,
    "shock": NO_SHOCK,
    "shock_year": 2014,
    "universities": True,
    "end_year": 2024,
}


def library() -> list[str]:
    """Names of the scenarios in the library (scenarios/*.toml), the choices of the Scenario select."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


@functools.cache
def library_scenario(name: str) -> dict[str, Any]:
    """A library scenario, resolved, as plain data (read once; callers copy what they change)."""
    return load_scenario(name).model_dump()
