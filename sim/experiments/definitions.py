"""Experiment definitions: what to run (compare, sweep, sensitivity) and which outcomes to keep.

An experiment file (TOML, in ``experiments/``) reads like the question it
asks: scenarios to compare against a baseline, parameters to sweep, or
uncertain parameters whose influence to measure, plus the outcomes and how
each is summarised. ``load_experiment`` validates it as strictly as a
scenario file (one line naming the file, the key and what is allowed);
sim/experiments/designs.py turns it into runs.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.config import (
    Params,
    ScenarioError,
    load_scenario,
    read_toml,
    resolve_library_path,
    with_overrides,
    with_values,
)
from sim.config.scenarios import format_error, parameter_value
from sim.experiments.worlds import calibration_points, nested, variant_values
from sim.model.observe import MODEL_COLUMNS

EXPERIMENT_DIR = Path(__file__).resolve().parent.parent.parent / "experiments"

#: Named periods of an outcome (docs/experiments.md, "Periods"); a period may also be [first, last] quarters.
PERIOD_NAMES: tuple[str, ...] = ("last", "policy", "after_policy")
POLICY_PERIODS = frozenset({"policy", "after_policy"})
Period = str | tuple[int, int]


def period_label(period: Period) -> str:
    """How a period is named in tables: its name, or ``q<first>-<last>`` for explicit quarters."""
    return period if isinstance(period, str) else f"q{period[0]}-{period[1]}"


def _check_period(value: Any) -> Period:
    """One entry of ``periods``: a name of PERIOD_NAMES or [first, last] quarters with 1 <= first <= last."""
    allowed = f"allowed: {', '.join(PERIOD_NAMES)}, or [first, last] quarters"
    if isinstance(value, str):
        if value not in PERIOD_NAMES:
            close = difflib.get_close_matches(value, PERIOD_NAMES, n=1)
            hint = f"; did you mean {close[0]!r}? {allowed}" if close else f"; {allowed}"
            raise ValueError(f"unknown period {value!r}{hint}")
        return value
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(q, int) and not isinstance(q, bool) for q in value)
    ):
        first, last = value
        if not 1 <= first <= last <= 100_000:
            raise ValueError(f"quarters [{first}, {last}] must satisfy 1 <= first <= last; {allowed}")
        return (first, last)
    raise ValueError(f"period {value!r} is neither a name nor two quarters; {allowed}")


def distinct_scenarios(names: list[str]) -> list[str]:
    """A list of compared scenarios names each scenario once."""
    if len(set(names)) != len(names):
        raise ValueError("a scenario is listed twice")
    return names


class Outcome(BaseModel):
    """One model-level column and how a run is summarised by it."""

    model_config = ConfigDict(extra="forbid")

    column: str = Field(..., description="a column of model.parquet (docs/outputs.md)")
    summary: Literal["final", "mean_last", "cumulative"] = Field(
        "mean_last", description="last value, mean of the last quarters, or sum over the last quarters"
    )
    quarters: int | None = Field(
        8, ge=1, le=100_000, description="quarters for mean_last and cumulative (empty: the whole run)"
    )
    periods: list[Period] = Field(
        default_factory=lambda: ["last"],
        min_length=1,
        description="periods the summary is taken over: last (the last `quarters`), policy, after_policy, or "
        "[first, last] quarters; one effect per period",
    )
    description: str = ""

    @field_validator("periods", mode="before")
    @classmethod
    def _periods(cls, v: Any) -> list[Period]:
        if not isinstance(v, list):
            raise ValueError('periods is a list, e.g. ["policy", "after_policy"] or [[21, 44]]')
        periods = [_check_period(p) for p in v]
        if len(set(periods)) != len(periods):
            raise ValueError("a period is listed twice")
        return periods

    @field_validator("column")
    @classmethod
    def _column(cls, v: str) -> str:
        if v not in MODEL_COLUMNS:
            close = difflib.get_close_matches(v, MODEL_COLUMNS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(MODEL_COLUMNS)}"
            raise ValueError(f"unknown column {v!r}{hint}")
        return v

    def summarise(self, series: np.ndarray, window: tuple[int, int] | None = None) -> float:
        """The summary of one run's series (one value per quarter, from step 1).

        ``window``: first and last step of a period (``_Experiment.window``); without it, the last ``quarters``.
        """
        if window is not None:
            values = series[window[0] - 1 : window[1]]
        else:
            values = series if self.quarters is None else series[-self.quarters :]
        if self.summary == "final":
            return float(values[-1])  # the last quarter of the period (of the run, without a window)
        if self.summary == "mean_last":
            return float(np.mean(values))
        return float(np.sum(values))


class Range(BaseModel):
    """Values of a swept or uncertain parameter: a list, or bounds."""

    model_config = ConfigDict(extra="forbid")

    values: list[float] | None = Field(None, description="explicit values (grid designs)")
    low: float | None = None
    high: float | None = None
    levels: int = Field(5, ge=2, le=1000, description="grid points between low and high")

    @model_validator(mode="after")
    def _check(self) -> Range:
        if self.values is not None:
            if not self.values:
                raise ValueError("values must not be empty")
            if self.low is not None or self.high is not None:
                raise ValueError("give values or low and high, not both")
        elif self.low is None or self.high is None:
            raise ValueError("give values, or low and high")
        elif not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self

    def grid(self) -> list[float]:
        return list(self.values) if self.values is not None else list(np.linspace(self.low, self.high, self.levels))


class _Experiment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = ""
    description: str = Field("", description="the question the experiment answers")
    replications: int = Field(
        10, ge=1, le=100_000, description="runs per scenario or design point (seeds seed, seed+1, ...)"
    )
    seed: int = Field(1, ge=0, le=2**62, description="seed of replication 0")
    steps: int | None = Field(None, ge=1, le=2000, description="quarters per run (empty: the scenario's)")
    n_firms: int | None = Field(None, ge=1, le=500_000, description="firms per run (empty: the scenario's)")
    panels: bool = Field(False, description="also keep every run's firm panel (large)")
    outcomes: dict[str, Outcome] = Field(..., min_length=1, description="outcomes by name")
    set: dict[str, Any] = Field(
        default_factory=dict, description="parameter values applied to every scenario alike (names as in --set)"
    )

    def window(self, outcome: Outcome, period: Period, steps: int) -> tuple[int, int] | None:
        """First and last step of ``period`` in a run of ``steps`` quarters, cut at its end; None if not reached."""
        if period == "last":
            first, last = (1 if outcome.quarters is None else max(steps - outcome.quarters + 1, 1)), steps
        elif isinstance(period, tuple):
            first, last = period
        else:
            first, last = self.policy_period(period, steps)
        last = min(last, steps)
        return (first, last) if first <= last else None

    def policy_period(self, period: str, steps: int) -> tuple[int, int]:
        """Quarters of ``policy`` or ``after_policy`` (compare experiments only)."""
        raise ValueError(f"period {period!r} is for compare experiments")


class Window(BaseModel):
    """Quarters start ... end (inclusive) of the experiment's policy period."""

    model_config = ConfigDict(extra="forbid")

    start: int = Field(..., ge=1, le=100_000, description="first quarter (step) of the policy period")
    end: int | None = Field(None, ge=1, le=100_000, description="last quarter; empty: to the end of the run")

    @model_validator(mode="after")
    def _order(self) -> Window:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self


