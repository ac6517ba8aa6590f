"""Starting the studio: a QApplication and the main window."""

from __future__ import annotations

import os
import sys


def _has_display() -> bool:
    if sys.platform.startswith("linux"):
        platform = os.environ.get("QT_QPA_PLATFORM", "")
        if platform and not platform.startswith(("xcb", "wayland")):
            return True  # offscreen, minimal, vnc...: the user chose it
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


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
