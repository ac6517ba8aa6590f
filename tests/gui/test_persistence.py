"""Settings never lose what the user typed silently (rnn_studio/gui/persistence.py).

Each test is an attack that lost text, or kept the window from opening, before
SettingsKeeper: an unwritable folder, a full or read-only disk, text past the
box's limit, a crash, hostile values, a huge file, two windows on one folder.
Tests run as root here, so "read-only" comes from a folder where the file
should be or a small tmpfs (skipped where mounting is not allowed), not chmod.
"""

import json
import os
import subprocess
import sys
import time

import pytest
from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QTextCursor

from rnn_studio.core.config import MAX_SENTENCES_CHARS, SEED_SENTENCES
from rnn_studio.gui import MainWindow
from rnn_studio.gui import settings as store
from rnn_studio.gui.persistence import IN_USE_SUFFIX


@pytest.fixture(autouse=True)
def settings_dir(tmp_path, monkeypatch):
    folder = tmp_path / "settings"
    monkeypatch.setenv(store.SETTINGS_ENV, str(folder))
    return folder


def open_window(qtbot):
    w = MainWindow()
    qtbot.addWidget(w)
    return w


def on_disk(path) -> bytes:
    """The file's bytes: QSettings objects in one process share what they hold
    in memory, so only the file says what was really written."""
    return path.read_bytes() if path.is_file() else b""


# ---------------------------------------------------------------- 1. writes that fail are said, once
def test_a_folder_where_the_settings_file_should_be_is_said_once_and_the_window_works(qtbot, settings_dir):
    (settings_dir / store.FILE_NAME).mkdir(parents=True)
    w = open_window(qtbot)
    assert w.messageBar.kind == "warning"
    text = w.message_text()
    assert "cannot be saved" in text and str(settings_dir) in text
    assert f"a folder named {store.FILE_NAME}" in text
    w.messageBar.dismiss()
    w.sentencesEdit.setPlainText("typed where nothing can be saved")
    w.save_settings()
    w.hiddenSpin.setValue(31)
    w.save_settings()
    assert w.message_text() == ""  # said once, not at every autosave
    assert w.trainButton.isEnabled() and w.sentencesEdit.toPlainText() == "typed where nothing can be saved"
    w.close()  # closing does not raise either


