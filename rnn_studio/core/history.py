"""What a run leaves behind (issue 10): memory through time and the runs to
compare. The sample evolution and the weight snapshots to rewind to are in
``evolution.py``; what a checkpoint keeps of all this in ``saved_history.py``.

All Qt-free and bounded, each bound stated where it is set:

- ``TimeGradHistory``: ||dLoss/dh_t|| of the sampled training steps
  (``StepReport.time_grad_norms``, measured every ``time_grad_every`` steps;
  ``StepBatch.time_grad_norms`` with ``StepBatch.time_grad_step``) as a 2-D
  array, training step x time step, for a log-scale heatmap. At most
  ``max_rows`` x ``max_time_steps`` float32 (default 512 x 1024 = 2 MiB);
  when the rows are full every other one is dropped and only every second
  sample is kept from then on, so the heatmap always spans the whole run.
- ``RunRecord`` / ``RunHistory``: a run's label and curves (each curve at
  most ``MAX_CURVE_POINTS`` points, decimated the same way) and the last
  ``limit`` (>= 5) runs, the oldest unpinned one dropped first. JSON round trip.

Nothing here runs per training step unless the caller asks.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field

import numpy as np

# -- memory through time -------------------------------------------------------------------------

TIME_GRAD_ROWS = 512  # training steps kept (then thinned), also the most a file may hold
TIME_GRAD_STEPS = 1024  # time steps kept per row, also the most a file may hold
TIME_GRADS_TENSOR = "history.time_grads"  # float32 [rows, width] in a checkpoint
TIME_GRAD_STEPS_TENSOR = "history.time_grad_steps"  # int64 [rows]


class TimeGradHistory:
    """||dLoss/dh_t|| per sampled training step: ``matrix()`` gives
    (training steps [N], values [N, time steps]) with NaN where a row is
    shorter than the longest. Time steps beyond ``max_time_steps`` are not kept
    (the window shows sentences of up to ~100 characters)."""

    def __init__(self, max_rows: int = TIME_GRAD_ROWS, max_time_steps: int = TIME_GRAD_STEPS):
        if max_rows < 2 or max_time_steps < 1:
            raise ValueError("a time-gradient history needs at least 2 rows and 1 time step")
        self.max_rows, self.max_time_steps = int(max_rows), int(max_time_steps)
        self._values = np.full((self.max_rows, self.max_time_steps), np.nan, dtype=np.float32)
        self._steps = np.zeros(self.max_rows, dtype=np.int64)
        self._count = 0
        self._offered = 0  # samples offered so far
        self.stride = 1  # one offered sample in ``stride`` is kept
        self.width = 0  # the longest row kept
        self.truncated = False  # some row was longer than max_time_steps

    @property
    def nbytes(self) -> int:
        """The memory it holds, fixed at creation."""
        return self._values.nbytes + self._steps.nbytes

    def __len__(self) -> int:
        return self._count

    def clear(self) -> None:
        self._values.fill(np.nan)
        self._count = self._offered = self.width = 0
        self.stride, self.truncated = 1, False

    def add(self, step: int, norms) -> bool:
        """Offer one sampled step's norms; True if it was kept."""
        if norms is None:
            return False
        values = np.asarray(norms, dtype=np.float32).ravel()
        if values.size == 0:
            return False
        ordinal = self._offered
        self._offered += 1
        if ordinal % self.stride:
            return False
        if self._count == self.max_rows:
            # keep rows 0, 2, 4...: the samples whose ordinal is a multiple of the doubled stride
            kept = self._count // 2 + self._count % 2
            self._values[:kept] = self._values[0:self._count:2]
            self._steps[:kept] = self._steps[0:self._count:2]
            self._values[kept:] = np.nan
            self._count = kept
            self.stride *= 2
            if ordinal % self.stride:
                return False
        if values.size > self.max_time_steps:
            values = values[: self.max_time_steps]
            self.truncated = True
        row = self._values[self._count]
        row[:] = np.nan
        row[: values.size] = np.where(np.isfinite(values), values, np.nan)
        self._steps[self._count] = int(step)
        self._count += 1
        self.width = max(self.width, values.size)
        return True

    def add_batch(self, batch) -> bool:
        """From a ``StepBatch``: its last measured norms, once per measured step."""
        step = getattr(batch, "time_grad_step", None)
        if batch.time_grad_norms is None or step is None or (self._count and self._steps[self._count - 1] == step):
            return False
        return self.add(step, batch.time_grad_norms)

    def matrix(self) -> tuple[np.ndarray, np.ndarray]:
        """(training step of each row [N], norms [N, width]) as copies."""
        return self._steps[: self._count].copy(), self._values[: self._count, : self.width].copy()

    def copy(self) -> TimeGradHistory:
        """An independent copy (the window keeps adding to its own while a worker saves this one)."""
        other = TimeGradHistory(self.max_rows, self.max_time_steps)
        other._values[:] = self._values
        other._steps[:] = self._steps
        other._count, other._offered, other.stride = self._count, self._offered, self.stride
        other.width, other.truncated = self.width, self.truncated
        return other

    def to_file(self) -> tuple[dict, dict]:
        """(JSON-able description, tensors ``TIME_GRADS_TENSOR`` and ``TIME_GRAD_STEPS_TENSOR``)."""
        import torch

        steps, values = self.matrix()
        meta = {"rows": len(steps), "width": int(values.shape[1]), "stride": self.stride,
                "offered": self._offered, "truncated": self.truncated,
                "max_rows": self.max_rows, "max_time_steps": self.max_time_steps}
        return meta, {TIME_GRADS_TENSOR: torch.from_numpy(values), TIME_GRAD_STEPS_TENSOR: torch.from_numpy(steps)}

    @staticmethod
    def check_meta(meta) -> dict:
        """A file's description of its history, every claim bounded (ValueError, one line):
        1 to TIME_GRAD_ROWS rows of 1 to TIME_GRAD_STEPS time steps (and no more than
        its own bounds, themselves at most those), a power-of-two stride, at least as
        many samples offered as kept."""
        if not isinstance(meta, dict):
            raise ValueError("its memory-through-time history is not a mapping")
        max_rows = _whole(meta.get("max_rows", TIME_GRAD_ROWS), 2, TIME_GRAD_ROWS, "its memory-through-time bound")
        max_steps = _whole(meta.get("max_time_steps", TIME_GRAD_STEPS), 1, TIME_GRAD_STEPS,
                           "its memory-through-time bound")
        rows = _whole(meta.get("rows"), 1, max_rows, "its memory-through-time row count")
        width = _whole(meta.get("width"), 1, max_steps, "its memory-through-time width")
        stride = _whole(meta.get("stride", 1), 1, 2**40, "its memory-through-time stride")
        if stride & (stride - 1):
            raise ValueError("its memory-through-time stride is not a power of two")
        offered = _whole(meta.get("offered", rows), rows, 2**62, "its memory-through-time sample count")
        truncated = meta.get("truncated", False)
        if not isinstance(truncated, bool):
            raise ValueError("its memory-through-time 'truncated' flag is not true or false")
        return {"rows": rows, "width": width, "stride": stride, "offered": offered, "truncated": truncated,
                "max_rows": max_rows, "max_time_steps": max_steps}

    @classmethod
    def from_file(cls, meta: dict, steps, values) -> TimeGradHistory:
        """From ``check_meta``'s answer and the two arrays it describes (already
        checked to be int64 [rows] and float32 [rows, width]): the norms must be
        NaN or finite and not negative, the steps in order; ValueError otherwise."""
        steps, values = np.asarray(steps), np.asarray(values)
        rows, width = meta["rows"], meta["width"]
        if steps.shape != (rows,) or values.shape != (rows, width):
            raise ValueError("its memory-through-time history does not match its own row count")
        if steps.dtype != np.int64 or values.dtype != np.float32:
            raise ValueError("its memory-through-time history is not whole steps and float32 norms")
        if rows and (steps.min() < 0 or steps.max() > 10**12 or np.any(np.diff(steps) < 0)):
            raise ValueError("its memory-through-time steps are not training steps in order")
        with np.errstate(invalid="ignore"):
            if np.isinf(values).any() or (values < 0).any():
                raise ValueError("its memory-through-time norms include infinite or negative values")
        history = cls(meta["max_rows"], meta["max_time_steps"])
        history._values[:rows, :width] = values
        history._steps[:rows] = steps
        history._count, history.width = rows, width
        history.stride, history._offered, history.truncated = meta["stride"], meta["offered"], meta["truncated"]
        return history

    def log10(self, floor: float = 1e-12) -> tuple[np.ndarray, np.ndarray]:
        """``matrix()`` with log10 of the norms (zeros clamped to ``floor``, NaN kept)."""
        steps, values = self.matrix()
        with np.errstate(invalid="ignore"):
            return steps, np.log10(np.maximum(values, floor))


