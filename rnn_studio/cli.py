"""Command line: ``rnn-studio`` (the window, ``--lesson FILE``), ``train``, ``complete``, ``classify``,
``inspect``, ``lesson check|play`` and ``export-script``.

A user's mistake never ends in a traceback: each is one line on stderr and
exit status 2. Training runs the same ``Trainer``, stepped by the same
``core.session.Session`` loop, as the window.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line (no usage block) and exit 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        sys.stderr.write(f"rnn-studio: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def _whole(name, minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a whole number, got '{text}'") from None
        if value < minimum:
            word = "at least 1" if minimum == 1 else f"{minimum} or more"
            raise argparse.ArgumentTypeError(f"{name} must be {word}, got {value}")
        return value
    return parse


def _positive_int(name):
    return _whole(name, 1)


def _count(name):
    return _whole(name, 0)


def _number(name, minimum=None, strictly=False):
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got '{text}'") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{name} must be a finite number, got '{text}'")
        if minimum is not None and (value <= minimum if strictly else value < minimum):
            word = "greater than" if strictly else "at least"
            raise argparse.ArgumentTypeError(f"{name} must be {word} {minimum:g}, got {value:g}")
        return value
    return parse


def _fraction(name):
    parse_number = _number(name, 0.0)

    def parse(text):
        value = parse_number(text)
        if value >= 1:
            raise argparse.ArgumentTypeError(f"{name} must be below 1 (a fraction of the data), got {value:g}")
        return value
    return parse


# options `train --resume` accepts; every other one would contradict the file's settings
RESUME_OPTIONS = {"resume", "epochs", "save", "json", "json_every", "device"}


def build_parser() -> argparse.ArgumentParser:
    from .core.config import (
        ARCHITECTURES,
        ENCODINGS,
        LEVELS,
        MAX_EPOCHS,
        MAX_HIDDEN,
        MAX_LAYERS,
        OPTIMIZERS,
        POOLS,
        PRESETS,
        SINE_MODES,
        TASKS,
    )

    parser = _Parser(prog="rnn-studio", description="Watch recurrent neural networks learn. "
                     "With no command, opens the studio window.")
    parser.add_argument("--lesson", metavar="FILE", help="open the window on this lesson (a .toml file; "
                        "see docs/lessons.md); a file with an error is refused with its line")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    train = sub.add_parser("train", help="train a model without a window")
    train.add_argument("--task", choices=TASKS, default=None, help="text (default), sine or classify")
    train.add_argument("--preset", choices=sorted(PRESETS), help="a ready-made example: overfit = a run whose "
                       "validation loss turns up while its training loss keeps falling")
    train.add_argument("--sentences", help="training sentences separated by '|' (default: the seed tutorial's three); "
                       "for classify, 'label: text' examples separated by '|'")
    train.add_argument("--text-file", help="train on a whole UTF-8 text file (windows + truncated BPTT)")
    train.add_argument("--data", help="classify: a .csv or .tsv file with the columns text and label "
                       "(default: the shipped assets/sentiment.csv)")
    train.add_argument("--level", choices=LEVELS, help="classify: a token is a word (default) or a character")
    train.add_argument("--max-vocab", type=_whole("--max-vocab", 3), help="classify: most frequent tokens kept "
                       "(default 10000, seed 002)")
    train.add_argument("--max-length", type=_positive_int("--max-length"), help="classify: tokens per example "
                       "(default: the longest, up to 100 words or 400 characters)")
    train.add_argument("--pool", choices=POOLS, help="classify: pooling over time (default max, seed 002)")
    train.add_argument("--window", type=_positive_int("--window"), help="characters per window for --text-file (default 64)")
    train.add_argument("--batch-size", type=_positive_int("--batch-size"),
                       help="examples per minibatch, shuffled every epoch (default: all at once; classify 32); "
                       "for --text-file, parallel streams (default 32)")
    train.add_argument("--valid-fraction", type=_fraction("--valid-fraction"),
                       help="hold this fraction out for validation (default: 0.2 for classify, the last 0.1 of a "
                       "text file of 10,000+ characters, none for typed sentences and sine)")
    train.add_argument("--sine-mode", choices=SINE_MODES, default=None)
    train.add_argument("--arch", choices=ARCHITECTURES)
    train.add_argument("--layers", type=_positive_int("--layers"), help=f"recurrent layers (1-{MAX_LAYERS})")
    train.add_argument("--hidden", type=_positive_int("--hidden"), help=f"hidden units per layer (1-{MAX_HIDDEN})")
    train.add_argument("--encoding", choices=ENCODINGS)
    train.add_argument("--embedding-dim", type=_positive_int("--embedding-dim"),
                       help="size of the learned embedding (classify default 32; the seed's is 128)")
    train.add_argument("--bidirectional", action=argparse.BooleanOptionalAction, default=None,
                       help="read each sequence both ways (classify default; sine next-value)")
    train.add_argument("--dropout", type=_number("--dropout", 0.0), help="dropout between layers and before the read-out (0-0.9)")
    train.add_argument("--epochs", type=_count("--epochs"), help=f"passes over the data (0-{MAX_EPOCHS})")
    train.add_argument("--lr", type=_number("--lr", 0.0, strictly=True), help="learning rate (> 0, at most 100)")
    train.add_argument("--optimizer", choices=OPTIMIZERS)
    train.add_argument("--clip", type=_number("--clip", 0.0), help="clip the gradient norm to this (0 = off)")
    train.add_argument("--xavier", action="store_true", help="Xavier initialisation (seed 002)")
    train.add_argument("--plateau", action="store_true", help="halve the learning rate when the loss stops falling")
    train.add_argument("--seed", type=_count("--seed"), default=None)
    train.add_argument("--device", default=None, help="auto (default), cpu, cuda, cuda:N or mps")
    train.add_argument("--save", help="write a checkpoint here when training ends")
    train.add_argument("--json", action="store_true", help="one JSON object per epoch on stdout")
    train.add_argument("--json-every", metavar="N", type=_positive_int("--json-every"),
                       help='with --json, also a row every N steps: {"event": "step", "step", "epoch", '
                       '"epoch_step", "steps_per_epoch", "loss", "grad_norm", "lr", "steps_per_s"}')
    train.add_argument("--resume", metavar="CHECKPOINT", help="go on training the network in this file for "
                       "--epochs more epochs, exactly as if it had never stopped")

    comp = sub.add_parser("complete", help="complete a prompt with a trained checkpoint")
    comp.add_argument("--checkpoint", required=True)
    comp.add_argument("--prompt", required=True)
    comp.add_argument("--length", type=_positive_int("--length"), default=15,
                      help="total length including the prompt (default 15, as in the seed)")
    comp.add_argument("--temperature", type=_number("--temperature", 0.0), default=0.0,
                      help="0 = greedy (default); higher = more surprising")
    comp.add_argument("--seed", type=_count("--seed"), default=0)
    comp.add_argument("--device", default="cpu")

    ins = sub.add_parser("inspect", help="look inside a text network as it reads a prompt: hidden states, gates, "
                         "the most likely next characters")
    ins.add_argument("--checkpoint", required=True)
    ins.add_argument("--prompt", required=True)
    ins.add_argument("--top-k", type=_positive_int("--top-k"), default=5,
                     help="how many candidates for the next character (default 5)")
    ins.add_argument("--json", action="store_true", help='one JSON object per prompt character: {"char", "top", '
                     '"hidden", "cell", "gates"}')
    ins.add_argument("--device", default="cpu")

    lesson = sub.add_parser("lesson", help="check a lesson file, or play it without a window")
    lesson_sub = lesson.add_subparsers(dest="lesson_command", parser_class=_Parser, required=True)
    check = lesson_sub.add_parser("check", help="check a lesson file and list its steps")
    check.add_argument("file")
    play = lesson_sub.add_parser("play", help="play every step of a lesson without a window and say what happened")
    play.add_argument("file")
    play.add_argument("--json", action="store_true", help="one JSON object per step, then one for the end")
    play.add_argument("--device", default="cpu", help="cpu (default: the numbers the lesson's text states), "
                      "auto, cuda, cuda:N or mps")

    exp = sub.add_parser("export-script", help="write a standalone plain-PyTorch train.py that trains the "
                         "network in a checkpoint from scratch with its settings and seed")
    exp.add_argument("--checkpoint", required=True)
    exp.add_argument("--out", required=True, metavar="FILE.py", help="where to write the script")

    cls = sub.add_parser("classify", help="classify a text with a trained classifier")
    cls.add_argument("--checkpoint", required=True)
    cls.add_argument("--text", required=True)
    cls.add_argument("--json", action="store_true", help='print {"label": ..., "probabilities": {...}}')
    cls.add_argument("--device", default="cpu")
    return parser


def default_classify_data() -> str | None:
    """The shipped data set, where this installation has it (a source checkout)."""
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "assets" / "sentiment.csv"
    return str(path) if path.is_file() else None


def config_from_args(args):
    from .core.config import PRESETS, defaults_for, validate
    from .core.errors import DataError

    if args.preset:
        cfg = PRESETS[args.preset]()
        if args.task is not None and args.task != cfg.task.kind:
            raise DataError(f"the {args.preset} preset is a {cfg.task.kind} task; drop --task {args.task}")
        args.task = cfg.task.kind
    else:
        args.task = args.task or "text"
        cfg = defaults_for(args.task, args.sine_mode or "next-value", args.arch)
    if args.arch:
        cfg.model.arch = args.arch
    classify_only = (("--data", args.data), ("--level", args.level), ("--max-vocab", args.max_vocab),
                     ("--max-length", args.max_length), ("--pool", args.pool))
    if args.task != "classify":
        for flag, value in classify_only:
            if value is not None:
                raise DataError(f"{flag} is for --task classify")
    if args.task != "sine" and args.sine_mode is not None:
        raise DataError("--sine-mode is for --task sine")
    if args.task == "sine":
        for flag, value in (("--sentences", args.sentences), ("--text-file", args.text_file),
                            ("--encoding", args.encoding), ("--window", args.window)):
            if value is not None:
                raise DataError(f"{flag} is for the text task; the sine task makes its own data (drop it, or use --task text)")
    if args.task == "classify":
        for flag, value in (("--text-file", args.text_file), ("--window", args.window)):
            if value is not None:
                raise DataError(f"{flag} is for the text task; classify reads --data (a .csv or .tsv file)")
        if args.data is not None and args.sentences is not None:
            raise DataError("give either --sentences or --data, not both")
        if args.sentences is not None:
            cfg.task.examples = args.sentences.split("|")
        elif args.data is not None:
            if not args.data.strip():
                raise DataError("--data is empty: give the path of a .csv or .tsv file")
            cfg.task.data_file = args.data
        elif not cfg.task.examples and not cfg.task.data_file:
            cfg.task.data_file = default_classify_data()
            if cfg.task.data_file is None:
                raise DataError("give --data FILE (a .csv or .tsv file with the columns text and label)")
        for attr, value in (("level", args.level), ("max_vocab", args.max_vocab), ("max_length", args.max_length)):
            if value is not None:
                setattr(cfg.task, attr, value)
        if args.pool is not None:
            cfg.model.pool = args.pool
    if args.task == "text":
        if args.text_file is not None and args.sentences is not None:
            raise DataError("give either --sentences or --text-file, not both")
        if args.text_file is not None:
            if not args.text_file.strip():
                raise DataError("--text-file is empty: give the path of a UTF-8 text file")
            cfg.task.text_file = args.text_file
        elif args.sentences is not None:
            cfg.task.sentences = args.sentences.split("|")
    m, tr, t = cfg.model, cfg.train, cfg.task
    batch_field = "batch_size" if t.kind == "text" and t.text_file else "batch_examples"
    for attr, obj, value in (("layers", m, args.layers), ("hidden", m, args.hidden), ("encoding", m, args.encoding),
                             ("dropout", m, args.dropout), ("epochs", tr, args.epochs), ("lr", tr, args.lr),
                             ("optimizer", tr, args.optimizer), ("clip", tr, args.clip), ("seed", tr, args.seed),
                             ("window", t, args.window), (batch_field, t, args.batch_size),
                             ("embedding_dim", m, args.embedding_dim), ("bidirectional", m, args.bidirectional),
                             ("valid_fraction", t, args.valid_fraction)):
        if value is not None:
            setattr(obj, attr, value)
    if args.xavier:
        m.init = "xavier"
    tr.plateau = bool(args.plateau) or tr.plateau
    tr.device = args.device or "auto"
    return validate(cfg)


class _Progress:
    """A one-line progress bar on stderr, redrawn at most 10 times a second.

    Within a long epoch (a text file: thousands of windows) it shows the
    step, characters per second and the time left, from the session's
    metric batches; it draws only on a terminal."""

    def __init__(self, total: int, stream=sys.stderr, trainer=None):
        self.total, self.stream = total, stream
        self.last_draw = 0.0
        self.start = time.perf_counter()
        self.enabled = stream.isatty() if hasattr(stream, "isatty") else False
        task = getattr(trainer, "task", None)
        self.steps_per_epoch = int(getattr(task, "steps_per_epoch", 1) or 1)
        # characters read per step: a text file's streams x window
        self.chars_per_step = (task.batch_size * task.window
                               if getattr(task, "mode", None) == "corpus" else 0)
        self.trainer = trainer

    def update(self, epoch: int, loss: float, steps: int, force: bool = False) -> None:
        """At the end of an epoch."""
        now = time.perf_counter()
        if not self.enabled or (not force and now - self.last_draw < 0.1):
            return
        self.last_draw = now
        rate = steps / max(now - self.start, 1e-9)
        self._draw(epoch, self.steps_per_epoch if self.steps_per_epoch > 1 else 0, loss, rate)

    def update_steps(self, batch) -> None:
        """From a ``StepBatch``: where the current epoch stands."""
        now = time.perf_counter()
        if not self.enabled or self.steps_per_epoch <= 1 or now - self.last_draw < 0.1 or not len(batch.loss):
            return
        self.last_draw = now
        position = getattr(self.trainer, "epoch_position", 0)
        self._draw(batch.epoch, position, float(batch.loss[-1]), batch.steps_per_s)

    def _draw(self, epoch: int, position: int, loss: float, rate: float) -> None:
        per_epoch = self.steps_per_epoch
        done = epoch + (position / per_epoch if per_epoch > 1 else 0.0)
        width = 30
        filled = min(width, int(width * done / self.total)) if self.total else width
        bar = "#" * filled + "-" * (width - filled)
        line = f"\r[{bar}] epoch {epoch}/{self.total}"
        if per_epoch > 1:
            line += f"  step {position:,}/{per_epoch:,}"
        line += f"  loss {loss:.4f}"
        if self.chars_per_step:
            line += f"  {rate * self.chars_per_step:,.0f} chars/s"
        else:
            line += f"  {rate:,.0f} steps/s"
        left_steps = (self.total - epoch) * per_epoch - position
        if rate > 0 and left_steps > 0:
            line += f"  {_duration(left_steps / rate)} left"
        self.stream.write(line + " ")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


JSON_FLUSH_S = 0.25  # --json rows reach a pipe at most this late (issue 12: a flush per epoch cost ~5%)


class _JsonRows:
    """--json rows on stdout, flushed on a timer rather than after every row:
    a reader on a pipe sees each row within a quarter of a second."""

    def __init__(self, out):
        self.out = out
        self.last_flush = time.perf_counter()

    def write(self, row: dict) -> None:
        self.out.write(json.dumps(row) + "\n")
        now = time.perf_counter()
        if now - self.last_flush >= JSON_FLUSH_S:
            self.out.flush()
            self.last_flush = now

    def flush(self) -> None:
        self.out.flush()
        self.last_flush = time.perf_counter()


def _epoch_extras(trainer, valid_loss, accuracy, valid_accuracy) -> dict:
    """The keys a JSON row gains: valid_loss with a split, accuracies for classify."""
    extra = {}
    if trainer.has_validation:
        extra["valid_loss"] = valid_loss
    if trainer.classify:
        extra["accuracy"] = accuracy
        if trainer.has_validation:
            extra["valid_accuracy"] = valid_accuracy
    return extra


def _trainer_for_resume(args):
    """The trainer saved in ``--resume``'s file, set to train --epochs more."""
    from .core.checkpoints import load_trainer
    from .core.devices import resolve_device
    from .core.errors import DataError

    given = [name for name, value in vars(args).items()
             if name not in RESUME_OPTIONS and name != "command" and value not in (None, False)]
    if given:
        flag = "--" + given[0].replace("_", "-")
        raise DataError(f"--resume goes on with the settings saved in the file; drop {flag}")
    if not args.resume.strip():
        raise DataError("--resume is empty: give the path of a checkpoint")
    if args.device:
        resolve_device(args.device)
    trainer = load_trainer(args.resume, device=args.device, require_data=True)
    more = args.epochs if args.epochs is not None else trainer.cfg.train.epochs
    trainer.cfg.train.epochs = trainer.epoch + more
    return trainer, more


