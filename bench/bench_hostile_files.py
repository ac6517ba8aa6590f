"""Issue 7's budget: any checkpoint, hostile or not, is opened or refused
within 2 s of CPU and ~300 MB of memory beyond what its model needs.

Builds every hostile file of tests/hostile_files.py (plus good files of a
small and a larger model), then opens each in a fresh process the way
``rnn-studio complete --checkpoint`` does, and prints the CPU seconds spent
opening it and the growth of the peak resident memory (VmHWM, reset after start-up
through /proc/self/clear_refs) over what the process held then, with both as a fraction of the budget.

    python bench/bench_hostile_files.py            # the table
    python bench/bench_hostile_files.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CPU_BUDGET_S = 2.0
MEMORY_BUDGET_MB = 300.0

CHILD = textwrap.dedent("""
    import contextlib, io, json, resource, sys, time
    import torch, safetensors.torch  # noqa: F401 - start-up, not the file's cost
    from rnn_studio import cli
    import rnn_studio.core.training, rnn_studio.core.checkpoints  # noqa: F401
    def hwm_kb():
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    def rss_kb():
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))
    try:  # reset the peak to what is resident now (Linux >= 4.0)
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass
    base = rss_kb()
    start = time.process_time()
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(["complete", "--checkpoint", sys.argv[1], "--prompt", "good"])
    cpu = time.process_time() - start
    peak = hwm_kb()
    print(json.dumps({"code": code, "cpu_s": cpu, "rss_growth_mb": (peak - base) / 1024,
                      "message": err.getvalue().strip()[:120]}))
""")


def measure(path: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, env=env,
                          timeout=600)
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"code": proc.returncode, "cpu_s": float("nan"), "rss_growth_mb": float("nan"),
                "message": proc.stderr.strip()[-120:]}


def good_file(folder: Path, hidden: int, arch: str) -> Path:
    from rnn_studio.core.checkpoints import save_checkpoint
    from rnn_studio.core.config import RunConfig
    from rnn_studio.core.training import Trainer

    cfg = RunConfig()
    cfg.model.arch, cfg.model.hidden, cfg.train.device, cfg.train.epochs = arch, hidden, "cpu", 1
    trainer = Trainer(cfg)
    trainer.step()
    path = folder / f"good_{arch}_{hidden}.pt"
    save_checkpoint(trainer, str(path))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the rows here too")
    args = parser.parse_args()
    from tests.hostile_files import HOSTILE

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = {name: build(folder) for name, (build, _) in sorted(HOSTILE.items())}
        files["good: seed RNN 12"] = good_file(folder, 12, "rnn")
        files["good: LSTM 1024"] = good_file(folder, 1024, "lstm")
        print(f"{'file':28} {'size':>10} {'exit':>4} {'CPU s':>7} {'/2 s':>6} {'+RSS MB':>8} {'/300':>6}  message")
        for name, path in files.items():
            result = measure(path)
            size = path.stat().st_size
            row = {"file": name, "bytes": size, **result}
            rows.append(row)
            print(f"{name:28} {size:>10,} {result['code']:>4} {result['cpu_s']:>7.3f} "
                  f"{result['cpu_s'] / CPU_BUDGET_S:>6.2f} {result['rss_growth_mb']:>8.1f} "
                  f"{result['rss_growth_mb'] / MEMORY_BUDGET_MB:>6.2f}  {result['message'][:70]}")
    worst_cpu = max(r["cpu_s"] for r in rows if not r["file"].startswith("good"))
    worst_mem = max(r["rss_growth_mb"] for r in rows if not r["file"].startswith("good"))
    print(f"\nhostile files: worst CPU {worst_cpu:.3f} s ({worst_cpu / CPU_BUDGET_S:.2f} of the budget), "
          f"worst memory growth {worst_mem:.1f} MB ({worst_mem / MEMORY_BUDGET_MB:.2f} of the budget)")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
