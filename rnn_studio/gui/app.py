"""Starting the studio: a QApplication and the main window."""

from __future__ import annotations

import os
import sys


def _has_display() -> bool:
    if sys.platform.startswith("linux"):
        platform = os.environ.get("QT_QPA_PLATFORM", "")
        if platform and not platform.startswith(("xcb", "wayland")):
            return True  # offscreen, minimal, vnc...: the user chose it
        if os.environ.get("WAYLAND_DISPLAY"):
            return True
        return _x_display_reachable(os.environ.get("DISPLAY", ""))
    return True


def _x_display_reachable(display: str) -> bool:
    """A local X display (":N") answers on /tmp/.X11-unix/XN; without it Qt
    aborts with several lines of its own instead of our one. Remote displays
    (host:N, SSH forwarding) are left to Qt."""
    if not display:
        return False
    host, _, number = display.rpartition(":")
    if host not in ("", "unix"):
        return True
    number = number.split(".", 1)[0]
    if not number.isdigit():
        return False
    return os.path.exists(f"/tmp/.X11-unix/X{number}")


def run_app(argv=None) -> int:
    if not _has_display():
        sys.stderr.write(
            "rnn-studio: no display found, so the studio window cannot open; "
            "use 'rnn-studio train' to train without a screen\n"
        )
        return 2
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow

    app = QApplication.instance() or QApplication(argv or sys.argv)
    app.setApplicationName("RNN Studio")
    app.setOrganizationName("RNN Studio")
    # the window paints first; torch loads behind it and the GPUs join the device list
    window = MainWindow(defer_torch=True)
    window.show()
    return app.exec()
