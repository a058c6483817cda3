"""DistrictModel: wires the submodels in their quarterly order (docs/ODD.md, section 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mesa
import numpy as np

from sim import (
    competition,
    demand,
    demography,
    employment,
    finance,
    innovation,
    internationalisation,
    knowhow,
    networks,
    policy,
    shocks,
    space,
    specialisation,
    supply,
    training,
    universities,
)
from sim.initial import initialise
from sim.observe import Observer
from sim.params import Params, build_params, load_scenario
from sim.state import FirmTable

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
)


class DistrictModel(mesa.Model):
    """Firms of Emilia-Romagna's advanced mechanics competing at home and abroad.

    ``DistrictModel(n_firms=2000, rng=1)`` runs the baseline scenario; any
    parameter of ``sim.params.Params`` can be overridden by keyword, and
    ``scenario`` names a file in ``scenarios/`` or a path to one.
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
        self.firm_agents: dict[int, demography.Firm] = {}
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

    def step(self) -> None:
        """One quarter."""
        self._begin_quarter()
        policy.begin_quarter(self)
        shocks.apply(self)
        demand.evolve(self)
        internationalisation.share_information(self)
        employment.update_wage(self)
        supply.source(self)
        competition.clear_markets(self)
        supply.trade(self)
        finance.book_production_costs(self)
        universities.collaborate(self)
        training.train(self)
        networks.collaborate(self)
        successes = innovation.innovate(self)
        knowhow.learn(self, successes)
        knowhow.spill(self)
        internationalisation.review_markets(self)
        specialisation.review(self)
        employment.adjust(self)
        finance.settle(self)
        exits = demography.exit_firms(self)
        entries = demography.enter_firms(self)
        self.observer.collect(self, n_entries=entries, n_exits=exits.size)
