"""Checkpoints: a full round trip, files that must be refused, atomic saves.

A file crafted to run code when unpickled must be refused without the code
running (a marker file it would create must not appear); damaged, foreign and
empty files each get a CheckpointError with a plain message; a save killed
half-way (SIGKILL, a subprocess) leaves the previous file whole.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import warnings
import zipfile
from pathlib import Path

import pytest
import torch

from rnn_studio.core import checkpoints
from rnn_studio.core.checkpoints import (
    FORMAT,
    LEGACY_VERSION,
    VERSION,
    atomic_torch_save,
    load_trainer,
    read_checkpoint,
    save_checkpoint,
)
from rnn_studio.core.config import RunConfig, defaults_for
from rnn_studio.core.errors import CheckpointError
from rnn_studio.core.generation import complete
from rnn_studio.core.training import Trainer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def trained():
    cfg = RunConfig()
    cfg.train.device, cfg.train.epochs = "cpu", 30
    trainer = Trainer(cfg)
    while not trainer.finished:
        trainer.step()
    return trainer


@pytest.fixture()
def good_file(trained, tmp_path):
    path = tmp_path / "good.pt"
    save_checkpoint(trained, str(path))
    return path


@pytest.fixture()
def legacy_file(trained, tmp_path):
    """A version-1 checkpoint (torch.save zip) as earlier releases wrote it."""
    path = tmp_path / "legacy.pt"
    atomic_torch_save(_payload(trained, version=LEGACY_VERSION, epoch=trained.epoch, steps=trained.steps), str(path))
    return path


# -- round trip ----------------------------------------------------------------------------------

def test_round_trip_restores_everything(trained, good_file):
    loaded = load_trainer(str(good_file), device="cpu")
    assert loaded.vocab == trained.vocab
    assert loaded.cfg.to_dict() == trained.cfg.to_dict()
    assert loaded.epoch == trained.epoch and loaded.steps == trained.steps
    a, b = trained.model.state_dict(), loaded.model.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    sa, sb = trained.optimizer.state_dict(), loaded.optimizer.state_dict()
    for key, state in sa["state"].items():
        for name, value in state.items():
            assert torch.equal(torch.as_tensor(sb["state"][key][name]), torch.as_tensor(value)), name
    for prompt in ("good", "hey", "have"):
        assert complete(loaded.model, loaded.vocab, prompt, 15).text == complete(
            trained.model, trained.vocab, prompt, 15).text
    assert complete(loaded.model, loaded.vocab, "good", 40, temperature=1.0, seed=3).text == complete(
        trained.model, trained.vocab, "good", 40, temperature=1.0, seed=3).text


def test_training_resumes_identically_after_load(tmp_path):
    cfg = RunConfig()
    cfg.train.device, cfg.train.epochs = "cpu", 10
    original = Trainer(cfg)
    for _ in range(5):
        original.step()
    path = tmp_path / "mid.pt"
    save_checkpoint(original, str(path))
    resumed = load_trainer(str(path), device="cpu")
    assert [original.step().loss for _ in range(5)] == [resumed.step().loss for _ in range(5)]


@pytest.mark.parametrize("arch", ["lstm", "gru", "elman"])
def test_round_trip_other_archs_and_embedding(tmp_path, arch):
    cfg = RunConfig()
    cfg.model.arch, cfg.model.encoding, cfg.model.layers = arch, "embedding", 2
    cfg.train.device, cfg.train.epochs = "cpu", 3
    trainer = Trainer(cfg)
    trainer.step()
    save_checkpoint(trainer, str(tmp_path / "c.pt"))
    loaded = load_trainer(str(tmp_path / "c.pt"), device="cpu")
    assert complete(loaded.model, loaded.vocab, "good", 20).text == complete(trainer.model, trainer.vocab, "good", 20).text


def test_sine_round_trip(tmp_path):
    cfg = defaults_for("sine")
    cfg.task.sine_windows, cfg.train.device, cfg.train.epochs = 20, "cpu", 2
    trainer = Trainer(cfg)
    trainer.step()
    save_checkpoint(trainer, str(tmp_path / "s.pt"))
    loaded = load_trainer(str(tmp_path / "s.pt"), device="cpu")
    assert loaded.vocab is None and loaded.task.kind == "sine"
    x = trainer.task.batch.inputs[:3]
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(x)[0], trainer.model(x)[0])


def test_corpus_checkpoint_loads_after_the_text_file_is_gone(tmp_path):
    """Completion needs the weights and the vocabulary, not the training text."""
    text_file = tmp_path / "corpus.txt"
    text_file.write_text("aaaa\n" * 60 + "ab\n" * 5)
    cfg = RunConfig()
    cfg.task.text_file, cfg.task.window, cfg.task.batch_size = str(text_file), 8, 4
    cfg.train.device, cfg.train.epochs = "cpu", 1
    trainer = Trainer(cfg)
    trainer.step()
    path = tmp_path / "corpus.pt"
    save_checkpoint(trainer, str(path))
    expected = complete(trainer.model, trainer.vocab, "ab", 12).text
    text_file.unlink()
    loaded = load_trainer(str(path), device="cpu")
    assert loaded.vocab == trainer.vocab
    assert complete(loaded.model, loaded.vocab, "ab", 12).text == expected


def test_corpus_checkpoint_of_a_single_letter_text_loads_after_the_file_is_gone(tmp_path):
    text_file = tmp_path / "corpus.txt"
    text_file.write_text("aaaa\n" * 60)  # vocabulary: newline and one letter
    cfg = RunConfig()
    cfg.task.text_file, cfg.task.window, cfg.task.batch_size = str(text_file), 8, 4
    cfg.train.device, cfg.train.epochs = "cpu", 1
    trainer = Trainer(cfg)
    trainer.step()
    path = tmp_path / "corpus.pt"
    save_checkpoint(trainer, str(path))
    text_file.unlink()
    loaded = load_trainer(str(path), device="cpu")
    assert complete(loaded.model, loaded.vocab, "a", 12).text == complete(trainer.model, trainer.vocab, "a", 12).text


# -- refused files -------------------------------------------------------------------------------

class RunsCode:
    """Unpickling this calls os.system, which would create ``marker``."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


