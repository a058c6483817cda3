"""The experiment report: tidy tables, seaborn figures, report.md and a self-contained report.html.

Everything the report shows is also written as a table (``summary.parquet``,
``effects.csv``, ``persistence.csv``, ``effects_by_group.csv``,
``additionality.csv``, ``response.csv``, ``indices.csv``) for users who do
their own analysis. ``build_report`` reads only what the runner stored, so a report
can be rebuilt at any time without running anything.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from sim.config import ScenarioError  # noqa: E402
from sim.experiments.analysis import (  # noqa: E402
    additionality,
    group_effects,
    period_effects,
    period_order,
    persistence,
    sensitivity_indices,
    summarise_runs,
    sweep_response,
)
from sim.experiments.definitions import Compare, Robustness, Sweep, parse_experiment, period_label  # noqa: E402
from sim.experiments.designs import RunSpec  # noqa: E402
from sim.experiments.figures import save_figure  # noqa: E402
from sim.experiments.robustness import robustness_blocks  # noqa: E402
from sim.experiments.runner import load_runs  # noqa: E402
from sim.model.firms import SIZE_CLASSES  # noqa: E402
from sim.run import atomic_write  # noqa: E402

# ("h2", text) | ("p", text) | ("list", [text]) | ("table", DataFrame) | ("figure", (path, caption))
Block = tuple[str, Any]


def _fmt(value: Any) -> str:
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return ""
        return f"{value:,.3g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return str(value)


def markdown_table(frame: pd.DataFrame) -> str:
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def html_table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render(blocks: list[Block], out: Path, title: str) -> tuple[Path, Path]:
    """Write report.md (figures linked) and report.html (figures embedded)."""
    md, body = [f"# {title}"], []
    for kind, content in blocks:
        if kind in ("h2", "h3"):
            md.append(("## " if kind == "h2" else "### ") + content)
            body.append(f"<{kind}>{html.escape(content)}</{kind}>")
        elif kind == "p":
            md.append(content)
            body.append(f"<p>{html.escape(content)}</p>")
        elif kind == "list":
            md.append("\n".join(f"- {item}" for item in content))
            body.append("<ul>" + "".join(f"<li>{html.escape(item)}</li>" for item in content) + "</ul>")
        elif kind == "table":
            md.append(markdown_table(content))
            body.append(html_table(content))
        elif kind == "figure":
            path, caption = content
            md.append(f"![{caption}]({path.relative_to(out).as_posix()})\n\n*{caption}*")
            data = base64.b64encode(path.read_bytes()).decode()
            alt = html.escape(caption)
            body.append(
                f'<figure><img src="data:image/png;base64,{data}" alt="{alt}"><figcaption>{alt}</figcaption></figure>'
            )
    style = (
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.45;color:#222}"
        "table{border-collapse:collapse;margin:1em 0;font-size:0.9em}td,th{border:1px solid #ccc;padding:3px "
        "7px;text-align:right}"
        "th{background:#f2f2f2}img{max-width:100%}figcaption{font-style:italic;color:#555}"
    )
    head = f"<meta charset='utf-8'><title>{html.escape(title)}</title><style>{style}</style>"
    page = f"<!doctype html><html><head>{head}</head><body><h1>{html.escape(title)}</h1>{''.join(body)}</body></html>"
    md_path, html_path = out / "report.md", out / "report.html"
    atomic_write(md_path, lambda p: p.write_text("\n\n".join(md) + "\n", encoding="utf-8"))
    atomic_write(html_path, lambda p: p.write_text(page, encoding="utf-8"))
    return md_path, html_path


def figure_time_series(series: pd.DataFrame, experiment, hue: str, path: Path) -> Path:
    """Each outcome's column over time, mean and 95 % band across replications, one line per scenario."""
    columns = list(dict.fromkeys(o.column for o in experiment.outcomes.values()))
    data = series.assign(time=series["year"] + (series["quarter"] - 1) / 4)
    fig, axes = plt.subplots(len(columns), 1, figsize=(9, 2.8 * len(columns)), squeeze=False, sharex=True)
    window = getattr(experiment, "policy_window", None)
    if window is not None and not data.empty:  # shade the policy period (steps start ... end, quarters of width 1/4)
        time_of = data.groupby("step")["time"].first()
        last = window.end if window.end is not None else int(time_of.index.max())
        span = time_of[(time_of.index >= window.start) & (time_of.index <= last)]
    for ax, column in zip(axes[:, 0], columns, strict=True):
        if window is not None and not data.empty and not span.empty:
            ax.axvspan(span.iloc[0], span.iloc[-1] + 0.25, color="0.92", zorder=0, label=None)
        sns.lineplot(data=data, x="time", y=column, hue=hue, errorbar=("se", 1.96), ax=ax, legend=ax is axes[0, 0])
        ax.set_ylabel(column)
    if axes[0, 0].get_legend() is not None:
        sns.move_legend(axes[0, 0], "upper left", bbox_to_anchor=(1.01, 1), title=None, frameon=False)
    axes[-1, 0].set_xlabel("year")
    return save_figure(fig, path)


