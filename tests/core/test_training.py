"""The trainer: every reported number checked, every option shown to act.

The loss, dLoss/dh_t per time step and the gradients of a 3-step example are
computed by hand (backpropagation through time written out) and compared
with what ``Trainer.step()`` reports and applies.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from rnn_studio.core.config import ARCHITECTURES, ENCODINGS, RunConfig, TaskConfig, defaults_for
from rnn_studio.core.errors import ConfigError
from rnn_studio.core.generation import complete
from rnn_studio.core.training import StepReport, Trainer


def text_config(sentences=None, arch="rnn", hidden=12, epochs=100, lr=0.01, optimizer="adam", seed=0,
                every=10, **model) -> RunConfig:
    cfg = RunConfig()
    if sentences is not None:
        cfg.task.sentences = list(sentences)
    cfg.model.arch, cfg.model.hidden = arch, hidden
    for key, value in model.items():
        setattr(cfg.model, key, value)
    cfg.train.epochs, cfg.train.lr, cfg.train.optimizer, cfg.train.seed = epochs, lr, optimizer, seed
    cfg.train.time_grad_every = every
    cfg.train.device = "cpu"
    return cfg


def weights(trainer: Trainer) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}


def assert_same_weights(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


# -- the 3-step example by hand ---------------------------------------------------------------------

def _by_hand(w: dict, x_idx: torch.Tensor, y_idx: torch.Tensor, vocab_size: int):
    """Elman forward and backpropagation through time, written out (float64).

    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh), z_t = W_out h_t + b_out,
    loss = mean over batch and time of cross-entropy(z_t, y_t).
    g_t = dLoss/dz_t; delta_t = dLoss/dh_t
        = W_out^T g_t + W_hh^T ((1 - h_{t+1}^2) * delta_{t+1}).
    Row vectors here, so W^T v is written v @ W.
    """
    w = {k: v.double() for k, v in w.items()}
    w_ih, w_hh = w["rnn.weight_ih_l0"], w["rnn.weight_hh_l0"]
    b = w["rnn.bias_ih_l0"] + w["rnn.bias_hh_l0"]
    w_out, b_out = w["fc.weight"], w["fc.bias"]
    batch, steps = x_idx.shape
    x = torch.zeros(batch, steps, vocab_size, dtype=torch.float64)
    x.scatter_(2, x_idx.unsqueeze(-1), 1.0)
    y = torch.zeros(batch, steps, vocab_size, dtype=torch.float64)
    y.scatter_(2, y_idx.unsqueeze(-1), 1.0)

    h = [torch.zeros(batch, w_hh.shape[0], dtype=torch.float64)]  # h[0] is h_{-1} = 0
    z = []
    for t in range(steps):
        h.append(torch.tanh(x[:, t] @ w_ih.T + h[-1] @ w_hh.T + b))
        z.append(h[-1] @ w_out.T + b_out)
    hs = h[1:]
    count = batch * steps
    loss = 0.0
    g = []
    for t in range(steps):
        zt = z[t] - z[t].max(dim=1, keepdim=True).values
        log_p = zt - torch.log(torch.exp(zt).sum(dim=1, keepdim=True))
        loss = loss - (log_p * y[:, t]).sum() / count
        g.append((torch.exp(log_p) - y[:, t]) / count)

    delta = [None] * steps
    delta[-1] = g[-1] @ w_out
    for t in range(steps - 2, -1, -1):
        delta[t] = g[t] @ w_out + ((1 - hs[t + 1] ** 2) * delta[t + 1]) @ w_hh

    da = [(1 - hs[t] ** 2) * delta[t] for t in range(steps)]
    grads = {
        "rnn.weight_ih_l0": sum(da[t].T @ x[:, t] for t in range(steps)),
        "rnn.weight_hh_l0": sum(da[t].T @ h[t] for t in range(steps)),  # h[t] is h_{t-1}
        "rnn.bias_ih_l0": sum(da[t].sum(0) for t in range(steps)),
        "rnn.bias_hh_l0": sum(da[t].sum(0) for t in range(steps)),
        "fc.weight": sum(g[t].T @ hs[t] for t in range(steps)),
        "fc.bias": sum(g[t].sum(0) for t in range(steps)),
    }
    norms = [float(torch.linalg.vector_norm(d)) for d in delta]
    return float(loss), norms, grads


@pytest.mark.parametrize("arch", ["rnn", "elman"])
@pytest.mark.parametrize("sentences", [["abca"], ["abca", "cbab"]])
def test_loss_time_grad_norms_and_gradients_match_hand_computation(arch, sentences):
    cfg = text_config(sentences, arch=arch, hidden=2, lr=0.1, optimizer="sgd", every=1, seed=3)
    trainer = Trainer(cfg)
    batch = trainer.task.batch
    assert tuple(batch.inputs.shape) == (len(sentences), 3)  # 4 characters give 3 steps
    before = weights(trainer)
    loss, norms, grads = _by_hand(before, batch.inputs, batch.targets, len(trainer.vocab))

    report = trainer.step()

    assert report.skipped is None
    assert report.loss == pytest.approx(loss, rel=1e-5)
    assert report.time_grad_norms is not None and len(report.time_grad_norms) == 3
    np.testing.assert_allclose(report.time_grad_norms, norms, rtol=1e-4, atol=1e-7)
    # the gradient reaching back from later steps makes the norms differ from the read-out's alone
    for name, grad in grads.items():
        assert report.param_grad_norms[name] == pytest.approx(float(torch.linalg.vector_norm(grad)), rel=1e-4, abs=1e-7)
    total = math.sqrt(sum(float((gr ** 2).sum()) for gr in grads.values()))
    assert report.grad_norm == pytest.approx(total, rel=1e-4)
    # ...and it equals the norm of the gradients autograd left on the parameters
    autograd_total = float(torch.linalg.vector_norm(torch.stack(
        [torch.linalg.vector_norm(p.grad) for p in trainer.model.parameters()])))
    assert report.grad_norm == pytest.approx(autograd_total, rel=1e-5)
    # SGD applied exactly w <- w - lr * grad
    after = weights(trainer)
    for name, grad in grads.items():
        torch.testing.assert_close(after[name].double(), before[name].double() - 0.1 * grad, rtol=1e-4, atol=1e-6)
    assert report.lr == pytest.approx(0.1)
    assert report.step == 1 and report.epoch == 1 and report.epoch_done
    assert report.ms >= 0


def test_param_grad_norms_named_after_parameters():
    trainer = Trainer(text_config(arch="lstm", layers=2, epochs=3))
    report = trainer.step()
    names = [n for n, _ in trainer.model.named_parameters()]
    assert list(report.param_grad_norms) == names
    for name, p in trainer.model.named_parameters():
        assert report.param_grad_norms[name] == pytest.approx(float(torch.linalg.vector_norm(p.grad)), rel=1e-5)


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_time_grad_norms_sampled_every_k_steps(arch):
    trainer = Trainer(text_config(arch=arch, epochs=10, every=3))
    reports = [trainer.step() for _ in range(7)]
    sampled = [i for i, r in enumerate(reports) if r.time_grad_norms is not None]
    assert sampled == [0, 3, 6]
    for i in sampled:
        norms = reports[i].time_grad_norms
        assert len(norms) == trainer.task.seq_len
        assert all(math.isfinite(v) and v >= 0 for v in norms)
        assert norms[-1] > 0


# -- every model and encoding learns ----------------------------------------------------------------

@pytest.mark.parametrize("arch", ARCHITECTURES)
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_model_and_encoding_trains_on_text(arch, encoding):
    trainer = Trainer(text_config(arch=arch, encoding=encoding, epochs=40))
    losses = [trainer.step().loss for _ in range(40)]
    assert all(math.isfinite(v) for v in losses)
    assert trainer.finished
    assert np.mean(losses[-3:]) < 0.85 * losses[0]


def test_two_layers_with_dropout_train_on_text():
    trainer = Trainer(text_config(arch="lstm", layers=2, dropout=0.2, epochs=40))
    losses = [trainer.step().loss for _ in range(40)]
    assert np.mean(losses[-3:]) < 0.85 * losses[0]


@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru"])
def test_bidirectional_refused_for_text_with_a_reason(arch):
    with pytest.raises(ConfigError, match="bidirectional") as err:
        Trainer(text_config(arch=arch, bidirectional=True))
    assert "\n" not in str(err.value)


def test_elman_bidirectional_refused_everywhere():
    cfg = defaults_for("sine")
    cfg.model.arch, cfg.model.bidirectional = "elman", True
    with pytest.raises(ConfigError, match="direction"):
        Trainer(cfg)


def test_sine_sequence_bidirectional_refused():
    cfg = defaults_for("sine", "sequence", "gru")
    cfg.model.bidirectional = True
    with pytest.raises(ConfigError, match="bidirectional"):
        Trainer(cfg)


@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru"])
def test_sine_next_value_allows_layers_dropout_bidirectional(arch):
    cfg = defaults_for("sine")
    cfg.task.sine_windows = 100
    cfg.model.arch, cfg.model.layers, cfg.model.dropout, cfg.model.bidirectional = arch, 2, 0.1, True
    cfg.model.hidden = 8
    cfg.train.lr, cfg.train.epochs, cfg.train.device = 0.01, 15, "cpu"
    trainer = Trainer(cfg)
    losses = [trainer.step().loss for _ in range(15)]
    assert all(math.isfinite(v) for v in losses)
    assert np.mean(losses[-3:]) < losses[0]


# -- sine sequence: seed 003's per-step updates -----------------------------------------------------

def test_sine_sequence_one_epoch_is_seed_003_loop():
    """Seed 003: for each point, forward one step, loss (pred - y)^2 / 2,
    backward, w -= lr * grad, context detached. Replayed here by hand."""
    cfg = defaults_for("sine", "sequence")
    cfg.train.device = "cpu"
    trainer = Trainer(cfg)
    assert cfg.model.arch == "elman" and cfg.train.optimizer == "sgd" and cfg.train.lr == 0.1
    w_ih = trainer.model.rnn.weight_ih_l0.detach().double().clone()
    w_hh = trainer.model.rnn.weight_hh_l0.detach().double().clone()
    w_out = trainer.model.fc.weight.detach().double().clone()
    assert trainer.model.fc.bias is None and not hasattr(trainer.model.rnn, "bias_ih_l0")
    x = trainer.task.batch.inputs.view(-1).double()
    y = trainer.task.batch.targets.view(-1).double()

    calls = []
    real_step = trainer.optimizer.step

    def counting_step(*args, **kwargs):
        calls.append(1)
        return real_step(*args, **kwargs)

    trainer.optimizer.step = counting_step
    report = trainer.step()
    assert len(calls) == 20  # an update after every time step

    context = torch.zeros(1, 6, dtype=torch.float64)
    sq = []
    for t in range(20):
        w1 = w_ih.clone().requires_grad_(True)
        w2 = w_hh.clone().requires_grad_(True)
        w3 = w_out.clone().requires_grad_(True)
        h = torch.tanh(x[t].view(1, 1) @ w1.T + context @ w2.T)
        pred = (h @ w3.T).view(())
        loss = (pred - y[t]) ** 2 / 2
        loss.backward()
        sq.append(float((pred.detach() - y[t]) ** 2))
        with torch.no_grad():
            w_ih, w_hh, w_out = w1 - 0.1 * w1.grad, w2 - 0.1 * w2.grad, w3 - 0.1 * w3.grad
        context = h.detach()

    torch.testing.assert_close(trainer.model.rnn.weight_ih_l0.detach().double(), w_ih, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(trainer.model.rnn.weight_hh_l0.detach().double(), w_hh, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(trainer.model.fc.weight.detach().double(), w_out, rtol=1e-4, atol=1e-5)
    assert report.loss == pytest.approx(float(np.mean(sq)), rel=1e-4)  # reported loss is the MSE
    assert report.epoch == 1 and report.epoch_done
    assert report.time_grad_norms is not None and len(report.time_grad_norms) == 20


@pytest.mark.parametrize("arch", ["elman", "gru"])
def test_sine_sequence_loss_falls(arch):
    cfg = defaults_for("sine", "sequence", arch)
    cfg.train.epochs, cfg.train.device = 80, "cpu"
    trainer = Trainer(cfg)
    losses = [trainer.step().loss for _ in range(80)]
    assert trainer.steps == 80 and trainer.epoch == 80 and trainer.finished
    assert all(math.isfinite(v) for v in losses)
    assert np.mean(losses[-5:]) < 0.5 * losses[0]


def test_sine_sequence_defaults_reach_seed_003_error():
    cfg = defaults_for("sine", "sequence")
    cfg.train.device = "cpu"
    trainer = Trainer(cfg)
    while not trainer.finished:
        report = trainer.step()
    assert trainer.epoch == 300
    assert report.loss < 0.01  # seed 003 prints 0.0052 at epoch 290


# -- corpus mode: truncated BPTT with the state carried --------------------------------------------

CORPUS = "the quick brown fox jumps over the lazy dog.\n" * 40


def corpus_trainer(tmp_path, arch="gru", epochs=5, window=16, batch_size=8, **train):
    path = tmp_path / "corpus.txt"
    path.write_text(CORPUS, encoding="utf-8")
    cfg = text_config(arch=arch, epochs=epochs, hidden=32, **train)
    cfg.task.text_file, cfg.task.window, cfg.task.batch_size = str(path), window, batch_size
    return Trainer(cfg)


def test_corpus_hidden_state_carried_between_windows_and_reset_each_epoch(tmp_path):
    trainer = corpus_trainer(tmp_path, arch="gru", optimizer="sgd", lr=0.5)
    windows = [b for b, _ in trainer.task.batches()]
    per_epoch = trainer.task.steps_per_epoch
    assert per_epoch == len(windows) >= 3

    def loss_of(model_weights, batch, hidden):
        model = trainer.model
        saved = weights(trainer)
        model.load_state_dict(model_weights)
        with torch.no_grad():
            out, h = model(batch.inputs, hidden)
            loss = nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), batch.targets.reshape(-1))
        model.load_state_dict(saved)
        return float(loss), h

    w0 = weights(trainer)
    r1 = trainer.step()
    _, h1 = loss_of(w0, windows[0], None)  # the state window 1 ended in, with the weights it ran with
    w1 = weights(trainer)
    r2 = trainer.step()
    carried, _ = loss_of(w1, windows[1], h1)
    fresh, _ = loss_of(w1, windows[1], None)
    assert abs(carried - fresh) > 1e-4, "test needs the carried state to matter"
    assert r1.loss == pytest.approx(loss_of(w0, windows[0], None)[0], rel=1e-5)
    assert r2.loss == pytest.approx(carried, rel=1e-5)
    assert not r1.epoch_done and not r2.epoch_done

    for _ in range(per_epoch - 2):
        last = trainer.step()
    assert last.epoch_done and trainer.epoch == 1
    assert last.epoch_loss is not None
    # the next epoch starts from a zero state again
    w = weights(trainer)
    r = trainer.step()
    assert r.loss == pytest.approx(loss_of(w, windows[0], None)[0], rel=1e-5)


def test_corpus_loss_falls_and_run_epoch_covers_the_windows(tmp_path):
    trainer = corpus_trainer(tmp_path, arch="lstm", epochs=6, lr=0.02)
    epoch_losses = []
    for _ in range(6):
        reports = trainer.run_epoch()
        assert len(reports) == trainer.task.steps_per_epoch
        assert [r.epoch_done for r in reports] == [False] * (len(reports) - 1) + [True]
        assert reports[-1].epoch_loss == pytest.approx(np.mean([r.loss for r in reports]))
        epoch_losses.append(reports[-1].epoch_loss)
    assert trainer.epoch == 6 and trainer.finished
    assert epoch_losses[-1] < 0.7 * epoch_losses[0]
    assert trainer.predictions() == {"kind": "corpus"}


# -- options ---------------------------------------------------------------------------------------

def test_set_lr_takes_effect_on_the_next_step():
    trainer = Trainer(text_config(optimizer="sgd", lr=0.1, epochs=10))
    before = weights(trainer)
    trainer.step()
    after = weights(trainer)
    grads = {n: p.grad.detach().clone() for n, p in trainer.model.named_parameters()}
    for name, grad in grads.items():
        torch.testing.assert_close(after["" + name], before[name] - 0.1 * grad, rtol=1e-5, atol=1e-7)

    trainer.set_lr(0.025)
    assert trainer.lr == 0.025
    assert all(g["lr"] == 0.025 for g in trainer.optimizer.param_groups)
    report = trainer.step()
    assert report.lr == 0.025
    again = weights(trainer)
    for name, p in trainer.model.named_parameters():
        torch.testing.assert_close(again[name], after[name] - 0.025 * p.grad, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "0.1", None])
def test_set_lr_refuses_bad_values(bad):
    trainer = Trainer(text_config(epochs=1))
    with pytest.raises(ValueError):
        trainer.set_lr(bad)
    assert trainer.lr == 0.01


def test_adam_first_step_moves_each_weight_by_about_lr():
    trainer = Trainer(text_config(optimizer="adam", lr=0.003, epochs=2))
    assert isinstance(trainer.optimizer, torch.optim.Adam)
    before = weights(trainer)
    trainer.step()
    after = weights(trainer)
    for name, p in trainer.model.named_parameters():
        moved = (after[name] - before[name]).abs()
        has_grad = p.grad.abs() > 1e-6
        # Adam's first update is lr * g / (|g| + eps): lr wherever the gradient is not tiny
        torch.testing.assert_close(moved[has_grad], torch.full_like(moved[has_grad], 0.003), rtol=1e-2, atol=1e-6)


def test_sgd_is_sgd():
    assert isinstance(Trainer(text_config(optimizer="sgd", epochs=1)).optimizer, torch.optim.SGD)


def test_clipping_limits_the_applied_update_but_reports_the_norm_before():
    unclipped = Trainer(text_config(optimizer="sgd", lr=0.5, epochs=2))
    clipped_cfg = text_config(optimizer="sgd", lr=0.5, epochs=2)
    clipped_cfg.train.clip = 0.01
    clipped = Trainer(clipped_cfg)
    b_u, b_c = weights(unclipped), weights(clipped)
    assert_same_weights(b_u, b_c)
    r_u, r_c = unclipped.step(), clipped.step()
    assert r_c.grad_norm == pytest.approx(r_u.grad_norm, rel=1e-6)  # the norm before clipping
    assert r_c.grad_norm > 0.01
    a_u, a_c = weights(unclipped), weights(clipped)
    step_u = math.sqrt(sum(float(((a_u[k] - b_u[k]) ** 2).sum()) for k in b_u))
    step_c = math.sqrt(sum(float(((a_c[k] - b_c[k]) ** 2).sum()) for k in b_c))
    assert step_u == pytest.approx(0.5 * r_u.grad_norm, rel=1e-4)
    assert step_c == pytest.approx(0.5 * 0.01, rel=1e-3)
    clipped_grads = torch.stack([torch.linalg.vector_norm(p.grad) for p in clipped.model.parameters()])
    assert float(torch.linalg.vector_norm(clipped_grads)) == pytest.approx(0.01, rel=1e-3)
    # set_clip between steps
    clipped.set_clip(0)
    clipped.step()
    grads = torch.stack([torch.linalg.vector_norm(p.grad) for p in clipped.model.parameters()])
    assert float(torch.linalg.vector_norm(grads)) > 0.01


def test_plateau_schedule_halves_the_lr_when_the_loss_stops_falling():
    cfg = text_config(optimizer="sgd", lr=1e-7, epochs=30)
    cfg.train.plateau = True
    trainer = Trainer(cfg)
    lrs = [trainer.step().lr for _ in range(30)]
    assert lrs[0] == pytest.approx(1e-7)
    assert lrs[-1] < 1e-7 / 2 + 1e-15
    assert all(b <= a for a, b in zip(lrs, lrs[1:], strict=False))  # never raised

    cfg.train.plateau = False
    flat = Trainer(cfg)
    assert {flat.step().lr for _ in range(30)} == {1e-7}


def test_xavier_option_reaches_the_model():
    cfg = text_config(epochs=1)
    cfg.model.init = "xavier"
    trainer = Trainer(cfg)
    for name, p in trainer.model.named_parameters():
        if "bias" in name:
            assert torch.count_nonzero(p.detach()) == 0, name


# -- reproducible, and the caller owns the pace ------------------------------------------------------

@pytest.mark.parametrize("arch", ["rnn", "lstm"])
def test_same_seed_same_run(arch):
    def run(seed):
        trainer = Trainer(text_config(arch=arch, encoding="embedding", dropout=0.0, seed=seed, epochs=15))
        return [trainer.step().loss for _ in range(15)], weights(trainer)

    losses_a, w_a = run(7)
    losses_b, w_b = run(7)
    assert losses_a == losses_b
    assert_same_weights(w_a, w_b)
    losses_c, _ = run(8)
    assert losses_c != losses_a


def test_dropout_run_reproducible_with_seed():
    def run():
        trainer = Trainer(text_config(arch="gru", layers=2, dropout=0.3, seed=5, epochs=8))
        return [trainer.step().loss for _ in range(8)]

    assert run() == run()


def test_caller_owns_the_pace_looking_between_steps_changes_nothing():
    """Pause, look, resume: a run interrupted by predictions, evaluations and
    completions takes exactly the steps of an uninterrupted one."""
    straight = Trainer(text_config(epochs=12, seed=2))
    paused = Trainer(text_config(epochs=12, seed=2))
    straight_losses = [straight.step().loss for _ in range(12)]
    paused_losses = []
    for i in range(12):
        before = weights(paused)
        assert paused.steps == i  # nothing happens without a call
        paused.predictions()
        paused.evaluate_loss()
        complete(paused.model, paused.vocab, "good", 10, temperature=1.0, seed=i)
        assert paused.model.training
        assert_same_weights(before, weights(paused))
        paused_losses.append(paused.step().loss)
    assert paused_losses == straight_losses


def test_evaluate_loss_is_the_loss_the_next_step_sees():
    trainer = Trainer(text_config(epochs=5))
    trainer.step()
    expected = trainer.evaluate_loss()
    assert trainer.step().loss == pytest.approx(expected, rel=1e-6)


def test_zero_epochs_is_finished_before_starting():
    trainer = Trainer(text_config(epochs=0))
    assert trainer.finished and trainer.epoch == 0 and trainer.steps == 0


def test_predictions_for_sentences_and_sine():
    trainer = Trainer(text_config(epochs=1))
    pred = trainer.predictions()
    assert pred["kind"] == "text"
    assert [s["input"] for s in pred["sentences"]] == trainer.task.padded
    assert all(len(s["predicted"]) == len(s["target"]) == trainer.task.seq_len for s in pred["sentences"])
    assert trainer.model.training

    cfg = defaults_for("sine")
    cfg.task.sine_windows, cfg.train.device = 10, "cpu"
    sine = Trainer(cfg)
    pred = sine.predictions()
    assert pred["kind"] == "sine" and pred["mode"] == "next-value"
    assert len(pred["input"]) == 20 and len(pred["rollout"]) == 20
    assert np.all(np.isfinite(pred["rollout"]))


def test_trainer_validates_its_settings():
    cfg = text_config()
    cfg.model.hidden = 0
    with pytest.raises(ConfigError, match="hidden"):
        Trainer(cfg)
    cfg = text_config()
    cfg.train.lr = float("nan")
    with pytest.raises(ConfigError, match="learning rate"):
        Trainer(cfg)


def test_trainer_does_not_change_the_callers_config():
    cfg = text_config(epochs=3)
    trainer = Trainer(cfg)
    trainer.set_lr(0.5)
    assert cfg.train.lr == 0.01


# -- non-finite loss or gradient: the update is skipped ---------------------------------------------

def _adam_state(trainer):
    return {k: {n: (v.clone() if isinstance(v, torch.Tensor) else v) for n, v in s.items()}
            for k, s in trainer.optimizer.state_dict()["state"].items()}


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
@pytest.mark.parametrize("poison", [float("nan"), float("inf")])
def test_non_finite_loss_rolls_back_the_update_that_led_there(monkeypatch, optimizer, poison):
    """A non-finite loss condemns the current weights: they go back to those
    before the last applied update (the last with a finite loss), the
    optimizer's running averages are cleared, and training can go on."""
    trainer = Trainer(text_config(optimizer=optimizer, epochs=10))
    trainer.step()
    good = weights(trainer)  # gave a finite loss on the next step
    trainer.step()
    moved = weights(trainer)
    assert any(not torch.equal(good[n], moved[n]) for n in good)
    epoch, steps = trainer.epoch, trainer.steps

    real_loss = trainer._loss
    monkeypatch.setattr(trainer, "_loss", lambda out, targets: real_loss(out, targets) * poison)
    report = trainer.step()
    assert report.skipped and "loss" in report.skipped
    assert ("NaN" in report.skipped) == math.isnan(poison)
    assert not report.epoch_done and report.epoch_loss is None
    assert trainer.epoch == epoch  # the epoch did not count
    assert trainer.steps == steps + 1
    assert trainer.rolled_back
    assert_same_weights(good, weights(trainer))
    assert trainer.optimizer.state_dict()["state"] == {}

    monkeypatch.setattr(trainer, "_loss", real_loss)  # the user lowered the lr; training goes on
    report = trainer.step()
    assert report.skipped is None and math.isfinite(report.loss)
    assert trainer.epoch == epoch + 1


