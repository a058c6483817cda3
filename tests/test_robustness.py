"""Robustness experiments: [set] for every kind, worlds, ranks and regret, scenario discovery, executors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.config import ScenarioError
from sim.experiments.definitions import Discovery, parse_experiment
from sim.experiments.designs import plan
from sim.experiments.report import build_report
from sim.experiments.robustness import (
    cart_box,
    describe_box,
    find_box,
    prim_box,
    rank_distribution,
    rank_table,
    regret_table,
)
from sim.experiments.runner import SerialExecutor, make_executor, run_experiment
from sim.experiments.worlds import world_table

OUTCOMES = {"employment": {"column": "employment", "summary": "mean_last", "quarters": 2}}
TINY = {"replications": 2, "steps": 6, "n_firms": 60, "seed": 70}


def robustness(**extra) -> dict:
    return {
        "kind": "robustness",
        "name": "r",
        "scenarios": ["training", "credit_guarantees"],
        "worlds": 3,
        "uncertainties": {"entry_cost_scale": {"low": 0.3, "high": 1.0}, "leverage_max": {"low": 0.6, "high": 1.4}},
        "variants": {"endogenous_closure": {"scenario": "endogenous_closure"}},
        "outcomes": OUTCOMES,
        **TINY,
        **extra,
    }


def calibration_folder(path, losses=(1.0, 1.08, 1.05, 1.3, np.inf), failed=(0, 0, 0, 0, 1)):
    """A folder as distretto calibrate leaves it: manifest.json (kind calibration) and evaluations.parquet."""
    path.mkdir(parents=True, exist_ok=True)
    names = {"entry_cost_scale": {"low": 0.3, "high": 2.0}, "markets.eu.potential_share": {"low": 0.03, "high": 0.12}}
    (path / "manifest.json").write_text(json.dumps({"kind": "calibration", "calibration": {"parameters": names}}))
    n = len(losses)
    table = pd.DataFrame(
        {
            "point": range(n),
            "stage": "sobol",
            "entry_cost_scale": np.linspace(0.4, 1.2, n),
            "markets.eu.potential_share": np.linspace(0.05, 0.1, n),
            "loss": losses,
            "failed": failed,
        }
    )
    table.to_parquet(path / "evaluations.parquet", index=False)
    return path


# --- [set] in every kind --------------------------------------------------------


def test_set_applies_to_the_baseline_and_every_scenario():
    experiment = parse_experiment(
        {
            "kind": "compare",
            "scenarios": ["training"],
            "outcomes": OUTCOMES,
            "set": {"entry_rate": 0.02, "markets.china.entry_cost": 300.0, "rival_anchor": "unweighted"},
            **TINY,
        },
        "x.toml",
    )
    runs = plan(experiment)
    assert {r.label for r in runs} == {"baseline", "training"}
    assert all(r.params["entry_rate"] == 0.02 and r.params["rival_anchor"] == "unweighted" for r in runs)
    assert all(r.params["markets"]["china"]["entry_cost"] == 300.0 for r in runs)
    assert all(r.params["policies"] for r in runs if r.label == "training")  # the scenario's own fields stay
    sweep = parse_experiment(
        {
            "kind": "sweep",
            "parameters": {"entry_cost_scale": {"values": [0.5, 1.0]}},
            "set": {"markets": {"china": {"growth": 0.01}}},  # a TOML sub-table works like a dotted name
            "outcomes": OUTCOMES,
            **TINY,
        },
        "x.toml",
    )
    assert all(r.params["markets"]["china"]["growth"] == 0.01 for r in plan(sweep))
    plain = parse_experiment({"kind": "compare", "scenarios": ["training"], "outcomes": OUTCOMES, **TINY}, "x.toml")
    with_empty = parse_experiment(
        {"kind": "compare", "scenarios": ["training"], "outcomes": OUTCOMES, "set": {}, **TINY}, "x.toml"
    )
    assert [r.run_id for r in plan(plain)] == [r.run_id for r in plan(with_empty)]  # no [set]: the same run ids


# --- definitions ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "pattern"),
    [
        ({"set": {"entry_rat": 0.1}}, "x.toml: set: unknown key 'entry_rat'; did you mean 'entry_rate'"),
        ({"set": {"entry_rate": 5.0}}, "x.toml: set: entry_rate: Input should be less than or equal to 1"),
        ({"scenarios": ["training", "trainig"]}, "scenario 'trainig': unknown scenario 'trainig'"),
        ({"scenarios": ["training"]}, "scenarios: List should have at least 2 items"),
        (
            {"uncertainties": {"entry_cost_scal": {"low": 0, "high": 1}}},
            "uncertainties.entry_cost_scal: not a parameter",
        ),
        ({"uncertainties": {"leverage_max": {"low": 0.5, "high": 200.0}}}, "leverage_max: Input should be less than"),
        ({"uncertainties": {"leverage_max": {"values": [1.0]}}}, "uncertainties.leverage_max: give low and high"),
        ({"variants": {"closure": {"scenario": "endogenous"}}}, "variants.closure.scenario: unknown scenario"),
        ({"variants": {"closure": {}}}, "give a scenario, or parameter values in set"),
        ({"variants": {"closure": {"set": {"wage_indexatio": 1.0}}}}, "variants.closure.set: unknown key"),
        ({"variants": {"same": {"scenario": "baseline"}}}, "variants.same: changes no parameter"),
        ({"worlds_from": "results/no_such_calibration"}, "worlds_from: 'results/no_such_calibration' is not a calib"),
        ({"discovery": {"min_wolds": 3}}, "unknown key 'discovery.min_wolds'; did you mean 'min_worlds'"),
        ({"uncertainties": {}, "variants": {}}, "give uncertainties, worlds_from or variants"),
        ({"world_seeds": "same"}, "world_seeds: Input should be 'distinct' or 'shared'"),
    ],
)
def test_bad_robustness_files_get_one_line(extra, pattern):
    with pytest.raises(ScenarioError, match=pattern) as info:
        parse_experiment(robustness(**extra), "x.toml")
    assert str(info.value).startswith("x.toml") and "\n" not in str(info.value)


def test_cli_refuses_a_bad_robustness_file_with_exit_2_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(
        'kind = "robustness"\nscenarios = ["training", "credit_guarantees"]\nworlds_from = "'
        + str(tmp_path)
        + '"\n[outcomes.jobs]\ncolumn = "employment"\n'
    )
    out = tmp_path / "out"
    assert main(["experiment", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "worlds_from" in err and "not a calibration folder" in err
    assert not out.exists()
    assert main(["experiment", "policy_comparison", "--worlds", "3", "--out", str(out)]) == 2
    assert "--worlds is for robustness experiments" in capsys.readouterr().err
    assert not out.exists()


# --- worlds -----------------------------------------------------------------------


def test_worlds_pair_every_scenario_on_the_same_seeds_and_carry_their_values():
    experiment = parse_experiment(robustness(worlds=4), "x.toml")
    worlds = world_table(experiment)
    runs = plan(experiment)
    assert len(worlds) == 4 and len(runs) == 4 * 3 * 2
    assert sorted(worlds["variant"]) == ["default", "default", "endogenous_closure", "endogenous_closure"]
    frame = pd.DataFrame([{"w": r.point, "label": r.label, "r": r.replication, "seed": r.seed} for r in runs])
    seeds = frame.pivot_table(index=["w", "r"], columns="label", values="seed")
    assert (seeds.nunique(axis=1) == 1).all()  # CRN within a world
    assert frame.groupby("w")["seed"].min().is_unique  # distinct seeds across worlds (the default)
    for r in runs:
        world = worlds.set_index("world").loc[r.point]
        assert r.params["entry_cost_scale"] == pytest.approx(world["entry_cost_scale"])
        closure = r.params["wage_weights"] == "unweighted" and r.params["rival_anchor"] == "unweighted"
        assert closure == (world["variant"] == "endogenous_closure")
    shared = plan(parse_experiment(robustness(worlds=4, world_seeds="shared"), "x.toml"))
    assert {r.seed for r in shared} == {70, 71}
    assert len({r.run_id for r in runs}) == len(runs)


def test_worlds_from_a_calibration_folder_within_the_loss_tolerance(tmp_path):
    folder = calibration_folder(tmp_path / "cal")
    experiment = parse_experiment(
        robustness(worlds=10, uncertainties={}, variants={}, worlds_from=str(folder), loss_tolerance=0.1), "x.toml"
    )
    # losses 1.0, 1.08, 1.05 are within 10 % of the best (1.0); 1.3 is not, the failed point never
    points = experiment.calibration_points
    assert [p["entry_cost_scale"] for p in points] == pytest.approx([0.4, 0.8, 0.6])
    worlds = world_table(experiment)
    assert len(worlds) == 3  # nothing else varies: one world per point
    runs = plan(experiment)
    assert sorted({r.params["markets"]["eu"]["potential_share"] for r in runs}) == pytest.approx([0.05, 0.0625, 0.075])
    lever = {"leverage_max": {"low": 0.6, "high": 1.4}}
    few = parse_experiment(robustness(worlds=2, uncertainties=lever, worlds_from=str(folder)), "x.toml")
    assert len(few.calibration_points) == 2  # the best two
    with pytest.raises(ScenarioError, match="also a free parameter of worlds_from"):
        parse_experiment(robustness(worlds_from=str(folder)), "x.toml")  # entry_cost_scale is in both
    # a variant that sets a calibrated parameter wins in its worlds (the closure fixes what the calibration fits)
    cheap = {"cheap": {"set": {"entry_cost_scale": 0.3}}}
    both = parse_experiment(robustness(worlds=6, uncertainties={}, variants=cheap, worlds_from=str(folder)), "x.toml")
    table = world_table(both)
    assert (table.loc[table.variant == "cheap", "entry_cost_scale"] == 0.3).all()
    assert set(table.loc[table.variant == "default", "entry_cost_scale"].round(6)) <= {0.4, 0.6, 0.8}
    assert not table.drop(columns="world").duplicated().any()  # repeated worlds are dropped
    for r in plan(both):
        assert r.params["entry_cost_scale"] == pytest.approx(table.set_index("world").loc[r.point, "entry_cost_scale"])


# --- statistics on a toy table ------------------------------------------------------


def toy_effects() -> pd.DataFrame:
    """Four worlds, three policies; world 1 has a tie for second place, world 3 a tie for first."""
    effects = {0: (3.0, 1.0, 2.0), 1: (1.0, 4.0, 1.0), 2: (2.0, 0.0, 5.0), 3: (5.0, 5.0, 0.0)}
    costs = (2.0, 1.0, 0.0)  # EUR million; C costs nothing
    significant = {("A", 0), ("A", 3), ("B", 1)}
    rows = []
    for w, values in effects.items():
        for name, value, cost in zip("ABC", values, costs, strict=True):
            rows.append(
                {
                    "world": w,
                    "scenario": name,
                    "outcome": "jobs",
                    "effect": value,
                    "baseline_mean": 100.0,
                    "cost_meur": cost,
                    "effect_per_meur": value / cost if cost > 0 else np.nan,
                    "significant": (name, w) in significant,
                    "significant_positive": (name, w) in significant,
                }
            )
    return pd.DataFrame(rows)


def test_ranks_match_a_hand_computation():
    ranks = rank_table(toy_effects(), ["A", "B", "C"]).set_index(["metric", "scenario"])
    assert list(ranks.columns[:3]) == ["outcome", "p_best", "mean_rank"]
    effect = ranks.loc["effect"]
    # first places: A in world 0 and half of world 3; B in world 1 and half of world 3; C in world 2
    assert effect.loc["A", "p_best"] == pytest.approx(1.5 / 4)
    assert effect.loc["B", "p_best"] == pytest.approx(1.5 / 4)
    assert effect.loc["C", "p_best"] == pytest.approx(1 / 4)
    # ranks (ties share places): A 1, 2.5, 2, 1.5; B 3, 1, 3, 1.5; C 2, 2.5, 1, 3
    assert effect.loc["A", "mean_rank"] == pytest.approx(7.0 / 4)
    assert effect.loc["B", "mean_rank"] == pytest.approx(8.5 / 4)
    assert effect.loc["C", "mean_rank"] == pytest.approx(8.5 / 4)
    assert effect.loc["A", "p_top2"] == pytest.approx((1 + 0.5 + 1 + 1) / 4)
    assert (effect["worlds"] == 4).all()
    # per EUR million: A 1.5, 0.5, 1, 2.5; B 1, 4, 0, 5; C costs nothing: last everywhere
    per_meur = ranks.loc["per_meur"]
    assert per_meur.loc["A", "p_best"] == pytest.approx(2 / 4) and per_meur.loc["B", "p_best"] == pytest.approx(2 / 4)
    assert per_meur.loc["C", "mean_rank"] == 3
    dist = rank_distribution(toy_effects(), ["A", "B", "C"])
    row = dist[(dist.metric == "effect") & (dist.scenario == "A") & (dist["rank"] == 2)]
    assert row["probability"].item() == pytest.approx((0 + 0.5 + 1 + 0.5) / 4)
    assert dist.groupby(["metric", "scenario"])["probability"].sum().to_numpy() == pytest.approx(1.0)


def test_regret_matches_a_hand_computation():
    regret = regret_table(toy_effects(), ["A", "B", "C"])
    regret = regret[regret.metric == "effect"].set_index("scenario")
    # best effect per world: 3, 4, 5, 5 -> regrets A 0, 3, 3, 0; B 2, 0, 5, 0; C 1, 3, 0, 5
    assert regret.loc["A", "mean_regret"] == pytest.approx(1.5)
    assert regret.loc["B", "mean_regret"] == pytest.approx(7 / 4)
    assert regret.loc["C", "mean_regret"] == pytest.approx(9 / 4)
    # 90th percentile, linear interpolation between order statistics (position 0.9 x 3 = 2.7)
    assert regret.loc["A", "p90_regret"] == pytest.approx(3.0)
    assert regret.loc["B", "p90_regret"] == pytest.approx(2 + 0.7 * 3)
    assert regret.loc["C", "p90_regret"] == pytest.approx(3 + 0.7 * 2)
    assert regret.loc["C", "max_regret"] == 5
    assert regret.loc["B", "mean_regret_pct"] == pytest.approx(7 / 4)  # baseline 100
    assert regret.loc["A", "p_significant_positive"] == 0.5 and regret.loc["C", "p_significant_positive"] == 0
    assert list(regret.index[:1]) == ["A"]  # sorted by mean regret


# --- scenario discovery ---------------------------------------------------------------


def planted(n=300, noise=0.03, seed=3):
    """Worlds in [0, 1]^4 and a variant; the event is a > 0.6 and b < 0.4, a few labels flipped."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.random((n, 4)), columns=["a", "markets.china.entry_cost", "c", "d"])
    x["variant=endogenous_closure"] = (rng.random(n) < 0.5).astype(float)
    y = (x["a"] > 0.6) & (x["markets.china.entry_cost"] < 0.4)
    flip = rng.random(n) < noise
    return x, (y ^ flip).to_numpy()


