"""Configuration: the parameter schema, what a scenario may declare, and scenario files.

- ``schema``: every model parameter with its default, unit and allowed range (``Params``);
- ``specs``: policies, shared budget pools and shocks that a scenario declares;
- ``scenarios``: reading scenario files (``extends``, the library in ``scenarios/``),
  validating them with one-line errors, setting parameters by dotted name, writing TOML.
"""

from sim.config.scenarios import (
    SCENARIO_DIR,
    ScenarioError,
    build_params,
    load_scenario,
    read_toml,
    resolve_library_path,
    resolve_scenario_path,
    to_toml,
    with_overrides,
    with_values,
)
from sim.config.schema import MarketParams, Params

__all__ = [
    "SCENARIO_DIR",
    "MarketParams",
    "Params",
    "ScenarioError",
    "build_params",
    "load_scenario",
    "read_toml",
    "resolve_library_path",
    "resolve_scenario_path",
    "to_toml",
    "with_overrides",
    "with_values",
]
