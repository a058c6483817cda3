"""The parameter schema: every model parameter with its default, unit and range.

One pydantic model validates scenario files, keyword overrides and CLI values
alike, so that a bad value is caught at the boundary with a message that says
which key is wrong and what is allowed.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.config.specs import PolicySpec, PoolSpec, ShockSpec
from sim.model.world import FOREIGN_MARKETS, MARKETS, NICHES


def _p(default: Any, unit: str, description: str, **bounds: Any) -> Any:
    """A documented parameter field: default, unit and allowed range."""
    return Field(default, description=description, json_schema_extra={"unit": unit}, **bounds)


class MarketParams(BaseModel):
    """One destination market: demand, access costs, buyers' tastes, rivals."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    size: float = _p(
        1.0,
        "x regional output",
        "initial expenditure on a niche, as a multiple of the region's output in that niche",
        gt=0,
        le=1000,
    )
    growth: float = _p(0.02, "1/year", "trend growth rate of demand", ge=-0.5, le=0.5)
    potential_share: float = _p(
        0.1,
        "share",
        "share of the market the region would hold at the start if all its firms served it (sets the rivals' mass)",
        gt=0,
        lt=1,
    )
    shock_sd: float = _p(0.02, "log points/quarter", "s.d. of the quarterly demand shock", ge=0, le=1)
    entry_cost: float = _p(
        0.0, "EUR thousand", "sunk cost of entering the market (paid again on re-entry)", ge=0, le=1e6
    )
    presence_cost: float = _p(0.0, "EUR thousand/quarter", "fixed cost of serving the market", ge=0, le=1e5)
    trade_cost: float = _p(0.0, "ad valorem", "iceberg trade cost: buyers pay price x (1 + trade_cost)", ge=0, le=5)
    price_weight: float = _p(3.0, "elasticity", "weight of (log) price in buyers' valuation", gt=0, le=20)
    quality_weight: float = _p(2.0, "elasticity", "weight of (log) quality in buyers' valuation", ge=0, le=20)
    rival_quality_growth: float | None = _p(
        None, "1/year", "trend growth of the rivals' quality in this market (empty: the global one)", ge=-0.5, le=0.5
    )
    rival_cost_decline: float | None = _p(
        None, "1/year", "trend decline of the rivals' prices in this market (empty: the global one)", ge=-0.5, le=0.5
    )


def _default_markets() -> dict[str, MarketParams]:
    # size: expenditure relative to regional output; potential_share: the
    # region's reach in the market (calibrated, calibration/baseline.toml);
    # entry / presence costs after Das, Roberts & Tybout (2007) orders of
    # magnitude scaled to small machinery firms, sunk costs then scaled by the
    # calibration (x 0.503); growth from long-run trends.
    columns = ("size", "potential_share", "growth", "shock_sd", "entry_cost", "presence_cost", "trade_cost",
               "price_weight", "quality_weight")  # fmt: skip
    # fmt: off
    rows = {
        "italy":         (1.6, 0.35, 0.005, 0.020, 0, 0, 0.00, 4.083412471334158, 2.0),
        "eu":            (5.0, 0.08363298607591785, 0.015, 0.015, 88, 15, 0.04, 5.352493297084436, 2.2),
        "usa":           (5.0, 0.029326386318793952, 0.020, 0.020, 196, 32, 0.12, 2.5, 2.5),
        "china":         (4.0, 0.00802483478098545, 0.050, 0.025, 226, 39, 0.15, 4.0, 1.6),
        "india":         (2.0, 0.016,  0.060, 0.030, 196, 32, 0.18, 4.5, 1.4),
        "brazil":        (1.5, 0.021,  0.025, 0.035, 171, 28, 0.18, 4.0, 1.6),
        "russia":        (1.5, 0.02259125790456029, 0.020, 0.035, 163, 26, 0.15, 3.5, 1.6),
        "rest_of_world": (4.0, 0.045,  0.030, 0.025, 131, 22, 0.15, 3.5, 1.8),
    }
    # fmt: on
    table = {name: dict(zip(columns, values, strict=True)) for name, values in rows.items()}
    return {name: MarketParams(**values) for name, values in table.items()}


def _default_export_orientation() -> dict[str, float]:
    # Niches differ in how much of their market lies abroad: packaging
    # machinery exports 80-90 % of turnover, automotive supply chains less.
    return {
        "packaging": 1.8,
        "machine_tools": 1.1,
        "agricultural": 1.0,
        "automotive": 0.7,
        "hydraulics": 1.0,
        "ceramics": 1.6,
        "food_processing": 1.3,
        "biomedical": 1.0,
    }


#: Foreign suppliers by market (global sourcing, sim/submodels/sourcing.py; docs/ODD.md 7.22). Assumptions
#: chosen so that the baseline imports about a quarter of its inputs, most from the EU (docs/ODD.md 7.22).
# fmt: off
_IMPORT_SOURCES: dict[str, dict[str, float]] = {
    #                  eu     usa    china  india  brazil russia rest_of_world
    "cost_advantage": dict(zip(FOREIGN_MARKETS, (0.06, 0.07, 0.25, 0.22, 0.13, 0.15, 0.12), strict=True)),
    "delay_cost":     dict(zip(FOREIGN_MARKETS, (0.01, 0.04, 0.08, 0.09, 0.08, 0.06, 0.05), strict=True)),
    "max_share":      dict(zip(FOREIGN_MARKETS, (0.22, 0.03, 0.05, 0.02, 0.01, 0.02, 0.06), strict=True)),
    "base_risk":      dict(zip(FOREIGN_MARKETS, (0.005, 0.01, 0.02, 0.03, 0.03, 0.04, 0.02), strict=True)),
}
# fmt: on


