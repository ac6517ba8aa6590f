"""The prompt box: let the network finish a sentence, or classify one.

Classify task (issue 9): the same box classifies what is typed, live: a
pause in typing (``CLASSIFY_DELAY_MS``) sends ``classifyRequested`` and the
answer (``core.events.Classified``) shows the label, every class's
probability as a bar, and the sentence as the network read it with the
words it never saw in training marked (it reads them as 'unknown'). Each
task keeps its own prompt ("good" for text, a review for classify).

Greedy as in seed 000 (temperature 0), or sampled with a temperature. The
``completionView`` holds exactly the completed text (prompt + generated, as the
core's ``Completion.text``); the prompt part is grey and the network's part
bold. Characters the network never saw are a warning under the view, not an
error: the network reads them as 'unknown' and still answers.

``lengthSpin`` counts the characters the network adds, not the prompt (seed
000's ``out_len`` counts both, and the CLI keeps that): a long prompt still
gets an answer. The text then runs on to the end of the word being written, as
``core.generation.complete(stop_at_word_end=True)`` does: the panel asks the
core for ``WORD_END_SLACK`` more characters and cuts the answer at
``core.generation.word_end``, which gives the same text character for
character through the request the window already sends (prompt, total length,
temperature).
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
)

from .common import BLUE, GREEN, GREY, ORANGE, tooltip
from .fitting import FixedWidthLabel, FoldingRow

MAX_LENGTH = 2000
# 'good' + 11 is seed 000's 15 characters: the seed network answers 'good i am
# fine ' and 'have' 'have a nice day ', stopping at the end of the word.
DEFAULT_NEW_CHARS = 11
MAX_TEMPERATURE_X100 = 200

# mirrored, not imported: core.generation imports torch, which the window loads
# after it paints (tests/gui/test_prompt_panel.py checks they agree)
MAX_PROMPT_CHARS = 10_000  # core.generation.MAX_PROMPT_LENGTH
MAX_TOTAL_CHARS = 10_000  # core.generation.MAX_COMPLETION_LENGTH
WORD_END_SLACK = 20  # core.generation.WORD_END_SLACK
CLASSIFY_DELAY_MS = 150  # classify after typing pauses this long
DEFAULT_CLASSIFY_PROMPT = "dull at first but wonderful in the end"
TITLES = {"text": "Let the network finish a sentence", "classify": "Let the network classify a sentence"}
PLACEHOLDERS = {"text": "Type the start, e.g. good", "classify": "Type a sentence, e.g. not bad at all"}
CLASSIFY_TIP = (
    "Type any sentence: the network labels it as you type (and again as it trains), with the probability it "
    "gives each label. Words it never saw in training are marked: it reads them as 'unknown'."
)
BAR_CHARS = 20


def classification_html(reply: dict) -> str:
    """The label and how sure, a bar per class, the sentence as read with the
    unseen words marked; most important first (the box may show two lines)."""
    probabilities = reply.get("probabilities") or {}
    label = reply.get("label", "")
    width = max((len(name) for name in probabilities), default=0)
    lines = []
    for name, p in sorted(probabilities.items(), key=lambda item: -item[1])[:8]:
        filled = round(p * BAR_CHARS)
        color = BLUE if name == label else GREY
        lines.append(
            f"<span style='font-size:11pt'>{html.escape(name)}{'&nbsp;' * (width - len(name) + 1)}"
            f"<span style='color:{color}'>{'█' * filled}</span><span style='color:#dddddd'>"
            f"{'█' * (BAR_CHARS - filled)}</span> {p:.2f}</span>"
        )
    unknown = set(reply.get("unknown") or [])
    words = " ".join(
        f"<span style='color:#ffffff; background:{ORANGE}'>{html.escape(t)}</span>" if t in unknown
        else html.escape(t)
        for t in reply.get("tokens") or []
    )
    sure = probabilities.get(label, 0.0)
    return (
        f"<b style='color:{GREEN}'>{html.escape(label)}</b> <span style='font-size:12pt; color:{GREY}'>"
        f"({sure:.0%} sure)</span><br>" + "<br>".join(lines)
        + f"<br><span style='font-size:10pt; color:{GREY}'>read as: </span><span style='font-size:10pt'>{words}</span>"
    )


class CompletionView(QPlainTextEdit):
    """Read-only text; ``text()`` gives the plain text like a QLabel would."""

    def text(self) -> str:
        return self.toPlainText()

    def show_completion(self, prompt: str, generated: str) -> None:
        self.clear()
        cursor = self.textCursor()
        given = QTextCharFormat()
        given.setForeground(QColor(GREY))
        made = QTextCharFormat()
        made.setForeground(QColor(BLUE))
        made.setFontWeight(QFont.Weight.Bold)
        cursor.insertText(prompt, given)
        cursor.insertText(generated, made)
        cursor.movePosition(QTextCursor.MoveOperation.Start)
        self.setTextCursor(cursor)


class PromptPanel(QGroupBox):
    completeRequested = Signal(str, int, float)
    classifyRequested = Signal(str)

    def __init__(self, parent=None):
        super().__init__("Let the network finish a sentence", parent)
        self.setObjectName("promptPanel")
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.promptEdit = QLineEdit(self)
        self.promptEdit.setObjectName("promptEdit")
        self.promptEdit.setPlaceholderText("Type the start, e.g. good")
        self.promptEdit.setText("good")
        self.promptEdit.setMaxLength(MAX_PROMPT_CHARS)
        # a paste or keystroke past the limit is dropped by Qt: say so
        self.promptEdit.inputRejected.connect(self._prompt_rejected)
        big = self.promptEdit.font()
        big.setPointSize(big.pointSize() + 3)
        self.promptEdit.setFont(big)
        tooltip(self.promptEdit, "The start of a sentence: the network adds one most likely letter at a time. "
                f"At most {MAX_PROMPT_CHARS:,} characters.")
        row.addWidget(self.promptEdit, 1)
        self.completeButton = QPushButton("Complete", self)
        self.completeButton.setObjectName("completeButton")
        button_font = self.completeButton.font()
        button_font.setPointSize(button_font.pointSize() + 2)
        button_font.setBold(True)
        self.completeButton.setFont(button_font)
        self.completeButton.setMinimumHeight(34)
        tooltip(
            self.completeButton,
            "Let the network finish the sentence (Enter in the prompt box does the same); "
            "works while training, paused or stopped.",
        )
        row.addWidget(self.completeButton)
        layout.addLayout(row)

        options_row = FoldingRow(self)  # side by side, or one under the other in a narrow panel
        options = options_row.add_group()
        length_label = QLabel("New characters", self)
        options.addWidget(length_label)
        self.lengthSpin = QSpinBox(self)
        self.lengthSpin.setObjectName("lengthSpin")
        self.lengthSpin.setRange(1, MAX_LENGTH)
        self.lengthSpin.setValue(DEFAULT_NEW_CHARS)
        tooltip(
            self.lengthSpin,
            f"How many characters the network adds after the prompt (1 to {MAX_LENGTH}); it then finishes "
            f"the word it is writing, at most {WORD_END_SLACK} characters more, so the text does not stop "
            f"mid-word. The seed tutorial's length 15 counts the prompt: for 'good' that is "
            f"{DEFAULT_NEW_CHARS} new characters. 'rnn-studio complete --length' still counts the prompt.",
        )
        length_label.setToolTip(self.lengthSpin.toolTip())
        options.addWidget(self.lengthSpin)
        options.addStretch(1)
        options = options_row.add_group(stretch=1)
        temp_label = QLabel("Temperature", self)
        options.addWidget(temp_label)
        self.temperatureSlider = QSlider(Qt.Orientation.Horizontal, self)
        self.temperatureSlider.setObjectName("temperatureSlider")
        self.temperatureSlider.setRange(0, MAX_TEMPERATURE_X100)
        self.temperatureSlider.setSingleStep(5)
        self.temperatureSlider.setPageStep(25)
        self.temperatureSlider.setMinimumWidth(80)
        tooltip(
            self.temperatureSlider,
            "0 = always take the most likely letter (greedy). Higher = pick letters "
            "at random in proportion to how likely they are: more surprising text.",
        )
        temp_label.setToolTip(self.temperatureSlider.toolTip())
        options.addWidget(self.temperatureSlider, 1)
        self.temperatureLabel = FixedWidthLabel(["0 (greedy)", "2.00"], self)  # never cut in projector mode
        self.temperatureLabel.setObjectName("temperatureLabel")
        options.addWidget(self.temperatureLabel)
        layout.addWidget(options_row)

        self.completionView = CompletionView(self)
        self.completionView.setObjectName("completionView")
        self.completionView.setReadOnly(True)
        mono = QFont("DejaVu Sans Mono")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setPointSize(20)
        self.completionView.setFont(mono)
        self.completionView.setMinimumHeight(self.completionView.fontMetrics().height() * 2 + 16)
        self.completionView.setPlaceholderText("The network's completion appears here")
        tooltip(self.completionView, "The prompt (grey) and what the network added (blue).")
        layout.addWidget(self.completionView, 1)
        self.completionWarning = QLabel(self)
        self.completionWarning.setObjectName("completionWarning")
        self.completionWarning.setWordWrap(True)
        self.completionWarning.setStyleSheet("color: #b35c00; font-weight: bold;")
        self.completionWarning.hide()
        layout.addWidget(self.completionWarning)

        self.task = "text"
        self._prompts = {"text": self.promptEdit.text(), "classify": DEFAULT_CLASSIFY_PROMPT}
        self._options = options_row
        self._classify_timer = QTimer(self)
        self._classify_timer.setSingleShot(True)
        self._classify_timer.setInterval(CLASSIFY_DELAY_MS)
        self._classify_timer.timeout.connect(self.request_classification)
        self.promptEdit.textChanged.connect(self._prompt_typed)
        self._new_chars: int | None = None  # what the answer on its way was asked for
        self.temperatureSlider.valueChanged.connect(self._show_temperature)
        self.completeButton.clicked.connect(self._request)
        self.promptEdit.returnPressed.connect(self._request)
        self._show_temperature()

    @property
    def temperature(self) -> float:
        return self.temperatureSlider.value() / 100.0

    def _show_temperature(self, *_args) -> None:
        t = self.temperature
        self.temperatureLabel.setText("0 (greedy)" if t == 0 else f"{t:.2f}")

    def _request(self) -> None:
        """Emit the total length the core counts: prompt + new characters +
        room to finish the last word (``show_result`` cuts at the word end).
        Classify: the label of the sentence, at once."""
        if self.task == "classify":
            self.request_classification()
            return
        prompt, new = self.promptEdit.text(), self.lengthSpin.value()
        self._new_chars = new
        total = min(len(prompt) + new + WORD_END_SLACK, MAX_TOTAL_CHARS)
        self.completeRequested.emit(prompt, total, self.temperature)

    def show_result(self, reply: dict) -> None:
        if reply.get("error"):
            self.completionView.clear()
            self.show_warning(reply["error"][0].upper() + reply["error"][1:] + ".")
            return
        prompt, text = reply["prompt"], reply["text"]
        new = self._new_chars or self.lengthSpin.value()
        if len(text) > len(prompt):
            # an answer exists, so the worker has loaded torch and core.generation already
            from ...core.generation import word_end

            text = text[: word_end(text, len(prompt) + new, len(prompt))]
        self.completionView.show_completion(prompt, text[len(prompt) :])
        notes = []
        if len(text) - len(prompt) < new and len(text) >= MAX_TOTAL_CHARS:
            notes.append(
                f"A completion holds at most {MAX_TOTAL_CHARS:,} characters, prompt included: shorten the "
                f"prompt ({len(prompt):,} characters) to get {'more' if len(text) > len(prompt) else 'any'} "
                "new characters."
            )
        unknown = reply.get("unknown") or []
        if unknown:
            shown = ", ".join(repr(c) for c in unknown[:10]) + (" …" if len(unknown) > 10 else "")
            notes.append(
                f"The network never saw {shown} in training: it reads "
                f"{'it' if len(unknown) == 1 else 'them'} as 'unknown', so this part is a guess."
            )
        if notes:
            self.show_warning(" ".join(notes))
        else:
            self.completionWarning.hide()

    def _prompt_rejected(self) -> None:
        if len(self.promptEdit.text()) >= MAX_PROMPT_CHARS:
            self.show_warning(f"The prompt holds at most {MAX_PROMPT_CHARS:,} characters; the rest was not added.")

    def show_warning(self, text: str) -> None:
        self.completionWarning.setText(text)
        self.completionWarning.show()

    def set_text_task(self, is_text: bool) -> None:
        self.set_task("text" if is_text else "sine")

    def set_task(self, task: str) -> None:
        """Complete text, classify sentences, or nothing (sine)."""
        mode = task if task in TITLES else "text"
        if mode != self.task and task in TITLES:
            self._prompts[self.task] = self.promptEdit.text()
            self.task = mode
            self.promptEdit.blockSignals(True)
            self.promptEdit.setText(self._prompts[mode])
            self.promptEdit.blockSignals(False)
            self.completionView.clear()
            self.completionWarning.hide()
        classify = task == "classify"
        self.setTitle(TITLES[mode])
        self.promptEdit.setPlaceholderText(PLACEHOLDERS[mode])
        self.completeButton.setText("Classify" if classify else "Complete")
        tooltip(self.promptEdit, CLASSIFY_TIP if classify else (
            "The start of a sentence: the network adds one most likely letter at a time. "
            f"At most {MAX_PROMPT_CHARS:,} characters."))
        tooltip(self.completeButton, "Classify the sentence now (it also happens as you type)." if classify else (
            "Let the network finish the sentence (Enter in the prompt box does the same); "
            "works while training, paused or stopped."))
        self.completionView.setPlaceholderText(
            "The network's label and how sure it is appear here" if classify else
            "The network's completion appears here")
        self._options.setVisible(not classify)
        usable = task in TITLES
        for widget in (self.promptEdit, self.completeButton, self.lengthSpin, self.temperatureSlider):
            widget.setEnabled(usable)

    def prompt_text(self, task: str) -> str:
        """The prompt kept for ``task`` ("text" or "classify")."""
        return self.promptEdit.text() if task == self.task else self._prompts.get(task, "")

    def set_prompt(self, task: str, text: str) -> None:
        if task == self.task:
            self.promptEdit.setText(text)
        else:
            self._prompts[task] = text

    def _prompt_typed(self, _text: str) -> None:
        if self.task == "classify":
            self._classify_timer.start()

    def request_classification(self) -> None:
        """Ask for the label of the sentence in the box (nothing for an empty box)."""
        self._classify_timer.stop()
        if self.task != "classify":
            return
        text = self.promptEdit.text()
        if not text.strip():
            self.completionView.clear()
            self.completionWarning.hide()
            return
        self.classifyRequested.emit(text)

    def show_classification(self, reply: dict) -> None:
        """A ``Classified`` answer (as a dict): the label, the bars, the unseen words."""
        if reply.get("error"):
            self.completionView.clear()
            self.show_warning(reply["error"][0].upper() + reply["error"][1:] + ".")
            return
        self.completionView.clear()
        self.completionView.appendHtml(classification_html(reply))
        self.completionView.moveCursor(QTextCursor.MoveOperation.Start)  # the label first, not the last line
        self.completionView.ensureCursorVisible()
        unknown = reply.get("unknown") or []
        if unknown:
            shown = ", ".join(repr(t) for t in unknown[:10]) + (" …" if len(unknown) > 10 else "")
            self.show_warning(
                f"The network never saw {shown} in training: it reads "
                f"{'it' if len(unknown) == 1 else 'them'} as 'unknown' (marked in orange)."
            )
        else:
            self.completionWarning.hide()