# -- curves and runs -----------------------------------------------------------------------------

MAX_CURVE_POINTS = 20_000  # per curve: 320 KB as float64 x and y
MAX_LABEL_CHARS = 200
MIN_RUNS = 5


class Curve:
    """x, y points, at most ``max_points``: when full every other point is
    dropped and from then on one point in two (four, ...) is kept."""

    def __init__(self, max_points: int = MAX_CURVE_POINTS):
        self.max_points = int(max_points)
        self.x: list[float] = []
        self.y: list[float] = []
        self.stride = 1
        self._offered = 0

    def __len__(self) -> int:
        return len(self.x)

    def add(self, x: float, y: float) -> None:
        if y is None or not math.isfinite(y):
            return
        ordinal = self._offered
        self._offered += 1
        if ordinal % self.stride:
            return
        if len(self.x) >= self.max_points:
            self.x, self.y = self.x[::2], self.y[::2]
            self.stride *= 2
            if ordinal % self.stride:
                return
        self.x.append(float(x))
        self.y.append(float(y))

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.x, dtype=np.float64), np.asarray(self.y, dtype=np.float64)

    def to_dict(self) -> dict:
        return {"x": list(self.x), "y": list(self.y), "stride": self.stride, "offered": self._offered}

    @classmethod
    def from_dict(cls, data, max_points: int = MAX_CURVE_POINTS) -> Curve:
        if not isinstance(data, dict):
            raise ValueError("a curve is not a mapping")
        x, y = data.get("x"), data.get("y")
        if (not isinstance(x, list) or not isinstance(y, list) or len(x) != len(y) or len(x) > max_points
                or not all(_number(v) for v in x) or not all(_number(v) for v in y)):
            raise ValueError(f"a curve is not two lists of at most {max_points:,} numbers")
        curve = cls(max_points)
        curve.x, curve.y = [float(v) for v in x], [float(v) for v in y]
        curve.stride = _whole(data.get("stride", 1), 1, 2**40, "a curve's stride")
        curve._offered = _whole(data.get("offered", len(x)), 0, 2**62, "a curve's count")
        return curve


