"""The district (issue 3, first step): provinces as a Mesa space, spin-offs, province totals."""

from __future__ import annotations

import numpy as np
import pytest

from sim import DistrictModel, Firm
from sim.model import graph
from sim.model.arrays import insertion_slots, merge
from sim.model.links import CollaborationLinks, pair_key, partner_rows, supply_rows
from sim.model.space import PROXIMITY, capital_km
from sim.model.world import NICHE_OVERLAP, NICHES, PROVINCES, related_niches
from sim.submodels import demography, internationalisation, networks
from sim.submodels.demography import choose_parents


@pytest.fixture(scope="module")
def district() -> DistrictModel:
    model = DistrictModel(n_firms=800, rng=12)
    for _ in range(24):
        model.step()
    return model


def test_firms_sit_in_the_cell_of_their_province(district):
    f = district.firms
    for cell in district.space.all_cells:
        ids = {a.unique_id for a in cell.agents}
        assert ids == set(f.firm_id[f.province == cell.coordinate].tolist())
    firm = next(iter(district.agents_by_type[Firm]))
    assert firm.cell.coordinate == f.province[firm.row]


def test_proximity_classes():
    b, m, r = PROVINCES.index("bologna"), PROVINCES.index("modena"), PROVINCES.index("rimini")
    assert PROXIMITY[b, b] == 0 and PROXIMITY[b, m] == 1 and PROXIMITY[b, r] == 2
    assert (PROXIMITY == PROXIMITY.T).all()
    # capitals are tens of km apart, Piacenza to Rimini over 200 km
    km = capital_km()
    assert 200 < np.linalg.norm(km[PROVINCES.index("piacenza")] - km[r]) < 280


def test_spinoffs_appear_near_profitable_parents_of_their_province_and_niche(district):
    panel = district.observer.panel_frame()
    spinoffs = panel[panel.parent_id >= 0].groupby("firm_id").first()
    assert len(spinoffs) > 20
    parents = panel.groupby("firm_id").first()
    known = spinoffs[spinoffs.parent_id.isin(parents.index)]
    assert len(known) > 0.5 * len(spinoffs)
    parent_rows = parents.loc[known.parent_id]
    assert (known.province.to_numpy() == parent_rows.province.to_numpy()).all()
    # the same niche, or for about spinoff_related_share of them a related niche (by know-how overlap)
    same = known.niche.to_numpy() == parent_rows.niche.to_numpy()
    assert 1 - district.params.spinoff_related_share - 0.15 < same.mean() < 1.0
    child, parent = (np.array([NICHES.index(k) for k in col]) for col in (known.niche[~same], parent_rows.niche[~same]))
    assert (child != parent).all() and (NICHE_OVERLAP[child, parent] >= NICHE_OVERLAP.min()).all()
    distance = np.hypot(
        known.x_km.to_numpy() - parent_rows.x_km.to_numpy(), known.y_km.to_numpy() - parent_rows.y_km.to_numpy()
    )
    # spin-offs settle within a few km of their parent; random firms of a province are ~17 km apart
    assert np.median(distance) < 10
    frame = district.observer.model_frame(district)
    assert frame.spinoff_entries.sum() <= frame.n_entries.sum()
    share = frame.spinoff_entries.sum() / frame.n_entries.sum()
    assert 0.5 < share <= district.params.spinoff_share + 0.1


def test_related_niches_are_drawn_in_proportion_to_their_overlap():
    """Related spin-offs, suppliers and switchers go to another niche with probability proportional to overlap."""
    rng = np.random.default_rng(3)
    for niche in (0, 3, 7):
        draws = related_niches(np.full(200_000, niche), rng)
        other = np.where(np.arange(len(NICHES)) == niche, 0.0, NICHE_OVERLAP[niche])
        np.testing.assert_allclose(
            np.bincount(draws, minlength=len(NICHES)) / draws.size, other / other.sum(), atol=0.004
        )


def test_parents_are_profitable_and_chosen_in_the_entrant_bucket(small_model):
    f = small_model.firms
    f.profit_trend[:] = -1.0
    good = np.nonzero((f.province == 4) & (f.niche == 0))[0][:3]
    f.profit_trend[good] = 5.0
    bucket = np.full(400, 4 * 8 + 0)
    parent = choose_parents(small_model, bucket, np.random.default_rng(0))
    chosen = parent[parent >= 0]
    assert chosen.size > 0.5 * 400 * small_model.params.spinoff_share
    assert set(chosen.tolist()) <= set(good.tolist())
    # a bucket without profitable firms gets no spin-offs
    empty = choose_parents(small_model, np.full(50, 1 * 8 + 3), np.random.default_rng(1))
    assert (empty == -1).all()