class Params(BaseModel):
    """All parameters of a simulation. Units: money in EUR thousand, time in quarters."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # --- scenario and run --------------------------------------------------
    name: str = _p("baseline", "-", "scenario name")
    description: str = _p("", "-", "one line saying what question the scenario answers")
    n_firms: int = _p(2000, "firms", "initial number of firms (35,000 is the region at 1:1)", ge=1, le=500_000)
    steps: int = _p(60, "quarters", "default run length", ge=1, le=2000)
    burn_in: int = _p(20, "quarters", "quarters discarded by validation and summaries", ge=0, le=2000)
    start_year: int = _p(2010, "year", "calendar year of step 1", ge=1900, le=2200)
    panel_every: int = _p(4, "quarters", "firm panel recorded every this many steps (and at the last)", ge=1, le=2000)

    # --- initial firm population -------------------------------------------
    mean_employees: float = _p(
        9.0, "employees", "mean initial firm size (region: ~300,000 employees / ~35,000 firms)", ge=1, le=1000
    )
    size_tail_shape: float = _p(
        0.5377279414409887, "-", "generalized-Pareto shape of initial size (Italian data: 0.5-1)", ge=0.05, le=0.95
    )
    max_employees: float = _p(5000.0, "employees", "cap on initial firm size", ge=1, le=1e6)
    productivity_mean: float = _p(
        60.0,
        "units/worker/quarter",
        "mean initial productivity (output per worker at base prices, EUR thousand)",
        gt=0,
        le=1e4,
    )
    productivity_sd: float = _p(0.5161895058129742, "log s.d.", "initial dispersion of log productivity", ge=0, le=3)
    quality_sd: float = _p(
        0.05, "log s.d.", "dispersion of log quality beyond what size explains, at birth", ge=0, le=3
    )
    size_productivity_corr: float = _p(
        0.3, "correlation", "correlation of initial log size and log productivity", ge=-1, le=1
    )

    # --- costs and prices ----------------------------------------------------
    wage: float = _p(
        11.0,
        "EUR thousand/worker/quarter",
        "initial labour cost per worker (Italian mechanics: ~44k/year)",
        gt=0,
        le=1e3,
    )
    wage_growth: float = _p(
        0.029658212680360174,
        "1/year",
        "growth of the national contract wage (CCNL): the wage path before regional bargaining",
        ge=-0.2,
        le=0.5,
    )
    wage_indexation: float = _p(
        0.3,
        "elasticity",
        "share of the region's productivity gains over the contract path passed into wages (second-level bargaining)",
        ge=0,
        le=2,
    )
    wage_weights: Literal["employment", "unweighted"] = _p(
        "employment", "-", "how the region's productivity is averaged for the wage: over workers, or over firms"
    )
    material_cost: float = _p(0.70, "EUR thousand/unit", "intermediate input cost per unit of output", ge=0, le=100)
    fixed_cost: float = _p(0.20051607510910108, "EUR thousand/quarter", "overhead every firm pays", ge=0, le=1e4)
    capital_per_worker: float = _p(80.0, "EUR thousand/worker", "plant and machinery needed per worker", ge=0, le=1e4)
    depreciation: float = _p(0.02, "1/quarter", "depreciation of capital (replaced every quarter)", ge=0, le=1)
    markup_init: float = _p(0.20, "-", "initial mean markup over unit variable cost", ge=0, le=5)
    markup_min: float = _p(0.02, "-", "lowest markup a firm sets", ge=0, le=5)
    markup_max: float = _p(0.50, "-", "highest markup a firm sets", ge=0, le=5)
    markup_speed: float = _p(0.04, "-", "markup change per unit of excess demand over capacity", ge=0, le=1)
    markup_adjustment: float = _p(
        0.1,
        "1/quarter",
        "share of the gap to the markup its demand's elasticity calls for, 1 / (sum_m w_m bp_m (1 - s_m)), "
        "that a firm closes each quarter",
        ge=0,
        le=1,
    )

    # --- demand and competition ----------------------------------------------
    markets: dict[str, MarketParams] = Field(
        default_factory=_default_markets, description="destination markets by name"
    )
    export_orientation: dict[str, float] = Field(
        default_factory=_default_export_orientation, description="multiplier of foreign market size by niche"
    )
    shock_persistence: float = _p(0.9, "AR(1) coefficient", "persistence of demand shocks", ge=0, lt=1)
    match_sd: float = _p(
        0.04, "log points/quarter", "s.d. of the quarterly shock to a firm's match with its home buyers", ge=0, le=2
    )
    match_sd_foreign: float = _p(
        0.25999972963729323,
        "log points/quarter",
        "s.d. of the quarterly shock to a firm's match with a foreign market's buyers",
        ge=0,
        le=2,
    )
    match_persistence: float = _p(0.9, "AR(1) coefficient", "persistence of firm-market match shocks", ge=0, lt=1)
    reach_elasticity: float = _p(
        0.3, "-", "alpha: elasticity of a firm's market reach to its size (< 1: decreasing returns)", ge=0, lt=1
    )
    customer_inertia_speed: float = _p(
        0.6, "1/quarter", "lambda: share of the gap to the logit share that buyers close each quarter", gt=0, le=1
    )
    rival_quality_growth: float = _p(
        0.031077681065698762,
        "1/year",
        "trend growth of foreign rivals' quality (every market, unless it sets its own)",
        ge=-0.5,
        le=0.5,
    )
    rival_cost_decline: float = _p(
        0.0, "1/year", "trend decline of foreign rivals' prices (every market, unless it sets its own)", ge=-0.5, le=0.5
    )
    niche_rival_quality_growth: dict[str, float] = Field(
        default_factory=dict,
        description="extra trend growth of the rivals' quality by niche (default 0)",
        json_schema_extra={"unit": "1/year"},
    )
    niche_rival_cost_decline: dict[str, float] = Field(
        default_factory=dict,
        description="extra trend decline of the rivals' prices by niche (default 0)",
        json_schema_extra={"unit": "1/year"},
    )
    rival_anchor: Literal["exogenous", "sales_weighted", "unweighted"] = _p(
        "exogenous",
        "-",
        "rivals follow their trends only, or also close rival_catchup of their drift from the region's sales-weighted "
        "or unweighted mean",
    )
    rival_catchup: float = _p(
        0.05,
        "1/quarter",
        "with a rival_anchor other than exogenous: share of their drift from their initial position relative to the "
        "region that rivals close each quarter",
        ge=0,
        le=1,
    )
    rival_shock_sd: float = _p(0.01, "log points/quarter", "s.d. of rivals' competitiveness shocks", ge=0, le=1)
    utilisation_target: float = _p(0.85, "-", "capacity utilisation firms plan for", gt=0, le=1)

    # --- innovation and imitation --------------------------------------------
    rd_intensity: float = _p(0.03, "share of revenue", "mean R&D spending out of revenue", ge=0, le=0.5)
    rd_intensity_sd: float = _p(0.3, "log s.d.", "dispersion of R&D intensity across firms", ge=0, le=3)
    innovation_share: float = _p(0.7, "share of R&D", "R&D spent on innovation; the rest on imitation", ge=0, le=1)
    innovation_efficiency: float = _p(
        0.5,
        "workers/EUR thousand",
        "zeta in P(success) = 1 - exp(-zeta RD/L), RD/L being R&D per worker per quarter",
        ge=0,
        le=10,
    )
    imitation_efficiency: float = _p(
        0.1, "workers/EUR thousand", "zeta for imitation, per worker like innovation", ge=0, le=10
    )
    innovation_low: float = _p(-0.05, "log change", "lower bound of an innovation draw", ge=-1, le=0)
    innovation_high: float = _p(0.06, "log change", "upper bound of an innovation draw", ge=0, le=1)
    innovation_beta_a: float = _p(2.0, "-", "Beta(a, b) shape of innovation draws", gt=0, le=100)
    innovation_beta_b: float = _p(4.0, "-", "Beta(a, b) shape of innovation draws", gt=0, le=100)
    imitation_catchup: float = _p(
        0.2, "share of gap", "share of the gap to the imitated firm closed on success", ge=0, le=1
    )
    process_share: float = _p(
        0.5, "share", "share of innovation effort aimed at productivity (the rest at quality)", ge=0, le=1
    )

    # --- internationalisation ------------------------------------------------
    entry_cost_scale: float = _p(
        0.5313010327761793, "-", "multiplier of every market's sunk entry cost (a lever for sweeps)", ge=0, le=100
    )
    presence_size_elasticity: float = _p(
        0.405070423612448,
        "-",
        "phi: elasticity of a firm's presence cost abroad to its size, P_im = P_m (L_i / L_ref)^phi: a small firm "
        "reaches few buyers at a small cost (market penetration costs, Arkolakis 2010); 0 = the same P_m for all",
        ge=0,
        le=1,
    )
    presence_reference_employees: float = _p(
        20.0, "employees", "L_ref: the size at which a firm's presence cost is the market's P_m", gt=0, le=1e4
    )
    entry_horizon: int = _p(
        12, "quarters", "horizon over which entry profits are weighed against the sunk cost", ge=1, le=400
    )
    discount_rate: float = _p(0.02, "1/quarter", "rate at which firms discount future profits", ge=0, le=1)
    entry_noise: float = _p(
        1.1264702920972973,
        "log s.d.",
        "error of a firm's own study of its fit with a foreign market's buyers, before it sells there",
        ge=0,
        le=5,
    )
    fit_sd: float = _p(
        1.9999898569383932,
        "log s.d.",
        "dispersion of firms' fit with a foreign market's buyers: a firm learns its own only by selling there",
        ge=0,
        le=5,
    )
    regional_information: float = _p(
        0.5,
        "share",
        "cut in a firm's study error, times the share of its niche's regional firms that serve the market",
        ge=0,
        le=1,
    )
    trial_cost_share: float = _p(
        0.053337344629981055,
        "share",
        "what entering on trial costs, as a share of the sunk cost (and of the presence cost)",
        ge=0,
        le=1,
    )
    trial_reach: float = _p(
        0.31775002787151674,
        "share",
        "a trial entrant's reach of a market's buyers, as a share of a full entrant's",
        gt=0,
        le=1,
    )
    trial_quarters: int = _p(
        4,
        "quarters",
        "length of a trial: then the firm expands (paying the rest of the sunk cost) or leaves",
        ge=1,
        le=40,
    )
    entry_attention: float = _p(
        0.0300296599720449, "1/quarter", "probability that a firm reviews its markets in a quarter", ge=0, le=1
    )
    market_exit_patience: int = _p(
        1, "quarters", "consecutive loss-making quarters before leaving a market", ge=1, le=400
    )

    # --- know-how: universities, training, consortia -------------------------
    university_capacity: float = _p(
        100.0,
        "collaborations/year per 1,000 firms",
        "new collaborations the region's universities can take a year",
        ge=0,
        le=1000,
    )
    collaboration_fee: float = _p(40.0, "EUR thousand", "what a firm pays for a collaboration", ge=0, le=1e5)
    collaboration_quarters: int = _p(4, "quarters", "length of a collaboration", ge=1, le=100)
    collaboration_boost: float = _p(
        1.0, "-", "relative increase of innovation efficiency during a collaboration", ge=0, le=100
    )
    collaboration_quality_gain: float = _p(
        0.005, "log points/quarter", "quality gained every quarter of a collaboration", ge=0, le=1
    )
    collaboration_attention: float = _p(
        0.05, "1/quarter", "probability that a firm considers a collaboration in a quarter", ge=0, le=1
    )
    training_cost_per_worker: float = _p(
        3.0, "EUR thousand/worker", "cost of a training programme per employee", ge=0, le=1e4
    )
    training_quarters: int = _p(4, "quarters", "length of a training programme", ge=1, le=100)
    training_quality_gain: float = _p(
        0.002, "log points/quarter", "quality gained every quarter of training", ge=0, le=1
    )
    training_absorptive_boost: float = _p(
        1.0, "-", "relative increase of imitation efficiency during training", ge=0, le=100
    )
    training_attention: float = _p(
        0.1, "1/quarter", "probability that a firm considers training in a quarter", ge=0, le=1
    )
    consortium_size: int = _p(4, "firms", "members of an export consortium", ge=2, le=100)
    consortium_entry_share: float = _p(
        0.4,
        "share of the sunk cost",
        "what each consortium member pays of a market's sunk entry cost and presence costs",
        ge=0,
        le=1,
    )
    consortium_coordination_cost: float = _p(
        25.0, "EUR thousand", "each member's cost of organising the consortium", ge=0, le=1e5
    )

    # --- networks (sim/networks.py) --------------------------------------------
    partner_search_rate: float = _p(
        0.08, "1/quarter", "probability that a firm with room looks for a technical partner in a quarter", ge=0, le=1
    )
    partner_break_rate: float = _p(
        0.04, "1/quarter", "probability that a collaboration ends in a quarter for other reasons", ge=0, le=1
    )
    partner_min_gap: float = _p(
        0.05,
        "log points",
        "know-how gap (quality plus productivity) below which partners have nothing to learn",
        ge=0,
        le=10,
    )
    max_partners: int = _p(
        40, "firms", "most technical partners any firm keeps (a firm keeps at most 1 + sqrt(employees))", ge=0, le=1000
    )
    partner_triadic: float = _p(0.3, "share", "share of partner searches made through a partner's partner", ge=0, le=1)
    partner_same_niche_local: float = _p(
        0.6, "share", "share of partner searches in the firm's own province and niche", ge=0, le=1
    )
    partner_same_province: float = _p(
        0.25, "share", "share of searches in the province, any niche (the rest: the niche, anywhere)", ge=0, le=1
    )
    partner_rd_boost: float = _p(
        0.3, "-", "relative increase of innovation efficiency with at least one partner (joint R&D)", ge=0, le=100
    )
    partner_imitation_share: float = _p(
        0.7,
        "share",
        "probability that a firm with partners imitates a partner rather than a random firm of its niche",
        ge=0,
        le=1,
    )
    network_entry_discount: float = _p(
        0.2,
        "share",
        "cut in a market's sunk entry cost for a firm whose partner, client or supplier already serves it",
        ge=0,
        le=1,
    )
    spillover_rate: float = _p(
        0.01,
        "1/quarter",
        "share of the gap to its province-and-niche mean quality a firm closes each quarter (times absorptive "
        "capacity)",
        ge=0,
        le=1,
    )

    # --- know-how (sim/knowhow.py) ---------------------------------------------
    know_how_init: float = _p(
        1.0,
        "index",
        "initial know-how relevant to a firm's niche, held along the niche's profile (the region's mean stays near 1)",
        ge=0,
        le=100,
    )
    know_how_init_sd: float = _p(0.3, "log s.d.", "initial dispersion of know-how in each domain", ge=0, le=3)
    know_how_depreciation: float = _p(
        0.05, "1/quarter", "share of know-how lost each quarter (people leave, technologies age)", ge=0, le=1
    )
    learning_by_doing: float = _p(
        0.025,
        "index/quarter",
        "know-how gained each quarter by producing, spread over the niche's domains",
        ge=0,
        le=10,
    )
    rd_know_how_gain: float = _p(
        0.02, "index", "know-how gained with each successful innovation, in the niche's domains", ge=0, le=10
    )
    training_know_how_gain: float = _p(
        0.02,
        "index/quarter",
        "know-how gained each quarter of a training programme, in the niche's domains",
        ge=0,
        le=10,
    )
    university_know_how_gain: float = _p(
        0.04,
        "index/quarter",
        "know-how gained each quarter of a university collaboration, in the university's domains",
        ge=0,
        le=10,
    )
    partner_learning: float = _p(
        0.02,
        "1/quarter",
        "share of the gap to a technical partner closed in each domain where the partner knows more",
        ge=0,
        le=1,
    )
    know_how_spillover: float = _p(
        0.02,
        "1/quarter",
        "share of the gap to its province-and-niche mean know-how a firm closes each quarter (times absorptive "
        "capacity)",
        ge=0,
        le=1,
    )
    know_how_elasticity: float = _p(
        0.5,
        "elasticity",
        "of innovation efficiency to the firm's know-how relevant to its niche, relative to the reference",
        ge=0,
        le=5,
    )
    know_how_reference: Literal["fixed", "regional_mean"] = _p(
        "fixed",
        "-",
        "know-how is scored against know_how_init (a region that learns more innovates more) or the region's mean",
    )

    # --- supply chains (sim/supply.py) --------------------------------------------
    subcontract_min_employees: float = _p(
        20.0,
        "employees",
        "firms at least this large subcontract part of their production to regional suppliers",
        ge=1,
        le=1e6,
    )
    subcontract_share: float = _p(
        0.2,
        "share of material cost",
        "share of a client's intermediate inputs bought from regional subcontractors",
        ge=0,
        le=1,
    )
    suppliers_per_worker: float = _p(
        0.1,
        "suppliers/employee",
        "suppliers a client wants per employee (at least one, at most max_suppliers)",
        ge=0,
        le=10,
    )
    max_suppliers: int = _p(20, "firms", "most suppliers a client keeps", ge=1, le=1000)
    supplier_search_rate: float = _p(
        0.8,
        "1/year",
        "probability that a client short of suppliers searches at its yearly review (one draw per missing supplier)",
        ge=0,
        le=1,
    )
    supplier_same_province: float = _p(
        0.7,
        "share",
        "share of supplier searches in the client's province (the rest: neighbouring provinces 2/3, anywhere 1/3)",
        ge=0,
        le=1,
    )
    supplier_same_niche: float = _p(
        0.5,
        "share",
        "share of supplier searches in the client's niche (the rest: a niche drawn by relatedness)",
        ge=0,
        le=1,
    )
    supply_break_rate: float = _p(
        0.12, "1/year", "probability that a supply link ends at the yearly review for other reasons", ge=0, le=1
    )
    supply_reliability: float = _p(
        0.5,
        "share",
        "clients drop a supplier that served less than this share of their order in the quarter",
        ge=0,
        le=1,
    )
    supply_quality_weight: float = _p(
        0.2,
        "elasticity",
        "weight of the suppliers' (log) quality, relative to the region's, in the client's product quality",
        ge=0,
        le=1,
    )

    # --- global sourcing (sim/submodels/sourcing.py) ---------------------------------
    import_cost_advantage: dict[str, float] = Field(
        default_factory=lambda: dict(_IMPORT_SOURCES["cost_advantage"]),
        json_schema_extra={"unit": "share"},
        description="by foreign market: how much cheaper its suppliers' inputs are than domestic ones (share of "
        "the outside price)",
    )
    import_delay_cost: dict[str, float] = Field(
        default_factory=lambda: dict(_IMPORT_SOURCES["delay_cost"]),
        json_schema_extra={"unit": "share"},
        description="by foreign market: cost of the longer delivery (stocks, transport, working capital), share of "
        "the outside price",
    )
    import_max_share: dict[str, float] = Field(
        default_factory=lambda: dict(_IMPORT_SOURCES["max_share"]),
        json_schema_extra={"unit": "share"},
        description="by foreign market: share of a firm's material inputs its suppliers can make (the varieties "
        "it offers)",
    )
    import_base_risk: dict[str, float] = Field(
        default_factory=lambda: dict(_IMPORT_SOURCES["base_risk"]),
        json_schema_extra={"unit": "share"},
        description="by foreign market: share of orders firms expect its suppliers to fail to deliver in normal times",
    )
    import_risk_aversion: float = _p(
        1.0,
        "x expected loss",
        "weight of the perceived share of undelivered orders in the cost of sourcing from a market",
        ge=0,
        le=100,
    )
    import_risk_memory: float = _p(
        0.1,
        "weight/quarter",
        "weight of the latest quarter's undelivered share in the perceived risk of a market",
        ge=0,
        le=1,
    )
    import_fixed_cost: float = _p(
        1.0,
        "EUR thousand/quarter",
        "fixed cost of buying from a foreign market's suppliers at all (qualification, audits, customs, logistics)",
        ge=0,
        le=1e6,
    )
    import_range_cost: float = _p(
        3.0,
        "EUR thousand/quarter",
        "cost of sourcing a market's whole range of inputs, x (share / import_max_share)^2 for part of it",
        gt=0,
        le=1e6,
    )
    import_adjustment: float = _p(
        0.15,
        "1/quarter",
        "share of the gap between a firm's foreign input shares and their targets closed each quarter",
        ge=0,
        le=1,
    )

    # --- export consortia and network contracts -------------------------------------
    network_contract_cost: float = _p(
        25.0,
        "EUR thousand",
        "each member's cost of organising a network contract without a policy facilitator",
        ge=0,
        le=1e5,
    )
    consortium_max_employees: float = _p(
        50.0,
        "employees",
        "largest firm that joins a consortium or network contract without policy support",
        ge=1,
        le=1e6,
    )
    consortium_information: float = _p(
        0.5,
        "share",
        "share of each member's buyer-match shock in a market pooled with its consortium (shared market information)",
        ge=0,
        le=1,
    )
    network_noise_cut: float = _p(
        0.5,
        "share",
        "cut in the error of a firm's study of its fit with a foreign market's buyers when a partner, client or "
        "supplier serves it",
        ge=0,
        le=1,
    )

    # --- specialisation and diversification (sim/specialisation.py) ---------------
    switch_attention: float = _p(
        0.05,
        "1/quarter",
        "probability that a loss-making firm whose niche is declining considers moving to a related niche",
        ge=0,
        le=1,
    )
    switch_threshold: float = _p(
        0.05,
        "log points/year",
        "demand growth a related niche must offer above the firm's own before it moves",
        ge=0,
        le=10,
    )
    switch_min_overlap: float = _p(
        0.8, "share", "least know-how overlap (world.NICHE_OVERLAP) of a niche a firm may move to", ge=0, le=1
    )
    switch_cost_per_worker: float = _p(
        10.0,
        "EUR thousand/worker",
        "sunk cost of moving to a new niche (re-tooling, certification, sales network)",
        ge=0,
        le=1e4,
    )
    switch_quality_loss: float = _p(
        1.0,
        "log points per unit of non-overlap",
        "log quality lost on a move, times one minus the niches' overlap",
        ge=0,
        le=10,
    )
    switch_customer_retention: float = _p(
        0.5, "share", "share of its sales a firm keeps when it moves, times the niches' overlap", ge=0, le=1
    )
    small_firm_employees: float = _p(
        50.0, "employees", "firms below this size count as small in the specialisation outcomes", ge=1, le=1e6
    )
    specialised_threshold: float = _p(
        0.97,
        "share",
        "a firm is specialised when this share of its know-how mix matches its niche's profile (median firm: ~0.97)",
        ge=0,
        le=1,
    )

    # --- finance ------------------------------------------------------------
    interest_rate: float = _p(0.01, "1/quarter", "interest on bank debt", ge=0, le=1)
    leverage_max: float = _p(1.0, "debt / net worth", "banks lend up to this multiple of net worth", ge=0, le=100)
    credit_recall: float = _p(
        0.25, "1/quarter", "share of debt above the credit limit that banks call in each quarter", ge=0, le=1
    )
    cash_buffer: float = _p(
        0.5, "quarters of costs", "cash a firm keeps before repaying debt or paying dividends", ge=0, le=100
    )
    payout_rate: float = _p(0.5, "share", "share of excess cash paid out as dividends", ge=0, le=1)
    initial_cash: float = _p(0.5, "quarters of sales", "initial cash holdings", ge=0, le=100)
    initial_debt: float = _p(0.4, "share of capital", "initial debt", ge=0, le=10)

    # --- employment ----------------------------------------------------------
    employment_speed: float = _p(
        0.6, "1/quarter", "share of the gap to desired employment closed each quarter", ge=0, le=1
    )
    hiring_cost: float = _p(3.0, "EUR thousand/hire", "cost of recruiting and training a worker", ge=0, le=1e3)
    firing_cost: float = _p(6.0, "EUR thousand/separation", "severance and procedures per worker let go", ge=0, le=1e3)
    resale_discount: float = _p(0.5, "share", "loss on capital sold when a firm shrinks", ge=0, le=1)
    expectation_weight: float = _p(0.8, "-", "weight of the latest quarter in expected demand", ge=0, le=1)

    # --- demography ----------------------------------------------------------
    closure_attention: float = _p(
        0.06831275614585458,
        "1/quarter",
        "probability that an owner weighs going on against closing the firm in a quarter",
        ge=0,
        le=1,
    )
    owner_outside_option: float = _p(
        3.762406002244839,
        "EUR thousand/quarter",
        "what an owner earns elsewhere once the firm is closed (on top of the firm's liquidation value)",
        ge=0,
        le=1e4,
    )
    succession_hazard: float = _p(
        0.06584848220827333,
        "1/year",
        "probability that an old small firm finds no successor and closes, each year",
        ge=0,
        le=1,
    )
    succession_min_age: int = _p(
        100, "quarters", "firms at least this old face the succession hazard (25 years)", ge=0, le=4000
    )
    succession_max_employees: float = _p(
        10.0, "employees", "firms below this size face the succession hazard (family micro firms)", ge=1, le=1e6
    )
    entry_rate: float = _p(
        0.009335553311215609,
        "1/quarter",
        "entrants per quarter per initial firm (plus one half) of a province and niche, at normal profitability",
        ge=0,
        le=1,
    )
    normal_margin: float = _p(
        0.02583725657945736, "share of revenue", "local profit margin at which entry runs at entry_rate", ge=-1, le=1
    )
    entry_profit_sensitivity: float = _p(8.0, "-", "response of entry to local profit margins", ge=0, le=1000)
    entrant_mean_employees: float = _p(3.0, "employees", "mean size of an entrant", ge=1, le=1000)
    entrant_productivity_gap: float = _p(
        0.14747627327090385, "log points", "entrants' log productivity relative to the niche mean", ge=-3, le=3
    )
    spinoff_share: float = _p(
        0.7,
        "share",
        "share of entrants that are spin-offs of a profitable firm of their province and niche",
        ge=0,
        le=1,
    )
    spinoff_gap: float = _p(
        -0.10,
        "log points",
        "a spin-off's log productivity relative to what it inherits (as entrant_productivity_gap)",
        ge=-3,
        le=3,
    )
    spinoff_related_share: float = _p(
        0.2,
        "share",
        "share of spin-offs whose parent works in a related niche of the province (drawn by know-how overlap)",
        ge=0,
        le=1,
    )
    spinoff_inheritance: float = _p(
        0.5,
        "share",
        "share of its parent's lead over the niche (productivity, and appeal beyond its size) a spin-off inherits",
        ge=0,
        le=1,
    )
    spinoff_distance_km: float = _p(
        5.0, "km", "s.d. of a spin-off's distance from its parent in each direction", ge=0, le=500
    )
    province_radius_km: float = _p(
        12.0, "km", "s.d. of a firm's distance from its provincial capital in each direction", ge=0, le=500
    )
    entrant_appeal_sd: float = _p(
        0.35, "log s.d.", "dispersion of entrants' quality around incumbents of their size", ge=0, le=3
    )
    entrant_order_book: float = _p(
        0.6, "share of capacity", "share of its planned output an entrant starts with", ge=0, le=1
    )
    entrant_productivity_sd: float = _p(0.35, "log s.d.", "dispersion of entrants' productivity", ge=0, le=3)

    # --- foreign affiliates and foreign ownership (sim/submodels/affiliates.py, ODD 7.20) -------------
    # service_fixed_cost and acquisition_rate are calibrated (docs/validation.md), the others are
    # assumptions (docs/ODD.md, section 7.20, where each is discussed).
    affiliate_attention: float = _p(
        0.25,
        "1/quarter",
        "probability that an exporter reviews how it serves its foreign markets in a quarter",
        ge=0,
        le=1,
    )
    affiliate_horizon: int = _p(
        20,
        "quarters",
        "horizon over which an affiliate's extra profits are weighed against its setup cost",
        ge=1,
        le=400,
    )
    affiliate_exit_patience: int = _p(
        4,
        "quarters",
        "an affiliate that does worse than exporting this many quarters in a row is closed",
        ge=1,
        le=400,
    )
    service_fixed_cost: float = _p(
        15.24388096925091,
        "x P_m",
        "quarterly fixed cost of a sales-and-service affiliate, in multiples of the market's presence cost",
        ge=0,
        le=1000,
    )
    service_setup_cost: float = _p(
        15.0,
        "x F_m",
        "sunk cost of opening a sales-and-service affiliate, in multiples of the market's entry cost",
        ge=0,
        le=1000,
    )
    service_appeal: float = _p(
        0.25,
        "log points",
        "rise of buyers' valuation of a firm that serves them through its own service affiliate",
        ge=0,
        le=5,
    )
    service_presence_saving: float = _p(
        0.5,
        "share",
        "share of the presence cost an affiliate (of either kind) does instead of trips and agents",
        ge=0,
        le=1,
    )
    assembly_fixed_cost: float = _p(
        80.0,
        "x P_m",
        "quarterly fixed cost of an assembly plant, in multiples of the market's presence cost",
        ge=0,
        le=1000,
    )
    assembly_setup_cost: float = _p(
        100.0, "x F_m", "sunk cost of opening an assembly plant, in multiples of the market's entry cost", ge=0, le=1000
    )
    assembly_local_share: float = _p(
        0.5,
        "share",
        "share of the value an assembly plant sells that is produced abroad (the rest: parts shipped from the region)",
        ge=0,
        le=1,
    )
    assembly_wage_ratio: float = _p(
        0.6, "share", "labour cost per worker of an assembly plant abroad, relative to the region's wage", ge=0, le=10
    )
    acquisition_rate: float = _p(
        0.001101522197161625,
        "1/year",
        "yearly probability that a foreign group buys a firm of acquisition_reference_employees "
        "employees, of average productivity, that does not export",
        ge=0,
        le=1,
    )
    acquisition_reference_employees: float = _p(
        50.0, "employees", "size at which the acquisition hazard is acquisition_rate", gt=0, le=1e6
    )
    acquisition_size_elasticity: float = _p(
        1.0, "elasticity", "of the acquisition hazard to the firm's employees", ge=0, le=5
    )
    acquisition_productivity_elasticity: float = _p(
        1.0,
        "elasticity",
        "of the acquisition hazard to the firm's productivity relative to the region's mean",
        ge=0,
        le=10,
    )
    acquisition_exporter_premium: float = _p(
        1.0, "share", "relative rise of the acquisition hazard for a firm that exports", ge=0, le=100
    )
    acquired_rd_factor: float = _p(
        0.8, "multiple", "an acquired firm's R&D intensity, times this (part of R&D moves to the group)", ge=0, le=10
    )
    acquired_sourcing_factor: float = _p(
        0.7,
        "multiple",
        "an acquired firm's regional suppliers, times this (part of its inputs bought by the group)",
        ge=0,
        le=1,
    )

    # --- policies and shocks (sim/specs.py; docs/scenarios.md) -------------------
    budget_reference_firms: int = _p(
        35_000,
        "firms",
        "scenario budgets are for a district of this many firms; a run scales them by n_firms / this",
        ge=1,
        le=10_000_000,
    )
    deminimis_ceiling: float = _p(
        300.0,
        "EUR thousand / 3 years",
        "de minimis: aid a firm may receive over three fiscal years from all instruments together (Reg. EU "
        "2023/2831); per firm, so not scaled with the run's size",
        ge=0,
        le=1e9,
    )
    guarantee_capital_relief: float = _p(
        0.25,
        "share",
        "share of a loan's guaranteed part that banks leave out of the firm's credit limit (assumed; 1 would make "
        "the guaranteed part free of the limit, and the guarantee's job effect ten times larger: docs/scenarios.md)",
        ge=0,
        le=1,
    )
    rating_bounds: list[float] = Field(
        default_factory=lambda: [0.06, 0.03, 0.0, -0.05],
        description="banks' rating: score s = return on sales - rating_leverage_weight x debt / assets at or above "
        "each bound gives classes 1-4, below the last class 5",
        json_schema_extra={"unit": "score"},
    )
    rating_history_quarters: int = _p(
        4,
        "quarters",
        "a firm younger than this has no year of accounts: banks rate it on its business plan, class "
        "new_firm_rating_class",
        ge=0,
        le=400,
    )
    new_firm_rating_class: int = _p(
        3, "class", "banks' rating class of a firm without a year of accounts (1 best - 5 worst)", ge=1, le=5
    )
    rating_leverage_weight: float = _p(0.2, "-", "weight of debt / assets in the banks' rating score", ge=0, le=100)
    rating_spreads: list[float] = Field(
        default_factory=lambda: [0.0, 0.001, 0.002, 0.004, 0.008],
        description="interest banks add to interest_rate for rating classes 1-5 (assumed: 0 to 3.2 points a year)",
        json_schema_extra={"unit": "1/quarter"},
    )
    rating_limits: list[float] = Field(
        default_factory=lambda: [1.0, 1.0, 1.0, 0.8, 0.5],
        description="share of the credit limit leverage_max x net worth banks grant to rating classes 1-5 (assumed)",
        json_schema_extra={"unit": "share"},
    )
    credit_review: float = _p(
        0.25, "1/quarter", "probability that a firm renews its credit lines with its bank in a quarter", ge=0, le=1
    )
    guaranteed_rate_discount: float = _p(
        0.001, "1/quarter", "interest banks take off the guaranteed part of a loan (its risk is the fund's)", ge=0, le=1
    )
    policies: dict[str, PolicySpec] = Field(default_factory=dict, description="policy instruments by name")
    pools: dict[str, PoolSpec] = Field(default_factory=dict, description="budgets shared by several policies")
    shocks: dict[str, ShockSpec] = Field(default_factory=dict, description="shocks by name")

    @model_validator(mode="after")
    def _check_consistency(self) -> Params:
        bounds = self.rating_bounds
        if len(bounds) != 4 or any(a <= b for a, b in zip(bounds, bounds[1:], strict=False)):
            raise ValueError("rating_bounds: give 4 score bounds, decreasing (the lowest score of classes 1 to 4)")
        for name, low, high in (("rating_spreads", 0.0, 1.0), ("rating_limits", 0.0, 1.0)):
            values = getattr(self, name)
            if len(values) != 5 or any(not low <= v <= high for v in values):
                raise ValueError(f"{name}: give 5 values (rating classes 1-5), each from {low} to {high}")
        missing = [m for m in MARKETS if m not in self.markets]
        unknown = [m for m in self.markets if m not in MARKETS]
        if unknown:
            raise ValueError(f"unknown market {unknown[0]!r}; allowed: {', '.join(MARKETS)}")
        if missing:
            raise ValueError(f"market {missing[0]!r} is missing; every market needs its parameters")
        bad = [k for k in self.export_orientation if k not in NICHES]
        if bad:
            raise ValueError(f"unknown niche {bad[0]!r} in export_orientation; allowed: {', '.join(NICHES)}")
        for k in NICHES:
            self.export_orientation.setdefault(k, 1.0)
        for table in ("niche_rival_quality_growth", "niche_rival_cost_decline"):
            bad = [k for k in getattr(self, table) if k not in NICHES]
            if bad:
                raise ValueError(f"unknown niche {bad[0]!r} in {table}; allowed: {', '.join(NICHES)}")
        if self.markup_min > self.markup_max:
            raise ValueError(f"markup_min ({self.markup_min}) exceeds markup_max ({self.markup_max})")
        if self.innovation_low >= self.innovation_high:
            raise ValueError("innovation_low must be below innovation_high")
        if self.partner_same_niche_local + self.partner_same_province > 1:
            raise ValueError("partner_same_niche_local + partner_same_province must not exceed 1")
        for name, policy in self.policies.items():
            if policy.pool is not None and policy.pool not in self.pools:
                pools = ", ".join(self.pools) or "none declared"
                raise ValueError(f"policies.{name}.pool: unknown pool {policy.pool!r} (pools: {pools})")
            if policy.pool is not None and policy.payer != self.pools[policy.pool].payer:
                policy.payer = self.pools[
                    policy.pool
                ].payer  # a pooled policy is paid by its pool (shown by `distretto show`)
        return self

    @model_validator(mode="after")
    def _check_sourcing(self) -> Params:
        for table in ("import_cost_advantage", "import_delay_cost", "import_max_share", "import_base_risk"):
            values = getattr(self, table)
            bad = [k for k in values if k not in FOREIGN_MARKETS]
            if bad:
                raise ValueError(f"unknown foreign market {bad[0]!r} in {table}; allowed: {', '.join(FOREIGN_MARKETS)}")
            for market in FOREIGN_MARKETS:
                values.setdefault(market, 0.0)
                if not 0.0 <= values[market] <= 1.0:
                    raise ValueError(f"{table}.{market} must be from 0 to 1 (got {values[market]!r})")
        total = sum(self.import_max_share.values())
        if total > 1.0 - self.subcontract_share + 1e-12:
            raise ValueError(
                f"import_max_share adds up to {total:g}: foreign suppliers replace only the inputs not bought from "
                f"regional subcontractors, at most 1 - subcontract_share = {1.0 - self.subcontract_share:g}"
            )
        return self

    def market_array(self, field: str) -> Any:
        """One market field as an array ordered like ``world.MARKETS``."""
        return np.array([getattr(self.markets[m], field) for m in MARKETS], dtype=float)
