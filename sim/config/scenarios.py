"""Scenarios: reading, merging (``extends``), validating and writing parameter files.

A scenario is a TOML file in ``scenarios/`` (or anywhere, by path) whose keys
are those of the schema (``sim.config.schema.Params``); it may ``extends``
another scenario, whose values it overrides. Every bad file, key or value is
one ``ScenarioError`` line naming the file and the key, and saying what is
allowed, so that the command line can print it and exit with status 2.
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.config.schema import MarketParams, Params
from sim.config.specs import INSTRUMENTS, PoolSpec, ShockSpec
from sim.model.world import MARKETS, NICHES

SCENARIO_DIR = Path(__file__).resolve().parent.parent.parent / "scenarios"


class ScenarioError(ValueError):
    """A scenario file or parameter override is invalid; the message is one line."""


# --------------------------------------------------------------------------
# Writing


def _toml_value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def to_toml(params: Params, header: str = "") -> str:
    """The fully resolved parameters as a commented TOML scenario file."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    if lines:
        lines.append("")
    data = params.model_dump()
    for name, field in Params.model_fields.items():
        if isinstance(data[name], dict):
            continue
        unit = (field.json_schema_extra or {}).get("unit", "")
        lines.append(f"{name} = {_toml_value(data[name])}  # {field.description} [{unit}]")
    lines += ["", "# Multiplier of foreign market size by niche", "[export_orientation]"]
    lines += [f"{niche} = {_toml_value(value)}" for niche, value in data["export_orientation"].items()]
    for table in (
        "niche_rival_quality_growth",
        "niche_rival_cost_decline",
        "import_cost_advantage",
        "import_delay_cost",
        "import_max_share",
        "import_base_risk",
    ):
        if data[table]:
            lines += ["", f"[{table}]", *(f"{niche} = {_toml_value(value)}" for niche, value in data[table].items())]
    for market, values in data["markets"].items():
        lines += ["", f"[markets.{market}]"]
        for key, value in values.items():
            if value is None:
                continue
            field = MarketParams.model_fields[key]
            unit = (field.json_schema_extra or {}).get("unit", "")
            lines.append(f"{key} = {_toml_value(value)}  # {field.description} [{unit}]")
    for table in ("pools", "policies", "shocks"):
        for name, values in data[table].items():
            lines += ["", f"[{table}.{name}]"]
            lines += [f"{key} = {_toml_value(value)}" for key, value in values.items() if value is not None]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------
# Loading and merging


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """Valid key names at the place a validation error points to."""
    if len(loc) >= 4 and loc[0] == "policies" and loc[2] in INSTRUMENTS:
        return list(INSTRUMENTS[str(loc[2])].model_fields)
    if len(loc) >= 3 and loc[0] == "shocks":
        return list(ShockSpec.model_fields)
    if len(loc) >= 3 and loc[0] == "pools":
        return list(PoolSpec.model_fields)
    if len(loc) >= 2 and loc[0] == "markets":
        return list(MarketParams.model_fields) if len(loc) >= 3 else list(MARKETS)
    if loc and loc[0] == "export_orientation":
        return list(NICHES)
    return list(Params.model_fields)


