"""Nothing lost: what the user typed and chose comes back after a restart.

Settings live in an INI file under RNN_STUDIO_SETTINGS_DIR (a fresh folder per
test here), never in the user's real settings.
"""

import glob
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from PySide6.QtCore import QByteArray

from rnn_studio.core.config import SEED_SENTENCES
from rnn_studio.gui import MainWindow
from rnn_studio.gui import settings as store


@pytest.fixture(autouse=True)
def settings_dir(tmp_path, monkeypatch):
    folder = tmp_path / "settings"
    monkeypatch.setenv("RNN_STUDIO_SETTINGS_DIR", str(folder))
    return folder


def open_window(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    return w


def test_settings_go_to_the_folder_named_by_the_environment(qtbot, settings_dir):
    w = open_window(qtbot)
    w.close()
    assert (settings_dir / store.FILE_NAME).is_file()
    assert store.open_settings().fileName() == os.path.join(str(settings_dir), store.FILE_NAME)


def test_what_the_user_typed_and_chose_comes_back(qtbot):
    w = open_window(qtbot)
    sentences = "a cat sat\nשלום עולם\nnul \x00 and emoji 😀\n"
    w.sentencesEdit.setPlainText(sentences)
    w.promptEdit.setText("a c")
    w.archCombo.setCurrentIndex(w.archCombo.findData("lstm"))
    w.hiddenSpin.setValue(40)
    w.layersSpin.setValue(2)
    w.lrSpin.setValue(0.003)
    w.clipSpin.setValue(1.5)
    w.epochsSpin.setValue(250)
    w.logScaleCheck.setChecked(True)
    w.paceSlider.setValue(2)
    w.resize(760, 530)  # within the offscreen screen, which restoreGeometry clamps to
    w.close()

    again = open_window(qtbot)
    assert again.sentencesEdit.toPlainText() == sentences
    assert again.promptEdit.text() == "a c"
    assert again.modelPanel.arch == "lstm"
    assert again.hiddenSpin.value() == 40 and again.layersSpin.value() == 2
    assert again.lrSpin.value() == pytest.approx(0.003)
    assert again.clipSpin.value() == pytest.approx(1.5)
    assert again.epochsSpin.value() == 250
    assert again.logScaleCheck.isChecked()
    assert again.paceSlider.value() == 2
    assert (again.width(), again.height()) == (760, 530)


def test_the_sine_task_and_its_settings_come_back(qtbot):
    w = open_window(qtbot)
    w.taskCombo.setCurrentIndex(w.taskCombo.findData("sine"))
    w.dataPanel.sineModeCombo.setCurrentIndex(w.dataPanel.sineModeCombo.findData("sequence"))
    w.dataPanel.sineLengthSpin.setValue(33)
    w.hiddenSpin.setValue(7)
    w.close()
    again = open_window(qtbot)
    assert again.dataPanel.task == "sine" and again.dataPanel.sine_mode == "sequence"
    assert again.dataPanel.sineLengthSpin.value() == 33
    assert again.hiddenSpin.value() == 7  # restored, not overwritten by the task's defaults
    assert again.bottomStack.currentWidget() is again.sinePlot


def test_sentences_are_saved_as_the_user_types(qtbot):
    w = open_window(qtbot)
    w.sentencesEdit.clear()
    qtbot.keyClicks(w.sentencesEdit, "typed by hand")
    # no close: a crash right now must not lose the text
    qtbot.waitUntil(lambda: store.read_json(store.open_settings(), "sentences") == "typed by hand", timeout=5000)


def test_after_a_crash_the_window_restores_and_says_so(qtbot):
    settings = store.open_settings()
    store.write_json(settings, "sentences", "what i typed before the crash")
    settings.setValue("session/open", "1")  # the last session never closed
    settings.sync()
    w = open_window(qtbot)
    assert w.sentencesEdit.toPlainText() == "what i typed before the crash"
    assert "did not close normally" in w.message_text()
    w.close()
    again = open_window(qtbot)
    assert again.message_text() == ""  # a clean close: nothing to say


def test_a_damaged_settings_file_opens_with_the_defaults(qtbot, settings_dir):
    settings_dir.mkdir(parents=True, exist_ok=True)
    (settings_dir / store.FILE_NAME).write_bytes(
        b'[General]\ncontrols="{not json\nsentences=42\nwindow/geometry=@@@\n\x00\xff\xfe garbage\n'
    )
    w = open_window(qtbot)
    assert w.sentencesEdit.toPlainText().splitlines() == list(SEED_SENTENCES)
    assert w.trainButton.isEnabled()


def test_out_of_range_saved_values_are_clamped_or_ignored(qtbot):
    settings = store.open_settings()
    store.write_json(
        settings,
        "controls",
        {
            "hidden": 10**9,
            "layers": -3,
            "lr": "fast",
            "arch": "transformer",
            "device": "cuda:7",
            "pace_index": 99,
            "task": 5,
        },
    )
    settings.sync()
    w = open_window(qtbot)
    assert 1 <= w.hiddenSpin.value() <= w.hiddenSpin.maximum()
    assert w.layersSpin.value() >= 1
    assert w.modelPanel.arch == "rnn" and w.trainingPanel.device == "cpu"
    assert w.dataPanel.task == "text"


def test_bytes_round_trip():
    settings = store.open_settings()
    store.write_bytes(settings, "blob", QByteArray(b"\x00\x01binary\xff"))
    assert bytes(store.read_bytes(settings, "blob")) == b"\x00\x01binary\xff"
    assert store.read_json(settings, "missing", "default") == "default"


FIRST_FILE = """
from rnn_studio.gui import MainWindow


def test_a_check_that_switches_to_sine(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)  # and never closed: the session stays marked open
    w.taskCombo.setCurrentIndex(w.taskCombo.findData("sine"))
    w.epochsSpin.setValue(5)
    w.save_settings()


def test_windows_within_one_test_share_their_settings(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    w.hiddenSpin.setValue(23)
    w.close()
    again = MainWindow()
    qtbot.addWidget(again)
    assert again.hiddenSpin.value() == 23
"""

SECOND_FILE = """
import tempfile

from rnn_studio.gui import MainWindow
from rnn_studio.gui import settings as store


def test_a_later_check_opens_on_the_defaults(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    assert w.dataPanel.task == "text" and w.epochsSpin.value() == 100
    assert "did not close normally" not in w.message_text()
    assert store.open_settings().fileName().startswith(tempfile.gettempdir())
"""


def test_without_a_settings_folder_each_pytest_test_gets_its_own(tmp_path):
    """Checks that build ``MainWindow()`` without this suite's conftest (no
    RNN_STUDIO_SETTINGS_DIR) must not see what an earlier test chose."""
    (tmp_path / "test_first.py").write_text(FIRST_FILE)
    (tmp_path / "test_second.py").write_text(SECOND_FILE)
    env = {k: v for k, v in os.environ.items() if k not in (store.SETTINGS_ENV, "PYTEST_CURRENT_TEST")}
    root = str(Path(__file__).resolve().parents[2])
    env.update(
        QT_QPA_PLATFORM="offscreen",
        PYTEST_QT_API="pyside6",
        PYTHONPATH=os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p),
        HOME=str(tmp_path / "home"),  # the per-user location, were it used: never the real one
        XDG_CONFIG_HOME=str(tmp_path / "config"),
    )
    pattern = os.path.join(tempfile.gettempdir(), "rnn-studio-pytest-*")
    before = set(glob.glob(pattern))
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
             "test_first.py", "test_second.py"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
        )
    finally:
        for folder in set(glob.glob(pattern)) - before:
            shutil.rmtree(folder, ignore_errors=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "3 passed" in result.stdout
    assert not (tmp_path / "config").exists() and not (tmp_path / "home").exists()


def test_the_pytest_folder_ignores_the_phase_of_the_test(monkeypatch):
    monkeypatch.delenv(store.SETTINGS_ENV)
    folders = set()
    for phase in ("setup", "call", "teardown"):
        monkeypatch.setenv("PYTEST_CURRENT_TEST", f"tests/x.py::test_a[1] ({phase})")
        folders.add(store.settings_folder())
    assert len(folders) == 1
    folder = folders.pop()
    assert folder.startswith(tempfile.gettempdir()) and str(os.getpid()) in folder
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "tests/x.py::test_b (call)")
    assert store.settings_folder() != folder
