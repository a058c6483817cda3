"""Innovation and imitation, after the two-step search of Dosi, Fagiolo & Roventini (2010) (ODD 7.3).

University collaborations (submodels/universities.py), technical partners
(submodels/networks.py) and know-how relevant to the niche
(submodels/knowhow.py) raise the efficiency of innovation; training
(submodels/training.py) raises that of imitation, and partners are imitated
first.

A firm spends a share of revenue on R&D, split between innovation and
imitation. Innovation succeeds with probability 1 - exp(-zeta RD / L), RD / L
being R&D per worker, and then
draws a log change from a rescaled Beta; firms adopt only improvements, to
productivity (process) or quality (product). Imitation succeeds likewise
and closes part of the gap to a random firm of the same niche, if better.
"""

from __future__ import annotations

import numpy as np

from sim.model.firms import niche_groups
from sim.model.links import partner_draw, partner_groups
from sim.submodels import knowhow, networks


def random_peer(
    niche: np.ndarray, rng: np.random.Generator, order: np.ndarray | None = None, rows: np.ndarray | None = None
) -> np.ndarray:
    """For each firm, the row of a uniformly drawn firm of the same niche (O(n log n)).

    ``order``: the rows in stable order of niche, if already known. ``rows``:
    only these firms' peers are returned (the draws are made for all firms
    all the same, so the stream and the picks do not depend on ``rows``).
    """
    niche = niche.astype(np.intp)
    if order is None:
        order = np.argsort(niche.astype(np.int16), kind="stable")  # radix sort on small integers
    counts = np.bincount(niche, minlength=int(niche.max(initial=0)) + 1)
    starts = np.cumsum(counts) - counts
    u = rng.random(niche.size)
    if rows is not None:
        niche, u = niche[rows], u[rows]
    offset = np.floor(u * counts[niche]).astype(np.intp)
    return order[starts[niche] + offset]


def _draws(p, rng: np.random.Generator, n: int) -> np.ndarray:
    """Log changes g = g_low + (g_high - g_low) B, B ~ Beta(a, b), of ``n`` successful innovations."""
    beta = rng.beta(p.innovation_beta_a, p.innovation_beta_b, size=n)
    return p.innovation_low + (p.innovation_high - p.innovation_low) * beta


def innovate(model) -> np.ndarray:
    """Spend on R&D, innovate, imitate; returns each firm's successful innovation lines (0-2).

    R&D per worker r_i = rho_i revenue_i / L_i: a share iota goes to
    innovation (process varpi, product 1 - varpi), the rest to imitation.
    Innovation succeeds with probability 1 - exp(-zeta*_i r), with
    zeta*_i = zeta_in (1 + beta_U [collaboration]) (1 + beta_N [a partner]) (h_i / hbar)^eps_K,
    and the firm adopts only gains: A_i <- A_i exp(max(g, 0)) (product: q_i).
    Imitation succeeds with probability 1 - exp(-zeta_im (1 + beta_T [training]) r^im_i)
    and closes a share gamma of the gap to a peer (a partner with probability
    p_I, else a random firm of the niche): A_i <- A_i + gamma max(A_peer - A_i, 0), and q_i.
    """
    f, p = model.firms, model.params
    rng = model.streams["innovation"]
    n = f.n
    rd = f.rd_intensity * f.revenue
    model.quarter_costs["rd"] = rd
    # Success depends on R&D per worker, so innovation is scale-neutral and
    # growth rates do not depend on size on average (Gibrat's law).
    per_worker = rd / f.employees
    rd_in = p.innovation_share * per_worker
    rd_im = per_worker - rd_in

    # University partners raise the yield of R&D; training raises absorptive capacity.
    step = model.steps
    # Partners as they stood at this quarter's partner search: a new partner counts from the next quarter.
    imitation = model.streams["imitation"]
    groups = networks.search_partners(model) or partner_groups(model)
    u_partner = imitation.random(n)  # which partner a firm would imitate
    has_partner = groups[1] > 0
    efficiency = (
        p.innovation_efficiency
        * np.where(f.collab_until >= step, 1.0 + p.collaboration_boost, 1.0)
        * np.where(has_partner, 1.0 + p.partner_rd_boost, 1.0)
    )
    efficiency *= knowhow.innovation_factor(model)
    successes = np.zeros(n, dtype=np.int8)
    absorptive = np.where(f.training_until >= step, 1.0 + p.training_absorptive_boost, 1.0)
    for field, budget in (("productivity", p.process_share * rd_in), ("quality", (1 - p.process_share) * rd_in)):
        success = np.nonzero(rng.random(n) < 1.0 - np.exp(-efficiency * budget))[0]
        gain = np.maximum(_draws(p, rng, success.size), 0.0)
        getattr(f, field)[success] *= np.exp(gain)
        successes[success] += 1

    imitate = np.nonzero(rng.random(n) < 1.0 - np.exp(-p.imitation_efficiency * absorptive * rd_im))[0]
    peer = random_peer(f.niche, imitation, niche_groups(f)[0], imitate)
    # partners share know-how first
    by_partner = has_partner[imitate] & (imitation.random(n)[imitate] < p.partner_imitation_share)
    peer[by_partner] = partner_draw(groups, u_partner, imitate[by_partner])
    for field in ("productivity", "quality"):
        values = getattr(f, field)
        values[imitate] += p.imitation_catchup * np.maximum(values[peer] - values[imitate], 0.0)
    return successes
