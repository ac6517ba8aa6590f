"""Settings: the seed defaults, the JSON round trip, and every bound."""

from __future__ import annotations

import json

import pytest

from rnn_studio.core import resources
from rnn_studio.core.config import (
    MAX_HIDDEN,
    MAX_LAYERS,
    SEED_SENTENCES,
    ModelConfig,
    RunConfig,
    TaskConfig,
    TrainConfig,
    defaults_for,
    validate,
)
from rnn_studio.core.errors import ConfigError
from rnn_studio.core.training import Trainer


def test_text_defaults_are_seed_000():
    cfg = RunConfig()
    assert cfg.task.kind == "text" and tuple(cfg.task.sentences) == SEED_SENTENCES
    assert (cfg.model.arch, cfg.model.layers, cfg.model.hidden, cfg.model.encoding) == ("rnn", 1, 12, "onehot")
    assert (cfg.train.optimizer, cfg.train.lr, cfg.train.epochs, cfg.train.clip) == ("adam", 0.01, 100, 0.0)
    assert defaults_for("text").to_dict() == cfg.to_dict()
    assert defaults_for("text", arch="gru").model.arch == "gru"


def test_sine_defaults_are_seeds_002_and_003():
    nv = defaults_for("sine")
    assert (nv.task.kind, nv.task.sine_mode, nv.task.sine_windows, nv.task.sine_window_len) == ("sine", "next-value", 1000, 20)
    assert (nv.model.hidden, nv.train.optimizer, nv.train.lr, nv.train.epochs) == (32, "adam", 0.001, 100)
    seq = defaults_for("sine", "sequence")
    assert (seq.model.arch, seq.model.hidden, seq.model.bias) == ("elman", 6, False)
    assert (seq.train.optimizer, seq.train.lr, seq.train.epochs) == ("sgd", 0.1, 300)
    assert seq.task.sine_window_len == 20
    for cfg in (nv, seq):
        validate(cfg)
    with pytest.raises(ConfigError):
        defaults_for("video")
    with pytest.raises(ConfigError):
        defaults_for("sine", "cosine")


def test_json_round_trip():
    cfg = defaults_for("sine", "sequence")
    cfg.train.clip, cfg.model.dropout, cfg.task.sentences = 0.5, 0.25, ["ünï", "😀 x"]
    again = RunConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg
    assert cfg.copy() == cfg and cfg.copy() is not cfg
    copy = cfg.copy()
    copy.task.sentences.append("more")
    assert cfg.task.sentences == ["ünï", "😀 x"]  # a deep copy


def test_from_dict_ignores_unknown_keys_and_refuses_non_mappings():
    cfg = RunConfig.from_dict({"model": {"hidden": 7, "from_the_future": 1}, "extra": {}})
    assert cfg.model.hidden == 7 and cfg.train == TrainConfig()
    for bad in ([], "text", {"model": [1]}, {"train": 3}):
        with pytest.raises(ConfigError):
            RunConfig.from_dict(bad)


def _cfg(**changes):
    cfg = RunConfig()
    for key, value in changes.items():
        section, name = key.split("__")
        setattr(getattr(cfg, section), name, value)
    return cfg


BAD = {
    "model__hidden": [0, -1, MAX_HIDDEN + 1, 2.0, True, "12", None],
    "model__layers": [0, MAX_LAYERS + 1, 1.5],
    "model__arch": ["transformer", "", None],
    "model__encoding": ["bytes"],
    "model__dropout": [-0.1, 0.95, float("nan"), float("inf"), "0.1"],
    "model__embedding_dim": [0],
    "model__init": ["he"],
    "train__lr": [0, 0.0, -1e-3, float("nan"), float("inf"), -float("inf"), 1e6, True, None],
    "train__epochs": [-1, 1.5, 10**9],
    "train__clip": [-1.0, float("nan"), float("inf")],
    "train__optimizer": ["lbfgs"],
    "train__seed": [-1, 2**40],
    "train__time_grad_every": [0],
    "task__kind": ["video"],
    "task__window": [1, 0, 10**6],
    "task__batch_size": [0],
}


@pytest.mark.parametrize("field,value", [(f, v) for f, values in BAD.items() for v in values])
def test_validate_refuses_out_of_range_settings(field, value):
    with pytest.raises(ConfigError) as err:
        validate(_cfg(**{field: value}))
    assert "\n" not in str(err.value) and str(err.value)


@pytest.mark.parametrize("field,value", [
    ("sine_mode", "cosine"), ("sine_window_len", 1), ("sine_windows", 0), ("sine_noise", -1.0),
    ("sine_noise", float("nan")),
])
def test_validate_refuses_bad_sine_settings(field, value):
    cfg = defaults_for("sine")
    setattr(cfg.task, field, value)
    with pytest.raises(ConfigError):
        validate(cfg)


@pytest.mark.parametrize("field,value", [
    ("model__hidden", 1), ("model__hidden", MAX_HIDDEN), ("model__layers", MAX_LAYERS), ("train__epochs", 0),
    ("train__clip", 0.0), ("train__lr", 100.0), ("train__lr", 1e-9), ("model__dropout", 0.9),
])
def test_validate_accepts_the_bounds(field, value):
    validate(_cfg(**{field: value}))


def test_model_too_big_for_memory_refused_before_allocating(monkeypatch):
    monkeypatch.setattr(resources, "available_memory_bytes", lambda: 64 * 2**20)  # 64 MiB free
    cfg = RunConfig()
    cfg.model.hidden, cfg.model.layers, cfg.model.arch, cfg.train.device = 1024, 4, "lstm", "cpu"
    with pytest.raises(ConfigError, match="GiB") as err:
        Trainer(cfg)
    assert "hidden size" in str(err.value) and "\n" not in str(err.value)
    cfg.model.hidden, cfg.model.layers = 12, 1
    Trainer(cfg)  # the seed's model fits


def test_dataclass_defaults_are_independent():
    a, b = TaskConfig(), TaskConfig()
    a.sentences.append("x")
    assert b.sentences == list(SEED_SENTENCES)
    assert ModelConfig() == ModelConfig()
