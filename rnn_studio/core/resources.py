"""How big a model this machine can hold, checked before any memory is taken.

The hidden-size spin box goes up to config.MAX_HIDDEN, but 8 layers of a
4096-unit LSTM need ~17 GB with Adam's state; on a smaller machine that would
freeze the desktop while swapping. The estimate below is counted from the
layer shapes, so it costs nothing.
"""

from __future__ import annotations

import os

from .config import ModelConfig
from .errors import ConfigError

GATES = {"rnn": 1, "rnn-relu": 1, "elman": 1, "gru": 3, "lstm": 4}


def estimate_parameters(cfg: ModelConfig, input_size: int, output_size: int, text: bool = True,
                        classify: bool = False) -> int:
    gates = GATES.get(cfg.arch, 1)
    dirs = 2 if cfg.bidirectional else 1
    if classify:
        # embedding + recurrent stack + seed 002's head (FC 64, FC to the classes)
        stack = ModelConfig(**{**cfg.__dict__, "encoding": "embedding"})
        body = estimate_parameters(stack, input_size, 0, text=True)
        return body + (cfg.hidden * dirs * 64 + 64) + (64 * output_size + output_size)
    first_in = cfg.embedding_dim if (text and cfg.encoding == "embedding") else input_size
    total = input_size * cfg.embedding_dim if (text and cfg.encoding == "embedding") else 0
    for layer in range(cfg.layers):
        layer_in = first_in if layer == 0 else cfg.hidden * dirs
        per_dir = gates * cfg.hidden * (layer_in + cfg.hidden) + (2 * gates * cfg.hidden if cfg.bias else 0)
        total += per_dir * dirs
    total += cfg.hidden * dirs * output_size + (output_size if cfg.bias else 0)
    return total


