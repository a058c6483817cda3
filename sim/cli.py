"""Command line: ``distretto run | experiment | calibrate | report | scenarios | show | view``.

``distretto run [SCENARIO] --seed N --steps T --firms N --out DIR`` runs one
simulation; ``distretto experiment FILE`` many, with a report;
``distretto calibrate FILE`` fits parameters to target moments;
``distretto scenarios`` lists the library; ``distretto show SCENARIO``
prints its fully resolved parameters; ``distretto view`` serves the student
view (the ``viz`` extra), without importing it here.

Bad input gets one line on stderr naming the problem, and exit status 2,
before anything is run or written.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import subprocess
import sys
import threading
import tomllib
from pathlib import Path

from sim.config import SCENARIO_DIR, ScenarioError, load_scenario, resolve_scenario_path, to_toml, with_overrides
from sim.experiments.calibration import calibrate, load_calibration, recover
from sim.experiments.calibration_report import build_calibration_report, is_calibration_folder
from sim.experiments.definitions import load_experiment
from sim.experiments.report import build_report
from sim.experiments.runner import make_executor, run_experiment
from sim.run import check_output_dir, default_out_dir, params_from_manifest, run


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors in one line, exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _count(kind: str, minimum: int, maximum: int | None = None):
    allowed = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{kind} must be an integer {allowed} (got {text!r})") from None
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"{kind} must be an integer {allowed} (got {value})")
        return value

    return parse


#: The student view's app (served by ``solara run``; never imported here: solara is an optional extra).
VIEW_APP = Path(__file__).resolve().parent / "view" / "app.py"
#: Firms a view world may start with: the range of the page's field (sim.view.levers.FIRMS_RANGE).
VIEW_FIRMS = (10, 50_000)
VIZ_MISSING = "distretto view: error: the view needs the viz extra: make view, or pip install 'distretto[viz]'"


def _assignment(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--set expects KEY=VALUE (got {text!r})")
    key, value = text.split("=", 1)
    return key.strip(), value.strip()


def _parse_value(text: str):
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _executor_options(parser: argparse.ArgumentParser) -> None:
    """--executor, --workers and --scheduler: where the runs go."""
    parser.add_argument(
        "--executor",
        choices=("local", "serial", "dask"),
        default="local",
        help="local process pool (default), serial, dask",
    )
    parser.add_argument(
        "--workers", type=_count("--workers", 1), default=None, help="worker processes (default: all cores)"
    )
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS", help="dask scheduler (default: a LocalCluster)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="distretto", description="Agent-based model of Emilia-Romagna's advanced mechanics industry.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="run one simulation and write its Parquet tables and manifest.json")
    run.add_argument(
        "scenario",
        nargs="?",
        default=None,
        help="scenario name in scenarios/ or path to a .toml file (default: baseline)",
    )
    run.add_argument(
        "--from-manifest",
        type=Path,
        default=None,
        metavar="MANIFEST",
        help="rerun exactly the run a manifest.json describes (scenario, parameters, seed, steps)",
    )
    run.add_argument("--seed", type=_count("--seed", 0), default=None, help="random seed (default 1)")
    run.add_argument(
        "--steps", type=_count("--steps", 1), default=None, help="quarters to simulate (default: the scenario's)"
    )
    run.add_argument(
        "--firms", type=_count("--firms", 1), default=None, help="initial number of firms (default: the scenario's)"
    )
    run.add_argument(
        "--out", type=Path, default=None, help="output folder (default: results/<scenario>_seed<N>_<firms>f_<steps>q)"
    )
    run.add_argument(
        "--set",
        type=_assignment,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a parameter, e.g. --set entry_rate=0.03 (repeatable)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress bar")

    exp = sub.add_parser(
        "experiment", help="run an experiment (compare, sweep, sensitivity or robustness) and build its report"
    )
    exp.add_argument("file", help="experiment name in experiments/ or path to a .toml file")
    exp.add_argument(
        "--out", type=Path, default=None, help="experiment folder (default: results/<experiment>); rerunning resumes it"
    )
    _executor_options(exp)
    exp.add_argument(
        "--replications", type=_count("--replications", 1), default=None, help="override the file's replications"
    )
    exp.add_argument("--steps", type=_count("--steps", 1), default=None, help="override the file's steps")
    exp.add_argument("--firms", type=_count("--firms", 1), default=None, help="override the file's number of firms")
    exp.add_argument("--worlds", type=_count("--worlds", 1), default=None, help="override a robustness file's worlds")
    exp.add_argument("--quiet", action="store_true", help="no progress bar")

    cal = sub.add_parser("calibrate", help="fit free parameters to target moments by simulated moments (resumable)")
    cal.add_argument("file", help="calibration name in calibration/ or path to a .toml file")
    cal.add_argument("--out", type=Path, default=None, help="calibration folder (default: results/calibration/<name>)")
    cal.add_argument("--budget", type=_count("--budget", 2), default=None, help="model runs of the search")
    cal.add_argument(
        "--replications", type=_count("--replications", 1), default=None, help="seeds shared by every point"
    )
    cal.add_argument("--steps", type=_count("--steps", 1), default=None, help="override the file's quarters per run")
    cal.add_argument("--firms", type=_count("--firms", 1), default=None, help="override the file's number of firms")
    cal.add_argument(
        "--method",
        choices=["sobol+cmaes", "lhs+cmaes", "sobol", "lhs", "cmaes"],
        default=None,
        help="override the file's search (cmaes: refine from the scenario's own values)",
    )
    cal.add_argument("--recover", action="store_true", help="identification check: fit moments the model made itself")
    _executor_options(cal)
    cal.add_argument("--quiet", action="store_true", help="no progress bar")

    rep = sub.add_parser("report", help="(re)build an experiment's or a calibration's report, without running anything")
    rep.add_argument("folder", type=Path, help="the experiment or calibration folder")

    view = sub.add_parser("view", help="serve the student view in a browser (needs the viz extra)")
    view.add_argument("--port", type=_count("--port", 1, 65535), default=8765, help="port to serve on (default 8765)")
    view.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    view.add_argument(
        "--firms", type=_count("--firms", *VIEW_FIRMS), default=2000, help="firms of the first world (default 2000)"
    )

    sub.add_parser("scenarios", help="list the scenario library with a line on each")
    show = sub.add_parser("show", help="print a scenario's fully resolved parameters (after extends) as TOML")
    show.add_argument("scenario", help="scenario name in scenarios/ or path to a .toml file")
    show.add_argument(
        "--set", type=_assignment, action="append", default=[], metavar="KEY=VALUE", help="override a parameter first"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    commands = {
        "run": _run,
        "scenarios": _scenarios,
        "show": _show,
        "experiment": _experiment,
        "calibrate": _calibrate,
        "report": _report,
        "view": _view,
    }
    try:
        return commands[args.command](args)
    except ScenarioError as exc:
        print(f"distretto {args.command}: error: {exc}", file=sys.stderr)
        return 2


def _overrides(assignments: list[tuple[str, str]]) -> dict:
    """``--set a.b=1`` pairs as a nested mapping of TOML-parsed values."""
    out: dict = {}
    for key, value in assignments:
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ScenarioError(f"--set {key}: {part} is not a table")
        node[leaf] = _parse_value(value)
    return out


def _experiment(args: argparse.Namespace) -> int:
    experiment, path = load_experiment(
        args.file, replications=args.replications, steps=args.steps, n_firms=args.firms, worlds=args.worlds
    )
    if args.scheduler and args.executor != "dask":
        raise ScenarioError("--scheduler is for --executor dask")
    out = args.out or Path("results") / experiment.name
    check_output_dir(out)
    try:
        with make_executor(args.executor, args.workers, args.scheduler) as executor:
            manifest = run_experiment(experiment, out, executor, source=str(path), progress=not args.quiet)
    except KeyboardInterrupt:
        print(
            f"\ninterrupted: finished runs are kept in {out}/runs; run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    counts = manifest["counts"]
    report = build_report(out)
    print(f"{counts['done']} runs done, {counts['failed']} failed; report: {report}")
    return 0 if counts["failed"] == 0 else 1


def _calibrate(args: argparse.Namespace) -> int:
    problem = load_calibration(
        args.file,
        budget=args.budget,
        method=args.method,
        replications=args.replications,
        steps=args.steps,
        n_firms=args.firms,
    )
    if args.scheduler and args.executor != "dask":
        raise ScenarioError("--scheduler is for --executor dask")
    name = problem.spec.name + ("_recovery" if args.recover else "")
    out = args.out or Path("results") / "calibration" / name
    check_output_dir(out)
    try:
        with make_executor(args.executor, args.workers, args.scheduler) as executor:
            if args.recover:
                table = recover(problem, out, executor, progress=not args.quiet)
            else:
                best = calibrate(problem, out, executor, progress=not args.quiet)
    except KeyboardInterrupt:
        print(
            f"\ninterrupted: finished runs are kept in {out}/runs; run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    report = build_calibration_report(out)
    if args.recover:
        worst = table["error_share_of_range"].max()
        print(f"recovery: largest error {100 * worst:.1f} % of a parameter's range ({out / 'recovery.csv'})")
        print(f"report: {report}")
    else:
        print(f"best loss {best.loss:.4g}; scenario: {out / 'best.toml'}; report: {report}")
    return 0


def view_command(host: str, port: int) -> list[str]:
    """The command that serves the view: this interpreter's solara, production mode (no reloading, no browser)."""
    command = [sys.executable, "-m", "solara", "run", str(VIEW_APP), "--host", host, "--port", str(port)]
    return [*command, "--production", "--no-open", "--no-check-version"]


