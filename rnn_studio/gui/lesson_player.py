"""Playing a lesson in the window (issue 11): what each step does to it.

``core.lessons`` reads and checks the file (nothing here changes the window
before the whole file is known good); ``LessonPanel`` shows the step. This
object decides what a step does: it puts the step's settings in the controls
through the path an opened model's settings take (``Controls.show_opened``),
locks (disables) and hides the controls the step names, puts a coloured
frame on the views it points at, and counts what the step waits for from the
runner's events (the same ``Wait.met`` the headless player uses). Leaving a
step, or the lesson, gives back every control as it was.

A run may re-enable controls (``Controls.show_state`` after each state
change), so the locks are laid again after every change the controls see.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import StudioError
from ..core.events import Paused, RunEnded, StepBatch
from ..core.lessons import CONTROLS, Lesson, LessonError, lesson_from_window, load_lesson, save_lesson
from .panels.training_panel import FLAT_OUT, PACES
from .status_display import sentence

HIGHLIGHT_COLOUR = "#e69f00"  # Okabe-Ito orange: seen by colour-blind students, apart from the plots' blue


class HighlightFrame(QFrame):
    """A coloured border drawn over a view, following its size; clicks pass through."""

    def __init__(self, target: QWidget):
        super().__init__(target)
        self.setObjectName("lessonHighlight")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setStyleSheet(f"#lessonHighlight {{ border: 4px solid {HIGHLIGHT_COLOUR}; background: transparent; }}")
        self._target = target
        target.installEventFilter(self)
        self.setGeometry(target.rect())
        self.raise_()
        self.show()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if obj is self._target and event.type() == QEvent.Type.Resize:
            self.setGeometry(self._target.rect())
            self.raise_()
        return False


def lesson_error_message(path: str, exc: LessonError) -> str:
    where = f"line {exc.line}: " if exc.line else ""
    return f"Cannot open the lesson {os.path.basename(path)}: {where}{exc.reason} Nothing was changed."


class LessonPlayer(QObject):
    """The lesson open in ``window`` and the step it is on."""

    stepShown = Signal(int)
    lessonClosed = Signal()

    def __init__(self, window, panel):
        super().__init__(window)
        self.window, self.panel = window, panel
        self.lesson: Lesson | None = None
        self.index = 0
        self._locked: list[tuple[QWidget, bool]] = []
        self._hidden: list[tuple[QWidget, bool]] = []
        self._frames: list[HighlightFrame] = []
        self._epoch = 0
        self._base = 0
        self._last_loss: float | None = None
        self._finished = False
        self._diverged = False
        self._passed: set[int] = set()  # steps whose wait was met
        panel.backRequested.connect(self.back)
        panel.nextRequested.connect(self.next)
        panel.closeRequested.connect(self.close)
        panel.runRequested.connect(self.run_step)
        panel.promptChosen.connect(self.try_prompt)
        runner = window.runner
        runner.batch.connect(self._batch)
        runner.networkChanged.connect(self._network_changed)
        runner.runStarted.connect(self._run_started)
        runner.ended.connect(self._ended)
        runner.paused.connect(self._paused)
        # connected after the window's own handlers, so the locks are laid after show_state
        runner.stateChanged.connect(self._lock_again)
        window.dataPanel.changed.connect(self._lock_again)
        window.modelPanel.changed.connect(self._lock_again)

    # ------------------------------------------------------------------ opening and closing
    def open_lesson(self, path: str) -> bool:
        """Open the lesson at ``path`` on its first step; a file with an error
        is refused with its line and reason in the message bar, changing nothing."""
        try:
            lesson = load_lesson(path)
        except LessonError as exc:
            self.window.show_message("error", lesson_error_message(path, exc))
            return False
        self.close(quiet=True)
        self.lesson = lesson
        self._passed = set()
        self.panel.show()
        self.go(0)
        summary = " ".join(lesson.summary.split())
        self.window.show_message("info", f"Lesson opened: {lesson.title}. {sentence(summary)}".strip())
        return True

    def close(self, quiet: bool = False) -> None:
        """Leave the lesson: every lock, hidden control and highlight goes."""
        if self.lesson is None:
            return
        self._release()
        self.lesson = None
        self.panel.hide()
        if not quiet:
            self.window.show_message("info", "The lesson is closed: every control is back.")
        self.lessonClosed.emit()

    @property
    def step(self):
        return self.lesson.steps[self.index] if self.lesson else None

    # ------------------------------------------------------------------ moving
    def back(self) -> None:
        if self.lesson and self.index > 0:
            self.go(self.index - 1)

    def next(self) -> None:
        if not self.lesson:
            return
        if self.index + 1 < len(self.lesson.steps):
            self.go(self.index + 1)
        else:
            title = self.lesson.title
            self.close(quiet=True)
            self.window.show_message("info", f"Lesson finished: {title}. Every control is back.")

    def go(self, index: int) -> None:
        self._release()
        self.index = index
        step = self.lesson.steps[index]
        self._apply_settings(step, index)
        self._lock(step)
        self._highlight(step)
        self._base, self._finished, self._diverged = self._epoch, False, False
        self.panel.show_step(self.lesson, index)
        self._show_wait()
        self.stepShown.emit(index)

    # ------------------------------------------------------------------ what a step does
    def _apply_settings(self, step, index: int) -> None:
        window = self.window
        if index == 0 or step.preset is not None or step.settings:
            cfg = step.config
            runner = window.runner
            if not runner.in_progress and runner.state != "idle" and cfg.task.kind != window.controls.view_task():
                window.reset()  # the network on screen belongs to the other task
            window.controls.show_opened(cfg, window.trainingPanel.device)
            window.settings_shown()
        if step.pace is not None or "pace" in step.settings:
            pace = step.pace or 0.0
            index_of = FLAT_OUT if not pace else min(range(FLAT_OUT), key=lambda i: abs(PACES[i] - pace))
            window.trainingPanel.paceSlider.setValue(index_of)
        prompt = window.promptPanel
        if step.length is not None:
            prompt.lengthSpin.setValue(step.length)
        if step.temperature is not None:
            prompt.temperatureSlider.setValue(round(step.temperature * 100))
        if step.prompts:
            prompt.promptEdit.setText(step.prompts[0])

    def _widget(self, name: str) -> QWidget | None:
        widget = getattr(self.window, name, None)
        if not isinstance(widget, QWidget):
            widget = self.window.findChild(QWidget, name)
        return widget

    def _lock(self, step) -> None:
        for name in step.lock:
            widget = self._widget(name)
            if widget is not None:
                self._locked.append((widget, widget.isEnabled()))
                widget.setEnabled(False)
        for name in step.hide:
            widget = self._widget(name)
            if widget is not None:
                self._hidden.append((widget, widget.isHidden()))
                widget.hide()

    def _lock_again(self, *_args) -> None:
        for widget, _was in self._locked:
            widget.setEnabled(False)

    def _highlight(self, step) -> None:
        for name in step.highlight:
            widget = self._widget(name)
            if widget is None:
                continue
            self._bring_forward(widget)
            self._frames.append(HighlightFrame(widget))

    @staticmethod
    def _bring_forward(widget: QWidget) -> None:
        """A view on a tab the class cannot see is turned to."""
        child = widget
        parent = widget.parentWidget()
        while parent is not None:
            if isinstance(parent, QStackedWidget) and isinstance(parent.parentWidget(), QTabWidget):
                parent.parentWidget().setCurrentWidget(child)
            child, parent = parent, parent.parentWidget()

    def _release(self) -> None:
        for frame in self._frames:
            frame.hide()
            frame.deleteLater()
        self._frames = []
        locked, self._locked = self._locked, []
        for widget, was_enabled in reversed(locked):
            widget.setEnabled(was_enabled)
        hidden, self._hidden = self._hidden, []
        for widget, was_hidden in reversed(hidden):
            widget.setHidden(was_hidden)
        if locked:
            self.window.settings_shown()  # what a run in progress locks is locked again

    @property
    def locked(self) -> list[QWidget]:
        return [w for w, _ in self._locked]

    @property
    def hidden(self) -> list[QWidget]:
        return [w for w, _ in self._hidden]

    @property
    def highlighted(self) -> list[QWidget]:
        return [f.parentWidget() for f in self._frames]

    # ------------------------------------------------------------------ running and waiting
    def run_step(self) -> bool:
        """Train as the step says: a new network, or go on with the one on screen."""
        step, window = self.step, self.window
        if step is None or step.run == "none":
            return False
        runner = window.runner
        if step.run == "continue":
            if runner.state == "paused":
                window.toggle_pause()
                return True
            if runner.in_progress:
                return True
            return window.train()
        if runner.in_progress:
            window.show_message("info", "Stop the run in progress first: this step trains a new network.")
            return False
        window.reset()
        return window.train()

    def try_prompt(self, text: str) -> None:
        prompt = self.window.promptPanel
        prompt.promptEdit.setText(text)
        prompt.completeButton.click()

    def wait_met(self) -> bool:
        step = self.step
        if step is None or step.wait is None or self.index in self._passed:
            return True  # a step the class has been through stays open when it comes back to it
        met = step.wait.met(self._epoch - self._base, self._last_loss, self._finished, self._diverged)
        if met:
            self._passed.add(self.index)
        return met

    def _show_wait(self) -> None:
        step = self.step
        if step is None:
            return
        if step.wait is None:
            self.panel.show_wait("", True)
            return
        met = self.wait_met()
        what = step.wait.describe()
        if met:
            text = f"Done: {what}. Press Next."
        else:
            progress = ""
            if step.wait.kind == "after_epochs":
                progress = f" ({max(0, self._epoch - self._base)} so far)"
            text = f"Next waits until you {what}{progress}."
        self.panel.show_wait(text, met)

    def _batch(self, batch: StepBatch) -> None:
        self._epoch = batch.epoch
        if len(batch.loss):
            self._last_loss = float(batch.loss[-1])
        if self.lesson:
            self._show_wait()

    def _network_changed(self) -> None:
        self._epoch = 0
        self._base = 0
        self._last_loss = None
        if self.lesson:
            self._show_wait()

    def _run_started(self, _event) -> None:
        self._finished = False

    def _ended(self, event: RunEnded) -> None:
        if event.state == "finished":
            self._finished = True
        if event.epoch is not None:
            self._epoch = event.epoch
        if self.lesson:
            self._show_wait()

    def _paused(self, event: Paused) -> None:
        if event.reason == "diverged":
            self._diverged = True
            if self.lesson:
                self._show_wait()

    # ------------------------------------------------------------------ authoring
    def open_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open lesson", "", "Lessons (*.toml);;All files (*)")
        if path:
            self.open_lesson(path)

    def save_clicked(self) -> None:
        dialog = SaveLessonDialog(self.window)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        path, _ = QFileDialog.getSaveFileName(self.window, "Save as lesson", "lesson.toml", "Lessons (*.toml)")
        if path:
            self.save_lesson_as(path, dialog.title(), dialog.text(), lock=dialog.locked(), hide=dialog.hidden())

    def save_lesson_as(self, path: str, title: str, text: str, *, lock=(), hide=()) -> bool:
        """Write the window's settings as a one-step lesson; says how it went in the message bar."""
        window = self.window
        try:
            cfg = window.build_config()
            prompts = ()
            prompt = window.promptPanel.promptEdit.text().strip()
            if cfg.task.kind == "text" and prompt:
                prompts = (prompt,)
            lesson = lesson_from_window(title.strip() or "A lesson", text.strip() or "Press Train.", cfg,
                                        lock=lock, hide=hide, prompts=prompts)
            written = save_lesson(lesson, path)
        except (StudioError, OSError, ValueError) as exc:
            window.show_message("error", f"Cannot save the lesson: {sentence(str(exc))}")
            return False
        window.show_message("info", f"Lesson saved to {written}: File → Open lesson… plays it.")
        return True


