"""Innovation and imitation, after the two-step search of Dosi, Fagiolo & Roventini (2010).

A firm spends a share of revenue on R&D, split between innovation and
imitation. Innovation succeeds with probability 1 - exp(-zeta RD / L), RD / L
being R&D per worker, and then
draws a log change from a rescaled Beta; firms adopt only improvements, to
productivity (process) or quality (product). Imitation succeeds likewise
and closes part of the gap to a random firm of the same niche, if better.
"""

from __future__ import annotations

import numpy as np


def random_peer(niche: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each firm, the row of a uniformly drawn firm of the same niche (O(n log n))."""
    niche = niche.astype(np.intp)
    order = np.argsort(niche, kind="stable")
    counts = np.bincount(niche, minlength=int(niche.max(initial=0)) + 1)
    starts = np.cumsum(counts) - counts
    offset = np.floor(rng.random(niche.size) * counts[niche]).astype(np.intp)
    return order[starts[niche] + offset]


def _draws(p, rng: np.random.Generator, n: int) -> np.ndarray:
    beta = rng.beta(p.innovation_beta_a, p.innovation_beta_b, size=n)
    return p.innovation_low + (p.innovation_high - p.innovation_low) * beta


def innovate(model) -> None:
    """Spend on R&D, then update productivity and quality of successful firms."""
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

    for field, budget in (("productivity", p.process_share * rd_in), ("quality", (1 - p.process_share) * rd_in)):
        success = np.nonzero(rng.random(n) < 1.0 - np.exp(-p.innovation_efficiency * budget))[0]
        gain = np.maximum(_draws(p, rng, success.size), 0.0)
        getattr(f, field)[success] *= np.exp(gain)

    imitate = rng.random(n) < 1.0 - np.exp(-p.imitation_efficiency * rd_im)
    peer = random_peer(f.niche, model.streams["imitation"])
    for field in ("productivity", "quality"):
        values = getattr(f, field)
        gap = np.maximum(values[peer] - values, 0.0)
        values += np.where(imitate, p.imitation_catchup * gap, 0.0)
