"""The calibration report: which moments match, which bind, how the search went, how well each parameter is identified.

Built from what a calibration folder holds (manifest.json, evaluations.parquet,
moments.csv), so ``distretto report CALIBRATION_DIR`` rebuilds it at any time
without running anything.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.config import ScenarioError
from sim.experiments.figures import save_figure
from sim.experiments.report import Block, render

#: Distances from the target are drawn up to this many band half-widths (a bar beyond is clipped and marked).
Z_LIMIT = 4.0


def read_folder(out: Path) -> tuple[dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """A calibration folder's manifest, evaluations and moment table; a one-line error if it is not one."""
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("kind") != "calibration":
            raise ValueError("its manifest is not a calibration's")
        evaluations = pd.read_parquet(out / "evaluations.parquet")
        moments = pd.read_csv(out / "moments.csv")
    except (OSError, ValueError, KeyError) as exc:
        raise ScenarioError(f"{out}: not a finished calibration folder ({exc})") from None
    return manifest, evaluations, moments


def is_calibration_folder(out: Path) -> bool:
    try:
        return json.loads((Path(out) / "manifest.json").read_text(encoding="utf-8")).get("kind") == "calibration"
    except (OSError, ValueError):
        return False


def figure_moments(moments: pd.DataFrame, path: Path) -> Path:
    """Each moment's distance from its target in band half-widths (the band is -1 to 1), with its spread over seeds."""
    data = moments[moments["model"].notna()].iloc[::-1]
    z = data["z"].to_numpy(dtype=float)
    half = np.where(z >= 0, data["high"] - data["target"], data["target"] - data["low"]).astype(float)
    sd = np.where(np.isfinite(half) & (half > 0), data["model_sd"] / half, 0.0)
    y = np.arange(len(data))
    fig = Figure(figsize=(7.5, 0.32 * len(data) + 1.2))
    ax = fig.subplots()
    ax.axvspan(-1, 1, color="tab:green", alpha=0.12, label="band")
    ax.axvline(0, color="tab:green", linewidth=1)
    within = data["within"].to_numpy(dtype=bool)
    shown = np.clip(z, -Z_LIMIT, Z_LIMIT)
    for mask, color, label in ((within, "tab:blue", "within band"), (~within, "tab:red", "missed")):
        if mask.any():
            ax.errorbar(shown[mask], y[mask], xerr=sd[mask], fmt="o", color=color, capsize=3, label=label)
    for k in np.flatnonzero(np.abs(z) > Z_LIMIT):
        ax.annotate(f"{z[k]:+.1f}", (shown[k], y[k]), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set_yticks(y, data["moment"])
    ax.set_xlim(-Z_LIMIT - 0.5, Z_LIMIT + 0.5)
    ax.set_xlabel("model minus target, in half-widths of the band (error bars: s.d. over seeds)")
    ax.legend(loc="lower right", fontsize=8)
    return save_figure(fig, path)


def figure_trace(evaluations: pd.DataFrame, path: Path) -> Path:
    """The loss of every point of the search, in the order evaluated, and the best so far."""
    search = evaluations[evaluations["stage"] != "profile"]
    loss = search["loss"].to_numpy(dtype=float)
    runs = np.cumsum(search["runs"].to_numpy())
    fig = Figure(figsize=(7.5, 3.4))
    ax = fig.subplots()
    for stage, color in (("space-filling", "tab:gray"), ("cmaes", "tab:blue")):
        mask = (search["stage"] == stage).to_numpy()
        if mask.any():
            ax.scatter(runs[mask], loss[mask], s=10, color=color, label=stage, alpha=0.7)
    finite = np.where(np.isfinite(loss), loss, np.inf)
    ax.plot(runs, np.minimum.accumulate(finite), color="black", linewidth=1.2, label="best so far")
    ax.set_yscale("log")
    ax.set_xlabel("model runs")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def figure_profiles(evaluations: pd.DataFrame, names: list[str], best: dict[str, float], path: Path) -> Path | None:
    """The loss along each parameter's range with the others at the optimum: a sharp valley is a well-identified one."""
    profile = evaluations[evaluations["stage"] == "profile"]
    if profile.empty:
        return None
    cols = min(3, len(names))
    rows = int(np.ceil(len(names) / cols))
    fig = Figure(figsize=(3.6 * cols, 2.6 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    per = len(profile) // len(names)
    for j, name in enumerate(names):
        ax = axes[j // cols, j % cols]
        part = profile.iloc[j * per : (j + 1) * per]
        order = np.argsort(np.r_[part[name].to_numpy(), best[name]], kind="stable")
        x = np.r_[part[name].to_numpy(), best[name]][order]
        y = np.r_[part["loss"].to_numpy(), best["loss"]][order]
        ax.plot(x, y, marker="o", color="tab:blue", markersize=4)
        ax.plot([best[name]], [best["loss"]], marker="o", color="tab:red")
        ax.set_title(name, fontsize=9)
        ax.set_ylabel("loss", fontsize=8)
    for k in range(len(names), rows * cols):
        axes[k // cols, k % cols].axis("off")
    fig.tight_layout()
    return save_figure(fig, path)


def build_calibration_report(out: Path) -> Path:
    """(Re)build report/report.md and report.html of the calibration stored in ``out``; returns the html path."""
    out = Path(out)
    manifest, evaluations, moments = read_folder(out)
    spec = manifest["calibration"]
    names = list(spec["parameters"])
    best = manifest["best"]
    report = out / "report"
    figures = report / "figures"
    measured = moments[moments["model"].notna()]
    within = int(measured["within"].sum())
    search = evaluations[evaluations["stage"] != "profile"]
    blocks: list[Block] = [
        (
            "p",
            f"Calibration {spec['name']!r} of scenario {spec['scenario']!r}: {len(names)} free parameters, "
            f"{len(measured)} target moments ({within} within their band at the best point), "
            f"{spec['replications']} seeds shared by every point (common random numbers: seeds {manifest['seeds']}). "
            f"Search: {spec['search']['method']}, {int(search['runs'].sum())} model runs over {len(search)} points; "
            f"best loss {best['loss']:.4g} at point {best['point']}. Commit {manifest.get('commit')}, "
            f"distretto {manifest['versions'].get('distretto')}, mesa {manifest['versions'].get('mesa')}.",
        ),
        ("h2", "Moments at the best point"),
        (
            "p",
            "Loss = sum of w z^2, z = (model - target) / half-width of the band on the side of the miss; "
            "|z| <= 1 is within the band. A moment reported as missed is missed: bands are those of the target file.",
        ),
        (
            "table",
            moments[["moment", "target", "low", "high", "model", "model_sd", "within", "z", "loss_term", "source"]],
        ),
        ("figure", (figure_moments(moments, figures / "moments.png"), "Simulated moments against their target bands")),
    ]
    skipped = moments[moments["model"].isna()]
    if not skipped.empty:
        blocks.append(
            (
                "p",
                "Not measured: "
                + "; ".join(f"{m} ({w})" for m, w in zip(skipped.moment, skipped.measure, strict=True)),
            )
        )
    binding = measured.sort_values("loss_term", ascending=False).head(5)
    blocks += [
        ("h2", "Which moments bind"),
        (
            "p",
            "The largest loss terms at the best point: "
            + ", ".join(f"{m} ({v:.3g})" for m, v in zip(binding.moment, binding.loss_term, strict=True))
            + ".",
        ),
        ("h2", "Fitted parameters"),
        (
            "table",
            pd.DataFrame(
                {
                    "parameter": names,
                    "low": [spec["parameters"][n]["low"] for n in names],
                    "high": [spec["parameters"][n]["high"] for n in names],
                    "start": [_start(manifest, n) for n in names],
                    "best": [best[n] for n in names],
                    "at_bound": [_at_bound(spec["parameters"][n], best[n]) for n in names],
                }
            ),
        ),
        (
            "p",
            "A parameter that ends at a bound (within 2 % of its range) is where the loss wanted to go further: "
            "a sign that the bound, or a mechanism, constrains the fit.",
        ),
        ("h2", "Search"),
        ("figure", (figure_trace(evaluations, figures / "loss_trace.png"), "Loss of every point, and the best so far")),
    ]
    path = figure_profiles(evaluations, names, best, figures / "profiles.png")
    if path is not None:
        blocks += [
            ("h2", "Identification"),
            (
                "p",
                "Loss along each parameter's range, the others at the optimum (red line): a flat profile means the "
                "moments say little about that parameter.",
            ),
            ("figure", (path, "One-dimensional loss profiles around the optimum")),
        ]
    recovery = out / "recovery.csv"
    if recovery.exists():
        table = pd.read_csv(recovery)
        blocks += [
            ("h2", "Recovery check"),
            (
                "p",
                "The targets are the model's own moments at a known parameter point (other seeds than the "
                "calibration's); the calibration started from scratch. Error as a share of each range:",
            ),
            ("table", table),
        ]
    render(blocks, report, f"Calibration: {spec['name']}")
    return report / "report.html"


#: A fitted value this close to a bound (share of the range) is reported as at the bound.
AT_BOUND = 0.02


def _at_bound(bounds: dict[str, float], value: float) -> str:
    span = bounds["high"] - bounds["low"]
    if value - bounds["low"] <= AT_BOUND * span:
        return "low"
    if bounds["high"] - value <= AT_BOUND * span:
        return "high"
    return ""


def _start(manifest: dict[str, Any], dotted: str) -> float | None:
    node: Any = manifest.get("scenario_parameters", {})
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node
