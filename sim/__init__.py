"""distretto: an agent-based model of Emilia-Romagna's advanced mechanics industry."""

from sim.agents import Firm
from sim.model import DistrictModel
from sim.params import Params, ScenarioError, load_scenario

__version__ = "0.1.0"

__all__ = ["DistrictModel", "Firm", "Params", "ScenarioError", "load_scenario", "__version__"]
