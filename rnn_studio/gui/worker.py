"""The training worker: runs the core Trainer in a QThread, one step at a time.

Orange3's pattern: the work is a loop that reports progress and checks "was I
asked to stop?" between steps. The GUI never touches the model: it asks for
things (pause, one more epoch, a new learning rate, a completion) through the
thread-safe methods below, which queue a command and wake the loop; the loop
serves them between two steps. Results travel back as Qt signals, batched so
that a 1 ms step does not turn into a signal per step (at most one metrics
signal every ``METRICS_INTERVAL_S``).

Stopping is a ``threading.Event`` checked between steps; pausing waits on a
condition variable, so a paused run uses no CPU. The window owns one
``RunHandle`` (worker + QThread) per run; ``RunHandle.stop`` sets the event,
quits the thread and waits for it. Never ``terminate()``.

Every payload is a dict carrying ``"run"``: the window drops signals from a
run it has already left (a signal queued just before Stop may arrive after).

torch is imported only inside the functions that run in the worker thread (and
by ``DeviceScan``/``warm_up_in_background``), never when this module loads: the
window paints first and torch loads behind it. A Train pressed before that
import has finished simply waits on it in the worker thread.

Files: a save is a request like a completion (served between steps, or by a
serve-only worker once the run has ended); opening a checkpoint is a worker
with ``load_path`` and ``train=False``: it loads in its own thread, announces
the network with ``loaded`` and then answers requests like any ended run.
"""

from __future__ import annotations

import collections
import math
import sys
import threading
import time
import traceback
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..core.config import RunConfig
from ..core.errors import StudioError
from ..core.resources import apply_thread_policy

if TYPE_CHECKING:  # torch loads in the worker thread, not when the window imports this
    from ..core.training import Trainer

METRICS_INTERVAL_S = 0.04  # the brief: batches at most every 30-50 ms
PREDICTIONS_MIN_INTERVAL_S = 0.15  # the text/sine views do not need more
RATE_WINDOW_S = 1.0  # steps per second are measured over about this long


_warm_up_started = threading.Event()


def warm_up_in_background() -> None:
    """Import, off the GUI thread, what the first Trainer would import on Train.

    torch imports ``torch._dynamo`` (about 2 s) the first time an optimizer is
    built; doing it while the window opens makes Train plot its first point
    within a few hundred milliseconds. Only modules are loaded here: no model,
    no tensor the worker uses. A daemon thread, so it never delays quitting.
    """
    if _warm_up_started.is_set():
        return
    _warm_up_started.set()
    threading.Thread(target=_warm_up_imports, name="rnn-studio-warm-up", daemon=True).start()


def _warm_up_imports() -> None:
    try:
        import torch._dynamo  # noqa: F401
    except Exception:  # a later import reports any real problem where it matters
        pass


def device_choices() -> dict:
    """What the device list offers: {"devices": [(name, label)], "unavailable": {kind: why}}.
    Imports torch: call it off the GUI thread unless torch has already loaded."""
    from ..core.devices import available_devices, unavailable_reasons

    return {
        "devices": [(info.name, info.label) for info in available_devices()],
        "unavailable": unavailable_reasons(),
    }


class DeviceScan(QObject):
    """Imports torch on a daemon thread, lists the devices, reports them with
    ``found`` (delivered queued to the GUI thread), then warms up the rest of
    torch as ``warm_up_in_background`` does. Used by ``MainWindow(defer_torch=True)``
    once the window has painted."""

    found = Signal(object)  # device_choices(), or {"devices": [("cpu", "CPU")], "unavailable": {}, "error": ...}

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._started = False

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        threading.Thread(target=self._scan, name="rnn-studio-device-scan", daemon=True).start()

    def _scan(self) -> None:
        try:
            choices = device_choices()
        except Exception as exc:  # a broken torch install: the CPU entry stays, Train says what is wrong
            choices = {"devices": [("cpu", "CPU")], "unavailable": {}, "error": f"{type(exc).__name__}: {exc}"}
        try:
            self.found.emit(choices)
        except RuntimeError:  # the window (and this object with it) is already gone
            return
        if not _warm_up_started.is_set():
            _warm_up_started.set()
            _warm_up_imports()


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


