"""Plausible worlds of a robustness experiment: parameter vectors a policy must do well in, not one best guess.

A world is a parameter vector applied on top of every scenario of the
experiment alike (baseline and policies), like ``[set]``. Worlds come from
three sources, combined:

- points of a calibration folder (``distretto calibrate``) whose loss is
  within a relative tolerance of the best loss: the parameter vectors the
  region's data cannot tell apart from the best fit;
- a Latin hypercube or scrambled Sobol sample over ``[uncertainties]``
  bounds: parameters the data do not pin down at all;
- named model variants (e.g. the alternative closure), each a parameter set;
  every world gets one variant (``default``: none), balanced over the worlds
  and assigned at random so that the variant is independent of the sampled
  values.

This module sits below ``definitions`` (which validates with it) and
``designs`` (which turns worlds into runs), so it depends only on sim.config;
it reads an experiment by its attributes.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from sim.config import ScenarioError, load_scenario

#: The variant of worlds that apply no variant (the model as the baseline has it).
DEFAULT_VARIANT = "default"
#: Keys a variant scenario's difference from the baseline leaves out: they describe the run, not the world.
NOT_WORLD_KEYS = ("name", "description", "n_firms", "steps")
#: Seed offset of the variant assignment, so that it does not reuse the stream of the sampled design.
VARIANT_STREAM = 7_919


def nested(values: dict[str, Any]) -> dict[str, Any]:
    """Dotted names (``markets.china.entry_cost``) and TOML sub-tables alike, as one nested mapping."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        node = out
        *parents, leaf = str(key).split(".")
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ScenarioError(f"{key}: {part} is set twice, as a value and as a table")
            node = child
        if isinstance(value, dict):
            merged = node.setdefault(leaf, {})
            if not isinstance(merged, dict):
                raise ScenarioError(f"{key}: set twice, as a value and as a table")
            _merge_into(merged, nested(value))
        else:
            node[leaf] = value
    return out


