"""Vocabularies, text cleaning, text files and the tensors each task trains on."""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from rnn_studio.core import data, text
from rnn_studio.core.config import SEED_SENTENCES, TaskConfig
from rnn_studio.core.data import (
    UNKNOWN,
    CorpusTask,
    SentenceTask,
    SineTask,
    Vocabulary,
    build_task,
    clean_sentences,
    read_text_file,
)
from rnn_studio.core.errors import DataError

ROOT = Path(__file__).resolve().parents[2]


# -- vocabulary ------------------------------------------------------------------------------------

def test_vocabulary_sorted_with_unknown_at_zero():
    vocab = Vocabulary.from_texts(SEED_SENTENCES)
    expected = sorted(set("".join(SEED_SENTENCES)))
    assert vocab.chars == expected
    assert vocab.itos == [UNKNOWN, *expected]
    assert vocab.unknown_index == 0
    assert len(vocab) == len(expected) + 1
    for i, c in enumerate(expected, start=1):
        assert vocab.stoi[c] == i
    assert UNKNOWN not in vocab.stoi


def test_vocabulary_same_for_any_sentence_order():
    vocabs = {tuple(Vocabulary.from_texts(p).itos) for p in itertools.permutations(SEED_SENTENCES)}
    assert len(vocabs) == 1
    tasks = [SentenceTask(list(p)) for p in itertools.permutations(SEED_SENTENCES)]
    assert all(t.vocab == tasks[0].vocab for t in tasks)


