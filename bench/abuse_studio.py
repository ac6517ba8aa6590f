"""Issue 4's abuse session of the studio window, as a repeatable script.

Drives one real ``MainWindow`` in this process (offscreen unless a display is
set) the way a class would abuse it, prints figures, and exits 0 when every
invariant held, 1 otherwise. Nothing asserts a time except the invariants the
issue states (a paste never stalls the GUI thread for more than ~100 ms, the
window closes within 1 s, no CPU is burnt after Stop).

1. ``paste``: empty, whitespace only, one character, emoji, combining marks,
   right-to-left, zero-width characters, NUL, Windows line ends, a 10 MB paste
   and one 1 MB line go into ``sentencesEdit`` through the clipboard
   (``QClipboard`` + ``paste()``), ``setPlainText`` and ``insertPlainText``;
   after each, Train, wait for the run to end or a message, Stop. A 5 ms
   precise QTimer on the GUI thread records how late it fires: max and p99
   over the second after each paste, and over each Train.
2. ``diverge``: learning rate 100 with SGD and Adam, text and sine: the run
   must pause with a plain message; every point of every PlotWidget (raw data
   and what is displayed, bar charts, marker lines, view ranges; linear and
   log scale) must be finite; then lower the rate and Resume.
3. ``prompt``: unicode prompts (emoji, RTL, NUL, zero-width, 10k and 100k
   characters...) + Complete, when idle, running, paused, stopped, finished
   and on the sine task: no exception, a visible warning for unseen characters.
4. ``lifecycle``: 200 Train/Stop cycles at seeded random moments (0-50 ms, Stop
   by button or Esc), Stop during a long first step, Reset during a run, Step
   while stopped, device change while paused, Pause/Space toggling; after each
   Stop no thread may still run; process CPU over 1 s after the final Stop;
   close during a long step (second window) and during a run (the main
   window): time until every QThread has finished.

A ``sys.excepthook``, ``threading.excepthook``, ``warnings.showwarning``, a Qt
message handler and a tee on stderr (the worker prints the tracebacks it
catches) record every Python exception, Python warning and Qt
warning/critical of the session; they are all listed at the end.

A Train press on a very long single line (over 10,000 characters) runs in a
child process (``--child-train CASE``): at commit 55cce98 the first step on a
30,000-character sentence killed the whole process (SIGSEGV, a stack overflow
freeing the traced autograd graph); the child's exit status is reported.
``--no-isolate`` presses it in this process instead (a crash then ends the
session: that is the reproduction).

    QT_QPA_PLATFORM=offscreen python bench/abuse_studio.py               # ~2 minutes
    python bench/abuse_studio.py --quick                                  # ~1 minute: clipboard pastes, 50 cycles
    python bench/abuse_studio.py --only paste,prompt --json /tmp/abuse.json
    Xvfb :99 & DISPLAY=:99 python bench/abuse_studio.py                   # a real X window
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import logging
import math
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# the window reads and writes its settings here, never the user's own
SETTINGS_DIR = tempfile.mkdtemp(prefix="rnn-studio-abuse-settings-")
os.environ["RNN_STUDIO_SETTINGS_DIR"] = SETTINGS_DIR
faulthandler.enable()  # a crash in a thread says where

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402
from PySide6.QtCore import QEventLoop, Qt, QThread, QTimer, QtMsgType, qInstallMessageHandler  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from rnn_studio.core.config import MAX_SENTENCES_CHARS, SEED_SENTENCES  # noqa: E402

TICK_MS = 5
STALL_LIMIT_MS = 100.0
CLOSE_LIMIT_S = 1.0
IDLE_CPU_LIMIT_S = 0.1  # CPU seconds over the 1 s after the final Stop
ISOLATE_LINE_CHARS = 10_000
IN_PROGRESS = ("running", "paused")
SEED_TEXT = "\n".join(SEED_SENTENCES)


# ====================================================================== recording
class Recorder:
    """Everything the session saw go wrong, and the invariants it checked."""

    def __init__(self):
        self.lock = threading.Lock()
        self.exceptions: list[dict] = []
        self.qt_messages: list[dict] = []
        self.py_warnings: list[dict] = []
        self.log_records: list[dict] = []  # logging records at WARNING and above
        self.stderr_tracebacks: list[dict] = []
        self.invariants: list[dict] = []
        self.notes: list[dict] = []  # worth fixing, but not one of the invariants
        self.phase = "startup"
        self.figures: dict = {}

    def exception(self, where: str, exc_type, exc, tb) -> None:
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        with self.lock:
            self.exceptions.append(
                {
                    "phase": self.phase,
                    "where": where,
                    "type": getattr(exc_type, "__name__", str(exc_type)),
                    "message": str(exc),
                    "traceback": text,
                }
            )

    def counts(self) -> tuple[int, int, int]:
        with self.lock:
            return len(self.exceptions), len(self.qt_messages), len(self.stderr_tracebacks)

    def note(self, name: str, detail: str = "", repro: str = "") -> None:
        self.notes.append({"phase": self.phase, "name": name, "detail": detail, "repro": repro})
        print(f"    NOTE [{self.phase}] {name}: {detail}", flush=True)

    def check(self, name: str, ok: bool, detail: str = "", repro: str = "") -> bool:
        self.invariants.append({"phase": self.phase, "name": name, "ok": bool(ok), "detail": detail, "repro": repro})
        if not ok:
            print(
                f"    FAIL [{self.phase}] {name}: {detail}" + (f"\n         repro: {repro}" if repro else ""),
                flush=True,
            )
        return bool(ok)


REC = Recorder()


class StderrTee:
    """Passes stderr through and keeps any traceback written to it (the worker
    catches exceptions and prints them: they never reach sys.excepthook)."""

    def __init__(self, stream):
        self.stream = stream
        self._buffer = ""
        self._lock = threading.Lock()

    def write(self, text):
        self.stream.write(text)
        with self._lock:
            self._buffer += text
            while "\n\n" in self._buffer or len(self._buffer) > 200_000:
                block, _, self._buffer = self._buffer.partition("\n\n")
                self._scan(block)
        return len(text)

    def _scan(self, block: str) -> None:
        if "Traceback (most recent call last)" in block or "Fatal Python error" in block:
            start = block.find("Traceback") if "Traceback" in block else block.find("Fatal")
            with REC.lock:
                REC.stderr_tracebacks.append({"phase": REC.phase, "text": block[start:][-4000:]})

    def flush_pending(self) -> None:
        with self._lock:
            block, self._buffer = self._buffer, ""
        if block:
            self._scan(block)

    def flush(self):
        self.stream.flush()

    def __getattr__(self, name):
        return getattr(self.stream, name)


def install_hooks() -> StderrTee:
    sys.excepthook = lambda t, v, tb: (REC.exception("sys.excepthook", t, v, tb), sys.__excepthook__(t, v, tb))
    threading.excepthook = lambda args: REC.exception(
        f"thread {getattr(args.thread, 'name', '?')}", args.exc_type, args.exc_value, args.exc_traceback
    )
    sys.unraisablehook = lambda u: REC.exception(
        f"unraisable {u.object!r}"[:200], type(u.exc_value), u.exc_value, u.exc_traceback
    )

    def show_warning(message, category, filename, lineno, file=None, line=None):
        with REC.lock:
            REC.py_warnings.append(
                {
                    "phase": REC.phase,
                    "category": category.__name__,
                    "message": str(message),
                    "where": f"{filename}:{lineno}",
                }
            )
        sys.__stderr__.write(warnings.formatwarning(message, category, filename, lineno, line))

    warnings.showwarning = show_warning

    class Recording(logging.Handler):
        def emit(self, record):
            with REC.lock:
                REC.log_records.append(
                    {
                        "phase": REC.phase,
                        "level": record.levelname,
                        "logger": record.name,
                        "message": record.getMessage(),
                    }
                )

    logging.getLogger().addHandler(Recording(level=logging.WARNING))
    levels = {
        QtMsgType.QtDebugMsg: "debug",
        QtMsgType.QtInfoMsg: "info",
        QtMsgType.QtWarningMsg: "warning",
        QtMsgType.QtCriticalMsg: "critical",
        QtMsgType.QtFatalMsg: "fatal",
    }

    def qt_handler(mode, context, message):
        level = levels.get(mode, str(mode))
        if level in ("warning", "critical", "fatal"):
            where = f"{context.file}:{context.line}" if context is not None and context.file else ""
            with REC.lock:
                REC.qt_messages.append({"phase": REC.phase, "level": level, "message": message, "where": where})
        sys.__stderr__.write(f"Qt {level}: {message}\n")

    qInstallMessageHandler(qt_handler)
    tee = StderrTee(sys.stderr)
    sys.stderr = tee
    return tee


# ====================================================================== event loop
_APP: list = []


def app() -> QApplication:
    if QApplication.instance() is None:
        _APP.append(QApplication([sys.argv[0]]))
    return QApplication.instance()


def run_loop(seconds: float) -> None:
    loop = QEventLoop()
    QTimer.singleShot(max(0, int(seconds * 1000)), loop.quit)
    loop.exec()


def wait_until(condition, timeout_s: float, poll_ms: int = 2) -> bool:
    """Run the event loop until ``condition()`` holds (checked every poll_ms)."""
    if condition():
        return True
    loop = QEventLoop()
    deadline = time.perf_counter() + timeout_s
    result = {"ok": False}

    def check():
        try:
            ok = condition()
        except Exception:  # noqa: BLE001 - a harness bug must not hang the loop
            REC.exception("wait_until condition", *sys.exc_info())
            ok = True
        if ok:
            result["ok"] = True
            loop.quit()
        elif time.perf_counter() > deadline:
            loop.quit()

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.timeout.connect(check)
    timer.start(poll_ms)
    loop.exec()
    timer.stop()
    return result["ok"]


class Probe:
    """A 5 ms precise timer on the GUI thread; how late each tick fires is the
    GUI thread's stall. Also notes every distinct message the window shows."""

    def __init__(self, window=None):
        self.ticks: list[float] = []
        self.window = window
        self.messages: list[tuple[float, str]] = []
        self._last_message = ""
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.ticks.append(now)
        if self.window is not None:
            try:
                text = self.window.message_text()
            except RuntimeError:  # the window is gone
                self.window = None
                return
            if text != self._last_message:
                self._last_message = text
                if text:
                    self.messages.append((now, text))

    def start(self) -> None:
        self.ticks.append(time.perf_counter())
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def lateness(self, t0: float, t1: float, since: float | None = None) -> dict:
        """Max and p99 lateness (ms) of the ticks between t0 and t1 (the gaps that
        span t0 and t1 included). With ``since``, no gap counts from before it:
        what the event loop did after a synchronous call, without the call."""
        ticks = np.asarray(self.ticks)
        i0 = max(0, int(np.searchsorted(ticks, t0)) - 1)
        i1 = min(len(ticks), int(np.searchsorted(ticks, t1, side="right")) + 1)  # and the gap that spans t1
        sel = ticks[i0:i1]
        if len(sel) < 2:
            return {"max_ms": float("nan"), "p99_ms": float("nan"), "ticks": 0, "at_ms": float("nan")}
        starts = sel[:-1] if since is None else np.maximum(sel[:-1], since)
        late = np.maximum(0.0, (sel[1:] - starts) * 1000.0 - TICK_MS)
        worst = int(late.argmax())
        return {
            "max_ms": float(late.max()),
            "p99_ms": float(np.percentile(late, 99)),
            "ticks": int(len(late)),
            "at_ms": float((starts[worst] - t0) * 1000.0),
        }  # when the worst stall began, after t0

    def messages_since(self, t0: float) -> list[str]:
        return [m for t, m in self.messages if t >= t0]


