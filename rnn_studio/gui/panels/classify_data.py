"""The classify task's data: typed labelled lines, or a .csv/.tsv file.

Seed 002's sentence classifier learns one label per text. The examples are
typed one per line as ``label: text`` (``positive: what a great film``), or
come from a UTF-8 file whose header row names the columns ``text`` and
``label`` (comma-separated ``.csv``, tab-separated ``.tsv``): the rules and
messages of ``rnn-studio train --task classify --data``, read by the core's
torch-free ``core.labelled``. The presets load the shipped
``assets/sentiment.csv`` (800 film reviews where word order matters), whole
as a data file or a few dozen of its lines typed into the box.

The page counts what the network will see: examples, classes, the split the
core draws (``labelled.split_indices``, the same seeded draw) and the
vocabulary of the training part, so the parameter count is exact before
torch has loaded. Counting waits for typing to pause, like the sentences'.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.config import MAX_SENTENCES_CHARS
from ...core.errors import DataError
from ...core.labelled import TokenVocabulary, parse_examples, read_labelled_file, split_indices
from .common import GREY, tooltip

ANALYSE_DELAY_MS = 300
TYPED_PRESET_LINES = 48
PREVIEW_ROWS = 200
MAX_COUNTED_EXAMPLES = 200_000  # beyond this the vocabulary is counted by the run itself
EXAMPLE_PLACEHOLDER = "One example per line, label first:\npositive: what a great film\nnegative: not good at all"


def shipped_data_file() -> str | None:
    """assets/sentiment.csv where this installation has it (a source checkout)."""
    path = Path(__file__).resolve().parents[3] / "assets" / "sentiment.csv"
    return str(path) if path.is_file() else None


def typed_preset_lines(path: str, count: int = TYPED_PRESET_LINES) -> str:
    """The first ``count`` examples of a labelled file as typed lines, the classes taking turns."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = [(r["label"].strip(), r["text"].strip()) for r in csv.DictReader(fh)]
    by_label: dict[str, list[str]] = {}
    for label, text in rows:
        by_label.setdefault(label, []).append(text)
    lines, i = [], 0
    while len(lines) < count and any(i < len(v) for v in by_label.values()):
        for label in sorted(by_label):
            if i < len(by_label[label]) and len(lines) < count:
                lines.append(f"{label}: {by_label[label][i]}")
        i += 1
    return "\n".join(lines)


