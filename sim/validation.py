"""Stylized facts measured on model output (docs/validation.md).

Each function takes the tidy tables a run writes (``model.parquet`` and
``firms.parquet`` as DataFrames) and measures one empirical regularity of
``stylized-facts.md`` after the burn-in, so that tests, the validation
report and users' own runs measure the patterns the same way.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from sim.config import load_scenario
from sim.run import simulate


def _alive(panel: pd.DataFrame, burn_in: int) -> pd.DataFrame:
    return panel[~panel["exited"] & (panel["step"] > burn_in)]


def size_distribution(panel: pd.DataFrame, top: float = 0.05) -> dict[str, float]:
    """Pattern 1: skewness of employees and Hill estimate of the tail index on the top share."""
    last = panel[(panel["step"] == panel["step"].max()) & ~panel["exited"]]
    sizes = np.sort(last["employees"].to_numpy())[::-1]
    k = max(int(top * sizes.size), 10)
    tail = sizes[: k + 1]
    hill = 1.0 / np.mean(np.log(tail[:-1] / tail[-1]))
    centred = sizes - sizes.mean()
    skew = float(np.mean(centred**3) / np.mean(centred**2) ** 1.5)
    return {"mean": float(sizes.mean()), "median": float(np.median(sizes)), "skewness": skew, "tail_index": float(hill)}


def growth_rates(panel: pd.DataFrame, burn_in: int) -> dict[str, float]:
    """Pattern 2 and 7: yearly log growth of employees between panel waves, for survivors."""
    alive = _alive(panel, burn_in)
    wide = alive.pivot(index="firm_id", columns="step", values="employees")
    steps = sorted(wide.columns)
    growth, size = [], []
    for a, b in zip(steps[:-1], steps[1:], strict=False):
        if b - a != 4:
            continue
        both = wide[[a, b]].dropna()
        growth.append(np.log(both[b] / both[a]).to_numpy())
        size.append(np.log(both[a]).to_numpy())
    g = np.concatenate(growth)
    s = np.concatenate(size)
    centred = g - g.mean()
    kurtosis = float(np.mean(centred**4) / np.mean(centred**2) ** 2 - 3.0)
    gibrat = float(np.polyfit(s, g, 1)[0])
    return {"sd": float(g.std()), "excess_kurtosis": kurtosis, "size_slope": gibrat}


def productivity_dispersion(model: pd.DataFrame, burn_in: int) -> dict[str, float]:
    """Pattern 6: 90/10 ratio of productivity across firms, averaged after the burn-in."""
    after = model[model["step"] > burn_in]
    return {"p90_p10": float(after["productivity_p90_p10"].mean())}


def persistence(panel: pd.DataFrame, burn_in: int) -> dict[str, float]:
    """Pattern 7: log size is persistent, growth is not (yearly waves, survivors)."""
    wide = np.log(_alive(panel, burn_in).pivot(index="firm_id", columns="step", values="employees"))
    steps = [s for s in sorted(wide.columns) if (s - min(wide.columns)) % 4 == 0]
    size_pairs, growth_pairs = [], []
    for a, b, c in zip(steps[:-2], steps[1:-1], steps[2:], strict=False):
        both = wide[[a, b, c]].dropna().to_numpy()
        size_pairs.append(both[:, :2])
        growth_pairs.append(np.diff(both, axis=1))
    sizes = np.concatenate(size_pairs)
    growth = np.concatenate(growth_pairs)
    return {
        "size_autocorrelation": float(np.corrcoef(sizes.T)[0, 1]),
        "growth_autocorrelation": float(np.corrcoef(growth.T)[0, 1]),
    }


def exporter_premia(panel: pd.DataFrame, burn_in: int) -> dict[str, float]:
    """Pattern 3: exporter share and exporters' size and productivity premia (log points)."""
    alive = _alive(panel, burn_in)
    exporter = alive["n_markets"] > 1
    log_size = np.log(alive["employees"])
    log_prod = np.log(alive["productivity"])
    return {
        "exporter_share": float(exporter.mean()),
        "size_premium": float(log_size[exporter].mean() - log_size[~exporter].mean()),
        "productivity_premium": float(log_prod[exporter].mean() - log_prod[~exporter].mean()),
    }


def export_persistence(panel: pd.DataFrame, burn_in: int) -> dict[str, float]:
    """Pattern 4: P(export this year | exported last year) and | did not."""
    alive = _alive(panel, burn_in).assign(exporter=lambda d: d["n_markets"] > 1)
    wide = alive.pivot(index="firm_id", columns="step", values="exporter")
    steps = sorted(wide.columns)
    pairs = [
        wide[[a, b]].dropna().to_numpy(dtype=bool) for a, b in zip(steps[:-1], steps[1:], strict=False) if b - a == 4
    ]
    both = np.concatenate(pairs)
    stay = float(both[both[:, 0], 1].mean())
    start = float(both[~both[:, 0], 1].mean())
    return {"p_export_given_export": stay, "p_export_given_not": start, "persistence_gap": stay - start}


