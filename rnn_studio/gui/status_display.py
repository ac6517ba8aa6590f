"""What the window says about the run: the progress bar, the status bar and the run's messages.

It follows events and shows them; it decides nothing about the run. The
progress bar shows the frame the views show (``LiveViews.frameShown``), so the
bar, the loss curve and the gradient curve name the same epoch at every
redraw (issue 9). The status bar names the run's state in words, the device
and parameter count of the network on screen, and the measured training
speed. The message bar explains, in the window itself, a run that was
refused, failed, diverged or warned.
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLabel, QProgressBar

from ..core.events import Paused, RunEnded, StepBatch, Warned
from .panels.common import MessageBar
from .runner import IN_PROGRESS, Runner

PROGRESS_STEPS = 10_000  # the progress bar's range past 32 bits, whatever the number of epochs
STATE_WORDS = {
    "idle": "Ready",
    "running": "Training…",
    "paused": "Paused",
    "finished": "Finished",
    "stopped": "Stopped",
    "failed": "Stopped by an error",
}
PROGRESS_PREFIX = {
    "paused": "Paused: ",
    "stopped": "Stopped: ",
    "failed": "Stopped by an error: ",
    "finished": "Finished: ",
}


def format_elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_rate(steps_per_s: float) -> str:
    """0 means not measured yet (the first step is left out: it warms up)."""
    return f"{steps_per_s:,.0f} steps/s" if steps_per_s > 0 else "– steps/s"


def sentence(text: str) -> str:
    """``text`` as a sentence: a capital first letter and a full stop."""
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def epoch_progress(batch: StepBatch, steps_per_epoch: int, state: str) -> str:
    """Where the run is inside an epoch of several steps (minibatches, a text
    file's windows), and the time left in it at the measured speed; "" when an
    epoch is one step."""
    if steps_per_epoch <= 1:
        return ""
    position = (batch.steps - batch.epoch * steps_per_epoch) % steps_per_epoch
    text = f"  ·  step {position:,}/{steps_per_epoch:,} of the epoch"
    if state == "running" and batch.steps_per_s > 0:
        left = (steps_per_epoch - position) / batch.steps_per_s
        if steps_per_epoch / batch.steps_per_s >= 2:  # a quick epoch needs no countdown
            text += f", {format_elapsed(left)} left"
    return text


class StatusDisplay:
    """The progress bar, the status bar labels and the run's messages."""

    def __init__(
        self,
        runner: Runner,
        *,
        progress_bar: QProgressBar,
        state_label: QLabel,
        speed_label: QLabel,
        device_label: QLabel,
        parameter_label: QLabel,
        device_combo: QComboBox,
        message_bar: MessageBar,
    ):
        self.progress_bar = progress_bar
        self.state_label, self.speed_label = state_label, speed_label
        self.device_label, self.parameter_label = device_label, parameter_label
        self.device_combo = device_combo
        self.message_bar = message_bar
        self.runner = runner
        self._frame: StepBatch | None = None

    # ------------------------------------------------------------------ state and progress
    def show_state(self, *_args) -> None:
        state = self.runner.state
        self.state_label.setText(STATE_WORDS.get(state, state))
        self.show_progress()
        self.show_device()

    def show_opening(self, name: str) -> None:
        self.state_label.setText(f"Opening {name}…")

    def show_frame(self, batch: StepBatch | None) -> None:
        """The frame the views show now (None: nothing of this run yet)."""
        self._frame = batch
        if batch is None:
            self.speed_label.setText("")
        self.show_progress()

    def show_progress(self) -> None:
        bar, batch, info, state = self.progress_bar, self._frame, self.runner.info, self.runner.state
        if batch is None:
            bar.setRange(0, 1)
            if info.opened and state not in IN_PROGRESS:
                bar.setValue(1)
                bar.setFormat(f"Opened {info.opened}: trained for {info.epoch:,} epochs")
                return
            bar.setValue(0)
            bar.setFormat("Ready: press Train" if state == "idle" else "Starting…")
            return
        epoch, epochs = batch.epoch, max(0, int(batch.epochs or 0))
        if batch.until_paused:
            bar.setRange(0, 1)
            bar.setValue(0)
            text = f"Epoch {epoch:,} (until paused)"
        else:
            if epochs < 2**31:
                bar.setRange(0, max(1, epochs))
                bar.setValue(min(epoch, max(1, epochs)))
            else:  # QProgressBar counts in 32 bits: show a fraction instead
                bar.setRange(0, PROGRESS_STEPS)
                bar.setValue(round(PROGRESS_STEPS * min(1.0, epoch / epochs)))
            text = f"Epoch {epoch:,} / {epochs:,}"
        text += epoch_progress(batch, info.steps_per_epoch, state)
        rate = format_rate(batch.steps_per_s)
        bar.setFormat(f"{PROGRESS_PREFIX.get(state, '')}{text}  ·  {format_elapsed(batch.elapsed)}  ·  {rate}")
        self.speed_label.setText(rate)

    # ------------------------------------------------------------------ the status bar
    def show_device(self, *_args) -> None:
        """The device of the network on screen, else the one the controls chose."""
        combo, device = self.device_combo, self.runner.info.device
        label = combo.currentText()
        if device is not None:
            index = combo.findData(device)
            label = combo.itemText(index) if index >= 0 else device
        self.device_label.setText(f"Device: {label}")

    def show_parameters(self, count: int | None) -> None:
        self.parameter_label.setText("Parameters: –" if count is None else f"Parameters: {count:,}")

    # ------------------------------------------------------------------ the run's messages
    def run_paused(self, event: Paused) -> None:
        if event.reason == "diverged":
            self.message_bar.show_message("error", event.message)

    def run_warned(self, event: Warned) -> None:
        self.message_bar.show_message(
            "warning",
            f"Warning: {sentence(event.message)} Lower it (it can change "
            "while training runs) or turn on gradient clipping.",
        )

    def run_ended(self, event: RunEnded) -> None:
        if event.state == "rejected":
            self.message_bar.show_message("error", f"Cannot start training: {sentence(event.message)}")
        elif event.state == "failed":
            self.message_bar.show_message(
                "error",
                f"Training stopped because of an error inside the trainer: {sentence(event.message)} "
                "The studio still works: change a setting and press Train to try again.",
            )
