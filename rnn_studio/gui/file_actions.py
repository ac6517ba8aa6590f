"""Save model…, Open model…, Open text file… and Open data file…: the file dialogs, the folder they start in, and what they say.

A text file (the text task) and a labelled data file (classify) are read
here, in the GUI thread, with the core's own torch-free readers and rules
(50 MiB at most, UTF-8; reading 50 MB takes about 0.4 s): the data panel
shows what they hold, and a file that cannot be used changes nothing and
says why.

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

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QWidget

from ..core.config import ARCH_LABELS, RunConfig
from ..core.errors import StudioError
from ..core.events import Loaded, Saved
from .panels.text_file import read_text_file_info, size_words
from .runner import Runner
from .status_display import sentence

MODEL_FILTER = "RNN Studio models (*.pt);;All files (*)"
TEXT_FILTER = "Text files (*.txt *.md *.text);;All files (*)"
DATA_FILTER = "Labelled data (*.csv *.tsv);;All files (*)"
MODEL_NAMES = {"sine": "sine-model.pt", "classify": "classifier.pt"}
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
        name = MODEL_NAMES.get(self._view_task(), "text-model.pt")
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

    @Slot()
    def open_text_file_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self._parent, "Open text file", self._folder(), TEXT_FILTER)
        if path:
            self.open_text_file(path)

    @Slot()
    def open_data_file_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self._parent, "Open data file", self._folder(), DATA_FILTER)
        if path:
            self.open_data_file(path)

    # ------------------------------------------------------------------ data files
    def open_text_file(self, path: str) -> bool:
        """Put the text task on ``path`` (the CLI's rules); False, with the reason, when it cannot."""
        data = self._parent.dataPanel
        try:
            with _busy():
                info = read_text_file_info(path)
        except StudioError as exc:
            self._show_message("error", f"Cannot train on that text file: {sentence(str(exc))} Nothing was changed.")
            return False
        data.set_text_file(info)
        self._remember_folder(path)
        self._show_message(
            "info",
            f"The text task now trains on {info.path} ({size_words(info.size_bytes)}, {info.characters:,} "
            f"characters, {info.vocab_size - 1:,} different). The network reads it in windows; press Train.",
        )
        return True

    def open_data_file(self, path: str) -> bool:
        """Put the classify task on a .csv/.tsv file; False, with the reason, when it cannot."""
        page = self._parent.dataPanel.classifyPage
        try:
            with _busy():
                page.set_data_file(path)
        except StudioError as exc:
            self._show_message("error", f"Cannot train on that data file: {sentence(str(exc))} Nothing was changed.")
            return False
        self._remember_folder(path)
        self._show_message("info", f"The classifier now trains on {page.data_file}; press Train.")
        return True

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
        task = {"text": "sentences", "classify": "labelled sentences"}.get(event.task, "the sine wave")
        if event.task == "text" and cfg.task.text_file:
            task = f"the text file {cfg.task.text_file}"
        article = "an" if what[:1] in "AEIOLR" else "a"
        epoch = event.epoch
        text = (
            f"Opened {os.path.basename(path)}: {article} {what} trained on {task} for {epoch:,} "
            f"epoch{'s' if epoch != 1 else ''}. Its settings are in the controls; try a prompt, or press Train to "
            "go on training it."
        )
        trainer = self.runner.shown_trainer()
        blocker = getattr(trainer, "resume_blocker", None)
        cannot = (
            f" It cannot go on training: {sentence(blocker)} It still answers prompts; Reset, then Train, trains a "
            "new network on the data as it is now." if blocker else ""
        )
        if event.task == "text" and cfg.task.text_file:
            if self._parent.dataPanel.text_file:
                text += cannot or (" The text file is in the data panel (your typed sentences stay, behind Back to "
                                   "typed sentences).")
            else:
                text += (
                    f" It was trained on the text file {cfg.task.text_file}, which cannot be read now: your "
                    "sentences stay, and Train starts a new network on them."
                )
        elif kept_sentences:
            text += (
                " It was trained on a text file, which the sentence box cannot show: your sentences stay, and "
                "Train starts a new network on them."
            )
        elif cannot:
            text += cannot
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


class _busy:
    """A wait cursor while a file is read in the GUI thread (at most about half a second)."""

    def __enter__(self):
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        return self

    def __exit__(self, *exc):
        QGuiApplication.restoreOverrideCursor()
        return False
