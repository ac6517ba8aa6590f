"""`rnn-studio` says in one line (exit 2) what keeps its window from opening,
before Qt can abort (exit 134): no usable screen, or an X display without the
libraries Qt's xcb plugin needs."""

import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from rnn_studio.gui import app


def free_display() -> str:
    """A local X display number nobody uses: no socket, no lock file, no
    abstract socket (an X server in another mount namespace still answers on
    those). Numbers from 100 up, where desktops and CI's :99 are not."""
    try:
        with open("/proc/net/unix") as f:
            listening = {int(n) for n in re.findall(r"/tmp/\.X11-unix/X(\d+)", f.read())}
    except OSError:
        listening = set()
    for number in range(100, 1000):
        if number in listening:
            continue
        if os.path.exists(f"/tmp/.X11-unix/X{number}") or os.path.exists(f"/tmp/.X{number}-lock"):
            continue
        return f":{number}"
    pytest.skip("no free X display number between 100 and 999")


def studio_env(**overrides) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update(overrides)
    return env


@pytest.mark.parametrize("display", ["", "free", "not-a-display"])
def test_no_usable_display_is_one_line_not_a_qt_abort(display):
    if display == "free":
        display = free_display()
    proc = subprocess.run([sys.executable, "-m", "rnn_studio"], env=studio_env(DISPLAY=display),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "rnn-studio train" in proc.stderr


def test_free_display_has_no_socket_and_no_lock():
    number = free_display()[1:]
    assert int(number) >= 100
    assert not os.path.exists(f"/tmp/.X11-unix/X{number}") and not os.path.exists(f"/tmp/.X{number}-lock")


# ---------------------------------------------------------------- xcb libraries
def test_probe_names_the_missing_package_and_the_apt_line():
    assert app.missing_xcb_packages(loads=lambda soname: True) == []
    missing = app.missing_xcb_packages(loads=lambda soname: soname != "libxcb-cursor.so.0")
    assert missing == ["libxcb-cursor0"]
    assert app.xcb_fix_line(missing) == (
        "rnn-studio: the window needs libxcb-cursor0 (missing); "
        "install it with: sudo apt-get install libxcb-cursor0\n"
    )
    two = app.missing_xcb_packages(loads=lambda soname: soname not in ("libxcb-icccm.so.4", "libxcb-keysyms.so.1"))
    assert two == ["libxcb-icccm4", "libxcb-keysyms1"]
    assert app.xcb_fix_line(two).endswith("install them with: sudo apt-get install libxcb-icccm4 libxcb-keysyms1\n")


def test_probe_loads_real_libraries():
    assert app._library_loads("libc.so.6")
    assert not app._library_loads("libno-such-rnn-studio-library.so.0")


def test_every_library_the_xcb_plugin_links_is_probed():
    """ldd on the wheel's xcb plugin: each system library it needs (X11, xcb,
    xkbcommon) is in the probe's list, so a new Qt cannot add one unnoticed."""
    if not sys.platform.startswith("linux") or shutil.which("ldd") is None:
        pytest.skip("ldd is Linux only")
    import PySide6

    qt = os.path.join(os.path.dirname(PySide6.__file__), "Qt")
    needed = set()
    for lib in ("plugins/platforms/libqxcb.so", "lib/libQt6XcbQpa.so.6"):
        out = subprocess.run(["ldd", os.path.join(qt, lib)], capture_output=True, text=True).stdout
        needed |= set(re.findall(r"^\s*((?:libxcb|libX11|libxkbcommon)[\w.+-]*\.so\.\d+)", out, re.M))
    assert needed and needed <= set(app.XCB_LIBRARIES)


@pytest.mark.parametrize("env,xcb", [
    ({}, True),
    ({"QT_QPA_PLATFORM": "xcb"}, True),
    ({"QT_QPA_PLATFORM": "xcb:nograb"}, True),
    ({"QT_QPA_PLATFORM": "offscreen"}, False),
    ({"QT_QPA_PLATFORM": "xcb;offscreen"}, False),  # Qt falls back instead of aborting
    ({"WAYLAND_DISPLAY": "wayland-0"}, False),
    ({"WAYLAND_DISPLAY": "wayland-0", "QT_QPA_PLATFORM": "xcb"}, True),  # XWayland, asked for
])
def test_xcb_is_checked_only_when_qt_will_load_it(monkeypatch, env, xcb):
    monkeypatch.setattr(sys, "platform", "linux")
    for name in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert app._platform_is_xcb() is xcb


def test_missing_library_is_one_line_exit_2_before_qt_is_imported():
    """The start path for real, with the display and the probe stood in for:
    one line on stderr, exit 2, and Qt never imported (so it cannot abort)."""
    script = (
        "import sys\n"
        "from rnn_studio.gui import app\n"
        "app._x_display_reachable = lambda display: True\n"
        "app._library_loads = lambda soname: soname != 'libxcb-cursor.so.0'\n"
        "code = app.run_app()\n"
        "assert 'PySide6' not in sys.modules\n"
        "sys.exit(code)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], env=studio_env(DISPLAY=":0"),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == (
        "rnn-studio: the window needs libxcb-cursor0 (missing); "
        "install it with: sudo apt-get install libxcb-cursor0\n"
    )


@pytest.fixture
def xvfb():
    """A real X server on a free display; skipped where Xvfb is not installed."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb)")
    for _ in range(3):  # another test run may take the same number first
        display = free_display()
        server = subprocess.Popen(["Xvfb", display, "-nolisten", "tcp"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        socket = f"/tmp/.X11-unix/X{display[1:]}"
        deadline = time.monotonic() + 10
        while server.poll() is None and not os.path.exists(socket) and time.monotonic() < deadline:
            time.sleep(0.05)
        if server.poll() is None and os.path.exists(socket):
            break
        server.kill()
        server.wait()
    else:
        pytest.skip("Xvfb did not start")
    yield display
    server.terminate()
    server.wait(timeout=10)


def test_real_x_display_without_the_libraries_is_one_line_not_a_qt_abort(xvfb):
    missing = app.missing_xcb_packages()
    if not missing:
        pytest.skip("this system has every library the xcb plugin needs: the window would open")
    proc = subprocess.run([sys.executable, "-m", "rnn_studio"], env=studio_env(DISPLAY=xvfb),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == app.xcb_fix_line(missing)
