"""Text files: the trainer against a plain PyTorch loop at char-rnn's sizes, and setting up a 50 MiB file (issue 12).

1. throughput: characters per second of ``Trainer.step()`` on a text file
   against the loop a student writes in the style of pytorch/examples'
   word_language_model (streams of the corpus, windows, the hidden state
   carried and detached, ``CrossEntropyLoss``, ``clip_grad_norm_``, Adam),
   at char-rnn's sizes: 2-layer LSTM 128, 50 streams, windows of 50, one-hot
   input, gradient clip 5, Adam 0.002 (char-rnn's RMSprop is not offered).
   Same model object, same seed, same corpus; the losses of every step are
   compared. The trainer runs as the CLI runs it (every per-step metric but
   dLoss/dh_t, which the CLI does not show and which an LSTM can only take
   cell by cell) and as the window runs it (dLoss/dh_t every 10 steps).
   Sides alternate, ratios within a repeat, medians.
2. setup: a fresh interpreter builds a ``Trainer`` on a 50 MiB file (read,
   vocabulary, encoding, streams, model): seconds and peak resident memory,
   for this checkout and for ``--before PATH`` (another checkout).

The corpus is built from this repository's own text (Markdown and Python,
lines shuffled with a fixed seed) unless ``--text-file`` names one (e.g.
tinyshakespeare's input.txt).

    python bench/bench_textfile.py --before /tmp/base        # a few minutes
    python bench/bench_textfile.py --quick --only throughput
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def make_corpus(path: Path, size: int) -> Path:
    lines = []
    for file in sorted(ROOT.rglob("*")):
        if file.suffix in (".md", ".py") and ".git" not in file.parts:
            lines += file.read_text(encoding="utf-8", errors="ignore").splitlines()
    lines = [line for line in lines if line.isascii()]
    rng = random.Random(0)
    with open(path, "w", encoding="utf-8") as fh:
        written = 0
        while written < size:
            rng.shuffle(lines)
            for line in lines:
                fh.write(line + "\n")
                written += len(line) + 1
                if written >= size:
                    break
    return path


def char_rnn_config(text_file: str):
    from rnn_studio.core.config import defaults_for

    cfg = defaults_for("text", arch="lstm")
    cfg.task.text_file = text_file
    cfg.task.batch_size, cfg.task.window = 50, 50
    cfg.model.arch, cfg.model.layers, cfg.model.hidden, cfg.model.encoding = "lstm", 2, 128, "onehot"
    cfg.train.lr, cfg.train.clip, cfg.train.device, cfg.train.epochs = 0.002, 5.0, "cpu", 1000
    return cfg


# -- 1. throughput -----------------------------------------------------------------------------
def plain_loop(cfg, steps: int):
    """pytorch/examples' loop on the trainer's model and streams (its own long copy of them)."""
    import torch
    from torch import nn

    from rnn_studio.core.training import Trainer

    trainer = Trainer(cfg, device="cpu")  # seeded: the same weights and streams as the other side
    model = trainer.model
    inputs, targets = trainer.task.inputs.long(), trainer.task.targets.long()  # batchify: LongTensors
    window, vocab = trainer.task.window, len(trainer.vocab)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.train.lr)
    model.train()
    hidden, losses = None, []
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    for i in range(steps):
        x = inputs[:, i * window : (i + 1) * window]
        y = targets[:, i * window : (i + 1) * window]
        if hidden is not None:
            hidden = tuple(h.detach() for h in hidden)  # repackage_hidden
        optimizer.zero_grad()
        output, hidden = model(x, hidden)
        loss = criterion(output.reshape(-1, vocab), y.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), cfg.train.clip)
        optimizer.step()
        losses.append(loss.item())
    return (time.perf_counter() - start_wall, time.process_time() - start_cpu), losses, trainer


def trainer_loop(cfg, steps: int, trace: bool):
    from rnn_studio.core.models import traced_forward_is_plain
    from rnn_studio.core.training import Trainer

    trainer = Trainer(cfg, device="cpu")
    # as the CLI sets it (trace=False) or as the window runs (every time_grad_every steps)
    trainer.trace_time_grads = True if trace else traced_forward_is_plain(trainer.model, trainer.device)
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    losses = [trainer.step().loss for _ in range(steps)]
    return (time.perf_counter() - start_wall, time.process_time() - start_cpu), losses, trainer


def bench_throughput(text_file: str, steps: int, repeats: int) -> None:
    import torch

    torch.set_num_threads(1)
    cfg = char_rnn_config(text_file)
    sides = {
        "plain loop (pytorch/examples style)": lambda: plain_loop(cfg, steps),
        "Trainer as the CLI runs it (per-step norms, roll-back copy; no dLoss/dh_t)": lambda: trainer_loop(
            cfg, steps, False),
        "Trainer as the window runs it (dLoss/dh_t every 10 steps)": lambda: trainer_loop(cfg, steps, True),
    }
    labels = list(sides)
    for label in labels:  # warm-up
        sides[label]()
    rates = {label: {"wall": [], "cpu": []} for label in labels}
    losses = {}
    chars = None
    for r in range(repeats):
        order = labels[r % len(labels):] + labels[: r % len(labels)]
        for label in order:
            (wall, cpu), loss, trainer = sides[label]()
            chars = steps * trainer.task.batch_size * trainer.task.window
            rates[label]["wall"].append(chars / wall)
            rates[label]["cpu"].append(chars / cpu)
            losses[label] = loss
    ref = labels[0]
    print(f"\n### 1. Characters per second, 2-layer LSTM 128, 50 streams x windows of 50 "
          f"({steps} steps = {chars:,} characters per timing, {repeats} repeats, one torch thread)\n")
    print("| side | chars/s | ratio to plain, wall | ratio, CPU time | steps whose loss differs from plain's |")
    print("| --- | ---: | --- | --- | ---: |")
    for label in labels:
        cells = []
        for clock in ("wall", "cpu"):
            ratios = [a / b for a, b in zip(rates[label][clock], rates[ref][clock], strict=True)]
            q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
            cells.append(f"**{statistics.median(ratios):.3f}** ({q[0]:.2f}-{q[2]:.2f})")
        differ = sum(a != b for a, b in zip(losses[label], losses[ref], strict=True))
        print(f"| {label} | {statistics.median(rates[label]['wall']):,.0f} | {cells[0]} | {cells[1]} "
              f"| {differ} of {steps} |")


# -- 2. setup ----------------------------------------------------------------------------------
SETUP = r"""
import json, resource, sys, time
path, tree = sys.argv[1], sys.argv[2]
sys.path.insert(0, tree)
t0 = time.perf_counter()
import torch
from rnn_studio.core.config import defaults_for
from rnn_studio.core.training import Trainer
imported = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
cfg = defaults_for("text", arch="lstm")
cfg.task.text_file = path
cfg.task.batch_size, cfg.task.window = 50, 50
cfg.model.layers, cfg.model.hidden, cfg.train.device = 2, 128, "cpu"
t1 = time.perf_counter()
trainer = Trainer(cfg)
t2 = time.perf_counter()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"import_s": t1 - t0, "setup_s": t2 - t1, "peak_mib": peak, "after_import_mib": imported,
                  "steps_per_epoch": trainer.task.steps_per_epoch, "vocab": len(trainer.vocab)}))
