"""The bar above the plots, fitted to the window's width (issue 8, observation 4).

``ControlBar`` holds the run buttons, the file buttons, the progress bar, the
pace control and the log-scale switch, and fits them to its width instead of
pushing the window wider than the screen. From widest to narrowest:

0. one row: buttons with their words, progress, pace, log scale;
1. the progress bar moves to a second row of its own;
2. Open/Save show only their icons, the pace says "20/s", and the log-scale
   check box leaves the bar (View → Log scale does the same);
3. the run buttons show only their icons (their words stay in the tooltip
   and the accessible name).

The widths each step needs are measured once per font (projector mode
changes it), so resizing the window only compares numbers.

``FittedProgressBar`` paints a shorter form of its text when the whole of it
does not fit ("steps/s" becomes "/s", then the elapsed time goes), so the
speed is never the part that is cut.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QEvent, QSize, Qt, QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyleOptionProgressBar,
    QStylePainter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

COMPACT_LEVELS = 4
PROGRESS_SAMPLE = "Epoch 100 / 100  ·  0:05  ·  20 steps/s"  # the room one row keeps for the progress
_SEPARATOR = re.compile(r"\s+·\s+")
_ELAPSED = re.compile(r"^\d+:\d\d(:\d\d)?$")


class RunButton(QPushButton):
    """A push button that can show its icon alone. ``text()`` is always the
    word (what tests, tooltips and screen readers need); only the painted
    label goes when ``set_compact(True)``."""

    def __init__(self, icon, text: str, parent=None):
        super().__init__(icon, text, parent)
        self._word = text
        self._compact = False
        self.setAccessibleName(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        self._word = text
        self.setAccessibleName(text)
        super().setText("" if self._compact else text)

    def text(self) -> str:
        return self._word

    def set_compact(self, compact: bool) -> None:
        if compact != self._compact:
            self._compact = compact
            super().setText("" if compact else self._word)


class FittedProgressBar(QProgressBar):
    """A progress bar whose painted text is shortened to fit; ``text()`` and
    ``format()`` stay whole."""

    def shown_text(self) -> str:
        text = self.text()
        room = self.contentsRect().width() - 12
        metrics = self.fontMetrics()
        for candidate in shorter_forms(text):
            if metrics.horizontalAdvance(candidate) <= room:
                return candidate
        return metrics.elidedText(shorter_forms(text)[-1], Qt.TextElideMode.ElideRight, max(0, room))

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt's name
        painter = QStylePainter(self)
        option = QStyleOptionProgressBar()
        self.initStyleOption(option)
        option.text = self.shown_text()
        painter.drawControl(QStyle.ControlElement.CE_ProgressBar, option)


def shorter_forms(text: str) -> list[str]:
    """``text`` and shorter forms of it, the speed kept to the last:
    "Paused: Epoch 37 / 100  ·  0:03  ·  52 steps/s" becomes "… 52/s", then
    loses the elapsed time, then the word "Epoch" and the spaces."""
    forms = [text]
    short = text.replace(" steps/s", "/s")
    forms.append(short)
    parts = _SEPARATOR.split(short)
    without_time = [p for p in parts if not _ELAPSED.match(p.strip())]
    short = " · ".join(without_time)
    forms.append(short)
    short = re.sub(r"Epoch (\S+) / (\S+)", r"\1/\2", short)
    forms.append(short)
    return list(dict.fromkeys(forms))


class ControlBar(QWidget):
    """Run buttons, file buttons, progress, pace and extras, fitted to the width (see the module)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("controlBar")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(4)
        self._top = QHBoxLayout()
        self._top.setSpacing(6)
        self._bottom = QHBoxLayout()
        self._bottom.setSpacing(6)
        outer.addLayout(self._top)
        outer.addLayout(self._bottom)
        self.run_buttons: list[RunButton] = []
        self.file_buttons: list[QToolButton] = []
        self.progress: FittedProgressBar | None = None
        self.pace = None
        self.extras: list[QWidget] = []
        self.level = -1
        self._widths: list[int] | None = None
        self._compact_width = 0  # the most compact arrangement's width, as last measured
        self._measuring = False
        self._refit_timer = QTimer(self)
        self._refit_timer.setSingleShot(True)
        self._refit_timer.setInterval(0)
        self._refit_timer.timeout.connect(self._remeasure)

    def set_parts(self, run_buttons, file_buttons, progress, extras=()) -> None:
        self.run_buttons = list(run_buttons)
        self._min_widths = {id(b): b.minimumWidth() for b in self.run_buttons}  # kept while they show words
        self.file_buttons = list(file_buttons)
        self.progress = progress
        self.progress.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.extras = list(extras)
        self._place(0)

    def set_pace(self, pace_widget) -> None:
        """The pace control (with ``set_short(bool)``) goes right of the buttons."""
        self.pace = pace_widget
        self._widths = None
        self._place(max(0, self.level))
        self._measured()

    # ------------------------------------------------------------------ fitting
    def event(self, event) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.FontChange, QEvent.Type.StyleChange, QEvent.Type.Show) and not self._measuring:
            self._widths = None
            self._refit_timer.start()  # after the children have their new fonts too
        return super().event(event)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self.refit()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """As narrow as the most compact arrangement: the bar never holds the window wider."""
        hint = super().minimumSizeHint()
        if self._widths is None and not self._measuring:  # measured on the next turn of the event loop,
            self._refit_timer.start()  # never inside a layout pass
        return QSize(self._compact_width, hint.height())

    def _remeasure(self) -> None:
        self._widths = None
        self.refit()
        self.updateGeometry()

    def refit(self) -> None:
        widths = self._measured()
        if not widths:
            return
        available = self.width()
        level = next((i for i, needed in enumerate(widths) if needed <= available), len(widths) - 1)
        if level != self.level:
            self._place(level)

    def _measured(self) -> list[int]:
        if self._widths is None and self.progress is not None and not self._measuring:
            self._measuring = True
            current = max(0, self.level)
            try:
                widths = []
                for level in range(COMPACT_LEVELS):
                    self._place(level)
                    self._top.invalidate()
                    widths.append(self._top.sizeHint().width())
                self._widths = widths
                self._compact_width = widths[-1]
            finally:
                self._place(current)
                self._measuring = False
        return self._widths or []

    def _place(self, level: int) -> None:
        """Arrange the parts for compactness ``level`` (0 = widest)."""
        if self.progress is None:
            return
        self.level = level
        top, bottom = self._top, self._bottom
        for layout in (top, bottom):
            while layout.count():
                layout.takeAt(0)
        for button in self.run_buttons:
            button.set_compact(level >= 3)
            button.setMinimumWidth(0 if level >= 3 else self._min_widths.get(id(button), 0))
            top.addWidget(button)
        top.addSpacing(6)
        for button in self.file_buttons:
            button.setToolButtonStyle(
                Qt.ToolButtonStyle.ToolButtonIconOnly if level >= 2 else Qt.ToolButtonStyle.ToolButtonTextBesideIcon
            )
            top.addWidget(button)
        top.addSpacing(12)
        sample = self.progress.fontMetrics().horizontalAdvance(PROGRESS_SAMPLE) + 24
        if level == 0:
            self.progress.setMinimumWidth(sample)
            top.addWidget(self.progress, 1)
        else:
            self.progress.setMinimumWidth(0)
            top.addStretch(1)
            bottom.addWidget(self.progress, 1)
        if self.pace is not None:
            self.pace.set_short(level >= 2)
            top.addWidget(self.pace)
        for extra in self.extras:
            if level < 2:
                top.addWidget(extra)
            if not self._measuring:  # showing a widget lays its parent out at once: not while measuring
                extra.setVisible(level < 2)
        if not self._measuring:
            self.layout().activate()
            self.updateGeometry()  # one row or two: the window gives the bar its new height
