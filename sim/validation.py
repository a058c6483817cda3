"""The baseline's calibration moments and stylized facts as Markdown tables (docs/validation.md).

The measures are those of sim/experiments/moments.py, run on several seeds
of a scenario: ``python -m sim.validation --seeds 101 102 103 104 105``
prints both tables. Seeds other than the calibration's show how well the
calibrated moments hold out of sample.
"""

from __future__ import annotations

import argparse

import numpy as np

from sim.config import load_scenario
from sim.experiments.calibration import CALIBRATION_DIR, load_targets
from sim.experiments.moments import measure, stylized_facts
from sim.run import simulate

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
    ("persistence", "top_quintile_stay_5y"): ("persistent but far from 1 (0.82 before issue 12)", "no target sheet"),
    ("exporters", "exporter_share"): ("a fifth to a quarter of manufacturing firms", "reference sheet"),
    ("exporters", "size_premium"): ("> 0: exporters larger", "Bernard & Jensen 1999; ISGEP 2008"),
    ("exporters", "productivity_premium"): ("> 0: exporters more productive", "Mayer & Ottaviano 2007"),
    ("export_persistence", "persistence_gap"): ("~0.7", "Bugamelli & Infante 2003"),
    ("demography", "entry_rate"): ("0.05-0.12 a year", "Bartelsman, Scarpetta & Schivardi 2005"),
    ("demography", "exit_rate"): ("0.05-0.12 a year", "Bartelsman, Scarpetta & Schivardi 2005"),
    ("demography", "entrants_gone_2y"): ("0.20-0.40", "Bartelsman, Scarpetta & Schivardi 2005"),
    ("stability", "export_share"): ("~0.44 for exporting SMEs; 0.8-0.9 packaging", "reference sheet"),
}


def _runs(seeds: list[int], scenario: str, steps: int | None):
    params = load_scenario(scenario)
    for seed in seeds:
        model = simulate(params, seed=seed, steps=steps, progress=False)
        yield params, model.observer.model_frame(model), model.observer.panel_frame()


def report(seeds: list[int], scenario: str = "baseline", steps: int | None = None) -> str:
    """Run the scenario for each seed; a Markdown table of the calibration moments, then one of the stylized facts."""
    targets = load_targets(CALIBRATION_DIR / "targets" / "emilia_romagna.toml").moments
    moments: dict[str, list[float]] = {}
    rows: dict[tuple[str, str], list[float]] = {}
    for params, model, panel in _runs(seeds, scenario, steps):
        for name, value in measure(model, panel, params.burn_in).items():
            moments.setdefault(name, []).append(value)
        for group, values in stylized_facts(model, panel, params.burn_in).items():
            for name, value in values.items():
                rows.setdefault((group, name), []).append(value)
    lines = [
        f"Scenario `{scenario}`, {params.n_firms} firms, {steps or params.steps} quarters, burn-in {params.burn_in}, "
        f"seeds {', '.join(map(str, seeds))}.",
        "",
        "| moment | target | band | model (mean over seeds) | s.d. over seeds | within |",
        "|---|---|---|---|---|---|",
    ]
    for name, t in targets.items():
        value, spread = float(np.mean(moments[name])), float(np.std(moments[name], ddof=1))
        within = "yes" if t.within(value) else "**no**"
        lines.append(
            f"| {name} | {t.target:.3g} | {t.low:.3g} - {t.high:.3g} | {value:.3f} | {spread:.3f} | {within} |"
        )
    lines += [
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
    parser = argparse.ArgumentParser(description="Measure the moments and stylized facts on baseline runs (Markdown).")
    parser.add_argument("--seeds", type=int, nargs="+", default=[101, 102, 103, 104, 105])
    parser.add_argument("--scenario", default="baseline")
    parser.add_argument("--steps", type=int, default=None)
    args = parser.parse_args()
    print(report(args.seeds, args.scenario, args.steps))
