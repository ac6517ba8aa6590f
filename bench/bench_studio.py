"""What the studio window costs while it trains, and how fast it answers.

Prints figures for issue 3's targets, each with a reference measured in the
same run:

1. ``lateness``: a 10 ms precise timer on the GUI thread records how late each
   tick fires while a long run goes on in the window (seed text flat out and at
   a watchable pace; LSTM hidden 128 on sine next-value; a run whose loss curve
   already holds 1,000,000 points). Reference: the idle window. Targets: p99 <=
   16 ms, max <= 100 ms.
2. ``throughput``: steps per second of a run in the window (worker thread,
   flat out, plots live) against a headless ``Trainer.step()`` loop on the
   same config in the same process, alternately. Target: ratio >= 0.85.
3. ``redraw``: ``setData`` of 1,000,000 points on lossPlot's first data item,
   then a synchronous repaint of the plot, linear and log scale. Target <= 20 ms.
4. ``startup``: process launch to the window's first paint, through the real
   entry point (``rnn_studio.cli.main([])``) in a fresh subprocess; whether
   torch is loaded before the window shows; Train pressed at once -> first
   loss point. Aim <= 1 s.
5. ``train``: trainButton.click() -> the first loss point painted in lossPlot,
   in a warm process. Aim <= 200 ms.
6. ``everyview`` (issues 10, 12): lateness as in 1 with each tab of "Inside
   the network" on screen in turn (seed RNN 12; LSTM 256 on sentences up to
   97 characters), and throughput with the Hidden state / Gates / Reading tab
   on screen against the headless loop. Targets: p99 <= 16 ms, max <= 100 ms,
   ratio >= 0.85 (issue 10) and >= 0.9 (issue 12).
7. ``memory`` (issue 12): process memory over a real run, then a night of
   steps (32 million) handed to the views and the export record as the runner
   hands them: memory must level off under the stated bound.

The window is driven the way a user would: through its object names (buttons,
spin boxes, the pace slider, the log-scale box), its public accessors
(``worker``, ``build_config``) and its views' own methods (``lossView.append``
/ ``redraw``, what the window calls). Only timing hooks are added: event
filters that see paint events, a wrapper on ``lossView.append`` of the one
window in section 5 (removed after), and in section 4's child process a
``MainWindow.show`` that installs the paint filter first. The event loop runs
in nested ``QEventLoop``s; nothing calls ``processEvents()`` in a loop.
Nothing here asserts a time.

    python bench/bench_studio.py            # about 4 minutes on 2 CPU cores
    python bench/bench_studio.py --quick    # about 1.5 minutes, noisier
    python bench/bench_studio.py --only lateness,redraw --threads 1

QT_QPA_PLATFORM defaults to offscreen here (set it to xcb to watch).
"""

from __future__ import annotations

import argparse
import atexit
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# the window reads and writes its settings here, never the user's own
SETTINGS_DIR = tempfile.mkdtemp(prefix="rnn-studio-bench-settings-")
os.environ["RNN_STUDIO_SETTINGS_DIR"] = SETTINGS_DIR
atexit.register(shutil.rmtree, SETTINGS_DIR, True)

import numpy as np  # noqa: E402
import pyqtgraph as pg  # noqa: E402
import PySide6  # noqa: E402
import torch  # noqa: E402
from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from rnn_studio.core.config import SEED_SENTENCES, defaults_for  # noqa: E402
from rnn_studio.core.resources import apply_thread_policy  # noqa: E402
from rnn_studio.core.training import Trainer  # noqa: E402

TICK_MS = 10
DEFAULT_THREADS = torch.get_num_threads()  # torch's own choice, before any run lowers it


# -- small helpers --------------------------------------------------------------------
def median(values):
    return statistics.median(values) if values else float("nan")


def percentile(values, q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if len(values) else float("nan")


def quartiles(values) -> tuple[float, float]:
    if len(values) < 2:
        return (values[0], values[0]) if values else (float("nan"),) * 2
    q1, _, q3 = statistics.quantiles(values, n=4)
    return q1, q3


_APP: list = []


def app() -> QApplication:
    if QApplication.instance() is None:
        _APP.append(QApplication([sys.argv[0]]))
    return QApplication.instance()


def run_loop(seconds: float) -> None:
    """Let the GUI thread run its event loop for ``seconds``."""
    loop = QEventLoop()
    QTimer.singleShot(max(0, int(seconds * 1000)), loop.quit)
    loop.exec()


def wait_until(condition, timeout_s: float, poll_ms: int = 2) -> bool:
    """Run the event loop until ``condition()`` is true (checked every poll_ms)."""
    if condition():
        return True
    loop = QEventLoop()
    deadline = time.perf_counter() + timeout_s
    result = {"ok": False}

    def check():
        if condition():
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


def first_curve(plot):
    return plot.getPlotItem().listDataItems()[0]


def point_count(plot) -> int:
    y = first_curve(plot).yData
    return 0 if y is None else len(y)


class PaintCounter(QObject):
    """Counts paint events of one widget (a plot's viewport); optionally calls
    ``on_paint(now)`` at each, before the widget paints."""

    def __init__(self, widget, on_paint=None):
        super().__init__()
        self.count = 0
        self.on_paint = on_paint
        self.widget = widget
        widget.installEventFilter(self)

    def eventFilter(self, obj, event):  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.Paint:
            self.count += 1
            if self.on_paint is not None:
                self.on_paint(time.perf_counter())
        return False

    def remove(self) -> None:
        self.widget.removeEventFilter(self)


class LatenessProbe(QObject):
    """A 10 ms single-shot precise timer on the GUI thread, re-armed at every
    tick: lateness = when it fired - when it was due."""

    def __init__(self, interval_ms: int = TICK_MS):
        super().__init__()
        self.interval = interval_ms / 1000.0
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self._tick)
        self.late_ms: list[float] = []
        self._due = 0.0

    def start(self) -> None:
        self.late_ms.clear()
        self._due = time.perf_counter() + self.interval
        self.timer.start(int(self.interval * 1000))

    def _tick(self) -> None:
        now = time.perf_counter()
        self.late_ms.append((now - self._due) * 1000.0)
        self._due = time.perf_counter() + self.interval
        self.timer.start(int(self.interval * 1000))

    def stop(self) -> None:
        self.timer.stop()


