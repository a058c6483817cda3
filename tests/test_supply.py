"""Supply chains (sim/supply.py) and network contracts (sim/internationalisation.py): each mechanism on its own."""

from __future__ import annotations

import numpy as np
import pytest

from sim import DistrictModel
from sim.model import graph
from sim.model.links import supply_counts, supply_rows
from sim.model.space import PROXIMITY
from sim.model.world import MARKETS
from sim.submodels import consortia, demography, internationalisation, supply

USA = MARKETS.index("usa")


@pytest.fixture(scope="module")
def chain() -> DistrictModel:
    model = DistrictModel(n_firms=1000, rng=21)
    for _ in range(8):
        model.step()
    return model


def test_clients_are_larger_firms_buying_mostly_nearby(chain):
    f, p = chain.firms, chain.params
    rc, rs = supply_rows(chain)
    assert rc.size > 100
    # links are made to smaller suppliers (either may have grown or shrunk since)
    since_start = chain.supply.since == 0
    assert (f.employees[rc] > f.employees[rs]).mean() > 0.9
    # clients had subcontract_min_employees when they linked at the start: two years on, a few have shrunk fast
    assert (f.employees[rc[since_start]] >= 0.5 * p.subcontract_min_employees).mean() > 0.95
    proximity = PROXIMITY[f.province[rc], f.province[rs]]
    assert (proximity == 0).mean() > p.supplier_same_province - 0.1
    assert (proximity <= 1).mean() > 0.85
    assert (f.niche[rc] == f.niche[rs]).mean() > p.supplier_same_niche - 0.15
    n_suppliers, n_clients = supply_counts(chain)
    assert n_suppliers.max() <= p.max_suppliers
    assert (n_clients > 0).sum() > 0.5 * rc.size / n_clients.max()


def test_a_supplier_loses_sales_when_its_client_collapses_or_exits():
    model = DistrictModel(n_firms=1000, rng=21)
    for _ in range(8):
        model.step()
    f = model.firms
    rc, rs = supply_rows(model)
    client = rc[np.argmax(f.output[rc])]
    suppliers = f.firm_id[rs[rc == client]]
    supply.trade(model)
    before = f.b2b_sales[f.row_of[suppliers]].copy()
    assert (before > 0).all()
    f.output[client] *= 0.5  # the client's sales halve: its orders halve
    supply.trade(model)
    np.testing.assert_array_less(f.b2b_sales[f.row_of[suppliers]], before)
    f.exiting[:] = False
    f.exiting[client] = True
    gone = f.firm_id[client]
    demography.exit_firms(model)
    supply.trade(model)
    after = f.b2b_sales[f.row_of[suppliers]]
    assert (after < 0.6 * before).all()  # what is left comes from their other clients
    assert gone not in model.supply.client  # its links went with it


def test_b2b_orders_are_served_from_spare_capacity_only(chain):
    f = chain.firms
    assert (f.output <= f.employees * f.productivity * (1 + 1e-9)).all()
    assert (chain.supply.fill >= 0).all() and (chain.supply.fill <= 1).all()


def test_district_sales_count_final_buyers_only(chain):
    f = chain.firms
    frame = chain.observer.model_frame(chain)
    assert frame.b2b_sales.iloc[-1] == pytest.approx(f.b2b_sales.sum())
    assert frame.b2b_sales.iloc[-1] > 0.02 * frame.sales.iloc[-1]
    # revenue = market sales + sales to regional clients; the district's sales are market sales
    np.testing.assert_allclose(f.revenue, f.sales.sum(axis=1) + f.b2b_sales)
    assert frame.sales.iloc[-1] >= f.sales.sum() - 1e-6
    assert frame.sales.iloc[-1] < f.revenue.sum()


def test_client_costs_and_quality_follow_their_suppliers(small_model):
    f = small_model.firms
    rc, rs = supply_rows(small_model)
    client = rc[0]
    mine = rs[rc == client]
    supply.price_inputs(small_model)
    gap, quality = f.input_cost_gap[client], f.input_quality[client]
    f.price[mine] *= 0.8  # cheaper suppliers
    f.quality[mine] *= 1.5  # and better ones
    supply.price_inputs(small_model)
    assert f.input_cost_gap[client] < gap
    assert f.input_quality[client] > quality


