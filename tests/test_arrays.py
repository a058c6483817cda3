"""Each named speed trick of sim/model/arrays.py (and the table views built on them) equals plain numpy."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.arrays import (
    any_per_row,
    chunk_labels,
    flat_index,
    group_bounds,
    group_rows,
    insertion_slots,
    merge,
    row_sums,
    served_cells,
    take_rows,
    true_cells,
    weighted_pick,
)
from sim.model.calendar import is_first_quarter, quarter_of, year_of
from sim.model.firms import exporters


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(42)


@pytest.mark.parametrize("width", [1, 3, 7, 8, 9])
def test_row_sums_equal_numpy_bit_for_bit(rng, width):
    values = rng.lognormal(size=(500, width)) * rng.choice([0.0, 1.0, 1e6], size=(500, width))
    np.testing.assert_array_equal(row_sums(values), values.sum(axis=1))


def test_take_rows_equals_fancy_indexing(rng):
    values = rng.random((50, 8))
    rows = rng.integers(0, 50, size=20)
    np.testing.assert_array_equal(take_rows(values, rows), values[rows])
    np.testing.assert_array_equal(take_rows(values, slice(3, 9)), values[3:9])


def test_cells_of_a_flag_array_equal_nonzero(rng):
    flags = rng.random((300, 8)) < 0.2
    rows, columns = np.nonzero(flags)
    np.testing.assert_array_equal(np.column_stack(true_cells(flags)), np.column_stack([rows, columns]))
    cells, r, c = served_cells(flags)
    np.testing.assert_array_equal(cells, np.flatnonzero(flags))
    np.testing.assert_array_equal(np.column_stack([r, c]), np.column_stack([rows, columns]))
    np.testing.assert_array_equal(
        flat_index(rows, columns, flags.shape[1]), np.ravel_multi_index((rows, columns), flags.shape)
    )


@pytest.mark.parametrize("width", [5, 8])
def test_any_per_row_equals_numpy_any(rng, width):
    flags = rng.random((400, width)) < 0.1
    np.testing.assert_array_equal(any_per_row(flags), flags.any(axis=1))
    columns = np.zeros(width, dtype=bool)
    columns[[1, width - 1]] = True
    np.testing.assert_array_equal(any_per_row(flags, columns), flags[:, columns].any(axis=1))
    # a view that is not contiguous takes the plain path, with the same answer
    np.testing.assert_array_equal(any_per_row(flags[::2]), flags[::2].any(axis=1))


def test_exporters_are_firms_serving_a_foreign_market(rng):
    served = rng.random((400, 8)) < 0.15
    served[:, 0] = True
    np.testing.assert_array_equal(exporters(served), served[:, 1:].any(axis=1))
    served[:, 1:] = False
    assert not exporters(served).any()


def test_grouped_rows_are_a_stable_sort_with_key_bounds(rng):
    keys = rng.integers(0, 12, size=200)
    keys[keys == 5] = 6  # a key with no rows
    order, sorted_keys, bounds = group_rows(keys)
    np.testing.assert_array_equal(order, np.argsort(keys, kind="stable"))
    np.testing.assert_array_equal(sorted_keys, keys[order])
    start, stop = group_bounds(bounds, np.arange(14))
    for k in range(14):
        np.testing.assert_array_equal(np.sort(order[start[k] : stop[k]]), np.flatnonzero(keys == k))


def test_weighted_pick_draws_in_proportion_to_weight(rng):
    keys = np.repeat([0, 1, 2], [3, 2, 1])
    weight = np.array([1.0, 2.0, 7.0, 0.0, 5.0, 0.0])
    wanted = np.repeat([0, 1, 2, 3], 20_000)
    picks = weighted_pick(keys, weight, wanted, rng.random(wanted.size))
    share0 = np.bincount(picks[:20_000], minlength=6)[:3] / 20_000
    np.testing.assert_allclose(share0, [0.1, 0.2, 0.7], atol=0.01)
    assert set(picks[20_000:40_000]) == {4}  # a zero-weight row is never drawn
    assert set(picks[40_000:]) == {-1}  # keys with no weight, or no rows, give none


def test_chunk_labels_cut_each_key_into_groups_of_size():
    keys = np.array([3, 3, 3, 3, 3, 7, 7, 9, 9, 9, 9])
    labels = chunk_labels(keys, 2)
    np.testing.assert_array_equal(labels, [0, 0, 1, 1, 2, 3, 3, 4, 4, 5, 5])
    rank = np.concatenate([np.arange((keys == k).sum()) for k in np.unique(keys)])
    reference = {(k, r // 2) for k, r in zip(keys, rank, strict=True)}  # (key, chunk), distinct per label
    assert len(reference) == labels.max() + 1
    assert chunk_labels(np.zeros(0, dtype=int), 3).size == 0


def test_merge_at_insertion_slots_equals_np_insert(rng):
    old = np.sort(rng.integers(0, 1000, size=50))
    new = np.sort(rng.integers(0, 1000, size=12))
    at = np.searchsorted(old, new)
    np.testing.assert_array_equal(merge(old, new, insertion_slots(at, old.size)), np.insert(old, at, new))


def test_calendar():
    assert [quarter_of(t) for t in range(0, 9)] == [0, 1, 2, 3, 4, 1, 2, 3, 4]
    assert [year_of(t, 2010) for t in (0, 1, 4, 5, 8, 9)] == [2010, 2010, 2010, 2011, 2011, 2012]

    class Clock:
        steps = 0

    clock = Clock()
    firsts = []
    for t in range(1, 10):
        clock.steps = t
        firsts.append(is_first_quarter(clock))
    assert firsts == [t % 4 == 1 for t in range(1, 10)]