def figure_effects(effects: pd.DataFrame, value: str, low: str, high: str, xlabel: str, path: Path) -> Path:
    """Point estimates with interval bars, one panel per outcome (five panels a row).

    With one period, significant effects are blue and the others grey; with
    several (a ``period`` column), each period has its colour, side by side
    for each scenario, filled if significant and hollow if not.
    """
    outcomes = list(dict.fromkeys(effects["outcome"]))
    periods = list(dict.fromkeys(effects["period"])) if "period" in effects else [None]
    scenarios = list(dict.fromkeys(effects["scenario"]))
    ncols = min(len(outcomes), 5)
    nrows = -(-len(outcomes) // ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(3.6 * ncols + 1.5, (0.45 * len(scenarios) * max(1.0, 0.6 * len(periods)) + 1.6) * nrows),
        squeeze=False,
        sharey=True,
        layout="constrained",
    )
    colours = sns.color_palette("colorblind", len(periods))
    for ax, outcome in zip(axes.flat, outcomes, strict=False):
        for j, period in enumerate(periods):
            part = effects[(effects.outcome == outcome) & ((effects.period == period) if period else True)]
            rows = part["scenario"].map({name: i for i, name in enumerate(scenarios)}).to_numpy(dtype=float)
            y = rows - (j - (len(periods) - 1) / 2) * 0.7 / len(periods)  # first period on top
            err = np.nan_to_num(np.vstack([part[value] - part[low], part[high] - part[value]]))
            significant = part["significant"].to_numpy(dtype=bool)
            for mask, filled in ((significant, True), (~significant, False)):
                if not mask.any():
                    continue
                colour = ("tab:blue" if filled else "tab:gray") if len(periods) == 1 else colours[j]
                ax.errorbar(
                    part[value].to_numpy()[mask],
                    y[mask],
                    xerr=err[:, mask],
                    fmt="o",
                    color=colour,
                    markerfacecolor=colour if filled else "white",
                    capsize=3,
                )
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_yticks(np.arange(len(scenarios)), scenarios)
        ax.set_title(outcome)
        ax.set_xlabel(xlabel)
    for ax in axes.flat[len(outcomes) :]:
        ax.set_visible(False)
    if len(periods) > 1:
        handles = [plt.Line2D([], [], color=c, marker="o", linestyle="") for c in colours]
        fig.legend(handles, periods, loc="outside upper center", ncols=len(periods), frameon=False, title=None)
    return save_figure(fig, path)