class Compare(_Experiment):
    """Scenarios against a baseline, paired by replication."""

    kind: Literal["compare"]
    baseline: str = "baseline"
    scenarios: list[str] = Field(..., min_length=1)
    confidence: float = Field(
        0.95, gt=0, lt=1, description="confidence of the intervals (Bonferroni-adjusted over scenarios)"
    )
    policy_window: Window | None = Field(
        None, description="quarters of the 'policy' period (empty: the compared scenarios' policy windows)"
    )
    after_policy_quarters: int = Field(
        16, ge=1, le=100_000, description="length of the 'after_policy' period (quarters after the window ends)"
    )

    def policy_period(self, period: str, steps: int) -> tuple[int, int]:
        """``policy``: the policy window (to the run's end if open); ``after_policy``: the quarters after it."""
        if self.policy_window is None:
            raise ValueError(f"period {period!r} needs a policy window")
        start, end = self.policy_window.start, self.policy_window.end or steps
        return (start, end) if period == "policy" else (end + 1, end + self.after_policy_quarters)

    @field_validator("scenarios")
    @classmethod
    def _distinct(cls, v: list[str]) -> list[str]:
        return distinct_scenarios(v)


class Sweep(_Experiment):
    """Parameters varied over a design, each point replicated."""

    kind: Literal["sweep"]
    scenario: str = "baseline"
    design: Literal["grid", "lhs", "random"] = "grid"
    points: int = Field(20, ge=1, le=1_000_000, description="design points for lhs and random")
    parameters: dict[str, Range] = Field(..., min_length=1)

    @model_validator(mode="after")
    def _bounds(self) -> Sweep:
        if self.design != "grid":
            for name, r in self.parameters.items():
                if r.values is not None:
                    raise ValueError(f"parameters.{name}: lhs and random designs need low and high, not values")
        return self


