"""Completion: the defaults reproduce seed 000; greedy is the seed's sampler;
sampling is seeded; unknown prompt characters are reported, never a KeyError."""

from __future__ import annotations

import pytest
import torch

from rnn_studio.core.config import RunConfig
from rnn_studio.core.errors import DataError
from rnn_studio.core.generation import complete
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
