"""The command line: seed results, the --json format, and every bad input
answered with exit status 2 and exactly one line on stderr.

Runs ``rnn_studio.cli.main(argv)`` in-process (fast); one test runs the real
``python -m rnn_studio`` in a subprocess. Warnings raised during a run are
counted as stderr lines, since a real run would print them there.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

from rnn_studio.cli import main
from rnn_studio.core import training
from rnn_studio.core.checkpoints import FORMAT, VERSION

ROOT = Path(__file__).resolve().parents[1]


def run_cli(argv, capsys):
    """(exit status, stdout, stderr) of ``rnn-studio argv``."""
    capsys.readouterr()
    with warnings.catch_warnings(record=True) as caught:
        # Python's default filters for a script: these four are hidden
        warnings.simplefilter("default")
        for hidden in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
            warnings.simplefilter("ignore", hidden)
        try:
            rc = main([str(a) for a in argv])
        except SystemExit as exc:
            rc = exc.code
    out, err = capsys.readouterr()
    err += "".join(warnings.formatwarning(w.message, w.category, w.filename, w.lineno) for w in caught)
    return rc, out, err


def assert_one_line_error(rc, out, err, *words):
    assert rc == 2, (rc, out, err)
    assert "Traceback" not in err and "Traceback" not in out
    lines = err.splitlines()
    assert len(lines) == 1, f"expected exactly one line on stderr, got {len(lines)}:\n{err}"
    assert err.endswith("\n")
    assert lines[0].startswith("rnn-studio: error: ") and len(lines[0]) > len("rnn-studio: error: ") + 5
    for word in words:
        assert word.lower() in lines[0].lower(), (word, lines[0])
    assert out == ""


# -- fixtures --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    paths = {"folder": folder}
    (folder / "ok.txt").write_text("the cat sat on the mat.\n" * 30, encoding="utf-8")
    paths["ok"] = folder / "ok.txt"
    (folder / "latin1.txt").write_bytes("caf\xe9 cr\xe8me br\xfbl\xe9e\n".encode("latin-1") * 5)
    paths["latin1"] = folder / "latin1.txt"
    (folder / "empty.txt").write_bytes(b"")
    paths["empty"] = folder / "empty.txt"
    (folder / "blank.txt").write_text("  \n\n\t\n")
    paths["blank"] = folder / "blank.txt"
    (folder / "nul.txt").write_bytes(b"abc\x00def" * 10)
    paths["nul"] = folder / "nul.txt"
    (folder / "tiny.txt").write_text("ab")
    paths["tiny"] = folder / "tiny.txt"
    (folder / "a_dir").mkdir()
    paths["dir"] = folder / "a_dir"
    (folder / "locked.txt").write_text("hello there")
    (folder / "locked.txt").chmod(0)
    paths["locked"] = folder / "locked.txt"
    return paths


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A small text checkpoint written by the CLI, and a sine one."""
    folder = tmp_path_factory.mktemp("ck")
    text_ck, sine_ck = folder / "text.pt", folder / "sine.pt"
    assert main(["train", "--epochs", "5", "--device", "cpu", "--save", str(text_ck), "--json"]) == 0
    assert main(["train", "--task", "sine", "--epochs", "1", "--device", "cpu", "--save", str(sine_ck), "--json"]) == 0
    raw = text_ck.read_bytes()
    bad = {}
    for name, content in {
        "truncated": raw[: len(raw) // 2],
        "truncated_tail": raw[:-20],
        "random": os.urandom(3000),
        "empty": b"",
        "json": json.dumps({"format": FORMAT}).encode(),
        "pickle4": pickle.dumps({"format": FORMAT, "version": VERSION}, protocol=4),
    }.items():
        (folder / f"{name}.pt").write_bytes(content)
        bad[name] = folder / f"{name}.pt"
    torch.save({"a": 1}, folder / "foreign.pt")
    bad["foreign"] = folder / "foreign.pt"
    return {"text": text_ck, "sine": sine_ck, "folder": folder, **bad}


# -- the seed results ----------------------------------------------------------------------------

def test_defaults_train_then_complete_good(tmp_path, capsys):
    ck = tmp_path / "ck.pt"
    rc, out, err = run_cli(["train", "--save", ck], capsys)
    assert rc == 0, err
    assert "Traceback" not in err
    assert ck.exists()
    assert "100 epochs" in out and str(ck) in out
    rc, out, err = run_cli(["complete", "--checkpoint", ck, "--prompt", "good"], capsys)
    assert rc == 0, err
    assert out == "good i am fine \n"
    assert err == ""


def test_sine_next_value_defaults_reach_seed_002_error_with_json_lines(capsys):
    rc, out, err = run_cli(["train", "--task", "sine", "--json", "--device", "cpu"], capsys)
    assert rc == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    epochs, done = rows[:-1], rows[-1]
    assert len(epochs) == 100
    for i, row in enumerate(epochs, start=1):
        assert set(row) == {"epoch", "loss", "grad_norm", "ms"}
        assert row["epoch"] == i
        assert all(isinstance(row[k], float) and math.isfinite(row[k]) for k in ("loss", "grad_norm", "ms"))
        assert row["ms"] >= 0 and row["grad_norm"] >= 0
    assert set(done) == {"event", "epochs", "final_loss", "ms_per_epoch"}
    assert done["event"] == "done" and done["epochs"] == 100
    assert done["final_loss"] == epochs[-1]["loss"]
    assert done["final_loss"] <= 0.005  # seed 002's mean squared error after 100 epochs
    assert epochs[-1]["loss"] < epochs[0]["loss"]
    assert math.isfinite(done["ms_per_epoch"]) and done["ms_per_epoch"] > 0


def test_text_json_lines(capsys):
    rc, out, err = run_cli(["train", "--epochs", "4", "--json", "--arch", "gru", "--device", "cpu"], capsys)
    assert rc == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["epoch"] for r in rows[:-1]] == [1, 2, 3, 4]
    assert all(set(r) == {"epoch", "loss", "grad_norm", "ms"} for r in rows[:-1])
    assert rows[-1]["event"] == "done" and rows[-1]["epochs"] == 4
    assert rows[-1]["final_loss"] == rows[-2]["loss"]


