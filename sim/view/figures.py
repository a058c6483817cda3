"""The page's drawings: the district map and the twin plots, as matplotlib figures kept from quarter to quarter.

Each figure is made once per world and only its data change afterwards (offsets and sizes of the dots, data of
the lines), which roughly halves the cost of a redraw against building a new figure every quarter. Figures are
``matplotlib.figure.Figure`` objects, not pyplot: the server draws for many sessions at once.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator, MultipleLocator

from sim.model.calendar import QUARTERS_PER_YEAR
from sim.model.district import DistrictModel
from sim.model.firms import exporters
from sim.model.links import partner_rows, supply_rows
from sim.model.space import BORDERS, capital_km
from sim.model.world import FOREIGN_MARKETS, N_NICHES, N_PROVINCES, NICHES, PROVINCES
from sim.view.readings import series, years

#: Above this many firms the map shows each province's totals instead of one dot per firm.
AGGREGATE_ABOVE = 5000

NICHE_COLOURS = np.array(["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"])
MARKET_COLOURS = ("#1f77b4", "#d62728", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#7f7f7f")
LINK_COLOURS = {"collaboration": "#1f5fbf", "supply": "#b35900"}


MARKET_LABELS = {"eu": "EU", "usa": "USA", "rest_of_world": "rest of world"}


def pretty(name: str) -> str:
    """A name of the fixed world as a label: "reggio_emilia" -> "Reggio Emilia", "usa" -> "USA"."""
    if name in PROVINCES:
        return name.replace("_", " ").title()
    return MARKET_LABELS.get(
        name, name.replace("_", " ").capitalize() if name in FOREIGN_MARKETS else name.replace("_", " ")
    )


def dot_sizes(employees: np.ndarray) -> np.ndarray:
    """Marker area (points^2) of a firm: grows with the square root of its workforce."""
    return 3.0 + 1.6 * np.sqrt(np.maximum(employees, 0.0))


class DistrictMap:
    """The nine provinces (capitals, borders as lines) and the firms as dots, or province totals when too many.

    Dots: colour niche, area employees, exporters outlined in black. Links (on request): collaborations in blue,
    supply links in brown. Above ``AGGREGATE_ABOVE`` firms each province is a pie of employment by niche.
    """

    def __init__(self) -> None:
        self.figure = Figure(figsize=(6.4, 4.3), dpi=90)
        self.figure.subplots_adjust(left=0.08, right=0.99, bottom=0.1, top=0.99)
        ax = self.ax = self.figure.subplots()
        capitals = capital_km()
        self.limits = capitals.min(axis=0) - 42.0, capitals.max(axis=0) + 42.0
        self._frame()
        ax.set_xlabel("km east of Bologna", fontsize=8)
        ax.set_ylabel("km north of Bologna", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_locator(MaxNLocator(6))
        ax.yaxis.set_major_locator(MaxNLocator(5))
        index = {name: i for i, name in enumerate(PROVINCES)}
        borders = [capitals[[index[a], index[b]]] for a, b in BORDERS]
        ax.add_collection(LineCollection(borders, colors="0.8", linewidths=1.0, zorder=0))
        for p, name in enumerate(PROVINCES):
            x, y = capitals[p]
            ax.text(x, y + 17, pretty(name), fontsize=7, ha="center", color="0.15", zorder=5,
                    bbox={"facecolor": "white", "alpha": 0.65, "linewidth": 0, "pad": 1})  # fmt: skip
        self.links = {
            kind: ax.add_collection(LineCollection([], colors=colour, linewidths=0.4, alpha=0.35, zorder=1))
            for kind, colour in LINK_COLOURS.items()
        }
        self.home = ax.scatter([], [], s=[], linewidths=0, alpha=0.55, zorder=2)
        self.exporting = ax.scatter([], [], s=[], edgecolors="black", linewidths=0.6, zorder=3)
        self.aggregate_artists: list = []

    def update(self, model: DistrictModel, show_links: bool = False) -> Figure:
        """Redraw for the model's current quarter and return the figure."""
        for artist in self.aggregate_artists:
            artist.remove()
        self.aggregate_artists = []
        f = model.firms
        aggregate = f.n > AGGREGATE_ABOVE
        if aggregate:
            self.home.set_offsets(np.zeros((0, 2)))
            self.exporting.set_offsets(np.zeros((0, 2)))
            self._provinces(model)
        else:
            xy, sizes, colours = f.location, dot_sizes(f.employees), NICHE_COLOURS[f.niche.astype(np.intp)]
            out = exporters(f.served)
            for scatter, rows in ((self.home, ~out), (self.exporting, out)):
                scatter.set_offsets(xy[rows])
                scatter.set_sizes(sizes[rows])
                scatter.set_facecolors(colours[rows])
        self._links(model, show_links and not aggregate)
        return self.figure

    def _links(self, model: DistrictModel, show: bool) -> None:
        xy = model.firms.location
        for kind, rows in (("collaboration", partner_rows), ("supply", supply_rows)):
            collection = self.links[kind]
            collection.set_visible(show)
            if show:
                a, b = rows(model)
                collection.set_segments(np.stack([xy[a], xy[b]], axis=1))

    def _provinces(self, model: DistrictModel) -> None:
        """Each province as a pie of its employment by niche at its capital (area: employment)."""
        f = model.firms
        province = f.province.astype(np.intp)
        cells = province * N_NICHES + f.niche.astype(np.intp)
        jobs = np.bincount(cells, weights=f.employees, minlength=N_PROVINCES * N_NICHES).reshape(N_PROVINCES, -1)
        firms = np.bincount(province, minlength=N_PROVINCES)
        exporting = np.bincount(province, weights=exporters(f.served), minlength=N_PROVINCES)
        total = jobs.sum(axis=1)
        radius = 20.0 * np.sqrt(total / max(total.max(), 1.0))
        capitals = capital_km()
        for p in range(N_PROVINCES):
            if total[p] <= 0:
                continue
            wedges, _ = self.ax.pie(
                jobs[p], colors=NICHE_COLOURS, radius=max(radius[p], 3.0), center=tuple(capitals[p]),
                frame=True, wedgeprops={"linewidth": 0.3, "edgecolor": "white"},
            )  # fmt: skip
            x, y = capitals[p][0], capitals[p][1] - max(radius[p], 3.0) - 9
            text = f"{firms[p]:,} firms\n{exporting[p]:,.0f} exporters"
            label = self.ax.text(x, y, text, fontsize=6, ha="center", va="top", zorder=6)
            self.aggregate_artists += [*wedges, label]
        self._frame()  # pie() resets the limits and the aspect

    def _frame(self) -> None:
        lo, hi = self.limits
        self.ax.set_xlim(lo[0], hi[0])
        self.ax.set_ylim(lo[1], hi[1])
        self.ax.set_aspect("equal")


