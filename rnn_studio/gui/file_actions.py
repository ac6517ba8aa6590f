"""Save model… and Open model…: the file dialogs, the folder they start in, and what they say.

The runner (``gui/runner.py``) does the work in the thread that holds the
network (a save between two steps, or through a serve-only worker once the run
has ended; a file opens in a loader thread of its own). This module asks it,
tells the user how it went in the message bar, and reports it with
``modelSaved`` / ``modelOpened`` (path, error: "" when it worked). A file that
cannot be used changes nothing in the window.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QWidget

from ..core.config import ARCH_LABELS, RunConfig
from ..core.events import Loaded, Saved
from .runner import Runner
from .status_display import sentence

MODEL_FILTER = "RNN Studio models (*.pt);;All files (*)"
NOTHING_TO_SAVE = "There is no trained network to save yet: press Train first, or open a saved model."


class FileActions(QObject):
    modelSaved = Signal(str, str)  # path, error ("" when the file was written)
    modelOpened = Signal(str, str)  # path, error ("" when the network is shown)

    def __init__(
        self,
        parent: QWidget,
        runner: Runner,
        keeper,
        *,
        save_action,
        open_action,
        show_message: Callable[[str, str], None],
        view_task: Callable[[], str],
    ):
        super().__init__(parent)
        self._parent, self.runner, self.keeper = parent, runner, keeper
        self.save_action, self.open_action = save_action, open_action
        self._show_message, self._view_task = show_message, view_task

    def update_actions(self) -> None:
        self.save_action.setEnabled(self.runner.has_network())
        self.open_action.setEnabled(True)  # a newer Open model… replaces one still loading

    # ------------------------------------------------------------------ the dialogs
    def _folder(self) -> str:
        folder = self.keeper.model_folder()
        return folder if folder and os.path.isdir(folder) else os.path.expanduser("~")

    def _remember_folder(self, path: str) -> None:
        self.keeper.remember_folder(os.path.dirname(os.path.abspath(path)))

    @Slot()
    def save_clicked(self) -> None:
        if not self.runner.has_network():
            self.save_model("")  # explains that there is nothing to save yet
            return
        name = "sine-model.pt" if self._view_task() == "sine" else "text-model.pt"
        path, _ = QFileDialog.getSaveFileName(
            self._parent, "Save model", os.path.join(self._folder(), name), MODEL_FILTER
        )
        if path:
            if not os.path.splitext(path)[1]:
                path += ".pt"
            self.save_model(path)

    @Slot()
    def open_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self._parent, "Open model", self._folder(), MODEL_FILTER)
        if path:
            self.open_model(path)

    # ------------------------------------------------------------------ saving
    def save_model(self, path: str) -> bool:
        """Write the network on screen to ``path``; False (with a message) when
        there is nothing to save or no file name."""
        text = ""
        if not self.runner.has_network():
            text = NOTHING_TO_SAVE
        elif not path or not path.strip():
            text = "No file name was given, so nothing was saved."
        elif not self.runner.save(path):
            text = NOTHING_TO_SAVE
        if text:
            self._show_message("warning", text)
            self.modelSaved.emit(path, text)
            return False
        return True

    @Slot(object)
    def saved(self, event: Saved) -> None:
        if event.error:
            self._show_message("error", f"The model was not saved: {sentence(event.error)}")
            self.modelSaved.emit(event.path, event.error)
            return
        self._remember_folder(event.path)
        epoch = event.epoch
        when = f" after {epoch:,} epoch{'s' if epoch != 1 else ''}" if isinstance(epoch, int) else ""
        written = event.written or event.path
        where = f"{written} (through the link {event.path})" if written != event.path else event.path
        self._show_message("info", f"Saved the network{when} to {where}. Open model… brings it back.")
        self.modelSaved.emit(event.path, "")

    # ------------------------------------------------------------------ opening
    def open_model(self, path: str) -> bool:
        """Load the checkpoint at ``path`` in a worker thread; ``modelOpened``
        tells how it went. Until it has loaded nothing in the window changes, a
        file that cannot be used changes nothing at all, and a newer Open wins
        over a file still loading. Always True (the answer comes as a signal)."""
        self.runner.open(path)
        self.update_actions()
        return True

    def opened(self, event: Loaded, cfg: RunConfig, kept_sentences: bool) -> None:
        """The opened network is on screen and the controls hold its settings: say so."""
        path = event.path
        self._remember_folder(path)
        what = ARCH_LABELS.get(cfg.model.arch, cfg.model.arch)
        task = "sentences" if event.task == "text" else "the sine wave"
        article = "an" if what[:1] in "AEIOLR" else "a"
        epoch = event.epoch
        text = (
            f"Opened {os.path.basename(path)}: {article} {what} trained on {task} for {epoch:,} "
            f"epoch{'s' if epoch != 1 else ''}. Its settings are in the controls; try a prompt, or press Train to "
            "go on training it."
        )
        if kept_sentences:
            source = f"the text file {cfg.task.text_file}" if cfg.task.text_file else "a text file"
            text += (
                f" It was trained on {source}, which the sentence box cannot show: your sentences stay, "
                "and Train starts a new network on them."
            )
        elif event.task == "text":
            text += " Ctrl+Z in the sentence box brings back the sentences you had."
        for note in event.notes:
            text += f" Note: {note}."
        self._show_message("info", text)
        self.modelOpened.emit(path, "")

    @Slot(str, str)
    def open_failed(self, path: str, message: str) -> None:
        self._show_message("error", f"Could not open the model: {sentence(message)} Nothing in the window was changed.")
        self.update_actions()
        self.modelOpened.emit(path, message)
