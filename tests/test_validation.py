"""sim.validation's district table: one run's figures, each on its own row, consistent with the run's tables."""

from __future__ import annotations

import re

from sim.config import load_scenario
from sim.config.scenarios import with_values
from sim.model.world import FOREIGN_MARKETS
from sim.run import simulate
from sim.validation import default_rates, district


def test_district_table_reports_the_runs_own_figures():
    text = district(seed=4, firms=300, steps=32)
    rows = dict(
        line.strip("|").split(" | ") for line in text.splitlines() if line.startswith("| ") and "---" not in line
    )
    rows = {k.strip(): v.strip() for k, v in rows.items() if k.strip() != "what"}
    assert len(rows) == 21 and all(rows.values())  # three steps of the path, eighteen figures
    # the same run, by hand: exits after the burn-in by cause, and the path of firms
    params = with_values(load_scenario("baseline"), {"n_firms": 300})
    model = simulate(params, seed=4, steps=32, progress=False)
    frame = model.observer.model_frame(model)
    after = frame.iloc[params.burn_in :]
    counts = [int(n) for n in re.findall(r"(\d+) \(", rows["exits after the burn-in: insolvency, closure, succession"])]
    assert counts == [int(after[f"n_exits_{c}"].sum()) for c in ("insolvency", "closure", "succession")]
    assert sum(counts) == int(after.n_exits.sum())
    assert rows["step 32: firms, employment, exporter share"].startswith(f"{frame.n_firms.iloc[-1]:,.0f}, ")
    shares = [float(x) for x in rows["share of firms exporting by size class (0-9, 10-49, 50-249, 250+)"].split(", ")]
    assert all(0.0 <= x <= 1.0 for x in shares if x == x)
    owners = rows["share of firms owning an affiliate abroad by size class (0-9, 10-49, 50-249, 250+)"].split(", ")
    assert len(owners) == 4 and all(0.0 <= float(x) <= 1.0 for x in owners if x != "nan")
    market = "affiliate sales / exports after the burn-in: " + ", ".join(FOREIGN_MARKETS)
    eu = after.affiliate_sales_eu.sum() / after.exports_eu.sum()
    assert rows[market].split(", ")[0] == f"{eu:.2f}"
    assert rows["imported share of inputs, mean after the burn-in"] == f"{after.imported_input_share.mean():.1%}"


def test_default_rates_by_class_rise_from_the_safest_to_the_riskiest_class():
    text = default_rates([1], firms=1000)
    rows = [line.strip("|").split(" | ") for line in text.splitlines() if line.startswith("| ") and "class" not in line]
    shares = [float(r[1].strip(" %|")) for r in rows]
    rates = [float(r[2].strip(" %|")) for r in rows]
    assert len(rows) == 5 and abs(sum(shares) - 100.0) < 0.5
    assert rates[4] > 5 * max(rates[0], 0.01) and rates[4] > rates[3] >= rates[0]  # class 5 defaults far more