def cmd_train(args) -> int:
    from .core.checkpoints import check_writable_folder, save_checkpoint
    from .core.errors import DataError
    from .core.events import Diverged, EpochEnded, StepBatch, StepEnded, Warned
    from .core.session import Session
    from .core.training import Trainer

    if args.json_every is not None and not args.json:
        raise DataError("--json-every is for --json: add --json, or drop --json-every")
    if args.resume is not None:
        if args.save:
            check_writable_folder(args.save)
        trainer, epochs_to_train = _trainer_for_resume(args)
        cfg = trainer.cfg
    else:
        cfg = config_from_args(args)
        if args.save:
            check_writable_folder(args.save)
        trainer = Trainer(cfg)
        epochs_to_train = cfg.train.epochs
    # Compute what is shown, when it is shown (issue 12): the CLI prints no
    # dLoss/dh_t, so it takes it only where it is free and changes no loss.
    from .core.models import traced_forward_is_plain

    trainer.trace_time_grads = traced_forward_is_plain(trainer.model, trainer.device)
    goal = trainer.epoch + epochs_to_train
    progress = None if args.json else _Progress(goal, trainer=trainer)
    out = sys.stdout
    rows = _JsonRows(out) if args.json else None
    # the window's loop, without its pause on divergence: a script has no
    # Resume button, so three skipped updates in a row end the run instead
    session = Session(trainer=trainer, epochs=goal, epoch_events=True, pause_on_divergence=False,
                      step_events_every=args.json_every or 0)
    final_loss = None
    final_extra: dict = {}
    diverged = False

    def on_event(event) -> None:
        nonlocal final_loss, final_extra, diverged
        if isinstance(event, EpochEnded):
            final_loss = event.loss
            final_extra = _epoch_extras(trainer, event.valid_loss, event.accuracy, event.valid_accuracy)
            if rows:
                rows.write({"epoch": event.epoch, "loss": event.loss, "grad_norm": event.grad_norm, "ms": event.ms,
                            **final_extra})
            else:
                progress.update(event.epoch, event.loss, event.steps, force=event.epoch == goal)
        elif isinstance(event, StepEnded):
            rows.write({"event": "step", "step": event.step, "epoch": event.epoch, "epoch_step": event.epoch_step,
                        "steps_per_epoch": event.steps_per_epoch, "loss": event.loss, "grad_norm": event.grad_norm,
                        "lr": event.lr, "steps_per_s": event.steps_per_s})
        elif isinstance(event, StepBatch):
            if progress:
                progress.update_steps(event)
        elif isinstance(event, Diverged):
            if rows:
                rows.flush()  # the rows before it, then the message
            sys.stderr.write(f"rnn-studio: step {event.step}: {event.reason}; update skipped "
                             f"(try a lower --lr or --clip)\n")
            if event.in_a_row >= 3 and not diverged:
                diverged = True
                sys.stderr.write("rnn-studio: error: training diverged: three updates in a row were non-finite; "
                                 f"lower the learning rate (now {event.lr:g}) or set --clip\n")
                session.request_stop()  # seen before the next step
        elif isinstance(event, Warned):
            sys.stderr.write(f"rnn-studio: warning: {event.message}\n")

    if epochs_to_train > 0:
        trainer.optimizer  # noqa: B018 - built (torch._dynamo imported) before the clock starts, as before
        from .core.resources import keep_freed_memory

        keep_freed_memory()  # large tensors reused, not mapped afresh each step
    start = time.perf_counter()
    try:
        session.run(on_event, reraise=True)
    finally:
        if rows:
            rows.flush()
    if diverged:
        return 1
    elapsed = time.perf_counter() - start
    if progress:
        progress.close()
    epochs = epochs_to_train
    if final_loss is None and epochs > 0:
        final_loss = trainer.evaluate_loss()
    written = save_checkpoint(trainer, args.save) if args.save else None
    ms_per_epoch = elapsed * 1000.0 / epochs if epochs else 0.0
    if args.json:
        out.write(json.dumps({"event": "done", "epochs": trainer.epoch, "final_loss": final_loss,
                              "ms_per_epoch": ms_per_epoch, **final_extra}) + "\n")
    else:
        what = "mean squared error" if cfg.task.kind == "sine" else "cross-entropy loss"
        if epochs == 0:
            out.write("0 epochs requested: nothing trained.\n")
        else:
            more = ""
            if final_extra.get("valid_loss") is not None:
                more += f"; validation {final_extra['valid_loss']:.4f}"
            if final_extra.get("accuracy") is not None:
                more += f"; accuracy {final_extra['accuracy']:.3f}"
                if final_extra.get("valid_accuracy") is not None:
                    more += f", validation accuracy {final_extra['valid_accuracy']:.3f}"
            out.write(f"trained {cfg.model.arch} on {trainer.device} for {epochs} epochs "
                      f"in {elapsed:.2f} s ({ms_per_epoch:.2f} ms/epoch); final {what} {final_loss:.4f}{more}\n")
        if args.save:
            through = f" (through the link {args.save})" if written != args.save else ""
            out.write(f"checkpoint saved to {written}{through}\n")
    out.flush()
    return 0


