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
    """A call for internationalisation projects: reimburses part of the eligible costs of entering a market, afterwards.

    Eligible costs are the entry project's (fairs, market studies, temporary export managers,
    certification for the target market: the sunk cost of entering in full or on trial) and the
    presence costs of its first quarters; the grant is paid ``reimbursement_lag`` quarters after
    entry, so the firm must finance the whole project first (submodels/internationalisation.py).
    """

    instrument: Literal["eu_internationalisation"]
    payer: Payer = "eu"
    entry_cost_share: float = Field(0.5, ge=0, le=1, description="share of the eligible entry costs reimbursed")
    presence_cost_share: float = Field(
        0.0, ge=0, le=1, description="share of presence costs reimbursed for the first quarters after entry"
    )
    presence_quarters: int = Field(
        4, ge=0, le=400, description="quarters after entry whose presence costs are eligible"
    )
    reimbursement_lag: int = Field(
        4, ge=0, le=40, description="quarters between entry and the payment of the grant (0: paid at entry)"
    )


class UniversityVouchers(_Policy):
    """Pays part of a firm-university collaboration."""

    instrument: Literal["university_vouchers"]
    voucher_share: float = Field(0.5, ge=0, le=1, description="share of the collaboration fee the voucher pays")


class CreditGuarantee(_Policy):
    """A public guarantee on bank loans to SMEs (Italy's Fondo di Garanzia PMI, regional confidi).

    The fund rates each applicant from its accounts (classes 1-5), guarantees ``coverage``
    of loans to firms of classes up to ``max_class`` against a one-off fee, and charges its
    budget with each guarantee's expected loss when it is granted; loans are amortised in
    equal instalments over ``loan_quarters`` (submodels/guarantees.py).
    """

    instrument: Literal["credit_guarantee"]
    coverage: float = Field(0.8, ge=0, le=1, description="share of each guaranteed loan the fund repays on default")
    max_class: int = Field(
        4, ge=1, le=5, description="eligibility: rating classes 1 (safest) to this one (the Fondo excludes class 5)"
    )
    class_bounds: list[float] = Field(
        default_factory=lambda: [0.06, 0.03, 0.0, -0.05],
        description="score s = return on sales - leverage_weight x debt / assets at or above each bound: classes 1-4",
    )
    leverage_weight: float = Field(0.2, ge=0, le=100, description="weight of debt / assets in the rating score")
    default_rates: list[float] = Field(
        default_factory=lambda: [0.0014, 0.0026, 0.0042, 0.011, 0.125],
        description="annual probability of default of classes 1-5, used to price each guarantee's expected loss",
    )
    fee_rate: float = Field(0.005, ge=0, le=1, description="one-off fee, share of the guaranteed amount")
    loan_quarters: int = Field(20, ge=1, le=400, description="a guaranteed loan is repaid in this many quarters")
    max_guaranteed: float = Field(
        2500.0, ge=0, le=1e9, description="EUR thousand of guaranteed loans a firm may have outstanding"
    )
    purposes: list[Literal["working_capital", "investment", "refinancing"]] = Field(
        default_factory=lambda: ["working_capital", "investment", "refinancing"],
        description="loans that may be guaranteed: cash shortfalls, capital for hires credit limits stop, bank debt "
        "renewed under the guarantee",
    )

    @field_validator("class_bounds")
    @classmethod
    def _bounds(cls, v: list[float]) -> list[float]:
        if len(v) != 4 or any(a <= b for a, b in zip(v, v[1:], strict=False)):
            raise ValueError("give 4 score bounds, decreasing (the lowest score of classes 1, 2, 3 and 4)")
        return v

    @field_validator("default_rates")
    @classmethod
    def _rates(cls, v: list[float]) -> list[float]:
        if len(v) != 5 or any(not 0 <= r < 1 for r in v):
            raise ValueError("give 5 annual default probabilities, each from 0 to below 1 (classes 1-5)")
        return v

    @field_validator("purposes")
    @classmethod
    def _purposes(cls, v: list[str]) -> list[str]:
        if not v or len(set(v)) != len(v):
            raise ValueError("name each purpose once: working_capital, investment, refinancing")
        return v


class TrainingSubsidy(_Policy):
    """Pays part of the cost of training programmes (know-how, absorptive capacity)."""

    instrument: Literal["training"]
    subsidy_share: float = Field(0.5, ge=0, le=1, description="share of the training cost paid")