# ====================================================================== window helpers
def state(w) -> str:
    return w.run_state


def thread_running(thread) -> bool:
    try:
        return bool(thread.isRunning())
    except RuntimeError:  # its C++ object is already gone: it has finished
        return False


def running_threads(w) -> list[str]:
    """Threads the window says it holds, plus every QThread child, still running."""
    out = []
    seen = set()
    try:
        candidates = list(w.threads()) + list(w.findChildren(QThread))
    except RuntimeError:
        return out
    for t in candidates:
        if t is None or id(t) in seen:
            continue
        seen.add(id(t))
        if thread_running(t):
            try:
                out.append(t.objectName() or "QThread")
            except RuntimeError:
                out.append("QThread")
    return out


def set_combo(combo, data) -> bool:
    index = combo.findData(data)
    if index >= 0:
        combo.setCurrentIndex(index)
    return index >= 0


def set_task(w, task: str, sine_mode: str | None = None) -> None:
    if w.run_state in IN_PROGRESS:
        w.stopButton.click()
    set_combo(w.taskCombo, task)
    if sine_mode:
        set_combo(w.sineModeCombo, sine_mode)


def fresh(
    w,
    *,
    task="text",
    sentences=SEED_TEXT,
    epochs=100,
    until_paused=False,
    lr=None,
    optimizer=None,
    arch=None,
    hidden=None,
    layers=None,
    sine_mode=None,
    sine_windows=None,
    clip=None,
) -> None:
    """Reset and set the controls the way a user would."""
    if w.run_state in IN_PROGRESS:
        w.stopButton.click()
    w.resetButton.click()
    set_task(w, task, sine_mode)
    if task == "text" and w.sentencesEdit.toPlainText() != sentences:
        w.sentencesEdit.setPlainText(sentences)
    if arch:
        set_combo(w.archCombo, arch)
    if hidden:
        w.hiddenSpin.setValue(hidden)
    if layers:
        w.layersSpin.setValue(layers)
    if sine_windows:
        w.dataPanel.sineWindowsSpin.setValue(sine_windows)
    if optimizer:
        set_combo(w.optimizerCombo, optimizer)
    if lr is not None:
        w.lrSpin.setValue(lr)
    if clip is not None:
        w.clipSpin.setValue(clip)
    w.epochsSpin.setValue(epochs)
    w.untilPausedCheck.setChecked(until_paused)
    w.paceSlider.setValue(w.paceSlider.maximum())  # flat out


def steps_done(w) -> int:
    worker = w.worker
    trainer = worker.trainer if worker is not None else None
    return trainer.steps if trainer is not None else 0


def in_training_step() -> bool:
    """Is some thread inside ``Trainer.step`` right now? (its Python frames say so)"""
    for frame in sys._current_frames().values():
        while frame is not None:
            code = frame.f_code
            if code.co_name in ("step", "_step_sequence") and code.co_filename.endswith("training.py"):
                return True
            frame = frame.f_back
    return False


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000.0


def fmt(x, digits=1) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        if math.isnan(x):
            return "nan"
        return f"{x:.{digits}f}"
    return str(x)


def short(text: str, n: int = 160) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= n else text[: n - 1] + "…"


def plot_audit(w) -> dict:
    """Count the points of every PlotWidget and how many are not finite: raw
    data (xData/yData, every point kept) and displayed data (getData(): after
    log scale, clipping and downsampling), bar charts, marker lines, view ranges."""
    audit = {}
    for pw in w.findChildren(pg.PlotWidget):
        name = pw.objectName() or "plot"
        item = pw.getPlotItem()
        points = bad = 0
        where = []

        def count(label, values, where=where):
            nonlocal points, bad
            if values is None:
                return
            a = np.asarray(values, dtype=np.float64).ravel()
            points += a.size
            n = int((~np.isfinite(a)).sum())
            if n:
                bad += n
                where.append(f"{label}:{n}")

        for i, di in enumerate(item.listDataItems()):
            if not hasattr(di, "xData"):  # a BarGraphItem: audited below
                continue
            count(f"item{i}.xData", di.xData)
            count(f"item{i}.yData", di.yData)
            x, y = di.getData()
            count(f"item{i}.getData.x", x)
            count(f"item{i}.getData.y", y)
        for it in item.items:
            if isinstance(it, pg.BarGraphItem):
                for key in ("x", "x0", "x1", "y", "y0", "y1", "height", "width"):
                    value = it.opts.get(key)
                    if value is not None and np.ndim(value) > 0:
                        count(f"bars.{key}", value)
            elif isinstance(it, pg.InfiniteLine) and it.isVisible():
                count("line.pos", [it.value()])
        count("viewRange", np.asarray(item.getViewBox().viewRange()))
        audit[name] = {"points": points, "nonfinite": bad, "where": where}
    return audit


def audit_total(audit: dict) -> tuple[int, int]:
    return sum(a["points"] for a in audit.values()), sum(a["nonfinite"] for a in audit.values())