def test_unreliable_suppliers_are_dropped(small_model):
    links = small_model.supply
    links.fill[:5] = 0.1
    dropped = (links.client[:5], links.supplier[:5])
    small_model.params.supply_break_rate = 0.0
    small_model.params.supplier_search_rate = 0.0  # no search for replacements, which could draw them again
    supply.review(small_model)  # the yearly review (supply.source runs it in first quarters)
    keys = links.keys()
    assert not np.isin(dropped[0] * (1 << 32) + dropped[1], keys).any()


def test_contacts_include_clients_and_suppliers(small_model):
    f = small_model.firms
    rc, rs = supply_rows(small_model)
    client, supplier = rc[0], rs[0]
    f.served[client, 2] = True
    f.served[supplier, 2] = False
    present = graph.contacts_present(small_model, np.array([supplier]))
    assert present[0, 2]
    cost = internationalisation.entry_costs(small_model, np.array([supplier]))
    base = internationalisation.entry_costs(small_model)
    assert cost[0, 2] == pytest.approx(base[2] * (1 - small_model.params.network_entry_discount))


def _candidates(model, count: int, linked: bool = True) -> np.ndarray:
    """``count`` small firms of one province and niche with cash, joined in a chain of collaborations if ``linked``.

    The model is put in the first quarter of a year, when network contracts are signed.
    """
    model.steps = 1
    f = model.firms
    small = (f.employees < model.params.consortium_max_employees) & (f.province == 4) & (f.niche == 0)
    rows = np.nonzero(small)[0][:count]
    assert rows.size == count
    f.cash[rows] = 1e5
    model.links.keep(~np.isin(model.links.a, f.firm_id[rows]) & ~np.isin(model.links.b, f.firm_id[rows]))
    model.supply.keep(~np.isin(model.supply.client, f.firm_id[rows]) & ~np.isin(model.supply.supplier, f.firm_id[rows]))
    if linked:
        model.links.add(f.firm_id[rows[:-1]], f.firm_id[rows[1:]], 0)
    return rows


def _value(model, rows: np.ndarray, market: int, member_surplus: float) -> np.ndarray:
    """Stand-alone entry values that make a member's value in ``market`` equal ``member_surplus`` (others hopeless)."""
    p = model.params
    entry = internationalisation.entry_costs(model)
    flat = internationalisation.discount_weights(p.entry_horizon, p.discount_rate, p.customer_inertia_speed)[0]
    saving = (1 - p.consortium_entry_share) * flat * internationalisation.presence_costs(model, rows)
    member_cost = p.consortium_entry_share * entry + p.network_contract_cost
    value = np.full((rows.size, entry.size), -1e9)
    value[:, market] = member_surplus - entry[market] - saving[:, market] + member_cost[market]
    return value


def test_network_contract_members_share_the_sunk_cost(small_model):
    p, f = small_model.params, small_model.firms
    rows = _candidates(small_model, p.consortium_size)
    small_model.quarter_costs["entry"] = np.zeros(f.n)
    value = _value(small_model, rows, USA, 10.0)
    assert (value[:, USA] < 0).all()  # none would enter alone
    consortia.form_consortia(small_model, rows, value, np.full(value.shape, 100.0))
    assert small_model.consortia_formed == 1
    assert f.served[rows, USA].all() and f.consortium[rows, USA].all()
    group = f.consortium_group[rows, USA]
    assert (group > 0).all() and np.unique(group).size == 1
    paid = small_model.quarter_costs["entry"][rows]
    np.testing.assert_allclose(
        paid, p.consortium_entry_share * internationalisation.entry_costs(small_model)[USA] + p.network_contract_cost
    )
    # in a distant market, sharing the sunk cost outweighs the cost of organising the contract
    assert (paid < internationalisation.entry_costs(small_model)[USA]).all()
    assert consortia.n_consortia(small_model) == 1


def test_incomplete_or_large_groups_do_not_form(small_model):
    p, f = small_model.params, small_model.firms
    rows = _candidates(small_model, p.consortium_size)
    small_model.quarter_costs["entry"] = np.zeros(f.n)
    value = _value(small_model, rows, USA, 10.0)
    consortia.form_consortia(small_model, rows[:-1], value[:-1], np.full(value[:-1].shape, 100.0))
    assert small_model.consortia_formed == 0 and not f.consortium[rows].any()
    f.employees[rows[0]] = p.consortium_max_employees + 1  # too large to join without a policy
    consortia.form_consortia(small_model, rows, value, np.full(value.shape, 100.0))
    assert small_model.consortia_formed == 0


