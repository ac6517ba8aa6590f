"""Completion: the defaults reproduce seed 000; greedy is the seed's sampler;
sampling is seeded; unknown prompt characters are reported, never a KeyError."""

from __future__ import annotations

import pytest
import torch

from rnn_studio.core.config import RunConfig
from rnn_studio.core.errors import DataError
from rnn_studio.core.generation import WORD_END_SLACK, complete, word_end
from rnn_studio.core.training import Trainer


@pytest.fixture(scope="module")
def seed_run():
    """RunConfig() as it comes: seed 000's three sentences, 100 epochs."""
    cfg = RunConfig()
    cfg.train.device = "cpu"
    trainer = Trainer(cfg)
    assert cfg.train.epochs == 100
    while not trainer.finished:
        trainer.step()
    return trainer


def seed_000_sample(model, vocab, out_len, start):
    """Seed 000's ``sample``: feed the whole text so far, take the arg-max of the
    last output, until the text is ``out_len`` long."""
    model.eval()
    chars = list(start.lower())
    with torch.no_grad():
        while len(chars) < out_len:
            x = torch.tensor([vocab.encode("".join(chars))], dtype=torch.long)
            out, _ = model(x)
            chars.append(vocab.itos[int(out[0, -1].argmax())])
    model.train()
    return "".join(chars)


def test_defaults_complete_good_as_in_seed_000(seed_run):
    assert seed_run.epoch == 100
    result = complete(seed_run.model, seed_run.vocab, "good", 15)
    assert result.text == "good i am fine "
    assert result.prompt == "good" and result.generated == " i am fine "
    assert result.unknown_chars == []


@pytest.mark.parametrize("prompt,length", [("good", 15), ("hey", 15), ("h", 20), ("have a", 30), ("xq", 12)])
def test_greedy_equals_seed_000_sampler(seed_run, prompt, length):
    expected = seed_000_sample(seed_run.model, seed_run.vocab, length, prompt)
    assert complete(seed_run.model, seed_run.vocab, prompt, length).text == expected


def test_length_is_total_length_including_prompt(seed_run):
    for length in (1, 4, 5, 9, 40):
        text = complete(seed_run.model, seed_run.vocab, "good", length).text
        assert text.startswith("good")
        assert len(text) == max(length, 4)


def test_temperature_zero_is_greedy_and_same_seed_same_text(seed_run):
    m, v = seed_run.model, seed_run.vocab
    greedy = complete(m, v, "good", 30).text
    assert complete(m, v, "good", 30, temperature=0.0, seed=123).text == greedy
    # a vanishing temperature picks the arg-max too
    assert complete(m, v, "good", 30, temperature=1e-4, seed=5).text == greedy
    a = complete(m, v, "good", 60, temperature=1.5, seed=42).text
    b = complete(m, v, "good", 60, temperature=1.5, seed=42).text
    assert a == b
    others = {complete(m, v, "good", 60, temperature=1.5, seed=s).text for s in range(6)}
    assert len(others) > 1, "different seeds should give different samples at a high temperature"
    assert all(t.startswith("good") and len(t) == 60 for t in others)
    assert all(set(t) <= set(v.itos) | set("good") for t in others)


def test_sampling_does_not_touch_the_global_random_state(seed_run):
    torch.manual_seed(99)
    expected = torch.rand(3)
    torch.manual_seed(99)
    complete(seed_run.model, seed_run.vocab, "good", 30, temperature=1.0, seed=1)
    assert torch.equal(torch.rand(3), expected)


def test_unknown_prompt_characters_are_reported_not_a_keyerror(seed_run):
    result = complete(seed_run.model, seed_run.vocab, "good Z!😀", 20)
    assert result.unknown_chars == ["z", "!", "😀"]  # the seed's vocabulary is lower-case: prompts are lowered
    assert result.text.startswith("good z!😀") and len(result.text) == 20
    only_unknown = complete(seed_run.model, seed_run.vocab, "@@@", 10)
    assert only_unknown.unknown_chars == ["@"] and len(only_unknown.text) == 10


def test_prompt_longer_than_length_is_returned_as_is(seed_run):
    assert complete(seed_run.model, seed_run.vocab, "have a nice day", 5).text == "have a nice day"


