"""`rnn-studio` with no usable screen says so in one line (exit 2)."""

import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize("display", ["", ":77", "not-a-display"])
def test_no_usable_display_is_one_line_not_a_qt_abort(display):
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env["DISPLAY"] = display
    proc = subprocess.run([sys.executable, "-m", "rnn_studio"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "rnn-studio train" in proc.stderr