# ====================================================================== 1. pastes
PASTE_CASES: list[tuple[str, str]] = [
    ("empty", ""),
    ("whitespace only", "   \n\t \n \u00a0\u3000 \n"),
    ("one char", "a"),
    ("emoji", "i love 🐍 and 🤖\nthe 🐈 sat on the 🧶 👨\u200d👩\u200d👧\u200d👦 🏳️\u200d🌈 👍🏽"),
    (
        "combining marks",
        "cafe\u0301 e\u0301te\u0301\nZ\u0351\u0352\u0357\u0310a\u0300\u0301\u0302l\u0303g\u0304o\u0305!",
    ),
    ("RTL", "שלום עולם\nمرحبا بالعالم\nmixed עברית and English \u202eevil\u202c"),
    ("zero-width", "a\u200bb\u200cc\u200dd\ufeffe\u2060f\n\u200b\u200b\u200b\n\u200e\u200f"),
    ("NUL", "hello\x00world\nab\x00\x00cd"),
    ("CRLF", "the cat sat\r\nthe dog ran\r\n\r\nlone\rcr\r\n"),
    ("10 MB paste", "the quick brown fox jumps over the lazy dog\n" * 240_000),
    ("1 MB line", "abcdefghij" * 100_000),
    # not in the list: a long line well under the 200,000 limit
    ("30k-char line", "abcdefghij" * 3_000),
]
METHODS = ("clipboard", "setPlainText", "insertPlainText")


def do_paste(w, method: str, text: str) -> None:
    """Into the emptied box (cleared beforehand, outside the timing)."""
    edit = w.sentencesEdit
    if method == "clipboard":
        edit.paste()
    elif method == "setPlainText":
        edit.setPlainText(text)
    else:
        edit.insertPlainText(text)


def expected_kept(text: str) -> str:
    """What the box should hold: the text cut to the limit, line ends as Qt keeps them."""
    return text[:MAX_SENTENCES_CHARS].replace("\r\n", "\n").replace("\r", "\n")


def wait_run_or_message(w, probe: Probe, t0: float, timeout_s: float) -> str:
    """After Train: until the run ends, a message shows, or timeout."""

    def done():
        if w.run_state not in IN_PROGRESS:
            return True
        return bool(probe.messages_since(t0)) and w.messageBar.kind in ("error", "warning")

    wait_until(done, timeout_s)
    return w.run_state


def child_train(case: str) -> int:
    """--child-train: one window, the case's text, Train, wait, Stop; a JSON line."""
    text = dict(PASTE_CASES)[case]
    from rnn_studio.gui import MainWindow

    app()
    w = MainWindow()
    w.confirm_discard = lambda question: True  # no modal question on a task switch
    w.show()
    fresh(w, epochs=100)
    w.sentencesEdit.setPlainText(text)
    out = {"case": case, "length": w.sentencesEdit.length()}
    t0 = time.perf_counter()
    w.trainButton.click()
    out["state_after_click"] = w.run_state
    wait_until(lambda: w.run_state not in IN_PROGRESS or steps_done(w) >= 1 or bool(w.message_text()), 60)
    out["first_step_s"] = round(time.perf_counter() - t0, 3)
    out["steps"] = steps_done(w)
    out["message"] = w.message_text()
    t1 = time.perf_counter()
    w.stopButton.click()
    out["stop_ms"] = round((time.perf_counter() - t1) * 1000, 1)
    ok = wait_until(lambda: not running_threads(w), 120)
    out["threads_ended_s"] = round(time.perf_counter() - t1, 3) if ok else None
    t2 = time.perf_counter()
    w.close()
    out["close_ms"] = round((time.perf_counter() - t2) * 1000, 1)
    print("CHILD-RESULT " + json.dumps(out), flush=True)
    return 0


def run_child_train(case: str, timeout_s: float = 150) -> dict:
    env = dict(os.environ)
    env["RNN_STUDIO_SETTINGS_DIR"] = tempfile.mkdtemp(prefix="rnn-studio-abuse-child-")
    cmd = [sys.executable, "-X", "faulthandler", str(Path(__file__).resolve()), "--child-train", case]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=env, cwd=str(ROOT))
    except subprocess.TimeoutExpired as exc:
        return {
            "rc": "timeout",
            "wall_s": timeout_s,
            "stderr_tail": (exc.stderr or "")[-1500:] if isinstance(exc.stderr, str) else "",
        }
    result = {"rc": proc.returncode, "wall_s": round(time.perf_counter() - t0, 2)}
    for line in proc.stdout.splitlines():
        if line.startswith("CHILD-RESULT "):
            result.update(json.loads(line[len("CHILD-RESULT ") :]))
    err = "\n".join(line for line in (proc.stderr or "").splitlines() if "propagateSizeHints" not in line)
    fatal = err.find("Fatal Python error")
    result["stderr_tail"] = (err[fatal : fatal + 1500] if fatal >= 0 else err[-800:]) or "(nothing on stderr)"
    return result


