"""The Qt-free step loop (core.session): driven from other threads, no Qt.

A fake trainer makes steps instant, so pausing, pacing, batching and
divergence are tested without torch; completions, saves and refused settings
use a real (tiny) Trainer. Nothing here asserts a time: waits are bounded only
so that a broken loop fails instead of hanging.
"""

from __future__ import annotations

import math
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from rnn_studio.core.events import (
    CompleteRequest,
    Completion,
    Diverged,
    EpochEnded,
    Paused,
    Predictions,
    RunEnded,
    RunStarted,
    Saved,
    SaveRequest,
    StepBatch,
    Warned,
)
from rnn_studio.core.session import Session, divergence_message
from rnn_studio.core.training import StepReport

WAIT_S = 20.0  # a guard against hanging, never a measured time


class FakeTrainer:
    """Instant steps. ``steps_per_epoch`` steps make an epoch; ``diverge_at``
    (a step call) and every call after it report a skipped step; ``fail_at`` raises."""

    def __init__(self, epochs=10, steps_per_epoch=1, diverge_at=None, fail_at=None, grad_norms=None):
        self.cfg = SimpleNamespace(train=SimpleNamespace(epochs=epochs, clip=0.0, time_grad_every=10))
        self.steps = 0
        self.epoch = 0
        self.lr = 0.01
        self.parameter_count = 10
        self.device = "cpu"
        self.vocab = None
        self.task = SimpleNamespace(kind="sine", mode="sequence")
        self.steps_per_epoch = steps_per_epoch
        self.diverge_at, self.fail_at = diverge_at, fail_at
        self.grad_norms = grad_norms  # per step call, else 0.5
        self.step_calls = 0
        self.step_threads: set[int] = set()
        self.in_step = False
        self.predictions_calls = 0

    def step(self):
        self.in_step = True
        try:
            self.step_threads.add(threading.get_ident())
            self.step_calls += 1
            if self.fail_at is not None and self.step_calls >= self.fail_at:
                raise RuntimeError("boom: CUDA out of memory (pretend)")
            self.steps += 1
            if self.diverge_at is not None and self.step_calls >= self.diverge_at:
                return StepReport(step=self.steps, epoch=self.epoch, epoch_done=False, loss=math.nan,
                                  grad_norm=math.inf, lr=self.lr, ms=0.0, param_grad_norms={"w": math.nan},
                                  skipped="loss became NaN")
            done = self.steps % self.steps_per_epoch == 0
            if done:
                self.epoch += 1
            grad = self.grad_norms[self.step_calls - 1] if self.grad_norms else 0.5
            return StepReport(step=self.steps, epoch=self.epoch, epoch_done=done, loss=1.0 / self.steps,
                              grad_norm=grad, lr=self.lr, ms=0.0, param_grad_norms={"w": 0.5, "b": 0.1},
                              time_grad_norms=[0.1, 0.2, 0.3] if self.steps % 10 == 0 else None,
                              epoch_loss=1.0 / self.steps if done else None)
        finally:
            self.in_step = False

    def predictions(self):
        self.predictions_calls += 1
        return {"kind": "sine", "mode": "sequence", "input": np.array([0.0, np.nan]), "target": np.zeros(2),
                "predicted": np.array([np.inf, 1.0])}

    def set_lr(self, lr):
        self.lr = lr

    def set_clip(self, clip):
        self.cfg.train.clip = clip


class Recorder:
    """The listener: keeps every event; tests wait on conditions over them."""

    def __init__(self, on_event=None):
        self.events: list = []
        self.threads: set[int] = set()
        self._cond = threading.Condition()
        self._on_event = on_event

    def __call__(self, event):
        self.threads.add(threading.get_ident())
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()
        if self._on_event is not None:
            self._on_event(event)

    def of(self, kind):
        with self._cond:
            return [e for e in self.events if isinstance(e, kind)]

    def wait_for(self, predicate, timeout=WAIT_S) -> bool:
        """Wait until ``predicate()``; it may watch the trainer, not only
        events, so it is polled too."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.01))
            return True

    def paused_reasons(self):
        return [e.reason for e in self.of(Paused)]

    def points(self):
        return sum(len(b) for b in self.of(StepBatch))

    def steps(self):
        batches = self.of(StepBatch)
        return np.concatenate([b.step for b in batches]) if batches else np.array([])


def start(session, recorder):
    """Run the session in its own thread, as the window's worker does."""
    thread = threading.Thread(target=session.run, args=(recorder,), daemon=True)
    thread.start()
    return thread


