"""Observation: model-level indicators every step and a sparse firm panel (ODD 7.8).

Indicators are computed once per step from the firm arrays and handed to
Mesa's DataCollector. The firm panel is kept apart from it: collecting every
firm every step is the classic memory blow-up of agent-based models, so firms
are recorded every ``panel_every`` steps, at the last step, and when they exit.
"""

from __future__ import annotations

import math
from functools import partial

import mesa
import numpy as np
import pandas as pd

from sim.model import graph
from sim.model.arrays import any_per_row, row_sums, take_rows
from sim.model.calendar import quarter_of, year_of
from sim.model.firms import (
    EXIT_CAUSES,
    N_SIZE_CLASSES,
    SIZE_CLASSES,
    SMALL_FIRM_LIMIT,
    exporters,
    niche_groups,
    size_class,
)
from sim.model.links import degree, supply_counts, supply_rows
from sim.model.world import FOREIGN_MARKETS, MARKETS, N_MARKETS, N_NICHES, N_PROVINCES, NICHES, PROVINCES
from sim.submodels import affiliates, consortia, knowhow, sourcing, specialisation, supply
from sim.submodels.finance import net_worth
from sim.submodels.policy import INSTRUMENT_TYPES

#: The district's structure by size class and province (``structure``): what a region reads policy effects by.
STRUCTURE_COLUMNS: tuple[str, ...] = (
    "n_small_firms",
    *(f"n_exporters_{c}" for c in SIZE_CLASSES),
    *(f"employment_{c}" for c in SIZE_CLASSES),
    *(f"n_exporters_{p}" for p in PROVINCES),
    *(f"employment_{p}" for p in PROVINCES),
)

#: Foreign affiliates and foreign ownership (submodels/affiliates.py, ODD 7.20).
AFFILIATE_COLUMNS: tuple[str, ...] = (
    "n_affiliates",
    "n_service_affiliates",
    "n_assembly_plants",
    "n_affiliate_owners",
    "affiliates_opened",
    "affiliates_closed",
    "affiliate_sales",
    *(f"affiliate_sales_{m}" for m in FOREIGN_MARKETS),
    "abroad_production",
    "affiliate_jobs_abroad",
    "abroad_loans",
    "abroad_loan_stock",
    "n_acquired",
    "n_foreign_owned",
)

MODEL_COLUMNS: tuple[str, ...] = (
    "step",
    "year",
    "quarter",
    "n_firms",
    "employment",
    "sales",
    "domestic_sales",
    "export_sales",
    "export_share",
    "n_exporters",
    "exporter_share",
    "n_trial_exporters",
    "n_indirect_exporters",
    *(f"exports_{m}" for m in FOREIGN_MARKETS),
    *STRUCTURE_COLUMNS,
    "mean_productivity",
    "productivity_p90_p10",
    "mean_quality",
    "mean_markup",
    "hhi",
    "niche_diversity",
    "n_entries",
    "spinoff_entries",
    "n_exits",
    *(f"n_exits_{cause}" for cause in EXIT_CAUSES),
    "profits",
    "interest",
    "value_added",
    "wage_bill",
    "va_per_worker",
    "debt",
    "niche_switches",
    "n_small_specialised",
    "small_specialised_exit_rate",
    "mean_know_how",
    "n_collab_links",
    "n_supply_links",
    "b2b_sales",
    "network_density",
    "network_clustering",
    "giant_component_share",
    "policy_spending",
    *(f"spending_{kind}" for kind in INSTRUMENT_TYPES),
    "guarantee_expected_loss",
    "guarantee_losses",
    "guarantee_fees",
    "guarantee_new_credit",
    "guarantee_refinanced",
    "guaranteed_stock",
    "reimbursed",
    "n_deminimis_capped",
    *(f"{what}_{kind}" for what in ("supported", "additional", "deadweight") for kind in INSTRUMENT_TYPES),
    "policy_cost",
    "n_university_links",
    "n_training",
    "consortia_formed",
    "n_consortia",
    # global sourcing (submodels/sourcing.py)
    *sourcing.COLUMNS,
    *AFFILIATE_COLUMNS,
)

# Bit patterns of served markets -> names, for the panel's ``markets`` column.
_WEIGHTS = 1 << np.arange(N_MARKETS)
_MARKET_LISTS = np.empty(1 << N_MARKETS, dtype=object)
for _code in range(1 << N_MARKETS):
    _MARKET_LISTS[_code] = [m for i, m in enumerate(MARKETS) if _code >> i & 1]


