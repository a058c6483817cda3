"""Know-how: each firm's stock per technology domain, how it grows, decays and spills over.

Choice (docs/ODD.md, 7.15): a vector over four technology domains
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

from sim.state import take_rows
from sim.world import N_DOMAINS, N_NICHES, N_PROVINCES, NICHE_OVERLAP, NICHE_PROFILE

#: Fields of each university and technology centre (rows follow
#: sim.universities.UNIVERSITIES, columns world.DOMAINS; rows sum to 1). An
#: assumption from their engineering departments: Modena and Reggio Emilia
#: mechatronics and automotive software, Parma and Ferrara materials and food
#: engineering, Bologna and the regional network broad.
UNIVERSITY_PROFILE = np.array(
    [
        [0.35, 0.25, 0.20, 0.20],  # bologna
        [0.35, 0.30, 0.25, 0.10],  # modena_reggio_emilia
        [0.30, 0.15, 0.15, 0.40],  # parma
        [0.30, 0.20, 0.10, 0.40],  # ferrara
        [0.40, 0.25, 0.20, 0.15],  # regional_network
    ]
)


_OTHER = np.where(np.eye(N_NICHES, dtype=bool), 0.0, NICHE_OVERLAP)
#: row k: cumulative probabilities of moving from niche k to each other niche, proportional to their overlap
_RELATED_CUMULATIVE = np.cumsum(_OTHER / _OTHER.sum(axis=1, keepdims=True), axis=1)


def related_niches(niche: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Another niche for each entry of ``niche``, drawn with probability proportional to its know-how overlap (world.NICHE_OVERLAP)."""
    cum = _RELATED_CUMULATIVE[np.asarray(niche, dtype=np.intp)]
    return np.minimum((rng.random(cum.shape[0])[:, None] > cum).sum(axis=1), N_NICHES - 1)


def initial_stock(model, niche: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Know-how of new firms: ``know_how_init`` along their niche's profile, with lognormal noise per domain."""
    p = model.params
    s = p.know_how_init_sd
    noise = np.exp(s * rng.standard_normal((niche.size, N_DOMAINS)) - s * s / 2)
    return p.know_how_init * NICHE_PROFILE[np.asarray(niche, dtype=np.intp)] * noise


_PROFILE_COLUMNS = np.ascontiguousarray(NICHE_PROFILE.T)  # (domains, niches): a gather by niche gives contiguous (domains, firms)

#: profile . profile of each niche: relevant know-how is scaled by it, so a firm holding h x profile has h.
_PROFILE_NORM = (NICHE_PROFILE**2).sum(axis=1)


def niche_profiles(firms) -> np.ndarray:
    """Each living firm's niche profile, shape (domains, firms) (cached until firms enter, exit or move)."""
    return firms.cached("niche_profile", lambda: _PROFILE_COLUMNS.take(firms.niche.astype(np.intp), axis=1))


def _columns(firms, rows) -> tuple[np.ndarray, np.ndarray]:
    """Know-how and niche profiles of firms ``rows`` as contiguous (domains, rows) arrays (fast column arithmetic)."""
    profile = niche_profiles(firms)
    return np.ascontiguousarray(take_rows(firms.know_how, rows).T), profile[:, rows] if isinstance(rows, slice) else profile.take(rows, axis=1)


def relevant(model, rows: slice | np.ndarray = slice(None)) -> np.ndarray:
    """Know-how that counts in each firm's own niche: profile(niche) . K / (profile . profile)."""
    f = model.firms
    return _relevant(*_columns(f, rows), f.niche[rows])


def specialisation(model, rows: slice | np.ndarray = slice(None)) -> np.ndarray:
    """Share of each firm's know-how mix that matches its niche's profile, sum_d min(K_d / sum K, profile_d) (1: fully specialised)."""
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
    """Multiplier of innovation efficiency: (h / mean h) ^ know_how_elasticity, 1 on average across firms."""
    h = relevant(model)
    mean = h.mean() if h.size else 1.0
    return (np.maximum(h, 1e-12) / max(mean, 1e-12)) ** model.params.know_how_elasticity


def absorptive_capacity(model) -> np.ndarray:
    """How much of the knowledge around it a firm can take in: its R&D effort relative to the norm (at most 3), doubled by training."""
    f, p = model.firms, model.params
    effort = np.minimum(f.rd_intensity / max(p.rd_intensity, 1e-12), 3.0)
    return effort * np.where(f.training_until >= model.steps, 1.0 + p.training_absorptive_boost, 1.0)


def learn(model, successes: np.ndarray) -> None:
    """Depreciation, learning by doing, R&D (``successes`` per firm this quarter), training, universities, partners."""
    from sim import networks

    f, p = model.firms, model.params
    step = model.steps
    k = f.know_how
    profile = niche_profiles(f)
    # Partners learn from the know-how each had at the start of the quarter:
    # each closes part of the gap wherever the other knows more. Per domain,
    # one bincount over both ends of every link (a's gains, then b's).
    ra, rb = networks.rows_of(model)
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
    along_niche = p.learning_by_doing + p.rd_know_how_gain * successes + p.training_know_how_gain * (f.training_until >= step)
    for d in range(N_DOMAINS):
        columns[d] += p.partner_learning * gained[d]
        columns[d] += along_niche * profile[d]
    at_university = np.nonzero((f.collab_until >= step) & (f.university >= 0))[0]
    columns[:, at_university] += (p.university_know_how_gain * UNIVERSITY_PROFILE[f.university[at_university]]).T
    k[:] = columns.T


def spill(model) -> None:
    """Local spillovers: know-how and quality move toward their province-and-niche means where those are higher."""
    f, p = model.firms, model.params
    bucket = f.cached("bucket_keys", lambda: f.province.astype(np.intp) * N_NICHES + f.niche.astype(np.intp))
    size = N_PROVINCES * N_NICHES
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
