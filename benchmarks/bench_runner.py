"""Experiment-runner benchmark for distretto: runner overhead and parallel speed-up.

What it measures
----------------
1. Overhead of the experiment runner. R runs (default 8) of the baseline
   scenario (2,000 firms, 60 quarters; seeds ``seed .. seed+R-1``) are timed
   twice: directly, as ``sim.run.simulate(params, seed, steps, progress=False)``
   followed by ``model.observer.model_frame(model)``, and through
   ``sim.experiments.runner.run_experiment`` with a ``SerialExecutor`` into a fresh
   temporary folder. The experiment is a one-point grid sweep
   (``entry_cost_scale = [1.0]``, the baseline's value) with ``replications=R``,
   so its plan is exactly the same R runs; the direct runs take their
   parameters and seeds from that plan, and the script checks that both arms
   produce the same model series. The runner arm includes everything
   ``run_experiment`` does: planning, hashing run ids, the manifest (written at
   start and end, with ``git`` calls), one Parquet file per run. Overhead % =
   (runner - direct) / direct. The overhead is then split into its measured
   parts (plan, manifest writes, Parquet saves, parameter validation).
2. Parallel speed-up from 1 to 2 workers, W runs (default 8), for the local
   process pool (``make_executor("local", n)``) and for Dask
   (``make_executor("dask", n)``, a LocalCluster). For each kind the 1- and
   2-worker executors are opened side by side and only the ``run_experiment``
   call inside the context manager is timed, so starting the pool or the
   cluster (and shutting it down) is excluded; it is reported as "start-up".
   The first experiment on each executor is timed once as "cold": it includes
   start-up work done lazily (pool processes are created on first submit, and
   mesa forces the "spawn" start method, so pool and Dask workers import the
   model on their first run). Then the same W runs are timed ``--repeats``
   times into fresh folders ("warm"), alternating 1 and 2 workers.
   Efficiency = T1 / (2 * T2), on the warm times. After each repetition a
   pure-Python busy loop is timed alone and as 2 concurrent processes: the
   ratio is the most the machine itself allows at that moment (a VM whose
   vCPUs share a core, or a busy host, gives 50 %, not 100 %).

Every figure is the best (minimum) of ``--repeats`` repetitions (default 5),
the usual way to time code on a machine that may be doing something else;
medians and every repetition are printed or kept in the JSON. Each arm is
preceded by ``gc.collect()`` and the order of the arms alternates.

Why
---
Experiments run hundreds of these short runs. The runner's bookkeeping
(manifest, one file per run, resumability) must cost little against the model
itself, and adding a worker should nearly halve the wall time, or parallel
experiments on a laptop or a cluster are not worth it.

Targets: runner overhead < 5 % per run; efficiency >= 80 % on 2 workers, for
both the local pool and Dask. The script always exits 0: it is a report, not a test.

Usage::

    python benchmarks/bench_runner.py [--runs 8] [--parallel-runs 8] [--firms 2000] [--steps 60] [--seed 1]
                                      [--repeats 5] [--skip-dask] [--json PATH]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pandas as pd

from sim.config import Params
from sim.experiments.definitions import parse_experiment
from sim.experiments.designs import plan
from sim.experiments.runner import RUN_COLUMNS, ResultStore, SerialExecutor, make_executor, run_experiment
from sim.run import simulate

OVERHEAD_TARGET_PCT = 5.0
EFFICIENCY_TARGET = 0.80
PARALLEL_WORKERS = 2


def build_experiment(runs: int, firms: int, steps: int, seed: int) -> Any:
    """A one-point sweep of the baseline whose plan is exactly ``runs`` baseline runs (seeds seed..seed+runs-1)."""
    data = {
        "kind": "sweep",
        "name": "bench_runner",
        "scenario": "baseline",
        "design": "grid",
        "replications": runs,
        "seed": seed,
        "steps": steps,
        "n_firms": firms,
        "parameters": {"entry_cost_scale": {"values": [1.0]}},
        "outcomes": {"employment": {"column": "employment"}},
    }
    return parse_experiment(data, "bench_runner")


def time_direct(specs: list[Any]) -> tuple[float, list[Any]]:
    """Seconds for simulate + model_frame over every spec, and the frames."""
    frames = []
    start = time.perf_counter()
    for spec in specs:
        model = simulate(Params.model_validate(spec.params), spec.seed, spec.steps, progress=False)
        frames.append(model.observer.model_frame(model))
    return time.perf_counter() - start, frames


def time_runner(experiment: Any, executor: Any) -> tuple[float, Path, tempfile.TemporaryDirectory]:
    """Seconds for run_experiment into a fresh temporary folder (returned, still alive, for checks)."""
    tmp = tempfile.TemporaryDirectory(prefix="bench_runner-")
    out = Path(tmp.name) / "exp"
    start = time.perf_counter()
    manifest = run_experiment(experiment, out, executor, progress=False)
    seconds = time.perf_counter() - start
    if manifest["counts"]["done"] != len(manifest["runs"]):
        raise RuntimeError(f"runner benchmark: not every run finished: {manifest['counts']}")
    return seconds, out, tmp


def same_results(specs: list[Any], frames: list[Any], out: Path) -> bool:
    """Do the runner's Parquet files hold the same model series as the direct runs?"""
    store = ResultStore(out)
    for spec, frame in zip(specs, frames, strict=True):
        saved = pd.read_parquet(store.runs / f"{spec.run_id}.parquet").drop(columns=list(RUN_COLUMNS))
        try:
            pd.testing.assert_frame_equal(saved.reset_index(drop=True), frame.reset_index(drop=True), check_dtype=False)
        except AssertionError:
            return False
    return True