def cmd_complete(args) -> int:
    from .core.checkpoints import load_trainer
    from .core.devices import resolve_device
    from .core.errors import DataError
    from .core.generation import complete

    if args.prompt == "":
        raise DataError("the prompt is empty: type at least one character to start from")
    resolve_device(args.device)  # a device this machine lacks is the user's to fix, not the file's
    trainer = load_trainer(args.checkpoint, device=args.device, read_data=False)
    if trainer.task.kind != "text":
        what = "a classifier: use rnn-studio classify" if trainer.task.kind == "classify" else "a sine network"
        raise DataError(f"{args.checkpoint} holds {what}; complete needs a network trained on text")
    result = complete(trainer.model, trainer.vocab, args.prompt, args.length, args.temperature, args.seed)
    if result.unknown_chars:
        shown = ", ".join(repr(c) for c in result.unknown_chars)
        sys.stderr.write(f"rnn-studio: warning: the network never saw {shown}; treated as unknown\n")
    sys.stdout.write(result.text + "\n")
    return 0


def cmd_inspect(args) -> int:
    from .core.checkpoints import load_trainer
    from .core.devices import resolve_device
    from .core.errors import DataError
    from .core.inspection import read_text

    if args.prompt == "":
        raise DataError("the prompt is empty: type at least one character to look inside the network")
    resolve_device(args.device)
    trainer = load_trainer(args.checkpoint, device=args.device, read_data=False)
    if trainer.task.kind != "text":
        what = "a classifier" if trainer.task.kind == "classify" else "a sine network"
        raise DataError(f"{args.checkpoint} holds {what}; inspect reads prompts with a network trained on text")
    candidates = len(trainer.vocab) - 1  # the unknown index is never a candidate
    if args.top_k > candidates:
        raise DataError(f"--top-k must be at most {candidates}, the characters this network knows, got {args.top_k}")
    reading = read_text(trainer.model, trainer.vocab, args.prompt)
    if reading.unknown_chars:
        shown = ", ".join(repr(c) for c in reading.unknown_chars)
        sys.stderr.write(f"rnn-studio: warning: the network never saw {shown}; treated as unknown\n")
    out = sys.stdout
    if args.json:
        for row in reading.rows(args.top_k):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    else:
        out.write(_inspect_table(reading, args.top_k))
    out.flush()
    return 0


