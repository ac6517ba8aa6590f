"""What teachers saw in class (issue 8's observations #3, #9, #10), each a check
that failed before the window was split into a runner and the views that
follow its events.

#3  the completion box kept an earlier network's answer after a new run or a
    task switch;
#9  wrong figures: a rate taken from the warm-up step, a progress bar, loss
    plot and reading each at another epoch, a divergence roll-back shown as
    epoch 1 / epoch 0 with its one loss point not drawn;
#10 switching task threw the trained network away without asking, and the
    emptied plots kept the old axis ranges.
"""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
from PySide6.QtGui import QImage

from rnn_studio.core import training
from rnn_studio.gui.panels.common import BLUE

RUN_TIMEOUT_MS = 60_000


def state_is(*states):
    return lambda state: state in states


def train_to_the_end(w, qtbot, epochs):
    w.epochsSpin.setValue(epochs)
    with qtbot.waitSignal(w.runStateChanged, check_params_cb=state_is("finished"), timeout=RUN_TIMEOUT_MS):
        w.trainButton.click()


def complete(w, qtbot, prompt="good") -> str:
    w.promptEdit.setText(prompt)
    w.completeButton.click()
    qtbot.waitUntil(lambda: w.completionView.text() != "", timeout=10_000)
    return w.completionView.text()


def loss_x(w) -> np.ndarray:
    x = w.lossPlot.getPlotItem().listDataItems()[0].xData
    return np.asarray([] if x is None else x)


def reading_epoch(w) -> int | None:
    match = re.match(r"Epoch (\d+):", w.textView.toPlainText())
    return int(match.group(1)) if match else None


