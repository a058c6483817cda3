"""Outcomes that matter to a region: periods (during and after a policy), persistence, effects by size class and
province, additionality. Statistics are checked against hand computations on small synthetic tables."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.cli import main
from sim.config import ScenarioError
from sim.experiments.analysis import (
    additionality,
    group_effects,
    period_effects,
    persistence,
    summarise_runs,
)
from sim.experiments.definitions import experiment_dump, parse_experiment
from sim.experiments.report import build_report
from sim.experiments.runner import SerialExecutor, run_experiment
from sim.model.firms import SIZE_CLASSES
from sim.model.world import PROVINCES


def compare(outcomes: dict, **extra):
    data = {"kind": "compare", "name": "t", "scenarios": ["training"], "outcomes": outcomes, **extra}
    return parse_experiment(data, "exp.toml")


def window_scenario(tmp_path, name: str, start: int, end: int | None, base: str = "training") -> str:
    """A scenario file extending a library policy scenario with its policy active in quarters start ... end."""
    policy = {"training": "training", "eu_internationalisation": "eu_programme"}[base]
    path = tmp_path / f"{name}.toml"
    path.write_text(
        f'extends = "{base}"\n[policies.{policy}]\nstart = {start}\n' + (f"end = {end}\n" if end is not None else "")
    )
    return str(path)


def synthetic_series(labels: dict[str, list[np.ndarray]], columns: dict[str, object], steps: int) -> pd.DataFrame:
    """Runs as the runner stores them: ``labels`` -> per replication, the values of ``n_firms`` by step;
    ``columns``: further columns, each a function (label, replication, step array) -> values."""
    frames = []
    for label, replications in labels.items():
        for r, y in enumerate(replications):
            step = np.arange(1, steps + 1)
            frame = pd.DataFrame(
                {
                    "run_id": f"{label}-{r}",
                    "label": label,
                    "scenario": label,
                    "point": -1,
                    "replication": r,
                    "seed": 10 + r,
                    "step": step,
                    "year": 2010 + (step - 1) // 4,
                    "quarter": (step - 1) % 4 + 1,
                    "n_firms": y,
                    "policy_cost": 0.0,
                }
            )
            for name, make in columns.items():
                frame[name] = make(label, r, step)
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


# --- definitions --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("periods", "pattern"),
    [
        (["polcy"], r"outcomes\.x\.periods: unknown period 'polcy'; did you mean 'policy'\?"),
        ([[44, 21]], r"outcomes\.x\.periods: quarters \[44, 21\] must satisfy 1 <= first <= last"),
        ([[0, 4]], r"must satisfy 1 <= first"),
        ([[21]], r"period \[21\] is neither a name nor two quarters; allowed: last, policy, after_policy"),
        (["policy", "policy"], "a period is listed twice"),
        ("policy", "periods is a list"),
        ([], "periods: List should have at least 1 item"),
    ],
)
def test_bad_periods_get_one_line(periods, pattern):
    with pytest.raises(ScenarioError, match=pattern) as info:
        compare({"x": {"column": "employment", "periods": periods}})
    assert str(info.value).startswith("exp.toml: ") and "\n" not in str(info.value)


def test_policy_periods_need_one_window_from_the_compared_scenarios(tmp_path):
    early = window_scenario(tmp_path, "early", 3, 8)
    late = window_scenario(tmp_path, "late", 5, 8)
    outcomes = {"e": {"column": "employment", "periods": ["policy", "after_policy"]}}
    both = compare(outcomes, scenarios=[early, window_scenario(tmp_path, "eu", 3, 8, "eu_internationalisation")])
    assert (both.policy_window.start, both.policy_window.end) == (3, 8)
    with pytest.raises(
        ScenarioError,
        match=r"exp\.toml: outcomes\.e\.periods: .*different windows \(.*early\.toml 3-8, .*late\.toml 5-8\)",
    ):
        compare(outcomes, scenarios=[early, late])
    with pytest.raises(ScenarioError, match="no compared scenario has a policy; give \\[policy_window\\]"):
        compare(outcomes, scenarios=["credit_crunch"])
    given = compare(outcomes, scenarios=[early, late], policy_window={"start": 4, "end": 6})
    assert (given.policy_window.start, given.policy_window.end) == (4, 6)  # explicit: not derived
    with pytest.raises(ScenarioError, match=r"exp\.toml: policy_window: end \(3\) is before start \(5\)"):
        compare(outcomes, policy_window={"start": 5, "end": 3})
    with pytest.raises(ScenarioError, match="unknown key 'policy_window.stat'; did you mean 'start'"):
        compare(outcomes, policy_window={"stat": 5})
    # the derived window is part of the definition, so a manifest keeps the periods the runs were read by
    again = parse_experiment(experiment_dump(both), "manifest.json")
    assert again.policy_window == both.policy_window
    # scenarios without policies (shocks) do not take part: the library's policies run 2015-2020
    library = compare(outcomes, scenarios=["credit_crunch", "training"])
    assert (library.policy_window.start, library.policy_window.end) == (21, 44)


def test_policy_periods_are_for_compare_and_sweeps_take_one_period():
    sweep = {"kind": "sweep", "parameters": {"wage": {"values": [10.0]}}}
    with pytest.raises(ScenarioError, match="'policy' and 'after_policy' are for compare experiments"):
        parse_experiment({**sweep, "outcomes": {"x": {"column": "employment", "periods": ["policy"]}}}, "s.toml")
    with pytest.raises(ScenarioError, match="sweep experiments take one period per outcome"):
        parse_experiment({**sweep, "outcomes": {"x": {"column": "employment", "periods": [[1, 2], [3, 4]]}}}, "s.toml")
    one = parse_experiment({**sweep, "outcomes": {"x": {"column": "employment", "periods": [[1, 2]]}}}, "s.toml")
    assert one.outcomes["x"].periods == [(1, 2)]


def test_cli_refuses_a_bad_period_with_exit_2_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(
        'kind = "compare"\nscenarios = ["training"]\n[outcomes.x]\ncolumn = "employment"\nperiods = ["durng"]\n'
    )
    assert main(["experiment", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bad.toml: outcomes.x.periods: unknown period 'durng'" in err
    assert not (tmp_path / "out").exists()


def test_windows_of_each_period_cut_at_the_end_of_the_run():
    experiment = compare(
        {"x": {"column": "employment", "quarters": 4, "periods": ["last", "policy", "after_policy", [50, 70]]}},
        policy_window={"start": 21, "end": 44},
    )
    outcome = experiment.outcomes["x"]
    at = {
        p if isinstance(p, str) else "q": [experiment.window(outcome, p, s) for s in (60, 50, 40)]
        for p in outcome.periods
    }
    assert at["last"] == [(57, 60), (47, 50), (37, 40)]
    assert at["policy"] == [(21, 44), (21, 44), (21, 40)]
    assert at["after_policy"] == [(45, 60), (45, 50), None]  # 16 quarters after, cut; not reached at 40
    assert at["q"] == [(50, 60), (50, 50), None]


# --- statistics on synthetic runs -----------------------------------------------------------------------------------


def test_period_summaries_effects_and_persistence_match_a_hand_computation():
    """Runs of 12 quarters, policy in 3-6, after it 7-10 (four quarters); the last two quarters are outside both."""
    experiment = compare(
        {
            "m": {"column": "n_firms", "summary": "mean_last", "periods": ["policy", "after_policy"]},
            "c": {"column": "n_firms", "summary": "cumulative", "periods": ["policy", "after_policy"]},
            "f": {"column": "n_firms", "summary": "final", "periods": ["policy"]},
        },
        policy_window={"start": 3, "end": 6},
        after_policy_quarters=4,
    )
    steps = 12
    base = [np.full(steps, 10.0), np.full(steps, 12.0), np.full(steps, 11.0)]
    lift = np.zeros(steps)
    lift[2:6] = [2.0, 2.0, 4.0, 4.0]  # +3 on average during the policy
    lift[6:10] = 1.0  # +1 after it: a third of the effect persists
    lift[10:] = 50.0  # outside both periods: must not count
    noise = [0.0, 0.5, -0.5]
    policy = [b + lift + e for b, e in zip(base, noise, strict=True)]
    series = synthetic_series({"baseline": base, "training": policy}, {}, steps)
    summary = summarise_runs(experiment, series)
    row = summary[(summary.run_id == "training-1") & (summary.outcome == "m") & (summary.period == "policy")].iloc[0]
    assert row.value == pytest.approx(12.0 + 3.0 + 0.5) and (row.first_step, row.last_step) == (3, 6)
    effects = period_effects(summary, experiment).set_index(["outcome", "period"])
    assert list(effects.index) == [("m", "policy"), ("m", "after_policy"), ("c", "policy"), ("c", "after_policy"),
                                   ("f", "policy")]  # fmt: skip
    d = np.array(noise) + 3.0  # paired differences of the policy-period means
    t = stats.t.ppf(0.975, 2)
    m = effects.loc[("m", "policy")]
    assert m.effect == pytest.approx(3.0) and m.ci_high == pytest.approx(3.0 + t * d.std(ddof=1) / math.sqrt(3))
    assert effects.loc[("m", "after_policy")].effect == pytest.approx(1.0)
    assert (effects.loc[("m", "after_policy"), ["first_step", "last_step"]] == [7, 10]).all()
    assert effects.loc[("c", "policy")].effect == pytest.approx(12.0)  # sum over four quarters
    assert effects.loc[("c", "after_policy")].effect == pytest.approx(4.0)
    assert effects.loc[("f", "policy")].effect == pytest.approx(4.0)  # the value in quarter 6
    table = persistence(period_effects(summary, experiment), experiment).set_index("outcome")
    assert table.loc["m", "persistence_pct"] == pytest.approx(100 / 3)
    assert table.loc["c", "persistence_pct"] == pytest.approx(100 / 3)  # per quarter: (4/4) / (12/4)
    assert "f" not in table.index  # measured during the policy only
    assert (
        table.loc["m", "significant_policy"]
        and table.loc["m", "persists"] == table.loc["m", "significant_after_policy"]
    )


def test_a_period_the_runs_do_not_reach_is_left_out():
    experiment = compare(
        {"m": {"column": "n_firms", "periods": ["policy", "after_policy"]}}, policy_window={"start": 3, "end": None}
    )
    series = synthetic_series({"baseline": [np.arange(8.0)] * 2, "training": [np.arange(8.0) + 1] * 2}, {}, 8)
    summary = summarise_runs(experiment, series)
    assert summary[summary.period == "after_policy"].value.isna().all()
    effects = period_effects(summary, experiment)
    assert effects.period.tolist() == ["policy"] and effects.effect.tolist() == [1.0]
    assert persistence(effects, experiment).empty


def test_effects_by_province_and_size_class_are_the_paired_effects_of_their_columns():
    experiment = compare(
        {"jobs": {"column": "employment", "periods": ["policy"]}, "firms": {"column": "n_firms"}},
        policy_window={"start": 2, "end": 3},
    )
    groups = [*SIZE_CLASSES, *PROVINCES]

    def column(g: int):
        # baseline: 10 g + r; the policy adds g jobs to group g in quarters 2-3 (and 100 in quarter 4, outside)
        return lambda label, r, step: 10.0 * g + r + (label == "training") * np.where(step <= 3, g * (step > 1), 100.0)

    extra = {f"employment_{name}": column(g) for g, name in enumerate(groups)}
    extra["employment"] = lambda label, r, step: np.zeros(step.size)
    series = synthetic_series({"baseline": [np.zeros(4)] * 3, "training": [np.zeros(4)] * 3}, extra, 4)
    effects = group_effects(series, experiment)
    assert set(effects.outcome) == {"jobs"} and set(effects.breakdown) == {"size_class", "province"}
    assert effects.group.tolist() == groups and (effects.period == "policy").all()
    np.testing.assert_allclose(effects.effect, np.arange(len(groups)))
    medium = effects.set_index("group").loc["medium"]
    assert medium.baseline_mean == pytest.approx(21.0) and medium.relative_effect_pct == pytest.approx(100 * 2 / 21)
    assert group_effects(series.drop(columns=list(extra)[:-1]), experiment).empty  # runs without the columns


def additionality_series(names: dict[str, str] | None = None) -> pd.DataFrame:
    """Two policy scenarios and the baseline, three replications, 4 quarters; support only for training in 'training'
    and for both instruments in 'package' (``names``: labels to give them instead)."""
    totals = {  # (label, kind) -> per replication (supported, additional, deadweight, spending) over the run
        ("training", "training"): [(8, 2, 30.0, 40.0), (10, 5, 25.0, 50.0), (6, 3, 15.0, 30.0)],
        ("package", "training"): [(4, 1, 15.0, 20.0), (4, 2, 10.0, 20.0), (4, 0, 20.0, 20.0)],
        ("package", "university_vouchers"): [(2, 2, 0.0, 12.0), (3, 1, 8.0, 12.0), (1, 1, 0.0, 6.0)],
    }

    def make(name: str, kind: str):
        index = ("supported", "additional", "deadweight", "spending").index(name)

        def values(label, r, step):
            total = totals.get((label, kind), [(0, 0, 0.0, 0.0)] * 3)[r][index]
            out = np.zeros(step.size)
            out[1], out[2] = total / 2, total - total / 2  # spread over two quarters of the window
            return out

        return values

    columns = {
        f"{name}_{kind}": make(name, kind)
        for kind in ("training", "university_vouchers", "eu_internationalisation")
        for name in ("supported", "additional", "deadweight", "spending")
    }
    runs = {label: [np.zeros(4)] * 3 for label in ("baseline", "training", "package")}
    series = synthetic_series(runs, {**columns, "employment": lambda label, r, step: np.full(step.size, 100.0)}, 4)
    if names:
        series["label"] = series["label"].replace(names)
    return series


def test_additionality_matches_a_hand_computation():
    table = additionality(additionality_series()).set_index(["scenario", "instrument"])
    assert sorted(table.index) == [
        ("package", "training"),
        ("package", "university_vouchers"),
        ("training", "training"),
    ]
    row = table.loc[("training", "training")]
    assert row.n == 3 and row.supported == pytest.approx(8.0) and row.additional == pytest.approx(10 / 3)
    shares = np.array([2 / 8, 5 / 10, 3 / 6])
    half = stats.t.ppf(0.975, 2) * shares.std(ddof=1) / math.sqrt(3)
    assert row.share_additional == pytest.approx(shares.mean())
    assert (row.share_additional_ci_low, row.share_additional_ci_high) == pytest.approx(
        (shares.mean() - half, shares.mean() + half)
    )
    assert row.deadweight_keur == pytest.approx(70 / 3) and row.spending_keur == pytest.approx(40.0)
    assert row.cost_per_additional_keur == pytest.approx(np.mean([20.0, 10.0, 10.0]))
    package = table.loc[("package", "training")]  # one replication had nothing additional: no cost per action
    assert package.n_cost_per_additional_keur == 2 and package.cost_per_additional_keur == pytest.approx(15.0)
    assert package.share_additional == pytest.approx(0.25) and package.n_share_additional == 3
    partial = additionality(additionality_series().drop(columns=["deadweight_training"]))
    assert partial.instrument.tolist() == ["university_vouchers"]  # an instrument needs all four columns
    assert additionality(additionality_series().filter(regex="^(?!additional_)")).empty


def test_report_writes_additionality_only_when_the_runs_record_it(tmp_path):
    training = window_scenario(tmp_path, "training", 2, 3)
    package = window_scenario(tmp_path, "package", 2, 3, "eu_internationalisation")
    experiment = parse_experiment(
        {
            "kind": "compare",
            "name": "toy",
            "scenarios": [training, package],
            "replications": 3,
            "outcomes": {"jobs": {"column": "employment", "periods": ["policy"]}},
        },
        "toy.toml",
    )
    series = additionality_series({"training": training, "package": package})

    def task(spec, keep: str = ".*"):
        """A run of 4 quarters from the synthetic table, without the model: the report reads the runner's files."""
        frame = series[(series.label == spec.label) & (series.replication == spec.replication)].filter(regex=keep)
        frame = frame.assign(run_id=spec.run_id, scenario=spec.scenario, seed=spec.seed).reset_index(drop=True)
        return {"run_id": spec.run_id, "model": frame, "firms": None, "wall_time_s": 0.0}

    run_experiment(experiment, tmp_path / "with", SerialExecutor(), progress=False, task=task)
    build_report(tmp_path / "with")
    table = pd.read_csv(tmp_path / "with" / "report" / "additionality.csv")
    assert sorted(zip(table.scenario, table.instrument, strict=True)) == sorted(
        [(training, "training"), (package, "training"), (package, "university_vouchers")]
    )
    assert table.set_index(["scenario", "instrument"]).loc[(training, "training"), "supported"] == pytest.approx(8.0)
    assert "Additionality and deadweight" in (tmp_path / "with" / "report" / "report.md").read_text()

    def without(spec):
        return task(spec, keep="^(?!(supported|additional|deadweight)_)")

    run_experiment(experiment, tmp_path / "without", SerialExecutor(), progress=False, task=without)
    build_report(tmp_path / "without")
    assert not (tmp_path / "without" / "report" / "additionality.csv").exists()
    assert "Additionality" not in (tmp_path / "without" / "report" / "report.md").read_text()


