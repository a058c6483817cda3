"""The student view: a SolaraViz page of the lever world and its twin. Serve it with ``distretto view``.

``solara run`` executes this file once for the server, so the model is built per browser session, in
``Page`` (``use_memo``), never at module level: two students never share a world. Reset rebuilds the
model from ``MODEL_PARAMS`` through ``RefusingWorld``, which keeps the current world when the new values
are refused and shows why.
"""

from __future__ import annotations

import os

import solara
from mesa.visualization import Slider, SolaraViz, make_plot_component

from sim.view import components, inspector
from sim.view.levers import COMPARE, DEFAULTS, FIRMS_RANGE, INSTRUMENTS, LABELS, SHOCKS, YEARS, library
from sim.view.model import StudentModel

#: Firms of the first world; ``distretto view --firms N`` passes N here.
FIRMS_VARIABLE = "DISTRETTO_VIEW_FIRMS"


def initial_firms() -> str:
    """The starting value of the firms field: the command line's --firms, if it is a usable number."""
    text = os.environ.get(FIRMS_VARIABLE, "").strip()
    if text.isdigit() and FIRMS_RANGE[0] <= int(text) <= FIRMS_RANGE[1]:
        return text
    return DEFAULTS["n_firms"]


def _select(name: str, values: list[str]) -> dict:
    return {"type": "Select", "value": DEFAULTS[name], "values": values, "label": LABELS[name]}


def _text(name: str, value: str | None = None) -> dict:
    return {"type": "InputText", "value": DEFAULTS[name] if value is None else value, "label": LABELS[name]}


MODEL_PARAMS = {
    "scenario_name": _select("scenario_name", library()),
    "seed": _text("seed"),
    "n_firms": _text("n_firms", initial_firms()),
    "compare": _select("compare", list(COMPARE)),
    **{i.keyword: _text(i.keyword) for i in INSTRUMENTS},
    "policy_start_year": Slider(LABELS["policy_start_year"], DEFAULTS["policy_start_year"], *YEARS, 1),
    "max_employees": Slider(LABELS["max_employees"], DEFAULTS["max_employees"], 10, 250, 10),
    "shock": _select("shock", list(SHOCKS)),
    "shock_year": Slider(LABELS["shock_year"], DEFAULTS["shock_year"], *YEARS, 1),
    "universities": {"type": "Checkbox", "value": DEFAULTS["universities"], "label": LABELS["universities"]},
    "end_year": Slider(LABELS["end_year"], DEFAULTS["end_year"], YEARS[0] + 2, YEARS[1], 1),
}


def first_values() -> dict:
    """The values the page starts with (those of MODEL_PARAMS)."""
    return {k: (v.value if isinstance(v, Slider) else v["value"]) for k, v in MODEL_PARAMS.items()}


#: (component, page): page 0 the district, 1 more plots, 2 the firm inspector, 3 Info.
COMPONENTS = [
    (components.Monitors, 0),
    (components.DistrictMap, 0),
    (components.exporters_and_employment, 0),
    (components.exports_and_diversity, 1),
    make_plot_component(
        {"policy_spending": "tab:blue", "guarantee_losses": "tab:red"}, page=1
    ),  # Mesa's own plot: this world's spending and guarantee losses a quarter
    (inspector.FirmInspector, 2),
    (components.Info, 3),
]


class RefusingWorld(solara.Reactive):
    """The page's current world: a refused model (bad values at Reset) never replaces it; its message is kept."""

    def __init__(self, world: solara.Reactive, refusal: solara.Reactive) -> None:
        super().__init__(world)  # a Reactive built on another stores its value there
        self.refusal = refusal

    def set(self, value: StudentModel) -> None:
        """Take ``value`` as the new world, unless it was refused: then keep the world and show why."""
        if getattr(value, "refusal", None):
            self.refusal.set(value.refusal)
            return
        self.refusal.set(None)
        super().set(value)


@solara.component
def Page() -> None:
    """One world and its twin per browser session, with the levers in the side bar."""
    first = solara.use_memo(lambda: StudentModel(**first_values()), [])
    world = solara.use_reactive(first)
    refusal = solara.use_reactive(None)
    guarded = solara.use_memo(lambda: RefusingWorld(world, refusal), [])
    solara.Style(components.CSS)
    components.Refusal(refusal.value)
    SolaraViz(
        guarded,
        components=COMPONENTS,
        model_params=MODEL_PARAMS,
        name="distretto: the student view",
        play_interval=1,
    )
