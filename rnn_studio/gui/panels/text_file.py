"""The text task on a whole file: "Open text file…", what the file holds, window and batch.

The CLI's rules apply (``rnn-studio train --text-file``): a UTF-8 file of at
most 50 MiB with at most 4,095 different characters, read by the core's
``read_text_file_hashed`` (torch-free, so the file can be looked at before
torch has loaded; 50 MB takes about 0.4 s). The box shows the file's size,
characters, vocabulary and lines and a preview of its start; the network
reads it in windows of ``windowSpin`` characters by ``streamsSpin`` parallel
streams, each window carrying the hidden state of the one before
(truncated backpropagation through time, seed 001 at book scale).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ...core.config import AUTO_TEXT_FILE_FRACTION, AUTO_TEXT_FILE_MIN_CHARS, MAX_BATCH, MAX_WINDOW
from ...core.errors import DataError
from ...core.text import MAX_TEXT_FILE_BYTES, MAX_VOCAB, Vocabulary, read_text_file_hashed
from .common import GREY, tooltip

PREVIEW_CHARS = 1_500
DEFAULT_WINDOW = 64  # core TaskConfig.window
DEFAULT_STREAMS = 32  # core TaskConfig.batch_size


@dataclass(frozen=True)
class TextFileInfo:
    """What a text file holds, as the network will see it."""

    path: str
    size_bytes: int
    characters: int
    vocab_size: int  # different characters + 1 for unseen ones
    lines: int
    preview: str
    sha256: str

    @property
    def default_valid_fraction(self) -> float:
        """The core's default: the last 10% of a file of 10,000+ characters."""
        return AUTO_TEXT_FILE_FRACTION if self.characters >= AUTO_TEXT_FILE_MIN_CHARS else 0.0


def read_text_file_info(path: str) -> TextFileInfo:
    """Read ``path`` as ``rnn-studio train --text-file`` does; DataError in plain words."""
    text, digest = read_text_file_hashed(path)
    vocab = Vocabulary.from_texts([text])
    if len(vocab) > MAX_VOCAB:
        raise DataError(f"the text uses {len(vocab) - 1:,} different characters; the limit is {MAX_VOCAB - 1:,}")
    if len(text) < 3:
        raise DataError("the text is too short to train on: it needs at least three characters")
    return TextFileInfo(
        path=os.path.abspath(path),
        size_bytes=os.path.getsize(path),
        characters=len(text),
        vocab_size=len(vocab),
        lines=text.count("\n") + (0 if text.endswith("\n") else 1),
        preview=text[:PREVIEW_CHARS],
        sha256=digest,
    )


def size_words(size: int) -> str:
    if size >= 2**20:
        return f"{size / 2**20:,.1f} MiB"
    if size >= 1024:
        return f"{size / 1024:,.1f} KiB"
    return f"{size:,} bytes"


