"""Python's garbage collector frees the window's garbage on the GUI thread only (gui/collector.py).

The regression: a worker thread that allocated a lot (loading a hostile
checkpoint) ran CPython's automatic collection itself and deleted widgets of
an earlier window in the worker thread while the GUI thread dispatched events:
SIGSEGV in about half the full GUI test runs.
"""

import gc
import threading
import weakref

from PySide6.QtCore import QObject

from rnn_studio.gui.collector import collect_on_gui_thread


def _garbage_qobject(freed_on: list) -> None:
    """A QObject (made here, on the GUI thread) in a reference cycle: only the
    cyclic collector frees it, on whichever thread runs the collection."""
    obj = QObject()
    obj.me = obj
    weakref.finalize(obj, lambda: freed_on.append(threading.get_ident()))


def test_a_worker_thread_never_frees_the_windows_garbage(window, qtbot):
    gc.collect()
    freed_on: list = []
    _garbage_qobject(freed_on)
    kept = []
    # as a loader thread walking 100,000 settings values does: far past CPython's
    # thresholds, so with automatic collection the worker collects (and frees the QObject)
    worker = threading.Thread(target=lambda: kept.append([[] for _ in range(100_000)]))
    worker.start()
    worker.join()
    assert freed_on == [], "a worker thread ran the collector and freed a GUI-thread QObject"
    qtbot.waitUntil(lambda: bool(freed_on), timeout=5000)  # the GUI thread's timer collects it
    assert freed_on == [threading.get_ident()]
    assert not gc.isenabled(), "automatic collection stays off while the window's collector runs"


def test_the_collector_is_installed_once_and_only_from_the_gui_thread(window):
    first = collect_on_gui_thread()
    assert first is not None and collect_on_gui_thread() is first
    from_worker = []
    worker = threading.Thread(target=lambda: from_worker.append(collect_on_gui_thread()))
    worker.start()
    worker.join()
    assert from_worker == [None]


def test_new_modules_are_frozen_out_of_full_collections_but_garbage_is_not(window):
    import sys
    import types

    collector = collect_on_gui_thread()
    frozen = gc.get_freeze_count()
    freed_on: list = []
    _garbage_qobject(freed_on)
    sys.modules["rnn_studio_test_new_module"] = types.ModuleType("rnn_studio_test_new_module")
    try:
        kept = [[] for _ in range(2 * gc.get_threshold()[0])]  # past the young generation's threshold
        assert collector.check() == 1
        assert gc.get_freeze_count() > frozen, "what existed after the import is no longer walked"
        assert freed_on, "garbage made before the freeze is collected first, not kept for ever"
        freezes = collector.freezes
        kept += [[] for _ in range(2 * gc.get_threshold()[0])]
        collector.check()
        assert collector.freezes == freezes, "no second freeze without a new import"
        assert len(kept) > 0
    finally:
        del sys.modules["rnn_studio_test_new_module"]
