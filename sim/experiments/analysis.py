"""Statistics of an experiment: run summaries, policy effects with intervals, sweep responses, sensitivity indices.

Policy effects use common random numbers: replication r of a policy and of
the baseline share seed r, so the effect is estimated from the paired
differences Z_r = X_policy,r - X_baseline,r with a t interval on their mean
(Law, Simulation Modeling and Analysis, ch. 10). With several policies the
intervals are Bonferroni-adjusted so that all hold together with the stated
confidence. Effects per million euro divide by the mean policy cost of the
scenario (grants committed plus the expected loss of guarantees granted, ``policy_cost``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from scipy import stats

from sim.config.specs import INSTRUMENTS
from sim.experiments.definitions import Compare, Sensitivity, Sweep, period_label
from sim.experiments.designs import point_values, salib_problem
from sim.model.firms import SIZE_CLASSES
from sim.model.world import PROVINCES


def summarise_runs(experiment, series: pd.DataFrame) -> pd.DataFrame:
    """One row per finished run, outcome and period: its summary value and the run's total policy cost.

    ``first_step`` and ``last_step`` are the quarters the period covers in
    that run (cut at its end); a period the run does not reach has no value.
    """
    rows = []
    for run_id, run in series.groupby("run_id", sort=False):
        run = run.sort_values("step")
        first = run.iloc[0]
        cost = float(run["policy_cost"].sum())
        steps = int(run["step"].iloc[-1])
        for name, outcome in experiment.outcomes.items():
            values = run[outcome.column].to_numpy(dtype=float)
            for period in outcome.periods:
                window = experiment.window(outcome, period, steps)
                rows.append(
                    {
                        "run_id": run_id,
                        "label": first["label"],
                        "scenario": first["scenario"],
                        "point": int(first["point"]),
                        "replication": int(first["replication"]),
                        "seed": int(first["seed"]),
                        "outcome": name,
                        "period": period_label(period),
                        "first_step": window[0] if window else None,
                        "last_step": window[1] if window else None,
                        "value": outcome.summarise(values, window) if window else np.nan,
                        "policy_cost": cost,
                    }
                )
    return pd.DataFrame(rows).astype({"first_step": "Int64", "last_step": "Int64"}) if rows else pd.DataFrame(rows)


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


# --- effects by period, persistence, by province and size class, additionality ----------------------------------------


def period_order(experiment) -> list[str]:
    """Labels of the experiment's periods, in the order the outcomes name them."""
    return list(dict.fromkeys(period_label(p) for o in experiment.outcomes.values() for p in o.periods))


def period_effects(summary: pd.DataFrame, experiment: Compare) -> pd.DataFrame:
    """``paired_effects`` within each period, with the period and the quarters it covers (effects.csv).

    Rows for a period the runs do not reach are left out; ranks are within an outcome and period.
    """
    parts = []
    for period in period_order(experiment):
        part = summary[(summary.period == period) & summary.value.notna()]
        effects = paired_effects(part, experiment)
        if effects.empty:
            continue
        spans = part.groupby(["label", "outcome"]).agg(first_step=("first_step", "min"), last_step=("last_step", "max"))
        effects = effects.join(spans, on=["scenario", "outcome"])
        effects.insert(2, "period", period)
        effects.insert(3, "first_step", effects.pop("first_step"))
        effects.insert(4, "last_step", effects.pop("last_step"))
        parts.append(effects)
    if not parts:
        return pd.DataFrame()
    effects = pd.concat(parts, ignore_index=True)
    rank = {"outcome": list(experiment.outcomes), "period": period_order(experiment)}
    by = ["outcome", "period"]  # outcomes in the file's order, then periods; scenarios stay in their order
    effects = effects.sort_values(by, key=lambda c: c.map({v: i for i, v in enumerate(rank[c.name])}), kind="stable")
    return effects.reset_index(drop=True)


def persistence(effects: pd.DataFrame, experiment: Compare) -> pd.DataFrame:
    """Effect in the quarters after the policy window against the effect during it (persistence.csv).

    One row per scenario and outcome measured in both ``policy`` and
    ``after_policy``. ``persistence_pct`` is 100 x after / during, per quarter
    for cumulative outcomes (periods of different lengths); ``persists``: the
    effect after the window is significant and has the sign of the effect during it.
    """
    if effects.empty or not {"policy", "after_policy"} <= set(effects.period):
        return pd.DataFrame()
    keys = ["scenario", "outcome"]
    columns = [*keys, "effect", "ci_low", "ci_high", "significant", "relative_effect_pct", "first_step", "last_step"]
    during = effects.loc[effects.period == "policy", columns]
    after = effects.loc[effects.period == "after_policy", columns]
    both = during.merge(after, on=keys, suffixes=("_policy", "_after_policy"))
    if both.empty:
        return pd.DataFrame()
    length = {
        period: (both[f"last_step_{period}"] - both[f"first_step_{period}"] + 1).astype(float)
        for period in ("policy", "after_policy")
    }
    cumulative = both.outcome.map(lambda name: experiment.outcomes[name].summary == "cumulative").to_numpy(dtype=bool)
    after_rate = np.where(cumulative, both.effect_after_policy / length["after_policy"], both.effect_after_policy)
    during_rate = np.where(cumulative, both.effect_policy / length["policy"], both.effect_policy)
    with np.errstate(divide="ignore", invalid="ignore"):
        both["persistence_pct"] = np.where(during_rate != 0, 100.0 * after_rate / during_rate, np.nan)
    both["persists"] = both.significant_after_policy & (
        np.sign(both.effect_after_policy) == np.sign(both.effect_policy)
    )
    order = [
        *keys,
        "effect_policy",
        "ci_low_policy",
        "ci_high_policy",
        "significant_policy",
        "relative_effect_pct_policy",
        "effect_after_policy",
        "ci_low_after_policy",
        "ci_high_after_policy",
        "significant_after_policy",
        "relative_effect_pct_after_policy",
        "persistence_pct",
        "persists",
        "first_step_policy",
        "last_step_policy",
        "first_step_after_policy",
        "last_step_after_policy",
    ]
    return both[order]


