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
import os
from dataclasses import dataclass

import numpy as np
import torch

from .config import MAX_SENTENCES_CHARS, TaskConfig
from .errors import DataError

UNKNOWN = "\ufffd"  # shown for the unknown index when decoding
MAX_TEXT_FILE_BYTES = 50 * 1024 * 1024
MAX_VOCAB = 4096


class Vocabulary:
    """Sorted characters; index 0 stands for any character not seen in training."""

    def __init__(self, chars):
        chars = sorted(set(chars) - {UNKNOWN})
        self.chars: list[str] = chars
        self.itos: list[str] = [UNKNOWN, *chars]
        self.stoi: dict[str, int] = {c: i for i, c in enumerate(self.itos)}
        self.stoi.pop(UNKNOWN)
        # Seed 000 lower-cases the prompt; do the same only when training saw
        # no upper-case letters, so case-sensitive data keeps its meaning.
        self.lowercase_prompts = not any(c != c.lower() for c in chars)

    unknown_index = 0

    def __len__(self) -> int:
        return len(self.itos)

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocabulary) and self.itos == other.itos

    @classmethod
    def from_texts(cls, texts) -> Vocabulary:
        chars = set()
        for text in texts:
            chars.update(text)
        return cls(chars)

    def encode(self, text: str) -> list[int]:
        return [self.stoi.get(c, 0) for c in text]

    def unknown_chars(self, text: str) -> list[str]:
        """Characters of ``text`` that map to the unknown index, in order, once each."""
        seen: dict[str, None] = {}
        for c in text:
            if c not in self.stoi:
                seen.setdefault(c, None)
        return list(seen)

    def decode(self, indices) -> str:
        return "".join(self.itos[i] if 0 <= i < len(self.itos) else UNKNOWN for i in indices)

    def prepare_prompt(self, prompt: str) -> str:
        return prompt.lower() if self.lowercase_prompts else prompt


def clean_sentences(sentences) -> list[str]:
    """Normalise line ends and drop blank lines; refuse what cannot train."""
    if isinstance(sentences, str):
        sentences = sentences.split("\n")
    out = []
    for s in sentences:
        if not isinstance(s, str):
            raise DataError("sentences must be text")
        s = s.replace("\r\n", "\n").replace("\r", "")
        for line in s.split("\n"):
            if line.strip():
                out.append(line)
    if not out:
        raise DataError("no sentences to train on: type at least one sentence with a visible character")
    total = sum(len(s) for s in out)
    if total > MAX_SENTENCES_CHARS:
        raise DataError(
            f"the sentences hold {total:,} characters; the limit is {MAX_SENTENCES_CHARS:,} "
            "(for a longer text, train on it as a text file)"
        )
    if max(len(s) for s in out) < 2:
        raise DataError("every sentence is a single character: a sentence needs at least two to predict one from another")
    return out


def read_text_file(path: str) -> str:
    """Read a UTF-8 text file, with a plain message for each way this can fail."""
    if not path:
        raise DataError("no text file given")
    if not os.path.exists(path):
        raise DataError(f"text file not found: {path}")
    if os.path.isdir(path):
        raise DataError(f"{path} is a folder, not a text file")
    try:
        size = os.path.getsize(path)
        if size > MAX_TEXT_FILE_BYTES:
            raise DataError(f"{path} is {size / 1e6:.0f} MB; the limit is {MAX_TEXT_FILE_BYTES // 2**20} MiB")
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8") from None
    text = text.replace("\r\n", "\n")
    if "\x00" in text:
        raise DataError(f"{path} contains NUL bytes: it looks like a binary file, not text")
    if len(text.strip()) == 0:
        raise DataError(f"{path} holds no text")
    return text


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