class TwinPanel:
    """One indicator (or a few) over time: the lever world solid, its twin dashed, their difference below."""

    def __init__(
        self,
        top: Axes,
        bottom: Axes,
        title: str,
        curves: list[tuple[str, str, str, float]],
        x_range: tuple[float, float],
    ) -> None:
        self.top, self.bottom, self.curves = top, bottom, curves
        top.set_title(title, fontsize=9)
        self.world = [top.plot([], [], color=c, linewidth=1.4)[0] for _, _, c, _ in curves]
        self.twin = [top.plot([], [], color=c, linewidth=1.0, linestyle="--")[0] for _, _, c, _ in curves]
        self.difference = [bottom.plot([], [], color=c, linewidth=1.2)[0] for _, _, c, _ in curves]
        self.fill = None
        bottom.axhline(0.0, color="black", linewidth=0.6)
        bottom.set_ylabel("difference", fontsize=8)
        for ax in (top, bottom):
            ax.ticklabel_format(axis="y", useOffset=False)
            ax.xaxis.set_major_locator(MultipleLocator(5 if x_range[1] - x_range[0] > 12 else 2))  # few labels: text
            # is most of a redraw's cost
            ax.yaxis.set_major_locator(MaxNLocator(4 if ax is top else 3))
            ax.set_xlim(*x_range)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3, linewidth=0.5)
        top.tick_params(labelbottom=False)

    def update(self, world: DistrictModel, twin: DistrictModel) -> None:
        """Set the curves to both worlds' series so far and rescale the values (the years stay fixed)."""
        n = min(len(world.datacollector.model_vars.get("step", [])), len(twin.datacollector.model_vars.get("step", [])))
        x = years(world, n)
        for (column, _, colour, scale), w_line, t_line, d_line in zip(
            self.curves, self.world, self.twin, self.difference, strict=True
        ):
            w, t = series(world, column)[:n] * scale, series(twin, column)[:n] * scale
            w_line.set_data(x, w)
            t_line.set_data(x, t)
            d_line.set_data(x, w - t)
            if len(self.curves) == 1:
                if self.fill is not None:
                    self.fill.remove()
                self.fill = self.bottom.fill_between(x, w - t, 0.0, color=colour, alpha=0.25, linewidth=0)
        if n == 0:
            return
        for ax in (self.top, self.bottom):
            ax.relim()
            ax.autoscale_view(scalex=False)
        low, high = self.bottom.get_ylim()
        if high - low < 1e-9:  # no difference at all: a frame around zero, not one of 1e-17
            self.bottom.set_ylim(-1.0, 1.0)


