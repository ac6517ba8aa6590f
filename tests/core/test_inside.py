"""core.inside: the frames the window's inside views draw, without Qt.

Each number is checked against the core function ``rnn-studio inspect``
uses (``inspection.read_text``, ``complete_with_confidence``, ``branch``)
on the same weights; a rewound frame against a copy of the model holding
the snapshot, and the live weights must be untouched afterwards.
"""

import copy

import numpy as np
import pytest
import torch

from rnn_studio.core.config import defaults_for
from rnn_studio.core.evolution import restore_snapshot
from rnn_studio.core.inside import (
    InsideRequest,
    compute_inside,
    elman_check,
    new_recorder,
    record_start,
    recorder_from_saved,
)
from rnn_studio.core.inspection import branch, complete_with_confidence, read_text
from rnn_studio.core.training import Trainer

SENTENCES = ["cat: it sat on the mat and said meow", "dog: it sat on the mat and said woof"]


def trained(arch: str, epochs: int = 12, hidden: int = 16):
    cfg = defaults_for("text")
    cfg.model.arch, cfg.model.hidden = arch, hidden
    cfg.task.sentences = list(SENTENCES)
    cfg.train.epochs = epochs
    trainer = Trainer(cfg)
    recorder = new_recorder("cat", epochs, 20)
    assert record_start(recorder, trainer) is not None  # epoch 0, the untrained network
    for _ in range(epochs):
        trainer.step()
        recorder.maybe_record(trainer)
    return trainer, recorder


@pytest.mark.parametrize("arch", ["lstm", "gru", "rnn", "elman"])
def test_a_frame_holds_the_reading_and_completion_inspect_gives(arch):
    trainer, recorder = trained(arch)
    frame = compute_inside(trainer, recorder, InsideRequest(7, sentence=SENTENCES[1], prompt="cat", length=30))
    assert frame.id == 7 and frame.error is None and frame.epoch == trainer.epoch
    expected = read_text(trainer.model, trainer.vocab, SENTENCES[1])
    np.testing.assert_array_equal(frame.reading.hidden, expected.hidden)
    np.testing.assert_array_equal(frame.reading.probabilities, expected.probabilities)
    if arch in ("lstm", "gru"):
        assert set(frame.reading.gates) == set(expected.gates)
    else:
        assert frame.reading.gates is None and "plain RNN has no gates" in frame.reading.gates_reason
    completion = complete_with_confidence(trainer.model, trainer.vocab, "cat", 30)
    assert frame.completion.text == completion.text
    np.testing.assert_array_equal(frame.completion.confidence, completion.confidence)
    assert [m[0] for m in frame.moments] == [s.epoch for s in recorder.snapshots]
    assert [s.text for s in frame.samples] == [s.text for s in recorder.samples]
    assert frame.samples[0].epoch == 0


def test_a_rewound_frame_shows_the_snapshot_and_leaves_the_weights_as_they_were():
    trainer, recorder = trained("lstm", epochs=20)
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    snapshot = recorder.nearest(0)
    frame = compute_inside(
        trainer, recorder, InsideRequest(1, sentence=SENTENCES[0], prompt="cat", length=20, moment=0, predictions=True)
    )
    assert frame.moment == (0, 0)
    then = copy.deepcopy(trainer.model)
    restore_snapshot(then, snapshot)
    np.testing.assert_allclose(frame.reading.hidden, read_text(then, trainer.vocab, SENTENCES[0]).hidden, atol=1e-6)
    assert frame.completion.text == complete_with_confidence(then, trainer.vocab, "cat", 20).text
    assert frame.completion.text == recorder.samples[0].text  # the sample of epoch 0 is that network's
    assert frame.predictions["kind"] == "text" and len(frame.predictions["sentences"]) == 2
    for name, value in trainer.model.state_dict().items():
        assert torch.equal(value, before[name]), name


def test_a_branch_continues_from_the_chosen_candidate():
    trainer, recorder = trained("gru")
    text = complete_with_confidence(trainer.model, trainer.vocab, "dog", 25).text
    frame = compute_inside(trainer, recorder, InsideRequest(2, prompt="dog", length=25, branch=(text, 4, "w")))
    assert frame.completion.text.startswith(text[:4] + "w")
    assert frame.completion.text == branch(trainer.model, trainer.vocab, text, 4, "w", 25).text
    bad = compute_inside(trainer, recorder, InsideRequest(3, prompt="dog", branch=(text, 4, "€")))
    assert bad.completion is None and "never writes" in bad.completion_error


def test_what_cannot_be_read_comes_back_in_words():
    assert "press Train" in compute_inside(None, None, InsideRequest(1)).error
    cfg = defaults_for("sine")
    cfg.train.epochs = 1
    frame = compute_inside(Trainer(cfg), None, InsideRequest(1, sentence="abc", prompt="a"))
    assert "sine wave" in frame.error and frame.reading is None
    trainer, recorder = trained("rnn", epochs=2)
    frame = compute_inside(trainer, recorder, InsideRequest(1, sentence="x" * 6000))
    assert frame.reading is None and "limit" in frame.reading_error


def test_a_recorder_carries_over_and_a_branch_keeps_only_what_came_before():
    _trainer, recorder = trained("lstm", epochs=20)
    assert [s.epoch for s in recorder.snapshots] == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20]
    onward = new_recorder("cat", 40, 20, previous=recorder)
    assert [s.epoch for s in onward.snapshots] == [s.epoch for s in recorder.snapshots]
    assert onward.schedule.every_epochs == 4
    branched = new_recorder("cat", 20, 20, previous=recorder, until_epoch=8)
    assert [s.epoch for s in branched.samples] == [0, 2, 4, 6, 8]
    assert [s.epoch for s in branched.snapshots] == [0, 2, 4, 6, 8]


def test_an_opened_file_gives_its_recorder_back():
    from rnn_studio.core.saved_history import SavedHistory

    _trainer, recorder = trained("rnn", epochs=4)
    saved = SavedHistory(samples=list(recorder.samples), snapshots=list(recorder.snapshots))
    reopened = recorder_from_saved(saved, "cat", 4)
    assert [s.epoch for s in reopened.snapshots] == [0, 1, 2, 3, 4]
    assert reopened.samples[-1].text == recorder.samples[-1].text
    assert recorder_from_saved(None, "cat", 4).snapshots == []


def test_elman_check_of_the_network_on_screen_and_of_a_fresh_one():
    trainer, _ = trained("elman", epochs=2)
    report = elman_check(trainer, request_id=5)
    assert report.id == 5 and "network on screen" in report.what
    assert report.comparison.max_difference < 1e-5
    other, _ = trained("lstm", epochs=1)
    report = elman_check(other)
    assert "fresh Elman" in report.what and "16 hidden units" in report.what
    assert report.comparison.max_difference < 1e-5
    assert "fresh Elman" in elman_check(None, 7, 2).what