class PlotPaintTimer:
    """Wall and GUI-thread CPU time of every pyqtgraph view's paintEvent (all
    the plots) while recording. CPU time is the window's own work; wall time
    minus it is waiting (for a core on a busy machine, or for the GIL).

    The hook wraps pyqtgraph's GraphicsView.paintEvent once, before the first
    window is built (Shiboken looks a Python override up once per object)."""

    recording: PlotPaintTimer | None = None

    def __init__(self):
        self.wall_ms: list[float] = []
        self.cpu_ms: list[float] = []

    @classmethod
    def install(cls) -> None:
        from pyqtgraph.widgets.GraphicsView import GraphicsView

        if getattr(GraphicsView.paintEvent, "bench_hook", False):
            return
        original = GraphicsView.paintEvent

        def paintEvent(view, event):  # noqa: N802 (Qt's name)
            timer = cls.recording
            if timer is None:
                return original(view, event)
            cpu, wall = time.thread_time(), time.perf_counter()
            try:
                return original(view, event)
            finally:
                timer.wall_ms.append((time.perf_counter() - wall) * 1000)
                timer.cpu_ms.append((time.thread_time() - cpu) * 1000)

        paintEvent.bench_hook = True
        GraphicsView.paintEvent = paintEvent

    def __enter__(self):
        PlotPaintTimer.recording = self
        return self

    def __exit__(self, *exc):
        PlotPaintTimer.recording = None


# -- the window ---------------------------------------------------------------------------
def new_window():
    from rnn_studio.gui import MainWindow
    from rnn_studio.gui.panels.training_panel import FLAT_OUT

    app()
    PlotPaintTimer.install()
    w = MainWindow()
    w.confirm_discard = lambda question: True  # the cases switch task after a run: no modal question
    w.show()
    w.paceSlider.setValue(FLAT_OUT)
    wait_until(lambda: w.isVisible(), 2.0)
    run_loop(0.3)  # first paint, the warm-up thread's imports
    return w


def pace_index(pace: float) -> int:
    from rnn_studio.gui.panels.training_panel import FLAT_OUT, PACES

    return FLAT_OUT if pace <= 0 else PACES.index(pace)


def configure(
    w,
    task: str = "text",
    arch: str | None = None,
    hidden: int | None = None,
    *,
    pace: float = 0.0,
    epochs: int | None = None,
    until_paused: bool = False,
) -> None:
    """Set the controls as a user would; choosing a task loads its seed defaults."""
    combo = w.taskCombo
    combo.setCurrentIndex(combo.findData(task))
    if task == "text":
        if w.sentencesEdit.toPlainText().splitlines() != list(SEED_SENTENCES):
            w.sentencesEdit.setPlainText("\n".join(SEED_SENTENCES))
    else:
        mode = w.dataPanel.sineModeCombo
        mode.setCurrentIndex(mode.findData("next-value"))
    defaults = defaults_for(task, "next-value")  # a task already chosen keeps the last case's model
    w.archCombo.setCurrentIndex(w.archCombo.findData(arch or defaults.model.arch))
    w.hiddenSpin.setValue(hidden or defaults.model.hidden)
    if epochs is not None:
        w.epochsSpin.setValue(epochs)
    w.untilPausedCheck.setChecked(until_paused)
    w.paceSlider.setValue(pace_index(pace))


def steps_now(w) -> int:
    worker = w.worker
    trainer = worker.trainer if worker is not None else None
    return trainer.steps if trainer is not None else 0


def start_run(w, timeout_s: float = 60.0, then=None) -> bool:
    """Press Train, call ``then()`` (before any of the run's signals is
    delivered: they wait for the event loop), and wait for the first step."""
    w.trainButton.click()
    if then is not None:
        then()
    return wait_until(lambda: steps_now(w) >= 1, timeout_s)


def stop_run(w) -> None:
    if w.stopButton.isEnabled():
        w.stopButton.click()
    wait_until(lambda: w.trainButton.isEnabled(), 5.0)


def measure_run(w, probe: LatenessProbe, seconds: float) -> dict:
    """The run going on now, over ``seconds``: the probe's lateness, training
    steps/s, lossPlot paints and inside frames a second, GUI-thread CPU busy and
    the longest plot paint (wall / CPU). Stops the run at the end."""
    paints = PaintCounter(w.lossPlot.viewport())
    frames = FrameCounter(w)
    steps0 = steps_now(w)
    cpu0, wall0 = time.thread_time(), time.perf_counter()
    with PlotPaintTimer() as plot_paints:
        probe.start()
        run_loop(seconds)
        probe.stop()
    wall = time.perf_counter() - wall0
    busy = (time.thread_time() - cpu0) / wall
    steps = steps_now(w) - steps0
    paints.remove()
    frames.remove()
    stop_run(w)
    late = probe.late_ms
    return {
        "ticks": len(late),
        "p50": percentile(late, 50),
        "p99": percentile(late, 99),
        "max": max(late) if late else float("nan"),
        "over16": sum(1 for v in late if v > 16.0),
        "steps_per_s": steps / wall,
        "paints_per_s": paints.count / wall,
        "frames_per_s": frames.count / wall,
        "busy": busy,
        "paint_wall_max": max(plot_paints.wall_ms, default=0.0),
        "paint_cpu_max": max(plot_paints.cpu_ms, default=0.0),
    }


