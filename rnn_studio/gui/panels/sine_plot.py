"""The sine view: the wave the network predicts against the true one.

``sinePlot``'s first data item is always the PREDICTED wave (the curve that
changes as training goes), the second the target, the third the input the
network was given.

Next-value mode (seed 002): the network sees one window (one full period) and
then runs on its own predictions for another period ("what it imagines comes
next"); the target there is the true wave, which repeats the window. Sequence
mode (seed 003): the one-step-ahead prediction at every point of the sequence.

The legend sits in a row under the plot, not inside it: the three curves fill
the whole plot between them (the input on the left in next-value mode,
everywhere in sequence mode), so any corner of the plot hides one of them.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSizePolicy

from .common import BLUE, GREY, LABEL_PT, ORANGE, explanation_tip, make_plot, set_plot_projector, set_title, styled_pen

TITLE = "Sine wave"
EXPLANATION = (
    "The wave the network predicts against the true one. Grey: the input, the part of the wave the "
    "network is given. Dashed blue: the true values it should predict. Orange dots: its prediction. "
    "In next-value mode it sees one period of the wave and then runs on its own guesses for another "
    "period, feeding each guess back in; in sequence mode it predicts the next point at every point "
    "of the input. How to read it: at first the orange line is flat near zero; as the loss falls it "
    "bends into the wave and lies on the dashed line. When it runs on its own, small errors grow "
    "towards the right. What to try: add noise to the wave, fewer hidden units, or another "
    "architecture, and watch how far the prediction can go on its own."
)

PREDICTED_PX = 3.0
TARGET_PX = 2.5
GIVEN_PX = 2.5
DOT_PX = 7


class SineView:
    def __init__(self, parent=None):
        self.plot = make_plot("sinePlot", "Sine: it continues the wave alone", "time step", "value", parent=parent)
        self.plot.setToolTip(explanation_tip(EXPLANATION))
        item = self.plot.getPlotItem()
        # one row under the bottom axis (the plot's layout has rows 0-3): the
        # PlotItem adds every named curve to item.legend
        legend = pg.LegendItem(
            colCount=3, horSpacing=4, labelTextSize=f"{LABEL_PT}pt", labelTextColor="#222222", frame=False
        )
        item.layout.addItem(legend, 4, 0, 1, 3)
        item.layout.setAlignment(legend, Qt.AlignmentFlag.AlignHCenter)
        # a plot narrower than the legend squeezes the legend, not the plot off the screen
        legend.setMinimumWidth(0)
        legend.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)  # centred, not spread out
        item.legend = legend
        self.legend = legend
        self.predicted = item.plot(
            pen=styled_pen(ORANGE, PREDICTED_PX),
            symbol="o",
            symbolSize=DOT_PX,
            symbolBrush=ORANGE,
            symbolPen=None,
            name="predicted",
        )
        self.target = item.plot(pen=styled_pen(BLUE, TARGET_PX, style=Qt.PenStyle.DashLine), name="target")
        self.given = item.plot(pen=styled_pen(GREY, GIVEN_PX), name="input")
        for column in (1, 3):  # a gap after each entry's name, before the next line sample
            legend.layout.setColumnSpacing(column, 20)
        # the target and the prediction draw over the input where they meet
        self.given.setZValue(-1)
        self.predicted.setZValue(1)
        self.redraws = 0  # how many times a new prediction was drawn (tests read it)
        self._pending: dict | None = None

    def explanation(self) -> str:
        """The paragraph a class reads about this view (its tooltip and Help text)."""
        return EXPLANATION

    def set_projector(self, enabled: bool, scale: float = 1.5) -> None:
        """Projector-sized text and thicker lines; ``enabled=False`` restores the desktop look."""
        set_plot_projector(self.plot, enabled, scale)
        self.predicted.setPen(styled_pen(ORANGE, PREDICTED_PX, enabled, scale))
        self.predicted.setSymbolSize(round(DOT_PX * scale) if enabled else DOT_PX)
        self.target.setPen(styled_pen(BLUE, TARGET_PX, enabled, scale, Qt.PenStyle.DashLine))
        self.given.setPen(styled_pen(GREY, GIVEN_PX, enabled, scale))

    def reset(self, mode: str | None = None) -> None:
        for curve in (self.predicted, self.target, self.given):
            curve.setData([], [])
        self._pending = None
        if mode == "sequence":
            title = "Sine: one step ahead at every point"
        else:
            title = "Sine: it continues the wave alone"
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
