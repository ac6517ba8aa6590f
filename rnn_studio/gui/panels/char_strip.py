"""A line of text, one coloured cell per character (issue 10's inside views).

The hidden-state view colours a sentence by one unit's activation
(Karpathy's "neuron" view) and the confidence view colours a completion by the
probability the network gave each character it chose. Both need the same
thing: characters in cells, a background colour per cell, wrapped to the
widget's width, and which cell is under the pointer or was clicked. Painted
directly (no rich text to lay out): a 100-character strip repaints in well
under a millisecond.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

FONT_PT = 15
PROJECTOR_FONT_PT = 20
NO_VALUE = QColor("#e6e6e6")  # a character without a value (the first, which nothing predicted)


def diverging_color(value: float) -> QColor:
    """-1 blue, 0 white, +1 red (an activation)."""
    if value is None or not math.isfinite(value):
        return NO_VALUE
    v = max(-1.0, min(1.0, float(value)))
    if v >= 0:
        return QColor(255, round(255 * (1 - 0.8 * v)), round(255 * (1 - 0.85 * v)))
    return QColor(round(255 * (1 + 0.85 * v)), round(255 * (1 + 0.6 * v)), 255)


def confidence_color(value: float) -> QColor:
    """0 red, 0.5 yellow, 1 green (a probability)."""
    if value is None or not math.isfinite(value):
        return NO_VALUE
    v = max(0.0, min(1.0, float(value)))
    if v < 0.5:
        return QColor(240, round(110 + 2 * v * 120), 110)
    return QColor(round(240 - (v - 0.5) * 2 * 130), 220, round(110 + (v - 0.5) * 40))


class CharStrip(QWidget):
    """Characters in cells, each with its own background; wraps to the width.
    ``hovered(index)`` (-1 when the pointer leaves the text), ``clicked(index)``."""

    hovered = Signal(int)
    clicked = Signal(int)

    def __init__(self, name: str, parent=None):
        super().__init__(parent)
        self.setObjectName(name)
        self.setMouseTracking(True)
        font = QFont("DejaVu Sans Mono")
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setPointSize(FONT_PT)
        self.setFont(font)
        self.text = ""
        self.colors: list[QColor] = []
        self.selected = -1  # a cell drawn with a thick frame
        self.tips: list[str] | None = None
        self._hover = -1
        self._cell_size: QSize | None = None  # measured once per font (a paint asks ~200 times)
        sp = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        sp.setHeightForWidth(True)
        self.setSizePolicy(sp)

    # -- content ---------------------------------------------------------------------------------
    def set_cells(self, text: str, colors: list[QColor], tips: list[str] | None = None) -> None:
        changed_length = len(text) != len(self.text)
        self.text, self.colors, self.tips = text, list(colors), tips
        if self.selected >= len(text):
            self.selected = -1
        if changed_length:
            self.updateGeometry()
        self.update()

    def set_selected(self, index: int) -> None:
        self.selected = index
        self.update()

    def set_projector(self, enabled: bool, scale: float = 1.5) -> None:
        font = self.font()
        font.setPointSize(max(PROJECTOR_FONT_PT, round(FONT_PT * scale)) if enabled else FONT_PT)
        self.setFont(font)
        self.updateGeometry()
        self.update()

    # -- geometry --------------------------------------------------------------------------------
    def _cell(self) -> QSize:
        if self._cell_size is None:
            metrics = QFontMetrics(self.font())
            self._cell_size = QSize(metrics.horizontalAdvance("M") + 4, metrics.height() + 6)
        return self._cell_size

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.FontChange:
            self._cell_size = None
        super().changeEvent(event)

    def _per_line(self, width: int) -> int:
        return max(1, (width - 4) // self._cell().width())

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt's name
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt's name
        lines = max(1, math.ceil(max(1, len(self.text)) / self._per_line(width)))
        return lines * self._cell().height() + 4

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        cell = self._cell()
        return QSize(min(60, max(10, len(self.text))) * cell.width(), self.heightForWidth(600))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(10 * self._cell().width(), self._cell().height() + 4)

    def cell_rect(self, index: int) -> QRect:
        cell, per = self._cell(), self._per_line(self.width())
        return QRect(2 + (index % per) * cell.width(), 2 + (index // per) * cell.height(), cell.width(), cell.height())

    def index_at(self, pos: QPoint) -> int:
        cell, per = self._cell(), self._per_line(self.width())
        column, line = (pos.x() - 2) // cell.width(), (pos.y() - 2) // cell.height()
        if pos.x() < 2 or pos.y() < 2 or column >= per:
            return -1
        index = line * per + column
        return index if 0 <= index < len(self.text) else -1

    # -- painting and the pointer ----------------------------------------------------------------
    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.setFont(self.font())
        painter.fillRect(self.rect(), QColor("#ffffff"))
        frame = QPen(QColor("#222222"), 3)
        ink = QColor("#111111")
        cell, per, height = self._cell(), self._per_line(self.width()), self.height()
        width_px, height_px = cell.width(), cell.height()
        colors = self.colors
        painter.setPen(ink)
        for index, char in enumerate(self.text):
            line, column = divmod(index, per)
            rect = QRect(2 + column * width_px, 2 + line * height_px, width_px, height_px)
            if rect.top() > height:
                break
            painter.fillRect(rect.adjusted(0, 0, -1, -1), colors[index] if index < len(colors) else NO_VALUE)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "·" if char == " " else char)
            if index == self.selected or index == self._hover:
                painter.setPen(frame if index == self.selected else QPen(QColor("#555555"), 1))
                painter.drawRect(rect.adjusted(1, 1, -2, -2))
                painter.setPen(ink)
        painter.end()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt's name
        index = self.index_at(event.position().toPoint())
        if index != self._hover:
            self._hover = index
            self.update()
            self.hovered.emit(index)
            if self.tips and 0 <= index < len(self.tips) and self.tips[index]:
                QToolTip.showText(event.globalPosition().toPoint(), self.tips[index], self)
            else:
                QToolTip.hideText()

    def leaveEvent(self, _event) -> None:  # noqa: N802 - Qt's name
        if self._hover != -1:
            self._hover = -1
            self.update()
            self.hovered.emit(-1)

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        index = self.index_at(event.position().toPoint())
        if index >= 0:
            self.clicked.emit(index)


def colors_for(values: np.ndarray, kind: str) -> list[QColor]:
    """A colour per value: "diverging" (-1..1) or "confidence" (0..1)."""
    paint = diverging_color if kind == "diverging" else confidence_color
    return [paint(float(v)) for v in np.asarray(values, dtype=np.float64).ravel()]
