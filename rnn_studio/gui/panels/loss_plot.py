"""The loss curve: every step kept, drawn downsampled, optional log scale.

The first data item of ``lossPlot`` is the loss per step (x = step number).
For text, a dashed line marks ln(vocabulary size): the cross-entropy of a
uniform guess, the loss an untrained network starts near.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from .common import BLUE, GREY, LABEL_PT, GrowingBuffer, make_plot, set_title


class LossView:
    def __init__(self, parent=None):
        self.plot = make_plot("lossPlot", "Loss", "step (epoch)", "loss: how wrong", parent=parent)
        item = self.plot.getPlotItem()
        item.setClipToView(True)
        item.setDownsampling(auto=True, mode="peak")
        self.curve = item.plot(pen=pg.mkPen(BLUE, width=2.5), name="loss")
        self.buffer = GrowingBuffer(2)
        self.reference = pg.InfiniteLine(
            angle=0, movable=False, pen=pg.mkPen(GREY, width=2, style=Qt.PenStyle.DashLine)
        )
        self.reference_label = pg.InfLineLabel(
            self.reference, text="", position=0.5, anchors=[(0.5, 1), (0.5, 1)], color="#444444"
        )
        self.reference_label.setFont(_font(LABEL_PT - 1))
        self.reference.hide()
        item.addItem(self.reference, ignoreBounds=True)
        self._reference_value: float | None = None
        self._log = False
        self.dirty = False

    def reset(self) -> None:
        self.buffer.clear()
        self.curve.setData([], [])
        self.dirty = False

    def set_task(self, task: str, vocab_size: int | None) -> None:
        """Title for the task's loss; for text, the uniform-guess line at ln(vocabulary size)."""
        kind = "cross-entropy" if task == "text" else "mean squared error"
        set_title(self.plot, f"Loss ({kind})")
        if task == "text" and vocab_size and vocab_size > 1:
            self._reference_value = math.log(vocab_size)
            self.reference_label.setFormat(f"uniform guess: ln {vocab_size} = {self._reference_value:.2f}")
            self.reference.show()
        else:
            self._reference_value = None
            self.reference.hide()
        self._place_reference()

    def append(self, steps: np.ndarray, losses: np.ndarray) -> None:
        if self.buffer.extend_finite(steps, losses):
            self.dirty = True

    def redraw(self) -> bool:
        """Push new points to the curve; True when there was something to draw."""
        if not self.dirty:
            return False
        self.dirty = False
        self.curve.setData(self.buffer.column(0), self.buffer.column(1))
        # settle the auto range now, not inside paintEvent: a range that changes
        # during the paint makes Qt paint the whole plot twice (bench/README.md)
        self.plot.scene().prepareForPaint()
        return True

    def set_log(self, on: bool) -> None:
        self._log = on
        self.plot.getPlotItem().setLogMode(False, on)
        self._place_reference()

    def _place_reference(self) -> None:
        value = self._reference_value
        if value is None:
            return
        self.reference.setPos(math.log10(value) if self._log else value)

    @property
    def points(self) -> int:
        return self.buffer.size


def _font(points: int):
    from PySide6.QtGui import QFont

    font = QFont()
    font.setPointSize(points)
    return font
