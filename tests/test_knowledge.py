"""Know-how (sim/knowhow.py) and specialisation (sim/specialisation.py): each mechanism on its own."""

from __future__ import annotations

import numpy as np
import pytest

from sim import DistrictModel
from sim.model.world import N_NICHES, NICHE_OVERLAP, NICHE_PROFILE, UNIVERSITY_PROFILE
from sim.submodels import innovation, knowhow, specialisation


def _quiet(model) -> None:
    """No inflow but depreciation: no learning by doing, R&D, training, universities or partners."""
    p = model.params
    for name in (
        "learning_by_doing",
        "rd_know_how_gain",
        "training_know_how_gain",
        "university_know_how_gain",
        "partner_learning",
    ):
        setattr(p, name, 0.0)


def test_initial_know_how_lies_along_the_niche_profile(small_model):
    f = small_model.firms
    mix = f.know_how / f.know_how.sum(axis=1, keepdims=True)
    # lognormal noise per domain around the profile: the mix stays close to it
    assert np.abs(mix - NICHE_PROFILE[f.niche]).mean() < 0.06
    assert abs(knowhow.relevant(small_model).mean() - small_model.params.know_how_init) < 0.05


def test_know_how_depreciates_without_inflows(small_model):
    _quiet(small_model)
    f = small_model.firms
    before = f.know_how.copy()
    knowhow.learn(small_model, np.zeros(f.n, dtype=np.int8))
    np.testing.assert_allclose(f.know_how, before * (1 - small_model.params.know_how_depreciation))


def test_learning_by_doing_and_rd_add_along_the_niche(small_model):
    p, f = small_model.params, small_model.firms
    _quiet(small_model)
    p.learning_by_doing, p.rd_know_how_gain = 0.01, 0.05
    successes = np.zeros(f.n, dtype=np.int8)
    successes[:10] = 2
    before = f.know_how.copy()
    knowhow.learn(small_model, successes)
    added = f.know_how - before * (1 - p.know_how_depreciation)
    expected = (0.01 + 0.05 * successes)[:, None] * NICHE_PROFILE[f.niche]
    np.testing.assert_allclose(added, expected, atol=1e-12)


def test_university_collaboration_adds_in_the_university_fields(small_model):
    p, f = small_model.params, small_model.firms
    _quiet(small_model)
    p.university_know_how_gain = 0.1
    row = 5
    f.university[row], f.collab_until[row] = 2, small_model.steps + 3  # parma: materials first
    before = f.know_how[row].copy()
    knowhow.learn(small_model, np.zeros(f.n, dtype=np.int8))
    np.testing.assert_allclose(f.know_how[row] - before * (1 - p.know_how_depreciation), 0.1 * UNIVERSITY_PROFILE[2])


def test_partners_learn_only_where_the_partner_knows_more(small_model):
    p, f = small_model.params, small_model.firms
    _quiet(small_model)
    p.partner_learning = 0.5
    a, b = 0, 1
    f.know_how[a] = [1.0, 0.0, 0.0, 1.0]
    f.know_how[b] = [0.0, 1.0, 1.0, 1.0]
    small_model.links.add(f.firm_id[[a]], f.firm_id[[b]], 0)
    knowhow.learn(small_model, np.zeros(f.n, dtype=np.int8))
    keep = 1 - p.know_how_depreciation
    np.testing.assert_allclose(f.know_how[a], [keep, 0.5, 0.5, keep])
    np.testing.assert_allclose(f.know_how[b], [0.5, keep, keep, keep])


def test_spillovers_raise_firms_below_the_local_mean_by_absorptive_capacity(small_model):
    f = small_model.firms
    f.rd_intensity[:3] = 0.0  # no R&D: no absorptive capacity
    quality, know = f.quality.copy(), f.know_how.copy()
    knowhow.spill(small_model)
    assert (f.quality >= quality).all() and (f.quality > quality).any()
    assert (f.know_how >= know).all() and (f.know_how > know).any()
    np.testing.assert_array_equal(f.know_how[:3], know[:3])
    np.testing.assert_array_equal(f.quality[:3], quality[:3])
    # in each domain, firms at or above their province-and-niche mean gain nothing; those below never overshoot it
    bucket = f.province.astype(int) * N_NICHES + f.niche
    for d in range(know.shape[1]):
        mean = np.bincount(bucket, weights=know[:, d]) / np.maximum(np.bincount(bucket), 1)
        above = know[:, d] >= mean[bucket]
        assert above.any() and (~above).any()
        np.testing.assert_array_equal(f.know_how[above, d], know[above, d])
        assert (f.know_how[~above, d] <= mean[bucket][~above] + 1e-12).all()