"""


def bench_setup(text_file: str, before: Path | None, repeats: int) -> None:
    trees = {"after": ROOT, **({"before": before} if before else {})}
    results = {name: [] for name in trees}
    for r in range(repeats):
        order = list(trees.items())
        if r % 2:
            order.reverse()
        for name, tree in order:
            env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(tree))
            done = subprocess.run([sys.executable, "-c", SETUP, text_file, str(tree)], capture_output=True,
                                  text=True, env=env, cwd=tree, check=True)
            results[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    size = os.path.getsize(text_file)
    print(f"\n### 2. Setting up a {size / 2**20:.1f} MiB text file (Trainer built: read, vocabulary, encoding, "
          f"streams, model), fresh interpreters, {repeats} repeats alternated, medians (min-max)\n")
    print("| checkout | setup s | peak resident MiB | of which after importing torch | resident after import MiB |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, rows in results.items():
        setup = [row["setup_s"] for row in rows]
        peak = [row["peak_mib"] for row in rows]
        extra = [row["peak_mib"] - row["after_import_mib"] for row in rows]
        print(f"| {name} | {statistics.median(setup):.2f} ({min(setup):.2f}-{max(setup):.2f}) "
              f"| {statistics.median(peak):.0f} ({min(peak):.0f}-{max(peak):.0f}) | {statistics.median(extra):.0f} "
              f"| {statistics.median([row['after_import_mib'] for row in rows]):.0f} |")
    row = results["after"][-1]
    print(f"\n{row['steps_per_epoch']:,} steps per epoch, {row['vocab'] - 1} different characters")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="throughput,setup")
    parser.add_argument("--text-file", help="the corpus for throughput (default: built from this repository)")
    parser.add_argument("--before", type=Path, help="another checkout to set up the 50 MiB file with")
    args = parser.parse_args(argv)
    only = set(args.only.split(","))
    with open("/proc/loadavg") as fh:
        print(f"command: python bench/bench_textfile.py {' '.join(sys.argv[1:] if argv is None else argv)}".rstrip())
        print(f"load average at start: {' '.join(fh.read().split()[:3])}; {os.cpu_count()} CPUs")
    folder = Path(tempfile.mkdtemp(prefix="rnn_studio_bench_"))
    if "throughput" in only:
        corpus = args.text_file or str(make_corpus(folder / "corpus.txt", 1_100_000))
        bench_throughput(corpus, steps=20 if args.quick else 40, repeats=3 if args.quick else 9)
    if "setup" in only:
        big = make_corpus(folder / "big.txt", 50 * 2**20 - 4096)
        bench_setup(str(big), args.before, repeats=1 if args.quick else 3)
    with open("/proc/loadavg") as fh:
        print(f"\nload average at the end: {' '.join(fh.read().split()[:3])}")


if __name__ == "__main__":
    main()
