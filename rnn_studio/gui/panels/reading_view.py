"""What the two views of a reading share (hidden state, gates).

Both draw one ``core.inspection.Reading`` (the network reading a text) as
heatmaps: a row of choices (which layer, ...) with a grey note beside them
above the plots; the reading is held by ``show_reading`` and drawn by
``redraw`` only when it is new (the window draws only the tab on screen);
an error is shown by ``clear(why)``; changing a choice draws the same
reading again. Each view builds its own plots and says what ``redraw`` and
``clear`` do.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QVBoxLayout, QWidget

from .common import note_label


class ReadingView(QWidget):
    """``outer`` (the view's layout), ``choices`` (the row above the plots, the
    note last), ``note``; ``reading`` (None until one is shown), ``dirty``."""

    def __init__(self, name: str, note_name: str, *, wrap_note: bool, parent=None):
        super().__init__(parent)
        self.setObjectName(name)
        self.outer = QVBoxLayout(self)
        self.outer.setContentsMargins(2, 2, 2, 2)
        self.choices = QHBoxLayout()
        self.note = note_label(self, note_name, wrap=wrap_note)
        self.choices.addWidget(self.note, 1)
        self.outer.addLayout(self.choices)
        self.reading = None
        self._note = ""
        self.dirty = False
        self._text = None  # the text whose characters the bottom axis names

    def add_choice(self, widget: QWidget) -> QWidget:
        """``widget`` in the row of choices, before the note."""
        self.choices.insertWidget(self.choices.count() - 1, widget)
        return widget

    def show_reading(self, reading, note: str = "") -> None:
        """Hold ``reading`` (inspection.Reading); drawn by ``redraw``."""
        self.reading = reading
        self._note = note
        self.dirty = True

    def show_error(self, why: str) -> None:
        self.clear(why)

    def clear(self, why: str) -> None:  # each view says what it empties
        raise NotImplementedError

    def take_reading(self):
        """The reading ``redraw`` should draw now, or None when it has nothing new."""
        if not self.dirty or self.reading is None:
            return None
        self.dirty = False
        return self.reading

    def redraw_again(self, *_args) -> None:
        """A choice changed: the same reading, drawn again."""
        if self.reading is not None:
            self.dirty = True
            self.redraw()

    @staticmethod
    def sync_layers(combo: QComboBox, layers: int) -> None:
        """``combo`` lists "layer 1".. "layer N" (quietly: no redraw), shown only for more than one."""
        if combo.count() != layers:
            combo.blockSignals(True)
            combo.clear()
            combo.addItems([f"layer {i + 1}" for i in range(layers)])
            combo.blockSignals(False)
        combo.setVisible(layers > 1)
