"""Three central rules written over one firm at a time, the way docs/ODD.md states them, against the vectorised code.

Each reference below loops over firms and markets with plain Python floats;
the model's own functions must give the same numbers (to rounding) on a
small model in the middle of a run.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from sim import DistrictModel
from sim.model.links import partner_rows, supply_rows
from sim.model.world import DOMESTIC, N_DOMAINS, N_MARKETS, NICHE_PROFILE, UNIVERSITY_PROFILE
from sim.submodels import competition, internationalisation, knowhow


def _model(seed: int, quarters: int = 10, firms: int = 400) -> DistrictModel:
    model = DistrictModel(n_firms=firms, rng=seed)
    for _ in range(quarters):
        model.step()
    return model


def _during_next_step(model: DistrictModel, monkeypatch, module, name: str, check) -> None:
    """Step the model once; just before ``module.name`` runs, hand the model to ``check``, which returns a
    function to call with the model once the real function has run."""
    real = getattr(module, name)
    after = []

    def wrapped(m, *args, **kwargs):
        after.append(check(m, *args))
        result = real(m, *args, **kwargs)
        after[-1](m)
        return result

    monkeypatch.setattr(module, name, wrapped)
    model.step()
    monkeypatch.setattr(module, name, real)
    assert after, f"{name} was not called"


# --------------------------------------------------------------------------
# 1. One cell's market shares (ODD 7.2)


def _log_attractiveness(model, i: int, m: int) -> float:
    """log a_im = alpha ln L_i + bq (ln q_i + nu_i - ln q_R) - bp (ln p_i + ln((1 + tau_m) e_m) - ln p_R)
    + theta_im + x_im (+ ln rho_T on trial)."""
    f, p, mk = model.firms, model.params, model.markets
    market = p.markets[list(p.markets)[m]]
    k = int(f.niche[i])
    materials = p.material_cost * (1 + f.input_cost_gap[i] + f.import_cost_gap[i])  # regional and foreign suppliers
    price = (1 + f.markup[i]) * (model.wage / f.productivity[i] + materials)
    value = p.reach_elasticity * math.log(f.employees[i])
    value += market.quality_weight * (math.log(f.quality[i]) + f.input_quality[i] - math.log(mk.rival_quality[m, k]))
    value -= market.price_weight * (
        math.log(price) + math.log((1 + market.trade_cost) * mk.price_factor[m]) - math.log(mk.rival_price[m, k])
    )
    value += f.fit[i, m] + f.match[i, m] + (math.log(p.trial_reach) if f.trial[i, m] else 0.0)
    if f.affiliate[i, m] == 1:  # a sales-and-service affiliate (ODD 7.20)
        value += p.service_appeal
    elif f.affiliate[i, m] == 2:  # an assembly plant: service, and no trade cost
        value += p.service_appeal + market.price_weight * math.log(1 + market.trade_cost)
    return min(max(value, -200.0), 200.0)


def test_one_cells_market_shares(monkeypatch):
    model = _model(seed=4)
    # one sales-and-service affiliate and one assembly plant, so that the rule is checked for both modes
    f = model.firms
    rows, cols = np.nonzero(f.served[:, 1:])
    f.affiliate[rows[0], cols[0] + 1], f.affiliate[rows[-1], cols[-1] + 1] = 1, 2

    def check(m, *_):
        f, p, mk = m.firms, m.params, m.markets
        n = f.n
        served = [[int(j) for j in np.flatnonzero(f.served[i])] for i in range(n)]
        a = {(i, j): math.exp(_log_attractiveness(m, i, j)) for i in range(n) for j in served[i]}
        denominator = {}
        for (i, j), value in a.items():
            key = (j, int(f.niche[i]))
            denominator[key] = denominator.get(key, float(mk.rival_mass[key])) + value
        old = f.share.copy()
        share, demanded = {}, [0.0] * n
        for (i, j), value in a.items():
            k = int(f.niche[i])
            target = value / denominator[(j, k)]
            share[i, j] = old[i, j] + p.customer_inertia_speed * (target - old[i, j])
            materials = p.material_cost * (1 + f.input_cost_gap[i] + f.import_cost_gap[i])
            price = (1 + f.markup[i]) * (m.wage / f.productivity[i] + materials)
            plant = f.affiliate[i, j] == 2  # buyers pay no trade cost; a share lambda is made abroad (ODD 7.20)
            tau = 0.0 if plant else p.markets[list(p.markets)[j]].trade_cost
            units = mk.expenditure[j, k] * share[i, j] / ((1 + tau) * mk.price_factor[j]) / price
            demanded[i] += units * (1.0 - p.assembly_local_share) if plant else units
        served_fraction = [min(1.0, f.employees[i] * f.productivity[i] / max(demanded[i], 1e-12)) for i in range(n)]

        assert f.affiliate.any()  # the rule is checked with affiliates in the cell's market too

        def compare(m2):
            f2 = m2.firms
            eu, packaging = 1, 0
            cell = [i for i in range(n) if f2.served[i, eu] and f2.niche[i] == packaging]
            assert len(cell) >= 5
            for i in cell:
                assert f2.share[i, eu] == pytest.approx(share[i, eu] * served_fraction[i], rel=1e-9)
            for i in range(n):
                assert f2.demanded[i] == pytest.approx(demanded[i], rel=1e-9)
                assert f2.output[i] == pytest.approx(demanded[i] * served_fraction[i], rel=1e-9)

        return compare

    _during_next_step(model, monkeypatch, competition, "clear_markets", check)


# --------------------------------------------------------------------------
# 2. One firm's export entry decision (ODD 7.4)


def _contact_serves(model, i: int, market: int) -> bool:
    """Whether a technical partner, client or supplier of firm i serves ``market``."""
    f = model.firms
    ra, rb = partner_rows(model)
    rc, rs = supply_rows(model)
    others = [int(b) for a, b in zip(ra, rb, strict=True) if a == i] + [
        int(a) for a, b in zip(ra, rb, strict=True) if b == i
    ]
    others += [int(s) for c, s in zip(rc, rs, strict=True) if c == i] + [
        int(c) for c, s in zip(rc, rs, strict=True) if s == i
    ]
    return any(f.served[j, market] for j in others)


def _spendable(model, i: int) -> float:
    """S_i = max(pending, (pending + lambda_i NW - B_i) / (1 + lambda_i)), NW after this quarter's booked result."""
    f, p = model.firms, model.params
    booked = sum(float(costs[i]) for costs in model.quarter_costs.values())
    pending = f.cash[i] + f.revenue[i] - booked - model.quarter_investment[i]
    worth = p.capital_per_worker * f.employees[i] + pending - f.debt[i]
    rated = max(int(f.bank_rating[i]), 1)  # banks lend a share of the limit by rating class (0: not rated yet)
    lam = model.leverage * p.rating_limits[rated - 1]
    bank = f.debt[i] - p.guarantee_capital_relief * f.guarantee_cover[i] * f.guaranteed[i]
    return max(pending, (pending + lam * worth - bank) / (1 + lam))


