"""The parameter schema and scenario loading: defaults, validation, clear errors."""

from __future__ import annotations

import pytest

from sim.config import SCENARIO_DIR, MarketParams, Params, ScenarioError, build_params, load_scenario, to_toml
from sim.model.world import MARKETS


def test_baseline_file_matches_schema_defaults():
    baseline = load_scenario("baseline")
    defaults = Params()
    assert baseline.model_dump(exclude={"description"}) == defaults.model_dump(exclude={"description"})
    assert baseline.name == "baseline"
    assert baseline.description


def test_every_field_has_unit_and_description():
    for name, field in Params.model_fields.items():
        assert field.description, name
        if name not in {"markets", "export_orientation", "policies", "pools", "shocks"}:
            assert field.json_schema_extra and field.json_schema_extra.get("unit"), name


def test_overrides_by_keyword_and_nested_market():
    params = load_scenario("baseline", n_firms=50, markets={"china": {"entry_cost": 999}})
    assert params.n_firms == 50
    assert params.markets["china"].entry_cost == 999
    assert params.markets["usa"].entry_cost == Params().markets["usa"].entry_cost
    assert set(params.markets) == set(MARKETS)


def test_unknown_key_suggests_closest():
    with pytest.raises(ScenarioError, match=r"unknown key 'n_firm'; did you mean 'n_firms'\?"):
        build_params({"n_firm": 10})


def test_unknown_market_field_suggests_closest():
    with pytest.raises(ScenarioError, match=r"markets.eu.entry_cots.*did you mean 'entry_cost'"):
        build_params({"markets": {"eu": {"entry_cots": 5}}})


def test_unknown_market_is_rejected():
    with pytest.raises(ScenarioError, match="unknown market 'mars'"):
        build_params({"markets": {"mars": {"size": 1.0}}})


@pytest.mark.parametrize(
    ("data", "pattern"),
    [
        ({"n_firms": -5}, r"n_firms: .*greater than or equal to 1"),
        ({"n_firms": "many"}, r"n_firms: .*integer"),
        ({"reach_elasticity": 1.0}, r"reach_elasticity: .*less than 1"),
        ({"markup_min": 0.6, "markup_max": 0.5}, r"markup_min .* exceeds markup_max"),
        ({"markets": {"eu": {"trade_cost": -1}}}, r"markets.eu.trade_cost"),
    ],
)
def test_bad_values_give_one_line_naming_the_key(data, pattern):
    with pytest.raises(ScenarioError, match=pattern) as info:
        build_params(data, source="x.toml")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("x.toml: ")


def test_scenario_file_errors(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("n_firms = [1,\n")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(broken)
    with pytest.raises(ScenarioError, match="did you mean 'baseline'"):
        load_scenario("baselin")
    with pytest.raises(ScenarioError, match="scenario file not found"):
        load_scenario(tmp_path / "missing.toml")


def test_scenario_by_path_takes_its_name(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text('description = "tiny"\nn_firms = 20\n[markets.russia]\nsize = 0.5\n')
    params = load_scenario(path)
    assert params.name == "small"
    assert params.n_firms == 20
    assert params.markets["russia"].size == 0.5


def test_to_toml_round_trips(tmp_path):

    params = load_scenario("baseline", n_firms=123, markets={"usa": {"growth": -0.01}}, description='quote " inside')
    path = tmp_path / "resolved.toml"
    path.write_text(to_toml(params, header="resolved"))
    assert load_scenario(path) == params.model_copy(update={"name": params.name})


def test_baseline_file_states_every_parameter():
    """The baseline file holds the calibrated values themselves, not just the defaults' names."""
    import tomllib

    data = tomllib.loads((SCENARIO_DIR / "baseline.toml").read_text())
    scalars = {name for name, value in Params().model_dump().items() if not isinstance(value, dict)}
    assert scalars <= set(data), sorted(scalars - set(data))
    # a market's own rival trends default to none (TOML has no null): the market follows the global trend
    stated = {name for name, field in MarketParams.model_fields.items() if field.default is not None}
    assert stated and {"rival_quality_growth", "rival_cost_decline"}.isdisjoint(stated)
    for market in data["markets"].values():
        assert stated <= set(market)