# -- 1. GUI-thread lateness ---------------------------------------------------------------
LATENESS_CASES = (
    # label, task, arch, hidden, pace (0 = flat out), preloaded loss points, torch threads before the run
    # (None: torch's default, as in a fresh session; the worker's policy lowers it to 1 for small models)
    ("idle window, no run (reference)", None, None, None, 0.0, 0, None),
    ("seed text (RNN 12), flat out", "text", None, None, 0.0, 0, None),
    ("seed text (RNN 12), pace 20 epochs/s", "text", None, None, 20.0, 0, None),
    ("sine next-value, LSTM hidden 128, flat out, fresh session", "sine", "lstm", 128, 0.0, 0, None),
    ("sine next-value, LSTM hidden 128, flat out, after a small run", "sine", "lstm", 128, 0.0, 0, 1),
    ("sine next-value, LSTM hidden 128, pace 5 epochs/s", "sine", "lstm", 128, 5.0, 0, None),
    ("seed text, flat out, loss curve already 1,000,000 points", "text", None, None, 0.0, 1_000_000, None),
)


def preload_history(w, points: int) -> None:
    """Give the run a long past: ``points`` steps before step 1 in the loss and
    gradient curves (x = -points+1 .. 0), as after ~20 minutes flat out. Only the
    views' public append() is used; the trainer is untouched."""
    x = np.arange(-points + 1, 1, dtype=np.float64)
    rng = np.random.default_rng(0)
    loss = 2.9 * np.exp(-np.arange(points) / 2e5) + 0.05 + 0.01 * rng.random(points)
    w.lossView.append(x, loss)
    w.gradientView.append(x, 1.0 + rng.random(points))


