"""Scenario files: extends, the library, and clean one-line errors for any bad file."""

from __future__ import annotations

import json
import string
import tempfile
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import DistrictModel, load_scenario
from sim.cli import main
from sim.config import SCENARIO_DIR, ScenarioError

LIBRARY = sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))
REQUIRED = {
    "baseline",
    "eu_internationalisation",
    "university_vouchers",
    "credit_guarantees",
    "training",
    "export_consortia",
    "combined_package",
    "russia_sanctions",
    "china_slowdown",
    "credit_crunch",
    "global_recession",
    "credit_crunch_with_guarantees",
}


def test_library_has_every_required_scenario():
    assert set(LIBRARY) >= REQUIRED


@pytest.mark.parametrize("name", LIBRARY)
def test_every_library_scenario_loads_and_runs(name):
    text = (SCENARIO_DIR / f"{name}.toml").read_text()
    assert text.startswith("#"), "each file starts with a comment saying what question it answers"
    params = load_scenario(name)
    assert params.description
    model = DistrictModel(params, n_firms=150, rng=1)
    for _ in range(3):
        model.step()
    assert model.firms.n > 0


def test_single_instrument_scenarios_share_one_budget():
    budgets = {
        load_scenario(n).policies[next(iter(load_scenario(n).policies))].budget_per_year
        for n in ("eu_internationalisation", "university_vouchers", "credit_guarantees", "training", "export_consortia")
    }
    assert len(budgets) == 1
    assert load_scenario("combined_package").pools["package"].budget_per_year in budgets


def test_extends_chain_and_overrides(tmp_path):
    (tmp_path / "parent.toml").write_text(
        'extends = "credit_crunch"\ndescription = "parent"\nentry_rate = 0.03\n[shocks.crunch]\nsize = 0.2\n'
    )
    (tmp_path / "child.toml").write_text('extends = "parent.toml"\ndescription = "child"\nfixed_cost = 7.0\n')
    child = load_scenario(tmp_path / "child.toml")
    assert child.name == "child" and child.description == "child"
    assert child.entry_rate == 0.03 and child.fixed_cost == 7.0
    assert (
        child.shocks["crunch"].size == 0.2 and child.shocks["crunch"].rate_increase == 0.01
    )  # rest from credit_crunch
    assert child.wage == load_scenario("baseline").wage


def test_extends_cycles_and_missing_parents_are_errors(tmp_path):
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n')
    with pytest.raises(ScenarioError, match=r"b.toml: extends: cycle a -> b -> a; a scenario cannot extend itself"):
        load_scenario(tmp_path / "a.toml")
    (tmp_path / "c.toml").write_text('extends = "nowhere"\n')
    with pytest.raises(ScenarioError, match=r"c.toml: extends: unknown scenario 'nowhere'"):
        load_scenario(tmp_path / "c.toml")
    (tmp_path / "d.toml").write_text("extends = 3\n")
    with pytest.raises(ScenarioError, match="extends: must be a scenario name"):
        load_scenario(tmp_path / "d.toml")


def test_show_prints_the_resolved_scenario(capsys, tmp_path):
    assert main(["show", "credit_crunch_with_guarantees"]) == 0
    text = capsys.readouterr().out
    data = tomllib.loads(text)
    assert "extends" not in data
    assert (
        data["shocks"]["crunch"]["size"] == 0.5
        and data["policies"]["guarantee_fund"]["instrument"] == "credit_guarantee"
    )
    # what show prints is itself a scenario that reproduces the parameters
    path = tmp_path / "resolved.toml"
    path.write_text(text)
    assert load_scenario(path) == load_scenario("credit_crunch_with_guarantees")


def test_scenarios_lists_the_library(capsys):
    assert main(["scenarios"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == LIBRARY
    assert all(len(line.split(maxsplit=1)) == 2 for line in lines)


def test_run_from_manifest_reproduces_the_run(tmp_path):
    first = tmp_path / "first"
    assert (
        main(
            ["run", "russia_sanctions", "--steps", "5", "--firms", "100", "--seed", "8", "--out", str(first), "--quiet"]
        )
        == 0
    )
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["parameters"]["shocks"]["sanctions_2014"]["size"] == 0.5
    again = tmp_path / "again"
    assert main(["run", "--from-manifest", str(first / "manifest.json"), "--out", str(again), "--quiet"]) == 0
    for name in ("model.parquet", "firms.parquet"):
        assert (first / name).read_bytes() == (again / name).read_bytes()


# ---------------------------------------------------------------------------
# Mutated scenario files: any file gets either a valid scenario or one clean line.

KEYS = [
    "n_firms",
    "steps",
    "entry_rate",
    "wage",
    "markets",
    "policies",
    "shocks",
    "pools",
    "extends",
    "description",
    "markets.eu",
    "n_firm",
    "",
    "policies.p",
    "shocks.s",
]
junk = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=string.printable, max_size=12),
    st.booleans(),
    st.lists(st.integers(-5, 5), max_size=3),
    st.dictionaries(
        st.sampled_from(["size", "instrument", "kind", "start", "end", "budget_per_year", "bogus"]),
        st.one_of(st.integers(-10, 100), st.text(max_size=8), st.floats(-2, 2)),
        max_size=4,
    ),
)


def _mutate(data: dict, key: str, value) -> dict:
    data = json.loads(json.dumps(data))
    node = data
    *parents, leaf = key.split(".")
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            return data
    node[leaf] = value
    return data


def _toml(data: dict) -> str:
    """A minimal TOML writer for mutated data (inline tables, JSON-ish literals)."""

    def value(v) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, float):
            return {float("inf"): "inf", float("-inf"): "-inf"}.get(v, "nan" if v != v else repr(v))
        if isinstance(v, int):
            return str(v)
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return "{" + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items()) + "}"

    return "".join(f"{json.dumps(k) if k == '' else k} = {value(v)}\n" for k, v in data.items())


BASE = {
    "extends": "eu_internationalisation",
    "description": "mutant",
    "policies": {"p": {"instrument": "training", "budget_per_year": 100.0}},
    "shocks": {"s": {"kind": "demand_drop", "size": 0.1}},
}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(KEYS), value=junk, breakage=st.sampled_from(["none", "truncate", "garbage", "empty"]))
def test_mutated_scenario_files_get_one_clean_line(tmp_path, capsys, key, value, breakage):
    text = _toml(_mutate(BASE, key, value))
    if breakage == "truncate":
        text = text[: len(text) // 2]
    elif breakage == "garbage":
        text += "\n[[[ nonsense\n"
    elif breakage == "empty":
        text = ""
    work = Path(tempfile.mkdtemp(dir=tmp_path))  # hypothesis reuses tmp_path across examples
    path = work / "mutant.toml"
    path.write_text(text)
    try:
        params = load_scenario(path)
    except ScenarioError as exc:
        message = str(exc)
        assert message and "\n" not in message
        assert "Traceback" not in message
        valid = False
    else:
        valid = True
        assert params.name == "mutant"
    code = main(["show", str(path)])
    err = capsys.readouterr().err
    assert code == (0 if valid else 2)
    if not valid:
        assert len(err.strip().splitlines()) == 1 and err.startswith("distretto show: error: ")
    run_code = main(["run", str(path), "--steps", "1", "--firms", "30", "--out", str(work / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert run_code == (0 if valid else 2), err
    assert (work / "out").exists() == valid
    if not valid:
        assert len(err.strip().splitlines()) == 1
