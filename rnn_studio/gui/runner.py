"""The one object that owns the window's threads: runs, serve-only workers, model loaders.

Orange3's ``ConcurrentWidgetMixin`` (``Orange/widgets/utils/concurrent.py``) is
the model: work starts with a state (a ``core.session.Session`` in a
``TrainingWorker``), reports partial results (``StepBatch``, ``Predictions``),
can be cancelled, and the results of a cancelled task are never delivered.
What a ``Runner`` adds: pause, step once, requests served between two steps
(completions, saves, a new learning rate), and opening a checkpoint.

Every worker gets a new id and tags its events with it (``worker.event``). The
runner passes on, as typed ``core.events`` objects, only what comes from the
network on screen: a run replaced by a newer Train, Reset or Open, a file
whose loading a newer Open model… (or Train, or Reset) superseded, an answer
to an earlier question: all dropped here, so no view ever sees them. A save
is never cancelled: its ``Saved`` is always delivered (the file was written,
or why not).

Run states: ``idle`` (no network), ``running``, ``paused`` (a run in
progress), ``finished``, ``stopped``, ``failed`` (the run ended; its network
still answers prompts and can be saved). ``stateChanged`` follows every
change; ``networkChanged`` says another network (or none) is on screen now: a
new run's, an opened file's, or none after Reset.

Threads (STYLE.md, "Threads"): worker objects moved to a QThread; stopping is
a flag, then ``quit()`` and ``wait()``, never ``terminate()``; the network and
its optimizer belong to one thread at a time (a serve-only worker answers for
a run whose own thread has ended, and going on with a network waits for every
thread that held it). Threads that do not end in time when the window closes
are left to end on their own, never destroyed while running.
"""

from __future__ import annotations

import logging
import math
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from ..core.config import RunConfig
from ..core.errors import StudioError
from ..core.events import (
    Classified,
    ClassifyRequest,
    CompleteRequest,
    Completion,
    Evolution,
    Loaded,
    Paused,
    Predictions,
    RunEnded,
    RunStarted,
    Saved,
    SaveRequest,
    StepBatch,
    Warned,
)
from ..core.inside import ElmanReport, InsideFrame, InsideRequest, OpenedHistory, new_recorder
from ..core.labelled import parse_examples
from ..core.text import clean_sentences
from .worker import RunHandle, TrainingWorker

if TYPE_CHECKING:
    from ..core.training import Trainer

__all__ = ["CLOSE_WAIT_MS", "IN_PROGRESS", "Network", "RunInfo", "Runner", "STOP_WAIT_MS", "same_network"]

STOP_WAIT_MS = 1000
# Closing waits at most this long for all threads together; one still running
# then (a step that outlasts it, a file read that blocks) is left to end on its
# own: never terminate() a thread, and never let the window hang.
CLOSE_WAIT_MS = 1500
IN_PROGRESS = ("running", "paused")

log = logging.getLogger(__name__)
# Threads given up on at close, kept (and owned by C++) until they end on their own.
_abandoned: list[RunHandle] = []


@dataclass
class Network:
    """The network on screen: the worker id that holds it, the settings it was
    built with, its device, and whether it came from a file ("opened": then
    Train, not only Step, goes on training it)."""

    run: int
    config: dict
    device: str
    opened: bool


@dataclass
class RunInfo:
    """What the views and the status bar say about the network on screen."""

    task: str = ""  # "" while nothing is on screen
    mode: str = ""
    epochs: int | None = None  # the goal, opened epochs included
    parameters: int | None = None
    device: str | None = None
    vocab_size: int | None = None
    opened: str = ""  # the file name, for a network opened and not trained further
    epoch: int = 0  # epochs the opened network had
    steps: int = 0
    steps_per_epoch: int = 1  # optimizer steps (minibatches, windows) in one epoch
    has_validation: bool = False  # a held-out split is measured after every epoch


