"""sim.validation: the district table (one run's figures, consistent with its tables), default rates, evidence."""

from __future__ import annotations

import re

import numpy as np

from sim.config import load_scenario
from sim.config.scenarios import with_values
from sim.model.world import FOREIGN_MARKETS
from sim.run import simulate
from sim.validation import collaborations_started, default_rates, district, treated_effects


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


def test_collaborations_started_are_the_firms_whose_collaboration_begins_this_quarter():
    model = simulate(load_scenario("university_vouchers", n_firms=600), seed=2, steps=21, progress=False)
    before = dict(zip(model.firms.firm_id.tolist(), model.firms.collab_until.tolist(), strict=True))
    model.step()
    started = set(collaborations_started(model).tolist())
    assert started  # vouchers are on from quarter 21
    after = dict(zip(model.firms.firm_id.tolist(), model.firms.collab_until.tolist(), strict=True))
    moved = {i for i, until in after.items() if i in before and until != before[i]}
    assert started & before.keys() == moved  # exactly the incumbents whose collaboration was set this quarter


def test_evidence_check_follows_the_supported_firms_in_both_worlds():
    """Vouchers add collaborations to the supported firms (most are additional): intangible investment rises."""
    fee = load_scenario("baseline").collaboration_fee
    r = treated_effects("university_vouchers", seed=1, firms=800, start=21, end=32, horizon=36)
    n = len(r["small"])
    assert n > 20 and all(len(v) == n for v in r.values())
    alive = ~np.isnan(r["intangible"])
    np.testing.assert_allclose(r["intangible"][alive] / fee, np.round(r["intangible"][alive] / fee))  # whole fees
    assert np.mean(r["intangible"][alive]) > 0.5 * fee
    assert set(np.unique(r["default"])) <= {-1.0, 0.0, 1.0}
    assert np.isnan(r["investment"]).sum() == np.isnan(r["intangible"]).sum()  # same firms: alive in both worlds
    np.testing.assert_allclose(r["total_investment"], r["investment"] + r["intangible"], equal_nan=True)