class Sensitivity(_Experiment):
    """Global sensitivity analysis with SALib (Sobol or Morris)."""

    kind: Literal["sensitivity"]
    scenario: str = "baseline"
    method: Literal["sobol", "morris"] = "sobol"
    samples: int = Field(64, ge=2, le=1_000_000, description="base sample N: Sobol runs N(D+2) points, Morris N(D+1)")
    levels: int = Field(4, ge=2, le=100, description="Morris grid levels")
    replications: int = Field(1, ge=1, le=100_000)
    confidence: float = Field(0.95, gt=0, lt=1, description="confidence of the indices' intervals (SALib bootstrap)")
    parameters: dict[str, Range] = Field(..., min_length=2)

    @model_validator(mode="after")
    def _bounds(self) -> Sensitivity:
        for name, r in self.parameters.items():
            if r.values is not None:
                raise ValueError(f"parameters.{name}: sensitivity needs low and high, not values")
        if self.method == "sobol" and self.samples & (self.samples - 1):
            raise ValueError(f"samples must be a power of 2 for Sobol designs (got {self.samples})")
        return self


class Variant(BaseModel):
    """A named model variant of a robustness experiment: a parameter set applied to baseline and policies alike."""

    model_config = ConfigDict(extra="forbid")

    scenario: str | None = Field(
        None, description="a scenario: the variant is what it changes relative to the baseline"
    )
    set: dict[str, Any] = Field(default_factory=dict, description="parameter values by name (as in [set])")
    description: str = ""

    @model_validator(mode="after")
    def _given(self) -> Variant:
        if self.scenario is None and not self.set:
            raise ValueError("give a scenario, or parameter values in set")
        return self


class Discovery(BaseModel):
    """Scenario discovery of a robustness experiment: when is a box of worlds worth reporting."""

    model_config = ConfigDict(extra="forbid")

    min_worlds: int = Field(20, ge=4, le=1_000_000, description="fewer worlds: no scenario discovery")
    min_coverage: float = Field(0.5, gt=0, le=1, description="share of the failing worlds a box must hold")
    min_density: float = Field(0.5, gt=0, le=1, description="share of a box's worlds that must fail")
    max_dims: int = Field(3, ge=1, le=20, description="parameters a box may restrict")
    peel_alpha: float = Field(0.05, gt=0, lt=0.5, description="share of the worlds PRIM peels off at each step")


class Robustness(_Experiment):
    """Policies against a baseline in many plausible worlds, paired by seed within each world."""

    kind: Literal["robustness"]
    baseline: str = "baseline"
    scenarios: list[str] = Field(..., min_length=2, description="the policy scenarios ranked in every world")
    replications: int = Field(5, ge=1, le=100_000, description="runs per scenario and world")
    worlds: int = Field(50, ge=1, le=1_000_000, description="how many worlds")
    design: Literal["lhs", "sobol"] = Field("lhs", description="sample of the uncertainties")
    uncertainties: dict[str, Range] = Field(default_factory=dict, description="parameters sampled between bounds")
    worlds_from: str | None = Field(None, description="a calibration folder (distretto calibrate)")
    loss_tolerance: float = Field(
        0.1, ge=0, le=1e6, description="calibration points with loss <= (1 + tolerance) x the best loss"
    )
    calibration_points: list[dict[str, float]] | None = Field(
        None, description="filled in from worlds_from when the file is loaded (kept in the manifest)"
    )
    variants: dict[str, Variant] = Field(default_factory=dict, description="named model variants")
    world_seeds: Literal["distinct", "shared"] = Field(
        "distinct", description="distinct: world w uses seeds seed + w R + r; shared: seed + r in every world"
    )
    confidence: float = Field(
        0.95, gt=0, lt=1, description="confidence of each world's intervals (Bonferroni-adjusted over policies)"
    )
    discovery: Discovery = Field(default_factory=Discovery)

    @field_validator("scenarios")
    @classmethod
    def _distinct(cls, v: list[str]) -> list[str]:
        return distinct_scenarios(v)

    @model_validator(mode="after")
    def _worlds(self) -> Robustness:
        for name, r in self.uncertainties.items():
            if r.values is not None:
                raise ValueError(f"uncertainties.{name}: give low and high, not values")
        if "default" in self.variants:
            raise ValueError("variants.default: the name is taken by worlds without a variant")
        if not (self.uncertainties or self.worlds_from or self.calibration_points or self.variants):
            raise ValueError("give uncertainties, worlds_from or variants: otherwise every world is the same")
        return self


