"""What a training session tells whoever watches it, and what it can be asked.

Small frozen dataclasses instead of dicts with string keys (STYLE.md, "The
window, as it should read"): a reader sees every field in one place and a
misspelt field fails loudly. The Qt worker (``rnn_studio/gui/worker.py``)
hands these objects themselves to the GUI thread, tagged with its id, and
``rnn_studio/gui/runner.py`` passes on those of the network on screen.

Events are created in the session's thread and handed to its listener there;
none holds a tensor, so any thread may read them afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Union

import numpy as np

# -- events: session -> listener ------------------------------------------------------


@dataclass(frozen=True)
class RunStarted:
    """Training is about to take its first step (after the trainer was built)."""

    parameters: int
    device: str
    vocab_size: int | None
    task: str  # "text" | "sine" | "classify"
    mode: str  # task mode: "sentences", "corpus", "next-value", "sequence", "classify"
    epochs: int | None  # the goal the run trains to (it may change live)
    steps_per_epoch: int = 1  # optimizer steps (minibatches, windows) in one epoch
    has_validation: bool = False  # a held-out split is measured after every epoch


@dataclass(frozen=True)
class Loaded:
    """A checkpoint was opened (``Session(load_path=...)``)."""

    path: str
    config: dict  # what the network runs with
    saved_config: dict  # what the file says
    parameters: int
    device: str
    vocab_size: int | None
    task: str
    mode: str
    epoch: int
    steps: int
    notes: tuple = ()  # what loading had to leave out (an optimizer state that did not match)


@dataclass(frozen=True)
class StepBatch:
    """The steps taken since the last batch, as arrays (one entry per step that
    gave finite numbers), plus where the run stands now. Sent at most every
    ``flush_interval`` seconds, and whenever the run pauses or ends."""

    step: np.ndarray  # float64, optimizer step numbers
    loss: np.ndarray
    grad_norm: np.ndarray  # total gradient norm before clipping
    lr: np.ndarray
    steps: int  # steps taken so far
    epoch: int  # epochs completed so far
    epochs: int | None  # the run's goal
    until_paused: bool  # train on past ``epochs`` until paused
    lr_now: float
    elapsed: float  # seconds spent training (pauses left out)
    steps_per_s: float  # over about the last second (the first step after a start or pause left out); 0 = not measured yet
    param_grad_norms: dict[str, float]  # of the last step, finite values only
    time_grad_norms: np.ndarray | None  # ||dLoss/dh_t|| of the last step that measured it
    # the epochs completed since the last batch: one point per epoch for the
    # training/validation curves (a step curve and an epoch curve differ when
    # an epoch is several minibatches)
    epochs_done: tuple[EpochMetrics, ...] = ()
    time_grad_step: int | None = None  # the step whose time_grad_norms these are (for the history heatmap)

    def __len__(self) -> int:
        return len(self.step)


@dataclass(frozen=True)
class EpochMetrics:
    """One epoch's figures: training loss (mean over its steps), and where
    measured, validation loss, training accuracy and validation accuracy."""

    epoch: int
    loss: float | None
    valid_loss: float | None = None
    accuracy: float | None = None
    valid_accuracy: float | None = None


@dataclass(frozen=True)
class StepEnded:
    """One step, every ``step_events_every`` steps (``rnn-studio train --json-every N``):
    where a long epoch stands, without waiting for its end."""

    step: int  # optimizer steps so far in the run
    epoch: int  # epochs completed
    epoch_step: int  # steps taken in the current epoch (steps_per_epoch when this step ended it)
    steps_per_epoch: int
    loss: float  # of this step
    grad_norm: float  # of this step, before clipping
    lr: float
    elapsed: float  # training seconds so far (pauses left out)
    steps_per_s: float  # over about the last second


@dataclass(frozen=True)
class EpochEnded:
    """One epoch completed (only with ``Session(epoch_events=True)``: on the
    sentence and sine tasks an epoch is one step, and the window does not need
    a call per step)."""

    epoch: int
    loss: float | None  # mean loss over the epoch
    grad_norm: float  # mean total gradient norm over the epoch's applied steps
    ms: float  # training time since the previous epoch ended (pauses left out)
    steps: int
    valid_loss: float | None = None  # on the held-out data, when there is a split
    accuracy: float | None = None  # classify: fraction right over the epoch's training steps
    valid_accuracy: float | None = None  # classify: on the held-out data


@dataclass(frozen=True)
class Predictions:
    """``Trainer.predictions()`` (sine arrays made finite) at ``epoch``."""

    data: dict
    epoch: int


@dataclass(frozen=True)
class Diverged:
    """A step gave a non-finite (or exploded) loss or gradient; its update was
    skipped. Followed by ``Paused("diverged")`` unless the session was made
    with ``pause_on_divergence=False`` (the CLI counts them instead)."""

    reason: str  # StepReport.skipped, e.g. "loss became NaN"
    step: int
    epoch: int  # the epoch it happened in (epochs completed + 1)
    lr: float
    clip: float
    in_a_row: int  # skipped steps in a row, this one included
    message: str  # divergence_message(): what happened and what to try


@dataclass(frozen=True)
class Paused:
    reason: str  # "request" | "step" | "diverged"
    message: str = ""
    epoch: int | None = None  # set for "diverged"
    lr: float | None = None  # set for "diverged"


@dataclass(frozen=True)
class Warned:
    message: str


@dataclass(frozen=True)
class Completion:
    """The answer to a ``CompleteRequest``; ``error`` in plain words if it failed."""

    id: Any
    text: str
    prompt: str
    unknown: list[str]
    length: int
    error: str | None = None


@dataclass(frozen=True)
class Classified:
    """The answer to a ``ClassifyRequest`` (``classification.classify_text``);
    ``error`` in plain words if it failed."""

    id: Any
    text: str
    label: str
    probabilities: dict  # every class, in the model's order
    unknown: list[str]  # tokens never seen in training, once each, in order
    tokens: list[str]  # the text as the network read it
    error: str | None = None


@dataclass(frozen=True)
class Saved:
    """The answer to a ``SaveRequest``: ``epoch`` saved, or ``error``."""

    id: Any
    path: str
    epoch: int | None
    error: str | None = None
    written: str | None = None  # the file written: the link's target when ``path`` is a symbolic link


@dataclass(frozen=True)
class Evolution:
    """``evolution.EvolutionRecorder`` recorded a moment of the run (the greedy
    completion of its prompt, and a weight snapshot), from ``after_epoch``."""

    epoch: int
    step: int
    text: str | None  # None for a network that does not write text
    snapshots: int  # snapshots kept now
    snapshot_bytes: int  # their memory, under the recorder's bound
    note: str | None = None  # why no snapshots are kept, if so


@dataclass(frozen=True)
class RunEnded:
    """Always the last event of ``Session.run``."""

    state: str  # "finished" | "stopped" | "failed" | "rejected" | "idle"
    message: str  # why, for "failed" and "rejected"
    serve_only: bool  # the session did not train (it served requests, or opened a file)
    epoch: int | None  # where the trainer stands (None: there is no trainer)
    steps: int | None


Event = Union[  # noqa: UP007 - a runtime alias, readable on 3.11
    RunStarted, Loaded, StepBatch, EpochEnded, Predictions, Diverged, Paused, Warned, Completion, Classified, Saved,
    Evolution, RunEnded
]


# -- requests: anyone -> session, served between two steps -----------------------------


@dataclass(frozen=True)
class CompleteRequest:
    prompt: str
    length: int = 15  # total length, prompt included (the seed's default)
    temperature: float = 0.0  # 0 = greedy
    seed: int | None = None
    id: Any = None  # echoed in the Completion


@dataclass(frozen=True)
class ClassifyRequest:
    """classify: the label a classifier gives ``text`` (answered with ``Classified``)."""

    text: str
    id: Any = None  # echoed in Classified


@dataclass(frozen=True)
class SaveRequest:
    path: str
    id: Any = None  # echoed in Saved
    history: Any = None  # saved_history.SavedHistory to keep in the file (issue 10); None: the opened file's, if any


def as_dict(event) -> dict:
    """The event's fields as a dict (shallow: arrays are not copied)."""
    return {f.name: getattr(event, f.name) for f in fields(event)}
