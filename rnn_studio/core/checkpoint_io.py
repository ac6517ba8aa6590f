"""Reading the two checkpoint formats, before trusting anything they claim.

Version 2 (written since issue 7) is a safetensors file: an 8-byte header
length, a JSON header giving every tensor's dtype, shape and byte range, then
the raw bytes. The settings, vocabulary, counters, optimizer bookkeeping and a
CRC-32 of the tensor bytes are JSON in the header's metadata. Nothing in it is
code, nothing is compressed, and every tensor's size is known before a byte of
it is read: ``open_checkpoint`` returns the header's promises, the caller
checks them against the model the settings describe, and only then are the
tensors read (``RawCheckpoint.tensors()``).

Version 1 (earlier releases) is ``torch.save``'s pickle-in-a-zip. It is still
opened, hardened: the zip's members must be stored, not compressed, their
total no larger than the file; the pickle is capped at a size no real
checkpoint comes near (so the safe unpickler's work is bounded); it is loaded
with ``weights_only=True`` and ``mmap=True`` (tensors stay in the file until
read); every tensor must be dense with storage for all its elements (a
stride-0 view of one number claiming 600 million is refused); and the archive's
CRC-32s are verified only after the settings have been checked.

Both return plain data of bounded depth and size; ``checkpoints.py`` does the
checking against the settings.
"""

from __future__ import annotations

import json
import pickle
import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from .errors import CheckpointError

FORMAT = "rnn-studio-checkpoint"
VERSION = 2  # safetensors + JSON
LEGACY_VERSION = 1  # torch.save zip
METADATA_KEY = "rnn_studio"

MAX_HEADER_BYTES = 8 * 2**20  # a full sentence box (200,000 characters) is < 1 MiB of JSON
MAX_PICKLE_BYTES = 4 * 2**20  # the same settings pickled; the safe unpickler takes ~0.35 s per MiB of opcodes
MAX_ZIP_MEMBERS = 4096
MAX_DEPTH = 12  # config -> task -> sentences -> text is 4 deep
MAX_NODES = 2_000_000  # containers + leaves in the plain data
TENSOR_DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16,
                 "I64": torch.int64, "I32": torch.int32}