def figure_sweep(response: pd.DataFrame, parameters: list[str], path: Path) -> Path:
    """Each outcome against each swept parameter: point means with intervals."""
    outcomes = list(dict.fromkeys(response["outcome"]))
    fig, axes = plt.subplots(
        len(outcomes), len(parameters), figsize=(4 * len(parameters) + 1, 2.8 * len(outcomes)), squeeze=False
    )
    for i, outcome in enumerate(outcomes):
        part = response[response.outcome == outcome].sort_values(parameters)
        for j, name in enumerate(parameters):
            ax = axes[i, j]
            err = np.vstack([part["mean"] - part["ci_low"], part["ci_high"] - part["mean"]])
            ax.errorbar(part[name], part["mean"], yerr=np.nan_to_num(err), fmt="o", markersize=3, capsize=2, alpha=0.8)
            if len(parameters) == 1:
                ax.plot(part[name], part["mean"], linewidth=1)
            ax.set_xlabel(name)
            ax.set_ylabel(outcome)
    return save_figure(fig, path)


def figure_sensitivity(indices: pd.DataFrame, method: str, path: Path) -> Path:
    """Sobol S1 and ST (or Morris mu*) with their intervals, one panel per outcome."""
    outcomes = list(dict.fromkeys(indices["outcome"]))
    fig, axes = plt.subplots(1, len(outcomes), figsize=(4 * len(outcomes) + 1, 3.2), squeeze=False)
    for ax, outcome in zip(axes[0], outcomes, strict=True):
        part = indices[indices.outcome == outcome]
        x = np.arange(len(part))
        if method == "sobol":
            ax.bar(x - 0.2, part["S1"], 0.4, yerr=part["S1_conf"], capsize=2, label="first order S1")
            ax.bar(x + 0.2, part["ST"], 0.4, yerr=part["ST_conf"], capsize=2, label="total order ST")
        else:
            ax.bar(x, part["mu_star"], 0.6, yerr=part["mu_star_conf"], capsize=2, label="mu*")
        ax.set_xticks(x, part["parameter"], rotation=30, ha="right")
        ax.set_title(outcome)
    axes[0, 0].legend(frameon=False)
    return save_figure(fig, path)


def _manifest_runs(manifest: dict[str, Any]) -> list[RunSpec]:
    return [
        RunSpec(
            params={},
            **{k: r[k] for k in ("run_id", "label", "scenario", "point", "replication", "seed", "steps", "panels")},
        )
        for r in manifest["runs"]
    ]


def build_report(out: Path) -> Path:
    """(Re)build the report of the experiment stored in ``out``; returns the path of report.html."""
    out = Path(out)
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        experiment = parse_experiment(manifest["experiment"], str(out / "manifest.json"))
    except (OSError, ValueError, KeyError) as exc:
        if isinstance(exc, ScenarioError):
            raise
        raise ScenarioError(f"{out}: not an experiment folder (no readable manifest.json: {exc})") from None
    runs = _manifest_runs(manifest)
    series = load_runs(out, runs)
    report = out / "report"
    figures = report / "figures"
    report.mkdir(exist_ok=True)
    counts = {s: sum(r["status"] == s for r in manifest["runs"]) for s in ("done", "failed", "pending")}
    blocks: list[Block] = [
        ("p", experiment.description or ""),
        (
            "p",
            f"Kind: {experiment.kind}. Runs: {counts['done']} done, {counts['failed']} failed, {counts['pending']} "
            "not run. "
            f"Replications: {experiment.replications} (common random numbers: {_crn(experiment)}). "
            f"Model version {manifest['versions'].get('distretto')}, commit {manifest.get('commit')}.",
        ),
    ]
    if series.empty:
        blocks.append(("p", "No run has finished yet."))
        return render(blocks, report, f"Experiment {experiment.name}")[1]

    summary = summarise_runs(experiment, series)
    atomic_write(report / "summary.parquet", lambda p: summary.to_parquet(p, index=False))
    if isinstance(experiment, Compare):
        blocks += _compare_blocks(experiment, series, summary, report, figures)
    elif isinstance(experiment, Robustness):
        blocks += robustness_blocks(experiment, summary, report, figures)
    elif isinstance(experiment, Sweep):
        response = sweep_response(summary, experiment)
        atomic_write(report / "response.csv", lambda p: response.to_csv(p, index=False))
        blocks += [
            ("h2", "Response to the swept parameters"),
            (
                "p",
                "Mean of each outcome at each design point across replications, with 95 % t intervals (response.csv).",
            ),
            (
                "figure",
                (
                    figure_sweep(response, list(experiment.parameters), figures / "sweep.png"),
                    "Outcomes against swept parameters",
                ),
            ),
            ("table", response.round(4)),
        ]
    else:
        indices = sensitivity_indices(summary, experiment)
        atomic_write(report / "indices.csv", lambda p: indices.to_csv(p, index=False))
        what = (
            "first-order (S1) and total-order (ST) Sobol indices"
            if experiment.method == "sobol"
            else "Morris elementary effects (mu*, sigma)"
        )
        blocks += [
            ("h2", "Sensitivity"),
            (
                "p",
                f"{what} computed by SALib, with {int(experiment.confidence * 100)} % bootstrap intervals "
                "(indices.csv).",
            ),
        ]
        if indices.empty:
            blocks.append(("p", "Indices need every design point; some runs are missing or failed."))
        else:
            blocks += [
                (
                    "figure",
                    (
                        figure_sensitivity(indices, experiment.method, figures / "sensitivity.png"),
                        "Sensitivity indices",
                    ),
                ),
                ("table", indices.round(4)),
            ]
    failed = [r for r in manifest["runs"] if r["status"] == "failed"]
    if failed:
        blocks += [("h2", "Failed runs"), ("table", pd.DataFrame(failed)[["run_id", "label", "seed", "error"]])]
    return render(blocks, report, f"Experiment {experiment.name}")[1]


