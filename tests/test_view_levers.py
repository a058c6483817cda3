"""The view's levers and model without a page: values checked, worlds built, the twin in lockstep."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import DistrictModel
from sim.config import load_scenario
from sim.view.checks import LeverError, read_levers
from sim.view.levers import COMPARE, DEFAULTS, LABELS, SHOCKS, library
from sim.view.model import StudentModel
from sim.view.readings import an_exporter, firm_record, largest_firm, monitors, series, when
from sim.view.worlds import world_params

WITHOUT_SHOCKS = "the same world without its shocks"
RUSSIA = "Russia sanctions: the market closes"


def test_defaults_are_accepted_and_name_every_keyword():
    params = inspect.signature(StudentModel.__init__).parameters
    assert list(params)[1:] == list(DEFAULTS) == list(LABELS)
    assert not any(p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) for p in params.values())
    assert "scenario" not in params  # Mesa 3.5's Reset would replace it with a Scenario object
    levers = read_levers({})
    assert levers.scenario == "baseline" and levers.seed == 1 and levers.n_firms == 2000
    assert set(SHOCKS) and set(COMPARE.values()) == {"policies", "shocks"} and "russia_sanctions" in library()


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"seed": ""}, "Random seed: is empty"),
        ({"seed": "1.5"}, "Random seed: must be a whole number"),
        ({"n_firms": "  "}, "Firms at start: is empty"),
        ({"n_firms": "5"}, "Firms at start: must be a whole number from 10 to 50,000 (got '5')"),
        ({"eu_budget": "-5"}, "EU internationalisation co-funding (EUR M/year): cannot be negative"),
        ({"training_budget": ""}, "Training subsidies (EUR M/year): is empty"),
        ({"voucher_budget": "2,5"}, "use a point for decimals"),
        ({"guarantee_budget": "lots"}, "Credit guarantees (EUR M/year): must be a number"),
        ({"consortia_budget": "nan"}, "Export consortia (EUR M/year): must be a number"),
        (
            {"policy_start_year": 2030, "eu_budget": 5},
            "Policies start in (year): 2030 is after the end of the run (2024)",
        ),
        ({"shock_year": 2026, "end_year": 2025, "shock": RUSSIA}, "Shock starts in (year): 2026 is after the end of"),
        ({"scenario_name": "utopia"}, "Scenario: choose one of"),
        ({"shock": "Martians"}, "Shock: choose one of"),
        ({"typo": 1}, "unknown lever 'typo'"),
    ],
)
def test_bad_values_are_refused_with_the_field_named(values, expected):
    with pytest.raises(LeverError, match=None) as info:
        read_levers(values)
    assert expected in str(info.value)


def test_every_bad_field_is_reported_once():
    with pytest.raises(LeverError) as info:
        read_levers({"seed": "", "eu_budget": "-1", "training_budget": "1", "policy_start_year": 2039})
    assert len(info.value.problems) == 3
    assert read_levers({"policy_start_year": 2039}).policy_start_year == 2039  # no budget: the year is not used


def test_numbers_are_read_from_text_or_numbers():
    levers = read_levers({"n_firms": "2,500", "seed": 7, "eu_budget": 12.5, "voucher_budget": " 3 "})
    assert levers.n_firms == 2500 and levers.seed == 7
    assert levers.budget("eu_budget") == 12.5 and levers.budget("voucher_budget") == 3.0


def test_budgets_become_library_policies_with_the_students_budget_start_and_size_limit():
    levers = read_levers({"eu_budget": "20", "consortia_budget": "5", "policy_start_year": 2012, "max_employees": 100})
    world, twin = world_params(levers)
    eu, consortia = world.policies["lever_eu_internationalisation"], world.policies["lever_export_consortia"]
    assert eu.budget_per_year == 20_000.0 and eu.start == 9 and eu.end is None  # 2012 Q1 is step 9
    assert eu.max_employees == 100 and consortia.max_employees == 50  # an instrument's own lower limit stays
    assert eu.entry_cost_share == 0.5 and eu.instrument == "eu_internationalisation"
    assert twin.policies == {} and twin.shocks == world.shocks and world.steps == 60


def test_a_shock_moves_to_the_chosen_year_and_the_twin_can_leave_it_out():
    levers = read_levers({"shock": RUSSIA, "shock_year": 2014, "compare": WITHOUT_SHOCKS, "universities": False})
    world, twin = world_params(levers)
    shock = world.shocks["lever_shock"]
    assert shock.kind == "market_closure" and shock.markets == ["russia"] and shock.start == 17 and shock.end is None
    assert world.university_capacity == 0.0 and twin.university_capacity > 0 and twin.shocks == {}
    recession = world_params(read_levers({"shock": "Global recession (-15 % for two years)", "shock_year": 2016}))
    assert (recession[0].shocks["lever_shock"].start, recession[0].shocks["lever_shock"].end) == (25, 32)


def test_scenario_policies_and_shocks_count_as_switched_on():
    world, twin = world_params(read_levers({"scenario_name": "russia_sanctions", "compare": WITHOUT_SHOCKS}))
    assert set(world.shocks) == {"sanctions_2014", "sanctions_2022"} and twin.shocks == {}
    world, twin = world_params(read_levers({"scenario_name": "eu_internationalisation"}))
    assert set(world.policies) == {"eu_programme"} and twin.policies == {}


def test_refused_model_builds_nothing_and_cannot_step():
    model = StudentModel(eu_budget="-5")
    assert "cannot be negative" in model.refusal and model.running is False and not hasattr(model, "twin")
    with pytest.raises(LeverError):
        model.step()


def test_twin_steps_in_lockstep_and_differs_only_by_what_was_switched_on():
    model = StudentModel(n_firms="300", eu_budget="200", policy_start_year=2010, seed="4")
    for _ in range(8):
        model.step()
    assert model.steps == model.twin.steps == 8 and model.refusal is None
    assert series(model, "policy_spending").sum() > 0 and series(model.twin, "policy_spending").sum() == 0
    plain = StudentModel(n_firms="300", seed="4")  # nothing switched on: the twin is the same world
    for _ in range(8):
        plain.step()
    assert np.array_equal(series(plain, "employment"), series(plain.twin, "employment"))
    assert all(line.difference in ("", "+0", "+0.0", "+0.00") for line in monitors(plain))


def test_run_ends_at_the_chosen_year():
    model = StudentModel(n_firms="100", end_year=2012)
    assert model.horizon == 12
    for _ in range(12):
        model.step()
    assert model.running is False


def test_readings_of_time_and_of_one_firm():
    assert when(0, 2010) == "start of 2010" and when(1, 2010) == "2010 Q1" and when(7, 2010) == "2011 Q3"
    model = StudentModel(n_firms="300", seed="2", eu_budget="100", policy_start_year=2010)
    for _ in range(8):
        model.step()
    big = largest_firm(model)
    record = firm_record(model, big)
    assert record["alive"] and record["now"]["employees"] == model.firms.employees.max()
    assert list(record["history"]["step"]) == [4, 8] and "italy" in record["markets"]
    exporter = an_exporter(model, 0)
    assert exporter is not None and firm_record(model, exporter)["now"]["is_exporter"]
    assert firm_record(model, 10**9) is None


TUTORIAL = Path(__file__).resolve().parent.parent / "docs" / "tutorial"


@pytest.mark.parametrize(
    ("levers", "scenario"),
    [
        ({"shock": RUSSIA, "shock_year": 2014, "compare": WITHOUT_SHOCKS}, "russia_2014.toml"),
        ({"eu_budget": "20", "policy_start_year": 2015, "max_employees": 50}, "eu_small_firms.toml"),
        ({"universities": False, "compare": WITHOUT_SHOCKS}, "no_universities.toml"),
        ({"shock": "Automotive demand falls by a third", "shock_year": 2015, "compare": WITHOUT_SHOCKS}, None),
        ({"scenario_name": "credit_crunch", "guarantee_budget": "20"}, "crunch_with_fund.toml"),
    ],
)
def test_the_tutorials_scenario_files_are_the_pages_worlds(levers, scenario):
    """docs/tutorial's files reproduce the page's lever world quarter by quarter, and its twin (the baseline, or
    the crunch without the fund); the automotive lever is the library's automotive_transition."""
    page = StudentModel(n_firms="250", seed="5", **levers)
    path = "automotive_transition" if scenario is None else TUTORIAL / scenario
    files = DistrictModel(load_scenario(path, n_firms=250, steps=60), rng=5)
    baseline = DistrictModel(load_scenario(levers.get("scenario_name", "baseline"), n_firms=250, steps=60), rng=5)
    for _ in range(24):
        for model in (page, files, baseline):
            model.step()
    columns = ["employment", "n_exporters", "export_sales", "policy_spending", "n_university_links"]
    frame = page.datacollector.get_model_vars_dataframe()[columns]
    pd.testing.assert_frame_equal(frame, files.datacollector.get_model_vars_dataframe()[columns])
    twin = page.twin.datacollector.get_model_vars_dataframe()[columns]
    pd.testing.assert_frame_equal(twin, baseline.datacollector.get_model_vars_dataframe()[columns])
    assert not frame.equals(twin)