def _view(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("solara") is None:
        print(VIZ_MISSING, file=sys.stderr)
        return 2
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False", "DISTRETTO_VIEW_FIRMS": str(args.firms)}
    server = subprocess.Popen(view_command(args.host, args.port), env=env)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"distretto view: serving the student view on http://{host}:{args.port}/ (Ctrl-C stops it)", flush=True)
    # Ctrl-C: the terminal sends SIGINT to solara too. Noted by a handler rather than as a KeyboardInterrupt,
    # which could arrive after solara has already exited and be lost; solara gets time to close its sessions.
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        while server.poll() is None and not stop.wait(0.2):
            pass
        if not stop.wait(0.5 if server.returncode is not None else 0):  # a SIGINT to both may land here first
            return server.returncode
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.terminate()
            server.wait(timeout=5)
        print("distretto view: stopped", file=sys.stderr)
        return 0
    finally:
        signal.signal(signal.SIGINT, previous)


def _report(args: argparse.Namespace) -> int:
    folder = Path(args.folder)
    report = build_calibration_report(folder) if is_calibration_folder(folder) else build_report(folder)
    print(f"report: {report}")
    return 0


def _scenarios(args: argparse.Namespace) -> int:
    paths = sorted(SCENARIO_DIR.glob("*.toml"))
    width = max(len(p.stem) for p in paths)
    for path in paths:
        params = load_scenario(path)
        print(f"{path.stem:<{width}}  {params.description}")
    return 0


