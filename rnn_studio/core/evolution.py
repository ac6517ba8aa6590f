"""The sample evolution and the weight snapshots to rewind to (issue 10).

- ``EvolutionRecorder``: at the moments of an ``EvolutionSchedule`` (every
  tenth of the run, or every N epochs) the greedy completion of a prompt,
  and a copy of the weights, all snapshots together at most
  ``max_snapshot_bytes`` (default 64 MiB; the oldest are thinned to every
  other one when a new one would pass it). ``restore_snapshot`` puts one
  back into a model.

Nothing here runs per training step: the recorder is called at the end of an
epoch (``Session(after_epoch=...)``), and its schedule check is a modulo.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from .errors import DataError
from .history import MAX_SAMPLES, Sample

MIN_GAP_S = 0.5  # past a run's planned end, at most one moment per this much training time
DEFAULT_SNAPSHOT_BYTES = 64 * 2**20
DEFAULT_SAMPLE_LENGTH = 30


class EvolutionSchedule:
    """When to record: every ``every_epochs`` epochs, or (by default) every
    tenth of a run of ``total_epochs`` (rounded up), and at epoch 0."""

    def __init__(self, total_epochs: int | None = None, every_epochs: int | None = None, parts: int = 10):
        if every_epochs is None:
            if not total_epochs or total_epochs < 1:
                raise ValueError("a schedule needs the run's epochs or an interval")
            every_epochs = max(1, math.ceil(total_epochs / parts))
        if every_epochs < 1:
            raise ValueError("the interval must be at least one epoch")
        self.every_epochs = int(every_epochs)
        self.total_epochs = total_epochs

    def due(self, epoch: int) -> bool:
        return epoch % self.every_epochs == 0 or (self.total_epochs is not None and epoch == self.total_epochs)


@dataclass
class Snapshot:
    """The weights at one moment, on the CPU."""

    epoch: int
    step: int
    state: dict  # name -> torch.Tensor (cpu)

    @property
    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in self.state.values())


def take_snapshot(model, epoch: int, step: int) -> Snapshot:
    return Snapshot(int(epoch), int(step), {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()})


def restore_snapshot(model, snapshot: Snapshot) -> None:
    """Put the snapshot's weights into ``model`` (on its own device); DataError if they do not fit."""
    import torch

    own = model.state_dict()
    if set(own) != set(snapshot.state) or any(tuple(own[k].shape) != tuple(v.shape) for k, v in snapshot.state.items()):
        raise DataError("this snapshot was taken of a different network: its weights do not fit this one")
    with torch.no_grad():
        for name, value in snapshot.state.items():
            own[name].copy_(value.to(own[name].device, own[name].dtype))