def _crn(experiment) -> str:
    if isinstance(experiment, Robustness):
        return "every scenario of a world uses the same seeds"
    return f"replication r uses seed {experiment.seed} + r in every scenario or point"


def _compare_blocks(
    experiment: Compare, series: pd.DataFrame, summary: pd.DataFrame, report: Path, figures: Path
) -> list[Block]:
    effects = period_effects(summary, experiment)
    atomic_write(report / "effects.csv", lambda p: effects.to_csv(p, index=False))
    level = int(round(experiment.confidence * 100))
    blocks: list[Block] = [
        ("h2", "How to read this report"),
        (
            "p",
            f"Each effect is the mean difference between a scenario and {experiment.baseline!r} over paired "
            "replications (same seed), "
            f"with a {level} % t interval Bonferroni-adjusted over the {len(experiment.scenarios)} scenarios "
            "compared: all intervals hold together "
            "with that confidence. An effect whose interval excludes zero is marked significant. Cost is the mean "
            "total policy cost of a run "
            "(grants committed plus the expected loss of guarantees granted, EUR million at the run's scale: "
            "budgets are scaled by firms / "
            "35,000); effect per EUR million divides "
            "the effect (and its interval) by it. sd_paired against sd_unpaired shows how much common random numbers "
            "narrow the intervals.",
        ),
        ("h2", "Effects against the baseline"),
    ]
    outcome_text = "; ".join(
        f"{name}: {o.summary} of {o.column}"
        + (
            f" over the last {o.quarters} quarters"
            if o.summary != "final" and o.quarters and "last" in o.periods
            else ""
        )
        + (f" (periods {', '.join(map(period_label, o.periods))})" if o.periods != ["last"] else "")
        for name, o in experiment.outcomes.items()
    )
    blocks.append(("p", f"Outcomes: {outcome_text}."))
    blocks += _period_blocks(experiment, summary)
    for outcome in experiment.outcomes:
        part = effects[effects.outcome == outcome] if not effects.empty else effects
        if part.empty:
            continue
        table = part.assign(
            interval=[f"[{_fmt(a)}, {_fmt(b)}]" for a, b in zip(part.ci_low, part.ci_high, strict=True)],
            quarters=[f"{a}-{b}" for a, b in zip(part.first_step, part.last_step, strict=True)],
        )
        columns = [
            "scenario",
            "period",
            "quarters",
            "effect",
            "interval",
            "relative_effect_pct",
            "significant",
            "cost_meur",
            "effect_per_meur",
            "rank_effect",
            "n",
            "sd_paired",
            "sd_unpaired",
        ]
        table = pd.concat([p.sort_values("rank_effect") for _, p in table[columns].groupby("period", sort=False)])
        blocks += [("h3", outcome), ("table", table)]
    if effects.empty:
        return [*blocks, ("p", "No effect can be estimated yet: no period has pairs of finished runs.")]
    several = effects["period"].nunique() > 1
    effect_figure = figure_effects(
        effects,
        "relative_effect_pct",
        "relative_ci_low_pct",
        "relative_ci_high_pct",
        "% of the baseline",
        figures / "effects.png",
    )
    blocks.append(
        (
            "figure",
            (
                effect_figure,
                f"Effects in % of the baseline mean, with {level} % Bonferroni intervals "
                + ("(one colour per period; filled: significant)" if several else "(blue: significant)"),
            ),
        )
    )
    blocks += _persistence_blocks(experiment, effects, report)
    costly = effects[effects.cost_meur > 0]
    if not costly.empty:
        blocks += [
            ("h2", "Cost-effectiveness"),
            (
                "figure",
                (
                    figure_effects(
                        costly,
                        "effect_per_meur",
                        "per_meur_low",
                        "per_meur_high",
                        "effect per EUR million",
                        figures / "cost.png",
                    ),
                    "Effect per EUR million of policy cost",
                ),
            ),
        ]
    blocks += [
        ("h2", "Outcomes over time"),
        (
            "figure",
            (
                figure_time_series(series, experiment, "label", figures / "time_series.png"),
                "Mean over replications with 95 % band (mean ± 1.96 s.e.)"
                + ("; shaded: the policy period" if experiment.policy_window is not None else ""),
            ),
        ),
    ]
    blocks += _group_blocks(experiment, series, report, figures)
    blocks += _additionality_blocks(experiment, series, report)
    return blocks


