"""Run one simulation and write its tidy outputs (docs/outputs.md).

Files are written under temporary names and moved into place with
``os.replace``, so an interrupted run never leaves a half-written table.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from tqdm import tqdm

from sim.config import Params, ScenarioError, build_params
from sim.model import graph
from sim.model.district import DistrictModel

PACKAGES = ("distretto", "mesa", "numpy", "pandas", "pyarrow", "pydantic")


def versions() -> dict[str, str]:
    """Versions of Python and the packages that shape the results."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def git_commit() -> str | None:
    """Commit of the source tree, with ``-dirty`` if it has uncommitted changes."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("-dirty" if dirty else "")


def check_output_dir(out: Path) -> None:
    """Fail early, before any work, if ``out`` cannot be created or written."""
    target = out
    while not target.exists():
        if target.parent == target:
            break
        target = target.parent
    if target.exists() and not target.is_dir():
        raise ScenarioError(f"--out {out}: {target} exists and is not a folder")
    try:
        probe = tempfile.mkdtemp(prefix=".distretto-probe-", dir=target)
    except OSError as exc:
        raise ScenarioError(f"--out {out}: cannot write in {target} ({exc.strerror or exc})") from None
    os.rmdir(probe)


def atomic_write(path: Path, write: Any) -> None:
    """Write ``path`` through ``write`` on a temporary name beside it, then move it into place (never half-written)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_outputs(model: DistrictModel, out: Path, manifest: dict[str, Any]) -> dict[str, Path]:
    """Write model.parquet, firms.parquet, provinces.parquet and manifest.json into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "model": out / "model.parquet",
        "firms": out / "firms.parquet",
        "provinces": out / "provinces.parquet",
        "network": out / "network.parquet",
        "manifest": out / "manifest.json",
    }
    model_frame = model.observer.model_frame(model)
    firms_frame = model.observer.panel_frame()
    province_frame = model.observer.province_frame()
    atomic_write(paths["model"], lambda p: model_frame.to_parquet(p, index=False))
    atomic_write(paths["firms"], lambda p: firms_frame.to_parquet(p, index=False))
    atomic_write(paths["provinces"], lambda p: province_frame.to_parquet(p, index=False))
    network_frame = graph.edge_list(model)
    atomic_write(paths["network"], lambda p: network_frame.to_parquet(p, index=False))
    text = json.dumps(manifest, indent=2, sort_keys=False, default=str)
    atomic_write(paths["manifest"], lambda p: p.write_text(text + "\n", encoding="utf-8"))
    return paths


def simulate(params: Params, seed: int, steps: int | None = None, progress: bool = True) -> DistrictModel:
    """Build the model and run it for ``steps`` quarters (default: the scenario's)."""
    model = DistrictModel(params, rng=seed)
    steps = params.steps if steps is None else steps
    for _ in tqdm(range(steps), desc=f"{params.name} seed {seed}", unit="quarter", disable=not progress, leave=False):
        model.step()
    model.observer.record_panel(model)  # the last step is always in the panel
    return model


def run(params: Params, seed: int, out: Path, steps: int | None = None, progress: bool = True) -> dict[str, Path]:
    """Simulate and write the outputs with a manifest that reproduces the run."""
    check_output_dir(out)
    steps = params.steps if steps is None else steps
    started = time.perf_counter()
    model = simulate(params, seed, steps, progress)
    manifest = {
        "scenario": params.name,
        "seed": seed,
        "steps": steps,
        "n_firms": params.n_firms,
        "parameters": params.model_dump(),
        "versions": versions(),
        "commit": git_commit(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "wall_time_s": round(time.perf_counter() - started, 3),
        "outputs": {
            "model": "model.parquet",
            "firms": "firms.parquet",
            "provinces": "provinces.parquet",
            "network": "network.parquet",
        },
    }
    return write_outputs(model, out, manifest)


def params_from_manifest(path: Path) -> tuple[Params, int]:
    """The resolved parameters and seed a manifest.json records (steps are in the parameters)."""
    try:
        manifest = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ScenarioError(f"{path}: not a readable manifest.json ({exc})") from None
    if (
        not isinstance(manifest, dict)
        or not isinstance(manifest.get("parameters"), dict)
        or not isinstance(manifest.get("seed"), int)
    ):
        raise ScenarioError(f"{path}: a manifest needs 'parameters' (a table) and 'seed' (an integer)")
    params = build_params(manifest["parameters"], source=f"{path}: parameters")
    steps = manifest.get("steps", params.steps)
    if not isinstance(steps, int) or steps < 1:
        raise ScenarioError(f"{path}: steps must be an integer >= 1 (got {steps!r})")
    return params.model_copy(update={"steps": steps}), manifest["seed"]


def default_out_dir(params: Params, seed: int, steps: int) -> Path:
    """results/<scenario>_seed<seed>_<firms>f_<steps>q."""
    return Path("results") / f"{params.name}_seed{seed}_{params.n_firms}f_{steps}q"
