"""Issue 4 in the window: bad input, divergence, worker errors, thread lifecycle.

Each problem ends in a plain message in the window (the message bar, not a
modal box), the app stays usable, nothing the user typed is lost, and no
thread is left running.
"""

import os
import random
import threading

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QThread
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QLineEdit, QPlainTextEdit
from shiboken6 import Shiboken

from rnn_studio.core import checkpoints, training
from rnn_studio.core.config import MAX_SENTENCES_CHARS
from rnn_studio.gui import MainWindow
from rnn_studio.gui.panels.data_panel import MAX_SENTENCE_CHARS
from rnn_studio.gui.panels.training_panel import FLAT_OUT, PACES

RUN_TIMEOUT_MS = 60_000


def state_is(*states):
    return lambda state: state in states


def steps_done(w) -> int:
    trainer = w.worker.trainer if w.worker is not None else None
    return trainer.steps if trainer is not None else 0


def plotted(plot):
    y = plot.getPlotItem().listDataItems()[0].yData
    return np.empty(0) if y is None else np.asarray(y)


def no_thread_running(w) -> bool:
    return all(not t.isRunning() for t in w.findChildren(QThread))


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "no sentences"),
        ("   \n\t\n  ", "no sentences"),
        ("a\nb\nc", "single character"),
    ],
)
def test_unusable_sentences_get_a_message_and_nothing_is_lost(window, qtbot, text, words):
    w = window
    w.sentencesEdit.setPlainText(text)
    w.trainButton.click()
    assert w.run_state == "idle" and w.trainButton.isEnabled()
    assert words in w.message_text().lower()
    assert w.messageBar.kind == "error"
    assert w.sentencesEdit.toPlainText() == text  # nothing the user typed is touched
    assert no_thread_running(w)


@pytest.mark.parametrize(
    "text",
    [
        "héllo wörld\nçava très bien",
        "שלום עולם\nمرحبا بالعالم",  # right-to-left
        "emoji 😀🎉 line\nzero\u200bwidth\u200djoiner",
        "combining e\u0301 marks\nnul \x00 char",
        "windows\r\nline ends\r\n",
    ],
)
def test_any_unicode_trains_or_explains(window, qtbot, text):
    w = window
    w.sentencesEdit.setPlainText(text)
    w.epochsSpin.setValue(3)
    with qtbot.waitSignal(w.runStateChanged, check_params_cb=state_is("finished", "idle"), timeout=RUN_TIMEOUT_MS):
        w.trainButton.click()
    if w.run_state == "idle":
        assert w.messageBar.kind == "error" and w.message_text()
    else:
        assert len(plotted(w.lossPlot)) == 3
        w.promptEdit.setText(text.split("\n")[0][:3] or "x")
        w.completeButton.click()
        qtbot.waitUntil(lambda: w.completionView.text() != "" or not w.completionWarning.isHidden(), timeout=10_000)


def test_a_huge_paste_is_cut_to_the_limit_with_a_message(window, qtbot):
    w = window
    edit = w.sentencesEdit
    edit.clear()
    mime = QMimeData()
    mime.setText("the quick brown fox jumps over the lazy dog\n" * 250_000)  # ~11 MB
    edit.insertFromMimeData(mime)
    assert edit.length() == MAX_SENTENCES_CHARS
    assert f"{MAX_SENTENCES_CHARS:,}" in w.message_text()
    assert w.messageBar.kind == "warning"
    # and a programmatic set of a one-megabyte line keeps one sentence's worth
    edit.setPlainText("x" * 1_000_000)
    assert edit.length() == MAX_SENTENCE_CHARS
    # derived figures are recomputed after typing pauses, not per keystroke
    qtbot.waitUntil(lambda: "sentence" in w.dataPanel.sentencesInfo.text(), timeout=5000)


def paste(edit, text):
    mime = QMimeData()
    mime.setText(text)
    edit.insertFromMimeData(mime)


def line_lengths(edit) -> list[int]:
    return [len(line) for line in edit.toPlainText().split("\n")]