class Runner(QObject):
    """Starts, steers and ends runs; delivers the typed events of the network on screen."""

    stateChanged = Signal(str)  # idle, running, paused, finished, stopped, failed
    networkChanged = Signal()  # a new run's network, an opened file's, or none (Reset) is on screen now
    runStarted = Signal(object)  # RunStarted
    batch = Signal(object)  # StepBatch
    predictions = Signal(object)  # Predictions
    paused = Signal(object)  # Paused ("request", "step", "diverged"), after stateChanged
    warned = Signal(object)  # Warned
    ended = Signal(object)  # RunEnded of a training run, before stateChanged
    completed = Signal(object)  # Completion: the answer to the latest question only
    classified = Signal(object)  # Classified: the answer to the latest sentence only
    saved = Signal(object)  # Saved
    opening = Signal(str)  # path: a file is loading
    opened = Signal(object)  # Loaded: that network is on screen now (before stateChanged)
    openFailed = Signal(str, str)  # path, why; nothing changed
    # issue 10, the inside views: answers to ``inspect`` (the latest question only), the
    # recorder's moments, an opened file's history, and the Elman check
    inside = Signal(object)  # core.inside.InsideFrame
    evolved = Signal(object)  # core.events.Evolution: a sample and a snapshot were recorded
    historyOpened = Signal(object)  # core.inside.OpenedHistory, right after ``opened``
    elmanChecked = Signal(object)  # core.inside.ElmanReport

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.state = "idle"
        self.network: Network | None = None
        self.info = RunInfo()
        self.epoch_offset = 0  # epochs the network had when this run went on training it
        self._run_id = 0  # the id of the worker that holds the network on screen
        self._last_id = 0
        self._completion_id = 0
        self._classify_id = 0
        self._save_id = 0
        self._handle: RunHandle | None = None  # the network's run (its thread may have ended)
        self._serve: RunHandle | None = None  # answers for it once that thread has ended
        self._loader: RunHandle | None = None  # a file being opened
        self._retired: list[RunHandle] = []  # threads left, until they have finished
        self._inside_id = 0
        self._elman_id = 0
        # (prompt, length) the sample evolution completes (the window's prompt box); None: no samples
        self.evolution_source: Callable[[], tuple[str, int]] | None = None
        # what a saved file keeps of the history (saved_history.SavedHistory), given the recorder; None: nothing new
        self.history_provider: Callable[[object], object] | None = None

    # ------------------------------------------------------------------ what is on screen
    @property
    def in_progress(self) -> bool:
        return self.state in IN_PROGRESS

    def has_network(self) -> bool:
        return self._handle is not None and self.state != "idle"

    @property
    def worker(self) -> TrainingWorker | None:
        return self._handle.worker if self._handle is not None else None

    @property
    def run_thread(self) -> QThread | None:
        return self._handle.thread if self._handle is not None else None

    @property
    def recorder(self):
        """The sample evolution and snapshots of the network on screen (evolution.EvolutionRecorder)."""
        return self._handle.worker.recorder if self._handle is not None else None

    @property
    def loading(self) -> bool:
        return self._loader is not None

    def threads(self) -> list[QThread]:
        """Every QThread this runner started that has not been freed yet."""
        return [h.thread for h in self._handles()]

    def _handles(self) -> list[RunHandle]:
        return [h for h in (self._handle, self._serve, self._loader, *self._retired) if h is not None]

    def shown_trainer(self) -> Trainer | None:
        """The trainer of the network on screen once its run has ended (or it
        was opened); None while a run is in progress or when there is none."""
        network = self.network
        if network is None or self._handle is None or network.run != self._run_id:
            return None
        if self.in_progress or self.state == "idle":
            return None
        return self._handle.worker.trainer

    def trainer_to_go_on(self, cfg: RunConfig, *, any_ended: bool = False) -> Trainer | None:
        """The trainer Train goes on with when ``cfg`` still describes the
        network on screen: an opened network, or with ``any_ended`` (Step) the
        network of a finished or stopped run. None: start a new network."""
        trainer, network = self.shown_trainer(), self.network
        if trainer is None:
            return None
        if not network.opened and not (any_ended and self.state in ("finished", "stopped")):
            return None
        if not same_network(network.config, cfg.to_dict()):
            return None
        if device_name(network.device) != device_name(cfg.train.device):
            return None
        return trainer

    def new_network_note(self, verb: str) -> str | None:
        """Why ``verb`` (Train or Step) starts a new network although one is on
        screen, in words; None when there is nothing to say."""
        if self.shown_trainer() is None:
            return None
        if self.network.opened:
            blocker = getattr(self.shown_trainer(), "resume_blocker", None)
            if blocker:
                return (
                    f"The opened network cannot go on training ({blocker.rstrip('.')}), so {verb} started a new "
                    "network from scratch on the data in the controls (Open model… brings the saved one back)."
                )
            return (
                f"The settings no longer describe the opened network, so {verb} started a new network from "
                "scratch (Open model… brings the saved one back)."
            )
        if verb == "Step" and self.state == "failed":
            return (
                "The last run ended with an error, so Step started a new network from scratch: "
                "one epoch, then it pauses."
            )
        if verb == "Step":
            return (
                "The settings no longer describe the network on screen, so Step started a new network from "
                "scratch: one epoch, then it pauses."
            )
        return None

    # ------------------------------------------------------------------ runs
    def train(
        self,
        cfg: RunConfig,
        *,
        trainer: Trainer | None = None,
        step_only: bool = False,
        until_paused: bool = False,
        pace: float = 0.0,
        branch_from: int | None = None,
    ) -> bool:
        """Start a run: on ``trainer`` (the network on screen, see
        ``trainer_to_go_on``) for ``cfg.train.epochs`` more epochs, else on a
        new network built from ``cfg`` in the worker thread. ``step_only``
        trains one epoch, then pauses. Whatever ran before is stopped and its
        results are dropped; a file still loading is dropped too. False while a
        run is in progress. ``branch_from`` (an epoch, with ``trainer``): first
        rewind the network to the snapshot taken then (issue 10's rewind)."""
        if self.in_progress:
            return False
        self.cancel_open()
        network = None
        previous = self.recorder if trainer is not None else None
        if trainer is not None:
            # the network moves to a new thread: every thread that held it must have ended first
            for handle in (self._handle, self._serve):
                if handle is not None:
                    handle.worker.request_stop()
                    handle.wait()
            network = replace(self.network) if self.network is not None else None
            if branch_from is not None:
                snapshot = previous.nearest(branch_from) if previous is not None else None
                if snapshot is None:
                    return False
                trainer.rewind(snapshot)  # no thread holds the network now
        if network is None:
            network = Network(0, cfg.to_dict(), cfg.train.device, opened=False)
        self._end_run()
        self._run_id = self._new_id()
        network.run = self._run_id
        self.network = network
        self.epoch_offset = trainer.epoch if trainer is not None else 0
        epochs = cfg.train.epochs + self.epoch_offset
        prompt, length = self._evolution()
        recorder = new_recorder(prompt, epochs, length, previous, until_epoch=branch_from)
        worker = TrainingWorker(
            self._run_id,
            None if trainer is not None else cfg,
            trainer=trainer,
            start_paused=step_only,
            epochs_to_step=1 if step_only else 0,
            until_paused=until_paused,
            epochs=epochs,
            pace=pace,
            recorder=recorder,
        )
        if trainer is not None:
            worker.request_lr(cfg.train.lr)  # applied before its first step
            worker.request_clip(cfg.train.clip)
        self._handle = self._start(worker)
        self.info = RunInfo(task=cfg.task.kind, mode=cfg.task.sine_mode, epochs=epochs)
        if trainer is None:
            self.networkChanged.emit()
        self._set_state("paused" if step_only else "running")
        return True

    def train_branch(self, cfg: RunConfig, epoch: int, *, until_paused: bool = False, pace: float = 0.0) -> bool:
        """Train the network on screen on from the snapshot taken at ``epoch``
        (or the latest before it): a new branch of its run, which the views
        show as a new network (the run it left stays to compare). A run in
        progress is stopped first. False when there is no such snapshot."""
        if self.in_progress:
            self.stop()
        trainer = self.shown_trainer()
        recorder = self.recorder
        if trainer is None or recorder is None or recorder.nearest(epoch) is None:
            return False
        if not self.train(cfg, trainer=trainer, until_paused=until_paused, pace=pace, branch_from=epoch):
            return False
        self.networkChanged.emit()
        return True

    def _evolution(self) -> tuple[str | None, int]:
        if self.evolution_source is None:
            return None, 30
        try:
            prompt, length = self.evolution_source()
        except Exception:  # a closing window: no samples rather than no run
            return None, 30
        return (prompt or None), int(length)

    def train_from(
        self, cfg: RunConfig, *, step_only: bool = False, until_paused: bool = False, pace: float = 0.0
    ) -> str | None:
        """What Train (or Step, with ``step_only``) does with the controls'
        ``cfg``: go on with the network on screen while ``cfg`` still describes
        it (``trainer_to_go_on``), else start a new network. Returns a note when
        it started a new network where one might expect it to go on."""
        if self.in_progress:
            return None
        self.cancel_open()
        trainer = self.trainer_to_go_on(cfg, any_ended=step_only)
        note = self.new_network_note("Step" if step_only else "Train") if trainer is None else None
        self.train(cfg, trainer=trainer, step_only=step_only, until_paused=until_paused, pace=pace)
        return note

    def pause(self) -> None:
        if self.state == "running":
            self._handle.worker.request_pause()
            self._set_state("paused")

    def resume(self) -> None:
        if self.state == "paused":
            self._handle.worker.request_resume()
            self._set_state("running")

    def step(self) -> bool:
        """One more epoch of the paused run, then it pauses again. False when
        no run is in progress (Step then starts one: ``train(step_only=True)``)."""
        if self.state == "paused":
            self._handle.worker.request_step()
            return True
        return self.in_progress

    def stop(self) -> None:
        """End the run: the flag, then quit and wait. The network stays for prompts."""
        if not self.in_progress or self._handle is None:
            return
        self._handle.stop(STOP_WAIT_MS)
        self._set_state("stopped")

    def reset(self) -> None:
        """Stop and forget the network on screen (and any file still loading)."""
        self.cancel_open()
        self.network = None
        self._end_run()
        self._set_state("idle", network_changed=True)

    def set_lr(self, lr: float) -> None:
        if self._live() is not None:
            self._live().request_lr(lr)

    def set_clip(self, clip: float) -> None:
        if self._live() is not None:
            self._live().request_clip(clip)

    def set_pace(self, pace: float) -> None:
        if self._live() is not None:
            self._live().request_pace(pace)

    def set_epochs(self, epochs: int, until_paused: bool) -> None:
        """The run's goal: ``epochs`` more than the network had when this run began."""
        worker = self._live()
        if worker is not None:
            epochs += self.epoch_offset
            worker.request_epochs(epochs, until_paused)
            self.info.epochs = epochs

    def _live(self) -> TrainingWorker | None:
        return self._handle.worker if self._handle is not None and self.in_progress else None

    # ------------------------------------------------------------------ requests to the network
    def complete(self, prompt: str, length: int, temperature: float) -> bool:
        """Ask the network on screen for a completion; the answer comes as
        ``completed`` (an earlier question's answer never does). False when
        there is no network."""
        if self._handle is None or self.state == "idle":
            return False
        self._completion_id += 1
        request = CompleteRequest(
            prompt=prompt, length=length, temperature=temperature, seed=self._completion_id, id=self._completion_id
        )
        return self._ask(lambda worker: worker.request_completion(request))

    def inspect(self, request: InsideRequest) -> int:
        """Ask the network on screen for the inside views' frame; the answer
        comes as ``inside`` (an earlier question's answer never does). The id
        of the request, 0 when there is no network."""
        if self._handle is None or self.state == "idle":
            return 0
        self._inside_id += 1
        request = replace(request, id=self._inside_id)
        return self._inside_id if self._ask(lambda worker: worker.request_inside(request)) else 0

    def check_elman(self, hidden_size: int, layers: int) -> int:
        """Elman vs nn.RNN, answered as ``elmanChecked``: the network on screen
        when it is the Elman network (in the thread that holds it), otherwise a
        fresh one in a thread of its own."""
        self._elman_id += 1
        request_id = self._elman_id
        if (
            self._handle is not None
            and self.state != "idle"
            and self._ask(lambda worker: worker.request_elman_check(hidden_size, layers, request_id))
        ):
            return request_id
        import threading

        from ..core.inside import elman_check

        relay = _Relay(self)
        relay.done.connect(self._elman_answer)
        threading.Thread(
            target=lambda: relay.done.emit(elman_check(None, hidden_size, layers, request_id)),
            name="rnn-studio-elman-check",
            daemon=True,
        ).start()
        return request_id

    @Slot(object)
    def _elman_answer(self, report: ElmanReport) -> None:
        if report.id == self._elman_id:
            self.elmanChecked.emit(report)
        if isinstance(self.sender(), _Relay):
            self.sender().deleteLater()
    def classify(self, text: str) -> bool:
        """Ask the classifier on screen for the label of ``text``; the answer
        comes as ``classified`` (an earlier sentence's answer never does).
        False when there is no network."""
        if self._handle is None or self.state == "idle":
            return False
        self._classify_id += 1
        request = ClassifyRequest(text=text, id=self._classify_id)
        return self._ask(lambda worker: worker.request_classification(request))

    def resume_blocker(self, cfg: RunConfig, *, any_ended: bool = False) -> str | None:
        """Why Train (or Step) cannot go on with the network on screen although
        ``cfg`` still describes it: its data file is gone or has changed
        (``Trainer.resume_blocker``); None when it can, or when Train starts a
        new network anyway."""
        trainer = self.trainer_to_go_on(cfg, any_ended=any_ended)
        return getattr(trainer, "resume_blocker", None) if trainer is not None else None

    def save(self, path: str) -> bool:
        """Write the network on screen to ``path`` (atomic), in the thread that
        holds it; the answer comes as ``saved``. False when there is none. The
        file keeps the history ``history_provider`` gives."""
        if not self.has_network():
            return False
        self._save_id += 1
        history = None
        if self.history_provider is not None:
            history = self.history_provider(self.recorder)
        request = SaveRequest(path=os.path.abspath(path), id=self._save_id, history=history)
        return self._ask(lambda worker: worker.request_save(request))

    def _ask(self, post) -> bool:
        """Post a request to the thread that holds the network: the run's own
        worker while it lives, else a short-lived serve-only worker, so the
        model is touched by one thread at a time."""
        if self._handle is None:
            return False
        if post(self._handle.worker):
            return True
        if self._serve is not None and post(self._serve.worker):
            return True
        trainer = self._handle.worker.trainer
        if trainer is None:
            return False
        self._handle.wait()
        if self._serve is not None:
            self._serve.wait()
            self._retire(self._serve)
        worker = TrainingWorker(self._run_id, trainer=trainer, train=False, recorder=self._handle.worker.recorder)
        post(worker)
        self._serve = self._start(worker)
        return True

    # ------------------------------------------------------------------ files
    def open(self, path: str) -> None:
        """Load the checkpoint at ``path`` in a worker thread. ``opened`` when
        its network is on screen, ``openFailed`` when it cannot be (nothing
        changes then). A newer ``open`` (or Train, or Reset) drops this one."""
        self.cancel_open()
        refusal = blocking_file(path)
        if refusal:  # a pipe or a device would block the thread that reads it: no thread reads it
            QTimer.singleShot(0, lambda: self.openFailed.emit(path, refusal))  # as a load that failed would
            return
        worker = TrainingWorker(
            self._new_id(), train=False, load_path=os.path.abspath(path) if path else "", evolution=self._evolution()
        )
        self._loader = self._start(worker)
        self.opening.emit(path)

    def cancel_open(self) -> None:
        """Drop a file still loading: its result will never be delivered."""
        if self._loader is not None:
            loader, self._loader = self._loader, None
            loader.worker.request_stop()
            self._retire(loader)

    # ------------------------------------------------------------------ closing
    def stop_all(self, deadline_ms: int = CLOSE_WAIT_MS) -> bool:
        """Stop every thread, waiting at most ``deadline_ms`` for all of them
        together; True when all have ended. One that has not is abandoned: left
        to end on its own, never terminated."""
        handles = self._handles()
        for handle in handles:
            handle.worker.request_stop()
        deadline = time.perf_counter() + deadline_ms / 1000.0
        ok = True
        for handle in handles:
            remaining = max(1, int((deadline - time.perf_counter()) * 1000))
            if not handle.wait(remaining):
                ok = False
                self._abandon(handle, deadline_ms)
        if self.in_progress:
            self.state = "stopped"  # closing: nobody is left to tell
        return ok

    # ------------------------------------------------------------------ worker events
    @Slot(int, object)
    def _on_event(self, worker_id: int, event) -> None:
        kind = type(event)
        if kind is Saved:
            self.saved.emit(event)  # never cancelled: the file was written (or why not) either way
            return
        if self._loader is not None and worker_id == self._loader.worker.run_id:
            self._on_loader_event(event)
            return
        if worker_id != self._run_id or self._handle is None:
            return  # from a run or a file this runner has left
        if kind is StepBatch:
            self.batch.emit(event)
        elif kind is Predictions:
            self.predictions.emit(event)
        elif kind is RunStarted:
            info = self.info
            info.parameters, info.device, info.vocab_size = event.parameters, event.device, event.vocab_size
            info.task, info.mode = event.task, event.mode
            info.steps_per_epoch, info.has_validation = max(1, event.steps_per_epoch), event.has_validation
            self.runStarted.emit(event)
        elif kind is Completion:
            if event.id == self._completion_id:  # an earlier question's answer is stale
                self.completed.emit(event)
        elif kind is Classified:
            if event.id == self._classify_id:
                self.classified.emit(event)
        elif kind is Paused:
            self._on_paused(event)
        elif kind is Warned:
            self.warned.emit(event)
        elif kind is RunEnded and not event.serve_only:
            self._on_ended(event)
        elif kind is InsideFrame:
            if event.id == self._inside_id:
                self.inside.emit(event)
        elif kind is Evolution:
            self.evolved.emit(event)
        elif kind is OpenedHistory:
            self.historyOpened.emit(event)
        elif kind is ElmanReport:
            if event.id == self._elman_id:
                self.elmanChecked.emit(event)

    def _on_paused(self, event: Paused) -> None:
        if not self.in_progress:
            return
        # a requested pause the user has already resumed from is old news
        if event.reason != "request" or self.state == "paused":
            self._set_state("paused")
            self.paused.emit(event)

    def _on_ended(self, event: RunEnded) -> None:
        if event.state == "rejected":
            state = "idle"
            self._handle.wait()
            self._retire(self._handle)
            self._handle = None
            self.network = None
        elif event.state in ("failed", "finished"):
            state = event.state
        else:
            state = "stopped" if self.in_progress else self.state
        self.state = state
        self.ended.emit(event)  # the views draw the run's end before the controls say it
        self.stateChanged.emit(state)

    def _on_loader_event(self, event) -> None:
        if isinstance(event, Loaded):
            handle, self._loader = self._loader, None
            self._end_run()  # the opened network replaces the one on screen
            # the file's own settings: the fallbacks of loading (a text file that is gone) are not the user's
            cfg = RunConfig.from_dict(event.saved_config or event.config)
            self._run_id = handle.worker.run_id
            self._handle = handle
            self.network = Network(self._run_id, cfg.to_dict(), event.device, opened=True)
            self.info = RunInfo(
                task=event.task,
                mode=event.mode,
                epochs=int(cfg.train.epochs),
                parameters=event.parameters,
                device=event.device,
                vocab_size=event.vocab_size,
                opened=os.path.basename(event.path),
                epoch=int(event.epoch),
                steps=int(event.steps),
            )
            self.epoch_offset = 0
            self.state = "finished" if event.epoch >= cfg.train.epochs else "stopped"
            self.networkChanged.emit()
            self.opened.emit(event)  # the controls take the file's settings before they say the state
            self.stateChanged.emit(self.state)
        elif isinstance(event, RunEnded):  # it ended without a network: the file could not be used
            loader, self._loader = self._loader, None
            loader.wait()
            self._retire(loader)
            self.openFailed.emit(loader.worker.load_path or "", event.message or "the file could not be read")

    # ------------------------------------------------------------------ plumbing
    def _set_state(self, state: str, *, network_changed: bool = False) -> None:
        self.state = state
        if network_changed:
            self.networkChanged.emit()
        self.stateChanged.emit(state)

    def _new_id(self) -> int:
        self._last_id += 1
        return self._last_id

    def _start(self, worker: TrainingWorker) -> RunHandle:
        worker.event.connect(self._on_event)  # queued: the worker lives in its own thread
        handle = RunHandle(worker, self)
        handle.thread.finished.connect(self._thread_finished)
        handle.start()
        return handle

    def _end_run(self) -> None:
        """Stop the run on screen and whatever answers for it, and let go of them."""
        for handle in (self._handle, self._serve):
            if handle is not None:
                handle.stop(STOP_WAIT_MS)
                self._retire(handle)
        self._handle = self._serve = None
        self.info = RunInfo()

    def _retire(self, handle: RunHandle) -> None:
        if handle.is_running():
            if handle not in self._retired:
                self._retired.append(handle)
        else:
            handle.discard()

    @Slot()
    def _thread_finished(self) -> None:
        for handle in list(self._retired):
            if not handle.is_running():
                self._retired.remove(handle)
                handle.discard()

    def _abandon(self, handle: RunHandle, deadline_ms: int) -> None:
        """Give up on a thread that did not end in time (a step longer than the
        deadline, a file read that blocks): never terminate() it, and never let
        a running QThread be destroyed, which aborts the process. Its QThread
        passes to the main thread's QThread object (owned by C++, it outlives
        every window and Python's own clean-up) and is freed once it ends."""
        name = handle.thread.objectName()
        log.warning("RNN Studio: thread %s did not end within %d ms; leaving it to end on its own", name, deadline_ms)
        if self._handle is handle:
            self._handle = None
        if self._serve is handle:
            self._serve = None
        if self._loader is handle:
            self._loader = None
        if handle in self._retired:
            self._retired.remove(handle)
        thread = handle.thread
        try:
            thread.finished.disconnect(self._thread_finished)
        except (RuntimeError, TypeError):
            pass
        thread.setParent(QThread.currentThread())
        _abandoned.append(handle)
        thread.finished.connect(thread.deleteLater)  # Qt's own pattern: freed by the GUI thread once ended
        thread.finished.connect(lambda: _abandoned.remove(handle) if handle in _abandoned else None)


