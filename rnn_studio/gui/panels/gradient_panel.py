"""Gradient views: the total norm per step, each weight tensor's norm, and
how far back in time the gradient reaches.

``gradNormPlot``'s first data item is the total gradient norm per step (before
clipping); a dashed red line marks the clip threshold when clipping is on.
``paramNormPlot`` shows the latest norm of every parameter tensor as bars and
``timeGradPlot`` the latest ||dLoss/dh_t|| for each time step t (the trainer
measures it every ``time_grad_every`` steps at full speed, and every step when
the pace control slows training): bars that shrink towards t = 0 are the
vanishing gradient a plain RNN suffers from.
"""

from __future__ import annotations

import math
import re
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from ...core.config import TrainConfig
from .common import BLUE, GREEN, ORANGE, RED, TICK_PT, GrowingBuffer, make_plot

BARS_INTERVAL_S = 0.25  # the bar charts are read, not watched: four updates a second are plenty


def time_plot_tip(task: str) -> str:
    """The "Back through time" tooltip, in the words of the task on screen."""
    early = "the early letters of a sentence" if task == "text" else "the early points of the wave"
    return (
        "How far back the gradient reaches: the size of ∂loss/∂hₜ for every time step t, "
        f"measured every {TrainConfig().time_grad_every} steps at full speed and every step when the pace "
        f"is slowed. Bars that fade towards t = 0 mean the network can hardly learn from {early}: "
        "the vanishing gradient."
    )


def short_name(name: str) -> str:
    """'rnn.weight_hh_l0' -> 'W_hh0', 'fc.bias' -> 'out b', 'embedding.weight' -> 'emb'."""
    if name.startswith("embedding"):
        return "emb"
    if name.startswith("fc."):
        return "out W" if name.endswith("weight") else "out b"
    match = re.search(r"(weight|bias)_(ih|hh)_l(\d+)(_reverse)?$", name)
    if match:
        kind = "W" if match.group(1) == "weight" else "b"
        return f"{kind}_{match.group(2)}{match.group(3)}{'r' if match.group(4) else ''}"
    return name.rsplit(".", 1)[-1]


