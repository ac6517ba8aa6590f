"""Hostile and broken checkpoint files, built the way an attacker would (issue 7).

Each builder writes one file into a folder and returns its path; ``HOSTILE``
maps a name to (builder, a fragment the refusal must contain). The core and
CLI tests, the window's tests and bench/bench_hostile_files.py all use them.
Version-1 files are ``torch.save`` zips as earlier releases wrote them;
version-2 files are safetensors with the metadata changed.
"""

from __future__ import annotations

import copy
import json
import struct
import sys
import zipfile
import zlib
from pathlib import Path

import torch

from rnn_studio.core import checkpoint_io
from rnn_studio.core.checkpoints import FORMAT, LEGACY_VERSION, save_checkpoint
from rnn_studio.core.config import RunConfig
from rnn_studio.core.training import Trainer

_TRAINED = {}


def trained() -> Trainer:
    """The seed network after two steps (shared: building one costs ~50 ms)."""
    if "t" not in _TRAINED:
        cfg = RunConfig()
        cfg.train.device, cfg.train.epochs = "cpu", 2
        trainer = Trainer(cfg)
        trainer.step()
        trainer.step()
        _TRAINED["t"] = trainer
    return _TRAINED["t"]


def legacy_payload(**changes) -> dict:
    t = trained()
    payload = {
        "format": FORMAT, "version": LEGACY_VERSION, "config": t.cfg.to_dict(), "vocab": list(t.vocab.chars),
        "model": {k: v.clone() for k, v in t.model.state_dict().items()},
        "optimizer": t.optimizer.state_dict(), "epoch": t.epoch, "steps": t.steps,
    }
    payload.update(changes)
    return payload


def _legacy(folder: Path, name: str, payload: dict) -> Path:
    path = Path(folder) / name
    torch.save(payload, path)
    return path


def _current_parts() -> tuple[dict, dict]:
    """(meta, tensors) of a good version-2 file, to be changed."""
    t = trained()
    tensors = {f"model.{k}": v for k, v in t.model.state_dict().items()}
    plain_state = {}
    for index, entry in t.optimizer.state_dict()["state"].items():
        plain_state[str(index)] = {}
        for key, value in entry.items():
            tensors[f"optimizer.{index}.{key}"] = value
    meta = {
        "format": FORMAT, "version": 2, "config": t.cfg.to_dict(), "vocab": list(t.vocab.chars),
        "epoch": t.epoch, "steps": t.steps, "model_keys": list(t.model.state_dict()),
        "optimizer": {"state": plain_state,
                      "param_groups": json.loads(json.dumps(t.optimizer.state_dict()["param_groups"]))},
    }
    return meta, tensors


def _current(folder: Path, name: str, meta: dict, tensors: dict) -> Path:
    path = Path(folder) / name
    path.write_bytes(checkpoint_io.safetensors_bytes(meta, tensors))
    return path


def _safetensors_raw(folder: Path, name: str, header: dict, data: bytes) -> Path:
    """A safetensors file written byte by byte, whatever its header claims."""
    raw = json.dumps(header).encode()
    path = Path(folder) / name
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


# -- the classes of issue 7 ----------------------------------------------------------------------

def expanded_optimizer_state(folder) -> Path:
    """Adam's state: one float64 number viewed (stride 0) as 600 million."""
    state = copy.deepcopy(trained().optimizer.state_dict())  # state_dict() shares the live state
    state["state"][0]["exp_avg"] = torch.zeros(1, dtype=torch.float64).expand(600_000_000)
    return _legacy(folder, "expanded_state.pt", legacy_payload(optimizer=state))


def expanded_weight(folder) -> Path:
    model = {k: v.clone() for k, v in trained().model.state_dict().items()}
    model["rnn.weight_hh_l0"] = torch.zeros(1).expand(600_000_000)
    return _legacy(folder, "expanded_weight.pt", legacy_payload(model=model))


