"""docs/tutorial.md's commands parse, its files load, and its comparison script runs on two small runs."""

from __future__ import annotations

import importlib.util
import re
import shlex
import tomllib
from pathlib import Path

import pytest

from sim.cli import build_parser
from sim.config import load_scenario
from sim.experiments.definitions import load_experiment
from sim.run import run

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "docs" / "tutorial.md"
FILES = ROOT / "docs" / "tutorial"


def commands() -> list[str]:
    """Every `distretto ...` line of the tutorial's code blocks (loop variables filled in)."""
    blocks = re.findall(r"```\n(.*?)```", TUTORIAL.read_text(encoding="utf-8"), re.S)
    lines = [line.strip() for block in blocks for line in block.splitlines()]
    return [re.sub(r"#.*", "", line).replace("$seed", "1").strip() for line in lines if line.startswith("distretto")]


def test_the_tutorial_has_six_exercises_each_with_page_steps_a_question_and_a_check():
    text = TUTORIAL.read_text(encoding="utf-8")
    exercises = re.split(r"\n## \d\. ", text)[1:]
    assert len(exercises) == 6
    for exercise in exercises:
        for part in ("**On the page.**", "**Observe.**", "**Question.**", "**Check it.**"):
            assert part in exercise, exercise.splitlines()[0]


@pytest.mark.parametrize("line", commands())
def test_every_command_parses(line, monkeypatch):
    monkeypatch.chdir(ROOT)
    args = build_parser().parse_args(shlex.split(line)[1:])
    if args.command == "run" and args.scenario and args.scenario.endswith(".toml"):
        load_scenario(args.scenario)
    if args.command == "experiment":
        load_experiment(args.file)


def test_the_tutorials_files_load(monkeypatch):
    monkeypatch.chdir(ROOT)  # experiments name the scenario files by paths from the repository's root
    scenarios = sorted(FILES.glob("*.toml"))
    experiments = [p for p in scenarios if "kind" in tomllib.loads(p.read_text(encoding="utf-8"))]
    assert {p.name for p in experiments} == {"class.toml", "crunch.toml"}
    for path in experiments:
        load_experiment(path)
    for path in set(scenarios) - set(experiments):
        assert load_scenario(path).description


def test_compare_script_runs_on_two_runs(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("tutorial_compare", FILES / "compare.py")
    compare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(compare)
    for name in ("baseline", "no_universities"):
        scenario = "baseline" if name == "baseline" else FILES / f"{name}.toml"
        run(load_scenario(scenario, n_firms=150, steps=12), 3, tmp_path / name, progress=False)
    compare.main(tmp_path / "no_universities", tmp_path / "baseline")
    out = capsys.readouterr().out
    assert "n_exporters" in out and "By province" in out and "By niche" in out
