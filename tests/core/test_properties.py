"""Property tests over arbitrary unicode for everything that handles text.

Emoji, combining marks, right-to-left scripts, zero-width characters, NUL,
Windows line ends, lone carriage returns: each either works or is refused
with a DataError, never another exception (and never a KeyError).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rnn_studio.core.config import RunConfig
from rnn_studio.core.data import UNKNOWN, CorpusTask, SentenceTask, Vocabulary, clean_sentences, read_text_file
from rnn_studio.core.errors import DataError
from rnn_studio.core.generation import complete
from rnn_studio.core.training import Trainer

SPECIAL = [
    "😀", "👍🏽", "👨‍👩‍👧", "🇫🇷",  # emoji, skin tone, ZWJ family, flag
    "e\u0301", "\u0301", "\u0336",  # combining marks (also on their own)
    "שלום", "مرحبا", "\u202e", "\u200f",  # right-to-left scripts and marks
    "\u200b", "\u200c", "\u200d", "\ufeff", "\u2060",  # zero-width
    "\x00", "\r\n", "\r", "\n", "\t", "\u2028", "\u0085", " ", "\u00a0", "\u3000",
    "İ", "ß", "ﬃ", "Σ", "\ufffd", "\U0010ffff",  # case mapping changes length; the unknown mark itself
    "a", "b", "good",
]
# st.text() itself, plus strings built from the awkward pieces above mixed with arbitrary characters
text = st.text(max_size=40) | st.lists(st.one_of(st.characters(exclude_categories=("Cs",)), st.sampled_from(SPECIAL)), max_size=20).map("".join)
sentences = st.one_of(text, st.lists(text, max_size=6))

FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(text)
@example("")
@example("\ufffd\ufffd")
def test_vocabulary_round_trip_for_in_vocabulary_text(s):
    vocab = Vocabulary.from_texts([s])
    indices = vocab.encode(s)
    assert all(0 <= i < len(vocab) for i in indices)
    assert vocab.decode(indices) == s
    assert vocab.chars == sorted(set(s) - {UNKNOWN})
    assert vocab.unknown_chars(s) == ([UNKNOWN] if UNKNOWN in s else [])


@FAST
@given(st.lists(text, max_size=5), text)
def test_vocabulary_order_free_and_total_over_unseen_text(texts, other):
    vocab = Vocabulary.from_texts(texts)
    assert vocab == Vocabulary.from_texts(list(reversed(texts)))
    assert vocab.itos[0] == UNKNOWN and vocab.chars == sorted(vocab.chars)
    indices = vocab.encode(other)
    assert len(indices) == len(other)
    unknown = set(vocab.unknown_chars(other))
    for ch, i in zip(other, indices, strict=True):
        assert (i == 0) == (ch in unknown or ch == UNKNOWN)
        if i:
            assert vocab.itos[i] == ch


@FAST
@given(sentences)
@example(["   ", "\t"])
@example("\r\n\r\n")
@example(["a", "b"])
@example(["\x00\x00"])
def test_clean_sentences_returns_lines_or_data_error(value):
    try:
        out = clean_sentences(value)
    except DataError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert isinstance(out, list) and out
    for line in out:
        assert isinstance(line, str) and line.strip()
        assert "\n" not in line and "\r" not in line
    assert max(len(line) for line in out) >= 2


@FAST
@given(sentences)
def test_sentence_task_consistent_tensors_or_data_error(value):
    try:
        task = SentenceTask(value)
    except DataError:
        return
    x, y = task.batch.inputs, task.batch.targets
    n, width = len(task.sentences), max(len(s) for s in task.sentences)
    assert x.dtype == y.dtype == torch.long
    assert tuple(x.shape) == tuple(y.shape) == (n, width - 1)
    assert int(x.min()) >= 0 and int(x.max()) < len(task.vocab)
    assert int(y.min()) >= 0 and int(y.max()) < len(task.vocab)
    assert torch.equal(x[:, 1:], y[:, :-1])
    for row, padded in enumerate(task.padded):
        assert task.vocab.decode(x[row].tolist()) + padded[-1] == padded


@FAST
@given(text, st.integers(1, 20), st.integers(1, 6))
def test_corpus_task_consistent_tensors_or_data_error(s, window, batch_size):
    try:
        task = CorpusTask(s, window=window, batch_size=batch_size)
    except DataError:
        assert len(s) < 3
        return
    assert not task.inputs.is_floating_point()
    assert task.inputs.shape == task.targets.shape
    assert task.inputs.numel() <= len(s)
    seen = 0
    for batch, _ in task.batches():
        assert batch.inputs.shape == batch.targets.shape
        assert batch.inputs.shape[1] <= task.window
        seen += batch.inputs.shape[1]
    assert seen == task.inputs.shape[1]


@FAST
@given(st.binary(max_size=200) | text.map(lambda s: s.encode("utf-8")) | text.map(lambda s: s.encode("utf-16")))
def test_read_text_file_any_bytes_text_or_data_error(content):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "any.txt"
        path.write_bytes(content)
        try:
            out = read_text_file(str(path))
        except DataError as exc:
            assert "\n" not in str(exc)
            return
    assert isinstance(out, str) and out.strip()
    assert "\x00" not in out and "\r\n" not in out


@pytest.fixture(scope="module")
def small_model():
    cfg = RunConfig()
    cfg.train.device, cfg.train.epochs = "cpu", 10
    trainer = Trainer(cfg)
    while not trainer.finished:
        trainer.step()
    return trainer


@FAST
@given(prompt=text, length=st.integers(1, 40), temperature=st.sampled_from([0.0, 0.0, 0.7, 2.0]))
@example(prompt="", length=15, temperature=0.0)
@example(prompt="İİ", length=3, temperature=0.0)
@example(prompt="GOOD\x00\r\n😀", length=20, temperature=0.0)
def test_complete_any_prompt(small_model, prompt, length, temperature):
    model, vocab = small_model.model, small_model.vocab
    try:
        result = complete(model, vocab, prompt, length, temperature=temperature, seed=1)
    except DataError:
        assert prompt == ""
        return
    prepared = vocab.prepare_prompt(prompt)
    assert isinstance(result.text, str)
    assert result.text.startswith(prepared)
    assert result.prompt == prepared
    assert len(result.text) == max(length, len(prepared))
    assert set(result.generated) <= set(vocab.itos)
    assert result.unknown_chars == [c for c in dict.fromkeys(prepared) if c not in vocab.stoi]
    if temperature == 0.0:
        assert complete(model, vocab, prompt, length).text == result.text
