"""Bag of words vs the recurrent classifier on the shipped sentiment data.

Both read the same examples, split the same way (the classify task's seeded
20% held out) with the same vocabulary (seed 002's TextPreprocessor, built on
the training part). The baseline is logistic regression on word counts
(softmax regression in torch, full batch, Adam to convergence, a little L2),
so it sees which words a sentence holds but not their order. The classifier
is ``rnn-studio train --task classify`` with its defaults. For each of a few
seeds (each its own split and initialisation) it prints both validation
accuracies side by side, then their medians and the margin.

    python bench/bench_classify.py                 # 3 seeds, about a minute on 2 cores
    python bench/bench_classify.py --seeds 0 1 2 3 4 --data my.csv
"""

from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from rnn_studio.core.config import defaults_for  # noqa: E402
from rnn_studio.core.training import Trainer  # noqa: E402


def counts(task, rows) -> torch.Tensor:
    """Word counts [examples, vocabulary]; padding (0) dropped, unknown (1) kept."""
    x = torch.zeros(len(rows), len(task.vocab))
    for i, row in enumerate(rows):
        for index in task.vocab.encode(task.texts[row]):
            x[i, index] += 1
    x[:, 0] = 0
    return x


def bag_of_words(task, seed: int, steps: int = 2000, l2: float = 1e-3) -> tuple[float, float]:
    """(train accuracy, validation accuracy) of logistic regression on counts."""
    torch.manual_seed(seed)
    targets = torch.tensor(task.targets_all)
    x_train, y_train = counts(task, task.train_rows), targets[torch.from_numpy(task.train_rows)]
    x_valid, y_valid = counts(task, task.valid_rows), targets[torch.from_numpy(task.valid_rows)]
    model = torch.nn.Linear(x_train.shape[1], task.num_classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x_train), y_train) + l2 * model.weight.pow(2).sum()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        train = float((model(x_train).argmax(1) == y_train).float().mean())
        valid = float((model(x_valid).argmax(1) == y_valid).float().mean())
    return train, valid


def recurrent(data: str, seed: int) -> tuple[Trainer, float, float, float]:
    cfg = defaults_for("classify")
    cfg.task.data_file, cfg.train.seed, cfg.train.device = data, seed, "cpu"
    trainer = Trainer(cfg)
    start = time.perf_counter()
    report = None
    while not trainer.finished:
        report = trainer.run_epoch()[-1]
    return trainer, report.accuracy, report.valid_accuracy, time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT / "assets" / "sentiment.csv"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    cfg = defaults_for("classify")
    print(f"# Bag of words vs recurrent classifier, {datetime.date.today()}")
    print(f"command: python bench/bench_classify.py {' '.join(argv if argv is not None else sys.argv[1:])}".rstrip())
    print(f"torch {torch.__version__}, python {platform.python_version()}, data {Path(args.data).name}; classifier: "
          f"{cfg.model.layers}-layer {'bidirectional ' if cfg.model.bidirectional else ''}{cfg.model.arch}, "
          f"embedding {cfg.model.embedding_dim}, hidden {cfg.model.hidden}, {cfg.model.pool} pooling, "
          f"Adam {cfg.train.lr:g}, batch {cfg.task.batch_examples}, {cfg.train.epochs} epochs\n")
    print("| seed | examples train / valid | bag of words, train | bag of words, valid | classifier, train "
          "| classifier, valid | classifier s |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    bow_valid, rnn_valid = [], []
    for seed in args.seeds:
        trainer, rnn_train, rnn_v, seconds = recurrent(args.data, seed)
        task = trainer.task
        bow_train, bow_v = bag_of_words(task, seed)
        bow_valid.append(bow_v)
        rnn_valid.append(rnn_v)
        print(f"| {seed} | {len(task.train_rows)} / {len(task.valid_rows)} | {bow_train:.3f} | **{bow_v:.3f}** | "
              f"{rnn_train:.3f} | **{rnn_v:.3f}** | {seconds:.1f} |")
    bow, rnn = statistics.median(bow_valid), statistics.median(rnn_valid)
    print(f"\nmedian validation accuracy: bag of words {bow:.3f}, recurrent classifier {rnn:.3f} "
          f"(margin {rnn - bow:+.3f}; chance is about 0.5)")


if __name__ == "__main__":
    main()
