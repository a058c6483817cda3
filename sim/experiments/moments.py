"""Moments: what a run says about the district, measured on the tables it writes (model.parquet, firms.parquet).

One function per measure, each documented with its definition and unit, so
that calibration (the loss), validation (docs/validation.md, the
stylized-facts test) and users' own runs measure the district the same way.
Everything is measured after the burn-in: on the model rows of later
quarters, and on the yearly firm panel of firms alive at each panel quarter
(a *wave*). ``CALIBRATION_MOMENTS`` lists the moments that
``calibration/targets/emilia_romagna.toml`` gives targets for
(`../shared/reference/calibration-targets.md`); ``STYLIZED_FACTS`` the
patterns of the stylized-facts sheet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from sim.model.firms import SIZE_CLASSES, size_class

#: Drift moments compare the value this many quarters after the burn-in with the value at it (ten years).
DRIFT_QUARTERS = 40
#: A wave's niche enters the productivity dispersion only with at least this many firms.
MIN_NICHE_FIRMS = 20
#: Waves one year apart: the panel is yearly.
YEAR = 4


@dataclass
class RunTables:
    """A run's model rows and firm panel, with the views the moments share computed once."""

    model: pd.DataFrame
    panel: pd.DataFrame
    burn_in: int
    steps: int = field(init=False)

    def __post_init__(self) -> None:
        self.steps = int(self.model["step"].max()) if len(self.model) else 0

    @cached_property
    def after(self) -> pd.DataFrame:
        """Model rows after the burn-in."""
        return self.model[self.model["step"] > self.burn_in]

    @cached_property
    def alive(self) -> pd.DataFrame:
        """Panel rows of firms alive at a wave after the burn-in."""
        panel = self.panel
        return panel[~panel["exited"].to_numpy() & (panel["step"].to_numpy() > self.burn_in)]

    @cached_property
    def exporter(self) -> np.ndarray:
        """Whether each row of ``alive`` serves a foreign market (export status at the wave)."""
        return self.alive["n_markets"].to_numpy() > 1

    def wide(self, values: str | np.ndarray) -> pd.DataFrame:
        """A column of ``alive`` (or values aligned with it) as firms x waves."""
        data = self.alive[values].to_numpy() if isinstance(values, str) else values
        frame = pd.DataFrame({"firm_id": self.alive["firm_id"].to_numpy(), "step": self.alive["step"].to_numpy()})
        frame["v"] = data
        return frame.pivot(index="firm_id", columns="step", values="v")

    def year_pairs(self, wide: pd.DataFrame) -> list[tuple[int, int]]:
        """Consecutive waves one year apart."""
        steps = sorted(wide.columns)
        return [(a, b) for a, b in zip(steps[:-1], steps[1:], strict=False) if b - a == YEAR]


# --------------------------------------------------------------------------
# Size


def mean_employees(t: RunTables) -> float:
    """Mean employees per firm (employees / firms), over the waves [workers]."""
    return float(t.alive["employees"].mean())


def share_micro(t: RunTables) -> float:
    """Share of firms with fewer than 10 employees, over the waves [share]."""
    return float((t.alive["employees"] < 10).mean())


def share_large(t: RunTables) -> float:
    """Share of firms with 50 employees or more, over the waves [share]."""
    return float((t.alive["employees"] >= 50).mean())


# --------------------------------------------------------------------------
# Exports


def exporter_share(t: RunTables) -> float:
    """Share of firms that serve a foreign market at the wave (export sales in the quarter or entered it) [share]."""
    return float(t.exporter.mean())


def export_intensity(t: RunTables) -> float:
    """Exports over sales of the district (final buyers), summed over quarters after the burn-in [share]."""
    return float(t.after["export_sales"].sum() / t.after["sales"].sum())


def _export_share(market: str) -> Callable[[RunTables], float]:
    def share(t: RunTables) -> float:
        return float(t.after[f"exports_{market}"].sum() / t.after["export_sales"].sum())

    share.__doc__ = f"Share of {market} in the district's exports, summed over quarters after the burn-in [share]."
    share.__name__ = f"export_share_{market}"
    return share