def _merge_into(target: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge_into(target[key], value)
        else:
            target[key] = value


def flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested mapping as dotted names (the inverse of ``nested`` for mappings of values)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def scenario_difference(scenario: str, baseline: str) -> dict[str, Any]:
    """What scenario ``scenario`` changes relative to ``baseline``, by dotted name (a variant given as a scenario)."""
    base = flatten(load_scenario(baseline).model_dump())
    other = flatten(load_scenario(scenario).model_dump())
    skip = tuple(f"{k}." for k in NOT_WORLD_KEYS)
    return {
        k: v
        for k, v in other.items()
        if k not in NOT_WORLD_KEYS and not k.startswith(skip) and (k not in base or base[k] != v)
    }


def variant_values(experiment: Any) -> dict[str, dict[str, Any]]:
    """Every variant's parameter values by dotted name, ``default`` (none) first."""
    out: dict[str, dict[str, Any]] = {DEFAULT_VARIANT: {}}
    for name, variant in experiment.variants.items():
        values = scenario_difference(variant.scenario, experiment.baseline) if variant.scenario else {}
        values.update(flatten(nested(variant.set)))
        out[name] = values
    return out


# --------------------------------------------------------------------------
# Calibration folders


def calibration_points(folder: str | Path, tolerance: float, limit: int, where: str) -> list[dict[str, float]]:
    """The evaluated points of a calibration folder whose loss is at most (1 + tolerance) x the best, best first.

    Only the calibration's free parameters are kept (the columns named in its
    manifest). At most ``limit`` points; points that failed or repeat an
    earlier point are dropped. A folder that is not a finished calibration is
    a one-line ScenarioError starting with ``where``.
    """
    path = Path(folder)
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ScenarioError(
            f"{where}: {str(folder)!r} is not a calibration folder (no readable manifest.json; "
            "make one with distretto calibrate)"
        ) from None
    if not isinstance(manifest, dict) or manifest.get("kind") != "calibration":
        raise ScenarioError(
            f"{where}: {str(folder)!r} is not a calibration folder (its manifest is not a calibration's)"
        )
    table_path = path / "evaluations.parquet"
    if not table_path.is_file():
        raise ScenarioError(
            f"{where}: {str(folder)!r} holds no evaluations.parquet (the calibration has not finished; "
            "run distretto calibrate again to complete it)"
        )
    names = list(manifest.get("calibration", {}).get("parameters", {}))
    table = pd.read_parquet(table_path)
    missing = [n for n in [*names, "loss"] if n not in table.columns]
    if not names or missing:
        raise ScenarioError(f"{where}: {table_path} lacks the columns {missing or 'of its free parameters'}")
    if "failed" in table.columns:
        table = table[table["failed"] == 0]
    table = table[np.isfinite(table["loss"].to_numpy(dtype=float))]
    if table.empty:
        raise ScenarioError(f"{where}: {table_path} has no point with a finite loss")
    best = float(table["loss"].min())
    kept = table[table["loss"] <= best * (1.0 + tolerance) + 1e-12]
    kept = kept.sort_values(["loss", "point"] if "point" in kept.columns else ["loss"], kind="stable")
    kept = kept.drop_duplicates(subset=names)
    return [{n: float(row[n]) for n in names} for _, row in kept.head(limit).iterrows()]


# --------------------------------------------------------------------------
# The world table


def unit_sample(design: str, n: int, d: int, seed: int) -> np.ndarray:
    """``n`` points of the unit cube of dimension ``d``: Latin hypercube or scrambled Sobol, seeded."""
    if d == 0:
        return np.zeros((n, 0))
    if design == "sobol":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # balance properties hold for powers of 2 only
            return qmc.Sobol(d, scramble=True, seed=np.random.default_rng(seed)).random(n)
    return qmc.LatinHypercube(d=d, seed=np.random.default_rng(seed)).random(n)


def world_table(experiment: Any) -> pd.DataFrame:
    """One row per world: ``world``, ``variant``, then the value of every world parameter (dotted names).

    Calibration points (best first, cycled if there are fewer than
    ``worlds`` and other sources vary), sampled uncertainties, and a variant
    per world. Where a variant sets a calibrated parameter (the alternative
    closure sets the contract wage's growth, which the baseline's
    calibration fits), the variant's value replaces the point's in its
    worlds, so the table holds the values the runs use. Worlds that repeat
    an earlier world are dropped, so the table can have fewer rows than
    ``worlds``.
    """
    points = experiment.calibration_points or []
    variants = list(variant_values(experiment))
    others = bool(experiment.uncertainties) or len(variants) > 1
    n = experiment.worlds if (others or not points) else min(experiment.worlds, len(points))
    columns: dict[str, np.ndarray] = {}
    if points:
        for name in points[0]:
            columns[name] = np.array([points[i % len(points)][name] for i in range(n)], dtype=float)
    names = list(experiment.uncertainties)
    unit = unit_sample(experiment.design, n, len(names), experiment.seed)
    for j, name in enumerate(names):
        rng = experiment.uncertainties[name]
        columns[name] = rng.low + unit[:, j] * (rng.high - rng.low)
    order = np.random.default_rng(experiment.seed + VARIANT_STREAM).permutation(np.arange(n) % len(variants))
    table = pd.DataFrame({"world": np.arange(n), "variant": [variants[k] for k in order], **columns})
    for name, values in variant_values(experiment).items():  # a variant's values replace a calibration point's
        rows = table["variant"] == name
        for key, value in values.items():
            if key in columns:
                table.loc[rows, key] = float(value)
    table = table.drop_duplicates(subset=[c for c in table.columns if c != "world"]).reset_index(drop=True)
    return table


def world_values(row: pd.Series | dict[str, Any]) -> dict[str, float]:
    """The numeric parameter values of a world row (without ``world`` and ``variant``)."""
    return {k: float(v) for k, v in dict(row).items() if k not in ("world", "variant") and not _missing(v)}


def _missing(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)
