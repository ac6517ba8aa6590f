"""Run settings as plain dataclasses with a JSON round trip.

One ``RunConfig`` says everything a run needs: the task (text or sine), the
model and the training settings. The defaults reproduce the seed tutorials:
seed 000 for text (three sentences, RNN, hidden 12, one-hot, Adam 0.01, 100
epochs), seed 002 for sine next-value (hidden 32, Adam 0.001) and seed 003 for
sine sequence (from-scratch Elman, hidden 6, SGD 0.1, 300 epochs).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace

from .errors import ConfigError

SEED_SENTENCES = ("hey how are you", "good i am fine", "have a nice day")
ARCHITECTURES = ("rnn", "rnn-relu", "lstm", "gru", "elman")
ARCH_LABELS = {
    "rnn": "RNN (tanh)",
    "rnn-relu": "RNN (ReLU)",
    "lstm": "LSTM",
    "gru": "GRU",
    "elman": "Elman (from scratch)",
}
TASKS = ("text", "sine")
SINE_MODES = ("next-value", "sequence")
ENCODINGS = ("onehot", "embedding")
OPTIMIZERS = ("adam", "sgd")
INITS = ("default", "xavier", "seed003")

# Bounds a user can reach from the CLI or the window; they keep a typo from
# asking for a model that cannot fit in memory on a 24 GiB machine.
MAX_HIDDEN = 4096
MAX_LAYERS = 8
MAX_EPOCHS = 1_000_000
MAX_LR = 100.0
MAX_WINDOW = 2048
MAX_SINE_WINDOWS = 100_000
MAX_BATCH = 4096
MAX_SENTENCES_CHARS = 200_000


@dataclass
class TaskConfig:
    kind: str = "text"
    sentences: list[str] = field(default_factory=lambda: list(SEED_SENTENCES))
    text_file: str | None = None
    # Text file (corpus) mode: windows of this many characters, this many
    # parallel streams per minibatch, hidden state carried between windows.
    window: int = 64
    batch_size: int = 32
    sine_mode: str = "next-value"
    sine_windows: int = 1000
    sine_window_len: int = 20
    sine_noise: float = 0.0


@dataclass
class ModelConfig:
    arch: str = "rnn"
    layers: int = 1
    hidden: int = 12
    encoding: str = "onehot"
    embedding_dim: int = 16
    dropout: float = 0.0
    bidirectional: bool = False
    bias: bool = True
    init: str = "default"


@dataclass
class TrainConfig:
    optimizer: str = "adam"
    lr: float = 0.01
    epochs: int = 100
    clip: float = 0.0  # 0 = off
    seed: int = 0
    device: str = "auto"
    plateau: bool = False  # reduce-on-plateau learning-rate schedule
    # The exact dLoss/dh_t of every time step needs an unrolled pass; it is
    # taken every this many steps (1 = every step). See bench/README.md.
    time_grad_every: int = 10


@dataclass
class RunConfig:
    task: TaskConfig = field(default_factory=TaskConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> RunConfig:
        if not isinstance(data, dict):
            raise ConfigError("settings must be a mapping")
        return cls(
            task=_build(TaskConfig, data.get("task", {})),
            model=_build(ModelConfig, data.get("model", {})),
            train=_build(TrainConfig, data.get("train", {})),
        )

    def copy(self) -> RunConfig:
        return RunConfig.from_dict(self.to_dict())


def _build(kind, data):
    if not isinstance(data, dict):
        raise ConfigError(f"{kind.__name__} settings must be a mapping")
    names = {f.name for f in fields(kind)}
    return kind(**{k: v for k, v in data.items() if k in names})


def defaults_for(task: str = "text", sine_mode: str = "next-value", arch: str | None = None) -> RunConfig:
    """The seed tutorials' settings for a task (and, for sine, its mode)."""
    if task == "text":
        cfg = RunConfig()
        if arch:
            cfg.model.arch = arch
        return cfg
    if task != "sine":
        raise ConfigError(f"unknown task '{task}' (choose text or sine)")
    if sine_mode == "sequence":
        # Seed 003: one 20-point sequence, Elman cell with 6 context units,
        # no biases, normal(0, 0.4)/(0, 0.3) init, SGD lr 0.1, 300 epochs.
        arch = arch or "elman"
        cfg = RunConfig(
            task=TaskConfig(kind="sine", sentences=[], sine_mode="sequence", sine_window_len=20),
            model=ModelConfig(arch=arch, hidden=6, bias=arch != "elman", init="seed003" if arch == "elman" else "default"),
            # Seed 003 keeps whatever its random init gave (loss 0.0052 at
            # epoch 290); about a quarter of inits get there in 300 epochs,
            # the rest stall near 0.1. Seed 1 is one that gets there (0.0059).
            train=TrainConfig(optimizer="sgd", lr=0.1, epochs=300, seed=1),
        )
        return cfg
    if sine_mode != "next-value":
        raise ConfigError(f"unknown sine mode '{sine_mode}' (choose next-value or sequence)")
    # Seed 002: 1000 random-phase windows of 20 points, hidden 32, Adam 0.001.
    return RunConfig(
        task=TaskConfig(kind="sine", sentences=[], sine_mode="next-value"),
        model=ModelConfig(arch=arch or "rnn", hidden=32),
        train=TrainConfig(optimizer="adam", lr=0.001, epochs=100),
    )


