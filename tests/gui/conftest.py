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


@pytest.fixture(autouse=True)
def no_unanswered_questions(monkeypatch):
    """A modal question nobody answers would hang the run: a test that makes the
    window ask must answer through ``w.confirm_discard``; any other ask fails."""
    from rnn_studio.gui import main_window

    def unanswered(parent, question):
        raise AssertionError(f"the window asked a question no test answered: {question}")

    monkeypatch.setattr(main_window, "ask_to_discard", unanswered)
