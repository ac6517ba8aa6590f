"""Issue 10: memory through time, run history, sample evolution and rewind."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from rnn_studio.core.config import RunConfig
from rnn_studio.core.events import Evolution, StepBatch
from rnn_studio.core.evolution import EvolutionRecorder, EvolutionSchedule, restore_snapshot, take_snapshot
from rnn_studio.core.generation import complete
from rnn_studio.core.history import MAX_SAMPLES, Curve, RunHistory, RunRecord, TimeGradHistory, run_label
from rnn_studio.core.session import Session
from rnn_studio.core.training import Trainer


def seed_trainer(epochs=30, **model) -> Trainer:
    cfg = RunConfig()
    cfg.train.device, cfg.train.epochs = "cpu", epochs
    for key, value in model.items():
        setattr(cfg.model, key, value)
    return Trainer(cfg)


# -- memory through time -------------------------------------------------------------------------

def test_time_grad_history_is_the_trainers_norms_in_order():
    trainer = seed_trainer()
    trainer.cfg.train.time_grad_every = 3
    history = TimeGradHistory(max_rows=64, max_time_steps=32)
    expected = []
    for _ in range(12):
        report = trainer.step()
        if report.time_grad_norms is not None:
            history.add(report.step, report.time_grad_norms)
            expected.append((report.step, report.time_grad_norms))
    steps, values = history.matrix()
    assert list(steps) == [s for s, _ in expected] == [1, 4, 7, 10]
    assert values.shape == (4, 14)  # the seed sentences: 15 characters, 14 inputs
    np.testing.assert_allclose(values, np.asarray([v for _, v in expected], dtype=np.float32))
    log_steps, logs = history.log10()
    np.testing.assert_allclose(logs, np.log10(values), rtol=1e-6)


def test_time_grad_history_is_bounded_and_spans_the_run():
    history = TimeGradHistory(max_rows=8, max_time_steps=4)
    nbytes = history.nbytes
    for step in range(100):
        history.add(step, [step, step + 1, 0.0, step + 3, 99.0])  # one time step too many
    steps, values = history.matrix()
    assert history.nbytes == nbytes == 8 * 4 * 4 + 8 * 8  # fixed at creation: stated memory
    assert len(steps) <= 8 and steps[0] == 0 and steps[-1] >= 100 - 16
    assert list(steps) == sorted(steps) and len(set(np.diff(steps))) == 1  # evenly spaced
    assert values.shape[1] == 4 and history.truncated
    np.testing.assert_array_equal(values[:, 0], steps)
    # zeros are kept, and their log is the floor, not -inf
    np.testing.assert_allclose(history.log10()[1][:, 2], -12, rtol=1e-6)


def test_time_grad_history_from_session_batches():
    trainer = seed_trainer(epochs=25)
    trainer.cfg.train.time_grad_every = 5
    history = TimeGradHistory()
    measured = []
    original = trainer.step

    def step():
        report = original()
        if report.time_grad_norms is not None:
            measured.append(report.step)
        return report

    trainer.step = step
    batches = []
    Session(trainer=trainer, flush_interval=0.0, thread_policy=False).run(
        lambda e: batches.append(e) if isinstance(e, StepBatch) else None)
    for batch in batches:
        history.add_batch(batch)
    steps, values = history.matrix()
    assert list(steps) == measured == [1, 6, 11, 16, 21]
    assert values.shape == (5, 14) and np.all(values > 0)


# -- runs ----------------------------------------------------------------------------------------

def test_run_label_names_what_differs():
    cfg = RunConfig()
    assert run_label(cfg) == "RNN (tanh) 12, lr 0.01"
    cfg.model.arch, cfg.model.layers, cfg.model.hidden, cfg.train.lr = "lstm", 2, 32, 0.003
    cfg.model.encoding, cfg.train.clip = "embedding", 1.0
    assert run_label(cfg) == "LSTM 2x32, lr 0.003, embedding 16, clip 1"
    cfg.model.arch = "elman"
    assert run_label(cfg).startswith("Elman 2x32")


def test_run_record_follows_a_session_and_round_trips():
    trainer = seed_trainer(epochs=20)
    record = RunRecord.for_trainer(trainer)
    Session(trainer=trainer, flush_interval=0.0, thread_policy=False).run(
        lambda e: record.add_batch(e) if isinstance(e, StepBatch) else None)
    x, y = record.step_loss.arrays()
    assert list(x) == list(range(1, 21)) and record.steps == 20 and record.epochs == 20
    assert len(record.epoch_loss) == 20 and not record.has_validation
    assert record.final_loss == pytest.approx(trainer.evaluate_loss(), rel=0.2)
    assert record.steps_per_s > 0 and record.seconds > 0 and record.parameters == trainer.parameter_count
    again = RunRecord.from_dict(json.loads(json.dumps(record.to_dict())))
    assert again.to_dict() == record.to_dict()


def test_run_record_keeps_a_validation_curve():
    cfg = RunConfig()
    cfg.task.kind, cfg.train.device, cfg.train.epochs = "sine", "cpu", 3
    cfg.task.valid_fraction = 0.2
    trainer = Trainer(cfg)
    record = RunRecord.for_trainer(trainer)
    for _ in range(3):
        record.add_report(trainer.step())
    assert record.has_validation and len(record.valid_loss) == 3
    assert record.final_valid_loss == record.valid_loss.y[-1]


def test_run_history_drops_oldest_unpinned_and_keeps_pinned():
    history = RunHistory(limit=5)
    records = [history.add(RunRecord(label=f"run {i}")) for i in range(5)]
    history.pin(records[0].run_id)
    history.add(RunRecord(label="run 5"))
    assert [r.label for r in history] == ["run 0", "run 2", "run 3", "run 4", "run 5"]
    for r in list(history):
        history.pin(r.run_id)
    history.add(RunRecord(label="run 6"))
    assert len(history) == 6  # every older run pinned: none is dropped
    history.pin(history.runs[1].run_id, False)
    assert [r.label for r in history] == ["run 0", "run 3", "run 4", "run 5", "run 6"]
    assert len({r.run_id for r in history}) == 5
    again = RunHistory.from_json(history.to_json())
    assert [r.to_dict() for r in again] == [r.to_dict() for r in history]
    with pytest.raises(ValueError):
        RunHistory(limit=4)


@pytest.mark.parametrize("bad", [
    {"runs": "x"},
    {"runs": [{"label": 3}]},
    {"runs": [{"label": "a", "pinned": "yes"}]},
    {"runs": [{"label": "a", "step_loss": {"x": [1, 2], "y": [1]}}]},
    {"runs": [{"label": "a", "final_loss": "nan"}]},
    {"runs": [{"label": "a", "samples": [{"epoch": -1, "step": 0, "text": "x"}]}]},
])
def test_run_history_refuses_bad_data_in_one_line(bad):
    with pytest.raises(ValueError) as err:
        RunHistory.from_dict(bad)
    assert "\n" not in str(err.value)


def test_curve_is_bounded_and_even():
    curve = Curve(max_points=100)
    for i in range(10_000):
        curve.add(i, float(i))
    curve.add(10_000, math.nan)
    x, y = curve.arrays()
    assert len(x) <= 100 and x[0] == 0 and len(set(np.diff(x))) == 1 and x[-1] > 9_000
    np.testing.assert_array_equal(x, y)


# -- sample evolution and rewind -----------------------------------------------------------------

def test_schedule_every_tenth_or_every_n():
    tenth = EvolutionSchedule(total_epochs=95)
    assert [e for e in range(96) if tenth.due(e)] == [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95]
    every = EvolutionSchedule(every_epochs=7)
    assert [e for e in range(22) if every.due(e)] == [0, 7, 14, 21]


def test_evolution_records_completions_and_snapshots_that_restore():
    trainer = seed_trainer(epochs=100)
    recorder = EvolutionRecorder("good", EvolutionSchedule(total_epochs=100), length=15)
    events = []
    Session(trainer=trainer, thread_policy=False, after_epoch=[recorder.session_hook()]).run(
        lambda e: events.append(e) if isinstance(e, Evolution) else None)
    assert [s.epoch for s in recorder.samples] == list(range(10, 101, 10))
    assert [e.epoch for e in events] == list(range(10, 101, 10))
    assert recorder.samples[-1].text == "good i am fine "  # the seed's result at the end of the run
    assert events[-1].snapshots == 10 and events[-1].snapshot_bytes == recorder.snapshot_bytes
    # rewind: the snapshot of epoch 50 completes the prompt as the network did then
    fresh = seed_trainer(epochs=100)
    snapshot = recorder.nearest(55)
    assert snapshot.epoch == 50
    restore_snapshot(fresh.model, snapshot)
    assert complete(fresh.model, fresh.vocab, "good", 15).text == recorder.samples[4].text
    for k, v in fresh.model.state_dict().items():
        assert torch.equal(v, snapshot.state[k])


def test_snapshots_stay_under_their_byte_bound():
    trainer = seed_trainer()
    one = take_snapshot(trainer.model, 0, 0).nbytes
    recorder = EvolutionRecorder("good", EvolutionSchedule(every_epochs=1), max_snapshot_bytes=int(one * 4.5))
    for _ in range(30):
        trainer.step()
        recorder.maybe_record(trainer)
    assert recorder.snapshot_bytes <= int(one * 4.5) and len(recorder.snapshots) == 4
    epochs = [s.epoch for s in recorder.snapshots]
    assert epochs[0] == 1 and epochs[-1] == 30 and epochs == sorted(epochs)
    small = EvolutionRecorder("good", EvolutionSchedule(every_epochs=1), max_snapshot_bytes=one - 1)
    small.record(trainer)
    assert small.snapshots == [] and "more than" in small.snapshot_note and len(small.samples) == 1


def test_samples_are_bounded():
    trainer = seed_trainer()
    recorder = EvolutionRecorder("go", EvolutionSchedule(every_epochs=1), length=3, snapshots=False)
    recorded = 0
    for epoch in range(MAX_SAMPLES + 50):
        trainer.epoch = epoch
        recorded += recorder.maybe_record(trainer) is not None
    assert len(recorder.samples) <= MAX_SAMPLES
    assert recorder.samples[0].epoch == 0 and recorder.samples[-1].epoch == MAX_SAMPLES + 48
    assert recorder.schedule.every_epochs == 2  # thinned once: every other epoch from then on
    # an all-night run: recording gets rarer, the samples stay evenly spaced over the whole run
    for epoch in range(MAX_SAMPLES + 50, 20_000):
        trainer.epoch = epoch
        recorded += recorder.maybe_record(trainer) is not None
    # each thinning halves the samples and doubles the interval: ~MAX_SAMPLES / 2 more per doubling of the run
    assert recorded < MAX_SAMPLES + MAX_SAMPLES // 2 * (math.log2(20_000 / MAX_SAMPLES) + 2)
    gaps = {b.epoch - a.epoch for a, b in zip(recorder.samples[:-2], recorder.samples[1:-1], strict=True)}
    assert len(gaps) <= 2 and recorder.samples[-1].epoch >= 20_000 - recorder.schedule.every_epochs


def test_restore_refuses_another_network():
    from rnn_studio.core.errors import DataError

    snapshot = take_snapshot(seed_trainer().model, 0, 0)
    with pytest.raises(DataError, match="different network"):
        restore_snapshot(seed_trainer(hidden=5).model, snapshot)


def test_rewind_then_train_is_a_new_branch():
    """Train from a snapshot: the weights, epoch and steps of that moment, and
    the run goes on from there (same data, fresh optimizer)."""
    trainer = seed_trainer(epochs=40)
    recorder = EvolutionRecorder("good", EvolutionSchedule(every_epochs=10))
    for _ in range(40):
        trainer.step()
        recorder.maybe_record(trainer)
    snapshot = recorder.nearest(20)
    trainer.rewind(snapshot)
    assert trainer.epoch == 20 and trainer.steps == 20 and not trainer.optimizer.state
    for k, v in trainer.model.state_dict().items():
        assert torch.equal(v, snapshot.state[k])
    report = trainer.step()
    assert report.step == 21 and report.epoch == 21 and math.isfinite(report.loss)


def test_after_epoch_hook_failure_is_a_warning_not_the_end():
    from rnn_studio.core.events import RunEnded, Warned

    def broken(trainer, report):
        raise RuntimeError("boom")

    events = []
    ended = Session(trainer=seed_trainer(epochs=3), thread_policy=False, after_epoch=[broken]).run(events.append)
    assert ended.state == "finished" and isinstance(events[-1], RunEnded)
    assert sum(isinstance(e, Warned) and "boom" in e.message for e in events) == 3


def test_past_the_planned_end_recording_keeps_to_its_time_budget():
    """'Until paused' on a fast network: the moments of the planned run are all
    recorded; past its end, moments closer than MIN_GAP_S are not, and the grid widens."""
    from rnn_studio.core.evolution import MIN_GAP_S

    trainer = seed_trainer()
    recorder = EvolutionRecorder("go", EvolutionSchedule(total_epochs=100), length=3, snapshots=False)
    for epoch in range(101):
        trainer.epoch = epoch
        recorder.maybe_record(trainer)
    assert [s.epoch for s in recorder.samples] == list(range(0, 101, 10))  # every tenth of the run
    for epoch in range(101, 5001):  # far faster than one moment per MIN_GAP_S
        trainer.epoch = epoch
        recorder.maybe_record(trainer)
    assert MIN_GAP_S >= 0.1
    assert len(recorder.samples) <= 11 + 2, "no more than a moment or two in well under a second"
    assert recorder.schedule.every_epochs >= 640
    assert all(s.epoch % 10 == 0 for s in recorder.samples)
