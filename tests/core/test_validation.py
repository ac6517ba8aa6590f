"""Held-out validation and minibatches for every task (issue 9)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnn_studio.core.config import AUTO, RunConfig, defaults_for, overfitting_example, validate
from rnn_studio.core.errors import ConfigError
from rnn_studio.core.events import EpochEnded, RunStarted, StepBatch
from rnn_studio.core.session import Session
from rnn_studio.core.training import Trainer

SENTENCES = [f"sentence number {w}" for w in "one two three four five six seven eight nine ten".split()]


def test_defaults_hold_out_where_the_data_allows(tmp_path):
    assert not Trainer(RunConfig()).has_validation  # the seed's three sentences all train
    assert not Trainer(defaults_for("sine")).has_validation  # seed 002 trains on every window
    cfg = RunConfig()
    cfg.task.sentences = SENTENCES
    assert not Trainer(cfg).has_validation  # typed sentences are what is to be learnt
    big = tmp_path / "big.txt"
    big.write_text("the cat sat on the mat. " * 500, encoding="utf-8")  # 12,000 characters
    cfg = RunConfig()
    cfg.task.text_file = str(big)
    trainer = Trainer(cfg)
    assert trainer.has_validation and trainer.task.train_size == 10_800  # the last 10% held out
    cfg = defaults_for("classify")
    cfg.task.examples = [f"{'ab'[i % 2]}: text {i}" for i in range(10)]
    trainer = Trainer(cfg)
    assert trainer.has_validation and len(trainer.task.valid_rows) == 2
    assert defaults_for("classify").task.valid_fraction == AUTO


def test_held_out_sentences_are_measured_not_trained_on():
    cfg = RunConfig()
    cfg.task.sentences, cfg.task.valid_fraction = SENTENCES, 0.3
    trainer = Trainer(cfg)
    task = trainer.task
    assert len(task.padded) == 7 and len(task.valid_padded) == 3
    assert set(task.padded).isdisjoint(task.valid_padded)
    report = trainer.step()
    assert report.epoch_done and report.valid_loss is not None and np.isfinite(report.valid_loss)
    assert report.valid_loss == pytest.approx(trainer.evaluate_validation()[0], rel=1e-6)


def test_sine_holds_out_windows_and_trains_in_shuffled_minibatches():
    cfg = defaults_for("sine")
    cfg.task.valid_fraction, cfg.task.batch_examples = 0.2, 100
    trainer = Trainer(cfg)
    assert trainer.task.train_size == 800 and trainer.task.valid_batch.inputs.shape[0] == 200
    assert trainer.task.steps_per_epoch == 8
    reports = trainer.run_epoch()
    assert len(reports) == 8 and reports[-1].valid_loss is not None
    assert [r.valid_loss is None for r in reports] == [True] * 7 + [False]


def test_each_epoch_draws_a_new_order():
    cfg = defaults_for("classify")
    cfg.task.examples = [f"{'ab'[i % 2]}: text {i}" for i in range(20)]
    cfg.task.batch_examples = 4
    trainer = Trainer(cfg)
    orders = []
    for _ in range(2):
        trainer._start_epoch()
        orders.append(torch.cat([b.targets for b, _ in trainer.task.batches(
            torch.randperm(trainer.task.train_size, generator=trainer.shuffle_generator))]).tolist())
    assert orders[0] != orders[1] and sorted(orders[0]) == sorted(orders[1])


def test_one_batch_holding_everything_draws_nothing():
    trainer = Trainer(RunConfig())
    state = trainer.shuffle_generator.get_state()
    trainer.run_epoch()
    assert torch.equal(state, trainer.shuffle_generator.get_state())


@pytest.mark.parametrize("change,word", [
    (lambda c: setattr(c.model, "bidirectional", True), "bidirectional"),
    (lambda c: setattr(c.task, "valid_fraction", 1.5), "validation"),
    (lambda c: setattr(c.task, "batch_examples", -1), "batch"),
])
def test_settings_refused_with_the_reason(change, word):
    cfg = RunConfig()
    change(cfg)
    with pytest.raises(ConfigError, match=word):
        validate(cfg)


def test_sine_sequence_has_no_batches_or_split():
    for field, value in (("batch_examples", 4), ("valid_fraction", 0.2)):
        cfg = defaults_for("sine", "sequence")
        setattr(cfg.task, field, value)
        with pytest.raises(ConfigError, match="one sequence"):
            validate(cfg)


def test_the_overfitting_example_training_falls_while_validation_turns_up():
    cfg = overfitting_example()
    cfg.train.epochs = 80
    trainer = Trainer(cfg)
    reports = [trainer.step() for _ in range(cfg.train.epochs)]
    train = np.array([r.epoch_loss for r in reports])
    valid = np.array([r.valid_loss for r in reports])
    best = int(valid.argmin())
    assert best < 40, "validation loss is lowest early on"
    assert valid[-1] > 1.3 * valid[best], "then it turns up"
    assert train[-1] < train[best] / 10, "while the training loss keeps falling"


def test_session_reports_validation_per_epoch():
    cfg = defaults_for("classify")
    cfg.task.examples = [f"{'ab'[i % 2]}: text {i}" for i in range(20)]
    cfg.train.epochs = 3
    events = []
    Session(cfg, epoch_events=True, thread_policy=False).run(events.append, reraise=True)
    started = next(e for e in events if isinstance(e, RunStarted))
    assert started.has_validation and started.task == "classify" and started.steps_per_epoch == 1
    ended = [e for e in events if isinstance(e, EpochEnded)]
    assert len(ended) == 3 and all(e.valid_loss is not None and e.valid_accuracy is not None for e in ended)
    metrics = [m for e in events if isinstance(e, StepBatch) for m in e.epochs_done]
    assert [m.epoch for m in metrics] == [1, 2, 3]
    assert metrics[-1].valid_loss == ended[-1].valid_loss and metrics[-1].accuracy == ended[-1].accuracy
