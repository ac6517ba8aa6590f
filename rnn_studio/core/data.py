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

Classify follows seed 002's sentence classifier (many-to-one, seed 004's
shape): labelled texts, seed 002's TextPreprocessor (``labelled``), one label
per text.

Every task can hold part of its data out for validation (``valid_batches``):
typed sentences and labelled examples by a seeded draw, a text file its tail,
sine its last windows (random phases, so a random subset). Sentences, sine
windows and labelled examples train in minibatches of ``batch_examples``,
in the order the trainer draws each epoch (seed 002's
``DataLoader(shuffle=True)``); a text file's windows stay in order, since
each carries the state of the one before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .config import MAX_CLASSIFY_LENGTH, TaskConfig, resolved_valid_fraction
from .errors import DataError
from .labelled import TokenVocabulary, parse_examples, read_labelled_file, split_indices  # noqa: F401
from .text import (  # noqa: F401  (re-exported: the tasks' public names)
    MAX_TEXT_FILE_BYTES,
    MAX_VOCAB,
    UNKNOWN,
    Vocabulary,
    clean_sentences,
    read_text_file,
    read_text_file_hashed,
)

# classify: examples x tokens held as one int64 tensor; 50M positions = 400 MB
MAX_CLASSIFY_POSITIONS = 50_000_000
AUTO_MAX_LENGTH = {"word": 100, "char": 400}  # seed 002's max_length=100 words



def one_hot(indices: torch.Tensor, size: int) -> torch.Tensor:
    return torch.nn.functional.one_hot(indices, size).to(torch.float32)


@dataclass
class Batch:
    inputs: torch.Tensor  # long [B, T] for text and classify, float [B, T, 1] for sine
    targets: torch.Tensor  # long [B, T] for text, [B] for classify; float [B] (next-value) or [B, T, 1]


class _Minibatches:
    """Minibatches of whole examples (rows of ``batch``), in the order the
    trainer draws: ``batches(order)`` with ``order`` a permutation of the
    training rows, or None for their stored order."""

    batch: Batch
    batch_examples: int = 0

    def _setup_minibatches(self, batch_examples: int, shuffle: bool = True) -> None:
        self.train_size = int(self.batch.inputs.shape[0])
        size = batch_examples if 0 < batch_examples < self.train_size else self.train_size
        self.batch_examples = size
        self.steps_per_epoch = math.ceil(self.train_size / size)
        # one batch holding everything: the order changes nothing, so nothing is drawn
        self.shuffles = self.steps_per_epoch > 1 and bool(shuffle)

    def _rows(self, batch: Batch, rows) -> Batch:
        return Batch(batch.inputs[rows], batch.targets[rows])

    def batches(self, order: torch.Tensor | None = None):
        """One epoch: (batch, reset_hidden) pairs."""
        if self.steps_per_epoch <= 1:
            yield self.batch, True
            return
        if order is None:
            order = torch.arange(self.train_size)
        order = order.to(self.batch.inputs.device)
        for start in range(0, self.train_size, self.batch_examples):
            yield self._rows(self.batch, order[start : start + self.batch_examples]), True


class SentenceTask(_Minibatches):
    """Seed 000: every sentence in one batch, next character at every position."""

    kind = "text"
    mode = "sentences"
    output = "sequence"

    def __init__(self, sentences, vocab: Vocabulary | None = None, valid_fraction: float = 0.0,
                 batch_examples: int = 0, seed: int = 0, shuffle: bool = True):
        self.sentences = clean_sentences(sentences)
        maxlen = max(len(s) for s in self.sentences)
        padded = [s.ljust(maxlen) for s in self.sentences]  # the seed pads with spaces
        # The character vocabulary covers the held-out sentences too: it is the
        # alphabet, not what is learnt, and an unseen letter there would only
        # measure that the network cannot predict index 0.
        self.vocab = vocab or Vocabulary.from_texts(padded)  # the padding is a character too
        train, valid = split_indices(len(padded), valid_fraction, seed, "sentences")
        self.padded = [padded[i] for i in train]
        self.valid_padded = [padded[i] for i in valid]
        self.batch = self._encode(self.padded)
        self.valid_batch = self._encode(self.valid_padded) if len(valid) else None
        self._setup_minibatches(batch_examples, shuffle)

    def _encode(self, padded) -> Batch:
        idx = torch.tensor([self.vocab.encode(s) for s in padded], dtype=torch.long)
        return Batch(inputs=idx[:, :-1].contiguous(), targets=idx[:, 1:].contiguous())

    @property
    def seq_len(self) -> int:
        return self.batch.inputs.shape[1]

    def to(self, device) -> SentenceTask:
        self.batch = Batch(self.batch.inputs.to(device), self.batch.targets.to(device))
        if self.valid_batch is not None:
            self.valid_batch = Batch(self.valid_batch.inputs.to(device), self.valid_batch.targets.to(device))
        return self

    def valid_batches(self):
        """The held-out data as (batch, reset_hidden) pairs; empty without a split."""
        if self.valid_batch is not None:
            yield self.valid_batch, True