def _check_int(name: str, value, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be a whole number, got {value!r}")
    if value < low or value > high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")


def _check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise ConfigError(f"unknown {name} '{value}' (choose one of: {', '.join(choices)})")


def validate(cfg: RunConfig) -> RunConfig:
    """Raise ConfigError with a plain sentence for the first bad setting."""
    t, m, tr = cfg.task, cfg.model, cfg.train
    _check_choice("task", t.kind, TASKS)
    _check_choice("architecture", m.arch, ARCHITECTURES)
    _check_choice("encoding", m.encoding, ENCODINGS)
    _check_choice("optimizer", tr.optimizer, OPTIMIZERS)
    _check_choice("initialisation", m.init, INITS)
    _check_int("layers", m.layers, 1, MAX_LAYERS)
    _check_int("hidden size", m.hidden, 1, MAX_HIDDEN)
    _check_int("embedding size", m.embedding_dim, 1, MAX_HIDDEN)
    _check_int("epochs", tr.epochs, 0, MAX_EPOCHS)
    _check_int("seed", tr.seed, 0, 2**31 - 1)
    _check_int("gradient sampling interval", tr.time_grad_every, 1, 1_000_000)
    for name, value, low, high in (("learning rate", tr.lr, 0.0, MAX_LR), ("gradient clip", tr.clip, 0.0, 1e6), ("dropout", m.dropout, 0.0, 0.9)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"{name} must be a finite number, got {value!r}")
        if value < low or value > high:
            raise ConfigError(f"{name} must be between {low:g} and {high:g}, got {value:g}")
    if tr.lr <= 0:
        raise ConfigError(f"learning rate must be greater than 0, got {tr.lr:g}")
    if m.arch == "elman" and m.bidirectional:
        raise ConfigError("the from-scratch Elman cell runs in one direction only; untick bidirectional")
    if t.kind == "text":
        if m.bidirectional:
            raise ConfigError(
                "bidirectional is not available for next-character generation: the backward "
                "direction would see the very character the network must predict"
            )
        _check_int("window length", t.window, 2, MAX_WINDOW)
        _check_int("batch size", t.batch_size, 1, MAX_BATCH)
    else:
        _check_choice("sine mode", t.sine_mode, SINE_MODES)
        _check_int("sine window length", t.sine_window_len, 2, MAX_WINDOW)
        _check_int("number of sine windows", t.sine_windows, 1, MAX_SINE_WINDOWS)
        if not isinstance(t.sine_noise, (int, float)) or not math.isfinite(t.sine_noise) or not 0 <= t.sine_noise <= 10:
            raise ConfigError(f"sine noise must be between 0 and 10, got {t.sine_noise!r}")
        if t.sine_mode == "sequence" and m.bidirectional:
            raise ConfigError(
                "bidirectional is not available for the sine sequence mode: each step predicts the "
                "next point, which the backward direction would already have seen"
            )
    return cfg


__all__ = [
    "ARCHITECTURES", "ARCH_LABELS", "ENCODINGS", "INITS", "OPTIMIZERS", "SEED_SENTENCES", "SINE_MODES",
    "TASKS", "ModelConfig", "RunConfig", "TaskConfig", "TrainConfig", "defaults_for", "replace", "validate",
]