class BuildsObject:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


@pytest.mark.parametrize("how", ["torch.save", "torch.save inside a checkpoint", "pickle protocol 2",
                                 "pickle protocol 4", "object builder"])
def test_checkpoint_crafted_to_run_code_is_refused_and_runs_nothing(tmp_path, how):
    marker = tmp_path / "PWNED"
    path = tmp_path / "evil.pt"
    if how == "torch.save":
        torch.save(RunsCode(str(marker)), path)
    elif how == "torch.save inside a checkpoint":
        torch.save({"format": FORMAT, "version": VERSION, "config": {}, "model": {"w": RunsCode(str(marker))}}, path)
    elif how == "pickle protocol 2":
        path.write_bytes(pickle.dumps(RunsCode(str(marker)), protocol=2))
    elif how == "pickle protocol 4":
        path.write_bytes(pickle.dumps(RunsCode(str(marker)), protocol=4))
    else:
        torch.save(BuildsObject(str(marker)), path)
    # the file really is dangerous: plain unpickling would run it
    with pytest.raises(CheckpointError) as err:
        read_checkpoint(str(path))
    assert not marker.exists(), "the crafted checkpoint ran code"
    with pytest.raises(CheckpointError):
        load_trainer(str(path), device="cpu")
    assert not marker.exists()
    assert str(path) in str(err.value) and "\n" not in str(err.value)
    if how.startswith("torch.save") or how == "object builder":
        assert "code" in str(err.value) or "refused" in str(err.value)


def test_crafted_file_would_run_code_if_unpickled_unsafely(tmp_path):
    """Guard for the test above: the payload is live."""
    marker = tmp_path / "PWNED"
    torch.save(RunsCode(str(marker)), tmp_path / "evil.pt")
    torch.load(tmp_path / "evil.pt", weights_only=False)
    assert marker.exists()


def _corrupt_pickle(raw: bytes) -> bytes:
    """Flip bytes inside the archive's data.pkl record (the pickle stream)."""
    info = next(i for i in zipfile.ZipFile(io.BytesIO(raw)).infolist() if i.filename.endswith("data.pkl"))
    off = info.header_offset
    start = off + 30 + int.from_bytes(raw[off + 26:off + 28], "little") + int.from_bytes(raw[off + 28:off + 30], "little")
    middle = start + info.compress_size // 2
    return raw[:middle] + bytes(b ^ 0x5A for b in raw[middle:middle + 16]) + raw[middle + 16:]


# Files that are damaged or foreign, not dangerous: refused, and described as such.
# Each cut or flip is made in a current (safetensors) file and in a version-1 (torch zip) one.
CUTS = ("truncated half", "truncated tail", "truncated head", "corrupted weights")
DAMAGED = ("empty", *CUTS, *(f"legacy {c}" for c in CUTS), "corrupted header", "random bytes", "stray bytes",
           "json", "text", "zip of nothing", "corrupted pickle", "foreign torch file", "torch list", "a state dict",
           "plain pickle", "plain pickle protocol 4")


