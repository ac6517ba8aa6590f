"""Save model… / Open model… in the window (issue 4, Files).

Saving happens in the thread that holds the network (between two steps while
it trains); opening loads in a worker thread and shows the network as an ended
run. A file that cannot be used (missing, cut, corrupted, crafted to run code,
of another kind) gives a message and changes nothing: the sentences stay.
The tests call ``save_model(path)`` / ``open_model(path)``; the toolbar's
actions only add the file dialog in front of them.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import threading

import pytest
import torch
from PySide6.QtGui import QKeySequence

from rnn_studio.core import checkpoints
from rnn_studio.core.checkpoints import FORMAT, LEGACY_VERSION, VERSION, load_trainer, read_checkpoint
from rnn_studio.core.config import SEED_SENTENCES
from rnn_studio.gui import MainWindow
from tests.hostile_files import HOSTILE

RUN_TIMEOUT_MS = 60_000
MY_SENTENCES = "my own sentence\nanother one, typed by hand\n"


def finished(state):
    return state == "finished"


def train_to_the_end(w, qtbot, epochs=100):
    w.epochsSpin.setValue(epochs)
    with qtbot.waitSignal(w.runStateChanged, check_params_cb=finished, timeout=RUN_TIMEOUT_MS):
        w.trainButton.click()


def complete(w, qtbot, prompt="good") -> str:
    w.completionView.clear()
    w.promptEdit.setText(prompt)
    w.completeButton.click()
    qtbot.waitUntil(lambda: w.completionView.text() != "", timeout=10_000)
    return w.completionView.text()


def save(w, qtbot, path) -> tuple[str, str]:
    with qtbot.waitSignal(w.modelSaved, timeout=RUN_TIMEOUT_MS) as blocker:
        w.save_model(str(path))
    return tuple(blocker.args)


def open_file(w, qtbot, path) -> tuple[str, str]:
    with qtbot.waitSignal(w.modelOpened, timeout=RUN_TIMEOUT_MS) as blocker:
        assert w.open_model(str(path))
    return tuple(blocker.args)


@pytest.fixture(scope="module")
def seed_model(tmp_path_factory):
    """The seed run (100 epochs), saved by the CLI's core: 'good' -> 'good i am fine '."""
    from rnn_studio.core.config import RunConfig
    from rnn_studio.core.training import Trainer

    cfg = RunConfig()
    cfg.train.device = "cpu"
    trainer = Trainer(cfg)
    while not trainer.finished:
        trainer.step()
    path = tmp_path_factory.mktemp("models") / "seed.pt"
    checkpoints.save_checkpoint(trainer, str(path))
    return path


def test_actions_have_shortcuts_and_tooltips(window):
    w = window
    assert w.saveModelAction.shortcut().matches(QKeySequence("Ctrl+S")) == QKeySequence.SequenceMatch.ExactMatch
    assert w.openModelAction.shortcut().matches(QKeySequence("Ctrl+O")) == QKeySequence.SequenceMatch.ExactMatch
    assert w.saveModelAction.text() == "Save model…" and w.openModelAction.text() == "Open model…"
    for action in (w.saveModelAction, w.openModelAction):
        assert len(action.toolTip()) > 30 and action in w.actions()
    assert w.saveModelButton.defaultAction() is w.saveModelAction
    assert not w.saveModelAction.isEnabled()  # nothing to save before a run
    assert w.openModelAction.isEnabled()


def test_save_then_open_gives_the_same_network(window, qtbot, tmp_path, monkeypatch):
    w = window
    train_to_the_end(w, qtbot)
    assert complete(w, qtbot) == "good i am fine "
    assert w.saveModelAction.isEnabled()
    path = tmp_path / "seed.pt"
    assert save(w, qtbot, path) == (str(path), "")  # after the run ended: a serve-only worker saves
    assert w.messageBar.kind == "info" and "Saved" in w.message_text()

    # a second window with other settings and other sentences opens it
    threads = []
    real_load = checkpoints.load_trainer

    def recording_load(*args, **kwargs):
        threads.append(threading.current_thread())
        return real_load(*args, **kwargs)

    monkeypatch.setattr(checkpoints, "load_trainer", recording_load)
    other = MainWindow()
    qtbot.addWidget(other)
    other.sentencesEdit.setPlainText(MY_SENTENCES)
    other.archCombo.setCurrentIndex(other.archCombo.findData("lstm"))
    other.hiddenSpin.setValue(40)
    other.lrSpin.setValue(0.5)
    assert open_file(other, qtbot, path) == (str(path), "")
    assert threads and threads[0] is not threading.main_thread()  # loaded off the GUI thread
    assert other.run_state == "finished"
    assert other.sentencesEdit.toPlainText().splitlines() == list(SEED_SENTENCES)
    assert other.modelPanel.arch == "rnn" and other.hiddenSpin.value() == 12
    assert other.lrSpin.value() == pytest.approx(0.01) and other.epochsSpin.value() == 100
    assert other.taskCombo.currentData() == "text"
    assert "Opened seed.pt" in other.progressBar.format()
    assert complete(other, qtbot) == "good i am fine "
    qtbot.waitUntil(lambda: other.textView.accuracy is not None and other.textView.accuracy > 0.8, timeout=5000)
    other.sentencesEdit.undo()  # the sentences the user had come back
    assert other.sentencesEdit.toPlainText() == MY_SENTENCES


