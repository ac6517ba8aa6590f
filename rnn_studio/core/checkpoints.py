"""One file per checkpoint: settings, vocabulary, weights, optimizer state.

Saving writes the safetensors format (version 2, see ``checkpoint_io``):
tensors with their dtype and shape in a header read before any data, the
rest as JSON, a CRC-32 over the tensor bytes, no code and no compression.
The write is atomic (``atomic``): a full disk or a killed process leaves the
previous file whole, a symbolic link is written through, and every failure is
one plain line.

Loading checks the file's claims before anything proportional to them is
allocated, in this order:
1. the file is a regular file under MAX_CHECKPOINT_BYTES; its header (or, for
   version-1 files, its zip directory and pickle) is bounded and plain;
2. every setting is type- and range-checked (``validate``), the vocabulary is
   under the cap typed text has, the counters are in range;
3. the model those settings describe is built on torch's ``meta`` device (no
   memory) and passes the memory check new models pass; every stored weight
   must have its exact name, shape and dtype, and the optimizer's state must
   match its parameter (else it is dropped with a note, or, when a tensor
   claims more values than the file stores, the file is refused);
4. the file may hold only a little more than those tensors need;
5. the checksums are verified, then the tensors are read and loaded.

Since issue 9 a file also holds what going on training exactly needs
(``Trainer.run_state``: the place in the epoch, the minibatch order's and
dropout's generator states as base64 in the JSON, the plateau schedule's
counters, and for a text file read mid-epoch the carried hidden state as
``state.hidden.N`` tensors, checked like the weights), a classifier's labels,
token vocabulary and length, and, for a model trained on a file, that
file's path and SHA-256. Opening such a model reads the file again only if
it is still there with the same size and hash; otherwise the model answers
prompts and ``Trainer.resume_blocker`` says why it cannot go on training
(``load_trainer(..., require_data=True)`` refuses instead, for
``rnn-studio train --resume``).

Since issue 10 a file may also keep the model's history
(``saved_history.SavedHistory``): its run label, curves and sample evolution as
JSON under "history", and weight snapshots as ``snapshot.<i>.<weight>``
tensors, each checked in step 3 like the weights (exact name, shape and
dtype of a weight of the model, as many as the history lists, at most
``history.MAX_SAVED_SNAPSHOTS`` and ``MAX_SAVED_SNAPSHOT_BYTES``) and counted
in step 4. Opened, it is ``trainer.saved_history``, and saving that trainer
again keeps it. Its memory-through-time history (||dLoss/dh_t|| per
measured step) is two more tensors, ``history.time_grads`` float32
[rows, width] and ``history.time_grad_steps`` int64 [rows], whose shapes
must be those the JSON's "time_grads" claims, at most 512 x 1024 (checked
in step 3); once read, the norms must be NaN or finite and not negative and
the steps in order.

Any exception on the way becomes a ``CheckpointError`` of one line.
"""

from __future__ import annotations

import math
import os
from dataclasses import fields

import torch

from . import checkpoint_io as io_
from .atomic import atomic_write, check_writable_folder  # noqa: F401 - re-exported for the CLI
from .checkpoint_io import FORMAT, LEGACY_VERSION, VERSION
from .config import MAX_CLASSIFY_LENGTH, MAX_CLASSIFY_VOCAB, ModelConfig, RunConfig, TaskConfig, TrainConfig, validate
from .data import ClassifyTask, Vocabulary
from .devices import resolve_device
from .errors import CheckpointError, DataError, StudioError
from .labelled import MAX_CLASSES, MAX_LABEL_CHARS, MAX_TOKEN_CHARS, TokenVocabulary
from .text import MAX_VOCAB, open_regular_file

MAX_CHECKPOINT_BYTES = 8 * 2**30
MAX_COUNT = 10**9  # epochs or steps a checkpoint may claim (a window's progress counts in 32 bits)
SLACK_BYTES = 16 * 2**20  # what a file may hold beyond its tensors: header, settings, zip records

