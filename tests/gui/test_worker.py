"""The training worker on its own: a QThread, a fake or real trainer, signals.

A fake trainer makes steps instant, so batching, divergence and exceptions are
tested without waiting for torch.
"""

import math
import time
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QObject, Slot

from rnn_studio.core.config import defaults_for
from rnn_studio.core.events import Completion, Paused, Predictions, RunEnded, RunStarted, StepBatch, Warned, as_dict
from rnn_studio.core.training import StepReport
from rnn_studio.gui.worker import RunHandle, TrainingWorker, divergence_message


class FakeTrainer:
    """Instant steps; ``fail_at`` raises, ``diverge_at`` reports a skipped step."""

    def __init__(self, epochs=10, fail_at=None, diverge_at=None):
        self.cfg = SimpleNamespace(train=SimpleNamespace(epochs=epochs, clip=0.0))
        self.steps = 0
        self.epoch = 0
        self.lr = 0.01
        self.parameter_count = 10
        self.device = "cpu"
        self.vocab = None
        self.task = SimpleNamespace(kind="sine", mode="sequence")
        self.fail_at, self.diverge_at = fail_at, diverge_at
        self.step_calls = 0

    def step(self):
        self.step_calls += 1
        if self.fail_at is not None and self.step_calls >= self.fail_at:
            raise RuntimeError("boom: CUDA out of memory (pretend)")
        self.steps += 1
        if self.diverge_at is not None and self.step_calls >= self.diverge_at:
            return StepReport(
                step=self.steps,
                epoch=self.epoch,
                epoch_done=False,
                loss=math.nan,
                grad_norm=math.inf,
                lr=self.lr,
                ms=0.0,
                param_grad_norms={"w": math.nan},
                skipped="loss became NaN",
            )
        self.epoch += 1
        return StepReport(
            step=self.steps,
            epoch=self.epoch,
            epoch_done=True,
            loss=1.0 / self.steps,
            grad_norm=0.5,
            lr=self.lr,
            ms=0.0,
            param_grad_norms={"w": 0.5, "b": 0.1},
            time_grad_norms=[0.1, 0.2, 0.3] if self.steps % 10 == 0 else None,
        )

    def predictions(self):
        return {
            "kind": "sine",
            "mode": "sequence",
            "input": np.zeros(3),
            "target": np.zeros(3),
            "predicted": np.zeros(3),
        }

    def set_lr(self, lr):
        self.lr = lr

    def set_clip(self, clip):
        self.cfg.train.clip = clip


class Recorder(QObject):
    """Lives in the GUI thread, so the worker's events arrive queued, as in the window.
    Keeps each typed event's fields as a dict, so the checks read ``m["loss"]``."""

    def __init__(self, worker):
        super().__init__()
        self.metrics, self.paused, self.ended, self.completed, self.warned = [], [], [], [], []
        self.events = []
        self._lists = {
            StepBatch: self.metrics,
            Paused: self.paused,
            RunEnded: self.ended,
            Completion: self.completed,
            Warned: self.warned,
        }
        worker.event.connect(self.on_event)

    @Slot(int, object)
    def on_event(self, worker_id, event):
        self.events.append((worker_id, event))
        kept = self._lists.get(type(event))
        if kept is not None:
            kept.append(as_dict(event))

    def points(self):
        return sum(len(m["loss"]) for m in self.metrics)


@pytest.fixture
def start(qtbot):
    handles = []

    def _start(worker, run=True):
        """(handle, recorder); with run=False the caller starts the thread,
        after arming its waits."""
        recorder = Recorder(worker)
        handle = RunHandle(worker)
        handles.append(handle)
        if run:
            handle.start()
        return handle, recorder

    yield _start
    for handle in handles:
        handle.stop()
        handle.wait()


def test_instant_steps_are_batched_and_every_step_arrives(qtbot, start):
    trainer = FakeTrainer(epochs=3000)
    worker = TrainingWorker(1, trainer=trainer)
    handle, rec = start(worker, run=False)
    with qtbot.waitSignal(handle.thread.finished, timeout=30_000):
        handle.start()
    qtbot.waitUntil(lambda: bool(rec.ended), timeout=5000)
    assert rec.ended[-1]["state"] == "finished"
    assert rec.points() == 3000
    steps = np.concatenate([m["step"] for m in rec.metrics])
    assert list(steps) == list(range(1, 3001))
    assert len(rec.metrics) < 3000 / 5  # batched, not a signal per step
    assert rec.metrics[-1]["epoch"] == 3000
    assert rec.metrics[-1]["time_grad_norms"] is not None


def test_pause_waits_without_burning_cpu_and_stop_wakes_it(qtbot, start):
    trainer = FakeTrainer(epochs=10**9)
    worker = TrainingWorker(1, trainer=trainer)
    handle, rec = start(worker)
    qtbot.waitUntil(lambda: trainer.steps > 100, timeout=10_000)
    worker.request_pause()
    qtbot.waitUntil(lambda: any(p["reason"] == "request" for p in rec.paused), timeout=5000)
    steps = trainer.steps
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    qtbot.wait(500)  # an idle GUI event loop: the only CPU user could be a spinning worker
    cpu = time.process_time() - cpu_before
    wall = time.perf_counter() - wall_before
    assert trainer.steps == steps
    assert cpu < 0.5 * wall, f"paused worker used {cpu:.2f}s CPU in {wall:.2f}s"
    assert handle.stop(1000)
    assert not handle.is_running()
    qtbot.waitUntil(lambda: bool(rec.ended), timeout=5000)
    assert rec.ended[-1]["state"] == "stopped"