def phase_paste(w, probe: Probe, methods, isolate: bool) -> list[dict]:
    REC.phase = "paste"
    print("\n== 1. pastes into sentencesEdit, then Train / Stop ==", flush=True)
    rows = []
    clipboard = QApplication.clipboard()
    header = (
        f"  {'case':<16} {'method':<15} {'offered':>10} {'kept':>8} {'exact':>5} {'paste ms':>8} "
        f"{'max ms':>7} {'p99 ms':>7} {'post ms':>7} | {'train ms':>8} {'max ms':>7} {'stop ms':>7} {'state':<9} message"
    )
    print(header, flush=True)
    for case, text in PASTE_CASES:
        long_line = max((len(line) for line in text.split("\n")), default=0) > ISOLATE_LINE_CHARS
        for m_index, method in enumerate(methods):
            fresh(w, epochs=100)
            w.sentencesEdit.clear()
            w.messageBar.dismiss()
            run_loop(0.35)  # let the reset's and the clear's debounced work pass
            if method == "clipboard":
                clipboard.setText(text)  # another program put it there: not the window's cost
            run_loop(0.05)  # a fresh probe tick just before the paste
            before = REC.counts()
            t_paste = time.perf_counter()
            paste_ms = timed(lambda method=method, text=text: do_paste(w, method, text))
            run_loop(1.0)  # the debounced analysis (300 ms) and autosave (600 ms) come inside this second
            stall = probe.lateness(t_paste, time.perf_counter(), since=t_paste)
            t_call_end = t_paste + paste_ms / 1000.0
            settle = probe.lateness(t_call_end, time.perf_counter(), since=t_call_end)
            kept = w.sentencesEdit.toPlainText()
            exact = kept == expected_kept(text)
            paste_msg = " | ".join(probe.messages_since(t_paste)) or w.message_text()
            row = {
                "case": case,
                "method": method,
                "offered": len(text),
                "kept": len(kept),
                "exact": exact,
                "paste_ms": paste_ms,
                "stall_max_ms": stall["max_ms"],
                "stall_p99_ms": stall["p99_ms"],
                "stall_at_ms": stall["at_ms"],
                "after_call_max_ms": settle["max_ms"],
                "after_call_at_ms": settle["at_ms"],
                "paste_message": paste_msg,
            }
            repro = (
                f"window.sentencesEdit {method} of the '{case}' text ({len(text):,} chars), "
                f"timing the GUI thread with a 5 ms QTimer"
            )
            REC.check(
                f"paste '{case}' via {method}: GUI stall <= {STALL_LIMIT_MS:.0f} ms",
                stall["max_ms"] <= STALL_LIMIT_MS,
                f"max lateness {stall['max_ms']:.0f} ms at +{stall['at_ms']:.0f} ms (paste call {paste_ms:.0f} ms; "
                f"after the call: max {settle['max_ms']:.0f} ms at +{settle['at_ms']:.0f} ms; p99 {stall['p99_ms']:.0f} ms)",
                repro,
            )
            # the box holds what was pasted, or a cut of it with a message that names the limit
            # ("limits with a message are fine; say what the limit is")
            said_limit = (
                bool(paste_msg)
                and any(c.isdigit() for c in paste_msg)
                and any(w_ in paste_msg.lower() for w_ in ("limit", "at most", "maximum", "up to"))
            )
            same = kept == expected_kept(text) or kept == expected_kept(text).replace("\u00a0", " ")
            row["cut_message"] = paste_msg if not same else ""
            if len(text) > MAX_SENTENCES_CHARS:
                REC.check(
                    f"paste '{case}' via {method}: cut to the limit with a message",
                    len(kept) <= MAX_SENTENCES_CHARS and said_limit,
                    f"kept {len(kept):,} chars; message: {short(paste_msg)!r}",
                    repro,
                )
            else:
                # Qt's toPlainText() gives U+00A0 (no-break space) back as a plain space: noted, not failed
                REC.check(
                    f"paste '{case}' via {method}: nothing typed is lost (or cut with a message)",
                    same or said_limit,
                    f"box holds {len(kept):,} chars {kept!r:.60}; message {short(paste_msg)!r}",
                    repro,
                )
                if kept != expected_kept(text) and same and "nbsp" not in REC.figures:
                    REC.figures["nbsp"] = True
                    REC.note(
                        "a no-break space (U+00A0) comes back as a plain space",
                        "QPlainTextEdit.toPlainText() converts U+00A0 to U+0020, so the sentences trained on "
                        "(and autosaved) differ from what was pasted",
                        "paste 'a', U+00A0, 'b' into the sentence box",
                    )
            # -- Train, wait for the end or a message, Stop
            if long_line and isolate:
                if m_index == 0:
                    child = run_child_train(case)
                    row["child"] = child
                    rc = child.get("rc")
                    REC.check(
                        f"Train on '{case}' does not crash the studio",
                        rc == 0,
                        f"child exit status {rc} after {child.get('wall_s')} s; "
                        f"{short(child.get('stderr_tail', ''), 300)!r}",
                        f"python bench/abuse_studio.py --child-train '{case}' (or paste {len(text):,} chars "
                        f"on one line into the sentence box, press Train)",
                    )
                    row.update(
                        train_ms=float("nan"),
                        run_max_ms=float("nan"),
                        stop_ms=child.get("stop_ms"),
                        state=f"child rc={rc}",
                        message=child.get("message", ""),
                    )
                else:
                    row.update(
                        train_ms=float("nan"), run_max_ms=float("nan"), stop_ms=None, state="(in child)", message=""
                    )
            else:
                t_train = time.perf_counter()
                train_ms = timed(w.trainButton.click)
                started = w.run_state
                wait_run_or_message(w, probe, t_train, timeout_s=4.0)
                end_state = w.run_state
                msg_train = " | ".join(probe.messages_since(t_train)) or w.message_text()
                stop_ms = timed(w.stopButton.click) if w.run_state in IN_PROGRESS else 0.0
                run_stall = probe.lateness(t_train, time.perf_counter())
                wait_until(lambda: not running_threads(w), 5.0)
                left = running_threads(w)
                row.update(
                    train_ms=train_ms,
                    run_max_ms=run_stall["max_ms"],
                    run_p99_ms=run_stall["p99_ms"],
                    stop_ms=stop_ms,
                    state=f"{started}->{end_state}",
                    message=msg_train,
                )
                REC.check(
                    f"Train after '{case}' via {method}: trains or explains",
                    started != "idle" or (w.messageBar.kind == "error" and bool(msg_train)),
                    f"state {started}->{end_state}, message {short(msg_train)!r}",
                    f"paste the '{case}' text and press Train",
                )
                REC.check(
                    f"Train after '{case}' via {method}: no thread left after Stop",
                    not left,
                    f"still running: {left}",
                    f"paste '{case}', Train, Stop",
                )
                REC.check(
                    f"Train after '{case}' via {method}: the text is still there",
                    w.sentencesEdit.toPlainText() == kept,
                    "the sentence box changed on Train",
                )
            after = REC.counts()
            row["new_exceptions"] = after[0] - before[0] + after[2] - before[2]
            row["new_qt_messages"] = after[1] - before[1]
            rows.append(row)
            print(
                f"  {case:<16} {method:<15} {len(text):>10,} {len(kept):>8,} {('yes' if exact else 'NO'):>5} "
                f"{fmt(paste_ms):>8} {fmt(stall['max_ms']):>7} {fmt(stall['p99_ms']):>7} "
                f"{fmt(settle['max_ms']):>7} | "
                f"{fmt(row['train_ms']):>8} {fmt(row['run_max_ms']):>7} {fmt(row['stop_ms']):>7} "
                f"{row['state']:<9} {short(row['message'], 90)!r}",
                flush=True,
            )
            if row.get("cut_message"):
                print(f"  {'':<16} cut with: {short(row['cut_message'], 200)!r}", flush=True)
            if "child" in row:
                c = row["child"]
                print(
                    f"  {'':<16} child: rc={c.get('rc')} wall {c.get('wall_s')} s, first step {c.get('first_step_s')} s, "
                    f"stop {c.get('stop_ms')} ms, threads ended {c.get('threads_ended_s')} s; "
                    f"{short(c.get('stderr_tail', ''), 200)!r}",
                    flush=True,
                )
    slow = [r for r in rows if (r.get("stop_ms") or 0) > STALL_LIMIT_MS or (r.get("run_max_ms") or 0) > STALL_LIMIT_MS]
    for r in slow:
        REC.note(
            f"Train/Stop after '{r['case']}' via {r['method']} stalls the GUI thread",
            f"GUI lateness max {fmt(r.get('run_max_ms'), 0)} ms while it trained, Stop call {fmt(r.get('stop_ms'), 0)} ms",
            f"paste the '{r['case']}' text, Train, Stop after ~4 s",
        )
    fresh(w)
    return rows


# ====================================================================== 2. divergence
DIVERGE_CASES = [
    # (label, task, sine mode, optimizer, lr asked, epochs, must diverge)
    ("text SGD lr 100", "text", None, "sgd", 100.0, 3000, False),
    ("text Adam lr 100", "text", None, "adam", 100.0, 3000, False),
    ("sine next-value SGD lr 1e9 (clamped)", "sine", "next-value", "sgd", 1e9, 500, True),
    ("sine next-value Adam lr 100", "sine", "next-value", "adam", 100.0, 500, False),
    ("sine sequence SGD lr 100", "sine", "sequence", "sgd", 100.0, 200, True),
]


def phase_diverge(w, probe: Probe) -> list[dict]:
    REC.phase = "diverge"
    print("\n== 2. divergence: the run pauses with a message, no non-finite point on any plot ==", flush=True)
    rows = []
    paused_reasons: list[str] = []
    w.workerPaused.connect(paused_reasons.append)
    for label, task, mode, opt, lr, epochs, must in DIVERGE_CASES:
        fresh(
            w,
            task=task,
            sine_mode=mode,
            optimizer=opt,
            lr=lr,
            epochs=epochs,
            clip=0.0,
            sine_windows=200 if task == "sine" else None,
        )
        lr_set = w.lrSpin.value()
        paused_reasons.clear()
        before = REC.counts()
        t0 = time.perf_counter()
        w.trainButton.click()
        wait_until(lambda: "diverged" in paused_reasons or w.run_state not in IN_PROGRESS, 20.0)
        t_div = time.perf_counter() - t0
        diverged = "diverged" in paused_reasons
        msg = w.message_text()
        kind = w.messageBar.kind
        seen = probe.messages_since(t0)
        run_loop(0.1)
        linear = plot_audit(w)
        w.logScaleCheck.setChecked(True)
        run_loop(0.1)
        log = plot_audit(w)
        w.logScaleCheck.setChecked(False)
        loss = w.lossView.curve.yData
        loss = np.asarray(loss if loss is not None else [], dtype=np.float64)
        climbed = len(loss) > 1 and np.nanmax(loss) > 3 * loss[0]
        weights_ok = None
        if diverged and w.worker is not None and w.worker.trainer is not None:
            import torch

            with torch.no_grad():  # the worker is paused: it does not touch the model now
                weights_ok = all(bool(torch.isfinite(p).all()) for p in w.worker.trainer.model.parameters())
        row = {
            "case": label,
            "lr": lr_set,
            "diverged": diverged,
            "after_s": t_div,
            "state": w.run_state,
            "message": msg,
            "kind": kind,
            "messages_seen": seen,
            "points_linear": audit_total(linear),
            "points_log": audit_total(log),
            "loss_points": int(len(loss)),
            "climbed_3x": bool(climbed),
            "weights_finite": weights_ok,
        }
        repro = f"task {task}{' ' + mode if mode else ''}, optimizer {opt}, lr {lr:g}, clip off, {epochs} epochs, Train"
        if must or diverged:
            REC.check(
                f"{label}: pauses with a plain message",
                diverged and w.run_state == "paused" and kind == "error" and "learning rate" in msg,
                f"diverged={diverged}, state={w.run_state}, {kind}: {short(msg)!r}",
                repro,
            )
        if diverged:
            REC.check(
                f"{label}: weights stay finite (last good state)",
                weights_ok is True,
                f"weights finite: {weights_ok}",
                repro,
            )
        if climbed and not diverged:
            REC.check(
                f"{label}: loss past 3x its start is warned about",
                any("3x" in m or "climbed" in m for m in seen),
                f"messages seen: {[short(m, 80) for m in seen]}",
                repro,
            )
        for scale, audit in (("linear", linear), ("log", log)):
            bad = {k: v["where"] for k, v in audit.items() if v["nonfinite"]}
            REC.check(
                f"{label}: no non-finite point on any plot ({scale})",
                not bad,
                f"non-finite: {bad}",
                repro + (", Log scale on" if scale == "log" else ""),
            )
        # a way to continue after a change: lower the rate, clip, Resume
        if diverged:
            steps0 = steps_done(w)
            paused_reasons.clear()
            w.lrSpin.setValue(0.001)
            w.clipSpin.setValue(1.0)
            w.pauseButton.click()  # Resume
            wait_until(
                lambda steps0=steps0: paused_reasons or w.run_state not in IN_PROGRESS or steps_done(w) > steps0 + 20,
                5.0,
            )
            row["resume"] = {
                "state": w.run_state,
                "steps_after": steps_done(w) - steps0,
                "paused_again": list(paused_reasons),
                "message": w.message_text(),
            }
            REC.check(
                f"{label}: Resume after lowering the rate goes on or explains",
                steps_done(w) > steps0 or (w.run_state == "paused" and bool(w.message_text())),
                f"{row['resume']}",
                repro + ", then lr 0.001, clip 1, Resume",
            )
            after_audit = plot_audit(w)
            bad = {k: v["where"] for k, v in after_audit.items() if v["nonfinite"]}
            REC.check(f"{label}: no non-finite point after Resume", not bad, f"non-finite: {bad}", repro)
        if w.run_state in IN_PROGRESS:
            w.stopButton.click()
        wait_until(lambda: not running_threads(w), 5.0)
        after = REC.counts()
        row["new_exceptions"] = after[0] - before[0] + after[2] - before[2]
        rows.append(row)
        res = row.get("resume", {})
        print(
            f"  {label:<38} lr={lr_set:g} diverged={diverged} after {t_div:.2f}s, {row['loss_points']} loss pts, "
            f"points lin {row['points_linear'][0]:,} (non-finite {row['points_linear'][1]}), "
            f"log {row['points_log'][0]:,} (non-finite {row['points_log'][1]}), weights finite={weights_ok}"
            + (
                f"; resume: {res.get('state')} +{res.get('steps_after')} steps {res.get('paused_again')}" if res else ""
            ),
            flush=True,
        )
        print(f"  {'':<38} message: {short(msg, 220)!r}", flush=True)
        for m in seen:
            if m != msg:
                print(f"  {'':<38} also seen: {short(m, 200)!r}", flush=True)
    w.workerPaused.disconnect(paused_reasons.append)
    fresh(w)
    return rows