class _Relay(QObject):
    """Brings a plain thread's answer to the GUI thread (a queued signal)."""

    done = Signal(object)


# ---------------------------------------------------------------------- which network
def device_name(device: str) -> str:
    """'cuda' and 'cuda:0' are the same card; the list names it 'cuda:0'."""
    device = (device or "cpu").strip().lower()
    return "cuda:0" if device == "cuda" else device


def same_network(saved: dict, built: dict) -> bool:
    """Do the controls (``built``) describe the network whose settings were
    ``saved``? Compares what defines a network and its data, not what may
    change while it trains (learning rate, epochs, clip)."""
    try:
        a, b = saved["task"], built["task"]
        if a.get("kind") != b.get("kind"):
            return False
        if b["kind"] == "text":
            if a.get("text_file") or b.get("text_file"):
                if not _same_path(a.get("text_file"), b.get("text_file")):
                    return False
            elif clean_sentences(a.get("sentences") or []) != b["sentences"]:
                return False
            keys = ("window", "batch_size") if b.get("text_file") else ("batch_examples", "shuffle")
        elif b["kind"] == "classify":
            if a.get("data_file") or b.get("data_file"):
                if not _same_path(a.get("data_file"), b.get("data_file")):
                    return False
            elif parse_examples(a.get("examples") or []) != parse_examples(b.get("examples") or []):
                return False
            keys = ("level", "max_vocab", "max_length", "batch_examples", "shuffle")
        else:
            keys = ("sine_mode", "sine_windows", "sine_window_len", "sine_noise", "batch_examples", "shuffle")
        keys = (*keys, "valid_fraction")
        if any(not _same_value(a.get(k, _TASK_DEFAULTS.get(k)), b.get(k, _TASK_DEFAULTS.get(k))) for k in keys):
            return False
        model_a, model_b = saved["model"], built["model"]
        if any(not _same_value(model_a.get(k, _MODEL_DEFAULTS.get(k)), model_b[k]) for k in model_b):
            return False
        if set(model_a) - set(model_b):
            return False
        return all(
            _same_value(saved["train"].get(k, _TRAIN_DEFAULTS.get(k)), built["train"].get(k, _TRAIN_DEFAULTS.get(k)))
            for k in ("optimizer", "seed", "plateau")
        )
    except (KeyError, TypeError, AttributeError, StudioError):
        return False


# settings a file saved before they existed did not write: their defaults
_TASK_DEFAULTS = {"batch_examples": 0, "shuffle": True, "valid_fraction": -1.0}
_MODEL_DEFAULTS = {"bidirectional": False, "pool": "max", "head_dropout": 0.5, "init": "default"}
_TRAIN_DEFAULTS = {"plateau": False}


def _same_path(a, b) -> bool:
    if not a or not b:
        return False
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def _same_value(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
        except (TypeError, ValueError):
            return False
    return a == b


def blocking_file(path: str) -> str:
    """Why reading ``path`` could block ("" when it cannot): opening a FIFO
    waits for a writer, a device may never answer. Such files are refused
    before any thread touches them (the core refuses them too); a missing
    file or a folder is left to the core's own message."""
    if not path:
        return ""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return ""
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return ""
    return f"{path} is not a regular file (a pipe, device or socket), so it cannot be a saved model."