def _cuts(raw: bytes) -> dict[str, bytes]:
    middle = len(raw) // 2
    return {
        "truncated half": raw[:middle],
        "truncated tail": raw[:-20],
        "truncated head": raw[:100],
        # the weights' bytes, not the settings: only a checksum can tell
        "corrupted weights": raw[:middle] + bytes(b ^ 0x5A for b in raw[middle:middle + 64]) + raw[middle + 64:],
    }


def _bad_files(tmp_path: Path, good: Path, legacy: Path) -> dict[str, Path]:
    raw, old = good.read_bytes(), legacy.read_bytes()
    header_end = 8 + int.from_bytes(raw[:8], "little")
    files = {
        "empty": b"",
        **_cuts(raw),
        **{f"legacy {name}": content for name, content in _cuts(old).items()},
        # a flipped byte inside the JSON header (the settings)
        "corrupted header": raw[:header_end - 40] + bytes(b ^ 0x5A for b in raw[header_end - 40:header_end - 30])
        + raw[header_end - 30:],
        "random bytes": os.urandom(4096),
        "stray bytes": b"junk",  # 'j' reads as a pickle opcode that wants 4 more bytes (struct.error)
        "json": json.dumps({"format": FORMAT, "model": {}}).encode(),
        "text": b"hello world\n",
        "zip of nothing": b"PK\x05\x06" + b"\x00" * 18,
        "corrupted pickle": _corrupt_pickle(old),
        "plain pickle": pickle.dumps({"a": 1}, protocol=2),
        "plain pickle protocol 4": pickle.dumps({"format": FORMAT}, protocol=4),
    }
    out = {}
    for name, content in files.items():
        path = tmp_path / (name.replace(" ", "_") + ".pt")
        path.write_bytes(content)
        out[name] = path
    for name, obj in (("foreign torch file", {"a": 1}), ("torch list", [torch.zeros(3)]),
                      ("a state dict", torch.nn.Linear(2, 2).state_dict()),
                      ("future version", {"format": FORMAT, "version": 99, "config": {}, "model": {}}),
                      ("missing sections", {"format": FORMAT, "version": LEGACY_VERSION})):
        out[name] = tmp_path / (name.replace(" ", "_") + ".pt")
        torch.save(obj, out[name])
    return out


def test_damaged_foreign_and_empty_files_give_a_clear_checkpoint_error(tmp_path, good_file, legacy_file):
    files = _bad_files(tmp_path, good_file, legacy_file)
    for name, path in files.items():
        with pytest.raises(CheckpointError) as err:
            load_trainer(str(path), device="cpu")
        message = str(err.value)
        assert str(path) in message, name
        assert "\n" not in message and len(message) < 300, name


@pytest.mark.parametrize("name", DAMAGED)
def test_damaged_file_is_called_damaged_not_dangerous(tmp_path, good_file, legacy_file, name):
    path = _bad_files(tmp_path, good_file, legacy_file)[name]
    with pytest.raises(CheckpointError) as err:
        read_checkpoint(str(path))
    message = str(err.value)
    assert "run code" not in message, message
    assert any(word in message for word in ("damaged", "truncated", "not an RNN Studio checkpoint")), message


