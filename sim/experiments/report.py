"""The experiment report: tidy tables, seaborn figures, report.md and a self-contained report.html.

Everything the report shows is also written as a table (``summary.parquet``,
``effects.csv``, ``response.csv``, ``indices.csv``) for users who do their
own analysis. ``build_report`` reads only what the runner stored, so a report
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
from sim.experiments.analysis import paired_effects, sensitivity_indices, summarise_runs, sweep_response  # noqa: E402
from sim.experiments.definitions import Compare, Robustness, Sweep, parse_experiment  # noqa: E402
from sim.experiments.designs import RunSpec  # noqa: E402
from sim.experiments.robustness import robustness_blocks  # noqa: E402
from sim.experiments.runner import load_runs  # noqa: E402
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


def save_figure(fig: plt.Figure, path: Path) -> Path:
    """Save a figure as PNG (making its folder) and close it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def figure_time_series(series: pd.DataFrame, experiment, hue: str, path: Path) -> Path:
    """Each outcome's column over time, mean and 95 % band across replications, one line per scenario."""
    columns = list(dict.fromkeys(o.column for o in experiment.outcomes.values()))
    data = series.assign(time=series["year"] + (series["quarter"] - 1) / 4)
    fig, axes = plt.subplots(len(columns), 1, figsize=(9, 2.8 * len(columns)), squeeze=False, sharex=True)
    for ax, column in zip(axes[:, 0], columns, strict=True):
        sns.lineplot(data=data, x="time", y=column, hue=hue, errorbar=("se", 1.96), ax=ax, legend=ax is axes[0, 0])
        ax.set_ylabel(column)
    if axes[0, 0].get_legend() is not None:
        sns.move_legend(axes[0, 0], "upper left", bbox_to_anchor=(1.01, 1), title=None, frameon=False)
    axes[-1, 0].set_xlabel("year")
    return save_figure(fig, path)


def figure_effects(effects: pd.DataFrame, value: str, low: str, high: str, xlabel: str, path: Path) -> Path:
    """Point estimates with interval bars, one panel per outcome."""
    outcomes = list(dict.fromkeys(effects["outcome"]))
    fig, axes = plt.subplots(
        1,
        len(outcomes),
        figsize=(3.6 * len(outcomes) + 1.5, 0.45 * effects["scenario"].nunique() + 1.6),
        squeeze=False,
        sharey=True,
    )
    for ax, outcome in zip(axes[0], outcomes, strict=True):
        part = effects[effects.outcome == outcome]
        y = np.arange(len(part))
        err = np.nan_to_num(np.vstack([part[value] - part[low], part[high] - part[value]]))
        significant = part["significant"].to_numpy(dtype=bool)
        for mask, color in ((significant, "tab:blue"), (~significant, "tab:gray")):
            if mask.any():
                ax.errorbar(part[value].to_numpy()[mask], y[mask], xerr=err[:, mask], fmt="o", color=color, capsize=3)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_yticks(y, part["scenario"])
        ax.set_title(outcome)
        ax.set_xlabel(xlabel)
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
    effects = paired_effects(summary, experiment)
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
            "(grants plus guarantee-fund losses, EUR million at the run's scale: budgets are scaled by firms / "
            "35,000); effect per EUR million divides "
            "the effect (and its interval) by it. sd_paired against sd_unpaired shows how much common random numbers "
            "narrow the intervals.",
        ),
        ("h2", "Effects against the baseline"),
    ]
    outcome_text = "; ".join(
        f"{name}: {o.summary} of {o.column}"
        + (f" over the last {o.quarters} quarters" if o.summary != "final" and o.quarters else "")
        for name, o in experiment.outcomes.items()
    )
    blocks.append(("p", f"Outcomes: {outcome_text}."))
    for outcome in experiment.outcomes:
        part = effects[effects.outcome == outcome]
        if part.empty:
            continue
        table = part.assign(
            interval=[f"[{_fmt(a)}, {_fmt(b)}]" for a, b in zip(part.ci_low, part.ci_high, strict=True)]
        )
        columns = [
            "scenario",
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
        table = table[columns]
        blocks += [("h3", outcome), ("table", table.sort_values("rank_effect"))]
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
                f"Effects in % of the baseline mean, with {level} % Bonferroni intervals (blue: significant)",
            ),
        )
    )
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
                "Mean over replications with 95 % band (mean ± 1.96 s.e.)",
            ),
        ),
    ]
    return blocks