def demography(model: pd.DataFrame, panel: pd.DataFrame, burn_in: int) -> dict[str, float]:
    """Pattern 5: yearly entry and exit rates, and entrants gone within two years."""
    after = model[model["step"] > burn_in]
    years = len(after) / 4.0
    firms = after["n_firms"].mean()
    born = panel.loc[panel["entered_step"] > burn_in].groupby("firm_id")["entered_step"].first()
    last_step = int(panel["step"].max())
    cohort = born[born <= last_step - 8]
    exit_step = panel.loc[panel["exited"]].set_index("firm_id")["step"]
    gone = (exit_step.reindex(cohort.index) - cohort) <= 8
    return {
        "entry_rate": float(after["n_entries"].sum() / firms / years),
        "exit_rate": float(after["n_exits"].sum() / firms / years),
        "entrants_gone_2y": float(gone.mean()) if len(cohort) else float("nan"),
    }


def stability(model: pd.DataFrame, burn_in: int) -> dict[str, float]:
    """No explosion or collapse: ratios of final to post-burn-in aggregates."""
    start = model[model["step"] == burn_in + 1].iloc[0]
    end = model.iloc[-1]
    return {name: float(end[name] / start[name]) for name in ("n_firms", "employment", "sales")} | {
        "export_share": float(end["export_share"])
    }


def measure(model: pd.DataFrame, panel: pd.DataFrame, burn_in: int) -> dict[str, dict[str, float]]:
    """Every pattern, keyed by name."""
    return {
        "size_distribution": size_distribution(panel),
        "growth_rates": growth_rates(panel, burn_in),
        "productivity": productivity_dispersion(model, burn_in),
        "persistence": persistence(panel, burn_in),
        "exporters": exporter_premia(panel, burn_in),
        "export_persistence": export_persistence(panel, burn_in),
        "demography": demography(model, panel, burn_in),
        "stability": stability(model, burn_in),
    }


#: Observed ranges from stylized-facts.md and emilia-romagna.md, for the report.
TARGETS: dict[tuple[str, str], tuple[str, str]] = {
    ("size_distribution", "tail_index"): (
        "Zipf ~1; Italian GPD shape 0.5-1 (index 1-2)",
        "Axtell 2001; Cirillo et al. 2011",
    ),
    ("size_distribution", "mean"): ("~9 employees per firm", "Unioncamere ER (300,000 / 35,000)"),
    ("growth_rates", "excess_kurtosis"): ("well above 0 (Laplace: 3)", "Bottazzi & Secchi 2002"),
    ("growth_rates", "size_slope"): ("~0 (Gibrat)", "Bottazzi & Secchi"),
    ("productivity", "p90_p10"): ("2-4 within an industry", "Syverson 2004, 2011"),
    ("persistence", "size_autocorrelation"): ("close to 1", "Bottazzi & Secchi"),
    ("persistence", "growth_autocorrelation"): ("close to 0 (weak)", "Bottazzi & Secchi"),
    ("exporters", "exporter_share"): ("a fifth to a quarter of manufacturing firms", "reference sheet"),
    ("exporters", "size_premium"): ("> 0: exporters larger", "Bernard & Jensen 1999; ISGEP 2008"),
    ("exporters", "productivity_premium"): ("> 0: exporters more productive", "Mayer & Ottaviano 2007"),
    ("export_persistence", "persistence_gap"): ("~0.7", "Bugamelli & Infante 2003"),
    ("demography", "entry_rate"): ("0.05-0.12 a year", "Bartelsman, Scarpetta & Schivardi 2005"),
    ("demography", "exit_rate"): ("0.05-0.12 a year", "Bartelsman, Scarpetta & Schivardi 2005"),
    ("demography", "entrants_gone_2y"): ("0.20-0.40", "Bartelsman, Scarpetta & Schivardi 2005"),
    ("stability", "export_share"): ("~0.44 for exporting SMEs; 0.8-0.9 packaging", "reference sheet"),
}


def report(seeds: list[int], scenario: str = "baseline", steps: int | None = None) -> str:
    """Run the scenario for each seed and return a Markdown table of every measure."""
    params = load_scenario(scenario)
    rows: dict[tuple[str, str], list[float]] = {}
    for seed in seeds:
        model = simulate(params, seed=seed, steps=steps, progress=False)
        measures = measure(model.observer.model_frame(model), model.observer.panel_frame(), params.burn_in)
        for group, values in measures.items():
            for name, value in values.items():
                rows.setdefault((group, name), []).append(value)
    lines = [
        f"Scenario `{scenario}`, {params.n_firms} firms, {steps or params.steps} quarters, burn-in {params.burn_in}, "
        f"seeds {', '.join(map(str, seeds))}.",
        "",
        "| pattern | measure | model (mean over seeds) | min - max | observed | source |",
        "|---|---|---|---|---|---|",
    ]
    for (group, name), values in rows.items():
        observed, source = TARGETS.get((group, name), ("", ""))
        lines.append(
            f"| {group} | {name} | {np.mean(values):.3f} | {min(values):.3f} - {max(values):.3f} | {observed} | "
            f"{source} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    parser = argparse.ArgumentParser(description="Measure the stylized facts on baseline runs (prints Markdown).")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--scenario", default="baseline")
    parser.add_argument("--steps", type=int, default=None)
    args = parser.parse_args()
    print(report(args.seeds, args.scenario, args.steps))
