"""Completing a prompt: greedy as in seed 000, or sampling with a temperature.

Seed 000's ``sample(model, out_len, start)`` feeds the whole text so far and
takes the arg-max of the last output, until the text is ``out_len`` characters
long (the prompt included). Feeding one character at a time and carrying the
hidden state gives the same numbers in linear rather than quadratic time.
Characters the network never saw map to the unknown index and are reported.
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


@dataclass
class Completion:
    text: str  # prompt (as fed) + generated characters
    prompt: str
    unknown_chars: list[str] = field(default_factory=list)

    @property
    def generated(self) -> str:
        return self.text[len(self.prompt):]


def complete(model, vocab: Vocabulary, prompt: str, length: int = 15, temperature: float = 0.0,
             seed: int | None = None) -> Completion:
    """Extend ``prompt`` to ``length`` characters in all (seed 000's out_len)."""
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
            for _ in range(length - len(chars)):
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
