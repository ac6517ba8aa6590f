"""How much the measuring trainer costs against the seeds' plain loops.

Prints figures and, for each comparison, the ratio measured in the same run:

1. text (seed 000): ``Trainer.step()`` with every per-step metric on (loss,
   total and per-parameter gradient norms, non-finite check, wall time, and
   ||dLoss/dh_t|| of every time step every ``time_grad_every`` steps) against
   seed 000's training loop, on the same model, data and seed. Also with the
   per-time-step norms taken on every step, and with the steps driven by
   ``core.session.Session`` (the CLI's and the window's loop).
2. sine next-value (seed 002): the same comparison (1000 windows x 20 points,
   hidden 32, Adam 0.001, MSE).
3. the from-scratch Elman layer against nn.RNN, forward + backward, at the text
   and the sine sizes.
4. milliseconds per epoch of each architecture on the default text task.

Both sides of a comparison run in the same process with the same torch thread
count, alternately (which side goes first alternates too), each repeat from a
freshly seeded model; the figures are medians over repeats and a ratio is the
median of the per-repeat ratios, so slow spells on a shared machine hit both
sides. Nothing here asserts a time.

    python bench/bench_trainer.py            # a few minutes on 2 CPU cores
    python bench/bench_trainer.py --quick    # well under a minute, noisier
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from rnn_studio.core.config import RunConfig, defaults_for  # noqa: E402
from rnn_studio.core.models import ElmanRNN  # noqa: E402
from rnn_studio.core.training import Trainer  # noqa: E402


def median(values):
    return statistics.median(values)


class Clock:
    """Wall time and this process's CPU time, read together.

    Wall time is what a user waits; CPU time leaves out the moments when
    other tenants of a shared machine had the core, so its ratios are steadier.
    With one torch thread the two agree on a quiet machine."""

    def __init__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def stop(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


# -- the two sides of a comparison ------------------------------------------------
def fresh_trainer(cfg: RunConfig) -> Trainer:
    """A Trainer seeded from cfg: the same initial weights and data every time."""
    return Trainer(cfg, device="cpu")


def time_trainer(cfg: RunConfig, epochs: int):
    """Seconds for ``epochs`` Trainer steps (one step = one epoch on these
    tasks) and the loss every 10th epoch, to check both sides did the same work."""
    trainer = fresh_trainer(cfg)
    clock = Clock()
    reports = [trainer.step() for _ in range(epochs)]
    seconds = clock.stop()
    assert all(r.time_grad_norms is not None for r in reports[:: cfg.train.time_grad_every])
    return seconds, [r.loss for r in reports[9::10]]


def time_session(cfg: RunConfig, epochs: int):
    """``time_trainer``'s steps driven by ``core.session.Session``, the loop the
    CLI and the window run (request peek, stop check, batching every 40 ms),
    with a listener that only keeps the batches."""
    from rnn_studio.core.events import StepBatch
    from rnn_studio.core.session import Session

    trainer = fresh_trainer(cfg)
    batches = []
    # thread_policy=False: both sides keep the thread count --threads set
    session = Session(trainer=trainer, epochs=epochs, thread_policy=False)
    clock = Clock()
    session.run(batches.append)
    seconds = clock.stop()
    losses = [float(v) for b in batches if isinstance(b, StepBatch) for v in b.loss]
    return seconds, losses[9::10]


def time_plain_text(cfg: RunConfig, epochs: int, release: bool = False):
    """Seed 000's loop on the Trainer's own model and data tensors. With
    ``release``, the step's tensors are dropped at the end of each iteration
    (the seed's loop holds them while it builds the next step)."""
    trainer = fresh_trainer(cfg)  # seeded: same weights and data as the trainer side
    model = trainer.model
    input_seq, target_seq = trainer.task.batch.inputs, trainer.task.batch.targets
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.train.lr)
    printed = []
    clock = Clock()
    for epoch in range(1, epochs + 1):
        optimizer.zero_grad()  # Clears existing gradients from previous epoch
        output, hidden = model(input_seq)
        # seed 000's model returns [B*T, V] already; ours returns [B, T, V]
        loss = criterion(output.view(-1, output.shape[-1]), target_seq.view(-1).long())
        loss.backward()
        optimizer.step()
        if epoch % 10 == 0:
            printed.append(loss.item())  # the seed prints the loss every 10 epochs
        if release:
            del output, hidden, loss
    return clock.stop(), printed


