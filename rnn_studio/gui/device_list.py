"""Filling the device list without making the window wait for torch.

``MainWindow(defer_torch=True)`` (what ``rnn-studio`` uses) paints before
torch has loaded: the device list starts with the CPU, and a background
thread (``worker.DeviceScan``) imports torch after the first paint and fills
in the graphics cards. Without it the list is complete when the window is
built, and torch's slow first-optimizer imports warm up behind the window.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from PySide6.QtCore import QEvent, QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QWidget

from .worker import DeviceScan, warm_up_in_background

DEVICE_SCAN_FALLBACK_MS = 3000  # start the device scan even if the first paint never comes


class _FirstPaint(QObject):
    """Calls ``callback`` (once, on the next event-loop turn) after the first
    paint event reaches ``widget``, then stops watching."""

    def __init__(self, widget, callback):
        super().__init__(widget)
        self._callback = callback
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Paint and self._callback is not None:
            callback, self._callback = self._callback, None
            obj.removeEventFilter(self)
            QTimer.singleShot(0, callback)  # after this frame has been drawn
        return False


class DeviceList(QObject):
    """Lists the devices into the training panel, after the first paint when deferred."""

    listed = Signal()  # the device list is complete
    failed = Signal(str)  # why PyTorch could not list the graphics cards (the CPU stays)

    def __init__(
        self,
        window: QWidget,
        training_panel,
        *,
        defer_torch: bool,
        run_in_progress: Callable[[], bool],
        restoring: Callable[[], AbstractContextManager],
    ):
        super().__init__(window)
        self._window, self._panel = window, training_panel
        self._run_in_progress, self._restoring = run_in_progress, restoring
        self._scan: DeviceScan | None = None
        if defer_torch:
            # torch loads on a background thread once the window has painted
            self._first_paint = _FirstPaint(window, self.start_scan)
            QTimer.singleShot(0, self._scan_if_not_shown)
            QTimer.singleShot(DEVICE_SCAN_FALLBACK_MS, self.start_scan)
        else:
            QTimer.singleShot(0, warm_up_in_background)  # once the window is up

    @Slot()
    def _scan_if_not_shown(self) -> None:
        if not self._window.isVisible():  # built but not shown (tests, scripts): nothing to paint first
            self.start_scan()

    @Slot()
    def start_scan(self) -> None:
        if self._scan is not None or self._panel.devices_ready:
            return
        # no parent: the scan thread may still hold it when the window is gone
        self._scan = DeviceScan()
        self._scan.found.connect(self._found)
        self._scan.start()

    @Slot(object)
    def _found(self, choices: dict) -> None:
        # a device restored from the settings is chosen now, unless a run already uses another
        apply = not self._run_in_progress()
        with self._restoring():
            self._panel.set_devices(choices["devices"], choices["unavailable"], apply_pending=apply)
        if choices.get("error"):
            self.failed.emit(
                f"PyTorch could not list the graphics cards ({choices['error']}); training runs on the CPU."
            )
        self.listed.emit()