def bench_lateness(w, seconds: float, forced_threads: int = 0) -> list[dict]:
    print(f"\n### 1. GUI-thread lateness of a {TICK_MS} ms timer, {seconds:g} s per case\n")
    print(
        "| case | ticks | p50 ms | p99 ms | max ms | ticks > 16 ms late | training steps/s "
        "| lossPlot paints/s | GUI thread CPU busy | longest plot paint ms, wall / CPU |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    rows = []
    probe = LatenessProbe()
    for label, task, arch, hidden, pace, preload, threads in LATENESS_CASES:
        torch.set_num_threads(forced_threads or threads or DEFAULT_THREADS)
        if task is not None:
            configure(w, task, arch, hidden, pace=pace, until_paused=True)
            # the history goes in before the run's first batch, so x stays sorted
            # (clipToView and peak downsampling assume sorted x)
            if not start_run(w, then=(lambda n=preload: preload_history(w, n)) if preload else None):
                print(f"| {label} | the run did not start | | | | | | | | |")
                stop_run(w)
                continue
            run_loop(0.5)  # past the first step's costs and the first frames
        else:
            run_loop(0.5)
        row = {"case": label, **measure_run(w, probe, seconds)}
        rows.append(row)
        print(
            f"| {label} | {row['ticks']} | {row['p50']:.2f} | {row['p99']:.2f} | {row['max']:.1f} | {row['over16']} "
            f"| {row['steps_per_s']:,.0f} | {row['paints_per_s']:.1f} | {100 * row['busy']:.0f}% "
            f"| {row['paint_wall_max']:.1f} / {row['paint_cpu_max']:.1f} |"
        )
        if task is not None:
            w.resetButton.click()
    torch.set_num_threads(forced_threads or DEFAULT_THREADS)
    print(
        "\nlateness = when the tick fired - when it was due (re-armed at each tick); "
        "GUI thread CPU busy = its thread CPU time / wall time (the probe's own ticks included). "
        f"torch threads before each run: {forced_threads or DEFAULT_THREADS} unless the case says otherwise; "
        "the worker lowers it to 1 for models under 50,000 parameters."
    )
    return rows


# -- 2. throughput: the window against a headless loop ----------------------------------------
# label, task, arch, hidden, torch threads before the run (None: torch's default, a fresh session)
THROUGHPUT_CASES = (
    ("seed text (RNN 12, 3 sentences)", "text", None, None, None),
    ("sine next-value (seed 002, RNN 32)", "sine", None, None, None),
    ("sine next-value, LSTM hidden 128, fresh session", "sine", "lstm", 128, None),
    ("sine next-value, LSTM hidden 128, after a small run", "sine", "lstm", 128, 1),
)


def time_window(w, seconds: float) -> float:
    """Steps/s of a run in the window, flat out, plots live; the first step
    (model build, first frames) is left out, as on the headless side."""
    if not start_run(w):
        stop_run(w)
        return float("nan")
    s0, t0 = steps_now(w), time.perf_counter()
    run_loop(seconds)
    s1, t1 = steps_now(w), time.perf_counter()
    stop_run(w)
    return (s1 - s0) / (t1 - t0)


def time_headless(cfg, seconds: float) -> tuple[float, int]:
    """(steps/s, torch threads) of Trainer.step() in a plain loop on a fresh
    thread, with the thread policy the worker and the CLI apply; the GUI thread
    just waits (no event loop, no drawing)."""
    out = {}

    def body():
        trainer = Trainer(cfg)
        apply_thread_policy(trainer.parameter_count, trainer.device.type)
        out["threads"] = torch.get_num_threads()
        trainer.step()
        s0, t0 = trainer.steps, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            trainer.step()
        out["rate"] = (trainer.steps - s0) / (time.perf_counter() - t0)

    thread = threading.Thread(target=body, name="headless-trainer")
    thread.start()
    thread.join()
    return out["rate"], out["threads"]


def bench_throughput(w, seconds: float, repeats: int, forced_threads: int) -> list[dict]:
    print(f"\n### 2. Throughput: training in the window vs a headless Trainer loop, {seconds:g} s per timing\n")
    print(
        f"{repeats} repeats per case, alternating (the order flips each repeat); ratio = window / headless "
        "within a repeat, median (interquartile range). Both sides train on a fresh thread that inherits "
        "torch's thread count and applies the window's thread policy (`core.resources.apply_thread_policy`).\n"
    )
    print("| case | torch threads | headless steps/s | window steps/s | ratio window / headless |")
    print("| --- | ---: | ---: | ---: | --- |")
    rows = []
    for label, task, arch, hidden, start_threads in THROUGHPUT_CASES:
        threads_before = forced_threads or start_threads or DEFAULT_THREADS
        configure(w, task, arch, hidden, pace=0.0, until_paused=True)
        cfg = w.build_config()  # exactly the run the window's controls describe

        def window_side(threads=threads_before):
            torch.set_num_threads(threads)
            return time_window(w, seconds)

        def headless_side(threads=threads_before, cfg=cfg):
            torch.set_num_threads(threads)
            return time_headless(cfg, seconds)

        torch.set_num_threads(threads_before)
        time_headless(cfg, min(0.5, seconds))  # warm-up, both sides
        torch.set_num_threads(threads_before)
        time_window(w, min(0.5, seconds))
        window_rates, headless_rates, used = [], [], set()
        for r in range(repeats):
            sides = [("window", window_side), ("headless", headless_side)]
            if r % 2:
                sides.reverse()
            result = {name: fn() for name, fn in sides}
            window_rates.append(result["window"])
            headless_rates.append(result["headless"][0])
            used.add(result["headless"][1])
        ratios = [a / b for a, b in zip(window_rates, headless_rates, strict=True)]
        low, high = quartiles(ratios)
        row = {
            "case": label,
            "threads": sorted(used),
            "headless": median(headless_rates),
            "window": median(window_rates),
            "ratio": median(ratios),
            "iqr": (low, high),
        }
        rows.append(row)
        print(
            f"| {label} | {', '.join(map(str, row['threads']))} | {row['headless']:,.1f} | {row['window']:,.1f} "
            f"| **{row['ratio']:.3f}** ({low:.2f}-{high:.2f}) |"
        )
        w.resetButton.click()
    torch.set_num_threads(forced_threads or DEFAULT_THREADS)
    return rows


def bench_breakdown(w, seconds: float, repeats: int) -> list[dict]:
    """Where the window's throughput goes (seed text, flat out): the window as
    it is, the window with nothing drawn while it trains (the views' redraw
    timer blocked, no inside frames asked for: every event still reaches the
    GUI thread and is handled), and the headless loop, alternated."""
    print(f"\n### 2b. Where the window's throughput goes: seed text flat out, {seconds:g} s a timing, "
          f"{repeats} repeats alternating\n")
    configure(w, "text", pace=0.0, until_paused=True)
    set_sentences(w, SEED_SENTENCES)
    w.insideView.tabs.setCurrentIndex(0)
    cfg = w.build_config()
    inside_looking = w.inside._looking

    def window(drawn: bool) -> tuple[float, float]:
        if not drawn:
            w.views.timer.blockSignals(True)
            w.inside._looking = lambda: False
        try:
            cpu0, t0 = time.thread_time(), time.perf_counter()
            rate = time_window(w, seconds)
            busy = (time.thread_time() - cpu0) / (time.perf_counter() - t0)
        finally:
            w.views.timer.blockSignals(False)
            w.inside._looking = inside_looking
            w.resetButton.click()
        return rate, busy

    sides = {
        "window, every view drawing": lambda: window(True),
        "window, nothing drawn while training": lambda: window(False),
        "headless Trainer loop": lambda: (time_headless(cfg, seconds)[0], 0.0),
    }
    rates: dict = {name: [] for name in sides}
    busy: dict = {name: [] for name in sides}
    for r in range(repeats):
        order = list(sides) if r % 2 == 0 else list(reversed(sides))
        for name in order:
            torch.set_num_threads(DEFAULT_THREADS)
            rate, gui = sides[name]()
            rates[name].append(rate)
            busy[name].append(gui)
    headless = rates["headless Trainer loop"]
    print("| side | steps/s (median) | ratio to headless (median of repeats) | GUI thread CPU busy |")
    print("| --- | ---: | ---: | ---: |")
    rows = []
    for name in sides:
        ratio = median([a / b for a, b in zip(rates[name], headless, strict=True)])
        rows.append({"side": name, "rate": median(rates[name]), "ratio": ratio, "busy": median(busy[name])})
        print(f"| {name} | {median(rates[name]):,.0f} | **{ratio:.3f}** | {100 * median(busy[name]):.0f}% |")
    return rows


# -- 3. a loss curve of 1,000,000 points -----------------------------------------------------
def bench_redraw(w, repeats: int) -> list[dict]:
    print(f"\n### 3. lossPlot redraw: setData on its first data item + synchronous repaint, {repeats} repeats\n")
    plot = w.lossPlot
    curve = first_curve(plot)
    item = plot.getPlotItem()
    print(
        f"plot {plot.width()} x {plot.height()} px; clipToView={item.clipToViewMode()}, "
        f"downsampling={item.downsampleMode()}\n"
    )
    print(
        "| points | scale | setData (or append + redraw) ms | repaint ms | total ms (median) | total ms (max) "
        "| total, GUI thread CPU ms (median) |"
    )
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    paints = PaintCounter(plot.viewport())
    rows = []
    rng = np.random.default_rng(0)
    # (points, live). live: the window's own path, as in a run that has reached
    # that many steps: 30 new steps per frame go through lossView.append(), then
    # lossView.redraw() (what the window's redraw timer calls) and a repaint; x
    # grows, so the view's range changes with every frame.
    for points, live in ((10_000, False), (100_000, False), (1_000_000, False), (1_000_000, True)):
        capacity = points + 30 * (repeats + 2)
        x = np.arange(1, capacity + 1, dtype=np.float64)
        base = 2.9 * np.exp(-x / (points / 5)) + 0.05
        for log in (False, True):
            w.logScaleCheck.setChecked(log)
            set_ms, paint_ms, total_ms, cpu_ms = [], [], [], []
            y = base + 0.02 * rng.random(capacity)
            n = points
            if live:
                w.lossView.reset()
                w.lossView.append(x[:n], y[:n])
                w.lossView.redraw()
            for r in range(repeats + 1):
                if not live:
                    y = base + 0.02 * rng.random(capacity)  # new values each time, same x
                painted = paints.count
                c0, t0 = time.thread_time(), time.perf_counter()
                if live:
                    w.lossView.append(x[n : n + 30], y[n : n + 30])
                    n += 30
                    w.lossView.redraw()
                else:
                    curve.setData(x[:n], y[:n])
                t1 = time.perf_counter()
                plot.viewport().repaint()
                c2, t2 = time.thread_time(), time.perf_counter()
                if paints.count == painted:
                    print("(the repaint did not reach the plot)")
                if r == 0:
                    continue  # the first one sizes caches
                set_ms.append((t1 - t0) * 1000)
                paint_ms.append((t2 - t1) * 1000)
                total_ms.append((t2 - t0) * 1000)
                cpu_ms.append((c2 - c0) * 1000)
            row = {
                "points": points,
                "live": live,
                "log": log,
                "set": median(set_ms),
                "paint": median(paint_ms),
                "total": median(total_ms),
                "max": max(total_ms),
                "cpu": median(cpu_ms),
            }
            rows.append(row)
            what = f"{points:,}" + (" + 30 per frame, the window's own redraw" if live else "")
            print(
                f"| {what} | {'log' if log else 'linear'} | {row['set']:.1f} | {row['paint']:.1f} "
                f"| **{row['total']:.1f}** | {row['max']:.1f} | {row['cpu']:.1f} |"
            )
    paints.remove()
    w.logScaleCheck.setChecked(False)
    w.resetButton.click()
    return rows


# -- 6. every view open: the "Inside the network" tabs while training (issues 10 and 12) -------------
LONG_SENTENCE = "the quick brown fox jumps over the lazy dog while the cat sat on the mat and said meow to the dog"
INSIDE_MODELS = (
    # label, arch, hidden, sentences
    ("seed text, RNN 12 (the window's default)", None, None, SEED_SENTENCES),
    (
        "LSTM 256, 3 sentences up to 97 characters",
        "lstm",
        256,
        ("cat: it sat on the mat and said meow", "dog: it sat on the mat and said woof", LONG_SENTENCE),
    ),
)


def set_sentences(w, sentences) -> None:
    if w.sentencesEdit.toPlainText().splitlines() != list(sentences):
        w.sentencesEdit.setPlainText("\n".join(sentences))


def tab_titles(w) -> list[str]:
    tabs = w.insideView.tabs
    return [tabs.tabText(i) for i in range(tabs.count())]


class FrameCounter:
    """Inside frames the window received (``Runner.inside``) while counting."""

    def __init__(self, w):
        self.count = 0
        self.w = w
        w.runner.inside.connect(self._seen)

    def _seen(self, *_args) -> None:
        self.count += 1

    def remove(self) -> None:
        self.w.runner.inside.disconnect(self._seen)


def bench_every_view(w, seconds: float, repeats: int, forced_threads: int) -> dict:
    """Lateness with each tab of "Inside the network" on screen (the loss,
    gradient, time-gradient and sentence views are always on screen beside it),
    then throughput with the two costliest tabs against the headless loop."""
    print(f"\n### 6. Every view open: each \"Inside the network\" tab on screen while training flat out, "
          f"{seconds:g} s per case\n")
    print("The loss, gradient-norm, per-tensor and back-through-time plots and the prompt are on screen in "
          "every case; the tab named is the one shown in `insideTabs` (only the tab on screen is drawn; a frame "
          "is computed by the worker between steps, at most every 0.25 s or 20 times its own cost).\n")
    print("| model | tab on screen | ticks | p50 ms | p99 ms | max ms | ticks > 16 ms | steps/s | inside frames/s "
          "| GUI thread CPU busy | longest plot paint ms, wall / CPU |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    result = {"lateness": [], "throughput": []}
    probe = LatenessProbe()
    threads = forced_threads or DEFAULT_THREADS
    for label, arch, hidden, sentences in INSIDE_MODELS:
        configure(w, "text", arch, hidden, pace=0.0, until_paused=True)
        set_sentences(w, sentences)
        for index, title in enumerate(tab_titles(w)):
            torch.set_num_threads(threads)
            w.insideView.tabs.setCurrentIndex(index)
            if not start_run(w):
                print(f"| {label} | {title} | the run did not start | | | | | | | | |")
                stop_run(w)
                continue
            run_loop(1.0)  # past the first step, the first frames
            row = {"model": label, "tab": title, **measure_run(w, probe, seconds)}
            result["lateness"].append(row)
            print(f"| {label} | {title} | {row['ticks']} | {row['p50']:.2f} | {row['p99']:.2f} | {row['max']:.1f} "
                  f"| {row['over16']} | {row['steps_per_s']:,.0f} | {row['frames_per_s']:.1f} | {100 * row['busy']:.0f}% "
                  f"| {row['paint_wall_max']:.1f} / {row['paint_cpu_max']:.1f} |")
            w.resetButton.click()
    if result["lateness"]:
        worst = max(result["lateness"], key=lambda r: r["p99"])
        print(f"\nWorst p99 of all the cases: {worst['p99']:.2f} ms ({worst['model']}, {worst['tab']}); worst max "
              f"{max(r['max'] for r in result['lateness']):.1f} ms.")

    print(f"\nThroughput with a tab on screen vs the headless Trainer loop, {repeats} repeats alternating, "
          f"{seconds / 5:g} s a timing; ratio median (interquartile range):\n")
    print("| model | tab on screen | headless steps/s | window steps/s | ratio window / headless |")
    print("| --- | --- | ---: | ---: | --- |")
    for label, arch, hidden, sentences in INSIDE_MODELS:
        configure(w, "text", arch, hidden, pace=0.0, until_paused=True)
        set_sentences(w, sentences)
        cfg = w.build_config()
        for title in ("Hidden state", "Gates", "Reading"):
            if title not in tab_titles(w):
                continue
            w.insideView.tabs.setCurrentIndex(tab_titles(w).index(title))
            window_rates, headless_rates, ratios = [], [], []
            for r in range(repeats):
                sides = ["window", "headless"] if r % 2 == 0 else ["headless", "window"]
                got = {}
                for side in sides:
                    torch.set_num_threads(threads)
                    if side == "window":
                        got[side] = time_window(w, seconds / 5)
                        w.resetButton.click()
                    else:
                        got[side] = time_headless(cfg, seconds / 5)[0]
                window_rates.append(got["window"])
                headless_rates.append(got["headless"])
                ratios.append(got["window"] / got["headless"])
            q1, q3 = quartiles(ratios)
            row = {"model": label, "tab": title, "headless": median(headless_rates), "window": median(window_rates),
                   "ratio": median(ratios), "q1": q1, "q3": q3}
            result["throughput"].append(row)
            print(f"| {label} | {title} | {row['headless']:,.0f} | {row['window']:,.0f} "
                  f"| **{row['ratio']:.3f}** ({q1:.3f}-{q3:.3f}) |")
    w.insideView.tabs.setCurrentIndex(0)
    torch.set_num_threads(threads)
    return result


# -- 7. memory of a long run ----------------------------------------------------------------------
def rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def history_bytes(w) -> int:
    """What the window's per-step history holds now (curves, learning rates, the export's tables)."""
    record = w.exporter.record
    return sum(s.nbytes for s in (w.lossView.buffer, w.gradientView.buffer, w.lr_history, record.steps,
                                  record.epochs))


def bench_memory(w, seconds: float, night_steps: int) -> dict:
    from rnn_studio.core.events import EpochMetrics, StepBatch
    from rnn_studio.core.history import MAX_CURVE_POINTS, TimeGradHistory
    from rnn_studio.core.series import MAX_POINTS, MAX_ROWS

    print(f"\n### 7. Memory of a long run: a real run for {seconds:g} s, then a night of {night_steps:,} steps\n")
    configure(w, "text", pace=0.0, until_paused=True)
    set_sentences(w, SEED_SENTENCES)
    start_run(w)
    run_loop(3.0)
    s0, m0, h0 = steps_now(w), rss_mib(), history_bytes(w)
    run_loop(seconds)
    s1, m1, h1 = steps_now(w), rss_mib(), history_bytes(w)
    stop_run(w)
    steps = max(1, s1 - s0)
    print(f"Seed text flat out, until paused: {steps:,} steps in {seconds:g} s; process memory (RSS) "
          f"{m0:.0f} -> {m1:.0f} MiB = {(m1 - m0) * 2**20 / steps:.0f} bytes a step (buffers grow by doubling: "
          f"this moves in steps); the per-step history itself held {h0 / 2**20:.1f} -> {h1 / 2**20:.1f} MiB.\n")
    w.resetButton.click()

    # the night: StepBatches of 100,000 steps handed to the same views and export record the runner feeds
    print("The same views and export record fed as the runner feeds them, 100,000 steps a batch "
          "(no training: a real run this long takes a night):\n")
    print("| steps so far | RSS MiB | history held MiB | loss curve points | steps per two points "
          "| metrics.csv rows | one batch handed over ms (worst so far) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    rng = np.random.default_rng(0)
    chunk = 100_000
    base_rss = rss_mib()
    report_at = {1_000_000 * 2**k for k in range(12)}
    worst = 0.0
    rows = []
    for start in range(1, night_steps + 1, chunk):
        step = np.arange(start, start + chunk, dtype=np.float64)
        loss = 0.05 + 0.01 * rng.random(chunk)
        batch = StepBatch(step=step, loss=loss, grad_norm=1.0 + rng.random(chunk), lr=np.full(chunk, 0.01),
                          steps=int(step[-1]), epoch=int(step[-1]), epochs=None, until_paused=True, lr_now=0.01,
                          elapsed=0.0, steps_per_s=0.0, param_grad_norms={}, time_grad_norms=None,
                          epochs_done=(EpochMetrics(int(step[-1]), float(loss[-1])),))
        t0 = time.perf_counter()
        w.lossView.append(batch.step, batch.loss)
        w.gradientView.append(batch.step, batch.grad_norm)
        w.lr_history.extend(batch.step, batch.lr)
        w.exporter.record.add(batch)
        worst = max(worst, (time.perf_counter() - t0) * 1000)
        done = start + chunk - 1
        if done in report_at or done == night_steps:
            row = {"steps": done, "rss": rss_mib(), "held": history_bytes(w) / 2**20,
                   "points": w.lossView.buffer.size, "group": w.lossView.buffer.group,
                   "rows": w.exporter.record.steps.size, "worst_ms": worst}
            rows.append(row)
            print(f"| {done:,} | {row['rss']:.0f} | {row['held']:.1f} | {row['points']:,} | {row['group']} "
                  f"| {row['rows']:,} | {worst:.1f} |")
    t0 = time.perf_counter()
    w.lossView.redraw()
    w.lossPlot.viewport().repaint()
    redraw_ms = (time.perf_counter() - t0) * 1000
    bound = (3 * 2 * 8 * MAX_POINTS + (4 + 5) * 8 * MAX_ROWS) / 2**20
    # a run's curve: two Python lists of floats (8 bytes a slot + a 24-byte float)
    others = (6 * 3 * 2 * 32 * MAX_CURVE_POINTS + TimeGradHistory().nbytes) / 2**20
    print(f"\nRSS {base_rss:.0f} MiB before the night, {rss_mib():.0f} MiB after; the loss plot redrawn and painted "
          f"at the end in {redraw_ms:.0f} ms. Stated bound of the per-step history: {bound:.0f} MiB (loss, gradient "
          f"and learning-rate curves {MAX_POINTS:,} points each, the export's step and epoch tables {MAX_ROWS:,} "
          f"rows each); beside it, bounded elsewhere: the compared runs (6 x 3 curves of {MAX_CURVE_POINTS:,} "
          f"points, ~{others:.0f} MiB with the 2 MiB time-gradient history) and the rewind snapshots (64 MiB).")
    w.resetButton.click()
    return {"real": {"steps": steps, "rss_before": m0, "rss_after": m1}, "night": rows, "redraw_ms": redraw_ms}


# -- 4. process start to the first paint -------------------------------------------------------
STARTUP_CHILD = textwrap.dedent(
    r"""
    import time
    T_SCRIPT = time.time()  # the interpreter has started and runs its first line
    import json, os, sys
    sys.path.insert(0, __ROOT__)
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication
    marks = {"script": T_SCRIPT, "torch_before_gui_import": "torch" in sys.modules}
    import rnn_studio.gui.main_window as main_window  # what run_app imports first
    marks["gui_imported"] = time.time()
    marks["torch_after_gui_import"] = "torch" in sys.modules
    CLICK_TRAIN = __CLICK__

    class Probe(QObject):
        def __init__(self, window):
            super().__init__()
            self.window = window
            self.loss_filter = None

        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint:
                if obj is self.window and "first_paint" not in marks:
                    marks["first_paint"] = time.time()
                    marks["torch_at_first_paint"] = "torch" in sys.modules
                    QTimer.singleShot(0, self.frame_done)
                elif obj is not self.window and "train_clicked" in marks and "first_point" not in marks:
                    y = self.window.lossPlot.getPlotItem().listDataItems()[0].yData
                    if y is not None and len(y) >= 1:
                        marks["first_point"] = time.time()
                        QTimer.singleShot(0, self.finish)
            return False

        def frame_done(self):
            marks["first_frame_done"] = time.time()
            if CLICK_TRAIN == "frame":
                self.click()
            elif not CLICK_TRAIN:
                self.finish()

        def devices_listed(self):
            marks.setdefault("devices_listed", time.time())
            if CLICK_TRAIN == "devices" and "train_clicked" not in marks:
                self.click()

        def click(self):
            self.window.lossPlot.viewport().installEventFilter(self)
            marks["train_clicked"] = time.time()
            self.window.trainButton.click()
            QTimer.singleShot(20000, self.finish)  # give up after 20 s

        def finish(self):
            self.window.close()
            QApplication.instance().quit()

    original_show = main_window.MainWindow.show

    def show(self):
        marks["window_built"] = time.time()
        self._bench_probe = Probe(self)
        self.installEventFilter(self._bench_probe)
        self.devicesListed.connect(self._bench_probe.devices_listed)
        original_show(self)

    main_window.MainWindow.show = show
    from rnn_studio.cli import main
    code = main([])
    marks["exit"] = code
    print("MARKS " + json.dumps(marks), flush=True)
    """
)


def startup_once(click_train: str) -> dict:
    script = STARTUP_CHILD.replace("__ROOT__", repr(str(ROOT))).replace("__CLICK__", repr(click_train))
    settings = os.path.join(SETTINGS_DIR, f"launch-{time.monotonic_ns()}")  # a first start: no saved settings
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", RNN_STUDIO_SETTINGS_DIR=settings)
    launched = time.time()
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    marks = None
    for line in proc.stdout.splitlines():
        if line.startswith("MARKS "):
            marks = json.loads(line[6:])
    if marks is None:
        raise RuntimeError(f"startup child failed ({proc.returncode}): {proc.stderr[-1500:]}")
    marks["launched"] = launched
    return marks


def import_seconds(statement: str) -> float:
    """Wall time of a fresh interpreter running ``statement`` (launch to exit)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], check=True, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    return time.perf_counter() - start


def bench_startup(repeats: int) -> dict:
    print(f"\n### 4. Process start to the window's first paint (`rnn_studio.cli.main([])`), {2 * repeats} launches\n")
    print(
        "Rows down to the device list: the launches where Train is pressed at the first frame "
        f"({repeats}); the last row: the other {repeats}.\n"
    )
    runs, later = [], []
    for _ in range(repeats):  # alternating: Train at the first frame, Train once torch has loaded
        runs.append(startup_once(click_train="frame"))
        later.append(startup_once(click_train="devices"))

    def column(fn):
        values = [fn(m) for m in runs]
        values = [v for v in values if v is not None]
        return median(values), (min(values) if values else float("nan")), (max(values) if values else float("nan"))

    rows = [
        ("launch -> interpreter runs the first line", lambda m: m["script"] - m["launched"]),
        ("first line -> rnn_studio.gui.main_window imported", lambda m: m["gui_imported"] - m["script"]),
        ("imported -> MainWindow built (QApplication, panels)", lambda m: m["window_built"] - m["gui_imported"]),
        ("built -> first paint of the window begins", lambda m: m["first_paint"] - m["window_built"]),
        ("first paint -> first frame done", lambda m: m["first_frame_done"] - m["first_paint"]),
        ("**launch -> first paint**", lambda m: m["first_paint"] - m["launched"]),
        ("**interpreter start (first line) -> first paint**", lambda m: m["first_paint"] - m["script"]),
        ("launch -> first frame done", lambda m: m["first_frame_done"] - m["launched"]),
        (
            "launch -> device list complete (torch loaded on its thread)",
            lambda m: m.get("devices_listed", 0) - m["launched"] if "devices_listed" in m else None,
        ),
        (
            "Train pressed the moment the first frame is done -> first loss point painted",
            lambda m: (m["first_point"] - m["train_clicked"]) if "first_point" in m else None,
        ),
    ]
    print("| interval | median ms | min ms | max ms |")
    print("| --- | ---: | ---: | ---: |")
    result = {}
    for label, fn in rows:
        med, low, high = column(fn)
        result[label] = med
        print(f"| {label} | {1000 * med:.0f} | {1000 * low:.0f} | {1000 * high:.0f} |")
    waits = [m["first_point"] - m["train_clicked"] for m in later if "first_point" in m]
    if waits:
        label = "Train pressed when the device list is complete -> first loss point painted"
        result[label] = median(waits)
        print(f"| {label} | {1000 * median(waits):.0f} | {1000 * min(waits):.0f} | {1000 * max(waits):.0f} |")
    torch_at_paint = {m["torch_at_first_paint"] for m in runs + later}
    torch_early = {m["torch_after_gui_import"] for m in runs + later}
    print(
        f"\ntorch loaded before the window's first paint: {', '.join(map(str, sorted(torch_at_paint)))} "
        f"(already by `import rnn_studio.gui.main_window`: {', '.join(map(str, sorted(torch_early)))})"
    )
    print("\nReference, a fresh interpreter doing only this (launch to exit, median of 3):\n")
    print("| statement | median ms |")
    print("| --- | ---: |")
    for statement in (
        "pass",
        "import PySide6.QtWidgets",
        "import PySide6.QtWidgets, pyqtgraph",
        "import torch",
        "import numpy, PySide6.QtWidgets, pyqtgraph, torch",
    ):
        seconds = median([import_seconds(statement) for _ in range(3)])
        result[statement] = seconds
        print(f"| `{statement}` | {1000 * seconds:.0f} |")
    return result


# -- 5. Train -> first plotted point (warm process) -----------------------------------------------
def bench_train_to_point(w, repeats: int) -> list[float]:
    print(f"\n### 5. trainButton.click() -> first loss point painted in lossPlot (warm process), {repeats} repeats\n")
    configure(w, "text", pace=0.0, epochs=100, until_paused=False)
    marks: dict = {}
    original_append = w.lossView.append

    def append(steps, losses):  # the window's view, called by the window with the first batch
        if "data" not in marks:
            marks["data"] = time.perf_counter()
        return original_append(steps, losses)

    def on_paint(now):
        if "clicked" in marks and "painted" not in marks and point_count(w.lossPlot) >= 1:
            marks["painted"] = now

    paints = PaintCounter(w.lossPlot.viewport(), on_paint)
    w.lossView.append = append
    totals, click_ms, data_ms, paint_ms = [], [], [], []
    first = None
    try:
        for i in range(repeats + 1):
            wait_until(lambda: w.trainButton.isEnabled(), 30.0)
            run_loop(0.1)
            marks.clear()
            t0 = time.perf_counter()
            marks["clicked"] = t0
            w.trainButton.click()
            t1 = time.perf_counter()
            ok = wait_until(lambda: "painted" in marks, 30.0, poll_ms=1)
            stop_run(w)
            if not ok:
                print("(no point was painted within 30 s)")
                continue
            if i == 0:  # the window's first run: first optimizer, first frames of each view
                first = (marks["painted"] - t0) * 1000
                continue
            totals.append((marks["painted"] - t0) * 1000)
            click_ms.append((t1 - t0) * 1000)
            data_ms.append((marks.get("data", marks["painted"]) - t0) * 1000)
            paint_ms.append((marks["painted"] - marks.get("data", marks["painted"])) * 1000)
    finally:
        paints.remove()
        del w.lossView.append  # the instance attribute goes; the method is back
    if first is not None:
        print(f"The window's first run (left out below): {first:.0f} ms\n")
    print("| interval | median ms | min ms | max ms |")
    print("| --- | ---: | ---: | ---: |")
    for label, values in (
        ("click() returns (the GUI thread builds the run's worker)", click_ms),
        ("click -> first metrics batch reaches the loss view", data_ms),
        ("that batch -> painted", paint_ms),
        ("**click -> first point painted**", totals),
    ):
        print(f"| {label} | {median(values):.0f} | {min(values):.0f} | {max(values):.0f} |")
    return totals


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter timings, fewer repeats: about a minute")
    parser.add_argument(
        "--only",
        default="lateness,throughput,breakdown,redraw,startup,train,everyview,memory",
        help="comma-separated subset of: lateness, throughput, breakdown, redraw, startup, train, everyview, memory",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch threads before every run, window and headless alike (default 0: torch's own choice, as in a "
        "fresh session; the worker's policy then lowers it to 1 for small models)",
    )
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # figures appear as they are measured, even through a pipe
    only = set(args.only.split(","))
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    quick = args.quick
    qapp = app()
    print(f"# RNN Studio window benchmark, {datetime.date.today().isoformat()}")
    print(f"command: python bench/bench_studio.py {' '.join(sys.argv[1:] if argv is None else argv)}".rstrip())
    print(
        f"python {platform.python_version()}, torch {torch.__version__}, PySide6 {PySide6.__version__}, "
        f"pyqtgraph {pg.__version__}, Qt platform {qapp.platformName()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs visible, torch threads before each run {args.threads or DEFAULT_THREADS}"
        + (" (forced)" if args.threads else " (torch's default)")
        + f"; load average {', '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )
    if "startup" in only:  # first: this process's own window must not warm the disk cache for it
        bench_startup(repeats=2 if quick else 5)
    w = None
    if only & {"lateness", "throughput", "breakdown", "redraw", "train", "everyview", "memory"}:
        w = new_window()
    if "train" in only:
        bench_train_to_point(w, repeats=5 if quick else 15)
    if "lateness" in only:
        bench_lateness(w, seconds=3.0 if quick else 10.0, forced_threads=args.threads)
    if "throughput" in only:
        bench_throughput(w, seconds=1.0 if quick else 2.0, repeats=3 if quick else 5, forced_threads=args.threads)
    if "breakdown" in only:
        bench_breakdown(w, seconds=1.0 if quick else 2.0, repeats=3 if quick else 7)
    if "redraw" in only:
        bench_redraw(w, repeats=5 if quick else 15)
    if "everyview" in only:
        bench_every_view(w, seconds=3.0 if quick else 10.0, repeats=3 if quick else 5, forced_threads=args.threads)
    if "memory" in only:
        bench_memory(w, seconds=5.0 if quick else 20.0, night_steps=4_000_000 if quick else 32_000_000)
    if w is not None:
        w.close()


if __name__ == "__main__":
    main()