__all__ = ["FORMAT", "LEGACY_VERSION", "VERSION", "atomic_torch_save", "check_writable_folder", "load_trainer",
           "read_checkpoint", "save_checkpoint"]


# -- saving --------------------------------------------------------------------------------------

def save_checkpoint(trainer, path: str, history=None) -> str:
    """Write ``trainer`` to ``path``; returns the file written (a link's target).

    ``history`` (``saved_history.SavedHistory``; default: the one the trainer was
    opened with, ``trainer.saved_history``) is kept in the file: the run's
    label, curves and samples as JSON, its weight snapshots as tensors."""
    tensors = {f"model.{k}": v for k, v in trainer.model.state_dict().items()}
    optimizer = trainer.optimizer.state_dict()
    plain_state = {}
    for index, entry in optimizer.get("state", {}).items():
        kept = {}
        for name, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optimizer.{index}.{name}"] = value
            else:
                kept[name] = value
        plain_state[str(index)] = kept
    classify = getattr(trainer, "classify", False)
    config = trainer.cfg.to_dict()
    data = None
    if getattr(trainer, "resume_blocker", None) and getattr(trainer, "checkpoint_config", None):
        # opened without its data file: keep naming that file, not the placeholder
        config = {**config, "task": trainer.checkpoint_config.get("task", config["task"])}
        data = getattr(trainer, "data_source", None)
    elif getattr(trainer, "data_hash", None):
        task = config["task"]
        key = "data_file" if classify else "text_file"
        if task.get(key):
            task[key] = os.path.abspath(task[key])
            data = {"path": task[key], "sha256": trainer.data_hash}
    if getattr(trainer, "resume_blocker", None) and getattr(trainer, "saved_run_state", None):
        # its own state belongs to a placeholder; keep the one the file had
        run_state, state_tensors = trainer.saved_run_state
    else:
        run_state, state_tensors = trainer.run_state() if hasattr(trainer, "run_state") else ({}, {})
    tensors.update(state_tensors)
    if history is None:
        history = getattr(trainer, "saved_history", None)
    history_meta = None
    if history is not None:
        history_meta, snapshot_tensors = history.to_file()
        tensors.update(snapshot_tensors)
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "config": config,
        "vocab": list(trainer.vocab.chars) if trainer.vocab is not None and not classify else None,
        "classify": {"labels": list(trainer.task.labels), "tokens": list(trainer.vocab.tokens),
                     "level": trainer.vocab.level, "max_length": int(trainer.task.max_length)} if classify else None,
        "data": data,
        "run_state": run_state,
        "epoch": int(trainer.epoch),
        "steps": int(trainer.steps),
        "model_keys": list(trainer.model.state_dict()),
        "optimizer": {"state": plain_state, "param_groups": _plain(optimizer.get("param_groups", []))},
    }
    if history_meta is not None:
        meta["history"] = history_meta
    data = io_.safetensors_bytes(meta, tensors)
    return atomic_write(path, lambda fh: fh.write(data))


def atomic_torch_save(payload, path: str) -> str:
    """``torch.save`` written atomically (the version-1 writer; kept for tools and tests)."""
    return atomic_write(path, lambda fh: torch.save(payload, fh))


