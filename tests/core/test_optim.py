"""core.optim against torch.optim as the oracle: the same weights, bit for bit.

The trainer's optimizers do torch's arithmetic in fewer operations (issue 12);
the losses of a run must not move by one rounding step from the plain loop's."""

from __future__ import annotations

import copy

import pytest
import torch

from rnn_studio.core.config import defaults_for
from rnn_studio.core.optim import FastSGD, FlatAdam, build_optimizer
from rnn_studio.core.training import Trainer


def _run_twice(cfg, steps: int, *, between=None):
    """(the trainer's losses and weights, the same run with torch's own optimizer)."""
    results = []
    for own in (True, False):
        trainer = Trainer(cfg, device="cpu")
        if not own:
            reference = torch.optim.SGD if cfg.train.optimizer == "sgd" else torch.optim.Adam
            trainer.optimizer = reference(trainer.params, lr=cfg.train.lr)
        losses = []
        for i in range(steps):
            losses.append(trainer.step().loss)
            if between is not None:
                between(trainer, i)
        results.append((losses, [p.detach().clone() for p in trainer.params]))
    return results


def _config(kind="text", arch="rnn", optimizer="adam", **task):
    cfg = defaults_for(kind, arch=arch) if kind != "sine" else defaults_for("sine", task.pop("mode", "next-value"))
    cfg.model.arch = arch
    cfg.train.optimizer = optimizer
    cfg.train.device = "cpu"
    for key, value in task.items():
        setattr(cfg.task, key, value)
    return cfg


CASES = {
    "text rnn adam": _config("text", "rnn"),
    "text lstm adam": _config("text", "lstm"),
    "text gru adam": _config("text", "gru"),
    "text elman adam": _config("text", "elman"),
    "text rnn sgd": _config("text", "rnn", "sgd"),
    "sine next-value": _config("sine"),
    "sine sequence sgd": _config("sine", mode="sequence"),
    "classify": _config(
        "classify", "lstm", examples=["pos: good day", "neg: bad day", "pos: fine", "neg: awful"], batch_examples=2
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_same_weights_as_torch_bit_for_bit(name):
    ours, theirs = _run_twice(CASES[name], 12)
    assert ours[0] == theirs[0]
    assert all(torch.equal(a, b) for a, b in zip(ours[1], theirs[1], strict=True))


def test_after_a_roll_back_and_a_reload_still_torchs_numbers():
    """state.clear() (roll back, rewind) and load_state_dict (a checkpoint)
    are followed by torch's numbers too."""
    cfg = _config("text", "gru")

    def between(trainer, i):
        if i == 3:
            trainer.optimizer.state.clear()
        if i == 6:
            saved = copy.deepcopy(trainer.optimizer.state_dict())
            trainer.optimizer.load_state_dict(saved)

    ours, theirs = _run_twice(cfg, 10, between=between)
    assert ours[0] == theirs[0]
    assert all(torch.equal(a, b) for a, b in zip(ours[1], theirs[1], strict=True))


def test_state_dict_is_torchs_and_holds_copies():
    trainer = Trainer(_config("text"), device="cpu")
    for _ in range(3):
        trainer.step()
    reference = torch.optim.Adam(trainer.params, lr=0.01)
    saved = trainer.optimizer.state_dict()
    reference.load_state_dict(saved)  # loads into torch's own Adam
    entry = saved["state"][0]
    assert float(entry["step"]) == 3.0 and entry["exp_avg"].shape == trainer.params[0].shape
    live = trainer.optimizer.state[trainer.params[0]]["exp_avg"]
    assert entry["exp_avg"].untyped_storage().data_ptr() != live.untyped_storage().data_ptr()


def test_missing_gradient_goes_through_torch():
    a = torch.nn.Parameter(torch.ones(3))
    b = torch.nn.Parameter(torch.ones(2))
    ref_a, ref_b = (torch.nn.Parameter(t.detach().clone()) for t in (a, b))
    ours, theirs = FlatAdam([a, b], lr=0.1), torch.optim.Adam([ref_a, ref_b], lr=0.1)
    for step in range(4):
        for p, q in ((a, ref_a), (b, ref_b)):
            p.grad = q.grad = None
        (a.sum() * 2 + (b.sum() if step % 2 else 0)).backward()
        (ref_a.sum() * 2 + (ref_b.sum() if step % 2 else 0)).backward()
        ours.step()
        theirs.step()
    assert torch.equal(a, ref_a) and torch.equal(b, ref_b)


def test_build_optimizer_types():
    params = [torch.nn.Parameter(torch.zeros(2))]
    assert isinstance(build_optimizer("adam", params, 0.1), torch.optim.Adam)
    assert isinstance(build_optimizer("sgd", params, 0.1), FastSGD)


def test_step_hooks_and_closures_still_work():
    trainer = Trainer(_config("text"), device="cpu")
    seen = []
    handle = trainer.optimizer.register_step_post_hook(lambda opt, args, kwargs: seen.append(1))
    trainer.step()
    handle.remove()
    trainer.step()
    assert seen == [1]
    reference = Trainer(_config("text"), device="cpu")
    reference.optimizer = torch.optim.Adam(reference.params, lr=0.01)
    for _ in range(2):
        reference.step()
    assert all(torch.equal(a, b) for a, b in zip(trainer.params, reference.params, strict=True))
