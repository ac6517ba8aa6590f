"""Python's cyclic garbage collector runs on the GUI thread only, while a window exists.

Why: CPython collects on whichever thread happens to allocate past a
threshold, and a collection frees *all* unreachable cycles, whoever made them.
Window parts end up in cycles (a widget whose slot or lambda refers back to
it, pyqtgraph items), so a worker thread that allocates a lot (loading a
checkpoint, the unpickler or ``check_plain`` walking 100,000 settings values,
a training step) would run the collection itself and delete those widgets'
C++ objects in the worker thread, while the GUI thread is painting or
dispatching events to them. Qt widgets must only be deleted by the GUI
thread: that was the SIGSEGV of the GUI tests (a core showed the worker
thread in ``gc_collect_main`` -> ``delete_garbage`` freeing an ``InsideViews``
of an earlier window, and the GUI thread crashing in
``QCoreApplicationPrivate::sendThroughObjectEventFilters``; faulthandler
printed "Garbage-collecting" under the *GUI* thread because that flag is the
interpreter's, not a thread's).

What: automatic collection is switched off and a timer on the GUI thread
collects instead, with CPython's own thresholds (``gc.get_threshold()``):
generation 0 once that many more objects were allocated than freed,
generation 1 every tenth of those, and a full collection every tenth of
those but at most every ``FULL_MIN_S`` seconds (a full one walks everything
torch and Qt hold). pyqtgraph's ``util/garbage_collector.py`` does the same
for the same reason. Explicit ``gc.collect()`` calls still work anywhere; the
core never makes them, and the CLI (no Qt) keeps Python's own collector.

A full collection walks every object torch, numpy and Qt made at import:
~225 ms on the GUI thread (a visible freeze, measured with torch loaded).
Whenever modules were imported since the last look (torch on the warm-up
thread, the optimizer's torch._dynamo at the first run), the objects that
exist then are moved out of the collector's sight (``gc.freeze()``, after a
young collection): a full collection then takes under a millisecond.
"""

from __future__ import annotations

import gc
import sys
import time

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer

__all__ = ["CHECK_MS", "FULL_MIN_S", "GuiThreadCollector", "collect_on_gui_thread"]

CHECK_MS = 100  # how often the GUI thread looks at the collector's counts
FULL_MIN_S = 30.0  # at most one full collection this often: one takes ~0.1-0.3 s with torch loaded

_installed: GuiThreadCollector | None = None


class GuiThreadCollector(QObject):
    """Collects garbage on its own (the GUI) thread; automatic collection is off while it lives."""

    def __init__(self, parent: QObject):
        super().__init__(parent)
        threshold = gc.get_threshold()
        # gc.disable() keeps the thresholds; a threshold of 0 (collection off) stays off here too
        self.thresholds = (threshold[0], max(1, threshold[1]), max(1, threshold[2]))
        self.collections = [0, 0, 0]
        self._last_full = time.monotonic()
        self._modules = 0  # len(sys.modules) at the last freeze
        self.freezes = 0
        self.timer = QTimer(self)
        self.timer.setObjectName("gcTimer")
        self.timer.setInterval(CHECK_MS)
        self.timer.timeout.connect(self.check)
        self.was_enabled = gc.isenabled()
        if self.was_enabled and self.thresholds[0] > 0:
            gc.disable()
            self.timer.start()

    def check(self) -> int:
        """Collect the generation CPython would collect now; the generation collected, -1 for none."""
        counts = gc.get_count()
        if not self.timer.isActive() or counts[0] < self.thresholds[0]:
            return -1
        if len(sys.modules) != self._modules:
            # new modules live as long as the process: keep full collections from walking them
            gc.collect(1)
            gc.freeze()
            self._modules = len(sys.modules)
            self.freezes += 1
            return 1
        generation = 0
        if counts[1] >= self.thresholds[1]:
            generation = 1
            if counts[2] >= self.thresholds[2] and time.monotonic() - self._last_full >= FULL_MIN_S:
                generation = 2
        gc.collect(generation)
        self.collections[generation] += 1
        if generation == 2:
            self._last_full = time.monotonic()
        return generation

    def stop(self) -> None:
        """Give collection back to Python (the application is going away)."""
        if self.timer.isActive():
            self.timer.stop()
            gc.enable()


def collect_on_gui_thread() -> GuiThreadCollector | None:
    """Install the collector once per application, from the GUI thread (the
    window does, before it starts any thread). None without a QApplication or
    off the GUI thread."""
    global _installed
    app = QCoreApplication.instance()
    if app is None or QThread.currentThread() is not app.thread():
        return None
    if _installed is not None:
        try:
            if _installed.parent() is app:
                return _installed
        except RuntimeError:  # that application (and the collector with it) is gone
            pass
        _installed = None
    collector = GuiThreadCollector(app)
    app.aboutToQuit.connect(collector.stop)
    _installed = collector
    return collector
