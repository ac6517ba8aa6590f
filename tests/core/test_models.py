"""The networks, checked against torch as the oracle (micrograd's habit).

* The from-scratch Elman stack, given nn.RNN's weights, must give nn.RNN's
  outputs, final hidden state and gradients.
* ``forward_traced`` must compute exactly what ``forward`` computes, and its
  per-time-step norms must equal dLoss/dh_t measured independently: a zero
  "probe" tensor is added to the top layer's h_t in a network stepped with
  torch's own cells, and autograd's gradient with respect to that probe is
  dLoss/dh_t by definition.
"""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from rnn_studio.core import models
from rnn_studio.core.config import ModelConfig
from rnn_studio.core.models import ElmanRNN, RecurrentNet, parameter_count
from rnn_studio.core.resources import estimate_parameters

ARCHS = ("rnn", "rnn-relu", "lstm", "gru", "elman")


# -- the from-scratch Elman cell against nn.RNN ----------------------------------------------------

@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("with_h0", [False, True])
def test_elman_matches_nn_rnn_outputs_hidden_and_gradients(layers, bias, nonlinearity, with_h0):
    torch.manual_seed(1234 + layers)
    batch, steps, inputs, hidden = 3, 7, 4, 5
    oracle = nn.RNN(inputs, hidden, num_layers=layers, bias=bias, nonlinearity=nonlinearity,
                    batch_first=True).double()
    elman = ElmanRNN(inputs, hidden, num_layers=layers, bias=bias, nonlinearity=nonlinearity).double()
    # Same parameter names and shapes as nn.RNN, so a strict load works.
    assert sorted(n for n, _ in elman.named_parameters()) == sorted(n for n, _ in oracle.named_parameters())
    elman.load_state_dict(oracle.state_dict(), strict=True)
    assert not any(isinstance(m, nn.RNNBase) for m in elman.modules()), "elman must not wrap nn.RNN"

    x = torch.randn(batch, steps, inputs, dtype=torch.float64)
    x_oracle, x_elman = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    h0 = torch.randn(layers, batch, hidden, dtype=torch.float64) if with_h0 else None
    h0_oracle = h0.clone().requires_grad_(True) if with_h0 else None
    h0_elman = h0.clone().requires_grad_(True) if with_h0 else None

    out_o, hn_o = oracle(x_oracle, h0_oracle)
    out_e, hn_e = elman(x_elman, h0_elman)
    torch.testing.assert_close(out_e, out_o, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(hn_e, hn_o, rtol=1e-10, atol=1e-12)

    # A loss that weighs every output and the final state differently.
    w_out = torch.randn_like(out_o)
    w_h = torch.randn_like(hn_o)
    ((out_o * w_out).sum() + (hn_o * w_h).sum()).backward()
    ((out_e * w_out).sum() + (hn_e * w_h).sum()).backward()

    oracle_grads = dict(oracle.named_parameters())
    for name, p in elman.named_parameters():
        assert p.grad is not None, name
        torch.testing.assert_close(p.grad, oracle_grads[name].grad, rtol=1e-9, atol=1e-11, msg=name)
    torch.testing.assert_close(x_elman.grad, x_oracle.grad, rtol=1e-9, atol=1e-11)
    if with_h0:
        torch.testing.assert_close(h0_elman.grad, h0_oracle.grad, rtol=1e-9, atol=1e-11)


def test_elman_in_recurrent_net_matches_rnn_with_copied_weights():
    """The elman arch inside RecurrentNet (one-hot encoding and read-out) is the
    rnn arch with the same weights."""
    torch.manual_seed(0)
    rnn = RecurrentNet(ModelConfig(arch="rnn", layers=2, hidden=6), 5, 5).double()
    elman = RecurrentNet(ModelConfig(arch="elman", layers=2, hidden=6), 5, 5).double()
    elman.load_state_dict(rnn.state_dict(), strict=True)
    x = torch.randint(0, 5, (3, 8))
    out_r, h_r = rnn(x)
    out_e, h_e = elman(x)
    torch.testing.assert_close(out_e, out_r)
    torch.testing.assert_close(h_e, h_r)


# -- forward_traced: same result as forward, exact dLoss/dh_t ---------------------------------------

def _copy_cells(model: RecurrentNet):
    """torch's own cells carrying ``model``'s recurrent weights, one per layer."""
    cfg, cells = model.cfg, []
    for layer in range(cfg.layers):
        in_size = model.rnn.weight_ih_l0.shape[1] if layer == 0 else cfg.hidden
        if cfg.arch in ("rnn", "elman"):
            cell = nn.RNNCell(in_size, cfg.hidden, bias=cfg.bias, nonlinearity="tanh")
        elif cfg.arch == "rnn-relu":
            cell = nn.RNNCell(in_size, cfg.hidden, bias=cfg.bias, nonlinearity="relu")
        elif cfg.arch == "lstm":
            cell = nn.LSTMCell(in_size, cfg.hidden, bias=cfg.bias)
        else:
            cell = nn.GRUCell(in_size, cfg.hidden, bias=cfg.bias)
        cell = cell.to(model.fc.weight.dtype)
        with torch.no_grad():
            cell.weight_ih.copy_(getattr(model.rnn, f"weight_ih_l{layer}"))
            cell.weight_hh.copy_(getattr(model.rnn, f"weight_hh_l{layer}"))
            if cfg.bias:
                cell.bias_ih.copy_(getattr(model.rnn, f"bias_ih_l{layer}"))
                cell.bias_hh.copy_(getattr(model.rnn, f"bias_hh_l{layer}"))
        cells.append(cell)
    return cells


def _reference_time_grad_norms(model: RecurrentNet, x: torch.Tensor, targets: torch.Tensor):
    """(loss, ||dLoss/dh_t|| per t) from a network stepped with torch's cells."""
    cells = _copy_cells(model)
    enc = model.encode(x)
    batch, steps = x.shape[:2]
    zeros = enc.new_zeros(batch, model.cfg.hidden)
    h = [zeros] * len(cells)
    c = [zeros] * len(cells)
    probes = [enc.new_zeros(batch, model.cfg.hidden, requires_grad=True) for _ in range(steps)]
    tops = []
    for t in range(steps):
        inp = enc[:, t]
        for layer, cell in enumerate(cells):
            if model.cfg.arch == "lstm":
                h[layer], c[layer] = cell(inp, (h[layer], c[layer]))
            else:
                h[layer] = cell(inp, h[layer])
            if layer == len(cells) - 1:
                h[layer] = h[layer] + probes[t]  # d(loss)/d(probe_t) == d(loss)/d(h_t)
            inp = h[layer]
        tops.append(inp)
    out = model.fc(torch.stack(tops, dim=1))
    loss = nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), targets.reshape(-1))
    grads = torch.autograd.grad(loss, probes)
    return loss.detach(), torch.stack([torch.linalg.vector_norm(g) for g in grads])