def test_network_contracts_are_signed_in_first_quarters_only(small_model):
    p, f = small_model.params, small_model.firms
    rows = _candidates(small_model, p.consortium_size)
    small_model.quarter_costs["entry"] = np.zeros(f.n)
    value = _value(small_model, rows, USA, 10.0)
    small_model.steps = 2
    consortia.form_consortia(small_model, rows, value, np.full(value.shape, 100.0))
    assert small_model.consortia_formed == 0
    small_model.steps = 5
    consortia.form_consortia(small_model, rows, value, np.full(value.shape, 100.0))
    assert small_model.consortia_formed == 1


def test_network_contracts_need_firms_that_know_each_other(small_model):
    p, f = small_model.params, small_model.firms
    rows = _candidates(small_model, p.consortium_size, linked=False)
    small_model.quarter_costs["entry"] = np.zeros(f.n)
    value = _value(small_model, rows, USA, 10.0)
    consortia.form_consortia(small_model, rows, value, np.full(value.shape, 100.0))
    assert small_model.consortia_formed == 0  # same province, niche and market, but strangers
    # a supply link and collaborations, direct or through another member, are enough
    small_model.supply.add(f.firm_id[rows[[0]]], f.firm_id[rows[[1]]], 0)
    small_model.links.add(f.firm_id[rows[[1, 1]]], f.firm_id[rows[[2, 3]]], 0)
    consortia.form_consortia(small_model, rows, value, np.full(value.shape, 100.0))
    assert small_model.consortia_formed == 1


def test_members_pool_market_information(small_model):
    p, f = small_model.params, small_model.firms
    rows = _candidates(small_model, p.consortium_size)
    f.served[rows, 1] = True
    f.consortium[rows, 1] = True
    f.consortium_group[rows, 1] = 7
    f.match[rows, 1] = [0.4, -0.2, 0.1, -0.3]
    lone = f.match[:, 2].copy()
    consortia.share_information(small_model)
    w = p.consortium_information
    mean = np.mean([0.4, -0.2, 0.1, -0.3])
    np.testing.assert_allclose(f.match[rows, 1], (1 - w) * np.array([0.4, -0.2, 0.1, -0.3]) + w * mean)
    np.testing.assert_array_equal(f.match[:, 2], lone)  # other cells untouched
    internationalisation.leave(
        small_model, np.isin(np.arange(f.n), rows)[:, None] & (np.arange(f.match.shape[1]) == 1)[None, :]
    )
    assert (f.consortium_group[rows] == 0).all() and consortia.n_consortia(small_model) == 0


def test_a_niche_shock_travels_up_the_supply_chain_and_moves_firms_out_of_the_niche():
    """Same seed with and without the automotive_transition shock (from step 21): identical until then."""
    auto = 3  # world.NICHES.index("automotive")

    def run(scenario: str):
        model = DistrictModel(scenario, n_firms=1200, rng=1)
        for _ in range(20):
            model.step()
        f = model.firms
        rc, rs = supply_rows(model)
        exposed = np.unique(
            f.firm_id[rs[(f.niche[rc] == auto) & (f.niche[rs] != auto)]]
        )  # other niches' suppliers of automotive firms
        model.step()  # the first quarter of the shock
        alive = exposed[model.firms.row_of[exposed] >= 0]
        b2b = dict(zip(alive.tolist(), model.firms.b2b_sales[model.firms.row_of[alive]].tolist(), strict=True))
        for _ in range(3):
            model.step()
        return model, exposed, b2b

    base, exposed, b2b_base = run("baseline")
    shocked, exposed_too, b2b_shocked = run("automotive_transition")
    np.testing.assert_array_equal(exposed, exposed_too)
    assert exposed.size >= 10
    both = set(b2b_base) & set(b2b_shocked)
    # in the first quarter of the shock their automotive clients' lost sales cut their orders
    assert sum(b2b_shocked[i] for i in both) < 0.92 * sum(b2b_base[i] for i in both)
    switches = [model.observer.model_frame(model).niche_switches.iloc[20:].sum() for model in (base, shocked)]
    assert switches[1] > switches[0] + 3  # and, within a year, some firms leave the niche
