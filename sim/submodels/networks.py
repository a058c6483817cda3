"""Networks: technical collaborations between firms (docs/ODD.md, section 7.14).

After the partner search of the SKIN model (Gilbert, Pyka & Ahrweiler
2001): every quarter some firms look for a partner. Candidates come from
buckets, never from all firms: the same province and niche, the same
province (any niche), or the same niche anywhere, drawn with probability
rising with the candidate's size and number of partners (well-known firms
are easier to find); some searches go through a partner's partner. A link
forms if one side has something to teach the other and both have room; it
dissolves at random or once there is nothing left to learn. What partners
do for each other is in innovation (joint R&D, imitation), knowhow
(learning) and internationalisation (contacts). The links themselves are
kept in sim/model/links.py.
"""

from __future__ import annotations

import numpy as np

from sim.model.arrays import weighted_pick
from sim.model.firms import bucket_groups, bucket_of, niche_groups, province_groups
from sim.model.links import (
    CollaborationLinks,
    PartnerGroups,
    degree,
    pair_key,
    partner_draw,
    partner_groups,
    partner_rows,
)
from sim.submodels import knowhow


def setup(model) -> None:
    """No collaborations before the first quarter."""
    model.links = CollaborationLinks()


def capacity(model) -> np.ndarray:
    """Most partners each firm keeps: n_bar_i = min(1 + sqrt(L_i), n_max)."""
    return np.minimum(1.0 + np.sqrt(model.firms.employees), model.params.max_partners)


def complementarity(model, a: np.ndarray, b: np.ndarray, mix: np.ndarray | None = None) -> np.ndarray:
    """What firms a and b can learn from each other: G_ab = |ln q_a/q_b| + |ln A_a/A_b| + M_ab.

    M_ab is the distance between their know-how mixes (``knowhow.mix_distance``;
    ``mix``: ``knowhow.mixes(model)`` if already computed).
    """
    f = model.firms
    gap = np.abs(np.log(f.quality[a] / f.quality[b])) + np.abs(np.log(f.productivity[a] / f.productivity[b]))
    return gap + knowhow.mix_distance(model, a, b, mix)


def collaborate(model) -> None:
    """Dissolve links that no longer pay, then let searching firms find partners.

    A link dissolves with probability b_N, or when G_ij <= G_min. A firm
    with room (n_i < n_bar_i) searches with probability s_N n_bar_i / 2,
    in its own province and niche (probability p_PN), its province (p_P) or
    its niche anywhere, and draws a candidate j with weight
    (1 + n_j) n_bar_j among firms with room; with probability p_triangle a
    partner's partner replaces the candidate. The pair links if
    G_ij > G_min, neither firm is in an earlier proposal this quarter, and
    they are not linked already.
    """
    f, p, links = model.firms, model.params, model.links
    rng = model.streams["networks"]
    ra, rb = partner_rows(model)
    mix = knowhow.mixes(model)
    if links.n:
        gap = complementarity(model, ra, rb, mix)
        stay = (rng.random(links.n) >= p.partner_break_rate) & (gap > p.partner_min_gap)
        links.keep(stay)
    deg = degree(model)
    cap = capacity(model)
    room = deg < cap
    # Larger firms search more often and are more visible (both grow with their capacity).
    seekers = np.nonzero(room & (rng.random(f.n) < p.partner_search_rate * cap / 2.0))[0]
    if seekers.size == 0:
        return
    where = rng.random(seekers.size)
    u = rng.random(seekers.size)
    weight = np.where(room, (1.0 + deg) * cap, 0.0)
    same_bucket = where < p.partner_same_niche_local
    same_province = ~same_bucket & (where < p.partner_same_niche_local + p.partner_same_province)
    anywhere = ~same_bucket & ~same_province
    candidate = np.full(seekers.size, -1)
    for mask, groups_of, key_of in (
        (same_bucket, bucket_groups, lambda rows: bucket_of(f.province[rows], f.niche[rows])),
        (same_province, province_groups, lambda rows: f.province[rows].astype(np.intp)),
        (anywhere, niche_groups, lambda rows: f.niche[rows].astype(np.intp)),
    ):
        if mask.any():
            candidate[mask] = weighted_pick(None, weight, key_of(seekers[mask]), u[mask], groups_of(f))
    # Triadic closure: some searches go through a partner's partner.
    groups = partner_groups(model)
    model.partners_at_search = ((f.version, model.steps), groups)  # innovation reuses them (submodels/innovation.py)
    u_peer = rng.random(f.n)
    first = partner_draw(groups, u_peer, seekers)
    second = np.full(seekers.size, -1)
    second[first >= 0] = partner_draw(groups, u_peer, first[first >= 0])
    through = (rng.random(seekers.size) < p.partner_triadic) & (second >= 0)
    candidate[through] = second[through]
    ok = (candidate >= 0) & (candidate != seekers)
    ok[ok] &= room[candidate[ok]]
    s, c = seekers[ok], candidate[ok]
    complementary = complementarity(model, s, c, mix) > p.partner_min_gap
    s, c = s[complementary], c[complementary]
    lo, hi = np.minimum(f.firm_id[s], f.firm_id[c]), np.maximum(f.firm_id[s], f.firm_id[c])
    fresh = first_proposals(s, c, f.n) & ~links.contains(pair_key(lo, hi))
    links.add(lo[fresh], hi[fresh], model.steps)


def first_proposals(seekers: np.ndarray, candidates: np.ndarray, n: int) -> np.ndarray:
    """Which proposals (seekers[k], candidates[k]), in order, involve no firm of an earlier proposal.

    So every firm gains at most one new link a quarter (and nobody passes
    its capacity): proposal k stands if its seeker and its candidate both
    appear first at k among the proposals' firms, listed seeker, candidate,
    seeker, candidate, ...
    """
    ends = np.column_stack([seekers, candidates]).ravel()
    _, first = np.unique(ends, return_index=True)
    first_at = np.full(n, -1)
    first_at[ends[first]] = first
    k = np.arange(seekers.size)
    return (first_at[seekers] == 2 * k) & (first_at[candidates] == 2 * k + 1)


def partner_peer(model, rng: np.random.Generator, groups: PartnerGroups | None = None) -> np.ndarray:
    """For each firm, the row of one of its partners drawn at random (-1: none).

    ``groups``: ``partner_groups(model)``, if already computed for the current firms.
    """
    n = model.firms.n
    u = rng.random(n)
    return partner_draw(partner_groups(model) if groups is None else groups, u, np.arange(n))


def search_partners(model) -> PartnerGroups | None:
    """The partner groups at this quarter's partner search (before its new links), if the firms are the same since."""
    stored = getattr(model, "partners_at_search", None)
    if stored is not None and stored[0] == (model.firms.version, model.steps):
        return stored[1]
    return None
