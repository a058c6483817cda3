"""Scaling benchmark for distretto's ``DistrictModel``.

What it measures
----------------
For each district size N (default 1,000, 10,000 and 35,000 firms) the baseline
model ``sim.DistrictModel(n_firms=N, rng=SEED)`` is built and stepped for a
number of quarters (default 40). Only the ``model.step()`` calls are timed
(``time.perf_counter``); construction is excluded. In the same process a
trivial Mesa 3 model with N agents, each updating two floats per step through
``self.agents.shuffle_do("step")``, is stepped the same number of times and
timed the same way.

The two models take turns, a block of ``--block`` quarters each (default 4,
a year, so that every block holds one first quarter and one panel quarter), so
that both are timed under the same machine load: on a shared machine the
trivial loop's speed alone swung between 1.2 and 2.5 million agent-steps/s
from run to run, and timing one model after the other turned that into the
ratio. The comparison is not tilted in the full model's favour: the trivial
model is built first, in a fresh heap, so that its agents sit together in
memory (its fastest layout), and before each of its turns it takes one
untimed step to bring them back into the caches (the full model gets no such
warm-up). Each size runs in a fresh child process (this
script re-invoked with a hidden ``--child`` flag) so that peak resident
memory (``getrusage(RUSAGE_SELF).ru_maxrss``) belongs to that size alone; it
includes the trivial model, whose own footprint is reported apart.

Why
---
The ratio full/trivial says how much slower a quarter of the real model is
than the cheapest possible Mesa agent loop over the same population, i.e. how
much the model's own logic costs above Mesa's per-agent overhead. The log-log
slope of step time against N shows whether a quarter scales linearly in the
number of firms (slope about 1) or worse (e.g. quadratic matching). Peak
memory at 35,000 firms checks that a whole-region run fits on a laptop.

Targets: ratio >= 0.3 at 10,000 firms; slope <= 1.1; peak memory of the
35,000-firm, 40-quarter run within 2048 MB. The script is a report, not a
test: it exits 0 whatever the figures (2 on bad arguments).

Usage::

    python benchmarks/bench_scale.py [--sizes 1000 10000 35000] [--steps 40] [--block 4] [--seed 1] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

RATIO_TARGET = 0.3
RATIO_TARGET_FIRMS = 10_000
SLOPE_TARGET = 1.1
MEMORY_TARGET_MB = 2048.0
MEMORY_TARGET_FIRMS = 35_000
MEMORY_TARGET_STEPS = 40

RESULT_PREFIX = "BENCH_RESULT "


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":
        return peak / (1024 * 1024)
    return peak / 1024


def time_steps(model: Any, steps: int) -> float:
    """Seconds spent in ``steps`` calls of ``model.step()``."""
    elapsed = 0.0
    for _ in range(steps):
        start = time.perf_counter()
        model.step()
        elapsed += time.perf_counter() - start
    return elapsed


def build_trivial(n_agents: int, seed: int) -> Any:
    """A minimal Mesa 3 model with ``n_agents`` agents that each update two floats per step."""
    import mesa

    class TrivialAgent(mesa.Agent):
        def __init__(self, model: mesa.Model) -> None:
            super().__init__(model)
            self.x = 0.0
            self.y = 1.0

        def step(self) -> None:
            self.x += 0.5 * self.y
            self.y *= 0.999

    class TrivialModel(mesa.Model):
        def __init__(self, n: int, seed: int) -> None:
            super().__init__(rng=seed)
            TrivialAgent.create_agents(self, n)

        def step(self) -> None:
            self.agents.shuffle_do("step")

    return TrivialModel(n_agents, seed)


def child(n_firms: int, steps: int, seed: int, block: int) -> dict[str, Any]:
    """Everything measured for one size, run inside a fresh process: both models stepped in alternating blocks."""
    import sim

    result: dict[str, Any] = {"firms": n_firms, "steps": steps, "seed": seed, "block": block}
    start_mb = peak_rss_mb()
    trivial = build_trivial(n_firms, seed)
    result["trivial_mb"] = peak_rss_mb() - start_mb
    start = time.perf_counter()
    model = sim.DistrictModel(n_firms=n_firms, rng=seed)
    result["build_s"] = time.perf_counter() - start
    full_s = trivial_s = 0.0
    block_ratios = []
    for first in range(0, steps, block):
        k = min(block, steps - first)
        full = time_steps(model, k)
        trivial.step()  # untimed: the trivial model's agents back in the caches the full model's turn evicted
        simple = time_steps(trivial, k)
        full_s += full
        trivial_s += simple
        block_ratios.append(simple / full)
    result |= {
        "full_s": full_s,
        "trivial_s": trivial_s,
        "block_ratios": block_ratios,
        "firms_at_end": int(model.firms.n),
        "model_steps": int(model.steps),
    }
    result["peak_mb"] = peak_rss_mb()
    return result


def run_size_in_subprocess(n_firms: int, steps: int, seed: int, block: int) -> dict[str, Any]:
    """Re-invoke this script with ``--child`` and parse the result line it prints."""
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        "--sizes",
        str(n_firms),
        "--steps",
        str(steps),
        "--seed",
        str(seed),
        "--block",
        str(block),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    raise RuntimeError(f"child for {n_firms} firms failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")


def derive(result: dict[str, Any]) -> dict[str, Any]:
    """Add rates, ratio and per-firm memory to one size's raw result."""
    firm_steps = result["firms"] * result["steps"]
    full_rate = firm_steps / result["full_s"]
    trivial_rate = firm_steps / result["trivial_s"]
    return result | {
        "full_firm_steps_per_s": full_rate,
        "trivial_firm_steps_per_s": trivial_rate,
        "ratio": full_rate / trivial_rate,
        "s_per_step": result["full_s"] / result["steps"],
        "kb_per_firm": result["peak_mb"] * 1024 / result["firms"],
    }


