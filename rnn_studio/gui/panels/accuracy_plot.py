"""The classifier's accuracy per epoch, on the training and the held-out examples.

``accuracyPlot``'s first data item is the training accuracy (the fraction of
each epoch's training examples the network labelled right while it trained on
them), the second the validation accuracy (measured after the epoch, in eval
mode, on the examples held out). A dashed line marks chance: the accuracy of
always answering the largest class. Classify task only (seed 002's
"Train Acc" / "Val Acc" per epoch).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from ...core.series import EnvelopeSeries
from .common import (
    BLUE,
    GREY,
    LABEL_PT,
    ORANGE,
    explanation_tip,
    make_plot,
    plot_text,
    set_plot_projector,
    styled_pen,
)

TITLE = "Accuracy per epoch"
EXPLANATION = (
    "How many sentences the classifier labels right, one point per epoch (one pass over the training "
    "examples). Blue: the training examples, counted while the network trains on them. Orange, dashed: "
    "the validation examples, held out of training and checked after every epoch: how well it does on "
    "sentences it has never learnt from. The dashed grey line is chance: always answering the most common "
    "label. How to read it: both climb from chance towards 1. A training accuracy near 1 with the "
    "validation accuracy stuck lower means the network has learnt its examples by heart rather than the "
    "rule (overfitting): more examples, dropout or a smaller network help. On the film reviews a bag of "
    "words stays near 0.5: only a network that reads the words in order can tell 'not good' from 'good, "
    "not bad'. What to try: the 48 typed lines instead of all 800 reviews (the gap between the curves "
    "grows), one direction instead of two, or mean pooling instead of max."
)

CURVE_PX = 2.5
DOT_PX = 7


class AccuracyView:
    def __init__(self, parent=None):
        self.plot = make_plot("accuracyPlot", TITLE, "epoch", "accuracy: fraction right", parent=parent)
        self.plot.setToolTip(explanation_tip(EXPLANATION))
        item = self.plot.getPlotItem()
        legend = pg.LegendItem(colCount=3, horSpacing=4, labelTextSize=f"{LABEL_PT}pt", labelTextColor="#222222",
                               frame=False)
        item.layout.addItem(legend, 4, 0, 1, 3)
        item.layout.setAlignment(legend, Qt.AlignmentFlag.AlignHCenter)
        legend.setMinimumWidth(0)
        item.legend = legend
        self.train_curve = item.plot(pen=styled_pen(BLUE, CURVE_PX), symbol="s", symbolSize=DOT_PX - 1,
                                     symbolBrush=BLUE, symbolPen=None, name="training")
        self.valid_curve = item.plot(pen=styled_pen(ORANGE, CURVE_PX, style=Qt.PenStyle.DashLine), symbol="o",
                                     symbolSize=DOT_PX, symbolBrush=ORANGE, symbolPen=None, name="validation")
        self.chance = pg.InfiniteLine(angle=0, movable=False, pen=styled_pen(GREY, 2.0, style=Qt.PenStyle.DashLine))
        self.chance_label = pg.InfLineLabel(self.chance, text="", position=0.02, anchors=[(0, 1.1), (0, -0.1)],
                                            color="#333333")
        item.addItem(self.chance, ignoreBounds=True)
        self.chance.hide()
        item.setYRange(0, 1.02, padding=0)
        item.getViewBox().setLimits(yMin=-0.05, yMax=1.1)
        self.train = EnvelopeSeries(2, 256)
        self.valid = EnvelopeSeries(2, 256)
        self.dirty = False
        self.redraws = 0

    def explanation(self) -> str:
        return EXPLANATION

    def reset(self) -> None:
        self.train.clear()
        self.valid.clear()
        self.train_curve.setData([], [])
        self.valid_curve.setData([], [])
        self.plot.getPlotItem().setYRange(0, 1.02, padding=0)
        self.dirty = False

    def set_chance(self, fraction: float | None) -> None:
        """The accuracy of always answering the largest class (None: unknown)."""
        if fraction is None or not 0 < fraction < 1:
            self.chance.hide()
            return
        self.chance.setPos(fraction)
        self.chance_label.setFormat(f"chance: {fraction:.2f}")
        self.chance.show()

    def append_epochs(self, epochs) -> None:
        """``core.events.EpochMetrics`` of the epochs just completed."""
        if not epochs:
            return
        x = np.array([m.epoch for m in epochs], dtype=np.float64)
        train = np.array([np.nan if m.accuracy is None else m.accuracy for m in epochs], dtype=np.float64)
        valid = np.array([np.nan if m.valid_accuracy is None else m.valid_accuracy for m in epochs], dtype=np.float64)
        if self.train.extend_finite(x, train) | self.valid.extend_finite(x, valid):
            self.dirty = True

    @property
    def points(self) -> int:
        return self.train.size

    def redraw(self) -> bool:
        if not self.dirty:
            return False
        self.dirty = False
        self.train_curve.setData(self.train.column(0), self.train.column(1))
        self.valid_curve.setData(self.valid.column(0), self.valid.column(1))
        self.redraws += 1
        self.plot.scene().prepareForPaint()
        return True

    def set_projector(self, enabled: bool, scale: float = 1.5) -> None:
        set_plot_projector(self.plot, enabled, scale)
        self.train_curve.setPen(styled_pen(BLUE, CURVE_PX, enabled, scale))
        self.valid_curve.setPen(styled_pen(ORANGE, CURVE_PX, enabled, scale, Qt.PenStyle.DashLine))
        dot = round(DOT_PX * (scale if enabled else 1.0))
        self.train_curve.setSymbolSize(dot - 1)
        self.valid_curve.setSymbolSize(dot)
        self.chance.setPen(styled_pen(GREY, 2.0, enabled, scale, Qt.PenStyle.DashLine))
        font = plot_text(self.plot).font(LABEL_PT - 1)
        self.chance_label.setFont(font)
