"""What a checkpoint keeps of a run's history (issue 10); ``checkpoints.py``
writes it and checks it before anything is read."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .evolution import EvolutionRecorder, Snapshot, _thin
from .history import MAX_SAMPLES, RunHistory, RunRecord, Sample, TimeGradHistory, _whole

MAX_SAVED_RUNS = 10
MAX_SAVED_CURVE_POINTS = 2_000  # per curve in a file: a run's curves are ~250 KB of JSON
MAX_SAVED_SNAPSHOTS = 100
MAX_SAVED_SNAPSHOT_BYTES = 256 * 2**20
SNAPSHOT_PREFIX = "snapshot."


@dataclass
class SavedHistory:
    """A model's history as a file keeps it: its run (label, curves, samples),
    the runs it was compared with, and its weight snapshots.

    In the file: JSON under the metadata key "history" and one tensor per
    snapshot and weight, ``snapshot.<i>.<weight name>``, each the exact shape
    and dtype of that weight; at most MAX_SAVED_SNAPSHOTS snapshots and
    MAX_SAVED_SNAPSHOT_BYTES in all (the oldest thinned at save to fit).

    The memory-through-time history (``TimeGradHistory``) is two tensors,
    ``history.time_grads`` (float32 [rows, width], NaN where a row is
    shorter) and ``history.time_grad_steps`` (int64 [rows]), described by
    "time_grads" in the JSON (rows, width, stride, samples offered). Tensors,
    not JSON: 512 x 1024 numbers would be ~6 MB of JSON in a header capped
    at 8 MiB, NaN is not JSON, and a tensor's shape and dtype are read from
    the header and checked against TIME_GRAD_ROWS x TIME_GRAD_STEPS before
    a byte of it is."""

    run: RunRecord | None = None
    runs: list[RunRecord] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    time_grads: TimeGradHistory | None = None

    @classmethod
    def gather(cls, run: RunRecord | None = None, recorder: EvolutionRecorder | None = None,
               history: RunHistory | None = None, time_grads: TimeGradHistory | None = None) -> SavedHistory:
        """What the window holds, as one object to save (``time_grads`` copied:
        the window goes on adding to its own while a worker writes this one)."""
        runs = [r for r in (history.runs if history is not None else []) if r is not run]
        return cls(run=run, runs=runs[-MAX_SAVED_RUNS:],
                   samples=list(recorder.samples) if recorder else [],
                   snapshots=list(recorder.snapshots) if recorder else [],
                   time_grads=time_grads.copy() if time_grads is not None and len(time_grads) else None)

    def to_file(self) -> tuple[dict, dict]:
        """(JSON-able metadata, tensors named ``snapshot.<i>.<name>``), within the file's bounds."""
        snapshots = list(self.snapshots)
        while len(snapshots) > MAX_SAVED_SNAPSHOTS or sum(s.nbytes for s in snapshots) > MAX_SAVED_SNAPSHOT_BYTES:
            thinned = _thin(snapshots)
            snapshots = thinned if len(thinned) < len(snapshots) else snapshots[1:]
        tensors = {f"{SNAPSHOT_PREFIX}{i}.{name}": value
                   for i, snap in enumerate(snapshots) for name, value in snap.state.items()}
        meta = {
            "run": _saved_run(self.run) if self.run is not None else None,
            "runs": [_saved_run(r) for r in self.runs[-MAX_SAVED_RUNS:]],
            "samples": [s.to_dict() for s in self.samples[-MAX_SAMPLES:]],
            "snapshots": [{"epoch": s.epoch, "step": s.step} for s in snapshots],
        }
        if self.time_grads is not None and len(self.time_grads):
            meta["time_grads"], grad_tensors = self.time_grads.to_file()
            tensors.update(grad_tensors)
        return meta, tensors

    @staticmethod
    def check_meta(meta) -> tuple[RunRecord | None, list[RunRecord], list[Sample], list[tuple[int, int]]]:
        """The metadata's claims, each checked; ValueError (one line) otherwise."""
        if not isinstance(meta, dict):
            raise ValueError("its history is not a mapping")
        runs, samples, snaps = meta.get("runs", []), meta.get("samples", []), meta.get("snapshots", [])
        if not isinstance(runs, list) or len(runs) > MAX_SAVED_RUNS:
            raise ValueError(f"its history holds more than {MAX_SAVED_RUNS} runs")
        if not isinstance(samples, list) or len(samples) > MAX_SAMPLES:
            raise ValueError(f"its history holds more than {MAX_SAMPLES} samples")
        if not isinstance(snaps, list) or len(snaps) > MAX_SAVED_SNAPSHOTS:
            raise ValueError(f"its history holds more than {MAX_SAVED_SNAPSHOTS} snapshots")
        moments = []
        for item in snaps:
            if not isinstance(item, dict):
                raise ValueError("a snapshot's moment is not a mapping")
            moments.append((_whole(item.get("epoch"), 0, 10**9, "a snapshot's epoch"),
                            _whole(item.get("step"), 0, 10**12, "a snapshot's step")))
        run = meta.get("run")
        return (RunRecord.from_dict(run) if run is not None else None,
                [RunRecord.from_dict(r) for r in runs], [Sample.from_dict(s) for s in samples], moments)


def _saved_run(record: RunRecord) -> dict:
    data = record.to_dict()
    for key in ("step_loss", "epoch_loss", "valid_loss"):
        curve = data[key]
        step = max(1, math.ceil(len(curve["x"]) / MAX_SAVED_CURVE_POINTS))
        if step > 1:
            curve.update(x=curve["x"][::step], y=curve["y"][::step], stride=curve["stride"] * step)
    return data
