"""One go on a machine with an NVIDIA GPU (issue 12): CUDA training of every
architecture from the CLI and from core's Session, the gradient views on
CUDA, and steps/s against the CPU at sizes where the GPU should win.

Without CUDA it prints that nothing was run and exits 0. With CUDA it
prints a Markdown report for bench/README.md and exits 1 if any check
failed. About 3-4 minutes on one GPU and 16 cores; ``--quick`` for ~1.

    python bench/gpu_check.py
    python bench/gpu_check.py --quick
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

ARCHS = ("rnn", "rnn-relu", "lstm", "gru", "elman")
failures: list[str] = []


def check(ok: bool, what: str) -> str:
    if not ok:
        failures.append(what)
    return "ok" if ok else "**FAILED**"


def corpus(folder: Path, size: int) -> Path:
    words = "the quick brown fox jumps over the lazy dog while seven wizards quietly judge boxing".split()
    rng = __import__("random").Random(0)
    path = folder / "corpus.txt"
    path.write_text(" ".join(rng.choice(words) for _ in range(size // 5)), encoding="utf-8")
    return path


def cli_every_arch(text_file: Path, epochs: int) -> None:
    print("\n### 1. `rnn-studio train --device cuda`, every architecture\n")
    print("| arch | task | rc | epochs | final loss | ms/epoch | check |")
    print("| --- | --- | ---: | ---: | ---: | ---: | --- |")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for arch in ARCHS:
        for task, extra in (("seed text", []), ("sine", ["--task", "sine"]),
                            ("text file", ["--text-file", str(text_file), "--batch-size", "32", "--window", "64"])):
            args = [sys.executable, "-m", "rnn_studio", "train", "--device", "cuda", "--arch", arch,
                    "--epochs", str(epochs), "--json", *extra]
            done = subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
            rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
            last = rows[-1] if rows else {}
            ok = done.returncode == 0 and last.get("event") == "done" and math.isfinite(last.get("final_loss") or math.nan)
            print(f"| {arch} | {task} | {done.returncode} | {last.get('epochs')} | {last.get('final_loss', 'n/a')} "
                  f"| {last.get('ms_per_epoch', float('nan')):.1f} | {check(ok, f'CLI {arch} {task}: {done.stderr[-200:]}')} |")


def session_every_arch(steps: int) -> None:
    """core.session.Session (the window's worker runs the same loop) on CUDA,
    with dLoss/dh_t every step: the "Back through time" view's numbers."""
    from rnn_studio.core.config import defaults_for
    from rnn_studio.core.events import RunEnded, StepBatch
    from rnn_studio.core.session import Session

    print("\n### 2. core Session on CUDA (the window's loop), gradient views every step\n")
    print("| arch | task | state | steps | per-tensor norms | dLoss/dh_t norms (finite) | traced forward | check |")
    print("| --- | --- | --- | ---: | ---: | --- | --- | --- |")
    for arch in ARCHS:
        for kind in ("text", "sine"):
            cfg = defaults_for(kind, arch=arch) if kind == "text" else defaults_for("sine", "next-value", arch)
            cfg.model.arch = arch
            cfg.train.device, cfg.train.epochs, cfg.train.time_grad_every = "cuda", steps, 1
            events = []
            Session(cfg, predictions_interval=0.0).run(events.append)
            ended = events[-1]
            batches = [e for e in events if isinstance(e, StepBatch)]
            grads = next((b.time_grad_norms for b in reversed(batches) if b.time_grad_norms is not None), None)
            norms = batches[-1].param_grad_norms if batches else {}
            trainer_device = "cuda"
            ok = (isinstance(ended, RunEnded) and ended.state == "finished" and grads is not None
                  and bool(norms) and all(math.isfinite(v) for v in grads))
            route = _route(arch, trainer_device)
            print(f"| {arch} | {kind} | {ended.state} | {ended.steps} | {len(norms)} "
                  f"| {'yes' if grads is not None and all(math.isfinite(v) for v in grads) else 'no'} "
                  f"({0 if grads is None else len(grads)} steps) | {route} | {check(ok, f'Session {arch} {kind}')} |")


def _route(arch: str, device: str) -> str:
    return {"rnn": "recursion hook (cuDNN)", "rnn-relu": "recursion hook (cuDNN)", "lstm": "lstm_cell per step",
            "gru": "nn.GRU per time step", "elman": "own per-step tensors"}[arch]


def optimizer_exact_on_cuda(steps: int) -> None:
    """core.optim against torch's Adam on CUDA: the same weights?"""
    from rnn_studio.core.config import defaults_for
    from rnn_studio.core.training import Trainer

    print("\n### 3. core.optim against torch.optim.Adam on CUDA (same run twice)\n")
    print(f"| arch | max weight difference after {steps} steps | check |")
    print("| --- | ---: | --- |")
    for arch in ARCHS:
        results = []
        for own in (True, False):
            cfg = defaults_for("text", arch=arch)
            cfg.model.arch, cfg.train.device = arch, "cuda"
            trainer = Trainer(cfg)
            if not own:
                trainer.optimizer = torch.optim.Adam(trainer.params, lr=cfg.train.lr)
            for _ in range(steps):
                trainer.step()
            results.append([p.detach().clone() for p in trainer.params])
        diff = max(float((a - b).abs().max()) for a, b in zip(*results, strict=True))
        # torch's default on CUDA is the foreach Adam; equal to the bit is expected, rounding is tolerated
        print(f"| {arch} | {diff:.2e} | {check(diff < 1e-5, f'optimizer {arch} differs by {diff}')} |")


def speed(text_file: Path, steps: int) -> None:
    """Steps/s, CPU (every core) against CUDA, at sizes where the GPU should win."""
    from rnn_studio.core.config import defaults_for
    from rnn_studio.core.training import Trainer

    print(f"\n### 4. Steps per second, CPU ({os.cpu_count()} cores, torch's default threads) against CUDA\n")
    print("| model | batch x window | CPU steps/s | CUDA steps/s | CUDA / CPU |")
    print("| --- | --- | ---: | ---: | ---: |")
    torch.set_num_threads(os.cpu_count() or 1)
    for arch, layers, hidden, batch, window in (("lstm", 2, 128, 50, 50), ("lstm", 2, 512, 128, 128),
                                                ("gru", 2, 512, 128, 128), ("rnn", 1, 1024, 256, 64)):
        rates = {}
        for device in ("cpu", "cuda"):
            cfg = defaults_for("text", arch=arch)
            cfg.task.text_file, cfg.task.batch_size, cfg.task.window = str(text_file), batch, window
            cfg.model.arch, cfg.model.layers, cfg.model.hidden = arch, layers, hidden
            cfg.train.device, cfg.train.epochs, cfg.train.time_grad_every = device, 100, 10
            trainer = Trainer(cfg)
            trainer.trace_time_grads = False  # as the CLI trains an LSTM/GRU; the trace is timed in section 2
            trainer.step()
            trainer.step()  # warm-up: cuDNN plans, allocator
            if device == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            for _ in range(steps):
                trainer.step()  # each step reads its numbers back: a sync per step, as in real use
            rates[device] = steps / (time.perf_counter() - start)
        print(f"| {arch} {layers}x{hidden} | {batch} x {window} | {rates['cpu']:.1f} | {rates['cuda']:.1f} "
              f"| {rates['cuda'] / rates['cpu']:.1f} |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("gpu_check: no CUDA device here (torch.cuda.is_available() is False): nothing was run. "
              "Run this on a machine with an NVIDIA GPU.")
        return 0
    print(f"# RNN Studio on CUDA: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, "
          f"CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}")
    print(f"command: python bench/gpu_check.py {' '.join(sys.argv[1:] if argv is None else argv)}".rstrip())
    start = time.perf_counter()
    folder = Path(tempfile.mkdtemp(prefix="rnn_studio_gpu_"))
    text_file = corpus(folder, 600_000)
    cli_every_arch(text_file, 2 if args.quick else 3)
    session_every_arch(3 if args.quick else 5)
    optimizer_exact_on_cuda(5 if args.quick else 20)
    speed(text_file, 3 if args.quick else 10)
    print(f"\n{time.perf_counter() - start:.0f} s in all; "
          + ("every check passed" if not failures else f"{len(failures)} FAILED: " + "; ".join(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