def _inspect_table(reading, top_k: int) -> str:
    """The readable form: per character, its probability before it was read,
    the likeliest next characters, |h_t| per layer and the top layer's mean gates."""
    chosen = reading.chosen_probabilities()
    layers = range(1, reading.layers + 1)
    gates = reading.gate_means()
    lines = [f"{reading.arch}, {reading.layers} layer{'s' if reading.layers > 1 else ''} of {reading.units} units; "
             + (f"gates averaged over the top layer's units: {', '.join(gates)}" if gates else reading.gates_reason)]
    header = ["t", "char", "p(char)", f"most likely next ({top_k})"] + [f"|h| L{k}" for k in layers]
    header += [f"{name}" for name in (gates or {})]
    rows = []
    for t, char in enumerate(reading.text):
        p = "" if t == 0 else f"{chosen[t]:.3f}"
        top = "  ".join(f"{c!r} {q:.3f}" for c, q in reading.top(t, top_k))
        norms = [f"{float((reading.hidden[k, t] ** 2).sum() ** 0.5):.3f}" for k in range(reading.layers)]
        means = [f"{float(v[-1, t]):.3f}" for v in (gates or {}).values()]
        rows.append([str(t), repr(char), p, top, *norms, *means])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fmt = lambda r: "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()  # noqa: E731
    lines += [fmt(header)] + [fmt(r) for r in rows]
    return "\n".join(lines) + "\n"