@pytest.mark.parametrize("version", ["current", "legacy"])
def test_file_cut_anywhere_is_called_damaged_or_truncated(tmp_path, good_file, legacy_file, version):
    raw = (good_file if version == "current" else legacy_file).read_bytes()
    path = tmp_path / "cut.pt"
    messages = {}
    for cut in range(0, len(raw), max(1, len(raw) // 150)):
        path.write_bytes(raw[:cut])
        with pytest.raises(CheckpointError) as err:
            read_checkpoint(str(path))
        message = str(err.value).replace(str(path), "FILE")
        if not any(word in message for word in ("damaged", "truncated")):
            messages.setdefault(message, cut)
    assert messages == {}, f"unclear messages (message: first cut length): {messages}"


def test_loading_bad_files_prints_no_warnings(tmp_path, good_file, legacy_file):
    """The CLI promises one line on stderr: torch's warnings would add more."""
    for name, path in _bad_files(tmp_path, good_file, legacy_file).items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(CheckpointError):
                read_checkpoint(str(path))
        assert [str(w.message)[:80] for w in caught] == [], name


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        read_checkpoint(str(tmp_path / "none.pt"))
    with pytest.raises(CheckpointError, match="folder"):
        read_checkpoint(str(tmp_path))
    with pytest.raises(CheckpointError):
        read_checkpoint("")


def _payload(trained, **changes):
    payload = {
        "format": FORMAT, "version": LEGACY_VERSION, "config": trained.cfg.to_dict(),
        "vocab": list(trained.vocab.chars),
        "model": {k: v.clone() for k, v in trained.model.state_dict().items()},
        "optimizer": trained.optimizer.state_dict(), "epoch": 3, "steps": 3,
    }
    payload.update(changes)
    return payload


def _config(trained, section, **changes):
    cfg = trained.cfg.to_dict()
    cfg[section] = {**cfg[section], **changes}
    return cfg


CRAFTED = {
    "other architecture": lambda t: {"config": _config(t, "model", arch="lstm")},
    "other hidden size": lambda t: {"config": _config(t, "model", hidden=7)},
    "other vocabulary": lambda t: {"vocab": list(t.vocab.chars)[:-2]},
    "vocabulary of numbers": lambda t: {"vocab": list(range(len(t.vocab.chars)))},
    "vocabulary not a list": lambda t: {"vocab": 5},
    "missing weight": lambda t: {"model": {k: v for k, v in list(t.model.state_dict().items())[1:]}},
    "weights not tensors": lambda t: {"model": {k: 1 for k in t.model.state_dict()}},
    "unknown arch": lambda t: {"config": _config(t, "model", arch="transformer")},
    "hidden as text": lambda t: {"config": _config(t, "model", hidden="12")},
    "sentences not a list": lambda t: {"config": _config(t, "task", sentences=5)},
    "config not a mapping": lambda t: {"config": {"task": [1, 2]}},
    "epoch not a number": lambda t: {"epoch": "three"},
    "steps not a number": lambda t: {"steps": [1]},
    "device not text": lambda t: {"config": _config(t, "train", device=5)},
}


# Damage that completion can live with: loading may succeed, or refuse with a CheckpointError.
MAY_LOAD = {"device not text", "epoch not a number", "steps not a number"}


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_checkpoint_that_does_not_fit_its_settings_gives_checkpoint_error(trained, tmp_path, case):
    path = tmp_path / "crafted.pt"
    torch.save(_payload(trained, **CRAFTED[case](trained)), path)
    if case in MAY_LOAD:
        try:
            loaded = load_trainer(str(path))  # the device from the file, as the window does
        except CheckpointError as err:
            assert "\n" not in str(err)
        else:
            assert complete(loaded.model, loaded.vocab, "good", 15).text.startswith("good")
        return
    with pytest.raises(CheckpointError) as err:
        load_trainer(str(path))
    assert "\n" not in str(err.value)


def test_crafted_payload_helper_builds_a_loadable_file(trained, tmp_path):
    torch.save(_payload(trained), tmp_path / "ok.pt")
    assert load_trainer(str(tmp_path / "ok.pt"), device="cpu").epoch == 3


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_checkpoint_trained_on_a_gpu_opens_on_a_machine_without_one(trained, tmp_path):
    """A run saved with --device cuda must still open (on the CPU) on a laptop."""
    torch.save(_payload(trained, config=_config(trained, "train", device="cuda")), tmp_path / "gpu.pt")
    loaded = load_trainer(str(tmp_path / "gpu.pt"))
    assert loaded.device.type == "cpu"
    assert complete(loaded.model, loaded.vocab, "good", 15).text == complete(trained.model, trained.vocab, "good", 15).text


def test_optimizer_state_of_another_model_does_not_stop_completion(trained, tmp_path):
    other = torch.optim.Adam([torch.nn.Parameter(torch.zeros(3))]).state_dict()
    torch.save(_payload(trained, optimizer=other), tmp_path / "opt.pt")
    loaded = load_trainer(str(tmp_path / "opt.pt"), device="cpu")
    assert complete(loaded.model, loaded.vocab, "good", 15).text == complete(trained.model, trained.vocab, "good", 15).text


# -- atomic saves --------------------------------------------------------------------------------

def test_save_into_missing_folder_is_a_checkpoint_error(trained, tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        save_checkpoint(trained, str(tmp_path / "no" / "such" / "c.pt"))


def test_failed_save_leaves_old_file_and_no_temporary(trained, good_file):
    before = good_file.read_bytes()
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        atomic_torch_save({"format": FORMAT, "bad": lambda: None}, str(good_file))  # lambdas cannot be pickled
    assert good_file.read_bytes() == before
    assert sorted(p.name for p in good_file.parent.iterdir()) == [good_file.name]


def test_save_replaces_and_leaves_no_temporary(trained, tmp_path):
    path = tmp_path / "c.pt"
    path.write_bytes(b"old")
    save_checkpoint(trained, str(path))
    assert read_checkpoint(str(path))["format"] == FORMAT
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]


_MIDWRITE_CHILD = textwrap.dedent("""
    import os, sys, time, torch
    from rnn_studio.core import checkpoints

    target = sys.argv[1]
    real_fdopen = os.fdopen

    class Stalls:
        # a file that stops for good after 1 MB, half-way through the payload
        def __init__(self, fh):
            self.fh, self.written = fh, 0
        def write(self, data):
            n = self.fh.write(data)
            self.written += len(data)
            if self.written > 1_000_000:
                self.fh.flush()
                os.fsync(self.fh.fileno())
                print("MIDWRITE", flush=True)
                time.sleep(600)
            return n
        def __getattr__(self, name):
            return getattr(self.fh, name)
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            return self.fh.__exit__(*exc)

    checkpoints.os.fdopen = lambda fd, mode="r", *a, **k: Stalls(real_fdopen(fd, mode, *a, **k))
    payload = {"format": checkpoints.FORMAT, "version": checkpoints.LEGACY_VERSION, "config": {},
               "model": {"w": torch.ones(1_000_000)}}
    checkpoints.atomic_torch_save(payload, target)
    print("FINISHED", flush=True)
""")


def _child_env():
    return dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def test_save_killed_mid_write_leaves_previous_file_intact(trained, good_file):
    before = hashlib.sha256(good_file.read_bytes()).hexdigest()
    proc = subprocess.Popen([sys.executable, "-c", _MIDWRITE_CHILD, str(good_file)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_child_env(), cwd=str(ROOT))
    try:
        line = proc.stdout.readline().strip()
        assert line == "MIDWRITE", proc.stderr.read() if proc.poll() is not None else line
        # more than a megabyte is on disk somewhere in the folder: the save really is half done
        partial = [p for p in good_file.parent.iterdir() if p != good_file]
        assert partial and max(p.stat().st_size for p in partial) > 1_000_000
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
    assert hashlib.sha256(good_file.read_bytes()).hexdigest() == before
    loaded = load_trainer(str(good_file), device="cpu")
    assert complete(loaded.model, loaded.vocab, "good", 15).text == complete(trained.model, trained.vocab, "good", 15).text


_LOOP_CHILD = textwrap.dedent("""
    import sys, torch
    from rnn_studio.core import checkpoints

    target = sys.argv[1]
    for generation in range(1, 100000):
        payload = {"format": checkpoints.FORMAT, "version": checkpoints.LEGACY_VERSION, "config": {},
                   "model": {"w": torch.full((1_500_000,), float(generation))}, "epoch": generation}
        checkpoints.atomic_torch_save(payload, target)
        print(generation, flush=True)
""")


@pytest.mark.parametrize("saves_before_kill", [1, 2, 4])
def test_repeated_saves_killed_at_an_arbitrary_moment_leave_a_whole_file(tmp_path, saves_before_kill):
    target = tmp_path / "loop.pt"
    atomic_torch_save({"format": FORMAT, "version": LEGACY_VERSION, "config": {}, "model": {"w": torch.zeros(10)},
                       "epoch": 0}, str(target))
    proc = subprocess.Popen([sys.executable, "-c", _LOOP_CHILD, str(target)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_child_env(), cwd=str(ROOT))
    try:
        for _ in range(saves_before_kill):
            line = proc.stdout.readline()
            assert line.strip(), proc.stderr.read() if proc.poll() is not None else "no output"
    finally:
        proc.send_signal(signal.SIGKILL)  # most likely in the middle of the next save
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
    payload = read_checkpoint(str(target))
    generation = payload["epoch"]
    assert generation >= saves_before_kill
    w = payload["model"]["w"]
    assert w.numel() == 1_500_000 and bool((w == float(generation)).all())


def test_checkpoint_module_uses_safe_loading():
    from rnn_studio.core import checkpoint_io

    source = Path(checkpoints.__file__).read_text() + Path(checkpoint_io.__file__).read_text()
    assert "weights_only=True" in source
    assert "weights_only=False" not in source