class ClassifyDataPage(QWidget):
    """Typed labelled lines or a data file, the token level, and what they hold."""

    changed = Signal()  # anything that defines the data
    analysed = Signal()  # counts recomputed
    presetLoaded = Signal(str)  # what the example shows

    def __init__(self, parent=None, *, make_editor=None):
        super().__init__(parent)
        self.setObjectName("classifyDataPage")
        self._data_file: str | None = None
        self._file_examples: list[tuple[str, str]] | None = None
        self._file_error: str | None = None
        self._split = (0.2, 0)
        self._max_vocab = 10_000
        self._vocab_size = 0
        self._classes = 0
        self._dirty = True
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

        self.classifyPresetCombo = QComboBox(self)
        self.classifyPresetCombo.setObjectName("classifyPresetCombo")
        self.classifyPresetCombo.addItem("Load example data…", None)
        shipped = shipped_data_file()
        self.classifyPresetCombo.addItem("Film reviews: all 800 (assets/sentiment.csv)", "file")
        self.classifyPresetCombo.addItem(f"Film reviews: {TYPED_PRESET_LINES} typed lines", "typed")
        for index, tip in ((1, "800 short film reviews written for this project, where word order matters: "
                               "'not good', 'not bad at all', 'dull at first but wonderful in the end'. A bag of "
                               "words gets half of them right; a recurrent network nearly all."),
                           (2, f"The first {TYPED_PRESET_LINES} reviews of assets/sentiment.csv typed into the box, "
                               "so you can read and edit them. Too few to learn negation well: watch the "
                               "validation accuracy.")):
            self.classifyPresetCombo.setItemData(index, tip, Qt.ItemDataRole.ToolTipRole)
            if shipped is None:
                self.classifyPresetCombo.model().item(index).setEnabled(False)
        tooltip(self.classifyPresetCombo, "Load the film-review data set shipped with RNN Studio, whole or a few "
                "dozen lines of it (Ctrl+Z in the box brings your own lines back).")
        layout.addWidget(self.classifyPresetCombo)

        buttons = QHBoxLayout()
        self.openDataButton = QPushButton("Open data file…", self)
        self.openDataButton.setObjectName("openDataButton")
        tooltip(self.openDataButton, "Train on a .csv or .tsv file (UTF-8, up to 50 MiB) whose first line names the "
                "columns text and label; one example per row.")
        buttons.addWidget(self.openDataButton)
        self.typeExamplesButton = QPushButton("Type examples", self)
        self.typeExamplesButton.setObjectName("typeExamplesButton")
        tooltip(self.typeExamplesButton, "Train on the examples typed in the box instead of the data file.")
        buttons.addWidget(self.typeExamplesButton)
        buttons.addStretch(1)
        layout.addLayout(buttons)

        self.dataStack = QStackedWidget(self)
        editor = make_editor(self) if make_editor is not None else QPlainTextEdit(self)
        self.examplesEdit = editor
        self.examplesEdit.setObjectName("examplesEdit")
        self.examplesEdit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.examplesEdit.setPlaceholderText(EXAMPLE_PLACEHOLDER)
        mono = QFont("DejaVu Sans Mono")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setPointSize(11)
        self.examplesEdit.setFont(mono)
        self.examplesEdit.setMinimumHeight(90)
        tooltip(self.examplesEdit, "The labelled examples, one per line: the label, a colon, then the text "
                f"(positive: what a great film). At least two labels; at most {MAX_SENTENCES_CHARS:,} "
                "characters (a larger data set belongs in a .csv file).")
        self.dataStack.addWidget(self.examplesEdit)
        self.dataPreview = QPlainTextEdit(self)
        self.dataPreview.setObjectName("dataPreview")
        self.dataPreview.setReadOnly(True)
        self.dataPreview.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        small = QFont(mono)
        small.setPointSize(10)
        self.dataPreview.setFont(small)
        tooltip(self.dataPreview, f"The data file's first {PREVIEW_ROWS} examples as label: text (the file itself "
                "is not changed).")
        self.dataStack.addWidget(self.dataPreview)
        layout.addWidget(self.dataStack, 1)

        self.dataInfo = QLabel(self)
        self.dataInfo.setObjectName("dataInfo")
        self.dataInfo.setWordWrap(True)
        layout.addWidget(self.dataInfo)

        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.levelCombo = QComboBox(self)
        self.levelCombo.setObjectName("levelCombo")
        self.levelCombo.addItem("Words", "word")
        self.levelCombo.addItem("Characters", "char")
        tooltip(self.levelCombo, "What one token is: a word (seed 002: lower-cased, split on spaces) or a single "
                "character. Words never seen in training are read as 'unknown'.")
        form.addRow("Tokens", self.levelCombo)
        layout.addLayout(form)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(ANALYSE_DELAY_MS)
        self._timer.timeout.connect(self.analyse)
        self.classifyPresetCombo.currentIndexChanged.connect(self._preset_chosen)
        self.typeExamplesButton.clicked.connect(self.use_typed)
        self.examplesEdit.textChanged.connect(self._typed_changed)
        self.levelCombo.currentIndexChanged.connect(self._level_changed)
        self.run_widgets = [self.classifyPresetCombo, self.openDataButton, self.typeExamplesButton,
                            self.examplesEdit, self.levelCombo]
        if shipped is not None:
            self.set_data_file(shipped)
        else:
            self.use_typed()

    # -- values ---------------------------------------------------------------------
    @property
    def data_file(self) -> str | None:
        """The data file trained on, or None for the typed lines."""
        return self._data_file

    @property
    def level(self) -> str:
        return self.levelCombo.currentData() or "word"

    def set_level(self, level: str) -> None:
        index = self.levelCombo.findData(level)
        if index >= 0:
            self.levelCombo.setCurrentIndex(index)

    def examples_text(self) -> str:
        raw = self.examplesEdit.document().toRawText()
        return raw.replace("\u2029", "\n").replace("\u2028", "\n")

    def examples(self) -> list[str]:
        """The typed lines as the core takes them (``TaskConfig.examples``)."""
        return self.examples_text().replace("\r", "").split("\n")

    def vocab_size(self) -> int:
        if self._dirty:
            self.analyse()
        return self._vocab_size

    def num_classes(self) -> int:
        if self._dirty:
            self.analyse()
        return self._classes

    def set_split(self, fraction: float, seed: int, max_vocab: int = 10_000) -> None:
        """The held-out fraction and seed the core will draw the split with."""
        if (fraction, seed, max_vocab) != (*self._split, self._max_vocab):
            self._split, self._max_vocab = (fraction, seed), max_vocab
            self._dirty = True
            self._timer.start()

    # -- sources ----------------------------------------------------------------------
    def set_data_file(self, path: str) -> None:
        """Train on ``path``; DataError (nothing changes) when it cannot be used."""
        examples, _digest = read_labelled_file(path)
        self._data_file = os.path.abspath(path)
        self._file_examples, self._file_error = examples, None
        self.dataPreview.setPlainText("\n".join(f"{label}: {text}" for text, label in examples[:PREVIEW_ROWS])
                                      + (f"\n… and {len(examples) - PREVIEW_ROWS:,} more" if len(examples) > PREVIEW_ROWS else ""))
        self.dataStack.setCurrentIndex(1)
        self.typeExamplesButton.setEnabled(True)
        self._dirty = True
        self.analyse()
        self.changed.emit()

    def set_missing_file(self, path: str, why: str) -> None:
        """A file an opened model names that cannot be used now: show it and why."""
        self._data_file = path
        self._file_examples, self._file_error = None, why
        self.dataPreview.clear()
        self.dataStack.setCurrentIndex(1)
        self._dirty = True
        self.analyse()
        self.changed.emit()

    def use_typed(self) -> None:
        self._data_file = None
        self._file_examples = self._file_error = None
        self.dataStack.setCurrentIndex(0)
        self._dirty = True
        self.analyse()
        self.changed.emit()

    # -- reactions --------------------------------------------------------------------
    def _preset_chosen(self, index: int) -> None:
        kind = self.classifyPresetCombo.itemData(index)
        if kind is None:
            return
        self.classifyPresetCombo.setCurrentIndex(0)  # a menu: it always reads "Load example data…"
        shipped = shipped_data_file()
        if shipped is None:
            return
        if kind == "file":
            self.set_data_file(shipped)
            self.presetLoaded.emit(
                "800 film reviews from assets/sentiment.csv, written so that word order matters ('not good', "
                "'dull at first but wonderful in the end'). Press Train: the validation accuracy climbs to nearly 1."
            )
        else:
            replace = getattr(self.examplesEdit, "replace_all", self.examplesEdit.setPlainText)
            replace(typed_preset_lines(shipped))  # one undoable edit in the panel's editor
            self.use_typed()
            self.presetLoaded.emit(
                f"The first {TYPED_PRESET_LINES} film reviews, typed into the box: edit them, add your own. With so "
                "few examples the validation accuracy stays well below the training accuracy."
            )

    def _typed_changed(self) -> None:
        if self._data_file is None:
            self._dirty = True
            self._timer.start()
            self.changed.emit()

    def _level_changed(self, *_args) -> None:
        self._dirty = True
        self._timer.start()
        self.changed.emit()

    def analyse(self) -> None:
        """Examples, classes, the split and the training vocabulary."""
        self._timer.stop()
        self._dirty = False
        self._vocab_size = self._classes = 0
        if self._data_file is not None:
            name = os.path.basename(self._data_file)
            if self._file_examples is None:
                self.dataInfo.setText(f"<b>{name}</b>: <span style='color:#b71c1c'>{self._file_error}</span>")
                self.dataInfo.setToolTip(self._data_file)
                self.analysed.emit()
                return
            examples, where = self._file_examples, f"<b>{name}</b>: "
        else:
            if len(self.examples_text()) > MAX_SENTENCES_CHARS:
                self.dataInfo.setText(f"<b>The examples hold more than {MAX_SENTENCES_CHARS:,} characters: put a "
                                      "larger data set in a .csv file.</b>")
                self.analysed.emit()
                return
            try:
                examples = parse_examples(self.examples())
            except DataError as exc:
                message = str(exc)
                self.dataInfo.setText(f"<b>{message[0].upper()}{message[1:]}.</b>")
                self.dataInfo.setToolTip("")
                self.analysed.emit()
                return
            where = ""
        counts = Counter(label for _, label in examples)
        self._classes = len(counts)
        fraction, seed = self._split
        split = ""
        try:
            train, valid = split_indices(len(examples), fraction, seed, "examples")
        except DataError as exc:
            train, valid = list(range(len(examples))), []
            split = f" · <b>{exc}</b>"
        else:
            if len(valid):
                split = f" · {len(train):,} to train on, {len(valid):,} held out"
        tokens = "words" if self.level == "word" else "characters"
        vocab = ""
        if len(examples) <= MAX_COUNTED_EXAMPLES:
            self._vocab_size = len(TokenVocabulary.from_texts([examples[i][0] for i in train], self._max_vocab,
                                                              self.level))
            vocab = f" · {self._vocab_size - 2:,} different {tokens} learnt"
        classes = ", ".join(f"{label} {n:,}" for label, n in sorted(counts.items())[:6])
        more = " …" if len(counts) > 6 else ""
        self.dataInfo.setText(f"{where}{len(examples):,} examples · {len(counts)} classes ({classes}{more}){split}"
                              f"<span style='color:{GREY}'>{vocab}</span>")
        self.dataInfo.setToolTip(
            (f"{self._data_file}\n" if self._data_file else "")
            + f"The network learns the {tokens} of the training part (index 0 pads, 1 stands for any token never "
            "seen in training, as seed 002's TextPreprocessor)."
        )
        self.analysed.emit()