class SaveLessonDialog(QDialog):
    """Title, text, and which controls the class may not touch or see."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("saveLessonDialog")
        self.setWindowTitle("Save as lesson")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.titleEdit = QLineEdit(self)
        self.titleEdit.setObjectName("saveLessonTitle")
        self.textEdit = QPlainTextEdit(self)
        self.textEdit.setObjectName("saveLessonText")
        self.textEdit.setPlaceholderText("What the class should do and watch. **bold**, *italic*, `code`, "
                                         "lines starting '- ' make a list.")
        form.addRow("Title:", self.titleEdit)
        form.addRow("Text:", self.textEdit)
        layout.addLayout(form)
        lists = QHBoxLayout()
        self.lockList = self._names("saveLessonLockList")
        self.hideList = self._names("saveLessonHideList")
        for label, names in (("Lock (greyed out):", self.lockList), ("Hide:", self.hideList)):
            column = QVBoxLayout()
            column.addWidget(QLabel(label, self))
            column.addWidget(names)
            lists.addLayout(column)
        layout.addLayout(lists)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _names(self, object_name: str) -> QListWidget:
        names = QListWidget(self)
        names.setObjectName(object_name)
        for name in CONTROLS:
            item = QListWidgetItem(name, names)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
        return names

    @staticmethod
    def _checked(names: QListWidget) -> tuple[str, ...]:
        return tuple(names.item(i).text() for i in range(names.count())
                     if names.item(i).checkState() == Qt.CheckState.Checked)

    def title(self) -> str:
        return self.titleEdit.text()

    def text(self) -> str:
        return self.textEdit.toPlainText()

    def locked(self) -> tuple[str, ...]:
        return self._checked(self.lockList)

    def hidden(self) -> tuple[str, ...]:
        return self._checked(self.hideList)


__all__ = ["HighlightFrame", "LessonPlayer", "SaveLessonDialog", "lesson_error_message"]