# ====================================================================== 3. prompts
PROMPTS = [
    ("empty", ""),
    ("space", " "),
    ("plain", "good"),
    ("upper", "GOOD"),
    ("emoji", "🐍🤖"),
    ("ZWJ family", "👨\u200d👩\u200d👧\u200d👦"),
    ("RTL", "שלום"),
    ("Arabic", "مرحبا"),
    ("NUL", "go\x00od"),
    ("combining", "e\u0301"),
    ("zero-width", "g\u200bood"),
    ("RLO", "\u202egood"),
    ("CR LF tab", "\r\n\t"),
    ("lone surrogate", "go\ud800od"),
    ("10k chars", "good " * 2000),
    ("100k chars", "good " * 20000),
]


def expected_unseen(w, prompt: str) -> list[str] | None:
    worker = w.worker
    trainer = worker.trainer if worker is not None else None
    vocab = getattr(trainer, "vocab", None)
    if vocab is None:
        return None
    return vocab.unknown_chars(vocab.prepare_prompt(prompt))


def ask(w, probe: Probe, label: str, prompt: str, where: str) -> dict:
    if not w.completeButton.isEnabled():  # the sine task: the prompt box is greyed out
        w.promptEdit.setText(prompt)
        w.completeButton.click()
        return {
            "state": where,
            "prompt": label,
            "typed_len": len(w.promptEdit.text()),
            "answered": None,
            "answer_ms": 0.0,
            "click_ms": 0.0,
            "stall_max_ms": 0.0,
            "view": "",
            "warning": "(controls disabled)",
            "unseen": None,
            "new_exceptions": 0,
        }
    w.promptEdit.setText(prompt)
    typed = w.promptEdit.text()
    w.completionView.clear()
    w.completionWarning.setText("")  # a fresh slate to see this answer arrive
    before = REC.counts()
    t0 = time.perf_counter()
    click_ms = timed(w.completeButton.click)
    got = wait_until(lambda: w.completionView.text() != "" or w.completionWarning.text() != "", 10.0)
    answer_ms = (time.perf_counter() - t0) * 1000
    run_loop(0.03)  # a few probe ticks after the answer
    stall = probe.lateness(t0, time.perf_counter())
    warn_visible = w.completionWarning.isVisible() and bool(w.completionWarning.text())
    unseen = expected_unseen(w, typed) if w.completionView.text() else None
    after = REC.counts()
    row = {
        "state": where,
        "prompt": label,
        "typed_len": len(typed),
        "answered": got,
        "answer_ms": answer_ms,
        "click_ms": click_ms,
        "stall_max_ms": stall["max_ms"],
        "view": w.completionView.text(),
        "warning": w.completionWarning.text() if warn_visible else "",
        "unseen": unseen,
        "new_exceptions": after[0] - before[0] + after[2] - before[2],
    }
    repro = f"{where}: prompt {label} ({prompt[:20]!r}{'…' if len(prompt) > 20 else ''}) + Complete"
    REC.check(
        f"prompt {label} when {where}: answered or explained", got, "no completion and no warning within 10 s", repro
    )
    REC.check(
        f"prompt {label} when {where}: no exception",
        row["new_exceptions"] == 0,
        f"{row['new_exceptions']} new exception(s)",
        repro,
    )
    if unseen:
        REC.check(
            f"prompt {label} when {where}: visible warning for unseen characters",
            warn_visible and "never saw" in w.completionWarning.text(),
            f"unseen {unseen!r:.60}, warning visible={warn_visible}: {short(w.completionWarning.text())!r}",
            repro,
        )
    if typed.strip("\x00") == "" and w.completionView.text() == "" and got:
        REC.check(f"prompt {label} when {where}: explained", warn_visible, "no visible warning", repro)
    REC.check(
        f"prompt {label} when {where}: GUI stall <= {STALL_LIMIT_MS:.0f} ms",
        stall["max_ms"] <= STALL_LIMIT_MS,
        f"max lateness {stall['max_ms']:.0f} ms",
        repro,
    )
    return row


def phase_prompt(w, probe: Probe) -> list[dict]:
    REC.phase = "prompt"
    print("\n== 3. prompts: idle, running, paused, stopped, finished, sine ==", flush=True)
    rows = []
    paused = []
    w.workerPaused.connect(paused.append)

    def run_all(where):
        for label, prompt in PROMPTS:
            rows.append(ask(w, probe, label, prompt, where))

    fresh(w)
    run_all("idle")
    fresh(w, until_paused=True)
    w.trainButton.click()
    wait_until(lambda: steps_done(w) >= 5, 10.0)
    run_all("running")
    paused.clear()
    w.pauseButton.click()
    wait_until(lambda: "request" in paused, 5.0)
    run_all("paused")
    w.stopButton.click()
    run_all("stopped")
    fresh(w, epochs=60)
    w.trainButton.click()
    wait_until(lambda: w.run_state == "finished", 20.0)
    run_all(w.run_state)
    fresh(w, task="sine", sine_windows=100, epochs=20)
    w.trainButton.click()
    wait_until(lambda: w.run_state not in IN_PROGRESS, 20.0)
    for label, prompt in PROMPTS[:6]:
        rows.append(ask(w, probe, label, prompt, "sine " + w.run_state))
    REC.check(
        "sine task: the prompt box is greyed out or explains",
        all(r["answered"] is None or r["warning"] for r in rows if r["state"].startswith("sine")),
        f"{[(r['prompt'], r['warning']) for r in rows if r['state'].startswith('sine')]}",
    )
    long_rows = [r for r in rows if r["prompt"] == "100k chars" and r["typed_len"] < 100_000]
    if long_rows:
        REC.note(
            "a 100,000-character prompt is cut to the prompt box's limit without a word",
            f"promptEdit holds {long_rows[0]['typed_len']:,} characters (QLineEdit.setMaxLength); the box's tooltip "
            "does not say so and no message appears",
            "paste 100,000 characters into the prompt box",
        )
    w.workerPaused.disconnect(paused.append)
    fresh(w)
    for where in dict.fromkeys(r["state"] for r in rows):
        sub = [r for r in rows if r["state"] == where]
        print(
            f"  {where:<14} {len(sub)} prompts, answered {sum(bool(r['answered']) for r in sub)}, "
            f"answer max {max(r['answer_ms'] for r in sub):.0f} ms, stall max {max(r['stall_max_ms'] for r in sub):.0f} ms, "
            f"warnings {sum(1 for r in sub if r['warning'])}, exceptions {sum(r['new_exceptions'] for r in sub)}",
            flush=True,
        )
    for r in rows:
        if r["state"] in ("finished", "idle", "sine finished"):
            print(
                f"    {r['state']:<13} {r['prompt']:<14} len {r['typed_len']:>6} -> "
                f"{short(r['view'], 40)!r} warn: {short(r['warning'], 110)!r}",
                flush=True,
            )
    return rows


