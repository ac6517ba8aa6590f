"""The lesson panel (issue 11): the step a class is on, with Back and Next.

A dock (``lessonPanel``) that shows the lesson's title and where it stands,
the step's formatted text (``core.lessons.text_to_html``: a lesson cannot
inject markup), what to watch, the suggested prompts as buttons, and what
the step waits for. It only draws; ``lesson_player.LessonPlayer`` decides
what a step does to the window.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..core.lessons import Lesson, Step, text_to_html

MIN_WIDTH, MAX_WIDTH = 260, 380


class LessonPanel(QDockWidget):
    backRequested = Signal()
    nextRequested = Signal()
    closeRequested = Signal()
    runRequested = Signal()
    promptChosen = Signal(str)

    def __init__(self, parent=None):
        super().__init__("Lesson", parent)
        self.setObjectName("lessonPanel")
        features = QDockWidget.DockWidgetFeature
        self.setFeatures(features.DockWidgetMovable | features.DockWidgetFloatable)
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 4, 6, 4)
        self.titleLabel = QLabel(body)
        self.titleLabel.setObjectName("lessonTitle")
        self.titleLabel.setWordWrap(True)
        font = self.titleLabel.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() + 2)
        self.titleLabel.setFont(font)
        self.textView = QTextBrowser(body)
        self.textView.setObjectName("lessonText")
        self.textView.setOpenLinks(False)
        self.watchLabel = QLabel(body)
        self.watchLabel.setObjectName("lessonWatch")
        self.watchLabel.setWordWrap(True)
        self.promptRow = QWidget(body)
        self.promptRow.setObjectName("lessonPrompts")
        self._prompt_layout = QHBoxLayout(self.promptRow)
        self._prompt_layout.setContentsMargins(0, 0, 0, 0)
        self.waitLabel = QLabel(body)
        self.waitLabel.setObjectName("lessonWait")
        self.waitLabel.setWordWrap(True)
        buttons = QHBoxLayout()
        self.backButton = QPushButton("◀ Back", body)
        self.backButton.setObjectName("lessonBackButton")
        self.runButton = QPushButton("Train this step", body)
        self.runButton.setObjectName("lessonRunButton")
        self.runButton.setToolTip("Train as this step says (a new network, or go on with the one on screen).")
        self.nextButton = QPushButton("Next ▶", body)
        self.nextButton.setObjectName("lessonNextButton")
        self.closeButton = QPushButton("Close lesson", body)
        self.closeButton.setObjectName("lessonCloseButton")
        self.closeButton.setToolTip("Leave the lesson: every control it locked or hid comes back.")
        for button in (self.backButton, self.runButton, self.nextButton):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.closeButton)
        layout.addWidget(self.titleLabel)
        layout.addWidget(self.textView, 1)
        layout.addWidget(self.watchLabel)
        layout.addWidget(self.promptRow)
        layout.addWidget(self.waitLabel)
        layout.addLayout(buttons)
        self.setWidget(body)
        # on a 1024-wide projector the views keep most of the width
        self.setMinimumWidth(MIN_WIDTH)
        self.setMaximumWidth(MAX_WIDTH)
        self.prompt_buttons: list[QPushButton] = []
        self.backButton.clicked.connect(self.backRequested)
        self.nextButton.clicked.connect(self.nextRequested)
        self.closeButton.clicked.connect(self.closeRequested)
        self.runButton.clicked.connect(self.runRequested)

    def show_step(self, lesson: Lesson, index: int) -> None:
        step: Step = lesson.steps[index]
        self.setWindowTitle(f"Lesson: {lesson.title}")
        self.titleLabel.setText(f"Step {index + 1} of {len(lesson.steps)}: {step.title}")
        self.textView.setHtml(step.html)
        watch = text_to_html(step.watch).replace("<p>", "").replace("</p>", " ").strip()
        self.watchLabel.setText(f"<b>Watch:</b> {watch}" if step.watch else "")
        self.watchLabel.setVisible(bool(step.watch))
        for button in self.prompt_buttons:
            button.deleteLater()
        self.prompt_buttons = []
        for prompt in step.prompts:
            button = QPushButton(prompt, self.promptRow)
            button.setObjectName("lessonPromptButton")
            button.setToolTip(f"Put '{prompt}' in the prompt box and ask the network to go on.")
            button.clicked.connect(lambda _=False, text=prompt: self.promptChosen.emit(text))
            self._prompt_layout.addWidget(button)
            self.prompt_buttons.append(button)
        self.promptRow.setVisible(bool(step.prompts))
        self.runButton.setVisible(step.run != "none")
        self.runButton.setText("Train a new network" if step.run == "new" else "Go on training")
        self.backButton.setEnabled(index > 0)
        self.nextButton.setText("Finish ✓" if index == len(lesson.steps) - 1 else "Next ▶")

    def show_wait(self, text: str, met: bool) -> None:
        self.waitLabel.setText(text)
        self.waitLabel.setVisible(bool(text))
        self.nextButton.setEnabled(met)
        self.waitLabel.setStyleSheet("color: #1a7f37;" if met else "color: #9a6700;")


__all__ = ["LessonPanel"]
