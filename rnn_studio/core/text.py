"""Text handling that needs no torch: the character vocabulary, cleaning
typed sentences, reading a text file. The window imports this while it opens,
before torch has loaded (rnn_studio.core.data builds the tensors).

Seeds 000/001 build ``char2int`` from ``set()``, whose order changes between
runs; here the vocabulary is sorted, and index 0 is reserved for characters
never seen in training (the seed's "Handling of unseen characters").
"""

from __future__ import annotations

import codecs
import os
import re
import stat

from .config import MAX_SENTENCES_CHARS
from .errors import DataError

UNKNOWN = "\ufffd"  # shown for the unknown index when decoding
MAX_TEXT_FILE_BYTES = 50 * 1024 * 1024
MAX_VOCAB = 4096
# Typed sentences train as one batch padded to the longest, so memory grows
# with sentences x longest x vocabulary: one 150k-character line among 4,000
# short ones would ask for ~67 GB. A long text belongs in a text file.
MAX_SENTENCE_CHARS = 5_000
MAX_PADDED_CHARS = 400_000  # sentences x longest sentence
MAX_ONE_HOT_VALUES = 50_000_000  # sentences x longest x vocabulary: 200 MB of floats


class Vocabulary:
    """Sorted characters; index 0 stands for any character not seen in training."""

    def __init__(self, chars):
        chars = sorted(set(chars) - {UNKNOWN})
        self.chars: list[str] = chars
        self.itos: list[str] = [UNKNOWN, *chars]
        self.stoi: dict[str, int] = {c: i for i, c in enumerate(self.itos)}
        self.stoi.pop(UNKNOWN)
        # Seed 000 lower-cases the prompt; do the same only when training saw
        # no upper-case letters, so case-sensitive data keeps its meaning.
        self.lowercase_prompts = not any(c != c.lower() for c in chars)

    unknown_index = 0

    def __len__(self) -> int:
        return len(self.itos)

    def __eq__(self, other) -> bool:
        return isinstance(other, Vocabulary) and self.itos == other.itos

    @classmethod
    def from_texts(cls, texts) -> Vocabulary:
        chars = set()
        for text in texts:
            chars.update(text)
        return cls(chars)

    def encode(self, text: str) -> list[int]:
        return [self.stoi.get(c, 0) for c in text]

    def unknown_chars(self, text: str) -> list[str]:
        """Characters of ``text`` that map to the unknown index, in order, once each."""
        seen: dict[str, None] = {}
        for c in text:
            if c not in self.stoi:
                seen.setdefault(c, None)
        return list(seen)

    def decode(self, indices) -> str:
        return "".join(self.itos[i] if 0 <= i < len(self.itos) else UNKNOWN for i in indices)

    def prepare_prompt(self, prompt: str) -> str:
        return prompt.lower() if self.lowercase_prompts else prompt


def clean_sentences(sentences) -> list[str]:
    """Normalise line ends and drop blank lines; refuse what cannot train."""
    if isinstance(sentences, str):
        sentences = sentences.split("\n")
    out = []
    for s in sentences:
        if not isinstance(s, str):
            raise DataError("sentences must be text")
        s = s.replace("\r\n", "\n").replace("\r", "")
        for line in s.split("\n"):
            if line.strip():
                out.append(line)
    if not out:
        raise DataError("no sentences to train on: type at least one sentence with a visible character")
    total = sum(len(s) for s in out)
    if total > MAX_SENTENCES_CHARS:
        raise DataError(
            f"the sentences hold {total:,} characters; the limit is {MAX_SENTENCES_CHARS:,} "
            "(for a longer text, train on it as a text file)"
        )
    longest = max(len(s) for s in out)
    if longest < 2:
        raise DataError("every sentence is a single character: a sentence needs at least two to predict one from another")
    if longest > MAX_SENTENCE_CHARS:
        raise DataError(
            f"one sentence is {longest:,} characters long; the limit is {MAX_SENTENCE_CHARS:,} per sentence "
            "(a long text trains better as a text file)"
        )
    if len(out) * longest > MAX_PADDED_CHARS:
        raise DataError(
            f"{len(out):,} sentences padded to the longest ({longest:,} characters) make {len(out) * longest:,} "
            f"positions to train at once; the limit is {MAX_PADDED_CHARS:,}: use fewer or shorter sentences, "
            "or train on the text as a text file"
        )
    vocab = len(set().union(*out)) + 1
    if len(out) * longest * vocab > MAX_ONE_HOT_VALUES:
        raise DataError(
            f"{len(out):,} sentences of up to {longest:,} characters with {vocab - 1:,} different characters are "
            "too much to train in one batch: use fewer or shorter sentences, or train on the text as a text file"
        )
    return out


def open_regular_file(path: str, what: str, limit: int):
    """Open ``path`` for reading in binary, or raise DataError in plain words.

    Only regular files: a FIFO would block forever and /dev/zero never ends."""
    if not path:
        raise DataError(f"no {what} given")
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise DataError(f"{what} not found: {path}") from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise DataError(f"{path} is a folder, not a {what}")
    if not stat.S_ISREG(info.st_mode):
        raise DataError(f"{path} is not a regular file (a device, pipe or socket), so it cannot be a {what}")
    if info.st_size > limit:
        raise DataError(f"{path} is {info.st_size / 2**20:,.0f} MiB; the limit for a {what} is {limit // 2**20:,} MiB")
    try:
        return open(path, "rb")
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None


def read_text_file(path: str) -> str:
    """Read a UTF-8 text file, with a plain message for each way this can fail."""
    return read_text_file_hashed(path)[0]


def read_text_file_hashed(path: str) -> tuple[str, str]:
    """(text, SHA-256 of the file's bytes): a checkpoint remembers the hash,
    so that going on training can tell the file has changed."""
    import hashlib

    with open_regular_file(path, "text file", MAX_TEXT_FILE_BYTES) as fh:
        try:
            raw = fh.read(MAX_TEXT_FILE_BYTES + 1)  # the size may have changed since stat
        except OSError as exc:
            raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_TEXT_FILE_BYTES:
        raise DataError(f"{path} is larger than the limit of {MAX_TEXT_FILE_BYTES // 2**20} MiB")
    digest = hashlib.sha256(raw).hexdigest()
    try:
        # utf-8-sig's decoder copies the bytes first (a 50 MB file: 50 MB more at the peak)
        start = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
        text = str(memoryview(raw)[start:], "utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8") from None
    # CR CR LF (a file converted twice) must not leave a CR LF behind
    if "\r" in text:
        text = re.sub("\r+\n", "\n", text)
    if "\x00" in text:
        raise DataError(f"{path} contains NUL bytes: it looks like a binary file, not text")
    if not text or text.isspace():  # (text.strip() would copy a 50 MB text)
        raise DataError(f"{path} holds no text")
    return text, digest
