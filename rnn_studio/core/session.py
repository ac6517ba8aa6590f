"""The step loop of one run: pause, step once, pace, and requests served between steps.

Qt-free, so the CLI, the tests and the window's worker all drive the same loop.
``Session.run(listener)`` blocks in the calling thread; every other method is
thread-safe and may be called from any thread while it runs. The listener
receives typed events (``core.events``) in the session's thread.

The pattern is Orange3's (``Orange/widgets/utils/concurrent.py``): the long
work is a plain loop that reports partial results and checks "was I asked to
stop?" between steps; minGPT's Trainer/callback split keeps the trainer
unaware of who watches. What we add: a pause that waits on a condition
variable (no CPU while paused), one-epoch steps, a pace whose wait any request
or Stop cuts short, and requests (a completion, a save, a new learning rate)
queued by other threads and applied between two steps, where the model and the
optimizer are not in use.

Metrics are batched (STYLE.md: a signal per 1 ms step would make the watcher,
not the network, the bottleneck): at most one ``StepBatch`` every
``flush_interval`` seconds, plus one whenever the run pauses or ends.

torch is imported only inside ``run`` (building or loading a trainer): the
window imports this module before torch has loaded.
"""

from __future__ import annotations

import collections
import math
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .config import RunConfig
from .errors import StudioError
from .events import (
    Classified,
    ClassifyRequest,
    CompleteRequest,
    Completion,
    Diverged,
    EpochEnded,
    EpochMetrics,
    Loaded,
    Paused,
    Predictions,
    RunEnded,
    RunStarted,
    Saved,
    SaveRequest,
    StepBatch,
    StepEnded,
    Warned,
)

if TYPE_CHECKING:
    from .training import StepReport, Trainer

FLUSH_INTERVAL_S = 0.04  # STYLE.md: metrics at most every 30-50 ms
# what the window watches (predictions here, the inside views' frames) waits at least
# this many times its own cost between two: at most ~5 % of training time each
WATCH_COST_FACTOR = 20
PREDICTIONS_INTERVAL_S = 0.15  # what the window's text/sine views need
RATE_WINDOW_S = 1.0  # steps per second are measured over about this long

Listener = Callable[[Any], None]


def divergence_message(reason: str, epoch: int, lr: float, clip: float) -> str:
    """One plain paragraph: what happened and what to try."""
    if clip > 0:
        advice = f"lower the learning rate or the gradient clip (now {clip:g})"
    else:
        advice = "lower the learning rate or turn on gradient clipping"
    return (
        f"{reason[0].upper()}{reason[1:]} at epoch {epoch} with learning rate {lr:g}: {advice}, "
        "then press Resume. Training is paused and the weights are kept at the last good state; "
        "if it happens again at once, press Reset to start from fresh weights."
    )


def _ignore(event) -> None:
    pass


