"""The prompt panel counts new characters, not the prompt, and stops at the end
of a word: 'good' gives 'good i am fine ' with the defaults, and a prompt longer
than seed 000's 15 characters still gets an answer."""

import pytest

from rnn_studio.core import generation
from rnn_studio.core.config import RunConfig
from rnn_studio.core.errors import DataError
from rnn_studio.core.training import Trainer
from rnn_studio.gui.panels import prompt_panel
from rnn_studio.gui.panels.prompt_panel import PromptPanel

from .conftest import RUN_TIMEOUT_MS


@pytest.fixture(scope="module")
def seed_run():
    cfg = RunConfig()
    cfg.train.device = "cpu"
    trainer = Trainer(cfg)
    while not trainer.finished:
        trainer.step()
    return trainer


@pytest.fixture
def panel(qtbot):
    p = PromptPanel()
    qtbot.addWidget(p)
    return p


def answer_with(panel, trainer):
    """Serve the panel's requests as the worker does: core.complete with the
    length it was sent, the reply dict back into show_result."""

    def serve(prompt, length, temperature):
        reply = {"run": 1, "id": 1, "text": "", "prompt": prompt, "unknown": [], "length": length, "error": None}
        try:
            result = generation.complete(trainer.model, trainer.vocab, prompt, length, temperature, seed=1)
            reply.update(text=result.text, prompt=result.prompt, unknown=list(result.unknown_chars))
        except DataError as exc:
            reply["error"] = str(exc)
        panel.show_result(reply)

    panel.completeRequested.connect(serve)


def test_limits_mirror_the_core():
    assert prompt_panel.MAX_PROMPT_CHARS == generation.MAX_PROMPT_LENGTH
    assert prompt_panel.MAX_TOTAL_CHARS == generation.MAX_COMPLETION_LENGTH
    assert prompt_panel.WORD_END_SLACK == generation.WORD_END_SLACK


def test_length_is_new_characters_and_says_so(panel):
    assert panel.lengthSpin.value() == prompt_panel.DEFAULT_NEW_CHARS
    tip = panel.lengthSpin.toolTip()
    assert "after the prompt" in tip and "word" in tip and "--length" in tip
    labels = [label.text() for label in panel.findChildren(prompt_panel.QLabel)]
    assert "New characters" in labels and "Length" not in labels


def test_request_carries_the_total_the_core_counts(panel, qtbot):
    panel.promptEdit.setText("good")
    panel.lengthSpin.setValue(30)
    with qtbot.waitSignal(panel.completeRequested, timeout=1000) as blocker:
        panel.completeButton.click()
    assert blocker.args == ["good", 4 + 30 + generation.WORD_END_SLACK, 0.0]
    # the core's limit caps it: a near-full prompt still asks for what fits
    panel.promptEdit.setText("a" * 9_995)
    with qtbot.waitSignal(panel.completeRequested, timeout=1000) as blocker:
        panel.completeButton.click()
    assert blocker.args[1] == generation.MAX_COMPLETION_LENGTH


def test_seed_network_finishes_good_with_the_defaults(panel, seed_run):
    answer_with(panel, seed_run)
    panel.promptEdit.setText("good")
    panel.completeButton.click()
    assert panel.completionView.text() == "good i am fine "
    assert panel.completionWarning.isHidden()
    panel.promptEdit.setText("have")
    panel.completeButton.click()
    assert panel.completionView.text() == "have a nice day "


def test_a_word_cut_by_the_count_is_finished(panel, seed_run):
    answer_with(panel, seed_run)
    panel.promptEdit.setText("good")
    panel.lengthSpin.setValue(8)  # 'good i am fi'
    panel.completeButton.click()
    assert panel.completionView.text() == "good i am fine "


def test_a_prompt_longer_than_15_still_gets_new_characters(panel, seed_run):
    answer_with(panel, seed_run)
    prompt = "good i am fine you"  # 18 characters: seed 000's length 15 added nothing
    panel.promptEdit.setText(prompt)
    panel.lengthSpin.setValue(15)
    panel.completeButton.click()
    text = panel.completionView.text()
    assert text.startswith(prompt)
    added = len(text) - len(prompt)
    assert 15 <= added <= 15 + generation.WORD_END_SLACK
    assert text[-1] == " " or added == 15 + generation.WORD_END_SLACK
    assert panel.completionWarning.isHidden()


def test_a_prompt_that_fills_the_limit_is_explained(panel, seed_run):
    answer_with(panel, seed_run)
    panel.promptEdit.setText("good " * 2_000)  # 10,000 characters
    panel.completeButton.click()
    assert panel.completionView.text() == "good " * 2_000
    assert not panel.completionWarning.isHidden()
    assert "at most 10,000 characters" in panel.completionWarning.text()
    assert "shorten the prompt" in panel.completionWarning.text()


def test_errors_still_show_as_warnings(panel, seed_run):
    answer_with(panel, seed_run)
    panel.promptEdit.setText("")
    panel.completeButton.click()
    assert "empty" in panel.completionWarning.text() and panel.completionView.text() == ""


def test_window_completes_good_and_a_long_prompt(window, qtbot):
    """Through the real window and worker: the seed run, default settings."""
    w = window
    with qtbot.waitSignal(w.runStateChanged, check_params_cb=lambda s: s == "finished", timeout=RUN_TIMEOUT_MS):
        w.trainButton.click()
    w.promptEdit.setText("good")
    w.completeButton.click()
    qtbot.waitUntil(lambda: w.completionView.text() == "good i am fine ", timeout=10_000)
    assert w.completionWarning.isHidden()
    w.promptEdit.setText("good i am fine you")
    w.completionView.clear()
    w.completeButton.click()
    qtbot.waitUntil(lambda: w.completionView.text() != "", timeout=10_000)
    assert w.completionView.text().startswith("good i am fine you")
    assert len(w.completionView.text()) >= 18 + prompt_panel.DEFAULT_NEW_CHARS
    assert w.completionWarning.isHidden()
