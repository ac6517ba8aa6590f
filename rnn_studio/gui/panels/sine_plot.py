"""The sine view: the wave the network predicts against the true one.

``sinePlot``'s first data item is always the PREDICTED wave (the curve that
changes as training goes), the second the target, the third the input the
network was given.

Next-value mode (seed 002): the network sees one window (one full period) and
then runs on its own predictions for another period ("what it imagines comes
next"); the target there is the true wave, which repeats the window. Sequence
mode (seed 003): the one-step-ahead prediction at every point of the sequence.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from .common import BLUE, GREY, LABEL_PT, ORANGE, make_plot, set_title


class SineView:
    def __init__(self, parent=None):
        self.plot = make_plot("sinePlot", "Sine: the network continues the wave", "time step", "value", parent=parent)
        item = self.plot.getPlotItem()
        legend = item.addLegend(offset=(10, 10), labelTextSize=f"{LABEL_PT}pt", labelTextColor="#222222")
        legend.setBrush(pg.mkBrush(255, 255, 255, 220))
        self.predicted = item.plot(
            pen=pg.mkPen(ORANGE, width=3),
            symbol="o",
            symbolSize=7,
            symbolBrush=ORANGE,
            symbolPen=None,
            name="predicted",
        )
        self.target = item.plot(pen=pg.mkPen(BLUE, width=2.5, style=Qt.PenStyle.DashLine), name="target")
        self.given = item.plot(pen=pg.mkPen(GREY, width=2), name="input (what it sees)")
        # the target and the prediction draw over the input where they meet
        self.given.setZValue(-1)
        self.predicted.setZValue(1)
        self.redraws = 0  # how many times a new prediction was drawn (tests read it)
        self._pending: dict | None = None

    def reset(self, mode: str | None = None) -> None:
        for curve in (self.predicted, self.target, self.given):
            curve.setData([], [])
        self._pending = None
        if mode == "sequence":
            title = "Sine: one step ahead at every point"
        else:
            title = "Sine: the network continues the wave on its own"
        set_title(self.plot, title)

    def show_predictions(self, data: dict) -> None:
        self._pending = data

    def redraw(self) -> bool:
        data, self._pending = self._pending, None
        if data is None:
            return False
        given = np.asarray(data["input"], dtype=np.float64)
        n = len(given)
        if data.get("mode") == "sequence":
            x = np.arange(1, n + 1, dtype=np.float64)
            self.given.setData(np.arange(n, dtype=np.float64), given)
            self.target.setData(x, _finite(data["target"]))
            self.predicted.setData(x, _finite(data["predicted"]))
        else:
            rollout = _finite(data.get("rollout", [data["predicted"]]))
            x_future = np.arange(n, n + len(rollout), dtype=np.float64)
            # the window covers one full period, so the true continuation repeats it;
            # its first point is the real target of this window
            truth = np.resize(given, len(rollout))
            truth[0] = float(data["target"])
            self.given.setData(np.arange(n + 1, dtype=np.float64), np.append(given, truth[0]))
            self.target.setData(x_future, truth)
            self.predicted.setData(x_future, rollout)
        self.redraws += 1
        return True


def _finite(values) -> np.ndarray:
    array = np.atleast_1d(np.asarray(values, dtype=np.float64))
    return np.nan_to_num(array, nan=0.0, posinf=0.0, neginf=0.0)
