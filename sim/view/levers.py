"""The levers of the student view: checked, then turned into the parameters of a lever world and of its twin.

The page hands over what the student typed or picked (text from fields, numbers from sliders, labels from
selects). ``read_levers`` checks every value and refuses the bad ones, one line each naming the field as the
page labels it and saying what is allowed (``LeverError``). ``world_params`` builds the lever world (a library
scenario plus the student's budgets, shock and switches) and its twin: the same world without its policies, or
without its shocks, which the view runs with the same seed, so that the difference is the effect.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.config import SCENARIO_DIR, Params, build_params, load_scenario
from sim.model.calendar import QUARTERS_PER_YEAR

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
        return _library(self.scenario)["shocks"][self.shock]


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
def _library(name: str) -> dict[str, Any]:
    """A library scenario, resolved, as plain data (read once; callers copy what they change)."""
    return load_scenario(name).model_dump()


class LeverError(ValueError):
    """Some values from the page cannot be used; the message has one line per bad field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Levers:
    """Checked values of every page field."""

    scenario: str
    seed: int
    n_firms: int
    compare: str  # "policies" or "shocks"
    budgets: tuple[tuple[str, float], ...]  # (instrument keyword, EUR M/year) for every instrument
    policy_start_year: int
    max_employees: int
    shock: str  # a key of SHOCKS
    shock_year: int
    universities: bool
    end_year: int

    def budget(self, keyword: str) -> float:
        return dict(self.budgets)[keyword]


def _text(value: Any) -> str:
    return str(value).strip().replace("_", "").replace(" ", "")


def _n(number: float) -> str:
    """A number as the page writes it: thousands grouped from 10,000 on (years stay 2015)."""
    return f"{number:,}" if abs(number) >= 10_000 else f"{number}"


