"""Confidence: the completion of the prompt, each character coloured by how sure the network was.

Every character the network wrote is coloured by the probability it gave
that character (red: a guess, green: sure); the prompt's own characters are
grey. Hovering a character lists the five characters the network considered
there, with their probabilities; clicking one of them continues the
completion from it (a branch: ``core.inspection.branch``). The numbers are
``core.inspection.complete_with_confidence``'s.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .char_strip import NO_VALUE, CharStrip, confidence_color
from .common import GREY, explanation_tip

TITLE = "Confidence"
EXPLANATION = (
    "The network completes the prompt one character at a time, always taking the character it finds "
    "most likely. Each character it wrote is coloured by the probability it gave that character: green "
    "when it was sure, yellow when it hesitated, red when it was a guess among many (the prompt's own "
    "letters are grey). Point at a character to see the five it considered there, with their "
    "probabilities; click a character to keep its list, and click one of the candidates to make the "
    "network continue from that character instead: a branch of the completion. How to read it: early "
    "in training every character is red; as it learns, whole words turn green and the red that stays "
    "marks the real choices, such as the first letter of a new word. What to try: the prompts 'cat' and 'dog' "
    "on the 'long memory' sentences, and a branch from the last word."
)
TOP_K = 5


class ConfidenceView(QWidget):
    """``confidenceStrip`` (the completion), ``candidateButton0``..``4``, ``confidenceNote``."""

    branchRequested = Signal(str, int, str)  # text, position, chosen character

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("confidenceView")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.note = QLabel(self)
        self.note.setObjectName("confidenceNote")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.strip = CharStrip("confidenceStrip", self)
        layout.addWidget(self.strip)
        self.candidatesLabel = QLabel(self)
        self.candidatesLabel.setObjectName("candidatesLabel")
        self.candidatesLabel.setWordWrap(True)
        layout.addWidget(self.candidatesLabel)
        row = QHBoxLayout()
        self.candidateButtons: list[QPushButton] = []
        for i in range(TOP_K):
            button = QPushButton(self)
            button.setObjectName(f"candidateButton{i}")
            button.setMinimumHeight(34)
            button.clicked.connect(lambda _checked=False, i=i: self._candidate_clicked(i))
            button.hide()
            row.addWidget(button)
            self.candidateButtons.append(button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(1)
        self.setToolTip(explanation_tip(EXPLANATION))
        self.completion = None
        self._note = ""
        self.position = -1  # the character whose candidates are listed
        self.pinned = -1  # clicked: its list stays while the pointer moves on
        self._candidates: list[tuple[str, float]] = []
        self.dirty = False
        self.strip.hovered.connect(self._hovered)
        self.strip.clicked.connect(self._clicked)
        self.clear()

    def explanation(self) -> str:
        return EXPLANATION

    def projector_parts(self) -> list:
        return [self.strip]

    # -- data ------------------------------------------------------------------------------------
    def clear(
        self,
        why: str = "Press Train, then type a prompt: its completion appears here, coloured by "
        "how sure the network was of each character.",
    ) -> None:
        self.completion = None
        self.dirty = False
        self.pinned = self.position = -1
        self.strip.set_cells("", [])
        self.note.setText(why)
        self._show_candidates(-1)

    def show_completion(self, completion, note: str = "") -> None:
        self.completion = completion
        self._note = note
        self.dirty = True

    def show_error(self, why: str) -> None:
        self.clear(why)

    def redraw(self) -> bool:
        if not self.dirty or self.completion is None:
            return False
        self.dirty = False
        completion = self.completion
        confidence = completion.confidence
        prompt_length = len(completion.prompt)
        colors, tips = [], []
        for t, char in enumerate(completion.text):
            if t < prompt_length:
                colors.append(NO_VALUE)
                tips.append(f"'{char}': part of the prompt")
            else:
                colors.append(confidence_color(confidence[t]))
                tips.append(f"'{char}': the network gave it {100 * confidence[t]:.0f}%")
        self.strip.set_cells(completion.text, colors, tips)
        written = confidence[prompt_length:]
        mean = f"; on average {100 * float(written.mean()):.0f}% sure" if len(written) else ""
        self.note.setText(f"{self._note}{mean}. Point at a character to see what else it considered.")
        if self.pinned >= len(completion.text):
            self.pinned = -1
        self._show_candidates(self.pinned if self.pinned >= 1 else -1)
        return True

    # -- the candidates --------------------------------------------------------------------------
    def candidates(self, position: int) -> list[tuple[str, float]]:
        if self.completion is None or not 1 <= position < len(self.completion.text):
            return []
        return self.completion.candidates(position, TOP_K)

    def _hovered(self, index: int) -> None:
        if self.pinned < 1:
            self._show_candidates(index)

    def _clicked(self, index: int) -> None:
        self.pinned = index if index != self.pinned else -1
        self.strip.set_selected(self.pinned)
        self._show_candidates(self.pinned if self.pinned >= 1 else index)

    def _show_candidates(self, position: int) -> None:
        self.position = position
        self._candidates = self.candidates(position)
        if not self._candidates:
            self.candidatesLabel.setText(
                f"<span style='color:{GREY}'>Point at a character the network wrote to see the five it "
                "considered; click one to branch from it.</span>"
            )
            for button in self.candidateButtons:
                button.hide()
            return
        text = self.completion.text
        before = html.escape(text[max(0, position - 12) : position])
        self.candidatesLabel.setText(f"After “…{before}” the network considered (click one to continue from it):")
        for button, (char, probability) in zip(self.candidateButtons, self._candidates, strict=False):
            shown = "space" if char == " " else char
            button.setText(f"{shown}  {100 * probability:.0f}%")
            chosen = char == text[position]
            font = button.font()
            font.setBold(chosen)
            button.setFont(font)
            button.setToolTip(f"Continue '{text[:position]}' with '{char}'" + (" (what it wrote)" if chosen else ""))
            button.show()
        for button in self.candidateButtons[len(self._candidates) :]:
            button.hide()

    def _candidate_clicked(self, index: int) -> None:
        if self.completion is None or index >= len(self._candidates) or self.position < 1:
            return
        char = self._candidates[index][0]
        self.branchRequested.emit(self.completion.text, self.position, char)
        self.pinned = -1
        self.strip.set_selected(-1)
