"""Demand: expenditure per destination market and niche, and the foreign rivals (ODD 7.1).

Expenditure follows a trend with persistent AR(1) shocks (a market-wide and
a niche-specific component); each firm's match with the buyers of each market
follows its own AR(1). Each market-niche also holds a pool of foreign
rivals whose price falls and quality rises at trend rates with noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.model.calendar import QUARTERS_PER_YEAR
from sim.model.firms import firm_cell_totals
from sim.model.world import DOMESTIC, N_MARKETS, N_NICHES, NICHES


@dataclass
class Markets:
    """State of every (market, niche) cell; arrays are shaped (markets, niches)."""

    trend: np.ndarray  # expenditure without shocks, EUR thousand per quarter
    shock: np.ndarray  # log deviation from trend
    expenditure: np.ndarray  # trend * exp(shock)
    rival_price: np.ndarray  # consumer price of the rival pool, EUR thousand per unit
    rival_quality: np.ndarray
    rival_mass: np.ndarray  # rivals' weight in the logit denominator (set at initialisation)
    demand_multiplier: np.ndarray  # shocks: multiplier of expenditure (1 = none), set by submodels/shocks.py
    price_factor: np.ndarray  # shocks: multiplier of regional firms' consumer prices abroad (exchange rate)
    growth_shift: np.ndarray  # shocks: change in annual trend growth
    rival_quality_shift: np.ndarray  # shocks: shift of the rivals' quality anchor (log)
    rival_price_gap: np.ndarray  # initial log gap of rivals' price to the regional niche mean
    rival_quality_gap: np.ndarray  # initial log gap of rivals' quality to the regional niche mean
    applied_quality_shift: np.ndarray  # the part of rival_quality_shift already in rival_quality
    _rival_share: np.ndarray | None = field(default=None, repr=False)
    _rival_share_of: Any = field(
        default=None, repr=False, compare=False
    )  # model whose firms' shares it is derived from

    @property
    def rival_share(self) -> np.ndarray:
        """Share of expenditure won by the rival pool (whatever the region's firms do not hold).

        Recomputed from the firms' shares only when read after a change
        (competition.update_rival_share marks it), not at every change.
        """
        if self._rival_share_of is not None:
            self._rival_share = 1.0 - firm_cell_totals(self._rival_share_of.firms, self._rival_share_of.firms.share)
            self._rival_share_of = None
        return self._rival_share

    @rival_share.setter
    def rival_share(self, value: np.ndarray) -> None:
        self._rival_share = value
        self._rival_share_of = None


def regional_log_means(model, weights: str = "unweighted") -> tuple[np.ndarray, np.ndarray]:
    """Mean log price and log quality of the region's firms in each niche, over firms or weighted by sales."""
    f = model.firms
    niche = f.niche.astype(np.intp)
    w = f.revenue if weights == "sales_weighted" else np.ones(f.n)
    total = np.bincount(niche, weights=w, minlength=N_NICHES)
    total = np.where(total > 0, total, 1.0)
    log_p = np.bincount(niche, weights=w * np.log(f.price), minlength=N_NICHES) / total
    log_q = np.bincount(niche, weights=w * np.log(f.quality), minlength=N_NICHES) / total
    return log_p, log_q


def anchor_rivals(model) -> None:
    """Record the rivals' initial log gaps to the region's niche means (the anchor they catch up to, if any)."""
    mk = model.markets
    log_p, log_q = regional_log_means(model, model.params.rival_anchor)
    mk.rival_price_gap = np.log(mk.rival_price) - log_p[None, :]
    mk.rival_quality_gap = np.log(mk.rival_quality) - log_q[None, :]


def rival_trends(params) -> tuple[np.ndarray, np.ndarray]:
    """Yearly trend of the rivals' log quality and of the decline of their log price, shape (markets, niches)."""
    quality = np.array([m.rival_quality_growth if m.rival_quality_growth is not None else params.rival_quality_growth
                        for m in params.markets.values()])  # fmt: skip
    cost = np.array([m.rival_cost_decline if m.rival_cost_decline is not None else params.rival_cost_decline
                     for m in params.markets.values()])  # fmt: skip
    niche_q = np.array([params.niche_rival_quality_growth.get(k, 0.0) for k in NICHES])
    niche_c = np.array([params.niche_rival_cost_decline.get(k, 0.0) for k in NICHES])
    return quality[:, None] + niche_q[None, :], cost[:, None] + niche_c[None, :]


def initial_markets(
    model, regional_output: np.ndarray, median_price: np.ndarray, median_quality: np.ndarray
) -> Markets:
    """Size each market relative to the region's output per niche (shape (niches,))."""
    p = model.params
    size = p.market_array("size")[:, None]
    orientation = np.array([p.export_orientation[k] for k in NICHES])
    scale = np.ones((N_MARKETS, N_NICHES))
    scale[1:] = orientation[None, :]
    trend = size * scale * regional_output[None, :]
    tau = p.market_array("trade_cost")[:, None]
    # Rivals start as competitive as the median regional firm after its trade
    # cost: a regional firm beats them abroad only if it is better than median.
    rival_price = np.broadcast_to(median_price[None, :] * (1 + tau), (N_MARKETS, N_NICHES)).copy()
    rival_quality = np.broadcast_to(median_quality[None, :], (N_MARKETS, N_NICHES)).copy()
    return Markets(
        rival_price_gap=np.zeros_like(trend),  # set by anchor_rivals once the firms' prices and appeal are final
        rival_quality_gap=np.zeros_like(trend),
        trend=trend,
        shock=np.zeros_like(trend),
        expenditure=trend.copy(),
        rival_price=rival_price,
        rival_quality=rival_quality,
        _rival_share=np.ones_like(trend),
        rival_mass=np.ones_like(trend),
        demand_multiplier=np.ones_like(trend),
        price_factor=np.ones(N_MARKETS),
        growth_shift=np.zeros_like(trend),
        rival_quality_shift=np.zeros_like(trend),
        applied_quality_shift=np.zeros_like(trend),
    )


def evolve(model) -> None:
    """Advance demand, the firms' matches with buyers and the rival pools by one quarter."""
    grow_expenditure(model)
    drift_matches(model)
    move_rivals(model)


def grow_expenditure(model) -> None:
    """Expenditure X_mk = Xbar_mk e^(e_mk) M_mk: a growing trend, a persistent shock, a shock multiplier.

    Xbar_mk,t = Xbar_mk,t-1 e^((g_m + dg_mk) / 4) and
    e_mk,t = rho_e e_mk,t-1 + sigma_m sqrt(1/2) (eta_m + nu_mk), with eta_m a market-wide
    and nu_mk a niche-specific standard normal: the innovation has s.d. sigma_m, and
    two niches' shocks in one market correlate at 1/2.
    """
    p = model.params
    mk: Markets = model.markets
    rng = model.streams["demand"]
    growth = (p.market_array("growth")[:, None] + mk.growth_shift) / QUARTERS_PER_YEAR
    sd = p.market_array("shock_sd")[:, None]
    common = rng.standard_normal((N_MARKETS, 1))
    specific = rng.standard_normal((N_MARKETS, N_NICHES))
    innovation = sd * np.sqrt(0.5) * (common + specific)
    mk.trend *= np.exp(growth)
    mk.shock = p.shock_persistence * mk.shock + innovation
    mk.expenditure = mk.trend * np.exp(mk.shock) * mk.demand_multiplier


def drift_matches(model) -> None:
    """Each firm's log match with each market's buyers, an AR(1): x_im <- rho_x x_im + sigma^x_m eps_im.

    Orders won and lost, key clients; sigma^x is match_sd at home and
    match_sd_foreign abroad, for every market, served or not.
    """
    p, f = model.params, model.firms
    sd = np.full(N_MARKETS, p.match_sd_foreign)
    sd[DOMESTIC] = p.match_sd
    draw = np.multiply(model.streams["matches"].standard_normal(f.match.shape, dtype=np.float32), sd)
    f.match[:] *= p.match_persistence
    f.match[:] += draw


def move_rivals(model) -> None:
    """Rivals improve along exogenous trends (per market and niche, as the scenario sets them), with noise.

    ln q^R <- ln q^R + g_q(m, k) / 4 + sigma_R zeta_1 and ln p^R <- ln p^R - g_c(m, k) / 4 + sigma_R zeta_2
    (a rival_leap shock shifts the quality path while it lasts). With ``rival_anchor`` set to
    ``sales_weighted`` or ``unweighted`` they also close a share chi (rival_catchup) of their
    drift from their initial position relative to the region's mean log quality and price in
    the niche: chi (mean ln q_k + D^q - ln q^R), the alternative closure of the model.
    """
    p, mk = model.params, model.markets
    noise = model.streams["rivals"].standard_normal((2, N_MARKETS, N_NICHES)) * p.rival_shock_sd
    growth_q, decline_p = rival_trends(p)
    # a rival_leap moves the rivals' quality when it starts and back when it ends
    log_rq = np.log(mk.rival_quality) + (mk.rival_quality_shift - mk.applied_quality_shift)
    mk.applied_quality_shift = mk.rival_quality_shift.copy()
    log_rp = np.log(mk.rival_price)
    pull_q = pull_p = 0.0
    if p.rival_anchor != "exogenous":
        log_p, log_q = regional_log_means(model, p.rival_anchor)
        pull_q = p.rival_catchup * (log_q[None, :] + mk.rival_quality_gap + mk.rival_quality_shift - log_rq)
        pull_p = p.rival_catchup * (log_p[None, :] + mk.rival_price_gap - log_rp)
    mk.rival_quality = np.exp(log_rq + growth_q / QUARTERS_PER_YEAR + pull_q + noise[0])
    mk.rival_price = np.exp(log_rp - decline_p / QUARTERS_PER_YEAR + pull_p + noise[1])
