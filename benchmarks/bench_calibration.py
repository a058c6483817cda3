"""Calibration benchmark: a whole calibration's wall time, and the share of it spent outside the model.

Runs ``calibration/baseline.toml`` (or another file) with a given budget into a
fresh folder on the local pool, and reports: wall time; model runs; the time
workers spent building and stepping models (summed over runs, from each run's
own timer) and computing moments; and the share of the workers' capacity
(wall x workers) that went to anything else: the runner, the search (CMA-ES,
designs), reading results, idle workers between generations.

    python benchmarks/bench_calibration.py                       # budget 1000, 2,000 firms x 60 quarters
    python benchmarks/bench_calibration.py --budget 100 --firms 500 --steps 40

Targets: 1,000 runs at 2,000 firms x 60 quarters within 20 minutes on 2 cores;
time outside the model below 5 %. A report, not a test: exit 0 (2 on bad arguments).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from sim.experiments import calibration
from sim.experiments.calibration import calibrate, load_calibration
from sim.experiments.runner import make_executor

WALL_TARGET_MIN = 20.0
OUTSIDE_TARGET = 0.05


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", default="baseline", help="calibration name or path (default: baseline)")
    parser.add_argument("--budget", type=int, default=1000)
    parser.add_argument("--firms", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--profile-points", type=int, default=0, help="profile points (default 0: the search only)")
    parser.add_argument("--out", type=Path, default=None, help="keep the calibration folder here")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if min(args.budget, args.firms, args.steps, args.workers) < 1:
        parser.exit(2, "bench_calibration: --budget, --firms, --steps and --workers must be >= 1\n")
    problem = load_calibration(args.file, budget=args.budget, n_firms=args.firms, steps=args.steps)
    problem.spec.search.profile_points = args.profile_points
    out = args.out or Path(tempfile.mkdtemp(prefix="bench_calibration-")) / "out"
    # Each run's own timer comes back with its result; keep it as the store saves the result.
    timings: list[dict] = []
    store_save = calibration.ResultStore.save

    def save(self, result):
        timings.append({k: result[k] for k in ("wall_time_s", "model_s", "moments_s")})
        store_save(self, result)

    calibration.ResultStore.save = save
    started = time.perf_counter()
    with make_executor("local", args.workers) as executor:
        pool_started = time.perf_counter()
        best = calibrate(problem, out, executor, progress=True)
        wall = time.perf_counter() - pool_started
    total = time.perf_counter() - started
    model_s = sum(t["model_s"] for t in timings)
    moments_s = sum(t["moments_s"] for t in timings)
    capacity = wall * args.workers
    outside = 1.0 - (model_s + moments_s) / capacity
    result = {
        "file": str(problem.path),
        "budget": args.budget,
        "runs": len(timings),
        "firms": args.firms,
        "steps": args.steps,
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "wall_s": wall,
        "wall_with_pool_start_s": total,
        "model_s": model_s,
        "moments_s": moments_s,
        "outside_model_share": outside,
        "moments_share": moments_s / capacity,
        "best_loss": best.loss,
    }
    print(f"\n{result['runs']} runs at {args.firms:,} firms x {args.steps} quarters on {args.workers} workers")
    print(
        f"wall {wall / 60:.1f} min ({total / 60:.1f} with the pool's start); target <= {WALL_TARGET_MIN:.0f} min "
        f"for 1,000 runs: {'PASS' if wall / 60 * 1000 / max(len(timings), 1) <= WALL_TARGET_MIN else 'MISS'}"
    )
    verdict = "PASS" if outside < OUTSIDE_TARGET else "MISS"
    print(
        f"workers' time: models {model_s / capacity:.1%}, moments {moments_s / capacity:.1%}, "
        f"outside the model {outside:.1%} (target < {OUTSIDE_TARGET:.0%}: {verdict})"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
