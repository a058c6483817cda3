"""Calibration by simulated moments: fit free parameters so that the model's moments match the region's.

A calibration file (``calibration/*.toml``) names the scenario to start
from, the free parameters with their bounds, a target file (each moment's
observed value, band, weight and source), the replications and the search.
Every parameter point is run with the same seeds (common random numbers),
so the loss is a deterministic function of the parameters and differences
between points are not seed noise. The loss of a point is

    L(theta) = sum_j w_j z_j^2,   z_j = (mbar_j(theta) - t_j) / h_j,

mbar_j the mean of moment j over the seeds, t_j its target and h_j the
half-width of its band on the side of the deviation (a one-sided band has
h = inf on its open side): |z_j| <= 1 is within the band.

The search runs in two stages, every run through the experiment runner
(any executor, one file per finished run): a space-filling stage (Sobol or
Latin hypercube over the bounds, the starting scenario's own values
included), then CMA-ES (the ``cma`` package, ask-and-tell, one generation
a batch) started from the best point. The search is a deterministic
function of the losses it has seen and the runs are cached on disk, so an
interrupted calibration started again replays the same search, skips every
finished run, and ends with the same result.
"""

from __future__ import annotations

import difflib
import json
import math
import time
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import cma
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from scipy.stats import qmc
from tqdm import tqdm

from sim.config import Params, ScenarioError, load_scenario, read_toml, with_values
from sim.config.scenarios import format_error, parameter_value
from sim.experiments.designs import RunSpec, run_id
from sim.experiments.moments import CALIBRATION_MOMENTS, DRIFT_QUARTERS, measure
from sim.experiments.runner import RUN_COLUMNS, ResultStore, execute_runs, release
from sim.model.district import DistrictModel
from sim.run import atomic_write, git_commit, versions

CALIBRATION_DIR = Path(__file__).resolve().parent.parent.parent / "calibration"
#: Loss given to the optimiser for a point whose runs failed (its recorded loss is inf).
FAILED_LOSS = 1e12
#: Seeds of the synthetic truth in a recovery check start this far from the calibration's, so the
#: targets carry sampling noise of their own, like data.
RECOVERY_SEED_OFFSET = 10_000


# --------------------------------------------------------------------------
# Files: targets and calibrations


class Target(BaseModel):
    """One observed moment: its value, the band within which the model matches it, and where it comes from."""

    model_config = ConfigDict(extra="forbid")

    target: float
    low: float
    high: float
    weight: float = Field(1.0, ge=0, le=1e6)
    measure: str = Field(..., min_length=1, description="how the model measures it")
    source: str = Field(..., min_length=1, description="where the figure comes from")

    @model_validator(mode="after")
    def _band(self) -> Target:
        if not self.low <= self.target <= self.high or self.low == self.high:
            raise ValueError(f"needs low <= target <= high and low < high (got {self.low}, {self.target}, {self.high})")
        return self

    def z(self, value: float) -> float:
        """Distance of a simulated value from the target in half-widths of the band on its side."""
        half = self.high - self.target if value > self.target else self.target - self.low
        if math.isinf(half):
            return 0.0
        return (value - self.target) / max(half, 1e-12)

    def within(self, value: float) -> bool:
        return bool(self.low <= value <= self.high)


class TargetFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    moments: dict[str, Target] = Field(..., min_length=1)

    @field_validator("moments")
    @classmethod
    def _known(cls, v: dict[str, Target]) -> dict[str, Target]:
        for name in v:
            if name not in CALIBRATION_MOMENTS:
                close = difflib.get_close_matches(name, CALIBRATION_MOMENTS, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; allowed: {', '.join(CALIBRATION_MOMENTS)}"
                raise ValueError(f"unknown moment {name!r}{hint}")
        return v


class Bounds(BaseModel):
    """Bounds of one free parameter."""

    model_config = ConfigDict(extra="forbid")

    low: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> Bounds:
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self


class Search(BaseModel):
    """How the parameter space is searched, and with how many model runs."""

    model_config = ConfigDict(extra="forbid")

    budget: int = Field(1000, ge=2, le=10_000_000, description="model runs of the search (points x replications)")
    method: Literal["sobol+cmaes", "lhs+cmaes", "sobol", "lhs", "cmaes"] = Field(
        "sobol+cmaes",
        description="space-filling design, then CMA-ES from its best point; or 'cmaes': CMA-ES from the scenario's "
        "own values (a local refinement after a model change)",
    )
    initial_share: float = Field(0.4, gt=0, le=1, description="share of the budget spent on the space-filling stage")
    sigma: float = Field(0.2, gt=0, le=1, description="CMA-ES initial step, as a share of each parameter's range")
    popsize: int | None = Field(None, ge=2, le=10_000, description="CMA-ES points a generation (empty: 4 + 3 ln d)")
    profile_points: int = Field(5, ge=0, le=100, description="points of each one-dimensional loss profile (0: none)")
    seed: int = Field(1, ge=0, le=2**32 - 1, description="seed of the designs and of CMA-ES")
    recovery_bands: Literal["simulated", "target"] = Field(
        "simulated",
        description="bands of a recovery check's synthetic targets: Monte Carlo error, or the target file's",
    )


class Calibration(BaseModel):
    """A calibration: free parameters of a scenario fitted to target moments."""

    model_config = ConfigDict(extra="forbid")

    name: str = ""
    description: str = ""
    scenario: str = "baseline"
    targets: str = Field(..., description="target file, relative to the calibration file")
    moments: list[str] | None = Field(None, description="moments of the target file to fit (empty: all)")
    weights: dict[str, float] = Field(default_factory=dict, description="weights overriding the target file's")
    replications: int = Field(3, ge=1, le=10_000, description="seeds shared by every parameter point")
    seed: int = Field(1, ge=0, le=2**62, description="seed of replication 0")
    n_firms: int | None = Field(None, ge=1, le=500_000)
    steps: int | None = Field(None, ge=1, le=2000)
    burn_in: int | None = Field(None, ge=0, le=2000)
    search: Search = Field(default_factory=Search)
    parameters: dict[str, Bounds] = Field(..., min_length=1)


@dataclass
class Problem:
    """A validated calibration, ready to run: the starting parameters, the targets and the free parameters."""

    spec: Calibration
    path: Path
    base: Params
    targets: dict[str, Target]
    skipped: dict[str, str] = field(default_factory=dict)  # moments left out, and why

    @property
    def names(self) -> list[str]:
        return list(self.spec.parameters)

    @property
    def low(self) -> np.ndarray:
        return np.array([b.low for b in self.spec.parameters.values()])

    @property
    def high(self) -> np.ndarray:
        return np.array([b.high for b in self.spec.parameters.values()])

    def values(self, unit: np.ndarray) -> dict[str, float]:
        """Parameter values at a point of the unit cube, integer parameters rounded (the values the runs use)."""
        x = self.low + np.clip(unit, 0.0, 1.0) * (self.high - self.low)
        return {
            name: float(round(v)) if _is_integer(self.base, name) else float(v)
            for name, v in zip(self.names, x, strict=True)
        }

    def params(self, unit: np.ndarray) -> Params:
        return with_values(self.base, self.values(unit), source="calibration point")

    def start(self) -> np.ndarray | None:
        """The starting scenario's own values in the unit cube, if inside the bounds."""
        x = np.array([parameter_value(self.base, name, "parameters") for name in self.names])
        unit = (x - self.low) / (self.high - self.low)
        return unit if ((unit >= 0) & (unit <= 1)).all() else None

    def seeds(self) -> list[int]:
        return [self.spec.seed + r for r in range(self.spec.replications)]


def _one_line(exc: ValidationError, source: str, model: type[BaseModel]) -> str:
    errors = exc.errors()
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = tuple(first.get("loc", ()))
    if first["type"] == "extra_forbidden":
        allowed = list(model.model_fields)
        if loc and loc[0] == "search":
            allowed = list(Search.model_fields)
        elif loc and loc[0] == "parameters":
            allowed = list(Bounds.model_fields)
        elif loc and loc[0] == "moments":
            allowed = list(Target.model_fields)
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f" (allowed here: {', '.join(allowed)})"
        return f"{source}: unknown key {'.'.join(map(str, loc))!r}{hint}"
    return format_error(first, source)


def load_targets(path: Path) -> TargetFile:
    """Read and validate a target file; errors are one line naming the file and the key."""
    try:
        return TargetFile.model_validate(read_toml(path))
    except ValidationError as exc:
        raise ScenarioError(_one_line(exc, str(path), TargetFile)) from None


def resolve_calibration_path(name: str | Path) -> Path:
    """A calibration is a path to a TOML file or the name of one in ``calibration/``."""
    path = Path(name)
    if path.suffix == ".toml" or path.is_file():
        if not path.is_file():
            raise ScenarioError(f"{name}: calibration file not found")
        return path
    candidate = CALIBRATION_DIR / f"{name}.toml"
    if candidate.is_file():
        return candidate
    names = sorted(p.stem for p in CALIBRATION_DIR.glob("*.toml"))
    raise ScenarioError(f"unknown calibration {str(name)!r} (available: {', '.join(names)}, or a path to a .toml file)")


def load_calibration(name: str | Path, **overrides: Any) -> Problem:
    """Read a calibration file, apply command-line overrides (``budget``, ``method`` go to the search), validate all.

    Checks, each a one-line ScenarioError: the file's keys and values; the
    scenario loads; every free parameter is a numeric parameter of it and
    both bounds are valid values; the target file and the moments named.
    """
    path = resolve_calibration_path(name)
    data = read_toml(path)
    data.setdefault("name", path.stem)
    search = {k: overrides.pop(k) for k in ("budget", "method") if overrides.get(k) is not None}
    overrides.pop("budget", None), overrides.pop("method", None)
    data.update({k: v for k, v in overrides.items() if v is not None})
    if search:
        data["search"] = {**data.get("search", {}), **search}
    try:
        spec = Calibration.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_one_line(exc, str(path), Calibration)) from None
    try:
        base = load_scenario(spec.scenario)
    except ScenarioError as exc:
        raise ScenarioError(f"{path}: scenario {spec.scenario!r}: {exc}") from None
    sizes = {
        k: v
        for k, v in {"n_firms": spec.n_firms, "steps": spec.steps, "burn_in": spec.burn_in}.items()
        if v is not None
    }
    if sizes:
        base = with_values(base, sizes, source=f"{path}")
    if base.steps < base.burn_in + 8:
        raise ScenarioError(
            f"{path}: steps ({base.steps}) must be at least burn_in + 8 ({base.burn_in + 8}): two yearly panel waves"
        )
    for dotted, bounds in spec.parameters.items():
        where = f"{path}: parameters.{dotted}"
        parameter_value(base, dotted, where)
        for value in (bounds.low, bounds.high):
            with_values(base, {dotted: value}, where)
    target_path = (path.parent / spec.targets).resolve()
    if not target_path.is_file():
        raise ScenarioError(f"{path}: targets: no target file {spec.targets!r} next to the calibration file")
    targets = load_targets(target_path).moments
    chosen = spec.moments if spec.moments is not None else list(targets)
    for name in [*chosen, *spec.weights]:
        if name not in targets:
            close = difflib.get_close_matches(name, targets, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; the target file has: {', '.join(targets)}"
            raise ScenarioError(f"{path}: moment {name!r} is not in {spec.targets}{hint}")
    for name, weight in spec.weights.items():
        if not 0 <= weight <= 1e6:
            raise ScenarioError(f"{path}: weights.{name}: a weight is a number from 0 to 1e6 (got {weight})")
    selected = {
        name: targets[name].model_copy(update={"weight": spec.weights.get(name, targets[name].weight)})
        for name in chosen
    }
    skipped = {}
    if base.steps < base.burn_in + DRIFT_QUARTERS:
        for name in [n for n in selected if n.startswith("drift_")]:
            skipped[name] = (
                f"needs steps >= burn_in + {DRIFT_QUARTERS} (this run: {base.steps} steps, burn-in {base.burn_in})"
            )
            del selected[name]
    if not selected:
        raise ScenarioError(f"{path}: no moment left to fit")
    problem = Problem(spec, path, base, selected, skipped)
    if spec.search.method == "cmaes" and problem.start() is None:
        outside = [
            n
            for n, lo, hi in zip(problem.names, problem.low, problem.high, strict=True)
            if not lo <= parameter_value(base, n, "parameters") <= hi
        ]
        raise ScenarioError(
            f"{path}: search.method 'cmaes' starts from the scenario's values, outside the bounds of "
            f"{', '.join(outside)}: widen the bounds or use 'sobol+cmaes'"
        )
    return problem


# --------------------------------------------------------------------------
# One run: its moments


def simulate_moments(spec: RunSpec) -> dict[str, Any]:
    """Run one simulation (in a worker) and return its calibration moments as a one-row table, with its timings."""
    started = time.perf_counter()
    model = DistrictModel(Params.model_validate(spec.params), rng=spec.seed)
    for _ in range(spec.steps):
        model.step()
    model.observer.record_panel(model)
    simulated = time.perf_counter()
    values = measure(model.observer.model_frame(model), model.observer.panel_frame(), model.params.burn_in)
    release(model)
    frame = pd.DataFrame([values])
    for column in reversed(RUN_COLUMNS):
        frame.insert(0, column, getattr(spec, column))
    done = time.perf_counter()
    return {
        "run_id": spec.run_id,
        "model": frame,
        "firms": None,
        "wall_time_s": done - started,
        "model_s": simulated - started,
        "moments_s": done - simulated,
    }


# --------------------------------------------------------------------------
# Evaluating parameter points


@dataclass
class Evaluation:
    """A parameter point and what its runs said."""

    index: int
    stage: str
    unit: np.ndarray
    values: dict[str, float]
    moments: dict[str, float]  # mean over seeds
    spread: dict[str, float]  # s.d. over seeds
    terms: dict[str, float]  # w_j z_j^2
    loss: float
    runs: int
    failed: int
    generation: int = -1

    def row(self) -> dict[str, Any]:
        out: dict[str, Any] = {"point": self.index, "stage": self.stage, "generation": self.generation}
        out.update(self.values)
        out.update({f"m_{k}": v for k, v in self.moments.items()})
        out.update({f"sd_{k}": v for k, v in self.spread.items()})
        out.update({f"loss_{k}": v for k, v in self.terms.items()})
        out.update({"loss": self.loss, "runs": self.runs, "failed": self.failed})
        return out


def loss_terms(targets: dict[str, Target], moments: dict[str, float]) -> tuple[dict[str, float], float]:
    """Each moment's weighted squared distance w z^2 from its target, and their sum (inf if any moment is NaN)."""
    terms = {name: t.weight * t.z(moments[name]) ** 2 for name, t in targets.items()}
    total = sum(terms.values())
    return terms, (float(total) if np.isfinite(total) else math.inf)


class Evaluator:
    """Runs parameter points through the runner with the problem's seeds, and keeps every evaluation in order."""

    def __init__(
        self, problem: Problem, store: ResultStore, executor, bar: tqdm | None = None, seeds: list[int] | None = None
    ):
        self.problem = problem
        self.store = store
        self.executor = executor
        self.bar = bar
        self.seeds = seeds or problem.seeds()
        self.evaluations: list[Evaluation] = []

    def specs(self, params: Params, label: str) -> list[RunSpec]:
        dump = params.model_dump()
        return [
            RunSpec(run_id(dump, seed, params.steps, False), label, params.name, -1, r, seed, params.steps, False, dump)
            for r, seed in enumerate(self.seeds)
        ]

    def stored_moments(self, params: Params) -> tuple[pd.DataFrame, int]:
        """Every finished run's moments at one parameter set, and how many of its runs failed (or are missing)."""
        specs = self.specs(params, "")
        frames = [pd.read_parquet(self.store.runs / f"{s.run_id}.parquet") for s in specs if self.store.done(s.run_id)]
        return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()), len(specs) - len(frames)

    def evaluate(self, units: list[np.ndarray], stage: str, generation: int = -1) -> list[Evaluation]:
        """Evaluate a batch of points: all their runs are submitted together, then each point is scored."""
        points = [self.problem.params(u) for u in units]
        specs = [s for params in points for s in self.specs(params, stage)]
        execute_runs(specs, self.store, self.executor, bar=self.bar, task=simulate_moments)
        out = []
        for unit, params in zip(units, points, strict=True):
            frame, failed = self.stored_moments(params)
            names = list(self.problem.targets)
            if failed or frame.empty:
                means = {n: math.nan for n in names}
                spread = dict(means)
            else:
                means = {n: float(frame[n].mean()) for n in names}
                spread = {n: float(frame[n].std(ddof=1)) if len(frame) > 1 else 0.0 for n in names}
            terms, loss = loss_terms(self.problem.targets, means)
            evaluation = Evaluation(
                len(self.evaluations), stage, np.asarray(unit, float), self.problem.values(unit), means, spread, terms,
                loss, len(self.seeds), failed, generation,
            )  # fmt: skip
            self.evaluations.append(evaluation)
            out.append(evaluation)
        if self.bar is not None and self.evaluations:
            self.bar.set_postfix(best_loss=f"{min(e.loss for e in self.evaluations):.3g}")
        return out

    def best(self) -> Evaluation:
        search = [e for e in self.evaluations if e.stage != "profile"]
        return min(search, key=lambda e: (e.loss, e.index))