def test_train_goes_on_training_the_opened_network(window, qtbot, seed_model):
    w = window
    assert open_file(w, qtbot, seed_model)[1] == ""
    assert "go on training" in w.trainButton.toolTip().lower()
    train_to_the_end(w, qtbot, epochs=5)
    assert w.worker.trainer.epoch == 105  # 100 from the file, 5 more
    x, _ = w.lossPlot.getPlotItem().listDataItems()[0].getData()
    assert list(x) == [101, 102, 103, 104, 105]
    assert "105 / 105" in w.progressBar.format()
    train_to_the_end(w, qtbot, epochs=5)  # still the opened network's line
    assert w.worker.trainer.epoch == 110
    # a setting that defines the network changed: Train starts a new one
    w.hiddenSpin.setValue(13)
    assert "go on training" not in w.trainButton.toolTip().lower()  # the tooltip says so at once
    w.hiddenSpin.setValue(12)
    assert "go on training" in w.trainButton.toolTip().lower()
    w.hiddenSpin.setValue(13)
    train_to_the_end(w, qtbot, epochs=5)
    assert w.worker.trainer.epoch == 5 and w.worker.trainer.cfg.model.hidden == 13
    assert "new network" in w.message_text()
    assert "go on training" not in w.trainButton.toolTip().lower()


def test_reset_after_open_starts_from_scratch(window, qtbot, seed_model):
    w = window
    open_file(w, qtbot, seed_model)
    w.resetButton.click()
    assert w.run_state == "idle" and not w.saveModelAction.isEnabled()
    train_to_the_end(w, qtbot, epochs=3)
    assert w.worker.trainer.epoch == 3


def test_save_while_training_runs(window, qtbot, tmp_path):
    w = window
    w.untilPausedCheck.setChecked(True)
    w.trainButton.click()
    qtbot.waitUntil(lambda: w.worker is not None and w.worker.trainer is not None
                    and w.worker.trainer.steps >= 3, timeout=RUN_TIMEOUT_MS)
    path = tmp_path / "running.pt"
    assert save(w, qtbot, path) == (str(path), "")
    assert w.run_state == "running" and w.run_thread.isRunning()
    steps = w.worker.trainer.steps
    qtbot.waitUntil(lambda: w.worker.trainer.steps > steps + 2, timeout=RUN_TIMEOUT_MS)  # and it goes on
    saved = load_trainer(str(path), device="cpu")
    assert saved.epoch >= 3 and saved.vocab is not None
    # and while paused
    with qtbot.waitSignal(w.workerPaused, timeout=10_000):
        w.pauseButton.click()
    paused_path = tmp_path / "paused.pt"
    assert save(w, qtbot, paused_path)[1] == ""
    assert load_trainer(str(paused_path), device="cpu").epoch == w.worker.trainer.epoch
    w.stopButton.click()
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]  # no temporary file left behind


def test_save_with_nothing_to_save_or_nowhere_to_write(window, qtbot, tmp_path):
    w = window
    path, error = save(w, qtbot, tmp_path / "nothing.pt")
    assert error and w.messageBar.kind == "warning" and "Train" in w.message_text()
    assert not (tmp_path / "nothing.pt").exists()
    train_to_the_end(w, qtbot, epochs=2)
    path, error = save(w, qtbot, tmp_path / "no such folder" / "m.pt")
    assert "does not exist" in error
    assert w.messageBar.kind == "error" and "not saved" in w.message_text()
    assert w.run_state == "finished" and complete(w, qtbot).startswith("good")  # the network is still there