def exporter_share_10_49(t: RunTables) -> float:
    """Share of firms with 10 to 49 employees that serve a foreign market, over the waves [share]."""
    employees = t.alive["employees"].to_numpy()
    mid = (employees >= 10) & (employees < 50)
    return float(t.exporter[mid].mean()) if mid.any() else float("nan")


def micro_share_of_exporters(t: RunTables) -> float:
    """Share of exporters with fewer than 10 employees, over the waves [share]."""
    exporters = t.alive["employees"].to_numpy()[t.exporter]
    return float((exporters < 10).mean()) if exporters.size else float("nan")


def exporter_share_by_size(t: RunTables) -> dict[str, float]:
    """Share of firms serving a foreign market in each size class (0-9, 10-49, 50-249, 250+ employees)."""
    size = size_class(t.alive["employees"].to_numpy())
    return {
        label: float(t.exporter[size == k].mean()) if (size == k).any() else float("nan")
        for k, (label, _) in enumerate(SIZE_CLASSES.values())
    }


def _transitions(t: RunTables) -> tuple[float, float]:
    wide = t.wide(t.exporter.astype(float))
    pairs = [wide[[a, b]].dropna().to_numpy(dtype=bool) for a, b in t.year_pairs(wide)]
    both = np.concatenate(pairs) if pairs else np.zeros((0, 2), dtype=bool)
    stay = both[both[:, 0], 1].mean() if both[:, 0].any() else np.nan
    start = both[~both[:, 0], 1].mean() if (~both[:, 0]).any() else np.nan
    return float(stay), float(start)


def p_export_stay(t: RunTables) -> float:
    """P(exporter at a wave | exporter a year before), firms alive at both [probability]."""
    return _transitions(t)[0]


def p_export_start(t: RunTables) -> float:
    """P(exporter at a wave | not an exporter a year before), firms alive at both [probability]."""
    return _transitions(t)[1]


# --------------------------------------------------------------------------
# Foreign affiliates and foreign ownership (ODD 7.20)


def _affiliate_owner(t: RunTables) -> np.ndarray:
    """Whether each row of ``alive`` owns an affiliate abroad (sales and service or assembly) at the wave."""
    return t.alive["affiliate_markets"].map(len).to_numpy() > 0


def affiliate_owner_share(t: RunTables) -> float:
    """Share of firms owning at least one affiliate abroad, over the waves [share]."""
    return float(_affiliate_owner(t).mean())


def affiliate_owner_share_10_plus(t: RunTables) -> float:
    """Share of firms with 10 employees or more owning at least one affiliate abroad, over the waves [share]."""
    ten_plus = t.alive["employees"].to_numpy() >= 10
    return float(_affiliate_owner(t)[ten_plus].mean()) if ten_plus.any() else float("nan")


def affiliate_owner_share_by_size(t: RunTables) -> dict[str, float]:
    """Share of firms owning an affiliate abroad in each size class (0-9, 10-49, 50-249, 250+ employees)."""
    size = size_class(t.alive["employees"].to_numpy())
    owner = _affiliate_owner(t)
    return {
        label: float(owner[size == k].mean()) if (size == k).any() else float("nan")
        for k, (label, _) in enumerate(SIZE_CLASSES.values())
    }


def foreign_owned_share(t: RunTables) -> float:
    """Share of firms controlled by a foreign group, over the waves [share]."""
    return float(t.alive["foreign_owned"].to_numpy().mean())


# --------------------------------------------------------------------------
# Demography


def entry_rate(t: RunTables) -> float:
    """Entrants a year over the mean number of firms, after the burn-in [1/year]."""
    years = len(t.after) / YEAR
    return float(t.after["n_entries"].sum() / t.after["n_firms"].mean() / years)


def exit_rate(t: RunTables) -> float:
    """Exits a year over the mean number of firms, after the burn-in [1/year]."""
    years = len(t.after) / YEAR
    return float(t.after["n_exits"].sum() / t.after["n_firms"].mean() / years)