def herfindahl_by_niche(niche: np.ndarray, sales: np.ndarray) -> np.ndarray:
    """Herfindahl index of sales shares among the region's firms in each niche."""
    niche = niche.astype(np.intp)
    totals = np.bincount(niche, weights=sales, minlength=N_NICHES)
    shares = sales / np.maximum(totals[niche], 1e-12)
    return np.bincount(niche, weights=shares**2, minlength=N_NICHES)


def shannon(weights: np.ndarray) -> float:
    """Shannon entropy (nats) of a non-negative weight vector."""
    total = weights.sum()
    if total <= 0:
        return 0.0
    q = weights[weights > 0] / total
    return float(-(q * np.log(q)).sum())


def _percentile_linear(values: np.ndarray, fraction: float) -> float:
    """np.percentile(values, 100 x fraction), linear method, from ``values`` partitioned around the two ranks it needs.

    The same float operations as numpy's, so the result is identical.
    """
    virtual = (values.size - 1) * fraction
    i = math.floor(virtual)
    a, b = float(values[i]), float(values[min(i + 1, values.size - 1)])
    gamma = virtual - i
    diff = b - a
    return b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma


def within_niche_p90_p10(niche: np.ndarray, productivity: np.ndarray, order: np.ndarray | None = None) -> float:
    """Mean over niches of the 90/10 productivity ratio inside each niche (pattern 6 is within industries).

    ``order``: the rows grouped by niche, if already known (the order inside a niche does not matter).
    """
    niche = niche.astype(np.intp)
    if order is None:
        order = np.argsort(niche.astype(np.int16), kind="stable")  # small integer keys: radix sort
    stops = np.cumsum(np.bincount(niche, minlength=N_NICHES)).tolist()
    grouped = productivity[order]
    ratios = []
    start = 0
    for k in range(N_NICHES):
        values = grouped[start : stops[k]]
        start = stops[k]
        if values.size >= 10:
            last = values.size - 1
            kth = sorted({min(math.floor(last * q) + j, last) for q in (0.9, 0.1) for j in (0, 1)})
            values = np.partition(values, kth)
            ratios.append(_percentile_linear(values, 0.9) / _percentile_linear(values, 0.1))
    return float(np.mean(ratios)) if ratios else 1.0


def market_codes(served: np.ndarray) -> np.ndarray:
    """Bit pattern of the markets each firm serves (bit i: market i), as int64."""
    if served.shape[1] <= 8:
        return np.packbits(served, axis=1, bitorder="little")[:, 0].astype(np.int64)
    return (served * _WEIGHTS).sum(axis=1)