def run_label(cfg) -> str:
    """A run named by what tells runs apart: "LSTM 2x32, lr 0.01" and, where
    not the default, the optimizer, encoding, dropout, clipping..."""
    from .config import ARCH_LABELS

    m, tr = cfg.model, cfg.train
    arch = ARCH_LABELS.get(m.arch, m.arch).replace(" (from scratch)", "")
    parts = [f"{arch} {m.layers}x{m.hidden}" if m.layers > 1 else f"{arch} {m.hidden}", f"lr {tr.lr:g}"]
    if tr.optimizer != "adam":
        parts.append(tr.optimizer.upper())
    if cfg.task.kind == "text" and m.encoding == "embedding":
        parts.append(f"embedding {m.embedding_dim}")
    if m.bidirectional:
        parts.append("both ways")
    if m.dropout:
        parts.append(f"dropout {m.dropout:g}")
    if tr.clip:
        parts.append(f"clip {tr.clip:g}")
    if tr.plateau:
        parts.append("plateau")
    return ", ".join(parts)


@dataclass
class Sample:
    """The greedy completion of the prompt at one moment of training."""

    epoch: int
    step: int
    text: str | None  # None for a network that does not write text (sine)

    def to_dict(self) -> dict:
        return {"epoch": self.epoch, "step": self.step, "text": self.text}

    @classmethod
    def from_dict(cls, data) -> Sample:
        if not isinstance(data, dict):
            raise ValueError("a sample is not a mapping")
        text = data.get("text")
        if text is not None and (not isinstance(text, str) or len(text) > 20_000):
            raise ValueError("a sample's text is not text")
        return cls(_whole(data.get("epoch"), 0, 10**9, "a sample's epoch"),
                   _whole(data.get("step"), 0, 10**12, "a sample's step"), text)