def _whole(value: Any, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high``, from a number or its text ("2000", "2,000")."""
    allowed = f"a whole number from {_n(low)} to {_n(high)}"
    if isinstance(value, bool):
        raise ValueError(f"must be {allowed}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        text = _text(value).replace(",", "")
        if not text:
            raise ValueError(f"is empty; type {allowed}")
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"must be {allowed} (got {str(value)!r})") from None
    if not math.isfinite(number) or number != int(number) or not low <= number <= high:
        raise ValueError(f"must be {allowed} (got {str(value)!r})")
    return int(number)


def _amount(value: Any, high: float) -> float:
    """EUR million a year: a number from 0 to ``high``, with a point for decimals."""
    if isinstance(value, bool):
        raise ValueError(f"must be a number of EUR million a year from 0 to {high:g}")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = _text(value)
        if not text:
            raise ValueError("is empty; type an amount in EUR million a year (0 for none)")
        if "," in text:
            raise ValueError(f"use a point for decimals, e.g. 2.5 (got {str(value)!r})")
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"must be a number of EUR million a year (got {str(value)!r})") from None
    if not math.isfinite(number):
        raise ValueError(f"must be a number of EUR million a year (got {str(value)!r})")
    if number < 0:
        raise ValueError(f"cannot be negative: a budget is 0 (none) or more (got {str(value)!r})")
    if number > high:
        raise ValueError(f"at most {high:g} EUR million a year (got {str(value)!r})")
    return number


def _choice(value: Any, choices: Mapping[str, Any] | list[str]) -> str:
    if value not in choices:
        raise ValueError(f"choose one of: {', '.join(map(str, choices))} (got {value!r})")
    return value


def _switch(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be on or off (got {value!r})")
    return value


def read_levers(values: Mapping[str, Any]) -> Levers:
    """Check the page's values (missing keys take DEFAULTS); every bad value is one line of a LeverError."""
    unknown = sorted(set(values) - set(DEFAULTS))
    if unknown:
        raise LeverError([f"unknown lever {name!r}" for name in unknown])
    raw = {**DEFAULTS, **values}
    problems: list[str] = []
    checked: dict[str, Any] = {}

    def check(name: str, parse) -> None:
        try:
            checked[name] = parse(raw[name])
        except ValueError as exc:
            problems.append(f"{LABELS[name]}: {exc}")

    check("scenario_name", lambda v: _choice(v, library()))
    check("seed", lambda v: _whole(v, 0, SEED_MAX))
    check("n_firms", lambda v: _whole(v, *FIRMS_RANGE))
    check("compare", lambda v: COMPARE[_choice(v, COMPARE)])
    for instrument in INSTRUMENTS:
        check(instrument.keyword, lambda v: _amount(v, BUDGET_MAX))
    check("end_year", lambda v: _whole(v, YEARS[0] + 1, YEARS[1]))
    check("max_employees", lambda v: _whole(v, 1, 100_000))
    check("shock", lambda v: _choice(v, SHOCKS))
    start = _library(checked["scenario_name"])["start_year"] if "scenario_name" in checked else YEARS[0]
    end = checked.get("end_year", YEARS[1])
    in_use = {
        "policy_start_year": any(checked.get(i.keyword, 0) > 0 for i in INSTRUMENTS),
        "shock_year": checked.get("shock", NO_SHOCK) != NO_SHOCK,
    }
    for name, what in (("policy_start_year", "your policies"), ("shock_year", "the shock")):

        def year(v: Any, what: str = what, used: bool = in_use[name]) -> int:
            """A year of the sliders; one that the run never reaches is refused while its lever is in use."""
            number = _whole(v, YEARS[0], YEARS[1])
            if used and number > end:
                raise ValueError(f"{number} is after the end of the run ({end}): {what} would never start")
            if used and number < start:
                raise ValueError(f"{number} is before the run starts ({start})")
            return number

        check(name, year)
    check("universities", _switch)
    if problems:
        raise LeverError(problems)
    return Levers(
        scenario=checked["scenario_name"],
        seed=checked["seed"],
        n_firms=checked["n_firms"],
        compare=checked["compare"],
        budgets=tuple((i.keyword, checked[i.keyword]) for i in INSTRUMENTS),
        policy_start_year=checked["policy_start_year"],
        max_employees=checked["max_employees"],
        shock=checked["shock"],
        shock_year=checked["shock_year"],
        universities=checked["universities"],
        end_year=checked["end_year"],
    )


def _quarter(year: int, start_year: int) -> int:
    """The step of the first quarter of ``year``."""
    return (year - start_year) * QUARTERS_PER_YEAR + 1


def lever_policies(levers: Levers, start_year: int) -> dict[str, dict[str, Any]]:
    """The policies the budgets switch on: each a copy of its library policy with the student's budget and start."""
    out = {}
    for instrument in INSTRUMENTS:
        budget = levers.budget(instrument.keyword)
        if budget <= 0:
            continue
        spec = dict(_library(instrument.scenario)["policies"][instrument.policy])
        spec.update(
            description=f"{instrument.label.split(' (')[0]}, EUR {budget:g} M/year for the region from "
            f"{levers.policy_start_year}",
            budget_per_year=budget * 1000.0,  # the page says EUR million, scenarios EUR thousand
            pool=None,
            start=_quarter(levers.policy_start_year, start_year),
            end=None,
            max_employees=min(float(spec["max_employees"]), float(levers.max_employees)),
        )
        out[f"lever_{instrument.scenario}"] = spec
    return out


def lever_shock(levers: Levers, start_year: int) -> dict[str, dict[str, Any]]:
    """The shock the select switches on, its window moved to start in the chosen year (same length)."""
    shock = SHOCKS[levers.shock]
    if shock is None:
        return {}
    spec = dict(shock.template())
    start = _quarter(levers.shock_year, start_year)
    length = None if spec.get("end") is None else spec["end"] - spec["start"]
    spec.update(
        description=f"{shock.label} from {levers.shock_year}: {shock.description}",
        start=start,
        end=None if length is None else start + length,
    )
    return {"lever_shock": spec}


def world_params(levers: Levers) -> tuple[Params, Params]:
    """Parameters of the lever world and of its twin (the same world without its policies, or its shocks)."""
    base = load_scenario(levers.scenario, n_firms=levers.n_firms)
    data = base.model_dump()
    data["steps"] = (levers.end_year - base.start_year + 1) * QUARTERS_PER_YEAR
    data["policies"] = {**data["policies"], **lever_policies(levers, base.start_year)}
    data["shocks"] = {**data["shocks"], **lever_shock(levers, base.start_year)}
    if not levers.universities:
        data["university_capacity"] = 0.0
    twin = dict(data)
    if levers.compare == "policies":
        twin.update(policies={}, pools={})
    else:
        twin.update(shocks={}, university_capacity=base.university_capacity)
    return build_params(data, source="page levers"), build_params(twin, source="page levers (twin)")


def switched_on(params: Params) -> list[str]:
    """One line for each policy and shock of a world, and for closed universities (what the monitors list)."""
    lines = [spec.description or name for name, spec in params.policies.items()]
    lines += [spec.description or name for name, spec in params.shocks.items()]
    if params.university_capacity == 0:
        lines.append("universities take no collaborations")
    return lines
