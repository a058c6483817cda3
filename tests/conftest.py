"""Shared fixtures: small models that run in well under a second."""

from __future__ import annotations

import pytest

from sim import DistrictModel


@pytest.fixture
def small_model() -> DistrictModel:
    """A 300-firm baseline model, not yet stepped."""
    return DistrictModel(n_firms=300, rng=7)


@pytest.fixture(scope="session")
def stepped_model() -> DistrictModel:
    """A 400-firm baseline model after 16 quarters (shared: do not mutate)."""
    model = DistrictModel(n_firms=400, rng=3)
    for _ in range(16):
        model.step()
    return model
