"""Issue 10 in the window: the "Inside the network" tabs, the rewind bar, runs, Elman check, saved history.

Every number a view draws is compared with the core function that
``rnn-studio inspect`` uses, on the network's weights once the run has
ended (no thread holds them then). Waits are signals or conditions.
"""

import numpy as np
from PySide6.QtCore import QPointF, Qt

from rnn_studio.core.inspection import complete_with_confidence, read_text
from rnn_studio.gui.panels.char_strip import confidence_color, diverging_color

RUN_TIMEOUT_MS = 60_000
LONG_MEMORY = ["cat: it sat on the mat and said meow", "dog: it sat on the mat and said woof"]


def finished(w):
    return lambda: w.run_state == "finished"


def set_up(w, arch="lstm", hidden=24, epochs=40, prompt="cat", length=30):
    w.taskCombo.setCurrentIndex(w.taskCombo.findData("text"))
    w.sentencesEdit.setPlainText("\n".join(LONG_MEMORY))
    w.archCombo.setCurrentIndex(w.archCombo.findData(arch))
    w.hiddenSpin.setValue(hidden)
    w.epochsSpin.setValue(epochs)
    w.promptEdit.setText(prompt)
    w.lengthSpin.setValue(length)


def train_to_the_end(w, qtbot, **settings):
    set_up(w, **settings)
    w.show()
    w.train()
    qtbot.waitUntil(finished(w), timeout=RUN_TIMEOUT_MS)
    return w.worker.trainer


def show_tab(w, qtbot, view):
    tabs = w.insideView.tabs
    tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: w.inside.frame is not None and not w.inside._asked, timeout=10_000)


def test_hidden_state_heatmap_is_the_networks_own_and_a_clicked_unit_colours_the_text(window, qtbot):
    w = window
    trainer = train_to_the_end(w, qtbot)
    view = w.insideView.hiddenView
    assert w.insideView.source() == LONG_MEMORY[0]  # the first training sentence by default
    show_tab(w, qtbot, view)
    qtbot.waitUntil(lambda: view.reading is not None and not view.dirty, timeout=10_000)
    expected = read_text(trainer.model, trainer.vocab, LONG_MEMORY[0])
    image = view.heatmap.images[0].image
    np.testing.assert_array_equal(image, expected.hidden[0])  # [characters, units]
    # the cell state of the LSTM
    view.stateCombo.setCurrentIndex(view.stateCombo.findData("cell"))
    np.testing.assert_array_equal(view.heatmap.images[0].image, expected.cell[0])
    view.stateCombo.setCurrentIndex(view.stateCombo.findData("hidden"))
    # click row 5 of the heatmap: unit 5 colours the text
    plot = view.heatmap.plot
    qtbot.waitUntil(lambda: plot.getPlotItem().getViewBox().width() > 10, timeout=5_000)
    box = plot.getPlotItem().getViewBox()
    scene_point = box.mapViewToScene(QPointF(3.5, 5.5))
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=plot.mapFromScene(scene_point))
    assert view.unitSpin.value() == 5
    strip = view.unitStrip
    assert strip.text == expected.text
    values = expected.hidden[0][:, 5]
    assert [c.name() for c in strip.colors] == [diverging_color(v).name() for v in values]
    # the prompt and its completion as the text read
    combo = w.insideView.sourceCombo
    combo.setCurrentIndex(combo.count() - 1)
    assert w.insideView.source() is None
    completion = complete_with_confidence(trainer.model, trainer.vocab, "cat", 30)
    qtbot.waitUntil(lambda: view.reading is not None and view.reading.text == completion.text, timeout=10_000)


