"""Speed of a robustness experiment: a reduced design run for real, projected to the full one.

What it measures
----------------
The shipped ``experiments/policy_robustness.toml`` (or ``--experiment``) is
loaded with ``worlds`` replaced by ``--worlds`` (default 5); every other
field stays (scenarios, replications, firms, quarters, uncertainties,
variants), so the reduced design's runs are runs of the same kind as the full
design's: the same seven scenarios, the same sizes, worlds drawn from the
same Latin hypercube bounds and both closures. It is run through
``run_experiment`` on ``make_executor(--executor, --workers)`` into a fresh
temporary folder, exactly as ``distretto experiment`` does (the pool's
start-up and the workers' first imports included), then its report is built
(``build_report``).

Projection: full runs / (reduced runs / reduced wall time), plus the
report's time. The report's scenario discovery runs only from
``discovery.min_worlds`` worlds, so its cost at the full size is measured
apart: PRIM (and CART where PRIM finds no box) on a synthetic table of the
full number of worlds and the design's inputs, once per policy, outcome and
event, as ``failure_boxes`` does.

The machine's load average is printed before and after: on a shared machine
the projection holds for the load it was measured under.

Usage::

    python benchmarks/bench_robustness.py [--experiment policy_robustness] [--worlds 5] [--workers 2]
                                          [--executor local] [--json PATH]

Exit code 0 (2 on a bad experiment file): it is a report, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sim.config import ScenarioError
from sim.experiments.definitions import load_experiment
from sim.experiments.designs import plan
from sim.experiments.report import build_report
from sim.experiments.robustness import discovery_inputs, find_box
from sim.experiments.runner import make_executor, run_experiment
from sim.experiments.worlds import world_table


def discovery_seconds(experiment, worlds: int) -> float:
    """Time of scenario discovery at ``worlds`` worlds: one PRIM (and CART) search per policy, outcome and event."""
    full = experiment.model_copy(update={"worlds": worlds})
    x = discovery_inputs(world_table(full))
    rng = np.random.default_rng(0)
    searches = len(experiment.scenarios) * len(experiment.outcomes) * 2
    started = time.perf_counter()
    for i in range(searches):
        column = x.columns[i % x.shape[1]]
        y = (x[column] > x[column].quantile(0.6)).to_numpy() ^ (rng.random(len(x)) < 0.1)
        find_box(x, y, experiment.discovery)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiment", default="policy_robustness")
    parser.add_argument("--worlds", type=int, default=5, help="worlds of the reduced design (default 5)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--executor", default="local", choices=("local", "serial", "dask"))
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    try:
        full, _ = load_experiment(args.experiment)
        reduced, _ = load_experiment(args.experiment, worlds=args.worlds)
    except ScenarioError as exc:
        print(f"bench_robustness: error: {exc}", file=sys.stderr)
        return 2
    full_runs, runs = len(plan(full)), len(plan(reduced))
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench"
        started = time.perf_counter()
        with make_executor(args.executor, args.workers) as executor:
            manifest = run_experiment(reduced, out, executor, progress=True)
        run_s = time.perf_counter() - started
        started = time.perf_counter()
        build_report(out)
        report_s = time.perf_counter() - started
        summarised = pd.read_parquet(out / "report" / "summary.parquet")["run_id"].nunique()
    load_after = os.getloadavg()
    prim_s = discovery_seconds(full, full.worlds)
    rate = runs / run_s
    projected_s = full_runs / rate + report_s + prim_s
    figures = {
        "experiment": args.experiment,
        "executor": args.executor,
        "workers": args.workers,
        "reduced": {"worlds": args.worlds, "runs": runs, "done": manifest["counts"]["done"], "summarised": summarised},
        "run_seconds": round(run_s, 1),
        "runs_per_second": round(rate, 3),
        "seconds_per_run_per_worker": round(args.workers / rate, 3),
        "report_seconds": round(report_s, 1),
        "full": {
            "worlds": full.worlds,
            "scenarios": 1 + len(full.scenarios),
            "replications": full.replications,
            "n_firms": full.n_firms,
            "steps": full.steps,
            "runs": full_runs,
        },
        "discovery_seconds_at_full_size": round(prim_s, 1),
        "projected_minutes": round(projected_s / 60, 1),
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in load_after],
    }
    print(json.dumps(figures, indent=1))
    print(
        f"\n{runs} runs in {run_s:.0f} s on {args.workers} {args.executor} workers: {rate:.2f} runs/s "
        f"({args.workers / rate:.2f} s per run per worker). Full design: {full_runs} runs "
        f"({full.worlds} worlds x {1 + len(full.scenarios)} scenarios x {full.replications} replications, "
        f"{full.n_firms} firms, {full.steps} quarters) -> about {projected_s / 60:.0f} minutes "
        f"(report {report_s:.0f} s, scenario discovery at {full.worlds} worlds {prim_s:.1f} s)."
    )
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
