"""The data panel: what the network learns from.

Text: one sentence per line, as in seeds 000/001, with presets, or a whole
text file ("Open text file…", ``text_file.TextFileBox``). Sine: seed 002's
random-phase windows (next value) or seed 003's single sequence. Classify:
labelled lines or a .csv/.tsv file (``classify_data.ClassifyDataPage``).
Every task: the fraction held out for validation (``validSpin``, 0 = off).

The sentence editor refuses to grow past ``MAX_SENTENCES_CHARS`` when text is
pasted or set (it keeps what fits and says so), and cuts any line longer than
``MAX_SENTENCE_CHARS`` (the longest sentence the core trains on): Qt lays out a
paragraph as one piece, so a single 1 MB line stalled the window for most of a
second on every paste and keystroke. Everything derived from the text (line
count, vocabulary size) is recomputed on a debounce timer, never per
keystroke, so a 10 MB paste cannot freeze the window.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QMimeData, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ...core.config import (
    AUTO_CLASSIFY_FRACTION,
    AUTO_TEXT_FILE_FRACTION,
    MAX_SENTENCES_CHARS,
    MAX_SINE_WINDOWS,
    MAX_VALID_FRACTION,
    MAX_WINDOW,
    SEED_SENTENCES,
)
from ...core.text import UNKNOWN
from .classify_data import ClassifyDataPage
from .common import tooltip
from .text_file import TextFileBox, TextFileInfo

try:  # the core refuses longer sentences with a DataError
    from ...core.text import MAX_SENTENCE_CHARS
except ImportError:  # a core from before that limit: the same number
    MAX_SENTENCE_CHARS = 5_000

# What Qt starts a new paragraph at (toPlainText gives each back as "\n").
_LINE_BREAK = re.compile(r"(\r\n|[\r\n\u2029])")

ANALYSE_DELAY_MS = 300
TASK_PAGES = {"text": 0, "sine": 1, "classify": 2}
VALID_TIP = (
    "Hold this fraction of the data out of training and measure the network on it after every epoch: the "
    "second curve in the loss plot. Training loss that keeps falling while the validation loss turns up is "
    "overfitting. 0 = off. Each task starts with the core's default: none for typed sentences and the sine "
    "wave, the last 10% of a text file of 10,000+ characters, 20% of a classifier's examples."
)

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


def _utf16_prefix(text: str, units: int) -> str:
    """The start of ``text`` that spans ``units`` UTF-16 code units (Qt's positions)."""
    return text.encode("utf-16-le")[: 2 * units].decode("utf-16-le", errors="ignore")


def cut_long_lines(text: str, limit: int, before: int = 0, after: int = 0) -> tuple[str, int]:
    """Cut every line of ``text`` to at most ``limit`` characters; ``before``
    and ``after`` are the characters already on the line where the first and
    the last line land. Returns (text, the longest line offered, or 0 when
    nothing was cut)."""
    if len(text) + before + after <= limit:
        return text, 0
    parts = _LINE_BREAK.split(text)  # lines at even indices, their breaks at odd ones
    last = len(parts) - 1
    longest = 0
    for i in range(0, len(parts), 2):
        line = parts[i]
        extra = (before if i == 0 else 0) + (after if i == last else 0)
        if len(line) + extra > limit:
            longest = max(longest, len(line) + extra)
            parts[i] = line[: max(0, limit - extra)]
    return ("".join(parts), longest) if longest else (text, 0)


class SentencesEdit(QPlainTextEdit):
    """A plain-text editor that never holds more than ``max_chars`` characters,
    nor a line longer than ``max_line_chars``, from a paste, a drop or a
    programmatic set. (Typing past the line limit is allowed: a keystroke at
    a time costs nothing, and the panel and the core say what is wrong.)"""

    limitExceeded = Signal(int)  # the whole text was cut: how many characters were offered
    # anything was cut: (characters offered when the whole text was cut, else 0;
    # the longest line offered when a line was cut, else 0)
    limitsExceeded = Signal(int, int)

    def __init__(self, max_chars: int = MAX_SENTENCES_CHARS, parent=None, *,
                 max_line_chars: int = MAX_SENTENCE_CHARS):
        super().__init__(parent)
        self.max_chars = max_chars
        self.max_line_chars = max_line_chars

    def length(self) -> int:
        return max(0, self.document().characterCount() - 1)

    def _room(self) -> int:
        selected = len(self.textCursor().selectedText())
        return max(0, self.max_chars - (self.length() - selected))

    def _around_cursor(self) -> tuple[int, int]:
        """Characters before the selection on its first line and after it on its last."""
        cursor, doc = self.textCursor(), self.document()
        start, end = cursor.selectionStart(), cursor.selectionEnd()
        first, last = doc.findBlock(start), doc.findBlock(end)
        before = len(_utf16_prefix(first.text(), start - first.position()))
        last_text = last.text()
        after = len(last_text) - len(_utf16_prefix(last_text, end - last.position()))
        return before, after

    def _fit(self, text: str, room: int, before: int = 0, after: int = 0) -> str:
        """What of ``text`` fits in ``room`` characters with no line too long;
        says what was cut with ``limitsExceeded`` (and ``limitExceeded``)."""
        offered = len(text)
        whole_cut = offered > room
        longest = 0
        if whole_cut:
            # the line the cut runs through counts at the length it was offered
            start = max(text.rfind("\n", 0, room), text.rfind("\r", 0, room), text.rfind("\u2029", 0, room)) + 1
            found = _LINE_BREAK.search(text, room)
            line = (found.start() if found else offered) - start + (before if start == 0 else 0)
            if line > self.max_line_chars:
                longest = line
            text = text[:room]
        text, longest_kept = cut_long_lines(text, self.max_line_chars, before, after)
        longest = max(longest, longest_kept)
        if whole_cut or longest:
            self.limitsExceeded.emit(offered if whole_cut else 0, longest)
            if whole_cut:
                self.limitExceeded.emit(offered)
        return text

    def insertFromMimeData(self, source: QMimeData) -> None:  # paste and drop
        if source is None or not source.hasText():
            return super().insertFromMimeData(source)
        text = self._fit(source.text(), self._room(), *self._around_cursor())
        if text:
            self.textCursor().insertText(text)
            self.ensureCursorVisible()

    def setPlainText(self, text: str) -> None:
        super().setPlainText(self._fit(text or "", self.max_chars))

    def insertPlainText(self, text: str) -> None:
        super().insertPlainText(self._fit(text or "", self._room(), *self._around_cursor()))

    def replace_all(self, text: str) -> None:
        """Replace the whole text as one undoable edit (presets use this)."""
        text = self._fit(text, self.max_chars)
        cursor = self.textCursor()
        cursor.beginEditBlock()
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.insertText(text)
        cursor.endEditBlock()
        self.setTextCursor(cursor)


def vocabulary_tip(characters: int) -> str:
    """Why the network chooses among one more than the characters typed (the
    loss plot's uniform-guess line is ln of that number)."""
    slots = characters + 1
    return (
        f"The network learns {characters} different characters from these sentences, and keeps one more "
        f"slot for any character it never saw in training (a prompt may contain one): {slots} in all. "
        f"A network that guesses at random is right 1 time in {slots}, which is why the loss plot's "
        f"'uniform guess' line sits at ln {slots}."
    )


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
        self._dirty = True
        self.valid_is_default = True  # the spin shows the task's default: the run gets the core's AUTO
        self._setting_valid = False
        layout = QVBoxLayout(self)

        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # a narrow panel puts fields under their labels
        self.taskCombo = QComboBox(self)
        self.taskCombo.setObjectName("taskCombo")
        self.taskCombo.addItem("Text: predict the next character", "text")
        self.taskCombo.addItem("Sine wave: predict the next value", "sine")
        self.taskCombo.addItem("Classify sentences", "classify")
        tooltip(
            self.taskCombo,
            "What the network learns: to continue your sentences letter by letter, "
            "to continue a sine wave, or to give each sentence a label (positive or negative, say: "
            "seed 002's sentence classifier). Switching loads that task's recommended settings.",
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
        source_row = QHBoxLayout()
        source_row.addWidget(self.presetCombo, 1)
        self.openTextFileButton = QPushButton("Open text file…", text_page)
        self.openTextFileButton.setObjectName("openTextFileButton")
        tooltip(self.openTextFileButton, "Train on a whole text file instead of the sentences (a UTF-8 .txt file, "
                "up to 50 MiB: a book, song lyrics, code). The network reads it in windows, carrying its memory "
                "from one window to the next.")
        source_row.addWidget(self.openTextFileButton)
        text_layout.addLayout(source_row)
        self.textSourceStack = QStackedWidget(text_page)
        typed_page = QWidget(self.textSourceStack)
        typed_layout = QVBoxLayout(typed_page)
        typed_layout.setContentsMargins(0, 0, 0, 0)
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
            f"guess each next letter. At most {MAX_SENTENCES_CHARS:,} characters, "
            f"and {MAX_SENTENCE_CHARS:,} on one line.",
        )
        typed_layout.addWidget(self.sentencesEdit, 1)
        self.sentencesInfo = QLabel(text_page)
        self.sentencesInfo.setObjectName("sentencesInfo")
        self.sentencesInfo.setWordWrap(True)
        typed_layout.addWidget(self.sentencesInfo)
        self.textSourceStack.addWidget(typed_page)
        self.textFileBox = TextFileBox(self.textSourceStack)
        self.textSourceStack.addWidget(self.textFileBox)
        for name in ("textFileInfo", "textFilePreview", "windowSpin", "streamsSpin", "closeTextFileButton"):
            setattr(self, name, getattr(self.textFileBox, name))
        text_layout.addWidget(self.textSourceStack, 1)
        self.stack.addWidget(text_page)

        # -- sine page
        sine_page = QWidget(self)
        sine_form = QFormLayout(sine_page)
        sine_form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
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
            f"How many points of the wave the network sees at a time (2 to {MAX_WINDOW}). "
            "Next value: each window spans one full period, so more points sample it more finely. "
            "Sequence: the wave from x = 2 to x = 10 (about 1.3 periods) cut into this many steps.",
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

        # -- classify page
        self.classifyPage = ClassifyDataPage(
            self, make_editor=lambda parent: SentencesEdit(MAX_SENTENCES_CHARS, parent, max_line_chars=MAX_SENTENCE_CHARS)
        )
        for name in ("classifyPresetCombo", "examplesEdit", "openDataButton", "typeExamplesButton", "dataInfo",
                     "dataPreview", "levelCombo"):
            setattr(self, name, getattr(self.classifyPage, name))
        self.stack.addWidget(self.classifyPage)

        # -- every task: validation
        valid_form = QFormLayout()
        valid_form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.validSpin = QDoubleSpinBox(self)
        self.validSpin.setObjectName("validSpin")
        self.validSpin.setRange(0.0, MAX_VALID_FRACTION)
        self.validSpin.setDecimals(2)
        self.validSpin.setSingleStep(0.05)
        self.validSpin.setSpecialValueText("off")
        tooltip(self.validSpin, VALID_TIP)
        self._valid_label = QLabel("Validation", self)
        self._valid_label.setToolTip(VALID_TIP)
        valid_form.addRow(self._valid_label, self.validSpin)
        layout.addLayout(valid_form)

        self.run_widgets = [
            self.taskCombo,
            self.presetCombo,
            self.sentencesEdit,
            self.openTextFileButton,
            self.closeTextFileButton,
            self.windowSpin,
            self.streamsSpin,
            self.sineModeCombo,
            self.sineWindowsSpin,
            self.sineLengthSpin,
            self.sineNoiseSpin,
            *self.classifyPage.run_widgets,
            self.validSpin,
        ]

        self._analyse_timer = QTimer(self)
        self._analyse_timer.setSingleShot(True)
        self._analyse_timer.setInterval(ANALYSE_DELAY_MS)
        self._analyse_timer.timeout.connect(self.analyse)

        self.taskCombo.currentIndexChanged.connect(self._task_index_changed)
        self.presetCombo.currentIndexChanged.connect(self._preset_activated)
        self.sentencesEdit.textChanged.connect(self._text_changed)
        self.sentencesEdit.limitsExceeded.connect(self._limit_exceeded)
        for spin in (self.sineWindowsSpin, self.sineLengthSpin):
            spin.valueChanged.connect(self.changed)
        self.sineNoiseSpin.valueChanged.connect(self.changed)
        self.sineModeCombo.currentIndexChanged.connect(self.changed)
        self.textFileBox.changed.connect(self.changed)
        self.textFileBox.closeRequested.connect(self.close_text_file)
        self.classifyPage.changed.connect(self.changed)
        self.classifyPage.analysed.connect(self.analysed)
        self.classifyPage.presetLoaded.connect(self.presetLoaded)
        self.validSpin.valueChanged.connect(self._valid_changed)
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
        """What the user typed, exactly: toPlainText() turns a no-break space
        into a plain one; the raw text keeps it and marks line breaks U+2029."""
        raw = self.sentencesEdit.document().toRawText()
        return raw.replace("\u2029", "\n").replace("\u2028", "\n")

    @property
    def text_file(self) -> str | None:
        """The text file the text task trains on, or None for the typed sentences."""
        return self.textFileBox.path if self.textSourceStack.currentIndex() == 1 else None

    @property
    def text_file_info(self) -> TextFileInfo | None:
        return self.textFileBox.info if self.text_file else None

    def set_text_file(self, info: TextFileInfo) -> None:
        """Train the text task on this file (read by ``text_file.read_text_file_info``)."""
        self.textFileBox.set_file(info)
        self.textSourceStack.setCurrentIndex(1)
        if self.valid_is_default:
            self.set_valid()  # the tail of a long file is held out by default
        self.analysed.emit()

    def set_missing_text_file(self, path: str, why: str) -> None:
        self.textFileBox.set_missing(path, why)
        self.textSourceStack.setCurrentIndex(1)
        self.analysed.emit()

    def close_text_file(self) -> None:
        """Back to the typed sentences."""
        if self.textSourceStack.currentIndex() == 0:
            return
        self.textSourceStack.setCurrentIndex(0)
        self.textFileBox.clear()
        if self.valid_is_default:
            self.set_valid()
        self.changed.emit()
        self.analysed.emit()

    @property
    def valid_fraction(self) -> float:
        return float(self.validSpin.value())

    def default_valid_fraction(self) -> float:
        """The core's default held-out fraction for the data chosen now
        (``config.resolved_valid_fraction``)."""
        task = self.task
        if task == "classify":
            return AUTO_CLASSIFY_FRACTION
        if task == "text" and self.text_file:
            info = self.textFileBox.info
            return info.default_valid_fraction if info is not None else AUTO_TEXT_FILE_FRACTION
        return 0.0

    def set_valid(self, value: float | None = None) -> None:
        """Show the task's default (``value`` None: it follows the data, and the
        run gets the core's AUTO) or a value the user or a file chose."""
        self._setting_valid = True
        try:
            self.validSpin.setValue(self.default_valid_fraction() if value is None else value)
        finally:
            self._setting_valid = False
        self.valid_is_default = value is None
        self.textFileBox.set_valid_fraction(self.valid_fraction)

    def _valid_changed(self, value: float) -> None:
        if not self._setting_valid:
            self.valid_is_default = False  # the user's own choice from now on
        self.textFileBox.set_valid_fraction(value)
        self.changed.emit()

    def set_task(self, task: str) -> None:
        index = self.taskCombo.findData(task)
        if index >= 0:
            self.taskCombo.setCurrentIndex(index)

    def set_sine_mode(self, mode: str) -> None:
        index = self.sineModeCombo.findData(mode)
        if index >= 0:
            self.sineModeCombo.setCurrentIndex(index)

    def vocab_size(self) -> int:
        """Characters the network will see, plus the 'unknown' slot (of the
        text file when the text task is on one)."""
        if self.text_file:
            return self.textFileBox.vocab_size
        if self._dirty:
            self.analyse()
        return self._vocab_size

    # -- reactions --------------------------------------------------------------------
    def _task_index_changed(self, _index: int) -> None:
        self.stack.setCurrentIndex(TASK_PAGES.get(self.task, 0))
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

    def _limit_exceeded(self, offered: int, longest_line: int) -> None:
        book = "To train on a whole book, press Open text file… above."
        if offered and longest_line:
            text = (
                f"That text has {offered:,} characters, with a line of {longest_line:,}; the sentence box holds "
                f"at most {MAX_SENTENCES_CHARS:,} characters and {MAX_SENTENCE_CHARS:,} on one line, so only "
                f"the first part was kept and longer lines were cut. {book}"
            )
        elif offered:
            text = (
                f"That text has {offered:,} characters; the sentence box holds at most {MAX_SENTENCES_CHARS:,}, "
                f"so only the first part was kept. {book}"
            )
        else:
            text = (
                f"That text has a line of {longest_line:,} characters; a sentence holds at most "
                f"{MAX_SENTENCE_CHARS:,}, so longer lines were cut to that length. {book}"
            )
        self.limitMessage.emit(text)

    def analyse(self) -> None:
        """Line count and vocabulary size (debounced: runs after typing pauses)."""
        self._analyse_timer.stop()
        self._dirty = False
        length = self.sentencesEdit.length()
        if length > MAX_SENTENCES_CHARS:  # only reachable by typing past the limit
            self.sentencesInfo.setText(f"<b>{length:,} characters: the limit is {MAX_SENTENCES_CHARS:,}.</b>")
            self.analysed.emit()
            return
        text = self.sentences_text().replace("\r", "")
        lines = [line for line in text.split("\n") if line.strip()]
        chars = set()
        for line in lines:
            chars.update(line)
        if lines and min(len(line) for line in lines) < max(len(line) for line in lines):
            chars.add(" ")  # shorter sentences are padded with spaces, and the padding is learned too
        chars.discard(UNKNOWN)
        self._vocab_size = len(chars) + 1
        too_long = next((i for i, line in enumerate(lines) if len(line) > MAX_SENTENCE_CHARS), None)
        if not lines:
            self.sentencesInfo.setText("<b>No sentences yet: type at least one.</b>")
        elif too_long is not None:  # typed past the line limit
            self.sentencesInfo.setText(
                f"<b>Sentence {too_long + 1:,} has {len(lines[too_long]):,} characters: "
                f"the limit is {MAX_SENTENCE_CHARS:,}.</b>"
            )
        else:
            word = "sentence" if len(lines) == 1 else "sentences"
            self.sentencesInfo.setText(
                f"{len(lines):,} {word} · {len(chars)} different characters + 1 for unseen ones = "
                f"{self._vocab_size} to choose from"
            )
        self.sentencesInfo.setToolTip(vocabulary_tip(len(chars)) if lines else "")
        self.analysed.emit()
