"""What a scenario file may declare besides parameters: policies, budget pools, shocks.

Each policy names its instrument and has its own fields; every policy and
shock has a window of quarters (``start`` to ``end``, inclusive; steps count
from 1). Validation is strict (unknown keys, unknown markets or niches, a
window that ends before it starts) so that a file says exactly what the model
does. The mechanisms live in sim/submodels/policy.py and sim/submodels/shocks.py; their rules are
documented in docs/scenarios.md.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.model.world import FOREIGN_MARKETS, MARKETS, NICHES

Allocation = Literal["first_come", "smallest_first", "most_productive_first", "largest_need_first"]
Payer = Literal["region", "eu"]


def _check_names(values: list[str] | None, allowed: tuple[str, ...], what: str) -> list[str] | None:
    if values is None:
        return None
    for value in values:
        if value not in allowed:
            raise ValueError(f"unknown {what} {value!r}; allowed: {', '.join(allowed)}")
    if len(set(values)) != len(values):
        raise ValueError(f"a {what} is listed twice")
    return values


class _Window(BaseModel):
    """A span of quarters during which a policy or shock is active."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    description: str = Field("", description="what this policy or shock stands for")
    start: int = Field(1, ge=1, le=100_000, description="first quarter (step) it is active")
    end: int | None = Field(
        None, ge=1, le=100_000, description="last quarter it is active (inclusive); empty: to the end of the run"
    )

    @model_validator(mode="after")
    def _window(self):
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start}); a window needs end >= start")
        return self

    def active(self, step: int) -> bool:
        """Whether the window covers ``step``."""
        return self.start <= step and (self.end is None or step <= self.end)


class _Policy(_Window):
    """Fields every instrument shares: who pays, with which budget, for whom, in which order."""

    payer: Payer = Field("region", description="the regional government or the EU programme")
    budget_per_year: float | None = Field(
        None, ge=0, le=1e9, description="EUR thousand a year, released in quarterly tranches"
    )
    pool: str | None = Field(None, description="name of a shared budget in [pools] instead of an own budget")
    allocation: Allocation = Field(
        "first_come", description="order in which applications are funded while the budget lasts"
    )
    max_employees: float = Field(
        250.0, gt=0, le=1e6, description="eligibility: firms with fewer employees (SME threshold 250)"
    )
    cap_per_firm: float = Field(
        100.0, ge=0, le=1e9, description="EUR thousand a firm can receive in a year from this instrument"
    )

    @model_validator(mode="after")
    def _budget(self):
        if (self.budget_per_year is None) == (self.pool is None):
            raise ValueError("give either budget_per_year or pool (a shared budget), not both and not neither")
        return self


class _ForeignMarketPolicy(_Policy):
    """A policy about entering foreign markets: which ones it covers."""

    markets: list[str] = Field(
        default_factory=lambda: list(FOREIGN_MARKETS), description="foreign markets the policy covers"
    )

    @field_validator("markets")
    @classmethod
    def _markets(cls, v: list[str]) -> list[str]:
        return _check_names(v, FOREIGN_MARKETS, "foreign market")


class EUInternationalisation(_ForeignMarketPolicy):
    """Co-funds the sunk cost of entering named foreign markets (and optionally first presence costs)."""

    instrument: Literal["eu_internationalisation"]
    payer: Payer = "eu"
    entry_cost_share: float = Field(0.5, ge=0, le=1, description="share of the sunk entry cost paid by the programme")
    presence_cost_share: float = Field(
        0.0, ge=0, le=1, description="share of presence costs paid in the first quarters after entry"
    )
    presence_quarters: int = Field(
        4, ge=0, le=400, description="quarters after entry in which presence costs are co-funded"
    )


class UniversityVouchers(_Policy):
    """Pays part of a firm-university collaboration."""

    instrument: Literal["university_vouchers"]
    voucher_share: float = Field(0.5, ge=0, le=1, description="share of the collaboration fee the voucher pays")


class CreditGuarantee(_Policy):
    """Guarantees bank loans to eligible firms beyond their normal credit limit."""

    instrument: Literal["credit_guarantee"]
    extra_leverage: float = Field(
        0.5, ge=0, le=100, description="guaranteed credit on top of the bank limit, as a multiple of net worth"
    )
    coverage: float = Field(
        0.8, ge=0, le=1, description="share of a defaulted guaranteed loan the fund repays to the bank"
    )
    provision_rate: float = Field(
        0.15, gt=0, le=1, description="budget set aside per euro of new guaranteed lending (the fund's cost)"
    )
    max_loss_rate: float = Field(
        0.05,
        ge=0,
        le=100,
        description="viability: solvent firms whose average recent losses are at most this share of sales",
    )


