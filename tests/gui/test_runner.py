"""The Runner on its own (no window): it owns every thread, passes on the typed
events of the network on screen, and never delivers what it has cancelled.

A fake trainer (tests/gui/test_worker.py) makes steps instant; a real seed
network where a completion or a file needs one.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import QObject, Slot

from rnn_studio.core import checkpoints
from rnn_studio.core.config import RunConfig, defaults_for
from rnn_studio.core.events import Completion, Loaded, Paused, RunEnded, RunStarted, Saved, StepBatch
from rnn_studio.gui.runner import Runner, same_network
from tests.gui.test_worker import FakeTrainer

RUN_TIMEOUT_MS = 60_000


class Recorder(QObject):
    """Every signal of a runner, in the order it came."""

    def __init__(self, runner: Runner):
        super().__init__()
        self.log: list[tuple[str, object]] = []
        for name in (
            "stateChanged", "networkChanged", "runStarted", "batch", "predictions", "paused", "warned", "ended",
            "completed", "saved", "opening", "opened",
        ):
            getattr(runner, name).connect(lambda *args, name=name: self.log.append((name, args[0] if args else None)))
        runner.openFailed.connect(self.open_failed)

    @Slot(str, str)
    def open_failed(self, path, message):
        self.log.append(("openFailed", (path, message)))

    def of(self, name: str) -> list:
        return [value for kind, value in self.log if kind == name]

    def steps(self) -> np.ndarray:
        batches = self.of("batch")
        return np.concatenate([b.step for b in batches]) if batches else np.zeros(0)


@pytest.fixture
def runner(qtbot):
    made = []

    def make() -> tuple[Runner, Recorder]:
        r = Runner()
        made.append(r)
        return r, Recorder(r)

    yield make
    for r in made:
        assert r.stop_all(5000)


def sine_cfg(epochs: int) -> RunConfig:
    cfg = defaults_for("sine")
    cfg.train.epochs = epochs
    cfg.train.device = "cpu"
    return cfg


def seed_cfg(epochs: int) -> RunConfig:
    cfg = RunConfig()
    cfg.train.epochs = epochs
    cfg.train.device = "cpu"
    return cfg


def wait_state(qtbot, r: Runner, *states):
    qtbot.waitUntil(lambda: r.state in states, timeout=RUN_TIMEOUT_MS)


def test_a_run_sends_typed_events_and_ends(runner, qtbot):
    r, rec = runner()
    assert r.train(seed_cfg(20))
    assert r.state == "running" and rec.of("networkChanged") == [None]
    wait_state(qtbot, r, "finished")
    assert all(isinstance(b, StepBatch) for b in rec.of("batch"))
    assert list(rec.steps()) == list(range(1, 21))
    assert isinstance(rec.of("runStarted")[0], RunStarted) and r.info.parameters == 618
    ended = rec.of("ended")
    assert len(ended) == 1 and isinstance(ended[0], RunEnded) and ended[0].state == "finished"
    # the views draw the end before the state says it
    names = [kind for kind, _ in rec.log]
    assert names.index("ended") < len(names) - 1 - names[::-1].index("stateChanged")
    assert rec.of("stateChanged") == ["running", "finished"]
    assert r.has_network() and r.worker.trainer.epoch == 20


def test_pause_step_resume_and_live_settings(runner, qtbot):
    r, rec = runner()
    trainer = FakeTrainer(epochs=10**9)
    r.train(sine_cfg(10**9), trainer=trainer, until_paused=True)
    qtbot.waitUntil(lambda: trainer.steps > 20, timeout=RUN_TIMEOUT_MS)
    r.pause()
    assert r.state == "paused"
    qtbot.waitUntil(lambda: [p.reason for p in rec.of("paused")] == ["request"], timeout=5000)
    paused_at = trainer.steps
    r.set_lr(0.5)
    assert r.step()
    qtbot.waitUntil(lambda: [p.reason for p in rec.of("paused")] == ["request", "step"], timeout=5000)
    assert trainer.steps == paused_at + 1 and trainer.lr == 0.5
    r.resume()
    assert r.state == "running"
    qtbot.waitUntil(lambda: trainer.steps > paused_at + 20, timeout=5000)
    r.stop()
    assert r.state == "stopped" and not r.run_thread.isRunning()
    assert not r.step()  # nothing in progress: Step starts a new run (the window's train(step_only=True))


def test_a_stopped_run_replaced_by_a_new_one_delivers_nothing_more(runner, qtbot):
    r, rec = runner()
    first = FakeTrainer(epochs=10**9)
    r.train(sine_cfg(10**9), trainer=first, until_paused=True)
    qtbot.waitUntil(lambda: first.steps > 50, timeout=RUN_TIMEOUT_MS)
    r.stop()  # its last batch, predictions and RunEnded are queued, not delivered yet
    second = FakeTrainer(epochs=10**9)
    second.steps = 10**6  # its step numbers tell its batches apart
    r.train(sine_cfg(10**9), trainer=second, until_paused=True)
    delivered = len(rec.of("batch"))
    qtbot.waitUntil(lambda: second.steps > 10**6 + 50, timeout=RUN_TIMEOUT_MS)
    qtbot.waitUntil(lambda: len(rec.of("batch")) > delivered + 1, timeout=5000)
    later = np.concatenate([b.step for b in rec.of("batch")[delivered:]])
    assert np.all(later > 10**6), "a batch of the replaced run was delivered"
    assert rec.of("ended") == [] and r.state == "running"  # the first run's end never reached anyone
    r.stop()
    qtbot.waitUntil(lambda: len(rec.of("ended")) == 1, timeout=5000)


def test_reset_drops_everything_of_the_run(runner, qtbot):
    r, rec = runner()
    trainer = FakeTrainer(epochs=10**9)
    r.train(sine_cfg(10**9), trainer=trainer, until_paused=True)
    qtbot.waitUntil(lambda: trainer.steps > 50, timeout=RUN_TIMEOUT_MS)
    time.sleep(0.2)  # more batches queue up meanwhile
    r.reset()
    count = len(rec.log)
    assert r.state == "idle" and r.network is None and not r.has_network() and r.worker is None
    qtbot.wait(200)
    assert rec.log[count:] == []


def test_only_the_latest_question_is_answered(runner, qtbot):
    r, rec = runner()
    r.train(seed_cfg(100))
    wait_state(qtbot, r, "finished")
    assert r.complete("hey", 15, 0.0) and r.complete("good", 15, 0.0)
    qtbot.waitUntil(lambda: bool(rec.of("completed")), timeout=RUN_TIMEOUT_MS)
    qtbot.waitUntil(lambda: all(not t.isRunning() for t in r.threads()), timeout=RUN_TIMEOUT_MS)
    answers = rec.of("completed")
    assert len(answers) == 1 and isinstance(answers[0], Completion)
    assert answers[0].text == "good i am fine "


def test_a_rejected_run_goes_back_to_idle(runner, qtbot):
    r, rec = runner()
    cfg = seed_cfg(5)
    cfg.task.sentences = ["   "]
    r.train(cfg)
    wait_state(qtbot, r, "idle")
    assert rec.of("ended")[0].state == "rejected" and "no sentences" in rec.of("ended")[0].message
    assert not r.has_network() and r.network is None and not r.complete("hey", 10, 0.0)


@pytest.fixture(scope="module")
def seed_file(tmp_path_factory):
    from rnn_studio.core.training import Trainer

    trainer = Trainer(seed_cfg(100))
    while not trainer.finished:
        trainer.step()
    path = tmp_path_factory.mktemp("runner") / "seed.pt"
    checkpoints.save_checkpoint(trainer, str(path))
    return str(path)


@pytest.fixture
def slow_load(monkeypatch, tmp_path, seed_file):
    """A copy of the seed file whose loading blocks until released."""
    import shutil

    slow = str(tmp_path / "slow.pt")
    shutil.copy(seed_file, slow)
    entered, release = threading.Event(), threading.Event()
    real_load = checkpoints.load_trainer

    def load(path, *args, **kwargs):
        if path == slow:
            entered.set()
            release.wait(30)
        return real_load(path, *args, **kwargs)

    monkeypatch.setattr(checkpoints, "load_trainer", load)
    yield slow, entered, release
    release.set()


def test_an_older_open_is_superseded_by_a_newer_one(runner, qtbot, seed_file, slow_load):
    slow, entered, release = slow_load
    r, rec = runner()
    r.open(slow)
    qtbot.waitUntil(entered.is_set, timeout=RUN_TIMEOUT_MS)
    assert r.loading
    with qtbot.waitSignal(r.opened, timeout=RUN_TIMEOUT_MS):
        r.open(seed_file)
    release.set()
    qtbot.waitUntil(lambda: all(not t.isRunning() for t in r.threads() if t is not r.run_thread), timeout=RUN_TIMEOUT_MS)
    qtbot.wait(100)
    opened = rec.of("opened")
    assert len(opened) == 1 and isinstance(opened[0], Loaded) and opened[0].path == seed_file
    assert rec.of("openFailed") == []
    assert r.state == "finished" and r.network.opened and r.info.opened == "seed.pt" and r.info.epoch == 100
    # and Train goes on with it while the settings describe it
    assert r.trainer_to_go_on(seed_cfg(5)) is r.worker.trainer
    other = seed_cfg(5)
    other.model.hidden = 13
    assert r.trainer_to_go_on(other) is None and "no longer describe" in r.new_network_note("Train")


def test_train_drops_a_file_still_loading(runner, qtbot, slow_load):
    slow, entered, release = slow_load
    r, rec = runner()
    r.open(slow)
    qtbot.waitUntil(entered.is_set, timeout=RUN_TIMEOUT_MS)
    r.train(seed_cfg(3))
    release.set()
    wait_state(qtbot, r, "finished")
    qtbot.waitUntil(lambda: all(not t.isRunning() for t in r.threads() if t is not r.run_thread), timeout=RUN_TIMEOUT_MS)
    qtbot.wait(100)
    assert rec.of("opened") == [] and rec.of("openFailed") == []
    assert not r.network.opened and r.worker.trainer.epoch == 3


def test_a_file_that_cannot_be_used_changes_nothing(runner, qtbot, tmp_path):
    r, rec = runner()
    r.train(seed_cfg(3))
    wait_state(qtbot, r, "finished")
    worker = r.worker
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a model")
    with qtbot.waitSignal(r.openFailed, timeout=RUN_TIMEOUT_MS) as blocker:
        r.open(str(bad))
    assert blocker.args[0] == str(bad) and blocker.args[1]
    assert r.state == "finished" and r.worker is worker and rec.of("opened") == []


def test_a_save_is_answered_and_never_dropped(runner, qtbot, tmp_path):
    r, rec = runner()
    assert not r.save(str(tmp_path / "none.pt"))  # nothing to save yet
    r.train(seed_cfg(3))
    wait_state(qtbot, r, "finished")
    path = tmp_path / "three.pt"
    assert r.save(str(path))
    r.reset()  # the network goes; the file it was asked to write is still written and said
    qtbot.waitUntil(lambda: bool(rec.of("saved")), timeout=RUN_TIMEOUT_MS)
    saved = rec.of("saved")[0]
    assert isinstance(saved, Saved) and saved.error is None and saved.epoch == 3 and path.exists()


def test_stop_all_ends_every_thread(runner, qtbot):
    r, rec = runner()
    trainer = FakeTrainer(epochs=10**9)
    r.train(sine_cfg(10**9), trainer=trainer, until_paused=True)
    qtbot.waitUntil(lambda: trainer.steps > 10, timeout=RUN_TIMEOUT_MS)
    threads = r.threads()
    assert r.stop_all(1500)
    assert all(not t.isRunning() for t in threads) and r.state == "stopped"


def test_the_rate_leaves_out_the_warm_up_step(runner, qtbot):
    """An LSTM's first step can take 20x a later one; a run too short to fill a
    measuring window reported the rate of that step alone."""

    class SlowFirstStep(FakeTrainer):
        def step(self):
            time.sleep(0.3 if self.step_calls == 0 else 0.001)
            return super().step()

    r, rec = runner()
    trainer = SlowFirstStep(epochs=100)
    r.train(sine_cfg(100), trainer=trainer)
    wait_state(qtbot, r, "finished")
    rate = rec.of("batch")[-1].steps_per_s
    assert rate > 50, rate  # 1 ms steps: several hundred a second; the first step alone: 3


def test_the_settings_that_define_a_network():
    a = seed_cfg(100).to_dict()
    b = seed_cfg(5).to_dict()
    b["train"]["lr"] = 0.5  # what may change while it trains
    assert same_network(a, b)
    b["model"]["hidden"] = 13
    assert not same_network(a, b)
    c = seed_cfg(100).to_dict()
    c["task"]["sentences"] = ["another sentence"]
    assert not same_network(a, c)


def test_a_diverged_pause_changes_the_state_before_it_is_said(runner, qtbot):
    r, rec = runner()
    trainer = FakeTrainer(epochs=100, diverge_at=5)
    r.train(sine_cfg(100), trainer=trainer)
    qtbot.waitUntil(lambda: bool(rec.of("paused")), timeout=RUN_TIMEOUT_MS)
    paused = rec.of("paused")[0]
    assert isinstance(paused, Paused) and paused.reason == "diverged" and "learning rate" in paused.message
    names = [kind for kind, _ in rec.log]
    assert names.index("paused") > names.index("stateChanged", 1)  # the controls say "paused" first
    assert r.state == "paused" and r.run_thread.isRunning()
