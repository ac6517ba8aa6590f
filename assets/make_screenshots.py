"""Write the README's screenshots: the seed run finished and 'good' completed,
at 1024x768 and 1920x1080, normal and projector mode.

Run on a real X display of that size (e.g. ``Xvfb :99 -screen 0 1920x1080x24``)::

    DISPLAY=:99 python assets/make_screenshots.py 1920x1080
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RNN_STUDIO_SETTINGS_DIR", tempfile.mkdtemp(prefix="rnn-studio-shots-"))


def main() -> int:
    size = sys.argv[1] if len(sys.argv) > 1 else "1024x768"
    width, height = (int(v) for v in size.split("x"))
    from PySide6.QtCore import QSize
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    from rnn_studio.gui import MainWindow
    from rnn_studio.gui.panels.training_panel import FLAT_OUT
    from rnn_studio.gui.screen_fit import fit_window

    w = MainWindow()
    w.confirm_discard = lambda question: True
    fit_window(w, QSize(width - 8, height - 40))
    w.show()

    def settle(seconds: float) -> None:
        end = time.time() + seconds
        while time.time() < end:
            app.processEvents()
            time.sleep(0.01)

    settle(1.0)
    w.paceSlider.setValue(FLAT_OUT)
    w.trainButton.click()
    end = time.time() + 60
    while w.run_state != "finished" and time.time() < end:
        settle(0.05)
    w.promptEdit.setText("good")
    w.completeButton.click()
    settle(1.5)
    out = ROOT / "assets"
    w.grab().save(str(out / f"screenshot-{size}.png"))
    w.projectorModeAction.trigger()
    w.messageBar.dismiss()
    if width < 1280:
        w.settingsPanelAction.trigger()  # hide the settings: the plots get the width
    settle(1.0)
    w.grab().save(str(out / f"screenshot-{size}-projector.png"))
    w.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
