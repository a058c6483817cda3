"""Global sourcing: firms buy part of their material inputs from foreign suppliers (ODD 7.22).

A firm's material inputs (``material_cost`` c per unit of output at the
outside, domestic price) come from three places: regional subcontractors
(a share ``subcontract_share`` for clients, submodels/supply.py, unchanged),
foreign suppliers (a share phi_im from each foreign market m, ``import_share``)
and the rest of Italy (the remainder). Foreign suppliers replace only inputs
from the rest of Italy, never regional ones: the shares phi_im add up to at
most ``sum_m import_max_share[m] <= 1 - subcontract_share``.

Inputs from market m cost c (1 - a_m) but arrive later, which costs c d_m
(stocks, transport, working capital), and firms expect a share H_m of their
orders there not to be delivered. The net saving on a unit of inputs sourced
there is s_m = a_m - d_m - rho H_m. Sourcing there at all costs F0 a quarter
(``import_fixed_cost``), and its range of inputs F (phi_im / phibar_m)^2
(``import_range_cost``): costs that do not grow with the volume bought, so
larger firms import more, and from more markets (scale economies of importing:
a fixed cost per imported input, Halpern, Koren & Szeidl 2015). A firm expecting
to buy inputs worth v_i = c Y^e_i a quarter would source

    phi^o_im = min(phibar_m, max(s_m, 0) v_i phibar_m^2 / (2 F))

(the maximum of s_m v_i phi - F (phi / phibar_m)^2), and does if that gains
more than F0: its target is phi*_im = phi^o_im if s_m v_i phi^o_im -
F (phi^o_im / phibar_m)^2 > F0, else 0. It closes a share lambda
(``import_adjustment``) of the gap to its target each quarter (contracts and
supplier qualification take time), and ends a relationship whose target is 0
once its share is below ``DROP_SHARE`` x phibar_m.

A ``supply_disruption`` shock (submodels/shocks.py) makes the suppliers of
the markets it names fail to deliver a share delta_m of their orders. A firm
short of a share x_i = sum_m phi_im delta_m of its inputs cannot replace them
within the quarter (specific components): it makes and sells (1 - x_i) of
what it would have, the buyers it lets down go to the rivals, and it delivers
(1 - x_i) of its regional clients' orders (supply.trade). Its own orders to
regional suppliers follow its lower output. Firms remember disruptions: H_m
moves toward h_m + delta_m with weight ``import_risk_memory`` a quarter, so
after a disruption firms source less there for a while.
"""

from __future__ import annotations

import numpy as np

from sim.model.arrays import served_cells
from sim.model.world import FOREIGN_MARKETS, N_MARKETS
from sim.submodels.competition import update_rival_share

#: The foreign markets as columns of the (firms, markets) arrays.
FOREIGN = np.arange(1, N_MARKETS)
#: A relationship whose target is 0 ends once its share is below this fraction of the market's most share.
DROP_SHARE = 0.1


