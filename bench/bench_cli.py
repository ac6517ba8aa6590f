"""`rnn-studio train --json` against the seeds' own loops, as whole processes (issue 12).

Each side is a fresh interpreter with one torch thread (OMP_NUM_THREADS=1 and
torch.set_num_threads(1)), its stdout a pipe that this script reads:

- seed: the seed tutorial's loop, literally (seed 000: the batch one-hot
  encoded once, ``nn.RNN`` + ``nn.Linear`` on ``out.view(-1, H)``, Adam, the
  loss printed every 10 epochs; seed 002: ``model.train()``, the read-out of
  the last step, MSE, Adam, ``loss.item()`` every epoch), on the modules and
  tensors a seeded ``Trainer`` builds, so the weights and data are the same.
- cli: ``python -m rnn_studio train --json`` with the same settings (every
  per-step metric on: loss, total and per-tensor gradient norms, the
  divergence roll-back copy, dLoss/dh_t every 10 steps, a JSON row per epoch).
- cli, before: the same command on another checkout (``--before PATH``, e.g.
  the commit before issue 12's changes), when given.

Throughput = epochs / the training loop's own time (the seed times its loop;
the CLI reports ``ms_per_epoch``, its Session run from the first step to the
last), so interpreter start and imports are left out; they are timed apart
by ``--only start``. The sides alternate, the order rotating each repeat; a
ratio is taken within one repeat and the median of those is given.

    python bench/bench_cli.py --before /tmp/base          # a few minutes
    python bench/bench_cli.py --quick --only text,sine
    python bench/bench_cli.py --only start --before /tmp/base
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SEED_000 = r"""
import sys, time, json
import torch
from torch import nn
torch.set_num_threads(1)
from rnn_studio.core.config import defaults_for
from rnn_studio.core.training import Trainer
epochs = int(sys.argv[1])
trainer = Trainer(defaults_for("text"), device="cpu")  # seeded: the CLI's weights and data
rnn, fc, hidden_dim = trainer.model.rnn, trainer.model.fc, trainer.model.hidden_size
dict_size = len(trainer.vocab)
input_seq = nn.functional.one_hot(trainer.task.batch.inputs, dict_size).float()  # encoded once, as the seed
target_seq = trainer.task.batch.targets
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(list(rnn.parameters()) + list(fc.parameters()), lr=0.01)
printed = []
start = time.perf_counter()
for epoch in range(1, epochs + 1):
    optimizer.zero_grad()
    hidden = torch.zeros(1, input_seq.size(0), hidden_dim)
    out, hidden = rnn(input_seq, hidden)
    out = out.contiguous().view(-1, hidden_dim)
    output = fc(out)
    loss = criterion(output, target_seq.view(-1).long())
    loss.backward()
    optimizer.step()
    if epoch % 10 == 0:
        printed.append(loss.item())
elapsed = time.perf_counter() - start
print(json.dumps({"ms_per_epoch": elapsed * 1000 / epochs, "final_loss": printed[-1]}))
"""

SEED_002 = r"""
import sys, time, json
import torch
from torch import nn, optim
torch.set_num_threads(1)
from rnn_studio.core.config import defaults_for
from rnn_studio.core.training import Trainer
epochs = int(sys.argv[1])
trainer = Trainer(defaults_for("sine", "next-value"), device="cpu")
model = trainer.model
rnn, fc, hidden_size = model.rnn, model.fc, model.hidden_size
X_train, y_train = trainer.task.batch.inputs, trainer.task.batch.targets
criterion = nn.MSELoss()
optimizer = optim.Adam(model.parameters(), lr=0.001)
losses = []
start = time.perf_counter()
for epoch in range(epochs):
    model.train()
    optimizer.zero_grad()
    hidden = torch.zeros(1, X_train.size(0), hidden_size)
    out, hidden = rnn(X_train, hidden)
    outputs = fc(out[:, -1, :])
    loss = criterion(outputs.squeeze(), y_train)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