def available_memory_bytes() -> int | None:
    """Memory the OS says is available now (Linux), or None where unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def estimate_activation_bytes(cfg: ModelConfig, input_size: int, output_size: int, positions: int,
                              text: bool = True, classify: bool = False) -> int:
    """Bytes a training step keeps for backpropagation over ``positions``
    (batch x window) time steps: the encoded input, every layer's states
    (torch keeps about gates + 2 vectors of ``hidden`` per step and layer:
    the gate activations, the cell and the output), and the read-out's
    logits with their softmax and gradient. An estimate, counted from the
    shapes: it errs towards too much rather than too little."""
    if positions <= 0:
        return 0
    gates = GATES.get(cfg.arch, 1)
    dirs = 2 if cfg.bidirectional else 1
    if (text and cfg.encoding == "embedding") or classify:
        encoded = cfg.embedding_dim
    else:
        encoded = input_size  # one-hot: the vocabulary; sine: one value
    per_position = encoded + 2  # + the indices (int64)
    per_position += cfg.layers * dirs * (gates + 2) * cfg.hidden
    if not classify:
        per_position += 3 * output_size  # logits, softmax, their gradient
    return int(positions) * per_position * 4


def check_fits(cfg: ModelConfig, input_size: int, output_size: int, text: bool = True, classify: bool = False,
               positions: int = 0, batch_words: str | None = None) -> int:
    """Raise ConfigError if weights + gradients + Adam state, and the
    activations of a step over ``positions`` (batch x window) time steps,
    would not fit in half of the available memory; return the parameter
    count otherwise. ``batch_words``: how the message names the batch
    ("4,096 streams x windows of 2,048 characters")."""
    params = estimate_parameters(cfg, input_size, output_size, text, classify)
    weights = params * 4 * 4  # float32 weights, gradients, two Adam moments
    activations = estimate_activation_bytes(cfg, input_size, output_size, positions, text, classify)
    available = available_memory_bytes()
    if available is None:
        return params
    free = f"this machine has {available / 2**30:.1f} GiB free"
    if weights > available // 2:
        raise ConfigError(
            f"a {cfg.layers}-layer {cfg.arch} with hidden size {cfg.hidden} has {params:,} parameters and needs about "
            f"{weights / 2**30:.1f} GiB to train; {free}: choose fewer layers or a smaller hidden size"
        )
    if weights + activations > available // 2:
        what = batch_words or f"{positions:,} time steps at once"
        raise ConfigError(
            f"a batch of {what} through a {cfg.layers}-layer {cfg.arch} of {cfg.hidden} units needs about "
            f"{activations / 2**30:.1f} GiB for what each step keeps for backpropagation (and "
            f"{weights / 2**30:.1f} GiB for the weights); {free}: use a smaller batch or window, "
            "or a smaller network"
        )
    return params


def step_positions(task) -> tuple[int, str]:
    """(batch x window of one training step, the same in words) for a built task."""
    if getattr(task, "mode", None) == "corpus":
        return task.batch_size * task.window, (
            f"{task.batch_size:,} streams x windows of {task.window:,} characters")
    batch = getattr(task, "batch", None)
    if batch is None:
        return 0, ""
    rows = int(batch.inputs.shape[0])
    per_step = min(rows, getattr(task, "batch_examples", 0) or rows)
    steps = int(batch.inputs.shape[1])
    if getattr(task, "kind", None) == "sine" and getattr(task, "mode", None) == "sequence":
        return steps, f"one sequence of {steps:,} points"
    what = {"sine": "windows", "classify": "examples"}.get(getattr(task, "kind", None), "sentences")
    return per_step * steps, f"{per_step:,} {what} of {steps:,} steps"


def planned_positions(task, text_chars: int | None = None) -> tuple[int, str]:
    """``step_positions`` of the task the settings ``task`` (a TaskConfig)
    describe, counted without building it: no file read, nothing allocated,
    so the window can say before Train what ``Trainer`` refuses at Train.
    ``text_chars``: a text file's length in characters (the task cuts its
    streams and windows to fit it); unknown, the settings' own batch x window,
    which is at least as much. A classifier's (its examples' lengths are only
    known once they are read) is not counted here: (0, "")."""
    from .config import resolved_valid_fraction
    from .text import clean_sentences

    def minibatch(rows: int) -> int:  # data._Minibatches
        examples = task.batch_examples
        return examples if 0 < examples < rows else rows

    def held_out(count: int) -> int:  # labelled.split_indices and SineTask: round, at least one, one left
        fraction = resolved_valid_fraction(task, count)
        return min(max(int(round(count * fraction)), 1), count - 1) if fraction > 0 and count > 1 else 0

    if task.kind == "sine":
        steps = int(task.sine_window_len)
        if task.sine_mode == "sequence":
            return steps, f"one sequence of {steps:,} points"
        rows = minibatch(task.sine_windows - held_out(task.sine_windows))
        return rows * steps, f"{rows:,} windows of {steps:,} steps"
    if task.kind == "text" and task.text_file:
        streams, window = int(task.batch_size), int(task.window)
        if text_chars is not None:  # data.CorpusTask
            fraction = resolved_valid_fraction(task, text_chars)
            train = text_chars - (int(text_chars * fraction) if fraction > 0 else 0)
            streams = max(1, min(streams, (train - 1) // 2))
            window = max(1, min(window, (train - 1) // streams))
        return streams * window, f"{streams:,} streams x windows of {window:,} characters"
    if task.kind == "text":
        sentences = clean_sentences(task.sentences)
        steps = max(len(s) for s in sentences) - 1
        rows = minibatch(len(sentences) - held_out(len(sentences)))
        return rows * steps, f"{rows:,} sentences of {steps:,} steps"
    return 0, ""


SMALL_MODEL_PARAMETERS = 50_000


def threads_for(parameter_count: int, device_type: str = "cpu") -> int | None:
    """How many CPU threads torch should use for a model this size, or None
    to leave torch's choice. The classroom models (a few hundred to a few
    thousand parameters) run each operation in microseconds, where a second
    thread only adds hand-offs: on a busy 2-core machine the seed run took
    23 ms/epoch with 2 threads and 1.3 ms with 1 (bench/README.md, Threads).
    One thread also leaves the other core to the window."""
    if device_type == "cpu" and parameter_count < SMALL_MODEL_PARAMETERS:
        return 1
    return None


_default_threads: int | None = None


def apply_thread_policy(parameter_count: int, device_type: str = "cpu") -> None:
    """Set torch's (process-wide) thread count for this run, down for a small
    model and back to torch's own default for a larger one: a window that
    first trains the seed model and then an LSTM of 67k parameters must not
    keep the LSTM on one thread (9.5 vs 6.1 steps/s, bench/README.md)."""
    import torch

    global _default_threads
    if _default_threads is None:
        _default_threads = torch.get_num_threads()
    threads = threads_for(parameter_count, device_type) or _default_threads
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


_tuned: dict = {}  # (parameters, device, default threads) -> (the choice, what was measured), this process


class ThreadTuner:
    """Measures, while a larger model trains, whether one torch thread or
    torch's default steps faster here and now, and keeps the faster.

    Why measured: on this 2-core machine a 300,000-parameter LSTM on three
    sentences took 77 steps/s with one thread and 104 with two when the
    machine was otherwise idle, but 66-75 against 6-8 (ten times slower)
    while another process kept one core busy (bench/README.md, Threads):
    OpenMP waits for a thread that is not running. A window shares the
    machine with its own drawing and whatever else the teacher runs, so the
    window's runs (``Session(tune_threads=True)``) try both now and then.

    How: after ``after_step`` has seen ``settle`` steps, one thread and then
    torch's default each run for at least ``trial_s`` seconds and
    ``trial_steps`` steps (the first step after a switch is left out: a thread
    pool wakes up; the default is given at most twice one thread's time, so a
    stalling trial ends early), the one with the smaller median step time is
    kept for ``keep_s`` seconds of training, then the trial is repeated, or
    sooner when three steps in a row take over three times what the kept one
    measured (the machine got busier). A later run of a model of the same size
    in the same process starts with the last choice (no trial at its start). Only for CPU models at or past
    ``SMALL_MODEL_PARAMETERS`` (smaller ones always use one thread) and when
    torch's default is more than one thread. Changing the thread count can
    change the last bits of a sum, so the CLI (exact resume, scripts that
    must match) does not tune."""

    def __init__(self, parameter_count: int, device_type: str = "cpu", *, default_threads: int | None = None,
                 trial_s: float = 0.4, trial_steps: int = 4, keep_s: float = 20.0, settle: int = 2):
        import torch

        global _default_threads
        if _default_threads is None:
            _default_threads = torch.get_num_threads()
        self.default = int(default_threads or _default_threads)
        self.active = device_type == "cpu" and parameter_count >= SMALL_MODEL_PARAMETERS and self.default > 1
        self.trial_s, self.trial_steps, self.keep_s = float(trial_s), int(trial_steps), float(keep_s)
        self.candidates = (1, self.default)  # one thread is always tried first
        self.choice = torch.get_num_threads()  # what the last trial kept (what trains between trials)
        self.trials = 0  # trials finished
        self.measured: dict[int, float] = {}  # the last trial's median seconds a step, per thread count
        self._phase = "settle"
        self._left = max(0, int(settle))
        self._key = (int(parameter_count), device_type, self.default)
        known = _tuned.get(self._key)
        if self.active and known is not None:
            # this model size was measured by an earlier run of this process: start with
            # that choice and measure again when the first keep_s of training is over
            self.choice, self.measured = known[0], dict(known[1])
            self._phase, self._spent, self._slow = "keep", 0.0, 0
            if torch.get_num_threads() != self.choice:
                torch.set_num_threads(self.choice)
        self._index = 0
        self._times: list[float] = []
        self._spent = 0.0
        self._budget = 0.0  # one thread's trial time: the other may take twice that
        self._slow = 0  # steps in a row far slower than the kept choice measured
        self._left_taken = 0

    def after_step(self, seconds: float) -> None:
        """The trainer's time for the step just taken (``StepReport.ms / 1000``)."""
        if not self.active:
            return
        if self._phase == "settle":
            self._left -= 1
            if self._left <= 0:
                self._start_trial()
        elif self._phase == "trial":
            self._spent += seconds
            if self._index == 1 and self._spent > 2 * self._budget:
                # far slower than one thread already (OpenMP waiting for a core): stop trying
                self.measured[self.candidates[1]] = self._spent / max(1, len(self._times) + self._left_taken)
                self._decide()
                return
            if self._left > 0:  # the first step after a switch (a thread pool wakes up) is not measured
                self._left -= 1
                self._left_taken += 1
                return
            self._times.append(seconds)
            if len(self._times) >= self.trial_steps and sum(self._times) >= self.trial_s:
                median = sorted(self._times)[len(self._times) // 2]
                self.measured[self.candidates[self._index]] = median
                if self._index == 0:
                    self._budget = sum(self._times)
                    self._index = 1
                    self._switch(self.candidates[1])
                else:
                    self._decide()
        else:
            self._spent += seconds
            kept = self.measured.get(self.choice)
            self._slow = self._slow + 1 if kept and seconds > 3 * kept else 0
            if self._spent >= self.keep_s or self._slow >= 3:  # due, or the machine changed: measure again
                self._start_trial()

    def _decide(self) -> None:
        self.trials += 1
        self.choice = min(self.candidates, key=lambda n: self.measured.get(n, float("inf")))
        _tuned[self._key] = (self.choice, dict(self.measured))
        self._switch(self.choice)
        self._phase = "keep"

    def _start_trial(self) -> None:
        # one thread first: its steps never stall, and they set how long the other may take
        self._phase, self._index = "trial", 0
        self._switch(self.candidates[0])

    def _switch(self, threads: int) -> None:
        import torch

        self._times, self._spent, self._slow, self._left_taken = [], 0.0, 0, 0
        self._left = 1 if threads != torch.get_num_threads() else 0
        if threads != torch.get_num_threads():
            torch.set_num_threads(threads)


# glibc's malloc hands blocks over 128 KiB back to the system when they are
# freed (and raises that bar only as it sees them), so a step of large
# tensors (seed 002: 1000 x 20 x 32) maps and faults in fresh pages every
# step: ~2x the page faults of the seed's own loop in a fresh process, ~7%
# of its throughput (bench/README.md, issue 12). Keeping freed blocks for
# reuse costs at most the trim threshold in resident memory.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
KEEP_BLOCKS_BELOW = 64 * 2**20
KEEP_FREED_BYTES = 256 * 2**20


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to reuse freed blocks of up to 64 MiB instead of
    returning them to the system after every step. True where it applied
    (Linux with glibc); elsewhere nothing changes."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, KEEP_BLOCKS_BELOW)) and bool(
            libc.mallopt(_M_TRIM_THRESHOLD, KEEP_FREED_BYTES))
    except (OSError, AttributeError):
        return False