# ====================================================================== 4. lifecycle
def proc_thread_cpu() -> dict:
    """CPU ticks (utime+stime) per thread of this process, with thread names."""
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as fh:
                stat = fh.read()
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2 :].split()
            out[tid] = (name, int(fields[11]) + int(fields[12]))
        except (OSError, ValueError, IndexError):
            pass
    return out


def rss_mb() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return float("nan")


def cpu_over(seconds: float) -> tuple[float, list]:
    t_cpu = time.process_time()
    before = proc_thread_cpu()
    run_loop(seconds)
    used = time.process_time() - t_cpu
    after = proc_thread_cpu()
    hz = os.sysconf("SC_CLK_TCK")
    busy = []
    for tid, (name, ticks) in after.items():
        d = ticks - before.get(tid, (name, 0))[1]
        if d > 0:
            busy.append((name, tid, d / hz))
    busy.sort(key=lambda x: -x[2])
    return used, busy


def phase_lifecycle(w, probe: Probe, cycles: int, seed: int) -> dict:
    REC.phase = "lifecycle"
    print("\n== 4. thread lifecycle ==", flush=True)
    rng = random.Random(seed)
    out: dict = {}
    paused = []
    w.workerPaused.connect(paused.append)

    # -- a) Train/Stop cycles at random moments
    fresh(w, epochs=100)
    w.activateWindow()
    stop_ms, lingering, esc_failed, finished_first, not_started = [], [], 0, 0, []
    rss0 = rss_mb()
    t_start = time.perf_counter()
    for i in range(cycles):
        if not w.trainButton.isEnabled():
            not_started.append((i, w.run_state))
            w.stopButton.click()
        w.trainButton.click()
        if w.run_state not in IN_PROGRESS:
            not_started.append((i, w.run_state, short(w.message_text(), 80)))
        delay = rng.uniform(0.0, 0.05)
        if delay > 0.0005:
            run_loop(delay)
        if w.run_state not in IN_PROGRESS:
            finished_first += 1
        by_key = rng.random() < 0.15
        t0 = time.perf_counter()
        if by_key:
            QTest.keyClick(w, Qt.Key.Key_Escape)
            if w.run_state in IN_PROGRESS:
                esc_failed += 1
                w.stopButton.click()
        else:
            w.stopButton.click()
        stop_ms.append((time.perf_counter() - t0) * 1000)
        wait_until(lambda: w.run_state in ("idle", "stopped", "finished", "failed"), 2.0)
        left = running_threads(w)
        if left:
            ok = wait_until(lambda: not running_threads(w), 2.0)
            lingering.append((i, left, ok))
    wall = time.perf_counter() - t_start
    run_loop(0.2)  # deleteLater() of the finished threads
    qthreads_left = len(w.findChildren(QThread))
    rss1 = rss_mb()
    stop = np.asarray(stop_ms)
    out["cycles"] = {
        "n": cycles,
        "wall_s": wall,
        "stop_ms_median": float(np.median(stop)),
        "stop_ms_p99": float(np.percentile(stop, 99)),
        "stop_ms_max": float(stop.max()),
        "finished_before_stop": finished_first,
        "esc_did_not_stop": esc_failed,
        "not_started": not_started,
        "threads_running_right_after_stop": lingering,
        "stall": probe.lateness(t_start, time.perf_counter()),
        "qthread_objects_after": qthreads_left,
        "rss_mb_before": rss0,
        "rss_mb_after": rss1,
    }
    c = out["cycles"]
    print(
        f"  a) {cycles} Train/Stop cycles (seed {seed}) in {wall:.1f} s: Stop call median {c['stop_ms_median']:.1f} ms, "
        f"p99 {c['stop_ms_p99']:.1f}, max {c['stop_ms_max']:.1f}; finished before Stop {finished_first}; "
        f"Esc did not stop {esc_failed}; Train did not start {len(not_started)}; thread still running right after "
        f"Stop {len(lingering)}; GUI lateness max {c['stall']['max_ms']:.0f} ms; QThread objects left {qthreads_left}; "
        f"RSS {rss0:.0f} -> {rss1:.0f} MB",
        flush=True,
    )
    REC.check(
        "Train/Stop cycles: no thread running after Stop",
        not lingering,
        f"{lingering[:5]}",
        f"--only lifecycle --seed {seed}",
    )
    REC.check("Train/Stop cycles: every Train started a run", not not_started, f"{not_started[:5]}")
    REC.check("Train/Stop cycles: Esc stops the run", esc_failed == 0, f"{esc_failed} Esc presses did not stop")

    # -- b) Stop during a long first step
    fresh(w, task="sine", sine_mode="next-value", arch="lstm", hidden=256, layers=2, sine_windows=2000, epochs=100)
    w.trainButton.click()
    wait_until(in_training_step, 30.0)
    run_loop(0.05)  # well inside the first step now
    in_first = steps_done(w) == 0 and w.run_state == "running" and in_training_step()
    t1 = time.perf_counter()
    stop_call = timed(w.stopButton.click)
    state_after = w.run_state
    ok = wait_until(lambda: not running_threads(w), 60.0)
    ended = time.perf_counter() - t1
    stall = probe.lateness(t1, time.perf_counter())
    out["stop_first_step"] = {
        "in_first_step": in_first,
        "stop_call_ms": stop_call,
        "state": state_after,
        "threads_ended_s": ended if ok else None,
        "steps": steps_done(w),
        "gui_max_ms": stall["max_ms"],
        "message": w.message_text(),
    }
    print(
        f"  b) Stop during the first step (LSTM 256x2, 2000 sine windows; in first step: {in_first}): Stop call "
        f"{stop_call:.0f} ms (GUI blocked), state {state_after}, thread ended after {ended:.2f} s, "
        f"steps done {steps_done(w)}, GUI lateness max {stall['max_ms']:.0f} ms",
        flush=True,
    )
    REC.check("Stop during the first step: the thread ends", ok, f"after {ended:.1f} s")
    if stop_call > STALL_LIMIT_MS:
        REC.note(
            "Stop during a long step freezes the window",
            f"Stop blocked the GUI thread {stop_call:.0f} ms (the thread itself ended {ended:.1f} s after Stop)",
            "sine, LSTM hidden 256, 2 layers, 2000 windows: Train, Stop while the first step runs",
        )

    # -- c) Reset during a run
    fresh(w, until_paused=True)
    w.trainButton.click()
    wait_until(lambda: steps_done(w) >= 20, 10.0)
    reset_ms = timed(w.resetButton.click)
    ok = wait_until(lambda: not running_threads(w), 2.0)
    pts = len(w.lossView.curve.yData) if w.lossView.curve.yData is not None else 0
    out["reset_during_run"] = {"reset_ms": reset_ms, "state": w.run_state, "threads_ended": ok, "loss_points": pts}
    print(
        f"  c) Reset during a run: {reset_ms:.0f} ms, state {w.run_state}, threads ended {ok}, loss points left {pts}",
        flush=True,
    )
    REC.check(
        "Reset during a run: idle, cleared, no thread",
        w.run_state == "idle" and ok and pts == 0,
        f"{out['reset_during_run']}",
    )

    # -- d) Step while stopped (and while idle)
    fresh(w, epochs=100)
    w.trainButton.click()
    run_loop(0.02)
    w.stopButton.click()
    e0 = w.worker.trainer.epoch if w.worker is not None and w.worker.trainer is not None else 0
    steps_seen = []
    for _ in range(3):
        paused.clear()
        w.stepButton.click()
        got = wait_until(lambda: "step" in paused or w.run_state not in IN_PROGRESS, 10.0)
        steps_seen.append((got, w.run_state, w.worker.trainer.epoch if w.worker and w.worker.trainer else None))
    w.stopButton.click()
    w.resetButton.click()
    paused.clear()
    w.stepButton.click()
    idle_step = wait_until(lambda: "step" in paused, 10.0)
    idle_state = w.run_state
    w.stopButton.click()
    out["step_while_stopped"] = {"steps": steps_seen, "from_idle": (idle_step, idle_state)}
    print(
        f"  d) Step while stopped (at epoch {e0}) x3: {steps_seen}; Step while idle: paused after one epoch={idle_step} ({idle_state})",
        flush=True,
    )
    epochs_seen = [e for _, _, e in steps_seen]
    # a Step after Stop may start a new network (epoch 1) or go on with the stopped one (its epoch + 1)
    REC.check(
        "Step while stopped: one epoch per Step, then paused",
        all(g and s == "paused" for g, s, _ in steps_seen)
        and epochs_seen[0] in (1, e0 + 1)
        and epochs_seen == list(range(epochs_seen[0], epochs_seen[0] + 3)),
        f"stopped at epoch {e0}; after each Step: {steps_seen}",
        "Train, Stop, Step, Step, Step",
    )

    # -- e) device change while paused
    fresh(w, until_paused=True)
    w.trainButton.click()
    wait_until(lambda: steps_done(w) >= 5, 10.0)
    paused.clear()
    w.pauseButton.click()
    wait_until(lambda: "request" in paused, 5.0)
    combo = w.deviceCombo
    items = [(combo.itemData(i), combo.model().item(i).isEnabled()) for i in range(combo.count())]
    enabled_while_paused = combo.isEnabled()
    changed = []
    for i in range(combo.count()):
        if i != combo.currentIndex():
            combo.setCurrentIndex(i)  # what a script (or a restored setting) could still do
            changed.append((combo.itemData(i), w.run_state, short(w.message_text(), 100)))
    combo.setCurrentIndex(max(0, combo.findData("cpu")))
    steps0 = steps_done(w)
    w.pauseButton.click()  # Resume
    wait_until(lambda: steps_done(w) > steps0 + 5 or w.run_state not in IN_PROGRESS, 5.0)
    resumed = steps_done(w) > steps0
    w.stopButton.click()
    # a device that is not there, chosen after the run: Train explains
    msg_unavailable = ""
    for i, (name, enabled) in enumerate(items):
        if name and name != "cpu":
            combo.setCurrentIndex(i)
            w.trainButton.click()
            msg_unavailable = f"{name} (enabled={enabled}): state {w.run_state}, {short(w.message_text(), 120)!r}"
            if w.run_state in IN_PROGRESS:
                w.stopButton.click()
            break
    combo.setCurrentIndex(max(0, combo.findData("cpu")))
    out["device_while_paused"] = {
        "items": items,
        "combo_enabled_while_paused": enabled_while_paused,
        "changed": changed,
        "resumed": resumed,
        "unavailable_train": msg_unavailable,
    }
    print(
        f"  e) device change while paused: devices {items}; combo enabled while paused {enabled_while_paused}; "
        f"changes {changed}; resumed after {resumed}; Train on an unavailable device: {msg_unavailable or '-'}",
        flush=True,
    )
    REC.check(
        "device change while paused: locked, run goes on",
        not enabled_while_paused and resumed,
        f"{out['device_while_paused']}",
    )

    # -- f) Pause / Space toggling
    fresh(w, until_paused=True)
    w.trainButton.click()
    wait_until(lambda: steps_done(w) >= 3, 10.0)
    w.activateWindow()
    w.pauseButton.setFocus()
    toggles, wrong = 0, []
    for i in range(30):
        before_state = w.run_state
        if i % 2:
            QTest.keyClick(w.pauseButton if w.pauseButton.hasFocus() else w, Qt.Key.Key_Space)
        else:
            w.pauseButton.click()
        after_state = w.run_state
        expect = {"running": "paused", "paused": "running"}.get(before_state)
        if after_state != expect:
            wrong.append((i, "space" if i % 2 else "click", before_state, after_state))
        toggles += 1
        run_loop(rng.uniform(0.0, 0.05))
    # leave it paused and check it rests
    if w.run_state == "running":
        paused.clear()
        w.pauseButton.click()
        wait_until(lambda: "request" in paused, 5.0)
    run_loop(0.1)
    s0 = steps_done(w)
    probe.stop()
    paused_cpu, paused_busy = cpu_over(0.5)
    probe.start()
    s1 = steps_done(w)
    out["pause_space"] = {
        "toggles": toggles,
        "wrong": wrong,
        "paused_cpu_s_per_0.5s": paused_cpu,
        "steps_while_paused": s1 - s0,
        "busy_threads": paused_busy[:4],
    }
    print(
        f"  f) Pause/Space x{toggles}: unexpected states {len(wrong)} {wrong[:4]}; paused run: {paused_cpu:.3f} s CPU "
        f"over 0.5 s, steps while paused {s1 - s0}; busiest threads {paused_busy[:3]}",
        flush=True,
    )
    REC.check(
        "Pause/Space toggling: each press toggles",
        not wrong,
        f"{wrong[:6]}",
        "Train (until paused), focus Pause, alternate click and Space",
    )
    REC.check("a paused run takes no steps", s1 == s0, f"{s1 - s0} steps while paused")

    # -- g) final Stop: CPU over 1 s, no thread left
    w.stopButton.click()
    ok = wait_until(lambda: not running_threads(w), 2.0)
    run_loop(0.1)
    probe.stop()
    used, busy = cpu_over(1.0)
    ru = resource.getrusage(resource.RUSAGE_SELF)
    probe.start()
    py_threads = [t.name for t in threading.enumerate() if t.is_alive() and t is not threading.main_thread()]
    out["after_final_stop"] = {
        "threads_ended": ok,
        "cpu_s_over_1s": used,
        "busy_threads": busy[:5],
        "python_threads_alive": py_threads,
        "maxrss_mb": ru.ru_maxrss / 1024,
    }
    print(
        f"  g) after the final Stop: threads left {running_threads(w)}, CPU {used:.3f} s over 1 s (probe off); "
        f"busiest threads {busy[:4]}; Python threads alive {py_threads}; max RSS {ru.ru_maxrss / 1024:.0f} MB",
        flush=True,
    )
    REC.check("after the final Stop: no thread running", ok and not running_threads(w), f"{running_threads(w)}")
    REC.check(
        f"after the final Stop: CPU over 1 s <= {IDLE_CPU_LIMIT_S} s",
        used <= IDLE_CPU_LIMIT_S,
        f"{used:.3f} s; busiest threads {busy[:4]}",
    )
    w.workerPaused.disconnect(paused.append)
    return out