def cmd_classify(args) -> int:
    from .core.checkpoints import load_trainer
    from .core.devices import resolve_device
    from .core.errors import DataError

    if not args.text.strip():
        raise DataError("the text is empty: give a sentence to classify")
    resolve_device(args.device)
    trainer = load_trainer(args.checkpoint, device=args.device, read_data=False)
    if trainer.task.kind != "classify":
        raise DataError(f"{args.checkpoint} holds a network trained on the {trainer.task.kind} task, not a "
                        "classifier (train one with: rnn-studio train --task classify)")
    result = trainer.classify_text(args.text)
    if args.json:
        sys.stdout.write(json.dumps({"label": result.label, "probabilities": result.probabilities}) + "\n")
    else:
        if result.unknown:
            shown = ", ".join(repr(t) for t in result.unknown[:10])
            sys.stderr.write(f"rnn-studio: warning: the network never saw {shown}; treated as unknown\n")
        sys.stdout.write(result.label + "\n")
    return 0


def cmd_export_script(args) -> int:
    from .core.atomic import atomic_write, check_writable_folder
    from .core.checkpoints import read_config
    from .core.errors import DataError
    from .core.script_export import script_for

    if not args.out.strip():
        raise DataError("--out is empty: give the path of the script to write (e.g. train.py)")
    check_writable_folder(args.out)
    cfg = read_config(args.checkpoint)
    text = script_for(cfg)
    written = atomic_write(args.out, lambda fh: fh.write(text.encode("utf-8")))
    sys.stdout.write(f"script written to {written}; run it with: python {args.out}\n")
    return 0