def stop(session, thread):
    session.request_stop()
    thread.join(WAIT_S)
    assert not thread.is_alive()


# -- pause, resume, step once ---------------------------------------------------------------------

def test_pause_resume_and_step_once_from_another_thread():
    trainer = FakeTrainer(epochs=10**9)
    session, rec = Session(trainer=trainer), Recorder()
    thread = start(session, rec)
    assert rec.wait_for(lambda: trainer.steps > 50)
    assert session.request_pause()
    assert rec.wait_for(lambda: "request" in rec.paused_reasons())
    paused_at = trainer.steps
    # the pause flushes: every step taken so far has reached the listener
    assert rec.points() == paused_at
    assert isinstance(rec.events[-1], Paused) and isinstance(rec.events[-2], StepBatch)
    assert not rec.wait_for(lambda: trainer.steps > paused_at, timeout=0.3)  # paused means no steps

    assert session.request_step()
    assert rec.wait_for(lambda: rec.paused_reasons()[-1:] == ["step"])
    assert trainer.steps == paused_at + 1
    session.request_step()
    session.request_step()
    assert rec.wait_for(lambda: rec.paused_reasons().count("step") >= 2 and trainer.steps == paused_at + 3)
    assert not rec.wait_for(lambda: trainer.steps > paused_at + 3, timeout=0.3)

    assert session.request_resume()
    assert rec.wait_for(lambda: trainer.steps > paused_at + 100)
    stop(session, thread)
    ended = rec.events[-1]
    assert isinstance(ended, RunEnded) and ended.state == "stopped" and ended.steps == trainer.steps
    assert trainer.step_threads == {thread.ident}  # the model is only touched by the session's thread
    assert list(rec.steps()) == list(range(1, trainer.steps + 1))


def test_start_paused_with_one_epoch_to_step():
    trainer = FakeTrainer(epochs=100, steps_per_epoch=3)
    session, rec = Session(trainer=trainer, start_paused=True, epochs_to_step=1), Recorder()
    thread = start(session, rec)
    assert rec.wait_for(lambda: rec.paused_reasons() == ["step"])
    assert (trainer.epoch, trainer.steps) == (1, 3)  # one epoch, however many steps it takes
    stop(session, thread)


def test_a_pause_before_the_first_step_is_announced():
    trainer = FakeTrainer(epochs=10**9)
    session, rec = Session(trainer=trainer), Recorder()
    session.request_pause()  # queued before run() even starts
    thread = start(session, rec)
    assert rec.wait_for(lambda: rec.paused_reasons() == ["request"])
    assert trainer.steps == 0
    assert isinstance(rec.events[0], RunStarted)
    stop(session, thread)


def test_stop_wakes_a_pause():
    trainer = FakeTrainer(epochs=10**9)
    session, rec = Session(trainer=trainer, start_paused=True), Recorder()
    thread = start(session, rec)
    assert rec.wait_for(lambda: bool(rec.of(RunStarted)))
    session.request_stop()
    thread.join(WAIT_S)
    assert not thread.is_alive()
    assert rec.of(RunEnded)[-1].state == "stopped" and trainer.steps == 0


# -- pace -----------------------------------------------------------------------------------------

def test_stop_wakes_a_paced_wait_at_once():
    trainer = FakeTrainer(epochs=10**9)
    session, rec = Session(trainer=trainer, pace=0.001), Recorder()  # a step every 1000 s
    thread = start(session, rec)
    assert rec.wait_for(lambda: trainer.steps == 1 and rec.points() == 1)
    session.request_stop()
    thread.join(WAIT_S)  # far less than the 1000 s the pace asks for
    assert not thread.is_alive()
    assert trainer.steps == 1 and rec.of(RunEnded)[-1].state == "stopped"


def test_a_paced_wait_serves_requests_and_a_faster_pace_resumes_at_once():
    trainer = FakeTrainer(epochs=10**9)
    session, rec = Session(trainer=trainer, pace=0.001), Recorder()
    thread = start(session, rec)
    assert rec.wait_for(lambda: trainer.steps == 1)
    seen = []
    session.request(lambda t: seen.append(t.steps))
    assert rec.wait_for(lambda: bool(seen))  # served during the wait, not 1000 s later
    assert seen == [1]
    session.request_pause()
    assert rec.wait_for(lambda: rec.paused_reasons() == ["request"])
    session.set_pace(None)  # flat out
    session.request_resume()
    assert rec.wait_for(lambda: trainer.steps > 20)
    stop(session, thread)


