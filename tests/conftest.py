"""Shared test setup: Qt runs offscreen; settings go to a throwaway folder."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The test models are tiny: one thread is faster than two fighting over a
# shared, busy 2-core machine (seen: 10-100x slower steps under load).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("RNN_STUDIO_SETTINGS_DIR", str(Path(os.environ.get("TMPDIR", "/tmp")) / f"rnn-studio-test-settings-{os.getpid()}"))

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def private_settings(tmp_path, monkeypatch):
    """Each test gets its own settings folder: a window that restores what an
    earlier test chose (the sine task, say) would make tests depend on order."""
    monkeypatch.setenv("RNN_STUDIO_SETTINGS_DIR", str(tmp_path / "settings"))


@pytest.fixture
def small_disk(tmp_path):
    """A 64 KiB tmpfs (disk-full and read-only saves, issue 7): a seed
    checkpoint (~10 KB) fits, a hidden-64 one does not. Needs root."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    folder = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.decode(errors='replace').strip()}")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], capture_output=True)
