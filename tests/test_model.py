"""The whole model: invariants over a run, reproducibility, Mesa integration."""

from __future__ import annotations

import inspect

import mesa
import numpy as np
import pandas as pd
import pytest

from sim import DistrictModel, Firm
from sim.config.specs import INSTRUMENTS
from sim.model.firms import FIELDS, SIZE_CLASSES, FirmTable, cell_totals, size_class
from sim.model.links import partner_rows, supply_rows
from sim.model.observe import MODEL_COLUMNS
from sim.model.world import DOMAINS, FOREIGN_MARKETS, MARKETS, NICHES, PROVINCES
from sim.run import run, simulate


def test_invariants_hold_every_step():
    model = DistrictModel(n_firms=300, rng=5)
    seen_exited: set[int] = set()
    for _ in range(24):
        model.step()
        f, mk = model.firms, model.markets
        np.testing.assert_allclose(cell_totals(f.niche, f.share) + mk.rival_share, 1.0, atol=1e-9)
        assert (f.employees >= 1.0).all()
        assert (f.output <= f.demanded * (1 + 1e-9)).all()
        assert (f.share >= 0).all() and (f.employees > 0).all()
        alive = set(f.firm_id.tolist())
        assert not alive & seen_exited, "an exited firm came back"
        for chunk in model.observer.panel:
            seen_exited |= set(chunk["firm_id"][chunk["exited"]].tolist())
        # Mesa's agent set and the firm table describe the same firms
        assert {a.unique_id for a in model.agents_by_type[Firm]} == alive
        assert f.served[:, 0].all()


def test_a_firm_answers_what_a_student_asks(stepped_model):
    """Every attribute of a Firm is its row of the table, its links, its markets and its support."""
    model = stepped_model
    f = model.firms
    ra, rb = partner_rows(model)
    rc, rs = supply_rows(model)
    exporters = [a for a in model.agents_by_type[Firm] if a.is_exporter]
    linked = [a for a in model.agents_by_type[Firm] if a.row in set(rc.tolist())]
    assert exporters and linked
    for firm in exporters[:5] + linked[:5]:
        row = firm.row
        assert f.firm_id[row] == firm.unique_id
        for name in ("employees", "productivity", "quality", "markup", "price", "cash", "debt", "revenue", "profit"):
            value = getattr(firm, name)
            assert type(value) is float and value == getattr(f, name)[row]
        assert firm.province == PROVINCES[f.province[row]] and firm.niche == NICHES[f.niche[row]]
        assert firm.age == model.steps - f.entered_step[row]
        assert firm.net_worth == pytest.approx(
            model.params.capital_per_worker * f.employees[row] + f.cash[row] - f.debt[row]
        )
        served = np.flatnonzero(f.served[row])
        assert firm.markets == [MARKETS[m] for m in served] and firm.markets[0] == "italy"
        assert firm.markets_since == {MARKETS[m]: max(int(f.market_entered[row, m]), 0) for m in served}
        assert firm.is_exporter == (len(firm.markets) > 1)
        partners = set(f.firm_id[rb[ra == row]].tolist()) | set(f.firm_id[ra[rb == row]].tolist())
        assert set(firm.partners) == partners and len(firm.partners) == len(partners)
        assert firm.suppliers == sorted(f.firm_id[rs[rc == row]].tolist())
        assert firm.clients == sorted(f.firm_id[rc[rs == row]].tolist())
        assert list(firm.know_how) == list(DOMAINS) and list(firm.know_how.values()) == f.know_how[row].tolist()
        assert list(firm.support) == list(INSTRUMENTS) and sum(firm.support.values()) == f.support[row].sum()
        described = firm.describe()
        assert described["firm_id"] == firm.unique_id and described["suppliers"] == firm.suppliers
        assert {"employees", "markets_since", "partners", "clients", "know_how", "support", "net_worth"} <= set(
            described
        )
    # a firm's partners name it among theirs
    firm = next(a for a in model.agents_by_type[Firm] if a.partners)
    assert all(firm.unique_id in model.firm_agents[other].partners for other in firm.partners)


