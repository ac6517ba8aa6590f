"""A live plot repainted a few thousand times must not crash the interpreter.

PySide6-Essentials 6.12.0 with pyqtgraph 0.14.0 dies with "Fatal Python
error: none_dealloc" inside AxisItem.paint within ~100 repaints here. The run
happens in a subprocess so such a crash fails this test instead of killing the
whole suite; an upgrade that brings the crash back fails CI.
"""

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import numpy as np
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    widget = pg.PlotWidget()
    widget.resize(640, 400)
    widget.show()
    curve = widget.plot(pen="y")
    widget.setLogMode(False, False)
    y = np.empty(0)
    for i in range(REPAINTS):
        y = np.append(y, np.exp(-i / 500.0) + 0.01 * np.sin(i))
        curve.setData(y)
        widget.setTitle(f"repaint {i}")  # title and axes change: AxisItem repaints
        widget.repaint()
        app.processEvents()
    print("repaints", REPAINTS)
    """
)


def test_live_plot_survives_thousands_of_repaints():
    repaints = 3000
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT.replace("REPAINTS", str(repaints))],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert proc.returncode == 0, f"plot process died (exit {proc.returncode}):\n{proc.stderr[-2000:]}"
    assert f"repaints {repaints}" in proc.stdout
