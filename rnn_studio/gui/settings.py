"""Where the studio keeps what the user typed and chose between sessions.

QSettings in INI format. With ``RNN_STUDIO_SETTINGS_DIR`` set (the tests set
it to a throwaway folder) the file is ``rnn-studio.ini`` in that folder, so a
test run never touches the user's real settings. Without it, inside a pytest
test (``PYTEST_CURRENT_TEST`` is set), the folder is one per process and test
under the temporary folder: windows within one test share their settings (a
restore test works), but no test opens on what another one chose. Otherwise it
is the usual per-user location for "RNN Studio".

Text goes through JSON (ASCII escapes) so that NUL, newlines, right-to-left
marks or emoji in the sentences survive the INI format unchanged, and a
damaged file reads back as "nothing saved" instead of raising.
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


def open_settings() -> QSettings:
    folder = settings_folder()
    if folder:
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError:
            pass  # QSettings reports the write failure through status(); nothing is lost in memory
        return QSettings(os.path.join(folder, FILE_NAME), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "RNN Studio", "RNN Studio")


def write_json(settings: QSettings, key: str, value) -> None:
    settings.setValue(key, json.dumps(value, ensure_ascii=True))


def read_json(settings: QSettings, key: str, default=None):
    raw = settings.value(key)
    if raw is None:
        return default
    try:
        return json.loads(str(raw))
    except (ValueError, TypeError):
        return default


def write_bytes(settings: QSettings, key: str, value: QByteArray) -> None:
    settings.setValue(key, bytes(value.toBase64()).decode("ascii"))


def read_bytes(settings: QSettings, key: str) -> QByteArray | None:
    raw = settings.value(key)
    if not raw:
        return None
    try:
        return QByteArray.fromBase64(str(raw).encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return None