def test_a_slowed_pace_measures_time_gradients_every_step_and_gives_the_setting_back():
    trainer = FakeTrainer(epochs=10**9)
    session, rec = Session(trainer=trainer, start_paused=True, pace=5.0), Recorder()
    thread = start(session, rec)
    seen = []
    session.request(lambda t: seen.append(t.cfg.train.time_grad_every))
    session.set_pace(None)
    session.request(lambda t: seen.append(t.cfg.train.time_grad_every))
    session.set_pace(5.0)
    session.request(lambda t: seen.append(t.cfg.train.time_grad_every))
    assert rec.wait_for(lambda: len(seen) == 3)
    assert seen == [1, 10, 1]
    stop(session, thread)
    assert trainer.cfg.train.time_grad_every == 10  # the trainer outlives the run


# -- requests between steps -----------------------------------------------------------------------

def test_requests_are_served_between_steps_in_the_session_thread():
    trainer = FakeTrainer(epochs=10**9)
    session, rec = Session(trainer=trainer), Recorder()
    thread = start(session, rec)
    served = []

    def look(t):
        served.append((threading.get_ident(), t.in_step, t.steps))

    for _ in range(20):
        assert session.request(look)
    assert rec.wait_for(lambda: len(served) == 20)
    assert {ident for ident, _, _ in served} == {thread.ident}
    assert not any(in_step for _, in_step, _ in served)
    stop(session, thread)


def test_a_failing_request_is_reported_and_the_run_goes_on():
    trainer = FakeTrainer(epochs=10**9)
    session, rec = Session(trainer=trainer), Recorder()
    thread = start(session, rec)

    def broken(t):
        raise ValueError("no such thing")

    session.request(broken)
    assert rec.wait_for(lambda: bool(rec.of(Warned)))
    assert "ValueError: no such thing" in rec.of(Warned)[0].message
    steps = trainer.steps
    assert rec.wait_for(lambda: trainer.steps > steps + 10)
    stop(session, thread)
    assert rec.of(RunEnded)[-1].state == "stopped"


def test_request_refuses_what_it_cannot_serve():
    with pytest.raises(TypeError):
        Session(trainer=FakeTrainer()).request({"prompt": "hi"})


@pytest.fixture(scope="module")
def tiny_cfg():
    from rnn_studio.core.config import defaults_for

    cfg = defaults_for("text")
    cfg.train.epochs = 5
    cfg.train.device = "cpu"
    return cfg


def test_completion_and_save_are_answered_and_queued_ones_survive_the_end(tiny_cfg, tmp_path):
    session, rec = Session(tiny_cfg, start_paused=True), Recorder()
    thread = start(session, rec)
    assert session.request(CompleteRequest("good", length=15, id=7))
    assert rec.wait_for(lambda: bool(rec.of(Completion)))
    answer = rec.of(Completion)[0]
    assert answer.id == 7 and answer.error is None
    assert answer.text.startswith("good") and len(answer.text) == 15
    path = tmp_path / "net.pt"
    assert session.request(SaveRequest(str(path), id="s"))
    assert rec.wait_for(lambda: bool(rec.of(Saved)))
    saved = rec.of(Saved)[0]
    assert saved.error is None and saved.epoch == 0 and path.exists()
    session.request_resume()
    thread.join(WAIT_S)
    assert not thread.is_alive()
    assert rec.of(RunEnded)[-1].state == "finished" and session.trainer.epoch == 5
    assert session.closed
    assert not session.request(CompleteRequest("hey"))  # ended: refused, never silently lost

    serve = Session(trainer=session.trainer, train=False)
    assert serve.request(CompleteRequest("hey", length=10, id=3))
    assert serve.request(SaveRequest(str(tmp_path / "no-such-folder" / "x.pt")))
    served = Recorder()
    ended = serve.run(served)
    assert ended.state == "idle" and ended.serve_only and served.events[-1] is ended
    assert served.of(Completion)[0].id == 3 and served.of(Completion)[0].text.startswith("hey")
    assert served.of(Saved)[0].error  # a failed save answers in words; it does not end anything