def blue_pixels(widget) -> int:
    """Pixels of the loss curve's colour in what the user sees."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    width, height = image.width(), image.height()
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(height, image.bytesPerLine())[:, : 4 * width]
    b, g, r = (pixels.reshape(height, width, 4)[..., i].astype(int) for i in range(3))
    want = tuple(int(BLUE[i : i + 2], 16) for i in (1, 3, 5))
    close = (abs(r - want[0]) < 40) & (abs(g - want[1]) < 40) & (abs(b - want[2]) < 40)
    return int(close.sum())


# -- #3 -----------------------------------------------------------------------------------------
def test_a_new_run_clears_the_answer_of_the_network_before(window, qtbot):
    w = window
    train_to_the_end(w, qtbot, epochs=100)
    assert complete(w, qtbot) == "good i am fine "
    w.archCombo.setCurrentIndex(w.archCombo.findData("lstm"))
    w.trainButton.click()  # an LSTM now: the RNN's answer is not its answer
    assert w.completionView.text() == ""
    w.stop()


def test_switching_task_clears_the_answer_of_the_network_before(window, qtbot):
    w = window
    train_to_the_end(w, qtbot, epochs=20)
    assert complete(w, qtbot).startswith("good")
    w.confirm_discard = lambda question: True
    w.taskCombo.setCurrentIndex(w.taskCombo.findData("sine"))
    assert w.run_state == "idle" and w.completionView.text() == ""


def test_opening_a_model_clears_the_answer_of_the_network_before(window, qtbot, tmp_path):
    w = window
    train_to_the_end(w, qtbot, epochs=3)
    path = tmp_path / "three.pt"
    with qtbot.waitSignal(w.modelSaved, timeout=RUN_TIMEOUT_MS):
        w.save_model(str(path))
    train_to_the_end(w, qtbot, epochs=100)
    assert complete(w, qtbot) == "good i am fine "
    with qtbot.waitSignal(w.modelOpened, timeout=RUN_TIMEOUT_MS) as blocker:
        w.open_model(str(path))
    assert blocker.args == [str(path), ""]
    assert w.completionView.text() == ""


# -- #9 -----------------------------------------------------------------------------------------
def test_the_rate_leaves_out_the_warm_up_step(window, qtbot, monkeypatch):
    """A 100-epoch run whose first step is slow (an LSTM's warm-up) said
    "3 steps/s": the rate of that one step, on a run too short to measure again."""
    real_step = training.Trainer.step
    calls = {"n": 0}

    def slow_first_step(self):
        calls["n"] += 1
        if calls["n"] == 1:
            time.sleep(0.3)
        return real_step(self)

    monkeypatch.setattr(training.Trainer, "step", slow_first_step)
    w = window
    train_to_the_end(w, qtbot, epochs=100)
    shown = re.search(r"([\d,]+) steps/s", w.progressBar.format())
    assert shown, w.progressBar.format()
    rate = int(shown.group(1).replace(",", ""))
    assert rate > 30, w.progressBar.format()  # the seed steps take about 1 ms; the first took 300
    assert w.speedStatus.text() == f"{shown.group(1)} steps/s"


def test_the_progress_bar_names_the_epoch_the_plots_show(window, qtbot):
    """Each time the progress bar moves, the loss curve ends at that epoch and
    the reading is not ahead of it (and says which epoch it shows)."""
    w = window
    seen, wrong = [], []

    def check(value):
        x = loss_x(w)
        drawn = int(x[-1]) if len(x) else 0
        reading = reading_epoch(w)
        seen.append(value)
        if value != drawn or (reading is not None and reading > value):
            wrong.append((value, drawn, reading))

    w.progressBar.valueChanged.connect(check)
    train_to_the_end(w, qtbot, epochs=400)
    assert len(seen) > 3
    assert wrong == [], f"(progress, loss curve, reading) out of step: {wrong[:5]}"
    assert reading_epoch(w) == 400 and int(loss_x(w)[-1]) == 400


def test_a_rolled_back_divergence_shows_one_epoch_everywhere(window, qtbot, monkeypatch):
    """The second step diverges and the weights roll back to epoch 1: the
    progress bar and the reading both say epoch 1, and the one loss point is drawn."""
    real_apply = training.Trainer._apply
    calls = {"n": 0}

    def nan_on_the_second_step(self, loss_value, total_value, total):
        calls["n"] += 1
        if calls["n"] == 2:
            return real_apply(self, float("nan"), total_value, total)
        return real_apply(self, loss_value, total_value, total)

    monkeypatch.setattr(training.Trainer, "_apply", nan_on_the_second_step)
    w = window
    w.show()
    w.epochsSpin.setValue(100)
    with qtbot.waitSignal(w.workerPaused, check_params_cb=lambda r: r == "diverged", timeout=RUN_TIMEOUT_MS):
        w.trainButton.click()
    assert w.worker.trainer.epoch == 1
    assert "Epoch 1 / 100" in w.progressBar.format()
    assert reading_epoch(w) == 1
    assert list(loss_x(w)) == [1]
    assert blue_pixels(w.lossPlot) > 10, "the one loss point is not drawn"
    w.stop()


# -- #10 ----------------------------------------------------------------------------------------
def test_switching_task_asks_first_and_cancel_keeps_the_network(window, qtbot):
    w = window
    train_to_the_end(w, qtbot, epochs=5)
    trainer, points, hidden = w.worker.trainer, w.lossView.points, w.hiddenSpin.value()
    asked = []
    w.confirm_discard = lambda question: asked.append(question) or False  # Cancel
    w.taskCombo.setCurrentIndex(w.taskCombo.findData("sine"))
    assert len(asked) == 1 and "text network" in asked[0] and "Save model" in asked[0]
    assert w.taskCombo.currentData() == "text" and w.dataPanel.task == "text"
    assert w.run_state == "finished" and w.worker.trainer is trainer
    assert w.lossView.points == points == len(loss_x(w))
    assert w.hiddenSpin.value() == hidden  # the sine task's defaults were not loaded
    assert w.bottomStack.currentIndex() == 0 and w.completeButton.isEnabled()
    assert w.messageBar.isHidden() or "cleared" not in w.message_text()
    assert complete(w, qtbot).startswith("good")  # the network still answers

    w.confirm_discard = lambda question: asked.append(question) or True  # "Switch task"
    w.taskCombo.setCurrentIndex(w.taskCombo.findData("sine"))
    assert len(asked) == 2 and w.run_state == "idle" and w.taskCombo.currentData() == "sine"
    assert w.lossView.points == 0 and w.hiddenSpin.value() == 32


def test_a_task_switch_gives_the_emptied_plots_a_fresh_range(window, qtbot):
    w = window
    plots = (w.lossPlot, w.gradNormPlot, w.gradientView.param_plot, w.gradientView.time_plot, w.sinePlot)
    fresh = [p.getPlotItem().getViewBox().viewRange() for p in plots]
    train_to_the_end(w, qtbot, epochs=30)
    assert w.lossPlot.getPlotItem().getViewBox().viewRange()[0][1] > 25  # the curve's 30 epochs
    w.confirm_discard = lambda question: True
    w.taskCombo.setCurrentIndex(w.taskCombo.findData("sine"))
    for plot, before in zip(plots, fresh, strict=True):
        assert np.allclose(plot.getPlotItem().getViewBox().viewRange(), before), plot.objectName()


def test_reset_gives_the_emptied_plots_a_fresh_range(window, qtbot):
    w = window
    fresh = w.lossPlot.getPlotItem().getViewBox().viewRange()
    train_to_the_end(w, qtbot, epochs=30)
    w.resetButton.click()
    assert np.allclose(w.lossPlot.getPlotItem().getViewBox().viewRange(), fresh)


def test_a_network_opened_from_another_task_is_not_asked_about(window, qtbot, tmp_path):
    """Opening replaces the network on screen by choice: the task follows the file without a question."""
    w = window
    w.taskCombo.setCurrentIndex(w.taskCombo.findData("sine"))
    w.dataPanel.sineWindowsSpin.setValue(20)
    train_to_the_end(w, qtbot, epochs=2)
    path = tmp_path / "sine.pt"
    with qtbot.waitSignal(w.modelSaved, timeout=RUN_TIMEOUT_MS):
        w.save_model(str(path))
    w.confirm_discard = lambda question: True
    w.taskCombo.setCurrentIndex(w.taskCombo.findData("text"))
    train_to_the_end(w, qtbot, epochs=2)
    w.confirm_discard = lambda question: pytest.fail(f"asked: {question}")
    with qtbot.waitSignal(w.modelOpened, timeout=RUN_TIMEOUT_MS) as blocker:
        w.open_model(str(path))
    assert blocker.args[1] == "" and w.taskCombo.currentData() == "sine"