class ExportConsortia(_ForeignMarketPolicy):
    """Funds promoters (trade associations, chambers of commerce) that assemble small firms into export consortia.

    Each quarter promoters recruit, in each province, the small firms for which joining a group
    aimed at one market pays (submodels/consortia.py); the policy pays the promoter and a share
    of each member's costs.
    """

    instrument: Literal["export_consortia"]
    subsidy_share: float = Field(
        0.5, ge=0, le=1, description="share of each member's coordination and entry costs paid"
    )
    max_employees: float = Field(50.0, gt=0, le=1e6, description="eligibility: firms with fewer employees")
    promoter_cost: float = Field(
        40.0, ge=0, le=1e6, description="EUR thousand paid to the promoter for each group it assembles"
    )
    max_members: int = Field(8, ge=2, le=100, description="most firms a promoter recruits into one group")
    niche_overlap: float = Field(
        0.8,
        ge=0,
        le=1,
        description="related niches: members' niches share at least this much know-how with the lead member's (0.8, "
        "as for a move to a related niche: switch_min_overlap)",
    )


NON_EU_MARKETS: tuple[str, ...] = tuple(m for m in FOREIGN_MARKETS if m != "eu")


class InvestmentAbroad(_ForeignMarketPolicy):
    """Subsidised loans for opening affiliates outside the EU (after SIMEST: L. 100/1990, D.Lgs. 143/1998).

    A firm opening a sales-and-service affiliate or an assembly plant in a covered market borrows
    ``loan_share`` of the setup cost outside its bank credit, repaid in equal instalments over
    ``loan_quarters``, at ``rate_cut`` a quarter below the market rate. The instrument's budget is
    charged at grant with the present value of that interest subsidy over the loan's schedule, which
    is also the aid counted under de minimis (submodels/affiliates.py).
    """

    instrument: Literal["investment_abroad"]
    markets: list[str] = Field(
        default_factory=lambda: list(NON_EU_MARKETS), description="markets outside the EU the loans cover"
    )
    max_employees: float = Field(
        1e6, gt=0, le=1e6, description="eligibility: firms with fewer employees (SIMEST lends to firms of any size)"
    )
    loan_share: float = Field(0.7, gt=0, le=1, description="share of the affiliate's setup cost lent")
    rate_cut: float = Field(
        0.0075, ge=0, le=0.1, description="interest taken off the loan, per quarter (market rate minus subsidised rate)"
    )
    loan_quarters: int = Field(24, ge=1, le=400, description="the loan is repaid in this many quarterly instalments")
    modes: list[Literal["service", "assembly"]] = Field(
        default_factory=lambda: ["service", "assembly"], description="affiliates the loans finance"
    )

    @field_validator("markets")
    @classmethod
    def _outside_eu(cls, v: list[str]) -> list[str]:
        if "eu" in v:
            raise ValueError("investment_abroad covers markets outside the EU; remove 'eu'")
        return v

    @field_validator("modes")
    @classmethod
    def _modes(cls, v: list[str]) -> list[str]:
        if not v or len(set(v)) != len(v):
            raise ValueError("name each mode once: service, assembly")
        return v


PolicySpec = Annotated[
    EUInternationalisation
    | UniversityVouchers
    | CreditGuarantee
    | TrainingSubsidy
    | ExportConsortia
    | InvestmentAbroad,
    Field(discriminator="instrument"),
]
INSTRUMENTS: dict[str, type[_Policy]] = {
    "eu_internationalisation": EUInternationalisation,
    "university_vouchers": UniversityVouchers,
    "credit_guarantee": CreditGuarantee,
    "training": TrainingSubsidy,
    "export_consortia": ExportConsortia,
    "investment_abroad": InvestmentAbroad,
}


class PoolSpec(BaseModel):
    """A budget shared by several policies (a combined package)."""

    model_config = ConfigDict(extra="forbid")

    description: str = ""
    payer: Payer = Field("region", description="who funds the pool")
    budget_per_year: float = Field(..., ge=0, le=1e9, description="EUR thousand a year, released in quarterly tranches")


ShockKind = Literal[
    "market_closure",
    "demand_drop",
    "growth_slowdown",
    "credit_crunch",
    "exchange_rate",
    "rival_leap",
    "supply_disruption",
]

#: kind -> (meaning of size, lowest, highest)
SHOCK_SIZES: dict[str, tuple[str, float, float]] = {
    "market_closure": ("share of the market's demand lost to the region (1: closed)", 0.0, 1.0),
    "demand_drop": ("share of demand lost", 0.0, 1.0),
    "growth_slowdown": ("points of annual trend growth removed", -1.0, 1.0),
    "credit_crunch": ("share by which banks cut credit limits", 0.0, 1.0),
    "exchange_rate": ("euro appreciation: foreign buyers pay (1 + size) times more", -0.9, 5.0),
    "rival_leap": ("log jump of the foreign rivals' quality", -5.0, 5.0),
    # global sourcing (submodels/sourcing.py)
    "supply_disruption": ("share of orders to the markets' suppliers not delivered", 0.0, 1.0),
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
        if self.kind == "supply_disruption":
            if not self.markets or "italy" in self.markets:
                raise ValueError(
                    "a supply_disruption names the foreign markets whose suppliers fail (markets = [...], not 'italy')"
                )
            if self.niches:
                raise ValueError("a supply_disruption hits every firm sourcing in its markets; remove niches")
        return self
