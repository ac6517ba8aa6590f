"""Issue 9 in the window: the classify task with its views, a validation
curve for every task, batches and shuffling, bidirectional where valid,
Xavier and the plateau schedule, text files, and a network that cannot go on
training saying why.

Every wait is armed before the action (waitSignal) or is a condition
(waitUntil)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from rnn_studio.core import checkpoints
from rnn_studio.core.config import AUTO, RunConfig, defaults_for
from rnn_studio.core.training import Trainer
from rnn_studio.gui import MainWindow
from rnn_studio.gui.panels.classify_data import TYPED_PRESET_LINES, shipped_data_file
from rnn_studio.gui.panels.examples_view import WRONG_BACKGROUND

RUN_TIMEOUT_MS = 90_000
TYPED = "\n".join(
    [f"positive: {t}" for t in ("a great film", "not bad at all", "what a joy", "wonderful in the end",
                                 "a clever plot", "the cast was fun")]
    + [f"negative: {t}" for t in ("a dull film", "not good at all", "what a bore", "tedious in the end",
                                   "a silly plot", "the cast was weak")]
)


def finished(state):
    return state == "finished"


def train(w, qtbot, epochs):
    w.epochsSpin.setValue(epochs)
    with qtbot.waitSignal(w.runStateChanged, check_params_cb=finished, timeout=RUN_TIMEOUT_MS):
        w.trainButton.click()


def choose_task(w, task):
    w.confirm_discard = lambda question: True
    w.taskCombo.setCurrentIndex(w.taskCombo.findData(task))


def small_classifier(w, epochs=4):
    """The classify task on the typed examples above, small and quick."""
    choose_task(w, "classify")
    w.examplesEdit.setPlainText(TYPED)
    w.typeExamplesButton.click()
    w.hiddenSpin.setValue(8)
    w.batchSpin.setValue(4)
    w.validSpin.setValue(0.25)
    w.epochsSpin.setValue(epochs)


def curve_points(curve) -> int:
    y = curve.yData
    return 0 if y is None else len(y)


def described(w) -> dict:
    cfg = w.build_config().to_dict()
    cfg["train"].pop("device")
    for key in ("sentences", "data_file", "examples"):
        cfg["task"].pop(key)
    return cfg


# ---------------------------------------------------------------------- classify
def test_classify_is_a_task_with_the_cores_defaults(window):
    w = window
    assert w.taskCombo.findText("Classify sentences") >= 0
    choose_task(w, "classify")
    expected = defaults_for("classify").to_dict()
    expected["train"].pop("device")
    for key in ("sentences", "data_file", "examples"):
        expected["task"].pop(key)
    assert described(w) == expected  # biLSTM, 2 layers, max pooling, batches of 32, 20% held out
    assert w.bidirectionalCheck.isChecked() and w.bidirectionalCheck.isEnabled()
    assert w.poolingCombo.isEnabled() and w.poolingCombo.currentData() == "max"
    assert [w.poolingCombo.itemData(i) for i in range(w.poolingCombo.count())] == ["max", "last", "mean"]
    assert not w.encodingCombo.isEnabled()  # a classifier reads through an embedding
    assert w.validSpin.value() == pytest.approx(0.2) and w.batchSpin.value() == 32
    assert w.accuracyPlot.isVisible() or not w.isVisible()
    assert w.promptPanel.completeButton.text() == "Classify"
    # the shipped data set is the default data, as on the command line
    if shipped_data_file():
        assert w.build_config().task.data_file == shipped_data_file()
        assert "800 examples" in w.dataInfo.text() and "2 classes" in w.dataInfo.text()
        assert w.modelPanel.parameterCountLabel.text() == f"{Trainer(w.build_config()).parameter_count:,}"


@pytest.mark.skipif(shipped_data_file() is None, reason="assets/sentiment.csv is not in this installation")
def test_the_presets_load_the_shipped_reviews_whole_or_typed(window):
    w = window
    choose_task(w, "classify")
    w.typeExamplesButton.click()
    assert w.dataPanel.classifyPage.data_file is None and w.dataPanel.classifyPage.dataStack.currentIndex() == 0
    w.classifyPresetCombo.setCurrentIndex(2)  # a few dozen typed lines
    lines = w.examplesEdit.toPlainText().splitlines()
    assert len(lines) == TYPED_PRESET_LINES and all(line.split(":")[0] in ("negative", "positive") for line in lines)
    assert w.classifyPresetCombo.currentIndex() == 0  # a menu
    assert w.build_config().task.examples[: len(lines)] == lines
    w.classifyPresetCombo.setCurrentIndex(1)  # the whole file
    assert w.build_config().task.data_file == shipped_data_file()
    assert "800 film reviews" in w.message_text()


def test_typed_labelled_lines_say_what_is_wrong(window):
    w = window
    choose_task(w, "classify")
    w.examplesEdit.setPlainText("positive: fine\njust some words")
    w.typeExamplesButton.click()
    w.dataPanel.classifyPage.analyse()
    assert "Line 2 has no label" in w.dataInfo.text()
    assert not w.train()
    assert "line 2 has no label" in w.message_text().lower()


def test_the_classifier_trains_and_every_view_shows_it(window, qtbot):
    w = window
    small_classifier(w, epochs=4)
    cfg = w.build_config()
    assert cfg.task.examples and cfg.task.batch_examples == 4 and cfg.task.valid_fraction == 0.25
    train(w, qtbot, 4)
    trainer = w.worker.trainer
    assert trainer.task.kind == "classify" and trainer.has_validation
    # accuracy and loss per epoch, training and validation
    view = w.accuracyView
    assert curve_points(view.train_curve) == 4 and curve_points(view.valid_curve) == 4
    assert np.all((view.train_curve.yData >= 0) & (view.train_curve.yData <= 1))
    assert curve_points(w.lossView.valid_curve) == 4  # the validation loss per epoch
    assert curve_points(w.lossView.epoch_curve) == 4  # an epoch is several steps: its mean too
    assert "3/epoch" in w.lossPlot.getPlotItem().getAxis("bottom").labelText
    # every example with its answer, wrong ones marked
    predictions = trainer.predictions()
    model = w.examplesPanel.model
    assert model.rowCount() == len(predictions["examples"]) == 12
    for row in range(model.rowCount()):
        example = model.shown[row]
        wrong = example["label"] != example["predicted"]
        mark = model.data(model.index(row, 0))
        assert mark == ("✗" if wrong else "✓")
        background = model.data(model.index(row, 1), Qt.ItemDataRole.BackgroundRole)
        assert (background is not None and background.color() == WRONG_BACKGROUND) == wrong
    assert {r["text"] for r in model.rows} == {line.split(": ", 1)[1] for line in TYPED.splitlines()}
    w.examplesPanel.wrongOnlyCheck.setChecked(True)
    assert model.rowCount() == len(w.examplesPanel.wrong_rows())
    # the confusion matrix of the held-out examples
    matrix = w.confusionPanel.matrix()
    assert matrix == predictions["confusion"]["valid"].tolist()
    assert sum(map(sum, matrix)) == 3 and w.confusionView.rowCount() == 2
    assert w.confusionView.item(0, 0).text() == str(matrix[0][0])


def test_the_prompt_box_classifies_as_you_type(window, qtbot):
    w = window
    small_classifier(w, epochs=2)
    train(w, qtbot, 2)
    trainer = w.worker.trainer
    w.promptEdit.setText("a great zebra")  # no button: a pause in typing is enough
    qtbot.waitUntil(lambda: "zebra" in w.completionWarning.text(), timeout=10_000)
    expected = trainer.classify_text("a great zebra")
    assert w.completionView.text().split()[0] == expected.label
    for label, p in expected.probabilities.items():
        assert f"{p:.2f}" in w.completionView.text() and label in w.completionView.text()
    assert "unknown" in w.completionWarning.text()
    # the window's complete path routes to the classifier for this task
    w.completionView.clear()
    w.complete("not good at all", 15, 0.0)
    qtbot.waitUntil(lambda: w.completionView.text() != "", timeout=10_000)
    answer = trainer.classify_text("not good at all")
    assert w.completionView.text().split()[0] == answer.label
    assert w.completionWarning.isHidden() == (not answer.unknown)


def test_each_task_keeps_its_own_prompt(window):
    w = window
    assert w.promptEdit.text() == "good"
    choose_task(w, "classify")
    w.promptEdit.setText("not bad at all")
    choose_task(w, "text")
    assert w.promptEdit.text() == "good" and w.completeButton.text() == "Complete"
    choose_task(w, "classify")
    assert w.promptEdit.text() == "not bad at all"


# ---------------------------------------------------------------------- validation, batches
def test_a_validation_curve_for_typed_sentences(window, qtbot):
    w = window
    w.sentencesEdit.setPlainText("hey how are you\ngood i am fine\nhave a nice day\nsee you soon")
    assert w.validSpin.value() == 0 and w.build_config().task.valid_fraction == AUTO  # the core's default: none
    w.validSpin.setValue(0.25)
    assert w.build_config().task.valid_fraction == 0.25
    train(w, qtbot, 20)
    assert w.worker.trainer.has_validation
    assert curve_points(w.lossView.valid_curve) == 20
    assert curve_points(w.lossView.curve) == 20
    assert np.all(np.isfinite(w.lossView.valid_curve.yData))
    names = [label.text for _sample, label in w.lossView.legend.items]
    assert names == ["training", "validation"]


def test_without_a_split_there_is_no_validation_curve(window, qtbot):
    w = window
    train(w, qtbot, 5)
    assert curve_points(w.lossView.valid_curve) == 0 and not w.lossView.has_validation


def test_batches_of_sentences_shuffled_or_not(window, qtbot):
    w = window
    assert not w.shuffleCheck.isEnabled()  # one batch: nothing to shuffle
    assert "no order to shuffle" in w.shuffleCheck.toolTip()
    w.batchSpin.setValue(1)
    assert w.shuffleCheck.isEnabled()
    w.shuffleCheck.setChecked(False)
    cfg = w.build_config()
    assert cfg.task.batch_examples == 1 and cfg.task.shuffle is False
    train(w, qtbot, 4)
    trainer = w.worker.trainer
    assert trainer.task.steps_per_epoch == 3 and not trainer.task.shuffles
    assert curve_points(w.lossView.curve) == 12  # a point per step
    assert curve_points(w.lossView.epoch_curve) == 4  # and the mean of each epoch
    assert list(w.lossView.epoch_curve.xData) == [3, 6, 9, 12]
    assert "step 0/3 of the epoch" in w.progressBar.text()


def test_bidirectional_only_where_valid_with_the_reason(window):
    w = window
    check = w.bidirectionalCheck
    assert not check.isEnabled() and "predict" in check.toolTip()  # text: it would see the next character
    choose_task(w, "sine")
    assert check.isEnabled()
    check.setChecked(True)
    assert w.build_config().model.bidirectional
    w.sineModeCombo.setCurrentIndex(w.sineModeCombo.findData("sequence"))
    assert not check.isEnabled() and not check.isChecked() and "sequence" in check.toolTip()
    assert not w.batchSpin.isEnabled() and "nothing to batch" in w.batchSpin.toolTip()
    w.sineModeCombo.setCurrentIndex(w.sineModeCombo.findData("next-value"))
    w.modelPanel.set_arch("elman")
    assert not check.isEnabled() and "one direction" in check.toolTip()


def test_xavier_and_the_plateau_schedule_in_the_advanced_sections(window):
    w = window
    w.show()
    assert not w.xavierCheck.isVisible() and not w.plateauCheck.isVisible()  # folded
    w.modelPanel.advancedButton.click()
    w.trainingPanel.advancedButton.click()
    assert w.xavierCheck.isVisible() and w.plateauCheck.isVisible()
    assert "Xavier" in w.xavierCheck.toolTip() and "halve" in w.plateauCheck.toolTip()
    w.xavierCheck.setChecked(True)
    w.plateauCheck.setChecked(True)
    cfg = w.build_config()
    assert cfg.model.init == "xavier" and cfg.train.plateau
    for name in ("validSpin", "batchSpin", "shuffleCheck", "bidirectionalCheck", "poolingCombo", "levelCombo",
                 "openDataButton", "openTextFileButton", "windowSpin", "streamsSpin"):
        assert len(getattr(w, name).toolTip()) > 40, name


# ---------------------------------------------------------------------- text files
def write_book(path, repeats=300):
    path.write_text("the quick brown fox jumps over the lazy dog.\n" * repeats, encoding="utf-8")
    return path


def test_open_text_file_shows_the_file_and_trains_on_it(window, qtbot, tmp_path, monkeypatch):
    w = window
    book = write_book(tmp_path / "book.txt")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(book), ""))
    w.openTextFileButton.click()
    info = w.textFileInfo.text()
    assert "book.txt" in info and "13,500 characters" in info and "13.2 KiB" in info
    assert "29 different characters + 1" in info and "30 to choose from" in info
    assert w.textFilePreview.toPlainText().startswith("the quick brown fox")
    assert w.validSpin.value() == pytest.approx(0.1)  # the core's default: the last 10% of a long file
    assert not w.batchSpin.isEnabled() and "streams" in w.batchSpin.toolTip()
    assert not w.bidirectionalCheck.isEnabled()
    w.windowSpin.setValue(32)
    w.streamsSpin.setValue(8)
    cfg = w.build_config()
    assert cfg.task.text_file == str(book) and (cfg.task.window, cfg.task.batch_size) == (32, 8)
    assert cfg.task.valid_fraction == AUTO
    assert w.modelPanel.parameterCountLabel.text() == f"{Trainer(cfg).parameter_count:,}"
    train(w, qtbot, 1)
    trainer = w.worker.trainer
    assert trainer.task.mode == "corpus" and trainer.has_validation
    steps = trainer.task.steps_per_epoch
    assert "windows (training steps) per epoch" in w.textFileInfo.text() and str(steps) in w.textFileInfo.text()
    assert curve_points(w.lossView.curve) == steps and curve_points(w.lossView.valid_curve) == 1
    w.closeTextFileButton.click()
    assert w.build_config().task.text_file is None and w.validSpin.value() == 0


def test_a_text_file_that_cannot_be_used_changes_nothing(window, tmp_path, monkeypatch):
    w = window
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\xe9 au lait\n".encode("latin-1") * 10)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    w.openTextFileButton.click()
    assert "not UTF-8" in w.message_text() and "Nothing was changed" in w.message_text()
    assert w.dataPanel.text_file is None and w.build_config().task.sentences


def test_a_data_file_without_the_columns_is_refused(window, tmp_path, monkeypatch):
    w = window
    choose_task(w, "classify")
    before = w.build_config().task.data_file
    bad = tmp_path / "reviews.csv"
    bad.write_text("sentence,mood\na good film,positive\n", encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    w.openDataButton.click()
    assert "text and label" in w.message_text()
    assert w.build_config().task.data_file == before
    good = tmp_path / "good.tsv"
    good.write_text("text\tlabel\n" + "\n".join(f"{line.split(': ')[1]}\t{line.split(':')[0]}"
                                                   for line in TYPED.splitlines()) + "\n", encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(good), ""))
    w.openDataButton.click()
    assert w.build_config().task.data_file == str(good) and "12 examples" in w.dataInfo.text()


def corpus_model(tmp_path):
    book = write_book(tmp_path / "corpus.txt", repeats=20)
    cfg = RunConfig()
    cfg.task.text_file, cfg.task.window, cfg.task.batch_size = str(book), 16, 4
    cfg.train.device, cfg.train.epochs = "cpu", 2
    trainer = Trainer(cfg)
    trainer.run_epoch()
    path = tmp_path / "corpus.pt"
    checkpoints.save_checkpoint(trainer, str(path))
    return book, path


def open_model(w, qtbot, path):
    with qtbot.waitSignal(w.modelOpened, timeout=RUN_TIMEOUT_MS) as blocker:
        w.open_model(str(path))
    assert blocker.args[1] == ""


def test_an_opened_text_file_model_goes_on_training_on_its_file(window, qtbot, tmp_path):
    w = window
    book, path = corpus_model(tmp_path)
    open_model(w, qtbot, path)
    assert w.dataPanel.text_file == str(book) and "corpus.txt" in w.textFileInfo.text()
    assert "go on training" in w.trainButton.toolTip().lower()
    with qtbot.waitSignal(w.runStateChanged, check_params_cb=finished, timeout=RUN_TIMEOUT_MS):
        w.epochsSpin.setValue(1)
        w.trainButton.click()
    assert w.worker.trainer.epoch == 2  # the opened epoch + one more


def test_train_says_why_a_model_whose_file_changed_cannot_go_on(window, qtbot, tmp_path):
    w = window
    book, path = corpus_model(tmp_path)
    book.write_text("a different text now\n" * 30, encoding="utf-8")
    open_model(w, qtbot, path)
    assert "cannot go on training" in w.message_text() and "has changed" in w.message_text()
    assert w.dataPanel.text_file == str(book)
    state = w.run_state
    assert not w.train()
    assert "cannot go on training" in w.message_text() and "changed" in w.message_text()
    assert "Reset" in w.message_text() and w.run_state == state
    w.reset()  # then Train trains a new network on the file as it is now
    train(w, qtbot, 1)
    assert w.worker.trainer.epoch == 1 and w.worker.trainer.resume_blocker is None


def test_a_classifier_whose_data_file_is_gone_says_why_and_still_classifies(window, qtbot, tmp_path):
    w = window
    data = tmp_path / "reviews.csv"
    data.write_text("text,label\n" + "\n".join(f"{line.split(': ')[1]},{line.split(':')[0]}"
                                              for line in TYPED.splitlines()) + "\n", encoding="utf-8")
    cfg = defaults_for("classify")
    cfg.task.data_file, cfg.model.hidden, cfg.train.epochs, cfg.train.device = str(data), 8, 2, "cpu"
    trainer = Trainer(cfg)
    trainer.run_epoch()
    path = tmp_path / "reviews.pt"
    checkpoints.save_checkpoint(trainer, str(path))
    expected = trainer.classify_text("a great film").label
    data.unlink()
    w.confirm_discard = lambda question: True
    open_model(w, qtbot, path)
    assert w.taskCombo.currentData() == "classify" and "not found" in w.dataInfo.text()
    assert not w.train() and "cannot go on training" in w.message_text()
    w.promptEdit.setText("a great film")
    qtbot.waitUntil(lambda: w.completionView.text() != "", timeout=10_000)
    assert w.completionView.text().split()[0] == expected


def test_an_opened_classifier_shows_every_example(window, qtbot, tmp_path):
    w = window
    small_classifier(w, epochs=2)
    train(w, qtbot, 2)
    path = tmp_path / "c.pt"
    with qtbot.waitSignal(w.modelSaved, timeout=RUN_TIMEOUT_MS):
        w.save_model(str(path))
    other = MainWindow()
    qtbot.addWidget(other)
    open_model(other, qtbot, path)
    qtbot.waitUntil(lambda: other.examplesPanel.model.rowCount() == 12, timeout=10_000)
    assert other.taskCombo.currentData() == "classify" and other.build_config().task.examples
    assert other.bidirectionalCheck.isChecked() and other.batchSpin.value() == 4
    assert "go on training" in other.trainButton.toolTip().lower()


# ---------------------------------------------------------------------- settings, help
def test_the_new_settings_come_back(qtbot, tmp_path):
    book = write_book(tmp_path / "book.txt")
    w = MainWindow()
    qtbot.addWidget(w)
    w.files.open_text_file(str(book))
    w.windowSpin.setValue(40)
    w.validSpin.setValue(0.3)
    w.batchSpin.setValue(2)
    w.shuffleCheck.setChecked(False)
    w.xavierCheck.setChecked(True)
    w.plateauCheck.setChecked(True)
    w.examplesEdit.setPlainText(TYPED)
    w.levelCombo.setCurrentIndex(w.levelCombo.findData("char"))
    w.poolingCombo.setCurrentIndex(w.poolingCombo.findData("mean"))
    w.close()
    again = MainWindow()
    qtbot.addWidget(again)
    assert again.dataPanel.text_file == str(book) and again.windowSpin.value() == 40
    assert again.validSpin.value() == pytest.approx(0.3) and not again.dataPanel.valid_is_default
    assert again.batchSpin.value() == 2 and not again.shuffleCheck.isChecked()
    assert again.xavierCheck.isChecked() and again.plateauCheck.isChecked()
    assert again.examplesEdit.toPlainText() == TYPED
    assert again.levelCombo.currentData() == "char" and again.poolingCombo.currentData() == "mean"
    again.close()
    book.unlink()  # a file that is gone: the typed sentences, and a note
    third = MainWindow()
    qtbot.addWidget(third)
    assert third.dataPanel.text_file is None and "text file" in third.message_text()


def test_help_and_tooltips_explain_the_new_views(window):
    from rnn_studio.gui.help import view_explanations

    titles = [title for title, _text in view_explanations()]
    for title in ("Accuracy per epoch", "Every example and the network's answer", "Confusion matrix"):
        assert title in titles
    w = window
    assert "overfitting" in w.accuracyPlot.toolTip() and "diagonal" in w.confusionView.toolTip()
    assert "validation" in w.lossPlot.toolTip().lower()
    assert math.isfinite(w.validSpin.maximum()) and w.validSpin.specialValueText() == "off"
