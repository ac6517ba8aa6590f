"""``rnn-studio export-script`` (issue 11): the take-home train.py.

For each case: ``rnn-studio train --json --epochs N --save ck`` in-process,
then ``export-script --checkpoint ck --out FILE.py``, then ``python -I FILE.py``
in a fresh interpreter that cannot see this checkout (``-I``: no PYTHONPATH,
no current folder), and every epoch's loss, the rows' keys and the done line
are compared. The seed tasks must agree to 4 significant digits; on the CPU
they agree exactly.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from rnn_studio.cli import main
from rnn_studio.core.config import RunConfig, TaskConfig, defaults_for
from rnn_studio.core.script_export import ExportError, script_for


def run_cli(argv, capsys):
    capsys.readouterr()
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as exc:
        rc = exc.code
    out, err = capsys.readouterr()
    return rc, out, err


def rows_of(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def run_script(path) -> list[dict]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-I", str(path)], capture_output=True, text=True, timeout=300,
                          cwd=os.path.dirname(path), env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return rows_of(done.stdout)


def train_and_export(tmp_path, capsys, name, args):
    ck, script = tmp_path / f"{name}.pt", tmp_path / f"{name}.py"
    rc, out, err = run_cli(["train", "--json", "--device", "cpu", "--save", ck, *args], capsys)
    assert rc == 0, err
    studio = rows_of(out)
    rc, out, err = run_cli(["export-script", "--checkpoint", ck, "--out", script], capsys)
    assert rc == 0 and err == "", err
    assert str(script) in out
    return studio, script


def assert_same_run(studio, exported, rel=5e-5):
    """Every epoch's loss (and valid_loss) to 4 significant digits; the same keys."""
    assert len(studio) == len(exported)
    for a, b in zip(studio, exported, strict=True):
        assert set(a) == set(b), (a, b)
        for key in ("loss", "valid_loss", "final_loss"):
            if key in a:
                assert math.isclose(a[key], b[key], rel_tol=rel), (key, a, b)
        if "epoch" in a:
            assert a["epoch"] == b["epoch"]
            assert math.isclose(a["grad_norm"], b["grad_norm"], rel_tol=1e-3)
    assert studio[-1]["event"] == exported[-1]["event"] == "done"
    assert studio[-1]["epochs"] == exported[-1]["epochs"]


SEED_TASKS = {
    "text defaults (seed 000)": ["--epochs", "40"],
    "sine next-value (seed 002)": ["--task", "sine", "--epochs", "8"],
    "sine sequence, Elman (seed 003)": ["--task", "sine", "--sine-mode", "sequence", "--epochs", "60"],
}


@pytest.mark.parametrize("name", list(SEED_TASKS))
def test_seed_tasks_reproduce_the_studio_losses(tmp_path, capsys, name):
    studio, script = train_and_export(tmp_path, capsys, "run", SEED_TASKS[name])
    text = script.read_text(encoding="utf-8")
    assert "import rnn_studio" not in text and "from rnn_studio" not in text
    assert "seed 00" in text  # it cites the tutorials it follows
    exported = run_script(script)
    assert len(exported) == int(SEED_TASKS[name][-1]) + 1
    assert_same_run(studio, exported)


VARIANTS = {
    "lstm": ["--arch", "lstm", "--epochs", "15"],
    "gru, 2 layers, dropout": ["--arch", "gru", "--layers", "2", "--dropout", "0.2", "--epochs", "15"],
    "rnn-relu, embedding, xavier, clip": ["--arch", "rnn-relu", "--encoding", "embedding", "--xavier",
                                          "--clip", "0.5", "--epochs", "15"],
    "minibatches, validation, plateau": ["--sentences", "hello there|how are you|fine thanks|the cat says meow",
                                         "--batch-size", "2", "--valid-fraction", "0.3", "--plateau",
                                         "--epochs", "12"],
}


@pytest.mark.parametrize("name", list(VARIANTS))
def test_other_settings_reproduce_too(tmp_path, capsys, name):
    studio, script = train_and_export(tmp_path, capsys, "run", VARIANTS[name])
    assert_same_run(studio, run_script(script))


def test_script_for_is_plain_text_and_refuses_what_it_cannot_reproduce(tmp_path):
    text = script_for(defaults_for("sine", "sequence"))
    compile(text, "train.py", "exec")
    assert "class Elman" in text and "nn.RNN(" not in text
    classify = defaults_for("classify")
    classify.task.examples = ["pos: good", "neg: bad"]
    with pytest.raises(ExportError, match="classif"):
        script_for(classify)
    corpus = RunConfig(task=TaskConfig(text_file=str(tmp_path / "book.txt")))
    with pytest.raises(ExportError, match="text file"):
        script_for(corpus)


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    ck = tmp_path / "ck.pt"
    rc, _, err = run_cli(["train", "--epochs", "1", "--device", "cpu", "--save", ck], capsys)
    assert rc == 0, err
    foreign = tmp_path / "foreign.pt"
    foreign.write_bytes(b"not a checkpoint at all" * 10)
    cases = [
        ["--checkpoint", tmp_path / "missing.pt", "--out", tmp_path / "a.py"],
        ["--checkpoint", foreign, "--out", tmp_path / "a.py"],
        ["--checkpoint", ck, "--out", tmp_path / "no-such-folder" / "a.py"],
        ["--checkpoint", ck, "--out", tmp_path],  # a folder
        ["--checkpoint", ck, "--out", ""],
    ]
    for argv in cases:
        rc, out, err = run_cli(["export-script", *argv], capsys)
        assert rc == 2, (argv, err)
        assert len(err.strip().splitlines()) == 1 and err.startswith("rnn-studio: error:"), err
        assert "Traceback" not in err
    assert not (tmp_path / "a.py").exists()
    # a classifier's checkpoint: refused in one line
    cls = tmp_path / "cls.pt"
    rc, _, err = run_cli(["train", "--task", "classify", "--sentences", "pos: good day|neg: bad day", "--epochs", "1",
                          "--device", "cpu", "--save", cls], capsys)
    assert rc == 0, err
    rc, _, err = run_cli(["export-script", "--checkpoint", cls, "--out", tmp_path / "c.py"], capsys)
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "classif" in err
    assert not (tmp_path / "c.py").exists()
