"""The live views of the network on screen, and when they redraw.

Follows pyqtgraph's own examples for live plots: data arrive in batches
(``core.events.StepBatch``, ``Predictions``), and a ``QTimer`` redraws only
views whose data changed, never once per training step. Painting pyqtgraph
plots is Python that holds the GIL, so every millisecond the GUI thread spends
drawing is one the training thread waits: a tick draws ONE view, the views
taking turns, and the interval grows until the GUI thread is busy at most
``GUI_BUSY_TARGET`` of the time.

Frames (issue 9, views falling out of step): what arrives is held until the
loss plot's turn, then handed to every view at once: the loss and gradient
curves, the learning-rate history and ``frameShown`` (which the progress bar
follows) all show the same last epoch, and the gradient plot's later turn
draws that same frame. The reading of each sentence (or the sine wave) is
computed less often than metrics arrive; it is shown once the frame has
reached its epoch and says which epoch it shows. A pause or the end of a run
draws everything at once (``redraw(force=True)``).

Per-epoch figures (``StepBatch.epochs_done``: validation loss, and for
classify the training and validation accuracy) go to the loss plot's
validation curve and the accuracy plot in the same frame as the steps that
ended those epochs. The classifier's predictions (every example and the
confusion matrix) are shown like the reading of the sentences.

A curve of one point has no line to draw: it is drawn as a dot until a second
point comes (a run that diverged after one good step still shows that step).
Emptied plots go back to the range of a fresh window (issue 10).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from ..core.events import Predictions, RunStarted, StepBatch
from ..core.series import EnvelopeSeries

# The timer ticks at least this far apart; each tick redraws one view whose data
# changed (plots update when their data changed, never per training step).
REDRAW_INTERVAL_MS = 15
MAX_REDRAW_INTERVAL_MS = 500  # ...and at least twice a second
# The redraw interval grows until the GUI thread is busy at most this fraction of the time.
GUI_BUSY_TARGET = 0.08
PACED_GUI_BUSY_TARGET = 0.5  # when the pace control slows training, smooth drawing matters more
LONE_POINT_SIZE = 9


def chance_accuracy(data: dict) -> float | None:
    """The accuracy of always answering the commonest label, on the split the
    accuracy plot compares against (validation if there is one)."""
    rows = data.get("examples") or []
    chosen = [r for r in rows if r.get("split") == "valid"] or rows
    if not chosen:
        return None
    counts: dict = {}
    for row in chosen:
        counts[row["label"]] = counts.get(row["label"], 0) + 1
    return max(counts.values()) / len(chosen)


class LiveViews(QObject):
    """Feeds the loss, gradient, sine and text views (and the prompt panel) the
    events of the network on screen and redraws them on a paced timer."""

    frameShown = Signal(object)  # the StepBatch whose epoch the views show now; None: nothing shown yet

    def __init__(
        self,
        parent: QObject,
        *,
        loss,
        gradient,
        sine,
        text,
        prompt,
        bottom_stack,
        pace: Callable[[], float],
        accuracy=None,
        examples=None,
        confusion=None,
        reading_stack=None,
    ):
        super().__init__(parent)
        self.loss, self.gradient, self.sine, self.text = loss, gradient, sine, text
        self.prompt, self.bottom_stack = prompt, bottom_stack
        # classify (issue 9): the accuracy plot, every example, the confusion matrix,
        # and the stack that shows them where the text task shows its reading
        self.accuracy, self.examples, self.confusion = accuracy, examples, confusion
        self.reading_stack = reading_stack
        self._pace_now = pace
        self.lr_history = EnvelopeSeries(2)  # (step, learning rate) as the trainer reported them
        self.last_batch: StepBatch | None = None  # the frame shown
        self.task = ""  # the task the views are set up for
        self._pending: list[StepBatch] = []
        self._pending_predictions: Predictions | None = None
        self._frame_pending = False  # a frame was handed to the views and not announced yet
        self._next_turn = 0
        self._frame_mark: tuple[float, float] | None = None
        self._lone: dict[int, bool] = {}
        self.timer = QTimer(self)
        self.timer.setInterval(REDRAW_INTERVAL_MS)
        self.timer.timeout.connect(self.redraw)

    # ------------------------------------------------------------------ what the views show
    def show_task(self, task: str, idle_sine_mode: str | None = None) -> None:
        """Set the views up for ``task``; with ``idle_sine_mode`` (nothing on
        screen) the empty plots are titled for it too."""
        self.task = task
        self.bottom_stack.setCurrentIndex(1 if task == "sine" else 0)
        if self.reading_stack is not None:
            self.reading_stack.setCurrentIndex(1 if task == "classify" else 0)
        if self.accuracy is not None:
            self.accuracy.plot.setVisible(task == "classify")
        self.prompt.set_task(task)
        self.gradient.set_task(task)
        if idle_sine_mode is not None:
            self.loss.set_task(task, None)
            self.sine.reset(idle_sine_mode)

    def clear(self, task: str, sine_mode: str, vocab_size: int | None = None) -> None:
        """Another network is on screen (or none): empty every view, the
        completion box included, and give the plots a fresh window's range."""
        self._pending.clear()
        self._pending_predictions = None
        self._frame_pending = False
        self.last_batch = None
        self.loss.reset()
        self.loss.set_task(task, vocab_size)
        self.gradient.reset()
        self.sine.reset(sine_mode)
        self.text.clear_reading()
        for view in (self.accuracy, self.examples, self.confusion):
            if view is None:
                continue
            if hasattr(view, "reset"):
                view.reset()
            else:
                view.clear_reading()
        self.lr_history.clear()
        # an answer of the network that was on screen is not this one's (issue 3)
        self.prompt.completionView.clear()
        self.prompt.completionWarning.hide()
        for plot in (
            self.loss.plot,
            self.gradient.plot,
            self.gradient.param_plot,
            self.gradient.time_plot,
            self.sine.plot,
        ):
            view_box = plot.getPlotItem().getViewBox()
            view_box.setRange(xRange=(0, 1), yRange=(0, 1), padding=0, disableAutoRange=False)
            view_box.enableAutoRange()
        self._mark_lone_points()
        self.show_task(task)
        self.frameShown.emit(None)

    def set_log(self, on: bool) -> None:
        self.loss.set_log(on)
        self.gradient.set_log(on)

    # ------------------------------------------------------------------ events of the network on screen
    @Slot(object)
    def run_started(self, event: RunStarted) -> None:
        self.loss.set_task(event.task, event.vocab_size if event.task == "text" else None)
        self.loss.set_run(event.steps_per_epoch, event.has_validation)

    @Slot(object)
    def add_batch(self, batch: StepBatch) -> None:
        self._pending.append(batch)

    @Slot(object)
    def add_predictions(self, event: Predictions) -> None:
        self._pending_predictions = event
        if not self.timer.isActive():  # no run is drawing (an opened network, a run just stopped): show it now
            self.redraw(force=True)

    # ------------------------------------------------------------------ drawing
    def start(self) -> None:
        """A run starts: nothing of it is shown yet; draw on the timer."""
        self.last_batch = None
        self._frame_pending = False
        self._frame_mark = None
        self.frameShown.emit(None)
        self.timer.start(REDRAW_INTERVAL_MS)

    def stop(self) -> None:
        self.timer.stop()

    def follow_run(self, in_progress: bool) -> None:
        """Draw on the timer while a run is in progress (its end is drawn by ``redraw(force=True)``)."""
        if not in_progress:
            self.stop()
        elif not self.timer.isActive():
            self.start()

    @Slot()
    def redraw(self, force: bool = False) -> None:
        """A timer tick draws one view with new data, the views taking turns,
        so one paint never blocks the GUI thread for long; ``force`` (pauses
        and ends) draws everything that arrived."""
        if force:
            self._commit(everything=True)
            self.loss.redraw()
            self.gradient.redraw(force=True)
            self.sine.redraw()
            self.text.redraw()
            self._classify_turn()
            self._mark_lone_points()
            self._announce_frame()
            return
        self._pace()
        turns = (self._loss_turn, self._gradient_turn, self.sine.redraw, self.text.redraw, self._classify_turn)
        for offset in range(len(turns)):
            index = (self._next_turn + offset) % len(turns)
            if turns[index]():
                self._next_turn = (index + 1) % len(turns)
                break

    def _loss_turn(self) -> bool:
        """A new frame: everything that arrived goes to the views; the loss plot draws it now."""
        if not self._commit():
            return False
        self.loss.redraw()
        self._mark_lone_points()
        self._announce_frame()  # once the loss curve holds it: the progress bar names the epoch drawn
        return True

    def _classify_turn(self) -> bool:
        """The accuracy plot, every example and the confusion matrix (classify only)."""
        drew = False
        for view in (self.accuracy, self.examples, self.confusion):
            if view is not None and view.redraw():
                drew = True
        return drew

    def _gradient_turn(self) -> bool:
        if not self.gradient.redraw():
            return False
        self._mark_lone_points()
        return True

    def _commit(self, everything: bool = False) -> bool:
        """Hand what arrived to the views (not drawn yet); True when anything was new.
        A reading newer than the frame waits for it unless ``everything``."""
        batches, self._pending = self._pending, []
        for batch in batches:
            self.loss.append(batch.step, batch.loss)
            self.loss.append_epochs(batch.epochs_done)
            if self.accuracy is not None:
                self.accuracy.append_epochs(batch.epochs_done)
            self.gradient.append(batch.step, batch.grad_norm)
            self.lr_history.extend(batch.step, batch.lr)
        if batches:
            last = batches[-1]
            self.gradient.set_param_norms(last.param_grad_norms)
            self.gradient.set_time_norms(last.time_grad_norms)
            self.last_batch = last
        new = bool(batches)
        event = self._pending_predictions
        if event is not None:
            shown = self.last_batch.epoch if self.last_batch is not None else None
            if everything or shown is None or event.epoch <= shown:
                self._pending_predictions = None
                kind = event.data.get("kind")
                views = {"sine": [self.sine], "text": [self.text],
                         "classify": [v for v in (self.examples, self.confusion) if v is not None]}.get(kind, [])
                for view in views:
                    view.show_predictions(dict(event.data, epoch=event.epoch))
                    new = True
                if kind == "classify" and self.accuracy is not None:
                    self.accuracy.set_chance(chance_accuracy(event.data))
        if batches:
            self._frame_pending = True
        return new

    def _announce_frame(self) -> None:
        if self._frame_pending:
            self._frame_pending = False
            self.frameShown.emit(self.last_batch)

    def _mark_lone_points(self) -> None:
        """A curve of one point has no line: draw that point as a dot."""
        for view in (self.loss, self.gradient):
            lone = view.points == 1
            if lone == self._lone.get(id(view), False):
                continue
            self._lone[id(view)] = lone
            curve = view.curve
            if lone:
                color = curve.opts["pen"].color()
                curve.setSymbol("o")
                curve.setSymbolSize(LONE_POINT_SIZE)
                curve.setSymbolBrush(color)
                curve.setSymbolPen(None)
            else:
                curve.setSymbol(None)

    def _pace(self) -> None:
        """Adapt the redraw interval to what drawing costs on this machine: the
        GUI thread's CPU time since the last frame over the wall time."""
        now, cpu = time.perf_counter(), time.thread_time()
        last = self._frame_mark
        self._frame_mark = (now, cpu)
        if last is None or not self.timer.isActive():
            return
        wall = now - last[0]
        if wall <= 0:
            return
        busy = (cpu - last[1]) / wall
        target = GUI_BUSY_TARGET if self._pace_now() <= 0 else PACED_GUI_BUSY_TARGET
        interval = self.timer.interval()
        if busy > target:
            interval = min(MAX_REDRAW_INTERVAL_MS, int(interval * 1.5) + 1)
        elif busy < target / 2:
            interval = max(REDRAW_INTERVAL_MS, int(interval / 1.25))
        if interval != self.timer.interval():
            self.timer.setInterval(interval)