@dataclass
class TensorInfo:
    """A tensor as the file describes it, before it is read."""

    dtype: torch.dtype
    shape: tuple[int, ...]
    nbytes: int  # bytes the file holds for it

    @property
    def numel(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n


@dataclass
class RawCheckpoint:
    """What a file says it holds: plain metadata, tensor descriptions, and
    the means to read and verify the tensors once they have been checked."""

    path: str
    version: int
    meta: dict  # format, version, config, vocab, epoch, steps, optimizer (without tensors)
    infos: dict[str, TensorInfo]  # "model.<name>", "optimizer.<index>.<key>"
    _read: Callable[[], dict[str, torch.Tensor]]
    _verify: Callable[[], None]
    file_size: int = 0
    notes: list[str] = field(default_factory=list)

    def verify(self) -> None:
        """Check the stored checksums (reads the whole file once)."""
        self._verify()

    def tensors(self) -> dict[str, torch.Tensor]:
        return self._read()


def damaged(path: str) -> CheckpointError:
    return CheckpointError(f"{path} is damaged or truncated, or is not an RNN Studio checkpoint")


def open_checkpoint(path: str, fh, file_size: int) -> RawCheckpoint:
    """Identify the format from the first bytes and read its header."""
    head = fh.read(8)
    fh.seek(0)
    if head[:4] == b"PK\x03\x04":
        return _open_legacy(path, fh, file_size)
    if len(head) == 8:
        n = struct.unpack("<Q", head)[0]
        fh.seek(8)
        brace = fh.read(1) == b"{"
        fh.seek(0)
        if brace and 2 <= n <= min(MAX_HEADER_BYTES, file_size - 8):
            return _open_safetensors(path, fh, file_size, n)
        if brace and MAX_HEADER_BYTES < n <= file_size - 8:
            raise CheckpointError(
                f"{path} was refused: its header claims {n / 2**20:,.0f} MiB; a checkpoint's is under "
                f"{MAX_HEADER_BYTES // 2**20} MiB"
            )
    # a cut or foreign file: the same words whatever the first bytes were
    raise damaged(path)


# -- version 2: safetensors ----------------------------------------------------------------------

def _open_safetensors(path: str, fh, file_size: int, header_len: int) -> RawCheckpoint:
    fh.seek(8)
    raw_header = fh.read(header_len)
    if len(raw_header) != header_len:
        raise damaged(path)
    try:
        header = json.loads(raw_header.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise damaged(path) from None
    if not isinstance(header, dict):
        raise damaged(path)
    metadata = header.pop("__metadata__", None)
    if not isinstance(metadata, dict) or not isinstance(metadata.get(METADATA_KEY), str):
        raise CheckpointError(f"{path} is a safetensors file, but not an RNN Studio checkpoint")
    meta = parse_json(path, metadata[METADATA_KEY])
    if not isinstance(meta, dict):
        raise damaged(path)
    data_start = 8 + header_len
    data_size = file_size - data_start
    infos: dict[str, TensorInfo] = {}
    spans = []
    for name, entry in header.items():
        if not isinstance(entry, dict):
            raise damaged(path)
        dtype = TENSOR_DTYPES.get(entry.get("dtype"))
        shape = entry.get("shape")
        offsets = entry.get("data_offsets")
        if dtype is None:
            raise CheckpointError(f"{path} was refused: tensor '{_short(name)}' has a type a checkpoint never holds")
        if (not isinstance(shape, list) or len(shape) > 8
                or not all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s <= 2**40 for s in shape)):
            raise damaged(path)
        if (not isinstance(offsets, list) or len(offsets) != 2
                or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
                or not 0 <= offsets[0] <= offsets[1] <= data_size):
            raise damaged(path)
        info = TensorInfo(dtype, tuple(shape), offsets[1] - offsets[0])
        if info.numel * dtype.itemsize != info.nbytes:
            raise CheckpointError(
                f"{path} was refused: tensor '{_short(name)}' claims {info.numel:,} values but the file holds "
                f"{info.nbytes:,} bytes for it"
            )
        infos[name] = info
        spans.append((offsets[0], offsets[1]))
    # the byte ranges must tile the data exactly: no overlap, no gap, nothing after
    position = 0
    for begin, end in sorted(spans):
        if begin != position:
            raise damaged(path)
        position = end
    if position != data_size:
        raise damaged(path)
    crc = meta.get("crc32")

    def read_all() -> dict[str, torch.Tensor]:
        from safetensors.torch import load as load_bytes

        fh.seek(0)
        raw = fh.read(file_size + 1)
        if len(raw) != file_size:
            raise damaged(path)  # the file changed under us
        try:
            return load_bytes(raw)
        except Exception:  # noqa: BLE001 - safetensors raises its own error types
            raise damaged(path) from None

    def verify() -> None:
        if not isinstance(crc, int):
            raise damaged(path)
        fh.seek(data_start)
        value = 0
        remaining = data_size
        while remaining > 0:
            chunk = fh.read(min(remaining, 4 * 2**20))
            if not chunk:
                raise damaged(path)
            value = zlib.crc32(chunk, value)
            remaining -= len(chunk)
        if value != crc:
            raise CheckpointError(f"{path} is damaged: its weights fail their checksum")

    return RawCheckpoint(path, VERSION, meta, infos, read_all, verify, file_size)


def safetensors_bytes(meta: dict, tensors: dict[str, torch.Tensor]) -> bytes:
    """The bytes of a version-2 file: ``meta`` gets the CRC-32 of the tensor data."""
    from safetensors.torch import save as save_bytes

    tensors = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    body = save_bytes(tensors, metadata={METADATA_KEY: json.dumps({**meta, "crc32": 0})})
    header_len = struct.unpack("<Q", body[:8])[0]
    crc = zlib.crc32(memoryview(body)[8 + header_len:])
    # write the header again with the real checksum (its length may change: save again)
    return save_bytes(tensors, metadata={METADATA_KEY: json.dumps({**meta, "crc32": crc})})


# -- version 1: torch.save zip -------------------------------------------------------------------

def _open_legacy(path: str, fh, file_size: int) -> RawCheckpoint:
    try:
        end = zipfile._EndRecData(fh)  # noqa: SLF001 - the entry count, before zipfile lists every entry
    except (OSError, struct.error, ValueError):
        end = None
    if not end:
        raise damaged(path)
    if end[zipfile._ECD_ENTRIES_TOTAL] > MAX_ZIP_MEMBERS:  # noqa: SLF001
        raise CheckpointError(f"{path} was refused: its archive lists {end[zipfile._ECD_ENTRIES_TOTAL]:,} members")
    fh.seek(0)
    try:
        archive = zipfile.ZipFile(fh)
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, struct.error, EOFError):
        raise damaged(path) from None
    total = 0
    pickles = [m for m in members if m.filename.endswith("/data.pkl") or m.filename == "data.pkl"]
    for member in members:
        if member.compress_type != zipfile.ZIP_STORED:
            raise CheckpointError(
                f"{path} was refused: it holds compressed data, which a checkpoint never does "
                "(it could unpack to far more than its size)"
            )
        total += member.file_size
    if total > file_size:
        raise damaged(path)
    if len(pickles) != 1:
        raise damaged(path)
    if pickles[0].file_size > MAX_PICKLE_BYTES:
        raise CheckpointError(
            f"{path} was refused: its settings take {pickles[0].file_size / 2**20:,.1f} MiB; a checkpoint's "
            f"take under {MAX_PICKLE_BYTES // 2**20} MiB"
        )
    try:
        # the pickle's own CRC first (it is small): flipped bytes there must read as
        # damage, not as a request to run code; the weights' CRCs come after the checks
        with archive.open(pickles[0]) as member:
            while member.read(2**20):
                pass
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error, zlib.error):
        raise damaged(path) from None
    fh.seek(0)
    payload = _torch_load(path, fh)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not an RNN Studio checkpoint")
    if payload.get("version") != LEGACY_VERSION:
        raise CheckpointError(
            f"{path} is a checkpoint of version {_short(repr(payload.get('version')))}; this RNN Studio reads "
            f"versions {LEGACY_VERSION} and {VERSION}"
        )
    tensors: dict[str, torch.Tensor] = {}
    model = payload.get("model")
    meta = {k: v for k, v in payload.items() if k not in ("model", "optimizer")}
    if isinstance(model, dict):
        for name, value in model.items():
            tensors[f"model.{name}"] = value
        meta["model_keys"] = list(model)
    else:
        meta["model_keys"] = model
    optimizer = payload.get("optimizer")
    if isinstance(optimizer, dict):
        meta["optimizer"] = _split_optimizer(optimizer, tensors)
    # the plain part must be plain: bounded, no tensors hidden in the settings
    check_plain(path, meta)
    infos = {}
    for name, value in tensors.items():
        if isinstance(value, torch.Tensor):
            infos[name] = _honest_info(path, name, value)
    for name in [n for n, v in tensors.items() if not isinstance(v, torch.Tensor)]:
        meta.setdefault("not_tensors", []).append(name)
        del tensors[name]

    def verify() -> None:
        fh.seek(0)
        try:
            with zipfile.ZipFile(fh) as archive:
                if archive.testzip() is not None:
                    raise CheckpointError(f"{path} is damaged: its weights fail their checksum")
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error, zlib.error):
            raise damaged(path) from None

    return RawCheckpoint(path, LEGACY_VERSION, meta, infos, lambda: tensors, verify, file_size)