@pytest.fixture
def small_disk(tmp_path):
    """A 64 KiB tmpfs: a disk that fills up, or turns read-only, for real."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "small-disk"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip() or result.returncode}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(folder):
    path = folder / "filler"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        for size in (4096, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    return path


def test_a_full_disk_is_said_once_naming_the_folder_and_the_text_is_written_once_there_is_room(
    qtbot, small_disk, monkeypatch
):
    folder = small_disk / "settings"
    monkeypatch.setenv(store.SETTINGS_ENV, str(folder))
    w = open_window(qtbot)
    assert w.message_text() == ""
    filler = fill(small_disk)
    w.sentencesEdit.setPlainText("typed while the disk is full")
    w.save_settings()
    assert b"typed while the disk is full" not in on_disk(folder / store.FILE_NAME)
    assert w.messageBar.kind == "warning"
    assert str(folder) in w.message_text() and "full" in w.message_text()
    w.messageBar.dismiss()
    w.hiddenSpin.setValue(31)
    w.save_settings()
    assert w.message_text() == ""
    filler.unlink()
    w.save_settings()  # what failed is written again
    assert b"typed while the disk is full" in on_disk(folder / store.FILE_NAME)
    w.close()


def test_a_read_only_disk_is_said_and_what_was_saved_still_comes_back(qtbot, small_disk, monkeypatch):
    folder = small_disk / "settings"
    monkeypatch.setenv(store.SETTINGS_ENV, str(folder))
    settings = store.open_settings()
    store.write_json(settings, "sentences", "saved before the disk turned read-only")
    settings.sync()
    del settings
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True, capture_output=True)
    try:
        w = open_window(qtbot)
        assert w.sentencesEdit.toPlainText() == "saved before the disk turned read-only"
        assert w.messageBar.kind == "warning"
        assert str(folder) in w.message_text() and "read-only" in w.message_text()
        w.messageBar.dismiss()
        w.sentencesEdit.setPlainText("typed on a read-only disk")
        w.save_settings()
        assert w.message_text() == ""
        w.close()
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], capture_output=True)


# ---------------------------------------------------------------- 2. text past the box's limit
def test_a_line_typed_after_a_paste_that_filled_the_box_is_saved_and_comes_back(qtbot):
    w = open_window(qtbot)
    edit = w.sentencesEdit
    edit.clear()
    paste = QMimeData()
    paste.setText(("the quick brown fox " * 4 + "\n") * (MAX_SENTENCES_CHARS // 80 + 10))
    edit.insertFromMimeData(paste)
    assert edit.length() == MAX_SENTENCES_CHARS
    edit.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    qtbot.keyClicks(edit, "typed after the paste")
    typed = w.dataPanel.sentences_text()
    assert typed.endswith("\ntyped after the paste")
    qtbot.waitUntil(lambda: store.read_json(store.open_settings(), "sentences") == typed, timeout=5000)
    w.close()
    again = open_window(qtbot)
    assert again.dataPanel.sentences_text() == typed


# ---------------------------------------------------------------- 3. "restored" only when it was
def test_after_a_crash_the_window_names_the_sentences_it_restored(qtbot):
    saved_at = time.time() - 120
    settings = store.open_settings()
    store.write_json(settings, "sentences", "what i typed before the crash")
    store.write_json(settings, "sentences_saved_at", saved_at)
    settings.setValue("session/open", "1")
    settings.sync()
    w = open_window(qtbot)
    assert w.sentencesEdit.toPlainText() == "what i typed before the crash"
    when = time.strftime("%H:%M", time.localtime(saved_at))
    assert f"the sentences saved at {when} were restored" in w.message_text()


def test_after_a_crash_with_nothing_to_restore_the_window_claims_nothing(qtbot):
    settings = store.open_settings()
    store.write_json(settings, "sentences", 42)  # not text: the examples stay
    settings.setValue("session/open", "1")
    settings.sync()
    w = open_window(qtbot)
    assert w.sentencesEdit.toPlainText().splitlines() == list(SEED_SENTENCES)
    assert "did not close normally" in w.message_text()
    assert "restored" not in w.message_text()


def test_each_save_of_the_sentences_records_when(qtbot):
    w = open_window(qtbot)
    before = time.time()
    w.sentencesEdit.setPlainText("now")
    w.save_settings()
    saved_at = store.read_json(store.open_settings(), "sentences_saved_at")
    assert isinstance(saved_at, float) and before - 1 <= saved_at <= time.time() + 1


# ---------------------------------------------------------------- 4. wrong, out of range, not finite
def test_wrong_or_non_finite_saved_values_each_fall_back_to_their_default_with_one_note(
    qtbot, tmp_path, monkeypatch, settings_dir
):
    monkeypatch.setenv(store.SETTINGS_ENV, str(tmp_path / "defaults"))
    fresh = open_window(qtbot)
    defaults = {
        "lr": fresh.lrSpin.value(), "clip": fresh.clipSpin.value(), "hidden": fresh.hiddenSpin.value(),
        "epochs": fresh.epochsSpin.value(), "dropout": fresh.dropoutSpin.value(),
        "optimizer": fresh.trainingPanel.optimizer, "seed": fresh.seedSpin.value(),
        "until_paused": fresh.trainingPanel.untilPausedCheck.isChecked(),
    }
    fresh.close()
    monkeypatch.setenv(store.SETTINGS_ENV, str(settings_dir))
    settings = store.open_settings()
    settings.setValue(
        "controls",
        '{"lr": NaN, "clip": Infinity, "hidden": "40", "layers": 2, "epochs": 1e400, "dropout": -0.5,'
        ' "optimizer": "magic", "seed": 3.5, "until_paused": 1, "pace_index": 2}',
    )
    settings.sync()
    w = open_window(qtbot)
    assert w.lrSpin.value() == defaults["lr"] and w.clipSpin.value() == defaults["clip"]
    assert w.hiddenSpin.value() == defaults["hidden"] and w.epochsSpin.value() == defaults["epochs"]
    assert w.dropoutSpin.value() == defaults["dropout"] and w.trainingPanel.optimizer == defaults["optimizer"]
    assert w.seedSpin.value() == defaults["seed"]
    assert w.trainingPanel.untilPausedCheck.isChecked() == defaults["until_paused"]
    assert w.layersSpin.value() == 2 and w.paceSlider.value() == 2  # the good values stay
    text = w.message_text()
    for label in ("learning rate (saved as NaN)", "gradient clip (saved as Infinity)", "hidden size",
                  "epochs", "dropout", "optimizer", "seed", "until paused"):
        assert label in text
    assert "layers" not in text and "pace" not in text
    # and the reset values are what is saved now
    w.close()
    assert json.loads(str(store.open_settings().value("controls")))["lr"] == defaults["lr"]


# ---------------------------------------------------------------- 5. reading never raises
def test_deeply_nested_saved_values_never_keep_the_window_from_opening(qtbot, settings_dir):
    settings_dir.mkdir(parents=True)
    deep = "[" * 5000 + "]" * 5000
    (settings_dir / store.FILE_NAME).write_text(
        f'[General]\ncontrols="{deep}"\nsentences="{deep}"\nprompt="{deep}"\n'
        f'sentences_saved_at={"9" * 5000}\n'
    )
    assert store.read_json(store.open_settings(), "controls", "default") == "default"
    w = open_window(qtbot)
    assert w.sentencesEdit.toPlainText().splitlines() == list(SEED_SENTENCES)
    assert w.trainButton.isEnabled()
    assert "the other settings" in w.message_text() and "the sentences" in w.message_text()


# ---------------------------------------------------------------- 6. a huge file; only changes written
def test_an_oversized_settings_file_is_set_aside_unread(qtbot, settings_dir):
    settings_dir.mkdir(parents=True)
    path = settings_dir / store.FILE_NAME
    with open(path, "wb") as f:
        f.write(b'[General]\nsentences="\\"never read\\""\n')
        f.truncate(store.MAX_SETTINGS_BYTES + 1)  # sparse: big, and instant to make
    w = open_window(qtbot)
    aside = settings_dir / (store.FILE_NAME + ".too-large")
    assert aside.is_file() and aside.stat().st_size == store.MAX_SETTINGS_BYTES + 1
    assert path.is_file() and path.stat().st_size < 10_000  # a fresh file
    assert w.sentencesEdit.toPlainText().splitlines() == list(SEED_SENTENCES)
    assert w.messageBar.kind == "warning" and aside.name in w.message_text()


def test_only_what_changed_is_written(qtbot, settings_dir):
    w = open_window(qtbot)
    path = settings_dir / store.FILE_NAME

    def stamp():
        st = path.stat()
        return st.st_ino, st.st_mtime_ns, st.st_size

    w.save_settings()
    before = stamp()
    w.save_settings()
    w.save_settings()
    assert stamp() == before  # nothing changed: the file is not rewritten
    w.hiddenSpin.setValue(w.hiddenSpin.value() + 1)
    w.save_settings()
    assert stamp() != before
    assert json.loads(str(store.open_settings().value("controls")))["hidden"] == w.hiddenSpin.value()


# ---------------------------------------------------------------- 7. two windows, one folder
def test_two_windows_on_one_folder_keep_their_texts_apart(qtbot, settings_dir):
    first = open_window(qtbot)
    first.sentencesEdit.setPlainText("the first window's text")
    first.save_settings()
    second = open_window(qtbot)
    text = second.message_text()
    assert "Another RNN Studio window" in text and "rnn-studio-2.ini" in text and str(settings_dir) in text
    assert second.sentencesEdit.toPlainText().splitlines() == list(SEED_SENTENCES)  # its own slot: the defaults
    second.sentencesEdit.setPlainText("the second window's text")
    first.close()
    second.close()  # closed last: before, it overwrote the first window's sentences
    assert store.read_json(store.open_settings(), "sentences") == "the first window's text"
    assert store.read_json(store.open_settings(2), "sentences") == "the second window's text"
    assert not list(settings_dir.glob(f"*{IN_USE_SUFFIX}"))  # both slots freed
    again = open_window(qtbot)
    assert again.sentencesEdit.toPlainText() == "the first window's text" and again.message_text() == ""
    second_again = open_window(qtbot)  # a second window again: the second one's text comes back
    assert second_again.sentencesEdit.toPlainText() == "the second window's text"
    assert "brought back what was last saved there" in second_again.message_text()


LOCK_SCRIPT = """
import os, sys
from PySide6.QtCore import QLockFile
lock = QLockFile(sys.argv[1])
assert lock.tryLock(0)
if sys.argv[2] == "crash":
    os._exit(0)  # gone without unlocking: the lock file stays behind
print("locked", flush=True)
sys.stdin.readline()
lock.unlock()
"""


def test_a_window_in_another_process_keeps_its_slot_and_a_crashed_ones_is_taken_over(qtbot, settings_dir):
    settings_dir.mkdir(parents=True)
    lock_path = str(settings_dir / (store.FILE_NAME + IN_USE_SUFFIX))
    subprocess.run([sys.executable, "-c", LOCK_SCRIPT, lock_path, "crash"], check=True, timeout=120)
    assert os.path.exists(lock_path)
    w = open_window(qtbot)
    assert w.message_text() == ""  # the stale lock's process is gone: slot 1 is this window's
    w.close()
    holder = subprocess.Popen([sys.executable, "-c", LOCK_SCRIPT, lock_path, "hold"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        other = open_window(qtbot)
        assert "rnn-studio-2.ini" in other.message_text()
        other.close()
    finally:
        holder.communicate("\n", timeout=60)
