"""Pieces the panels share: projector-sized plot styling, a growing buffer,
and the message bar that explains problems in the window itself.

Plots follow pyqtgraph's own examples: each curve is created once and only
``setData`` is called on it; data lives in a NumPy buffer that doubles when
full, so appending is amortised O(1) and every point is kept.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy

# Colours that survive a washed-out projector: dark on white.
BLUE = "#1f5fbf"
ORANGE = "#e0680b"
RED = "#c62828"
GREEN = "#2e7d32"
GREY = "#6b6b6b"
TICK_PT = 11
LABEL_PT = 12
TITLE_PT = 13


def tooltip(widget, text: str):
    widget.setToolTip(text)
    widget.setWhatsThis(text)
    return widget


def make_plot(name: str, title: str, x_label: str, y_label: str, *, parent=None, small: bool = False) -> pg.PlotWidget:
    """A white PlotWidget with large fonts and the object name tests look for."""
    plot = pg.PlotWidget(parent=parent, background="w")
    plot.setObjectName(name)
    plot.setMinimumSize(*((120, 100) if small else (200, 150)))
    item = plot.getPlotItem()
    set_title(plot, title, TITLE_PT - 1 if small else TITLE_PT)
    tick_font = QFont()
    tick_font.setPointSize(TICK_PT)
    for axis_name, text in (("bottom", x_label), ("left", y_label)):
        axis = item.getAxis(axis_name)
        axis.setPen(pg.mkPen("#444444"))
        axis.setTextPen(pg.mkPen("#222222"))
        axis.setTickFont(tick_font)
        axis.setLabel(text, **{"color": "#222222", "font-size": f"{LABEL_PT}pt"})
        axis.enableAutoSIPrefix(False)  # "(x0.001)" on an axis confuses more than it helps
    # No grid: pyqtgraph draws it as part of each axis, which doubles the cost
    # of every repaint, and a faint grid does not survive a projector anyway.
    item.setMenuEnabled(False)
    item.hideButtons()
    _let_title_shrink(item.titleLabel)
    return plot


def _let_title_shrink(label) -> None:
    """pyqtgraph makes a title as wide as its text the plot's minimum width; in a
    narrow window the splitter then squeezes the view below that and the plot
    is drawn clipped. Letting the title shrink keeps the plot whole (a very
    narrow plot cuts its title instead)."""
    update_min = label.updateMin

    def update_min_height_only():
        update_min()
        label.setMinimumWidth(0)
        hints = getattr(label, "_sizeHint", None)
        if isinstance(hints, dict) and Qt.SizeHint.MinimumSize in hints:
            hints[Qt.SizeHint.MinimumSize] = (0, hints[Qt.SizeHint.MinimumSize][1])
            label.updateGeometry()

    label.updateMin = update_min_height_only
    update_min_height_only()


def set_title(plot: pg.PlotWidget, title: str, points: int = TITLE_PT) -> None:
    plot.getPlotItem().setTitle(title, color="#222222", size=f"{points}pt", bold=True)


class GrowingBuffer:
    """Parallel float arrays that double in capacity when full."""

    def __init__(self, columns: int, capacity: int = 1024):
        self._data = np.empty((columns, capacity), dtype=np.float64)
        self.size = 0

    def clear(self) -> None:
        self.size = 0

    def extend(self, *columns) -> None:
        count = len(columns[0])
        if count == 0:
            return
        needed = self.size + count
        if needed > self._data.shape[1]:
            capacity = self._data.shape[1]
            while capacity < needed:
                capacity *= 2
            grown = np.empty((self._data.shape[0], capacity), dtype=np.float64)
            grown[:, : self.size] = self._data[:, : self.size]
            self._data = grown
        for row, values in enumerate(columns):
            self._data[row, self.size : needed] = values
        self.size = needed

    def column(self, row: int) -> np.ndarray:
        return self._data[row, : self.size]

    def extend_finite(self, steps: np.ndarray, values: np.ndarray) -> bool:
        """Append the (step, value) pairs where both are finite (NaN or infinity
        never reaches a plot); True when anything was added."""
        keep = np.isfinite(values) & np.isfinite(steps)
        if not np.all(keep):
            steps, values = steps[keep], values[keep]
        if not len(steps):
            return False
        self.extend(steps, values)
        return True


class MessageBar(QFrame):
    """A coloured strip above the plots: what happened, in plain words."""

    STYLES = {
        "info": ("#e8f1fb", "#1f5fbf"),
        "warning": ("#fff4e0", "#b35c00"),
        "error": ("#fdecea", "#b71c1c"),
    }

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.kind = ""
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        self.label = QLabel(self)
        self.label.setObjectName("messageLabel")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        font = self.label.font()
        font.setPointSize(font.pointSize() + 1)
        self.label.setFont(font)
        layout.addWidget(self.label, 1)
        self.close_button = QPushButton("✕", self)
        self.close_button.setObjectName("messageCloseButton")
        self.close_button.setFixedWidth(32)
        self.close_button.setFlat(True)
        self.close_button.setToolTip("Hide this message")
        self.close_button.clicked.connect(self.dismiss)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_message(self, kind: str, text: str) -> None:
        background, border = self.STYLES.get(kind, self.STYLES["info"])
        self.kind = kind
        self.setStyleSheet(
            f"QFrame#messageBar {{ background: {background}; border: 2px solid {border}; border-radius: 6px; }}"
            f"QLabel#messageLabel {{ color: #1a1a1a; }}"
        )
        self.label.setText(text)
        self.show()

    def text(self) -> str:
        return "" if self.isHidden() else self.label.text()

    def dismiss(self) -> None:
        self.kind = ""
        self.label.clear()
        self.hide()