def test_know_how_raises_innovation_and_stays_stationary(stepped_model):
    factor = knowhow.innovation_factor(stepped_model)
    h = knowhow.relevant(stepped_model)
    assert np.corrcoef(factor, h)[0, 1] > 0.9
    frame = stepped_model.observer.model_frame(stepped_model)
    # the region's mean know-how stays of the order of its initial level (depreciation balances learning)
    assert 0.7 < frame.mean_know_how.iloc[-1] < 1.5


def test_firms_in_a_declining_niche_move_to_the_related_growing_one(small_model):
    p, f = small_model.params, small_model.firms
    p.switch_attention = 1.0
    losing = np.nonzero(f.niche == 5)[0]  # ceramics machinery
    f.profit_trend[:] = 1.0
    f.profit_trend[losing] = -1.0
    f.cash[:] = 1e6
    f.niche_entered[:] = -100
    # ceramics demand fell by a third in the last year, automotive grew
    history = specialisation.niche_demand(small_model)
    small_model.niche_history.clear()
    small_model.niche_history.extend([history] * 4)
    small_model.markets.expenditure[:, 3] *= 1.3
    small_model.markets.expenditure[:, 5] *= 0.67
    now = specialisation.niche_demand(small_model)
    target, lead = specialisation.best_moves_from(np.log(now / history), p.switch_min_overlap)
    assert target[5] == 3 and lead[5] > 0.5
    quality = f.quality.copy()
    small_model.quarter_costs.clear()
    specialisation.review(small_model)
    assert small_model.niche_switches == losing.size
    assert (f.niche[losing] == 3).all()
    assert (f.niche_entered[losing] == small_model.steps).all()
    loss = p.switch_quality_loss * (1 - NICHE_OVERLAP[5, 3])
    np.testing.assert_allclose(f.quality[losing], quality[losing] * np.exp(-loss))
    np.testing.assert_allclose(
        small_model.quarter_costs["switch"][losing], p.switch_cost_per_worker * f.employees[losing]
    )
    others = np.setdiff1d(np.arange(f.n), losing)
    assert (small_model.quarter_costs["switch"][others] == 0).all()


def test_profitable_firms_and_unrelated_niches_stay(small_model):
    p, f = small_model.params, small_model.firms
    p.switch_attention, p.switch_min_overlap = 1.0, 0.99  # no niche is that close to another
    f.profit_trend[:] = -1.0
    f.niche_entered[:] = -100
    f.cash[:] = 1e6
    niche = f.niche.copy()
    small_model.niche_history.append(small_model.niche_history[-1] * np.linspace(0.5, 1.5, N_NICHES))
    specialisation.review(small_model)
    np.testing.assert_array_equal(f.niche, niche)


def test_specialisation_outcomes_are_recorded(stepped_model):
    """The model's counts of small specialised firms, their exits and niche switches agree with the firm panel."""
    p = stepped_model.params
    frame = stepped_model.observer.model_frame(stepped_model).set_index("step")
    panel = stepped_model.observer.panel_frame()
    small = (panel.employees < p.small_firm_employees) & (panel.specialisation >= p.specialised_threshold)
    waves = sorted(panel.step[~panel.exited].unique())
    assert len(waves) >= 4
    for step in waves:
        at = panel.step == step
        alive, gone = (small & at & ~panel.exited).sum(), (small & at & panel.exited).sum()
        assert frame.loc[step, "n_small_specialised"] == alive
        assert frame.loc[step, "small_specialised_exit_rate"] == pytest.approx(gone / max(alive + gone, 1))
    assert 0.3 < frame.n_small_specialised.iloc[-1] / frame.n_firms.iloc[-1] < 0.9
    # a firm that switched niche has entered its niche after its birth; switches count such moves
    switched = panel[~panel.exited & (panel.niche_entered > panel.entered_step)].firm_id.nunique()
    assert switched <= frame.niche_switches.sum()
    assert panel.specialisation.between(0, 1 + 1e-9).all() and (panel.know_how > 0).all()


def test_firms_that_know_more_innovate_more():

    def successes(boost: bool, **params) -> np.ndarray:
        model = DistrictModel(n_firms=2000, rng=31, **params)
        model.step()
        if boost:
            model.firms.know_how[::2] *= 3.0  # every other firm knows three times more
        return innovation.innovate(model)

    base, boosted = successes(False), successes(True)
    # know-how is scored against a fixed reference: the firms that know more succeed more often,
    # and the others are not made worse by their neighbours' learning
    assert boosted[::2].sum() > 1.1 * base[::2].sum()
    assert abs(boosted[1::2].sum() / base[1::2].sum() - 1.0) < 0.05
    # the alternative closure scores it against the region's mean: the others then succeed less
    base, boosted = (
        successes(False, know_how_reference="regional_mean"),
        successes(True, know_how_reference="regional_mean"),
    )
    assert boosted[::2].sum() > 1.1 * base[::2].sum()
    assert boosted[1::2].sum() < 0.85 * base[1::2].sum()
