"""Completing a prompt: greedy as in seed 000, or sampling with a temperature.

Seed 000's ``sample(model, out_len, start)`` feeds the whole text so far and
takes the arg-max of the last output, until the text is ``out_len`` characters
long (the prompt included). Feeding one character at a time and carrying the
hidden state gives the same numbers in linear rather than quadratic time.
Characters the network never saw map to the unknown index and are reported.

The window asks for a number of new characters and would rather not stop in
the middle of a word ("how i wonder wh"): ``stop_at_word_end`` goes on past
``length`` until the network writes a space, at most ``WORD_END_SLACK``
characters further. ``word_end`` is the same rule applied to a longer text,
so a completion asked ``WORD_END_SLACK`` characters longer and cut there is
this one, character for character (greedy or seeded sampling alike).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from .data import Vocabulary
from .errors import DataError

MAX_COMPLETION_LENGTH = 10_000
MAX_PROMPT_LENGTH = 10_000
# Below this, sampling is greedy to the last digit anyway, and dividing the
# logits by it overflows (1e-45 gave inf/NaN probabilities).
MIN_TEMPERATURE = 1e-3
# How far past the length a completion may go to finish its word: longer than
# most words, short enough that a network that never writes a space (early in
# training) does not run on.
WORD_END_SLACK = 20


@dataclass
class Completion:
    text: str  # prompt (as fed) + generated characters
    prompt: str
    unknown_chars: list[str] = field(default_factory=list)

    @property
    def generated(self) -> str:
        return self.text[len(self.prompt):]


def word_end(text: str, length: int, prompt_length: int = 0) -> int:
    """Where a completion of ``length`` characters in all that stops at the end
    of a word ends in ``text`` (a longer completion of the same prompt): at
    ``length``, or on through the next whitespace the network wrote, at most
    ``WORD_END_SLACK`` characters further. A prompt is never cut, nor its last
    word continued."""
    end = max(length, prompt_length)
    limit = min(len(text), length + WORD_END_SLACK)
    while end < limit and end > prompt_length and not text[end - 1].isspace():
        end += 1
    return min(end, len(text))


def complete(model, vocab: Vocabulary, prompt: str, length: int = 15, temperature: float = 0.0,
             seed: int | None = None, stop_at_word_end: bool = False) -> Completion:
    """Extend ``prompt`` to ``length`` characters in all (seed 000's out_len);
    with ``stop_at_word_end``, on to the end of the word being written then
    (see ``word_end``)."""
    if vocab is None:
        raise DataError("this model was trained on the sine task: there is no text to complete")
    if not isinstance(prompt, str) or prompt == "":
        raise DataError("the prompt is empty: type at least one character to start from")
    if len(prompt) > MAX_PROMPT_LENGTH:
        raise DataError(f"the prompt is {len(prompt):,} characters; the limit is {MAX_PROMPT_LENGTH:,}")
    if isinstance(length, bool) or not isinstance(length, int) or length < 1 or length > MAX_COMPLETION_LENGTH:
        raise DataError(f"length must be a whole number from 1 to {MAX_COMPLETION_LENGTH:,}, got {length!r}")
    if not isinstance(temperature, (int, float)) or not math.isfinite(temperature) or temperature < 0 or temperature > 100:
        raise DataError(f"temperature must be between 0 and 100, got {temperature!r}")
    prompt = vocab.prepare_prompt(prompt)
    unknown = vocab.unknown_chars(prompt)
    device = next(model.parameters()).device
    generator = None
    if temperature >= MIN_TEMPERATURE:
        generator = torch.Generator(device="cpu")
        generator.manual_seed(0 if seed is None else int(seed))
    chars = list(prompt)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            x = torch.tensor([vocab.encode(prompt)], dtype=torch.long, device=device)
            out, hidden = model(x)
            most = length + WORD_END_SLACK if stop_at_word_end else length
            for _ in range(most - len(chars)):
                if stop_at_word_end and len(chars) >= length and (
                        len(chars) <= len(prompt) or chars[-1].isspace()):
                    break
                logits = out[0, -1].double().cpu()
                # index 0 means "a character never seen in training": it was
                # never a target, so it is never a sensible thing to write
                logits[0] = -math.inf
                if temperature >= MIN_TEMPERATURE:
                    probs = torch.softmax(logits / temperature, dim=0)
                    index = int(torch.multinomial(probs, 1, generator=generator))
                else:  # 0, or so close to 0 that the division overflows: greedy
                    index = int(torch.argmax(logits))
                chars.append(vocab.itos[index])
                out, hidden = model(torch.tensor([[index]], dtype=torch.long, device=device), hidden)
    finally:
        model.train(was_training)
    return Completion(text="".join(chars), prompt=prompt, unknown_chars=unknown)