# --- periods, persistence, by province and size class, additionality --------------------------------------------------


def _span(summary: pd.DataFrame, period: str) -> str | None:
    """Quarters a period covers in the runs (``first-last``), None if no run reaches it."""
    part = summary[summary.period == period]
    if part.empty or part.first_step.isna().all():
        return None
    return f"{int(part.first_step.min())}-{int(part.last_step.max())}"


def _period_blocks(experiment: Compare, summary: pd.DataFrame) -> list[Block]:
    """What each period of the outcomes covers; said only when an outcome names a period other than ``last``."""
    periods = period_order(experiment)
    if periods == ["last"]:
        return []
    window = experiment.policy_window
    meaning = {
        "last": "the last quarters of each run (as many as the outcome's quarters)",
        "policy": "the policy window, when the compared scenarios' policies are active",
        "after_policy": f"the {experiment.after_policy_quarters} quarters after the policy window ends (persistence)",
    }
    parts = []
    for period in periods:
        span = _span(summary, period)
        what = meaning.get(period, "quarters given in the file")
        if period == "last":
            parts.append(f"last: {what}")
        elif span is None:
            reason = " (the policies run to the last quarter)" if window is not None and window.end is None else ""
            parts.append(f"{period}: {what}, not reached by these runs{reason}, so not estimated")
        else:
            first, last = map(int, span.split("-"))
            full = experiment.after_policy_quarters if period == "after_policy" else None
            cut = " (cut at the end of the runs)" if full is not None and last - first + 1 < full else ""
            parts.append(f"{period}: quarters {span}{cut}, {what}")
    return [("p", "Periods (effects are estimated separately in each): " + "; ".join(parts) + ".")]


