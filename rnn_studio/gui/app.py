"""Starting the studio: a QApplication and the main window.

Before Qt is imported, two checks turn Qt's multi-line abort (exit 134) into
one line that says what to do (exit 2): no display at all, and an X display
whose xcb platform plugin cannot load because the system lacks libraries that
PySide6's wheel does not ship.
"""

from __future__ import annotations

import ctypes
import os
import sys

# What Qt's xcb plugin links to outside the wheel (`ldd` on PySide6's
# Qt/plugins/platforms/libqxcb.so and Qt/lib/libQt6XcbQpa.so.6), with the
# Debian/Ubuntu package of each. The first six are the ones minimal systems and
# fresh containers lack; the rest come with any X11 install, but when one is
# missing Qt aborts all the same.
XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb.so.1": "libxcb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
}


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


def _platform_is_xcb() -> bool:
    """Qt will load its xcb plugin: Linux, X11 chosen or left to Qt, and no
    Wayland session for Qt to prefer. A fallback list ("xcb;offscreen") is left
    to Qt, which moves on to the next plugin instead of aborting."""
    if not sys.platform.startswith("linux"):
        return False
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.startswith("xcb") and ";" not in platform
    return not os.environ.get("WAYLAND_DISPLAY")


def _library_loads(soname: str) -> bool:
    """dlopen it as Qt will (same search path, LD_LIBRARY_PATH included); a
    library that is found but cannot load counts as missing, as it does for Qt."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def missing_xcb_packages(loads=None) -> list[str]:
    """The packages whose libraries Qt's xcb plugin needs and cannot load
    (``loads(soname) -> bool`` stands in for the real probe in tests)."""
    loads = loads or _library_loads
    return [package for soname, package in XCB_LIBRARIES.items() if not loads(soname)]


def xcb_fix_line(packages: list[str]) -> str:
    """One line: what is missing and the command that installs it."""
    them = "it" if len(packages) == 1 else "them"
    return (
        f"rnn-studio: the window needs {', '.join(packages)} (missing); "
        f"install {them} with: sudo apt-get install {' '.join(packages)}\n"
    )


def run_app(argv=None, lesson: str | None = None) -> int:
    if not _has_display():
        sys.stderr.write(
            "rnn-studio: no display found, so the studio window cannot open; "
            "use 'rnn-studio train' to train without a screen\n"
        )
        return 2
    if _platform_is_xcb():
        missing = missing_xcb_packages()
        if missing:
            sys.stderr.write(xcb_fix_line(missing))
            return 2
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow

    app = QApplication.instance() or QApplication(argv or sys.argv)
    app.setApplicationName("RNN Studio")
    app.setOrganizationName("RNN Studio")
    # the window paints first; torch loads behind it and the GPUs join the device list
    window = MainWindow(defer_torch=True)
    window.show()
    if lesson:
        window.open_lesson(lesson)
    return app.exec()