def _show(args: argparse.Namespace) -> int:
    params = load_scenario(args.scenario, **_overrides(args.set))
    header = f"Fully resolved scenario {params.name!r} from {resolve_scenario_path(args.scenario)}"
    if args.set:
        header += "\nwith " + ", ".join(f"{k}={v}" for k, v in args.set)
    print(to_toml(params, header), end="")
    return 0


def _run(args: argparse.Namespace) -> int:
    overrides = _overrides(args.set)
    if args.firms is not None:
        overrides["n_firms"] = args.firms
    if args.steps is not None:
        overrides["steps"] = args.steps
    if args.from_manifest is not None:
        if args.scenario is not None:
            raise ScenarioError("give either a SCENARIO or --from-manifest, not both")
        params, seed = params_from_manifest(args.from_manifest)
        if overrides:
            params = with_overrides(params, overrides)
        seed = seed if args.seed is None else args.seed
    else:
        params = load_scenario(args.scenario or "baseline", **overrides)
        seed = 1 if args.seed is None else args.seed
    out = args.out or default_out_dir(params, seed, params.steps)
    check_output_dir(Path(out))
    paths = run(params, seed, Path(out), progress=not args.quiet)
    print(
        f"wrote {paths['model'].parent}/ (model.parquet, firms.parquet, provinces.parquet, network.parquet, "
        "manifest.json)"
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
