"""The two worlds of the page: the lever world (a library scenario plus the student's levers) and its twin.

The twin is the same world without its policies (the scenario's and the student's), or without its shocks
(and with the universities open); the view runs both with the same seed, so that their difference is the
effect of what was switched on.
"""

from __future__ import annotations

from typing import Any

from sim.config import Params, build_params, load_scenario
from sim.model.calendar import QUARTERS_PER_YEAR
from sim.view.checks import Levers
from sim.view.levers import INSTRUMENTS, SHOCKS, library_scenario


def _quarter(year: int, start_year: int) -> int:
    """The step of the first quarter of ``year``."""
    return (year - start_year) * QUARTERS_PER_YEAR + 1


def lever_policies(levers: Levers, start_year: int) -> dict[str, dict[str, Any]]:
    """The policies the budgets switch on: each a copy of its library policy with the student's budget and start."""
    out = {}
    for instrument in INSTRUMENTS:
        budget = levers.budget(instrument.keyword)
        if budget <= 0:
            continue
        spec = dict(library_scenario(instrument.scenario)["policies"][instrument.policy])
        spec.update(
            description=f"{instrument.label.split(' (')[0]}, EUR {budget:g} M/year for the region from "
            f"{levers.policy_start_year}",
            budget_per_year=budget * 1000.0,  # the page says EUR million, scenarios EUR thousand
            pool=None,
            start=_quarter(levers.policy_start_year, start_year),
            end=None,
            max_employees=min(float(spec["max_employees"]), float(levers.max_employees)),
        )
        out[f"lever_{instrument.scenario}"] = spec
    return out


def lever_shock(levers: Levers, start_year: int) -> dict[str, dict[str, Any]]:
    """The shock the select switches on, its window moved to start in the chosen year (same length)."""
    shock = SHOCKS[levers.shock]
    if shock is None:
        return {}
    spec = dict(shock.template())
    start = _quarter(levers.shock_year, start_year)
    length = None if spec.get("end") is None else spec["end"] - spec["start"]
    spec.update(
        description=f"{shock.label} from {levers.shock_year}: {shock.description}",
        start=start,
        end=None if length is None else start + length,
    )
    return {"lever_shock": spec}


def world_params(levers: Levers) -> tuple[Params, Params]:
    """Parameters of the lever world and of its twin (the same world without its policies, or its shocks)."""
    base = load_scenario(levers.scenario, n_firms=levers.n_firms)
    data = base.model_dump()
    data["steps"] = (levers.end_year - base.start_year + 1) * QUARTERS_PER_YEAR
    data["policies"] = {**data["policies"], **lever_policies(levers, base.start_year)}
    data["shocks"] = {**data["shocks"], **lever_shock(levers, base.start_year)}
    if not levers.universities:
        data["university_capacity"] = 0.0
    twin = dict(data)
    if levers.compare == "policies":
        twin.update(policies={}, pools={})
    else:
        twin.update(shocks={}, university_capacity=base.university_capacity)
    return build_params(data, source="page levers"), build_params(twin, source="page levers (twin)")


def switched_on(params: Params) -> list[str]:
    """One line for each policy and shock of a world, and for closed universities (what the monitors list)."""
    lines = [spec.description or name for name, spec in params.policies.items()]
    lines += [spec.description or name for name, spec in params.shocks.items()]
    if params.university_capacity == 0:
        lines.append("universities take no collaborations")
    return lines