class TrainingWorker(QObject):
    """One run: builds the Trainer (in the worker thread) and steps it.

    ``trainer`` given and ``train=False``: a serve-only worker that answers the
    queued requests (completions, saves) for a run whose own thread has ended,
    then exits. ``load_path`` and ``train=False``: load that checkpoint in the
    worker thread, emit ``loaded`` (or end "rejected" with the reason), then
    serve like a serve-only worker. ``trainer`` and ``train=True``: go on
    training that network (an opened checkpoint) up to ``epochs``.
    """

    runStarted = Signal(object)  # {"run", "parameters", "device", "vocab_size", "task", "mode"}
    metrics = Signal(object)  # batched arrays, see _flush
    predictions = Signal(object)  # Trainer.predictions() + "run", "epoch"
    completed = Signal(object)  # {"run", "id", "text", "prompt", "unknown", "error"}
    paused = Signal(object)  # {"run", "reason": "request"|"step"|"diverged", "message"}
    warned = Signal(object)  # {"run", "message"}
    ended = Signal(object)  # {"run", "state": finished|stopped|failed|rejected|idle, "message", "serve_only"}
    saved = Signal(object)  # {"run", "id", "path", "epoch", "error"}
    # {"run", "path", "config", "saved_config", "parameters", "device", "vocab_size", "task", "mode", "epoch", "steps"}
    loaded = Signal(object)

    def __init__(
        self,
        run_id: int,
        cfg: RunConfig | None = None,
        *,
        trainer: Trainer | None = None,
        train: bool = True,
        start_paused: bool = False,
        epochs_to_step: int = 0,
        until_paused: bool = False,
        epochs: int | None = None,
        pace: float = 0.0,
        load_path: str | None = None,
    ):
        super().__init__()
        self.run_id = run_id
        self.cfg = cfg
        self.trainer = trainer
        self.load_path = load_path
        self._train = train
        self._cond = threading.Condition()
        self._commands: collections.deque = collections.deque()
        self._stop = threading.Event()
        self._closed = False
        # touched only by the worker thread once run() has started
        self._paused = start_paused
        self._pause_requested = False
        self._epochs_to_step = epochs_to_step
        self._until_paused = until_paused
        self._epochs = epochs
        self._pace = pace
        self._time_grad_every: int | None = None  # the run's own setting, while a slowed pace overrides it
        self._pending: dict[str, list] = {k: [] for k in ("step", "loss", "grad_norm", "lr")}
        self._last_report = None
        self._last_time_grads = None
        self._last_flush = 0.0
        self._last_predictions = 0.0
        self._predictions_cost = 0.0
        self._active_s = 0.0
        self._active_since: float | None = None
        self._rate_mark = (0.0, 0)
        self._rate = 0.0

    # -- thread-safe requests (called from the GUI thread) --------------------------
    def _post(self, command: tuple) -> bool:
        with self._cond:
            if self._closed:
                return False
            self._commands.append(command)
            self._cond.notify_all()
            return True

    def request_stop(self) -> None:
        with self._cond:
            self._stop.set()
            self._cond.notify_all()

    def request_pause(self) -> bool:
        return self._post(("pause",))

    def request_resume(self) -> bool:
        return self._post(("resume",))

    def request_step(self) -> bool:
        """Train one more epoch, then stay paused."""
        return self._post(("step",))

    def request_lr(self, lr: float) -> bool:
        return self._post(("lr", float(lr)))

    def request_clip(self, clip: float) -> bool:
        return self._post(("clip", float(clip)))

    def request_epochs(self, epochs: int, until_paused: bool) -> bool:
        return self._post(("epochs", int(epochs), bool(until_paused)))

    def request_pace(self, epochs_per_second: float) -> bool:
        """0 = flat out; otherwise at most this many steps per second."""
        return self._post(("pace", float(epochs_per_second)))

    def request_completion(self, request: dict) -> bool:
        """False when this worker has ended: start a serve-only worker instead."""
        return self._post(("complete", dict(request)))

    def request_save(self, request: dict) -> bool:
        """Save the network to ``request["path"]`` between two steps (atomic);
        the answer is ``saved``. False when this worker has ended."""
        return self._post(("save", dict(request)))

    @property
    def closed(self) -> bool:
        with self._cond:
            return self._closed

    # -- the loop (worker thread) ---------------------------------------------------
    @Slot()
    def run(self) -> None:
        state, message = "stopped", ""
        try:
            state, message = self._run()
            if self._train and self.trainer is not None and state in ("finished", "stopped"):
                self._set_active(False)
                self._flush()
                self._emit_predictions(force=True)
        except Exception as exc:  # a bug, or e.g. CUDA out of memory: end the run, keep the app alive
            traceback.print_exc(file=sys.stderr)
            state, message = "failed", f"{type(exc).__name__}: {exc}"
            try:
                self._flush()
            except Exception:  # the data may be what broke; the message matters more
                pass
        finally:
            self._restore_time_grad_every()
            self._close_and_serve()
            self.ended.emit({"run": self.run_id, "state": state, "message": message, "serve_only": not self._train})
            thread = QThread.currentThread()
            if thread is not None:
                thread.quit()

    def _run(self) -> tuple[str, str]:
        if self.trainer is None and self.load_path is not None:
            return self._load()
        if self.trainer is None:
            from ..core.training import Trainer  # waits here if torch is still loading

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
        self._time_grad_every = getattr(trainer.cfg.train, "time_grad_every", None)
        self._apply_pace_to_trainer()
        # one torch thread for classroom-sized models: faster, and it leaves
        # the other core to the window (core.resources.threads_for says why)
        apply_thread_policy(trainer.parameter_count, getattr(trainer.device, "type", str(trainer.device)))
        info = {
            "run": self.run_id,
            "parameters": trainer.parameter_count,
            "device": str(trainer.device),
            "vocab_size": len(trainer.vocab) if trainer.vocab is not None else None,
            "task": trainer.task.kind,
            "mode": trainer.task.mode,
            "epochs": self._epochs,
        }
        self.runStarted.emit(info)
        self._emit_predictions(force=True)
        now = time.perf_counter()
        self._rate_mark = (now, trainer.steps)
        while True:
            self._serve(block=False)
            if self._stop.is_set():
                return "stopped", ""
            if not self._until_paused and trainer.epoch >= self._epochs and self._epochs_to_step == 0:
                return "finished", ""
            if self._paused and self._epochs_to_step == 0:
                if self._pause_requested:  # just paused by the user: show where it stands
                    self._pause_requested = False
                    self._set_active(False)
                    self._flush()
                    self._emit_predictions(force=True)
                    self.paused.emit({"run": self.run_id, "reason": "request", "message": ""})
                self._serve(block=True)
                if self._paused and self._epochs_to_step == 0 and not self._stop.is_set():
                    self._flush()  # e.g. a new learning rate: show it
                continue
            self._set_active(True)
            report = trainer.step()
            self._record(report)
            if report.skipped:
                self._paused = True
                self._epochs_to_step = 0
                self._set_active(False)
                self._flush()
                message = divergence_message(report.skipped, trainer.epoch + 1, trainer.lr, trainer.cfg.train.clip)
                self.paused.emit(
                    {
                        "run": self.run_id,
                        "reason": "diverged",
                        "message": message,
                        "epoch": trainer.epoch + 1,
                        "lr": trainer.lr,
                    }
                )
                continue
            if report.warning:
                self.warned.emit({"run": self.run_id, "message": report.warning})
            if report.epoch_done and self._epochs_to_step > 0:
                self._epochs_to_step -= 1
                if self._epochs_to_step == 0:
                    self._paused = True
                    self._set_active(False)
                    self._flush()
                    self._emit_predictions(force=True)
                    self.paused.emit({"run": self.run_id, "reason": "step", "message": ""})
                    continue
            now = time.perf_counter()
            if now - self._last_flush >= METRICS_INTERVAL_S:
                self._flush()
            self._emit_predictions()
            if self._pace > 0 and not self._paused:
                self._wait_pace(report.ms / 1000.0)

    def _wait_pace(self, step_s: float) -> None:
        """Sleep the rest of 1/pace seconds; any request or Stop wakes it."""
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
        from ..core.checkpoints import load_trainer

        try:
            trainer = load_trainer(self.load_path)
        except StudioError as exc:
            return "rejected", str(exc)
        except Exception as exc:  # a case the core does not know yet: still a message, never a crash
            traceback.print_exc(file=sys.stderr)
            return "rejected", f"{self.load_path} could not be opened ({type(exc).__name__}: {exc})"
        self.trainer = trainer
        self._epochs = trainer.cfg.train.epochs
        self.loaded.emit(
            {
                "run": self.run_id,
                "path": self.load_path,
                "config": trainer.cfg.to_dict(),  # what the network runs with
                "saved_config": RunConfig.from_dict(getattr(trainer, "checkpoint_config", None)
                                                    or trainer.cfg.to_dict()).to_dict(),  # what the file says
                "parameters": trainer.parameter_count,
                "device": str(trainer.device),
                "vocab_size": len(trainer.vocab) if trainer.vocab is not None else None,
                "task": trainer.task.kind,
                "mode": trainer.task.mode,
                "epoch": trainer.epoch,
                "steps": trainer.steps,
            }
        )
        if trainer.task.kind == "sine" or trainer.task.mode == "sentences":
            self._emit_predictions(force=True)  # the views show what the opened network does
        return "idle", ""

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
            self._pace = max(0.0, command[1])
            self._apply_pace_to_trainer()
        elif kind == "complete":
            self._complete(command[1])
        elif kind == "save":
            self._save(command[1])

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

    def _answer(self, reply: dict, what: str, action) -> None:
        """Run ``action`` (a completion or a save), putting any failure into
        ``reply["error"]`` in plain words: a request must never end the run."""
        try:
            action()
        except StudioError as exc:
            reply["error"] = str(exc)
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            reply["error"] = f"the {what} failed: {type(exc).__name__}: {exc}"

    def _complete(self, request: dict) -> None:
        reply = {
            "run": self.run_id,
            "id": request.get("id"),
            "text": "",
            "prompt": request.get("prompt", ""),
            "unknown": [],
            "length": request.get("length", 15),
            "error": None,
        }
        trainer = self.trainer
        if trainer is None:
            reply["error"] = "there is no trained network yet: press Train first"
        else:
            from ..core.generation import complete

            def answer():
                result = complete(
                    trainer.model,
                    trainer.vocab,
                    request.get("prompt", ""),
                    length=int(request.get("length", 15)),
                    temperature=float(request.get("temperature", 0.0)),
                    seed=request.get("seed"),
                )
                reply.update(text=result.text, prompt=result.prompt, unknown=list(result.unknown_chars))

            self._answer(reply, "completion", answer)
        self.completed.emit(reply)

    def _save(self, request: dict) -> None:
        reply = {"run": self.run_id, "id": request.get("id"), "path": request.get("path", ""), "epoch": None,
                 "error": None}
        trainer = self.trainer
        if trainer is None:
            reply["error"] = "there is no trained network to save yet: press Train first"
        else:
            from ..core.checkpoints import save_checkpoint

            def write():
                if self._epochs is not None:  # the run's goal as it stands now (it may have changed live)
                    trainer.cfg.train.epochs = int(self._epochs)
                if self._time_grad_every is not None:  # the file keeps the run's setting, not the pace's
                    trainer.cfg.train.time_grad_every = self._time_grad_every
                try:
                    save_checkpoint(trainer, reply["path"])
                finally:
                    self._apply_pace_to_trainer()
                reply["epoch"] = trainer.epoch

            self._answer(reply, "save", write)
        self.saved.emit(reply)

    def _close_and_serve(self) -> None:
        """Refuse new requests, then answer the completions and saves already queued."""
        with self._cond:
            self._closed = True
            commands = list(self._commands)
            self._commands.clear()
        for command in commands:
            if command[0] in ("complete", "save"):
                try:
                    self._apply(command)
                except Exception:  # never let a leftover request hide the run's end
                    traceback.print_exc(file=sys.stderr)

    # -- metrics ----------------------------------------------------------------------
    def _set_active(self, active: bool) -> None:
        now = time.perf_counter()
        if active and self._active_since is None:
            self._active_since = now
            self._rate_mark = (now, self.trainer.steps)
        elif not active and self._active_since is not None:
            self._active_s += now - self._active_since
            self._active_since = None

    def _record(self, report) -> None:
        self._last_report = report
        # a skipped step is NaN/inf by definition: it never reaches a plot
        if report.skipped is None and math.isfinite(report.loss) and math.isfinite(report.grad_norm):
            pending = self._pending
            pending["step"].append(report.step)
            pending["loss"].append(report.loss)
            pending["grad_norm"].append(report.grad_norm)
            pending["lr"].append(report.lr)
        if report.time_grad_norms:
            values = np.asarray(report.time_grad_norms, dtype=np.float64)
            if np.all(np.isfinite(values)):
                self._last_time_grads = values
        now = time.perf_counter()
        start, steps = self._rate_mark
        if now - start >= RATE_WINDOW_S:
            self._rate = (self.trainer.steps - steps) / (now - start)
            self._rate_mark = (now, self.trainer.steps)
        elif self._rate == 0.0 and now - start > 0.05:
            self._rate = (self.trainer.steps - steps) / (now - start)

    def _flush(self) -> None:
        self._last_flush = time.perf_counter()
        report = self._last_report
        trainer = self.trainer
        if trainer is None:
            return
        pending = self._pending
        elapsed = self._active_s + ((time.perf_counter() - self._active_since) if self._active_since else 0.0)
        param_norms = {}
        if report is not None and report.skipped is None:
            param_norms = {k: v for k, v in report.param_grad_norms.items() if math.isfinite(v)}
        payload = {
            "run": self.run_id,
            "step": np.asarray(pending["step"], dtype=np.float64),
            "loss": np.asarray(pending["loss"], dtype=np.float64),
            "grad_norm": np.asarray(pending["grad_norm"], dtype=np.float64),
            "lr": np.asarray(pending["lr"], dtype=np.float64),
            "steps": trainer.steps,
            "epoch": trainer.epoch,
            "epochs": self._epochs,
            "until_paused": self._until_paused,
            "lr_now": trainer.lr,
            "elapsed": elapsed,
            "steps_per_s": self._rate,
            "param_grad_norms": param_norms,
            "time_grad_norms": self._last_time_grads,
        }
        for values in pending.values():
            values.clear()
        self.metrics.emit(payload)

    def _emit_predictions(self, force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self._last_predictions < max(PREDICTIONS_MIN_INTERVAL_S, 10 * self._predictions_cost):
            return
        start = time.perf_counter()
        data = self.trainer.predictions()
        self._predictions_cost = time.perf_counter() - start
        self._last_predictions = time.perf_counter()
        if data.get("kind") == "sine":
            for key in ("input", "target", "predicted", "rollout"):
                if key in data:
                    data[key] = np.nan_to_num(np.asarray(data[key], dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        data["run"] = self.run_id
        data["epoch"] = self.trainer.epoch
        self.predictions.emit(data)


class RunHandle:
    """A worker and the QThread it lives in; created and used in the GUI thread."""

    def __init__(self, worker: TrainingWorker, parent: QObject | None = None):
        self.worker = worker
        self.thread = QThread(parent)
        self.thread.setObjectName(f"trainingThread{worker.run_id}")
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.run)

    def start(self) -> None:
        self.thread.start()

    def is_running(self) -> bool:
        try:
            return self.thread.isRunning()
        except RuntimeError:  # the C++ object is already gone
            return False

    def stop(self, timeout_ms: int = 1000) -> bool:
        """Ask the loop to stop, then wait for the thread. True when it ended."""
        self.worker.request_stop()
        return self.wait(timeout_ms)

    def wait(self, timeout_ms: int | None = None) -> bool:
        if not self.is_running():
            return True
        self.thread.quit()
        if timeout_ms is None:
            return self.thread.wait()
        return self.thread.wait(timeout_ms)

    def discard(self) -> None:
        """Let Qt free the finished thread (it is a child of the window)."""
        if not self.is_running():
            try:
                self.thread.deleteLater()
            except RuntimeError:
                pass