def _model(arch, layers=2, hidden=5, vocab=6, bias=True, encoding="onehot", seed=0):
    torch.manual_seed(seed)
    cfg = ModelConfig(arch=arch, layers=layers, hidden=hidden, bias=bias, encoding=encoding, embedding_dim=4)
    return RecurrentNet(cfg, vocab, vocab, "text").double()


@pytest.fixture(params=["native", "fallback"])
def traced_path(request, monkeypatch):
    """forward_traced has a fast path for the graphs torch builds on CPU and
    fallbacks for the fused kernels of GPUs (cuDNN): run the tests through both."""
    if request.param == "fallback":
        monkeypatch.setattr(models, "_step_nodes", lambda states: None)
    return request.param


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("layers", [1, 2])
def test_forward_traced_same_outputs_hidden_and_grads_as_forward(arch, layers, traced_path):
    model = _model(arch, layers=layers)
    traced = copy.deepcopy(model)
    torch.manual_seed(5)
    x = torch.randint(0, 6, (4, 9))
    y = torch.randint(0, 6, (4, 9))

    out, hidden = model(x)
    out_t, hidden_t, grads_fn = traced.forward_traced(x)
    torch.testing.assert_close(out_t, out, rtol=1e-9, atol=1e-11)
    if isinstance(hidden, tuple):
        assert isinstance(hidden_t, tuple) and len(hidden_t) == len(hidden) == 2
        for a, b in zip(hidden_t, hidden, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-11)
    else:
        torch.testing.assert_close(hidden_t, hidden, rtol=1e-9, atol=1e-11)

    loss = nn.functional.cross_entropy(out.reshape(-1, 6), y.reshape(-1))
    loss_t = nn.functional.cross_entropy(out_t.reshape(-1, 6), y.reshape(-1))
    loss.backward()
    loss_t.backward()
    traced_params = dict(traced.named_parameters())
    for name, p in model.named_parameters():
        torch.testing.assert_close(traced_params[name].grad, p.grad, rtol=1e-8, atol=1e-11, msg=name)
    assert grads_fn is not None
    assert tuple(grads_fn().shape) == (9,)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("bias", [True, False])
def test_forward_traced_time_norms_equal_autograd_dloss_dh(arch, layers, bias, traced_path):
    model = _model(arch, layers=layers, bias=bias, seed=layers)
    torch.manual_seed(11)
    x = torch.randint(0, 6, (3, 8))
    y = torch.randint(0, 6, (3, 8))
    ref_loss, ref_norms = _reference_time_grad_norms(model, x, y)

    out, _, grads_fn = model.forward_traced(x)
    loss = nn.functional.cross_entropy(out.reshape(-1, 6), y.reshape(-1))
    torch.testing.assert_close(loss.detach(), ref_loss, rtol=1e-9, atol=1e-12)
    loss.backward()
    norms = grads_fn().detach().to(torch.float64)
    torch.testing.assert_close(norms, ref_norms, rtol=1e-7, atol=1e-12)
    # not trivially zero: the last step gets the read-out's gradient at least
    assert float(norms[-1]) > 0