GH_NODES, GH_WEIGHTS = np.polynomial.hermite.hermgauss(5)


def _discounted(horizon: int, r: float, speed: float) -> tuple[float, float]:
    """Gamma_flat = sum_h (1 + r)^-h and Gamma_ramp = sum_h (1 + r)^-h (1 - (1 - speed)^h), h = 1..horizon."""
    flat = sum((1 + r) ** -h for h in range(1, horizon + 1))
    ramp = sum((1 + r) ** -h * (1 - (1 - speed) ** h) for h in range(1, horizon + 1))
    return flat, ramp


def _belief(model, i: int, m: int, contact: bool, eps: float) -> tuple[float, float]:
    """What firm i believes of its fit theta_im: what it learned by selling there, else prior and its own study."""
    f, p = model.firms, model.params
    if f.belief_precision[i, m] > 0:
        return float(f.belief[i, m]), 1.0 / math.sqrt(f.belief_precision[i, m])
    k = int(f.niche[i])
    same_niche = [j for j in range(f.n) if f.niche[j] == k]
    rho = sum(bool(f.served[j, m]) for j in same_niche) / len(same_niche)
    study = p.entry_noise * (1 - p.network_noise_cut if contact else 1.0) * (1 - p.regional_information * rho)
    study = max(study, 1e-6)
    precision = 1 / p.fit_sd**2 + 1 / study**2
    return (f.fit[i, m] + study * eps) / study**2 / precision, 1 / math.sqrt(precision)


