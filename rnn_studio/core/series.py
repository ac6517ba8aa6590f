"""Per-step series whose memory is bounded, however long a run goes on (issue 12).

A window left training "until paused" all night takes tens of millions of
steps. Keeping every one (two float64s per step and curve, or a Python tuple
per step for the export) grows memory without end; these keep at most a
stated number of points and thin what they hold when full:

- ``EnvelopeSeries``: (x, y) points of a curve. When full, every group of
  neighbouring points becomes two: its lowest and its highest, in x order,
  and the groups double each time the bound is reached again, so the whole
  run has one resolution. The curve keeps every peak and every dip (what
  pyqtgraph's "peak" downsampling draws anyway: a plot a few thousand pixels
  wide never shows more). Default bound 2**20 points = 16 MiB.
- ``StridedTable``: rows of numbers (a step and its figures, for a CSV).
  When full every other row is dropped and from then on one row in two
  (four, ...) is kept, so the rows stay evenly spaced and their first column
  says which steps they are. Default bound 2**20 rows.

Both are plain numpy, no Qt: the window's views and its export use them.
"""

from __future__ import annotations

import numpy as np

MAX_POINTS = 1 << 20  # per curve: x and y float64, 16 MiB
MAX_ROWS = 1 << 20  # per table: 8 bytes a value


class _Columns:
    """Parallel float64 columns in one array that doubles when full, up to ``limit``."""

    def __init__(self, columns: int, capacity: int, limit: int):
        if columns < 1:
            raise ValueError("at least one column")
        self.limit = int(limit)
        self._data = np.empty((columns, max(1, min(int(capacity), self.limit))), dtype=np.float64)
        self.size = 0

    @property
    def nbytes(self) -> int:
        """Bytes held (the whole allocation, not only what is filled)."""
        return int(self._data.nbytes)

    def clear(self) -> None:
        self.size = 0

    def column(self, row: int) -> np.ndarray:
        return self._data[row, : self.size]

    def _append(self, columns, start: int, stop: int) -> None:
        """Append columns[:, start:stop] (the caller has checked the bound)."""
        count = stop - start
        needed = self.size + count
        if needed > self._data.shape[1]:
            capacity = self._data.shape[1]
            while capacity < needed:
                capacity *= 2
            grown = np.empty((self._data.shape[0], min(capacity, self.limit)), dtype=np.float64)
            grown[:, : self.size] = self._data[:, : self.size]
            self._data = grown
        for row, values in enumerate(columns):
            self._data[row, self.size : needed] = values[start:stop]
        self.size = needed


def _envelope(data: np.ndarray, start: int, count: int, group: int) -> np.ndarray:
    """Indices (absolute) of the lowest and highest point of each whole group of
    ``group`` neighbouring points in data[:, start:start + count], in x order."""
    groups = count // group
    y = data[1, start : start + groups * group].reshape(groups, group)
    low, high = np.argmin(y, axis=1), np.argmax(y, axis=1)
    first, second = np.minimum(low, high), np.maximum(low, high)
    second[first == second] = group - 1  # a flat group (all equal): its first and last point
    base = start + np.arange(groups) * group
    chosen = np.empty(2 * groups, dtype=np.int64)
    chosen[0::2], chosen[1::2] = base + first, base + second
    return chosen


