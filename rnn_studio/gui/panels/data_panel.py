"""The data panel: what the network learns from.

Text: one sentence per line, as in seeds 000/001, with presets. Sine: seed
002's random-phase windows (next value) or seed 003's single sequence.

The sentence editor refuses to grow past ``MAX_SENTENCES_CHARS`` when text is
pasted or set (it keeps what fits and says so), and everything derived from
the text (line count, vocabulary size) is recomputed on a debounce timer, never
per keystroke, so a 10 MB paste cannot freeze the window.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPlainTextEdit,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.config import MAX_SENTENCES_CHARS, MAX_SINE_WINDOWS, MAX_WINDOW, SEED_SENTENCES
from ...core.text import UNKNOWN
from .common import tooltip

ANALYSE_DELAY_MS = 300

# (name, sentences, what it shows)
PRESETS: list[tuple[str, tuple[str, ...], str]] = [
    (
        "Seed tutorial: three short sentences",
        SEED_SENTENCES,
        "The seed tutorial's three sentences: 100 epochs of a small RNN learn them by heart.",
    ),
    (
        "Long memory: the ending depends on the first word",
        ("cat: it sat on the mat and said meow", "dog: it sat on the mat and said woof"),
        "The last word depends on the first, 30 letters earlier. The seed's RNN (hidden 12, 300 epochs) "
        "mixes them up; an LSTM with hidden size 32 gets both right. Try the prompts 'cat' and 'dog' "
        "with length 36.",
    ),
    (
        "Ambiguous: the same start, different endings",
        ("i like tea", "i like toast", "i like trains"),
        "After 'i like t' three letters can follow: the loss cannot reach zero, and the completion "
        "picks the most likely one.",
    ),
    (
        "Tongue twisters: more letters to learn",
        (
            "she sells sea shells by the sea shore",
            "peter piper picked a peck of pickled peppers",
            "how much wood would a woodchuck chuck",
        ),
        "Longer sentences with many repeated letters: a bigger hidden size (32) and more epochs help.",
    ),
]


class SentencesEdit(QPlainTextEdit):
    """A plain-text editor that never holds more than ``max_chars`` characters
    from a paste, a drop or a programmatic set."""

    limitExceeded = Signal(int)  # how many characters were offered

    def __init__(self, max_chars: int = MAX_SENTENCES_CHARS, parent=None):
        super().__init__(parent)
        self.max_chars = max_chars

    def length(self) -> int:
        return max(0, self.document().characterCount() - 1)

    def _room(self) -> int:
        selected = len(self.textCursor().selectedText())
        return max(0, self.max_chars - (self.length() - selected))

    def _fit(self, text: str, room: int) -> str:
        if len(text) <= room:
            return text
        self.limitExceeded.emit(len(text))
        return text[:room]

    def insertFromMimeData(self, source: QMimeData) -> None:  # paste and drop
        if source is None or not source.hasText():
            return super().insertFromMimeData(source)
        text = self._fit(source.text(), self._room())
        if text:
            self.textCursor().insertText(text)
            self.ensureCursorVisible()

    def setPlainText(self, text: str) -> None:
        super().setPlainText(self._fit(text or "", self.max_chars))

    def insertPlainText(self, text: str) -> None:
        super().insertPlainText(self._fit(text or "", self._room()))

    def replace_all(self, text: str) -> None:
        """Replace the whole text as one undoable edit (presets use this)."""
        text = self._fit(text, self.max_chars)
        cursor = self.textCursor()
        cursor.beginEditBlock()
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.insertText(text)
        cursor.endEditBlock()
        self.setTextCursor(cursor)


class DataPanel(QGroupBox):
    """Task selector and the task's data settings."""

    changed = Signal()  # anything that defines the data
    analysed = Signal()  # vocabulary size / line count recomputed
    limitMessage = Signal(str)
    presetLoaded = Signal(str)  # what the example shows

    def __init__(self, parent=None):
        super().__init__("Data", parent)
        self.setObjectName("dataPanel")
        self._vocab_size = 0
        self._line_count = 0
        self._char_count = 0
        self._dirty = True
        layout = QVBoxLayout(self)

        form = QFormLayout()
        self.taskCombo = QComboBox(self)
        self.taskCombo.setObjectName("taskCombo")
        self.taskCombo.addItem("Text: predict the next character", "text")
        self.taskCombo.addItem("Sine wave: predict the next value", "sine")
        tooltip(
            self.taskCombo,
            "What the network learns: to continue your sentences letter by letter, "
            "or to continue a sine wave. Switching loads that task's recommended settings.",
        )
        form.addRow("Task", self.taskCombo)
        layout.addLayout(form)

        self.stack = QStackedWidget(self)
        layout.addWidget(self.stack, 1)

        # -- text page
        text_page = QWidget(self)
        text_layout = QVBoxLayout(text_page)
        text_layout.setContentsMargins(0, 0, 0, 0)
        self.presetCombo = QComboBox(text_page)
        self.presetCombo.setObjectName("presetCombo")
        self.presetCombo.addItem("Load example sentences…", None)
        for index, (name, _sentences, explanation) in enumerate(PRESETS):
            self.presetCombo.addItem(name, index)
            self.presetCombo.setItemData(index + 1, explanation, Qt.ItemDataRole.ToolTipRole)
        tooltip(self.presetCombo, "Replace the sentences with an example set (Ctrl+Z brings yours back).")
        text_layout.addWidget(self.presetCombo)
        self.sentencesEdit = SentencesEdit(MAX_SENTENCES_CHARS, text_page)
        self.sentencesEdit.setObjectName("sentencesEdit")
        self.sentencesEdit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.sentencesEdit.setPlaceholderText("Type one sentence per line")
        mono = QFont("DejaVu Sans Mono")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setPointSize(12)
        self.sentencesEdit.setFont(mono)
        self.sentencesEdit.setMinimumHeight(90)
        tooltip(
            self.sentencesEdit,
            "The training text: one sentence per line. The network learns to "
            f"guess each next letter. At most {MAX_SENTENCES_CHARS:,} characters.",
        )
        text_layout.addWidget(self.sentencesEdit, 1)
        self.sentencesInfo = QLabel(text_page)
        self.sentencesInfo.setObjectName("sentencesInfo")
        self.sentencesInfo.setWordWrap(True)
        text_layout.addWidget(self.sentencesInfo)
        self.stack.addWidget(text_page)

        # -- sine page
        sine_page = QWidget(self)
        sine_form = QFormLayout(sine_page)
        sine_form.setContentsMargins(0, 0, 0, 0)
        self.sineModeCombo = QComboBox(sine_page)
        self.sineModeCombo.setObjectName("sineModeCombo")
        self.sineModeCombo.addItem("Next value after a window", "next-value")
        self.sineModeCombo.addItem("Whole sequence, one step ahead", "sequence")
        tooltip(
            self.sineModeCombo,
            "Next value: see 20 points of a wave, guess the 21st (seed 002). "
            "Sequence: guess every next point of one wave (seed 003).",
        )
        sine_form.addRow("Mode", self.sineModeCombo)
        self.sineWindowsSpin = QSpinBox(sine_page)
        self.sineWindowsSpin.setObjectName("sineWindowsSpin")
        self.sineWindowsSpin.setRange(1, MAX_SINE_WINDOWS)
        self.sineWindowsSpin.setValue(1000)
        tooltip(
            self.sineWindowsSpin,
            f"How many pieces of wave (each starting somewhere else) the network "
            f"trains on in each epoch (1 to {MAX_SINE_WINDOWS:,}).",
        )
        sine_form.addRow("Windows", self.sineWindowsSpin)
        self.sineLengthSpin = QSpinBox(sine_page)
        self.sineLengthSpin.setObjectName("sineLengthSpin")
        self.sineLengthSpin.setRange(2, MAX_WINDOW)
        self.sineLengthSpin.setValue(20)
        tooltip(
            self.sineLengthSpin,
            f"How many points of the wave the network sees at a time (2 to {MAX_WINDOW}); "
            "one full period is always this many points.",
        )
        sine_form.addRow("Window length", self.sineLengthSpin)
        self.sineNoiseSpin = QDoubleSpinBox(sine_page)
        self.sineNoiseSpin.setObjectName("sineNoiseSpin")
        self.sineNoiseSpin.setRange(0.0, 10.0)
        self.sineNoiseSpin.setDecimals(2)
        self.sineNoiseSpin.setSingleStep(0.05)
        tooltip(self.sineNoiseSpin, "Random jitter added to every point (0 = a perfect wave, up to 10).")
        sine_form.addRow("Noise", self.sineNoiseSpin)
        self.stack.addWidget(sine_page)

        self.run_widgets = [
            self.taskCombo,
            self.presetCombo,
            self.sentencesEdit,
            self.sineModeCombo,
            self.sineWindowsSpin,
            self.sineLengthSpin,
            self.sineNoiseSpin,
        ]

        self._analyse_timer = QTimer(self)
        self._analyse_timer.setSingleShot(True)
        self._analyse_timer.setInterval(ANALYSE_DELAY_MS)
        self._analyse_timer.timeout.connect(self.analyse)

        self.taskCombo.currentIndexChanged.connect(self._task_index_changed)
        self.presetCombo.currentIndexChanged.connect(self._preset_activated)
        self.sentencesEdit.textChanged.connect(self._text_changed)
        self.sentencesEdit.limitExceeded.connect(self._limit_exceeded)
        for spin in (self.sineWindowsSpin, self.sineLengthSpin):
            spin.valueChanged.connect(self.changed)
        self.sineNoiseSpin.valueChanged.connect(self.changed)
        self.sineModeCombo.currentIndexChanged.connect(self.changed)
        self.sentencesEdit.setPlainText("\n".join(SEED_SENTENCES))
        self.analyse()

    # -- values ---------------------------------------------------------------------
    @property
    def task(self) -> str:
        return self.taskCombo.currentData() or "text"

    @property
    def sine_mode(self) -> str:
        return self.sineModeCombo.currentData() or "next-value"

    def sentences_text(self) -> str:
        return self.sentencesEdit.toPlainText()

    def set_task(self, task: str) -> None:
        index = self.taskCombo.findData(task)
        if index >= 0:
            self.taskCombo.setCurrentIndex(index)

    def set_sine_mode(self, mode: str) -> None:
        index = self.sineModeCombo.findData(mode)
        if index >= 0:
            self.sineModeCombo.setCurrentIndex(index)

    def vocab_size(self) -> int:
        """Characters the network will see, plus the 'unknown' slot."""
        if self._dirty:
            self.analyse()
        return self._vocab_size

    # -- reactions --------------------------------------------------------------------
    def _task_index_changed(self, _index: int) -> None:
        self.stack.setCurrentIndex(0 if self.task == "text" else 1)
        self.changed.emit()

    def _preset_activated(self, index: int) -> None:
        preset = self.presetCombo.itemData(index)
        if preset is None:
            return
        self.presetCombo.setCurrentIndex(0)  # the combo is a menu: it always reads "Load example…"
        self.sentencesEdit.replace_all("\n".join(PRESETS[preset][1]))
        self.sentencesEdit.setFocus()
        self.presetLoaded.emit(PRESETS[preset][2])

    def _text_changed(self) -> None:
        self._dirty = True
        self._analyse_timer.start()
        self.changed.emit()

    def _limit_exceeded(self, offered: int) -> None:
        self.limitMessage.emit(
            f"That text has {offered:,} characters; the sentence box holds at most {MAX_SENTENCES_CHARS:,}, "
            "so only the first part was kept. To train on a whole book, use 'rnn-studio train --text-file'."
        )

    def analyse(self) -> None:
        """Line count and vocabulary size (debounced: runs after typing pauses)."""
        self._analyse_timer.stop()
        self._dirty = False
        length = self.sentencesEdit.length()
        if length > MAX_SENTENCES_CHARS:  # only reachable by typing past the limit
            self._char_count = length
            self.sentencesInfo.setText(f"<b>{length:,} characters: the limit is {MAX_SENTENCES_CHARS:,}.</b>")
            self.analysed.emit()
            return
        text = self.sentencesEdit.toPlainText().replace("\r", "")
        lines = [line for line in text.split("\n") if line.strip()]
        chars = set()
        for line in lines:
            chars.update(line)
        if lines and min(len(line) for line in lines) < max(len(line) for line in lines):
            chars.add(" ")  # shorter sentences are padded with spaces, and the padding is learned too
        chars.discard(UNKNOWN)
        self._line_count = len(lines)
        self._char_count = sum(len(line) for line in lines)
        self._vocab_size = len(chars) + 1
        if not lines:
            self.sentencesInfo.setText("<b>No sentences yet: type at least one.</b>")
        else:
            word = "sentence" if len(lines) == 1 else "sentences"
            self.sentencesInfo.setText(f"{len(lines):,} {word} · {len(chars)} different characters")
        self.analysed.emit()