# --- the whole chain on the model -----------------------------------------------------------------------------------


def test_a_small_compare_reports_periods_persistence_and_groups(tmp_path, capsys):
    """Two instruments active in quarters 5-10 of 16: effects during and after, by province and size class."""
    eu = window_scenario(tmp_path, "eu_window", 5, 10, "eu_internationalisation")
    training = window_scenario(tmp_path, "training_window", 5, 10)
    path = tmp_path / "small.toml"
    path.write_text(
        f'kind = "compare"\nscenarios = ["{eu}", "{training}"]\nreplications = 3\nseed = 21\nsteps = 16\n'
        "n_firms = 150\nafter_policy_quarters = 8\n"
        '[outcomes.exporters]\ncolumn = "n_exporters"\nperiods = ["policy", "after_policy"]\n'
        '[outcomes.jobs]\ncolumn = "employment"\nperiods = ["last", "policy", "after_policy"]\nquarters = 4\n'
        '[outcomes.exits]\ncolumn = "n_exits"\nsummary = "cumulative"\nperiods = ["after_policy"]\n'
    )
    out = tmp_path / "out"
    assert main(["experiment", str(path), "--out", str(out), "--executor", "serial", "--quiet"]) == 0
    capsys.readouterr()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["experiment"]["policy_window"] == {"start": 5, "end": 10}
    report = out / "report"
    effects = pd.read_csv(report / "effects.csv")
    spans = effects.groupby(["outcome", "period"])[["first_step", "last_step"]].first()
    assert spans.loc[("exporters", "policy")].tolist() == [5, 10]
    assert spans.loc[("exporters", "after_policy")].tolist() == [11, 16]  # 8 quarters asked, 6 in the run
    assert spans.loc[("jobs", "last")].tolist() == [13, 16]
    assert len(effects) == 2 * 6 and (effects.n == 3).all()
    # effect during the policy, recomputed from the runs' files
    runs = pd.concat(pd.read_parquet(p) for p in (out / "runs").glob("*.parquet"))
    during = runs[(runs.step >= 5) & (runs.step <= 10)].groupby(["label", "replication"]).n_exporters.mean()
    expected = (during[eu] - during["baseline"]).mean()
    assert effects.set_index(["scenario", "outcome", "period"]).loc[(eu, "exporters", "policy"), "effect"] == (
        pytest.approx(expected)
    )
    kept = pd.read_csv(report / "persistence.csv")
    assert set(kept.outcome) == {"exporters", "jobs"} and len(kept) == 4
    groups = pd.read_csv(report / "effects_by_group.csv")
    assert set(groups.outcome) == {"exporters", "jobs"}
    assert groups.groupby(["outcome", "breakdown"]).group.nunique().to_dict() == {
        ("exporters", "province"): 9, ("exporters", "size_class"): 4, ("jobs", "province"): 9, ("jobs", "size_class"): 4
    }  # fmt: skip
    # the size classes of an exporter effect add up to it (the columns add up to n_exporters)
    classes = groups[(groups.outcome == "exporters") & (groups.breakdown == "size_class") & (groups.period == "policy")]
    total = effects[(effects.outcome == "exporters") & (effects.period == "policy")]
    assert classes.groupby("scenario").effect.sum().to_dict() == pytest.approx(
        total.set_index("scenario").effect.to_dict()
    )
    text = (report / "report.md").read_text()
    for heading in ("Persistence: effects after the policy window", "Effects by size class and province",
                    "exporters by province, % of the baseline (policy / after_policy)"):  # fmt: skip
        assert heading in text
    assert "after_policy: quarters 11-16 (cut at the end of the runs)" in text
    assert (report / "figures" / "effects_by_group.png").stat().st_size > 0
    # the runs record additionality: the report's means are those of the runs' sums
    extra = pd.read_csv(report / "additionality.csv").set_index(["scenario", "instrument"])
    supported = runs.groupby(["label", "replication"]).supported_eu_internationalisation.sum()[eu].mean()
    if supported > 0:
        assert extra.loc[(eu, "eu_internationalisation"), "supported"] == pytest.approx(supported)
    summary = pd.read_parquet(report / "summary.parquet")
    assert {"period", "first_step", "last_step"} <= set(summary.columns)
