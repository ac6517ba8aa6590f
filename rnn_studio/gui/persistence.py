"""What the user typed and chose, kept between sessions: ``SettingsKeeper``.

The window builds its panels, hands itself to a ``SettingsKeeper`` and calls
``restore()`` once, ``schedule()`` after each edit and ``close()`` when it
closes; everything else about settings is decided here:

- **Which file.** A window claims a slot with a ``QLockFile`` holding its
  process id (``rnn-studio.ini.in-use``; QSettings' own ``.lock`` is taken
  only while it writes). A second window on the same folder, in this process
  or another, finds slot 1 taken and keeps its text in ``rnn-studio-2.ini``
  (the defaults the first time, then what it saved there), and says so: the
  window closed last no longer overwrites the other's sentences. A lock left by a crashed
  process is stale (its process is gone) and is taken over.
- **Reading never raises and never trusts.** Each value is checked against
  its control (type, finite, the spin box's range, an item of the combo box);
  one that fails leaves that control at its default, and one message lists
  what was reset. A file larger than ``MAX_SETTINGS_BYTES`` is moved aside
  before QSettings parses it.
- **Writing says when it fails.** ``QSettings.status()`` is checked after each
  sync; the first failure (read-only folder, full disk, a folder where the
  file should be) is said once, in plain words naming the folder. Only keys
  whose JSON changed are written, and nothing is synced when none did.
- **Crashes.** ``session/open`` is "1" while a window is open; the sentences
  carry the time they were written, so after a crash the window says which
  sentences came back, and only when they did.

The INI layout and JSON helpers are rnn_studio/gui/settings.py's.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QLockFile, QObject, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QPlainTextEdit, QSpinBox

from ..core.config import MAX_SENTENCES_CHARS
from . import settings as store

AUTOSAVE_DELAY_MS = 600  # settings and sentences are saved this long after the last edit
IN_USE_SUFFIX = ".in-use"  # beside the INI file: the lock of the window that writes it
MAX_SLOTS = 32
# Sentences saved past the box's limit (typed by hand after a paste filled it)
# come back whole up to this much over; beyond that the box cuts them and says
# so (a 1 MB line stalls Qt's layout, and no one types that much by hand).
RESTORE_SLACK_CHARS = 20_000
SPLITTERS = ("mainSplitter", "viewSplitter", "plotSplitter", "textSplitter", "lossSplitter", "classifySplitter")
NEARLY_FULL_BYTES = 1024 * 1024

log = logging.getLogger(__name__)

_MISSING = object()
_BAD = object()


@dataclass(frozen=True)
class _Control:
    """One saved value: ``apply`` puts it in the control and answers whether
    it was acceptable (False: the control keeps its default)."""

    key: str
    label: str
    get: Callable[[], object]
    apply: Callable[[object], bool]


def _in_range(value, low, high, integer: bool) -> bool:
    if isinstance(value, bool):
        return False
    if integer:
        return isinstance(value, int) and low <= value <= high
    if not isinstance(value, (int, float)):
        return False
    try:
        number = float(value)
    except OverflowError:
        return False
    return math.isfinite(number) and low <= number <= high


def _number(key: str, label: str, widget) -> _Control:
    """A spin box or slider: the saved value must lie within its range."""
    integer = isinstance(widget, QSpinBox) or not hasattr(widget, "decimals")

    def apply(value) -> bool:
        if not _in_range(value, widget.minimum(), widget.maximum(), integer):
            return False
        widget.setValue(value)
        return True

    return _Control(key, label, widget.value, apply)


def _choice(key: str, label: str, combo, get, set_) -> _Control:
    def apply(value) -> bool:
        if not isinstance(value, str) or combo.findData(value) < 0:
            return False
        set_(value)
        return True

    return _Control(key, label, get, apply)


def _flag(key: str, label: str, check) -> _Control:
    def apply(value) -> bool:
        if not isinstance(value, bool):
            return False
        check.setChecked(value)
        return True

    return _Control(key, label, check.isChecked, apply)


def _valid(data) -> _Control:
    """"auto" (the task's default follows the data) or a fraction in the spin box's range."""

    def get():
        return "auto" if data.valid_is_default else data.validSpin.value()

    def apply(value) -> bool:
        if value == "auto":
            data.set_valid(None)
            return True
        spin = data.validSpin
        if not _in_range(value, spin.minimum(), spin.maximum(), False):
            return False
        data.set_valid(float(value))
        return True

    return _Control("valid_fraction", "validation", get, apply)


def _text_file(data) -> _Control:
    """The text file the text task trains on (None: the typed sentences); one
    that cannot be read now leaves the typed sentences."""

    def apply(value) -> bool:
        if value is None:
            data.close_text_file()
            return True
        if not isinstance(value, str) or not value or len(value) > 4096:
            return False
        from ..core.errors import StudioError
        from .panels.text_file import read_text_file_info

        try:
            data.set_text_file(read_text_file_info(value))
        except StudioError:
            return False
        return True

    return _Control("text_file", "text file", lambda: data.text_file, apply)


def _data_file(page) -> _Control:
    """The classifier's data file (None: the typed examples)."""

    def apply(value) -> bool:
        if value is None:
            page.use_typed()
            return True
        if not isinstance(value, str) or not value or len(value) > 4096:
            return False
        from ..core.errors import StudioError

        try:
            page.set_data_file(value)
        except StudioError:
            return False
        return True

    return _Control("data_file", "data file", lambda: page.data_file, apply)


def _controls_of(window) -> list[_Control]:
    """The saved controls, in the order they are restored (the task first: the
    other values are that task's)."""
    d, m, t, p = window.dataPanel, window.modelPanel, window.trainingPanel, window.promptPanel

    def device(value) -> bool:
        if not isinstance(value, str) or not value or len(value) > 64:
            return False
        # before the device list is complete the panel keeps the name and chooses it later
        return t.set_device(value) or not t.devices_ready

    return [
        _choice("task", "task", d.taskCombo, lambda: d.task, d.set_task),
        _choice("sine_mode", "sine mode", d.sineModeCombo, lambda: d.sine_mode, d.set_sine_mode),
        _number("sine_windows", "windows", d.sineWindowsSpin),
        _number("sine_window_len", "window length", d.sineLengthSpin),
        _number("sine_noise", "noise", d.sineNoiseSpin),
        _text_file(d),
        _number("window", "window length", d.windowSpin),
        _number("streams", "text file batch", d.streamsSpin),
        _data_file(d.classifyPage),
        _choice("level", "tokens", d.levelCombo, lambda: d.classifyPage.level, d.classifyPage.set_level),
        _valid(d),
        _choice("arch", "architecture", m.archCombo, lambda: m.arch, m.set_arch),
        _number("layers", "layers", m.layersSpin),
        _number("hidden", "hidden size", m.hiddenSpin),
        _choice("encoding", "encoding", m.encodingCombo, lambda: m.encoding, m.set_encoding),
        _number("dropout", "dropout", m.dropoutSpin),
        _flag("bidirectional", "bidirectional", m.bidirectionalCheck),
        _choice("pool", "pooling", m.poolingCombo, lambda: m.pool, m.set_pool),
        _flag("xavier", "Xavier initialisation", m.xavierCheck),
        _choice("optimizer", "optimizer", t.optimizerCombo, lambda: t.optimizer, t.set_optimizer),
        _number("lr", "learning rate", t.lrSpin),
        _number("epochs", "epochs", t.epochsSpin),
        _flag("until_paused", "until paused", t.untilPausedCheck),
        _number("batch_examples", "batch size", t.batchSpin),
        _flag("shuffle", "shuffle", t.shuffleCheck),
        _flag("plateau", "plateau schedule", t.plateauCheck),
        _number("clip", "gradient clip", t.clipSpin),
        _number("seed", "seed", t.seedSpin),
        _number("pace_index", "pace", t.paceSlider),
        _Control("device", "device", lambda: t.wanted_device, device),
        _flag("log_scale", "log scale", window.logScaleCheck),
        _Control("projector", "projector mode", window.projector.setting, window.projector.apply_setting),
        _number("length", "completion length", p.lengthSpin),
        _number("temperature_x100", "temperature", p.temperatureSlider),
    ]


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=True)