class RunsCode:
    """Unpickling this would create ``marker``."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


def _bad_file(kind: str, folder, good) -> str:
    path = folder / f"{kind.replace(' ', '_')}.pt"
    raw = good.read_bytes()
    if kind == "missing":
        pass
    elif kind == "folder":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif kind == "corrupted":
        middle = len(raw) // 2
        path.write_bytes(raw[:middle] + bytes(b ^ 0x5A for b in raw[middle : middle + 64]) + raw[middle + 64 :])
    elif kind == "stray bytes":
        path.write_bytes(b"junk")
    elif kind == "crafted to run code":
        torch.save(RunsCode(str(folder / "PWNED")), path)
    elif kind == "crafted checkpoint":
        torch.save({"format": FORMAT, "version": VERSION, "config": {}, "model": {"w": RunsCode(str(folder / "PWNED"))}},
                   path)
    elif kind == "raw pickle":
        path.write_bytes(pickle.dumps(RunsCode(str(folder / "PWNED")), protocol=4))
    elif kind == "text file":
        path.write_text("hey how are you\n")
    elif kind == "json":
        path.write_text(json.dumps({"format": FORMAT, "model": {}}))
    elif kind == "a state dict":
        torch.save(torch.nn.Linear(2, 2).state_dict(), path)
    elif kind == "another architecture":
        payload = read_checkpoint(str(good))
        payload["config"]["model"]["arch"] = "lstm"  # the weights are an RNN's
        payload["version"] = LEGACY_VERSION
        torch.save(payload, path)
    elif kind in HOSTILE:
        return str(HOSTILE[kind][0](folder))
    else:
        raise AssertionError(kind)
    return str(path)


BAD = ("missing", "folder", "empty", "truncated", "corrupted", "stray bytes", "crafted to run code",
       "crafted checkpoint", "raw pickle", "text file", "json", "a state dict", "another architecture",
       *sorted(HOSTILE))  # issue 7's hostile classes, tests/hostile_files.py


@pytest.mark.parametrize("kind", BAD)
def test_a_bad_file_gives_a_message_and_changes_nothing(window, qtbot, tmp_path, seed_model, kind):
    w = window
    train_to_the_end(w, qtbot, epochs=3)
    w.sentencesEdit.setPlainText(MY_SENTENCES)  # typed after the run: must survive the failed open
    w.hiddenSpin.setValue(21)
    handle_before = w.worker
    path = _bad_file(kind, tmp_path, seed_model)
    opened_path, error = open_file(w, qtbot, path)
    assert opened_path == path and error
    assert w.messageBar.kind == "error"
    message = w.message_text()
    assert message.startswith("Could not open the model") and "Nothing in the window was changed" in message
    assert "\n" not in message and "Traceback" not in message
    if kind in HOSTILE:
        assert HOSTILE[kind][1] in message, message
    if kind.startswith("crafted") or kind == "raw pickle":
        assert not (tmp_path / "PWNED").exists(), "the crafted file ran code"
        if kind != "raw pickle":
            assert "refused" in message
    assert w.sentencesEdit.toPlainText() == MY_SENTENCES
    assert w.hiddenSpin.value() == 21
    assert w.run_state == "finished" and w.worker is handle_before
    assert w.openModelAction.isEnabled()
    # and a good file still opens afterwards
    assert open_file(w, qtbot, seed_model)[1] == ""


def test_the_crafted_file_is_live(tmp_path, seed_model):
    """Guard for the test above: plain unpickling would run it."""
    path = _bad_file("crafted to run code", tmp_path, seed_model)
    torch.load(path, weights_only=False)
    assert (tmp_path / "PWNED").exists()


def test_open_during_a_run_replaces_it_only_when_the_file_is_good(window, qtbot, tmp_path, seed_model):
    w = window
    w.untilPausedCheck.setChecked(True)
    w.trainButton.click()
    qtbot.waitUntil(lambda: w.lossView.points >= 2, timeout=RUN_TIMEOUT_MS)
    thread = w.run_thread
    bad = _bad_file("truncated", tmp_path, seed_model)
    assert open_file(w, qtbot, bad)[1]
    assert w.run_state == "running" and thread.isRunning()  # the failed open left the run alone
    assert open_file(w, qtbot, seed_model)[1] == ""
    assert not thread.isRunning() and w.run_state == "finished"
    assert complete(w, qtbot) == "good i am fine "
    w.close()
    assert w.closed_cleanly


def test_a_sine_model_round_trip(window, qtbot, tmp_path):
    w = window
    w.taskCombo.setCurrentIndex(w.taskCombo.findData("sine"))
    w.dataPanel.sineWindowsSpin.setValue(50)
    train_to_the_end(w, qtbot, epochs=3)
    path = tmp_path / "sine.pt"
    assert save(w, qtbot, path)[1] == ""
    other = MainWindow()
    qtbot.addWidget(other)
    assert other.taskCombo.currentData() == "text"
    assert open_file(other, qtbot, path)[1] == ""
    assert other.taskCombo.currentData() == "sine" and other.dataPanel.sineWindowsSpin.value() == 50
    assert other.hiddenSpin.value() == 32 and other.bottomStack.currentWidget() is other.sinePlot
    qtbot.waitUntil(lambda: other.sineView.redraws >= 1, timeout=5000)  # the opened network's prediction
    assert other.sentencesEdit.toPlainText().splitlines() == list(SEED_SENTENCES)  # untouched


def test_a_model_trained_on_a_text_file_keeps_the_users_sentences(window, qtbot, tmp_path):
    """The CLI can train on a whole text file; the sentence box cannot show it,
    so opening such a model keeps what the user typed (even when the file is gone)."""
    from rnn_studio.core.config import RunConfig
    from rnn_studio.core.training import Trainer

    text_file = tmp_path / "corpus.txt"
    text_file.write_text("abab abab\n" * 40)
    cfg = RunConfig()
    cfg.task.text_file, cfg.task.window, cfg.task.batch_size = str(text_file), 8, 4
    cfg.train.device, cfg.train.epochs = "cpu", 2
    trainer = Trainer(cfg)
    trainer.run_epoch()
    path = tmp_path / "corpus.pt"
    checkpoints.save_checkpoint(trainer, str(path))
    text_file.unlink()
    w = window
    w.sentencesEdit.setPlainText(MY_SENTENCES)
    assert open_file(w, qtbot, path)[1] == ""
    assert w.sentencesEdit.toPlainText() == MY_SENTENCES
    assert "corpus.txt" in w.message_text() and "your sentences stay" in w.message_text()
    assert complete(w, qtbot, "ab").startswith("ab")
    assert "go on training" not in w.trainButton.toolTip().lower()
    train_to_the_end(w, qtbot, epochs=2)  # a new network, on the sentences in the box
    assert w.worker.trainer.epoch == 2 and w.worker.trainer.task.mode == "sentences"


def test_a_newer_open_wins_over_a_file_still_loading(window, qtbot, monkeypatch, tmp_path, seed_model):
    """Issue 7: a slow file (a hostile pickle, a network drive) never blocks
    Open model…; the newer file opens and the older one's result is dropped."""
    release = threading.Event()
    entered = threading.Event()
    real_load = checkpoints.load_trainer
    slow = str(tmp_path / "slow.pt")
    shutil.copy(seed_model, slow)

    def load(path, *args, **kwargs):
        if path == slow:
            entered.set()
            release.wait(30)
        return real_load(path, *args, **kwargs)

    monkeypatch.setattr(checkpoints, "load_trainer", load)
    w = window
    assert w.open_model(slow)
    qtbot.waitUntil(entered.is_set, timeout=RUN_TIMEOUT_MS)
    assert w.openModelAction.isEnabled()
    other = tmp_path / "other.pt"
    shutil.copy(seed_model, other)
    opened = []
    w.modelOpened.connect(lambda path, error: opened.append((path, error)))
    with qtbot.waitSignal(w.modelOpened, timeout=RUN_TIMEOUT_MS):
        assert w.open_model(str(other))
    assert opened == [(str(other), "")]
    release.set()
    qtbot.wait(300)
    qtbot.waitUntil(lambda: all(not t.isRunning() for t in w.threads() if t is not w.run_thread), timeout=RUN_TIMEOUT_MS)
    assert opened == [(str(other), "")], "the older file's result was delivered"
    assert "other.pt" in w.message_text()


def test_an_optimizer_state_that_does_not_match_is_dropped_and_said(window, qtbot, tmp_path, seed_model):
    """Issue 7: optimizer state of another model never blocks opening (its
    tensors are honest), but the window says training goes on with a fresh one."""
    payload = read_checkpoint(str(seed_model))
    payload["version"] = LEGACY_VERSION
    payload["optimizer"] = torch.optim.Adam([torch.nn.Parameter(torch.zeros(3))]).state_dict()
    path = tmp_path / "other_optimizer.pt"
    torch.save(payload, path)
    assert open_file(window, qtbot, path)[1] == ""
    assert "optimizer state did not match" in window.message_text()
    assert complete(window, qtbot) == "good i am fine "