def _plain(value):
    """Optimizer bookkeeping as JSON-able values (tuples become lists)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


# -- loading -------------------------------------------------------------------------------------

def _open(path: str) -> tuple[io_.RawCheckpoint, object]:
    try:
        fh = open_regular_file(path, "checkpoint", MAX_CHECKPOINT_BYTES)
    except DataError as exc:
        raise CheckpointError(str(exc)) from None
    try:
        size = os.fstat(fh.fileno()).st_size
        raw = io_.open_checkpoint(path, fh, size)
    except CheckpointError:
        fh.close()
        raise
    except (OSError, RecursionError, MemoryError, OverflowError, ValueError, TypeError, KeyError):
        fh.close()
        raise io_.damaged(path) from None
    except BaseException:
        fh.close()
        raise
    return raw, fh


def read_checkpoint(path: str) -> dict:
    """The whole checked contents of a checkpoint file (either version) as one
    dict: format, version, config, vocab, model, optimizer, epoch, steps."""
    raw, fh = _open(path)
    with fh:
        _require_sections(raw)
        raw.verify()
        tensors = raw.tensors()
    payload = {k: v for k, v in raw.meta.items() if k not in ("model_keys", "optimizer", "crc32", "not_tensors")}
    keys = raw.meta.get("model_keys") or []
    payload["model"] = {k: tensors[f"model.{k}"] for k in keys if f"model.{k}" in tensors}
    payload["optimizer"] = _optimizer_state(raw.meta.get("optimizer"), tensors)
    return payload


def read_config(path: str) -> RunConfig:
    """The checked settings saved in a checkpoint, without reading its
    weights or its data (export-script needs only these)."""
    raw, fh = _open(path)
    with fh:
        _require_sections(raw)
        try:
            return _checked_config(path, raw.meta["config"])
        except CheckpointError:
            raise
        except StudioError as exc:
            raise CheckpointError(f"{path} holds settings this version cannot use: {_line(exc)}") from None
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise CheckpointError(f"{path} is damaged: {_line(exc)}") from None


def _require_sections(raw: io_.RawCheckpoint) -> None:
    if raw.meta.get("format") != FORMAT:
        raise CheckpointError(f"{raw.path} is not an RNN Studio checkpoint")
    if raw.meta.get("version") not in (VERSION, LEGACY_VERSION):
        raise CheckpointError(
            f"{raw.path} is a checkpoint of version {str(raw.meta.get('version'))[:20]}; this RNN Studio reads "
            f"versions {LEGACY_VERSION} and {VERSION}"
        )
    if not isinstance(raw.meta.get("config"), dict):
        raise CheckpointError(f"{raw.path} is damaged: its 'config' section is missing")
    if not isinstance(raw.meta.get("model_keys"), list) or raw.meta.get("not_tensors"):
        raise CheckpointError(f"{raw.path} is damaged: its 'model' section is missing or holds no weights")


def load_trainer(path: str, device: str | None = None, require_data: bool = False, read_data: bool = True):
    """Rebuild the trainer (model, optimizer, vocabulary) saved in ``path``.

    ``require_data``: refuse (CheckpointError) a model that could answer
    prompts but not go on training, because its data file is gone or changed.
    ``read_data=False``: do not read the data file at all (a prompt needs
    only the weights and the vocabulary; a book may be 50 MB); the trainer
    then answers prompts and says it was opened without its data."""
    raw, fh = _open(path)
    with fh:
        try:
            return _load(raw, device, require_data, read_data)
        except CheckpointError:
            raise
        except StudioError as exc:
            raise CheckpointError(f"{path} holds settings this version cannot use: {_line(exc)}") from None
        except RecursionError:
            raise CheckpointError(f"{path} was refused: its contents are nested too deeply") from None
        except MemoryError:
            raise CheckpointError(f"{path} was refused: it needs more memory than this machine has free") from None
        except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError, RuntimeError) as exc:
            raise CheckpointError(f"{path} is damaged: {_line(exc)}") from None


def _load(raw: io_.RawCheckpoint, device: str | None, require_data: bool = False, read_data: bool = True):
    from .models import ClassifierNet, RecurrentNet
    from .resources import check_fits
    from .training import Trainer

    path = raw.path
    _require_sections(raw)
    saved = raw.meta["config"]
    cfg = _checked_config(path, saved)
    vocab = _checked_vocab(path, raw.meta.get("vocab"), cfg)
    epoch = _checked_count(path, "epoch", raw.meta.get("epoch", 0))
    steps = _checked_count(path, "steps", raw.meta.get("steps", 0))
    classify = cfg.task.kind == "classify"
    labels = max_length = None
    if classify:
        vocab, labels, max_length = _checked_classify(path, raw.meta.get("classify"), cfg)
    data = _checked_data(path, raw.meta.get("data"))
    run_state = raw.meta.get("run_state")
    if run_state is not None and not isinstance(run_state, dict):
        raise CheckpointError(f"{path} is damaged: its training state is not a mapping")

    # the model the settings describe, without memory: its shapes are the truth
    size = len(vocab) if vocab is not None else 1
    text = cfg.task.kind == "text"
    if classify:
        check_fits(cfg.model, size, len(labels), text=False, classify=True)
        with torch.device("meta"):
            expected = ClassifierNet(cfg.model, size, len(labels)).state_dict()
    else:
        check_fits(cfg.model, size, size, text=text)
        with torch.device("meta"):
            expected = RecurrentNet(cfg.model, size, size, "text" if text else "sine").state_dict()
    keys = raw.meta["model_keys"]
    if set(keys) != set(expected):
        missing = sorted(set(expected) - set(keys))
        extra = sorted(set(keys) - set(expected))
        what = f"missing {', '.join(missing[:3])}" if missing else f"unexpected {', '.join(map(str, extra[:3]))}"
        raise CheckpointError(f"{path} does not fit its own settings (architecture or vocabulary mismatch): {what}")
    state_names = _checked_state_tensors(path, raw, cfg)
    history_meta, snapshot_names = _checked_history(path, raw, expected)
    for name in raw.infos:
        known = name[len("model."):] in expected if name.startswith("model.") else name.startswith("optimizer.")
        if not known and name not in state_names and name not in snapshot_names:
            raise CheckpointError(f"{path} was refused: it holds data its settings never mention ('{io_._short(name, 40)}')")
    needed = sum(raw.infos[n].nbytes for n in (*state_names, *snapshot_names))
    for name, want in expected.items():
        info = raw.infos.get(f"model.{name}")
        if info is None:
            raise CheckpointError(f"{path} does not fit its own settings: weight '{name}' is missing")
        if info.shape != tuple(want.shape) or info.dtype != want.dtype:
            raise CheckpointError(
                f"{path} does not fit its own settings (architecture or vocabulary mismatch): '{name}' is "
                f"{list(info.shape)} {_dtype(info.dtype)}, the settings need {list(want.shape)} {_dtype(want.dtype)}"
            )
        needed += info.nbytes
    shapes = [tuple(v.shape) for v in expected.values()]  # parameter order = state_dict order here
    optimizer_ok, optimizer_bytes = _check_optimizer(raw, shapes)
    needed += optimizer_bytes
    # nothing else of any size: a small model cannot come with gigabytes of other data
    stored = sum(info.nbytes for info in raw.infos.values())
    if stored > needed + SLACK_BYTES or raw.file_size > stored + SLACK_BYTES + io_.MAX_HEADER_BYTES:
        raise CheckpointError(
            f"{path} was refused: it holds {raw.file_size / 2**20:,.1f} MiB, far more than the "
            f"{needed / 2**20:,.1f} MiB its settings need"
        )
    raw.verify()
    tensors = raw.tensors()

    blocker = None
    task = None
    source = cfg.task.text_file if text else (cfg.task.data_file if classify else None)
    if source:
        # The weights and vocabulary answer prompts without the data; going
        # on training needs the very file it was trained on.
        blocker = _data_blocker(source, data) if read_data or require_data else (
            f"it was opened for prompts only, without the file it was trained on ({source})")
        if blocker is None:
            try:
                task = _build_task(cfg, vocab, labels, max_length)
            except DataError as exc:
                blocker = f"the file it was trained on, {source}, cannot be used now: {_line(exc)}"
            else:
                if data and data.get("sha256") and task.data_hash != data["sha256"]:
                    blocker, task = f"the file it was trained on, {source}, has changed since", None
        if blocker and require_data:
            raise CheckpointError(f"{path} cannot go on training: {blocker}")
    if text and task is None and cfg.task.text_file:
        # any placeholder will do; it must pass clean_sentences
        cfg.task.text_file = None
        placeholder = "".join(vocab.chars).replace("\r", " ").replace("\n", " ")[:2000]
        cfg.task.sentences = [placeholder + " ."]
        cfg.task.valid_fraction, cfg.task.batch_examples = 0.0, 0
    if text and not cfg.task.text_file:
        cfg.task.sentences = cfg.task.sentences or ["  "]
    if classify and task is None:
        if blocker:
            first = vocab.tokens[0] if vocab.tokens else "x"
            placeholder = TaskConfig(**{**cfg.task.__dict__, "data_file": None, "valid_fraction": 0.0})
            task = ClassifyTask(placeholder, cfg.train.seed, vocab, labels, max_length,
                                examples=[(first, label) for label in labels])
        else:
            task = _build_task(cfg, vocab, labels, max_length)
    if device is None:
        # saved on a machine with a GPU, opened on one without: use what is here
        try:
            resolve_device(cfg.train.device)
        except (StudioError, AttributeError):
            cfg.train.device = "auto"
    trainer = Trainer(cfg, vocab=vocab, device=device, task=task)
    trainer.epoch = epoch
    trainer.steps = steps
    trainer.resume_blocker = blocker
    trainer.data_source = data
    # the settings as saved, before the fallbacks above (a text file that is
    # gone, a device that is not here): what the window shows the user
    trainer.checkpoint_config = saved
    trainer.load_notes = []
    try:
        trainer.model.load_state_dict({k: tensors[f"model.{k}"] for k in expected}, strict=True)
    except (RuntimeError, KeyError) as exc:
        raise CheckpointError(
            f"{path} does not fit its own settings (architecture or vocabulary mismatch): {_line(exc)}"
        ) from None
    state = _optimizer_state(raw.meta.get("optimizer"), tensors) if optimizer_ok else None
    if state is not None and not read_data and not require_data:
        # opened for prompts: the optimizer (and torch._dynamo, ~1 s) only if it ever trains
        trainer.defer_optimizer_state(state)
    elif state is not None and not trainer.load_optimizer_state(state):
        state = None
    if state is None and raw.meta.get("optimizer"):
        trainer.load_notes.append("its optimizer state did not match the network, so training goes on with a fresh one")
    trainer.saved_run_state = (run_state or {}, {n: tensors[n] for n in state_names})
    trainer.saved_history = _history_from(path, history_meta, tensors, list(expected))
    if run_state and not blocker:
        try:
            trainer.restore_run_state(run_state, {n: tensors[n] for n in state_names})
        except (ValueError, RuntimeError) as exc:
            raise CheckpointError(f"{path} is damaged: {_line(exc)}") from None
    elif state_names and not blocker:
        raise CheckpointError(f"{path} is damaged: it holds a hidden state but no training state")
    return trainer


def _build_task(cfg: RunConfig, vocab, labels, max_length):
    from .data import build_task

    if cfg.task.kind == "classify":
        return build_task(cfg.task, seed=cfg.train.seed, vocab=vocab, labels=labels, max_length=max_length)
    return build_task(cfg.task, seed=cfg.train.seed, vocab=vocab)


def _data_blocker(source: str, data: dict | None) -> str | None:
    """Why the file a model was trained on cannot be trained on now, or None."""
    try:
        info = os.stat(source)
    except FileNotFoundError:
        return f"the file it was trained on, {source}, is no longer there"
    except OSError as exc:
        return f"the file it was trained on, {source}, cannot be read ({exc.strerror or exc})"
    if data and isinstance(data.get("bytes"), int) and data["bytes"] != info.st_size:
        return f"the file it was trained on, {source}, has changed since"
    return None


def _checked_data(path: str, data) -> dict | None:
    if data is None:
        return None
    if (not isinstance(data, dict) or not isinstance(data.get("path"), str) or len(data["path"]) > 4096
            or not isinstance(data.get("sha256"), str) or len(data["sha256"]) != 64):
        raise CheckpointError(f"{path} is damaged: its record of the data file is not a path and a hash")
    return data


def _checked_classify(path: str, info, cfg: RunConfig):
    """(vocabulary, labels, max_length) of a classifier, every claim bounded."""
    if not isinstance(info, dict):
        raise CheckpointError(f"{path} is damaged: a classifier without its labels and vocabulary")
    labels, tokens, level, max_length = (info.get(k) for k in ("labels", "tokens", "level", "max_length"))
    if (not isinstance(labels, list) or not 2 <= len(labels) <= MAX_CLASSES
            or not all(isinstance(x, str) and 0 < len(x) <= MAX_LABEL_CHARS for x in labels)
            or len(set(labels)) != len(labels)):
        raise CheckpointError(f"{path} is damaged: its labels are not 2 to {MAX_CLASSES} different names")
    if level != cfg.task.level:
        raise CheckpointError(f"{path} is damaged: its vocabulary's level does not match its settings")
    if not isinstance(tokens, list) or len(tokens) + 2 > min(cfg.task.max_vocab, MAX_CLASSIFY_VOCAB):
        raise CheckpointError(f"{path} was refused: its vocabulary is larger than its settings allow")
    if level == "char":
        good = all(isinstance(t, str) and len(t) == 1 for t in tokens)
    else:
        good = all(isinstance(t, str) and 0 < len(t) <= MAX_TOKEN_CHARS and t.split() == [t] for t in tokens)
    if not good or len(set(tokens)) != len(tokens):
        raise CheckpointError(f"{path} is damaged: its vocabulary is not a list of different tokens")
    if isinstance(max_length, bool) or not isinstance(max_length, int) or not 1 <= max_length <= MAX_CLASSIFY_LENGTH:
        raise CheckpointError(f"{path} is damaged: its maximum length is not a whole number from 1 to "
                              f"{MAX_CLASSIFY_LENGTH}")
    return TokenVocabulary(tokens, level), labels, max_length


def _checked_state_tensors(path: str, raw: io_.RawCheckpoint, cfg: RunConfig) -> list[str]:
    """The carried hidden state of a text file read mid-epoch: at most two
    float32 tensors [layers x directions, streams, hidden]."""
    names = sorted(n for n in raw.infos if n.startswith("state."))
    allowed = {"state.hidden.0", "state.hidden.1"} if cfg.model.arch == "lstm" else {"state.hidden.0"}
    from .config import MAX_BATCH

    for name in names:
        info = raw.infos[name]
        dirs = 2 if cfg.model.bidirectional else 1
        if (name not in allowed or cfg.task.kind != "text" or not cfg.task.text_file or info.dtype != torch.float32
                or len(info.shape) != 3 or info.shape[0] != cfg.model.layers * dirs or info.shape[2] != cfg.model.hidden
                or not 1 <= info.shape[1] <= MAX_BATCH):
            raise CheckpointError(f"{path} was refused: it holds data its settings never mention "
                                  f"('{io_._short(name, 40)}')")
    return names


def _checked_history(path: str, raw: io_.RawCheckpoint, expected: dict):
    """(checked history metadata or None, snapshot tensor names): every
    snapshot holds each weight of the model, with its exact shape and dtype,
    and nothing else; at most MAX_SAVED_SNAPSHOTS of them, in all at most
    MAX_SAVED_SNAPSHOT_BYTES. Checked from the header, before any is read."""
    from .history import TIME_GRAD_STEPS_TENSOR, TIME_GRADS_TENSOR, TimeGradHistory
    from .saved_history import MAX_SAVED_SNAPSHOT_BYTES, SNAPSHOT_PREFIX, SavedHistory

    names = [n for n in raw.infos if n.startswith(SNAPSHOT_PREFIX)]
    grad_names = [n for n in (TIME_GRADS_TENSOR, TIME_GRAD_STEPS_TENSOR) if n in raw.infos]
    meta = raw.meta.get("history")
    if meta is None:
        if names or grad_names:
            raise CheckpointError(f"{path} was refused: it holds data its settings never mention "
                                  f"('{io_._short((names + grad_names)[0], 40)}')")
        return None, []
    try:
        run, runs, samples, moments = SavedHistory.check_meta(meta)
        grads = meta.get("time_grads")
        grads = TimeGradHistory.check_meta(grads) if grads is not None else None
    except ValueError as exc:
        raise CheckpointError(f"{path} is damaged: {_line(exc)}") from None
    if grads is None and grad_names:
        raise CheckpointError(f"{path} was refused: it holds data its settings never mention "
                              f"('{grad_names[0]}')")
    if grads is not None:
        # the shapes the description claims, both bounded by check_meta: 512 x 1024 float32 at most
        for name, shape, dtype in ((TIME_GRADS_TENSOR, (grads["rows"], grads["width"]), torch.float32),
                                   (TIME_GRAD_STEPS_TENSOR, (grads["rows"],), torch.int64)):
            info = raw.infos.get(name)
            if info is None:
                raise CheckpointError(f"{path} is damaged: its memory-through-time history is missing '{name}'")
            if info.shape != shape or info.dtype != dtype:
                raise CheckpointError(
                    f"{path} is damaged: its memory-through-time '{name}' is {list(info.shape)} {_dtype(info.dtype)}, "
                    f"its history says {list(shape)} {_dtype(dtype)}"
                )
    want = {f"{SNAPSHOT_PREFIX}{i}.{key}": value for i in range(len(moments)) for key, value in expected.items()}
    total = 0
    for name in names:
        info = raw.infos[name]
        target = want.get(name)
        if target is None:
            raise CheckpointError(f"{path} was refused: it holds data its settings never mention "
                                  f"('{io_._short(name, 40)}')")
        if info.shape != tuple(target.shape) or info.dtype != target.dtype:
            raise CheckpointError(
                f"{path} does not fit its own settings: snapshot weight '{io_._short(name, 40)}' is "
                f"{list(info.shape)} {_dtype(info.dtype)}, the network's is {list(target.shape)} {_dtype(target.dtype)}"
            )
        total += info.nbytes
    if len(names) != len(want):
        raise CheckpointError(f"{path} is damaged: its history lists {len(moments)} snapshots but the weights of "
                              "some are missing")
    if total > MAX_SAVED_SNAPSHOT_BYTES:
        raise CheckpointError(f"{path} was refused: its snapshots take {total / 2**20:,.1f} MiB; the limit is "
                              f"{MAX_SAVED_SNAPSHOT_BYTES // 2**20} MiB")
    return (run, runs, samples, moments, grads), names + grad_names


def _history_from(path: str, checked, tensors: dict, keys: list[str]):
    if checked is None:
        return None
    from .evolution import Snapshot
    from .history import TIME_GRAD_STEPS_TENSOR, TIME_GRADS_TENSOR, TimeGradHistory
    from .saved_history import SNAPSHOT_PREFIX, SavedHistory

    run, runs, samples, moments, grads = checked
    snapshots = [Snapshot(epoch, step, {k: tensors[f"{SNAPSHOT_PREFIX}{i}.{k}"] for k in keys})
                 for i, (epoch, step) in enumerate(moments)]
    time_grads = None
    if grads is not None:
        try:
            time_grads = TimeGradHistory.from_file(
                grads, tensors[TIME_GRAD_STEPS_TENSOR].numpy(), tensors[TIME_GRADS_TENSOR].numpy())
        except ValueError as exc:
            raise CheckpointError(f"{path} is damaged: {_line(exc)}") from None
    return SavedHistory(run=run, runs=runs, samples=samples, snapshots=snapshots, time_grads=time_grads)


def _checked_config(path: str, saved: dict) -> RunConfig:
    """Every known setting must have the type of its default; ranges by validate()."""
    sections = {"task": TaskConfig, "model": ModelConfig, "train": TrainConfig}
    for section, kind in sections.items():
        values = saved.get(section, {})
        if not isinstance(values, dict):
            raise CheckpointError(f"{path} is damaged: its '{section}' settings are not a mapping")
        defaults = kind()
        for f in fields(kind):
            if f.name not in values:
                continue
            value, default = values[f.name], getattr(defaults, f.name)
            if not _same_kind(value, default, f.name):
                raise CheckpointError(
                    f"{path} holds a setting of the wrong kind: {section}.{f.name} is {io_._short(repr(value), 40)}"
                )
    cfg = RunConfig.from_dict(saved)
    return validate(cfg)


def _same_kind(value, default, name: str) -> bool:
    if name in ("text_file", "data_file"):
        return value is None or (isinstance(value, str) and len(value) <= 4096)
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if isinstance(default, str):
        return isinstance(value, str) and len(value) <= 100
    if isinstance(default, list):
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return False


def _checked_vocab(path: str, chars, cfg: RunConfig):
    if cfg.task.kind != "text":
        return None
    if not isinstance(chars, list) or not all(isinstance(c, str) and len(c) == 1 for c in chars):
        raise CheckpointError(f"{path} is damaged: its vocabulary is not a list of characters")
    if len(chars) + 1 > MAX_VOCAB:
        raise CheckpointError(
            f"{path} was refused: its vocabulary has {len(chars):,} characters; the limit is {MAX_VOCAB - 1:,}"
        )
    if not chars:
        raise CheckpointError(f"{path} is damaged: its vocabulary is empty")
    vocab = Vocabulary(chars)
    if len(vocab.chars) != len(chars):
        raise CheckpointError(f"{path} is damaged: its vocabulary repeats characters")
    return vocab


def _checked_count(path: str, name: str, value) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise CheckpointError(
            f"{path} is damaged: its {name} count {io_._short(repr(value), 30)} is not a whole number "
            f"from 0 to {MAX_COUNT:,}"
        )
    return value


def _check_optimizer(raw: io_.RawCheckpoint, shapes: list[tuple]) -> tuple[bool, int]:
    """(usable, bytes): the optimizer's tensors must each belong to a parameter
    of the right shape, or the state is not used (a fresh optimizer instead).
    Its tensors were already checked to store every value they claim."""
    infos = {k: v for k, v in raw.infos.items() if k.startswith("optimizer.")}
    total = sum(info.nbytes for info in infos.values())
    meta = raw.meta.get("optimizer")
    if not isinstance(meta, dict):
        return False, total
    groups = meta.get("param_groups")
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        return False, total
    params = [p for g in groups for p in (g.get("params") or [])]
    if params != list(range(len(shapes))):
        return False, total
    for name, info in infos.items():
        _, index, key = name.split(".", 2)
        if not index.isdigit() or int(index) >= len(shapes):
            return False, total
        want = shapes[int(index)]
        if key == "step":
            if info.numel != 1:
                return False, total
        elif info.shape != want or info.dtype != torch.float32:
            return False, total
    return True, total


def _optimizer_state(meta, tensors: dict[str, torch.Tensor]) -> dict | None:
    if not isinstance(meta, dict):
        return None
    state: dict = {}
    plain_state = meta.get("state") if isinstance(meta.get("state"), dict) else {}
    for index, entry in plain_state.items():
        if not str(index).isdigit():
            continue
        state[int(index)] = dict(entry) if isinstance(entry, dict) else {}
    for name, value in tensors.items():
        if name.startswith("optimizer."):
            _, index, key = name.split(".", 2)
            if index.isdigit():
                state.setdefault(int(index), {})[key] = value
    groups = meta.get("param_groups")
    if isinstance(groups, list):
        groups = [{k: (tuple(v) if k == "betas" and isinstance(v, list) else v) for k, v in g.items()}
                  if isinstance(g, dict) else g for g in groups]
    return {"state": state, "param_groups": groups}


def _dtype(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


def _line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:200]