def time_plain_sine(cfg: RunConfig, epochs: int, release: bool = False):
    """Seed 002's loop on the Trainer's own model and data tensors (``release``
    as for ``time_plain_text``)."""
    trainer = fresh_trainer(cfg)
    model = trainer.model
    X_train, y_train = trainer.task.batch.inputs, trainer.task.batch.targets  # noqa: N806 (the seed's names)
    criterion = nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.train.lr)
    losses = []
    clock = Clock()
    rnn, fc, hidden_size = model.rnn, model.fc, model.hidden_size
    for _epoch in range(epochs):
        model.train()
        optimizer.zero_grad()
        # seed 002's BasicRNN.forward: zeros for h0, the read-out of the last step only
        hidden = torch.zeros(1, X_train.size(0), hidden_size)
        out, _ = rnn(X_train, hidden)
        outputs = fc(out[:, -1, :])
        loss = criterion(outputs.squeeze(), y_train)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())  # the seed keeps every epoch's loss
        if release:
            del outputs, out, loss
    return clock.stop(), losses[9::10]


CLOCKS = ("wall", "cpu")


def quartiles(values) -> tuple[float, float]:
    if len(values) < 2:
        return values[0], values[0]
    q1, _, q3 = statistics.quantiles(values, n=4)
    return q1, q3


def compare(name: str, sides: dict, epochs: int, repeats: int) -> dict:
    """Run every side ``repeats`` times, rotating the order each repeat.

    sides: label -> callable(epochs) -> ((wall s, CPU s), losses). The first
    side is the reference: a ratio is side/reference throughput within one
    repeat, and the figure given is the median of those ratios."""
    labels = list(sides)
    rates = {label: {clock: [] for clock in CLOCKS} for label in labels}
    losses = {}
    for label in labels:  # warm-up: first-call costs, allocator, caches
        sides[label](min(epochs, 20))
    for r in range(repeats):
        order = labels[r % len(labels) :] + labels[: r % len(labels)]
        for label in order:
            seconds, loss = sides[label](epochs)
            for clock, sec in zip(CLOCKS, seconds, strict=True):
                rates[label][clock].append(epochs / sec)
            losses[label] = loss
    reference = labels[0]
    result = {"name": name, "epochs": epochs, "repeats": repeats, "sides": {}, "rates": rates}
    for label in labels:
        side = {}
        for clock in CLOCKS:
            ratios = [a / b for a, b in zip(rates[label][clock], rates[reference][clock], strict=True)]
            side[clock] = {
                "steps_per_s": median(rates[label][clock]),
                "ms_per_step": 1000.0 / median(rates[label][clock]),
                "ratio": median(ratios),
                "ratio_iqr": quartiles(ratios),
            }
        pairs = zip(losses[label], losses[reference], strict=True)
        side["loss_diff"] = max(abs(a - b) for a, b in pairs) if losses[label] else 0.0
        side["final_loss"] = losses[label][-1] if losses[label] else float("nan")
        result["sides"][label] = side
    return result


def paired_ratio(result: dict, label: str, reference: str, clock: str) -> float:
    """Median over repeats of label's throughput / reference's, same repeat."""
    rates = result["rates"]
    return median([a / b for a, b in zip(rates[label][clock], rates[reference][clock], strict=True)])


def ratio_text(side: dict, clock: str) -> str:
    low, high = side[clock]["ratio_iqr"]
    return f"**{side[clock]['ratio']:.3f}** ({low:.2f}-{high:.2f})"


