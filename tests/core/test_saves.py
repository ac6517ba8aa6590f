"""Issue 7, saves: every operating-system failure is one plain line naming
the file and the cause (CLI exit 2), the previous file stays whole, no
temporary file is left, and a symbolic link is written through.

Disk-full and read-only cases mount a small tmpfs, which needs root; they
skip with the reason elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rnn_studio.core.checkpoints import load_trainer, save_checkpoint
from rnn_studio.core.config import RunConfig
from rnn_studio.core.errors import CheckpointError
from rnn_studio.core.training import Trainer

ROOT = Path(__file__).resolve().parents[2]


def _trainer(hidden: int) -> Trainer:
    cfg = RunConfig()
    cfg.model.hidden, cfg.train.device, cfg.train.epochs = hidden, "cpu", 1
    trainer = Trainer(cfg)
    trainer.step()
    return trainer


def test_disk_full_during_the_write_is_one_line_and_keeps_the_old_file(small_disk):
    old = small_disk / "model.pt"
    save_checkpoint(_trainer(12), str(old))
    before = old.read_bytes()
    with pytest.raises(CheckpointError) as err:
        save_checkpoint(_trainer(64), str(old))
    message = str(err.value)
    assert "disk is full" in message and str(old) in message and "\n" not in message
    assert old.read_bytes() == before
    assert sorted(p.name for p in small_disk.iterdir()) == ["model.pt"]
    assert load_trainer(str(old), device="cpu").cfg.model.hidden == 12


def test_read_only_disk_is_one_line(small_disk):
    old = small_disk / "model.pt"
    save_checkpoint(_trainer(12), str(old))
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    with pytest.raises(CheckpointError, match="read-only") as err:
        save_checkpoint(_trainer(12), str(old))
    assert "\n" not in str(err.value)


def test_cli_disk_full_is_exit_2_one_line_no_traceback(small_disk):
    target = small_disk / "big.pt"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "rnn_studio", "train", "--hidden", "64", "--epochs", "1",
                           "--save", str(target)], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "disk is full" in proc.stderr and "Traceback" not in proc.stderr
    assert list(small_disk.iterdir()) == []


def test_save_through_a_symbolic_link_writes_its_target_and_keeps_the_link(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    target = real / "model.pt"
    save_checkpoint(_trainer(12), str(target))
    link = tmp_path / "link.pt"
    link.symlink_to(target)
    written = save_checkpoint(_trainer(20), str(link))
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert Path(written) == target
    assert load_trainer(str(target), device="cpu").cfg.model.hidden == 20
    assert sorted(p.name for p in real.iterdir()) == ["model.pt"]


def test_dangling_link_creates_its_target(tmp_path):
    target = tmp_path / "new.pt"
    link = tmp_path / "link.pt"
    link.symlink_to(target)
    assert Path(save_checkpoint(_trainer(12), str(link))) == target
    assert link.is_symlink() and target.is_file()


def test_cli_says_where_a_link_was_written(tmp_path):
    target = tmp_path / "target.pt"
    link = tmp_path / "link.pt"
    link.symlink_to(target)
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "rnn_studio", "train", "--epochs", "1", "--save", str(link)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert f"checkpoint saved to {target} (through the link {link})" in proc.stdout
    assert link.is_symlink()


def test_link_to_a_folder_is_refused(tmp_path):
    link = tmp_path / "link.pt"
    link.symlink_to(tmp_path)
    with pytest.raises(CheckpointError, match="folder"):
        save_checkpoint(_trainer(12), str(link))
