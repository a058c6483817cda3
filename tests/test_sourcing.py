"""Global sourcing (sim/submodels/sourcing.py) and the supply_disruption shock: each mechanism on its own."""

from __future__ import annotations

import numpy as np
import pytest

from sim import DistrictModel
from sim.cli import main
from sim.config import ScenarioError, build_params
from sim.model.firms import size_class
from sim.model.links import supply_rows
from sim.model.world import MARKETS
from sim.submodels import finance, sourcing

CHINA, INDIA = MARKETS.index("china"), MARKETS.index("india")
WINDOW = (3, 5)


def run_to(model: DistrictModel, step: int) -> DistrictModel:
    while model.steps < step:
        model.step()
    return model


def twins(size: float = 0.5) -> tuple[DistrictModel, DistrictModel]:
    """The baseline and the same world with Chinese suppliers failing in quarters 3-5."""
    shock = {"kind": "supply_disruption", "markets": ["china"], "size": size, "start": WINDOW[0], "end": WINDOW[1]}
    return DistrictModel(n_firms=1000, rng=7), DistrictModel(n_firms=1000, rng=7, shocks={"s": shock})


@pytest.fixture(scope="module")
def after_trade() -> tuple[dict, dict]:
    """Both twins' firms and links right after inputs are traded in the first quarter of the disruption.

    Until then the twins are the same world (no exit or entry has yet told them apart).
    """
    seen = []
    book = finance.book_production_costs

    def snapshot(model):
        if model.steps == WINDOW[0]:
            f = model.firms
            rc, rs = supply_rows(model)
            seen.append(
                {
                    "firm_id": f.firm_id.copy(),
                    "sales": f.sales.copy(),
                    "b2b_sales": f.b2b_sales.copy(),
                    "revenue": f.revenue.copy(),
                    "import_share": f.import_share.copy(),
                    "shortfall": f.input_shortfall.copy(),
                    "rc": rc,
                    "rs": rs,
                    "fill": model.supply.fill.copy(),
                }
            )
        book(model)

    finance.book_production_costs = snapshot
    try:
        for model in twins():
            run_to(model, WINDOW[0])
    finally:
        finance.book_production_costs = book
    base, hit = seen
    np.testing.assert_array_equal(base["firm_id"], hit["firm_id"])
    np.testing.assert_array_equal(base["rc"], hit["rc"])
    np.testing.assert_array_equal(base["rs"], hit["rs"])
    return base, hit


def test_larger_firms_import_a_larger_share():
    model = run_to(DistrictModel(n_firms=1000, rng=11), 8)
    f = model.firms
    share = f.import_share.sum(axis=1)
    assert (share >= 0).all() and (share <= sum(model.params.import_max_share.values()) + 1e-12).all()
    assert (f.import_share[:, 0] == 0).all()  # Italy is not abroad
    size = size_class(f.employees)
    by_class = [share[size == k].mean() for k in range(3)]  # micro, small, medium (large: too few at 1,000)
    assert by_class[0] < by_class[1] < by_class[2]
    rank_corr = np.corrcoef(np.argsort(np.argsort(f.employees)), np.argsort(np.argsort(share)))[0, 1]
    assert rank_corr > 0.5
    # what importers save is in their unit material cost
    np.testing.assert_allclose(f.import_cost_gap, sourcing.import_cost_gap(model))
    assert (f.import_cost_gap[share > 0] < 0).all()
    frame = model.observer.model_frame(model)
    assert 0.15 < frame.imported_input_share.iloc[-1] < 0.4


def test_a_disruption_hits_only_firms_sourcing_there_and_only_in_its_window():
    base, hit = twins()
    for step in range(1, 8):
        run_to(base, step)
        run_to(hit, step)
        inside = WINDOW[0] <= step <= WINDOW[1]
        expected = np.zeros(len(MARKETS))
        expected[CHINA] = 0.5 if inside else 0.0
        np.testing.assert_array_equal(hit.supply_disruption, expected, err_msg=f"step {step}")
        f = hit.firms
        np.testing.assert_array_equal(f.input_shortfall, 0.5 * f.import_share[:, CHINA] if inside else 0.0)
        if step < WINDOW[0]:
            np.testing.assert_array_equal(f.output, base.firms.output)
    shortfall = hit.observer.model_frame(hit).input_shortfall.to_numpy()
    assert (shortfall[2:5] > 0).all() and (shortfall[[0, 1, 5, 6]] == 0).all()
    assert (base.observer.model_frame(base).input_shortfall == 0).all()


