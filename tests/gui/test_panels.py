"""The panels' pure pieces: parameter count, buffers, names, the text reading."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_studio.core.config import ARCHITECTURES, MAX_SENTENCES_CHARS, ModelConfig, TaskConfig
from rnn_studio.core.data import SentenceTask, build_task, clean_sentences
from rnn_studio.core.errors import DataError
from rnn_studio.core.models import build_model, parameter_count
from rnn_studio.core.series import EnvelopeSeries
from rnn_studio.gui.panels.data_panel import PRESETS, DataPanel, SentencesEdit, cut_long_lines
from rnn_studio.gui.panels.gradient_panel import short_name
from rnn_studio.gui.panels.model_panel import count_parameters
from rnn_studio.gui.panels.text_view import reading_html


@settings(max_examples=40, deadline=None)
@given(
    arch=st.sampled_from(ARCHITECTURES),
    layers=st.integers(1, 3),
    hidden=st.integers(1, 24),
    encoding=st.sampled_from(["onehot", "embedding"]),
    bias=st.booleans(),
    bidirectional=st.booleans(),
    task=st.sampled_from(["text", "sine"]),
)
def test_parameter_count_matches_the_model_the_core_builds(arch, layers, hidden, encoding, bias, bidirectional, task):
    bidirectional = bidirectional and arch != "elman"
    model_cfg = ModelConfig(
        arch=arch, layers=layers, hidden=hidden, encoding=encoding, bias=bias, bidirectional=bidirectional, dropout=0.1
    )
    task_obj = build_task(TaskConfig(kind=task, sine_windows=4))
    vocab = len(task_obj.vocab) if task_obj.vocab is not None else 0
    assert count_parameters(model_cfg, task, vocab) == parameter_count(build_model(model_cfg, task_obj))


def test_every_preset_is_trainable_and_explained():
    assert len(PRESETS) >= 3
    for name, sentences, explanation in PRESETS:
        assert clean_sentences(list(sentences)) == list(sentences), name
        assert len(explanation) > 30


def test_curve_buffer_keeps_every_point_under_its_bound():
    buffer = EnvelopeSeries(2, capacity=4)
    for start in range(0, 1000, 7):
        steps = np.arange(start, start + 7, dtype=float)
        buffer.extend(steps, steps * 2)
    assert buffer.size == 7 * len(range(0, 1000, 7))
    assert np.array_equal(buffer.column(0), np.arange(buffer.size))
    assert np.array_equal(buffer.column(1), 2 * np.arange(buffer.size))
    buffer.clear()
    assert buffer.size == 0 and len(buffer.column(0)) == 0


@pytest.mark.parametrize(
    "name, short",
    [
        ("rnn.weight_ih_l0", "W_ih0"),
        ("rnn.weight_hh_l2", "W_hh2"),
        ("rnn.bias_hh_l1_reverse", "b_hh1r"),
        ("fc.weight", "out W"),
        ("fc.bias", "out b"),
        ("embedding.weight", "emb"),
    ],
)
def test_short_parameter_names(name, short):
    assert short_name(name) == short


def test_reading_marks_wrong_guesses():
    sentences = [{"input": "hey you", "target": "ey you", "predicted": "ex yo "}]
    body, right, total = reading_html(sentences)
    assert (right, total) == (4, 6)
    assert body.count("background:") == 2  # 'x' and the wrong space
    assert "·" in body  # a wrong space is visible


def test_reading_escapes_html_and_cuts_long_input():
    sentences = [{"input": "<b>" + "a" * 500, "target": "b>" + "a" * 500, "predicted": "b>" + "a" * 500}] * 100
    body, right, total = reading_html(sentences)
    assert "<b>a" not in body and "&lt;b&gt;" in body
    assert "more sentences" in body and total == right


def test_sentences_edit_holds_at_most_the_limit(qtbot):
    edit = SentencesEdit(max_chars=10)
    qtbot.addWidget(edit)
    offered = []
    edit.limitExceeded.connect(offered.append)
    edit.setPlainText("abcdefghijklmnop")
    assert edit.toPlainText() == "abcdefghij" and offered == [16]
    edit.selectAll()
    edit.insertPlainText("xyz")
    assert edit.toPlainText() == "xyz"
    edit.replace_all("0123456789ABC")
    assert edit.toPlainText() == "0123456789"
    edit.undo()  # a preset replaced the text as one undoable edit
    assert edit.toPlainText() == "xyz"
    assert SentencesEdit().max_chars == MAX_SENTENCES_CHARS


def test_cut_long_lines_counts_what_is_already_on_the_line():
    assert cut_long_lines("abc\ndef", 5) == ("abc\ndef", 0)
    assert cut_long_lines("abcdefg\r\nxy\u2029123456", 5) == ("abcde\r\nxy\u202912345", 7)
    assert cut_long_lines("abcd", 5, before=3) == ("ab", 7)
    assert cut_long_lines("ab\ncd", 5, before=4, after=4) == ("a\nc", 6)
    assert cut_long_lines("\n\n", 0) == ("\n\n", 0)


def test_sentences_edit_cuts_each_line_and_says_how_long_it_was(qtbot):
    edit = SentencesEdit(max_chars=100, max_line_chars=4)
    qtbot.addWidget(edit)
    cuts = []
    edit.limitsExceeded.connect(lambda offered, longest: cuts.append((offered, longest)))
    edit.setPlainText("abcdefgh\nij")
    assert edit.toPlainText() == "abcd\nij" and cuts == [(0, 8)]
    edit.setPlainText("x" * 300)  # both limits: the line counts at its full length
    assert edit.toPlainText() == "xxxx" and cuts[-1] == (300, 300)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=12), min_size=1, max_size=5))
def test_the_vocabulary_size_shown_matches_the_core(qapp, lines):
    panel = DataPanel()
    try:
        panel.sentencesEdit.setPlainText("\n".join(lines))
        try:  # what Train would build from the editor's text
            expected = len(SentenceTask(panel.sentences_text()).vocab)
        except DataError:
            return
        assert panel.vocab_size() == expected
    finally:
        panel.deleteLater()