def overhead_parts(experiment: Any, specs: list[Any], frames: list[Any]) -> dict[str, float]:
    """Seconds of each piece of runner work that the direct runs do not do, timed on its own."""
    parts: dict[str, float] = {}
    start = time.perf_counter()
    plan(experiment)
    parts["plan"] = time.perf_counter() - start
    with tempfile.TemporaryDirectory(prefix="bench_runner-parts-") as tmp:
        store = ResultStore(Path(tmp))
        store.prepare()
        start = time.perf_counter()
        store.write_manifest(experiment, specs, "")
        parts["manifest_x2"] = 2 * (time.perf_counter() - start)  # written at the start and at the end
        copies = [frame.copy() for frame in frames]
        results = []
        start = time.perf_counter()
        for spec, frame in zip(specs, copies, strict=True):
            for column in reversed(RUN_COLUMNS):  # as execute() does
                frame.insert(0, column, getattr(spec, column))
            results.append({"run_id": spec.run_id, "model": frame, "firms": None})
        parts["run_columns"] = time.perf_counter() - start
        start = time.perf_counter()
        for result in results:
            store.save(result)
        parts["parquet_saves"] = time.perf_counter() - start
    start = time.perf_counter()
    for spec in specs:
        Params.model_validate(spec.params)
    parts["params_validate"] = time.perf_counter() - start  # execute() validates; the direct arm does too, so ~0 net
    return parts


def measure_overhead(runs: int, firms: int, steps: int, seed: int, repeats: int) -> dict[str, Any]:
    """Direct and runner arms, ``repeats`` times each, alternating which goes first; best of each."""
    experiment = build_experiment(runs, firms, steps, seed)
    specs = plan(experiment)
    time_direct(specs[:1])  # warm-up: imports, first-call caches
    direct_all, runner_all, identical = [], [], True
    frames: list[Any] = []
    for repeat in range(repeats):
        for arm in (
            ("direct", "runner") if repeat % 2 == 0 else ("runner", "direct")
        ):  # so drifts of the machine hit both arms
            gc.collect()
            if arm == "direct":
                seconds, frames = time_direct(specs)
                direct_all.append(seconds)
            else:
                seconds, out, tmp = time_runner(experiment, SerialExecutor())
                runner_all.append(seconds)
                identical = identical and (not frames or same_results(specs, frames, out))
                tmp.cleanup()
    direct, runner = min(direct_all), min(runner_all)
    parts = overhead_parts(experiment, specs, frames)
    return {
        "runs": runs,
        "direct_s": direct,
        "runner_s": runner,
        "direct_all_s": direct_all,
        "runner_all_s": runner_all,
        "direct_per_run_s": direct / runs,
        "runner_per_run_s": runner / runs,
        "overhead_per_run_s": (runner - direct) / runs,
        "overhead_pct": 100 * (runner - direct) / direct,
        "overhead_median_pct": 100
        * (statistics.median(runner_all) - statistics.median(direct_all))
        / statistics.median(direct_all),
        "direct_spread_pct": 100 * (max(direct_all) - direct) / direct,
        "same_results": identical,
        "parts_s": parts,
        "parts_total_s": sum(v for k, v in parts.items() if k != "params_validate"),
    }


CPU_LOOP = (
    "import time\nt = time.perf_counter()\nx = 0\nfor i in range({n}):\n    x += i\nprint(time.perf_counter() - t)"
)