def test_prim_recovers_a_planted_box():
    x, y = planted()
    box = prim_box(x, y, Discovery())
    assert box is not None and box.method == "prim"
    limits = {name: (low, high) for name, low, high in box.restrictions}
    assert set(limits) == {"a", "markets.china.entry_cost"}
    assert limits["a"][0] == pytest.approx(0.6, abs=0.06) and limits["a"][1] is None
    assert limits["markets.china.entry_cost"][0] is None
    assert limits["markets.china.entry_cost"][1] == pytest.approx(0.4, abs=0.06)
    assert box.coverage >= 0.75 and box.density >= 0.9  # the densest acceptable box: some coverage for density
    text = describe_box(box)
    assert "`a` > 0.6" in text or "`a` > 0.5" in text
    assert "`markets.china.entry_cost` < 0." in text and " and " in text
    assert find_box(x, y, Discovery()).method == "prim"


def test_cart_finds_the_planted_box_too_and_nothing_in_noise():
    x, y = planted()
    box = cart_box(x, y, Discovery())
    limits = {name: (low, high) for name, low, high in box.restrictions}
    assert {"a", "markets.china.entry_cost"} <= set(limits)
    assert box.density > 0.8 and box.coverage > 0.5
    rng = np.random.default_rng(0)
    assert find_box(x, rng.random(len(x)) < 0.3, Discovery()) is None  # labels unrelated to the worlds