def format_error(err: dict[str, Any], source: str) -> str:
    loc = tuple(err.get("loc", ()))
    shown_loc = loc[:2] + loc[3:] if len(loc) >= 3 and loc[0] == "policies" and loc[2] in INSTRUMENTS else loc
    key = ".".join(str(part) for part in shown_loc) or "(top level)"
    if err["type"] == "union_tag_not_found":
        return f"{source}: {key}: missing key 'instrument'; allowed: {', '.join(INSTRUMENTS)}"
    if err["type"] == "union_tag_invalid":
        got = err.get("ctx", {}).get("tag")
        return f"{source}: {key}.instrument: unknown instrument {got!r}; allowed: {', '.join(INSTRUMENTS)}"
    if err["type"] == "extra_forbidden":
        name = str(loc[-1])
        allowed = _allowed_keys(loc)
        close = difflib.get_close_matches(name, allowed, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f" (allowed here: {', '.join(allowed)})"
        return f"{source}: unknown key {key!r}{hint}"
    msg = err["msg"].removeprefix("Value error, ")
    if not loc:
        return f"{source}: {msg}"
    got = err.get("input")
    shown = "" if isinstance(got, dict) else f" (got {got!r})"
    if len(shown) > 60:
        shown = shown[:57] + "...)"
    return f"{source}: {key}: {msg}{shown}"


def build_params(data: dict[str, Any], source: str = "parameters") -> Params:
    """Validate a (possibly partial) parameter mapping against the baseline defaults."""
    merged = _deep_merge(Params().model_dump(), data)
    try:
        return Params.model_validate(merged)
    except ValidationError as exc:
        errors = exc.errors()
        # an unknown key explains the rest (a misspelt required key is also "missing")
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        raise ScenarioError(format_error(first, source)) from None


def resolve_library_path(name: str | Path, folder: Path, kind: str) -> Path:
    """A path to a TOML file, or the name of one in a library ``folder`` (scenarios/, experiments/)."""
    path = Path(name)
    if path.suffix == ".toml" or path.is_file():
        if not path.is_file():
            raise ScenarioError(f"{name}: {kind} file not found")
        return path
    candidate = folder / f"{name}.toml"
    if candidate.is_file():
        return candidate
    names = sorted(p.stem for p in folder.glob("*.toml"))
    close = difflib.get_close_matches(str(name), names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ScenarioError(
        f"unknown {kind} {str(name)!r}{hint} (available: {', '.join(names)}, or a path to a .toml file)"
    )


def resolve_scenario_path(scenario: str | Path) -> Path:
    """A scenario is a path to a TOML file or the name of one in ``scenarios/``."""
    return resolve_library_path(scenario, SCENARIO_DIR, "scenario")


BASELINE_HEADER = """Baseline: the district as it is, with no policy and no shock.
Question: how does the region's advanced mechanics industry evolve under
current conditions? Every other scenario is read against this one.

Calibrated values (docs/ODD.md, section 7; docs/validation.md). Units: money
in EUR thousand, time in quarters. Keys, units and allowed ranges are those of
the schema in sim/config/schema.py; tests/test_params.py checks that the two agree.
Regenerate after changing a default: python -m sim.config > scenarios/baseline.toml"""


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file's data; unreadable or invalid files are a one-line ScenarioError."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read: {exc}") from None


def _resolve_extends(path: Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The file's data merged over what it ``extends`` (recursively); cycles are errors."""
    data = read_toml(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str) or not parent:
        raise ScenarioError(f"{path}: extends: must be a scenario name or a path to a .toml file (got {parent!r})")
    candidate = Path(parent)
    if not candidate.is_absolute() and candidate.suffix == ".toml":
        candidate = path.parent / candidate
    try:
        parent_path = resolve_scenario_path(candidate if candidate.suffix == ".toml" else parent)
    except ScenarioError as exc:
        raise ScenarioError(f"{path}: extends: {exc}") from None
    seen = (*chain, path.resolve())
    if parent_path.resolve() in seen:
        names = " -> ".join(p.stem for p in (*seen, parent_path))
        raise ScenarioError(f"{path}: extends: cycle {names}; a scenario cannot extend itself")
    base = _resolve_extends(parent_path, seen)
    base.pop("name", None)
    return _deep_merge(base, data)


def load_scenario(scenario: str | Path = "baseline", **overrides: Any) -> Params:
    """Read and validate a scenario file (after ``extends``), then apply keyword overrides by name."""
    path = resolve_scenario_path(scenario)
    data = _resolve_extends(path)
    data.setdefault("name", path.stem)
    params = build_params(data, source=str(path))
    if overrides:
        params = build_params(_deep_merge(params.model_dump(), overrides), source="override")
    return params


# --------------------------------------------------------------------------
# Setting parameters by dotted name (sweeps, calibration, --set)


def parameter_value(params: Params, dotted: str, where: str) -> float:
    """The value of numeric parameter ``dotted`` (e.g. ``markets.china.entry_cost``).

    A name that is not a numeric parameter is a ScenarioError starting with ``where``.
    """
    node: Any = params.model_dump()
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            hint = "use names like 'entry_rate' or 'markets.china.entry_cost'"
            raise ScenarioError(f"{where}: not a parameter of scenario {params.name!r} ({hint})")
        node = node[part]
    if isinstance(node, bool) or not isinstance(node, int | float):
        raise ScenarioError(f"{where}: only numeric parameters can be varied (it is {type(node).__name__})")
    return float(node)


def with_values(params: Params, values: dict[str, float], source: str = "design") -> Params:
    """``params`` with parameters set by dotted name (integer parameters rounded), validated."""
    data = params.model_dump()
    for dotted, value in values.items():
        node = data
        *parents, leaf = dotted.split(".")
        for part in parents:
            node = node[part]
        node[leaf] = (
            int(round(value)) if isinstance(node[leaf], int) and not isinstance(node[leaf], bool) else float(value)
        )
    return build_params(data, source=source)


def with_overrides(params: Params, overrides: dict[str, Any], source: str = "override") -> Params:
    """``params`` with a nested mapping of values merged over them, validated."""
    return build_params(_deep_merge(params.model_dump(), overrides), source=source)
