"""Fixtures shared by the window tests."""

import pytest

from rnn_studio.gui import MainWindow
from rnn_studio.gui.panels.training_panel import FLAT_OUT

RUN_TIMEOUT_MS = 60_000


@pytest.fixture
def window(qtbot):
    """A fresh window running flat out (tests/conftest.py gives it its own settings folder)."""
    w = MainWindow()
    qtbot.addWidget(w)
    w.paceSlider.setValue(FLAT_OUT)
    return w