def source_terms(p) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cost advantage a, delay cost d, most share phibar and normal risk h of every market (0 at home)."""
    out = []
    for table in (p.import_cost_advantage, p.import_delay_cost, p.import_max_share, p.import_base_risk):
        values = np.zeros(N_MARKETS)
        values[FOREIGN] = [table[m] for m in FOREIGN_MARKETS]
        out.append(values)
    return tuple(out)


def setup(model, volume: np.ndarray | None = None) -> None:
    """Before the first quarter: perceived risks at their normal level, every firm at its target shares.

    ``volume``: the firms' expected output in units (default: capacity at the target utilisation).
    """
    f, p = model.firms, model.params
    model.import_risk = source_terms(p)[3].copy()
    model.supply_disruption = np.zeros(N_MARKETS)
    if volume is None:
        volume = p.utilisation_target * f.employees * f.productivity
    f.import_share[:] = target_shares(model, volume)
    f.import_cost_gap[:] = import_cost_gap(model)


def target_shares(model, volume: np.ndarray) -> np.ndarray:
    """phi*_im: phi^o_im = min(phibar_m, max(s_m, 0) v_i phibar_m^2 / (2 F)) where it gains more than F0, else 0.

    s_m = a_m - d_m - rho H_m, v_i = c Y^e_i; the gain is s_m v_i phi^o - F (phi^o / phibar_m)^2.
    Shape (firms, markets).
    """
    p = model.params
    advantage, delay, most, _ = source_terms(p)
    saving = np.maximum(advantage - delay - p.import_risk_aversion * model.import_risk, 0.0)
    inputs = p.material_cost * np.maximum(volume, 0.0)
    slope = saving * most**2 / (2.0 * p.import_range_cost)
    share = np.minimum(most[None, :], inputs[:, None] * slope[None, :])
    gain = share * (inputs[:, None] * saving[None, :]) - p.import_range_cost * (share * _inverse(most)[None, :]) ** 2
    share[gain <= p.import_fixed_cost] = 0.0
    return share


def _inverse(values: np.ndarray) -> np.ndarray:
    """1 / values, 0 where values are 0."""
    return np.divide(1.0, values, out=np.zeros(values.size), where=values > 0)


def import_cost_gap(model) -> np.ndarray:
    """gamma^I_i = sum_m phi_im (d_m - a_m): the change in the unit material cost due to foreign suppliers."""
    advantage, delay, _, _ = source_terms(model.params)
    return model.firms.import_share @ (delay - advantage)


def relationship_costs(model) -> np.ndarray:
    """F0 x (markets sourced in) + F sum_m (phi_im / phibar_m)^2 a quarter."""
    p, share = model.params, model.firms.import_share
    most = source_terms(p)[2]
    return p.import_fixed_cost * (share > 0).sum(axis=1) + p.import_range_cost * ((share * _inverse(most)) ** 2).sum(
        axis=1
    )


def source(model) -> None:
    """Before markets clear: shares move toward their targets, inputs are priced, relationships paid.

    phi_im <- phi_im + lambda (phi*_im - phi_im), with phi* from the firm's expected output
    (``expected_demand``) and the risks perceived at the end of the previous quarter; a share
    whose target is 0 ends below DROP_SHARE x phibar_m.
    """
    f, p = model.firms, model.params
    target = target_shares(model, f.expected_demand)
    f.import_share[:] += p.import_adjustment * (target - f.import_share)
    most = source_terms(p)[2]
    f.import_share[(target == 0) & (f.import_share < DROP_SHARE * most)] = 0.0
    f.import_cost_gap[:] = import_cost_gap(model)
    model.quarter_costs["sourcing"] = relationship_costs(model)


def deliver(model) -> None:
    """Right after markets clear: foreign suppliers fail to deliver a share delta_m of orders in a disruption.

    x_i = sum_m phi_im delta_m (``input_shortfall``); output, sales and market shares are cut to
    (1 - x_i) (the buyers let down go to the rivals). Perceived risks are updated:
    H_m <- (1 - w) H_m + w (h_m + delta_m).
    """
    f, p = model.firms, model.params
    delta = model.supply_disruption
    if delta.any():
        shortfall = f.import_share @ delta
        f.input_shortfall[:] = shortfall
        kept = 1.0 - shortfall
        f.output[:] *= kept
        f.sales[:] *= kept[:, None]
        cells, rows, _ = served_cells(f.served)
        np.put(f.share, cells, f.share.take(cells) * kept[rows])
        update_rival_share(model)
        f.revenue[:] = f.sales.sum(axis=1)
    else:
        f.input_shortfall[:] = 0.0
    w = p.import_risk_memory
    if w > 0:
        normal = source_terms(p)[3]
        model.import_risk = (1.0 - w) * model.import_risk + w * (normal + delta)


COLUMNS: tuple[str, ...] = (
    "imported_input_share",
    "input_shortfall",
    *(f"imports_{m}" for m in FOREIGN_MARKETS),
)


def metrics(model) -> dict[str, float]:
    """Input-weighted foreign share and shortfall, and inputs bought from each foreign market (EUR thousand)."""
    f, p = model.firms, model.params
    advantage = source_terms(p)[0]
    output = f.output
    total = float(output.sum())
    by_market = p.material_cost * (output @ f.import_share) * (1.0 - advantage)
    return {
        "imported_input_share": float(output @ f.import_share.sum(axis=1)) / total if total > 0 else 0.0,
        "input_shortfall": float(output @ f.input_shortfall) / total if total > 0 else 0.0,
        **{f"imports_{m}": float(by_market[i]) for i, m in enumerate(FOREIGN_MARKETS, start=1)},
    }