def insolvency_share_of_exits(t: RunTables) -> float:
    """Share of exits by insolvency (the others: closure by the owners, no successor), after the burn-in [share]."""
    exits = t.after["n_exits"].sum()
    return float(t.after["n_exits_insolvency"].sum() / exits) if exits else float("nan")


def _cohort_gone(t: RunTables, quarters: int) -> float:
    """Share of the firms born after the burn-in (and ``quarters`` before the end) that exit within ``quarters``."""
    panel = t.panel
    born = panel.loc[panel["entered_step"] > t.burn_in].groupby("firm_id")["entered_step"].first()
    cohort = born[born <= t.steps - quarters]
    if cohort.empty:
        return float("nan")
    exit_step = panel.loc[panel["exited"]].set_index("firm_id")["step"]
    return float(((exit_step.reindex(cohort.index) - cohort) <= quarters).mean())


def entrant_survival(t: RunTables) -> float:
    """Share of entrants still alive four quarters after entry (entrants born after the burn-in) [share]."""
    return 1.0 - _cohort_gone(t, YEAR)


def entrants_gone_2y(t: RunTables) -> float:
    """Share of entrants that exit within eight quarters of entry [share]."""
    return _cohort_gone(t, 2 * YEAR)


# --------------------------------------------------------------------------
# Growth and productivity