def test_sine_sequence_json_and_summary(capsys):
    rc, out, err = run_cli(["train", "--task", "sine", "--sine-mode", "sequence", "--epochs", "30", "--json",
                            "--device", "cpu"], capsys)
    assert rc == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 31 and rows[-1]["event"] == "done"
    assert rows[-1]["final_loss"] < rows[0]["loss"]
    rc, out, err = run_cli(["train", "--task", "sine", "--sine-mode", "sequence", "--epochs", "3",
                            "--device", "cpu"], capsys)
    assert rc == 0 and "mean squared error" in out and "elman" in out


def test_text_file_training(files, capsys, tmp_path):
    ck = tmp_path / "corpus.pt"
    rc, out, err = run_cli(["train", "--text-file", files["ok"], "--window", "16", "--batch-size", "4",
                            "--epochs", "3", "--json", "--device", "cpu", "--save", ck], capsys)
    assert rc == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["epoch"] for r in rows[:-1]] == [1, 2, 3]
    assert rows[-1]["final_loss"] < rows[0]["loss"]
    rc, out, err = run_cli(["complete", "--checkpoint", ck, "--prompt", "the ", "--length", "20"], capsys)
    assert rc == 0, err
    assert out.startswith("the ") and len(out) == 21


def test_zero_epochs_does_nothing_gracefully(capsys, tmp_path):
    rc, out, err = run_cli(["train", "--epochs", "0"], capsys)
    assert rc == 0, err
    assert "Traceback" not in err and "nothing" in out
    rc, out, err = run_cli(["train", "--epochs", "0", "--json"], capsys)
    assert rc == 0, err
    done = json.loads(out.splitlines()[-1])
    assert done["event"] == "done" and done["epochs"] == 0
    assert len(out.splitlines()) == 1