def _entry_decision(model, i: int, shock: np.ndarray, left: np.ndarray) -> tuple[int, float]:
    """The market firm i enters (-1: none) and what it pays now: the best of full and trial entry, if positive
    and financed. V(theta) = Gamma_ramp Rev(theta) mu/(1 + mu) - Gamma_flat P_im; full: E V - F_im; trial:
    -kappa F_im + E[Gamma^T_ramp Rev_T mu/(1 + mu) - Gamma^T_flat kappa P_im + beta^T max(V - (1 - kappa) F_im, 0)]."""
    f, p, mk = model.firms, model.params, model.markets
    names = list(p.markets)
    kappa, reach = p.trial_cost_share, p.trial_reach
    flat, ramp = _discounted(p.entry_horizon, p.discount_rate, p.customer_inertia_speed)
    flat_t, ramp_t = _discounted(p.trial_quarters, p.discount_rate, p.customer_inertia_speed)
    later = (1 + p.discount_rate) ** -p.trial_quarters
    margin = f.markup[i] / (1 + f.markup[i])
    k = int(f.niche[i])
    best, best_value, best_cost = -1, -math.inf, 0.0
    for m in range(N_MARKETS):
        if m == DOMESTIC or f.served[i, m] or left[i, m]:
            continue
        market = p.markets[names[m]]
        contact = _contact_serves(model, i, m)
        mean, sd = _belief(model, i, m, contact, shock[m])
        cost = market.entry_cost * p.entry_cost_scale * (1 - p.network_entry_discount if contact else 1.0)
        presence = market.presence_cost * (max(f.employees[i], 1.0) / p.presence_reference_employees) ** (
            p.presence_size_elasticity
        )
        base = model.log_attract[i, m] - f.fit[i, m] - f.match[i, m]  # alpha ln L + ln E
        spending = mk.expenditure[m, k] / ((1 + market.trade_cost) * mk.price_factor[m])

        def revenue(theta: float, share_reached: float, base=base, others=model.denominator[m, k], spending=spending):
            a = share_reached * math.exp(base + theta)
            return a / (others + a) * spending

        direct, trial = -cost, -kappa * cost
        for node, weight in zip(GH_NODES, GH_WEIGHTS, strict=True):
            theta, w = mean + sd * math.sqrt(2) * node, weight / math.sqrt(math.pi)
            full = ramp * revenue(theta, 1.0) * margin - flat * presence
            direct += w * full
            trial += w * (
                ramp_t * revenue(theta, reach) * margin
                - flat_t * kappa * presence
                + later * max(full - (1 - kappa) * cost, 0.0)
            )
        value, pay = (trial, kappa * cost) if trial > direct else (direct, cost)
        if value > best_value:
            best, best_value, best_cost = m, value, pay
    if best >= 0 and best_value > 0 and _spendable(model, i) >= best_cost:
        return best, best_cost
    return -1, 0.0


@pytest.mark.parametrize("seed", [6, 9])
def test_one_firms_export_entry_decision(monkeypatch, seed):
    model = _model(seed=seed, firms=500)
    assert not model.params.policies  # the baseline: no co-funding on offer

    def check(m, left):
        rng = copy.deepcopy(m.streams["internationalisation"])  # the draws enter_markets is about to make
        reviewing = np.nonzero(rng.random(m.firms.n) < m.params.entry_attention)[0]
        shock = rng.standard_normal((reviewing.size, N_MARKETS))
        expected = {int(i): _entry_decision(m, int(i), shock[k], left) for k, i in enumerate(reviewing)}
        booked = m.quarter_costs["entry"].copy()  # trials that expanded this quarter paid the rest already

        def compare(m2):
            f2 = m2.firms
            entries = 0
            for i, (market, cost) in expected.items():
                new = np.flatnonzero(f2.served[i] & (f2.market_entered[i] == m2.steps))
                assert list(new) == ([market] if market >= 0 else []), f"firm row {i}"
                assert m2.quarter_costs["entry"][i] - booked[i] == pytest.approx(cost, rel=1e-12)
                entries += market >= 0
            assert entries >= 1  # some reviewers entered

        return compare

    _during_next_step(model, monkeypatch, internationalisation, "enter_markets", check)


# --------------------------------------------------------------------------
# 3. One firm's learning (ODD 7.15)


def test_one_firms_learning():
    """K_id <- (1 - delta) K_id + lP sum_j max(K_jd - K_id, 0) + g_i profile_kd (+ g_U univ_ud in a collaboration)."""
    model = _model(seed=5, quarters=12)
    f, p = model.firms, model.params
    before = f.know_how.copy()
    successes = np.random.default_rng(0).integers(0, 3, size=f.n).astype(np.int8)
    ra, rb = partner_rows(model)
    partners: dict[int, list[int]] = {i: [] for i in range(f.n)}
    for a, b in zip(ra.tolist(), rb.tolist(), strict=True):
        partners[a].append(b)
        partners[b].append(a)
    assert sum(len(v) > 0 for v in partners.values()) > 50
    expected = np.empty_like(before)
    step = model.steps
    for i in range(f.n):
        along = p.learning_by_doing + p.rd_know_how_gain * successes[i]
        along += p.training_know_how_gain * (f.training_until[i] >= step)
        for d in range(N_DOMAINS):
            k = before[i, d] * (1 - p.know_how_depreciation)
            k += p.partner_learning * sum(max(before[j, d] - before[i, d], 0.0) for j in partners[i])
            k += along * NICHE_PROFILE[f.niche[i], d]
            if f.collab_until[i] >= step and f.university[i] >= 0:
                k += p.university_know_how_gain * UNIVERSITY_PROFILE[f.university[i], d]
            expected[i, d] = k
    knowhow.learn(model, successes)
    np.testing.assert_allclose(f.know_how, expected, rtol=1e-12)
    assert (np.abs(f.know_how - before) > 1e-6).any()