def corpus_indices(text: str, vocab: Vocabulary | None = None) -> tuple[np.ndarray, Vocabulary]:
    """(the text as vocabulary indices, the vocabulary): uint8 when the
    vocabulary has at most 256 entries (1 byte a character), int16 otherwise.

    Vectorised: the characters become code points in one ``str.encode`` (one
    byte each for ASCII and Latin-1 text), the vocabulary is the code points
    that occur (a ``bincount``), and a lookup table indexed by code point
    gives each one's index. A 50 MiB file takes well under a second, where
    a dictionary lookup per character took ~5 s (issue 12)."""
    if text.isascii():
        codes = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    else:
        try:
            codes = np.frombuffer(text.encode("latin-1"), dtype=np.uint8)
        except UnicodeEncodeError:
            codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    # numpy makes int64 copies of small integer indices (bincount, a lookup):
    # chunks keep those temporaries at 32 MB instead of 8 bytes a character
    chunks = [slice(start, start + _CHUNK) for start in range(0, len(codes), _CHUNK)]
    counts = np.zeros(1, dtype=np.int64)
    for chunk in chunks:
        part = np.bincount(codes[chunk])
        if len(part) > len(counts):
            part[: len(counts)] += counts
            counts = part
        else:
            counts[: len(part)] += part
    present = np.flatnonzero(counts)
    if vocab is None:
        vocab = Vocabulary(chr(c) for c in present.tolist())
    if len(vocab) > MAX_VOCAB:
        return codes[:0], vocab  # the caller refuses it, in words
    dtype = np.uint8 if len(vocab) <= 256 else np.int16
    table = np.zeros(len(counts), dtype=dtype)
    for code in present.tolist():
        table[code] = vocab.stoi.get(chr(code), 0)  # 0: a character the vocabulary never saw
    indices = np.empty(len(codes), dtype=dtype)
    for chunk in chunks:
        indices[chunk] = table[codes[chunk]]
    return indices, vocab


_CHUNK = 1 << 22