Experiment = Annotated[Compare | Sweep | Sensitivity | Robustness, Field(discriminator="kind")]
KINDS = "compare, sweep, sensitivity, robustness"


class _File(BaseModel):
    experiment: Experiment


def resolve_experiment_path(name: str | Path) -> Path:
    """An experiment is a path to a TOML file or the name of one in ``experiments/``."""
    return resolve_library_path(name, EXPERIMENT_DIR, "experiment")


def parse_experiment(data: dict[str, Any], source: str) -> Compare | Sweep | Sensitivity | Robustness:
    """Validate experiment data; errors are one line naming ``source`` and the key."""
    if "kind" not in data:
        raise ScenarioError(f"{source}: missing key 'kind'; allowed: {KINDS}")
    try:
        experiment = _File.model_validate({"experiment": data}).experiment
    except ValidationError as exc:
        errors = exc.errors()
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        loc = tuple(first.get("loc", ()))[2:]  # drop ("experiment", kind)
        if first["type"] == "union_tag_invalid":
            raise ScenarioError(f"{source}: kind: unknown kind {data.get('kind')!r}; allowed: {KINDS}") from None
        if first["type"] == "extra_forbidden":
            allowed = _allowed_keys(data["kind"], loc)
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f" (allowed here: {', '.join(allowed)})"
            raise ScenarioError(f"{source}: unknown key {'.'.join(map(str, loc))!r}{hint}") from None
        raise ScenarioError(format_error({**first, "loc": loc}, source)) from None
    _check_references(experiment, source)
    _check_periods(experiment, source)
    return experiment


def _check_periods(experiment: Compare | Sweep | Sensitivity | Robustness, source: str) -> None:
    """Named policy periods need a compare experiment and one policy window, which is derived here if not given.

    The window of a scenario runs from the first quarter any of its policies
    is active to the last (open if one of them is); the compared scenarios
    that have policies must share it. The derived window is stored in the
    definition, so the manifest keeps the periods the runs were summarised by.
    """
    named = [
        name for name, o in experiment.outcomes.items() if POLICY_PERIODS & {p for p in o.periods if isinstance(p, str)}
    ]
    if not isinstance(experiment, Compare):
        for name, outcome in experiment.outcomes.items():
            where = f"{source}: outcomes.{name}.periods"
            if name in named:
                raise ScenarioError(
                    f"{where}: 'policy' and 'after_policy' are for compare experiments; give quarters, e.g. [[21, 44]]"
                )
            if len(outcome.periods) > 1:
                raise ScenarioError(
                    f"{where}: {experiment.kind} experiments take one period per outcome; define one outcome per period"
                )
        return
    if not named or experiment.policy_window is not None:
        return
    where = f"{source}: outcomes.{named[0]}.periods"
    windows: dict[str, tuple[int, int | None]] = {}
    for scenario in experiment.scenarios:
        policies = list(load_scenario(scenario).policies.values())
        if policies:
            ends = [p.end for p in policies]
            windows[scenario] = (min(p.start for p in policies), None if None in ends else max(ends))
    if not windows:
        raise ScenarioError(
            f"{where}: 'policy' and 'after_policy' need a policy window, and no compared scenario has a policy; "
            "give [policy_window] start and end, or quarters"
        )
    if len(set(windows.values())) > 1:
        listed = ", ".join(f"{name} {a}-{'end' if b is None else b}" for name, (a, b) in windows.items())
        raise ScenarioError(
            f"{where}: the compared scenarios' policies have different windows ({listed}); "
            "give [policy_window] start and end, or quarters"
        )
    start, end = next(iter(windows.values()))
    experiment.policy_window = Window(start=start, end=end)


def _allowed_keys(kind: str, loc: tuple[Any, ...]) -> list[str]:
    """Valid key names where an unknown key was found."""
    model = {"compare": Compare, "sweep": Sweep, "sensitivity": Sensitivity, "robustness": Robustness}[kind]
    if len(loc) == 1:
        return list(model.model_fields)
    nested_models = {"outcomes": Outcome, "variants": Variant, "discovery": Discovery, "policy_window": Window}
    return list(nested_models.get(str(loc[0]), Range).model_fields)