def test_refused_settings_end_the_run_rejected(tiny_cfg):
    cfg = tiny_cfg.copy()
    cfg.task.sentences = ["   "]
    rec = Recorder()
    ended = Session(cfg).run(rec)
    assert ended.state == "rejected" and "no sentences" in ended.message
    assert [type(e) for e in rec.events] == [RunEnded]


# -- metrics --------------------------------------------------------------------------------------

def test_instant_steps_are_batched_and_every_step_arrives():
    trainer = FakeTrainer(epochs=3000)
    rec = Recorder()
    ended = Session(trainer=trainer).run(rec)
    assert ended.state == "finished"
    assert list(rec.steps()) == list(range(1, 3001))
    batches = rec.of(StepBatch)
    assert len(batches) < 3000 / 5  # batched, not one event per step
    last = batches[-1]
    assert last.epoch == 3000 and last.steps == 3000 and last.epochs == 3000
    assert last.time_grad_norms is not None and list(last.time_grad_norms) == [0.1, 0.2, 0.3]
    assert last.param_grad_norms == {"w": 0.5, "b": 0.1}
    assert last.lr_now == 0.01 and last.elapsed > 0


def test_flush_interval_zero_sends_every_step():
    trainer = FakeTrainer(epochs=50)
    rec = Recorder()
    Session(trainer=trainer, flush_interval=0.0).run(rec)
    sizes = [len(b) for b in rec.of(StepBatch)]
    assert sizes.count(1) == 50 and sum(sizes) == 50


def test_flat_out_batches_follow_their_own_interval_and_a_pace_the_usual_one():
    trainer = FakeTrainer(epochs=200)
    rec = Recorder()
    Session(trainer=trainer, flush_interval=0.0, flat_out_flush_interval=3600.0).run(rec)
    sizes = [len(b) for b in rec.of(StepBatch)]
    assert sum(sizes) == 200 and len(sizes) <= 3  # the first step at once, then the rest at the end
    assert sizes[0] == 1
    paced = Recorder()
    Session(trainer=FakeTrainer(epochs=5), flush_interval=0.0, flat_out_flush_interval=3600.0, pace=1000.0).run(paced)
    assert [len(b) for b in paced.of(StepBatch)].count(1) == 5  # a pace: every step, as flush_interval says


def test_events_arrive_in_the_running_thread_and_end_with_run_ended():
    trainer = FakeTrainer(epochs=5)
    rec = Recorder()
    ended = Session(trainer=trainer, predictions_interval=0.15).run(rec)
    assert rec.threads == {threading.get_ident()}  # run() blocks in the caller's thread
    assert isinstance(rec.events[0], RunStarted) and rec.events[0].epochs == 5
    assert rec.events[-1] is ended
    predictions = rec.of(Predictions)
    assert predictions and predictions[-1].epoch == 5
    assert np.all(np.isfinite(predictions[-1].data["input"])) and np.all(np.isfinite(predictions[-1].data["predicted"]))


def test_no_predictions_unless_asked():
    trainer = FakeTrainer(epochs=5)
    rec = Recorder()
    Session(trainer=trainer).run(rec)
    assert trainer.predictions_calls == 0 and not rec.of(Predictions)


def test_epoch_events_carry_the_mean_gradient_norm_of_the_epoch():
    trainer = FakeTrainer(epochs=2, steps_per_epoch=2, grad_norms=[1.0, 3.0, 0.5, 0.25])
    rec = Recorder()
    Session(trainer=trainer, epoch_events=True).run(rec)
    epochs = rec.of(EpochEnded)
    assert [(e.epoch, e.grad_norm, e.steps) for e in epochs] == [(1, 2.0, 2), (2, 0.375, 4)]
    assert epochs[1].loss == 0.25 and all(e.ms >= 0 for e in epochs)
    quiet = Recorder()
    Session(trainer=FakeTrainer(epochs=3)).run(quiet)
    assert not quiet.of(EpochEnded)


# -- settings between steps ------------------------------------------------------------------------

def test_learning_rate_and_clip_apply_before_the_next_step():
    trainer = FakeTrainer(epochs=10**9)
    session, rec = Session(trainer=trainer, start_paused=True), Recorder()
    thread = start(session, rec)
    session.set_lr(0.5)
    session.set_clip(2.0)
    session.request_step()
    assert rec.wait_for(lambda: rec.points() == 1)
    assert rec.of(StepBatch)[-1].lr[0] == 0.5 and trainer.cfg.train.clip == 2.0
    for bad in (math.nan, math.inf, -1.0, 0.0):
        session.set_lr(bad)  # ignored: the trainer keeps a usable rate
    session.request_step()
    assert rec.wait_for(lambda: rec.points() == 2)
    assert trainer.lr == 0.5
    stop(session, thread)


