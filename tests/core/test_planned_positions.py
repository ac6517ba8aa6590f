"""Issue 12: the window's memory check counts what one training step keeps
(batch x window) from the settings alone, and counts what the trainer's own
check counts on the task it builds (``resources.step_positions``)."""

from __future__ import annotations

import pytest

from rnn_studio.core.config import AUTO, defaults_for
from rnn_studio.core.data import build_task
from rnn_studio.core.resources import planned_positions, step_positions

BOOK = "the quick brown fox jumps over the lazy dog. " * 400  # 18,000 characters: a tenth held out


def _sine(mode, windows, length, batch, valid):
    cfg = defaults_for("sine", mode)
    cfg.task.sine_windows, cfg.task.sine_window_len, cfg.task.valid_fraction = windows, length, valid
    if mode == "next-value":
        cfg.task.batch_examples = batch
    return cfg.task


def _sentences(sentences, batch, valid):
    cfg = defaults_for("text")
    cfg.task.sentences, cfg.task.batch_examples, cfg.task.valid_fraction = sentences, batch, valid
    return cfg.task


CASES = {
    "sine windows, all in one batch": lambda: _sine("next-value", 300, 25, 0, 0.0),
    "sine windows in minibatches, some held out": lambda: _sine("next-value", 300, 25, 32, 0.25),
    "sine, one sequence": lambda: _sine("sequence", 1, 80, 0, 0.0),
    "sentences": lambda: _sentences(["hello world", "a much longer sentence than that", "hi"], 0, 0.0),
    "sentences in minibatches, one held out": lambda: _sentences([f"sentence {i} " * (1 + i % 3) for i in range(9)],
                                                                  4, 0.2),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_planned_positions_are_those_of_the_built_task(name):
    task = CASES[name]()
    planned = planned_positions(task)
    assert planned == step_positions(build_task(task, seed=3))
    assert planned[0] > 0 and planned[1]


@pytest.mark.parametrize("streams, window", [(8, 50), (4096, 2048), (1, 2048)])
def test_text_file_positions_follow_the_file_length(tmp_path, streams, window):
    path = tmp_path / "book.txt"
    path.write_text(BOOK, encoding="utf-8")
    cfg = defaults_for("text")
    cfg.task.text_file, cfg.task.batch_size, cfg.task.window, cfg.task.valid_fraction = str(path), streams, window, AUTO
    planned = planned_positions(cfg.task, text_chars=len(BOOK))
    assert planned == step_positions(build_task(cfg.task))
    # without the length: the settings' own batch x window, never less than the task's
    unknown = planned_positions(cfg.task)
    assert unknown[0] == streams * window >= planned[0]