class Session:
    """One run of a Trainer, stepped in the thread that calls ``run``.

    Where the trainer comes from:
      - ``cfg``: built at the start of ``run`` (so in the session's thread);
        settings it refuses end the run ``"rejected"`` with the reason.
      - ``trainer``: go on training that one (an opened checkpoint, the CLI's).
      - ``load_path`` (with ``train=False``): load that checkpoint, announce it
        with ``Loaded`` (or end ``"rejected"``), then serve requests.
    With ``train=False`` the session trains nothing: it serves the requests
    already queued and ends ``"idle"`` (answering prompts for a run whose own
    thread has ended).

    Training goes on until ``epochs`` (default: the config's) unless
    ``until_paused``; ``start_paused`` with ``epochs_to_step`` n trains n
    epochs, then pauses. ``pace`` (steps per second, None or 0 = flat out)
    slows a demo down. ``predictions_interval`` (seconds, None = never) sends
    ``Predictions`` at most that often (and at start, pause and end).
    ``epoch_events`` sends ``EpochEnded`` after every epoch. With
    ``pause_on_divergence=False`` a skipped step only sends ``Diverged`` and
    training goes on: the listener decides (the CLI stops after three).
    ``flat_out_flush_interval``: batches at most this often while training
    flat out (no pace): the window draws about once a second then, and each
    batch costs its GUI thread, which holds the GIL the training thread needs.
    ``thread_policy`` applies ``core.resources.apply_thread_policy``;
    ``tune_threads`` then measures one thread against torch's default while a
    larger model trains and keeps the faster (``resources.ThreadTuner``; the
    window's runs, not the CLI's: a thread count can change a sum's last bits).
    ``after_epoch``: callables ``(trainer, report)`` run between steps after
    every completed epoch (``evolution.EvolutionRecorder.session_hook()``); what
    one returns, if not None, goes to the listener as an event. None given:
    nothing more runs per step. ``step_events_every`` n > 0 sends ``StepEnded``
    after every n-th step (an update that was applied), before that step's
    ``EpochEnded``.
    """

    def __init__(
        self,
        cfg: RunConfig | None = None,
        *,
        trainer: Trainer | None = None,
        load_path: str | None = None,
        train: bool = True,
        start_paused: bool = False,
        epochs_to_step: int = 0,
        until_paused: bool = False,
        epochs: int | None = None,
        pace: float | None = None,
        flush_interval: float = FLUSH_INTERVAL_S,
        flat_out_flush_interval: float | None = None,
        predictions_interval: float | None = None,
        epoch_events: bool = False,
        pause_on_divergence: bool = True,
        thread_policy: bool = True,
        tune_threads: bool = False,
        after_epoch: tuple | list = (),
        step_events_every: int = 0,
    ):
        if cfg is None and trainer is None and load_path is None:
            raise ValueError("a Session needs a cfg, a trainer or a load_path")
        self.cfg = cfg
        self.trainer = trainer
        self.load_path = load_path
        self._train = train
        self._flush_interval = float(flush_interval)
        self._flat_out_flush_interval = None if flat_out_flush_interval is None else float(flat_out_flush_interval)
        self._predictions_interval = predictions_interval
        self._epoch_events = epoch_events
        self._pause_on_divergence = pause_on_divergence
        self._thread_policy = thread_policy
        self._tune_threads = tune_threads
        self.thread_tuner = None  # a resources.ThreadTuner while a tuned run trains
        self._after_epoch = tuple(after_epoch)
        self._step_events_every = max(0, int(step_events_every))
        self._cond = threading.Condition()
        self._commands: collections.deque = collections.deque()
        self._stop = threading.Event()
        self._closed = False
        self._listener: Listener = _ignore
        # touched only by the session's thread once run() has started
        self._paused = start_paused
        self._pause_requested = False
        self._epochs_to_step = epochs_to_step
        self._until_paused = until_paused
        self._epochs = epochs
        self._pace = _pace_value(pace)
        self._time_grad_every: int | None = None  # the run's own setting, while a slowed pace overrides it
        self._pending: tuple[list, list, list, list] = ([], [], [], [])  # step, loss, grad_norm, lr
        self._pending_epochs: list[EpochMetrics] = []
        self._last_report: StepReport | None = None
        self._last_time_grads = None
        self._last_time_grad_step: int | None = None
        self._last_flush = 0.0
        self._last_predictions = 0.0
        self._predictions_cost = 0.0
        self._active_s = 0.0
        self._active_since: float | None = None
        # (time, steps) after the first step of an active stretch, None before it
        self._rate_mark: tuple[float, int] | None = None
        self._rate_window_done = False  # a full RATE_WINDOW_S has been measured
        self._rate = 0.0
        self._skipped_in_a_row = 0
        self._epoch_grad_sum = 0.0
        self._epoch_grad_count = 0
        self._epoch_mark_s = 0.0  # training time when the last epoch ended

    # -- thread-safe controls (any thread) ---------------------------------------------
    def _post(self, command: tuple) -> bool:
        with self._cond:
            if self._closed:
                return False
            self._commands.append(command)
            self._cond.notify_all()
            return True

    def request_stop(self) -> None:
        """End the run before its next step; wakes a pause or a paced wait at once."""
        with self._cond:
            self._stop.set()
            self._cond.notify_all()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def request_pause(self) -> bool:
        return self._post(("pause",))

    def request_resume(self) -> bool:
        return self._post(("resume",))

    def request_step(self) -> bool:
        """Train one more epoch, then stay paused."""
        return self._post(("step",))

    def set_lr(self, lr: float) -> bool:
        """Applied before the next step; a value that is not a positive finite number is ignored."""
        return self._post(("lr", float(lr)))

    def set_clip(self, clip: float) -> bool:
        return self._post(("clip", float(clip)))

    def set_epochs(self, epochs: int, until_paused: bool = False) -> bool:
        return self._post(("epochs", int(epochs), bool(until_paused)))

    def set_pace(self, epochs_per_second: float | None) -> bool:
        """None or 0 = flat out; otherwise at most this many steps per second."""
        return self._post(("pace", _pace_value(epochs_per_second)))

    def request(self, item: CompleteRequest | ClassifyRequest | SaveRequest | Callable[[Trainer | None], Any]) -> bool:
        """Serve ``item`` between two steps: a ``CompleteRequest`` (answered with
        ``Completion``), a ``ClassifyRequest`` (answered with ``Classified``), a
        ``SaveRequest`` (answered with ``Saved``), or a callable given the trainer. Requests queued when the run ends are still
        served; False once it has ended (make a ``train=False`` session for it)."""
        if not (isinstance(item, (CompleteRequest, ClassifyRequest, SaveRequest)) or callable(item)):
            raise TypeError(f"cannot serve {item!r}: expected CompleteRequest, ClassifyRequest, SaveRequest or a callable")
        return self._post(("request", item))

    @property
    def closed(self) -> bool:
        """True once the run has ended and takes no more requests."""
        with self._cond:
            return self._closed

    # -- the loop (the caller's thread) ------------------------------------------------
    def run(self, listener: Listener | None = None, *, reraise: bool = False) -> RunEnded:
        """Run to the end, handing every event to ``listener`` in this thread.

        An exception inside the loop (a bug, CUDA out of memory) ends the run
        ``"failed"`` with its message, and its traceback goes to stderr; with
        ``reraise`` it is raised again after ``RunEnded`` instead (the CLI).
        ``RunEnded`` is always the last event; it is also returned."""
        self._listener = listener or _ignore
        state, message = "stopped", ""
        error: BaseException | None = None
        try:
            state, message = self._run()
            if self._train and self.trainer is not None and state in ("finished", "stopped"):
                self._set_active(False)
                self._flush()
                self._emit_predictions(force=True)
        except Exception as exc:
            if reraise:
                error = exc
            else:
                traceback.print_exc(file=sys.stderr)
            state, message = "failed", f"{type(exc).__name__}: {exc}"
            try:
                self._flush()
            except Exception:  # the data may be what broke; the message matters more
                pass
        finally:
            self._restore_time_grad_every()
            self._close_and_serve()
            trainer = self.trainer
            ended = RunEnded(
                state=state,
                message=message,
                serve_only=not self._train,
                epoch=None if trainer is None else trainer.epoch,
                steps=None if trainer is None else trainer.steps,
            )
            self._listener(ended)
        if error is not None:
            raise error
        return ended

    def _run(self) -> tuple[str, str]:
        if self.trainer is None and self.load_path is not None:
            return self._load()
        if self.trainer is None:
            from .training import Trainer  # the first import of torch, in this thread

            try:
                self.trainer = Trainer(self.cfg)
            except StudioError as exc:
                return "rejected", str(exc)
            if self._epochs is None:
                self._epochs = self.trainer.cfg.train.epochs
        if not self._train:
            return "idle", ""
        if self._epochs is None:
            self._epochs = self.trainer.cfg.train.epochs
        trainer = self.trainer
        emit = self._listener
        self._time_grad_every = getattr(trainer.cfg.train, "time_grad_every", None)
        self._apply_pace_to_trainer()
        if self._thread_policy:
            from .resources import apply_thread_policy

            # one torch thread for classroom-sized models: faster, and it leaves
            # the other core to the window (core.resources.threads_for says why)
            apply_thread_policy(trainer.parameter_count, getattr(trainer.device, "type", str(trainer.device)))
        if self._tune_threads:
            from .resources import ThreadTuner

            tuner = ThreadTuner(trainer.parameter_count, getattr(trainer.device, "type", str(trainer.device)))
            self.thread_tuner = tuner if tuner.active else None
        if self._until_paused or self._epochs_to_step or trainer.epoch < self._epochs:
            # built before the first step's clock starts (the first optimizer
            # imports torch._dynamo, ~1 s); a run with nothing to train never builds it
            getattr(trainer, "optimizer", None)
        emit(
            RunStarted(
                parameters=trainer.parameter_count,
                device=str(trainer.device),
                vocab_size=len(trainer.vocab) if trainer.vocab is not None else None,
                task=trainer.task.kind,
                mode=trainer.task.mode,
                epochs=self._epochs,
                steps_per_epoch=getattr(trainer.task, "steps_per_epoch", 1),
                has_validation=bool(getattr(trainer, "has_validation", False)),
            )
        )
        self._emit_predictions(force=True)
        commands, stop = self._commands, self._stop
        while True:
            if commands:  # a lock-free peek: a request posted just after is seen next step
                self._serve(block=False)
            if stop.is_set():
                return "stopped", ""
            if not self._until_paused and trainer.epoch >= self._epochs and self._epochs_to_step == 0:
                return "finished", ""
            if self._paused and self._epochs_to_step == 0:
                if self._pause_requested:  # just paused by a request: show where it stands
                    self._pause_requested = False
                    self._set_active(False)
                    self._flush()
                    self._emit_predictions(force=True)
                    emit(Paused("request"))
                self._serve(block=True)
                if self._paused and self._epochs_to_step == 0 and not stop.is_set():
                    self._flush()  # e.g. a new learning rate: show it
                continue
            if self._active_since is None:
                self._set_active(True)
            report = trainer.step()
            if self.thread_tuner is not None:
                self.thread_tuner.after_step(report.ms / 1000.0)
            now = self._record(report)
            if report.skipped:
                self._diverged(report)
                continue
            self._skipped_in_a_row = 0
            if report.warning:
                emit(Warned(report.warning))
            every = self._step_events_every
            if every and report.step % every == 0:
                self._step_ended(report)
            if report.epoch_done:
                if self._epoch_events:
                    self._epoch_ended(report)
                for hook in self._after_epoch:
                    self._run_hook(hook, report)
                if self._epochs_to_step > 0:
                    self._epochs_to_step -= 1
                    if self._epochs_to_step == 0:
                        self._paused = True
                        self._set_active(False)
                        self._flush()
                        self._emit_predictions(force=True)
                        emit(Paused("step"))
                        continue
            interval = self._flush_interval
            if self._flat_out_flush_interval is not None and self._pace <= 0:
                interval = max(interval, self._flat_out_flush_interval)
            if now - self._last_flush >= interval:
                self._flush()
            if self._predictions_interval is not None:
                self._emit_predictions()
            if self._pace > 0 and not self._paused:
                self._wait_pace(report.ms / 1000.0)

    def _diverged(self, report: StepReport) -> None:
        trainer = self.trainer
        self._skipped_in_a_row += 1
        epoch, lr, clip = trainer.epoch + 1, trainer.lr, trainer.cfg.train.clip
        message = divergence_message(report.skipped, epoch, lr, clip)
        if self._pause_on_divergence:
            self._paused = True
            self._epochs_to_step = 0
            self._set_active(False)
            self._flush()
            # the views show where the run stands now: the weights rolled back to the last good state
            self._emit_predictions(force=True)
        self._listener(Diverged(report.skipped, report.step, epoch, lr, clip, self._skipped_in_a_row, message))
        if self._pause_on_divergence:
            self._listener(Paused("diverged", message, epoch=epoch, lr=lr))

    def _step_ended(self, report: StepReport) -> None:
        trainer = self.trainer
        per_epoch = int(getattr(trainer.task, "steps_per_epoch", 1))
        self._listener(
            StepEnded(
                step=report.step,
                epoch=report.epoch,
                epoch_step=per_epoch if report.epoch_done else int(getattr(trainer, "epoch_position", 0)),
                steps_per_epoch=per_epoch,
                loss=report.loss,
                grad_norm=report.grad_norm,
                lr=report.lr,
                elapsed=self._training_seconds(),
                steps_per_s=self._rate,
            )
        )

    def _epoch_ended(self, report: StepReport) -> None:
        trainer_s = self._training_seconds()
        count = self._epoch_grad_count
        self._listener(
            EpochEnded(
                epoch=report.epoch,
                loss=report.epoch_loss,
                grad_norm=float(self._epoch_grad_sum / count) if count else math.nan,
                ms=(trainer_s - self._epoch_mark_s) * 1000.0,
                steps=report.step,
                valid_loss=report.valid_loss,
                accuracy=report.accuracy,
                valid_accuracy=report.valid_accuracy,
            )
        )
        self._epoch_grad_sum, self._epoch_grad_count = 0.0, 0
        self._epoch_mark_s = trainer_s

    def _run_hook(self, hook, report: StepReport) -> None:
        """An ``after_epoch`` callable; a failure is a warning, never the end of the run."""
        event = None

        def call():
            nonlocal event
            event = hook(self.trainer, report)

        error = self._answer("recording", call)
        if error:
            self._listener(Warned(error))
        elif event is not None:
            self._listener(event)

    def _wait_pace(self, step_s: float) -> None:
        """Wait the rest of 1/pace seconds; any request or Stop wakes it at once."""
        deadline = time.perf_counter() + max(0.0, 1.0 / self._pace - step_s)
        while not self._stop.is_set():
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return
            with self._cond:
                if not self._commands and not self._stop.is_set():
                    self._cond.wait(remaining)
                has_work = bool(self._commands)
            if has_work:
                self._serve(block=False)
                if self._paused or self._pace <= 0:
                    return
                deadline = min(deadline, time.perf_counter() + 1.0 / self._pace)

    def _load(self) -> tuple[str, str]:
        from .checkpoints import load_trainer

        try:
            trainer = load_trainer(self.load_path)
        except StudioError as exc:
            return "rejected", str(exc)
        except Exception as exc:  # a case the core does not know yet: still a message, never a crash
            traceback.print_exc(file=sys.stderr)
            return "rejected", f"{self.load_path} could not be opened ({type(exc).__name__}: {exc})"
        self.trainer = trainer
        self._epochs = trainer.cfg.train.epochs
        self._listener(
            Loaded(
                path=self.load_path,
                config=trainer.cfg.to_dict(),
                saved_config=RunConfig.from_dict(
                    getattr(trainer, "checkpoint_config", None) or trainer.cfg.to_dict()
                ).to_dict(),
                parameters=trainer.parameter_count,
                device=str(trainer.device),
                vocab_size=len(trainer.vocab) if trainer.vocab is not None else None,
                task=trainer.task.kind,
                mode=trainer.task.mode,
                epoch=trainer.epoch,
                steps=trainer.steps,
                notes=tuple(getattr(trainer, "load_notes", ()) or ()),
            )
        )
        # the views show what the opened network does (a classifier opened
        # without its data file has only a placeholder to show: nothing)
        if (trainer.task.kind == "sine" or trainer.task.mode == "sentences"
                or (trainer.task.kind == "classify" and not trainer.resume_blocker)):
            self._emit_predictions(force=True)
        return "idle", ""

    # -- requests (the session's thread) -------------------------------------------------
    def _serve(self, block: bool) -> None:
        """Apply queued requests; with ``block``, first wait for one (or Stop)."""
        with self._cond:
            if block:
                while not self._commands and not self._stop.is_set():
                    self._cond.wait()
            commands = list(self._commands)
            self._commands.clear()
        for command in commands:
            self._apply(command)

    def _apply(self, command: tuple) -> None:
        kind = command[0]
        trainer = self.trainer
        if kind == "pause":
            self._paused = True
            self._pause_requested = True
            self._epochs_to_step = 0
        elif kind == "resume":
            self._paused = False
            self._pause_requested = False
        elif kind == "step":
            self._paused = True
            self._epochs_to_step += 1
        elif kind == "lr":
            if trainer is not None and math.isfinite(command[1]) and command[1] > 0:
                trainer.set_lr(command[1])
        elif kind == "clip":
            if trainer is not None:
                trainer.set_clip(command[1])
        elif kind == "epochs":
            self._epochs, self._until_paused = command[1], command[2]
        elif kind == "pace":
            self._pace = command[1]
            self._apply_pace_to_trainer()
        elif kind == "request":
            self._serve_request(command[1])

    def _serve_request(self, item) -> None:
        if isinstance(item, CompleteRequest):
            self._complete(item)
        elif isinstance(item, ClassifyRequest):
            self._classify(item)
        elif isinstance(item, SaveRequest):
            self._save(item)
        else:
            error = self._answer("request", lambda: item(self.trainer))
            if error:
                self._listener(Warned(error))

    def _apply_pace_to_trainer(self) -> None:
        """A slowed demo measures dLoss/dh_t (the "Back through time" bars) every
        step: the unrolled pass costs nothing next to the wait between steps.
        Flat out, the run's own interval keeps training fast."""
        if self.trainer is None or self._time_grad_every is None:
            return
        self.trainer.cfg.train.time_grad_every = 1 if self._pace > 0 else self._time_grad_every

    def _restore_time_grad_every(self) -> None:
        """The trainer outlives this run (the next run, a save served after
        it): give it back its own interval, for good."""
        if self.trainer is not None and self._time_grad_every is not None:
            self.trainer.cfg.train.time_grad_every = self._time_grad_every
        self._time_grad_every = None

    @staticmethod
    def _answer(what: str, action: Callable[[], Any]) -> str | None:
        """Run ``action``; any failure comes back in plain words: a request
        must never end the run."""
        try:
            action()
        except StudioError as exc:
            return str(exc)
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            return f"the {what} failed: {type(exc).__name__}: {exc}"
        return None

    def _complete(self, request: CompleteRequest) -> None:
        trainer = self.trainer
        answer = {"text": "", "prompt": request.prompt, "unknown": []}
        if trainer is None:
            error = "there is no trained network yet: press Train first"
        elif getattr(trainer, "classify", False):
            error = "this network classifies sentences; it does not complete them"
        else:
            from .generation import complete

            def run_completion():
                result = complete(
                    trainer.model,
                    trainer.vocab,
                    request.prompt,
                    length=int(request.length),
                    temperature=float(request.temperature),
                    seed=request.seed,
                )
                answer.update(text=result.text, prompt=result.prompt, unknown=list(result.unknown_chars))

            error = self._answer("completion", run_completion)
        self._listener(Completion(id=request.id, length=request.length, error=error, **answer))

    def _classify(self, request: ClassifyRequest) -> None:
        trainer = self.trainer
        answer = {"label": "", "probabilities": {}, "unknown": [], "tokens": []}
        if trainer is None:
            error = "there is no trained network yet: press Train first"
        else:

            def run_classification():
                result = trainer.classify_text(request.text)
                answer.update(label=result.label, probabilities=dict(result.probabilities),
                              unknown=list(result.unknown), tokens=list(result.tokens))

            error = self._answer("classification", run_classification)
        self._listener(Classified(id=request.id, text=request.text, error=error, **answer))

    def _save(self, request: SaveRequest) -> None:
        trainer = self.trainer
        saved_epoch = None
        written = None
        if trainer is None:
            error = "there is no trained network to save yet: press Train first"
        else:
            from .checkpoints import save_checkpoint

            def write():
                nonlocal saved_epoch, written
                if self._epochs is not None:  # the run's goal as it stands now (it may have changed live)
                    trainer.cfg.train.epochs = int(self._epochs)
                if self._time_grad_every is not None:  # the file keeps the run's setting, not the pace's
                    trainer.cfg.train.time_grad_every = self._time_grad_every
                try:
                    written = save_checkpoint(trainer, request.path, request.history)
                finally:
                    self._apply_pace_to_trainer()
                saved_epoch = trainer.epoch

            error = self._answer("save", write)
        self._listener(Saved(id=request.id, path=request.path, epoch=saved_epoch, error=error, written=written))

    def _close_and_serve(self) -> None:
        """Refuse new requests, then answer the requests already queued."""
        with self._cond:
            self._closed = True
            commands = list(self._commands)
            self._commands.clear()
        for command in commands:
            if command[0] == "request":
                try:
                    self._serve_request(command[1])
                except Exception:  # never let a leftover request hide the run's end
                    traceback.print_exc(file=sys.stderr)

    # -- metrics --------------------------------------------------------------------------
    def _training_seconds(self) -> float:
        if self._active_since is None:
            return self._active_s
        return self._active_s + (time.perf_counter() - self._active_since)

    def _set_active(self, active: bool) -> None:
        now = time.perf_counter()
        if active and self._active_since is None:
            self._active_since = now
            self._rate_mark = None  # the first step after a start or a pause is left out
        elif not active and self._active_since is not None:
            self._active_s += now - self._active_since
            self._active_since = None

    def _record(self, report: StepReport) -> float:
        """Keep the step's numbers for the next batch; returns the time now."""
        self._last_report = report
        # a skipped step is NaN/inf by definition: it never reaches a plot
        if report.skipped is None and math.isfinite(report.loss) and math.isfinite(report.grad_norm):
            steps, losses, grad_norms, lrs = self._pending
            steps.append(report.step)
            losses.append(report.loss)
            grad_norms.append(report.grad_norm)
            lrs.append(report.lr)
        if report.epoch_done:
            self._pending_epochs.append(EpochMetrics(report.epoch, report.epoch_loss, report.valid_loss,
                                                     report.accuracy, report.valid_accuracy))
        if report.skipped is None and self._epoch_events:
            self._epoch_grad_sum += report.grad_norm
            self._epoch_grad_count += 1
        if report.time_grad_norms:
            values = np.asarray(report.time_grad_norms, dtype=np.float64)
            if np.all(np.isfinite(values)):
                self._last_time_grads = values
                self._last_time_grad_step = report.step
        now = time.perf_counter()
        steps = self.trainer.steps
        mark = self._rate_mark
        if mark is None:
            # the first step warms up (allocations, torch's first-call paths): an
            # LSTM's can take 20x a later one, so the rate starts after it
            self._rate_mark = (now, steps)
        else:
            start, steps_then = mark
            span = now - start
            if span >= RATE_WINDOW_S:
                self._rate = (steps - steps_then) / span
                self._rate_mark = (now, steps)
                self._rate_window_done = True
            elif not self._rate_window_done and span > 0:
                # a short run never fills a window: its rate so far, first step left out
                self._rate = (steps - steps_then) / span
        return now

    def _flush(self) -> None:
        self._last_flush = time.perf_counter()
        report = self._last_report
        trainer = self.trainer
        if trainer is None:
            return
        param_norms = {}
        if report is not None and report.skipped is None:
            param_norms = {k: v for k, v in report.param_grad_norms.items() if math.isfinite(v)}
        steps, losses, grad_norms, lrs = self._pending
        batch = StepBatch(
            step=np.asarray(steps, dtype=np.float64),
            loss=np.asarray(losses, dtype=np.float64),
            grad_norm=np.asarray(grad_norms, dtype=np.float64),
            lr=np.asarray(lrs, dtype=np.float64),
            steps=trainer.steps,
            epoch=trainer.epoch,
            epochs=self._epochs,
            until_paused=self._until_paused,
            lr_now=trainer.lr,
            elapsed=self._training_seconds(),
            steps_per_s=self._rate,
            param_grad_norms=param_norms,
            time_grad_norms=self._last_time_grads,
            epochs_done=tuple(self._pending_epochs),
            time_grad_step=self._last_time_grad_step,
        )
        for values in self._pending:
            values.clear()
        self._pending_epochs.clear()
        self._listener(batch)

    def _emit_predictions(self, force: bool = False) -> None:
        interval = self._predictions_interval
        if interval is None or self.trainer is None:
            return
        now = time.perf_counter()
        if not force and now - self._last_predictions < max(interval, WATCH_COST_FACTOR * self._predictions_cost):
            return
        data = self.trainer.predictions()
        self._last_predictions = time.perf_counter()
        self._predictions_cost = self._last_predictions - now
        if data.get("kind") == "sine":
            for key in ("input", "target", "predicted", "rollout"):
                if key in data:
                    data[key] = np.nan_to_num(np.asarray(data[key], dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        self._listener(Predictions(data, self.trainer.epoch))


def _pace_value(epochs_per_second: float | None) -> float:
    if epochs_per_second is None:
        return 0.0
    value = float(epochs_per_second)
    return value if math.isfinite(value) and value > 0 else 0.0