def test_gates_of_an_lstm_and_why_a_plain_rnn_has_none(window, qtbot):
    w = window
    trainer = train_to_the_end(w, qtbot)
    view = w.insideView.gatesView
    show_tab(w, qtbot, view)
    qtbot.waitUntil(lambda: view.reading is not None and not view.dirty, timeout=10_000)
    expected = read_text(trainer.model, trainer.vocab, LONG_MEMORY[0])
    assert view.stack.currentIndex() == 1
    stacked = view.heatmap.images[0].image
    np.testing.assert_array_equal(
        stacked, np.concatenate([expected.gates[n][0] for n in ("input", "forget", "output")], axis=1)
    )
    np.testing.assert_array_equal(view.heatmap.images[1].image, expected.gates["candidate"][0])
    x, mean = view._curves["forget"].getData()
    np.testing.assert_allclose(mean, expected.gate_means()["forget"][0], rtol=1e-6)
    # a plain RNN: a sentence, not a picture
    w.reset()
    train_to_the_end(w, qtbot, arch="rnn", epochs=5)
    qtbot.waitUntil(lambda: view.reading is not None and view.reading.arch == "rnn" and not view.dirty, timeout=10_000)
    assert view.stack.currentIndex() == 0
    assert "plain RNN has no gates" in view.gatesReason.text()


def test_confidence_colours_each_chosen_character_hover_lists_top5_and_a_click_branches(window, qtbot):
    w = window
    trainer = train_to_the_end(w, qtbot, prompt="dog")
    view = w.insideView.confidenceView
    show_tab(w, qtbot, view)
    qtbot.waitUntil(lambda: view.completion is not None and not view.dirty, timeout=10_000)
    expected = complete_with_confidence(trainer.model, trainer.vocab, "dog", 30)
    strip = view.strip
    assert strip.text == expected.text
    confidence = expected.confidence
    assert [c.name() for c in strip.colors[3:]] == [confidence_color(v).name() for v in confidence[3:]]
    # point at character 6: its five candidates, most likely first
    qtbot.waitUntil(lambda: strip.width() > 100, timeout=5_000)
    center = strip.cell_rect(6).center()
    qtbot.mouseMove(strip, center)
    qtbot.waitUntil(lambda: view.position == 6, timeout=5_000)
    top = expected.candidates(6, 5)
    shown = [b.text() for b in view.candidateButtons if b.isVisible()]
    assert shown == [f"{'space' if c == ' ' else c}  {100 * p:.0f}%" for c, p in top]
    # click the character (its list stays), then the second candidate: the completion branches from it
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=center)
    assert view.pinned == 6
    char = top[1][0]
    with qtbot.waitSignal(w.runner.inside, timeout=10_000):
        qtbot.mouseClick(view.candidateButtons[1], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.completion.text.startswith(expected.text[:6] + char), timeout=10_000)
    assert "branch" in view.note.text()


def test_memory_through_time_is_the_history_of_time_gradient_norms(window, qtbot):
    w = window
    train_to_the_end(w, qtbot, epochs=30)
    view = w.insideView.memoryView
    w.insideView.tabs.setCurrentWidget(view)
    steps, logs = w.inside.time_grads.log10()
    assert len(steps) >= 2 and logs.shape[1] == len(LONG_MEMORY[0]) - 1
    image = view.heatmap.images[0].image
    assert image.shape == logs.shape
    finite = np.isfinite(logs)
    np.testing.assert_allclose(image[finite], logs[finite], rtol=1e-6)
    assert "measured steps" in view.note.text()