def test_model_frame_has_the_contract_columns(stepped_model):
    frame = stepped_model.observer.model_frame(stepped_model)
    assert list(frame.columns) == list(MODEL_COLUMNS)
    for market in FOREIGN_MARKETS:
        assert f"exports_{market}" in frame
    assert len(frame) == 16
    assert frame.step.tolist() == list(range(1, 17))
    assert frame.year.iloc[0] == stepped_model.params.start_year and frame.quarter.iloc[:5].tolist() == [1, 2, 3, 4, 1]
    exports = frame[[f"exports_{m}" for m in FOREIGN_MARKETS]].sum(axis=1)
    np.testing.assert_allclose(exports, frame.export_sales, rtol=1e-9)
    # sales = home + exports + what assembly plants abroad make there (not exported; ODD 7.20)
    np.testing.assert_allclose(
        frame.domestic_sales + frame.export_sales + frame.abroad_production, frame.sales, rtol=1e-9
    )
    assert ((frame.hhi > 0) & (frame.hhi <= 1)).all()
    assert ((frame.niche_diversity > 0) & (frame.niche_diversity <= np.log(8) + 1e-12)).all()


def test_size_classes_follow_the_eu_bands():
    employees = np.array([1.0, 9.99, 10.0, 49.9, 50.0, 249.99, 250.0, 5000.0])
    assert size_class(employees).tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert list(SIZE_CLASSES) == ["micro", "small", "medium", "large"]


def test_structure_columns_match_the_panel_and_the_province_table(stepped_model):
    """Small firms, exporters and jobs by size class and province, recomputed from the firm panel at a wave."""
    model = stepped_model
    frame = model.observer.model_frame(model)
    panel = model.observer.panel_frame()
    provinces = model.observer.province_frame()
    for step in (8, 16):
        row = frame[frame.step == step].iloc[0]
        alive = panel[(panel.step == step) & ~panel.exited]
        size = pd.cut(alive.employees, [0, 10, 50, 250, np.inf], right=False, labels=list(SIZE_CLASSES))
        exporter = alive.n_markets > 1
        assert row.n_small_firms == (alive.employees < 50).sum() > 0
        for name in SIZE_CLASSES:
            assert row[f"n_exporters_{name}"] == (exporter & (size == name)).sum()
            assert row[f"employment_{name}"] == pytest.approx(alive.employees[size == name].sum(), rel=1e-12)
        assert sum(row[f"n_exporters_{name}"] for name in SIZE_CLASSES) == row.n_exporters
        assert (frame[[f"n_exporters_{name}" for name in SIZE_CLASSES]].sum(axis=0) > 0).sum() >= 3
        by_province = provinces[provinces.step == step].set_index("province")
        for name in PROVINCES:
            assert row[f"employment_{name}"] == by_province.loc[name, "employment"]  # the same sums, bit for bit
            assert row[f"n_exporters_{name}"] == by_province.loc[name, "exporters"]
            assert row[f"n_exporters_{name}"] == (exporter & (alive.province == name)).sum()


def test_panel_rows_and_exits():
    model = simulate(
        DistrictModel(n_firms=300, rng=9).params.model_copy(update={"n_firms": 300}), seed=9, steps=22, progress=False
    )
    panel = model.observer.panel_frame()
    regular = panel[~panel.exited]
    assert sorted(regular.step.unique()) == [4, 8, 12, 16, 20, 22]
    exits = panel[panel.exited]
    assert exits.firm_id.is_unique
    assert not set(exits.firm_id) & set(regular[regular.step == 22].firm_id)
    last_rows = panel.sort_values("step").groupby("firm_id").tail(1)
    assert last_rows.loc[last_rows.firm_id.isin(exits.firm_id), "exited"].all()
    assert (panel.age >= 0).all() and (panel.n_markets >= 1).all()
    assert all(m[0] == "italy" for m in panel.markets)
    assert (panel.n_markets == panel.markets.map(len)).all()


