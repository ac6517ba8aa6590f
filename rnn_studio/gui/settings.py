"""Where the studio keeps what the user typed and chose between sessions.

QSettings in INI format. With ``RNN_STUDIO_SETTINGS_DIR`` set (the tests set
it to a throwaway folder) the file is ``rnn-studio.ini`` in that folder, so a
test run never touches the user's real settings. Without it, inside a pytest
test (``PYTEST_CURRENT_TEST`` is set), the folder is one per process and test
under the temporary folder: windows within one test share their settings (a
restore test works), but no test opens on what another one chose. Otherwise it
is the usual per-user location for "RNN Studio".

A window opened while another one holds the folder writes ``rnn-studio-2.ini``
(then ``-3``...) beside it: ``settings_file(slot)`` names each; which window
gets which slot is rnn_studio/gui/persistence.py's business.

Text goes through JSON (ASCII escapes) so that NUL, newlines, right-to-left
marks or emoji in the sentences survive the INI format unchanged, and a
damaged file reads back as "nothing saved" instead of raising (whatever the
damage: a value nested 5,000 levels deep raises RecursionError in json).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile

from PySide6.QtCore import QByteArray, QSettings

SETTINGS_ENV = "RNN_STUDIO_SETTINGS_DIR"
FILE_NAME = "rnn-studio.ini"
PYTEST_ENV = "PYTEST_CURRENT_TEST"  # "path::test_name (setup)", set by pytest while a test runs
# The largest settings file read. A full sentence box is 200,000 UTF-16 units; JSON
# writes a non-ASCII unit as \uXXXX and the INI format doubles its backslash, so
# at most 7 bytes a unit: 1.4 MB. 4 MiB leaves room for text typed past the limit,
# the prompt and the window layout, and QSettings parses it in a fraction of a
# second (a 100 MB file took ~6 s to open and ~4 s per autosave).
MAX_SETTINGS_BYTES = 4 * 1024 * 1024


def settings_folder() -> str | None:
    """The folder the settings file goes in; None for the per-user location."""
    folder = os.environ.get(SETTINGS_ENV)
    if folder:
        return folder
    test = os.environ.get(PYTEST_ENV)
    if test:
        node = re.sub(r" \((setup|call|teardown)\)$", "", test)
        digest = hashlib.sha256(node.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        return os.path.join(tempfile.gettempdir(), f"rnn-studio-pytest-{os.getpid()}-{digest}")
    return None


def settings_file(slot: int = 1) -> str:
    """The INI file of window slot ``slot``: 1 is the usual one; 2, 3... are
    for windows opened while another one uses the folder."""
    folder = settings_folder()
    if folder:
        path = os.path.join(folder, FILE_NAME)
    else:
        path = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "RNN Studio", "RNN Studio").fileName()
    if slot == 1:
        return path
    stem, ext = os.path.splitext(path)
    return f"{stem}-{slot}{ext}"


def open_settings(slot: int = 1) -> QSettings:
    path = settings_file(slot)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
    except OSError:
        pass  # QSettings reports the write failure through status(); nothing is lost in memory
    return QSettings(path, QSettings.Format.IniFormat)


def write_json(settings: QSettings, key: str, value) -> None:
    settings.setValue(key, json.dumps(value, ensure_ascii=True))


def read_json(settings: QSettings, key: str, default=None):
    try:
        raw = settings.value(key)
        if raw is None:
            return default
        return json.loads(str(raw))
    except Exception:  # noqa: BLE001 - RecursionError, huge numbers, odd QVariants: all mean "not saved"
        return default


def write_bytes(settings: QSettings, key: str, value: QByteArray) -> None:
    settings.setValue(key, bytes(value.toBase64()).decode("ascii"))


def read_bytes(settings: QSettings, key: str) -> QByteArray | None:
    try:
        raw = settings.value(key)
        if not raw:
            return None
        return QByteArray.fromBase64(str(raw).encode("ascii"))
    except Exception:  # noqa: BLE001 - a damaged value reads as "not saved"
        return None
