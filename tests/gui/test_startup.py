"""The window paints before torch loads (issue 3: "torch can load after the window shows").

``MainWindow(defer_torch=True)`` (what ``rnn-studio`` opens) must not import
torch before its first paint; a background thread imports it afterwards and
fills in the device list; a Train pressed before that works (the worker thread
waits for the import). The first check needs a fresh interpreter, where torch
is not loaded yet. ``MainWindow()`` keeps filling the device list at once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from PySide6.QtCore import Qt

from rnn_studio.gui import MainWindow
from rnn_studio.gui.panels.training_panel import LOOKING_LABEL, TrainingPanel

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent(
    """
    import json, sys
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication
    import rnn_studio.gui.main_window as main_window
    report = {"torch_after_import": "torch" in sys.modules}
    app = QApplication(sys.argv)
    w = main_window.MainWindow(defer_torch=True)
    report["torch_after_build"] = "torch" in sys.modules
    combo = w.deviceCombo

    def entries():
        return [(combo.itemData(i), combo.itemText(i), combo.model().item(i).isEnabled()) for i in range(combo.count())]

    def finish():
        report["entries_after"] = entries()
        report["run_state"] = w.run_state
        report["loss_points"] = w.lossView.points
        w.close()
        app.quit()

    def check():
        if w.trainingPanel.devices_ready and w.run_state == "finished":
            finish()
        else:
            QTimer.singleShot(20, check)

    class Probe(QObject):
        def eventFilter(self, obj, event):
            if obj is w and event.type() == QEvent.Type.Paint and "torch_at_first_paint" not in report:
                report["torch_at_first_paint"] = "torch" in sys.modules
                report["entries_at_first_paint"] = entries()
                w.paceSlider.setValue(w.paceSlider.maximum())
                w.epochsSpin.setValue(20)
                QTimer.singleShot(0, w.trainButton.click)  # before torch has loaded
                QTimer.singleShot(0, check)
            return False

    probe = Probe()
    w.installEventFilter(probe)
    w.show()
    QTimer.singleShot(60000, finish)
    app.exec()
    print("REPORT " + json.dumps(report), flush=True)
    """
)


def test_the_window_paints_before_torch_loads_and_lists_devices_after(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", RNN_STUDIO_SETTINGS_DIR=str(tmp_path / "settings"),
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=120)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("REPORT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    report = json.loads(lines[-1][len("REPORT "):])
    assert report["torch_after_import"] is False
    assert report["torch_after_build"] is False
    assert report["torch_at_first_paint"] is False
    first = report["entries_at_first_paint"]
    assert first[0] == ["cpu", "CPU", True] and first[1][1] == LOOKING_LABEL and first[1][2] is False
    after = report["entries_after"]
    assert after[0] == ["cpu", "CPU", True]
    names = [name for name, _, _ in after]
    assert "" not in names  # the placeholder is gone
    assert any(name.startswith("cuda") for name in names)  # a CUDA entry, enabled or saying why not
    # Train pressed before torch had loaded still trained the whole run
    assert report["run_state"] == "finished" and report["loss_points"] == 20


def test_deferred_window_fills_the_same_device_list(qtbot):
    full = MainWindow()
    qtbot.addWidget(full)
    assert full.trainingPanel.devices_ready  # at once, as tests and checks read it
    deferred = MainWindow(defer_torch=True)
    qtbot.addWidget(deferred)
    assert not deferred.trainingPanel.devices_ready
    assert deferred.deviceCombo.itemData(0) == "cpu" and "Looking for" in deferred.deviceCombo.toolTip()
    qtbot.waitUntil(lambda: deferred.trainingPanel.devices_ready, timeout=30_000)

    def entries(combo):
        return [
            (combo.itemData(i), combo.itemText(i), combo.model().item(i).isEnabled(),
             combo.itemData(i, Qt.ItemDataRole.ToolTipRole))
            for i in range(combo.count())
        ]

    assert entries(deferred.deviceCombo) == entries(full.deviceCombo)
    assert "looking" not in deferred.deviceCombo.toolTip().lower()


def test_a_device_asked_for_before_the_list_is_complete_is_chosen_when_it_appears(qtbot):
    panel = TrainingPanel(defer_devices=True)
    qtbot.addWidget(panel)
    changes = []
    panel.deviceCombo.currentIndexChanged.connect(changes.append)
    assert not panel.set_device("cuda:1")  # e.g. restored from the settings while torch loads
    assert panel.device == "cpu" and panel.wanted_device == "cuda:1"
    panel.set_devices([("cpu", "CPU"), ("cuda:0", "CUDA 0: A"), ("cuda:1", "CUDA 1: B")], {"mps": "not a Mac"})
    assert panel.device == "cuda:1" and changes == [2]
    index = panel.deviceCombo.findData("mps")
    assert not panel.deviceCombo.model().item(index).isEnabled()
    # once the list is complete, an absent device is simply refused
    assert not panel.set_device("cuda:7") and panel.wanted_device == "cuda:1"


def test_a_pending_device_is_not_switched_under_a_running_run(qtbot):
    panel = TrainingPanel(defer_devices=True)
    qtbot.addWidget(panel)
    panel.set_device("cuda:0")
    panel.set_devices([("cpu", "CPU"), ("cuda:0", "CUDA 0: A")], {}, apply_pending=False)
    assert panel.device == "cpu" and panel.wanted_device == "cpu"