def test_a_non_finite_loss_on_the_first_step_keeps_the_initial_weights(monkeypatch):
    trainer = Trainer(text_config(epochs=10))
    initial = weights(trainer)
    real_loss = trainer._loss
    monkeypatch.setattr(trainer, "_loss", lambda out, targets: real_loss(out, targets) * float("nan"))
    report = trainer.step()
    assert report.skipped and not trainer.rolled_back
    assert_same_weights(initial, weights(trainer))


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_after_a_real_divergence_a_lower_learning_rate_trains_again(optimizer):
    """lr 100 blows the weights up (seen: 2.9, 5.6e5, then NaN); once caught,
    the weights go back and a sane learning rate trains from there."""
    cfg = text_config(arch="rnn-relu", optimizer=optimizer, lr=100.0, epochs=200, hidden=64)
    trainer = Trainer(cfg)
    for _ in range(20):
        report = trainer.step()
        if report.skipped:
            break
    assert report.skipped, "lr 100 should have diverged"
    first = trainer._first_loss
    trainer.set_lr(0.01)
    reports = [trainer.step() for _ in range(60)]
    assert all(r.skipped is None for r in reports), [r.skipped for r in reports if r.skipped][:3]
    assert reports[-1].loss < first


def test_an_exploding_but_finite_loss_counts_as_divergence(monkeypatch):
    trainer = Trainer(text_config(epochs=10))
    trainer.step()
    good = weights(trainer)
    trainer.step()
    real_loss = trainer._loss
    monkeypatch.setattr(trainer, "_loss", lambda out, targets: real_loss(out, targets) * 1e4)
    report = trainer.step()
    assert report.skipped and report.skipped.startswith("loss exploded")
    assert_same_weights(good, weights(trainer))


