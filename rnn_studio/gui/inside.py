"""Feeds the "Inside the network" views (issue 10) and decides when they refresh.

What it owns (the napari habit: the views hold no state the model should):
the run history (``core.history.RunHistory``, the last runs with their
curves, fed from ``StepBatch``es), the time-gradient history
(``TimeGradHistory``) and the latest ``InsideFrame``. The frames themselves
are computed by the thread that holds the network (``Runner.inspect``,
``core.inside.compute_inside``), between two training steps; this object
only asks, at most one question at a time, and hands the answer to the
views.

When: while a run trains, a new frame is asked for once the network has taken
a step since the last one and at least ``REFRESH_S`` (``FLAT_OUT_REFRESH_S``
when training flat out, or ``WATCH_COST_FACTOR`` = 20 times what the last
frame cost the worker) has passed, so a slowed pace refreshes every
step and flat out costs training a few per cent at most; when the run pauses
or ends, or the user changes what to look at, at once. A frame asks only for
what the tab on screen shows (no reading while the Runs tab is open), and
only the view on screen is drawn; the others draw when their tab is chosen.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Slot

from ..core.config import RunConfig
from ..core.errors import StudioError
from ..core.history import RunHistory, RunRecord, TimeGradHistory, run_label
from ..core.inside import InsideFrame, InsideRequest, OpenedHistory
from ..core.saved_history import SavedHistory
from ..core.session import WATCH_COST_FACTOR
from ..core.text import clean_sentences
from .panels.elman_dialog import ElmanDialog
from .panels.inside_view import InsideView
from .panels.runs_view import RunOverlay

REFRESH_S = 0.25  # live frames at most this often (and never more than one per training step)
# flat out (no pace) the plots redraw about once a second: the inside views follow at that
# rate, the frames' GUI work costing training less (bench/README.md, issue 12)
FLAT_OUT_REFRESH_S = 1.0
MEMORY_REDRAW_S = 0.25  # the memory heatmap while training
RUNS_REDRAW_S = 1.0  # the runs table's figures while training
ANSWER_TIMEOUT_S = 5.0  # a question unanswered this long (a step that long) is asked again
KEPT_RUNS = 6


class InsideViews(QObject):
    """The inside views' data and their refreshes, for one window."""

    def __init__(
        self,
        parent: QObject,
        runner,
        view: InsideView,
        *,
        loss_view,
        text_view,
        prompt: Callable[[], tuple[str, int]],
        overlay: RunOverlay,
        train_branch: Callable[[int], bool],
        model_size: Callable[[], tuple[int, int]] = lambda: (12, 1),
        pace: Callable[[], float] = lambda: 0.0,
    ):
        super().__init__(parent)
        self.runner, self.view, self.loss_view, self.text_view = runner, view, loss_view, text_view
        self._prompt, self._train_branch, self._model_size = prompt, train_branch, model_size
        self._pace = pace  # epochs a second the pace control asks for; 0 or less: flat out
        self.runs = RunHistory(KEPT_RUNS)
        self.current: RunRecord | None = None
        self.time_grads = TimeGradHistory()
        self.overlay = overlay
        self.shown_runs: set[int] = set()
        self.frame: InsideFrame | None = None
        self.branch: tuple[str, int, str] | None = None  # a completion continued from a candidate
        self.elman_dialog: ElmanDialog | None = None
        self._new_network = True
        self._branch_parent: int | None = None
        self._steps_now = -1  # the steps of the latest batch
        self._asked = 0  # the id of the question in flight (0: none)
        self._asked_at = 0.0
        self._answered_at = 0.0
        self._cost = 0.0
        self._want = True  # what to look at changed since the last frame
        self._text_moment = False  # the sentence view shows a rewound moment
        self._memory_drawn = 0.0
        self._runs_drawn = 0.0
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.timeout.connect(self.refresh)
        self._connect()

    def _connect(self) -> None:
        runner, view = self.runner, self.view
        runner.networkChanged.connect(self.network_changed)
        runner.runStarted.connect(self.run_started)
        runner.batch.connect(self.add_batch)
        runner.stateChanged.connect(self.state_changed)
        runner.inside.connect(self.show_frame)
        runner.evolved.connect(self._evolved)
        runner.historyOpened.connect(self.history_opened)
        runner.elmanChecked.connect(self.show_elman)
        runner.history_provider = self.saved_history
        runner.evolution_source = self._prompt
        view.sourceChanged.connect(self._choice_changed)
        view.momentChanged.connect(self._moment_changed)
        view.trainFromHere.connect(self.train_from_here)
        view.tabs.currentChanged.connect(self._tab_changed)
        view.confidenceView.branchRequested.connect(self.branch_from)
        view.runsView.showToggled.connect(self.show_run)
        view.runsView.pinToggled.connect(self.pin_run)

    # ------------------------------------------------------------------ the network on screen
    def _sentences(self) -> list[str]:
        """The training sentences of the network on screen (none for a book or the sine task)."""
        network = self.runner.network
        task = network.config.get("task", {}) if network is not None else {}
        if task.get("kind") != "text":
            return []
        try:
            return clean_sentences(task.get("sentences") or [])
        except StudioError:
            return []

    @Slot()
    def network_changed(self) -> None:
        """Another network (or none) is on screen: its views start empty; the runs stay to compare."""
        self._new_network = True
        self.frame = None
        self.branch = None
        self._asked = 0
        self._steps_now = -1
        self._want = True
        self._text_moment = False
        self.time_grads.clear()
        view = self.view
        view.hiddenView.clear()
        view.gatesView.clear()
        view.confidenceView.clear()
        view.memoryView.clear()
        view.samplesView.clear()
        view.set_sources(self._sentences())
        view.set_moments([], "", can_branch=False)
        if self.runner.network is None:
            self.current = None
        self._show_runs()

    @Slot(object)
    def run_started(self, event) -> None:
        if not self._new_network and self.current is not None:
            return  # the same network trains on: the same run
        self._new_network = False
        cfg = RunConfig.from_dict(self.runner.network.config) if self.runner.network is not None else None
        record = RunRecord(
            label=run_label(cfg) if cfg is not None else "a run",
            config=cfg.to_dict() if cfg is not None else {},
            parameters=int(event.parameters),
            branch_of=self._branch_parent,
        )
        if self._branch_parent is not None:
            self.shown_runs.add(self._branch_parent)  # the run it left, drawn beside it
            record.label = f"{record.label}, branch"
        self._branch_parent = None
        self.current = self.runs.add(record)
        self.view.set_sources(self._sentences())
        self._show_runs()

    @Slot(object)
    def add_batch(self, batch) -> None:
        if self.current is not None:
            if self.current.steps == 0 and self.current.start_steps == 0 and len(batch.step):
                self.current.start_steps = max(0, int(batch.step[0]) - 1)
            self.current.add_batch(batch)
        if self.time_grads.add_batch(batch):
            self.view.memoryView.show_history(self.time_grads)
        self._steps_now = int(batch.steps)
        now = time.perf_counter()
        current = self.view.current_view()
        if current is self.view.memoryView and now - self._memory_drawn >= MEMORY_REDRAW_S:
            self._memory_drawn = now
            current.redraw()
        if current is self.view.runsView and now - self._runs_drawn >= RUNS_REDRAW_S:
            self._runs_drawn = now
            self._show_runs()
        self.refresh()

    @Slot(str)
    def state_changed(self, state: str) -> None:
        if state in ("paused", "finished", "stopped", "failed"):
            self.view.memoryView.redraw()
            self._show_runs()
            self.refresh(force=True)
        elif state == "idle":
            self.view.set_moments([], "", can_branch=False)

    @Slot(object)
    def _evolved(self, _event) -> None:
        self._want = True
        self.refresh()

    @Slot(object)
    def history_opened(self, event: OpenedHistory) -> None:
        """An opened file's history: its run (its curve back in the loss view), the runs it was compared with,
        its memory through time."""
        for run in event.runs:
            self.runs.add(run)
        if event.run is not None:
            run = event.run
            self.current = self.runs.add(run)
            x, y = run.step_loss.arrays()
            if len(x):
                self.loss_view.append(x, y)
                self.loss_view.redraw()
        else:
            cfg = RunConfig.from_dict(self.runner.network.config) if self.runner.network is not None else None
            self.current = self.runs.add(
                RunRecord(
                    label=run_label(cfg) if cfg else "opened network", parameters=int(self.runner.info.parameters or 0)
                )
            )
        if event.time_grads is not None:
            # the file's memory through time: training on adds to it, as to a run's own
            self.time_grads = event.time_grads
            self.view.memoryView.show_history(self.time_grads)
            self.view.memoryView.redraw()
        self._new_network = False
        self._want = True
        self._show_runs()
        self.refresh(force=True)

    # ------------------------------------------------------------------ asking for frames
    def _looking(self) -> bool:
        return self.view.isVisible() and self.runner.state != "idle" and self.runner.network is not None

    @Slot()
    def refresh(self, force: bool = False) -> None:
        """Ask for a frame when one is due (see the module docstring)."""
        if not self._looking():
            return
        now = time.perf_counter()
        if self._asked and now - self._asked_at < ANSWER_TIMEOUT_S:
            if force:
                self._want = True  # asked again once the answer in flight has come
            return
        frame = self.frame
        stale = self._want or frame is None or (self.view.moment() is None and self._steps_now > frame.steps)
        if not stale:
            return
        if not force and self.runner.in_progress:
            least = REFRESH_S if (self._pace() or 0) > 0 else FLAT_OUT_REFRESH_S
            wait = max(least, WATCH_COST_FACTOR * self._cost) - (now - self._answered_at)
            if wait > 0:
                if not self._later.isActive():
                    self._later.start(int(wait * 1000) + 1)
                return
        self._ask()

    def request(self) -> InsideRequest:
        """What the tab on screen needs."""
        view = self.view
        current = view.current_view()
        source = view.source()
        prompt, length = self._prompt()
        wants_reading = current in (view.hiddenView, view.gatesView)
        wants_completion = current is view.confidenceView or (wants_reading and source is None)
        return InsideRequest(
            sentence=source if wants_reading else None,
            prompt=prompt if wants_completion and prompt else None,
            length=max(int(length), len(prompt or "") + 1),
            moment=view.moment(),
            branch=self.branch if wants_completion else None,
            predictions=view.moment() is not None or self._text_moment,
        )

    def _ask(self) -> None:
        request = self.request()
        self._want = False
        self._asked = self.runner.inspect(request)
        self._asked_at = time.perf_counter()

    @Slot(object)
    def show_frame(self, frame: InsideFrame) -> None:
        """The answer: every view it has data for takes it; the one on screen draws it."""
        self._asked = 0
        self._answered_at = time.perf_counter()
        self._cost = frame.seconds
        self.frame = frame
        view, request = self.view, frame.request
        moment = f"epoch {frame.moment[0]:,} (rewound)" if frame.moment else f"epoch {frame.epoch:,}"
        if frame.error:
            for v in (view.hiddenView, view.gatesView, view.confidenceView):
                v.show_error(frame.error)
        else:
            reading = frame.reading
            if request.sentence is None and frame.completion is not None:
                reading = frame.completion.reading
            reading_error = frame.reading_error if request.sentence else frame.completion_error
            if reading is not None:
                what = f"'{reading.text}'"
                view.hiddenView.show_reading(reading, f"Reading {what} at {moment}.")
                view.gatesView.show_reading(reading, f"Reading {what} at {moment}.")
            elif reading_error:
                view.hiddenView.show_error(reading_error)
                view.gatesView.show_error(reading_error)
            if frame.completion is not None:
                how = (
                    f"Continued from '{request.branch[2]}' at character {request.branch[1] + 1} (a branch)"
                    if request.branch
                    else f"The completion of '{frame.completion.prompt}'"
                )
                view.confidenceView.show_completion(frame.completion, f"{how} at {moment}")
            elif frame.completion_error and (request.prompt or request.branch):
                view.confidenceView.show_error(frame.completion_error)
            elif request.prompt is None and view.current_view() is view.confidenceView:
                view.confidenceView.show_error("Type a prompt in the prompt box: its completion appears here.")
        view.samplesView.show_samples(
            frame.samples, frame.moment[0] if frame.moment else None, self._snapshot_note(frame)
        )
        view.set_moments(
            list(frame.moments), f"epoch {frame.epoch:,}", self._snapshot_note(frame), can_branch=not frame.error
        )
        if frame.predictions is not None:
            epoch = frame.moment[0] if frame.moment else frame.epoch
            self.text_view.show_predictions(dict(frame.predictions, epoch=epoch))
            self.text_view.redraw()
            self._text_moment = frame.moment is not None
        current = view.current_view()
        if current is not None:
            current.redraw()
        if self._want:
            self.refresh(force=True)

    @staticmethod
    def _snapshot_note(frame: InsideFrame) -> str:
        if frame.snapshot_note:
            return frame.snapshot_note
        if not frame.moments:
            return ""
        return (
            f"{len(frame.moments)} snapshots of the weights kept, {frame.snapshot_bytes / 2**20:,.2f} MiB "
            f"(at most {frame.snapshot_limit / 2**20:,.0f} MiB; the oldest are thinned to stay under it)."
        )

    # ------------------------------------------------------------------ what the user chose
    @Slot()
    def _choice_changed(self) -> None:
        self._want = True
        self.refresh(force=True)

    @Slot(object)
    def _moment_changed(self, _epoch) -> None:
        self._want = True
        self.refresh(force=True)

    @Slot(int)
    def _tab_changed(self, _index: int) -> None:
        current = self.view.current_view()
        if current is self.view.runsView:
            self._show_runs()
        if current is not None:
            current.redraw()
        self._want = True
        self.refresh(force=True)

    def prompt_changed(self) -> None:
        """The prompt box changed: the confidence view follows it (a branch is dropped)."""
        self.branch = None
        self._want = True
        if self.view.current_view() is self.view.confidenceView or self.view.source() is None:
            self.refresh()

    @Slot(str, int, str)
    def branch_from(self, text: str, position: int, char: str) -> None:
        self.branch = (text, position, char)
        self._want = True
        self.refresh(force=True)

    @Slot(int)
    def train_from_here(self, epoch: int) -> None:
        parent = self.current.run_id if self.current is not None else None
        self._branch_parent = parent
        if not self._train_branch(epoch):
            self._branch_parent = None

    # ------------------------------------------------------------------ runs
    @Slot(int, bool)
    def show_run(self, run_id: int, on: bool) -> None:
        (self.shown_runs.add if on else self.shown_runs.discard)(run_id)
        self._show_runs()

    @Slot(int, bool)
    def pin_run(self, run_id: int, on: bool) -> None:
        try:
            self.runs.pin(run_id, on)
        except KeyError:
            return
        self._show_runs()

    def _show_runs(self) -> None:
        ids = {r.run_id for r in self.runs}
        self.shown_runs &= ids
        current = self.current.run_id if self.current is not None else None
        overlaid = [r for r in self.runs if r.run_id in self.shown_runs and r.run_id != current]
        if [r.run_id for r in overlaid] != self.overlay.run_ids():
            self.overlay.show_runs(overlaid, self.current.label if self.current is not None else "")
        self.view.runsView.show_runs(list(self.runs), self.shown_runs, current)
        if self.view.current_view() is self.view.runsView:
            self.view.runsView.redraw()

    def saved_history(self, recorder) -> SavedHistory:
        """What a saved file keeps: this run, the runs it is compared with, the recorder's samples and snapshots."""
        return SavedHistory.gather(run=self.current, recorder=recorder, history=self.runs, time_grads=self.time_grads)

    # ------------------------------------------------------------------ Elman vs nn.RNN
    def check_elman(self) -> None:
        hidden, layers = self._model_size()
        self.runner.check_elman(hidden, layers)
        dialog = self._elman_dialog()
        dialog.show_waiting()

    def _elman_dialog(self) -> ElmanDialog:
        if self.elman_dialog is None:
            self.elman_dialog = ElmanDialog(self.parent())
        return self.elman_dialog

    @Slot(object)
    def show_elman(self, report) -> None:
        self._elman_dialog().show_report(report)
