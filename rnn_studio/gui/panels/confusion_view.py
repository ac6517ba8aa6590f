"""The confusion matrix: how many examples of each class got each answer.

A small table (``confusionView``): one row per true label, one column per
answer; the diagonal is right, everything off it a mistake. The shade of a
cell is its share of its row, so a mistake the network makes often shows at
once. It shows the validation examples when there are any (what the network
has never learnt from), else the training examples; ``splitCombo`` switches.
Counts come from ``Trainer.predictions()['confusion']``
(``core.classification.confusion_matrix``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .common import GREEN, GREY, RED, explanation_tip

TITLE = "Confusion matrix"
EXPLANATION = (
    "How many examples of each label (rows) got each answer (columns). The diagonal, green, counts the "
    "right answers; every other cell, red, a kind of mistake: the row 'negative', column 'positive' counts "
    "negative sentences the network called positive. The deeper the colour, the larger the share of that "
    "row. It counts the validation examples when part of the data is held out, else the training ones. "
    "How to read it: a perfect classifier has numbers on the diagonal only. A column that collects most "
    "of the numbers means the network answers that label whatever it reads (common early in training). "
    "What to try: switch to the training examples and compare; give one label far fewer examples and "
    "see its row fill with mistakes."
)
MAX_CLASSES_SHOWN = 30


def _shade(color: str, share: float) -> QColor:
    """``color`` mixed into white: 0 = white, 1 = the colour."""
    base = QColor(color)
    share = max(0.0, min(1.0, share))
    return QColor(
        round(255 + (base.red() - 255) * share),
        round(255 + (base.green() - 255) * share),
        round(255 + (base.blue() - 255) * share),
    )


class ConfusionView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("confusionPanel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.caption = QLabel("<b>Confusion</b> (label ↓, answer →)", self)
        self.caption.setWordWrap(True)
        top.addWidget(self.caption, 1)
        self.splitCombo = QComboBox(self)
        self.splitCombo.setObjectName("confusionSplitCombo")
        self.splitCombo.addItem("validation", "valid")
        self.splitCombo.addItem("training", "train")
        self.splitCombo.setToolTip("Count the validation examples (never trained on) or the training examples.")
        top.addWidget(self.splitCombo)
        layout.addLayout(top)
        self.table = QTableWidget(self)
        self.table.setObjectName("confusionView")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip(explanation_tip(EXPLANATION))
        layout.addWidget(self.table, 1)
        self.note = QLabel(self)
        self.note.setObjectName("confusionNote")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.labels: list[str] = []
        self.matrices: dict = {}
        self.shown_split: str | None = None
        self._pending: dict | None = None
        self.splitCombo.currentIndexChanged.connect(lambda *_: self._draw())
        self.clear_reading()

    def explanation(self) -> str:
        return EXPLANATION

    def clear_reading(self) -> None:
        self._pending = None
        self.labels, self.matrices, self.shown_split = [], {}, None
        self.table.clear()
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self.note.setText(f"<span style='color:{GREY}'>Counts appear once the network has answered.</span>")

    def show_predictions(self, data: dict) -> None:
        self._pending = data

    def redraw(self) -> bool:
        data, self._pending = self._pending, None
        if data is None or data.get("kind") != "classify":
            return False
        self.labels = list(data.get("labels", []))
        self.matrices = {k: [list(map(int, row)) for row in v] for k, v in (data.get("confusion") or {}).items()}
        self._draw()
        return True

    def matrix(self) -> list[list[int]] | None:
        """The counts shown now (rows = label, columns = answer)."""
        return self.matrices.get(self.shown_split) if self.shown_split else None

    def _draw(self) -> None:
        wanted = self.splitCombo.currentData()
        split = wanted if wanted in self.matrices else next(iter(self.matrices), None)
        self.shown_split = split
        if split is None:
            return
        counts = self.matrices[split]
        n = min(len(self.labels), MAX_CLASSES_SHOWN)
        self.table.setRowCount(n)
        self.table.setColumnCount(n)
        names = [label if len(label) <= 14 else label[:13] + "…" for label in self.labels[:n]]
        self.table.setHorizontalHeaderLabels(names)
        self.table.setVerticalHeaderLabels(names)
        bold = QFont()
        bold.setBold(True)
        for i in range(n):
            total = sum(counts[i]) or 1
            for j in range(n):
                value = counts[i][j]
                item = QTableWidgetItem(f"{value:,}")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                share = value / total
                item.setBackground(QBrush(_shade(GREEN if i == j else RED, 0.15 + 0.7 * share if value else 0.0)))
                if value and share > 0.6:
                    item.setForeground(QBrush(QColor("#ffffff")))
                if i == j:
                    item.setFont(bold)
                item.setToolTip(f"{value:,} examples labelled {self.labels[i]} got the answer {self.labels[j]} "
                                f"({share:.0%} of the {self.labels[i]} examples)")
                self.table.setItem(i, j, item)
        total = sum(map(sum, counts))
        right = sum(counts[i][i] for i in range(len(counts)))
        name = "validation" if split == "valid" else "training"
        note = f"{name} examples: {right:,} of {total:,} right ({right / max(total, 1):.0%})"
        if wanted != split:
            note += f" (no {('validation' if wanted == 'valid' else 'training')} examples)"
        if len(self.labels) > n:
            note += f"; the first {n} of {len(self.labels)} labels shown"
        self.note.setText(note)