def indicators(
    model, n_entries: int, n_exits: int, exiting_flows: dict[str, np.ndarray] | None = None
) -> dict[str, float]:
    """All model-level indicators of the current step (see docs/outputs.md).

    Stocks (firms, employment, means) describe the firms alive at the end of
    the quarter; flows (sales, exports, profits) include the firms that
    exited during it.
    """
    f, p = model.firms, model.params
    t = model.steps
    exporter = exporters(f.served)
    employment = float(f.employees.sum())
    by_market = np.einsum("ij->j", f.sales)  # sales.sum(axis=0), the same additions in the same order, faster
    profits = float(f.profit.sum())
    value_added = float(f.revenue.sum() - f.materials.sum())
    wage_bill = float(f.wage_bill.sum())
    exits_by_cause = np.zeros(len(EXIT_CAUSES) + 1, dtype=np.int64)
    if exiting_flows is not None:
        by_market = by_market + exiting_flows["by_market"]
        profits += float(exiting_flows["profit"])
        value_added += float(exiting_flows["value_added"])
        wage_bill += float(exiting_flows["wage_bill"])
        exits_by_cause += exiting_flows["exits_by_cause"]
    sales = float(by_market.sum())
    abroad = affiliates.abroad_by_market(model, exiting_flows)  # made abroad by the firms' plants: not exported
    value_added -= float(abroad.sum())  # the region's value added counts production in the region only
    exports = float(by_market[1:].sum() - abroad[1:].sum())
    w = f.employees / max(employment, 1e-12)
    know_how, fit = knowhow.fit(model)
    small = specialisation.is_small_specialised(model, fit=fit)
    small_exits = int(exiting_flows["small_specialised"]) if exiting_flows is not None else 0
    if f.n:
        hhi = herfindahl_by_niche(f.niche, f.revenue)
        present = np.bincount(f.niche.astype(np.intp), minlength=N_NICHES) > 0
        mean_hhi = float(hhi[present].mean())
    else:
        mean_hhi = 0.0
    row = {
        "step": t,
        "year": year_of(t, p.start_year),
        "quarter": quarter_of(t),
        "n_firms": f.n,
        "employment": employment,
        "sales": sales,
        "domestic_sales": float(by_market[0]),
        "export_sales": exports,
        "export_share": exports / sales if sales > 0 else 0.0,
        "n_exporters": int(exporter.sum()),
        "n_trial_exporters": int(any_per_row(f.trial).sum()),
        "n_indirect_exporters": int(indirect_exporters(model, exporter).sum()),
        "exporter_share": float(exporter.mean()) if f.n else 0.0,
        **{f"exports_{m}": float(by_market[i + 1] - abroad[i + 1]) for i, m in enumerate(FOREIGN_MARKETS)},
        **structure(model, exporter),
        "mean_productivity": float((w * f.productivity).sum()),
        # grouping by niche is cached: next quarter's partner search and imitation reuse it
        "productivity_p90_p10": within_niche_p90_p10(f.niche, f.productivity, niche_groups(f)[0]),
        "mean_quality": float((w * f.quality).sum()),
        "mean_markup": float((w * f.markup).sum()),
        "hhi": mean_hhi,
        "niche_diversity": shannon(np.bincount(f.niche.astype(np.intp), weights=f.employees, minlength=N_NICHES)),
        "n_entries": n_entries,
        "spinoff_entries": int(getattr(model, "spinoff_entries", 0)),
        "n_exits": n_exits,
        **{f"n_exits_{cause}": int(exits_by_cause[code]) for code, cause in enumerate(EXIT_CAUSES, start=1)},
        "niche_switches": int(getattr(model, "niche_switches", 0)),
        "n_small_specialised": int(small.sum()),
        "small_specialised_exit_rate": small_exits / max(int(small.sum()) + small_exits, 1),
        "mean_know_how": float(know_how.mean()) if f.n else 0.0,
        "profits": profits,
        # booked before any exit: the firms that exited this quarter are in it, as in profits
        "interest": float(model.quarter_costs["interest"].sum()),
        "value_added": value_added,  # sales (final and regional) minus intermediate inputs
        "wage_bill": wage_bill,
        "va_per_worker": value_added / (wage_bill / model.wage) if wage_bill > 0 else 0.0,  # per worker paid
        "debt": float(f.debt.sum()),
        **model.observer.network,
        **supply.metrics(model),
        "policy_spending": float(model.policy_spending.sum()),
        **{f"spending_{kind}": float(model.policy_spending[i]) for i, kind in enumerate(INSTRUMENT_TYPES)},
        **policy_accounts(model),
        "n_university_links": int((f.collab_until >= t).sum()),
        "n_training": int((f.training_until >= t).sum()),
        "consortia_formed": int(model.consortia_formed),
        "n_consortia": consortia.n_consortia(model),
        **sourcing.metrics(model),
        **affiliates.indicators(model, exiting_flows),
    }
    return row


def policy_accounts(model) -> dict[str, float]:
    """Guarantees, reimbursements, de minimis and additionality of the step (docs/outputs.md)."""
    extra = model.additionality
    return {
        "guarantee_expected_loss": float(model.guarantee_expected_loss),
        "guarantee_losses": float(model.guarantee_losses),
        "guarantee_fees": float(model.guarantee_fees),
        "guarantee_new_credit": float(model.guarantee_new_credit),
        "guarantee_refinanced": float(model.guarantee_refinanced),
        "guaranteed_stock": float(model.firms.guaranteed.sum()),
        "reimbursed": float(model.reimbursed),
        "n_deminimis_capped": int(model.deminimis_capped),
        **{
            f"{what}_{kind}": float(extra[row, i])
            for row, what in enumerate(("supported", "additional", "deadweight"))
            for i, kind in enumerate(INSTRUMENT_TYPES)
        },
        # fiscal cost: grants committed and the expected loss of guarantees granted (charged when granted)
        "policy_cost": float(model.policy_spending.sum()),
    }