def print_comparison(result: dict) -> None:
    print(f"\n### {result['name']}\n")
    print(f"{result['epochs']} epochs per timing, {result['repeats']} repeats; medians (interquartile range)\n")
    print(
        "| side | steps/s | ms/step | ratio to plain, wall | ratio to plain, CPU time "
        "| loss at the last epoch | max loss diff vs plain |"
    )
    print("| --- | ---: | ---: | --- | --- | ---: | ---: |")
    for label, s in result["sides"].items():
        print(
            f"| {label} | {s['wall']['steps_per_s']:.0f} | {s['wall']['ms_per_step']:.3f} | {ratio_text(s, 'wall')} "
            f"| {ratio_text(s, 'cpu')} | {s['final_loss']:.4f} | {s['loss_diff']:.1e} |"
        )


# -- 1 and 2: trainer against the seeds' loops --------------------------------------
def with_every(cfg: RunConfig, every: int | None) -> RunConfig:
    cfg = cfg.copy()
    cfg.train.device = "cpu"
    cfg.train.epochs = 10**6  # the benchmark decides how many steps
    if every is not None:
        cfg.train.time_grad_every = every
    return cfg


def bench_task(name: str, cfg: RunConfig, plain, epochs: int, repeats: int) -> dict:
    default_every = cfg.train.time_grad_every
    seed, lean = "plain loop (seed)", "plain loop, releasing each step's tensors"
    default, every = f"Trainer, dLoss/dh_t every {default_every} steps (default)", "Trainer, dLoss/dh_t every step"
    session = f"Session loop over the Trainer, dLoss/dh_t every {default_every} steps"
    sides = {
        seed: lambda n: plain(with_every(cfg, None), n),
        lean: lambda n: plain(with_every(cfg, None), n, release=True),
        default: lambda n: time_trainer(with_every(cfg, None), n),
        every: lambda n: time_trainer(with_every(cfg, 1), n),
        session: lambda n: time_session(with_every(cfg, None), n),
    }
    result = compare(name, sides, epochs, repeats)
    print_comparison(result)
    # The seed's loop keeps the last step's outputs alive while it builds the
    # next; the trainer's locals die with each step. Where that matters, this
    # is the trainer against the plain loop without that handicap.
    print("\nAgainst the plain loop that releases each step's tensors (wall / CPU time): ", end="")
    print(
        "; ".join(
            f"{label.split(',')[1].strip()} {paired_ratio(result, label, lean, 'wall'):.3f} / "
            f"{paired_ratio(result, label, lean, 'cpu'):.3f}"
            for label in (default, every)
        )
    )
    # The loop's own cost: the same Trainer steps, called directly or by the Session
    print(
        f"Session loop against calling Trainer.step() directly (wall / CPU time): "
        f"{paired_ratio(result, session, default, 'wall'):.3f} / {paired_ratio(result, session, default, 'cpu'):.3f}"
    )
    return result


# -- 3: Elman from scratch against nn.RNN -------------------------------------------
def bench_elman(label: str, batch: int, steps: int, inputs: int, hidden: int, iters: int, repeats: int) -> dict:
    torch.manual_seed(0)
    reference = nn.RNN(inputs, hidden, batch_first=True)
    elman = ElmanRNN(inputs, hidden)
    elman.load_state_dict(reference.state_dict())
    x = torch.randn(batch, steps, inputs)

    def timed(layer):
        def run(n):
            clock = Clock()
            for _ in range(n):
                layer.zero_grad(set_to_none=True)
                out, _ = layer(x)
                out.square().mean().backward()
            return clock.stop(), []

        return run

    result = compare(label, {"nn.RNN": timed(reference), "Elman": timed(elman)}, iters, repeats)
    ref, own = result["sides"]["nn.RNN"], result["sides"]["Elman"]
    print(
        f"| {label} | {batch} x {steps} x {inputs} -> {hidden} | {ref['wall']['steps_per_s']:.0f} "
        f"| {own['wall']['steps_per_s']:.0f} | {ratio_text(own, 'wall')} | {ratio_text(own, 'cpu')} |"
    )
    return result