def _shown(value) -> str:
    """A saved value as a note quotes it: short, and NaN/Infinity by name."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        text = "?"
    return text if len(text) <= 30 else text[:27] + "…"


def _when(saved_at) -> str | None:
    """'at 14:03' today, 'on 2024-05-01 at 14:03' another day; None when unknown."""
    if isinstance(saved_at, bool) or not isinstance(saved_at, (int, float)):
        return None
    try:
        if not math.isfinite(saved_at) or saved_at > time.time() + 60:
            return None
        moment = time.localtime(saved_at)
    except (OverflowError, OSError, ValueError):
        return None
    hour = time.strftime("%H:%M", moment)
    if time.strftime("%Y-%m-%d", moment) == time.strftime("%Y-%m-%d"):
        return f"at {hour}"
    return f"on {time.strftime('%Y-%m-%d', moment)} at {hour}"


def _free_name(path: str) -> str:
    candidate, n = path, 1
    while os.path.lexists(candidate):
        n += 1
        candidate = f"{path}-{n}"
    return candidate


def _why_unwritable(path: str) -> str:
    """A guess, in plain words, at why ``path`` cannot be written."""
    folder = os.path.dirname(path)
    if os.path.isdir(path):
        return f"a folder named {os.path.basename(path)} is where the settings file should be"
    existing = folder
    while existing and not os.path.isdir(existing):
        parent = os.path.dirname(existing)
        existing = parent if parent != existing else ""
    try:
        disk = os.statvfs(existing or "/")
        if disk.f_flag & os.ST_RDONLY:
            return "the disk it is on is read-only"
        if disk.f_bavail * disk.f_frsize < NEARLY_FULL_BYTES:
            return "the disk is full"
    except (OSError, AttributeError):
        pass
    if not os.path.isdir(folder):
        return "the folder cannot be created"
    if not os.access(folder, os.W_OK):
        return "the folder is read-only"
    if os.path.exists(path) and not os.access(path, os.W_OK):
        return f"the file {os.path.basename(path)} is read-only"
    return f"the file {os.path.basename(path)} cannot be written"


def _claim_slot(base: str) -> tuple[int, QLockFile | None]:
    """The first slot no live window holds, and its lock (None when no lock
    file can be made here: then nothing can be saved either, and the first
    write says so)."""
    stem, ext = os.path.splitext(base)
    for slot in range(1, MAX_SLOTS + 1):
        path = base if slot == 1 else f"{stem}-{slot}{ext}"
        lock = QLockFile(path + IN_USE_SUFFIX)
        # a window stays open for days: the lock is stale only when its process is gone
        lock.setStaleLockTime(0)
        if lock.tryLock(0):
            return slot, lock
        if lock.error() != QLockFile.LockError.LockFailedError:
            return 1, None
    return 1, None  # dozens of windows on one folder: share the first file as before


class SettingsKeeper(QObject):
    """Reads, applies, autosaves and reports the settings of one window.

    ``window`` provides the panels (``dataPanel``, ``modelPanel``,
    ``trainingPanel``, ``promptPanel``), ``logScaleCheck``, the splitters named
    in ``SPLITTERS``, ``show_message(kind, text)`` and ``restoring()``, a
    context in which control changes are not edits (no task defaults, no
    autosave)."""

    def __init__(self, window, *, delay_ms: int = AUTOSAVE_DELAY_MS):
        super().__init__(window)
        self._window = window
        self._controls = _controls_of(window)
        self._opening = True  # notes wait for one message once the window has restored
        self._notes: list[tuple[str, str]] = []
        self._closed = False
        self._warned = False
        self._written: dict[str, str] = {}  # key -> the text last written (or read) there
        self._extra: dict[str, str] = {}  # keys the keeper writes for others (the model folder)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self.save)
        base = store.settings_file(1)
        try:
            os.makedirs(os.path.dirname(base), exist_ok=True)
        except OSError:
            pass  # the first write says so
        self.slot, self._lock = _claim_slot(base)
        self.base_path = base
        self.path = store.settings_file(self.slot) if self.slot > 1 else base
        self._fresh = not os.path.lexists(self.path)
        self._set_aside_if_too_large()
        self._settings = QSettings(self.path, QSettings.Format.IniFormat)
        app = QApplication.instance()
        if app is not None:  # quitting without closing the window is a normal end too
            app.aboutToQuit.connect(self.close)

    @property
    def folder(self) -> str:
        return os.path.dirname(self.path)

    # ------------------------------------------------------------------ reading
    def restore(self) -> None:
        """Put the saved values in the controls and mark the session open.
        Never raises: whatever cannot be read leaves its control at the default."""
        try:
            self._restore()
        except Exception:  # noqa: BLE001 - the window must open whatever the file holds
            log.exception("reading the settings from %s failed", self.path)
            self._say("info", "The saved settings could not be read, so some controls show their defaults.")
        self.save()  # marks the session open, and writes back any value that was reset
        self._opening = False
        if self._notes:
            kind = "warning" if any(k == "warning" for k, _ in self._notes) else "info"
            self._window.show_message(kind, "\n".join(text for _, text in self._notes))
        self._notes.clear()

    def _restore(self) -> None:
        own = self._settings
        if own.status() != QSettings.Status.NoError:
            self._cannot_save()  # a folder where the file should be reads as AccessError
        if self.slot > 1:
            self._say("info", self._slot_note())
        crashed = self._raw(own, "session/open") == "1"
        resets: list[str] = []

        def read(key: str, label: str):
            raw = self._raw(own, key)
            if raw is None:
                return _MISSING
            self._written[key] = raw if isinstance(raw, str) else ""
            if raw is _BAD:
                resets.append(label)
                return _MISSING
            try:
                return json.loads(raw)
            except Exception:  # noqa: BLE001 - RecursionError, a 5,000-digit number, plain garbage
                resets.append(label)
                return _MISSING

        window = self._window
        with window.restoring():
            controls = read("controls", "the other settings")
            if isinstance(controls, dict):
                for control in self._controls:
                    if control.key not in controls:
                        continue  # saved by an older version: the default stays, nothing to say
                    value = controls[control.key]
                    try:
                        accepted = control.apply(value)
                    except Exception:  # noqa: BLE001
                        log.exception("restoring %s", control.key)
                        accepted = False
                    if not accepted:
                        resets.append(f"{control.label} (saved as {_shown(value)})")
            elif controls is not _MISSING:
                resets.append("the other settings")
            sentences = read("sentences", "the sentences")
            restored = False
            if isinstance(sentences, str):
                if sentences.strip():
                    restored = self._put_sentences(sentences)
            elif sentences is not _MISSING:
                resets.append("the sentences")
            saved_at = read("sentences_saved_at", "the time the sentences were saved")
            examples = read("examples", "the labelled examples")
            if isinstance(examples, str):
                page = window.dataPanel.classifyPage
                QPlainTextEdit.setPlainText(page.examplesEdit, examples[: MAX_SENTENCES_CHARS + RESTORE_SLACK_CHARS])
                page.analyse()
            elif examples is not _MISSING:
                resets.append("the labelled examples")
            for key, task, label in (("prompt", "text", "the prompt"),
                                     ("classify_prompt", "classify", "the sentence to classify")):
                prompt = read(key, label)
                if isinstance(prompt, str):
                    window.promptPanel.set_prompt(task, prompt[:10_000])
                elif prompt is not _MISSING:
                    resets.append(label)
            folder = self._raw(own, "files/folder")
            if isinstance(folder, str):
                self._extra["files/folder"] = self._written["files/folder"] = folder
            if not self._restore_layout(own):
                resets.append("the window's size and layout")
        if crashed:
            self._say("info", self._crash_note(restored, saved_at))
        if resets:
            self._say(
                "info",
                "Some saved settings could not be used, so these are back to their defaults: "
                + "; ".join(dict.fromkeys(resets))
                + ".",
            )

    def _raw(self, settings: QSettings, key: str):
        """The stored text of ``key``; None when absent, _BAD when not text."""
        try:
            raw = settings.value(key)
        except Exception:  # noqa: BLE001 - a value PySide cannot convert
            return _BAD
        if raw is None:
            return None
        return raw if isinstance(raw, str) else _BAD

    def _put_sentences(self, text: str) -> bool:
        edit = self._window.dataPanel.sentencesEdit
        longest = max((len(line) for line in text.splitlines()), default=0)
        slack = RESTORE_SLACK_CHARS
        if len(text) <= MAX_SENTENCES_CHARS + slack and longest <= edit.max_line_chars + slack:
            # what was saved comes back whole, even past the limit the box keeps
            # for pastes: the panel says it is too long, and nothing typed is lost
            QPlainTextEdit.setPlainText(edit, text)
        else:
            edit.setPlainText(text)  # cuts to the limits
            self._say(
                "warning",
                f"The saved sentences had {len(text):,} characters, far more than the box holds: "
                "only the first part was brought back.",
            )
        self._window.dataPanel.analyse()
        return True

    def _restore_layout(self, source: QSettings) -> bool:
        window, ok = self._window, True
        for key, restore in (
            ("window/geometry", window.restoreGeometry),
            ("window/state", window.restoreState),
            *((f"window/{name}", getattr(window, name).restoreState) for name in SPLITTERS),
        ):
            raw = self._raw(source, key)
            if raw is None:
                continue
            if isinstance(raw, str):
                self._written[key] = raw
            data = store.read_bytes(source, key)
            try:
                ok = bool(data is not None and restore(data)) and ok
            except Exception:  # noqa: BLE001
                ok = False
        return ok

    def _set_aside_if_too_large(self) -> None:
        path = self.path
        try:
            size = os.path.getsize(path) if os.path.isfile(path) else 0
        except OSError:
            return
        if size <= store.MAX_SETTINGS_BYTES:
            return
        limit = f"{store.MAX_SETTINGS_BYTES / 1e6:.0f} MB"
        aside = _free_name(path + ".too-large")
        try:
            os.replace(path, aside)
        except OSError as exc:
            # leave it be, and read none of it: a file beside it takes the new settings
            self.path = _free_name(os.path.splitext(path)[0] + "-new.ini")
            self._say(
                "warning",
                f"The settings file {path} is {size / 1e6:,.0f} MB, far more than RNN Studio writes (at most about "
                f"{limit}), and could not be moved aside ({exc.strerror or exc}); it was not read, so the window "
                "opened with the defaults.",
            )
            return
        self._fresh = True
        self._say(
            "warning",
            f"The settings file {path} was {size / 1e6:,.0f} MB, far more than RNN Studio writes (at most about "
            f"{limit}); reading it would have slowed the window for seconds. It was set aside as "
            f"{os.path.basename(aside)} in the same folder, and the window opened with the defaults.",
        )

    def _slot_note(self) -> str:
        name, first = os.path.basename(self.path), os.path.basename(self.base_path)
        start = "it starts with the defaults." if self._fresh else "it brought back what was last saved there."
        return (
            f"Another RNN Studio window is already open with the settings in {self.folder}. So that neither "
            f"window overwrites the other's sentences, this one keeps its own in {name} there (the other keeps "
            f"{first}); {start}"
        )

    def _crash_note(self, restored: bool, saved_at) -> str:
        if not restored:
            return "RNN Studio did not close normally last time, and there were no saved sentences to bring back."
        when = _when(saved_at)
        saved = f"the sentences saved {when}" if when else "the sentences saved last time"
        return f"RNN Studio did not close normally last time: {saved} were restored."

    # ------------------------------------------------------------------ writing
    def schedule(self) -> None:
        """An edit: save once the user pauses."""
        if not self._closed:
            self._timer.start()

    def save(self, geometry: bool = False) -> None:
        """Write what changed since the last write; never raises."""
        self._timer.stop()
        if self._closed:
            return
        try:
            self._write(self._values(geometry=geometry))
        except Exception:  # noqa: BLE001 - a settings problem must not break the window
            log.exception("saving the settings to %s failed", self.path)
            self._cannot_save()

    def close(self) -> None:
        """The window closes: save everything, mark the session closed, free the slot."""
        if self._closed:
            return
        self._timer.stop()
        try:
            self._write(self._values(geometry=True, session_open=False))
        except Exception:  # noqa: BLE001 - closing must go on
            log.exception("saving the settings to %s failed", self.path)
        self._closed = True
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None

    def model_folder(self) -> str | None:
        """The folder a model was last saved to or opened from."""
        try:
            folder = json.loads(self._extra.get("files/folder", "null"))
        except Exception:  # noqa: BLE001
            return None
        return folder if isinstance(folder, str) else None

    def remember_folder(self, folder: str) -> None:
        self._extra["files/folder"] = _dumps(folder)
        self.save()

    def _values(self, *, geometry: bool = False, session_open: bool = True) -> dict[str, str]:
        window = self._window
        values = {
            "controls": _dumps({control.key: control.get() for control in self._controls}),
            "sentences": _dumps(window.dataPanel.sentences_text()),  # whatever its length: nothing typed is lost
            "prompt": _dumps(window.promptPanel.prompt_text("text")),
            "classify_prompt": _dumps(window.promptPanel.prompt_text("classify")),
            "examples": _dumps(window.dataPanel.classifyPage.examples_text()),
            **self._extra,
            "session/open": "1" if session_open else "0",
        }
        if geometry:
            values["window/geometry"] = _base64(window.saveGeometry())
            values["window/state"] = _base64(window.saveState())
            for name in SPLITTERS:
                values[f"window/{name}"] = _base64(getattr(window, name).saveState())
        return values

    def _write(self, values: dict[str, str]) -> bool:
        changed = {key: text for key, text in values.items() if self._written.get(key) != text}
        if not changed:
            return True  # nothing to write: no sync, no file rewritten
        if "sentences" in changed:
            changed["sentences_saved_at"] = _dumps(round(time.time(), 3))
        for key, text in changed.items():
            self._settings.setValue(key, text)
        self._settings.sync()
        if self._settings.status() == QSettings.Status.NoError:
            self._written.update(changed)
            return True
        for key in changed:  # written again next time
            self._written.pop(key, None)
        # status() keeps the first error for good: a new object reports the next sync's own
        self._settings = QSettings(self.path, QSettings.Format.IniFormat)
        self._cannot_save()
        return False

    def _cannot_save(self) -> None:
        if self._warned:
            return
        self._warned = True
        text = (
            f"Your settings cannot be saved in the folder {self.folder}: {_why_unwritable(self.path)}. "
            "The window works as usual, but what you type and choose now will not be there the next time "
            "RNN Studio opens."
        )
        log.warning(text)
        self._say("warning", text)

    def _say(self, kind: str, text: str) -> None:
        if self._opening:
            self._notes.append((kind, text))
        else:
            self._window.show_message(kind, text)


def _base64(data) -> str:
    return bytes(data.toBase64()).decode("ascii")