def cmd_lesson(args) -> int:
    from .core.lessons import load_lesson

    lesson = load_lesson(args.file)
    out = sys.stdout
    if args.lesson_command == "check":
        out.write(f"{lesson.title}: {len(lesson.steps)} step{'s' if len(lesson.steps) != 1 else ''}, ok\n")
        for number, step in enumerate(lesson.steps, start=1):
            what = f" ({step.run} run)" if step.run != "none" else ""
            wait = f"; then {step.wait.describe()}" if step.wait else ""
            out.write(f"  {number}. {step.title}{what}{wait}\n")
        return 0
    from .core.devices import resolve_device
    from .core.lesson_player import play_lesson

    resolve_device(args.device)

    def on_step(outcome) -> None:
        out.write((json.dumps(outcome.to_dict()) if args.json else outcome.summary()) + "\n")
        out.flush()

    if not args.json:
        out.write(f"{lesson.title}\n")
    played = play_lesson(lesson, device=args.device, on_step=on_step)
    unmet = [s.index + 1 for s in played.steps if s.wait_met is False]
    if args.json:
        out.write(json.dumps({"event": "done", "seconds": played.seconds, "all_waits_met": not unmet}) + "\n")
    else:
        out.write(f"played {len(played.steps)} steps in {played.seconds:.1f} s\n")
    out.flush()
    if unmet:
        sys.stderr.write(f"rnn-studio: the wait of step{'s' if len(unmet) > 1 else ''} "
                         f"{', '.join(map(str, unmet))} was never met: the run ended first\n")
        return 1
    return 0


