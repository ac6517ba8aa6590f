"""Every example with the class the classifier gives it now, wrong ones marked.

A model/view table (``QTableView`` on ``ExamplesModel``): new predictions
replace the model's rows in one reset and the view asks only for the rows
on screen, so 5,000 examples cost no more to show than 50. Rows come from
``Trainer.predictions()`` (``kind == "classify"``): the training examples,
then the validation ones. A wrong answer is white on red and marked ✗, a
right one ✓ in green; the tooltip of a row lists every class's probability.
"Wrong only" hides the right ones.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from .common import GREEN, GREY, RED, explanation_tip

TITLE = "Every example and the network's answer"
EXPLANATION = (
    "Every labelled sentence with the label the network gives it now. ✓ (green): right; ✗ (white on "
    "red): wrong. 'Sure' is the probability the network gives its answer: near 1 it is certain, near "
    "1/number of classes it is guessing. 'Part' says whether the sentence is one the network trains on or "
    "one held out for validation ('valid'). Hover over a row for every class's probability. How to read it: early on "
    "every sentence gets the same label; then the easy ones ('a great film') come right, and the sentences "
    "whose meaning depends on word order ('not bad at all', 'dull at first but wonderful in the end') stay "
    "red longest. Tick 'wrong only' to see what it still gets wrong. What to try: type one of the "
    "wrong sentences into the prompt box with a word changed, and watch the answer move."
)
COLUMNS = ("", "Text", "Label", "Answer", "Sure", "Part")
WRONG_BACKGROUND = QColor(RED)
WRONG_TEXT = QColor("#ffffff")
RIGHT_MARK = QColor(GREEN)


class ExamplesModel(QAbstractTableModel):
    """The rows of ``Trainer.predictions()['examples']``, shown or filtered."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.labels: list[str] = []
        self.rows: list[dict] = []
        self.shown: list[dict] = []
        self.wrong_only = False

    def set_predictions(self, labels: list[str], rows: list[dict]) -> None:
        self.beginResetModel()
        self.labels, self.rows = list(labels), list(rows)
        self._filter()
        self.endResetModel()

    def set_wrong_only(self, on: bool) -> None:
        self.beginResetModel()
        self.wrong_only = bool(on)
        self._filter()
        self.endResetModel()

    def _filter(self) -> None:
        self.shown = [r for r in self.rows if r["label"] != r["predicted"]] if self.wrong_only else self.rows

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.shown)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def _label(self, index: int) -> str:
        return self.labels[index] if 0 <= index < len(self.labels) else str(index)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.shown):
            return None
        row = self.shown[index.row()]
        wrong = row["label"] != row["predicted"]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return "✗" if wrong else "✓"
            if column == 1:
                return row["text"]
            if column == 2:
                return self._label(row["label"])
            if column == 3:
                return self._label(row["predicted"])
            if column == 4:
                return f"{row['probabilities'][row['predicted']]:.2f}"
            return "valid" if row["split"] == "valid" else "train"
        if role == Qt.ItemDataRole.BackgroundRole and wrong:
            return QBrush(WRONG_BACKGROUND)
        if role == Qt.ItemDataRole.ForegroundRole:
            if wrong:
                return QBrush(WRONG_TEXT)
            if column == 0:
                return QBrush(RIGHT_MARK)
            if column == 5:
                return QBrush(QColor(GREY))
        if role == Qt.ItemDataRole.FontRole and column in (0, 3):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            probabilities = ", ".join(
                f"{self._label(i)} {p:.3f}" for i, p in sorted(enumerate(row["probabilities"]), key=lambda x: -x[1])
            )
            verdict = "wrong" if wrong else "right"
            return f"{row['text']}\nlabel {self._label(row['label'])}, answer {self._label(row['predicted'])} " \
                   f"({verdict})\n{probabilities}"
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (0, 4):
            return int(Qt.AlignmentFlag.AlignCenter)
        return None


class ExamplesView(QWidget):
    """The table (``examplesView``), a summary line and the "wrong only" switch."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("examplesPanel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.summary = QLabel(self)
        self.summary.setObjectName("examplesSummary")
        self.summary.setWordWrap(True)
        top.addWidget(self.summary, 1)
        self.wrongOnlyCheck = QCheckBox("wrong only", self)
        self.wrongOnlyCheck.setObjectName("wrongOnlyCheck")
        self.wrongOnlyCheck.setToolTip("Show only the examples the network labels wrong now.")
        top.addWidget(self.wrongOnlyCheck)
        layout.addLayout(top)
        self.model = ExamplesModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("examplesView")
        self.table.setModel(self.model)
        self.table.setAlternatingRowColors(False)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        self.table.setToolTip(explanation_tip(EXPLANATION))
        layout.addWidget(self.table, 1)
        self.wrongOnlyCheck.toggled.connect(self.model.set_wrong_only)
        self._pending: dict | None = None
        self.redraws = 0
        self.clear_reading()

    def explanation(self) -> str:
        return EXPLANATION

    def clear_reading(self) -> None:
        self._pending = None
        self.model.set_predictions([], [])
        self.summary.setText(f"<span style='color:{GREY}'>Press Train: every example and the network's answer "
                             "appear here, wrong ones in red.</span>")

    def show_predictions(self, data: dict) -> None:
        self._pending = data

    def redraw(self) -> bool:
        data, self._pending = self._pending, None
        if data is None or data.get("kind") != "classify":
            return False
        rows = data.get("examples", [])
        self.model.set_predictions(data.get("labels", []), rows)
        parts = []
        for split, name in (("train", "training"), ("valid", "validation")):
            chosen = [r for r in rows if r["split"] == split]
            if chosen:
                wrong = sum(r["label"] != r["predicted"] for r in chosen)
                parts.append(f"{name}: <b>{wrong:,}</b> of {len(chosen):,} wrong")
        epoch = data.get("epoch")
        when = f"<b>Epoch {epoch}:</b> " if epoch is not None else ""
        self.summary.setText(when + " · ".join(parts))
        self.redraws += 1
        return True

    def wrong_rows(self) -> list[dict]:
        """The examples the network labels wrong now (tests, scripts)."""
        return [r for r in self.model.rows if r["label"] != r["predicted"]]
