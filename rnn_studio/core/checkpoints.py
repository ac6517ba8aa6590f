"""One file per checkpoint: settings, vocabulary, weights, optimizer state.

Loading uses ``torch.load(weights_only=True)``: only tensors and plain
containers are rebuilt, so a file crafted to run code when unpickled is
refused; the archive's CRC-32s are checked first, so a corrupted file is
reported instead of loading as wrong weights. Saving writes a temporary file in the same folder, flushes it to
disk and renames it over the target, so an interrupted save leaves the old
file whole.
"""

from __future__ import annotations

import os
import pickle
import struct
import tempfile
import warnings
import zipfile

import torch

from .config import RunConfig
from .data import Vocabulary
from .devices import resolve_device
from .errors import CheckpointError, DataError, StudioError
from .text import open_regular_file

MAX_CHECKPOINT_BYTES = 8 * 2**30
FORMAT = "rnn-studio-checkpoint"
VERSION = 1


def save_checkpoint(trainer, path: str) -> None:
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "config": trainer.cfg.to_dict(),
        "vocab": list(trainer.vocab.chars) if trainer.vocab is not None else None,
        "model": {k: v.detach().cpu() for k, v in trainer.model.state_dict().items()},
        "optimizer": trainer.optimizer.state_dict(),
        "epoch": int(trainer.epoch),
        "steps": int(trainer.steps),
    }
    atomic_torch_save(payload, path)


def atomic_torch_save(payload, path: str) -> None:
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(folder):
        raise CheckpointError(f"cannot save to {path}: the folder {folder} does not exist")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".rnn-studio-", suffix=".tmp", dir=folder)
        # mkstemp makes the file private (0600); a saved model is for sharing,
        # so give it the mode any new file gets here (0644 with umask 022)
        umask = os.umask(0)
        os.umask(umask)
        try:
            os.fchmod(fd, 0o666 & ~umask)
        except (AttributeError, OSError):
            pass  # not on every platform; the file is still written
        with os.fdopen(fd, "wb") as fh:
            torch.save(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        _remove_quietly(tmp)
        raise CheckpointError(f"cannot save to {path}: {exc.strerror or exc}") from None
    except BaseException:
        _remove_quietly(tmp)
        raise


def check_writable_folder(path: str) -> None:
    """Before a long run, make sure its checkpoint can be written where asked."""
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if os.path.isdir(path):
        raise CheckpointError(f"cannot save to {path}: it is a folder; give a file name such as model.pt")
    if not os.path.isdir(folder):
        raise CheckpointError(f"cannot save to {path}: the folder {folder} does not exist")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".rnn-studio-", suffix=".check", dir=folder)
        os.close(fd)
    except OSError as exc:
        raise CheckpointError(f"cannot save to {path}: {exc.strerror or exc}") from None
    finally:
        _remove_quietly(tmp)


def _remove_quietly(path: str | None) -> None:
    if path is None:
        return
    try:
        os.unlink(path)
    except OSError:
        pass


def read_checkpoint(path: str) -> dict:
    """The checked contents of a checkpoint file, or CheckpointError."""
    try:
        fh = open_regular_file(path, "checkpoint", MAX_CHECKPOINT_BYTES)
    except DataError as exc:
        raise CheckpointError(str(exc)) from None
    try:
        # torch warns about pickle protocols it did not write; the CLI promises one line
        with fh, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _check_zip_crc(fh)
            payload = torch.load(fh, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        text = str(exc)
        # a GLOBAL/REDUCE/BUILD of something not allow-listed: the file asks to run code
        if "GLOBAL" in text or "allowlist" in text or "Can only" in text:
            raise CheckpointError(
                f"{path} was refused: it asks to run code or build objects when loaded, which a checkpoint never needs"
            ) from None
        raise CheckpointError(f"{path} is damaged or truncated, or is not an RNN Studio checkpoint") from None
    except (zipfile.BadZipFile, EOFError, RuntimeError, ValueError, OSError, KeyError, IndexError,
            AttributeError, TypeError, UnicodeDecodeError, struct.error):
        # struct.error: a few stray bytes that read as a pickle opcode wanting more (b"junk")
        # OSError here comes from torch's zip reader on a cut file (EINVAL), not from the disk
        raise CheckpointError(f"{path} is damaged or truncated, or is not an RNN Studio checkpoint") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an RNN Studio checkpoint")
    if payload.get("version") != VERSION:
        raise CheckpointError(f"{path} is a checkpoint of version {payload.get('version')!r}; this RNN Studio reads version {VERSION}")
    for key in ("config", "model"):
        if not isinstance(payload.get(key), dict):
            raise CheckpointError(f"{path} is damaged: its '{key}' section is missing")
    return payload


def _check_zip_crc(fh) -> None:
    """torch reads the zip archive without checking its CRC-32s, so a flipped
    byte in the weights would load as different numbers without a word; check
    them first (a read of the whole file: milliseconds for classroom models)."""
    if zipfile.is_zipfile(fh):
        fh.seek(0)
        with zipfile.ZipFile(fh) as archive:
            if archive.testzip() is not None:
                raise zipfile.BadZipFile("a member fails its CRC-32")
    fh.seek(0)


def load_trainer(path: str, device: str | None = None):
    """Rebuild the trainer (model, optimizer, vocabulary) saved in ``path``."""
    from .training import Trainer

    payload = read_checkpoint(path)
    try:
        cfg = RunConfig.from_dict(payload["config"])
        vocab_chars = payload.get("vocab")
        vocab = Vocabulary(vocab_chars) if vocab_chars is not None else None
        if cfg.task.kind == "text" and cfg.task.text_file:
            # Never re-read the text it was trained on: it may be gone, edited
            # or 50 MB, and the weights and vocabulary complete text without
            # it. Any placeholder will do; it must pass clean_sentences.
            cfg.task.text_file = None
            placeholder = "".join(vocab.chars).replace("\r", " ").replace("\n", " ")[:2000]
            cfg.task.sentences = [placeholder + " ."]
        if cfg.task.kind == "text" and not cfg.task.text_file:
            cfg.task.sentences = cfg.task.sentences or ["  "]
        if device is None:
            # saved on a machine with a GPU, opened on one without: use what is here
            try:
                resolve_device(cfg.train.device)
            except (StudioError, AttributeError):
                cfg.train.device = "auto"
        trainer = Trainer(cfg, vocab=vocab, device=device)
        trainer.epoch = int(payload.get("epoch", 0) or 0)
        trainer.steps = int(payload.get("steps", 0) or 0)
        # the settings as saved, before the fallbacks above (a text file that is
        # gone, a device that is not here): what the window shows the user
        trainer.checkpoint_config = payload["config"]
    except StudioError as exc:
        raise CheckpointError(f"{path} holds settings this version cannot use: {exc}") from None
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise CheckpointError(f"{path} is damaged: {exc}") from None
    try:
        trainer.model.load_state_dict(payload["model"])
    except (RuntimeError, KeyError, TypeError) as exc:
        raise CheckpointError(
            f"{path} does not fit its own settings (architecture or vocabulary mismatch): {str(exc).splitlines()[0]}"
        ) from None
    if isinstance(payload.get("optimizer"), dict):
        try:
            trainer.optimizer.load_state_dict(payload["optimizer"])
        except (ValueError, KeyError, TypeError, RuntimeError):
            pass  # the weights are what matter for completion; a fresh optimizer is fine
    return trainer
