"""How responsive is the student view? Quarters drawn per second, in the server and in a real browser.

    python benchmarks/bench_view.py                     # server side (solara's render API) and Play in chromium
    python benchmarks/bench_view.py --screenshot docs/img/student_view.png   # also the README's screenshot

Server side: one Step click on page 0 (both worlds step, the monitors, the map and the exporters plot are
redrawn) timed with solara's render API, at 2,000 firms and at 10,000 (the map then shows province pies).
Browser: ``distretto view`` driven by Playwright in headless chromium; Play runs with Play Interval 1 ms for
a fixed number of quarters, and a MutationObserver counts the map's redraws. Medians; the machine has 2 cores.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import ipyvuetify as v
import mesa
import solara
from playwright.sync_api import expect, sync_playwright
from solara.server import kernel_context

from sim.view import app

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from view_server import launch_chromium, serve_view  # noqa: E402

warnings.filterwarnings("ignore")
COUNTER = re.compile(r"^(Step|Time): \d+(\.0)?$")
PLAY = re.compile("^(\u25b6|\u275a\u275a)$")


def quarters_shown(text: str) -> int:
    return int(float(text.split(":")[1]))


def server_side(firms: int, interval: int, clicks: int = 8) -> float:
    """Quarters per second that Step clicks of ``interval`` quarters reach, page 0 drawn after each click."""
    with kernel_context.create_dummy_context():
        _box, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)
        field = rc.find(v.TextField, label="Firms at start").widget
        field.v_model = str(firms)
        field.fire_event("focusout", None)
        rc.find(v.Btn, children=["Reset"]).widget.click()
        rc.find(v.Slider, label="Render Interval (steps)").widget.v_model = interval
        step = rc.find(v.Btn, children=["Step"]).widget
        step.click()  # warm up
        times = []
        for _ in range(clicks):
            started = time.perf_counter()
            step.click()
            times.append(time.perf_counter() - started)
        rc.close()
    return interval / statistics.median(times)


def set_slider(page, name: str, value: int) -> None:
    """Move a slider with the keyboard, one step at a time (each step goes to the server and back)."""
    slider = page.get_by_role("slider", name=name)
    slider.focus()
    while int(slider.get_attribute("aria-valuenow")) < value:
        now = slider.get_attribute("aria-valuenow")
        slider.press("ArrowRight")
        expect(slider).not_to_have_attribute("aria-valuenow", now)
        page.wait_for_timeout(150)  # quick presses can race with the server's echo of the value


def in_browser(browser, url: str, interval: int, quarters: int) -> tuple[float, float]:
    """(quarters per second, map redraws per second) while Play runs ``quarters`` quarters in chromium."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    counter = page.get_by_text(COUNTER)
    expect(counter).to_have_text(re.compile(r"^(Step: 0|Time: 0\.0)$"), timeout=90_000)
    set_slider(page, "Render Interval (steps)", interval)  # the slider goes 1, 3, 5, ...
    redraws: list[float] = []
    page.expose_function("noteRedraw", lambda: redraws.append(time.perf_counter()))
    page.evaluate(
        """() => new MutationObserver(changes => {
            for (const change of changes) {
                const card = change.target.closest('.v-card');
                if (card && card.innerText.includes('The district')) window.noteRedraw();
            }
        }).observe(document.body, {subtree: true, attributes: true, attributeFilter: ['src']})"""
    )
    play = page.get_by_role("button", name=PLAY)
    started = time.perf_counter()
    play.click()
    page.wait_for_function(
        """n => [...document.querySelectorAll('span')]
            .some(s => /^(Step|Time): /.test(s.textContent) && parseFloat(s.textContent.split(':')[1]) >= n)""",
        arg=quarters,
        timeout=300_000,
    )
    elapsed = time.perf_counter() - started
    play.click()  # pause
    shown = quarters_shown(counter.inner_text())
    page.close()
    return shown / elapsed, len(redraws) / elapsed


def screenshot(browser, url: str, path: Path) -> None:
    """The page after the Russia closure of 2014, compared with the world without it, at 2016 Q4."""
    page = browser.new_page(viewport={"width": 1500, "height": 1120})
    page.goto(url)
    counter = page.get_by_text(COUNTER)
    expect(counter).to_have_text(re.compile(r"^(Step: 0|Time: 0\.0)$"), timeout=90_000)
    page.locator(".v-select").filter(has_text="Shock").first.locator(".v-input__slot").click()
    page.get_by_role("option", name="Russia sanctions: the market closes", exact=True).click()
    page.locator(".v-select").filter(has_text="Compare with").first.locator(".v-input__slot").click()
    page.get_by_role("option", name="the same world without its shocks", exact=True).click()
    page.get_by_role("button", name="Reset", exact=True).click()
    expect(page.locator(".monitor-time")).to_have_text("start of 2010")
    set_slider(page, "Render Interval (steps)", 27)  # 27 quarters in one Step: to 2016 Q3
    page.get_by_role("button", name="Step", exact=True).click()
    expect(page.locator(".monitor-time")).to_have_text("2016 Q3", timeout=60_000)
    page.wait_for_timeout(1500)  # let the images paint
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    page.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshot", type=Path, default=None, help="also save a screenshot of the page here")
    parser.add_argument("--quarters", type=int, default=40, help="quarters Play runs for each browser figure")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, Mesa {mesa.__version__}, solara {solara.__version__}")
    for firms, interval in ((2000, 1), (2000, 5), (10_000, 1), (10_000, 5)):
        rate = server_side(firms, interval)
        print(f"server  {firms:>6,} firms  render interval {interval}: {rate:5.1f} quarters/s (Step clicks, page 0)")
    log = Path(tempfile.mkdtemp(prefix="bench_view")) / "server.log"
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for firms, runs in ((2000, (1, 5)), (10_000, (1, 5))):
            with serve_view(log, firms=firms) as served:
                url = served.url
                for interval in runs:
                    quarters, redraws = in_browser(browser, url, interval, args.quarters)
                    print(
                        f"browser {firms:>6,} firms  render interval {interval}: {quarters:5.1f} quarters/s, "
                        f"{redraws:4.1f} map redraws/s (Play, {args.quarters} quarters)"
                    )
                if args.screenshot and firms == 2000:
                    screenshot(browser, url, args.screenshot)
                    print(f"screenshot: {args.screenshot}")
        browser.close()


if __name__ == "__main__":
    main()
