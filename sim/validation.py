"""The baseline's calibration moments and stylized facts as Markdown tables (docs/validation.md).

The measures are those of sim/experiments/moments.py, run on several seeds
of a scenario: ``python -m sim.validation --seeds 101 102 103 104 105``
prints both tables. Seeds other than the calibration's show how well the
calibrated moments hold out of sample. ``--district`` prints instead the
figures of one run that docs/validation.md quotes about the district (its
path, supply and collaboration networks, exporting by size, exits by cause).
"""

from __future__ import annotations

import argparse

import numpy as np

from sim.config import load_scenario
from sim.config.scenarios import with_values
from sim.experiments.calibration import CALIBRATION_DIR, load_targets
from sim.experiments.moments import (
    RunTables,
    exporter_share_by_size,
    measure,
    p_export_start,
    p_export_stay,
    stylized_facts,
)
from sim.model import graph
from sim.model.firms import EXIT_CAUSES
from sim.model.links import supply_rows
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


def district(seed: int, scenario: str = "baseline", steps: int | None = None, firms: int | None = None) -> str:
    """One run's district as a Markdown table: path, networks at the last step, exporting by size, exits by cause."""
    params = load_scenario(scenario)
    if firms is not None:
        params = with_values(params, {"n_firms": firms})
    model = simulate(params, seed=seed, steps=steps, progress=False)
    frame, panel, f = model.observer.model_frame(model), model.observer.panel_frame(), model.firms
    after = frame.iloc[params.burn_in :]
    tables = RunTables(frame, panel, params.burn_in)
    clients, suppliers = supply_rows(model)
    per_client = np.bincount(clients, minlength=f.n)
    network = graph.metrics(model)
    same_province = (f.province[clients] == f.province[suppliers]).mean()
    same_niche = (f.niche[clients] == f.niche[suppliers]).mean()
    exits = {cause: int(after[f"n_exits_{cause}"].sum()) for cause in EXIT_CAUSES}
    path = [(s, frame.iloc[s - 1]) for s in sorted({1, min(params.burn_in, len(frame)), len(frame)})]
    rows = [(f"step {s}: firms, employment, exporter share", f"{r.n_firms:,.0f}, {r.employment:,.0f}, "
             f"{r.exporter_share:.3f}") for s, r in path]  # fmt: skip
    rows += [
        ("firms that subcontract (clients) / that supply a client",
         f"{np.unique(clients).size / f.n:.1%} / {np.unique(suppliers).size / f.n:.1%}"),
        ("suppliers per client, mean (max)",
         f"{per_client[per_client > 0].mean() if clients.size else 0:.1f} ({per_client.max() if f.n else 0})"),
        ("supply links within the province / within the niche", f"{same_province:.0%} / {same_niche:.0%}"),
        ("sales between the region's firms over sales to final buyers, last year",
         f"{frame.b2b_sales.iloc[-4:].sum() / frame.sales.iloc[-4:].sum():.1%}"),
        ("network (collaborations and supply): clustering, density; giant component",
         f"{network['network_clustering']:.3f}, {network['network_density']:.1e}; "
         f"{network['giant_component_share']:.0%}"),
        ("mean know-how relevant to the niche: first step, burn-in, last step",
         ", ".join(f"{frame.mean_know_how.iloc[s - 1]:.2f}" for s, _ in path)),
        ("niche moves a year after the burn-in", f"{after.niche_switches.sum() / max(len(after) / 4, 1):.1f}"),
        ("network contracts active at the end", f"{frame.n_consortia.iloc[-1]:.0f}"),
        ("value added per worker, last year (EUR thousand a quarter)", f"{frame.va_per_worker.iloc[-4:].mean():.1f}"),
        ("trial / indirect exporters, mean after the burn-in",
         f"{after.n_trial_exporters.mean():.0f} / {after.n_indirect_exporters.mean():.0f}"),
        ("P(exporter given exporter a year before), P(exporter given not)",
         f"{p_export_stay(tables):.3f}, {p_export_start(tables):.3f}"),
        ("share of firms exporting by size class (0-9, 10-49, 50-249, 250+)",
         ", ".join(f"{v:.2f}" for v in exporter_share_by_size(tables).values())),
        ("exits after the burn-in: " + ", ".join(EXIT_CAUSES),
         ", ".join(f"{n} ({n / max(sum(exits.values()), 1):.0%})" for n in exits.values())),
    ]  # fmt: skip
    lines = [f"Scenario `{scenario}`, {params.n_firms} firms, {len(frame)} quarters, seed {seed}.", "",
             "| what | value |", "|---|---|"]  # fmt: skip
    return "\n".join(lines + [f"| {what} | {value} |" for what, value in rows])


if __name__ == "__main__":  # pragma: no cover
    parser = argparse.ArgumentParser(description="Measure the moments and stylized facts on baseline runs (Markdown).")
    parser.add_argument("--seeds", type=int, nargs="+", default=[101, 102, 103, 104, 105])
    parser.add_argument("--scenario", default="baseline")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--firms", type=int, default=None, help="number of firms (with --district)")
    parser.add_argument("--district", action="store_true", help="the district figures of one run (the first seed)")
    args = parser.parse_args()
    if args.district:
        print(district(args.seeds[0], args.scenario, args.steps, args.firms))
    else:
        print(report(args.seeds, args.scenario, args.steps))
