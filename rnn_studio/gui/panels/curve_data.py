"""The points a live curve (loss, gradient size) keeps, and which of them pyqtgraph draws.

Every step goes into ``full`` (``core.series.EnvelopeSeries``, at most 2**20
points, a min/max envelope beyond) and into ``overview``: the same run in at
most ``OVERVIEW_POINTS`` points, thinned the same way (every spike stays).
While the whole run is in view, which is what the plot shows while it trains,
the curve is handed the overview: pyqtgraph's setData copies and scans every
point it is given (~9 ms of the GUI thread per redraw at a million points,
bench/README.md), and a plot a few thousand pixels wide never shows more than
the overview holds. Zoomed in to less than a quarter of the run, the curve is
handed every point (pyqtgraph clips them to the view and thins them to the
plot's width).
"""

from __future__ import annotations

import numpy as np

from ...core.series import MAX_POINTS, EnvelopeSeries

OVERVIEW_POINTS = 1 << 16
ZOOMED_FRACTION = 0.25  # a view narrower than this share of the run draws every point


class CurveData:
    def __init__(self, curve, max_points: int = MAX_POINTS, overview_points: int = OVERVIEW_POINTS):
        self.curve = curve
        self.full = EnvelopeSeries(2, max_points=max_points)
        self.overview = EnvelopeSeries(2, max_points=overview_points)
        self.drawn: str | None = None  # "full" or "overview": what the curve was last handed
        view = curve.getViewBox()
        if view is not None:
            view.sigXRangeChanged.connect(self._range_changed)

    @property
    def size(self) -> int:
        return self.full.size

    def clear(self) -> None:
        self.full.clear()
        self.overview.clear()

    def extend_finite(self, steps, values) -> bool:
        """Both stores get the finite (step, value) pairs; True when any came."""
        if not self.full.extend_finite(steps, values):
            return False
        self.overview.extend_finite(steps, values)
        return True

    def choice(self) -> str:
        """Which store the curve should be drawn from now."""
        if self.full.size <= self.overview.limit:
            return "full"  # the same points either way until the overview has thinned
        view = self.curve.getViewBox()
        if view is None or view.autoRangeEnabled()[0]:
            return "overview"
        x = self.full.column(0)
        low, high = view.viewRange()[0]
        return "overview" if high - low >= ZOOMED_FRACTION * (x[-1] - x[0]) else "full"

    def columns(self) -> tuple[np.ndarray, np.ndarray]:
        self.drawn = self.choice()
        store = self.full if self.drawn == "full" else self.overview
        return store.column(0), store.column(1)

    def draw(self) -> None:
        x, y = self.columns()
        if self.drawn == "overview":
            # a fixed peak downsampling for the overview (about two points a pixel
            # column): pyqtgraph's automatic one depends on the view range, which
            # depends on the downsampled bounds, and the x range flipped between two
            # values ~100 times a second (each a repaint of the plot)
            view = self.curve.getViewBox()
            width = max(100, int(view.width())) if view is not None else 1000
            self.curve.setDownsampling(ds=max(1, len(x) // (2 * width)), auto=False, method="peak")
            self.curve.setClipToView(False)
        else:
            self.curve.setDownsampling(auto=True, method="peak")
            self.curve.setClipToView(True)
        self.curve.setData(x, y)

    def _range_changed(self, *_args) -> None:
        # zoomed in past (or back out of) a quarter of the run: hand the curve the other store
        if self.drawn is not None and self.full.size and self.choice() != self.drawn:
            self.draw()
