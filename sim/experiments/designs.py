"""Designs: the runs an experiment plans, each with a run id derived from what determines its results.

Sweeps take a grid, a Latin hypercube or random points over the parameters'
bounds; sensitivity experiments take SALib's Sobol or Morris samples.
Replication r of every scenario or design point uses seed ``seed + r``
(common random numbers), so differences between scenarios or points are
not drowned in seed noise.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample
from scipy.stats import qmc

from sim.config import Params, load_scenario, with_overrides, with_values
from sim.experiments.definitions import Compare, Robustness, Sensitivity, Sweep, with_set
from sim.experiments.worlds import nested, variant_values, world_table, world_values


@dataclass(frozen=True)
class RunSpec:
    """One simulation of an experiment; ``run_id`` is a hash of what determines its results."""

    run_id: str
    label: str  # scenario name (compare) or design point label
    scenario: str
    point: int  # design point (-1 for compare)
    replication: int
    seed: int
    steps: int
    panels: bool
    params: dict[str, Any]


def run_id(params: dict[str, Any], seed: int, steps: int, panels: bool) -> str:
    """Stable id of a run: same parameters, seed, steps and panel choice, same id."""
    text = json.dumps({"params": params, "seed": seed, "steps": steps, "panels": panels}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def design(experiment: Sweep | Sensitivity, rng_seed: int) -> np.ndarray:
    """Design points, shape (points, parameters), in the order of ``experiment.parameters``."""
    ranges = list(experiment.parameters.values())
    if isinstance(experiment, Sensitivity):
        problem = salib_problem(experiment)
        if experiment.method == "sobol":
            return sobol_sample.sample(problem, experiment.samples, calc_second_order=False, seed=rng_seed)
        return morris_sample.sample(problem, experiment.samples, num_levels=experiment.levels, seed=rng_seed)
    if experiment.design == "grid":
        mesh = np.meshgrid(*[r.grid() for r in ranges], indexing="ij")
        return np.stack([m.ravel() for m in mesh], axis=1)
    low = np.array([r.low for r in ranges])
    high = np.array([r.high for r in ranges])
    gen = np.random.default_rng(rng_seed)
    if experiment.design == "random":
        unit = gen.random((experiment.points, len(ranges)))
    else:  # Latin hypercube: one point in each of `points` strata per dimension
        unit = qmc.LatinHypercube(d=len(ranges), seed=gen).random(experiment.points)
    return low + unit * (high - low)


def salib_problem(experiment: Sensitivity) -> dict[str, Any]:
    """The SALib problem dictionary of a sensitivity experiment."""
    return {
        "num_vars": len(experiment.parameters),
        "names": list(experiment.parameters),
        "bounds": [[r.low, r.high] for r in experiment.parameters.values()],
    }


def scenario_params(experiment, name: str, overrides: dict[str, Any]) -> Params:
    """A scenario of the experiment with its ``[set]`` values, then the file's ``n_firms`` and ``steps``."""
    params = with_set(load_scenario(name), experiment.set)
    return with_overrides(params, overrides) if overrides else params


def plan(experiment: Compare | Sweep | Sensitivity | Robustness) -> list[RunSpec]:
    """Every run of the experiment, in a fixed order."""
    overrides = {k: v for k, v in {"n_firms": experiment.n_firms, "steps": experiment.steps}.items() if v is not None}
    if isinstance(experiment, Robustness):
        return _robustness_plan(experiment, overrides)
    runs: list[RunSpec] = []

    def add(label: str, params: Params, point: int) -> None:
        dump = params.model_dump()
        for r in range(experiment.replications):
            seed = experiment.seed + r
            rid = run_id(dump, seed, params.steps, experiment.panels)
            runs.append(RunSpec(rid, label, params.name, point, r, seed, params.steps, experiment.panels, dump))

    if isinstance(experiment, Compare):
        for name in [experiment.baseline, *experiment.scenarios]:
            add(name, scenario_params(experiment, name, overrides), -1)
        return runs
    base = scenario_params(experiment, experiment.scenario, overrides)
    names = list(experiment.parameters)
    for i, row in enumerate(design(experiment, experiment.seed)):
        values = dict(zip(names, row.tolist(), strict=True))
        add(f"point {i}", with_values(base, values), i)
    return runs


def world_seed(experiment: Robustness, world: int, replication: int) -> int:
    """Seed of a replication in a world: the same for every scenario of the world (common random numbers)."""
    offset = world * experiment.replications if experiment.world_seeds == "distinct" else 0
    return experiment.seed + offset + replication


def _robustness_plan(experiment: Robustness, overrides: dict[str, Any]) -> list[RunSpec]:
    """World by world, the baseline and every policy, each with the world's variant and values on top."""
    names = [experiment.baseline, *experiment.scenarios]
    bases = {name: scenario_params(experiment, name, overrides) for name in names}
    variants = variant_values(experiment)
    runs: list[RunSpec] = []
    for world in world_table(experiment).to_dict("records"):
        w = int(world["world"])
        values, variant = world_values(world), variants[world["variant"]]
        for name in names:
            params = with_overrides(bases[name], nested(variant), "variant") if variant else bases[name]
            params = with_values(params, values, "world") if values else params
            dump = params.model_dump()
            for r in range(experiment.replications):
                seed = world_seed(experiment, w, r)
                rid = run_id(dump, seed, params.steps, experiment.panels)
                runs.append(RunSpec(rid, name, params.name, w, r, seed, params.steps, experiment.panels, dump))
    return runs


def point_values(experiment: Sweep | Sensitivity) -> np.ndarray:
    """The design again (for analysis), same order as ``plan``."""
    return design(experiment, experiment.seed)