# -- 4: architectures on the default text task --------------------------------------
def bench_archs(archs, epochs: int, repeats: int) -> None:
    print("\n### Architectures on the default text task (ms per epoch = per step)\n")
    print(f"{epochs} epochs per timing, {repeats} repeats; medians; ratios to the plain loop, wall / CPU time\n")
    print("| arch | plain loop | Trainer, default sampling | ratio | Trainer, dLoss/dh_t every step | ratio |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for arch in archs:
        cfg = with_every(defaults_for("text", arch=arch), None)
        every_step = with_every(cfg, 1)
        result = compare(
            arch,
            {
                "plain": lambda n, c=cfg: time_plain_text(c, n),
                "trainer": lambda n, c=cfg: time_trainer(c, n),
                "every step": lambda n, c=every_step: time_trainer(c, n),
            },
            epochs,
            repeats,
        )
        s = result["sides"]
        cells = [f"{s['plain']['wall']['ms_per_step']:.3f}"]
        for label in ("trainer", "every step"):
            side = s[label]
            cells += [f"{side['wall']['ms_per_step']:.3f}", f"{side['wall']['ratio']:.2f} / {side['cpu']['ratio']:.2f}"]
        print(f"| {arch} | " + " | ".join(cells) + " |")


# -- 5: where a step's time goes (issue 12) ---------------------------------------------------
def bench_breakdown(repeats: int) -> None:
    """Microseconds per step of each thing the trainer does beyond the seed's
    loop, timed where it happens (a wrapper around each method, medians over
    many steps), on seed 000's text task; the dLoss/dh_t trace, which runs
    inside forward and backward, by difference (every step against never)."""
    import io
    import json
    import os
    import threading

    from rnn_studio.core.models import RecurrentNet

    cfg = with_every(defaults_for("text"), None)
    timings: dict[str, list[float]] = {}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            result = fn(*args, **kwargs)
            timings.setdefault(name, []).append(time.perf_counter() - start)
            return result
        return wrapper

    def instrumented(before: bool) -> Trainer:
        """A trainer with each part timed; ``before``: the parts as they were before issue 12."""
        when = " (before)" if before else " (now)"
        trainer = fresh_trainer(cfg)
        trainer._grad_norms = timed("loss + total + per-tensor norms (one _foreach_norm, one tolist)" + when,
                                    trainer._grad_norms)
        trainer._report = timed("StepReport (the step's figures as Python numbers)" + when, trainer._report)
        model = trainer.model
        if before:
            trainer.optimizer = torch.optim.Adam(trainer.params, lr=cfg.train.lr)

            def copy_weights(t=trainer):
                with torch.no_grad():
                    if t._previous_weights is None:
                        t._previous_weights = [p.detach().clone() for p in t.params]
                    else:
                        torch._foreach_copy_(t._previous_weights, [p.detach() for p in t.params])

            trainer._remember_weights = timed("weight copy for the divergence roll-back" + when, copy_weights)
            model.encode = timed("one-hot of the batch" + when,
                                 lambda x, m=model: torch.nn.functional.one_hot(x, m.vocab_size).to(torch.float32))
        else:
            trainer._remember_weights = timed("weight copy for the divergence roll-back" + when,
                                              trainer._remember_weights)
            model.encode = timed("one-hot of the batch" + when, lambda x, m=model: RecurrentNet.encode(m, x))
        name = "torch.optim.Adam" if before else "core.optim.FlatAdam"
        trainer.optimizer.step = timed(f"optimizer step, {name}" + when, trainer.optimizer.step)
        return trainer

    trainers = {False: instrumented(False), True: instrumented(True)}
    for r in range(repeats):  # alternating blocks of 100 steps
        for before in ((False, True) if r % 2 else (True, False)):
            for _ in range(100):
                trainers[before].step()
    assert trainers[False].step().loss == trainers[True].step().loss
    # a JSON row to a pipe: flushed every row (before) or on a 0.25 s timer (now)
    read_end, write_end = os.pipe()
    threading.Thread(target=lambda: [None for _ in iter(lambda: os.read(read_end, 65536), b"")], daemon=True).start()
    out = io.TextIOWrapper(io.FileIO(write_end, "w"), line_buffering=False)
    row = {"epoch": 1, "loss": 0.17620618641376495, "grad_norm": 0.059438981115818024, "ms": 1.0123}
    for flush_each in (True, False):
        name = "JSON row to a pipe, flushed every row (before)" if flush_each else "JSON row, flushed on a timer (now)"
        last = time.perf_counter()
        for _ in range(repeats * 100):
            start = time.perf_counter()
            out.write(json.dumps(row) + "\n")
            if flush_each or start - last >= 0.25:
                out.flush()
                last = start
            timings.setdefault(name, []).append(time.perf_counter() - start)
    out.close()
    # the trace, by difference
    for traced, name in ((True, "traced"), (False, "untraced")):
        t = fresh_trainer(with_every(defaults_for("text"), 1))
        t.trace_time_grads = traced
        for _ in range(50):
            t.step()
        for _ in range(repeats * 100):
            start = time.perf_counter()
            t.step()
            timings.setdefault(f"whole step, {name}", []).append(time.perf_counter() - start)
    trace = median(timings["whole step, traced"]) - median(timings["whole step, untraced"])
    print("\n### Where a step's time goes, text seed 000 (microseconds per step, medians)\n")
    print(f"{repeats * 100} steps each; a whole Trainer step takes ~{median(timings['whole step, untraced']) * 1e6:.0f} us "
          "untraced\n")
    print("| what | us per step |")
    print("| --- | ---: |")
    for name, values in timings.items():
        if not name.startswith("whole step"):
            print(f"| {name} | {median(values) * 1e6:.1f} |")
    print(f"| dLoss/dh_t trace: a traced step minus an untraced one | {trace * 1e6:.1f} |")
    print(f"| dLoss/dh_t trace, amortised at the default every {cfg.train.time_grad_every} steps "
          f"| {trace * 1e6 / cfg.train.time_grad_every:.1f} |")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats: well under a minute, noisier")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads for both sides (default 1)")
    parser.add_argument(
        "--only", default="text,sine,elman,archs,breakdown",
        help="comma-separated subset of: text, sine, elman, archs, breakdown"
    )
    args = parser.parse_args(argv)
    only = set(args.only.split(","))
    torch.set_num_threads(args.threads)
    quick = args.quick
    print(f"# RNN Studio core benchmark, {datetime.date.today().isoformat()}")
    print(f"command: python bench/bench_trainer.py {' '.join(sys.argv[1:] if argv is None else argv)}".rstrip())
    print(
        f"torch {torch.__version__}, python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs visible, torch.set_num_threads({args.threads}) for both sides"
    )

    if "text" in only:
        bench_task(
            "Text, seed 000 (3 sentences, RNN hidden 12, one-hot, Adam 0.01; 1 step = 1 epoch)",
            defaults_for("text"),
            time_plain_text,
            epochs=100,
            repeats=7 if quick else 41,
        )
    if "sine" in only:
        bench_task(
            "Sine next-value, seed 002 (1000 windows x 20 points, RNN hidden 32, Adam 0.001, MSE)",
            defaults_for("sine", "next-value"),
            time_plain_sine,
            # short timings, many of them: the load of a shared machine changes
            # within seconds, and only what both sides share cancels out
            epochs=20,
            repeats=9 if quick else 41,
        )
    if "elman" in only:
        print("\n### Elman layer from explicit tensors vs nn.RNN (forward + backward, medians)\n")
        print(
            "| sizes of | batch x steps x inputs -> hidden | nn.RNN steps/s | Elman steps/s "
            "| ratio Elman/nn.RNN, wall | ratio, CPU time |"
        )
        print("| --- | --- | ---: | ---: | --- | --- |")
        n = 1 if quick else 3
        text = fresh_trainer(with_every(defaults_for("text"), None)).task
        bench_elman("text (seed 000)", len(text.sentences), text.seq_len, len(text.vocab), 12, 100 * n, 3 * n + 2)
        bench_elman("sine next-value (seed 002)", 1000, 20, 1, 32, 20 * n, 3 * n + 2)
        bench_elman("sine sequence (seed 003)", 1, 20, 1, 6, 100 * n, 3 * n + 2)
    if "archs" in only:
        bench_archs(("rnn", "rnn-relu", "lstm", "gru", "elman"), epochs=100, repeats=3 if quick else 9)
    if "breakdown" in only:
        bench_breakdown(repeats=5 if quick else 20)


if __name__ == "__main__":
    main()