class TwinFigure:
    """A figure of side-by-side twin panels (lever world and twin above, difference below)."""

    def __init__(self, model: DistrictModel, panels: list[tuple[str, list[tuple[str, str, str, float]]]]) -> None:
        start = model.params.start_year
        x_range = (start, start + model.params.steps / QUARTERS_PER_YEAR)
        keyed = [(label, colour) for _, curves in panels if len(curves) > 1 for _, label, colour, _ in curves]
        self.figure = Figure(figsize=(6.4, 3.8 if keyed else 3.6), dpi=90)
        bottom = 0.15 if keyed else 0.08
        self.figure.subplots_adjust(left=0.1, right=0.98, bottom=bottom, top=0.86, wspace=0.28, hspace=0.08)
        axes = self.figure.subplots(2, len(panels), height_ratios=[2, 1], squeeze=False)
        self.panels = [
            TwinPanel(axes[0, i], axes[1, i], title, curves, x_range) for i, (title, curves) in enumerate(panels)
        ]
        self.figure.legend(
            [Line2D([], [], color="black"), Line2D([], [], color="black", linestyle="--")],
            ["this world (your levers)", "its twin"],
            loc="upper center", ncol=2, fontsize=7, frameon=False,
        )  # fmt: skip
        if keyed:  # the colours of a panel with several curves, under the figure
            self.figure.legend(
                [Line2D([], [], color=c) for _, c in keyed], [label for label, _ in keyed],
                loc="lower center", ncol=len(keyed), fontsize=6.5, frameon=False, handlelength=1.2, columnspacing=0.9,
            )  # fmt: skip

    def update(self, world: DistrictModel, twin: DistrictModel) -> Figure:
        """Redraw every panel for the two worlds' current quarter and return the figure."""
        for panel in self.panels:
            panel.update(world, twin)
        return self.figure


def exporters_and_employment(model: DistrictModel) -> TwinFigure:
    """Exporters and employment, with and without what was switched on."""
    return TwinFigure(
        model,
        [
            ("Exporters", [("n_exporters", "exporters", "#1f77b4", 1.0)]),
            ("Employment (thousand workers)", [("employment", "employment", "#2ca02c", 1e-3)]),
        ],
    )


def exports_and_diversity(model: DistrictModel) -> TwinFigure:
    """Exports by foreign market (EUR M a quarter) and niche diversity, with and without."""
    markets = [(f"exports_{m}", pretty(m), c, 1e-3) for m, c in zip(FOREIGN_MARKETS, MARKET_COLOURS, strict=True)]
    return TwinFigure(
        model,
        [
            ("Exports by market (EUR M a quarter)", markets),
            ("Niche diversity (Shannon, employment)", [("niche_diversity", "diversity", "#9467bd", 1.0)]),
        ],
    )


def niche_legend() -> list[tuple[str, str]]:
    """(niche label, colour) pairs of the map's dots."""
    return [(pretty(n), str(c)) for n, c in zip(NICHES, NICHE_COLOURS, strict=True)]
