"""Vocabularies and tasks: the tensors a run trains on.

Text follows seeds 000/001: a character vocabulary, sentences padded with
spaces to equal length, input and target shifted by one, all sentences as one
batch. Unlike the seed (``set()`` order changes between runs) the vocabulary is
sorted, and index 0 is reserved for characters never seen in training.

A whole text (a file) is cut into ``batch_size`` parallel streams and read in
windows of ``window`` characters with the hidden state carried across windows
(truncated backpropagation through time, as pytorch/examples'
word_language_model). Inputs stay as indices; one-hot vectors are made per
window, so memory grows with batch x window x vocabulary, never with the corpus.

Sine follows seed 002 (``next-value``: random-phase windows, predict the point
after the window) and seed 003 (``sequence``: one sequence, the target is the
input shifted by one step).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .config import TaskConfig
from .errors import DataError
from .text import (  # noqa: F401  (re-exported: the tasks' public names)
    MAX_TEXT_FILE_BYTES,
    MAX_VOCAB,
    UNKNOWN,
    Vocabulary,
    clean_sentences,
    read_text_file,
)


def one_hot(indices: torch.Tensor, size: int) -> torch.Tensor:
    return torch.nn.functional.one_hot(indices, size).to(torch.float32)


@dataclass
class Batch:
    inputs: torch.Tensor  # long [B, T] for text, float [B, T, 1] for sine
    targets: torch.Tensor  # long [B, T] for text; float [B] (next-value) or [B, T, 1]


class SentenceTask:
    """Seed 000: every sentence in one batch, next character at every position."""

    kind = "text"
    mode = "sentences"
    output = "sequence"

    def __init__(self, sentences, vocab: Vocabulary | None = None):
        self.sentences = clean_sentences(sentences)
        maxlen = max(len(s) for s in self.sentences)
        self.padded = [s.ljust(maxlen) for s in self.sentences]  # the seed pads with spaces
        self.vocab = vocab or Vocabulary.from_texts(self.padded)  # the padding is a character too
        idx = torch.tensor([self.vocab.encode(s) for s in self.padded], dtype=torch.long)
        self.batch = Batch(inputs=idx[:, :-1].contiguous(), targets=idx[:, 1:].contiguous())
        self.steps_per_epoch = 1

    @property
    def seq_len(self) -> int:
        return self.batch.inputs.shape[1]

    def to(self, device) -> SentenceTask:
        self.batch = Batch(self.batch.inputs.to(device), self.batch.targets.to(device))
        return self

    def batches(self):
        """One epoch: (batch, reset_hidden) pairs."""
        yield self.batch, True


class CorpusTask:
    """A whole text read in windows by ``batch_size`` streams (truncated BPTT)."""

    kind = "text"
    mode = "corpus"
    output = "sequence"

    def __init__(self, text: str, window: int, batch_size: int, vocab: Vocabulary | None = None):
        if len(text) < 3:
            raise DataError("the text is too short to train on: it needs at least three characters")
        self.vocab = vocab or Vocabulary.from_texts([text])
        if len(self.vocab) > MAX_VOCAB:
            raise DataError(f"the text uses {len(self.vocab) - 1:,} different characters; the limit is {MAX_VOCAB - 1:,}")
        self.sentences = []
        data = np.fromiter((self.vocab.stoi.get(c, 0) for c in text), dtype=np.int32, count=len(text))
        batch_size = max(1, min(batch_size, (len(data) - 1) // 2))
        stream_len = (len(data) - 1) // batch_size
        window = max(1, min(window, stream_len))
        self.window, self.batch_size = window, batch_size
        # streams[b] is the b-th contiguous slice of the text (+1 for targets)
        usable = stream_len * batch_size
        self.inputs = torch.from_numpy(data[:usable].reshape(batch_size, stream_len).copy())
        self.targets = torch.from_numpy(data[1 : usable + 1].reshape(batch_size, stream_len).copy())
        self.steps_per_epoch = math.ceil(stream_len / window)
        self.seq_len = window

    def to(self, device) -> CorpusTask:
        self.inputs, self.targets = self.inputs.to(device), self.targets.to(device)
        return self

    def batches(self):
        n = self.inputs.shape[1]
        for i, start in enumerate(range(0, n, self.window)):
            end = min(start + self.window, n)
            yield Batch(self.inputs[:, start:end].long(), self.targets[:, start:end].long()), i == 0


class SineTask:
    """Seeds 002 (next-value) and 003 (sequence)."""

    kind = "sine"

    def __init__(self, cfg: TaskConfig, seed: int = 0):
        self.mode = cfg.sine_mode
        self.vocab = None
        self.sentences = []
        n = cfg.sine_window_len
        rng = np.random.default_rng(seed)
        if self.mode == "next-value":
            self.output = "last"
            start = rng.uniform(0, 2 * np.pi, size=(cfg.sine_windows, 1))
            # seed 002: np.sin(np.linspace(start, start + 2*pi, seq_length + 1))
            wave = np.sin(start + np.linspace(0.0, 2 * np.pi, n + 1)[None, :])
            if cfg.sine_noise:
                wave = wave + rng.normal(0.0, cfg.sine_noise, size=wave.shape)
            inputs = torch.tensor(wave[:, :-1], dtype=torch.float32).unsqueeze(-1)
            targets = torch.tensor(wave[:, -1], dtype=torch.float32)
            self.steps_per_epoch = 1
        else:
            self.output = "sequence"
            # seed 003: np.sin(np.linspace(2, 10, seq_length + 1))
            wave = np.sin(np.linspace(2.0, 10.0, n + 1))
            if cfg.sine_noise:
                wave = wave + rng.normal(0.0, cfg.sine_noise, size=wave.shape)
            inputs = torch.tensor(wave[:-1], dtype=torch.float32).view(1, n, 1)
            targets = torch.tensor(wave[1:], dtype=torch.float32).view(1, n, 1)
            self.steps_per_epoch = 1
        self.batch = Batch(inputs, targets)
        self.seq_len = n

    def to(self, device) -> SineTask:
        self.batch = Batch(self.batch.inputs.to(device), self.batch.targets.to(device))
        return self

    def batches(self):
        yield self.batch, True


def build_task(cfg: TaskConfig, seed: int = 0, vocab: Vocabulary | None = None):
    if cfg.kind == "sine":
        return SineTask(cfg, seed)
    if cfg.text_file:
        return CorpusTask(read_text_file(cfg.text_file), cfg.window, cfg.batch_size, vocab)
    return SentenceTask(cfg.sentences, vocab)