def compressed_member(folder, inflated_bytes: int = 64 * 2**20) -> Path:
    """A good file whose members are deflated, plus one that inflates to
    ``inflated_bytes`` (about 1000:1)."""
    good = _legacy(folder, "plain.pt", legacy_payload())
    path = Path(folder) / "compressed.pt"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        prefix = src.namelist()[0].split("/")[0]
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info), compress_type=zipfile.ZIP_DEFLATED)
        with dst.open(f"{prefix}/data/999", "w", force_zip64=True) as member:
            chunk = bytes(2**20)
            for _ in range(inflated_bytes // 2**20):
                member.write(chunk)
    good.unlink()
    return path


def huge_settings(folder) -> Path:
    """15 KB whose settings ask for a 5-layer, 4096-unit LSTM (2.6 GB)."""
    cfg = trained().cfg.to_dict()
    cfg["model"].update(arch="lstm", layers=5, hidden=4096)
    return _legacy(folder, "huge_settings.pt", legacy_payload(config=cfg))


def huge_settings_current(folder) -> Path:
    meta, tensors = _current_parts()
    meta["config"]["model"].update(arch="lstm", layers=5, hidden=4096)
    return _current(folder, "huge_settings_v2.pt", meta, tensors)


def huge_vocabulary(folder) -> Path:
    """A vocabulary of 10^6 characters (the weights are the seed's)."""
    chars = [chr(c) for c in range(0x20, 0x10FFFF) if not 0xD800 <= c <= 0xDFFF][:1_000_000]
    return _legacy(folder, "huge_vocab.pt", legacy_payload(vocab=chars))


def huge_vocabulary_current(folder, size: int = 100_000) -> Path:
    meta, tensors = _current_parts()
    meta["vocab"] = [chr(c) for c in range(0x20, 0x10FFFF) if not 0xD800 <= c <= 0xDFFF][:size]
    return _current(folder, "huge_vocab_v2.pt", meta, tensors)


def big_pickle(folder) -> Path:
    """10 MB of pickle opcodes (a list of 5 million small numbers), stored
    (the issue's was 40 MB; the size cap refuses both alike)."""
    return _legacy(folder, "big_pickle.pt", legacy_payload(junk=[0] * 5_000_000))


def deep_config(folder) -> Path:
    """A setting nested 5,000 lists deep."""
    nested: list = []
    for _ in range(5000):
        nested = [nested]
    cfg = trained().cfg.to_dict()
    cfg["task"]["sentences"] = nested
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(50_000)
    try:
        return _legacy(folder, "deep_config.pt", legacy_payload(config=cfg))
    finally:
        sys.setrecursionlimit(limit)


def deep_config_current(folder) -> Path:
    meta, tensors = _current_parts()
    text = json.dumps(meta).replace('"sentences": [', '"sentences": ' + "[" * 5000 + "[", 1)
    text = text.replace('"day"]', '"day"]' + "]" * 5000, 1)
    path = _current(folder, "deep_config_v2.pt", meta, tensors)
    # swap the metadata for the deep one, keeping the tensors' bytes
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    header["__metadata__"][checkpoint_io.METADATA_KEY] = text
    path.unlink()
    return _safetensors_raw(folder, "deep_config_v2.pt", header, raw[8 + n:])


def epoch_overflow(folder) -> Path:
    return _legacy(folder, "epoch_overflow.pt", legacy_payload(epoch=2**31, steps=2**31))


def epoch_overflow_current(folder) -> Path:
    meta, tensors = _current_parts()
    meta["epoch"] = 2**31
    return _current(folder, "epoch_overflow_v2.pt", meta, tensors)


def claims_more_than_stored(folder) -> Path:
    """A safetensors header that says 600 million floats, holding four bytes."""
    header = {"__metadata__": {checkpoint_io.METADATA_KEY: json.dumps(_current_parts()[0])},
              "model.rnn.weight_hh_l0": {"dtype": "F32", "shape": [600_000_000], "data_offsets": [0, 4]}}
    return _safetensors_raw(folder, "claims_more.pt", header, b"\0\0\0\0")


def huge_header(folder) -> Path:
    """A header length of 100 MB (the bytes are there, all spaces)."""
    path = Path(folder) / "huge_header.pt"
    n = 100 * 2**20
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", n) + b"{")
        fh.seek(8 + n - 1)
        fh.write(b"}")
    return path


def extra_tensors(folder) -> Path:
    """A good model with 64 MB of tensors its settings never mention."""
    meta, tensors = _current_parts()
    tensors["junk.block"] = torch.zeros(16 * 2**20)
    return _current(folder, "extra_tensors.pt", meta, tensors)


def _with_history(snapshots: int = 2) -> tuple[dict, dict]:
    """(meta, tensors) of a good file keeping a history with ``snapshots`` snapshots (issue 10)."""
    meta, tensors = _current_parts()
    state = trained().model.state_dict()
    meta["history"] = {"run": None, "runs": [], "samples": [],
                       "snapshots": [{"epoch": i, "step": i} for i in range(snapshots)]}
    for i in range(snapshots):
        for key, value in state.items():
            tensors[f"snapshot.{i}.{key}"] = value.clone()
    return meta, tensors


def snapshot_wrong_shape(folder) -> Path:
    """A snapshot of the hidden-to-hidden weights claiming 4096 x 4096 (64 MiB) instead of 12 x 12."""
    meta, tensors = _with_history()
    tensors["snapshot.1.rnn.weight_hh_l0"] = torch.zeros(4096, 4096)
    return _current(folder, "snapshot_shape.st", meta, tensors)


def snapshot_unlisted(folder) -> Path:
    """Snapshot tensors (64 MB) that the history does not list."""
    meta, tensors = _with_history()
    tensors["snapshot.7.rnn.weight_hh_l0"] = torch.zeros(16 * 2**20)
    return _current(folder, "snapshot_unlisted.st", meta, tensors)


def snapshot_without_history(folder) -> Path:
    meta, tensors = _with_history()
    del meta["history"]
    return _current(folder, "snapshot_no_history.st", meta, tensors)


def history_claims_many_snapshots(folder) -> Path:
    """A history listing 100,000 snapshots (with none stored)."""
    meta, tensors = _current_parts()
    meta["history"] = {"snapshots": [{"epoch": 0, "step": 0}] * 100_000}
    return _current(folder, "history_many.st", meta, tensors)


def history_not_a_mapping(folder) -> Path:
    meta, tensors = _current_parts()
    meta["history"] = [1, 2, 3]
    return _current(folder, "history_list.st", meta, tensors)


def _with_time_grads(rows: int = 3, width: int = 5) -> tuple[dict, dict]:
    """(meta, tensors) of a good file keeping a memory-through-time history of ``rows`` x ``width``."""
    meta, tensors = _with_history(0)
    meta["history"]["time_grads"] = {"rows": rows, "width": width, "stride": 1, "offered": rows, "truncated": False}
    tensors["history.time_grads"] = torch.rand(rows, width)
    tensors["history.time_grad_steps"] = torch.arange(1, rows + 1, dtype=torch.int64)
    return meta, tensors


def time_grads_claim_many_rows(folder) -> Path:
    """A memory-through-time history claiming 100,000 rows (2 GB of norms were it true)."""
    meta, tensors = _with_time_grads()
    meta["history"]["time_grads"]["rows"] = 100_000
    return _current(folder, "time_grads_rows.st", meta, tensors)


def time_grads_larger_than_claimed(folder) -> Path:
    """Norms stored as 4096 x 4096 (64 MiB) where the history claims 3 x 5."""
    meta, tensors = _with_time_grads()
    tensors["history.time_grads"] = torch.zeros(4096, 4096)
    return _current(folder, "time_grads_shape.st", meta, tensors)


def time_grads_wrong_dtype(folder) -> Path:
    meta, tensors = _with_time_grads()
    tensors["history.time_grads"] = tensors["history.time_grads"].double()
    return _current(folder, "time_grads_dtype.st", meta, tensors)


def time_grads_without_description(folder) -> Path:
    meta, tensors = _with_time_grads()
    del meta["history"]["time_grads"]
    return _current(folder, "time_grads_undescribed.st", meta, tensors)


def time_grads_step_count_mismatch(folder) -> Path:
    """Three rows of norms but four training steps."""
    meta, tensors = _with_time_grads()
    tensors["history.time_grad_steps"] = torch.arange(4, dtype=torch.int64)
    return _current(folder, "time_grads_steps.st", meta, tensors)


def time_grads_infinite(folder) -> Path:
    meta, tensors = _with_time_grads()
    tensors["history.time_grads"][1, 2] = float("inf")
    return _current(folder, "time_grads_inf.st", meta, tensors)


def time_grads_steps_out_of_order(folder) -> Path:
    meta, tensors = _with_time_grads()
    tensors["history.time_grad_steps"] = torch.tensor([5, 2, 9], dtype=torch.int64)
    return _current(folder, "time_grads_order.st", meta, tensors)


def wrong_dtype_weights(folder) -> Path:
    meta, tensors = _current_parts()
    tensors["model.rnn.weight_hh_l0"] = tensors["model.rnn.weight_hh_l0"].double()
    return _current(folder, "wrong_dtype.pt", meta, tensors)


def flipped_weight_byte(folder) -> Path:
    path = save_good(folder, "flipped.pt")
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0x40
    path.write_bytes(bytes(raw))
    return path


def save_good(folder, name: str = "good.pt") -> Path:
    path = Path(folder) / name
    save_checkpoint(trained(), str(path))
    return path


# name -> (builder, a fragment the one-line refusal must contain)
HOSTILE = {
    "expanded optimizer state": (expanded_optimizer_state, "claims 600,000,000 values"),
    "expanded weight": (expanded_weight, "claims 600,000,000 values"),
    "compressed member": (compressed_member, "compressed"),
    "huge settings": (huge_settings, "does not fit its own settings"),
    "huge settings v2": (huge_settings_current, "does not fit its own settings"),
    "huge vocabulary": (huge_vocabulary, "refused"),
    "huge vocabulary v2": (huge_vocabulary_current, "vocabulary has 100,000 characters"),
    "big pickle": (big_pickle, "settings take"),
    "deep config": (deep_config, "refused"),
    "deep config v2": (deep_config_current, "damaged"),
    "epoch overflow": (epoch_overflow, "epoch count"),
    "epoch overflow v2": (epoch_overflow_current, "epoch count"),
    "claims more than stored": (claims_more_than_stored, "claims 600,000,000 values"),
    "huge header": (huge_header, "header claims"),
    "extra tensors": (extra_tensors, "never mention"),
    "wrong dtype weights": (wrong_dtype_weights, "does not fit its own settings"),
    "flipped weight byte": (flipped_weight_byte, "checksum"),
    # issue 10: a saved model keeps its history
    "snapshot of the wrong shape": (snapshot_wrong_shape, "snapshot weight"),
    "snapshot the history does not list": (snapshot_unlisted, "never mention"),
    "snapshot without a history": (snapshot_without_history, "never mention"),
    "history claims 100,000 snapshots": (history_claims_many_snapshots, "more than 100 snapshots"),
    "history not a mapping": (history_not_a_mapping, "history is not a mapping"),
    "memory through time claims 100,000 rows": (time_grads_claim_many_rows, "row count is not a whole number"),
    "memory through time larger than claimed": (time_grads_larger_than_claimed, "its history says [3, 5] float32"),
    "memory through time in float64": (time_grads_wrong_dtype, "float64"),
    "memory through time not described": (time_grads_without_description, "never mention"),
    "memory through time step count mismatch": (time_grads_step_count_mismatch, "its history says [3] int64"),
    "memory through time infinite norm": (time_grads_infinite, "infinite or negative"),
    "memory through time steps out of order": (time_grads_steps_out_of_order, "steps in order"),
}


def deflate_ratio(path: Path) -> float:
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    return sum(i.file_size for i in infos) / max(1, sum(i.compress_size for i in infos))


__all__ = ["HOSTILE", "deflate_ratio", "legacy_payload", "save_good", "trained", "zlib"]