def windows_per_epoch(characters: int, valid_fraction: float, window: int, streams: int) -> int:
    """Optimizer steps in one epoch (core.data.CorpusTask): the training part
    cut into ``streams`` streams, read ``window`` characters at a time."""
    held = int(characters * valid_fraction) if valid_fraction > 0 else 0
    train = max(3, characters - held)
    streams = max(1, min(streams, (train - 1) // 2))
    stream_len = (train - 1) // streams
    return max(1, math.ceil(stream_len / max(1, min(window, stream_len))))


class TextFileBox(QWidget):
    """Open text file…, the file's figures and preview, and how it is read."""

    changed = Signal()  # the file, its window or its batch changed
    closeRequested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("textFileBox")
        self.info: TextFileInfo | None = None
        self.missing: str | None = None  # a file named (by an opened model) that cannot be read now: why
        self._path: str | None = None
        self._valid_fraction = 0.0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.textFileInfo = QLabel(self)
        self.textFileInfo.setObjectName("textFileInfo")
        self.textFileInfo.setWordWrap(True)
        self.textFileInfo.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.textFileInfo)
        self.textFilePreview = QPlainTextEdit(self)
        self.textFilePreview.setObjectName("textFilePreview")
        self.textFilePreview.setReadOnly(True)
        mono = QFont("DejaVu Sans Mono")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setPointSize(10)
        self.textFilePreview.setFont(mono)
        self.textFilePreview.setMinimumHeight(60)
        tooltip(self.textFilePreview, f"The start of the file (its first {PREVIEW_CHARS:,} characters), as the "
                "network reads it. Training reads all of it.")
        layout.addWidget(self.textFilePreview, 1)
        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.windowSpin = QSpinBox(self)
        self.windowSpin.setObjectName("windowSpin")
        self.windowSpin.setRange(2, MAX_WINDOW)
        self.windowSpin.setValue(DEFAULT_WINDOW)
        tooltip(self.windowSpin, f"How many characters the network reads before each weight update (2 to "
                f"{MAX_WINDOW:,}). The hidden state carries on into the next window, but the gradient flows back "
                "only this far (truncated backpropagation through time).")
        form.addRow("Window length", self.windowSpin)
        self.streamsSpin = QSpinBox(self)
        self.streamsSpin.setObjectName("streamsSpin")
        self.streamsSpin.setRange(1, MAX_BATCH)
        self.streamsSpin.setValue(DEFAULT_STREAMS)
        tooltip(self.streamsSpin, f"Batch size for a text file: the file is cut into this many pieces, read side "
                f"by side, in order (1 to {MAX_BATCH:,}). More pieces: fewer, larger steps per epoch.")
        form.addRow("Batch (parallel streams)", self.streamsSpin)
        layout.addLayout(form)
        row = QHBoxLayout()
        self.closeTextFileButton = QPushButton("Back to typed sentences", self)
        self.closeTextFileButton.setObjectName("closeTextFileButton")
        tooltip(self.closeTextFileButton, "Train on the sentences typed in the box again instead of the file.")
        row.addWidget(self.closeTextFileButton)
        row.addStretch(1)
        layout.addLayout(row)
        self.windowSpin.valueChanged.connect(self._settings_changed)
        self.streamsSpin.valueChanged.connect(self._settings_changed)
        self.closeTextFileButton.clicked.connect(self.closeRequested)

    @property
    def path(self) -> str | None:
        return self._path

    def set_file(self, info: TextFileInfo) -> None:
        self.info, self._path, self.missing = info, info.path, None
        self.textFilePreview.setPlainText(info.preview)
        self.show_info()
        self.changed.emit()

    def set_missing(self, path: str, why: str) -> None:
        """A file an opened model names that cannot be read now: say why."""
        self.info, self._path, self.missing = None, path, why
        self.textFilePreview.clear()
        self.show_info()
        self.changed.emit()

    def clear(self) -> None:
        self.info = self._path = self.missing = None
        self.textFilePreview.clear()
        self.textFileInfo.clear()

    def set_valid_fraction(self, fraction: float) -> None:
        self._valid_fraction = fraction
        self.show_info()

    def _settings_changed(self, *_args) -> None:
        self.show_info()
        self.changed.emit()

    def show_info(self) -> None:
        info = self.info
        if info is None:
            if self._path:
                self.textFileInfo.setText(
                    f"<b>{os.path.basename(self._path)}</b><br><span style='color:#b71c1c'>{self.missing}</span>"
                )
                self.textFileInfo.setToolTip(self._path)
            return
        steps = windows_per_epoch(info.characters, self._valid_fraction, self.windowSpin.value(),
                                  self.streamsSpin.value())
        held = ""
        if self._valid_fraction > 0:
            held = f" · last {self._valid_fraction:.0%} held out for validation"
        self.textFileInfo.setText(
            f"<b>{os.path.basename(info.path)}</b><br>"
            f"{size_words(info.size_bytes)} · {info.characters:,} characters · {info.lines:,} lines<br>"
            f"{info.vocab_size - 1:,} different characters + 1 for unseen ones = {info.vocab_size:,} to choose from"
            f"<br><span style='color:{GREY}'>{steps:,} windows (training steps) per epoch{held}</span>"
        )
        tooltip(self.textFileInfo, f"{info.path}\nSHA-256 {info.sha256}\nA saved model remembers this file and "
                f"its hash: if the file changes, the model still answers prompts but cannot go on training. "
                f"At most {MAX_TEXT_FILE_BYTES // 2**20} MiB.")

    @property
    def vocab_size(self) -> int:
        return self.info.vocab_size if self.info is not None else 0