def cpu_capacity(workers: int = PARALLEL_WORKERS, n: int = 5_000_000) -> dict[str, Any]:
    """Pure-Python busy loop timed alone, then in ``workers`` processes at once.

    Their ratio is the machine's own ceiling on parallel efficiency at that moment.
    """
    cmd = [sys.executable, "-c", CPU_LOOP.format(n=n)]
    solo = float(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(workers)]
    together = [float(proc.communicate()[0]) for proc in procs]
    return {"workers": workers, "solo_s": solo, "together_s": together, "ceiling": solo / statistics.mean(together)}


def measure_parallel(kind: str, runs: int, firms: int, steps: int, seed: int, repeats: int) -> dict[str, Any]:
    """1- and 2-worker executors open side by side; only run_experiment is timed, alternating 1 and 2 workers.

    Entering and leaving each ``make_executor`` context (pool or cluster start-up and shut-down) is timed apart.
    The first experiment on each executor is "cold"; then ``repeats`` "warm" ones, each followed by a probe of
    how much parallel CPU the machine gives at that moment.
    """
    experiment = build_experiment(runs, firms, steps, seed)
    counts = (1, PARALLEL_WORKERS)
    rows = {n: {"kind": kind, "workers": n, "runs": runs, "warm_all_s": []} for n in counts}
    probes = []
    stack = ExitStack()
    try:
        executors = {}
        for n in counts:
            start = time.perf_counter()
            executors[n] = stack.enter_context(make_executor(kind, n))
            rows[n]["startup_s"] = time.perf_counter() - start
        for n in counts:
            rows[n]["cold_s"], _, tmp = time_runner(experiment, executors[n])
            tmp.cleanup()
        for repeat in range(repeats):
            for n in counts if repeat % 2 == 0 else counts[::-1]:
                gc.collect()
                seconds, _, tmp = time_runner(experiment, executors[n])
                rows[n]["warm_all_s"].append(seconds)
                tmp.cleanup()
            probes.append(cpu_capacity())
    finally:
        start = time.perf_counter()
        stack.close()
        shutdown = time.perf_counter() - start
    for row in rows.values():
        row["warm_s"] = min(row["warm_all_s"])
    one, two = rows[1], rows[PARALLEL_WORKERS]
    return {
        "kind": kind,
        "rows": [one, two],
        "shutdown_both_s": shutdown,
        "efficiency": efficiency(one["warm_s"], two["warm_s"]),
        "efficiency_cold": efficiency(one["cold_s"], two["cold_s"]),
        "efficiency_median": efficiency(statistics.median(one["warm_all_s"]), statistics.median(two["warm_all_s"])),
        "cpu_probes": probes,
        "ceiling_min": min(p["ceiling"] for p in probes),
        "ceiling_max": max(p["ceiling"] for p in probes),
    }


def efficiency(t1: float, t2: float, workers: int = PARALLEL_WORKERS) -> float:
    return t1 / (workers * t2)


def print_overhead(o: dict[str, Any]) -> None:
    print(f"Runner overhead: {o['runs']} runs, serial (best of {len(o['direct_all_s'])})")
    header = f"{'arm':<34} {'total s':>8} {'s/run':>8}"
    print(header)
    print("-" * len(header))
    print(f"{'direct simulate + model_frame':<34} {o['direct_s']:>8.3f} {o['direct_per_run_s']:>8.4f}")
    print(f"{'run_experiment + SerialExecutor':<34} {o['runner_s']:>8.3f} {o['runner_per_run_s']:>8.4f}")
    print(
        f"{'overhead':<34} {o['runner_s'] - o['direct_s']:>8.3f} {o['overhead_per_run_s']:>8.4f}"
        f"   ({o['overhead_pct']:+.2f} %)"
    )
    print(
        f"overhead from medians {o['overhead_median_pct']:+.2f} %; "
        f"spread of the direct arm over repetitions (max/min - 1) {o['direct_spread_pct']:.1f} %"
    )
    print(f"same model series in both arms: {'yes' if o['same_results'] else 'NO'}")
    parts = ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in o["parts_s"].items())
    print(f"runner's extra work, each part timed alone: {parts}")
    print(
        f"  sum (excl. validate, done in both arms) {o['parts_total_s'] * 1000:.1f} ms"
        f" = {100 * o['parts_total_s'] / o['direct_s']:.2f} % of direct"
    )