@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru", "elman"])
def test_forward_traced_with_a_carried_hidden_state(arch, traced_path):
    """Truncated BPTT passes the previous window's state in; traced must agree."""
    model = _model(arch, layers=2)
    torch.manual_seed(3)
    x = torch.randint(0, 6, (2, 5))
    _, carried = model(torch.randint(0, 6, (2, 4)))
    carried = tuple(h.detach() for h in carried) if isinstance(carried, tuple) else carried.detach()
    out, hidden = model(x, carried)
    out_t, hidden_t, _ = model.forward_traced(x, carried)
    torch.testing.assert_close(out_t, out)

    def flat(h):
        return torch.cat([t.reshape(-1) for t in h]) if isinstance(h, tuple) else h.reshape(-1)

    torch.testing.assert_close(flat(hidden_t), flat(hidden))


@pytest.mark.parametrize("arch", ARCHS)
def test_return_states_gives_top_layer_state_of_every_step(arch):
    model = _model(arch, layers=2, hidden=7)
    x = torch.randint(0, 6, (3, 10))
    out, hidden, states = model(x, return_states=True)
    assert tuple(states.shape) == (3, 10, 7)
    h_n = hidden[0] if isinstance(hidden, tuple) else hidden
    torch.testing.assert_close(states[:, -1], h_n[-1])  # the last step is the top layer's final state
    torch.testing.assert_close(model.fc(states), out)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("encoding", ["onehot", "embedding"])
def test_output_shapes_text(arch, encoding):
    model = _model(arch, layers=1, encoding=encoding)
    out, hidden = model(torch.randint(0, 6, (2, 4)))
    assert tuple(out.shape) == (2, 4, 6)
    init = model.init_hidden(2)
    if arch == "lstm":
        assert isinstance(hidden, tuple) and isinstance(init, tuple)
        assert tuple(init[0].shape) == tuple(hidden[0].shape) == (1, 2, 5)
    else:
        assert tuple(init.shape) == tuple(hidden.shape) == (1, 2, 5)
    # init_hidden is what forward starts from when given nothing
    out0, _ = model(torch.randint(0, 6, (2, 4)).fill_(1), init)
    out1, _ = model(torch.randint(0, 6, (2, 4)).fill_(1))
    torch.testing.assert_close(out0, out1)


@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru"])
def test_bidirectional_sine_model_shapes(arch):
    cfg = ModelConfig(arch=arch, layers=2, hidden=4, bidirectional=True, dropout=0.2)
    model = RecurrentNet(cfg, 1, 1, "sine")
    out, _ = model(torch.randn(3, 6, 1))
    assert tuple(out.shape) == (3, 6, 1)


# -- initialisation --------------------------------------------------------------------------------

def test_xavier_init_zero_biases_and_xavier_bounds():
    torch.manual_seed(0)
    model = RecurrentNet(ModelConfig(arch="rnn", hidden=64, init="xavier"), 40, 40)
    for name, p in model.named_parameters():
        p = p.detach()
        if "bias" in name:
            assert torch.count_nonzero(p) == 0, name
        else:
            fan_out, fan_in = p.shape
            bound = (6.0 / (fan_in + fan_out)) ** 0.5
            assert float(p.abs().max()) <= bound + 1e-6, name
            # uniform on [-bound, bound]: with thousands of draws the extremes come close
            assert float(p.abs().max()) > 0.9 * bound, name


def test_default_init_differs_from_xavier():
    torch.manual_seed(0)
    default = RecurrentNet(ModelConfig(arch="rnn", hidden=64), 40, 40)
    assert torch.count_nonzero(default.rnn.bias_ih_l0) > 0
    bound = 1 / 64 ** 0.5  # nn.RNN's own uniform(-1/sqrt(H), 1/sqrt(H))
    assert float(default.rnn.weight_hh_l0.abs().max()) <= bound + 1e-6


def test_seed003_init_for_elman():
    torch.manual_seed(0)
    model = RecurrentNet(ModelConfig(arch="elman", hidden=300, bias=False, init="seed003"), 1, 1, "sine")
    w_hh = model.rnn.weight_hh_l0.detach()
    # normal(0, 0.4): sample std over 90,000 draws is within a few percent
    assert abs(float(w_hh.std()) - 0.4) < 0.02
    assert abs(float(model.fc.weight.detach().std()) - 0.3) < 0.05


# -- the memory check's parameter estimate is exact -------------------------------------------------

@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("encoding", ["onehot", "embedding"])
@pytest.mark.parametrize("layers,bias,bidirectional", [(1, True, False), (3, False, False), (2, True, True)])
def test_parameter_estimate_equals_real_count(arch, encoding, layers, bias, bidirectional):
    if arch == "elman" and bidirectional:
        pytest.skip("elman runs one direction only")
    cfg = ModelConfig(arch=arch, layers=layers, hidden=7, bias=bias, encoding=encoding, embedding_dim=5,
                      bidirectional=bidirectional)
    for text, size in ((True, 11), (False, 1)):
        model = RecurrentNet(cfg, size, size, "text" if text else "sine")
        assert estimate_parameters(cfg, size, size, text=text) == parameter_count(model)
