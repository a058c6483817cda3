"""The experiment engine: definitions, common random numbers, resume, isolation, executors, statistics."""

from __future__ import annotations

import json
import math
from concurrent.futures import Future

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.cli import main
from sim.config import ScenarioError
from sim.experiments.analysis import paired_effects, sensitivity_indices, summarise_runs, sweep_response
from sim.experiments.definitions import EXPERIMENT_DIR, Compare, load_experiment, parse_experiment
from sim.experiments.designs import plan
from sim.experiments.runner import SerialExecutor, execute, load_runs, make_executor, run_experiment

SMALL = {"replications": 6, "steps": 12, "n_firms": 150, "seed": 50}
OUTCOMES = {
    "employment": {"column": "employment", "summary": "mean_last", "quarters": 4},
    "exports": {"column": "export_sales", "summary": "final"},
}


def compare(**extra) -> Compare:
    data = {
        "kind": "compare",
        "name": "t",
        "scenarios": ["credit_crunch", "training"],
        "outcomes": OUTCOMES,
        **SMALL,
        **extra,
    }
    return parse_experiment(data, "test.toml")


def crunch_early() -> dict:
    return {"shocks": {"crunch": {"kind": "credit_crunch", "size": 0.6, "start": 2, "end": 12}}}


# --- definitions --------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "pattern"),
    [
        ({"kind": "compar"}, "kind: unknown kind 'compar'"),
        ({}, "missing key 'kind'"),
        (
            {"kind": "compare", "scenarios": ["training"], "outcomes": OUTCOMES, "replicatons": 3},
            "unknown key 'replicatons'; did you mean 'replications'",
        ),
        (
            {"kind": "compare", "scenarios": ["trainig"], "outcomes": OUTCOMES},
            "scenario 'trainig': unknown scenario 'trainig'; did you mean 'training'",
        ),
        (
            {"kind": "compare", "scenarios": ["training"], "outcomes": {"x": {"column": "employmnt"}}},
            "did you mean 'employment'",
        ),
        (
            {
                "kind": "compare",
                "scenarios": ["training"],
                "outcomes": {"x": {"column": "employment", "sumary": "final"}},
            },
            "unknown key 'outcomes.x.sumary'; did you mean 'summary'",
        ),
        (
            {"kind": "sweep", "parameters": {"entry_rat": {"values": [1]}}, "outcomes": OUTCOMES},
            "parameters.entry_rat: not a parameter",
        ),
        (
            {"kind": "sweep", "parameters": {"entry_rate": {"values": [5.0]}}, "outcomes": OUTCOMES},
            "entry_rate: Input should be less than or equal to 1",
        ),
        ({"kind": "sweep", "parameters": {"name": {"values": [1]}}, "outcomes": OUTCOMES}, "only numeric parameters"),
        (
            {"kind": "sweep", "parameters": {"entry_rate": {"low": 0.1, "high": 0.05}}, "outcomes": OUTCOMES},
            "low .* must be below high",
        ),
        (
            {
                "kind": "sensitivity",
                "samples": 6,
                "parameters": {"entry_rate": {"low": 0, "high": 0.1}, "wage": {"low": 9, "high": 12}},
                "outcomes": OUTCOMES,
            },
            "power of 2",
        ),
        ({"kind": "compare", "scenarios": ["training"], "outcomes": {}}, "outcomes"),
    ],
)
def test_bad_definitions_get_one_line(data, pattern):
    with pytest.raises(ScenarioError, match=pattern) as info:
        parse_experiment(data, "exp.toml")
    assert str(info.value).startswith("exp.toml") and "\n" not in str(info.value)


