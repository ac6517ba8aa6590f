"""Issue 8, seen in a real window under Xvfb: after a run, projector mode grew
the window to 1016x814 on a 1024x768 screen (the per-tensor bars ask for a
row each at projector size), cutting off the status bar and the prompt. The
views now scroll inside the window instead: the window's smallest height
stays within the screen whatever the views ask for."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QScrollArea

from rnn_studio.gui.screen_fit import fit_window

RUN_TIMEOUT_MS = 60_000


def test_projector_mode_after_a_deep_run_still_fits_768(window, qtbot):
    w = window
    w.archCombo.setCurrentIndex(w.archCombo.findData("lstm"))
    w.layersSpin.setValue(3)  # 14 tensors: 14 named bars
    w.epochsSpin.setValue(2)
    with qtbot.waitSignal(w.runStateChanged, check_params_cb=lambda s: s == "finished", timeout=RUN_TIMEOUT_MS):
        w.trainButton.click()
    fit_window(w, QSize(1024, 768))
    w.show()
    qtbot.waitExposed(w)
    w.projectorModeAction.trigger()
    qtbot.wait(100)
    assert w.minimumSizeHint().height() <= 768
    assert w.height() <= 768
    assert w.statusBar().geometry().bottom() <= w.height()
    scroll = w.findChild(QScrollArea, "viewsScroll")
    assert scroll is not None
    scroll.ensureWidgetVisible(w.completeButton)
    qtbot.wait(50)
    top_left = w.completeButton.mapTo(scroll.viewport(), w.completeButton.rect().topLeft())
    assert scroll.viewport().rect().contains(top_left)
