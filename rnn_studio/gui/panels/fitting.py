"""Widgets that keep fitting when the font grows (projector mode) or the window narrows.

``FixedWidthLabel``: a label sized once from its font metrics
(``setMinimumWidth(fm.horizontalAdvance(...))``) keeps that width when
projector mode enlarges its font, and its text is cut; this one measures again
each time the layout asks, so the controls beside it neither jump when the
text changes nor cover it when the font grows.

``FoldingRow``: groups of controls side by side while they fit, one under the
other when they do not; its minimum width is the widest group's, so it never
holds a splitter wider than one group needs (the prompt panel's options
squeezed the sentence reading beside it to a sliver on a projector).
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QBoxLayout, QHBoxLayout, QLabel, QSizePolicy, QWidget


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


class FoldingRow(QWidget):
    """Groups side by side, or stacked when the row is too narrow for them."""

    def __init__(self, parent=None, spacing: int = 10):
        super().__init__(parent)
        self._box = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self._box.setContentsMargins(0, 0, 0, 0)
        self._box.setSpacing(spacing)
        self._groups: list[QWidget] = []
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def add_group(self, stretch: int = 0) -> QHBoxLayout:
        """A new group; add its controls to the layout returned."""
        group = QWidget(self)
        box = QHBoxLayout(group)
        box.setContentsMargins(0, 0, 0, 0)
        self._groups.append(group)
        self._box.addWidget(group, stretch)
        return box

    @property
    def folded(self) -> bool:
        return self._box.direction() == QBoxLayout.Direction.TopToBottom

    def _side_by_side_width(self) -> int:
        widths = [g.sizeHint().width() for g in self._groups]
        return sum(widths) + self._box.spacing() * max(0, len(widths) - 1)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        widest = max((g.minimumSizeHint().width() for g in self._groups), default=0)
        return QSize(widest, super().minimumSizeHint().height())

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        fold = self.width() < self._side_by_side_width()
        if fold != self.folded:
            self._box.setDirection(QBoxLayout.Direction.TopToBottom if fold else QBoxLayout.Direction.LeftToRight)
            self.updateGeometry()  # one line or two: the panel gives the row its new height