def structure(model, exporter: np.ndarray) -> dict[str, float]:
    """Small firms, and exporters and employment by size class and by province, among living firms.

    A compare experiment keeps only the model-level table of each run, so the
    breakdowns a region reads effects by must be columns here. Counts on the
    firm arrays (``exporter``: ``exporters(f.served)``, already computed):
    linear in firms, no random draws.
    """
    f = model.firms
    size = size_class(f.employees)
    province = f.province.astype(np.intp)
    exporters_by_size = np.bincount(size[exporter], minlength=N_SIZE_CLASSES)
    employment_by_size = np.bincount(size, weights=f.employees, minlength=N_SIZE_CLASSES)
    exporters_by_province = np.bincount(province[exporter], minlength=N_PROVINCES)
    employment_by_province = np.bincount(province, weights=f.employees, minlength=N_PROVINCES)
    return {
        "n_small_firms": int((f.employees < SMALL_FIRM_LIMIT).sum()),
        **{f"n_exporters_{c}": int(exporters_by_size[k]) for k, c in enumerate(SIZE_CLASSES)},
        **{f"employment_{c}": float(employment_by_size[k]) for k, c in enumerate(SIZE_CLASSES)},
        **{f"n_exporters_{p}": int(exporters_by_province[k]) for k, p in enumerate(PROVINCES)},
        **{f"employment_{p}": float(employment_by_province[k]) for k, p in enumerate(PROVINCES)},
    }


PROVINCE_COLUMNS: tuple[str, ...] = ("step", "province", "firms", "employment", "exports", "exporters")


def indirect_exporters(model, exporter: np.ndarray) -> np.ndarray:
    """Firms that export only through their clients: no foreign market of their own, a client that exports."""
    rc, rs = supply_rows(model)
    through_client = np.zeros(model.firms.n, dtype=bool)
    through_client[rs[exporter[rc]]] = True
    return through_client & ~exporter


