"""GUI-thread cost of one refresh of each "Inside the network" view (issue 10).

At the issue's classroom bound: hidden size 256, a 100-character sentence,
an LSTM (the most to draw: h_t, c_t and four gates) of 1 and 2 layers; the
memory heatmap full (512 training steps x 100 time steps); five runs of
20,000 points overlaid. For each view: the median and worst of
``redraw()`` (handing the data to the widgets) and of ``redraw()`` plus the
paint of the view (``grab()``), over 30 refreshes with new numbers each
time, and the worst thread CPU time of redraw plus paint (on a shared
machine the worst wall time is mostly another process holding the core).
The worker's cost of computing a frame is printed beside it, as the
reference measured in the same run. Prints figures; asserts nothing.

    QT_QPA_PLATFORM=offscreen python bench/bench_inside_views.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from PySide6.QtWidgets import QApplication

REPEATS = 30
TEXT = ("the quick brown fox jumps over the lazy dog while the cat sat on the mat and said meow to the dog" + "!")[:100]


CPU_MS: list[float] = []  # the GUI thread's CPU time of each ``timed`` call, beside its wall time


def timed(fn) -> float:
    """Wall milliseconds of ``fn()``; its thread CPU milliseconds go to CPU_MS. On a
    shared machine the worst wall time is mostly waiting for a core (another
    process ran): the worst CPU time is what the code itself costs."""
    start, cpu = time.perf_counter(), time.thread_time()
    fn()
    CPU_MS.append((time.thread_time() - cpu) * 1000.0)
    return (time.perf_counter() - start) * 1000.0


def report(name: str, redraw_ms: list[float], paint_ms: list[float]) -> None:
    # the loops time redraw, then redraw+paint, in turn: the paints are every second call
    paint_cpu = CPU_MS[-2 * len(paint_ms) :][1::2][1:]
    redraw_ms, paint_ms = redraw_ms[1:], paint_ms[1:]  # the first paint warms font and glyph caches
    print(
        f"{name:<34} redraw median {statistics.median(redraw_ms):5.2f} ms, worst {max(redraw_ms):5.2f} ms | "
        f"redraw+paint median {statistics.median(paint_ms):5.2f} ms, worst {max(paint_ms):5.2f} ms "
        f"(CPU worst {max(paint_cpu):5.2f} ms)"
    )


def main() -> None:
    app = QApplication.instance() or QApplication([])
    from rnn_studio.core.config import defaults_for
    from rnn_studio.core.history import Curve, RunRecord, TimeGradHistory
    from rnn_studio.core.inside import InsideRequest, compute_inside
    from rnn_studio.core.resources import apply_thread_policy
    from rnn_studio.core.training import Trainer
    from rnn_studio.gui.panels.inside_view import InsideView
    from rnn_studio.gui.panels.loss_plot import LossView
    from rnn_studio.gui.panels.runs_view import RunOverlay
    from rnn_studio.gui.panels.text_view import TextView

    view = InsideView(TextView())
    view.resize(1020, 330)
    view.show()
    app.processEvents()
    for layers in (1, 2):
        cfg = defaults_for("text")
        cfg.model.arch, cfg.model.hidden, cfg.model.layers = "lstm", 256, layers
        cfg.task.sentences = [TEXT]
        trainer = Trainer(cfg)
        apply_thread_policy(trainer.parameter_count)  # what the window's worker does before a run
        worker_ms, frames = [], []
        for _ in range(REPEATS):
            trainer.step()
            frame = compute_inside(trainer, None, InsideRequest(1, sentence=TEXT, prompt=TEXT[:20], length=100))
            worker_ms.append(frame.seconds * 1000)
            frames.append(frame)
        print(
            f"LSTM {layers} x 256, {len(TEXT)} characters: the worker computes a frame in "
            f"{statistics.median(worker_ms):.1f} ms (median; reading + completion of 100 characters)"
        )
        for tab, feed in (
            (view.hiddenView, lambda v, f: v.show_reading(f.reading)),
            (view.gatesView, lambda v, f: v.show_reading(f.reading)),
            (view.confidenceView, lambda v, f: v.show_completion(f.completion)),
        ):
            view.tabs.setCurrentWidget(tab)
            app.processEvents()
            redraw_ms, paint_ms = [], []
            for frame in frames:
                feed(tab, frame)
                redraw_ms.append(timed(tab.redraw))
                feed(tab, frame)
                paint_ms.append(timed(lambda: (tab.redraw(), tab.grab())))  # noqa: B023
            report(f"  {tab.objectName()}", redraw_ms, paint_ms)

    history = TimeGradHistory()
    rng = np.random.default_rng(0)
    for step in range(512):
        history.add(step, np.exp(rng.normal(-3, 1, size=100)))
    view.tabs.setCurrentWidget(view.memoryView)
    app.processEvents()
    redraw_ms, paint_ms = [], []
    for step in range(512, 512 + REPEATS):
        history.add(step, np.exp(rng.normal(-3, 1, size=100)))
        view.memoryView.show_history(history)
        redraw_ms.append(timed(view.memoryView.redraw))
        view.memoryView.show_history(history)
        paint_ms.append(timed(lambda: (view.memoryView.redraw(), view.memoryView.grab())))
    report("  memoryView (512 x 100)", redraw_ms, paint_ms)

    runs = []
    for i in range(6):
        run = RunRecord(label=f"LSTM 256, lr 0.0{i + 1}", parameters=300_000, run_id=i + 1, steps=20_000, seconds=60)
        run.step_loss = Curve()
        for step in range(20_000):
            run.step_loss.add(step, 3.0 * np.exp(-step / (3000 + 500 * i)))
        run.final_loss = run.step_loss.y[-1]
        runs.append(run)
    view.tabs.setCurrentWidget(view.runsView)
    app.processEvents()
    redraw_ms, paint_ms = [], []
    for i in range(REPEATS):
        runs[-1].final_loss = 0.01 * i
        view.runsView.show_runs(runs, {1, 2, 3, 4, 5}, 6)
        redraw_ms.append(timed(view.runsView.redraw))
        view.runsView.show_runs(runs, {1, 2, 3, 4, 5}, 6)
        paint_ms.append(timed(lambda: (view.runsView.redraw(), view.runsView.grab())))
    report("  runsView (6 runs)", redraw_ms, paint_ms)

    loss = LossView()
    loss.plot.resize(470, 470)
    overlay = RunOverlay(loss.plot, loss.curve)
    overlay_ms = [timed(lambda: overlay.show_runs(runs[:5], "this run")) for _ in range(10)]
    paint = [timed(lambda: loss.plot.grab()) for _ in range(10)]
    print(
        f"  run overlay (5 x 20,000 points)   show median {statistics.median(overlay_ms):5.2f} ms (only when a "
        f"'show' box is ticked) | loss plot paint with them median {statistics.median(paint):5.2f} ms"
    )

    view.tabs.setCurrentWidget(view.samplesView)
    from rnn_studio.core.history import Sample

    samples = [Sample(e, e, TEXT[:60]) for e in range(0, 3001, 300)]
    redraw_ms, paint_ms = [], []
    for i in range(REPEATS):
        view.samplesView.show_samples(samples, samples[i % 11].epoch)
        redraw_ms.append(timed(view.samplesView.redraw))
        view.samplesView.show_samples(samples, samples[(i + 1) % 11].epoch)
        paint_ms.append(timed(lambda: (view.samplesView.redraw(), view.samplesView.grab())))
    report("  samplesView (11 moments)", redraw_ms, paint_ms)


if __name__ == "__main__":
    main()
