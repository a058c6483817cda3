"""Array helpers the submodels share: the plain numpy expression each one stands for, done faster.

Every helper here names a speed trick once, so that the code applying a rule
reads as that rule; ``tests/test_arrays.py`` checks each against the plain
numpy expression given in its docstring.
"""

from __future__ import annotations

import numpy as np

#: Rows of this many one-byte flags are read as one 64-bit word (``any_per_row``).
_WORD_FLAGS = 8


def take_rows(values: np.ndarray, rows: slice | np.ndarray) -> np.ndarray:
    """``values[rows]``: ``take`` gathers whole rows of a 2-d array several times faster than fancy indexing."""
    return values[rows] if isinstance(rows, slice) else values.take(rows, axis=0)


def row_sums(values: np.ndarray) -> np.ndarray:
    """``values.sum(axis=1)`` for a 2-d array, bit for bit, faster for narrow (firms, markets) arrays.

    numpy sums a short contiguous row sequentially below 8 elements and as a
    pairwise tree of exactly 8; adding whole columns in the same order gives
    the same numbers without numpy's per-row reduction overhead.
    """
    width = values.shape[1]
    if width == 8 and values.strides[1] == values.itemsize:
        c = values
        total = c[:, 0] + c[:, 1]
        total += c[:, 2] + c[:, 3]
        right = c[:, 4] + c[:, 5]
        right += c[:, 6] + c[:, 7]
        total += right
        return total
    if 1 <= width < 8:
        total = values[:, 0].copy()
        for j in range(1, width):
            total += values[:, j]
        return total
    return values.sum(axis=1)


def flat_index(rows: np.ndarray, columns: np.ndarray, width: int) -> np.ndarray:
    """Flat position rows x width + columns of cells (rows[i], columns[i]) of a C-ordered 2-d array.

    ``take`` and ``put`` on the flat position index such cells fastest.
    """
    return rows * width + columns


def true_cells(flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero(flags)`` for a 2-d array (row and column of every true cell, row-major), from one flat scan.

    ``np.nonzero`` on a 2-d array is several times slower than on its flat view.
    """
    return np.divmod(np.flatnonzero(flags), flags.shape[1])


def served_cells(served: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The true (firm, market) cells of ``served``, row-major: their flat positions, rows and columns."""
    cells = np.flatnonzero(served)
    rows, columns = np.divmod(cells, served.shape[1])
    return cells, rows, columns


def _flag_word(columns: np.ndarray) -> np.uint64:
    """A 64-bit word with the bytes of the chosen columns set: ANDed with a row of eight flags read as a word."""
    return (np.asarray(columns, dtype=np.bool_).astype(np.uint8) * np.uint8(0xFF)).view(np.uint64)[0]


def any_per_row(flags: np.ndarray, columns: np.ndarray | None = None) -> np.ndarray:
    """``flags.any(axis=1)``, or ``flags[:, columns].any(axis=1)`` for a boolean mask of columns.

    A contiguous row of eight one-byte flags is read as one 64-bit integer,
    several times faster than numpy's reduction over short rows.
    """
    if flags.shape[1] == _WORD_FLAGS and flags.dtype == np.bool_ and flags.flags.c_contiguous:
        words = flags.view(np.uint64)[:, 0]
        return words != 0 if columns is None else (words & _flag_word(columns)) != 0
    return flags.any(axis=1) if columns is None else flags[:, np.asarray(columns, dtype=bool)].any(axis=1)


# --------------------------------------------------------------------------
# Rows grouped by a small integer key (province x niche buckets, niches)


def group_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows in stable order of their keys (small non-negative integers), the keys in that order, and key bounds.

    ``order = np.argsort(keys, kind="stable")``; ``bounds[k]`` is the position
    of the first row with a key >= k, for k up to one past the largest key
    (see ``group_bounds``).
    """
    order = np.argsort(keys.astype(np.int16), kind="stable")  # small integer keys: radix sort
    sorted_keys = keys[order]
    bounds = np.searchsorted(sorted_keys, np.arange(int(sorted_keys[-1]) + 2 if sorted_keys.size else 1))
    return order, sorted_keys, bounds


def group_bounds(bounds: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and one-past-last position of each wanted key's rows in a ``group_rows`` order (equal: none)."""
    last = bounds.size - 1
    return bounds[np.minimum(wanted, last)], bounds[np.minimum(wanted + 1, last)]


def weighted_pick(
    keys: np.ndarray | None,
    weight: np.ndarray,
    wanted: np.ndarray,
    u: np.ndarray,
    grouped: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """For each wanted key, a row with that key drawn with probability proportional to ``weight`` (-1: none).

    Row i of key k is picked by uniform draw u when the cumulative weight of
    key k's rows, in ``group_rows`` order, first exceeds u x their total.
    ``grouped``: ``group_rows(keys)``, if already known.
    """
    order, _, bounds = grouped if grouped is not None else group_rows(keys)
    if order.size == 0:
        return np.full(wanted.size, -1)
    cumulative = np.cumsum(weight[order])
    start, stop = group_bounds(bounds, wanted)
    before = np.where(start > 0, cumulative[np.maximum(start - 1, 0)], 0.0)
    total = np.where(stop > 0, cumulative[np.maximum(stop - 1, 0)], 0.0) - before
    out = np.full(wanted.size, -1)
    able = total > 0
    index = np.minimum(np.searchsorted(cumulative, before[able] + u[able] * total[able], side="right"), stop[able] - 1)
    out[able] = order[index]
    return out


def chunk_labels(sorted_keys: np.ndarray, size: int) -> np.ndarray:
    """Cut the items of each key into consecutive chunks of ``size``: a label per item, increasing with (key, chunk).

    ``sorted_keys`` lists the items' keys in sorted order; the j-th item of
    a key (counting from 0) is in that key's chunk j // size.
    """
    n = sorted_keys.size
    first = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]) if n else np.zeros(0, dtype=np.intp)
    rank = np.arange(n) - np.repeat(first, np.diff(np.r_[first, n]))  # position of each item within its key
    return np.cumsum(rank % size == 0) - 1


# --------------------------------------------------------------------------
# Sorted arrays


def insertion_slots(at: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Where new items go when inserted before positions ``at`` (ascending) of an array of ``size``.

    Returns (the new items' slots, the old items' slots): the layout of
    ``np.insert(old, at, new)``, computed once for several arrays that get
    the same insertion (``merge``).
    """
    new = at + np.arange(at.size)
    old = np.ones(size + at.size, dtype=bool)
    old[new] = False
    return new, np.flatnonzero(old)


def merge(old: np.ndarray, new: np.ndarray, slots: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """``np.insert(old, at, new)`` given ``slots = insertion_slots(at, old.size)``."""
    out = np.empty(old.size + new.size, dtype=old.dtype)
    out[slots[0]] = new
    out[slots[1]] = old
    return out