class EnvelopeSeries(_Columns):
    """Points (x, more columns...) of a curve in x order, at most ``max_points``.

    Until the bound is reached every point is kept. Then the curve is thinned to
    an envelope: each group of ``group`` neighbouring points given to ``extend``
    is kept as two, its lowest and its highest by ``column(1)`` (the other
    columns follow the point chosen), in x order. Each time the bound is reached
    again the groups double (4, 8, 16... points), so the whole run always has
    the same resolution and memory stays under the bound: a million-point bound
    holds 2**k million steps after k thinnings. The last points, fewer than a
    group, are kept as they came until their group is whole."""

    def __init__(self, columns: int = 2, capacity: int = 1024, max_points: int = MAX_POINTS):
        if max_points < 8:
            raise ValueError("an envelope needs room for at least 8 points")
        if columns < 2:
            raise ValueError("a curve has an x and a y column")
        super().__init__(columns, capacity, max_points)
        self.group = 1  # points given per pair kept (1: every point is kept)
        self._done = 0  # points [0, _done) are pairs of whole groups; after them, the last ones as given

    def clear(self) -> None:
        super().clear()
        self.group = 1
        self._done = 0

    def extend(self, *columns) -> None:
        columns = [np.asarray(c, dtype=np.float64).reshape(-1) for c in columns]
        count = len(columns[0])
        start = 0
        while start < count:
            room = self.limit - self.size
            if room == 0:
                self._thin()
                continue
            stop = min(count, start + room)
            self._append(columns, start, stop)
            self._reduce_tail()
            start = stop

    def extend_finite(self, steps, values) -> bool:
        """Append the (step, value) pairs where both are finite (NaN or infinity
        never reaches a plot); True when anything was added."""
        steps, values = np.asarray(steps, dtype=np.float64), np.asarray(values, dtype=np.float64)
        keep = np.isfinite(values) & np.isfinite(steps)
        if not np.all(keep):
            steps, values = steps[keep], values[keep]
        if not len(steps):
            return False
        self.extend(steps, values)
        return True

    def _reduce_tail(self) -> None:
        """The points after ``_done`` that make whole groups -> two points a group."""
        if self.group == 1:
            self._done = self.size
            return
        tail = self.size - self._done
        if tail < self.group:
            return
        chosen = _envelope(self._data, self._done, tail, self.group)
        whole = (tail // self.group) * self.group
        self._compact(chosen, self._done + whole)

    def _thin(self) -> None:
        """The pairs kept so far -> one pair per two (groups twice as long); then
        the last points given are grouped at the new length."""
        done = self._done
        if self.group == 1:
            chosen = _envelope(self._data, 0, done, 4)
            self.group = 4
        else:
            chosen = _envelope(self._data, 0, done, 4)  # two pairs -> one pair
            self.group *= 2
        whole = (done // 4) * 4
        # what is left of the kept pairs (fewer than four points) stays as it is
        chosen = np.concatenate([chosen, np.arange(whole, done)])
        self._done = 0
        self._compact(chosen, done)
        self._reduce_tail()
        if self.size == self.limit:  # groups as long as the bound (a tiny bound): halve everything
            self._done = 0
            chosen = _envelope(self._data, 0, self.size, 4)
            chosen = np.concatenate([chosen, np.arange((self.size // 4) * 4, self.size)])
            self._compact(chosen, self.size)

    def _compact(self, chosen: np.ndarray, replaced_end: int) -> None:
        """Points [_done, replaced_end) become the points ``chosen`` (absolute
        indices, in order); the points after ``replaced_end`` move up behind them."""
        kept = self._data[:, chosen]  # copies: safe to write back over the front
        rest = self._data[:, replaced_end : self.size].copy()
        at = self._done
        self._data[:, at : at + len(chosen)] = kept
        self._done = at + len(chosen)
        self._data[:, self._done : self._done + rest.shape[1]] = rest
        self.size = self._done + rest.shape[1]


class StridedTable(_Columns):
    """Rows of numbers, at most ``max_rows``: when full every other row is
    dropped and from then on one row in ``stride`` (2, 4, ...) is kept."""

    def __init__(self, columns: int, capacity: int = 1024, max_rows: int = MAX_ROWS):
        if max_rows < 2:
            raise ValueError("a table needs room for at least 2 rows")
        super().__init__(columns, capacity, max_rows)
        self.stride = 1
        self.offered = 0  # rows given to extend so far

    def clear(self) -> None:
        super().clear()
        self.stride = 1
        self.offered = 0

    def extend(self, *columns) -> None:
        columns = [np.asarray(c, dtype=np.float64).reshape(-1) for c in columns]
        count = len(columns[0])
        start = 0
        while start < count:
            # the first row at or after ``start`` whose ordinal the stride keeps
            ordinal = self.offered + start
            skip = (-ordinal) % self.stride
            if start + skip >= count:
                break
            start += skip
            wanted = -(-(count - start) // self.stride)  # rows kept from here on
            room = self.limit - self.size
            if room == 0:
                self._data[:, : (self.size + 1) // 2] = self._data[:, 0 : self.size : 2]
                self.size = (self.size + 1) // 2
                self.stride *= 2
                continue
            take = min(wanted, room)
            picked = [c[start : start + take * self.stride : self.stride] for c in columns]
            self._append(picked, 0, take)
            start += take * self.stride
        self.offered += count

    def rows(self) -> np.ndarray:
        """The rows kept, one per row (a copy)."""
        return self._data[:, : self.size].T.copy()


__all__ = ["MAX_POINTS", "MAX_ROWS", "EnvelopeSeries", "StridedTable"]
