"""Sample evolution: the greedy completion of the prompt at moments of the run.

``core.evolution.EvolutionRecorder`` completes the prompt at every tenth of the
run (and at epoch 0) and keeps a weight snapshot there; this strip lists the
completions, one row per moment, so a class sees gibberish turn into words.
Clicking a row rewinds the inside views to that moment (the rewind slider
above the tabs follows).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QTableWidgetItem, QVBoxLayout, QWidget

from .common import explanation_tip, note_label, read_only_table
from .heatmap import PlotPart

TITLE = "Samples"
EXPLANATION = (
    "What the network wrote for the prompt at moments of the run: at the start (epoch 0, untrained) and "
    "after every tenth of the epochs, always taking the most likely next character. How to read it, top to "
    "bottom: random letters first, then the most common letter again and again, then pieces of words, "
    "finally the sentences. Click a row to look inside the network as it was then: the rewind slider "
    "above moves to that moment, and 'Train from here' trains on from it (a new branch, the rest of "
    "this run kept to compare). What to try: a prompt that starts like a training sentence, and one that "
    "does not."
)
FONT_PT = 13
HIGHLIGHT = QColor("#fff2b3")
WHITE = QColor("#ffffff")


class SamplesView(QWidget):
    """``samplesTable``: epoch, step and completion per recorded moment; ``momentClicked(epoch)``."""

    momentClicked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("samplesView")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        self.note = note_label(self, "samplesNote")
        layout.addWidget(self.note)
        self.table = read_only_table(
            self,
            "samplesTable",
            ("epoch", "step", "the prompt, completed"),
            stretch_column=2,
            selection=QAbstractItemView.SelectionMode.SingleSelection,
        )
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        layout.addWidget(self.table, 1)
        self.mono = QFont("DejaVu Sans Mono")
        self.mono.setStyleHint(QFont.StyleHint.Monospace)
        self.mono.setPointSize(FONT_PT)
        for widget in (self, self.table):
            widget.setToolTip(explanation_tip(EXPLANATION))
        self.table.cellClicked.connect(self._clicked)
        self.samples: tuple = ()
        self._note = ""
        self.moment: int | None = None
        self.dirty = False
        self._shown: tuple = ()
        self._highlighted: int | None = None  # the epoch whose rows are highlighted now
        self.clear()

    def explanation(self) -> str:
        return EXPLANATION

    def projector_parts(self) -> list:
        return [PlotPart(None, self._restyle)]

    def clear(self) -> None:
        self.samples, self._shown, self.moment, self._highlighted = (), (), None, None
        self.table.setRowCount(0)
        self.note.setText("Press Train: the completion of the prompt at each tenth of the run appears here.")
        self.dirty = False

    def show_samples(self, samples, moment: int | None, note: str = "") -> None:
        self.samples, self.moment, self._note = tuple(samples), moment, note
        self.dirty = True

    def redraw(self) -> bool:
        if not self.dirty:
            return False
        self.dirty = False
        table = self.table
        key = tuple((s.epoch, s.step, s.text) for s in self.samples)
        if key != self._shown:
            old = self._shown
            # a run adds samples at the end: only the new rows are made (a thinning
            # of a long run's samples rebuilds the table, once in a while)
            start = len(old) if key[: len(old)] == old else 0
            self._shown = key
            if start == 0:
                self._highlighted = None  # every row is new (and white)
            table.setUpdatesEnabled(False)
            try:
                table.setRowCount(len(key))
                for row in range(start, len(key)):
                    epoch, step, text = key[row]
                    for column, value in enumerate((f"{epoch:,}", f"{step:,}", text if text is not None else "–")):
                        item = QTableWidgetItem(value)
                        if column == 2:
                            item.setFont(self.mono)
                        item.setData(Qt.ItemDataRole.UserRole, epoch)
                        item.setBackground(WHITE)
                        table.setItem(row, column, item)
            finally:
                table.setUpdatesEnabled(True)
        if self.moment != self._highlighted:
            for row, (epoch, _step, _text) in enumerate(key):
                if epoch in (self.moment, self._highlighted):
                    colour = HIGHLIGHT if epoch == self.moment else WHITE
                    for column in range(3):
                        table.item(row, column).setBackground(colour)
            self._highlighted = self.moment
        if self._note:
            self.note.setText(self._note)
        return True

    def _restyle(self, enabled: bool, scale: float = 1.5) -> None:
        self.mono.setPointSize(max(18, round(FONT_PT * scale)) if enabled else FONT_PT)
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 2)
            if item is not None:
                item.setFont(self.mono)
        self.table.resizeRowsToContents()

    def _clicked(self, row: int, _column: int) -> None:
        item = self.table.item(row, 0)
        if item is not None:
            self.momentClicked.emit(int(item.data(Qt.ItemDataRole.UserRole)))