def _growth(t: RunTables, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Yearly log growth of ``column``, positive at two waves a year apart: growth, log size at the first, year."""
    values = t.alive[column].to_numpy(dtype=float)
    wide = t.wide(np.where(values > 0, values, np.nan))
    growth, size, year = [], [], []
    for a, b in t.year_pairs(wide):
        both = wide[[a, b]].dropna()
        growth.append(np.log(both[b] / both[a]).to_numpy())
        size.append(np.log(both[a]).to_numpy())
        year.append(np.full(len(both), b))
    if not growth:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    return np.concatenate(growth), np.concatenate(size), np.concatenate(year)


def _excess_kurtosis(x: np.ndarray) -> float:
    centred = x - x.mean()
    return float(np.mean(centred**4) / np.mean(centred**2) ** 2 - 3.0) if x.size > 3 else float("nan")


def growth_kurtosis(t: RunTables) -> float:
    """Excess kurtosis of yearly log sales growth of survivors, demeaned by year (Gaussian 0, Laplace 3) [-]."""
    g, _, year = _growth(t, "sales")
    if g.size == 0:
        return float("nan")
    means = pd.Series(g).groupby(year).transform("mean").to_numpy()
    return _excess_kurtosis(g - means)


def productivity_p90_p10(t: RunTables) -> float:
    """90/10 ratio of productivity within a niche, mean over niches with 20+ firms and over waves [ratio]."""
    alive = t.alive
    ratios = []
    for _, group in alive.groupby(["step", "niche"], observed=True)["productivity"]:
        if len(group) >= MIN_NICHE_FIRMS:
            p90, p10 = np.percentile(group.to_numpy(), [90, 10])
            ratios.append(p90 / p10)
    return float(np.mean(ratios)) if ratios else float("nan")


# --------------------------------------------------------------------------
# Profitability and drift


def operating_margin(t: RunTables) -> float:
    """Profit before interest over firms' sales (to final buyers and regional clients), after the burn-in [share]."""
    after = t.after
    return float((after["profits"].sum() + after["interest"].sum()) / (after["sales"].sum() + after["b2b_sales"].sum()))


def _drift(column: str) -> Callable[[RunTables], float]:
    def drift(t: RunTables) -> float:
        rows = t.model.set_index("step")[column]
        start, end = t.burn_in, t.burn_in + DRIFT_QUARTERS
        if start not in rows.index or end not in rows.index:
            return float("nan")  # the run is too short to measure it
        return float(rows[end] / rows[start])

    drift.__doc__ = f"{column} {DRIFT_QUARTERS} quarters after the burn-in over its value at the burn-in [ratio]."
    drift.__name__ = f"drift_{column}"
    return drift


# --------------------------------------------------------------------------
# The calibration moments, in the order of calibration-targets.md


@dataclass(frozen=True)
class Moment:
    """A measure of a run: its name, its function of the run's tables, and its unit (from the docstring)."""

    name: str
    fn: Callable[[RunTables], float]

    @property
    def definition(self) -> str:
        return (self.fn.__doc__ or "").split(" [")[0]

    @property
    def unit(self) -> str:
        doc = self.fn.__doc__ or ""
        return doc[doc.rfind("[") + 1 : doc.rfind("]")] if "[" in doc else ""


CALIBRATION_MOMENTS: dict[str, Moment] = {
    m.name: m
    for m in (
        Moment("mean_employees", mean_employees),
        Moment("share_micro", share_micro),
        Moment("share_large", share_large),
        Moment("exporter_share", exporter_share),
        Moment("exporter_share_10_49", exporter_share_10_49),
        Moment("micro_share_of_exporters", micro_share_of_exporters),
        Moment("export_intensity", export_intensity),
        *(Moment(f"export_share_{m}", _export_share(m)) for m in ("eu", "usa", "china", "russia")),
        Moment("affiliate_owner_share", affiliate_owner_share),
        Moment("affiliate_owner_share_10_plus", affiliate_owner_share_10_plus),
        Moment("foreign_owned_share", foreign_owned_share),
        Moment("p_export_stay", p_export_stay),
        Moment("p_export_start", p_export_start),
        Moment("entry_rate", entry_rate),
        Moment("exit_rate", exit_rate),
        Moment("insolvency_share_of_exits", insolvency_share_of_exits),
        Moment("entrant_survival", entrant_survival),
        Moment("growth_kurtosis", growth_kurtosis),
        Moment("productivity_p90_p10", productivity_p90_p10),
        Moment("operating_margin", operating_margin),
        Moment("drift_firms", _drift("n_firms")),
        Moment("drift_employment", _drift("employment")),
        Moment("drift_exporter_share", _drift("exporter_share")),
    )
}


def measure(model: pd.DataFrame, panel: pd.DataFrame, burn_in: int, names: list[str] | None = None) -> dict[str, float]:
    """The calibration moments of one run (all, or those named), by name; NaN where the run cannot show one."""
    tables = RunTables(model, panel, burn_in)
    return {name: CALIBRATION_MOMENTS[name].fn(tables) for name in names or CALIBRATION_MOMENTS}


# --------------------------------------------------------------------------
# Stylized facts (stylized-facts.md): patterns, not calibration targets


def size_distribution(panel: pd.DataFrame, top: float = 0.05) -> dict[str, float]:
    """Pattern 1: mean, median and skewness of employees and the Hill tail index on the top share (last step)."""
    last = panel[(panel["step"] == panel["step"].max()) & ~panel["exited"]]
    sizes = np.sort(last["employees"].to_numpy())[::-1]
    k = max(int(top * sizes.size), 10)
    tail = sizes[: k + 1]
    hill = 1.0 / np.mean(np.log(tail[:-1] / tail[-1]))
    centred = sizes - sizes.mean()
    skew = float(np.mean(centred**3) / np.mean(centred**2) ** 1.5)
    return {"mean": float(sizes.mean()), "median": float(np.median(sizes)), "skewness": skew, "tail_index": float(hill)}


def growth_rates(panel: pd.DataFrame, burn_in: int, model: pd.DataFrame | None = None) -> dict[str, float]:
    """Patterns 2 and 7: yearly log growth of employees of survivors: s.d., excess kurtosis, slope on log size."""
    t = RunTables(model if model is not None else _steps_only(panel), panel, burn_in)
    g, s, _ = _growth(t, "employees")
    return {"sd": float(g.std()), "excess_kurtosis": _excess_kurtosis(g), "size_slope": float(np.polyfit(s, g, 1)[0])}


def productivity_dispersion(model: pd.DataFrame, burn_in: int) -> dict[str, float]:
    """Pattern 6: the model rows' within-niche 90/10 ratio of productivity, averaged after the burn-in."""
    after = model[model["step"] > burn_in]
    return {"p90_p10": float(after["productivity_p90_p10"].mean())}


def persistence(panel: pd.DataFrame, burn_in: int) -> dict[str, float]:
    """Pattern 7: correlation of log size a year apart, and of consecutive yearly growth rates (survivors)."""
    t = RunTables(_steps_only(panel), panel, burn_in)
    wide = np.log(t.wide("employees"))
    steps = [s for s in sorted(wide.columns) if (s - min(wide.columns)) % YEAR == 0]
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
        "top_quintile_stay_5y": top_quintile_stay(t, years=5),
    }