def test_non_finite_gradient_with_finite_loss_skips_the_update():
    trainer = Trainer(text_config(optimizer="sgd", epochs=10))
    trainer.step()
    good = weights(trainer)
    handle = trainer.model.fc.weight.register_hook(lambda g: g * float("nan"))
    report = trainer.step()
    handle.remove()
    assert math.isfinite(report.loss)
    assert report.skipped and "gradient" in report.skipped
    assert_same_weights(good, weights(trainer))


def test_huge_learning_rate_never_leaves_non_finite_weights():
    cfg = text_config(arch="rnn-relu", optimizer="sgd", lr=100.0, epochs=30, hidden=64)
    cfg.model.init = "xavier"
    trainer = Trainer(cfg)
    for _ in range(30):
        report = trainer.step()
        for name, w in weights(trainer).items():
            assert torch.isfinite(w).all(), (name, report.skipped)


def test_sine_sequence_non_finite_skips(monkeypatch):
    cfg = defaults_for("sine", "sequence")
    cfg.train.device = "cpu"
    trainer = Trainer(cfg)
    good = weights(trainer)
    handle = trainer.model.fc.weight.register_hook(lambda g: g * float("inf"))
    report = trainer.step()
    handle.remove()
    assert report.skipped
    assert trainer.epoch == 0 and not report.epoch_done
    assert_same_weights(good, weights(trainer))


def test_loss_climbing_past_three_times_the_start_warns_once(monkeypatch):
    trainer = Trainer(text_config(epochs=10))
    first = trainer.step()
    assert first.warning is None
    real_loss = trainer._loss
    monkeypatch.setattr(trainer, "_loss", lambda out, targets: real_loss(out, targets) * 10)
    warned = [trainer.step().warning for _ in range(3)]
    assert warned[0] is not None and "three times" in warned[0]
    assert warned[1:] == [None, None]


def test_step_report_fields():
    report = Trainer(text_config(epochs=1)).step()
    assert isinstance(report, StepReport)
    assert report.epoch_loss == pytest.approx(report.loss)
    assert math.isfinite(report.grad_norm) and report.grad_norm > 0


def test_task_config_for_sine_needs_no_sentences():
    cfg = RunConfig(task=TaskConfig(kind="sine", sentences=[]))
    cfg.train.epochs, cfg.train.device = 1, "cpu"
    cfg.task.sine_windows = 5
    assert Trainer(cfg).vocab is None
