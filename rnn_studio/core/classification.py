"""Asking a trained classifier about a text, and counting its mistakes.

``classify_text`` is what ``rnn-studio classify`` prints and what the
window's prompt box shows as the user types: the label, every class's
probability, and the words (or characters) never seen in training, which the
network read as "unknown" (seed 002's index 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .errors import DataError
from .labelled import TokenVocabulary


@dataclass(frozen=True)
class Classification:
    label: str
    probabilities: dict[str, float]  # every class, in the model's order
    unknown: list[str]  # tokens never seen in training, once each, in order
    tokens: list[str]  # the text as the network read it (after cutting to max_length)


@torch.no_grad()
def classify_text(model, vocab: TokenVocabulary, labels: list[str], text: str, max_length: int | None = None
                  ) -> Classification:
    """The model's reading of ``text`` in eval mode (train mode restored)."""
    if not isinstance(text, str) or not text.strip():
        raise DataError("the text is empty: type a sentence to classify")
    tokens = vocab.tokenize(text)[:max_length] if max_length else vocab.tokenize(text)
    ids = [vocab.stoi.get(t, vocab.unknown_index) for t in tokens] or [vocab.unknown_index]
    device = next(model.parameters()).device
    x = torch.tensor([ids], dtype=torch.long, device=device)
    was = model.training
    model.eval()
    try:
        logits, _ = model(x)
    finally:
        model.train(was)
    probs = torch.softmax(logits[0].float(), -1).cpu().tolist()
    best = int(np.argmax(probs))
    unknown = list(dict.fromkeys(t for t in tokens if t not in vocab.stoi))
    return Classification(labels[best], dict(zip(labels, probs, strict=True)), unknown, tokens)


def confusion_matrix(true, predicted, num_classes: int) -> np.ndarray:
    """counts[i, j] = examples of class i predicted as class j."""
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (np.asarray(true, dtype=np.int64), np.asarray(predicted, dtype=np.int64)), 1)
    return counts


def accuracy(true, predicted) -> float:
    true, predicted = np.asarray(true), np.asarray(predicted)
    return float((true == predicted).mean()) if len(true) else float("nan")