def test_vocabulary_stable_across_interpreter_runs():
    """The seed's set() order changed with hash randomisation; ours must not."""
    code = ("import json; from rnn_studio.core.data import Vocabulary; "
            "print(json.dumps(Vocabulary.from_texts(['hey how are you', 'good i am fine', 'have a nice day']).itos))")
    results = []
    for hash_seed in ("1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed, PYTHONPATH=str(ROOT))
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr
        results.append(json.loads(proc.stdout))
    assert results[0] == results[1]
    assert results[0] == Vocabulary.from_texts(SEED_SENTENCES).itos


def test_encode_unknown_characters_map_to_zero_never_keyerror():
    vocab = Vocabulary.from_texts(["abc"])
    assert vocab.encode("abc") == [1, 2, 3]
    assert vocab.encode("aZb😀c") == [1, 0, 2, 0, 3]
    assert vocab.unknown_chars("aZb😀cZ\x00") == ["Z", "😀", "\x00"]  # in order, once each
    assert vocab.unknown_chars("cab") == []
    assert vocab.decode(vocab.encode("aZc")) == f"a{UNKNOWN}c"
    assert vocab.decode([99, -1, 1]) == f"{UNKNOWN}{UNKNOWN}a"


def test_replacement_character_in_training_text_is_not_a_second_unknown():
    vocab = Vocabulary.from_texts([f"ab{UNKNOWN}"])
    assert vocab.itos == [UNKNOWN, "a", "b"]
    assert vocab.encode(UNKNOWN) == [0]


def test_prompts_lowercased_only_when_training_saw_no_capitals():
    assert Vocabulary.from_texts(["good day"]).prepare_prompt("GOOD") == "good"
    assert Vocabulary.from_texts(["Good day"]).prepare_prompt("GOOD") == "GOOD"


# -- sentences ---------------------------------------------------------------------------------------

def test_clean_sentences_line_ends_and_blank_lines():
    assert clean_sentences(["ab\r\ncd", "  ", "", "ef"]) == ["ab", "cd", "ef"]
    assert clean_sentences("one\n\n  \ntwo\r\n") == ["one", "two"]
    # leading and inner spaces are part of a sentence
    assert clean_sentences([" a b "]) == [" a b "]


@pytest.mark.parametrize("bad", [[], [""], ["   ", "\t"], "", "   \n  \r\n", ["\n\n"]])
def test_clean_sentences_refuses_nothing_to_train_on(bad):
    with pytest.raises(DataError, match="no sentences"):
        clean_sentences(bad)


def test_clean_sentences_refuses_only_single_characters():
    with pytest.raises(DataError):
        clean_sentences(["a", "b"])
    assert clean_sentences(["a", "bc"]) == ["a", "bc"]


def test_one_megabyte_line_refused_with_the_limit():
    with pytest.raises(DataError, match="limit"):
        SentenceTask(["x" * 1_000_000])


def test_clean_sentences_refuses_non_text():
    with pytest.raises(DataError):
        clean_sentences(["fine", 3])


def test_clean_sentences_limit(monkeypatch):
    monkeypatch.setattr(text, "MAX_SENTENCES_CHARS", 10)
    assert clean_sentences(["abcde", "fghij"]) == ["abcde", "fghij"]
    with pytest.raises(DataError, match="limit"):
        clean_sentences(["abcde", "fghijk"])


def test_sentence_task_pads_shifts_and_batches_everything():
    task = SentenceTask(list(SEED_SENTENCES))
    longest = max(len(s) for s in SEED_SENTENCES)
    assert task.padded == [s.ljust(longest) for s in SEED_SENTENCES]
    x, y = task.batch.inputs, task.batch.targets
    assert x.dtype == y.dtype == torch.long
    assert tuple(x.shape) == tuple(y.shape) == (3, longest - 1)
    for row, sentence in enumerate(task.padded):
        assert task.vocab.decode(x[row].tolist()) == sentence[:-1]
        assert task.vocab.decode(y[row].tolist()) == sentence[1:]
    assert task.steps_per_epoch == 1
    batches = list(task.batches())
    assert len(batches) == 1 and batches[0][1] is True


def test_sentence_task_padding_is_a_known_character():
    """Padding with spaces must not teach the network to predict "unknown"
    when no sentence happens to contain a space."""
    task = SentenceTask(["hello", "hi"])
    assert " " in task.vocab.stoi
    assert int((task.batch.targets == task.vocab.unknown_index).sum()) == 0
    assert task.vocab.decode(task.batch.targets[1].tolist()) == "i   "


def test_sentence_task_with_given_vocabulary_maps_new_chars_to_unknown():
    vocab = Vocabulary.from_texts(["abc"])
    task = SentenceTask(["abz"], vocab)
    assert task.vocab is vocab
    assert task.batch.inputs.tolist() == [[1, 2]]
    assert task.batch.targets.tolist() == [[2, 0]]


# -- text files --------------------------------------------------------------------------------------

def test_read_text_file_utf8_bom_and_windows_line_ends(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes("\ufeffhéllo\r\nwörld\r\n".encode())
    assert read_text_file(str(path)) == "héllo\nwörld\n"


@pytest.mark.parametrize("content,match", [
    (b"", "no text"),
    (b"  \n\t\n", "no text"),
    (b"abc\xff\xfedef", "UTF-8"),
    (b"ab\x00cd", "NUL"),
])
def test_read_text_file_refuses_bad_content(tmp_path, content, match):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match=match):
        read_text_file(str(path))


def test_read_text_file_missing_folder_and_too_big(tmp_path, monkeypatch):
    with pytest.raises(DataError, match="not found"):
        read_text_file(str(tmp_path / "nope.txt"))
    with pytest.raises(DataError, match="folder"):
        read_text_file(str(tmp_path))
    with pytest.raises(DataError):
        read_text_file("")
    big = tmp_path / "big.txt"
    big.write_text("x" * 2000)
    monkeypatch.setattr(text, "MAX_TEXT_FILE_BYTES", 1000)
    with pytest.raises(DataError, match="limit"):
        read_text_file(str(big))


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can read a chmod 000 file")
def test_read_text_file_unreadable(tmp_path):
    path = tmp_path / "locked.txt"
    path.write_text("hello")
    path.chmod(0)
    try:
        with pytest.raises(DataError, match="cannot read"):
            read_text_file(str(path))
    finally:
        path.chmod(0o644)


def test_read_text_file_permission_error_is_a_data_error(tmp_path, monkeypatch):
    """The same path as chmod 000 for a normal user, testable as root too."""
    path = tmp_path / "locked.txt"
    path.write_text("hello")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(text, "open", refuse, raising=False)
    with pytest.raises(DataError, match="Permission denied"):
        read_text_file(str(path))


# -- corpus mode: windows, streams, indices only ----------------------------------------------------

def _text(n: int) -> str:
    rng = np.random.default_rng(0)
    return "".join(rng.choice(list("abcdefgh \n"), size=n))


def test_corpus_streams_windows_and_targets():
    text = _text(1001)
    task = CorpusTask(text, window=7, batch_size=4)
    stream_len = (len(text) - 1) // 4
    assert tuple(task.inputs.shape) == tuple(task.targets.shape) == (4, stream_len)
    for b in range(4):
        start = b * stream_len
        assert task.vocab.decode(task.inputs[b].tolist()) == text[start:start + stream_len]
        assert task.vocab.decode(task.targets[b].tolist()) == text[start + 1:start + stream_len + 1]
    batches = list(task.batches())
    assert len(batches) == task.steps_per_epoch == math.ceil(stream_len / 7)
    assert [reset for _, reset in batches] == [True] + [False] * (len(batches) - 1)
    # windows tile each stream in order, the last one may be shorter
    torch.testing.assert_close(torch.cat([b.inputs for b, _ in batches], dim=1), task.inputs.long())
    torch.testing.assert_close(torch.cat([b.targets for b, _ in batches], dim=1), task.targets.long())
    assert all(b.inputs.shape[1] == 7 for b, _ in batches[:-1])
    assert all(b.inputs.dtype == torch.long for b, _ in batches)


def test_corpus_keeps_indices_never_a_one_hot_of_the_corpus():
    text = _text(20_000)
    task = CorpusTask(text, window=32, batch_size=8)
    tensors = [v for v in vars(task).values() if isinstance(v, torch.Tensor)]
    assert tensors, "the task should hold its data as tensors"
    for t in tensors:
        assert not t.is_floating_point(), "corpus data must be indices, not one-hot floats"
        assert t.numel() <= len(text)
        assert t.element_size() <= 8
    total_bytes = sum(t.numel() * t.element_size() for t in tensors)
    # one-hot of the corpus would be len(text) * vocab * 4 bytes
    assert total_bytes < len(text) * len(task.vocab) * 4 / 4
    # each batch is batch x window, not the corpus
    batch, _ = next(iter(task.batches()))
    assert batch.inputs.numel() == 8 * 32


def test_corpus_small_texts_and_clipped_sizes():
    task = CorpusTask("abcdefghij", window=64, batch_size=32)
    assert 1 <= task.batch_size <= 4
    assert 1 <= task.window <= task.inputs.shape[1]
    assert task.steps_per_epoch >= 1
    with pytest.raises(DataError):
        CorpusTask("ab", window=4, batch_size=1)


def test_corpus_vocabulary_limit():
    text = "".join(chr(0x4E00 + i) for i in range(data.MAX_VOCAB + 10))
    with pytest.raises(DataError, match="limit"):
        CorpusTask(text, window=8, batch_size=2)


def test_build_task_dispatch(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(_text(500))
    assert isinstance(build_task(TaskConfig(kind="text", text_file=str(path), window=8, batch_size=2)), CorpusTask)
    assert isinstance(build_task(TaskConfig(kind="text")), SentenceTask)
    assert isinstance(build_task(TaskConfig(kind="sine")), SineTask)


# -- sine ----------------------------------------------------------------------------------------------

def test_sine_next_value_windows():
    task = SineTask(TaskConfig(kind="sine", sine_mode="next-value"), seed=3)
    x, y = task.batch.inputs, task.batch.targets
    assert tuple(x.shape) == (1000, 20, 1) and tuple(y.shape) == (1000,)
    # seed 002: 21 points spanning one full period, so the 21st equals the first
    torch.testing.assert_close(y, x[:, 0, 0], atol=1e-6, rtol=0)
    # random phases: the windows differ, and each is a sine sampled every 2*pi/20:
    # sin(a + 2s) = 2 cos(s) sin(a + s) - sin(a)
    assert float(x[:, 0, 0].std()) > 0.5
    step = 2 * math.pi / 20
    torch.testing.assert_close(x[:, 2:, 0], 2 * math.cos(step) * x[:, 1:-1, 0] - x[:, :-2, 0], atol=1e-5, rtol=0)
    assert task.output == "last" and task.seq_len == 20
    # same seed, same data; another seed, other phases
    again = SineTask(TaskConfig(kind="sine", sine_mode="next-value"), seed=3)
    torch.testing.assert_close(again.batch.inputs, x)
    other = SineTask(TaskConfig(kind="sine", sine_mode="next-value"), seed=4)
    assert not torch.equal(other.batch.inputs, x)


def test_sine_sequence_is_seed_003():
    task = SineTask(TaskConfig(kind="sine", sine_mode="sequence"), seed=0)
    wave = torch.tensor(np.sin(np.linspace(2, 10, 21)), dtype=torch.float32)
    torch.testing.assert_close(task.batch.inputs.view(-1), wave[:-1])
    torch.testing.assert_close(task.batch.targets.view(-1), wave[1:])
    assert tuple(task.batch.inputs.shape) == (1, 20, 1)