def open_studio(lesson: str | None = None) -> int:
    from .gui.app import run_app

    if lesson is None:
        return run_app()
    return run_app(lesson=lesson)


def _safe_streams() -> None:
    """Any text the user gave may come back out (a completion, a file name):
    bytes from a non-UTF-8 argument, or emoji on a console that cannot show
    them, must not end in a UnicodeEncodeError traceback."""
    for stream, errors in ((sys.stdout, None), (sys.stderr, "backslashreplace")):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        if errors is None:
            utf8 = (getattr(stream, "encoding", "") or "").lower().replace("-", "") == "utf8"
            errors = "surrogateescape" if utf8 else "replace"
        try:
            reconfigure(errors=errors)
        except (ValueError, OSError):
            pass


def main(argv=None) -> int:
    from .core.errors import DataError, StudioError

    _safe_streams()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.lesson is not None:
            if args.command is not None:
                raise DataError(f"--lesson opens the window on a lesson; it does not go with '{args.command}'")
            from .core.lessons import load_lesson

            load_lesson(args.lesson)  # refused here, with its line, before any window opens
            return open_studio(lesson=args.lesson)
        if args.command == "train":
            return cmd_train(args)
        if args.command == "complete":
            return cmd_complete(args)
        if args.command == "classify":
            return cmd_classify(args)
        if args.command == "inspect":
            return cmd_inspect(args)
        if args.command == "lesson":
            return cmd_lesson(args)
        if args.command == "export-script":
            return cmd_export_script(args)
        return open_studio()
    except StudioError as exc:
        sys.stderr.write(f"rnn-studio: error: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("\nrnn-studio: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
