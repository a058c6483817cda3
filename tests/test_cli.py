"""The command line: a good run writes its outputs; bad input gets one line and exit 2."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import VIEW_APP, VIEW_FIRMS, VIZ_MISSING, main, view_command
from sim.view.levers import FIRMS_RANGE


def test_run_writes_outputs_and_manifest(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "--seed", "3", "--steps", "8", "--firms", "120", "--out", str(out), "--quiet"]) == 0
    assert str(out) in capsys.readouterr().out
    model = pd.read_parquet(out / "model.parquet")
    firms = pd.read_parquet(out / "firms.parquet")
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(model) == 8 and set(firms.loc[~firms.exited, "step"]) == {4, 8}
    assert manifest["seed"] == 3 and manifest["steps"] == 8 and manifest["parameters"]["n_firms"] == 120
    assert manifest["scenario"] == "baseline" and manifest["versions"]["mesa"].startswith("3.")
    assert len(pd.read_parquet(out / "provinces.parquet")) == 8 * 9
    network = pd.read_parquet(out / "network.parquet")
    collaborations = network[network.kind == "collaboration"]
    assert len(collaborations) == model.n_collab_links.iloc[-1] and collaborations.partner_id.notna().all()
    assert network[network.kind == "university"].university.notna().all() and set(network.step) <= {8}
    chain = network[network.kind == "supply"]
    assert len(chain) > 0 and chain.partner_id.notna().all() and (chain.firm_id != chain.partner_id).all()
    assert not list(out.glob(".*tmp*"))


def test_set_overrides_a_parameter(tmp_path):
    out = tmp_path / "run"
    assert main(["run", "--steps", "2", "--firms", "80", "--out", str(out), "--quiet", "--set", "entry_rate=0.05"]) == 0
    assert json.loads((out / "manifest.json").read_text())["parameters"]["entry_rate"] == 0.05


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "--steps", "-3"], "--steps must be an integer >= 1"),
        (["run", "--firms", "0"], "--firms must be an integer >= 1"),
        (["run", "--seed", "abc"], "--seed must be an integer >= 0"),
        (["run", "basline"], "did you mean 'baseline'"),
        (["run", "--set", "entry_rat=0.1"], "unknown key 'entry_rat'; did you mean 'entry_rate'"),
        (["run", "--set", "entry_rate=-1"], "entry_rate"),
        (["run", "--set", "noequals"], "--set expects KEY=VALUE"),
        (["run", "--bogus"], "unrecognized arguments"),
    ],
)
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, args, expected, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        code = main(args)
        raise SystemExit(code)
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert expected in err
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "results").exists()


def test_bad_scenario_file_and_unwritable_out(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("n_firms = 'lots'\n")
    assert main(["run", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "bad.toml: n_firms" in err and len(err.strip().splitlines()) == 1
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["run", "--out", str(blocker / "sub")]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_python_dash_m_sim_is_the_same_command(tmp_path):
    command = [
        sys.executable,
        "-m",
        "sim",
        "run",
        "--steps",
        "1",
        "--firms",
        "50",
        "--out",
        str(tmp_path / "m"),
        "--quiet",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "m" / "model.parquet").exists()
    bad = subprocess.run(
        [sys.executable, "-m", "sim", "run", "--steps", "zero"], capture_output=True, text=True, timeout=120
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_view_without_the_viz_extra_says_how_to_get_it(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "solara" else real(name, *a))
    assert main(["view"]) == 2
    assert capsys.readouterr().err.strip() == VIZ_MISSING


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["view", "--port", "0"], "--port must be an integer from 1 to 65535 (got 0)"),
        (["view", "--port", "70000"], "--port must be an integer from 1 to 65535"),
        (["view", "--port", "http"], "--port must be an integer"),
        (["view", "--firms", "0"], "--firms must be an integer from 10 to 50000 (got 0)"),
    ],
)
def test_view_refuses_bad_values_before_starting(args, expected, capsys, monkeypatch):
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: pytest.fail("started a server"))
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and len(err.splitlines()) == 1


def test_view_serves_the_app_with_this_python_in_production_mode():
    command = view_command("127.0.0.1", 8765)
    assert command[:4] == [sys.executable, "-m", "solara", "run"] and Path(command[4]) == VIEW_APP
    assert VIEW_APP.is_file() and {"--production", "--no-open", "--no-check-version"} <= set(command)


def test_view_firms_range_is_the_pages():
    assert VIEW_FIRMS == FIRMS_RANGE  # the CLI cannot import sim.view (solara is optional): same numbers, checked here


def test_the_command_line_imports_neither_solara_nor_the_view():
    code = "import sys, sim.cli; print(sorted(m for m in sys.modules if m == 'solara' or m.startswith('sim.view')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
