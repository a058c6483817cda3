"""The moments of sim/experiments/moments.py on small tables whose answers are known by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.experiments.moments import (
    CALIBRATION_MOMENTS,
    RunTables,
    affiliate_owner_share_by_size,
    measure,
    top_quintile_stay,
)


def _panel(rows: list[tuple]) -> pd.DataFrame:
    """Panel rows (step, firm_id, employees, n_markets, sales, productivity, niche, entered_step, exited)."""
    columns = ["step", "firm_id", "employees", "n_markets", "sales", "productivity", "niche", "entered_step", "exited"]
    return pd.DataFrame(rows, columns=columns)


def _model(steps: int, **columns) -> pd.DataFrame:
    frame = pd.DataFrame({"step": np.arange(1, steps + 1)})
    for name, value in columns.items():
        frame[name] = value
    return frame


@pytest.fixture
def toy() -> RunTables:
    # Four firms over three yearly waves after a burn-in of 4: firm 1 always exports, firm 2 stops, firm 3
    # starts, firm 4 never exports; firm 5 enters at step 6 and exits at step 9; firm 6 is born at step 9
    # and still alive at the end.
    rows = []
    exports = {1: (2, 2, 2), 2: (2, 1, 1), 3: (1, 2, 2), 4: (1, 1, 1)}
    for k, step in enumerate((8, 12, 16)):
        for firm, status in exports.items():
            rows.append(
                (
                    step,
                    firm,
                    [5, 12, 60, 3][firm - 1],
                    status[k],
                    100.0 * (1 + firm) * 1.1**k,
                    float(firm),
                    0,
                    -40,
                    False,
                )
            )
    rows.append((9, 5, 2, 1, 10.0, 1.0, 0, 6, True))
    rows.append((12, 6, 2, 1, 10.0, 1.0, 0, 9, False))
    rows.append((16, 6, 2, 1, 12.0, 1.0, 0, 9, False))
    panel = _panel(rows)
    # firm 3 (60 employees) opens an affiliate in the USA by the second wave; a foreign group buys firm 2
    # (12 employees) before the third
    panel["affiliate_markets"] = [
        ("usa",) if (firm, step) in {(3, 12), (3, 16)} else ()
        for firm, step in zip(panel.firm_id, panel.step, strict=True)
    ]
    panel["foreign_owned"] = (panel.firm_id == 2) & (panel.step == 16)
    model = _model(
        16,
        n_firms=4.0,
        n_entries=[0] * 5 + [1, 0, 0, 1] + [0] * 7,
        n_exits=[0] * 8 + [1] + [0] * 7,
        n_exits_insolvency=0,  # firm 5 was closed by its owner
        sales=100.0,
        export_sales=40.0,
        exports_eu=20.0,
        exports_usa=10.0,
        exports_china=6.0,
        exports_russia=4.0,
        profits=5.0,
        interest=1.0,
        b2b_sales=20.0,
        employment=80.0,
        exporter_share=0.5,
    )
    return RunTables(model, panel, burn_in=4)


def test_sizes_and_export_status(toy):
    m = {
        name: CALIBRATION_MOMENTS[name].fn(toy)
        for name in ("mean_employees", "share_micro", "share_large", "exporter_share")
    }
    alive = toy.alive  # 4 firms x 3 waves + firm 6 at two waves
    assert len(alive) == 14
    assert m["mean_employees"] == pytest.approx((3 * (5 + 12 + 60 + 3) + 2 * 2) / 14)
    assert m["share_micro"] == pytest.approx((3 * 2 + 2) / 14)  # firms 1 and 4 at every wave, firm 6 twice
    assert m["share_large"] == pytest.approx(3 / 14)
    assert m["exporter_share"] == pytest.approx(6 / 14)
    # the one firm of 10-49 (firm 2) exports at one wave of three; firm 1 gives 3 of the 6 exporters' rows
    assert CALIBRATION_MOMENTS["exporter_share_10_49"].fn(toy) == pytest.approx(1 / 3)
    assert CALIBRATION_MOMENTS["micro_share_of_exporters"].fn(toy) == pytest.approx(3 / 6)


def test_affiliate_owners_and_foreign_ownership(toy):
    # 14 rows alive: firm 3 owns an affiliate at 2 of them; 6 rows have 10+ employees (firms 2 and 3)
    assert CALIBRATION_MOMENTS["affiliate_owner_share"].fn(toy) == pytest.approx(2 / 14)
    assert CALIBRATION_MOMENTS["affiliate_owner_share_10_plus"].fn(toy) == pytest.approx(2 / 6)
    assert CALIBRATION_MOMENTS["foreign_owned_share"].fn(toy) == pytest.approx(1 / 14)
    by_size = affiliate_owner_share_by_size(toy)
    assert by_size == {"0-9": 0.0, "10-49": 0.0, "50-249": pytest.approx(2 / 3), "250+": by_size["250+"]}
    assert np.isnan(by_size["250+"])  # no firm of 250+


def test_export_transitions_count_each_firm_a_year_apart(toy):
    # exporters a year before: firm 1 (twice, stays), firm 2 (once, stops), firm 3 (once, stays) -> 3 / 4
    assert CALIBRATION_MOMENTS["p_export_stay"].fn(toy) == pytest.approx(3 / 4)
    # non-exporters a year before: firm 2 (once, not), 3 (once, starts), 4 (twice, not), 6 (once, not) -> 1 / 5
    assert CALIBRATION_MOMENTS["p_export_start"].fn(toy) == pytest.approx(1 / 5)


def test_flows_demography_and_margins(toy):
    m = measure(toy.model, toy.panel, toy.burn_in)
    assert m["export_intensity"] == pytest.approx(0.4)
    assert m["export_share_eu"] == pytest.approx(0.5) and m["export_share_russia"] == pytest.approx(0.1)
    # after the burn-in: 12 quarters = 3 years, 2 entrants and 1 exit over 4 firms on average
    assert m["entry_rate"] == pytest.approx(2 / 4 / 3) and m["exit_rate"] == pytest.approx(1 / 4 / 3)
    # entrants born after the burn-in at least 4 quarters before the end: firm 5 (gone in 3) and firm 6
    assert m["entrant_survival"] == pytest.approx(0.5)
    assert m["operating_margin"] == pytest.approx(6 / 120)
    assert m["insolvency_share_of_exits"] == 0.0
    assert np.isnan(m["drift_firms"])  # 16 quarters cannot show a ten-year drift


def test_growth_kurtosis_and_dispersion_on_known_distributions():
    rng = np.random.default_rng(0)
    n = 4000
    rows = []
    sales = rng.lognormal(3, 1, n)
    for step in (8, 12, 16):
        rows += [
            (step, i, 5, 1, s, p, i % 2, -10, False)
            for i, (s, p) in enumerate(zip(sales, rng.lognormal(0, 0.3, n), strict=True))
        ]
        sales = sales * np.exp(rng.laplace(0.05 * step, 0.1, n))  # Laplace growth: excess kurtosis 3, a year effect
    t = RunTables(_model(16, n_firms=float(n)), _panel(rows), burn_in=4)
    assert CALIBRATION_MOMENTS["growth_kurtosis"].fn(t) == pytest.approx(3.0, abs=0.5)
    # lognormal(0, 0.3): 90/10 ratio exp(2 x 1.2816 x 0.3)
    assert CALIBRATION_MOMENTS["productivity_p90_p10"].fn(t) == pytest.approx(np.exp(2 * 1.2816 * 0.3), rel=0.05)


def test_drift_compares_ten_years_after_the_burn_in():
    model = _model(60, n_firms=np.linspace(100, 160, 60), employment=1000.0, exporter_share=0.25)
    t = RunTables(model, _panel([]), burn_in=20)
    # n_firms at step 20 is 100 + 19 x 60/59, at step 60 it is 160
    assert CALIBRATION_MOMENTS["drift_firms"].fn(t) == pytest.approx(160 / (100 + 19 * 60 / 59))
    assert CALIBRATION_MOMENTS["drift_employment"].fn(t) == 1.0


def test_every_moment_says_what_it_measures_and_in_which_unit():
    for moment in CALIBRATION_MOMENTS.values():
        assert moment.definition and moment.unit, moment.name


def test_top_quintile_persistence_follows_firms_five_years():
    # ten firms of one niche over 6 yearly waves; firms 9 and 10 are the top fifth at every wave,
    # except that at the last wave firm 10 falls to the bottom and firm 1 takes its place
    rows = []
    for k, step in enumerate(range(4, 28, 4)):
        for firm in range(1, 11):
            productivity = float(firm)
            if k == 5 and firm == 10:
                productivity = 0.5
            if k == 5 and firm == 1:
                productivity = 20.0
            rows.append((step, firm, 5, 1, 100.0, productivity, 0, -40, False))
    t = RunTables(_model(24, n_firms=10.0), _panel(rows), burn_in=0)
    # one pair of waves five years apart (steps 4 and 24): of firms 9 and 10, only 9 is still on top
    assert top_quintile_stay(t, years=5) == pytest.approx(0.5)
    assert top_quintile_stay(t, years=1) == pytest.approx((4 * 2 + 1) / 10)
