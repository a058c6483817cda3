"""Learning: what a firm knows of its fit with a foreign market's buyers, before and after it sells there (ODD 7.4).

Every firm has a persistent log fit theta_im with each foreign market's buyers,
drawn at birth from N(0, sigma_theta^2) (``fit_sd``; 0 at home), which raises or
lowers what it sells there. A firm that has never sold in a market knows only
the prior and, when it reviews its markets, the result of its own study,
z = theta + sigma_s eps, whose error

    sigma_s = sigma_e (1 - c_N [a contact serves m]) (1 - c_R rho_km)

shrinks when a partner, client or supplier serves the market (``network_noise_cut``)
and with the region's presence there (``regional_information``; rho_km the share of
the niche's regional firms serving m). Its belief is then normal, with precision
1/sigma_theta^2 + 1/sigma_s^2 and mean (z / sigma_s^2) / precision. Once it sells in
m, each quarter's sales show it its realised appeal y = theta + x (x the transitory
match, which it cannot tell from theta), and it updates its belief as a normal mean
of known variance sigma_y^2 = var(x): precision += 1/sigma_y^2, mean += (y - mean) /
(sigma_y^2 precision). A firm keeps what it learned after it leaves a market
(Albornoz, Calvo Pardo, Corcos & Ornelas 2012: sequential exporting and learning).
"""

from __future__ import annotations

import numpy as np

from sim.model.arrays import served_cells
from sim.model.firms import FOREIGN_COLUMNS, firm_cell_totals, niche_rows
from sim.model.world import DOMESTIC, N_MARKETS, N_NICHES

#: Gauss-Hermite rule for E[g(mu + s Z)], Z standard normal: E ~ sum_j WEIGHTS_j g(mu + s NODES_j).
_X, _W = np.polynomial.hermite.hermgauss(5)
NODES = np.sqrt(2.0) * _X
WEIGHTS = _W / np.sqrt(np.pi)
#: Firms of the initial population have sold in the markets they serve for at least this many quarters.
HISTORY_QUARTERS = 8


def prior_precision(p) -> float:
    """1 / sigma_theta^2: what every firm knows of its fit with a market it has never sold in."""
    return 1.0 / max(p.fit_sd, 1e-6) ** 2


def signal_variance(p) -> float:
    """sigma_y^2: the variance of the transitory match abroad, x ~ AR(1), sigma_x^2 / (1 - rho_x^2)."""
    return max(p.match_sd_foreign, 1e-6) ** 2 / (1.0 - p.match_persistence**2)


def draw_fit(p, n: int, rng: np.random.Generator) -> np.ndarray:
    """Fits of ``n`` new firms with every market, shape (n, markets): N(0, sigma_theta^2) abroad, 0 at home."""
    fit = p.fit_sd * rng.standard_normal((n, N_MARKETS))
    fit[:, DOMESTIC] = 0.0
    return fit


def regional_presence(model) -> np.ndarray:
    """rho_km: the share of each niche's regional firms that serve each market, shape (niches, markets)."""
    f = model.firms
    firms = np.bincount(niche_rows(f), minlength=N_NICHES)
    serving = firm_cell_totals(f, f.served.astype(np.float64)).T
    return serving / np.maximum(firms, 1)[:, None]


def beliefs(model, rows: np.ndarray, contacts: np.ndarray, eps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and s.d. of what firms ``rows`` believe their fit with each market is, shape (rows, markets).

    A market the firm has sold in: what it learned. Any other: its study, with the draws ``eps``
    (shape (rows, markets)) and ``contacts`` (a contact serves the market).
    """
    f, p = model.firms, model.params
    prior = prior_precision(p)
    known_precision = f.belief_precision.take(rows, axis=0)
    informed = known_precision > 0
    rho = regional_presence(model).take(niche_rows(f).take(rows), axis=0)
    study_sd = p.entry_noise * np.where(contacts, 1.0 - p.network_noise_cut, 1.0) * (1.0 - p.regional_information * rho)
    study_sd = np.maximum(study_sd, 1e-6)
    z = f.fit.take(rows, axis=0) + study_sd * eps
    precision = prior + 1.0 / study_sd**2
    mean = np.where(informed, f.belief.take(rows, axis=0), z / study_sd**2 / precision)
    precision = np.where(informed, known_precision, precision)
    mean[:, DOMESTIC], precision[:, DOMESTIC] = 0.0, np.inf
    return mean, 1.0 / np.sqrt(precision)


def adopt(model, rows: np.ndarray, markets: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> None:
    """Entrants into ``markets`` start from the belief they entered with (unless they knew more already)."""
    f = model.firms
    first = f.belief_precision[rows, markets] == 0
    f.belief[rows[first], markets[first]] = mean[first]
    f.belief_precision[rows[first], markets[first]] = 1.0 / sd[first] ** 2


def learn(model) -> None:
    """Every foreign market a firm sells in shows it y = theta + x; its belief is updated (normal, known variance)."""
    f, p = model.firms, model.params
    cells, _, markets = served_cells(f.served)
    cells = cells[FOREIGN_COLUMNS[markets]]
    if cells.size == 0:
        return
    noise = 1.0 / signal_variance(p)
    seen = f.fit.take(cells) + f.match.take(cells)
    precision = f.belief_precision.take(cells) + noise
    mean = f.belief.take(cells)
    mean += (seen - mean) * noise / precision
    np.put(f.belief, cells, mean)
    np.put(f.belief_precision, cells, precision)


def know_served_markets(model) -> None:
    """The initial firms have sold for a while where they serve: their belief is close to their fit there."""
    f, p = model.firms, model.params
    cells, _, markets = served_cells(f.served)
    cells = cells[FOREIGN_COLUMNS[markets]]
    np.put(f.belief, cells, f.fit.take(cells))
    np.put(f.belief_precision, cells, prior_precision(p) + HISTORY_QUARTERS / signal_variance(p))