class EvolutionRecorder:
    """Records, at the schedule's moments, the greedy completion of ``prompt``
    (``length`` characters in all) and a weight snapshot.

    Snapshots together stay under ``max_snapshot_bytes``: before one is added
    that would pass it, every other older snapshot is dropped (the first and
    the newest kept), until it fits; a network larger than the bound on its
    own keeps no snapshots and ``snapshot_note`` says why. Samples are at most
    ``MAX_SAMPLES``, thinned the same way; each thinning doubles the schedule's
    interval, and so does, past the run's planned end ("until paused"), a
    moment that comes less than ``MIN_GAP_S`` (or 20x the recording's cost)
    after the last: a fast small network would otherwise spend a third of its
    time recording."""

    def __init__(self, prompt: str | None, schedule: EvolutionSchedule, length: int = DEFAULT_SAMPLE_LENGTH,
                 max_snapshot_bytes: int = DEFAULT_SNAPSHOT_BYTES, snapshots: bool = True):
        self.prompt, self.schedule, self.length = prompt, schedule, int(length)
        self.max_snapshot_bytes = int(max_snapshot_bytes)
        self.keep_snapshots = snapshots
        self.samples: list[Sample] = []
        self.snapshots: list[Snapshot] = []
        self.snapshot_note: str | None = None
        self._last_epoch: int | None = None
        self._last_time: float | None = None  # perf_counter when maybe_record last recorded
        self._last_cost = 0.0  # seconds that recording took

    @property
    def snapshot_bytes(self) -> int:
        return sum(s.nbytes for s in self.snapshots)

    def maybe_record(self, trainer, report=None) -> Sample | None:
        """Record if the trainer's epoch is due and not recorded yet; the
        ``Session(after_epoch=...)`` hook (also fine to call every step)."""
        epoch = trainer.epoch
        if epoch == self._last_epoch or not self.schedule.due(epoch):
            return None
        total = self.schedule.total_epochs
        if total is not None and epoch > total and self._last_time is not None:
            # past the run's planned end ("until paused"): moments that come faster than
            # one per MIN_GAP_S of training (or 20x what recording costs) are too many:
            # half as many from now on (the samples stay on a regular grid of epochs)
            gap = time.perf_counter() - self._last_time
            if gap < max(MIN_GAP_S, 20 * self._last_cost):
                self.schedule.every_epochs *= 2
                return None
        started = time.perf_counter()
        sample = self.record(trainer)
        self._last_time = time.perf_counter()
        self._last_cost = self._last_time - started
        return sample

    def record(self, trainer) -> Sample:
        """Record now, whatever the schedule says."""
        self._last_epoch = trainer.epoch
        text = None
        if self.prompt and getattr(trainer, "vocab", None) is not None and trainer.task.kind == "text":
            from .generation import complete

            try:
                text = complete(trainer.model, trainer.vocab, self.prompt, max(self.length, len(self.prompt))).text
            except DataError as exc:
                text = f"({exc})"
        sample = Sample(trainer.epoch, trainer.steps, text)
        self.samples.append(sample)
        if len(self.samples) > MAX_SAMPLES:
            while len(self.samples) > MAX_SAMPLES:
                self.samples = _thin(self.samples)
            # a long run ("until paused"): half as many moments from now on, so the
            # samples stay evenly spaced and recording gets rarer instead of costing
            # the same few per cent of training for ever
            self.schedule.every_epochs *= 2
        if self.keep_snapshots:
            self._add_snapshot(take_snapshot(trainer.model, trainer.epoch, trainer.steps))
        return sample

    def _add_snapshot(self, snapshot: Snapshot) -> None:
        if snapshot.nbytes > self.max_snapshot_bytes:
            self.snapshots = []
            self.keep_snapshots = False
            self.snapshot_note = (f"this network's weights take {snapshot.nbytes / 2**20:,.1f} MiB, more than the "
                                  f"{self.max_snapshot_bytes / 2**20:,.0f} MiB kept for rewinding: no snapshots")
            return
        while self.snapshots and self.snapshot_bytes + snapshot.nbytes > self.max_snapshot_bytes:
            thinned = _thin(self.snapshots)
            if len(thinned) == len(self.snapshots):  # two or fewer left: drop the oldest
                thinned = self.snapshots[1:]
            self.snapshots = thinned
        self.snapshots.append(snapshot)

    def session_hook(self):
        """For ``Session(after_epoch=[recorder.session_hook()])``: records when
        due and returns the ``Evolution`` event the session hands its listener."""
        from .events import Evolution

        def hook(trainer, report):
            sample = self.maybe_record(trainer, report)
            if sample is None:
                return None
            return Evolution(epoch=sample.epoch, step=sample.step, text=sample.text,
                             snapshots=len(self.snapshots), snapshot_bytes=self.snapshot_bytes,
                             note=self.snapshot_note)

        return hook

    def nearest(self, epoch: int) -> Snapshot | None:
        """The snapshot taken at ``epoch`` or the latest before it."""
        before = [s for s in self.snapshots if s.epoch <= epoch]
        return before[-1] if before else None


def _thin(items: list) -> list:
    """Every other item, the first and the last always kept."""
    if len(items) <= 2:
        return list(items)
    kept = items[:-1:2]
    return [*kept, items[-1]]