def close_during_run(w, probe: Probe, label: str, heavy: bool) -> dict:
    """Close ``w`` during a run; time close() and until every QThread has ended."""
    if heavy:
        fresh(w, task="sine", sine_mode="next-value", arch="lstm", hidden=256, layers=2, sine_windows=2000, epochs=100)
        w.trainButton.click()
        wait_until(in_training_step, 30.0)
        run_loop(0.05)  # well inside the first step now
        label += f", in the first step: {steps_done(w) == 0 and in_training_step()}"
    else:
        fresh(w, until_paused=True)
        w.trainButton.click()
        wait_until(lambda: steps_done(w) >= 20, 10.0)
    threads = list(w.findChildren(QThread))
    was = w.run_state
    t0 = time.perf_counter()
    w.close()
    close_ms = (time.perf_counter() - t0) * 1000
    ok = wait_until(lambda: not any(thread_running(t) for t in threads), 60.0)
    all_s = time.perf_counter() - t0
    stall = probe.lateness(t0, time.perf_counter())
    res = {
        "state_before": was,
        "close_ms": close_ms,
        "all_threads_ended_s": all_s if ok else None,
        "closed_cleanly": w.closed_cleanly,
        "threads": len(threads),
        "gui_max_ms": stall["max_ms"],
    }
    print(
        f"  h) close during a run ({label}): close() {close_ms:.0f} ms, every QThread ended after {all_s:.2f} s, "
        f"closed_cleanly={w.closed_cleanly}, {len(threads)} QThread(s)",
        flush=True,
    )
    REC.check(
        f"close during a run ({label}): every thread ended within {CLOSE_LIMIT_S:.0f} s",
        ok and all_s <= CLOSE_LIMIT_S,
        f"{all_s:.2f} s, closed_cleanly={w.closed_cleanly}",
        (
            "sine, LSTM hidden 256, 2 layers, 2000 windows: Train, close the window during the first step"
            if heavy
            else "Train (until paused), close the window"
        ),
    )
    return res