def province_totals(model, exiting_flows: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Firms, employment, exporters (end of quarter) and exports (incl. firms that exited) by province."""
    f = model.firms
    province = f.province.astype(np.intp)
    exports = np.bincount(province, weights=row_sums(f.sales[:, 1:] - f.abroad_sales[:, 1:]), minlength=N_PROVINCES)
    if exiting_flows is not None:
        exports = exports + exiting_flows["province_exports"]
    return {
        "step": np.full(N_PROVINCES, model.steps, dtype=np.int32),
        "province": np.arange(N_PROVINCES, dtype=np.int8),
        "firms": np.bincount(province, minlength=N_PROVINCES).astype(np.int64),
        "employment": np.bincount(province, weights=f.employees, minlength=N_PROVINCES),
        "exports": exports,
        "exporters": np.bincount(province, weights=exporters(f.served), minlength=N_PROVINCES).astype(np.int64),
    }


def _latest(model, name: str) -> float:
    return model.observer.latest[name]


class Observer:
    """Feeds Mesa's DataCollector and keeps the firm panel."""

    def __init__(self, model) -> None:
        self.latest: dict[str, float] = {}
        self.panel: list[dict[str, np.ndarray]] = []
        self.last_panel_step = -1
        self.exiting_flows: dict[str, np.ndarray] | None = None
        self.provinces: list[dict[str, np.ndarray]] = []
        self.network: dict[str, float] = {}
        model.datacollector = mesa.DataCollector(
            model_reporters={name: partial(_latest, name=name) for name in MODEL_COLUMNS}
        )

    def collect(self, model, n_entries: int = 0, n_exits: int = 0) -> None:
        """Record this step's indicators, the province totals, and the firm panel when it is due."""
        if model.steps % model.params.panel_every == 0 or not self.network:
            self.network = graph.metrics(model)  # measured with the panel (yearly), repeated in between
        self.latest = indicators(model, n_entries, n_exits, self.exiting_flows)
        self.provinces.append(province_totals(model, self.exiting_flows))
        self.exiting_flows = None
        model.datacollector.collect(model)
        if model.steps % model.params.panel_every == 0:
            self.record_panel(model)

    def firm_rows(self, model, mask: np.ndarray | slice = slice(None), exited: bool = False) -> dict[str, np.ndarray]:
        """Raw panel columns for the selected firms at the current step (framed later)."""
        f = model.firms
        if not isinstance(mask, slice):
            mask = (
                np.flatnonzero(mask) if np.asarray(mask).dtype == np.bool_ else np.asarray(mask)
            )  # a few rows: take them by index
        served, sales, support, location = (
            take_rows(values, mask) for values in (f.served, f.sales, f.support, f.location)
        )
        n = int(served.shape[0])

        def copy(values: np.ndarray) -> np.ndarray:
            return values[mask].copy() if isinstance(mask, slice) else values.take(mask)

        n_suppliers, n_clients = supply_counts(model)
        know_how, fit = knowhow.fit(model, mask)
        return {
            "step": np.full(n, model.steps, dtype=np.int32),
            "firm_id": copy(f.firm_id),
            "province": copy(f.province),
            "niche": copy(f.niche),
            "age": (model.steps - f.entered_step[mask]).astype(np.int32),
            "employees": copy(f.employees),
            "sales": copy(f.revenue),
            "export_sales": row_sums(sales[:, 1:] - take_rows(f.abroad_sales, mask)[:, 1:]),
            "n_markets": served.sum(axis=1).astype(np.int8),
            "trial_markets": take_rows(f.trial, mask).sum(axis=1).astype(np.int8),
            "indirect_exporter": indirect_exporters(model, exporters(f.served))[mask],
            "markets": market_codes(served),
            "productivity": copy(f.productivity),
            "quality": copy(f.quality),
            "price": copy(f.price),
            "markup": copy(f.markup),
            "profit": copy(f.profit),
            "cash": copy(f.cash),
            "debt": copy(f.debt),
            "net_worth": net_worth(model, mask),
            "entered_step": copy(f.entered_step),
            "parent_id": copy(f.parent_id),
            "n_partners": degree(model)[mask].astype(np.int32),
            "n_suppliers": n_suppliers[mask].astype(np.int32),
            "n_clients": n_clients[mask].astype(np.int32),
            "b2b_sales": copy(f.b2b_sales),
            "value_added": copy(f.revenue) - copy(f.materials) - row_sums(take_rows(f.abroad_sales, mask)),
            "know_how": know_how,
            "specialisation": fit,
            "niche_entered": copy(f.niche_entered),
            "x_km": location[:, 0].copy(),
            "y_km": location[:, 1].copy(),
            "university_link": f.collab_until[mask] >= model.steps,
            "training": f.training_until[mask] >= model.steps,
            "policy_support": support.sum(axis=1),
            **{f"support_{kind}": support[:, i].copy() for i, kind in enumerate(INSTRUMENT_TYPES)},
            "bank_rating": copy(f.bank_rating),
            "deminimis_aid": take_rows(f.aid_recent, mask).sum(axis=1),
            "imported_input_share": take_rows(f.import_share, mask).sum(axis=1),
            "exited": np.full(n, exited),
            "exit_cause": copy(f.exit_cause),
            # foreign affiliates and ownership (ODD 7.20)
            "affiliate_markets": market_codes(take_rows(f.affiliate, mask) > 0),
            "affiliate_sales": row_sums(take_rows(f.affiliate_sales, mask)),
            "jobs_abroad": copy(f.jobs_abroad),
            "foreign_owned": copy(f.foreign_owned),
        }

    def record_panel(self, model) -> None:
        """Snapshot every living firm (skipped if this step is already recorded)."""
        if self.last_panel_step == model.steps:
            return
        self.last_panel_step = model.steps
        self.panel.append(self.firm_rows(model))

    def record_exits(self, model, mask: np.ndarray) -> None:
        """Last row of each exiting firm, flagged ``exited``, and its flows of the quarter."""
        rows = np.flatnonzero(mask)
        chunk = self.firm_rows(model, rows, exited=True)
        self.panel.append(chunk)
        f = model.firms
        province = f.province[rows].astype(np.intp)
        sales = f.sales[rows]
        self.exiting_flows = {
            "by_market": sales.sum(axis=0),
            "profit": f.profit[rows].sum(),
            "province_exports": np.bincount(
                province, weights=row_sums(sales[:, 1:] - f.abroad_sales[rows, 1:]), minlength=N_PROVINCES
            ),
            "value_added": f.revenue[rows].sum() - f.materials[rows].sum() - f.abroad_sales[rows].sum(),
            "wage_bill": f.wage_bill[rows].sum(),
            "exits_by_cause": np.bincount(f.exit_cause[rows], minlength=len(EXIT_CAUSES) + 1),
            "small_specialised": specialisation.is_small_specialised(model, rows, fit=chunk["specialisation"]).sum(),
            **affiliates.exiting_flows(model, rows),
        }

    def province_frame(self) -> pd.DataFrame:
        """Totals by province and step (provinces.parquet)."""
        if not self.provinces:
            return pd.DataFrame(columns=list(PROVINCE_COLUMNS))
        columns = {name: np.concatenate([chunk[name] for chunk in self.provinces]) for name in PROVINCE_COLUMNS}
        frame = pd.DataFrame(columns)
        frame["province"] = pd.Categorical.from_codes(frame["province"].astype(np.int8), categories=list(PROVINCES))
        return frame

    def model_frame(self, model) -> pd.DataFrame:
        """The model-level time series, one row per step."""
        frame = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        return frame.astype(
            {
                "step": np.int32,
                "year": np.int32,
                "quarter": np.int8,
                "n_firms": np.int64,
                "n_exporters": np.int64,
                "n_trial_exporters": np.int64,
                "n_indirect_exporters": np.int64,
                "n_entries": np.int64,
                "n_exits": np.int64,
                **{name: np.int64 for name in AFFILIATE_COLUMNS if name.startswith(("n_", "affiliates_"))},
                **{f"n_exits_{cause}": np.int64 for cause in EXIT_CAUSES},
                **{name: np.int64 for name in STRUCTURE_COLUMNS if not name.startswith("employment_")},
            }
        )

    def panel_frame(self) -> pd.DataFrame:
        """The firm panel sorted by step, exit flag and firm id."""
        chunks = self.panel or [self.firm_rows_template()]
        columns = {name: np.concatenate([chunk[name] for chunk in chunks]) for name in chunks[0]}
        frame = pd.DataFrame(columns)
        frame["province"] = pd.Categorical.from_codes(frame["province"].astype(np.int8), categories=list(PROVINCES))
        frame["niche"] = pd.Categorical.from_codes(frame["niche"].astype(np.int8), categories=list(NICHES))
        frame["markets"] = _MARKET_LISTS[frame["markets"].to_numpy()]
        frame["affiliate_markets"] = _MARKET_LISTS[frame["affiliate_markets"].to_numpy()]
        frame["exit_cause"] = pd.Categorical.from_codes(
            frame["exit_cause"].astype(np.int8), categories=["", *EXIT_CAUSES]
        )
        return frame.sort_values(["step", "exited", "firm_id"], kind="stable").reset_index(drop=True)

    @staticmethod
    def firm_rows_template() -> dict[str, np.ndarray]:
        """Empty panel columns with their dtypes."""
        return {
            "step": np.zeros(0, np.int32),
            "firm_id": np.zeros(0, np.int64),
            "province": np.zeros(0, np.int8),
            "niche": np.zeros(0, np.int8),
            "age": np.zeros(0, np.int32),
            **{name: np.zeros(0) for name in ("employees", "sales", "export_sales")},
            "n_markets": np.zeros(0, np.int8),
            "trial_markets": np.zeros(0, np.int8),
            "indirect_exporter": np.zeros(0, bool),
            "markets": np.zeros(0, np.int64),
            **{
                name: np.zeros(0)
                for name in ("productivity", "quality", "price", "markup", "profit", "cash", "debt", "net_worth")
            },
            "entered_step": np.zeros(0, np.int32),
            "parent_id": np.zeros(0, np.int64),
            "n_partners": np.zeros(0, np.int32),
            "n_suppliers": np.zeros(0, np.int32),
            "n_clients": np.zeros(0, np.int32),
            "b2b_sales": np.zeros(0),
            "value_added": np.zeros(0),
            "know_how": np.zeros(0),
            "specialisation": np.zeros(0),
            "niche_entered": np.zeros(0, np.int32),
            "x_km": np.zeros(0),
            "y_km": np.zeros(0),
            "university_link": np.zeros(0, bool),
            "training": np.zeros(0, bool),
            "policy_support": np.zeros(0),
            **{f"support_{kind}": np.zeros(0) for kind in INSTRUMENT_TYPES},
            "bank_rating": np.zeros(0, np.int8),
            "deminimis_aid": np.zeros(0),
            "imported_input_share": np.zeros(0),
            "exited": np.zeros(0, bool),
            "exit_cause": np.zeros(0, np.int8),
            "affiliate_markets": np.zeros(0, np.int64),
            "affiliate_sales": np.zeros(0),
            "jobs_abroad": np.zeros(0),
            "foreign_owned": np.zeros(0, bool),
        }