def loglog_slope(results: list[dict[str, Any]]) -> float:
    """Slope of log(step time) against log(N); NaN with fewer than two sizes."""
    if len(results) < 2:
        return math.nan
    n = np.log([r["firms"] for r in results])
    t = np.log([r["s_per_step"] for r in results])
    return float(np.polyfit(n, t, 1)[0])


def print_table(results: list[dict[str, Any]]) -> None:
    header = (
        f"{'firms':>7} {'steps':>5} {'full f-st/s':>12} {'trivial f-st/s':>14} {'ratio':>7} {'blocks min-max':>15} "
    )
    header += f"{'s/step':>8} {'peak MB':>8} {'KB/firm':>8}"
    print(header)
    print("-" * len(header))
    for r in results:
        spread = f"{min(r['block_ratios']):.3f}-{max(r['block_ratios']):.3f}"
        print(
            f"{r['firms']:>7,} {r['steps']:>5} {r['full_firm_steps_per_s']:>12,.0f} "
            f"{r['trivial_firm_steps_per_s']:>14,.0f} "
            f"{r['ratio']:>7.3f} {spread:>15} {r['s_per_step']:>8.4f} {r['peak_mb']:>8.1f} {r['kb_per_firm']:>8.2f}"
        )
    print("(ratio: total trivial time / total full time; blocks: the same per block of quarters.")
    print(
        " peak MB includes the trivial model, "
        + ", ".join(f"{r['trivial_mb']:.0f} MB at {r['firms']:,}" for r in results)
        + ")"
    )


def evaluate_targets(results: list[dict[str, Any]], slope: float) -> list[dict[str, Any]]:
    """PASS/MISS for each target; a target whose size was not run is reported as N/A."""
    by_firms = {r["firms"]: r for r in results}
    targets: list[dict[str, Any]] = []

    r = by_firms.get(RATIO_TARGET_FIRMS)
    value = r["ratio"] if r else None
    targets.append(
        {
            "name": f"ratio full/trivial >= {RATIO_TARGET} at {RATIO_TARGET_FIRMS:,} firms",
            "value": value,
            "passed": None if value is None else value >= RATIO_TARGET,
        }
    )

    value = None if math.isnan(slope) else slope
    targets.append(
        {
            "name": f"log-log slope of step time vs firms <= {SLOPE_TARGET}",
            "value": value,
            "passed": None if value is None else value <= SLOPE_TARGET,
        }
    )

    r = by_firms.get(MEMORY_TARGET_FIRMS)
    value = r["peak_mb"] if r and r["steps"] >= MEMORY_TARGET_STEPS else None
    targets.append(
        {
            "name": f"peak memory at {MEMORY_TARGET_FIRMS:,} firms x {MEMORY_TARGET_STEPS} quarters"
            f" <= {MEMORY_TARGET_MB:.0f} MB",
            "value": value,
            "passed": None if value is None else value <= MEMORY_TARGET_MB,
        }
    )
    return targets


def print_targets(targets: list[dict[str, Any]]) -> None:
    print("\nTargets:")
    for t in targets:
        verdict = "N/A " if t["passed"] is None else ("PASS" if t["passed"] else "MISS")
        shown = "not run" if t["value"] is None else f"{t['value']:.3f}"
        print(f"  {verdict}  {t['name']}  (measured: {shown})")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Scaling benchmark: DistrictModel step time and peak memory versus number of firms."
    )
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[1_000, 10_000, 35_000],
        help="numbers of firms (default: 1000 10000 35000)",
    )
    parser.add_argument("--steps", type=int, default=40, help="quarters to step each model (default: 40)")
    parser.add_argument("--seed", type=int, default=1, help="rng seed passed to both models (default: 1)")
    parser.add_argument(
        "--block", type=int, default=4, help="quarters each model runs before the other takes its turn (default: 4)"
    )
    parser.add_argument(
        "--json", type=Path, default=None, metavar="PATH", help="also write the figures as JSON to PATH"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.steps < 1 or args.block < 1 or any(n < 1 for n in args.sizes):
        print("bench_scale.py: --steps, --block and --sizes must be positive integers", file=sys.stderr)
        return 2

    if args.child:
        print(RESULT_PREFIX + json.dumps(child(args.sizes[0], args.steps, args.seed, args.block)), flush=True)
        return 0

    from tqdm import tqdm

    sizes = sorted(set(args.sizes))
    results: list[dict[str, Any]] = []
    for n_firms in tqdm(sizes, desc="sizes", unit="size", file=sys.stderr):
        results.append(derive(run_size_in_subprocess(n_firms, args.steps, args.seed, args.block)))

    print_table(results)
    slope = loglog_slope(results)
    print(f"\nLog-log slope of full-model step time vs firms: {slope:.3f}")
    targets = evaluate_targets(results, slope)
    print_targets(targets)

    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        settings = {
            "sizes": sizes,
            "steps": args.steps,
            "block": args.block,
            "seed": args.seed,
            "python": sys.version.split()[0],
        }
        payload = settings | {"results": results, "slope": slope, "targets": targets}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"\nWrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
