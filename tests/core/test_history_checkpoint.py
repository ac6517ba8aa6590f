"""Issue 10: a saved model keeps its history (run label, curves, samples,
snapshots), checked like everything else in the file before allocation
(the hostile cases are in tests/hostile_files.py, run by
tests/core/test_hostile_checkpoints.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from rnn_studio.core import checkpoint_io
from rnn_studio.core.checkpoints import load_trainer, read_checkpoint, save_checkpoint
from rnn_studio.core.config import RunConfig
from rnn_studio.core.errors import CheckpointError
from rnn_studio.core.evolution import EvolutionRecorder, EvolutionSchedule, restore_snapshot
from rnn_studio.core.generation import complete
from rnn_studio.core.history import RunHistory, RunRecord, TimeGradHistory
from rnn_studio.core.saved_history import MAX_SAVED_CURVE_POINTS, SavedHistory
from rnn_studio.core.training import Trainer
from tests import hostile_files


@pytest.fixture(scope="module")
def trained_with_history():
    cfg = RunConfig()
    cfg.model.arch, cfg.train.device, cfg.train.epochs = "gru", "cpu", 60
    trainer = Trainer(cfg)
    runs = RunHistory()
    runs.add(RunRecord(label="an earlier run", pinned=True))
    record = runs.new_run(trainer)
    recorder = EvolutionRecorder("good", EvolutionSchedule(total_epochs=60), length=15)
    for _ in range(60):
        record.add_report(trainer.step())
        recorder.maybe_record(trainer)
    return trainer, SavedHistory.gather(record, recorder, runs), recorder


def test_history_round_trips(tmp_path, trained_with_history):
    trainer, history, recorder = trained_with_history
    path = str(tmp_path / "with_history.st")
    save_checkpoint(trainer, path, history)
    opened = load_trainer(path, device="cpu")
    saved = opened.saved_history
    assert saved.run.label == "GRU 12, lr 0.01" and saved.run.to_dict() == history.run.to_dict()
    assert [r.label for r in saved.runs] == ["an earlier run"] and saved.runs[0].pinned
    assert [s.to_dict() for s in saved.samples] == [s.to_dict() for s in recorder.samples]
    assert [(s.epoch, s.step) for s in saved.snapshots] == [(s.epoch, s.step) for s in recorder.snapshots]
    for mine, theirs in zip(saved.snapshots, recorder.snapshots, strict=True):
        assert all(torch.equal(mine.state[k], theirs.state[k]) for k in theirs.state)
    # rewind the opened model to the snapshot of epoch 30: it completes as the network did then
    snapshot = next(s for s in saved.snapshots if s.epoch == 30)
    restore_snapshot(opened.model, snapshot)
    sample = next(s for s in saved.samples if s.epoch == 30)
    assert complete(opened.model, opened.vocab, "good", 15).text == sample.text
    # the low-level reader shows the history's JSON, and no snapshot among the weights
    payload = read_checkpoint(path)
    assert payload["history"]["snapshots"] == [{"epoch": s.epoch, "step": s.step} for s in recorder.snapshots]
    assert not any(k.startswith("snapshot.") for k in payload["model"])


def test_saving_an_opened_model_keeps_its_history(tmp_path, trained_with_history):
    trainer, history, _ = trained_with_history
    first, second = str(tmp_path / "a.st"), str(tmp_path / "b.st")
    save_checkpoint(trainer, first, history)
    save_checkpoint(load_trainer(first, device="cpu"), second)
    again = load_trainer(second, device="cpu").saved_history
    assert again.run.to_dict() == history.run.to_dict() and len(again.snapshots) == len(history.snapshots)


def test_a_file_without_history_opens_as_before(tmp_path):
    path = hostile_files.save_good(tmp_path)
    assert load_trainer(str(path), device="cpu").saved_history is None


def test_saved_curves_and_snapshots_are_bounded(trained_with_history):
    trainer, history, _ = trained_with_history
    long = RunRecord(label="long")
    for step in range(50_000):
        long.step_loss.add(step, 1.0)
    meta, _ = SavedHistory(run=long).to_file()
    assert len(meta["run"]["step_loss"]["x"]) <= MAX_SAVED_CURVE_POINTS
    many = SavedHistory(snapshots=[history.snapshots[0]] * 150)
    meta, tensors = many.to_file()
    assert len(meta["snapshots"]) <= 100
    assert len(tensors) == len(meta["snapshots"]) * len(history.snapshots[0].state)


def test_a_history_that_lists_more_snapshots_than_stored_is_refused(tmp_path):
    meta, tensors = hostile_files._with_history(2)
    meta["history"]["snapshots"].append({"epoch": 5, "step": 5})
    path = tmp_path / "short.st"
    path.write_bytes(checkpoint_io.safetensors_bytes(meta, tensors))
    with pytest.raises(CheckpointError, match="weights of some are missing"):
        load_trainer(str(path), device="cpu")


@pytest.mark.parametrize("history, words", [
    ({"run": {"label": 5}}, "label"),
    ({"samples": [{"epoch": "x", "step": 0, "text": "a"}]}, "epoch"),
    ({"runs": [{"label": "a", "step_loss": {"x": [1] * 30_000, "y": [1] * 30_000}}]}, "curve"),
])
def test_bad_history_json_is_one_line(tmp_path, history, words):
    meta, tensors = hostile_files._current_parts()
    meta["history"] = history
    path = tmp_path / "bad_history.st"
    path.write_bytes(checkpoint_io.safetensors_bytes(meta, tensors))
    with pytest.raises(CheckpointError) as err:
        load_trainer(str(path), device="cpu")
    message = str(err.value)
    assert "damaged" in message and words in message and "\n" not in message
    json.dumps(message)


def test_a_save_request_keeps_the_history(tmp_path, trained_with_history):
    from rnn_studio.core.events import Saved, SaveRequest
    from rnn_studio.core.session import Session

    trainer, history, _ = trained_with_history
    path = str(tmp_path / "requested.st")
    session = Session(trainer=trainer, train=False, thread_policy=False)
    session.request(SaveRequest(path, history=history))
    events = []
    session.run(events.append)
    assert any(isinstance(e, Saved) and e.error is None for e in events)
    assert load_trainer(path, device="cpu").saved_history.run.label == history.run.label


def _memory_history(rows: int = 40) -> TimeGradHistory:
    """A thinned history (stride 4 after 40 samples into 16 rows) with blanks and a short row."""
    history = TimeGradHistory(max_rows=16)
    for step in range(1, rows + 1):
        norms = np.linspace(1e-6, 1.0, 7 if step % 5 else 4).astype(np.float32) * step
        norms[0] = np.nan if step % 3 == 0 else norms[0]
        history.add(step * 10, norms)
    return history


def test_memory_through_time_round_trips(tmp_path, trained_with_history):
    trainer, history, recorder = trained_with_history
    grads = _memory_history()
    assert grads.stride == 4 and np.isnan(grads.matrix()[1]).any()  # the case worth saving: thinned, with blanks
    path = str(tmp_path / "memory.st")
    save_checkpoint(trainer, path, SavedHistory.gather(history.run, recorder, time_grads=grads))
    opened = load_trainer(path, device="cpu").saved_history.time_grads
    steps, values = opened.matrix()
    want_steps, want_values = grads.matrix()
    np.testing.assert_array_equal(steps, want_steps)
    np.testing.assert_array_equal(values, want_values)  # NaN where NaN
    assert (opened.stride, len(opened), opened.width) == (grads.stride, len(grads), grads.width)
    # it goes on as the one saved would have: the same samples kept and thinned
    for step in range(41, 90):
        grads.add(step * 10, np.full(7, step, np.float32))
        opened.add(step * 10, np.full(7, step, np.float32))
    np.testing.assert_array_equal(opened.matrix()[0], grads.matrix()[0])
    assert opened.stride == grads.stride
    # saving the opened model again keeps it
    again = str(tmp_path / "again.st")
    save_checkpoint(load_trainer(path, device="cpu"), again)
    np.testing.assert_array_equal(load_trainer(again, device="cpu").saved_history.time_grads.matrix()[0], want_steps)


def test_gather_copies_the_memory_history_and_leaves_out_an_empty_one():
    grads = _memory_history()
    saved = SavedHistory.gather(time_grads=grads)
    grads.add(10_000, np.ones(3, np.float32))
    assert len(saved.time_grads.matrix()[0]) == len(grads.matrix()[0]) - 1
    meta, tensors = SavedHistory.gather(time_grads=TimeGradHistory()).to_file()
    assert "time_grads" not in meta and not tensors


def test_the_hostile_memory_files_are_good_but_for_their_one_change(tmp_path):
    """Guard for the memory-through-time cases in tests/hostile_files.py."""
    meta, tensors = hostile_files._with_time_grads()
    path = tmp_path / "good_memory.st"
    path.write_bytes(checkpoint_io.safetensors_bytes(meta, tensors))
    grads = load_trainer(str(path), device="cpu").saved_history.time_grads
    np.testing.assert_array_equal(grads.matrix()[1], tensors["history.time_grads"].numpy())