def test_province_totals_add_up(district):
    provinces = district.observer.province_frame()
    frame = district.observer.model_frame(district).set_index("step")
    assert len(provinces) == len(PROVINCES) * len(frame)  # every province at every step
    assert list(provinces.province.cat.categories) == list(PROVINCES)
    totals = provinces.groupby("step")[["firms", "employment", "exports", "exporters"]].sum()
    np.testing.assert_array_equal(totals.firms, frame.n_firms)
    np.testing.assert_allclose(totals.employment, frame.employment, rtol=1e-12)
    np.testing.assert_allclose(totals.exports, frame.export_sales, rtol=1e-12)
    np.testing.assert_array_equal(totals.exporters, frame.n_exporters)
    # the last step's rows are the firms as they stand, counted province by province
    f = district.firms
    last = provinces[provinces.step == district.steps]
    last = last.assign(province=last.province.astype(str)).set_index("province")
    for p, name in enumerate(PROVINCES):
        mine = f.province == p
        assert last.loc[name, "firms"] == mine.sum()
        assert last.loc[name, "employment"] == pytest.approx(f.employees[mine].sum(), rel=1e-12)
        assert last.loc[name, "exporters"] == f.served[mine, 1:].any(axis=1).sum()
    assert last.firms.min() > 0 and (last.exports > 0).sum() >= 8


def test_the_district_network_looks_like_a_real_inter_firm_network(district):
    import networkx as nx

    metrics = graph.metrics(district)
    matrix = graph.adjacency(district)
    n, links = district.firms.n, matrix.nnz // 2
    assert links > 0.5 * n and metrics["n_collab_links"] > 0.3 * n
    assert metrics["network_density"] == pytest.approx(2 * links / (n * (n - 1)))
    random = nx.gnm_random_graph(n, links, seed=0)
    # clustering far above a random graph of the same density
    assert metrics["network_clustering"] > 10 * nx.average_clustering(random)
    # heavy-tailed degrees: the best-connected firms have far more links than in the random graph
    degree = np.asarray(matrix.sum(axis=1)).ravel()
    random_degree = np.array([d for _, d in random.degree()])
    assert degree.max() > 1.5 * random_degree.max()
    assert np.percentile(degree, 99) / degree.mean() > 1.5 * np.percentile(random_degree, 99) / random_degree.mean()
    # most firms in one component
    assert metrics["giant_component_share"] > 0.5
    assert networks.degree(district).max() <= district.params.max_partners  # capacity guides new partnerships


def test_links_join_living_firms_and_partners_are_imitated(district):

    f = district.firms
    ra, rb = partner_rows(district)
    assert (ra >= 0).all() and (rb >= 0).all() and (ra != rb).all()
    keys = set(
        zip(
            np.minimum(f.firm_id[ra], f.firm_id[rb]).tolist(),
            np.maximum(f.firm_id[ra], f.firm_id[rb]).tolist(),
            strict=True,
        )
    )
    assert len(keys) == ra.size  # no duplicate links
    peer = networks.partner_peer(district, np.random.default_rng(0))
    has = peer >= 0
    linked = set(ra.tolist()) | set(rb.tolist())
    assert set(np.nonzero(has)[0].tolist()) == linked


def test_a_partner_in_a_market_cuts_its_entry_cost(district):

    rows = np.arange(district.firms.n)
    present = graph.contacts_present(district, rows)
    cost = internationalisation.entry_costs(district, rows)
    base = internationalisation.entry_costs(district)
    discount = district.params.network_entry_discount
    np.testing.assert_allclose(cost, base[None, :] * np.where(present, 1 - discount, 1.0))
    assert present[:, 1:].any()


def test_spinoffs_start_linked_to_their_parent():

    model = DistrictModel(n_firms=1000, rng=5)
    for _ in range(4):
        model.step()
    before = model.firms.n
    model.params.spinoff_share = 1.0
    for _ in range(5):  # enough spin-offs to see both kinds of link (about 6 a round at the calibrated entry rate)
        demography.enter_firms(model)
    f = model.firms
    born = np.arange(before, f.n)
    children = born[f.parent_id[born] >= 0]
    assert children.size > 20
    ra, rb = partner_rows(model)
    rc, rs = supply_rows(model)
    partner_of = {(int(a), int(b)) for a, b in zip(ra, rb, strict=True)} | {
        (int(b), int(a)) for a, b in zip(ra, rb, strict=True)
    }
    supplier_of = {(int(c), int(s)) for c, s in zip(rc, rs, strict=True)}
    kinds = set()
    for child in children:
        parent = f.row_of[f.parent_id[child]]
        if f.employees[parent] >= model.params.subcontract_min_employees:
            assert (parent, child) in supplier_of  # the spin-off supplies its parent
            kinds.add("supplier")
        else:
            assert (parent, child) in partner_of  # or works with it as a technical partner
            kinds.add("partner")
    assert kinds == {"supplier", "partner"}


def test_links_stay_sorted_and_merge_like_np_insert():
    rng = np.random.default_rng(5)
    old = np.sort(rng.integers(0, 50, size=40))
    new = np.sort(rng.integers(0, 50, size=15))  # ties with old items and among themselves
    at = np.searchsorted(old, new)
    np.testing.assert_array_equal(merge(old, new, insertion_slots(at, old.size)), np.insert(old, at, new))
    links = CollaborationLinks()
    for a, b in ((np.array([5, 1, 9]), np.array([2, 7, 3])), (np.array([4, 8]), np.array([6, 0]))):
        links.add(a, b, step=1)
    assert (links.a < links.b).all()
    assert np.all(np.diff(pair_key(links.a, links.b)) > 0)
    assert links.contains(pair_key(np.array([2, 0, 3]), np.array([5, 8, 4]))).tolist() == [True, True, False]
