"""DistrictModel: the submodels in their quarterly order (docs/ODD.md, section 3), and nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mesa
import numpy as np

from sim.config import Params, build_params, load_scenario
from sim.model import space
from sim.model.agents import Firm
from sim.model.firms import FirmTable
from sim.model.initial import initialise
from sim.model.observe import Observer
from sim.submodels import (
    affiliates,
    competition,
    consortia,
    demand,
    demography,
    employment,
    finance,
    innovation,
    internationalisation,
    knowhow,
    learning,
    networks,
    policy,
    shocks,
    sourcing,
    specialisation,
    supply,
    training,
    universities,
)

#: One random stream per stochastic process, spawned from ``model.rng``, so that
#: a change in one process does not shift the draws of the others.
STREAMS = (
    "population",
    "demand",
    "matches",
    "rivals",
    "innovation",
    "imitation",
    "internationalisation",
    "demography",
    "policy",
    "universities",
    "training",
    "spinoffs",
    "networks",
    "measurement",
    "knowhow",
    "supply",
    "specialisation",
    "learning",
    "finance",
    "affiliates",
    "acquisitions",
)


class DistrictModel(mesa.Model):
    """Firms of Emilia-Romagna's advanced mechanics competing at home and abroad.

    ``DistrictModel(n_firms=2000, rng=1)`` runs the baseline scenario; any
    parameter of ``sim.config.Params`` can be overridden by keyword, and
    ``scenario`` names a file in ``scenarios/`` or a path to one (or is a
    ``Params``). One step is one quarter.
    """

    def __init__(self, scenario: str | Path | Params = "baseline", *, rng: Any = None, **overrides: Any) -> None:
        super().__init__(rng=rng)
        if isinstance(scenario, Params):
            self.params = build_params(scenario.model_dump() | overrides, source="override")
        else:
            self.params = load_scenario(scenario, **overrides)
        self.streams: dict[str, np.random.Generator] = dict(zip(STREAMS, self.rng.spawn(len(STREAMS)), strict=True))
        self.firms = FirmTable()
        self.space = space.build(self)
        self.firm_agents: dict[int, Firm] = {}
        self.wage = self.params.wage
        self._begin_quarter()
        initialise(self)
        policy.setup(self)
        universities.setup(self)
        networks.setup(self)
        supply.setup(self)
        specialisation.setup(self)
        self._begin_quarter()
        self.observer = Observer(self)
        self.running = True

    def _begin_quarter(self) -> None:
        self.quarter_costs: dict[str, np.ndarray] = {}
        self.quarter_investment = np.zeros(self.firms.n)
        self.firms.exiting[:] = False
        self.firms.exit_cause[:] = 0

    def step(self) -> None:
        """One quarter."""
        self._begin_quarter()
        policy.begin_quarter(self)
        affiliates.begin_quarter(self)
        shocks.apply(self)
        demand.evolve(self)
        consortia.share_information(self)
        employment.update_wage(self)
        supply.source(self)
        sourcing.source(self)
        competition.clear_markets(self)
        sourcing.deliver(self)
        learning.learn(self)
        supply.trade(self)
        finance.book_production_costs(self)
        universities.collaborate(self)
        training.train(self)
        networks.collaborate(self)
        successes = innovation.innovate(self)
        knowhow.learn(self, successes)
        knowhow.spill(self)
        undecided = internationalisation.review_markets(self)
        consortia.form(self, undecided)
        affiliates.review(self)
        affiliates.acquire(self)
        specialisation.review(self)
        employment.adjust(self)
        finance.settle(self)
        demography.close_firms(self)
        exits = demography.exit_firms(self)
        entries = demography.enter_firms(self)
        self.observer.collect(self, n_entries=entries, n_exits=exits.size)