def _torch_load(path: str, fh):
    # torch warns about pickle protocols it did not write; the CLI promises one line
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            try:
                return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
            except (RuntimeError, ValueError, OSError):
                # a file mmap cannot map (an odd alignment from another writer): read it, the
                # size of every member was checked above
                fh.seek(0)
                return torch.load(fh, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            text = str(exc)
            # a GLOBAL/REDUCE/BUILD of something not allow-listed: the file asks to run code
            if "GLOBAL" in text or "allowlist" in text or "Can only" in text:
                raise CheckpointError(
                    f"{path} was refused: it asks to run code or build objects when loaded, which a checkpoint "
                    "never needs"
                ) from None
            raise damaged(path) from None
        except RecursionError:
            raise CheckpointError(f"{path} was refused: its contents are nested too deeply") from None
        except (zipfile.BadZipFile, EOFError, RuntimeError, ValueError, OSError, KeyError, IndexError,
                AttributeError, TypeError, UnicodeDecodeError, struct.error, MemoryError, OverflowError):
            raise damaged(path) from None


def _split_optimizer(state_dict: dict, tensors: dict) -> dict:
    """The optimizer's state with its tensors moved out to ``tensors``."""
    plain: dict = {}
    for key, value in state_dict.items():
        if key != "state" or not isinstance(value, dict):
            plain[key] = value
            continue
        entries = {}
        for index, entry in value.items():
            if not isinstance(entry, dict):
                entries[str(index)] = entry
                continue
            kept = {}
            for name, item in entry.items():
                if isinstance(item, torch.Tensor):
                    tensors[f"optimizer.{index}.{name}"] = item
                else:
                    kept[name] = item
            entries[str(index)] = kept
        plain["state"] = entries
    return plain


def _honest_info(path: str, name: str, t: torch.Tensor) -> TensorInfo:
    """A tensor that owns storage for every element it claims (no stride-0 or
    overlapping views that a conversion would blow up), dense, on the CPU."""
    if t.layout != torch.strided or t.is_sparse or t.device.type not in ("cpu", "meta"):
        raise CheckpointError(f"{path} was refused: '{_short(name)}' is not a plain dense tensor")
    if t.dim() > 8:
        raise damaged(path)
    needed = t.numel() * t.element_size()
    try:
        storage = t.untyped_storage().nbytes() - t.storage_offset() * t.element_size()
    except (RuntimeError, NotImplementedError):
        raise damaged(path) from None
    if not t.is_contiguous() or storage < needed:
        raise CheckpointError(
            f"{path} was refused: '{_short(name)}' claims {t.numel():,} values but the file stores "
            f"{max(storage, 0) // max(t.element_size(), 1):,}"
        )
    return TensorInfo(t.dtype, tuple(t.shape), needed)


# -- plain data ----------------------------------------------------------------------------------

def parse_json(path: str, text: str):
    try:
        value = json.loads(text)
    except (ValueError, RecursionError, TypeError):
        raise damaged(path) from None
    check_plain(path, value)
    return value


def check_plain(path: str, value) -> None:
    """Refuse data nested deeper than MAX_DEPTH or larger than MAX_NODES, and
    anything that is not None/bool/int/float/str/list/tuple/dict. Iterative:
    a 5,000-deep list cannot exhaust the stack here."""
    stack = [(value, 0)]
    nodes = 0
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise CheckpointError(f"{path} was refused: its settings hold more than {MAX_NODES:,} values")
        if isinstance(item, dict):
            if depth >= MAX_DEPTH:
                raise CheckpointError(f"{path} was refused: its settings are nested more than {MAX_DEPTH} deep")
            for key, child in item.items():
                if not isinstance(key, (str, int)):
                    raise damaged(path)
                stack.append((child, depth + 1))
        elif isinstance(item, (list, tuple)):
            if depth >= MAX_DEPTH:
                raise CheckpointError(f"{path} was refused: its settings are nested more than {MAX_DEPTH} deep")
            for child in item:
                stack.append((child, depth + 1))
        elif item is None or isinstance(item, (bool, int, float, str)):
            if isinstance(item, int) and not isinstance(item, bool) and abs(item) > 2**63:
                raise damaged(path)
        elif isinstance(item, torch.Tensor):
            raise CheckpointError(f"{path} was refused: it hides a tensor among its settings")
        else:
            raise damaged(path)


def _short(text: str, limit: int = 60) -> str:
    text = str(text).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"

