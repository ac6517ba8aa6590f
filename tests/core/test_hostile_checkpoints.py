"""Issue 7: a file can never hurt the studio.

Every class of hostile checkpoint in tests/hostile_files.py is refused with
one plain line, by the core, by ``rnn-studio complete`` (exit 2, no
traceback) and, in a subprocess whose address space is capped at what it had
after start-up plus MEMORY_BUDGET, without running out of memory: a
regression fails here instead of taking the machine down.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rnn_studio.core.checkpoints import load_trainer, read_checkpoint
from rnn_studio.core.errors import CheckpointError
from tests import hostile_files
from tests.hostile_files import HOSTILE

ROOT = Path(__file__).resolve().parents[2]
MEMORY_BUDGET = 300 * 2**20  # README: beyond what the model a file legitimately describes needs
CPU_BACKSTOP_S = 20  # RLIMIT_CPU: only catches a runaway; bench/bench_hostile_files.py measures


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_is_refused_in_one_line(tmp_path, name):
    build, fragment = HOSTILE[name]
    path = build(tmp_path)
    with pytest.raises(CheckpointError) as err:
        load_trainer(str(path), device="cpu")
    message = str(err.value)
    assert fragment in message, message
    assert str(path) in message and "\n" not in message and len(message) < 300


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_read_checkpoint_refuses_what_it_can_see(tmp_path, name):
    """The low-level reader sees the file's format, not its settings: it
    refuses what is wrong at that level and never raises anything else."""
    path = HOSTILE[name][0](tmp_path)
    try:
        read_checkpoint(str(path))
    except CheckpointError as err:
        assert "\n" not in str(err)


_CHILD = textwrap.dedent("""
    import contextlib, io, json, resource, sys, time
    import torch
    from rnn_studio import cli

    def vm_bytes():
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024

    # everything start-up maps is counted; the files may add MEMORY_BUDGET more
    import rnn_studio.core.training, rnn_studio.core.checkpoints, safetensors.torch  # noqa
    limit = vm_bytes() + int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CPU, (int(sys.argv[2]), int(sys.argv[2]) + 1))
    for path in sys.argv[3:]:
        start = time.process_time()
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = cli.main(["complete", "--checkpoint", path, "--prompt", "good"])
        print(json.dumps({"path": path, "code": code, "stderr": err.getvalue(),
                          "cpu_s": time.process_time() - start}), flush=True)
""")


def _run_child(paths, script=_CHILD) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               OMP_NUM_THREADS="1", MALLOC_ARENA_MAX="2")
    return subprocess.run([sys.executable, "-c", script, str(MEMORY_BUDGET), str(CPU_BACKSTOP_S),
                           *map(str, paths)], capture_output=True, text=True, timeout=300, env=env, cwd=str(ROOT))


@pytest.fixture(scope="module")
def capped_results(tmp_path_factory):
    """Every hostile file (and a good one, last) through ``rnn-studio complete``
    in one capped child process: {name: {"code", "stderr", "cpu_s"}}."""
    folder = tmp_path_factory.mktemp("hostile")
    paths = {name: build(folder) for name, (build, _) in HOSTILE.items()}
    paths["good"] = hostile_files.save_good(folder)
    proc = _run_child(paths.values())
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    by_path = {row["path"]: row for row in rows}
    return {name: by_path.get(str(path)) for name, path in paths.items()}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_cli_refuses_hostile_file_within_the_memory_budget(capped_results, name):
    row = capped_results[name]
    assert row is not None, "the capped child died before this file"
    assert row["code"] == 2, row
    lines = row["stderr"].strip().splitlines()
    assert len(lines) == 1 and HOSTILE[name][1] in lines[0], row["stderr"]
    assert "Traceback" not in row["stderr"]


def test_the_budget_child_loads_a_good_file(capped_results):
    """Guard for the test above: under the same cap a real checkpoint completes."""
    assert capped_results["good"]["code"] == 0, capped_results["good"]


def test_the_budget_child_would_catch_a_blow_up(tmp_path):
    """Guard: the cap is real. Converting the expanded state, as loading did
    before issue 7, fails inside the capped child."""
    path = hostile_files.expanded_optimizer_state(tmp_path)
    script = _CHILD.replace(
        'code = cli.main(["complete", "--checkpoint", path, "--prompt", "good"])',
        'state = torch.load(path, weights_only=True)["optimizer"]["state"][0]["exp_avg"]\n'
        '        try:\n            state.float().contiguous(); code = 0\n'
        '        except (MemoryError, RuntimeError):\n            code = 99',
    )
    proc = _run_child([path], script)
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert rows and rows[0]["code"] == 99, proc.stderr[-2000:]


def test_compressed_member_really_is_a_zip_bomb(tmp_path):
    """Guard: the compressed file inflates about 1000:1."""
    path = hostile_files.compressed_member(tmp_path)
    assert hostile_files.deflate_ratio(path) > 500


def test_expanded_state_is_small_on_disk_but_claims_gigabytes(tmp_path):
    path = hostile_files.expanded_optimizer_state(tmp_path)
    assert path.stat().st_size < 64 * 1024
