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


def check_fits(cfg: ModelConfig, input_size: int, output_size: int, text: bool = True, classify: bool = False) -> int:
    """Raise ConfigError if weights + gradients + Adam state would not fit in
    half of the available memory; return the parameter count otherwise."""
    params = estimate_parameters(cfg, input_size, output_size, text, classify)
    need = params * 4 * 4  # float32 weights, gradients, two Adam moments
    available = available_memory_bytes()
    if available is not None and need > available // 2:
        raise ConfigError(
            f"a {cfg.layers}-layer {cfg.arch} with hidden size {cfg.hidden} has {params:,} parameters and needs about "
            f"{need / 2**30:.1f} GiB to train; this machine has {available / 2**30:.1f} GiB free: choose fewer layers or a smaller hidden size"
        )
    return params


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