def test_step_requests_one_epoch_each(qtbot, start):
    trainer = FakeTrainer(epochs=100)
    worker = TrainingWorker(1, trainer=trainer, start_paused=True, epochs_to_step=1)
    handle, rec = start(worker)
    qtbot.waitUntil(lambda: [p["reason"] for p in rec.paused] == ["step"], timeout=5000)
    assert trainer.steps == 1
    worker.request_step()
    worker.request_step()
    qtbot.waitUntil(lambda: trainer.steps == 3, timeout=5000)
    qtbot.waitUntil(lambda: rec.points() == 3, timeout=5000)
    assert trainer.steps == 3


def test_learning_rate_and_clip_apply_before_the_next_step(qtbot, start):
    trainer = FakeTrainer(epochs=10**9)
    worker = TrainingWorker(1, trainer=trainer, start_paused=True)
    handle, rec = start(worker)
    worker.request_lr(0.5)
    worker.request_clip(2.0)
    worker.request_step()
    qtbot.waitUntil(lambda: rec.points() == 1, timeout=5000)
    lrs = np.concatenate([m["lr"] for m in rec.metrics])
    assert lrs[0] == 0.5 and trainer.cfg.train.clip == 2.0


def test_divergence_pauses_with_advice_and_sends_no_nan(qtbot, start):
    trainer = FakeTrainer(epochs=100, diverge_at=5)
    worker = TrainingWorker(1, trainer=trainer)
    handle, rec = start(worker)
    qtbot.waitUntil(lambda: any(p["reason"] == "diverged" for p in rec.paused), timeout=5000)
    message = [p for p in rec.paused if p["reason"] == "diverged"][0]["message"]
    assert message.startswith("Loss became NaN at epoch 5 with learning rate 0.01")
    assert "lower the learning rate or turn on gradient clipping" in message
    qtbot.waitUntil(lambda: rec.points() == 4, timeout=5000)
    for m in rec.metrics:
        assert np.all(np.isfinite(m["loss"])) and np.all(np.isfinite(m["grad_norm"]))
        assert all(math.isfinite(v) for v in m["param_grad_norms"].values())
    assert handle.is_running()  # paused, not ended: the user may change lr and resume


def test_divergence_message_mentions_the_clip_when_on():
    text = divergence_message("the gradient became infinite", 37, 10.0, 1.0)
    assert text.startswith("The gradient became infinite at epoch 37 with learning rate 10:")
    assert "gradient clip (now 1)" in text


def test_exception_in_the_worker_ends_the_run_with_its_message(qtbot, start):
    trainer = FakeTrainer(epochs=100, fail_at=3)
    worker = TrainingWorker(1, trainer=trainer)
    handle, rec = start(worker, run=False)
    with qtbot.waitSignal(handle.thread.finished, timeout=10_000):
        handle.start()
    qtbot.waitUntil(lambda: bool(rec.ended), timeout=5000)
    assert rec.ended[-1]["state"] == "failed"
    assert "RuntimeError: boom" in rec.ended[-1]["message"]
    assert rec.points() == 2


def test_bad_settings_are_rejected_in_plain_words(qtbot, start):
    cfg = defaults_for("text")
    cfg.task.sentences = ["   "]
    worker = TrainingWorker(1, cfg)
    handle, rec = start(worker)
    qtbot.waitUntil(lambda: bool(rec.ended), timeout=10_000)
    assert rec.ended[-1]["state"] == "rejected"
    assert "no sentences" in rec.ended[-1]["message"]


def test_completion_is_served_between_steps_and_after_the_end(qtbot, start):
    cfg = defaults_for("text")
    cfg.train.epochs = 30
    worker = TrainingWorker(1, cfg, start_paused=True)
    handle, rec = start(worker)
    assert worker.request_completion({"id": 1, "prompt": "good", "length": 15})
    qtbot.waitUntil(lambda: bool(rec.completed), timeout=30_000)
    assert rec.completed[0]["text"].startswith("good") and len(rec.completed[0]["text"]) == 15
    with qtbot.waitSignal(handle.thread.finished, timeout=60_000):
        worker.request_resume()
    assert not worker.request_completion({"id": 2, "prompt": "hey"})  # ended: refused, never lost
    serve = TrainingWorker(1, trainer=worker.trainer, train=False)
    assert serve.request_completion({"id": 3, "prompt": "hey", "length": 10})
    serve_handle, serve_rec = start(serve, run=False)
    with qtbot.waitSignal(serve_handle.thread.finished, timeout=10_000):
        serve_handle.start()
    qtbot.waitUntil(lambda: bool(serve_rec.completed), timeout=10_000)
    assert serve_rec.completed[0]["id"] == 3 and serve_rec.completed[0]["text"].startswith("hey")


def test_a_pause_before_the_first_step_is_announced(qtbot, start):
    trainer = FakeTrainer(epochs=10**9)
    worker = TrainingWorker(1, trainer=trainer)
    worker.request_pause()  # queued before the thread even starts
    handle, rec = start(worker)
    qtbot.waitUntil(lambda: [p["reason"] for p in rec.paused] == ["request"], timeout=5000)
    assert trainer.steps == 0


def test_the_worker_sends_the_typed_events_themselves_tagged_with_its_id(qtbot, start):
    trainer = FakeTrainer(epochs=20)
    worker = TrainingWorker(7, trainer=trainer)
    handle, rec = start(worker, run=False)
    with qtbot.waitSignal(handle.thread.finished, timeout=10_000):
        handle.start()
    qtbot.waitUntil(lambda: bool(rec.ended), timeout=5000)
    assert {worker_id for worker_id, _ in rec.events} == {7}
    kinds = [type(event) for _, event in rec.events]
    assert kinds[0] is RunStarted and kinds[-1] is RunEnded and StepBatch in kinds and Predictions in kinds
    assert not any(isinstance(event, dict) for _, event in rec.events)