# ====================================================================== main
def summary(tee: StderrTee, started: float) -> int:
    tee.flush_pending()
    failed = [i for i in REC.invariants if not i["ok"]]
    print("\n== summary ==", flush=True)
    print(
        f"  {len(REC.invariants)} invariants checked, {len(failed)} failed; session {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    for f in failed:
        print(
            f"  FAIL [{f['phase']}] {f['name']}: {short(f['detail'], 300)}"
            + (f"\n       repro: {f['repro']}" if f["repro"] else "")
        )
    print(f"  notes (not invariants of the issue, worth fixing): {len(REC.notes)}")
    for n in REC.notes:
        print(
            f"  NOTE [{n['phase']}] {n['name']}: {short(n['detail'], 300)}"
            + (f"\n       repro: {n['repro']}" if n["repro"] else "")
        )
    print(f"  Python exceptions (excepthook/thread/unraisable): {len(REC.exceptions)}")
    for e in REC.exceptions[:20]:
        last = [line for line in e["traceback"].strip().splitlines() if line.strip()][-3:]
        print(
            f"    [{e['phase']}] {e['where']}: {e['type']}: {short(e['message'], 200)}  <- {' / '.join(x.strip() for x in last[:-1])}"
        )
    print(f"  tracebacks printed to stderr (caught by the worker): {len(REC.stderr_tracebacks)}")
    for t in REC.stderr_tracebacks[:20]:
        lines = [line for line in t["text"].splitlines() if line.strip()]
        print(
            f"    [{t['phase']}] {short(lines[-1] if lines else '', 200)}  ({short(' / '.join(x.strip() for x in lines[-3:-1]), 200)})"
        )
    print(f"  Qt warnings/criticals: {len(REC.qt_messages)}")
    grouped: dict = {}
    for q in REC.qt_messages:
        key = (q["level"], q["message"][:200])
        grouped.setdefault(key, []).append(q["phase"])
    for (level, message), phases in grouped.items():
        print(f"    {level} x{len(phases)} ({', '.join(sorted(set(phases)))}): {message}")
    print(f"  logging records at WARNING or above: {len(REC.log_records)}")
    for r in REC.log_records[:20]:
        print(f"    [{r['phase']}] {r['level']} {r['logger']}: {short(r['message'], 200)}")
    print(f"  Python warnings: {len(REC.py_warnings)}")
    pgrouped: dict = {}
    for p in REC.py_warnings:
        pgrouped.setdefault((p["category"], p["message"][:160], p["where"]), []).append(p["phase"])
    for (cat, message, where), phases in pgrouped.items():
        print(f"    {cat} x{len(phases)} ({', '.join(sorted(set(phases)))}) at {where}: {message}")
    problems = (
        failed
        or REC.exceptions
        or REC.stderr_tracebacks
        or [q for q in REC.qt_messages if q["level"] in ("critical", "fatal")]
    )
    return 1 if problems else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="clipboard pastes only, 50 Train/Stop cycles")
    parser.add_argument("--only", default="paste,diverge,prompt,lifecycle,close")
    parser.add_argument("--cycles", type=int, default=None, help="Train/Stop cycles (default 200, --quick 50)")
    parser.add_argument("--seed", type=int, default=4, help="seed of the random delays")
    parser.add_argument(
        "--no-isolate",
        action="store_true",
        help="press Train on the very long lines in this process (a crash ends the session)",
    )
    parser.add_argument("--json", default=None, help="also write every figure to this JSON file")
    parser.add_argument("--child-train", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_train:
        return child_train(args.child_train)

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError):
            pass
    tee = install_hooks()
    started = time.perf_counter()
    only = set(args.only.split(","))
    cycles = args.cycles if args.cycles is not None else (50 if args.quick else 200)
    methods = ("clipboard",) if args.quick else METHODS
    qapp = app()
    import torch

    from rnn_studio.gui import MainWindow

    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--short", "rnn_studio"], cwd=ROOT, capture_output=True, text=True
        ).stdout.split("\n")
        dirty = [line.split()[-1] for line in dirty if line.strip()]
    except OSError:
        head, dirty = "?", []
    results_git = {"head": head, "rnn_studio_changed": dirty}
    print(
        f"code: git {head}" + (f" + uncommitted changes in {', '.join(dirty)}" if dirty else " (rnn_studio clean)"),
        flush=True,
    )
    print(
        f"RNN Studio abuse session: platform {qapp.platformName()}, Python {sys.version.split()[0]}, "
        f"torch {torch.__version__}, {os.cpu_count()} CPUs, settings in {SETTINGS_DIR}",
        flush=True,
    )
    w = MainWindow()
    w.confirm_discard = lambda question: True  # no modal question on a task switch
    w.show()
    probe = Probe(w)
    probe.start()
    t_show = time.perf_counter()
    run_loop(0.1)  # the window starts its warm-up thread from a zero-delay timer
    # the window warms torch up on a background thread: wait for it, and note what it costs the GUI thread
    wait_until(lambda: not any(t.name == "rnn-studio-warm-up" and t.is_alive() for t in threading.enumerate()), 60.0)
    run_loop(0.2)
    startup = probe.lateness(t_show, time.perf_counter())
    t0 = time.perf_counter()
    run_loop(1.0)
    idle = probe.lateness(t0, time.perf_counter())
    REC.figures["startup_lateness"] = startup
    REC.figures["idle_lateness"] = idle
    print(
        f"  after show(), while torch warms up ({(t0 - t_show):.1f} s): GUI lateness max {fmt(startup['max_ms'])} ms "
        f"at +{fmt(startup['at_ms'], 0)} ms, p99 {fmt(startup['p99_ms'])} ms",
        flush=True,
    )
    if startup["max_ms"] > STALL_LIMIT_MS:
        REC.note(
            "the window stalls in its first seconds",
            f"GUI lateness max {startup['max_ms']:.0f} ms at +{startup['at_ms']:.0f} ms after show() (the first paint, "
            "and the warm-up thread that imports torch._dynamo holding the GIL for long stretches)",
            "MainWindow(); show(); time a 5 ms QTimer",
        )
    print(f"  idle window, 1 s: lateness max {fmt(idle['max_ms'])} ms, p99 {fmt(idle['p99_ms'])} ms", flush=True)
    states: list[str] = []
    w.runStateChanged.connect(states.append)
    results: dict = {"platform": qapp.platformName(), "git": results_git}
    try:
        if "paste" in only:
            results["paste"] = phase_paste(w, probe, methods, isolate=not args.no_isolate)
        if "diverge" in only:
            results["diverge"] = phase_diverge(w, probe)
        if "prompt" in only:
            results["prompt"] = phase_prompt(w, probe)
        if "lifecycle" in only:
            results["lifecycle"] = phase_lifecycle(w, probe, cycles, args.seed)
        if "close" in only:
            REC.phase = "close"
            second = MainWindow()
            second.confirm_discard = lambda question: True  # no modal question on a task switch
            second.show()
            run_loop(0.3)
            results["close_long_step"] = close_during_run(
                second, probe, "second window, LSTM 256x2 first step (~2.5 s)", heavy=True
            )
            results["close_run"] = close_during_run(w, probe, "main window, seed text until paused", heavy=False)
    except Exception:  # noqa: BLE001 - a harness failure is reported like any other
        REC.exception("abuse script", *sys.exc_info())
        traceback.print_exc()
    probe.stop()
    results["run_states"] = len(states)
    results["figures"] = REC.figures
    rc = summary(tee, started)
    if args.json:
        payload = {
            "results": results,
            "invariants": REC.invariants,
            "notes": REC.notes,
            "exceptions": REC.exceptions,
            "stderr_tracebacks": REC.stderr_tracebacks,
            "qt_messages": REC.qt_messages,
            "log_records": REC.log_records,
            "py_warnings": REC.py_warnings,
        }
        Path(args.json).write_text(json.dumps(payload, indent=1, default=str, ensure_ascii=True))
        print(f"  figures written to {args.json}")
    print(f"exit {rc}", flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
