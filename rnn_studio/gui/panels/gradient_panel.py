"""Gradient views: the total norm per step, each weight tensor's norm, and
how far back in time the gradient reaches.

``gradNormPlot``'s first data item is the total gradient norm per step (before
clipping); a dashed red line marks the clip threshold when clipping is on, and
the plot's range always takes it in: the line matters exactly when the norms
cross it. ``paramNormPlot`` shows the latest norm of every parameter tensor as
horizontal bars, each named on the left (the names' font shrinks to fit the
rows and the plot asks for the height every name needs), and
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
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from ...core.config import TrainConfig
from .common import (
    BLUE,
    GREEN,
    LABEL_PT,
    ORANGE,
    PROJECTOR_TEXT_PX,
    RED,
    TICK_PT,
    explanation_tip,
    make_plot,
    plot_text,
    set_plot_projector,
    styled_pen,
)
from .curve_data import CurveData

BARS_INTERVAL_S = 0.25  # the bar charts are read, not watched: four updates a second are plenty
CURVE_PX = 2.5
CLIP_PX = 2.0
SMALLEST_NAME_SHARE = 0.75  # tensor names shrink to fit their rows, down to this share of the tick size

GRADIENT_TITLE = "Gradient size per step"
GRADIENT_EXPLANATION = (
    "The gradient is the direction and size of the change the next training step makes to all the "
    "weights; this curve is its total length (norm) at every step, measured before clipping. "
    "How to read it: it is usually large at first and settles as the loss falls. Tall spikes are "
    "exploding gradients: one step throws the weights far away and the loss jumps. The dashed red "
    "line is the clipping threshold: with clipping on, every step above the line is shrunk to the "
    "line's length, so a spike cannot do harm. What to try: set the clip value a little above the "
    "usual size and watch the spikes stop hurting the loss, or lower the learning rate. Tick "
    "'log scale' to compare small and large steps."
)
TENSORS_TITLE = "Each tensor"
MAX_NAMED_ROWS = 14  # the plot asks for a row per name up to this many tensors
TENSORS_EXPLANATION = (
    "The gradient of every weight tensor of the network in the latest step: how strongly the training "
    "wants to change it. W_ih: the weights from the input into the hidden state; W_hh: the recurrent "
    "weights from the hidden state to itself, which carry the memory from one time step to the next; "
    "b_ih and b_hh: their biases; out W and out b: the output layer; emb: the embedding. The number "
    "after a name is the layer (r: the backward direction). How to read it: a bar near zero belongs to "
    "a tensor that hardly learns; W_hh is the one whose gradient explodes or vanishes. What to try: "
    "compare Elman, GRU and LSTM, or one layer with two."
)
TIME_TITLE = "Back through time"


def time_plot_tip(task: str | None) -> str:
    """The "Back through time" explanation, in the words of the task on screen
    (``None``: for either task, as the Help text)."""
    early = {
        "text": "the early letters of a sentence",
        "sine": "the early points of the wave",
    }.get(task, "the early inputs of a sequence")
    if task == "classify":
        return (
            "How far back the gradient reaches, for the text and sine tasks. A classifier pools the memory of "
            "every word into one summary (max, mean or last), so there is no single hₜ whose gradient to "
            "follow back: this plot stays empty. The bars of 'Each tensor' show how strongly each layer learns."
        )
    return (
        "How far back the gradient reaches: the size of ∂loss/∂hₜ for every time step t, "
        f"measured every {TrainConfig().time_grad_every} steps at full speed and every step when the pace "
        f"is slowed. How to read it: bars that fade towards t = 0 mean the network can hardly learn from {early}: "
        "the vanishing gradient. What to try: compare a plain Elman network with an LSTM or GRU, "
        "whose bars stay tall further back."
    )


def short_name(name: str) -> str:
    """'rnn.weight_hh_l0' -> 'W_hh0', 'fc.bias' -> 'out b', 'embedding.weight' -> 'emb'."""
    if name.startswith("embedding"):
        return "emb"
    if name.startswith("fc."):
        return "out W" if name.endswith("weight") else "out b"
    head = re.match(r"fc(\d)\.(weight|bias)$", name)  # the classifier's head: FC 64, FC to the classes
    if head:
        return f"fc{head.group(1)} {'W' if head.group(2) == 'weight' else 'b'}"
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
        self.plot = make_plot("gradNormPlot", GRADIENT_TITLE, "step (epoch)", "‖gradient‖", parent=self)
        self.plot.setToolTip(explanation_tip(GRADIENT_EXPLANATION))
        item = self.plot.getPlotItem()
        item.setClipToView(True)
        item.setDownsampling(auto=True, mode="peak")
        self.curve = item.plot(pen=styled_pen(ORANGE, CURVE_PX), name="total gradient norm")
        self.clip_line = pg.InfiniteLine(
            angle=0, movable=False, pen=styled_pen(RED, CLIP_PX, style=Qt.PenStyle.DashLine)
        )
        # below the line near the top of the view, above it otherwise
        self.clip_label = pg.InfLineLabel(
            self.clip_line,
            text="",
            position=0.97,
            anchors=[(1, -0.1), (1, 1.1)],
            color=RED,
            fill=pg.mkBrush(255, 255, 255, 200),
        )
        self.clip_line.hide()
        # the line counts in the auto range (a hidden line does not): it shows
        # exactly when the norms cross it, which is when clipping acts
        item.addItem(self.clip_line)
        layout.addWidget(self.plot, 3)

        row = QHBoxLayout()
        row.setSpacing(6)
        # horizontal bars: the tensor names stay readable on the left axis
        self.param_plot = make_plot("paramNormPlot", TENSORS_TITLE, "‖gradient‖", "", parent=self, small=True)
        self.param_plot.setToolTip(explanation_tip(TENSORS_EXPLANATION))
        self.param_plot.getPlotItem().invertY(True)
        self.param_plot.getPlotItem().getAxis("left").setWidth(70)
        self.param_bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.7, brush=BLUE, pen=pg.mkPen(None))
        self.param_plot.getPlotItem().addItem(self.param_bars)
        self.param_plot.getPlotItem().getViewBox().sigResized.connect(self._label_ticks)
        row.addWidget(self.param_plot, 1)
        self.time_plot = make_plot("timeGradPlot", TIME_TITLE, "time step t", "‖∂loss/∂hₜ‖", parent=self, small=True)
        self.time_plot.setToolTip(explanation_tip(time_plot_tip("text")))
        self.time_bars = pg.BarGraphItem(x=[], height=[], width=0.8, brush=GREEN, pen=pg.mkPen(None))
        self.time_plot.getPlotItem().addItem(self.time_bars)
        # a classifier pools every step: nothing to draw here, and the plot says why
        self.no_time_note = pg.TextItem("pooled over time:\nno single hₜ to follow", color="#555555", anchor=(0.5, 0.5))
        self.no_time_note.setPos(0.5, 0.5)
        self.no_time_note.setFont(plot_text(self.time_plot).font(LABEL_PT - 1))
        self.time_plot.getPlotItem().addItem(self.no_time_note, ignoreBounds=True)
        self.no_time_note.hide()
        row.addWidget(self.time_plot, 1)
        layout.addLayout(row, 2)

        self.data = CurveData(self.curve)
        self.buffer = self.data.full  # every step kept (bounded)
        self._task: str | None = "text"
        self._names: tuple[str, ...] = ()
        self._param_values: np.ndarray | None = None
        self._time_values: np.ndarray | None = None
        self._clip = 0.0
        self._log = False
        self.dirty = False
        self._bars_dirty = False
        self._bars_drawn = 0.0
        self._fit_param_plot()

    def explanations(self) -> list[tuple[str, str]]:
        """(title, paragraph) for each of the three plots: their tooltips and Help text."""
        return [
            (GRADIENT_TITLE, GRADIENT_EXPLANATION),
            (TENSORS_TITLE, TENSORS_EXPLANATION),
            (TIME_TITLE, time_plot_tip(self._task)),
        ]

    def set_projector(self, enabled: bool, scale: float = 1.5) -> None:
        """Projector-sized text and thicker lines; ``enabled=False`` restores the desktop look."""
        for plot in (self.plot, self.param_plot, self.time_plot):
            set_plot_projector(plot, enabled, scale)
        self.curve.setPen(styled_pen(ORANGE, CURVE_PX, enabled, scale))
        self.clip_line.setPen(styled_pen(RED, CLIP_PX, enabled, scale, Qt.PenStyle.DashLine))
        self.clip_label.setFont(plot_text(self.plot).font(LABEL_PT - 1))
        self.clip_label.updatePosition()
        self.no_time_note.setFont(plot_text(self.time_plot).font(LABEL_PT - 1))
        self._fit_param_plot()

    def reset(self) -> None:
        self.data.clear()
        self.curve.setData([], [])
        self._names = ()
        self._param_values = None
        self._time_values = None
        self.param_bars.setOpts(x0=[], y=[], width=[])
        self.time_bars.setOpts(x=[], height=[])
        self.param_plot.getPlotItem().getAxis("left").setTicks(None)
        self._fit_param_plot()
        self.dirty = self._bars_dirty = False
        self._bars_drawn = 0.0

    def append(self, steps: np.ndarray, norms: np.ndarray) -> None:
        if self.data.extend_finite(steps, norms):
            self.dirty = True

    def set_task(self, task: str) -> None:
        self._task = task
        self.time_plot.setToolTip(explanation_tip(time_plot_tip(task)))
        self.no_time_note.setVisible(task == "classify")

    def set_param_norms(self, norms: dict) -> None:
        if not norms:
            return
        values = np.asarray([v for v in norms.values()], dtype=np.float64)
        if not np.all(np.isfinite(values)):
            return
        names = tuple(norms.keys())
        if names != self._names:
            self._names = names
            self._fit_param_plot()
        self._param_values = values
        self._bars_dirty = True

    def _name_fonts(self) -> tuple[QFont, QFont]:
        """The tensor names' usual font and the smallest they may shrink to."""
        style = plot_text(self.param_plot)
        usual = style.pixels(TICK_PT)
        smallest = usual * SMALLEST_NAME_SHARE
        if style.projector:
            smallest = max(PROJECTOR_TEXT_PX, smallest)
        return _pixel_font(usual), _pixel_font(smallest)

    def _fit_param_plot(self) -> None:
        """Ask for the height that gives every tensor name a row, then name every bar."""
        style = plot_text(self.param_plot)
        _usual, smallest = self._name_fonts()
        rows = max(1, len(self._names))
        title = max(30, round(style.pixels(style.title_pt) * 1.6))
        # a 2-layer bidirectional classifier has 21 tensors: asking a row for each would
        # push the window past a 768-pixel screen; past this many, names are thinned out
        rows = min(rows, MAX_NAMED_ROWS)
        bottom_axis = QFontMetricsF(style.font(TICK_PT)).height() + QFontMetricsF(style.font(LABEL_PT)).height() + 12
        height = title + bottom_axis + rows * _row_height(smallest) + 8
        self.param_plot.setMinimumHeight(max(100, math.ceil(height)))
        if self._names:
            # exactly one row per bar (the auto range would pad a short plot by 20 %)
            self.param_plot.getPlotItem().getViewBox().setYRange(-0.5, rows - 0.5, padding=0)
        self._label_ticks()

    def _label_ticks(self, *_args) -> None:
        """Name every bar, in the largest font (down to the smallest allowed) whose
        rows do not overlap at the plot's present height."""
        axis = self.param_plot.getPlotItem().getAxis("left")
        if not self._names:
            return
        labels = [short_name(n) for n in self._names]
        view = self.param_plot.getPlotItem().getViewBox()
        row_px = view.height() / len(labels)  # the view shows one unit per bar
        usual, smallest = self._name_fonts()
        font = usual
        while _row_height(font) > row_px and font.pixelSize() > smallest.pixelSize():
            font = _pixel_font(font.pixelSize() - 1)
        axis.setStyle(tickFont=font)
        axis.setTickFont(font)
        metrics = QFontMetricsF(font)
        axis.setWidth(math.ceil(max(metrics.horizontalAdvance(label) for label in labels) + 14))
        # rows too short even at the smallest font (many tensors): name every k-th bar, the first always
        every = max(1, math.ceil(_row_height(font) / row_px)) if row_px > 0 else 1
        axis.setTicks([[(i, label if i % every == 0 else "") for i, label in enumerate(labels)], []])

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
        # showing or hiding the line changes the range the plot must take in
        self.plot.getPlotItem().getViewBox().itemBoundsChanged(self.clip_line)

    def redraw(self, force: bool = False) -> bool:
        """Push new data to the plots; True when there was something to draw."""
        drew = False
        if self.dirty:
            self.dirty = False
            self.data.draw()
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


def _pixel_font(pixels: float) -> QFont:
    font = QFont()
    font.setPixelSize(max(1, round(pixels)))
    return font


def _row_height(font: QFont) -> float:
    """The height one tensor name needs: a whole line (pyqtgraph spaces tick text
    at 80 % of it, which lets an underscore cut into the name below) and a pixel."""
    return QFontMetricsF(font).height() + 1.0