def test_a_variant_box_reads_in_words():
    x, _ = planted()
    y = (x["variant=endogenous_closure"] > 0.5).to_numpy() & (x["c"] < 0.9).to_numpy()
    box = prim_box(x, y, Discovery())
    assert "the variant is endogenous_closure" in describe_box(box)


# --- running ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A tiny robustness experiment (3 worlds x 3 scenarios x 2 replications, 60 firms, 6 quarters), serially."""
    out = tmp_path_factory.mktemp("robust")
    experiment = parse_experiment(robustness(), "tiny.toml")
    manifest = run_experiment(experiment, out, SerialExecutor(), progress=False)
    build_report(out)
    return experiment, out, manifest


def test_a_tiny_robustness_run_writes_its_tables(tiny_run):
    experiment, out, manifest = tiny_run
    assert manifest["counts"] == {"done": 18, "failed": 0, "pending": 0}
    report = out / "report"
    effects = pd.read_parquet(report / "world_effects.parquet")
    assert len(effects) == 3 * 2  # worlds x policies (one outcome)
    assert {"world", "variant", "entry_cost_scale", "leverage_max", "scenario", "outcome", "effect", "ci_low"} <= set(
        effects.columns
    )
    assert {"cost_meur", "effect_per_meur", "significant_positive", "rank", "regret"} <= set(effects.columns)
    ranks = pd.read_csv(report / "ranks.csv")
    assert list(ranks.columns[:4]) == ["scenario", "outcome", "p_best", "mean_rank"]
    assert ranks.groupby("metric")["p_best"].sum().to_numpy() == pytest.approx(1.0)
    regret = pd.read_csv(report / "regret.csv")
    assert {"mean_regret", "p90_regret", "p_significant_positive"} <= set(regret.columns)
    boxes = pd.read_csv(report / "failure_boxes.csv")
    assert (boxes["status"].str.startswith("too few worlds for scenario discovery")).all()
    text = (report / "report.md").read_text()
    assert "Too few worlds for scenario discovery" in text and "Rank probabilities" in text
    assert (report / "figures" / "ranks.png").exists() and (report / "figures" / "world_effects.png").exists()
    # the manifest alone rebuilds the report
    first = (report / "ranks.csv").read_bytes()
    (report / "ranks.csv").unlink()
    assert main(["report", str(out)]) == 0
    assert (report / "ranks.csv").read_bytes() == first