@dataclass
class RunRecord:
    """One run as the comparison view and table show it. Fed with
    ``add_batch`` (the window's ``StepBatch``es) or ``add_report`` (a
    ``StepReport``, stepping a Trainer directly)."""

    label: str
    config: dict = field(default_factory=dict)
    parameters: int = 0
    run_id: int = 0
    pinned: bool = False
    step_loss: Curve = field(default_factory=Curve)  # x = optimizer step
    epoch_loss: Curve = field(default_factory=Curve)  # x = epoch
    valid_loss: Curve = field(default_factory=Curve)  # x = epoch; empty without a split
    final_loss: float | None = None
    final_valid_loss: float | None = None
    steps_per_s: float = 0.0
    seconds: float = 0.0  # training time, pauses left out
    steps: int = 0
    epochs: int = 0
    start_steps: int = 0  # the trainer's steps when this run began (an opened model goes on from its own)
    started: float = field(default_factory=time.time)  # wall clock, for "when"
    samples: list[Sample] = field(default_factory=list)  # the sample evolution of this run
    branch_of: int | None = None  # the run this one was trained from (a rewind)

    @classmethod
    def for_trainer(cls, trainer, run_id: int = 0) -> RunRecord:
        return cls(label=run_label(trainer.cfg), config=trainer.cfg.to_dict(), parameters=trainer.parameter_count,
                   run_id=run_id, steps=trainer.steps, epochs=trainer.epoch, start_steps=trainer.steps)

    @property
    def has_validation(self) -> bool:
        return len(self.valid_loss) > 0

    def add_batch(self, batch) -> None:
        for step, loss in zip(batch.step.tolist(), batch.loss.tolist(), strict=True):
            self.step_loss.add(step, loss)
            self.final_loss = loss
        for metrics in batch.epochs_done:
            self.epoch_loss.add(metrics.epoch, metrics.loss)
            self.valid_loss.add(metrics.epoch, metrics.valid_loss)
            if metrics.loss is not None and math.isfinite(metrics.loss):
                self.final_loss = metrics.loss
            if metrics.valid_loss is not None and math.isfinite(metrics.valid_loss):
                self.final_valid_loss = metrics.valid_loss
        self.steps, self.epochs = int(batch.steps), int(batch.epoch)
        self.seconds = float(batch.elapsed)
        self._update_rate()

    def _update_rate(self) -> None:
        if self.seconds > 0:
            self.steps_per_s = max(0, self.steps - self.start_steps) / self.seconds

    def add_report(self, report, seconds: float | None = None) -> None:
        if report.skipped is None:
            self.step_loss.add(report.step, report.loss)
            self.final_loss = report.loss
        if report.epoch_done:
            self.epoch_loss.add(report.epoch, report.epoch_loss)
            self.valid_loss.add(report.epoch, report.valid_loss)
            if report.epoch_loss is not None:
                self.final_loss = report.epoch_loss
            if report.valid_loss is not None:
                self.final_valid_loss = report.valid_loss
        self.steps, self.epochs = report.step, report.epoch
        self.seconds = seconds if seconds is not None else self.seconds + report.ms / 1000.0
        self._update_rate()

    def to_dict(self) -> dict:
        return {
            "label": self.label, "config": self.config, "parameters": self.parameters, "run_id": self.run_id,
            "pinned": self.pinned, "step_loss": self.step_loss.to_dict(), "epoch_loss": self.epoch_loss.to_dict(),
            "valid_loss": self.valid_loss.to_dict(), "final_loss": _finite(self.final_loss),
            "final_valid_loss": _finite(self.final_valid_loss), "steps_per_s": _finite(self.steps_per_s) or 0.0,
            "seconds": _finite(self.seconds) or 0.0, "steps": self.steps, "epochs": self.epochs,
            "start_steps": self.start_steps, "started": _finite(self.started) or 0.0, "samples": [s.to_dict() for s in self.samples],
            "branch_of": self.branch_of,
        }

    @classmethod
    def from_dict(cls, data) -> RunRecord:
        """Every field checked: a file may hold this (``checkpoints``); ValueError in one line."""
        if not isinstance(data, dict):
            raise ValueError("a run is not a mapping")
        label = data.get("label")
        if not isinstance(label, str) or len(label) > MAX_LABEL_CHARS:
            raise ValueError("a run's label is not a short text")
        config = data.get("config", {})
        if not isinstance(config, dict):
            raise ValueError("a run's settings are not a mapping")
        samples = data.get("samples", [])
        if not isinstance(samples, list) or len(samples) > MAX_SAMPLES:
            raise ValueError(f"a run holds more than {MAX_SAMPLES} samples")
        branch_of = data.get("branch_of")
        return cls(
            label=label, config=config,
            parameters=_whole(data.get("parameters", 0), 0, 2**40, "a run's parameter count"),
            run_id=_whole(data.get("run_id", 0), 0, 2**62, "a run's id"),
            pinned=_flag(data.get("pinned", False)),
            step_loss=Curve.from_dict(data.get("step_loss", {"x": [], "y": []})),
            epoch_loss=Curve.from_dict(data.get("epoch_loss", {"x": [], "y": []})),
            valid_loss=Curve.from_dict(data.get("valid_loss", {"x": [], "y": []})),
            final_loss=_optional_number(data.get("final_loss"), "a run's final loss"),
            final_valid_loss=_optional_number(data.get("final_valid_loss"), "a run's final validation loss"),
            steps_per_s=_optional_number(data.get("steps_per_s"), "a run's steps per second") or 0.0,
            seconds=_optional_number(data.get("seconds"), "a run's time") or 0.0,
            steps=_whole(data.get("steps", 0), 0, 10**12, "a run's step count"),
            epochs=_whole(data.get("epochs", 0), 0, 10**9, "a run's epoch count"),
            start_steps=_whole(data.get("start_steps", 0), 0, 10**12, "a run's first step"),
            started=_optional_number(data.get("started"), "a run's start") or 0.0,
            samples=[Sample.from_dict(s) for s in samples],
            branch_of=None if branch_of is None else _whole(branch_of, 0, 2**62, "a run's origin"),
        )


