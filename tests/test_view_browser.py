"""The student view in a real browser: ``distretto view`` on a free port, driven by Playwright in headless chromium.

Step three times, see the step counter, the monitors and a plot change; pull levers, Reset, see quarter 0 of the
new world; type a bad value, Reset, see it refused with the world kept. Not skipped when chromium or playwright
is missing: that is a failure (.ci/run installs chromium, the dev extra playwright).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from view_server import launch_chromium, serve_view

FIRMS = 600  # a small world: the test is about the page, not the model

#: SolaraViz's counter: "Step: 3" on Mesa 3.3, "Time: 3.0" on Mesa 3.5 (it shows model.time there)
COUNTER = re.compile(r"^(Step|Time): \d+(\.0)?$")


def counter_is(n: int) -> re.Pattern:
    return re.compile(rf"^(Step: {n}|Time: {n}\.0)$")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with serve_view(tmp_path_factory.mktemp("view") / "server.log", firms=FIRMS) as served:
        assert f"distretto view: serving the student view on {served.url}" in served.log.read_text()
        yield served.url
    # stopped as Ctrl-C stops it: the whole process group gets SIGINT, and distretto exits cleanly
    assert served.returncode == 0, served.log.read_text()[-2000:]
    assert "distretto view: stopped" in served.log.read_text()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server) -> Page:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    tab.goto(server)
    expect(tab.get_by_text(COUNTER)).to_have_text(counter_is(0), timeout=90_000)  # the kernel has drawn the page
    yield tab
    context.close()


def monitor(tab: Page, key: str):
    return tab.locator(f".monitor-{key}")


def plot_image(tab: Page):
    return tab.locator(".v-card", has_text="Exporters and employment").locator("img")


def type_into(tab: Page, label: str, text: str) -> None:
    field = tab.get_by_label(label, exact=True)
    field.fill(text)
    field.press("Enter")  # a text field hands its value over on Enter or when it loses focus


def test_step_levers_reset_and_a_refused_value(page: Page):
    step = page.get_by_role("button", name="Step", exact=True)
    reset = page.get_by_role("button", name="Reset", exact=True)
    counter = page.get_by_text(COUNTER)

    expect(monitor(page, "time")).to_have_text("start of 2010")
    expect(monitor(page, "firms")).to_have_text(f"{FIRMS:,}")
    employment = monitor(page, "employment").inner_text()
    plot = plot_image(page).get_attribute("src")
    for n in (1, 2, 3):
        step.click()
        expect(counter).to_have_text(counter_is(n))  # wait for each: a click on a busy kernel queues
    expect(monitor(page, "time")).to_have_text("2010 Q3")
    expect(monitor(page, "time-twin")).to_have_text("2010 Q3")  # the twin steps in lockstep
    expect(monitor(page, "employment")).not_to_have_text(employment)
    expect(plot_image(page)).not_to_have_attribute("src", plot)  # the plot was drawn again

    # levers: a budget and the firms typed, a slider moved with the keyboard, a select by its menu
    type_into(page, "EU internationalisation co-funding (EUR M/year)", "20")
    type_into(page, "Firms at start", "500")
    start = page.get_by_role("slider", name="Policies start in (year)")
    expect(start).to_have_attribute("aria-valuemin", "2010")
    expect(start).to_have_attribute("aria-valuemax", "2040")
    start.focus()
    start.press("ArrowLeft")
    expect(start).to_have_attribute("aria-valuenow", "2014")
    page.locator(".v-select").filter(has_text="Shock").first.locator(".v-input__slot").click()
    page.get_by_role("option", name="China slowdown", exact=True).click()

    reset.click()
    expect(counter).to_have_text(counter_is(0))
    expect(monitor(page, "time")).to_have_text("start of 2010")
    expect(monitor(page, "firms")).to_have_text("500")  # the new world was built with the new levers
    expect(monitor(page, "firms-twin")).to_have_text("500")
    switched_on = re.compile("^This world: EU internationalisation co-funding.*China slowdown")
    expect(page.get_by_text(switched_on)).to_be_visible()

    # a bad value: refused with a message, the world on screen kept
    step.click()
    expect(counter).to_have_text(counter_is(1))
    type_into(page, "EU internationalisation co-funding (EUR M/year)", "-5")
    reset.click()
    expect(page.locator(".refusal")).to_contain_text("cannot be negative")
    expect(counter).to_have_text(counter_is(1))
    expect(monitor(page, "time")).to_have_text("2010 Q1")
    type_into(page, "EU internationalisation co-funding (EUR M/year)", "5")
    reset.click()
    expect(page.locator(".refusal")).to_have_count(0)
    expect(counter).to_have_text(counter_is(0))