def test_complete_sampling_is_seeded_and_length_counts_the_prompt(checkpoint, capsys):
    ck = checkpoint["text"]
    args = ["complete", "--checkpoint", ck, "--prompt", "hav", "--length", "25", "--temperature", "1.2"]
    first = run_cli([*args, "--seed", "4"], capsys)
    second = run_cli([*args, "--seed", "4"], capsys)
    assert first[0] == second[0] == 0
    assert first[1] == second[1]
    assert len(first[1]) == 26 and first[1].startswith("hav")
    greedy = run_cli(["complete", "--checkpoint", ck, "--prompt", "hav", "--length", "25"], capsys)
    zero = run_cli(["complete", "--checkpoint", ck, "--prompt", "hav", "--length", "25", "--temperature", "0",
                    "--seed", "9"], capsys)
    assert greedy[1] == zero[1]


def test_complete_reports_unknown_characters_on_one_line(checkpoint, capsys):
    rc, out, err = run_cli(["complete", "--checkpoint", checkpoint["text"], "--prompt", "go Q😀", "--length", "12"],
                           capsys)
    assert rc == 0
    assert out.startswith("go q😀") and len(out) == 13
    assert len(err.splitlines()) == 1 and "q" in err and "😀" in err and "Traceback" not in err


def test_divergence_stops_with_a_message_not_a_traceback(monkeypatch, capsys, tmp_path):
    real_loss = training.Trainer._loss
    monkeypatch.setattr(training.Trainer, "_loss", lambda self, out, t: real_loss(self, out, t) * float("nan"))
    ck = tmp_path / "never.pt"
    rc, out, err = run_cli(["train", "--epochs", "5", "--save", ck], capsys)
    assert rc not in (0, 2)
    assert "Traceback" not in err
    assert "NaN" in err and ("lower" in err or "clip" in err)
    assert not ck.exists()


# -- bad input: exit 2, one line ----------------------------------------------------------------------

def _cuda_missing():
    return not torch.cuda.is_available()


def _mps_missing():
    return not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