#: Outcome columns broken down by size class and province (model columns ``<column>_<group>``, docs/outputs.md).
BREAKDOWNS: dict[str, dict[str, tuple[str, ...]]] = {
    column: {"size_class": tuple(SIZE_CLASSES), "province": PROVINCES} for column in ("n_exporters", "employment")
}


def group_effects(series: pd.DataFrame, experiment: Compare) -> pd.DataFrame:
    """Paired effects by size class and by province of every outcome on ``n_exporters`` or ``employment``.

    Each group's column (e.g. ``employment_modena``) is summarised as its
    outcome is (summary, periods) and compared as in the main table, with the
    same Bonferroni adjustment over scenarios (not over groups). Empty if the
    runs lack the columns (runs made before they existed).
    """
    outcomes, meta = {}, {}
    for name, outcome in experiment.outcomes.items():
        for breakdown, groups in BREAKDOWNS.get(outcome.column, {}).items():
            for group in groups:
                column = f"{outcome.column}_{group}"
                if column in series:
                    key = f"{name}/{group}"
                    outcomes[key] = outcome.model_copy(update={"column": column})
                    meta[key] = (name, breakdown, group)
    if not outcomes:
        return pd.DataFrame()
    by_group = experiment.model_copy(update={"outcomes": outcomes})
    effects = period_effects(summarise_runs(by_group, series), by_group)
    if effects.empty:
        return effects
    parts = pd.DataFrame([meta[key] for key in effects.outcome], columns=["outcome", "breakdown", "group"])
    effects = effects.drop(columns=["outcome", "rank_effect", "rank_per_meur"])
    return pd.concat([effects[["scenario"]], parts, effects.drop(columns="scenario")], axis=1)


#: Per instrument type k, the model columns additionality needs (``<prefix>_<k>``).
ADDITIONALITY_COLUMNS = ("supported", "additional", "deadweight", "spending")
#: additionality.csv measures: name -> how a run's value is computed from its totals over the run.
ADDITIONALITY_MEASURES = ("supported", "additional", "share_additional", "deadweight_keur", "spending_keur",
                          "cost_per_additional_keur")  # fmt: skip


def additionality(series: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Supported and additional actions, deadweight and cost per additional action, by scenario and instrument.

    For each run, ``supported_<k>``, ``additional_<k>``, ``deadweight_<k>``
    and ``spending_<k>`` are summed over the run (support is granted only
    while a policy is active: these are the policy window's totals); the share
    additional (additional / supported) and the cost per additional action
    (spending / additional) are per run. Each measure is the mean over
    replications with a t interval at ``confidence``; runs where a ratio is
    undefined (nothing supported, nothing additional) are left out of its
    mean (``n_<measure>``). One row per scenario and instrument type with any
    support; empty if the runs lack the columns (additionality.csv).
    """
    kinds = [k for k in INSTRUMENTS if all(f"{c}_{k}" in series for c in ADDITIONALITY_COLUMNS)]
    if not kinds or series.empty:
        return pd.DataFrame()
    columns = [f"{c}_{k}" for k in kinds for c in ADDITIONALITY_COLUMNS]
    totals = series.groupby(["label", "run_id"], sort=False)[columns].sum()
    rows = []
    for label, runs in totals.groupby(level="label", sort=False):
        for k in kinds:
            supported, additional, deadweight, spending = (
                runs[f"{c}_{k}"].to_numpy(dtype=float) for c in ADDITIONALITY_COLUMNS
            )
            if not supported.sum() > 0:
                continue
            with np.errstate(divide="ignore", invalid="ignore"):
                values = {
                    "supported": supported,
                    "additional": additional,
                    "share_additional": np.where(supported > 0, additional / supported, np.nan),
                    "deadweight_keur": deadweight,
                    "spending_keur": spending,
                    "cost_per_additional_keur": np.where(additional > 0, spending / additional, np.nan),
                }
            row: dict[str, object] = {"scenario": label, "instrument": k, "n": len(runs)}
            for measure, x in values.items():
                x = x[~np.isnan(x)]
                mean, (low, high) = _mean_interval(x, confidence)
                row.update({measure: mean, f"{measure}_ci_low": low, f"{measure}_ci_high": high})
                if measure in ("share_additional", "cost_per_additional_keur"):
                    row[f"n_{measure}"] = x.size
            rows.append(row)
    return pd.DataFrame(rows)


def _mean_interval(x: np.ndarray, confidence: float) -> tuple[float, tuple[float, float]]:
    """Mean of ``x`` and its t interval (NaN bounds with fewer than two values)."""
    if x.size == 0:
        return np.nan, (np.nan, np.nan)
    mean = float(x.mean())
    if x.size < 2:
        return mean, (np.nan, np.nan)
    half = float(stats.t.ppf(0.5 + confidence / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    return mean, (mean - half, mean + half)
