"""Know-how: each firm's stock per technology domain, how it grows, decays and spills over (ODD 7.15).

Choice: a vector over four technology domains
(world.DOMAINS: mechanics, electronics, software, materials) rather than one
scalar per niche. Niches draw on the domains in different proportions
(world.NICHE_PROFILE), so know-how carries over between related niches,
partners can be complementary (strong where the other is weak) and
universities teach their own fields. What drives a firm's innovation is its
know-how relevant to its niche, h = profile . K / (profile . profile), so
that a firm holding h times its niche's profile has h.

Every quarter K depreciates; producing adds learning by doing along the
niche's profile, and so do training programmes and successful innovations
(sim/innovation.py); a university collaboration adds along the university's
fields; technical partners close part of the gap in each domain where the
partner knows more; local spillovers pull K (and quality) toward the mean of
the firm's province and niche where that is higher, in proportion to the
firm's absorptive capacity (its own R&D effort, raised by training).
"""

from __future__ import annotations

import numpy as np

from sim.model.arrays import take_rows
from sim.model.firms import N_BUCKETS, bucket_keys
from sim.model.links import partner_rows
from sim.model.world import N_DOMAINS, NICHE_PROFILE, UNIVERSITY_PROFILE


def initial_stock(model, niche: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Know-how of new firms: ``know_how_init`` along their niche's profile, with lognormal noise per domain."""
    p = model.params
    s = p.know_how_init_sd
    noise = np.exp(s * rng.standard_normal((niche.size, N_DOMAINS)) - s * s / 2)
    return p.know_how_init * NICHE_PROFILE[np.asarray(niche, dtype=np.intp)] * noise


#: (domains, niches): a gather by niche gives contiguous (domains, firms) columns.
_PROFILE_COLUMNS = np.ascontiguousarray(NICHE_PROFILE.T)

#: Most a firm's R&D effort can multiply its absorptive capacity (relative to the norm).
MAX_ABSORPTIVE_EFFORT = 3.0

#: profile . profile of each niche: relevant know-how is scaled by it, so a firm holding h x profile has h.
_PROFILE_NORM = (NICHE_PROFILE**2).sum(axis=1)


def niche_profiles(firms) -> np.ndarray:
    """Each living firm's niche profile, shape (domains, firms) (cached until firms enter, exit or move)."""
    return firms.cached("niche_profile", lambda: _PROFILE_COLUMNS.take(firms.niche.astype(np.intp), axis=1))


def _columns(firms, rows) -> tuple[np.ndarray, np.ndarray]:
    """Know-how and niche profiles of firms ``rows`` as contiguous (domains, rows) arrays (fast column arithmetic)."""
    profile = niche_profiles(firms)
    return np.ascontiguousarray(take_rows(firms.know_how, rows).T), profile[:, rows] if isinstance(
        rows, slice
    ) else profile.take(rows, axis=1)


def relevant(model, rows: slice | np.ndarray = slice(None)) -> np.ndarray:
    """Know-how that counts in each firm's own niche: profile(niche) . K / (profile . profile)."""
    f = model.firms
    return _relevant(*_columns(f, rows), f.niche[rows])


def specialisation(model, rows: slice | np.ndarray = slice(None)) -> np.ndarray:
    """sigma_i = sum_d min(K_id / sum_e K_ie, profile_kd): the share of the know-how mix matching the niche."""
    return _specialisation(*_columns(model.firms, rows))


def fit(model, rows: slice | np.ndarray = slice(None)) -> tuple[np.ndarray, np.ndarray]:
    """``relevant`` and ``specialisation`` of firms ``rows`` together (one pass over their know-how)."""
    f = model.firms
    k, profile = _columns(f, rows)
    return _relevant(k, profile, f.niche[rows]), _specialisation(k, profile)


def _relevant(k: np.ndarray, profile: np.ndarray, niche: np.ndarray) -> np.ndarray:
    total = k[0] * profile[0]
    for d in range(1, N_DOMAINS):
        total += k[d] * profile[d]
    total /= _PROFILE_NORM[niche.astype(np.intp)]
    return total


def _specialisation(k: np.ndarray, profile: np.ndarray) -> np.ndarray:
    total = k[0] + k[1]
    for d in range(2, N_DOMAINS):
        total += k[d]
    matched = np.minimum(k[0], profile[0] * total)
    for d in range(1, N_DOMAINS):
        matched += np.minimum(k[d], profile[d] * total)
    return matched / np.maximum(total, 1e-300)


def mixes(model) -> np.ndarray:
    """Each firm's know-how mix over domains (shares summing to 1), shape (domains, firms)."""
    k = model.firms.know_how
    total = k[:, 0] + k[:, 1]
    for d in range(2, N_DOMAINS):
        total += k[:, d]
    return np.ascontiguousarray(k.T) / np.maximum(total, 1e-300)


def mix_distance(model, a: np.ndarray, b: np.ndarray, mix: np.ndarray | None = None) -> np.ndarray:
    """Complementarity of two firms' know-how: half the L1 distance between their domain mixes (0 to 1).

    ``mix``: the result of ``mixes(model)``, if already computed this quarter.
    """
    mix = mixes(model) if mix is None else mix
    gap = np.abs(mix[0].take(a) - mix[0].take(b))
    for d in range(1, N_DOMAINS):
        gap += np.abs(mix[d].take(a) - mix[d].take(b))
    return 0.5 * gap


def innovation_factor(model) -> np.ndarray:
    """Multiplier of innovation efficiency: (h_i / h_ref)^eps_K.

    h_ref is know_how_init (``know_how_reference = "fixed"``), so a region that learns more
    innovates more; with ``"regional_mean"`` it is the mean over firms (the alternative closure,
    in which know-how only redistributes success).
    """
    p = model.params
    h = relevant(model)
    reference = p.know_how_init if p.know_how_reference == "fixed" else (h.mean() if h.size else 1.0)
    return (np.maximum(h, 1e-12) / max(reference, 1e-12)) ** p.know_how_elasticity


def knowhow_value(model, quality_gain: float, quarters: int, rows: slice | np.ndarray = slice(None)) -> np.ndarray:
    """What each firm (of ``rows``) expects a know-how programme to be worth, EUR thousand.

    W_i = bq g T / (1 - alpha) x mu_i / (1 + mu_i) x revenue_i x H: a log-quality gain
    g for T quarters raises home sales by about bq g T / (1 - alpha) in logs
    (submodels/competition.py); the firm values that extra margin over the
    horizon H it uses for market entry.
    """
    f, p = model.firms, model.params
    gain = p.markets["italy"].quality_weight * quality_gain * quarters / (1.0 - p.reach_elasticity)
    markup = f.markup[rows]
    margin = markup / (1.0 + markup)
    return gain * margin * f.revenue[rows] * p.entry_horizon


def absorptive_capacity(model) -> np.ndarray:
    """How much of the knowledge around it a firm can take in: min(rho_i / rho, 3) (1 + beta_T in training).

    rho_i / rho is its R&D intensity relative to the norm; beta_T = training_absorptive_boost.
    """
    f, p = model.firms, model.params
    effort = np.minimum(f.rd_intensity / max(p.rd_intensity, 1e-12), MAX_ABSORPTIVE_EFFORT)
    return effort * np.where(f.training_until >= model.steps, 1.0 + p.training_absorptive_boost, 1.0)


def learn(model, successes: np.ndarray) -> None:
    """Know-how grows by learning and decays: for every domain d,

    K_id <- (1 - delta) K_id + lambda_P sum_j max(K_jd - K_id, 0)
            + (l_D + g_R s_i + g_T [training]) profile_kd + g_U univ_ud [collaboration],

    j running over i's partners (the know-how of the quarter's start), s_i
    the firm's successful innovations (``successes``), k its niche and u
    its university.
    """
    f, p = model.firms, model.params
    step = model.steps
    k = f.know_how
    profile = niche_profiles(f)
    # Partners learn from the know-how each had at the start of the quarter:
    # each closes part of the gap wherever the other knows more. Per domain,
    # one bincount over both ends of every link (a's gains, then b's).
    ra, rb = partner_rows(model)
    columns = np.ascontiguousarray(k.T)
    ends = np.concatenate([ra, rb])
    gains = np.empty(ends.size)
    gained = np.empty((N_DOMAINS, f.n))
    for d in range(N_DOMAINS):
        gap = columns[d].take(rb) - columns[d].take(ra)  # what b knows more than a (negative: a knows more)
        np.maximum(gap, 0.0, out=gains[: ra.size])
        np.maximum(-gap, 0.0, out=gains[ra.size :])
        gained[d] = np.bincount(ends, weights=gains, minlength=f.n)
    columns *= 1.0 - p.know_how_depreciation
    along_niche = (
        p.learning_by_doing + p.rd_know_how_gain * successes + p.training_know_how_gain * (f.training_until >= step)
    )
    for d in range(N_DOMAINS):
        columns[d] += p.partner_learning * gained[d]
        columns[d] += along_niche * profile[d]
    at_university = np.nonzero((f.collab_until >= step) & (f.university >= 0))[0]
    columns[:, at_university] += (p.university_know_how_gain * UNIVERSITY_PROFILE[f.university[at_university]]).T
    k[:] = columns.T


def spill(model) -> None:
    """Local spillovers: know-how and quality move toward their local means where those are higher.

    K_id <- K_id + s_K a_i max(Kbar_bd - K_id, 0) and ln q_i <- ln q_i + s_q a_i max(lnqbar_b - ln q_i, 0):
    Kbar_b and lnqbar_b are the means of the firm's (province, niche) bucket b,
    a_i its absorptive capacity, s_K = know_how_spillover, s_q = spillover_rate.
    """
    f, p = model.firms, model.params
    bucket = bucket_keys(f)
    size = N_BUCKETS
    count = np.maximum(np.bincount(bucket, minlength=size), 1)
    absorptive = absorptive_capacity(model)
    log_q = np.log(f.quality)
    local = np.bincount(bucket, weights=log_q, minlength=size) / count
    f.quality[:] *= np.exp(p.spillover_rate * absorptive * np.maximum(local[bucket] - log_q, 0.0))
    rate = p.know_how_spillover * absorptive
    columns = np.ascontiguousarray(f.know_how.T)  # one domain per contiguous row
    for k in columns:
        local_k = np.bincount(bucket, weights=k, minlength=size) / count
        k += rate * np.maximum(local_k[bucket] - k, 0.0)
    f.know_how[:] = columns.T