class TrainingSubsidy(_Policy):
    """Pays part of the cost of training programmes (know-how, absorptive capacity)."""

    instrument: Literal["training"]
    subsidy_share: float = Field(0.5, ge=0, le=1, description="share of the training cost paid")


class ExportConsortia(_ForeignMarketPolicy):
    """Pays part of the costs of small firms that enter a foreign market together."""

    instrument: Literal["export_consortia"]
    subsidy_share: float = Field(
        0.5, ge=0, le=1, description="share of each member's coordination and entry costs paid"
    )
    max_employees: float = Field(50.0, gt=0, le=1e6, description="eligibility: firms with fewer employees")


PolicySpec = Annotated[
    EUInternationalisation | UniversityVouchers | CreditGuarantee | TrainingSubsidy | ExportConsortia,
    Field(discriminator="instrument"),
]
INSTRUMENTS: dict[str, type[_Policy]] = {
    "eu_internationalisation": EUInternationalisation,
    "university_vouchers": UniversityVouchers,
    "credit_guarantee": CreditGuarantee,
    "training": TrainingSubsidy,
    "export_consortia": ExportConsortia,
}


class PoolSpec(BaseModel):
    """A budget shared by several policies (a combined package)."""

    model_config = ConfigDict(extra="forbid")

    description: str = ""
    payer: Payer = Field("region", description="who funds the pool")
    budget_per_year: float = Field(..., ge=0, le=1e9, description="EUR thousand a year, released in quarterly tranches")


ShockKind = Literal["market_closure", "demand_drop", "growth_slowdown", "credit_crunch", "exchange_rate", "rival_leap"]

#: kind -> (meaning of size, lowest, highest)
SHOCK_SIZES: dict[str, tuple[str, float, float]] = {
    "market_closure": ("share of the market's demand lost to the region (1: closed)", 0.0, 1.0),
    "demand_drop": ("share of demand lost", 0.0, 1.0),
    "growth_slowdown": ("points of annual trend growth removed", -1.0, 1.0),
    "credit_crunch": ("share by which banks cut credit limits", 0.0, 1.0),
    "exchange_rate": ("euro appreciation: foreign buyers pay (1 + size) times more", -0.9, 5.0),
    "rival_leap": ("log jump of the foreign rivals' quality", -5.0, 5.0),
}


class ShockSpec(_Window):
    """A shock to markets, credit, exchange rates or rivals over a window of quarters."""

    kind: ShockKind
    size: float = Field(..., description="strength; meaning and range depend on kind (docs/scenarios.md)")
    markets: list[str] | None = Field(None, description="markets hit; empty: all (all foreign for exchange_rate)")
    niches: list[str] | None = Field(None, description="niches hit; empty: all")
    rate_increase: float = Field(0.0, ge=0, le=1, description="credit_crunch only: extra quarterly interest rate")

    @field_validator("markets")
    @classmethod
    def _markets(cls, v: list[str] | None) -> list[str] | None:
        return _check_names(v, MARKETS, "market")

    @field_validator("niches")
    @classmethod
    def _niches(cls, v: list[str] | None) -> list[str] | None:
        return _check_names(v, NICHES, "niche")

    @model_validator(mode="after")
    def _size(self):
        meaning, low, high = SHOCK_SIZES[self.kind]
        if not low <= self.size <= high:
            raise ValueError(f"size for {self.kind} is the {meaning}; allowed {low} to {high} (got {self.size})")
        if self.rate_increase and self.kind != "credit_crunch":
            raise ValueError("rate_increase applies only to kind = 'credit_crunch'")
        if self.kind == "credit_crunch" and (self.markets or self.niches):
            raise ValueError("a credit_crunch hits all firms; remove markets and niches")
        if self.kind == "market_closure" and (not self.markets or "italy" in self.markets):
            raise ValueError(
                "a market_closure names the foreign markets it closes (markets = [...], not 'italy'); use demand_drop "
                "for a fall in demand"
            )
        if self.kind == "exchange_rate" and self.markets and "italy" in self.markets:
            raise ValueError("an exchange_rate shock applies to foreign markets; remove 'italy'")
        return self
