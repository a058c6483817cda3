"""``python -m sim.config > scenarios/baseline.toml``: the baseline scenario file from the schema's defaults."""

from sim.config.scenarios import BASELINE_HEADER, to_toml
from sim.config.schema import Params

print(to_toml(Params(description="The calibrated district with no policy and no shock"), BASELINE_HEADER), end="")