TRAIN_BAD = {
    "empty sentences": (["--sentences", ""], ["sentences"]),
    "blank sentences": (["--sentences", "   |  "], ["sentences"]),
    "only separators": (["--sentences", "|||"], ["sentences"]),
    "single characters": (["--sentences", "a|b"], []),
    "huge paste": (["--sentences", "ab " * 100_000], ["limit"]),
    "unknown arch": (["--arch", "transformer"], ["arch"]),
    "unknown task": (["--task", "video"], ["task"]),
    "unknown sine mode": (["--task", "sine", "--sine-mode", "cosine"], ["sine-mode"]),
    "unknown encoding": (["--encoding", "bytes"], ["encoding"]),
    "unknown optimizer": (["--optimizer", "lbfgs"], ["optimizer"]),
    "hidden 0": (["--hidden", "0"], ["hidden"]),
    "hidden -5": (["--hidden", "-5"], ["hidden"]),
    "hidden 1.5": (["--hidden", "1.5"], ["hidden"]),
    "hidden too big": (["--hidden", "10000000"], ["hidden"]),
    "layers 0": (["--layers", "0"], ["layers"]),
    "layers too many": (["--layers", "1000"], ["layers"]),
    "lr -1": (["--lr", "-1"], ["lr"]),
    "lr 0": (["--lr", "0"], ["lr"]),
    "lr nan": (["--lr", "nan"], ["lr"]),
    "lr inf": (["--lr", "inf"], ["lr"]),
    "lr -inf": (["--lr", "-inf"], ["lr"]),
    "lr text": (["--lr", "fast"], ["lr"]),
    "lr too big": (["--lr", "1e9"], ["learning rate"]),
    "epochs -1": (["--epochs", "-1"], ["epochs"]),
    "epochs 2.5": (["--epochs", "2.5"], ["epochs"]),
    "epochs too many": (["--epochs", "10000000000"], ["epochs"]),
    "dropout 2": (["--dropout", "2"], ["dropout"]),
    "dropout nan": (["--dropout", "nan"], ["dropout"]),
    "clip -1": (["--clip", "-1"], ["clip"]),
    "seed -1": (["--seed", "-1"], ["seed"]),
    "seed too big": (["--seed", str(2**40)], ["seed"]),
    "bidirectional text": None,  # no CLI flag; covered in the core tests
    "window 1": (["--text-file", "{ok}", "--window", "1"], ["window"]),
    "both sentences and file": (["--sentences", "hi there", "--text-file", "{ok}"], ["text-file"]),
    "missing text file": (["--text-file", "{folder}/nope.txt"], ["not found"]),
    "empty text file name": (["--text-file", ""], ["text-file"]),
    "directory as text file": (["--text-file", "{dir}"], ["folder"]),
    "non-UTF-8 text file": (["--text-file", "{latin1}"], ["UTF-8"]),
    "empty text file": (["--text-file", "{empty}"], []),
    "blank text file": (["--text-file", "{blank}"], []),
    "NUL text file": (["--text-file", "{nul}"], []),
    "too short text file": (["--text-file", "{tiny}"], []),
    "save into missing folder": (["--save", "{folder}/no/such/ck.pt"], ["does not exist"]),
    "device foo": (["--device", "foo"], ["foo"]),
    "device empty": (["--device", "cuda:x"], ["cuda:x"]),
    "unknown option": (["--bogus"], ["--bogus"]),
    "stray argument": (["extra"], ["extra"]),
}
TRAIN_BAD = {k: v for k, v in TRAIN_BAD.items() if v is not None}


@pytest.mark.parametrize("case", list(TRAIN_BAD))
def test_train_bad_input_exits_2_with_one_line(case, files, capsys):
    args, words = TRAIN_BAD[case]
    args = [a.format(**{k: str(v) for k, v in files.items()}) for a in args]
    if case == "device empty" and not _cuda_missing():
        pytest.skip("CUDA is available here")
    rc, out, err = run_cli(["train", "--epochs", "1", *args], capsys)
    assert_one_line_error(rc, out, err, *words)


@pytest.mark.skipif(not _cuda_missing(), reason="CUDA is available on this machine")
def test_train_on_cuda_when_there_is_none(capsys):
    rc, out, err = run_cli(["train", "--epochs", "1", "--device", "cuda"], capsys)
    assert_one_line_error(rc, out, err, "cuda")


@pytest.mark.skipif(not _mps_missing(), reason="MPS is available on this machine")
def test_train_on_mps_when_there_is_none(capsys):
    rc, out, err = run_cli(["train", "--epochs", "1", "--device", "mps"], capsys)
    assert_one_line_error(rc, out, err, "mps")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can read a chmod 000 file")
def test_unreadable_text_file(files, capsys):
    rc, out, err = run_cli(["train", "--epochs", "1", "--text-file", files["locked"]], capsys)
    assert_one_line_error(rc, out, err, "cannot read")


def test_unknown_command(capsys):
    rc, out, err = run_cli(["fly"], capsys)
    assert_one_line_error(rc, out, err, "fly")