def _persistence_blocks(experiment: Compare, effects: pd.DataFrame, report: Path) -> list[Block]:
    """Effect after the policy window against during it, written to persistence.csv."""
    table = persistence(effects, experiment)
    if table.empty:
        (report / "persistence.csv").unlink(missing_ok=True)  # a rebuilt report keeps no table of an earlier build
        return []
    atomic_write(report / "persistence.csv", lambda p: table.to_csv(p, index=False))
    shown = pd.DataFrame(
        {
            "scenario": table.scenario,
            "outcome": table.outcome,
            "during policy": table.effect_policy,
            "interval during": _intervals(table.ci_low_policy, table.ci_high_policy),
            "after policy": table.effect_after_policy,
            "interval after": _intervals(table.ci_low_after_policy, table.ci_high_after_policy),
            "after / during, %": table.persistence_pct,
            "persists": table.persists,
        }
    )
    return [
        ("h2", "Persistence: effects after the policy window"),
        (
            "p",
            f"The effect in the {experiment.after_policy_quarters} quarters after the policy window ends against the "
            "effect during it (persistence.csv). after / during is 100 x the ratio of the two effects (per quarter for "
            "cumulative outcomes); it is meaningful only where the effect during the window is significant. "
            "persists: the effect after the window is significant and has the sign of the effect during it.",
        ),
        ("table", shown),
    ]


def _intervals(low: pd.Series, high: pd.Series) -> list[str]:
    return [f"[{_fmt(a)}, {_fmt(b)}]" for a, b in zip(low, high, strict=True)]


def figure_groups(effects: pd.DataFrame, periods: list[str], path: Path) -> Path:
    """Heat maps of relative effects by size class and province: rows scenarios, one panel per outcome and period."""
    outcomes = list(dict.fromkeys(effects["outcome"]))
    scenarios = list(dict.fromkeys(effects["scenario"]))
    groups = list(dict.fromkeys(effects["group"]))
    fig, axes = plt.subplots(
        len(outcomes),
        len(periods),
        figsize=(0.55 * len(groups) * len(periods) + 3.5, (0.4 * len(scenarios) + 1.8) * len(outcomes)),
        squeeze=False,
        layout="constrained",
    )
    for i, outcome in enumerate(outcomes):
        for j, period in enumerate(periods):
            ax = axes[i, j]
            part = effects[(effects.outcome == outcome) & (effects.period == period)]
            values = part.pivot(index="scenario", columns="group", values="relative_effect_pct")
            values = values.reindex(index=scenarios, columns=groups)
            stars = part.pivot(index="scenario", columns="group", values="significant").reindex_like(values)
            stars = stars.astype("boolean").fillna(False).astype(bool)
            labels = values.map(lambda v: "" if np.isnan(v) else f"{v:+.0f}") + np.where(stars, "*", "")
            row = effects.loc[(effects.outcome == outcome) & effects.period.isin(periods), "relative_effect_pct"]
            # one scale per outcome, robust to a group with a tiny baseline (the cells show the values)
            bound = float(np.nanquantile(np.abs(row), 0.9)) if np.isfinite(row).any() else 1.0
            bound = bound if bound > 0 else 1.0
            sns.heatmap(
                values, annot=labels, fmt="", cmap="RdBu", center=0, vmin=-bound, vmax=bound, ax=ax,
                cbar_kws={"label": "%", "shrink": 0.8}, annot_kws={"fontsize": 7}, linewidths=0.5,
                yticklabels=j == 0,
            )  # fmt: skip
            ax.axvline(len(SIZE_CLASSES), color="black", linewidth=1.5)  # size classes | provinces
            ax.set_title(f"{outcome} ({period})")
            ax.set_xlabel("")
            ax.set_ylabel("")
    return save_figure(fig, path)


