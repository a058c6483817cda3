"""The view's model: the lever world and its twin, built from the page's levers and stepped in lockstep.

SolaraViz rebuilds the model on Reset as ``type(model)(**values of the page)``, checking ``__init__``'s
signature, so ``StudentModel`` takes every lever as an explicit keyword with a default (no ``**overrides``).
The scenario keyword is ``scenario_name``: Mesa 3.5's Reset replaces a keyword called ``scenario`` with a
Mesa ``Scenario`` object. Bad values never raise, so that a Reset cannot break the page: the model is then
*refused* (``refusal`` says why, nothing is built) and the page keeps the world it had.
"""

from __future__ import annotations

import mesa

from sim.config import ScenarioError
from sim.model.district import DistrictModel
from sim.view.checks import LeverError, Levers, read_levers
from sim.view.levers import DEFAULTS
from sim.view.worlds import world_params


class StudentModel(DistrictModel):
    """A district built from the page's levers, with ``twin``: the same world (same seed) without what was switched on.

    ``step()`` runs one quarter of both, so the two stay in lockstep whatever steps them (Step, Play, a render
    interval above 1, a script). ``running`` turns False at the end of the run (``Run until``), which stops Play.
    """

    def __init__(
        self,
        scenario_name: str = DEFAULTS["scenario_name"],
        seed: int | str = DEFAULTS["seed"],
        n_firms: int | str = DEFAULTS["n_firms"],
        compare: str = DEFAULTS["compare"],
        eu_budget: float | str = DEFAULTS["eu_budget"],
        voucher_budget: float | str = DEFAULTS["voucher_budget"],
        guarantee_budget: float | str = DEFAULTS["guarantee_budget"],
        training_budget: float | str = DEFAULTS["training_budget"],
        consortia_budget: float | str = DEFAULTS["consortia_budget"],
        policy_start_year: int = DEFAULTS["policy_start_year"],
        max_employees: int = DEFAULTS["max_employees"],
        shock: str = DEFAULTS["shock"],
        shock_year: int = DEFAULTS["shock_year"],
        universities: bool = DEFAULTS["universities"],
        end_year: int = DEFAULTS["end_year"],
    ) -> None:
        given = locals()
        values = {name: given[name] for name in DEFAULTS}
        self.refusal: str | None = None
        try:
            self.levers: Levers = read_levers(values)
            world, twin = world_params(self.levers)
        except (LeverError, ScenarioError) as exc:
            mesa.Model.__init__(self)  # an empty Mesa model: enough for SolaraViz to hold until the page drops it
            self.refusal = str(exc)
            self.running = False
            return
        super().__init__(world, rng=self.levers.seed)
        self.twin = DistrictModel(twin, rng=self.levers.seed)
        self.horizon = world.steps
        self.running = self.steps < self.horizon

    def step(self) -> None:
        """One quarter of the lever world, then one of its twin."""
        if self.refusal is not None:
            raise LeverError([self.refusal])
        super().step()
        self.twin.step()
        self.running = self.steps < self.horizon
