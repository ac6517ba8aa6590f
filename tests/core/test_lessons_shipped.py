"""Every shipped lesson, played headless: what its text says will happen does.

Each test plays one file of ``assets/lessons/`` with ``core.lesson_player``
on the CPU and asserts the claims its steps make, with the seeds the lesson
states. A lesson's text and its test change together.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from rnn_studio.core.lesson_player import play_lesson
from rnn_studio.core.lessons import load_lesson

LESSONS = Path(__file__).resolve().parents[2] / "assets" / "lessons"
SHIPPED = sorted(LESSONS.glob("*.toml"))
SENTENCES = {"hey": "hey how are you", "good": "good i am fine", "have": "have a nice day"}


@pytest.fixture(autouse=True)
def _one_thread():
    # the claims were measured with these numbers; one thread keeps CPU sums in one order
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def play(name: str):
    lesson = load_lesson(LESSONS / name)
    result = play_lesson(lesson, device="cpu")
    assert result.all_waits_met, [s.summary() for s in result.steps if s.wait_met is False]
    return result


def test_at_least_eight_lessons_ship_and_load():
    assert len(SHIPPED) >= 8
    for path in SHIPPED:
        lesson = load_lesson(path)
        assert lesson.title and lesson.steps
        for step in lesson.steps:
            assert step.html.startswith(("<p>", "<ul>"))


def test_next_character_and_the_hidden_state():
    result = play("01-next-character.toml")
    ten, hundred, reading = result.steps[1], result.steps[2], result.steps[3]
    assert ten.epoch == 10 and ten.final_loss > 1
    assert not ten.completion("good").startswith(SENTENCES["good"])
    assert hundred.epoch == 100 and hundred.final_loss < 0.3
    for prompt, sentence in SENTENCES.items():
        assert hundred.completion(prompt).strip() == sentence
    # the same input letter 'o', two different guesses: the hidden state differs
    assert reading.readings["good"][1:3] == ["o", "d"]


def test_the_lstm_remembers_what_the_rnn_forgets():
    result = play("02-long-memory.toml")
    rnn, lstm, memory = result.steps[0], result.steps[1], result.steps[2]
    endings = lambda step: {p: step.completion(p)[-4:] for p in ("cat", "dog")}  # noqa: E731
    rnn_endings = endings(rnn)
    assert rnn_endings["cat"] == rnn_endings["dog"]  # the RNN mixes them up
    assert rnn.final_loss > math.log(2) / 35
    assert endings(lstm) == {"cat": "meow", "dog": "woof"}
    assert lstm.final_loss < 0.01
    # two runs for the overlay, the LSTM's ending below the RNN's
    assert [r.arch for r in result.runs] == ["rnn", "lstm"]
    assert result.run(2).final_loss < result.run(1).final_loss
    reads = memory.readings
    assert reads["cat: it sat on the mat and said "][-1] == "m"
    assert reads["dog: it sat on the mat and said "][-1] == "w"


def test_clipping_tames_the_exploding_gradient():
    result = play("03-exploding-gradients.toml")
    wild, clipped = result.steps
    assert wild.diverged and wild.epochs_trained < 60
    assert max(wild.losses) > 3 * wild.losses[0]
    assert max(wild.grad_norms) > 10
    assert not clipped.diverged
    assert clipped.final_loss < 0.05
    assert clipped.completion("peter") == "peter piper picked a peck of pickled peppers"
    assert max(clipped.grad_norms) < max(wild.grad_norms)


def test_temperature_from_greedy_to_nonsense():
    result = play("04-temperature.toml")
    greedy, warm, hot = result.steps
    training = {"i like tea", "i like toast", "i like trains"}
    assert {t.strip() for t in greedy.texts("i like")} == {"i like toast"}
    warm_texts = [t.strip() for t in warm.texts("i like")]
    assert len(warm_texts) == 20 and set(warm_texts) == training
    hot_texts = [t.strip() for t in hot.texts("i like")]
    assert sum(t not in training for t in hot_texts) >= 10


def test_the_validation_loss_turns_up():
    result = play("05-overfitting.toml")
    for step, lowest_by in zip(result.steps, (100, 40), strict=True):
        valid = step.valid_losses
        best = min(range(len(valid)), key=valid.__getitem__)
        assert best + 1 <= lowest_by  # lowest early...
        assert valid[-1] > 1.5 * valid[best]  # ...then up
        assert step.final_loss < min(0.1, valid[best])  # while training keeps falling
    assert result.steps[0].epoch == 300 and result.steps[1].epoch == 200


def test_the_bidirectional_classifier_learns_the_reviews():
    result = play("06-classify.toml")
    start, end = result.steps
    assert start.epoch == 3 and start.valid_accuracy < 0.6
    assert end.epoch == 15 and end.valid_accuracy > 0.85
    assert end.label("the cast was wonderful") == "positive"
    assert end.label("a tedious and terrible film") == "negative"
    assert end.label("the plot was not good at all") == "negative"
    settings = result.runs[0].settings["model"]
    assert settings["bidirectional"] and settings["arch"] == "lstm"


def test_the_elman_network_learns_the_sine_and_matches_nn_rnn():
    result = play("07-sine-elman.toml")
    early, late, check = result.steps
    assert early.epoch == 30 and early.final_loss > 0.01
    assert late.epoch == 300 and late.final_loss < 0.01
    assert check.elman_difference is not None and check.elman_difference < 1e-5


def test_one_hot_and_embeddings():
    result = play("08-onehot-embedding.toml")
    onehot, wide, narrow = result.steps
    assert (onehot.parameters, wide.parameters, narrow.parameters) == (618, 882, 522)
    assert narrow.parameters < onehot.parameters < wide.parameters
    assert wide.losses[19] < onehot.losses[19]
    for step in result.steps:
        for prompt, sentence in SENTENCES.items():
            assert step.completion(prompt).strip() == sentence