def _group_blocks(experiment: Compare, series: pd.DataFrame, report: Path, figures: Path) -> list[Block]:
    """Effects by size class and by province (effects_by_group.csv), as tables and one heat-map figure."""
    effects = group_effects(series, experiment)
    if effects.empty:
        (report / "effects_by_group.csv").unlink(missing_ok=True)
        return []
    atomic_write(report / "effects_by_group.csv", lambda p: effects.to_csv(p, index=False))
    periods = period_order(experiment)
    shown = [p for p in ("policy", "after_policy") if p in set(effects.period)] or periods[:1]
    blocks: list[Block] = [
        ("h2", "Effects by size class and province"),
        (
            "p",
            "Each cell is the effect on the outcome counted within one size class or province (e.g. exporters "
            "with 10-49 employees, jobs in Modena), in % of the baseline's mean for that group, paired and "
            "Bonferroni-adjusted over scenarios as in the main table (not over groups: with many groups a few cells "
            "are significant by chance); * marks an interval that excludes zero. A cell holds one value per period "
            "of the outcome, in the order of the table's title. Size classes by employees: micro < 10, small "
            "10-49, medium 50-249, large >= 250; a firm that grows across a bound moves its jobs to the next class. "
            "Effects, intervals and baseline means in effects_by_group.csv.",
        ),
    ]
    for outcome in dict.fromkeys(effects.outcome):
        for breakdown, title in (("size_class", "by size class"), ("province", "by province")):
            part = effects[(effects.outcome == outcome) & (effects.breakdown == breakdown)]
            if part.empty:
                continue
            cell = part.assign(
                text=[
                    f"{v:+.1f}{'*' if s else ''}" if np.isfinite(v) else ""
                    for v, s in zip(part.relative_effect_pct, part.significant, strict=True)
                ]
            )
            by_period = cell.pivot_table(
                index="scenario", columns=["group", "period"], values="text", aggfunc="first", sort=False
            )
            groups = list(dict.fromkeys(part.group))
            table = pd.DataFrame(
                {
                    group: [
                        " / ".join(
                            str(by_period.get((group, p), pd.Series(dtype=object)).get(scenario, "")) or "."
                            for p in periods
                            if (group, p) in by_period
                        )
                        for scenario in by_period.index
                    ]
                    for group in groups
                },
                index=by_period.index,
            ).reset_index()
            named = " / ".join(p for p in periods if p in set(part.period))
            blocks += [("h3", f"{outcome} {title}, % of the baseline ({named})"), ("table", table)]
    blocks.append(
        (
            "figure",
            (
                figure_groups(effects, shown, figures / "effects_by_group.png"),
                "Effects by size class (left of the line) and province, % of the baseline group mean; "
                "* the interval excludes zero",
            ),
        )
    )
    return blocks


def _additionality_blocks(experiment: Compare, series: pd.DataFrame, report: Path) -> list[Block]:
    """Additionality and deadweight of each instrument (additionality.csv), when the runs record them."""
    table = additionality(series, experiment.confidence)
    if table.empty:
        (report / "additionality.csv").unlink(missing_ok=True)
        return []
    atomic_write(report / "additionality.csv", lambda p: table.to_csv(p, index=False))
    level = int(round(experiment.confidence * 100))
    shown = pd.DataFrame(
        {
            "scenario": table.scenario,
            "instrument": table.instrument,
            "supported": table.supported,
            "additional": table.additional,
            "share additional": table.share_additional,
            "interval": _intervals(table.share_additional_ci_low, table.share_additional_ci_high),
            "deadweight, EUR k": table.deadweight_keur,
            "spending, EUR k": table.spending_keur,
            "EUR k per additional action": table.cost_per_additional_keur,
            "interval ": _intervals(table.cost_per_additional_keur_ci_low, table.cost_per_additional_keur_ci_high),
            "n": table.n,
        }
    )
    return [
        ("h2", "Additionality and deadweight"),
        (
            "p",
            "Per scenario and instrument: supported actions (entries, collaborations, trainings, loans, consortium "
            "memberships), those the firms would not have taken without the support (additional, computed inside "
            "the model), support given to actions that were not additional (deadweight), spending, and spending per "
            "additional action, summed over the run (support is granted only during the policy window); means over "
            f"replications with {level} % t intervals (additionality.csv). EUR thousand at the run's scale; for "
            "credit guarantees, spending is the provisions set aside, not the fund's losses.",
        ),
        ("table", shown),
    ]