def print_parallel(results: list[dict[str, Any]]) -> None:
    first = results[0]["rows"][0]
    print(
        f"\nParallel speed-up: {first['runs']} runs; only run_experiment is timed "
        f"(pool/cluster start-up excluded); warm = best of {len(first['warm_all_s'])}"
    )
    header = f"{'executor':<8} {'workers':>7} {'start-up s':>10} {'cold s':>8} {'warm s':>8} "
    header += f"{'speed-up':>8} {'efficiency':>10}"
    print(header)
    print("-" * len(header))
    for res in results:
        base = res["rows"][0]["warm_s"]
        for r in res["rows"]:
            speedup = base / r["warm_s"]
            print(
                f"{r['kind']:<8} {r['workers']:>7} {r['startup_s']:>10.2f} {r['cold_s']:>8.3f} {r['warm_s']:>8.3f}"
                f" {speedup:>8.2f} {100 * speedup / r['workers']:>8.1f} %"
            )
    for res in results:
        print(
            f"{res['kind']}: efficiency warm {100 * res['efficiency']:.1f} % "
            f"(medians {100 * res['efficiency_median']:.1f} %), cold {100 * res['efficiency_cold']:.1f} %; "
            f"machine ceiling during it {100 * res['ceiling_min']:.0f}-{100 * res['ceiling_max']:.0f} %"
        )
    print(
        f"(machine ceiling: solo time / time of {PARALLEL_WORKERS} concurrent runs of a pure-Python loop, "
        "probed after each repetition)"
    )


def evaluate_targets(o: dict[str, Any], results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    targets = [
        {
            "name": f"runner overhead per run < {OVERHEAD_TARGET_PCT:.0f} %",
            "value": o["overhead_pct"],
            "unit": "%",
            "passed": o["overhead_pct"] < OVERHEAD_TARGET_PCT,
        }
    ]
    for res in results:
        name = f"{res['kind']} efficiency on {PARALLEL_WORKERS} workers >= {100 * EFFICIENCY_TARGET:.0f} %"
        targets.append(
            {
                "name": name,
                "value": 100 * res["efficiency"],
                "unit": "%",
                "passed": res["efficiency"] >= EFFICIENCY_TARGET,
            }
        )
    return targets


def print_targets(targets: list[dict[str, Any]]) -> None:
    print("\nTargets:")
    for t in targets:
        print(f"  {'PASS' if t['passed'] else 'MISS'}  {t['name']}  (measured: {t['value']:.2f} {t['unit']})")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Runner benchmark: run_experiment overhead against direct runs, "
        "and 1 -> 2 worker speed-up (local pool, Dask)."
    )
    parser.add_argument("--runs", type=int, default=8, help="runs for the overhead comparison (default: 8)")
    parser.add_argument("--parallel-runs", type=int, default=8, help="runs for the speed-up measurement (default: 8)")
    parser.add_argument("--firms", type=int, default=2000, help="firms per run (default: 2000, the baseline)")
    parser.add_argument("--steps", type=int, default=60, help="quarters per run (default: 60, the baseline)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the first run (default: 1)")
    parser.add_argument(
        "--repeats", type=int, default=5, help="repetitions of each timing; the best is reported (default: 5)"
    )
    parser.add_argument("--skip-dask", action="store_true", help="measure the local pool only")
    parser.add_argument(
        "--json", type=Path, default=None, metavar="PATH", help="also write the figures as JSON to PATH"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if min(args.runs, args.parallel_runs, args.firms, args.steps, args.repeats) < 1:
        raise SystemExit("--runs, --parallel-runs, --firms, --steps and --repeats must be positive")

    # two LocalClusters side by side: the second one's scheduler HTTP server falls back from port 8787 (harmless)
    warnings.filterwarnings("ignore", message="Port 8787 is already in use", category=UserWarning)
    overhead = measure_overhead(args.runs, args.firms, args.steps, args.seed, args.repeats)
    kinds = ["local"] if args.skip_dask else ["local", "dask"]
    results = [
        measure_parallel(kind, args.parallel_runs, args.firms, args.steps, args.seed, args.repeats) for kind in kinds
    ]

    print(
        f"distretto runner benchmark: baseline scenario, {args.firms:,} firms x {args.steps} quarters, "
        f"seeds from {args.seed}, {os.cpu_count()} CPUs\n"
    )
    print_overhead(overhead)
    print_parallel(results)
    targets = evaluate_targets(overhead, results)
    print_targets(targets)

    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "firms": args.firms,
            "steps": args.steps,
            "seed": args.seed,
            "repeats": args.repeats,
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "overhead": overhead,
            "parallel": results,
            "targets": targets,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"\nWrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