# --------------------------------------------------------------------------
# The search


def space_filling(problem: Problem, n: int) -> list[np.ndarray]:
    """``n`` points of the unit cube: the starting values (if inside the bounds), then Sobol or LHS points."""
    search = problem.spec.search
    d = len(problem.names)
    start = problem.start()
    points = [start] if start is not None else []
    rest = max(n - len(points), 0)
    if rest:
        if search.method.startswith("sobol"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # balance properties hold for powers of 2 only
                design = qmc.Sobol(d, scramble=True, seed=search.seed).random(rest)
        else:
            design = qmc.LatinHypercube(d, seed=search.seed).random(rest)
        points += list(design)
    return points[:n]


def _cma(problem: Problem, x0: np.ndarray) -> cma.CMAEvolutionStrategy:
    search = problem.spec.search
    rng = np.random.default_rng(search.seed)
    options = {
        "bounds": [0.0, 1.0],
        "seed": np.nan,  # do not touch numpy's global generator
        "randn": lambda lam, n: rng.standard_normal((lam, n)),
        "verbose": -9,
        "verb_log": 0,
        "verb_disp": 0,
    }
    if search.popsize is not None:
        options["popsize"] = search.popsize
    return cma.CMAEvolutionStrategy(list(np.clip(x0, 0.0, 1.0)), search.sigma, options)


def search(problem: Problem, evaluator: Evaluator) -> Evaluation:
    """Space-filling stage (or the scenario's values alone), then CMA-ES from the best point, within the budget."""
    spec = problem.spec.search
    reps = len(evaluator.seeds)
    budget_points = max(spec.budget // reps, 1)
    refine = spec.method.endswith("cmaes")
    if spec.method == "cmaes":
        first = 1  # the scenario's own values (Problem.start, checked inside the bounds when loaded)
    elif refine:
        first = max(1, min(budget_points, round(spec.budget * spec.initial_share / reps)))
    else:
        first = budget_points
    evaluator.evaluate(space_filling(problem, first), "space-filling")
    left = budget_points - first
    if refine and left > 0:
        es = _cma(problem, evaluator.best().unit)
        generation = 0
        while left >= es.popsize and not es.stop():
            asked = es.ask()
            results = evaluator.evaluate([np.asarray(x) for x in asked], "cmaes", generation)
            es.tell(asked, [r.loss if np.isfinite(r.loss) else FAILED_LOSS for r in results])
            left -= es.popsize
            generation += 1
        if left > 0:  # the last, incomplete generation: its points, untold
            evaluator.evaluate([np.asarray(x) for x in es.ask()[:left]], "cmaes", generation)
    return evaluator.best()


def profiles(problem: Problem, evaluator: Evaluator, best: Evaluation) -> None:
    """One-dimensional loss profiles: each parameter over its range, the others at the optimum."""
    n = problem.spec.search.profile_points
    if n <= 0:
        return
    units = []
    for j in range(len(problem.names)):
        for value in np.linspace(0.0, 1.0, n):
            unit = best.unit.copy()
            unit[j] = value
            units.append(unit)
    evaluator.evaluate(units, "profile")


# --------------------------------------------------------------------------
# Outputs


def moment_table(problem: Problem, best: Evaluation) -> pd.DataFrame:
    """moments.csv: each target moment at the best point, with its band, spread over seeds and distance."""
    rows = []
    for name, t in problem.targets.items():
        value = best.moments[name]
        rows.append(
            {
                "moment": name,
                "target": t.target,
                "low": t.low,
                "high": t.high,
                "model": value,
                "model_sd": best.spread[name],
                "within": t.within(value),
                "z": t.z(value),
                "weight": t.weight,
                "loss_term": best.terms[name],
                "unit": CALIBRATION_MOMENTS[name].unit,
                "measure": t.measure,
                "source": t.source,
            }
        )
    for name, why in problem.skipped.items():
        rows.append({"moment": name, "model": math.nan, "within": False, "measure": f"not measured: {why}"})
    return pd.DataFrame(rows)


def _toml_value(value: float, integer: bool) -> str:
    return str(int(round(value))) if integer else repr(float(value))


def _is_integer(params: Params, dotted: str) -> bool:
    node: Any = params.model_dump()
    for part in dotted.split("."):
        node = node[part]
    return isinstance(node, int) and not isinstance(node, bool)


def best_scenario(problem: Problem, best: Evaluation) -> str:
    """best.toml: a scenario that extends the starting one with the fitted values (a file ``distretto run`` accepts)."""
    tables: dict[str, dict[str, str]] = {"": {}}
    for dotted, value in best.values.items():
        integer = _is_integer(problem.base, dotted)
        *parents, leaf = dotted.split(".")
        tables.setdefault(".".join(parents), {})[leaf] = _toml_value(value, integer)
    scenario = problem.spec.scenario
    extends = scenario if not scenario.endswith(".toml") else str(Path(scenario).resolve())
    lines = [
        f"# Calibrated by distretto calibrate {problem.path.name}: loss {best.loss:.4g} at point {best.index}",
        f"# ({len(problem.targets)} target moments, {problem.spec.replications} seeds; moments.csv beside this file).",
        f'extends = "{extends}"',
        f'description = "{problem.spec.description or problem.spec.name}: calibrated"',
    ]
    lines += [f"{key} = {value}" for key, value in tables.pop("").items()]
    for table, keys in tables.items():
        lines += ["", f"[{table}]", *(f"{key} = {value}" for key, value in keys.items())]
    return "\n".join(lines) + "\n"


def manifest(problem: Problem, evaluator: Evaluator, extra: dict[str, Any]) -> dict[str, Any]:
    """What the calibration folder holds and how it was made: definition, targets, seeds, versions, commit, counts."""
    spec = problem.spec
    return {
        "kind": "calibration",
        "calibration": json.loads(spec.model_dump_json()),
        "source": str(problem.path),
        "targets": {name: json.loads(t.model_dump_json()) for name, t in problem.targets.items()},
        "skipped_moments": problem.skipped,
        "scenario_parameters": problem.base.model_dump(),
        "seeds": evaluator.seeds,
        "updated": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": versions(),
        "commit": git_commit(),
        "points": len(evaluator.evaluations),
        "runs": sum(e.runs for e in evaluator.evaluations),
        "failed_runs": sum(e.failed for e in evaluator.evaluations),
        **extra,
    }


def write_outputs(problem: Problem, out: Path, evaluator: Evaluator, best: Evaluation, extra: dict[str, Any]) -> None:
    """evaluations.parquet, moments.csv, best.toml and manifest.json, each written whole or not at all."""
    frame = pd.DataFrame([e.row() for e in evaluator.evaluations])
    atomic_write(out / "evaluations.parquet", lambda p: frame.to_parquet(p, index=False))
    table = moment_table(problem, best)
    atomic_write(out / "moments.csv", lambda p: table.to_csv(p, index=False))
    text = best_scenario(problem, best)
    atomic_write(out / "best.toml", lambda p: p.write_text(text, encoding="utf-8"))
    write_manifest(
        out,
        problem,
        evaluator,
        {"status": "done", "best": {"point": best.index, "loss": best.loss, **best.values}, **extra},
    )


def write_manifest(out: Path, problem: Problem, evaluator: Evaluator, extra: dict[str, Any]) -> None:
    info = manifest(problem, evaluator, extra)
    atomic_write(out / "manifest.json", lambda p: p.write_text(json.dumps(info, indent=1, default=str) + "\n"))


# --------------------------------------------------------------------------
# Entry points


def _bar(total: int, done: int, desc: str, progress: bool) -> tqdm:
    return tqdm(total=total, initial=done, unit="run", desc=desc, disable=not progress, smoothing=0.1)


def planned_runs(problem: Problem) -> int:
    """Runs the search and the profiles will make (the space-filling stage may take fewer if the budget is small)."""
    d = len(problem.names)
    return problem.spec.search.budget // len(problem.seeds()) * len(problem.seeds()) + (
        problem.spec.search.profile_points * d * len(problem.seeds())
    )


def calibrate(
    problem: Problem,
    out: Path,
    executor,
    progress: bool = True,
    seeds: list[int] | None = None,
    extra: dict | None = None,
) -> Evaluation:
    """Run the calibration into folder ``out`` (resuming what is there); returns the best point."""
    store = ResultStore(out)
    store.prepare()
    done = sum(1 for _ in store.runs.glob("*.parquet"))
    with _bar(
        planned_runs(problem), min(done, planned_runs(problem)), problem.spec.name or "calibration", progress
    ) as bar:
        evaluator = Evaluator(problem, store, executor, bar, seeds)
        write_manifest(out, problem, evaluator, {"status": "running"})
        try:
            best = search(problem, evaluator)
            profiles(problem, evaluator, best)
        except KeyboardInterrupt:
            write_manifest(out, problem, evaluator, {"status": "interrupted"})
            raise
    write_outputs(problem, out, evaluator, best, extra or {})
    return best


def synthetic_targets(problem: Problem, out: Path, executor, truth: np.ndarray, progress: bool) -> dict[str, Target]:
    """Targets the model itself makes at ``truth``, on seeds other than the calibration's.

    Their bands are, by default (``recovery_bands = "simulated"``), the Monte
    Carlo error of the difference between two means of R seeds,
    +- sd sqrt(2 / R), sd the moment's spread over the truth's seeds: the
    loss then weighs each moment by how precisely the model pins it down.
    With ``"target"`` they keep the widths of the target file's bands.
    """
    reps = problem.spec.replications
    seeds = [problem.spec.seed + RECOVERY_SEED_OFFSET + r for r in range(reps)]
    store = ResultStore(out / "truth")
    store.prepare()
    with _bar(len(seeds), 0, "truth", progress) as bar:
        evaluator = Evaluator(problem, store, executor, bar, seeds)
        (point,) = evaluator.evaluate([truth], "truth")
    simulated = problem.spec.search.recovery_bands == "simulated"
    targets = {}
    for name, t in problem.targets.items():
        value, sd = point.moments[name], point.spread[name]
        if not np.isfinite(value):
            continue
        if simulated and np.isfinite(sd) and sd > 0:
            below = above = sd * math.sqrt(2.0 / reps)
        else:
            below, above = t.target - t.low, t.high - t.target
        targets[name] = Target(
            target=value, low=value - below, high=value + above, weight=t.weight, measure=t.measure,
            source=f"the model at the true parameters (seeds {seeds[0]}-{seeds[-1]})",
        )  # fmt: skip
    return targets


def recover(problem: Problem, out: Path, executor, progress: bool = True) -> pd.DataFrame:
    """Identification check: calibrate from scratch to moments the model made at a known point; recovery.csv."""
    rng = np.random.default_rng(problem.spec.search.seed + 1)
    truth = 0.1 + 0.8 * rng.random(len(problem.names))  # away from the bounds, where CMA-ES cannot overshoot
    targets = synthetic_targets(problem, out, executor, truth, progress)
    synthetic = Problem(problem.spec, problem.path, problem.base, targets, problem.skipped)
    true_values = problem.values(truth)
    best = calibrate(synthetic, out, executor, progress, extra={"recovery": {"truth": true_values}})
    ranges = problem.high - problem.low
    table = pd.DataFrame(
        {
            "parameter": problem.names,
            "truth": [true_values[n] for n in problem.names],
            "estimate": [best.values[n] for n in problem.names],
        }
    )
    table["error_share_of_range"] = (table["estimate"] - table["truth"]).abs() / ranges
    atomic_write(out / "recovery.csv", lambda p: table.to_csv(p, index=False))
    return table