@pytest.mark.parametrize("unit", ["x", "🙂", "a\u200d", "مرحبا ", "e\u0301"])
def test_a_one_megabyte_line_is_cut_to_one_sentence_with_a_message(window, unit):
    """Qt lays out a paragraph in one piece: a 1 MB line stalled the window
    for most of a second on the paste and on every keystroke after it."""
    w = window
    edit = w.sentencesEdit
    edit.clear()
    paste(edit, unit * (1_000_000 // len(unit)))
    assert line_lengths(edit) == [MAX_SENTENCE_CHARS]
    assert w.messageBar.kind == "warning"
    assert f"{MAX_SENTENCE_CHARS:,}" in w.message_text() and "line" in w.message_text()


def test_long_lines_are_cut_where_they_land_and_short_ones_stay(window):
    w = window
    edit = w.sentencesEdit
    edit.setPlainText("abcdef\nshort")
    assert w.messageBar.isHidden()
    cursor = edit.textCursor()
    cursor.setPosition(3)  # abc|def
    edit.setTextCursor(cursor)
    paste(edit, "y" * 6000 + "\r\n" + "ok\n" + "z" * 6000)
    lines = edit.toPlainText().split("\n")
    # the first pasted line joins "abc", the last one joins "def": each whole line fits
    assert lines == ["abc" + "y" * (MAX_SENTENCE_CHARS - 3), "ok", "z" * (MAX_SENTENCE_CHARS - 3) + "def", "short"]
    assert "6,003" in w.message_text()
    # a paste that fits is left alone, and says nothing
    w.messageBar.dismiss()
    edit.moveCursor(QTextCursor.MoveOperation.End)
    paste(edit, "\n" + "q" * MAX_SENTENCE_CHARS)
    assert line_lengths(edit)[-1] == MAX_SENTENCE_CHARS and w.messageBar.isHidden()
    # a preset or a restored text goes through the same cut
    edit.replace_all("p" * (MAX_SENTENCE_CHARS + 1))
    assert line_lengths(edit) == [MAX_SENTENCE_CHARS]


def test_a_line_typed_past_the_limit_is_explained(window, qtbot):
    w = window
    edit = w.sentencesEdit
    edit.setPlainText("k" * MAX_SENTENCE_CHARS)
    edit.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(edit, "kk")  # typing is not cut: a keystroke costs nothing
    qtbot.waitUntil(lambda: f"{MAX_SENTENCE_CHARS:,}" in w.dataPanel.sentencesInfo.text(), timeout=5000)
    assert "Sentence 1 has 5,002 characters" in w.dataPanel.sentencesInfo.text()


def test_unseen_characters_in_a_prompt_give_a_warning_not_an_error(window, qtbot):
    w = window
    w.epochsSpin.setValue(20)
    with qtbot.waitSignal(w.runStateChanged, check_params_cb=state_is("finished"), timeout=RUN_TIMEOUT_MS):
        w.trainButton.click()
    w.promptEdit.setText("go😀Z")
    w.completeButton.click()
    qtbot.waitUntil(lambda: w.completionView.text() != "", timeout=10_000)
    assert w.completionView.text().startswith("go😀z")  # seed 000 lower-cases the prompt
    assert not w.completionWarning.isHidden()
    assert "never saw" in w.completionWarning.text() and "😀" in w.completionWarning.text()
    # an empty prompt is explained, not raised
    w.promptEdit.setText("")
    w.completeButton.click()
    qtbot.waitUntil(lambda: "empty" in w.completionWarning.text(), timeout=10_000)


def test_prompt_before_any_training_is_explained(window):
    w = window
    w.completeButton.click()
    assert not w.completionWarning.isHidden() and "Train" in w.completionWarning.text()


def test_zero_epochs_shows_the_untrained_network(window, qtbot):
    w = window
    w.epochsSpin.setValue(0)
    with qtbot.waitSignal(w.runStateChanged, check_params_cb=state_is("finished"), timeout=RUN_TIMEOUT_MS):
        w.trainButton.click()
    assert len(plotted(w.lossPlot)) == 0
    qtbot.waitUntil(lambda: w.textView.accuracy is not None, timeout=5000)


def test_divergence_pauses_and_explains_then_resumes_after_a_fix(window, qtbot):
    w = window
    w.taskCombo.setCurrentIndex(w.taskCombo.findData("sine"))
    w.dataPanel.sineWindowsSpin.setValue(50)
    w.optimizerCombo.setCurrentIndex(w.optimizerCombo.findData("sgd"))
    w.lrSpin.setValue(100)
    w.epochsSpin.setValue(200)
    with qtbot.waitSignal(w.workerPaused, check_params_cb=lambda r: r == "diverged", timeout=RUN_TIMEOUT_MS):
        w.trainButton.click()
    assert w.run_state == "paused" and w.pauseButton.text() == "Resume"
    text = w.message_text()
    assert w.messageBar.kind == "error"
    assert "with learning rate 100" in text and any(word in text for word in ("NaN", "infinite", "exploded"))
    assert "lower the learning rate" in text
    qtbot.waitUntil(lambda: len(plotted(w.lossPlot)) > 0, timeout=5000)
    w._redraw()
    for plot in (w.lossPlot, w.gradNormPlot):
        assert np.all(np.isfinite(plotted(plot)))
    # weights this far gone may diverge again at any learning rate: Reset starts afresh
    w.resetButton.click()
    w.lrSpin.setValue(0.01)
    w.epochsSpin.setValue(5)
    with qtbot.waitSignal(w.runStateChanged, check_params_cb=state_is("finished"), timeout=RUN_TIMEOUT_MS):
        w.trainButton.click()
    assert len(plotted(w.lossPlot)) == 5


def test_after_a_divergence_a_lower_learning_rate_and_resume_go_on(window, qtbot, monkeypatch):
    w = window
    real_step = training.Trainer.step
    calls = {"n": 0}

    def step_that_blows_up_once(self):
        calls["n"] += 1
        report = real_step(self)
        if calls["n"] == 4:  # as if this update had produced NaN: skipped, weights untouched
            report.loss, report.skipped, report.epoch_done = float("nan"), "loss became NaN", False
        return report

    monkeypatch.setattr(training.Trainer, "step", step_that_blows_up_once)
    w.lrSpin.setValue(10)
    w.epochsSpin.setValue(10)
    with qtbot.waitSignal(w.workerPaused, check_params_cb=lambda r: r == "diverged", timeout=RUN_TIMEOUT_MS):
        w.trainButton.click()
    assert "Loss became NaN at epoch" in w.message_text() and "learning rate 10:" in w.message_text()
    w.lrSpin.setValue(0.01)
    with qtbot.waitSignal(w.runStateChanged, check_params_cb=state_is("finished"), timeout=RUN_TIMEOUT_MS):
        w.pauseButton.click()  # Resume
    assert w.messageBar.isHidden()  # the problem was dealt with
    losses = plotted(w.lossPlot)
    # ten steps, one of them reported as skipped: it never reached the plot
    assert len(losses) == 9 and np.all(np.isfinite(losses))
    assert w.lr_history.column(1)[-1] == 0.01


def test_an_exception_in_the_worker_is_shown_and_the_app_stays_usable(window, qtbot, monkeypatch):
    w = window
    real_step = training.Trainer.step
    calls = {"n": 0}

    def broken_step(self):
        calls["n"] += 1
        if calls["n"] >= 3:
            raise RuntimeError("CUDA out of memory (pretend)")
        return real_step(self)

    monkeypatch.setattr(training.Trainer, "step", broken_step)
    with qtbot.waitSignal(w.runStateChanged, check_params_cb=state_is("failed"), timeout=RUN_TIMEOUT_MS):
        w.trainButton.click()
    assert "CUDA out of memory (pretend)" in w.message_text()
    assert w.messageBar.kind == "error"
    assert w.trainButton.isEnabled() and w.taskCombo.isEnabled()
    qtbot.waitUntil(lambda: no_thread_running(w), timeout=5000)
    monkeypatch.setattr(training.Trainer, "step", real_step)
    w.epochsSpin.setValue(3)
    with qtbot.waitSignal(w.runStateChanged, check_params_cb=state_is("finished"), timeout=RUN_TIMEOUT_MS):
        w.trainButton.click()
    assert len(plotted(w.lossPlot)) == 3


def test_stop_during_the_first_step_and_reset_during_a_run(window, qtbot):
    w = window
    w.untilPausedCheck.setChecked(True)
    w.trainButton.click()
    w.stopButton.click()  # before the trainer is even built, most likely
    assert w.run_state == "stopped" and no_thread_running(w)
    w.trainButton.click()
    qtbot.waitUntil(lambda: steps_done(w) >= 2, timeout=RUN_TIMEOUT_MS)
    w.resetButton.click()
    assert w.run_state == "idle" and no_thread_running(w)
    assert len(plotted(w.lossPlot)) == 0


def test_step_while_stopped_goes_on_with_the_stopped_network(window, qtbot):
    w = window
    w.untilPausedCheck.setChecked(True)
    w.trainButton.click()
    qtbot.waitUntil(lambda: steps_done(w) >= 2, timeout=RUN_TIMEOUT_MS)
    w.stopButton.click()
    trainer, stopped_at = w.worker.trainer, steps_done(w)
    qtbot.waitUntil(lambda: len(plotted(w.lossPlot)) == stopped_at, timeout=5000)
    with qtbot.waitSignal(w.workerPaused, check_params_cb=lambda r: r == "step", timeout=RUN_TIMEOUT_MS):
        w.stepButton.click()
    assert w.run_state == "paused" and w.worker.trainer is trainer and steps_done(w) == stopped_at + 1
    qtbot.waitUntil(lambda: len(plotted(w.lossPlot)) == stopped_at + 1, timeout=5000)  # the plot goes on too
    assert "new network" not in w.message_text()


def test_step_after_the_end_trains_one_more_epoch_of_that_network(window, qtbot):
    w = window
    w.epochsSpin.setValue(5)
    with qtbot.waitSignal(w.runStateChanged, check_params_cb=state_is("finished"), timeout=RUN_TIMEOUT_MS):
        w.trainButton.click()
    trainer = w.worker.trainer
    with qtbot.waitSignal(w.workerPaused, check_params_cb=lambda r: r == "step", timeout=RUN_TIMEOUT_MS):
        w.stepButton.click()
    assert w.worker.trainer is trainer and trainer.epoch == 6
    qtbot.waitUntil(lambda: len(plotted(w.lossPlot)) == 6, timeout=5000)
    x = w.lossPlot.getPlotItem().listDataItems()[0].xData
    assert list(x) == [1, 2, 3, 4, 5, 6]
    w.stopButton.click()
    # the controls describe another network now: Step starts one, and says so
    w.hiddenSpin.setValue(13)
    with qtbot.waitSignal(w.workerPaused, check_params_cb=lambda r: r == "step", timeout=RUN_TIMEOUT_MS):
        w.stepButton.click()
    assert w.worker.trainer is not trainer and w.worker.trainer.epoch == 1
    assert w.worker.trainer.cfg.model.hidden == 13
    assert w.messageBar.kind == "info" and "Step started a new network" in w.message_text()
    qtbot.waitUntil(lambda: len(plotted(w.lossPlot)) == 1, timeout=5000)


def test_changing_the_task_after_a_run_says_the_run_was_cleared(window, qtbot):
    w = window
    w.confirm_discard = lambda question: True  # "Switch task" (issue 10: it asks first)
    w.epochsSpin.setValue(3)
    with qtbot.waitSignal(w.runStateChanged, check_params_cb=state_is("finished"), timeout=RUN_TIMEOUT_MS):
        w.trainButton.click()
    w.taskCombo.setCurrentIndex(w.taskCombo.findData("sine"))
    assert w.run_state == "idle" and len(plotted(w.lossPlot)) == 0
    assert w.messageBar.kind == "info"
    assert "cleared" in w.message_text() and "text network" in w.message_text()


def test_device_change_while_paused_waits_for_the_next_run(window, qtbot):
    w = window
    w.untilPausedCheck.setChecked(True)
    with qtbot.waitSignal(w.workerPaused, timeout=RUN_TIMEOUT_MS):
        w.stepButton.click()
    assert not w.deviceCombo.isEnabled()
    names = [w.deviceCombo.itemData(i) for i in range(w.deviceCombo.count())]
    other = next((i for i, n in enumerate(names) if n != "cpu"), None)
    if other is None:
        pytest.skip("this machine lists only the CPU")
    w.deviceCombo.setCurrentIndex(other)  # programmatic: the widget itself is locked
    assert w.messageBar.kind == "info"  # "takes effect when you press Train"
    w.pauseButton.click()  # the paused run resumes on its own device
    qtbot.waitUntil(lambda: steps_done(w) >= 3, timeout=RUN_TIMEOUT_MS)
    w.stopButton.click()
    enabled = w.deviceCombo.model().item(other).isEnabled()
    w.trainButton.click()
    if enabled:
        qtbot.waitUntil(lambda: w.run_state in ("running", "finished"), timeout=RUN_TIMEOUT_MS)
    else:
        assert w.run_state == "stopped" and "not available" in w.message_text()
    w.stop()
    assert no_thread_running(w)


def test_many_train_stop_cycles_at_random_moments(window, qtbot):
    w = window
    w.untilPausedCheck.setChecked(True)
    rng = random.Random(4)
    for _ in range(40):
        w.trainButton.click()
        qtbot.wait(rng.choice([0, 0, 1, 5, 20]))
        if rng.random() < 0.3:
            w.pauseButton.click()
        if rng.random() < 0.2:
            w.stepButton.click()
        w.stopButton.click() if rng.random() < 0.8 else w.resetButton.click()
        assert not w.run_thread or not w.run_thread.isRunning()
    assert no_thread_running(w)
    assert w.trainButton.isEnabled()
    with qtbot.waitSignal(w.runStateChanged, check_params_cb=state_is("running")):
        w.trainButton.click()
    qtbot.waitUntil(lambda: steps_done(w) >= 2, timeout=RUN_TIMEOUT_MS)
    w.close()
    assert w.closed_cleanly and no_thread_running(w)


def test_the_status_bar_counts_the_network_on_screen(window, qtbot):
    w = window
    w.epochsSpin.setValue(3)
    with qtbot.waitSignal(w.runStateChanged, check_params_cb=state_is("finished"), timeout=RUN_TIMEOUT_MS):
        w.trainButton.click()
    assert w.parameterStatus.text() == "Parameters: 618"
    w.archCombo.setCurrentIndex(w.archCombo.findData("lstm"))  # the next run's network
    assert w.parameterStatus.text() == "Parameters: 618"  # the plots and prompts are still the RNN's
    label = w.modelPanel.parameterCountLabel
    assert label.text().endswith("(next run)") and label.text() != "618 (next run)"
    assert "618" in label.toolTip()
    w.archCombo.setCurrentIndex(w.archCombo.findData("rnn"))
    assert label.text() == "618"
    w.archCombo.setCurrentIndex(w.archCombo.findData("lstm"))
    next_count = label.text().removesuffix(" (next run)")
    w.resetButton.click()  # nothing on screen: both count the controls
    assert label.text() == next_count and w.parameterStatus.text() == f"Parameters: {next_count}"


def test_a_slowed_pace_measures_the_gradient_through_time_every_step(window, qtbot):
    w = window
    w.untilPausedCheck.setChecked(True)
    w.paceSlider.setValue(PACES.index(100.0))
    w.trainButton.click()
    qtbot.waitUntil(lambda: steps_done(w) >= 1, timeout=RUN_TIMEOUT_MS)
    trainer = w.worker.trainer
    qtbot.waitUntil(lambda: trainer.cfg.train.time_grad_every == 1, timeout=5000)
    seen = set()

    def bars_keep_changing():
        norms = w.last_metrics["time_grad_norms"] if w.last_metrics else None
        if norms is not None:
            seen.add(norms.tobytes())
        return len(seen) >= 3

    qtbot.waitUntil(bars_keep_changing, timeout=RUN_TIMEOUT_MS)
    w.paceSlider.setValue(FLAT_OUT)
    qtbot.waitUntil(lambda: trainer.cfg.train.time_grad_every == 10, timeout=5000)
    w.paceSlider.setValue(PACES.index(100.0))
    qtbot.waitUntil(lambda: trainer.cfg.train.time_grad_every == 1, timeout=5000)
    w.stopButton.click()
    assert trainer.cfg.train.time_grad_every == 10  # the network keeps its own setting (and a saved file too)


def test_closing_never_waits_on_a_file_that_blocks(qtbot, monkeypatch, tmp_path):
    """A read that never returns (a network drive, a pipe the core would miss)
    must not keep the window from closing: the thread is left to end alone."""
    release = threading.Event()
    real_load = checkpoints.load_trainer
    entered = threading.Event()

    def blocking_load(path):
        entered.set()
        release.wait(30)  # before the fix, close waited out this whole time
        return real_load(path)

    monkeypatch.setattr(checkpoints, "load_trainer", blocking_load)
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    assert w.open_model(str(tmp_path / "slow.pt"))
    qtbot.waitUntil(entered.is_set, timeout=RUN_TIMEOUT_MS)
    loader = w.threads()[0]
    w.close()
    still_blocked = not release.is_set() and loader.isRunning()
    release.set()
    assert still_blocked  # close returned while the read still blocked
    assert w.closed_cleanly is False and w.threads() == []
    # it ends on its own, and is freed then
    qtbot.waitUntil(lambda: not Shiboken.isValid(loader) or not loader.isRunning(), timeout=RUN_TIMEOUT_MS)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_opening_a_pipe_is_refused_without_a_thread(window, qtbot, tmp_path):
    w = window
    fifo = tmp_path / "model.pt"
    os.mkfifo(fifo)
    with qtbot.waitSignal(w.modelOpened, timeout=5000) as blocker:
        w.open_model(str(fifo))
    assert blocker.args[0] == str(fifo) and "not a regular file" in blocker.args[1]
    assert w.threads() == [] and w.openModelAction.isEnabled()
    assert w.messageBar.kind == "error" and "Nothing in the window was changed" in w.message_text()
    w.close()
    assert w.closed_cleanly


def test_settings_locked_during_a_run_take_effect_on_the_next(window, qtbot):
    w = window
    w.untilPausedCheck.setChecked(True)
    w.trainButton.click()
    qtbot.waitUntil(lambda: steps_done(w) >= 1, timeout=RUN_TIMEOUT_MS)
    assert not w.hiddenSpin.isEnabled()
    w.hiddenSpin.setValue(20)  # programmatic, the widget is locked
    assert w.worker.trainer.cfg.model.hidden == 12  # the run keeps its own settings
    w.stopButton.click()
    w.epochsSpin.setValue(2)
    w.untilPausedCheck.setChecked(False)
    with qtbot.waitSignal(w.runStateChanged, check_params_cb=state_is("finished"), timeout=RUN_TIMEOUT_MS):
        w.trainButton.click()
    assert w.worker.trainer.cfg.model.hidden == 20


def test_the_window_closes_with_the_app_after_a_stop(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    w.untilPausedCheck.setChecked(True)
    w.trainButton.click()
    qtbot.waitUntil(lambda: steps_done(w) >= 1, timeout=RUN_TIMEOUT_MS)
    w.stopButton.click()
    w.close()
    assert w.closed_cleanly and no_thread_running(w)
    assert not w.isVisible()


def test_a_prompt_longer_than_its_limit_is_cut_with_a_visible_warning(window, qtbot):
    from rnn_studio.gui.panels.prompt_panel import MAX_PROMPT_CHARS

    prompt = window.findChild(QLineEdit, "promptEdit")
    prompt.clear()
    prompt.setFocus()
    prompt.insert("a" * MAX_PROMPT_CHARS)
    qtbot.keyClicks(prompt, "b")  # one past the limit: Qt drops it, the panel says so
    assert len(prompt.text()) == MAX_PROMPT_CHARS
    warning = window.promptPanel.completionWarning
    assert warning.isVisibleTo(window) and f"{MAX_PROMPT_CHARS:,}" in warning.text()


def test_a_no_break_space_is_trained_and_kept_as_typed(window):
    edit = window.findChild(QPlainTextEdit, "sentencesEdit")
    edit.setPlainText("caf\u00e9\u00a0au lait\nsecond line")
    assert window.dataPanel.sentences_text() == "caf\u00e9\u00a0au lait\nsecond line"
    assert window.build_config().task.sentences == ["caf\u00e9\u00a0au lait", "second line"]


def test_the_model_panel_says_before_train_when_a_step_of_this_batch_will_not_fit(window, qtbot, monkeypatch):
    """Issue 12: the panel counts what a step keeps (batch x window x hidden)
    as the trainer and the CLI do, not only the weights; Train refuses with
    the trainer's own words."""
    from rnn_studio.core import resources
    from rnn_studio.core.errors import ConfigError
    from rnn_studio.core.training import Trainer

    w = window
    monkeypatch.setattr(resources, "available_memory_bytes", lambda: 60 * 2**20)  # the weights fit, a big step not
    w.taskCombo.setCurrentIndex(w.taskCombo.findData("sine"))
    w.archCombo.setCurrentIndex(w.archCombo.findData("lstm"))
    w.hiddenSpin.setValue(128)
    w.dataPanel.sineWindowsSpin.setValue(1000)
    w.dataPanel.sineLengthSpin.setValue(200)
    w.batchSpin.setValue(8)
    label = w.modelPanel.parameterCountLabel
    assert "too big" not in label.text()  # 8 windows of 200 steps fit
    w.batchSpin.setValue(0)  # all 1,000 windows in one step
    assert "too big for this machine" in label.text()
    with pytest.raises(ConfigError) as refused:
        Trainer(w.build_config())
    why = str(refused.value)
    assert "1,000 windows of 200 steps" in why and "backpropagation" in why
    assert label.toolTip() == why[0].upper() + why[1:] + "."  # the trainer's (and the CLI's) words
    w.show()
    w.trainButton.click()
    qtbot.waitUntil(lambda: w.messageBar.kind == "error", timeout=RUN_TIMEOUT_MS)
    assert w.message_text() == f"Cannot start training: {why[0].upper()}{why[1:]}."
    assert w.run_state == "idle"  # nothing was built
