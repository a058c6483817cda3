"""The model's calendar: step t (from 1) is quarter ((t - 1) mod 4) + 1 of year start_year + (t - 1) // 4.

Yearly decisions (supply reviews, university capacities, network contracts,
yearly aid caps) happen in the first quarter of each year.
"""

from __future__ import annotations

QUARTERS_PER_YEAR = 4


def quarter_of(step: int) -> int:
    """Quarter of the year (1-4) of step ``step``; 0 for the initial state (step 0)."""
    return (step - 1) % QUARTERS_PER_YEAR + 1 if step > 0 else 0


def year_of(step: int, start_year: int) -> int:
    """Calendar year of step ``step`` (step 0, the initial state, belongs to ``start_year``)."""
    return start_year + (step - 1) // QUARTERS_PER_YEAR if step > 0 else start_year


def is_first_quarter(model) -> bool:
    """Whether the quarter under way is the first of a year (when yearly decisions are taken)."""
    return (model.steps - 1) % QUARTERS_PER_YEAR == 0
