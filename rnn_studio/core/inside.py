"""What the window's "Inside the network" views need, computed between two steps (issue 10).

The window never touches the model: it posts an ``InsideRequest`` and the
thread that holds the network answers with one ``InsideFrame`` (plain numpy
arrays and strings, no tensor), computed here, Qt-free, by the same core
functions ``rnn-studio inspect`` prints (``inspection.read_text``,
``complete_with_confidence``, ``branch``):

- the reading of a chosen text (a training sentence): h_t and c_t per layer,
  the gates, for the hidden-state and gate views;
- the greedy completion of the prompt with the probability of every chosen
  character, or a branch from a candidate, for the confidence view;
- with ``moment`` (an epoch), all of it from the weight snapshot taken then
  (rewind), the current weights put back afterwards; ``predictions`` adds
  that moment's reading of every training sentence for the sentence view;
- the sample evolution and the snapshot moments the recorder keeps.

Also here: the ``EvolutionRecorder`` of a run that goes on from an earlier one
(its samples and snapshots carried over), of an opened file's history, and of
a branch (only the moments up to where it branched), and the Elman check for
whatever network is on screen.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from .errors import StudioError
from .evolution import DEFAULT_SAMPLE_LENGTH, EvolutionRecorder, EvolutionSchedule, restore_snapshot
from .history import Sample

DEFAULT_COMPLETION_LENGTH = 36


@dataclass(frozen=True)
class InsideRequest:
    """What the inside views want to see. ``sentence``: the text whose hidden
    states and gates to show (None: none); ``prompt``: complete it with
    confidence (None: no completion); ``branch`` = (text, position, char):
    continue ``text`` from ``char`` at ``position`` instead; ``moment``: the
    epoch of a weight snapshot to look at (None: the network as it is now)."""

    id: int = 0
    sentence: str | None = None
    prompt: str | None = None
    length: int = DEFAULT_COMPLETION_LENGTH
    moment: int | None = None
    branch: tuple[str, int, str] | None = None
    predictions: bool = False


@dataclass(frozen=True)
class InsideFrame:
    """The answer to an ``InsideRequest``. ``epoch``/``steps``: where the
    network stands now; ``moment``: the snapshot's (epoch, step) shown, None
    when the views show the network as it is now."""

    id: int
    epoch: int
    steps: int
    arch: str = ""
    moment: tuple[int, int] | None = None
    reading: object | None = None  # inspection.Reading of the sentence
    reading_error: str | None = None
    completion: object | None = None  # inspection.ConfidentCompletion of the prompt
    completion_error: str | None = None
    predictions: dict | None = None  # Trainer.predictions() at the moment (with ``request.predictions``)
    samples: tuple[Sample, ...] = ()
    moments: tuple[tuple[int, int], ...] = ()  # (epoch, step) of every snapshot kept
    snapshot_bytes: int = 0
    snapshot_limit: int = 0
    snapshot_note: str | None = None
    error: str | None = None  # nothing to look inside: why
    seconds: float = 0.0  # what computing it cost, in the worker thread
    request: InsideRequest = field(default_factory=InsideRequest)


class _AtMoment:
    """Put a snapshot's weights into the model for the ``with`` block, the
    current ones back after it (the block runs between two training steps)."""

    def __init__(self, model, snapshot):
        self.model, self.snapshot, self.saved = model, snapshot, None

    def __enter__(self):
        if self.snapshot is not None:
            self.saved = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
            restore_snapshot(self.model, self.snapshot)
        return self

    def __exit__(self, *exc):
        if self.saved is not None:
            self.model.load_state_dict(self.saved)
        return False


def compute_inside(trainer, recorder: EvolutionRecorder | None, request: InsideRequest) -> InsideFrame:
    """The frame for ``request`` from the network of ``trainer`` (in the thread
    that holds it). Never raises for what a user can cause: the reasons come
    back as ``error``, ``reading_error`` and ``completion_error``."""
    from .inspection import arch_of, branch, complete_with_confidence, read_text

    started = time.perf_counter()
    if trainer is None:
        return InsideFrame(request.id, 0, 0, error="there is no network yet: press Train first", request=request)
    history = dict(
        samples=tuple(recorder.samples) if recorder else (),
        moments=tuple((s.epoch, s.step) for s in recorder.snapshots) if recorder else (),
        snapshot_bytes=recorder.snapshot_bytes if recorder else 0,
        snapshot_limit=recorder.max_snapshot_bytes if recorder else 0,
        snapshot_note=recorder.snapshot_note if recorder else None,
    )
    base = dict(id=int(request.id), epoch=int(trainer.epoch), steps=int(trainer.steps), request=request, **history)
    model, vocab = trainer.model, getattr(trainer, "vocab", None)
    try:
        arch = arch_of(model.rnn)
    except (StudioError, AttributeError):
        arch = getattr(model, "arch", "")
    if trainer.task.kind != "text" or vocab is None or getattr(trainer, "classify", False):
        what = {"sine": "the sine wave", "classify": "sorting sentences"}.get(trainer.task.kind, trainer.task.kind)
        return InsideFrame(
            arch=arch, error=f"these views read text character by character; this network was trained on {what}", **base
        )
    snapshot = recorder.nearest(request.moment) if recorder is not None and request.moment is not None else None
    reading = completion = predictions = None
    reading_error = completion_error = None
    with _AtMoment(model, snapshot):
        if request.sentence:
            try:
                reading = read_text(model, vocab, request.sentence)
            except StudioError as exc:
                reading_error = str(exc)
        if request.branch is not None:
            text, position, char = request.branch
            try:
                completion = branch(model, vocab, text, position, char, max(request.length, len(text)))
            except StudioError as exc:
                completion_error = str(exc)
        elif request.prompt:
            try:
                completion = complete_with_confidence(model, vocab, request.prompt, int(request.length))
            except StudioError as exc:
                completion_error = str(exc)
        if request.predictions and trainer.task.mode == "sentences":
            predictions = trainer.predictions()
    return InsideFrame(
        arch=arch,
        moment=(snapshot.epoch, snapshot.step) if snapshot is not None else None,
        reading=reading,
        reading_error=reading_error,
        completion=completion,
        completion_error=completion_error,
        predictions=predictions,
        seconds=time.perf_counter() - started,
        **base,
    )


# -- the recorder of a run ----------------------------------------------------------------------


def new_recorder(
    prompt: str | None,
    total_epochs: int,
    length: int = DEFAULT_SAMPLE_LENGTH,
    previous: EvolutionRecorder | None = None,
    until_epoch: int | None = None,
) -> EvolutionRecorder:
    """A recorder for a run that trains to ``total_epochs`` (every tenth of
    it). ``previous``: the recorder of the run this one goes on from, whose
    samples and snapshots it keeps (only those up to ``until_epoch`` for a
    branch from a rewound moment)."""
    recorder = EvolutionRecorder(
        prompt or None,
        EvolutionSchedule(total_epochs=max(1, int(total_epochs))),
        length=max(int(length), len(prompt or "")),
    )
    if previous is not None:
        keep = (lambda epoch: True) if until_epoch is None else (lambda epoch: epoch <= until_epoch)  # noqa: E731
        recorder.samples = [s for s in previous.samples if keep(s.epoch)]
        recorder.snapshots = [s for s in previous.snapshots if keep(s.epoch)]
        recorder.keep_snapshots = previous.keep_snapshots
        recorder.snapshot_note = previous.snapshot_note
        recorder.max_snapshot_bytes = previous.max_snapshot_bytes
    return recorder


def recorder_from_saved(
    saved, prompt: str | None, total_epochs: int, length: int = DEFAULT_SAMPLE_LENGTH
) -> EvolutionRecorder:
    """The recorder of an opened network: the samples and snapshots its file kept."""
    recorder = new_recorder(prompt, total_epochs, length)
    if saved is not None:
        recorder.samples = list(saved.samples)
        recorder.snapshots = list(saved.snapshots)
        while recorder.snapshots and recorder.snapshot_bytes > recorder.max_snapshot_bytes:
            recorder.snapshots = recorder.snapshots[1:]
    return recorder


def record_start(recorder: EvolutionRecorder | None, trainer):
    """The moment before the first step (epoch 0: the network as initialised),
    which an after-epoch hook never sees; the ``Evolution`` event or None."""
    if recorder is None or trainer is None or trainer.epoch != 0 or recorder.samples:
        return None
    return recorder.session_hook()(trainer, None)


# -- Elman vs nn.RNN for the network on screen ------------------------------------------------


@dataclass(frozen=True)
class ElmanReport:
    """``elman_check.compare_elman_with_torch`` of ``what``, or ``error``."""

    id: int
    what: str
    comparison: object | None = None  # elman_check.ElmanComparison
    error: str | None = None


def elman_check(trainer, hidden_size: int = 12, layers: int = 1, request_id: int = 0) -> ElmanReport:
    """The Elman check of the network on screen when it is the from-scratch
    Elman network, otherwise of a fresh one of ``hidden_size`` x ``layers``
    (seeded): the check is about the cell's arithmetic, not the training."""
    import torch

    from .elman_check import compare_elman_with_torch
    from .models import ElmanRNN

    try:
        rnn = getattr(getattr(trainer, "model", None), "rnn", None)
        if isinstance(rnn, ElmanRNN):
            what = f"the network on screen (Elman, {rnn.num_layers} x {rnn.hidden_size} hidden units)"
        else:
            torch.manual_seed(0)
            if rnn is not None:
                hidden_size, layers = int(rnn.hidden_size), int(rnn.num_layers)
            rnn = ElmanRNN(8, max(1, int(hidden_size)), max(1, int(layers)))
            what = (
                f"a fresh Elman network ({layers} x {hidden_size} hidden units, 8 inputs): the network on screen "
                "is not the from-scratch Elman network"
                if trainer is not None
                else f"a fresh Elman network ({layers} x {hidden_size} hidden units, 8 inputs)"
            )
        return ElmanReport(request_id, what, compare_elman_with_torch(rnn))
    except StudioError as exc:
        return ElmanReport(request_id, "", error=str(exc))


@dataclass(frozen=True)
class OpenedHistory:
    """What an opened file kept of its history (``trainer.saved_history``),
    sent right after ``Loaded``: its run, the runs it was compared with, and
    its sample evolution (its snapshots stay with the network, in the recorder)
    and its memory-through-time history."""

    run: object | None  # history.RunRecord
    runs: tuple = ()
    samples: tuple[Sample, ...] = ()
    snapshots: int = 0
    time_grads: object | None = None  # history.TimeGradHistory, a copy the window may add to
