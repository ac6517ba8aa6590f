"""Labelled examples for the classify task, and seed 002's ``TextPreprocessor``.

Torch-free (like ``text``): the window can read and preview a file before
torch has loaded; ``data.ClassifyTask`` builds the tensors.

Examples come from a file with a header row naming the columns ``text`` and
``label`` (comma-separated ``.csv``, tab-separated ``.tsv``; UTF-8, at most
50 MiB like a text file) or from typed lines ``label: text``. Every mistake
is one plain sentence (a ``DataError``) naming the line it is on.

``TokenVocabulary`` is seed 002's ``TextPreprocessor``: text lower-cased and
split on whitespace (or, at the character level, read one character at a
time), the most frequent tokens up to a maximum vocabulary, index 0 for
padding and 1 for tokens never seen in training. Unlike the seed, ties in
frequency are broken alphabetically, so the same data always gives the same
vocabulary.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter

import numpy as np

from .config import MAX_SENTENCES_CHARS
from .errors import DataError
from .text import MAX_TEXT_FILE_BYTES, open_regular_file

PAD, UNK = "<pad>", "<unk>"
MAX_CLASSES = 100
MAX_LABEL_CHARS = 100
MAX_TOKEN_CHARS = 100  # a longer "word" is kept as unknown, never stored
MAX_EXAMPLES = 1_000_000


class TokenVocabulary:
    """Index 0 pads, 1 stands for any token not in the vocabulary (seed 002)."""

    pad_index = 0
    unknown_index = 1

    def __init__(self, tokens, level: str = "word"):
        self.level = level
        self.tokens: list[str] = list(tokens)
        self.itos: list[str] = [PAD, UNK, *self.tokens]
        self.stoi: dict[str, int] = {t: i + 2 for i, t in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.itos)

    def __eq__(self, other) -> bool:
        return isinstance(other, TokenVocabulary) and (self.level, self.tokens) == (other.level, other.tokens)

    @classmethod
    def from_texts(cls, texts, max_vocab: int = 10_000, level: str = "word") -> TokenVocabulary:
        counts: Counter = Counter()
        for text in texts:
            counts.update(t for t in tokenize(text, level) if len(t) <= MAX_TOKEN_CHARS)
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return cls([t for t, _ in ranked[: max(0, max_vocab - 2)]], level)

    def tokenize(self, text: str) -> list[str]:
        return tokenize(text, self.level)

    def encode(self, text: str, max_length: int | None = None) -> list[int]:
        """Indices of the tokens of ``text``, cut to ``max_length`` (not padded)."""
        tokens = self.tokenize(text)
        if max_length is not None:
            tokens = tokens[:max_length]
        return [self.stoi.get(t, 1) for t in tokens]

    def unknown_tokens(self, text: str) -> list[str]:
        """Tokens of ``text`` never seen in training, in order, once each."""
        seen: dict[str, None] = {}
        for t in self.tokenize(text):
            if t not in self.stoi:
                seen.setdefault(t, None)
        return list(seen)


def tokenize(text: str, level: str = "word") -> list[str]:
    """Seed 002: ``text.lower().split()``; the character level keeps one space
    between words and drops the rest of the whitespace."""
    if level == "char":
        return list(" ".join(text.lower().split()))
    return text.lower().split()


def parse_examples(lines) -> list[tuple[str, str]]:
    """Typed examples, one per line as ``label: text``; blank lines are skipped."""
    if isinstance(lines, str):
        lines = lines.split("\n")
    out = []
    total = 0
    for number, line in enumerate(lines, start=1):
        if not isinstance(line, str):
            raise DataError("examples must be text")
        line = line.replace("\r", "")
        if not line.strip():
            continue
        total += len(line)
        if total > MAX_SENTENCES_CHARS:
            raise DataError(
                f"the examples hold more than {MAX_SENTENCES_CHARS:,} characters; put a larger data set in a "
                ".csv or .tsv file"
            )
        label, colon, text = line.partition(":")
        if not colon:
            raise DataError(f"line {number} has no label: write each example as 'label: text'")
        out.append((text.strip(), label.strip(), number))
    return check_examples(out, "the examples")


def split_indices(count: int, fraction: float, seed: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    """(training, held-out) indices: a seeded draw of round(count x fraction), at least one of each.
    numpy only, so the window can count a classifier's vocabulary before torch has loaded."""
    if fraction <= 0:
        return np.arange(count), np.arange(0)
    held = int(round(count * fraction))
    held = min(max(held, 1), count - 1)
    if count < 2 or held < 1:
        raise DataError(f"holding {fraction:g} of the {what} out for validation needs at least two {what}")
    order = np.random.default_rng(seed).permutation(count)
    return np.sort(order[held:]), np.sort(order[:held])


