"""The page's parts as solara components: monitors, the map, the twin plots, the Info panel.

Each takes the model (SolaraViz passes it) and reads ``update_counter`` so that it is redrawn after every
Step or Play batch. Figures are made once per model (``use_memo`` on the model) and updated in place; their
PNG is made again only when the quarter (or the links toggle) changes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import solara
from mesa.visualization.utils import update_counter

from sim.view import figures
from sim.view.levers import COMPARE
from sim.view.model import StudentModel
from sim.view.readings import monitors, region_equivalent, series, when
from sim.view.worlds import switched_on

INFO = Path(__file__).with_name("info.md")

#: Sliders show their value beside the thumb (SolaraViz's sliders have no label of their value).
CSS = """
.v-slider__thumb-container::after {
    content: attr(aria-valuenow); position: absolute; top: -21px; left: -12px;
    font-size: 11px; color: #1565c0; white-space: nowrap;
}
.v-input--slider { margin-top: 14px; }
.monitors { display: grid; grid-template-columns: auto auto auto auto; column-gap: 14px; row-gap: 2px; }
.monitors .head { font-weight: bold; color: #555; font-size: 12px; }
.monitors [class*="monitor-"] { text-align: right; font-variant-numeric: tabular-nums; }
.view-note { font-size: 12px; color: #444; }
"""


def _twin_text(model: StudentModel) -> str:
    leaves_out = {value: label for label, value in COMPARE.items()}[model.levers.compare]
    return f"Twin: {leaves_out} (same seed, {model.levers.seed})."


@solara.component
def Monitors(model: StudentModel) -> solara.Element:
    """Year and quarter, firms, employment, exporters, exports, policy spending: this world, its twin, the gap."""
    update_counter.get()
    with solara.Card("Monitors", margin=0) as card:
        with solara.Div(classes=["monitors"]):
            for head in ("", "this world", "twin", "difference"):
                solara.Text(head, classes=["head"])
            for line in monitors(model):
                solara.Text(line.label)
                solara.Text(line.world, classes=[f"monitor-{line.key}"])
                solara.Text(line.twin, classes=[f"monitor-{line.key}-twin"])
                solara.Text(line.difference, classes=[f"monitor-{line.key}-difference"])
        notes = []
        spent = series(model, "policy_spending").sum() / 1000.0
        if spent > 0:
            notes.append(
                f"Spent in this sample of {model.params.n_firms:,} firms; for the whole region that is about "
                f"EUR {region_equivalent(model, spent):,.1f} M (budgets scale with the number of firms)."
            )
        on = switched_on(model.params)
        notes.append("This world: " + ("; ".join(on) if on else "nothing switched on") + ".")
        notes.append(_twin_text(model))
        if not model.running:
            notes.append(f"The run has reached its end ({model.levers.end_year}).")
        for note in notes:
            solara.Div(children=[note], classes=["view-note"])
    return card


@solara.component
def NicheLegend() -> None:
    """The map's colours, as text beside the figure (a matplotlib legend would cost every redraw)."""
    with solara.Div(style={"display": "flex", "flex-wrap": "wrap", "font-size": "11px", "column-gap": "8px"}):
        for name, colour in figures.niche_legend():
            solara.Text(f"\u25cf {name}", style={"color": colour})
        solara.Text("\u25cb black outline: exporter", style={"color": "black"})


@solara.component
def DistrictMap(model: StudentModel) -> solara.Element:
    """The nine provinces with the firms as dots (or province pies above 5,000 firms); links on a toggle."""
    update_counter.get()
    links, set_links = solara.use_state(False)
    drawing = solara.use_memo(figures.DistrictMap, [model])
    deps = [model, model.steps, links]
    figure = solara.use_memo(lambda: drawing.update(model, links), deps)
    with solara.Card(f"The district, {when(model.steps, model.params.start_year)}", margin=0) as card:
        solara.Checkbox(label="Show collaboration (blue) and supply (brown) links", value=links, on_value=set_links)
        solara.FigureMatplotlib(figure, format="png", dependencies=deps)
        if model.firms.n > figures.AGGREGATE_ABOVE:
            solara.Text(
                f"More than {figures.AGGREGATE_ABOVE:,} firms: each province is drawn as a pie of its employment by "
                "niche (area: employment), with its firms and exporters.",
                classes=["view-note"],
            )
        NicheLegend()
    return card


@solara.component
def TwinPlot(model: StudentModel, title: str, make: Callable[[StudentModel], figures.TwinFigure]) -> solara.Element:
    """One twin figure (``make(model)`` builds it once per model) in a card, redrawn every quarter."""
    update_counter.get()
    drawing = solara.use_memo(lambda: make(model), [model])
    deps = [model, model.steps]
    figure = solara.use_memo(lambda: drawing.update(model, model.twin), deps)
    with solara.Card(title, margin=0) as card:
        solara.FigureMatplotlib(figure, format="png", dependencies=deps)
    return card


def exporters_and_employment(model: StudentModel) -> solara.Element:
    """Exporters and employment in both worlds and their difference (for SolaraViz's components list)."""
    return TwinPlot(model, "Exporters and employment", figures.exporters_and_employment)


def exports_and_diversity(model: StudentModel) -> solara.Element:
    """Exports by market and niche diversity in both worlds and their difference."""
    return TwinPlot(model, "Exports by market and niche diversity", figures.exports_and_diversity)


@solara.component
def Info(model: StudentModel) -> solara.Element:
    """The Info panel for a student: what it is, how it works, things to notice, things to try."""
    text = solara.use_memo(lambda: INFO.read_text(encoding="utf-8"), [])
    with solara.Card("Info", margin=0) as card:
        solara.Markdown(text)
    return card


@solara.component
def Refusal(message: str | None) -> None:
    """The page's answer to bad values: what was refused and why; the world on screen is kept."""
    if message:
        solara.Error(
            f"Not rebuilt: {message}. The world on screen is kept; correct the field and press Reset.",
            classes=["refusal"],
        )
