"""The student view's page without a browser, with solara's render API.

``solara.render`` builds the widget tree in this process; ``rc.find(WidgetClass, **traits)`` finds widgets by
their traits and ``.widget`` is the live ipyvuetify widget: ``.click()`` presses a button, setting ``v_model``
moves a slider or a select, and a text field hands its value over on a ``focusout`` event, as in the browser.
"""

from __future__ import annotations

import functools

import ipyvuetify as v
import ipywidgets
import mesa
import pytest
import solara
from solara.server import kernel_context

from sim.view import app, figures
from sim.view.levers import LABELS
from sim.view.model import StudentModel

MESA_35 = tuple(int(x) for x in mesa.__version__.split(".")[:2]) >= (3, 5)


def counter_text(n: int) -> str:
    """SolaraViz's counter: 'Step: N' on Mesa 3.3, 'Time: N.0' on Mesa 3.5."""
    return f"Time: {float(n)}" if MESA_35 else f"Step: {n}"


@pytest.fixture
def kernel():
    """A fresh virtual kernel per test, so that solara's reactive variables (Mesa's update_counter) do not leak."""
    with kernel_context.create_dummy_context() as ctx:
        yield ctx


@pytest.fixture
def built(monkeypatch):
    """Every StudentModel the page builds, with the keywords it was given (Reset passes keywords)."""
    made: list[tuple[StudentModel, dict]] = []
    original = StudentModel.__init__

    @functools.wraps(original)  # keeps the signature: SolaraViz checks it
    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        made.append((self, kwargs))

    monkeypatch.setattr(StudentModel, "__init__", spy)
    return made


@pytest.fixture
def page(kernel, built):
    # SolaraViz puts its controls in an AppBar and a Sidebar, which render only inside an AppLayout
    _box, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)
    yield rc
    rc.close()


def click(rc, label: str) -> None:
    rc.find(v.Btn, children=[label]).widget.click()


def type_into(rc, name: str, text: str) -> None:
    field = rc.find(v.TextField, label=LABELS[name]).widget
    field.v_model = text
    field.fire_event("focusout", None)


def monitor(rc, key: str) -> str:
    (widget,) = rc.find(v.Html, class_=f"monitor-{key}").widgets
    return widget.children[0]


def test_page_builds_with_monitors_map_and_plots(page, built):
    page.find(v.Btn, children=["Step"]).assert_single()
    page.find(v.Btn, children=["Reset"]).assert_single()
    page.find(v.Html, children=[counter_text(0)]).assert_single()
    assert monitor(page, "time") == "start of 2010" and monitor(page, "firms") == "2,000"
    assert monitor(page, "firms-twin") == "2,000" and monitor(page, "firms-difference") == "+0"
    images = page.find(ipywidgets.Image).widgets
    assert len(images) == 2, "page 0: the map and the exporters-and-employment plot"
    assert all(image.format == "png" and len(image.value) > 5000 for image in images)
    assert len(built) == 1 and built[0][0].twin.steps == 0


def test_sliders_selects_and_fields_carry_their_ranges_and_values(page):
    start = page.find(v.Slider, label=LABELS["policy_start_year"]).widget
    assert (start.min, start.max, start.step, start.v_model) == (2010, 2040, 1, 2015)
    size = page.find(v.Slider, label=LABELS["max_employees"]).widget
    assert (size.min, size.max, size.step, size.v_model) == (10, 250, 10, 250)
    end = page.find(v.Slider, label=LABELS["end_year"]).widget
    assert (end.min, end.max, end.v_model) == (2012, 2040, 2024)
    scenario = page.find(v.Select, label="Scenario").widget
    assert scenario.v_model == "baseline" and "russia_sanctions" in scenario.items
    shock = page.find(v.Select, label="Shock").widget
    assert shock.v_model == "No shock" and "Russia sanctions: the market closes" in shock.items
    assert page.find(v.TextField, label=LABELS["eu_budget"]).widget.v_model == "0"


def test_step_moves_both_worlds_and_redraws(page, built):
    before = [image.value for image in page.find(ipywidgets.Image).widgets]
    for _ in range(3):
        click(page, "Step")
    page.find(v.Html, children=[counter_text(3)]).assert_single()
    model = built[-1][0]
    assert model.steps == model.twin.steps == 3
    assert monitor(page, "time") == "2010 Q3" and monitor(page, "time-twin") == "2010 Q3"
    after = [image.value for image in page.find(ipywidgets.Image).widgets]
    assert all(a != b for a, b in zip(before, after, strict=True))


