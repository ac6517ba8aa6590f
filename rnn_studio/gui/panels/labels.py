"""A label as wide as the widest text it will show, in whatever font it has now.

A label sized once from its font metrics (``setMinimumWidth(fm.horizontalAdvance(...))``)
keeps that width when projector mode enlarges its font, and its text is cut;
this one measures again each time the layout asks, so the controls beside it
neither jump when the text changes nor cover it when the font grows.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QLabel


class FixedWidthLabel(QLabel):
    """``samples``: every text the label may show (or the widest of them)."""

    def __init__(self, samples, parent=None):
        super().__init__(parent)
        self.samples = list(samples)

    def set_samples(self, samples) -> None:
        self.samples = list(samples)
        self.updateGeometry()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        hint = super().sizeHint()
        widest = max((self.fontMetrics().horizontalAdvance(s) for s in self.samples), default=0)
        return QSize(max(hint.width(), widest + 6), hint.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return self.sizeHint()
