"""Issue 11 in the window: the lesson panel, Open/Save as lesson, and export.

Every wait is armed before the action that triggers it, or is a condition
(waitUntil); no fixed sleep decides a test.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from PySide6.QtWidgets import QDialog, QWidget

from rnn_studio.gui import export as export_module
from rnn_studio.gui import lesson_player
from rnn_studio.gui.lesson_player import HighlightFrame

from .conftest import RUN_TIMEOUT_MS

LESSONS = Path(__file__).resolve().parents[2] / "assets" / "lessons"
FIRST = next(LESSONS.glob("01*.toml"))


def frames_on(widget: QWidget) -> list:
    return [f for f in widget.findChildren(HighlightFrame) if f.isVisible()]


def test_lesson_01_sets_locks_hides_and_waits_step_by_step(window, qtbot):
    w = window
    w.show()
    w.hiddenSpin.setValue(30)
    w.seedSpin.setValue(7)
    assert w.open_lesson(str(FIRST))
    panel = w.lessonPanel
    assert panel.isVisible()
    assert "Step 1 of 4" in panel.titleLabel.text()
    assert "hey how are you" in panel.textView.toPlainText()
    # step 1: the text preset and seed 0 are in the controls, through the opened-model path
    assert w.dataPanel.task == "text"
    assert w.hiddenSpin.value() == 12 and w.seedSpin.value() == 0
    assert not w.taskCombo.isEnabled() and not w.encodingCombo.isEnabled()
    assert w.deviceCombo.isHidden()
    assert frames_on(w.dataPanel)
    assert panel.nextButton.isEnabled() and not panel.backButton.isEnabled()
    assert not panel.runButton.isVisible()

    panel.nextButton.click()  # step 2: train 10 epochs
    assert "Step 2 of 4" in panel.titleLabel.text()
    assert not frames_on(w.dataPanel) and frames_on(w.lossPlot)
    for name in ("taskCombo", "archCombo", "hiddenSpin", "seedSpin"):
        assert not getattr(w, name).isEnabled(), name
    assert [b.text() for b in panel.prompt_buttons] == ["good"]
    assert "The loss curve" in panel.watchLabel.text()
    assert not panel.nextButton.isEnabled()
    assert "10 epochs" in panel.waitLabel.text()
    with qtbot.waitSignal(w.runStateChanged, check_params_cb=lambda s: s == "finished", timeout=RUN_TIMEOUT_MS):
        panel.runButton.click()
    qtbot.waitUntil(panel.nextButton.isEnabled, timeout=10_000)
    assert "Done" in panel.waitLabel.text()
    # the run's end re-enables what it locked: the lesson's locks hold
    assert not w.seedSpin.isEnabled() and not w.hiddenSpin.isEnabled()

    panel.nextButton.click()  # step 3: go on to the end of the run
    assert not panel.nextButton.isEnabled() and "run ends" in panel.waitLabel.text()
    with qtbot.waitSignal(w.runStateChanged, check_params_cb=lambda s: s == "finished", timeout=RUN_TIMEOUT_MS):
        panel.runButton.click()
    qtbot.waitUntil(panel.nextButton.isEnabled, timeout=10_000)
    assert [b.text() for b in panel.prompt_buttons] == ["good", "hey", "have"]
    panel.prompt_buttons[0].click()
    qtbot.waitUntil(lambda: w.completionView.text().startswith("good i am fine"), timeout=10_000)

    panel.nextButton.click()  # step 4: no wait, no locks
    assert "Step 4 of 4" in panel.titleLabel.text() and panel.nextButton.isEnabled()
    assert w.seedSpin.isEnabled() and not w.deviceCombo.isHidden()
    panel.backButton.click()  # back to step 3: its locks come back
    assert not w.seedSpin.isEnabled()
    panel.nextButton.click()
    panel.nextButton.click()  # Finish
    assert not panel.isVisible() and w.lessons.lesson is None
    assert w.taskCombo.isEnabled() and w.seedSpin.isEnabled() and not w.deviceCombo.isHidden()
    assert not w.findChildren(HighlightFrame) or not any(f.isVisible() for f in w.findChildren(HighlightFrame))


def test_closing_a_lesson_gives_every_control_back(window):
    w = window
    w.show()
    assert w.open_lesson(str(FIRST))
    assert not w.taskCombo.isEnabled() and w.deviceCombo.isHidden()
    w.lessonPanel.closeButton.click()
    assert w.taskCombo.isEnabled() and w.encodingCombo.isEnabled() and not w.deviceCombo.isHidden()
    assert not frames_on(w.dataPanel)
    assert not w.lessonPanel.isVisible()


def test_a_bad_lesson_gives_line_and_reason_and_changes_nothing(window, tmp_path):
    w = window
    w.show()
    text = FIRST.read_text(encoding="utf-8").replace("seed = 0", "hiden = 0", 1)
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith("hiden"))
    w.hiddenSpin.setValue(30)
    w.seedSpin.setValue(7)
    assert not w.open_lesson(str(bad))
    message = w.message_text()
    assert f"line {line}" in message and "unknown setting 'hiden'" in message and "did you mean 'hidden'" in message
    assert w.messageBar.kind == "error"
    assert w.hiddenSpin.value() == 30 and w.seedSpin.value() == 7
    assert w.taskCombo.isEnabled() and not w.lessonPanel.isVisible() and w.lessons.lesson is None
    # with a lesson open, a bad one leaves it where it was
    assert w.open_lesson(str(FIRST))
    assert not w.open_lesson(str(bad))
    assert w.lessons.lesson is not None and "Step 1 of 4" in w.lessonPanel.titleLabel.text()
    assert not w.taskCombo.isEnabled()


def test_save_as_lesson_then_reopen_round_trips(window, tmp_path, monkeypatch):
    w = window
    w.show()
    w.hiddenSpin.setValue(20)
    w.lrSpin.setValue(0.02)
    w.seedSpin.setValue(3)
    path = tmp_path / "mine.toml"

    def filled_in(dialog):
        dialog.titleEdit.setText("My lesson")
        dialog.textEdit.setPlainText("Watch **the loss**.")
        for names, wanted in ((dialog.lockList, "hiddenSpin"), (dialog.hideList, "deviceCombo")):
            for i in range(names.count()):
                if names.item(i).text() == wanted:
                    names.item(i).setCheckState(lesson_player.Qt.CheckState.Checked)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(lesson_player.SaveLessonDialog, "exec", filled_in)
    monkeypatch.setattr(lesson_player.QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    w.saveLessonAction.trigger()
    assert path.is_file(), w.message_text()
    assert "Lesson saved" in w.message_text()

    w.hiddenSpin.setValue(8)
    w.lrSpin.setValue(0.005)
    w.seedSpin.setValue(1)
    monkeypatch.setattr(lesson_player.QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    w.openLessonAction.trigger()
    assert w.lessons.lesson is not None and w.lessons.lesson.title == "My lesson"
    assert w.hiddenSpin.value() == 20 and abs(w.lrSpin.value() - 0.02) < 1e-9 and w.seedSpin.value() == 3
    assert not w.hiddenSpin.isEnabled() and w.deviceCombo.isHidden()
    assert "the loss" in w.lessonPanel.textView.toPlainText()


def test_every_plot_exports_png_svg_csv_and_the_run_exports(window, qtbot, tmp_path):
    w = window
    w.show()
    w.epochsSpin.setValue(5)
    with qtbot.waitSignal(w.runStateChanged, check_params_cb=lambda s: s == "finished", timeout=RUN_TIMEOUT_MS):
        w.trainButton.click()
    qtbot.waitUntil(lambda: export_module.has_data(w.lossPlot), timeout=5000)
    # File → Export lists the plots, each with PNG, SVG and CSV
    w.exportMenu.aboutToShow.emit()
    titles = [a.text() for a in w.exportMenu.actions()]
    assert any(t.startswith("Loss") for t in titles) and len(titles) >= 4
    assert w.exportMenu in [a.menu() for a in w.menus.fileMenu.actions() if a.menu()]
    for name in ("lossPlot", "gradNormPlot"):
        for kind in ("png", "svg", "csv"):
            path = tmp_path / f"{name}.{kind}"
            assert w.exporter.export(name, str(path)), w.message_text()
            assert path.stat().st_size > 0
        with open(tmp_path / f"{name}.csv", newline="") as handle:
            rows = list(csv.reader(handle))
        assert len(rows) > 2  # a header and the steps
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert b"<svg" in (tmp_path / f"{name}.svg").read_bytes()[:2000]

    from PySide6.QtWidgets import QApplication

    QApplication.clipboard().clear()
    w.copyPlotAction.trigger()
    assert not QApplication.clipboard().image().isNull()

    folder = tmp_path / "run"
    written = w.exporter.export_run(str(folder))
    names = {Path(p).name for p in written}
    assert {"settings.json", "metrics.csv", "lossPlot.png"} <= names
    settings = json.loads((folder / "settings.json").read_text())
    assert settings["train"]["epochs"] == 5
    with open(folder / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 5 and all(float(r["loss"]) > 0 for r in rows)
    assert (folder / "lossPlot.png").stat().st_size > 0
    if export_module.script_for is None:
        assert not (folder / "train.py").exists() and "train.py was left out" in w.message_text()
    else:
        assert (folder / "train.py").stat().st_size > 0