def test_flows_include_firms_that_exit_during_the_quarter():
    model = simulate(
        DistrictModel(n_firms=300, rng=10).params.model_copy(update={"n_firms": 300}), seed=10, steps=12, progress=False
    )
    frame = model.observer.model_frame(model)
    panel = model.observer.panel_frame()
    for step in (4, 8, 12):
        rows = panel[panel.step == step]
        assert rows.exited.any() or frame.loc[frame.step == step, "n_exits"].item() == 0
        # a firm's sales include what it sells to regional clients; the district's sales count final buyers only
        assert (rows.sales - rows.b2b_sales).sum() == pytest.approx(
            frame.loc[frame.step == step, "sales"].item(), rel=1e-9
        )
        assert rows.export_sales.sum() == pytest.approx(frame.loc[frame.step == step, "export_sales"].item(), rel=1e-9)


def test_same_seed_same_parquet_bytes(tmp_path):

    params = DistrictModel(n_firms=200, rng=0).params.model_copy(update={"n_firms": 200})
    a = run(params, seed=4, out=tmp_path / "a", steps=10, progress=False)
    b = run(params, seed=4, out=tmp_path / "b", steps=10, progress=False)
    c = run(params, seed=5, out=tmp_path / "c", steps=10, progress=False)
    for key in ("model", "firms"):
        assert a[key].read_bytes() == b[key].read_bytes()
    assert a["model"].read_bytes() != c["model"].read_bytes()


def test_streams_are_independent_per_process():
    """Changing how much one process draws leaves the other streams untouched."""
    a = DistrictModel(n_firms=100, rng=21)
    b = DistrictModel(n_firms=100, rng=21, entry_attention=0.9)
    for _ in range(3):
        a.step()
        b.step()
    np.testing.assert_array_equal(a.markets.shock, b.markets.shock)


def test_mesa_batch_run_works():
    """Keyword parameters and ``rng`` let Mesa's own batch runner drive the model."""
    parameters: dict = {"n_firms": [60, 90], "steps": 3}
    seeds = {}
    if "rng" in inspect.signature(mesa.batch_run).parameters:  # Mesa >= 3.4
        seeds["rng"] = [1, 2]
    else:  # Mesa 3.3 passes seeds as an ordinary parameter
        parameters["rng"] = [1, 2]
    results = mesa.batch_run(
        DistrictModel,
        parameters=parameters,
        max_steps=3,
        number_processes=1,
        data_collection_period=-1,
        display_progress=False,
        **seeds,
    )
    frame = pd.DataFrame(results)
    # Mesa 3.3 steps while model.steps <= max_steps (four quarters, reported as its "Step" 3), Mesa 3.5 three times
    quarters = int(frame["step"].iloc[0])
    assert quarters in (3, 4) and len(frame) == 4 and frame["step"].eq(quarters).all() and frame["steps"].eq(3).all()
    assert sorted(frame["rng"]) == [1, 1, 2, 2]
    # each row is the run of one (n_firms, seed) pair: the same numbers as building that model directly
    direct = {}
    for n_firms in (60, 90):
        for seed in (1, 2):
            model = DistrictModel(n_firms=n_firms, rng=seed, steps=3)
            for _ in range(quarters):
                model.step()
            row = model.datacollector.get_model_vars_dataframe().iloc[-1]
            direct[(seed, row["n_firms"], row["employment"])] = n_firms
    found = [direct.get((r.rng, r.n_firms, r.employment)) for r in frame.itertuples()]
    assert sorted(found) == [60, 60, 90, 90]


