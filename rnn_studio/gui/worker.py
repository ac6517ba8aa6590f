"""The training worker: a thin Qt adapter around ``core.session.Session``.

The loop itself (pause, step once, pace, requests served between steps,
metrics batched at most every 40 ms, divergence pauses) lives in
``rnn_studio/core/session.py``, without Qt, and the CLI runs it too. This
module only puts it in a QThread and hands its typed events on, queued, to
the GUI thread. The GUI never touches the model: it asks for things
(pause, one more epoch, a new learning rate, a completion) through the
thread-safe methods below, which the session serves between two steps.

Stopping is a ``threading.Event`` checked between steps; pausing waits on a
condition variable, so a paused run uses no CPU. The window owns one
``RunHandle`` (worker + QThread) per run; ``RunHandle.stop`` sets the event,
quits the thread and waits for it. Never ``terminate()``.

Every event leaves the worker as ``event(worker_id, core event)``: the
typed dataclasses of ``core/events.py`` themselves, tagged with the id of the
worker that sent them. ``gui/runner.py`` (the one object that owns these
threads) uses the id to drop what comes from a run or a file it has left.

torch is imported only inside the functions that run in the worker thread (and
by ``DeviceScan``/``warm_up_in_background``), never when this module loads: the
window paints first and torch loads behind it. A Train pressed before that
import has finished simply waits on it in the worker thread.

Files: a save is a request like a completion (served between steps, or by a
serve-only worker once the run has ended); opening a checkpoint is a worker
with ``load_path`` and ``train=False``: it loads in its own thread, announces
the network with ``Loaded`` and then answers requests like any ended run.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..core.config import RunConfig
from ..core.events import ClassifyRequest, CompleteRequest, Loaded, SaveRequest
from ..core.inside import InsideRequest, OpenedHistory, compute_inside, elman_check, record_start, recorder_from_saved
from ..core.session import PREDICTIONS_INTERVAL_S, Session, divergence_message

if TYPE_CHECKING:  # torch loads in the worker thread, not when the window imports this
    from ..core.training import Trainer

__all__ = [
    "DeviceScan",
    "RunHandle",
    "TrainingWorker",
    "device_choices",
    "divergence_message",
    "warm_up_in_background",
]

METRICS_INTERVAL_S = 0.04  # the brief: batches at most every 30-50 ms
# ...but flat out (no pace) every 120 ms: the plots redraw about once a second then, and
# each batch costs the GUI thread (which holds the GIL the training needs). Measured
# effect on seed text window/headless: within the run-to-run noise (0.81-0.85 drawing,
# 0.91-0.95 not drawing in two runs each; bench/README.md, 2b)
FLAT_OUT_METRICS_INTERVAL_S = 0.12
PREDICTIONS_MIN_INTERVAL_S = PREDICTIONS_INTERVAL_S  # the text/sine views do not need more


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


class TrainingWorker(QObject):
    """One run: a ``Session`` stepped in this object's QThread.

    ``trainer`` given and ``train=False``: a serve-only worker that answers the
    queued requests (completions, saves) for a run whose own thread has ended,
    then exits. ``load_path`` and ``train=False``: load that checkpoint in the
    worker thread, emit ``Loaded`` (or end "rejected" with the reason), then
    serve like a serve-only worker. ``trainer`` and ``train=True``: go on
    training that network (an opened checkpoint) up to ``epochs``.
    """

    # (the id of this worker, a core.events event): RunStarted, StepBatch, Predictions,
    # Paused, Warned, Completion, Saved, Loaded, Diverged, RunEnded (always the last)
    event = Signal(int, object)

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
        recorder=None,
        evolution: tuple[str, int] | None = None,
    ):
        super().__init__()
        self.run_id = run_id
        self.cfg = cfg
        self.load_path = load_path
        # issue 10: the sample evolution and weight snapshots of this network
        # (evolution.EvolutionRecorder), written only by this worker's thread;
        # ``evolution`` = (prompt, length) for the recorder of an opened file
        self.recorder = recorder
        self._evolution = evolution
        self.session = Session(
            cfg,
            trainer=trainer,
            load_path=load_path,
            train=train,
            start_paused=start_paused,
            epochs_to_step=epochs_to_step,
            until_paused=until_paused,
            epochs=epochs,
            pace=pace,
            flush_interval=METRICS_INTERVAL_S,
            flat_out_flush_interval=FLAT_OUT_METRICS_INTERVAL_S,
            predictions_interval=PREDICTIONS_MIN_INTERVAL_S,
            tune_threads=True,  # the window shares the machine with its drawing: measure 1 vs n threads
            after_epoch=[recorder.session_hook()] if recorder is not None and train else (),
        )
        if recorder is not None and train:  # epoch 0, before the first step (no after-epoch hook sees it)
            self.session.request(lambda trainer: self._deliver_if(record_start(self.recorder, trainer)))

    @property
    def trainer(self) -> Trainer | None:
        """The run's network, once the worker thread has built or loaded it."""
        return self.session.trainer

    # -- thread-safe requests (called from the GUI thread) --------------------------
    def request_stop(self) -> None:
        self.session.request_stop()

    def request_pause(self) -> bool:
        return self.session.request_pause()

    def request_resume(self) -> bool:
        return self.session.request_resume()

    def request_step(self) -> bool:
        """Train one more epoch, then stay paused."""
        return self.session.request_step()

    def request_lr(self, lr: float) -> bool:
        return self.session.set_lr(lr)

    def request_clip(self, clip: float) -> bool:
        return self.session.set_clip(clip)

    def request_epochs(self, epochs: int, until_paused: bool) -> bool:
        return self.session.set_epochs(epochs, until_paused)

    def request_pace(self, epochs_per_second: float) -> bool:
        """0 = flat out; otherwise at most this many steps per second."""
        return self.session.set_pace(epochs_per_second)

    def request_completion(self, request: CompleteRequest | dict) -> bool:
        """False when this worker has ended: start a serve-only worker instead."""
        if isinstance(request, dict):
            request = CompleteRequest(
                prompt=request.get("prompt", ""),
                length=request.get("length", 15),  # converted in the worker thread: a bad one answers with an error
                temperature=request.get("temperature", 0.0),
                seed=request.get("seed"),
                id=request.get("id"),
            )
        return self.session.request(request)

    def request_classification(self, request: ClassifyRequest) -> bool:
        """classify: the label of ``request.text``, answered with ``Classified``.
        False when this worker has ended: start a serve-only worker instead."""
        return self.session.request(request)

    def request_save(self, request: SaveRequest | dict) -> bool:
        """Save the network to ``request.path`` between two steps (atomic); the
        answer is a ``Saved`` event. False when this worker has ended."""
        if isinstance(request, dict):
            request = SaveRequest(path=request.get("path", ""), id=request.get("id"))
        return self.session.request(request)

    def request_inside(self, request: InsideRequest) -> bool:
        """The inside views' frame (``core.inside.compute_inside``), computed
        between two steps and answered with an ``InsideFrame``. False when
        this worker has ended."""
        return self.session.request(lambda trainer: self._deliver(compute_inside(trainer, self.recorder, request)))

    def request_elman_check(self, hidden_size: int, layers: int, request_id: int) -> bool:
        """Elman vs nn.RNN (``core.inside.elman_check``), answered with an ``ElmanReport``."""
        return self.session.request(
            lambda trainer: self._deliver(elman_check(trainer, hidden_size, layers, request_id))
        )

    @property
    def closed(self) -> bool:
        return self.session.closed

    # -- the loop (worker thread) ---------------------------------------------------
    @Slot()
    def run(self) -> None:
        try:
            self.session.run(self._deliver)
        finally:
            thread = QThread.currentThread()
            if thread is not None:
                thread.quit()

    def _deliver(self, event) -> None:
        self.event.emit(self.run_id, event)
        if isinstance(event, Loaded):  # (this thread) the file's history: the recorder, then what the views show
            self._deliver(self._open_history())

    def _deliver_if(self, event) -> None:
        if event is not None:
            self._deliver(event)

    def _open_history(self) -> OpenedHistory:
        trainer = self.session.trainer
        from ..core.resources import apply_thread_policy

        # the inside views read this network between requests: the thread count a run of it would use
        apply_thread_policy(trainer.parameter_count, getattr(trainer.device, "type", str(trainer.device)))
        saved = getattr(trainer, "saved_history", None)
        prompt, length = self._evolution or (None, 30)
        self.recorder = recorder_from_saved(saved, prompt, trainer.cfg.train.epochs, length)
        if saved is None:
            return OpenedHistory(None)
        time_grads = saved.time_grads.copy() if saved.time_grads is not None else None
        return OpenedHistory(saved.run, tuple(saved.runs), tuple(saved.samples), len(saved.snapshots), time_grads)


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
