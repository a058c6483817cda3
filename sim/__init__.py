"""distretto: an agent-based model of Emilia-Romagna's advanced mechanics industry."""

from sim.config import Params, ScenarioError, load_scenario
from sim.model.agents import Firm
from sim.model.district import DistrictModel

__version__ = "0.1.0"

__all__ = ["DistrictModel", "Firm", "Params", "ScenarioError", "load_scenario", "__version__"]
