"""The baseline's calibration moments and stylized facts as Markdown tables (docs/validation.md).

The measures are those of sim/experiments/moments.py, run on several seeds
of a scenario: ``python -m sim.validation --seeds 101 102 103 104 105``
prints both tables. Seeds other than the calibration's show how well the
calibrated moments hold out of sample. ``--district`` prints instead the
figures of one run that docs/validation.md quotes about the district (its
path, supply and collaboration networks, exporting by size, exits by cause).
``--evidence`` prints the two evidence checks of docs/validation.md: the
effect of the voucher and of the guarantee on the firms they supported
(Bronzini & Iachini 2014; de Blasio et al. 2018).
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy import stats

from sim.config import load_scenario
from sim.config.scenarios import with_values
from sim.experiments.calibration import CALIBRATION_DIR, load_targets
from sim.experiments.moments import (
    RunTables,
    affiliate_owner_share_by_size,
    exporter_share_by_size,
    measure,
    p_export_start,
    p_export_stay,
    stylized_facts,
)
from sim.model import graph
from sim.model.district import DistrictModel
from sim.model.firms import EXIT_CAUSES
from sim.model.links import supply_rows
from sim.model.world import FOREIGN_MARKETS
from sim.run import simulate
from sim.submodels import guarantees
from sim.submodels.policy import INSTRUMENT_TYPES

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
        ("share of firms owning an affiliate abroad by size class (0-9, 10-49, 50-249, 250+)",
         ", ".join(f"{v:.3f}" for v in affiliate_owner_share_by_size(tables).values())),
        ("affiliate sales / exports after the burn-in: " + ", ".join(FOREIGN_MARKETS),
         ", ".join(f"{after[f'affiliate_sales_{m}'].sum() / max(after[f'exports_{m}'].sum(), 1e-9):.2f}"
                   for m in FOREIGN_MARKETS)),
        ("jobs in assembly plants abroad / regional employment, last year",
         f"{frame.affiliate_jobs_abroad.iloc[-4:].mean() / frame.employment.iloc[-4:].mean():.1%}"),
        ("foreign-owned firms at the end; acquisitions a year per 1,000 firms after the burn-in",
         f"{frame.n_foreign_owned.iloc[-1]:.0f}; "
         f"{after.n_acquired.sum() / max(len(after) / 4, 1) / after.n_firms.mean() * 1000:.1f}"),
        ("imported share of inputs, mean after the burn-in",
         f"{after.imported_input_share.mean():.1%}"),
        ("exits after the burn-in: " + ", ".join(EXIT_CAUSES),
         ", ".join(f"{n} ({n / max(sum(exits.values()), 1):.0%})" for n in exits.values())),
    ]  # fmt: skip
    lines = [f"Scenario `{scenario}`, {params.n_firms} firms, {len(frame)} quarters, seed {seed}.", "",
             "| what | value |", "|---|---|"]  # fmt: skip
    return "\n".join(lines + [f"| {what} | {value} |" for what, value in rows])


#: The evidence checks: instrument scenario, support column, first and last quarter of its window.
EVIDENCE = {
    "university_vouchers": (
        "university_vouchers",
        "Bronzini & Iachini 2014: investment n.s. on average, + for small firms",
    ),
    "credit_guarantees": (
        "credit_guarantee",
        "de Blasio et al. 2018: more credit, investment n.s., more later defaults",
    ),
}


def snapshot(model) -> dict[str, np.ndarray]:
    """Per firm (by id): employees, capital and debt now, and the support received so far by instrument type."""
    f, p = model.firms, model.params
    return {
        "firm_id": f.firm_id.copy(),
        "employees": f.employees.copy(),
        "capital": p.capital_per_worker * f.employees,
        "debt": f.debt.copy(),
        "support": f.support.copy(),
    }


def collaborations_started(model) -> np.ndarray:
    """Ids of the firms whose university collaboration started in the step just run (``universities.collaborate``)."""
    f = model.firms
    return f.firm_id[f.collab_until == model.steps + model.params.collaboration_quarters - 1]


def treated_effects(scenario: str, seed: int, firms: int, start: int, end: int, horizon: int) -> dict[str, np.ndarray]:
    """Firms alive when the policy starts, followed in the scenario and in its twin without policies (same seed).

    Returns, for the firms supported by the scenario's instrument (``support`` > 0 at ``end`` or at
    exit), the differences scenario - twin of investment (capital bought from ``start`` to ``end``),
    intangible investment (fees of the university collaborations started from ``start`` to ``end``,
    voucher included: what a balance sheet books as an intangible asset), their sum, debt at ``end``
    (these for firms alive then in both worlds), and insolvency by ``horizon``, and whether each firm
    was small (< 50 employees) at the start.
    """
    column = INSTRUMENT_TYPES.index(EVIDENCE[scenario][0])
    worlds = {}
    for name in (scenario, "baseline"):
        params = load_scenario(name, n_firms=firms, steps=horizon)
        model = simulate(params, seed=seed, steps=start - 1, progress=False)
        at_start = snapshot(model)
        fees: dict[int, float] = {}
        for _ in range(end - start + 1):
            model.step()
            for firm_id in collaborations_started(model).tolist():
                fees[firm_id] = fees.get(firm_id, 0.0) + params.collaboration_fee
        at_end = snapshot(model)
        at_end["intangible"] = np.array([fees.get(i, 0.0) for i in at_end["firm_id"].tolist()])
        for _ in range(horizon - end):
            model.step()
        panel = model.observer.panel_frame()
        exited = panel[panel["exited"]]
        insolvent = set(exited.loc[exited["exit_cause"].astype(str) == "insolvency", "firm_id"].tolist())
        supported = set(at_end["firm_id"][at_end["support"][:, column] > 0].tolist())
        supported |= set(exited.loc[exited[f"support_{INSTRUMENT_TYPES[column]}"] > 0, "firm_id"].tolist())
        worlds[name] = (at_start, at_end, insolvent, supported)
    start_tab, end_tab, insolvent, supported = worlds[scenario]
    twin_end, twin_insolvent = worlds["baseline"][1], worlds["baseline"][2]
    ids = np.array(sorted(supported & set(start_tab["firm_id"].tolist())), dtype=np.int64)
    small = np.isin(ids, start_tab["firm_id"][start_tab["employees"] < 50])

    def at(table, key):
        index = {i: k for k, i in enumerate(table["firm_id"].tolist())}
        return np.array([table[key][index[i]] if i in index else np.nan for i in ids.tolist()])

    capital0 = at(start_tab, "capital")
    tangible = (at(end_tab, "capital") - capital0) - (at(twin_end, "capital") - capital0)
    intangible = at(end_tab, "intangible") - at(twin_end, "intangible")
    return {
        "small": small,
        "investment": tangible,
        "intangible": intangible,
        "total_investment": tangible + intangible,
        "debt": at(end_tab, "debt") - at(twin_end, "debt"),
        "default": np.isin(ids, list(insolvent)).astype(float) - np.isin(ids, list(twin_insolvent)).astype(float),
    }


def evidence(seeds: list[int], firms: int = 3000, start: int = 21, end: int = 44, horizon: int = 60) -> str:
    """The evidence checks as a Markdown table: effects on the supported firms, mean over seeds, 95 % t intervals."""
    lines = [
        f"Supported firms followed against the same firms in the twin world without policies (same seed); "
        f"{firms} firms, policy quarters {start}-{end}, defaults counted to quarter {horizon}, seeds "
        f"{', '.join(map(str, seeds))}; investment (capital for hires), intangible investment (university "
        f"collaborations' fees) and debt in EUR thousand per supported firm alive at {end} in both worlds, "
        "default in percentage points.",
        "",
        "| instrument | firms | outcome | effect on supported firms | small firms (< 50) | evidence |",
        "|---|---|---|---|---|---|",
    ]
    for scenario, (_, source) in EVIDENCE.items():
        per_seed = [treated_effects(scenario, seed, firms, start, end, horizon) for seed in seeds]
        n = int(np.mean([len(r["small"]) for r in per_seed]))
        outcomes = ("investment", "intangible", "total_investment", "debt", "default")
        for outcome, scale in zip(outcomes, (1.0, 1.0, 1.0, 1.0, 100.0), strict=True):
            cells = []
            for group in ("all", "small"):
                means = [
                    scale * np.nanmean(r[outcome] if group == "all" else r[outcome][r["small"]])
                    for r in per_seed
                    if (r["small"].any() or group == "all") and len(r[outcome])
                ]
                mean = float(np.mean(means))
                low, high = stats.t.interval(0.95, len(means) - 1, loc=mean, scale=stats.sem(means))
                cells.append(f"{mean:+.2f} [{low:+.2f}, {high:+.2f}]")
            lines.append(f"| {scenario} | {n} | {outcome} | {cells[0]} | {cells[1]} | {source} |")
    return "\n".join(lines)


def default_rates(seeds: list[int], firms: int = 4000, first: int = 20, last: int = 40) -> str:
    """Yearly insolvency rate of each guarantee-fund rating class in the baseline: what ``default_rates`` should be.

    Firms are rated (``guarantees.rating``, the credit_guarantee defaults) every four quarters
    from ``first`` to ``last - 4``; a firm counts as a default if it exits insolvent within the
    next four quarters.
    """
    base = load_scenario("baseline", n_firms=firms)
    spec = load_scenario("baseline", policies={"g": {"instrument": "credit_guarantee", "budget_per_year": 1.0}})
    spec = spec.policies["g"]
    counts, defaults = np.zeros(5), np.zeros(5)
    for seed in seeds:
        model = DistrictModel(**base.model_dump(), rng=seed)
        cohorts = {}
        for step in range(1, last + 1):
            model.step()
            if first <= step <= last - 4 and (step - first) % 4 == 0:
                f = model.firms
                cohorts[step] = (f.firm_id.copy(), guarantees.rating(spec, model, np.arange(f.n)))
        panel = model.observer.panel_frame()
        insolvent = panel[panel.exited.to_numpy() & (panel.exit_cause == "insolvency").to_numpy()]
        for step, (ids, classes) in cohorts.items():
            window = insolvent[(insolvent.step > step) & (insolvent.step <= step + 4)]
            dead = np.isin(ids, window.firm_id.to_numpy())
            counts += np.bincount(classes - 1, minlength=5)
            defaults += np.bincount(classes - 1, weights=dead, minlength=5)
    lines = [
        f"Baseline, {firms} firms, rated every year from quarter {first} to {last - 4}, seeds "
        f"{', '.join(map(str, seeds))}; default: insolvent within four quarters.",
        "",
        "| class | share of firms | yearly default rate |",
        "|---|---|---|",
    ]
    for k in range(5):
        lines.append(f"| {k + 1} | {counts[k] / counts.sum():.1%} | {defaults[k] / max(counts[k], 1):.2%} |")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    parser = argparse.ArgumentParser(description="Measure the moments and stylized facts on baseline runs (Markdown).")
    parser.add_argument("--seeds", type=int, nargs="+", default=[101, 102, 103, 104, 105])
    parser.add_argument("--scenario", default="baseline")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--firms", type=int, default=None, help="number of firms (with --district)")
    parser.add_argument("--district", action="store_true", help="the district figures of one run (the first seed)")
    parser.add_argument("--evidence", action="store_true", help="the evidence checks of the voucher and the guarantee")
    parser.add_argument(
        "--default-rates", action="store_true", help="yearly default rates of the guarantee fund's rating classes"
    )
    args = parser.parse_args()
    if args.default_rates:
        print(default_rates(args.seeds, args.firms or 4000))
    elif args.evidence:
        print(evidence(args.seeds, args.firms or 3000))
    elif args.district:
        print(district(args.seeds[0], args.scenario, args.steps, args.firms))
    else:
        print(report(args.seeds, args.scenario, args.steps))