@pytest.mark.parametrize(("kind", "workers"), [("local", 2), ("dask", 2)])
def test_robustness_runs_are_identical_on_every_executor(tiny_run, tmp_path, kind, workers):
    experiment, reference, _ = tiny_run
    with make_executor(kind, workers) as executor:
        run_experiment(experiment, tmp_path, executor, progress=False)
    for spec in plan(experiment):
        name = f"{spec.run_id}.parquet"
        assert (tmp_path / "runs" / name).read_bytes() == (reference / "runs" / name).read_bytes()
    build_report(tmp_path)
    for table in ("ranks.csv", "regret.csv", "failure_boxes.csv"):
        assert (tmp_path / "report" / table).read_bytes() == (reference / "report" / table).read_bytes()


def test_calibration_worlds_survive_the_folder(tmp_path):
    """The chosen calibration points are kept in the manifest: the report rebuilds without the folder."""
    folder = calibration_folder(tmp_path / "cal")
    experiment = parse_experiment(
        robustness(worlds=2, uncertainties={}, variants={}, worlds_from=str(folder), replications=1), "x.toml"
    )
    out = tmp_path / "out"
    run_experiment(experiment, out, SerialExecutor(), progress=False)
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    build_report(out)
    worlds = pd.read_csv(out / "report" / "worlds.csv")
    assert worlds["entry_cost_scale"].tolist() == pytest.approx([0.4, 0.8])  # losses 1.0 and 1.05


def test_an_interrupted_robustness_run_resumes_to_the_same_files(tiny_run, tmp_path):
    experiment, reference, _ = tiny_run

    class Interrupting(SerialExecutor):
        submitted = 0

        def submit(self, fn, /, *args, **kwargs):
            Interrupting.submitted += 1
            if Interrupting.submitted == 7:
                raise KeyboardInterrupt
            return super().submit(fn, *args, **kwargs)

    with pytest.raises(KeyboardInterrupt):
        run_experiment(experiment, tmp_path, Interrupting(), progress=False)
    assert len(list((tmp_path / "runs").glob("*.parquet"))) == 6
    assert run_experiment(experiment, tmp_path, SerialExecutor(), progress=False)["counts"]["done"] == 18
    for spec in plan(experiment):
        name = f"{spec.run_id}.parquet"
        assert (tmp_path / "runs" / name).read_bytes() == (reference / "runs" / name).read_bytes()
