"""Memory through time: the history of ||dLoss/dh_t|| as a heatmap.

x = training step, y = time step t (0 = the first character or point of a
sequence), colour = log10 of the norm, from ``core.history.TimeGradHistory``
(which keeps at most 512 training steps x 1024 time steps, thinning evenly).
The "Back through time" bars show only the latest step; here the vanishing
gradient is a band fading towards t = 0, and its change over training is
visible: an LSTM's band reaches further back than a plain RNN's.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from .common import GREY, explanation_tip
from .heatmap import SEQUENTIAL, Heatmap

TITLE = "Memory through time"
EXPLANATION = (
    "How far back in time the network can still learn, over the whole run. Each column is one measured "
    "training step (left: the start of training); each row a time step t of the sequence (bottom: the "
    "first character, or the first point of the wave); the colour is how much the loss depends on the "
    "memory h_t at that time step, ||dLoss/dh_t||, on a log scale (bright: large, dark: tiny). How to "
    "read it: a band that fades towards the bottom is the vanishing gradient: the error signal dies out "
    "on its way back through time, so the network cannot learn what depends on early characters. A "
    "plain RNN's band fades fast; an LSTM's or GRU's reaches further back. The bars of 'Back through "
    "time' show the latest column only. What to try: train an RNN, then an LSTM, on the 'long memory' "
    "sentences and compare the two pictures."
)


class MemoryView(QWidget):
    """``memoryHeatmap``: x = training step, y = time step, colour = log10 ||dLoss/dh_t||."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("memoryView")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        self.note = QLabel(self)
        self.note.setObjectName("memoryNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {GREY}")
        layout.addWidget(self.note)
        self.heatmap = Heatmap(
            "memoryHeatmap",
            "log10 ||dLoss/dh_t|| over training",
            "training step",
            "time step t",
            maps=(SEQUENTIAL,),
            levels=(-6.0, 0.0),
            bar_label="log10 norm",
            parent=self,
        )
        layout.addWidget(self.heatmap.plot, 1)
        for widget in (self, self.heatmap.plot):
            widget.setToolTip(explanation_tip(EXPLANATION))
        self.history = None
        self.dirty = False
        self.clear()

    def explanation(self) -> str:
        return EXPLANATION

    def projector_parts(self) -> list:
        return [self.heatmap]

    def clear(self) -> None:
        self.dirty = False
        self.heatmap.images[0].clear()
        self.note.setText("Press Train: one column per measured training step appears here.")

    def show_history(self, history) -> None:
        """``history``: a ``core.history.TimeGradHistory`` (read in ``redraw``)."""
        self.history = history
        self.dirty = True

    def redraw(self) -> bool:
        if not self.dirty or self.history is None:
            return False
        self.dirty = False
        steps, logs = self.history.log10()
        if len(steps) == 0 or logs.size == 0:
            self.clear()
            return True
        finite = logs[np.isfinite(logs)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (-6.0, 0.0)
        if high - low < 1e-3:
            low, high = low - 0.5, high + 0.5
        self.heatmap.set_bar_levels((low, high))
        first, last = float(steps[0]), float(steps[-1])
        width = (last - first) * len(steps) / max(1, len(steps) - 1) if len(steps) > 1 else 1.0
        self.heatmap.show(0, logs, QRectF(first, 0, max(width, 1.0), logs.shape[1]), (low, high))
        kept = f"{len(steps)} measured steps"
        if self.history.stride > 1:
            kept += f" (every {self.history.stride}th kept, so the whole run fits)"
        self.note.setText(
            f"{kept}, from step {int(first)} to {int(last)}; sequences of {logs.shape[1]} time steps. "
            f"The colour spans 10^{low:.1f} to 10^{high:.1f}."
        )
        return True