def test_new_rows_never_inherit_state_from_removed_firms():

    table = FirmTable()
    table.append(3, firm_id=np.array([1, 2, 3]))
    for name in FIELDS:
        if name != "firm_id":
            getattr(table, name)[:] = 7
    table.remove(np.array([False, True, True]))
    table.append(2, firm_id=np.array([4, 5]))
    for name in FIELDS:
        if name not in ("firm_id", "university", "parent_id", "market_entered"):
            assert (getattr(table, name)[1:] == 0).all(), name
    assert (
        (table.university[1:] == -1).all()
        and (table.parent_id[1:] == -1).all()
        and (table.market_entered[1:] == -1).all()
    )
    assert table.row_of[4] == 1 and table.row_of[2] == -1


def test_firm_table_moves_rows_keeps_fields_apart_and_survives_pickling():
    import pickle

    table = FirmTable()
    table.append(
        40,
        firm_id=np.arange(1, 41),
        employees=np.arange(40.0),
        quality=np.arange(40.0) + 100,
        share=np.arange(320.0).reshape(40, 8),
    )
    table.remove(np.isin(table.firm_id, [3, 17, 39]))  # the last rows fill the holes
    assert table.n == 37 and sorted(table.firm_id.tolist()) == [i for i in range(1, 41) if i not in (3, 17, 39)]
    for row, firm in enumerate(table.firm_id):
        assert table.row_of[firm] == row
        assert table.employees[row] == firm - 1 and table.quality[row] == firm + 99  # fields of a block stay apart
        assert (table.share[row] == np.arange(8.0) + 8 * (firm - 1)).all()
    copy = pickle.loads(pickle.dumps(table))
    copy.remove(copy.firm_id == 1)
    copy.append(10, firm_id=np.arange(41, 51), employees=np.full(10, 5.0))  # grows the blocks
    assert copy.employees[copy.row_of[41]] == 5.0 and copy.n == 46 and copy.quality[copy.row_of[2]] == 101
    assert table.n == 37 and table.row_of[1] >= 0  # the original is untouched
    assert set(FIELDS) == set(copy._data)


@pytest.mark.parametrize("seed", [0, 2, 8])  # seeds whose single firm exits within 60 quarters
def test_a_district_that_empties_starts_again_from_entrants(seed):
    """One firm at the start: the district empties (every firm exits) and new entrants found it again, without error."""
    model = DistrictModel(n_firms=1, rng=seed)
    for _ in range(60):
        model.step()
    frame = model.observer.model_frame(model)
    empty = np.flatnonzero(frame.n_firms.to_numpy() == 0)
    assert empty.size and (frame.n_firms.iloc[empty[0] :] >= 1).any()  # emptied, then founded again
    assert np.isfinite(frame[["employment", "sales", "mean_productivity"]].to_numpy()).all()
    assert np.isfinite(model.wage) and model.wage > 0


def test_initial_firms_carry_the_accounts_of_a_quarter_at_rest():
    """ODD 5: the profit trends start at a quarter at rest, so banks rate the initial firms on accounts, not on zero."""
    model = DistrictModel(n_firms=1500, rng=3)
    f = model.firms
    start = dict(zip(f.firm_id.tolist(), f.profit_trend.tolist(), strict=True))
    np.testing.assert_array_equal(f.operating_trend, f.profit_trend)
    margin = f.profit_trend.sum() / f.revenue.sum()
    assert 0.02 < margin < 0.12  # the operating margins of mechanical SMEs (calibration band 0.04-0.12)
    model.step()
    f = model.firms
    kept = np.isin(f.firm_id, list(start))
    seeded = np.array([start[i] for i in f.firm_id[kept].tolist()])
    realised = f.profit[kept]
    assert np.corrcoef(seeded, realised)[0, 1] > 0.8  # the first quarter's accounts are the ones seeded
    assert 0.6 < realised.sum() / seeded.sum() < 1.2  # adjustment costs and spreads take a little more
    classes = np.bincount(f.bank_rating, minlength=6)[1:] / f.n
    assert classes[4] < 0.4 and f.bank_rating.mean() < 4.2  # with trends of zero: 88 % in class 5, mean 4.9