def test_runs_are_listed_overlaid_on_the_loss_plot_and_pinned(window, qtbot):
    w = window
    train_to_the_end(w, qtbot, arch="rnn", epochs=20)
    w.reset()
    train_to_the_end(w, qtbot, arch="lstm", epochs=20)
    runs = list(w.inside.runs)
    assert [r.label for r in runs] == ["RNN (tanh) 24, lr 0.01", "LSTM 24, lr 0.01"]
    assert all(r.final_loss is not None and r.parameters > 0 and r.steps == 20 for r in runs)
    view = w.insideView.runsView
    w.insideView.tabs.setCurrentWidget(view)
    table = view.table
    assert (
        table.rowCount() == 2 and "RNN (tanh) 24" in table.item(0, 2).text() and "this run" in table.item(1, 2).text()
    )
    before = len(w.lossPlot.getPlotItem().listDataItems())
    table.item(0, 0).setCheckState(Qt.CheckState.Checked)  # show the RNN over the LSTM's loss
    items = w.lossPlot.getPlotItem().listDataItems()
    assert len(items) == before + 1
    overlay = items[-1]
    np.testing.assert_array_equal(overlay.getData()[1], runs[0].step_loss.arrays()[1])
    assert overlay.opts["pen"].style() != Qt.PenStyle.SolidLine
    legend = [label.text for _sample, label in w.runOverlay.legend.items]
    assert any("RNN (tanh) 24" in text for text in legend) and w.runOverlay.legend.isVisible()
    table.item(0, 1).setCheckState(Qt.CheckState.Checked)
    assert runs[0].pinned
    table.item(0, 0).setCheckState(Qt.CheckState.Unchecked)
    assert len(w.lossPlot.getPlotItem().listDataItems()) == before and not w.runOverlay.legend.isVisible()


def test_samples_strip_rewind_and_train_from_here(window, qtbot):
    w = window
    train_to_the_end(w, qtbot, epochs=40, prompt="cat")
    view = w.insideView
    show_tab(w, qtbot, view.samplesView)
    qtbot.waitUntil(lambda: view.samplesView.table.rowCount() == 11, timeout=10_000)
    samples = w.runner.recorder.samples
    assert [s.epoch for s in samples] == list(range(0, 41, 4))
    assert view.samplesView.table.item(0, 2).text() == samples[0].text
    assert view.rewindSlider.maximum() == 11 and view.moment() is None  # the right end is now
    # rewind to epoch 0: the confidence view and the sentence reading show the untrained network
    view.tabs.setCurrentWidget(view.confidenceView)
    view.rewindSlider.setValue(0)
    assert view.moment() == 0 and "epoch 0" in view.rewindLabel.text()
    qtbot.waitUntil(lambda: w.inside.frame.moment == (0, 0) and not view.confidenceView.dirty, timeout=10_000)
    assert view.confidenceView.completion.text == samples[0].text
    assert "Epoch 0:" in w.textView.toPlainText()
    # clicking a sample row moves the slider there
    view.samplesView.table.cellClicked.emit(5, 2)
    assert view.moment() == 20
    # train from here: a branch that starts at epoch 20, the run it left kept to compare
    first = w.inside.current
    assert view.trainFromHereButton.isEnabled()
    view.trainFromHereButton.click()
    qtbot.waitUntil(finished(w), timeout=RUN_TIMEOUT_MS)
    runs = list(w.inside.runs)
    assert len(runs) == 2 and runs[1].branch_of == first.run_id and runs[1].start_steps == 20
    assert w.worker.trainer.epoch == 40
    assert first.run_id in w.inside.shown_runs  # drawn beside the branch
    epochs = [s.epoch for s in w.runner.recorder.samples]
    assert epochs[:6] == [0, 4, 8, 12, 16, 20] and epochs[-1] == 40


def test_elman_against_nn_rnn_from_the_help_menu(window, qtbot):
    w = window
    with qtbot.waitSignal(w.runner.elmanChecked, timeout=30_000):
        w.elmanCheckAction.trigger()  # no network yet: a fresh Elman network of the controls' size
    dialog = w.inside.elman_dialog
    assert dialog.isVisible() and "fresh Elman" in dialog.report.what
    train_to_the_end(w, qtbot, arch="elman", epochs=5)
    with qtbot.waitSignal(w.runner.elmanChecked, timeout=30_000):
        w.elmanCheckAction.trigger()
    report = dialog.report
    assert "network on screen" in report.what and report.comparison.max_difference < 1e-5
    text = dialog.text.toPlainText()
    assert "the same" in text and "largest difference" in text and "d loss / d weight_hh_l0" in text