def top_quintile_stay(t: RunTables, years: int = 5) -> float:
    """Share of the firms in the top fifth of productivity within their niche that are still there ``years`` later.

    Over survivors, every panel year after the burn-in that has a year ``years`` later; NaN if none has.
    """
    alive = t.alive
    rank = alive.groupby(["step", "niche"], observed=True)["productivity"].rank(pct=True)
    top = t.wide((rank > 0.8).to_numpy(dtype=float))
    steps = sorted(top.columns)
    stays = []
    for a in steps:
        b = a + years * YEAR
        if b in top.columns:
            both = top[[a, b]].dropna().to_numpy(dtype=bool)
            stays.append(both[both[:, 0], 1])
    kept = np.concatenate(stays) if stays else np.zeros(0, dtype=bool)
    return float(kept.mean()) if kept.size else float("nan")


def exporter_premia(panel: pd.DataFrame, burn_in: int) -> dict[str, float]:
    """Pattern 3: exporter share, and exporters' size and productivity premia (differences of mean logs)."""
    t = RunTables(_steps_only(panel), panel, burn_in)
    exporter = t.exporter
    log_size = np.log(t.alive["employees"].to_numpy())
    log_prod = np.log(t.alive["productivity"].to_numpy())
    return {
        "exporter_share": float(exporter.mean()),
        "size_premium": float(log_size[exporter].mean() - log_size[~exporter].mean()),
        "productivity_premium": float(log_prod[exporter].mean() - log_prod[~exporter].mean()),
    }


def export_persistence(panel: pd.DataFrame, burn_in: int) -> dict[str, float]:
    """Pattern 4: P(export this year | exported last year), | did not, and their gap."""
    stay, start = _transitions(RunTables(_steps_only(panel), panel, burn_in))
    return {"p_export_given_export": stay, "p_export_given_not": start, "persistence_gap": stay - start}


def demography(model: pd.DataFrame, panel: pd.DataFrame, burn_in: int) -> dict[str, float]:
    """Pattern 5: yearly entry and exit rates, and the share of entrants gone within two years."""
    t = RunTables(model, panel, burn_in)
    return {"entry_rate": entry_rate(t), "exit_rate": exit_rate(t), "entrants_gone_2y": entrants_gone_2y(t)}


def stability(model: pd.DataFrame, burn_in: int) -> dict[str, float]:
    """No explosion or collapse: firms, employment and sales at the end over their value just after the burn-in."""
    start = model[model["step"] == burn_in + 1].iloc[0]
    end = model.iloc[-1]
    ratios = {name: float(end[name] / start[name]) for name in ("n_firms", "employment", "sales")}
    return ratios | {"export_share": float(end["export_share"])}


def _steps_only(panel: pd.DataFrame) -> pd.DataFrame:
    """Model rows standing in for a run's, when only its panel is given (their step column is all that is read)."""
    return pd.DataFrame({"step": [int(panel["step"].max())] if len(panel) else []})


def stylized_facts(model: pd.DataFrame, panel: pd.DataFrame, burn_in: int) -> dict[str, dict[str, float]]:
    """Every pattern of the stylized-facts sheet, keyed by name."""
    return {
        "size_distribution": size_distribution(panel),
        "growth_rates": growth_rates(panel, burn_in, model),
        "productivity": productivity_dispersion(model, burn_in),
        "persistence": persistence(panel, burn_in),
        "exporters": exporter_premia(panel, burn_in),
        "export_persistence": export_persistence(panel, burn_in),
        "demography": demography(model, panel, burn_in),
        "stability": stability(model, burn_in),
    }
