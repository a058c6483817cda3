"""Command line: ``distretto run [SCENARIO] --seed N --steps T --firms N --out DIR``.

Bad input gets one line on stderr naming the problem, and exit status 2,
before anything is run or written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.params import ScenarioError, load_scenario


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors in one line, exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _count(kind: str, minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{kind} must be an integer >= {minimum} (got {text!r})") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{kind} must be an integer >= {minimum} (got {value})")
        return value

    return parse


def _assignment(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--set expects KEY=VALUE (got {text!r})")
    key, value = text.split("=", 1)
    return key.strip(), value.strip()


def _parse_value(text: str):
    import tomllib

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="distretto", description="Agent-based model of Emilia-Romagna's advanced mechanics industry.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="run one simulation and write model.parquet, firms.parquet, manifest.json")
    run.add_argument("scenario", nargs="?", default="baseline", help="scenario name in scenarios/ or path to a .toml file (default: baseline)")
    run.add_argument("--seed", type=_count("--seed", 0), default=1, help="random seed (default 1)")
    run.add_argument("--steps", type=_count("--steps", 1), default=None, help="quarters to simulate (default: the scenario's)")
    run.add_argument("--firms", type=_count("--firms", 1), default=None, help="initial number of firms (default: the scenario's)")
    run.add_argument("--out", type=Path, default=None, help="output folder (default: results/<scenario>_seed<N>_<firms>f_<steps>q)")
    run.add_argument("--set", type=_assignment, action="append", default=[], metavar="KEY=VALUE", help="override a parameter, e.g. --set entry_rate=0.03 (repeatable)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "run":
        return _run(args)
    return 2  # pragma: no cover - argparse requires a command


def _run(args: argparse.Namespace) -> int:
    from sim.run import check_output_dir, default_out_dir, run

    overrides = {key: _parse_value(value) for key, value in args.set}
    if args.firms is not None:
        overrides["n_firms"] = args.firms
    if args.steps is not None:
        overrides["steps"] = args.steps
    try:
        params = load_scenario(args.scenario, **overrides)
        out = args.out or default_out_dir(params, args.seed, params.steps)
        check_output_dir(Path(out))
    except ScenarioError as exc:
        print(f"distretto run: error: {exc}", file=sys.stderr)
        return 2
    paths = run(params, args.seed, Path(out), progress=not args.quiet)
    print(f"wrote {paths['model'].parent}/ (model.parquet, firms.parquet, manifest.json)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