def test_a_saved_model_brings_its_history_back(window, qtbot, tmp_path):
    w = window
    train_to_the_end(w, qtbot, epochs=20)
    path = str(tmp_path / "lesson.pt")
    with qtbot.waitSignal(w.modelSaved, timeout=30_000) as saved:
        w.save_model(path)
    assert saved.args[1] == ""
    record = w.inside.current
    from rnn_studio.gui import MainWindow

    other = MainWindow()
    qtbot.addWidget(other)
    other.show()
    with qtbot.waitSignal(other.runner.historyOpened, timeout=30_000):
        other.open_model(path)
    qtbot.waitUntil(lambda: other.inside.current is not None, timeout=10_000)
    assert other.inside.current.label == record.label
    np.testing.assert_array_equal(other.inside.current.step_loss.arrays()[1], record.step_loss.arrays()[1])
    assert other.lossView.points == len(record.step_loss)
    samples = other.insideView.samplesView
    other.insideView.tabs.setCurrentWidget(samples)
    qtbot.waitUntil(lambda: samples.table.rowCount() == 11, timeout=10_000)
    assert samples.table.item(10, 2).text() == w.runner.recorder.samples[-1].text
    assert other.insideView.rewindSlider.maximum() == 11


def test_a_saved_model_brings_its_memory_through_time_back(window, qtbot, tmp_path):
    w = window
    train_to_the_end(w, qtbot, epochs=30)
    memory = w.insideView.memoryView
    w.insideView.tabs.setCurrentWidget(memory)
    memory.redraw()
    before = memory.heatmap.images[0].image.copy()
    steps, values = w.inside.time_grads.matrix()
    assert len(steps) >= 2 and before.shape == values.shape
    path = str(tmp_path / "memory.pt")
    with qtbot.waitSignal(w.modelSaved, timeout=30_000) as saved:
        w.save_model(path)
    assert saved.args[1] == ""
    from rnn_studio.gui import MainWindow

    other = MainWindow()
    qtbot.addWidget(other)
    other.show()
    other.insideView.tabs.setCurrentWidget(other.insideView.memoryView)
    with qtbot.waitSignal(other.runner.historyOpened, timeout=30_000):
        other.open_model(path)
    opened_steps, opened_values = other.inside.time_grads.matrix()
    np.testing.assert_array_equal(opened_steps, steps)
    np.testing.assert_array_equal(opened_values, values)
    after = other.insideView.memoryView.heatmap.images[0].image
    assert after is not None
    np.testing.assert_array_equal(after, before)  # the same picture, NaN where NaN
    assert other.insideView.memoryView.note.text() == memory.note.text()


def test_frames_ask_only_for_what_the_tab_on_screen_shows(window, qtbot):
    w = window
    set_up(w)
    w.show()
    assert w.inside.request().sentence is None and w.inside.request().prompt is None  # the reading tab
    w.insideView.tabs.setCurrentWidget(w.insideView.hiddenView)
    w.insideView.set_sources(LONG_MEMORY)
    assert w.inside.request().sentence == LONG_MEMORY[0] and w.inside.request().prompt is None
    w.insideView.tabs.setCurrentWidget(w.insideView.confidenceView)
    assert w.inside.request().prompt == "cat" and w.inside.request().sentence is None


def test_projector_mode_enlarges_the_inside_views(window, qtbot):
    w = window
    strip = w.insideView.confidenceView.strip
    before = strip.font().pointSize()
    w.projectorModeAction.trigger()
    assert strip.font().pointSize() > before
    title = w.insideView.hiddenView.heatmap.plot.getPlotItem().titleLabel.opts["size"]
    assert float(title.rstrip("px")) >= 16
    w.projectorModeAction.trigger()
    assert strip.font().pointSize() == before