def test_reset_rebuilds_both_worlds_with_the_new_levers(page, built):
    click(page, "Step")
    type_into(page, "eu_budget", "20")
    type_into(page, "n_firms", "500")
    page.find(v.Slider, label=LABELS["policy_start_year"]).widget.v_model = 2011
    page.find(v.Select, label="Scenario").widget.v_model = "russia_sanctions"
    page.find(v.Select, label="Compare with").widget.v_model = "the same world without its shocks"
    click(page, "Reset")

    model, kwargs = built[-1]
    assert len(built) == 2 and model.steps == model.twin.steps == 0
    assert kwargs["eu_budget"] == "20" and kwargs["n_firms"] == "500" and kwargs["scenario_name"] == "russia_sanctions"
    assert model.params.policies["lever_eu_internationalisation"].start == 5  # 2011 Q1
    assert set(model.params.shocks) == {"sanctions_2014", "sanctions_2022"}
    assert model.twin.params.shocks == {} and set(model.twin.params.policies) == set(model.params.policies)
    page.find(v.Html, children=[counter_text(0)]).assert_single()
    assert monitor(page, "firms") == "500" and monitor(page, "firms-twin") == "500"


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("eu_budget", "-5", "cannot be negative"),
        ("seed", "", "Random seed: is empty"),
        ("n_firms", "many", "Firms at start: must be a whole number"),
    ],
)
def test_a_bad_value_is_refused_with_a_message_and_the_world_kept(page, built, name, text, expected):
    click(page, "Step")
    shown = built[-1][0]
    type_into(page, name, text)
    click(page, "Reset")
    (alert,) = page.find(v.Alert).widgets
    assert expected in alert.children[0] and "The world on screen is kept" in alert.children[0]
    assert built[-1][0].refusal is not None  # the refused model was made, and dropped
    page.find(v.Html, children=[counter_text(1)]).assert_single()
    assert monitor(page, "time") == "2010 Q1"
    click(page, "Step")  # the kept world goes on
    assert shown.steps == 2
    type_into(page, name, "3" if name != "n_firms" else "300")
    click(page, "Reset")
    assert page.find(v.Alert).widgets == [] and monitor(page, "time") == "start of 2010"


def test_a_start_year_after_the_end_of_the_run_is_refused(page):
    type_into(page, "training_budget", "10")
    page.find(v.Slider, label=LABELS["policy_start_year"]).widget.v_model = 2031
    page.find(v.Slider, label=LABELS["end_year"]).widget.v_model = 2030
    click(page, "Reset")
    (alert,) = page.find(v.Alert).widgets
    assert "2031 is after the end of the run (2030)" in alert.children[0]


def templates(rc) -> str:
    """The HTML of every Markdown block in a card (solara renders Markdown as a Vuetify template)."""
    found: list[str] = []

    def walk(widget) -> None:
        template = getattr(widget, "template", None)
        if isinstance(template, str):
            found.append(template)
        for child in getattr(widget, "children", None) or []:
            if not isinstance(child, str):
                walk(child)

    for card in rc.find(v.Card).widgets:
        walk(card)
    return " ".join(found)


def test_more_plots_inspector_and_info_on_their_pages(page, built):
    for _ in range(4):
        click(page, "Step")
    tabs = page.find(v.Tabs).widget
    tabs.v_model = 1
    assert len(page.find(ipywidgets.Image).widgets) == 2  # exports and diversity, and Mesa's spending plot
    tabs.v_model = 2
    click(page, "Largest firm")
    model = built[-1][0]
    largest = int(model.firms.firm_id[model.firms.employees.argmax()])
    assert page.find(v.TextField, label="Firm id").widget.v_model == str(largest)
    shown = templates(page)
    assert f"Firm {largest}" in shown and "technical partners" in shown and "History from the yearly panel" in shown
    assert "the same firm in the twin" in shown  # an initial firm: the same firm in both worlds
    click(page, "An exporter")
    assert "an exporter." in templates(page)
    type_into_label(page, "Firm id", "999999")
    assert any("No firm 999999" in str(w.children) for w in page.find(v.Alert).widgets)
    tabs.v_model = 3
    assert "Things to try" in templates(page) and "docs/ODD.md" in templates(page)


def type_into_label(rc, label: str, text: str) -> None:
    field = rc.find(v.TextField, label=label).widget
    field.v_model = text
    field.fire_event("focusout", None)


def test_the_map_draws_province_aggregates_above_the_threshold():
    small = StudentModel(n_firms="300")
    drawing = figures.DistrictMap()
    drawing.update(small, show_links=True)
    assert len(drawing.home.get_offsets()) + len(drawing.exporting.get_offsets()) == small.firms.n
    assert drawing.aggregate_artists == [] and drawing.links["supply"].get_visible()
    large = StudentModel(n_firms=str(figures.AGGREGATE_ABOVE + 500))
    drawing.update(large)
    assert len(drawing.home.get_offsets()) == 0 and len(drawing.aggregate_artists) > 9