def _streams(flat: torch.Tensor, batch_size: int) -> tuple[torch.Tensor, torch.Tensor, int]:
    """``batch_size`` streams over ``flat``, the b-th a contiguous slice of the
    text; targets are the inputs shifted by one. Both are views of ``flat``:
    no copy of the corpus, one byte a character for a small vocabulary."""
    batch_size = max(1, min(batch_size, (len(flat) - 1) // 2))
    stream_len = (len(flat) - 1) // batch_size
    usable = stream_len * batch_size
    inputs = flat[:usable].view(batch_size, stream_len)
    targets = flat[1 : usable + 1].view(batch_size, stream_len)
    return inputs, targets, batch_size


class CorpusTask:
    """A whole text read in windows by ``batch_size`` streams (truncated BPTT).

    With ``valid_fraction`` the text's tail is held out, read the same way.
    The text is held once, as indices (uint8 for up to 256 characters):
    ``inputs`` and ``targets`` are views of it, and each window is made
    ``long`` (and one-hot, in the model) only when it is read, so memory
    grows with batch x window x vocabulary, never with the corpus x vocabulary."""

    kind = "text"
    mode = "corpus"
    output = "sequence"
    shuffles = False  # each window carries the state of the one before it

    def __init__(self, text: str, window: int, batch_size: int, vocab: Vocabulary | None = None,
                 valid_fraction: float = 0.0):
        if len(text) < 3:
            raise DataError("the text is too short to train on: it needs at least three characters")
        data, self.vocab = corpus_indices(text, vocab)
        if len(self.vocab) > MAX_VOCAB:
            raise DataError(f"the text uses {len(self.vocab) - 1:,} different characters; the limit is {MAX_VOCAB - 1:,}")
        self.sentences = []
        held = int(len(data) * valid_fraction) if valid_fraction > 0 else 0
        if held:
            if held < 3 or len(data) - held < 3:
                raise DataError(
                    f"holding {valid_fraction:g} of a {len(text):,}-character text out for validation leaves too "
                    "little on one side: each part needs at least three characters"
                )
        flat = torch.from_numpy(data)
        self._flat = flat[: len(data) - held] if held else flat
        self._valid_flat = flat[len(data) - held :] if held else None
        self._requested_batch = batch_size
        self._make_streams()
        stream_len = self.inputs.shape[1]
        window = max(1, min(window, stream_len))
        self.window = window
        self.steps_per_epoch = math.ceil(stream_len / window)
        self.seq_len = window
        self.train_size = len(data) - held

    def _make_streams(self) -> None:
        self.inputs, self.targets, self.batch_size = _streams(self._flat, self._requested_batch)
        self.valid_inputs = self.valid_targets = None
        if self._valid_flat is not None:
            self.valid_inputs, self.valid_targets, _ = _streams(self._valid_flat, self.batch_size)

    def to(self, device) -> CorpusTask:
        self._flat = self._flat.to(device)
        if self._valid_flat is not None:
            self._valid_flat = self._valid_flat.to(device)
        self._make_streams()
        return self

    @staticmethod
    def _windows(inputs, targets, window):
        n = inputs.shape[1]
        for i, start in enumerate(range(0, n, window)):
            end = min(start + window, n)
            yield Batch(inputs[:, start:end].long(), targets[:, start:end].long()), i == 0

    def batches(self, order=None):
        return self._windows(self.inputs, self.targets, self.window)

    def valid_batches(self):
        if self.valid_inputs is None:
            return iter(())
        return self._windows(self.valid_inputs, self.valid_targets, self.window)

class SineTask(_Minibatches):
    """Seeds 002 (next-value) and 003 (sequence)."""

    kind = "sine"

    def __init__(self, cfg: TaskConfig, seed: int = 0):
        self.mode = cfg.sine_mode
        self.vocab = None
        self.sentences = []
        self.valid_batch = None
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
            # the phases are random: the last windows are as good a sample as any
            fraction = resolved_valid_fraction(cfg, cfg.sine_windows)
            held = 0
            if fraction > 0:
                held = min(max(int(round(cfg.sine_windows * fraction)), 1), cfg.sine_windows - 1)
                if held < 1:
                    raise DataError("holding windows out for validation needs at least two sine windows")
                self.valid_batch = Batch(inputs[-held:], targets[-held:])
                inputs, targets = inputs[:-held], targets[:-held]
        else:
            self.output = "sequence"
            # seed 003: np.sin(np.linspace(2, 10, seq_length + 1))
            wave = np.sin(np.linspace(2.0, 10.0, n + 1))
            if cfg.sine_noise:
                wave = wave + rng.normal(0.0, cfg.sine_noise, size=wave.shape)
            inputs = torch.tensor(wave[:-1], dtype=torch.float32).view(1, n, 1)
            targets = torch.tensor(wave[1:], dtype=torch.float32).view(1, n, 1)
        self.batch = Batch(inputs, targets)
        self.seq_len = n
        self._setup_minibatches(cfg.batch_examples if self.mode == "next-value" else 0, cfg.shuffle)

    def to(self, device) -> SineTask:
        self.batch = Batch(self.batch.inputs.to(device), self.batch.targets.to(device))
        if self.valid_batch is not None:
            self.valid_batch = Batch(self.valid_batch.inputs.to(device), self.valid_batch.targets.to(device))
        return self

    def valid_batches(self):
        if self.valid_batch is not None:
            yield self.valid_batch, True


class ClassifyTask(_Minibatches):
    """Labelled texts -> one class each (seed 002's sentence classifier).

    ``vocab``, ``labels`` and ``max_length`` are given when a checkpoint is
    reopened: the data must then be read exactly as it was in training."""

    kind = "classify"
    mode = "classify"
    output = "class"

    def __init__(self, cfg: TaskConfig, seed: int = 0, vocab: TokenVocabulary | None = None,
                 labels: list[str] | None = None, max_length: int | None = None, examples=None):
        self.sentences = []
        self.data_hash = None
        if examples is None:
            if cfg.data_file:
                examples, self.data_hash = read_labelled_file(cfg.data_file)
            else:
                examples = parse_examples(cfg.examples)
        self.labels = list(labels) if labels is not None else sorted({label for _, label in examples})
        index = {label: i for i, label in enumerate(self.labels)}
        unknown = sorted({label for _, label in examples} - set(index))
        if unknown:
            raise DataError(f"the data has the label '{unknown[0][:30]}', which the trained model does not know")
        self.texts = [text for text, _ in examples]
        self.targets_all = [index[label] for _, label in examples]
        train, valid = split_indices(len(examples), resolved_valid_fraction(cfg, len(examples)), seed, "examples")
        self.train_rows, self.valid_rows = train, valid
        self.vocab = vocab or TokenVocabulary.from_texts([self.texts[i] for i in train], cfg.max_vocab, cfg.level)
        encoded = [self.vocab.encode(t) for t in self.texts]
        if max_length is None:
            max_length = cfg.max_length or min(AUTO_MAX_LENGTH.get(cfg.level, 100),
                                               max(len(encoded[i]) for i in train))
        self.max_length = max(1, min(int(max_length), MAX_CLASSIFY_LENGTH))
        if len(encoded) * self.max_length > MAX_CLASSIFY_POSITIONS:
            raise DataError(
                f"{len(encoded):,} examples of up to {self.max_length:,} tokens are too many to hold at once; "
                "use fewer examples or a smaller maximum length"
            )
        inputs = torch.zeros(len(encoded), self.max_length, dtype=torch.long)  # 0 pads (seed 002)
        for row, ids in enumerate(encoded):
            ids = ids[: self.max_length] or [1]  # a text of whitespace only: one unknown token
            inputs[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        self.lengths = (inputs != 0).sum(1)
        targets = torch.tensor(self.targets_all, dtype=torch.long)
        rows = torch.from_numpy(train)
        self.batch = Batch(inputs[rows], targets[rows])
        self.valid_batch = None
        if len(valid):
            rows = torch.from_numpy(valid)
            self.valid_batch = Batch(inputs[rows], targets[rows])
        self.seq_len = self.max_length
        self._setup_minibatches(cfg.batch_examples, cfg.shuffle)

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    def _rows(self, batch: Batch, rows) -> Batch:
        # cut the padding every example of this minibatch has: the model masks it anyway
        inputs = batch.inputs[rows]
        longest = int((inputs != 0).sum(1).max())
        return Batch(inputs[:, : max(1, longest)], batch.targets[rows])

    def to(self, device) -> ClassifyTask:
        self.batch = Batch(self.batch.inputs.to(device), self.batch.targets.to(device))
        if self.valid_batch is not None:
            self.valid_batch = Batch(self.valid_batch.inputs.to(device), self.valid_batch.targets.to(device))
        return self

    def valid_batches(self, size: int = 256):
        if self.valid_batch is None:
            return
        n = self.valid_batch.inputs.shape[0]
        for start in range(0, n, size):
            yield self._rows(self.valid_batch, slice(start, start + size)), True

    def split_of(self, row: int) -> str:
        return "train" if row in set(self.train_rows.tolist()) else "valid"


def build_task(cfg: TaskConfig, seed: int = 0, vocab=None, **classify):
    if cfg.kind == "sine":
        return SineTask(cfg, seed)
    if cfg.kind == "classify":
        return ClassifyTask(cfg, seed, vocab, **classify)
    if cfg.text_file:
        text, digest = read_text_file_hashed(cfg.text_file)
        task = CorpusTask(text, cfg.window, cfg.batch_size, vocab, resolved_valid_fraction(cfg, len(text)))
        task.data_hash = digest
        return task
    sentences = clean_sentences(cfg.sentences)
    return SentenceTask(sentences, vocab, resolved_valid_fraction(cfg, len(sentences)), cfg.batch_examples, seed,
                        cfg.shuffle)