def read_labelled_file(path: str) -> tuple[list[tuple[str, str]], str]:
    """(examples as (text, label), SHA-256 of the file) from a .csv/.tsv file."""
    raw = read_limited(path, "data file")
    digest = hashlib.sha256(raw).hexdigest()
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8") from None
    if "\x00" in content:
        raise DataError(f"{path} contains NUL bytes: it looks like a binary file, not text")
    if not content.strip():
        raise DataError(f"{path} holds no text")
    delimiter = "\t" if path.lower().endswith(".tsv") else ","
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except (csv.Error, StopIteration):
        raise DataError(f"{path} has no header row: its first line must name the columns text and label") from None
    names = [h.strip().lower() for h in header]
    if "text" not in names or "label" not in names:
        kind = "tab-separated" if delimiter == "\t" else "comma-separated"
        raise DataError(
            f"{path} needs a header row naming the columns text and label ({kind}); its first line names: "
            f"{', '.join(repr(n[:30]) for n in names[:5]) or 'nothing'}"
        )
    text_col, label_col = names.index("text"), names.index("label")
    rows = []
    try:
        for row in reader:
            if len(rows) >= MAX_EXAMPLES:
                raise DataError(f"{path} holds more than {MAX_EXAMPLES:,} examples")
            if not any(cell.strip() for cell in row):
                continue
            text = row[text_col] if text_col < len(row) else ""
            label = row[label_col] if label_col < len(row) else ""
            rows.append((text.replace("\r", "").strip(), label.strip(), reader.line_num))
    except csv.Error as exc:
        raise DataError(f"{path} line {reader.line_num}: {exc}") from None
    return check_examples(rows, path), digest


def read_limited(path: str, what: str) -> bytes:
    with open_regular_file(path, what, MAX_TEXT_FILE_BYTES) as fh:
        try:
            raw = fh.read(MAX_TEXT_FILE_BYTES + 1)
        except OSError as exc:
            raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_TEXT_FILE_BYTES:
        raise DataError(f"{path} is larger than the limit of {MAX_TEXT_FILE_BYTES // 2**20} MiB")
    return raw


def check_examples(rows, where: str) -> list[tuple[str, str]]:
    """Rows of (text, label, line number) -> (text, label), or a plain DataError."""
    if not rows:
        raise DataError(f"{where}: no examples to train on")
    if all(not label for _, label, _ in rows):
        raise DataError(f"{where}: the label column is blank in every row")
    if all(not text.strip() for text, _, _ in rows):
        raise DataError(f"{where}: every text is empty")
    for text, label, line in rows:
        if not label:
            raise DataError(f"{where} line {line}: the text has no label")
        if not text.strip():
            raise DataError(f"{where} line {line}: the label '{label[:30]}' has no text")
        if len(label) > MAX_LABEL_CHARS:
            raise DataError(f"{where} line {line}: a label is longer than {MAX_LABEL_CHARS} characters")
    labels = {label for _, label, _ in rows}
    if len(labels) < 2:
        raise DataError(
            f"{where}: every example has the label '{next(iter(labels))[:30]}'; a classifier needs at least two "
            "classes"
        )
    if len(labels) > MAX_CLASSES:
        raise DataError(f"{where}: {len(labels):,} different labels; the limit is {MAX_CLASSES}")
    return [(text, label) for text, label, _ in rows]