class RunHistory:
    """The last ``limit`` runs, oldest first. Adding one more drops the
    oldest run that is not pinned; pinned runs and the newest run are never
    dropped (so with every older run pinned the history grows past ``limit``
    until one is unpinned)."""

    def __init__(self, limit: int = MIN_RUNS):
        if limit < MIN_RUNS:
            raise ValueError(f"a run history keeps at least {MIN_RUNS} runs")
        self.limit = int(limit)
        self.runs: list[RunRecord] = []
        self._next_id = 1

    def __len__(self) -> int:
        return len(self.runs)

    def __iter__(self):
        return iter(self.runs)

    def new_run(self, trainer) -> RunRecord:
        """A record for ``trainer``'s run, added (which may drop the oldest unpinned run)."""
        return self.add(RunRecord.for_trainer(trainer))

    def add(self, record: RunRecord) -> RunRecord:
        if not record.run_id or any(r.run_id == record.run_id for r in self.runs):
            record.run_id = self._next_id
        self._next_id = max(self._next_id, record.run_id) + 1
        self.runs.append(record)
        self._trim()
        return record

    def _trim(self) -> list[RunRecord]:
        """Drop the oldest unpinned runs beyond the limit; the newest run (the
        one training now) is never dropped."""
        dropped = []
        while len(self.runs) > self.limit:
            oldest = next((r for r in self.runs[:-1] if not r.pinned), None)
            if oldest is None:
                break
            self.runs.remove(oldest)
            dropped.append(oldest)
        return dropped

    def get(self, run_id: int) -> RunRecord:
        for r in self.runs:
            if r.run_id == run_id:
                return r
        raise KeyError(run_id)

    def pin(self, run_id: int, pinned: bool = True) -> None:
        self.get(run_id).pinned = bool(pinned)
        self._trim()

    def remove(self, run_id: int) -> None:
        self.runs.remove(self.get(run_id))

    def to_dict(self) -> dict:
        return {"limit": self.limit, "runs": [r.to_dict() for r in self.runs]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data) -> RunHistory:
        if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
            raise ValueError("a run history is not a mapping with a list of runs")
        limit = _whole(data.get("limit", MIN_RUNS), MIN_RUNS, 1000, "a run history's limit")
        if len(data["runs"]) > 1000:
            raise ValueError("a run history holds more than 1,000 runs")
        history = cls(limit)
        for item in data["runs"]:
            history.add(RunRecord.from_dict(item))
        return history

    @classmethod
    def from_json(cls, text: str) -> RunHistory:
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            raise ValueError("a run history is not JSON") from None
        return cls.from_dict(data)

MAX_SAMPLES = 200  # samples a run keeps (evolution.EvolutionRecorder thins to it)


# -- checks for data read back from a file -------------------------------------------------------

def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _finite(v):
    return float(v) if _number(v) else None


def _optional_number(v, what: str):
    if v is None:
        return None
    if not _number(v):
        raise ValueError(f"{what} is not a number")
    return float(v)


def _whole(v, low: int, high: int, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
        raise ValueError(f"{what} is not a whole number from {low} to {high}")
    return v


def _flag(v) -> bool:
    if not isinstance(v, bool):
        raise ValueError("a run's pinned flag is not true or false")
    return v
