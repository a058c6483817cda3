"""The fixed world of the model: niches, provinces, markets, technology domains, universities.

These lists define array axes everywhere in the model (niche k, province p,
market m, domain d, university u), so their order is part of the output
contract. Nothing here changes during a run (docs/ODD.md, section 2.1).
"""

from __future__ import annotations

import numpy as np

NICHES: tuple[str, ...] = (
    "packaging",
    "machine_tools",
    "agricultural",
    "automotive",
    "hydraulics",
    "ceramics",
    "food_processing",
    "biomedical",
)

PROVINCES: tuple[str, ...] = (
    "piacenza",
    "parma",
    "reggio_emilia",
    "modena",
    "bologna",
    "ferrara",
    "ravenna",
    "forli_cesena",
    "rimini",
)

#: Destination markets; ``italy`` (index 0) is the domestic market every firm serves.
MARKETS: tuple[str, ...] = (
    "italy",
    "eu",
    "usa",
    "china",
    "india",
    "brazil",
    "russia",
    "rest_of_world",
)
FOREIGN_MARKETS: tuple[str, ...] = MARKETS[1:]
DOMESTIC = 0

N_NICHES = len(NICHES)
N_PROVINCES = len(PROVINCES)
N_MARKETS = len(MARKETS)

#: Share of the region's mechanical firms in each province (sums to 1).
#: Approximation built from the district figures in docs/ODD.md (section 5):
#: Bologna, Modena and Reggio Emilia host the bulk of the industry.
PROVINCE_SHARE = np.array([0.06, 0.10, 0.16, 0.20, 0.25, 0.05, 0.06, 0.07, 0.05])

#: Niche mix of each province (rows: provinces, columns: niches; rows sum to 1).
#: Encodes the districts of the calibration sheet: packaging valley (Bologna,
#: Parma), motor valley (Modena, Bologna), Reggio mechatronics / agricultural
#: machinery / hydraulics, Sassuolo ceramics machinery (Modena, Reggio),
#: Parma food machinery, Mirandola biomedical (Modena), machine tools
#: (Piacenza and others).
#:                  pack  tools agri  auto  hydr  ceram food  biomed
PROVINCE_NICHE_MIX = np.array(
    [
        [0.06, 0.40, 0.12, 0.10, 0.20, 0.02, 0.08, 0.02],  # piacenza
        [0.25, 0.10, 0.10, 0.08, 0.07, 0.02, 0.36, 0.02],  # parma
        [0.08, 0.12, 0.25, 0.14, 0.25, 0.10, 0.04, 0.02],  # reggio_emilia
        [0.06, 0.10, 0.14, 0.30, 0.12, 0.14, 0.04, 0.10],  # modena
        [0.30, 0.18, 0.06, 0.26, 0.10, 0.02, 0.05, 0.03],  # bologna
        [0.05, 0.20, 0.30, 0.20, 0.15, 0.01, 0.07, 0.02],  # ferrara
        [0.06, 0.22, 0.22, 0.12, 0.25, 0.02, 0.09, 0.02],  # ravenna
        [0.10, 0.25, 0.20, 0.12, 0.10, 0.02, 0.19, 0.02],  # forli_cesena
        [0.18, 0.40, 0.06, 0.14, 0.10, 0.02, 0.08, 0.02],  # rimini
    ]
)

assert np.allclose(PROVINCE_SHARE.sum(), 1.0)
assert np.allclose(PROVINCE_NICHE_MIX.sum(axis=1), 1.0)

#: Technology domains over which a firm's know-how is a vector (sim/submodels/knowhow.py).
DOMAINS: tuple[str, ...] = ("mechanics", "electronics", "software", "materials")
N_DOMAINS = len(DOMAINS)

#: How much each niche draws on each domain (rows: niches, columns: domains;
#: rows sum to 1). An assumption in the spirit of the regional specialisation
#: reports: every niche is mechanics first; packaging and machine tools are
#: mechatronic (electronics, software), automotive, hydraulics and ceramics
#: machinery lean on materials, biomedical devices on materials and electronics.
#:                mech  elec  soft  mater
NICHE_PROFILE = np.array(
    [
        [0.45, 0.25, 0.20, 0.10],  # packaging
        [0.50, 0.20, 0.20, 0.10],  # machine_tools
        [0.55, 0.20, 0.10, 0.15],  # agricultural
        [0.40, 0.20, 0.10, 0.30],  # automotive
        [0.55, 0.15, 0.05, 0.25],  # hydraulics
        [0.45, 0.20, 0.10, 0.25],  # ceramics
        [0.50, 0.20, 0.15, 0.15],  # food_processing
        [0.20, 0.30, 0.15, 0.35],  # biomedical
    ]
)

#: Relatedness of two niches: the share of one niche's know-how profile that
#: the other uses too, sum_d min(profile_a, profile_b) (1 on the diagonal).
#: It weights where spin-offs, suppliers and niche switchers go, and what a
#: switch costs.
NICHE_OVERLAP = np.minimum(NICHE_PROFILE[:, None, :], NICHE_PROFILE[None, :, :]).sum(axis=2)

assert np.allclose(NICHE_PROFILE.sum(axis=1), 1.0)


_OTHER_NICHES = np.where(np.eye(N_NICHES, dtype=bool), 0.0, NICHE_OVERLAP)
#: row k: cumulative probabilities of moving from niche k to each other niche, proportional to their overlap
_RELATED_CUMULATIVE = np.cumsum(_OTHER_NICHES / _OTHER_NICHES.sum(axis=1, keepdims=True), axis=1)


def related_niches(niche: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Another niche for each entry of ``niche``, drawn with probability proportional to its overlap with it.

    Where spin-offs' parents, suppliers searched outside the client's niche and
    niche switchers come from (NICHE_OVERLAP, off the diagonal).
    """
    cum = _RELATED_CUMULATIVE[np.asarray(niche, dtype=np.intp)]
    return np.minimum((rng.random(cum.shape[0])[:, None] > cum).sum(axis=1), N_NICHES - 1)


#: Universities and the regional technology network: name, catchment provinces
#: (empty: the whole region), share of the region's yearly capacity
#: (sim/submodels/universities.py).
UNIVERSITIES: tuple[tuple[str, tuple[str, ...], float], ...] = (
    ("bologna", ("bologna", "forli_cesena", "ravenna", "rimini"), 0.35),
    ("modena_reggio_emilia", ("modena", "reggio_emilia"), 0.25),
    ("parma", ("parma", "piacenza"), 0.15),
    ("ferrara", ("ferrara",), 0.08),
    ("regional_network", (), 0.17),
)
UNIVERSITY_NAMES: tuple[str, ...] = tuple(name for name, _, _ in UNIVERSITIES)

#: Fields of each university (rows: UNIVERSITIES, columns: DOMAINS; rows sum
#: to 1). An assumption from their engineering departments: Modena and Reggio
#: Emilia mechatronics and automotive software, Parma and Ferrara materials and
#: food engineering, Bologna and the regional network broad.
#:                mech  elec  soft  mater
UNIVERSITY_PROFILE = np.array(
    [
        [0.35, 0.25, 0.20, 0.20],  # bologna
        [0.35, 0.30, 0.25, 0.10],  # modena_reggio_emilia
        [0.30, 0.15, 0.15, 0.40],  # parma
        [0.30, 0.20, 0.10, 0.40],  # ferrara
        [0.40, 0.25, 0.20, 0.15],  # regional_network
    ]
)

assert np.allclose(UNIVERSITY_PROFILE.sum(axis=1), 1.0)
assert len(UNIVERSITY_PROFILE) == len(UNIVERSITIES)