@pytest.mark.parametrize("kwargs", [
    {"prompt": ""},
    {"length": 0},
    {"length": -3},
    {"length": 10**6},
    {"length": 2.5},
    {"temperature": -1.0},
    {"temperature": float("nan")},
    {"temperature": float("inf")},
])
def test_bad_requests_are_data_errors(seed_run, kwargs):
    args = {"prompt": "good", "length": 15, "temperature": 0.0, **kwargs}
    with pytest.raises(DataError):
        complete(seed_run.model, seed_run.vocab, args["prompt"], args["length"], args["temperature"])


def test_no_vocabulary_means_no_text_to_complete(seed_run):
    with pytest.raises(DataError, match="sine"):
        complete(seed_run.model, None, "good", 15)


def test_completion_restores_training_mode(seed_run):
    seed_run.model.train()
    complete(seed_run.model, seed_run.vocab, "good", 15)
    assert seed_run.model.training
    seed_run.model.eval()
    complete(seed_run.model, seed_run.vocab, "good", 15)
    assert not seed_run.model.training
    seed_run.model.train()


@pytest.mark.parametrize("arch", ["lstm", "gru", "elman"])
def test_greedy_equals_seed_sampler_for_other_archs(arch):
    cfg = RunConfig()
    cfg.model.arch, cfg.train.device = arch, "cpu"
    trainer = Trainer(cfg)
    for _ in range(20):
        trainer.step()
    for prompt in ("good", "hav"):
        assert complete(trainer.model, trainer.vocab, prompt, 18).text == seed_000_sample(
            trainer.model, trainer.vocab, 18, prompt)


# ------------------------------------------------------------ stopping at a word end
@pytest.mark.parametrize("text,length,prompt_length,end", [
    ("good i am fine day", 15, 4, 15),  # the length falls just after a space: stop there
    ("good i am fine day", 12, 4, 15),  # mid-word ("fi"): on through the space
    ("good i am fine day", 4, 4, 4),  # nothing asked beyond the prompt
    ("good i am fine day", 2, 4, 4),  # the prompt is never cut...
    ("goodness me", 2, 4, 4),  # ...nor its last word continued
    ("how i wonder wh" + "x" * 40, 15, 5, 15 + WORD_END_SLACK),  # no space comes: stop at the slack
    ("how i wonder what", 15, 5, 17),  # the text ends before a space: all of it
    ("a\nbc", 2, 1, 2),  # a newline ends a word too
])
def test_word_end(text, length, prompt_length, end):
    assert word_end(text, length, prompt_length) == end


def test_seed_network_stops_at_the_end_of_fine(seed_run):
    m, v = seed_run.model, seed_run.vocab
    assert complete(m, v, "good", 4 + 11, stop_at_word_end=True).text == "good i am fine "
    # 'good' + 8 ends mid-word ("good i am fi"): finish it instead of cutting it
    assert complete(m, v, "good", 4 + 8).text == "good i am fi"
    assert complete(m, v, "good", 4 + 8, stop_at_word_end=True).text == "good i am fine "


def test_stop_at_word_end_is_off_by_default(seed_run):
    """The CLI and seed 000 count the length exactly, mid-word or not."""
    for length in (12, 15, 23):
        assert complete(seed_run.model, seed_run.vocab, "good", length).text == seed_000_sample(
            seed_run.model, seed_run.vocab, length, "good")


@pytest.mark.parametrize("temperature", [0.0, 1.0, 2.0])
@pytest.mark.parametrize("prompt", ["good", "h", "have a nice day how", "xq"])
def test_word_end_cuts_a_longer_completion_to_the_same_text(seed_run, prompt, temperature):
    """The window asks for WORD_END_SLACK more characters and cuts at word_end:
    the same text as stop_at_word_end, for greedy and seeded sampling."""
    m, v = seed_run.model, seed_run.vocab
    for length in (len(prompt) + 1, len(prompt) + 7, len(prompt) + 11, len(prompt) + 30):
        stopped = complete(m, v, prompt, length, temperature, seed=3, stop_at_word_end=True)
        longer = complete(m, v, prompt, length + WORD_END_SLACK, temperature, seed=3)
        assert stopped.text == longer.text[: word_end(longer.text, length, len(longer.prompt))]
        assert length <= len(stopped.text) <= length + WORD_END_SLACK
        assert stopped.text[-1].isspace() or len(stopped.text) == length + WORD_END_SLACK


def test_stop_at_word_end_never_continues_a_long_prompt(seed_run):
    assert complete(seed_run.model, seed_run.vocab, "have a nice", 5, stop_at_word_end=True).text == "have a nice"