elapsed = time.perf_counter() - start
print(json.dumps({"ms_per_epoch": elapsed * 1000 / epochs, "final_loss": losses[-1]}))
"""


def env_for(tree: Path) -> dict:
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH=str(tree), PYTHONHASHSEED="0")
    return env


def run_seed(script: str, epochs: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as fh:
        fh.write(script)
    try:
        done = subprocess.run([sys.executable, fh.name, str(epochs)], capture_output=True, text=True,
                              env=env_for(ROOT), cwd=ROOT, check=True)
    finally:
        os.unlink(fh.name)
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_cli(tree: Path, args: list[str], epochs: int) -> dict:
    done = subprocess.run([sys.executable, "-m", "rnn_studio", "train", *args, "--epochs", str(epochs), "--json"],
                          capture_output=True, text=True, env=env_for(tree), cwd=tree, check=True)
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    last = rows[-1]
    assert last.get("event") == "done" and len(rows) == epochs + 1, "one row per epoch, then done"
    return {"ms_per_epoch": last["ms_per_epoch"], "final_loss": last["final_loss"]}


def compare(name: str, sides: dict, repeats: int) -> None:
    labels = list(sides)
    ms = {label: [] for label in labels}
    final = {}
    for r in range(repeats):
        order = labels[r % len(labels):] + labels[: r % len(labels)]
        for label in order:
            result = sides[label]()
            ms[label].append(result["ms_per_epoch"])
            final[label] = result["final_loss"]
    ref = labels[0]
    print(f"\n### {name}\n\n{repeats} repeats, whole processes alternated; medians (interquartile range)\n")
    print("| side | ms per epoch | epochs/s | throughput / seed loop's | final loss |")
    print("| --- | ---: | ---: | --- | ---: |")
    for label in labels:
        ratios = [b / a for a, b in zip(ms[label], ms[ref], strict=True)]
        q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
        med = statistics.median(ms[label])
        print(f"| {label} | {med:.3f} | {1000 / med:.0f} | **{statistics.median(ratios):.3f}** "
              f"({q[0]:.2f}-{q[2]:.2f}) | {final[label]!r} |")


def bench_training(only: set, before: Path | None, repeats: int, quick: bool) -> None:
    if "text" in only:
        epochs = 1000 if quick else 2000
        sides = {"seed 000's loop": lambda: run_seed(SEED_000, epochs),
                 "rnn-studio train --json": lambda: run_cli(ROOT, [], epochs)}
        if before:
            sides["rnn-studio train --json, before"] = lambda: run_cli(before, [], epochs)
        compare(f"Text, seed 000 (RNN 12, 3 sentences, Adam 0.01), {epochs} epochs per run", sides, repeats)
    if "sine" in only:
        epochs = 150 if quick else 300
        args = ["--task", "sine"]
        sides = {"seed 002's loop": lambda: run_seed(SEED_002, epochs),
                 "rnn-studio train --task sine --json": lambda: run_cli(ROOT, args, epochs)}
        if before:
            sides["rnn-studio train --task sine --json, before"] = lambda: run_cli(before, args, epochs)
        compare(f"Sine next-value, seed 002 (RNN 32, 1000 windows x 20, Adam 0.001), {epochs} epochs per run",
                sides, repeats)


# -- start: what a command costs before it does anything -----------------------------------
START = r"""
import sys, time, json
t0 = time.perf_counter()
from rnn_studio.cli import main
code = main(sys.argv[1:])
print(json.dumps({"s": time.perf_counter() - t0, "dynamo": "torch._dynamo" in sys.modules,
                  "optimizer_built": None}), file=sys.stderr)
"""


def run_start(tree: Path, args: list[str]) -> tuple[float, float, bool]:
    launch = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", START, *args], capture_output=True, text=True,
                          env=env_for(tree), cwd=tree)
    wall = time.perf_counter() - launch
    if done.returncode != 0:
        raise SystemExit(f"{args} failed in {tree}: {done.stderr[-500:]}")
    info = json.loads(done.stderr.strip().splitlines()[-1])
    return wall, info["s"], info["dynamo"]


def bench_start(before: Path | None, repeats: int) -> None:
    folder = Path(tempfile.mkdtemp())
    checkpoint = folder / "seed.pt"
    subprocess.run([sys.executable, "-m", "rnn_studio", "train", "--save", str(checkpoint)], env=env_for(ROOT),
                   cwd=ROOT, check=True, capture_output=True)
    cases = {
        "train --epochs 0": ["train", "--epochs", "0"],
        "train --epochs 0 --json": ["train", "--epochs", "0", "--json"],
        "complete --prompt good": ["complete", "--checkpoint", str(checkpoint), "--prompt", "good"],
        "python -c 'import torch' (reference)": None,
    }
    trees = {"after": ROOT, **({"before": before} if before else {})}
    results = {(case, tree): [] for case in cases for tree in trees}
    dynamo = {}
    for r in range(repeats):
        for case, args in cases.items():
            order = list(trees.items())
            if r % 2:
                order.reverse()
            for tree_name, tree in order:
                if args is None:
                    launch = time.perf_counter()
                    subprocess.run([sys.executable, "-c", "import torch"], env=env_for(tree), check=True)
                    results[(case, tree_name)].append((time.perf_counter() - launch, 0.0))
                    dynamo[(case, tree_name)] = False
                    continue
                wall, inside, dyn = run_start(tree, args)
                results[(case, tree_name)].append((wall, inside))
                dynamo[(case, tree_name)] = dyn
    print(f"\n### Start: launch to exit, whole processes ({repeats} repeats, alternated; medians)\n")
    print("| command | " + " | ".join(f"{t}: launch to exit s | {t}: torch._dynamo imported" for t in trees) + " |")
    print("| --- | " + " | ".join("---: | ---" for _ in trees) + " |")
    for case in cases:
        cells = []
        for tree_name in trees:
            walls = [w for w, _ in results[(case, tree_name)]]
            cells += [f"{statistics.median(walls):.2f} ({min(walls):.2f}-{max(walls):.2f})",
                      "yes" if dynamo[(case, tree_name)] else "no"]
        print(f"| `{case}` | " + " | ".join(cells) + " |")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="text,sine,start")
    parser.add_argument("--before", type=Path, help="another checkout to run as 'before' (e.g. git archive of the "
                        "commit before issue 12)")
    parser.add_argument("--repeats", type=int)
    args = parser.parse_args(argv)
    only = set(args.only.split(","))
    with open("/proc/loadavg") as fh:
        load = fh.read().split()[:3]
    print(f"command: python bench/bench_cli.py {' '.join(sys.argv[1:] if argv is None else argv)}".rstrip())
    print(f"load average at start: {' '.join(load)}; {os.cpu_count()} CPUs")
    repeats = args.repeats or (5 if args.quick else 11)
    bench_training(only, args.before, repeats, args.quick)
    if "start" in only:
        bench_start(args.before, args.repeats or (3 if args.quick else 7))
    with open("/proc/loadavg") as fh:
        print(f"\nload average at the end: {' '.join(fh.read().split()[:3])}")


if __name__ == "__main__":
    main()