def _check_references(experiment: Compare | Sweep | Sensitivity | Robustness, source: str) -> None:
    """Scenarios must load; swept parameters must be numeric parameters of the scenario, their values valid."""
    multi = isinstance(experiment, Compare | Robustness)
    names = [experiment.baseline, *experiment.scenarios] if multi else [experiment.scenario]
    for name in names:
        try:
            load_scenario(name)
        except ScenarioError as exc:
            raise ScenarioError(f"{source}: scenario {name!r}: {exc}") from None
    for name in names:
        with_set(load_scenario(name), experiment.set, f"{source}: set")
    if isinstance(experiment, Robustness):
        _check_worlds(experiment, source)
    if multi:
        return
    base = with_set(load_scenario(experiment.scenario), experiment.set)
    for dotted, rng in experiment.parameters.items():
        where = f"{source}: parameters.{dotted}"
        parameter_value(base, dotted, where)
        for value in rng.grid() if rng.values is not None else (rng.low, rng.high):
            with_values(base, {dotted: value}, where)


def with_set(params: Params, values: dict[str, Any], source: str = "set") -> Params:
    """``params`` with ``[set]`` values (dotted names or sub-tables, any type, as ``--set``), validated."""
    if not values:
        return params
    try:
        tree = nested(values)
    except ScenarioError as exc:
        raise ScenarioError(f"{source}: {exc}") from None
    return with_overrides(params, tree, source=source)


def _check_worlds(experiment: Robustness, source: str) -> None:
    """Uncertainties, variants and calibration points must be parameters of every scenario, at valid values."""
    bases = {
        name: with_set(load_scenario(name), experiment.set) for name in [experiment.baseline, *experiment.scenarios]
    }
    for dotted, rng in experiment.uncertainties.items():
        where = f"{source}: uncertainties.{dotted}"
        for params in bases.values():
            parameter_value(params, dotted, where)
            for value in (rng.low, rng.high):
                with_values(params, {dotted: value}, where)
    for name, variant in experiment.variants.items():
        where = f"{source}: variants.{name}"
        if variant.scenario is not None:
            try:
                load_scenario(variant.scenario)
            except ScenarioError as exc:
                raise ScenarioError(f"{where}.scenario: {exc}") from None
        for params in bases.values():
            with_set(params, variant.set, f"{where}.set")
        values = variant_values(experiment)[name]
        if not values:
            raise ScenarioError(f"{where}: changes no parameter relative to {experiment.baseline!r}")
        clash = sorted(set(values) & set(experiment.uncertainties))
        if clash:
            raise ScenarioError(f"{where}: {clash[0]} is also an uncertainty; a parameter is either or neither")
    if experiment.worlds_from is not None and experiment.calibration_points is None:
        where = f"{source}: worlds_from"
        points = calibration_points(experiment.worlds_from, experiment.loss_tolerance, experiment.worlds, where)
        experiment.calibration_points = points
    for point in experiment.calibration_points or []:
        clash = sorted(set(point) & set(experiment.uncertainties))
        if clash:
            raise ScenarioError(
                f"{source}: uncertainties.{clash[0]}: also a free parameter of worlds_from's calibration"
            )
        for params in bases.values():
            for dotted in point:
                parameter_value(params, dotted, f"{source}: worlds_from: parameter {dotted}")
            with_values(params, point, f"{source}: worlds_from: a calibration point")


def load_experiment(name: str | Path, **overrides: Any) -> tuple[Compare | Sweep | Sensitivity | Robustness, Path]:
    """Read, apply command-line overrides (replications, steps, n_firms, worlds), validate."""
    path = resolve_experiment_path(name)
    data = read_toml(path)
    data.setdefault("name", path.stem)
    if overrides.get("worlds") is not None and data.get("kind") != "robustness":
        raise ScenarioError(f"{path}: --worlds is for robustness experiments (this one is {data.get('kind')!r})")
    data.update({k: v for k, v in overrides.items() if v is not None})
    return parse_experiment(data, str(path)), path


def experiment_dump(experiment: Compare | Sweep | Sensitivity | Robustness) -> dict[str, Any]:
    """A JSON-able copy of the validated definition."""
    return json.loads(experiment.model_dump_json())