def test_cli_rejects_bad_experiment_with_exit_2(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('kind = "sweep"\n[parameters.entry_rate]\nvalues = [0.1]\n')
    assert main(["experiment", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "outcomes" in err
    assert not (tmp_path / "out").exists()
    assert main(["report", str(tmp_path)]) == 2


def test_every_shipped_experiment_is_valid():

    names = sorted(p.stem for p in EXPERIMENT_DIR.glob("*.toml"))
    assert {"policy_comparison", "shock_responses", "entry_cost_sweep", "sobol_core"} <= set(names)
    for name in names:
        experiment, _ = load_experiment(name)
        assert plan(experiment)


def test_plan_uses_common_seeds_and_stable_ids():
    experiment = compare()
    runs = plan(experiment)
    assert len(runs) == 3 * 6
    by_label = pd.DataFrame(
        [{"label": r.label, "replication": r.replication, "seed": r.seed, "id": r.run_id} for r in runs]
    )
    seeds = by_label.pivot(index="replication", columns="label", values="seed")
    assert (seeds.nunique(axis=1) == 1).all()  # replication r: same seed in every scenario
    assert by_label.id.is_unique
    assert [r.run_id for r in plan(compare())] == list(by_label.id)


def test_sweep_designs():
    grid = parse_experiment(
        {
            "kind": "sweep",
            "parameters": {
                "entry_cost_scale": {"values": [0.5, 1.0]},
                "markets.china.growth": {"low": 0.0, "high": 0.1, "levels": 3},
            },
            "outcomes": OUTCOMES,
            **SMALL,
        },
        "x",
    )
    runs = plan(grid)
    assert len(runs) == 2 * 3 * 6
    scales = sorted({r.params["entry_cost_scale"] for r in runs})
    assert scales == [0.5, 1.0]
    assert sorted({r.params["markets"]["china"]["growth"] for r in runs}) == [0.0, 0.05, 0.1]
    lhs = parse_experiment(
        {
            "kind": "sweep",
            "design": "lhs",
            "points": 10,
            "parameters": {"entry_horizon": {"low": 4, "high": 20}},
            "outcomes": OUTCOMES,
            **SMALL,
        },
        "x",
    )
    horizons = [r.params["entry_horizon"] for r in plan(lhs) if r.replication == 0]
    assert all(isinstance(h, int) for h in horizons)
    strata = np.floor((np.array(horizons) - 4) / 16 * 10)
    assert len(set(strata.tolist())) >= 8  # Latin hypercube: (nearly) one point per stratum after rounding


# --- running --------------------------------------------------------------------


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A small compare experiment run serially, shared by the tests below."""
    out = tmp_path_factory.mktemp("compare")
    experiment = compare()
    manifest = run_experiment(experiment, out, SerialExecutor(), progress=False)
    return experiment, out, manifest


def test_runs_are_streamed_to_one_file_each(finished):
    experiment, out, manifest = finished
    assert manifest["counts"] == {"done": 18, "failed": 0, "pending": 0}
    files = sorted(p.stem for p in (out / "runs").glob("*.parquet"))
    assert files == sorted(r.run_id for r in plan(experiment))
    frame = pd.read_parquet(out / "runs" / f"{files[0]}.parquet")
    assert len(frame) == 12 and {"run_id", "label", "seed", "replication", "employment"} <= set(frame.columns)
    assert manifest["versions"]["mesa"].startswith("3.")


def test_common_random_numbers_reduce_variance(finished):
    experiment, out, _ = finished
    summary = summarise_runs(experiment, load_runs(out, plan(experiment)))
    effects = paired_effects(summary, experiment)
    # paired differences vary less than independent ones would
    assert (effects.sd_paired < 0.7 * effects.sd_unpaired).all(), effects[
        ["scenario", "outcome", "sd_paired", "sd_unpaired"]
    ]


def test_resume_after_interruption_gives_the_same_results(finished, tmp_path):
    experiment, reference, _ = finished

    class Interrupting(SerialExecutor):
        submitted = 0

        def submit(self, fn, /, *args, **kwargs) -> Future:
            Interrupting.submitted += 1
            if Interrupting.submitted == 8:
                raise KeyboardInterrupt
            return super().submit(fn, *args, **kwargs)

    with pytest.raises(KeyboardInterrupt):
        run_experiment(experiment, tmp_path, Interrupting(), progress=False)
    assert len(list((tmp_path / "runs").glob("*.parquet"))) == 7
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["interrupted"] and manifest["counts"]["pending"] == 11
    (tmp_path / "runs" / ".stale.parquet.tmp-99").write_text("half-written by a killed process")
    resumed = run_experiment(experiment, tmp_path, SerialExecutor(), progress=False)
    assert resumed["counts"]["done"] == 18
    done = sorted(p.name for p in (tmp_path / "runs").glob("*.parquet"))
    assert done == sorted(p.name for p in (reference / "runs").glob("*.parquet"))
    for name in done:
        assert (tmp_path / "runs" / name).read_bytes() == (reference / "runs" / name).read_bytes()


def test_a_failing_run_is_isolated_and_retried(tmp_path):
    experiment = compare(replications=3, scenarios=["training"])

    def flaky(spec):
        if spec.replication == 1 and spec.label == "training":
            raise RuntimeError("boom")
        return execute(spec)

    manifest = run_experiment(experiment, tmp_path, SerialExecutor(), progress=False, task=flaky)
    assert manifest["counts"] == {"done": 5, "failed": 1, "pending": 0}
    failed = [r for r in manifest["runs"] if r["status"] == "failed"]
    assert failed[0]["error"] == "RuntimeError: boom"
    assert "Traceback" in json.loads((tmp_path / "failed" / f"{failed[0]['run_id']}.json").read_text())["traceback"]
    again = run_experiment(experiment, tmp_path, SerialExecutor(), progress=False)
    assert again["counts"] == {"done": 6, "failed": 0, "pending": 0}
    assert not list((tmp_path / "failed").glob("*.json"))


@pytest.mark.parametrize(("kind", "workers"), [("local", 1), ("local", 2), ("dask", 2)])
def test_executors_give_identical_files(finished, tmp_path, kind, workers):
    experiment, reference, _ = finished
    small = compare(replications=2)
    with make_executor(kind, workers) as executor:
        run_experiment(small, tmp_path, executor, progress=False)
    for spec in plan(small):
        assert (tmp_path / "runs" / f"{spec.run_id}.parquet").read_bytes() == (
            reference / "runs" / f"{spec.run_id}.parquet"
        ).read_bytes()


def test_a_dask_worker_that_dies_costs_only_its_run_in_flight(finished, tmp_path):
    """A worker process killed in the middle of a run: Dask reruns that run elsewhere; every file is as in serial."""
    pytest.importorskip("dask.distributed")
    experiment, reference, _ = finished
    small = compare(replications=2)
    victim = plan(small)[1].run_id
    marker = tmp_path / "killed-once"

    def dies_once(spec):  # pickled by value (defined here), so the worker needs nothing of the test module
        import os

        from sim.experiments.runner import execute

        if spec.run_id == victim and not marker.exists():
            marker.write_text("the worker running this run died")
            os._exit(1)  # the worker process dies, without cleanup, as a killed machine would
        return execute(spec)

    with make_executor("dask", 2) as executor:
        manifest = run_experiment(small, tmp_path / "out", executor, progress=False, task=dies_once)
    assert marker.exists()  # the worker did die
    assert manifest["counts"] == {"done": len(plan(small)), "failed": 0, "pending": 0}
    for spec in plan(small):
        assert (tmp_path / "out" / "runs" / f"{spec.run_id}.parquet").read_bytes() == (
            reference / "runs" / f"{spec.run_id}.parquet"
        ).read_bytes()


# --- statistics ------------------------------------------------------------------


def test_paired_effects_match_a_hand_computation():
    experiment = compare(scenarios=["training", "credit_crunch"], confidence=0.9)
    base = [10.0, 12.0, 11.0, 13.0]
    policy = [11.0, 14.0, 11.5, 15.0]  # differences 1, 2, 0.5, 2
    rows = []
    for label, values, cost in (("baseline", base, 0.0), ("training", policy, 2000.0), ("credit_crunch", base, 0.0)):
        for r, v in enumerate(values):
            rows.append({"label": label, "replication": r, "outcome": "employment", "value": v, "policy_cost": cost})
    effects = paired_effects(pd.DataFrame(rows), experiment).set_index(["scenario", "outcome"])
    row = effects.loc[("training", "employment")]
    d = np.array([1.0, 2.0, 0.5, 2.0])
    mean, sd = d.mean(), d.std(ddof=1)
    t = stats.t.ppf(1 - 0.10 / 2 / 2, 3)  # Bonferroni over two scenarios
    assert t == pytest.approx(3.182446305, rel=1e-6)  # t(0.975, 3) from tables
    assert row.effect == pytest.approx(1.375)
    assert row.sd_paired == pytest.approx(sd)
    assert row.ci_low == pytest.approx(mean - t * sd / 2) and row.ci_high == pytest.approx(mean + t * sd / 2)
    assert row.cost_meur == pytest.approx(2.0) and row.effect_per_meur == pytest.approx(1.375 / 2)
    assert row.significant
    assert effects.loc[("credit_crunch", "employment")].effect == 0
    assert math.isnan(effects.loc[("credit_crunch", "employment")].effect_per_meur)


def ishigami_task(spec):
    """Ishigami function of three parameters mapped from [-0.5, 0.5] to [-pi, pi]; no model run."""
    p = spec.params
    x = 2 * np.pi * np.array([p["rival_quality_growth"], p["rival_cost_decline"], p["markets"]["italy"]["growth"]])
    y = np.sin(x[0]) + 7 * np.sin(x[1]) ** 2 + 0.1 * x[2] ** 4 * np.sin(x[0])
    frame = pd.DataFrame(
        {
            "run_id": [spec.run_id],
            "label": spec.label,
            "scenario": spec.scenario,
            "point": spec.point,
            "replication": spec.replication,
            "seed": spec.seed,
        }
    )
    frame["step"], frame["employment"], frame["policy_cost"] = 1, y, 0.0
    return {"run_id": spec.run_id, "model": frame, "firms": None, "wall_time_s": 0.0}


def test_salib_sobol_indices_of_ishigami_through_the_runner(tmp_path):
    bounds = {"low": -0.5, "high": 0.5}
    experiment = parse_experiment(
        {
            "kind": "sensitivity",
            "method": "sobol",
            "samples": 512,
            "seed": 7,
            "parameters": {
                "rival_quality_growth": bounds,
                "rival_cost_decline": bounds,
                "markets.italy.growth": bounds,
            },
            "outcomes": {"y": {"column": "employment", "summary": "final"}},
        },
        "ishigami.toml",
    )
    run_experiment(experiment, tmp_path, SerialExecutor(), progress=False, task=ishigami_task)
    summary = summarise_runs(experiment, load_runs(tmp_path, plan(experiment)))
    indices = sensitivity_indices(summary, experiment).set_index("parameter")
    # analytic values (a = 7, b = 0.1): S1 = 0.314, 0.442, 0; ST = 0.558, 0.442, 0.244
    np.testing.assert_allclose(indices.S1, [0.314, 0.442, 0.0], atol=0.08)
    np.testing.assert_allclose(indices.ST, [0.558, 0.442, 0.244], atol=0.08)
    assert (indices.S1_conf > 0).all() and (indices.ST_conf < 0.2).all()


def test_sweep_response_and_cli_report_round_trip(tmp_path, capsys):
    path = tmp_path / "sweep.toml"
    path.write_text(
        'kind = "sweep"\ndescription = "tiny"\nreplications = 2\nsteps = 6\nn_firms = 80\n'
        "[parameters.entry_cost_scale]\nvalues = [0.5, 2.0]\n"
        '[outcomes.exporters]\ncolumn = "n_exporters"\nsummary = "final"\n'
    )
    out = tmp_path / "out"
    assert main(["experiment", str(path), "--out", str(out), "--executor", "serial", "--quiet"]) == 0
    assert "report:" in capsys.readouterr().out
    response = pd.read_csv(out / "report" / "response.csv")
    assert sorted(response.entry_cost_scale) == [0.5, 2.0] and (response["count"] == 2).all()
    first = (out / "report" / "response.csv").read_bytes()
    (out / "report" / "response.csv").unlink()
    assert main(["report", str(out)]) == 0
    assert (out / "report" / "response.csv").read_bytes() == first
    html = (out / "report" / "report.html").read_text()
    assert "data:image/png;base64," in html and "Response to the swept parameters" in html
    _ = sweep_response


def test_runner_releases_finished_models(tmp_path):
    """Memory stays flat over many runs: Mesa 3.3 would otherwise keep every model alive."""
    import mesa

    ids = getattr(mesa.Agent, "_ids", {})
    before = len(ids)
    run_experiment(compare(replications=2, scenarios=["training"]), tmp_path, SerialExecutor(), progress=False)
    assert len(getattr(mesa.Agent, "_ids", {})) == before