COMPLETE_BAD = {
    "missing checkpoint": (["--checkpoint", "{folder}/none.pt", "--prompt", "good"], ["not found"]),
    "directory checkpoint": (["--checkpoint", "{folder}", "--prompt", "good"], ["folder"]),
    "truncated checkpoint": (["--checkpoint", "{truncated}", "--prompt", "good"], []),
    "truncated tail": (["--checkpoint", "{truncated_tail}", "--prompt", "good"], []),
    "random bytes": (["--checkpoint", "{random}", "--prompt", "good"], []),
    "empty file": (["--checkpoint", "{empty}", "--prompt", "good"], []),
    "json file": (["--checkpoint", "{json}", "--prompt", "good"], []),
    "pickle file": (["--checkpoint", "{pickle4}", "--prompt", "good"], []),
    "foreign checkpoint": (["--checkpoint", "{foreign}", "--prompt", "good"], ["not an RNN Studio checkpoint"]),
    "sine checkpoint": (["--checkpoint", "{sine}", "--prompt", "good"], ["sine"]),
    "empty prompt": (["--checkpoint", "{text}", "--prompt", ""], ["prompt"]),
    "missing prompt": (["--checkpoint", "{text}"], ["prompt"]),
    "missing checkpoint option": (["--prompt", "good"], ["checkpoint"]),
    "length 0": (["--checkpoint", "{text}", "--prompt", "good", "--length", "0"], ["length"]),
    "length too long": (["--checkpoint", "{text}", "--prompt", "good", "--length", "99999999"], ["length"]),
    "temperature -1": (["--checkpoint", "{text}", "--prompt", "good", "--temperature", "-1"], ["temperature"]),
    "temperature nan": (["--checkpoint", "{text}", "--prompt", "good", "--temperature", "nan"], ["temperature"]),
    "device foo": (["--checkpoint", "{text}", "--prompt", "good", "--device", "foo"], ["foo"]),
    "unknown option": (["--checkpoint", "{text}", "--prompt", "good", "--bogus"], ["--bogus"]),
}


@pytest.mark.parametrize("case", list(COMPLETE_BAD))
def test_complete_bad_input_exits_2_with_one_line(case, checkpoint, capsys):
    args, words = COMPLETE_BAD[case]
    args = [a.format(**{k: str(v) for k, v in checkpoint.items()}) for a in args]
    rc, out, err = run_cli(["complete", *args], capsys)
    assert_one_line_error(rc, out, err, *words)


def test_damaged_checkpoints_are_not_called_dangerous(checkpoint, capsys):
    for name in ("truncated", "truncated_tail", "random", "empty", "json", "foreign"):
        rc, out, err = run_cli(["complete", "--checkpoint", checkpoint[name], "--prompt", "good"], capsys)
        assert rc == 2
        assert "run code" not in err, f"{name}: {err}"


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


def test_checkpoint_crafted_to_run_code_is_refused(tmp_path, capsys):
    marker = tmp_path / "PWNED"
    evil = tmp_path / "evil.pt"
    torch.save(_RunsCode(str(marker)), evil)
    rc, out, err = run_cli(["complete", "--checkpoint", evil, "--prompt", "good"], capsys)
    assert_one_line_error(rc, out, err)
    assert not marker.exists()


@pytest.mark.skipif(not _cuda_missing(), reason="CUDA is available on this machine")
def test_complete_on_cuda_when_there_is_none(checkpoint, capsys):
    rc, out, err = run_cli(["complete", "--checkpoint", checkpoint["text"], "--prompt", "good", "--device", "cuda"],
                           capsys)
    assert_one_line_error(rc, out, err, "cuda")


# -- the real command ------------------------------------------------------------------------------

def test_python_dash_m_rnn_studio_train_and_complete(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    ck = tmp_path / "ck.pt"
    train = subprocess.run([sys.executable, "-m", "rnn_studio", "train", "--save", str(ck), "--json"],
                           capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert train.returncode == 0, train.stderr
    done = json.loads(train.stdout.splitlines()[-1])
    assert done["event"] == "done" and done["epochs"] == 100
    comp = subprocess.run([sys.executable, "-m", "rnn_studio", "complete", "--checkpoint", str(ck), "--prompt", "good"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert comp.returncode == 0, comp.stderr
    assert comp.stdout == "good i am fine \n"
    assert comp.stderr == ""
