"""Statistics of an experiment: run summaries, policy effects with intervals, sweep responses, sensitivity indices.

Policy effects use common random numbers: replication r of a policy and of
the baseline share seed r, so the effect is estimated from the paired
differences Z_r = X_policy,r - X_baseline,r with a t interval on their mean
(Law, Simulation Modeling and Analysis, ch. 10). With several policies the
intervals are Bonferroni-adjusted so that all hold together with the stated
confidence. Effects per million euro divide by the mean policy cost of the
scenario (grants plus guarantee-fund losses, ``policy_cost``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from scipy import stats

from sim.experiments.definitions import Compare, Sensitivity, Sweep
from sim.experiments.designs import point_values, salib_problem


def summarise_runs(experiment, series: pd.DataFrame) -> pd.DataFrame:
    """One row per finished run and outcome: its summary value and the run's total policy cost."""
    rows = []
    for run_id, run in series.groupby("run_id", sort=False):
        run = run.sort_values("step")
        first = run.iloc[0]
        cost = float(run["policy_cost"].sum())
        for name, outcome in experiment.outcomes.items():
            rows.append(
                {
                    "run_id": run_id,
                    "label": first["label"],
                    "scenario": first["scenario"],
                    "point": int(first["point"]),
                    "replication": int(first["replication"]),
                    "seed": int(first["seed"]),
                    "outcome": name,
                    "value": outcome.summarise(run[outcome.column].to_numpy(dtype=float)),
                    "policy_cost": cost,
                }
            )
    return pd.DataFrame(rows)


def paired_effects(summary: pd.DataFrame, experiment: Compare) -> pd.DataFrame:
    """Mean paired difference of each scenario against the baseline, with Bonferroni t intervals."""
    m = len(experiment.scenarios)
    alpha = (1.0 - experiment.confidence) / m
    wide = summary.pivot_table(index=["outcome", "replication"], columns="label", values="value")
    costs = summary.groupby("label")["policy_cost"].mean()
    rows = []
    for outcome in experiment.outcomes:
        if outcome not in wide.index.get_level_values(0):
            continue
        table = wide.loc[outcome]
        for scenario in experiment.scenarios:
            if scenario not in table or experiment.baseline not in table:
                continue
            pair = table[[scenario, experiment.baseline]].dropna()
            d = (pair[scenario] - pair[experiment.baseline]).to_numpy()
            n = d.size
            mean = float(d.mean()) if n else np.nan
            sd = float(d.std(ddof=1)) if n > 1 else np.nan
            half = float(stats.t.ppf(1 - alpha / 2, n - 1) * sd / np.sqrt(n)) if n > 1 else np.nan
            unpaired_var = (
                float(pair[scenario].var(ddof=1) + pair[experiment.baseline].var(ddof=1)) if n > 1 else np.nan
            )
            base_mean = float(pair[experiment.baseline].mean()) if n else np.nan
            cost_meur = float(costs.get(scenario, 0.0) - costs.get(experiment.baseline, 0.0)) / 1000.0
            scale = 1.0 / cost_meur if cost_meur > 0 else np.nan
            rows.append(
                {
                    "scenario": scenario,
                    "outcome": outcome,
                    "n": n,
                    "baseline_mean": base_mean,
                    "effect": mean,
                    "ci_low": mean - half,
                    "ci_high": mean + half,
                    "confidence": experiment.confidence,
                    "bonferroni_m": m,
                    "relative_effect_pct": 100.0 * mean / base_mean if base_mean else np.nan,
                    "relative_ci_low_pct": 100.0 * (mean - half) / base_mean if base_mean else np.nan,
                    "relative_ci_high_pct": 100.0 * (mean + half) / base_mean if base_mean else np.nan,
                    "sd_paired": sd,
                    "sd_unpaired": float(np.sqrt(unpaired_var)) if n > 1 else np.nan,
                    "p_value": float(2 * stats.t.sf(abs(mean) / (sd / np.sqrt(n)), n - 1))
                    if n > 1 and sd > 0
                    else np.nan,
                    "cost_meur": cost_meur,
                    "effect_per_meur": mean * scale,
                    "per_meur_low": (mean - half) * scale,
                    "per_meur_high": (mean + half) * scale,
                    "significant": bool(n > 1 and (mean - half > 0 or mean + half < 0)),
                }
            )
    effects = pd.DataFrame(rows)
    if not effects.empty:
        ranks = effects.groupby("outcome")["effect"].rank(ascending=False, method="min")
        effects["rank_effect"] = ranks.astype("Int64")  # a scenario with no paired run has no effect and no rank
        effects["rank_per_meur"] = effects.groupby("outcome")["effect_per_meur"].rank(ascending=False, method="min")
    return effects


def sweep_response(summary: pd.DataFrame, experiment: Sweep | Sensitivity, confidence: float = 0.95) -> pd.DataFrame:
    """Mean and t interval of each outcome at each design point, with the point's parameter values."""
    points = point_values(experiment)
    names = list(experiment.parameters)
    grouped = summary.groupby(["point", "outcome"])["value"]
    table = grouped.agg(["mean", "std", "count"]).reset_index()
    half = stats.t.ppf(0.5 + confidence / 2, np.maximum(table["count"] - 1, 1)) * table["std"] / np.sqrt(table["count"])
    table["ci_low"] = table["mean"] - half.where(table["count"] > 1)
    table["ci_high"] = table["mean"] + half.where(table["count"] > 1)
    for j, name in enumerate(names):
        table[name] = points[table["point"].to_numpy(), j]
    return table[["point", *names, "outcome", "mean", "std", "count", "ci_low", "ci_high"]]


def sensitivity_indices(summary: pd.DataFrame, experiment: Sensitivity) -> pd.DataFrame:
    """Sobol first/total-order indices or Morris mu*, sigma, with SALib's confidence intervals."""
    problem = salib_problem(experiment)
    x = point_values(experiment)
    rows = []
    for outcome in experiment.outcomes:
        values = summary[summary.outcome == outcome].groupby("point")["value"].mean()
        if len(values) != len(x):
            continue  # unfinished or failed runs: indices need every point
        y = values.sort_index().to_numpy()
        if experiment.method == "sobol":
            res = sobol_analyze.analyze(
                problem, y, calc_second_order=False, conf_level=experiment.confidence, seed=experiment.seed
            )
            for i, name in enumerate(problem["names"]):
                rows.append(
                    {
                        "outcome": outcome,
                        "parameter": name,
                        "S1": res["S1"][i],
                        "S1_conf": res["S1_conf"][i],
                        "ST": res["ST"][i],
                        "ST_conf": res["ST_conf"][i],
                    }
                )
        else:
            res = morris_analyze.analyze(
                problem, x, y, num_levels=experiment.levels, conf_level=experiment.confidence, seed=experiment.seed
            )
            for i, name in enumerate(problem["names"]):
                values = {key: res[key][i] for key in ("mu", "mu_star", "sigma", "mu_star_conf")}
                rows.append({"outcome": outcome, "parameter": name, **values})
    return pd.DataFrame(rows)
