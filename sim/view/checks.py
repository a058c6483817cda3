"""Checking the page's values: every bad one refused with a line naming its field and what is allowed.

Values come as the page hands them over: text from fields ("2,000", "12.5", ""), numbers from sliders,
labels from selects. ``read_levers`` returns them checked (``Levers``) or raises one ``LeverError`` that
lists every bad field, so that a student sees all that is wrong at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sim.view.levers import (
    BUDGET_MAX,
    COMPARE,
    DEFAULTS,
    FIRMS_RANGE,
    INSTRUMENTS,
    LABELS,
    NO_SHOCK,
    SEED_MAX,
    SHOCKS,
    YEARS,
    library,
    library_scenario,
)


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
        """The budget of one instrument (its StudentModel keyword), EUR million a year for the region."""
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

    def check(name: str, parse: Callable[[Any], Any]) -> None:
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
    start = library_scenario(checked["scenario_name"])["start_year"] if "scenario_name" in checked else YEARS[0]
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
