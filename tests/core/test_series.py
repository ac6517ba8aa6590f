"""Bounded per-step series (core/series.py): memory stays under the bound however
many steps arrive, and what is kept is what the plot and the export promise."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_studio.core.series import EnvelopeSeries, StridedTable


def feed(series, xs, ys, chunks):
    start = 0
    for size in chunks:
        series.extend(xs[start : start + size], ys[start : start + size])
        start += size
    series.extend(xs[start:], ys[start:])


def test_under_the_bound_every_point_is_kept_unchanged():
    s = EnvelopeSeries(max_points=64)
    x = np.arange(64.0)
    y = np.sin(x)
    s.extend(x, y)
    assert s.size == 64 and s.group == 1
    np.testing.assert_array_equal(s.column(0), x)
    np.testing.assert_array_equal(s.column(1), y)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 3000),
    limit=st.integers(8, 200),
    seed=st.integers(0, 2**32 - 1),
    chunks=st.lists(st.integers(0, 400), max_size=8),
)
def test_envelope_is_bounded_sorted_and_keeps_every_extreme(n, limit, seed, chunks):
    rng = np.random.default_rng(seed)
    x = np.arange(n, dtype=np.float64)
    y = rng.standard_normal(n)
    s = EnvelopeSeries(capacity=4, max_points=limit)
    feed(s, x, y, chunks)
    kx, ky = s.column(0), s.column(1)
    assert 1 <= s.size <= limit
    assert s.nbytes <= 2 * 8 * limit
    assert np.all(np.diff(kx) > 0)  # x order, no point twice
    # every kept point is a point that was given, unchanged
    np.testing.assert_array_equal(ky, y[kx.astype(int)])
    # the lowest and the highest point of the whole run are always there
    assert ky.max() == y.max() and ky.min() == y.min()
    # the start and the end are covered: nothing is cut off
    assert kx[0] < s.group and kx[-1] >= n - s.group


def test_a_single_spike_survives_many_thinnings():
    n = 200_000
    y = np.ones(n)
    y[123_457] = 50.0  # a loss spike in a long, flat run
    y[7] = -3.0
    s = EnvelopeSeries(max_points=1000)
    for start in range(0, n, 997):
        s.extend(np.arange(start, min(n, start + 997), dtype=np.float64), y[start : start + 997])
    assert s.size <= 1000 and s.group >= 256
    spike = np.flatnonzero(s.column(1) == 50.0)
    assert list(s.column(0)[spike]) == [123_457.0]
    assert list(s.column(0)[s.column(1) == -3.0]) == [7.0]
    assert np.all(np.diff(s.column(0)) > 0)  # flat stretches keep two distinct points a block


def test_extend_finite_drops_nan_and_infinity():
    s = EnvelopeSeries()
    assert not s.extend_finite(np.array([1.0]), np.array([np.nan]))
    assert s.extend_finite(np.array([1.0, 2.0, 3.0]), np.array([0.5, np.inf, 0.25]))
    np.testing.assert_array_equal(s.column(0), [1.0, 3.0])


def test_clear_starts_over():
    s = EnvelopeSeries(max_points=8)
    s.extend(np.arange(100.0), np.arange(100.0))
    assert s.group > 1
    s.clear()
    assert s.size == 0 and s.group == 1


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 3000),
    limit=st.integers(2, 300),
    chunks=st.lists(st.integers(0, 500), max_size=8),
)
def test_strided_table_keeps_evenly_spaced_rows(n, limit, chunks):
    t = StridedTable(3, capacity=2, max_rows=limit)
    ordinal = np.arange(n, dtype=np.float64)
    start = 0
    for size in chunks:
        t.extend(ordinal[start : start + size], 2 * ordinal[start : start + size], -ordinal[start : start + size])
        start += size
    t.extend(ordinal[start:], 2 * ordinal[start:], -ordinal[start:])
    assert t.offered == n
    assert t.size <= limit
    kept = t.column(0)
    # exactly the rows whose ordinal is a multiple of the stride, from the first on
    np.testing.assert_array_equal(kept, np.arange(0, n, t.stride, dtype=np.float64))
    np.testing.assert_array_equal(t.column(1), 2 * kept)
    np.testing.assert_array_equal(t.column(2), -kept)
    if n > limit:
        assert t.stride > 1 and t.size > limit // 4  # thinned, but not more than it had to
    assert t.rows().shape == (t.size, 3)


def test_bounds_are_checked():
    with pytest.raises(ValueError):
        EnvelopeSeries(max_points=4)
    with pytest.raises(ValueError):
        StridedTable(2, max_rows=1)


def test_the_whole_run_has_one_resolution():
    """The first hours of a long run are not thinned more than the last ones."""
    n = 1_000_000
    s = EnvelopeSeries(max_points=4096)
    rng = np.random.default_rng(1)
    for start in range(0, n, 4999):
        stop = min(n, start + 4999)
        s.extend(np.arange(start, stop, dtype=np.float64), rng.random(stop - start))
    x = s.column(0)
    grouped = n - n % s.group  # the last steps, fewer than a group, are kept as they came
    counts = np.histogram(x, bins=4, range=(0, grouped))[0]
    assert s.size > 4096 // 2
    assert counts.max() - counts.min() <= counts.max() // 50, counts  # within 2 %
    # two points kept per group of ``group`` steps, then the last ones
    assert abs(np.count_nonzero(x < grouped) - 2 * grouped // s.group) <= 8
    assert np.count_nonzero(x >= grouped) <= n % s.group + 8
