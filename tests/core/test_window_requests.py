"""What the window asks of the core for issue 9: a classifier answers a
``ClassifyRequest`` between steps (the prompt box classifies as you type),
minibatches can keep their order (``TaskConfig.shuffle``), and the split the
window counts a vocabulary with is the one training uses."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnn_studio.core.checkpoints import load_trainer, save_checkpoint
from rnn_studio.core.config import defaults_for, validate
from rnn_studio.core.errors import ConfigError
from rnn_studio.core.events import Classified, ClassifyRequest, CompleteRequest, Completion
from rnn_studio.core.labelled import split_indices
from rnn_studio.core.session import Session
from rnn_studio.core.training import Trainer

EXAMPLES = [
    "positive: a great film", "negative: a dull film", "positive: not bad at all", "negative: not good",
    "positive: wonderful in the end", "negative: tedious in the end", "positive: what a joy", "negative: what a bore",
]


def classify_cfg(epochs=2, **task):
    cfg = defaults_for("classify")
    cfg.task.examples = list(EXAMPLES)
    cfg.task.batch_examples = 2
    cfg.task.valid_fraction = 0.25
    cfg.model.hidden, cfg.model.embedding_dim = 8, 8
    cfg.train.epochs, cfg.train.device = epochs, "cpu"
    for key, value in task.items():
        setattr(cfg.task, key, value)
    return cfg


def test_a_classify_request_is_answered_with_the_label_and_the_unknown_words():
    session = Session(classify_cfg(), thread_policy=False)
    events = []
    session.request(ClassifyRequest("a great zebra", id=7))
    session.request(CompleteRequest("a great", id=8))
    session.run(events.append)
    answer = next(e for e in events if isinstance(e, Classified))
    assert answer.id == 7 and answer.error is None
    assert answer.label in ("negative", "positive")
    assert set(answer.probabilities) == {"negative", "positive"}
    assert sum(answer.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert answer.unknown == ["zebra"] and answer.tokens == ["a", "great", "zebra"]
    # queued before the run: answered before the first step, by the untrained network
    expected = Trainer(classify_cfg()).classify_text("a great zebra")
    assert answer.probabilities == pytest.approx(expected.probabilities)
    # a classifier does not complete text: an answer in words, not a crash
    completion = next(e for e in events if isinstance(e, Completion))
    assert completion.error and "classifies" in completion.error


def test_a_text_network_answers_a_classify_request_with_an_error():
    cfg = defaults_for("text")
    cfg.train.epochs, cfg.train.device = 1, "cpu"
    session = Session(cfg, thread_policy=False)
    events = []
    session.request(ClassifyRequest("good", id=1))
    session.run(events.append)
    answer = next(e for e in events if isinstance(e, Classified))
    assert answer.error and "does not classify" in answer.error and answer.label == ""


def test_an_empty_text_gets_a_plain_error():
    session = Session(classify_cfg(epochs=0), thread_policy=False)
    events = []
    session.request(ClassifyRequest("   ", id=1))
    session.run(events.append)
    answer = next(e for e in events if isinstance(e, Classified))
    assert answer.error and "empty" in answer.error


def epoch_orders(trainer: Trainer, epochs: int) -> list[list[str]]:
    """The texts of each epoch's minibatches, in the order they were drawn."""
    task = trainer.task
    row_of = {tuple(task.batch.inputs[i].tolist()): i for i in range(task.train_size)}
    orders = []
    for _ in range(epochs):
        trainer._start_epoch()
        order = []
        for batch, _reset in trainer._batches:
            width = batch.inputs.shape[1]
            for row in batch.inputs.tolist():
                key = next(k for k in row_of if list(k[:width]) == row and not any(k[width:]))
                order.append(row_of[key])
        orders.append(order)
        trainer._batches = None
    return orders


def test_shuffle_off_keeps_the_stored_order_and_on_draws_a_new_one():
    kept = epoch_orders(Trainer(classify_cfg(shuffle=False)), 3)
    assert kept[0] == kept[1] == kept[2] == sorted(kept[0])
    drawn = epoch_orders(Trainer(classify_cfg(shuffle=True)), 3)
    assert sorted(drawn[0]) == sorted(drawn[1]) == sorted(kept[0])
    assert drawn[0] != drawn[1] or drawn[1] != drawn[2]


def test_shuffle_must_be_a_flag():
    cfg = classify_cfg()
    cfg.task.shuffle = "yes"
    with pytest.raises(ConfigError, match="shuffle"):
        validate(cfg)


def test_shuffle_off_survives_save_and_open_and_resumes_exactly(tmp_path):
    cfg = classify_cfg(epochs=4, shuffle=False)
    whole = Trainer(cfg)
    for _ in range(4):
        whole.run_epoch()
    first = Trainer(cfg)
    for _ in range(2):
        first.run_epoch()
    first.step()  # mid-epoch
    path = tmp_path / "c.st"
    save_checkpoint(first, str(path))
    opened = load_trainer(str(path))
    assert opened.cfg.task.shuffle is False and not opened.task.shuffles
    while opened.epoch < 4:
        opened.step()
    for a, b in zip(whole.model.parameters(), opened.model.parameters(), strict=True):
        assert torch.equal(a, b)


def test_split_indices_is_torch_free_and_the_one_training_uses():
    train, valid = split_indices(len(EXAMPLES), 0.25, 0, "examples")
    trainer = Trainer(classify_cfg())
    assert np.array_equal(trainer.task.train_rows, train) and np.array_equal(trainer.task.valid_rows, valid)