def test_epochs_reached_end_the_run_and_the_goal_can_move():
    trainer = FakeTrainer(epochs=25)
    rec = Recorder()
    ended = Session(trainer=trainer).run(rec)
    assert (ended.state, ended.epoch, ended.steps, ended.serve_only) == ("finished", 25, 25, False)
    assert rec.of(StepBatch)[-1].epoch == 25

    trainer = FakeTrainer(epochs=10)
    session, rec = Session(trainer=trainer, start_paused=True), Recorder()
    thread = start(session, rec)
    session.set_epochs(40)
    session.request_resume()
    thread.join(WAIT_S)
    assert not thread.is_alive() and trainer.epoch == 40 and rec.of(RunEnded)[-1].state == "finished"


def test_until_paused_trains_past_the_goal():
    trainer = FakeTrainer(epochs=5)
    session, rec = Session(trainer=trainer, until_paused=True), Recorder()
    thread = start(session, rec)
    assert rec.wait_for(lambda: trainer.epoch > 50)
    assert thread.is_alive()
    session.set_epochs(5, until_paused=False)  # back to a goal it has passed: it ends
    thread.join(WAIT_S)
    assert not thread.is_alive() and rec.of(RunEnded)[-1].state == "finished"


# -- divergence and failures -----------------------------------------------------------------------

def test_divergence_pauses_with_advice_and_sends_no_nan():
    trainer = FakeTrainer(epochs=100, diverge_at=5)
    session, rec = Session(trainer=trainer), Recorder()
    thread = start(session, rec)
    assert rec.wait_for(lambda: "diverged" in rec.paused_reasons())
    diverged, paused = rec.of(Diverged)[0], rec.of(Paused)[-1]
    assert paused.message == diverged.message
    assert paused.message.startswith("Loss became NaN at epoch 5 with learning rate 0.01")
    assert "lower the learning rate or turn on gradient clipping" in paused.message
    assert (paused.epoch, paused.lr, diverged.step, diverged.in_a_row) == (5, 0.01, 5, 1)
    assert rec.points() == 4
    for batch in rec.of(StepBatch):
        assert np.all(np.isfinite(batch.loss)) and np.all(np.isfinite(batch.grad_norm))
        assert all(math.isfinite(v) for v in batch.param_grad_norms.values())
    assert not rec.wait_for(lambda: trainer.step_calls > 5, timeout=0.3)  # paused, not retrying
    assert thread.is_alive()  # paused, not ended: a lower learning rate and Resume go on
    stop(session, thread)


def test_without_a_pause_divergence_is_counted_and_the_listener_decides():
    trainer = FakeTrainer(epochs=100, diverge_at=5)
    session = Session(trainer=trainer, pause_on_divergence=False)

    def give_up(event):
        if isinstance(event, Diverged) and event.in_a_row >= 3:
            session.request_stop()

    rec = Recorder(give_up)
    ended = session.run(rec)
    assert [d.in_a_row for d in rec.of(Diverged)] == [1, 2, 3]
    assert ended.state == "stopped" and trainer.step_calls == 7
    assert not rec.of(Paused)


def test_divergence_message_mentions_the_clip_when_on():
    text = divergence_message("the gradient became infinite", 37, 10.0, 1.0)
    assert text.startswith("The gradient became infinite at epoch 37 with learning rate 10:")
    assert "gradient clip (now 1)" in text


def test_an_exception_ends_the_run_failed_with_its_message(capsys):
    trainer = FakeTrainer(epochs=100, fail_at=3)
    rec = Recorder()
    ended = Session(trainer=trainer).run(rec)
    assert ended.state == "failed" and "RuntimeError: boom" in ended.message
    assert rec.points() == 2
    assert "Traceback" in capsys.readouterr().err  # the bug is not hidden


def test_reraise_hands_the_exception_back_after_run_ended(capsys):
    trainer = FakeTrainer(epochs=100, fail_at=3)
    rec = Recorder()
    with pytest.raises(RuntimeError, match="boom"):
        Session(trainer=trainer).run(rec, reraise=True)
    assert rec.events[-1].state == "failed"
    assert "Traceback" not in capsys.readouterr().err  # whoever catches it decides