class GradientView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plot = make_plot("gradNormPlot", "Gradient size per step", "step (epoch)", "‖gradient‖", parent=self)
        item = self.plot.getPlotItem()
        item.setClipToView(True)
        item.setDownsampling(auto=True, mode="peak")
        self.curve = item.plot(pen=pg.mkPen(ORANGE, width=2), name="total gradient norm")
        self.clip_line = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen(RED, width=2, style=Qt.PenStyle.DashLine))
        self.clip_label = pg.InfLineLabel(self.clip_line, text="", position=0.97, anchors=[(1, 1), (1, 1)], color=RED)
        self.clip_line.hide()
        item.addItem(self.clip_line, ignoreBounds=True)
        layout.addWidget(self.plot, 3)

        row = QHBoxLayout()
        row.setSpacing(6)
        # horizontal bars: the tensor names stay readable on the left axis
        self.param_plot = make_plot("paramNormPlot", "Each tensor", "‖gradient‖", "", parent=self, small=True)
        self.param_plot.getPlotItem().invertY(True)
        self.param_plot.getPlotItem().getAxis("left").setWidth(70)
        self.param_bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.7, brush=BLUE, pen=pg.mkPen(None))
        self.param_plot.getPlotItem().addItem(self.param_bars)
        self.param_plot.getPlotItem().getViewBox().sigResized.connect(self._label_ticks)
        row.addWidget(self.param_plot, 1)
        self.time_plot = make_plot(
            "timeGradPlot", "Back through time", "time step t", "‖∂loss/∂hₜ‖", parent=self, small=True
        )
        self.time_plot.setToolTip(time_plot_tip("text"))
        self.time_bars = pg.BarGraphItem(x=[], height=[], width=0.8, brush=GREEN, pen=pg.mkPen(None))
        self.time_plot.getPlotItem().addItem(self.time_bars)
        row.addWidget(self.time_plot, 1)
        layout.addLayout(row, 2)

        self.buffer = GrowingBuffer(2)
        self._names: tuple[str, ...] = ()
        self._param_values: np.ndarray | None = None
        self._time_values: np.ndarray | None = None
        self._clip = 0.0
        self._log = False
        self.dirty = False
        self._bars_dirty = False
        self._bars_drawn = 0.0

    def reset(self) -> None:
        self.buffer.clear()
        self.curve.setData([], [])
        self._names = ()
        self._param_values = None
        self._time_values = None
        self.param_bars.setOpts(x0=[], y=[], width=[])
        self.time_bars.setOpts(x=[], height=[])
        self.param_plot.getPlotItem().getAxis("left").setTicks(None)
        self.dirty = self._bars_dirty = False
        self._bars_drawn = 0.0

    def append(self, steps: np.ndarray, norms: np.ndarray) -> None:
        if self.buffer.extend_finite(steps, norms):
            self.dirty = True

    def set_task(self, task: str) -> None:
        self.time_plot.setToolTip(time_plot_tip(task))

    def set_param_norms(self, norms: dict) -> None:
        if not norms:
            return
        values = np.asarray([v for v in norms.values()], dtype=np.float64)
        if not np.all(np.isfinite(values)):
            return
        names = tuple(norms.keys())
        if names != self._names:
            self._names = names
            self._label_ticks()
        self._param_values = values
        self._bars_dirty = True

    def _label_ticks(self, *_args) -> None:
        """Name as many bars as fit the plot's height without overlapping."""
        if not self._names:
            return
        labels = [short_name(n) for n in self._names]
        rows = max(1, int(self.param_plot.getPlotItem().getViewBox().height() / (TICK_PT * 1.6)))
        every = max(1, math.ceil(len(labels) / rows))
        ticks = [(i, label) for i, label in enumerate(labels) if i % every == 0]
        self.param_plot.getPlotItem().getAxis("left").setTicks([ticks, []])

    def set_time_norms(self, norms) -> None:
        if norms is None:
            return
        values = np.asarray(norms, dtype=np.float64)
        if len(values) == 0 or not np.all(np.isfinite(values)):
            return
        self._time_values = values
        self._bars_dirty = True

    def set_clip(self, clip: float) -> None:
        self._clip = clip
        if clip > 0:
            self.clip_label.setFormat(f"clip = {clip:g}")
            self.clip_line.show()
        else:
            self.clip_line.hide()
        self._place_clip()

    def set_log(self, on: bool) -> None:
        self._log = on
        self.plot.getPlotItem().setLogMode(False, on)
        self._place_clip()

    def _place_clip(self) -> None:
        if self._clip > 0:
            self.clip_line.setPos(math.log10(self._clip) if self._log else self._clip)

    def redraw(self, force: bool = False) -> bool:
        """Push new data to the plots; True when there was something to draw."""
        drew = False
        if self.dirty:
            self.dirty = False
            self.curve.setData(self.buffer.column(0), self.buffer.column(1))
            # settle the auto range now, not inside paintEvent: a range that changes
            # during the paint makes Qt paint the whole plot twice (bench/README.md)
            self.plot.scene().prepareForPaint()
            drew = True
        now = time.perf_counter()
        if self._bars_dirty and (force or now - self._bars_drawn >= BARS_INTERVAL_S):
            self._bars_dirty = False
            self._bars_drawn = now
            if self._param_values is not None:
                count = len(self._param_values)
                self.param_bars.setOpts(x0=np.zeros(count), y=np.arange(count), width=self._param_values)
            if self._time_values is not None:
                self.time_bars.setOpts(x=np.arange(len(self._time_values)), height=self._time_values)
            drew = True
        return drew

    @property
    def points(self) -> int:
        return self.buffer.size