def test_the_first_quarter_cuts_exactly_the_undelivered_share(after_trade):
    base, hit = after_trade
    x = 0.5 * hit["import_share"][:, CHINA]
    np.testing.assert_array_equal(hit["shortfall"], x)
    sourcing_china = x > 0
    assert 0.1 < sourcing_china.mean() < 0.95
    # market sales of firms sourcing in China are cut by exactly their shortfall ...
    np.testing.assert_allclose(hit["sales"], base["sales"] * (1.0 - x)[:, None], rtol=1e-12)
    # ... and no other firm loses final sales in the quarter
    np.testing.assert_array_equal(hit["sales"][~sourcing_china], base["sales"][~sourcing_china])


def test_a_disruption_reaches_regional_suppliers_and_clients(after_trade):
    base, hit = after_trade
    x, rc, rs = hit["shortfall"], hit["rc"], hit["rs"]
    # clients of suppliers short of inputs get fewer inputs from them
    short_supplier = x[rs] > 0
    assert short_supplier.sum() > 20
    # (a few suppliers short of capacity serve a larger fraction of orders that their own hit clients cut)
    change = hit["fill"][short_supplier] - base["fill"][short_supplier]
    assert (change < 0).sum() > 4 * (change > 0).sum()
    assert hit["fill"][short_supplier].mean() < base["fill"][short_supplier].mean()
    short = np.unique(rs[short_supplier])
    sold = hit["b2b_sales"][short] - base["b2b_sales"][short]
    assert (sold < 0).sum() > 4 * (sold > 0).sum()  # unchanged: suppliers whose clients took no less
    # suppliers that source nothing in China sell less to clients that do
    suppliers = np.unique(rs[(x[rc] > 0) & (x[rs] == 0)])
    assert suppliers.size > 20
    assert (hit["b2b_sales"][suppliers] <= base["b2b_sales"][suppliers] * (1 + 1e-12)).all()
    # most sell strictly less; the others were selling all they could make (no spare capacity to lose)
    assert (hit["b2b_sales"][suppliers] < base["b2b_sales"][suppliers]).mean() > 2 / 3
    # firms with no shortfall, no client and no supplier short of inputs are untouched
    touched = x > 0
    touched[rc[x[rs] > 0]] = True
    touched[rs[x[rc] > 0]] = True
    assert (~touched).sum() > 100
    np.testing.assert_array_equal(hit["revenue"][~touched], base["revenue"][~touched])
    assert hit["revenue"].sum() < base["revenue"].sum()


@pytest.mark.parametrize(
    ("shock", "pattern"),
    [
        ({"size": 0.3}, r"shocks\.s: a supply_disruption names the foreign markets .*markets = "),
        ({"size": 0.3, "markets": ["italy", "china"]}, r"shocks\.s: .*not 'italy'"),
        ({"size": 0.3, "markets": ["china"], "niches": ["packaging"]}, r"shocks\.s: .*remove niches"),
        ({"size": 1.3, "markets": ["china"]}, r"shocks\.s: size for supply_disruption is the share of orders"),
        ({"size": 0.3, "markets": ["mars"]}, r"shocks\.s\.markets: unknown market 'mars'"),
    ],
)
def test_bad_disruptions_are_refused_naming_the_field(shock, pattern):
    with pytest.raises(ScenarioError, match=pattern) as info:
        build_params({"shocks": {"s": {"kind": "supply_disruption", **shock}}}, source="x.toml")
    assert "\n" not in str(info.value) and str(info.value).startswith("x.toml: ")


def test_bad_disruption_file_one_line_exit_2_nothing_written(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text('[shocks.asia]\nkind = "supply_disruption"\nsize = 0.3\nmarkets = ["italy"]\n')
    assert main(["run", str(bad), "--steps", "2", "--firms", "50"]) == 2
    err = capsys.readouterr().err.strip()
    assert "bad.toml: shocks.asia:" in err and "italy" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "results").exists()


def test_sourcing_parameters_are_checked():
    with pytest.raises(ScenarioError, match="unknown foreign market 'italy' in import_max_share"):
        build_params({"import_max_share": {"italy": 0.1}})
    with pytest.raises(ScenarioError, match=r"import_max_share adds up to .* 1 - subcontract_share"):
        build_params({"import_max_share": {"eu": 0.7, "china": 0.2}})
    with pytest.raises(ScenarioError, match=r"import_delay_cost\.china must be from 0 to 1"):
        build_params({"import_delay_cost": {"china": -0.1}})
    assert build_params({"import_max_share": {"china": 0.1}}).import_max_share["eu"] == 0.22
