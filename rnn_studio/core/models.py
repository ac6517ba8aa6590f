"""The networks: torch.nn recurrent layers and the from-scratch Elman cell.

``RecurrentNet`` = input encoding (one-hot, learned embedding, or the raw
value for sine) -> recurrent layers -> dropout -> a linear read-out at every
time step, as in seed 000's ``Model`` (nn.RNN + nn.Linear).

``ClassifierNet`` is seed 002's ``TextClassificationRNN`` (many-to-one):
embedding (padding_idx=0) -> recurrent layers -> pooling over time (max as
the seed; last or mean) -> FC 64 + ReLU + dropout -> FC to the classes.

``ElmanRNN`` follows seed 003: h_t = tanh(W_ih x_t + W_hh h_{t-1} (+ b)),
built from explicit weight tensors and autograd, no nn.RNN inside. Its
parameters carry nn.RNN's names and shapes so that nn.RNN's weights can be
copied in (the tests use nn.RNN as the oracle).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .config import ModelConfig

# forward_traced reports dLoss/dh_t for sequences up to this long (text-file
# windows are at most config.MAX_WINDOW = 2048; typed sentences at most 5,000).
MAX_TRACED_STEPS = 5_000


class ElmanRNN(nn.Module):
    """A stack of Elman layers written out step by step (seed 003)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 dropout: float = 0.0, nonlinearity: str = "tanh"):
        super().__init__()
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.dropout = bias, dropout
        self.activation = torch.tanh if nonlinearity == "tanh" else torch.relu
        for layer in range(num_layers):
            in_size = input_size if layer == 0 else hidden_size
            setattr(self, f"weight_ih_l{layer}", nn.Parameter(torch.empty(hidden_size, in_size)))
            setattr(self, f"weight_hh_l{layer}", nn.Parameter(torch.empty(hidden_size, hidden_size)))
            if bias:
                setattr(self, f"bias_ih_l{layer}", nn.Parameter(torch.empty(hidden_size)))
                setattr(self, f"bias_hh_l{layer}", nn.Parameter(torch.empty(hidden_size)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # nn.RNN's default: uniform(-1/sqrt(H), 1/sqrt(H))
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(self, x: torch.Tensor, hidden: torch.Tensor | None = None, keep_steps: bool = False):
        """x: [B, T, I]. Returns (output [B, T, H], h_n [L, B, H]) and, with
        ``keep_steps``, the top layer's h_t tensors (graph nodes whose .grad,
        once retained, is the full dLoss/dh_t)."""
        batch, steps, _ = x.shape
        if hidden is None:
            hidden = x.new_zeros(self.num_layers, batch, self.hidden_size)
        layer_input = x
        finals = []
        top_steps: list[torch.Tensor] = []
        for layer in range(self.num_layers):
            w_ih = getattr(self, f"weight_ih_l{layer}")
            w_hh = getattr(self, f"weight_hh_l{layer}")
            # The input projection of every step at once; the recurrence must loop.
            projected = layer_input @ w_ih.t()
            if self.bias:
                projected = projected + getattr(self, f"bias_ih_l{layer}") + getattr(self, f"bias_hh_l{layer}")
            h = hidden[layer]
            outputs = []
            for t in range(steps):
                h = self.activation(projected[:, t] + h @ w_hh.t())
                outputs.append(h)
            finals.append(h)
            layer_input = torch.stack(outputs, dim=1)
            if layer == self.num_layers - 1:
                top_steps = outputs
            elif self.dropout and self.training:
                layer_input = nn.functional.dropout(layer_input, self.dropout, True)
        h_n = torch.stack(finals, dim=0)
        if keep_steps:
            return layer_input, h_n, top_steps
        return layer_input, h_n


def recurrent_layers(cfg: ModelConfig, input_size: int) -> nn.Module:
    """The recurrent stack the settings name, batch-first."""
    dropout = cfg.dropout if cfg.layers > 1 else 0.0
    common = dict(num_layers=cfg.layers, bias=cfg.bias, batch_first=True, dropout=dropout,
                  bidirectional=cfg.bidirectional)
    if cfg.arch == "rnn":
        return nn.RNN(input_size, cfg.hidden, nonlinearity="tanh", **common)
    if cfg.arch == "rnn-relu":
        return nn.RNN(input_size, cfg.hidden, nonlinearity="relu", **common)
    if cfg.arch == "lstm":
        return nn.LSTM(input_size, cfg.hidden, **common)
    if cfg.arch == "gru":
        return nn.GRU(input_size, cfg.hidden, **common)
    if cfg.arch == "elman":
        return ElmanRNN(input_size, cfg.hidden, cfg.layers, bias=cfg.bias, dropout=dropout)
    # validate() catches this first; keep the message plain anyway
    raise ValueError(f"unknown architecture '{cfg.arch}'")


def initialise(model: nn.Module, scheme: str) -> None:
    if scheme == "xavier":
        # seed 002's best practice: Xavier weights, zero biases
        for name, p in model.named_parameters():
            if "weight" in name and p.dim() >= 2:
                nn.init.xavier_uniform_(p)
            elif "bias" in name:
                nn.init.zeros_(p)


class RecurrentNet(nn.Module):
    """Encoding -> recurrent layers -> read-out at every time step."""

    def __init__(self, cfg: ModelConfig, input_size: int, output_size: int, task_kind: str = "text"):
        super().__init__()
        self.cfg = cfg
        self.arch = cfg.arch
        self.task_kind = task_kind
        self.vocab_size = input_size if task_kind == "text" else None
        self.hidden_size, self.num_layers = cfg.hidden, cfg.layers
        self.directions = 2 if cfg.bidirectional else 1
        if task_kind == "text" and cfg.encoding == "embedding":
            self.embedding = nn.Embedding(input_size, cfg.embedding_dim)
            rnn_input = cfg.embedding_dim
        else:
            self.embedding = None
            rnn_input = input_size
        self.rnn = recurrent_layers(cfg, rnn_input)
        self.drop = nn.Dropout(cfg.dropout) if cfg.dropout else nn.Identity()
        self.fc = nn.Linear(cfg.hidden * self.directions, output_size, bias=cfg.bias)
        self._encoded: tuple | None = None  # (indices, their version, one-hot): encode's cache
        self._initialise(cfg.init)

    def _initialise(self, scheme: str) -> None:
        initialise(self, scheme)
        if scheme == "seed003":
            # seed 003: w1 ~ normal(0, 0.4) for input and context, w2 ~ normal(0, 0.3)
            for name, p in self.rnn.named_parameters():
                nn.init.normal_(p, 0.0, 0.4) if "weight" in name else nn.init.zeros_(p)
            nn.init.normal_(self.fc.weight, 0.0, 0.3)
            if self.fc.bias is not None:
                nn.init.zeros_(self.fc.bias)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        if self.task_kind != "text":
            return x
        if self.embedding is not None:
            return self.embedding(x)
        # The sentence task feeds the same batch tensor every step: encode it
        # once, as seed 000 does (a few percent of a seed-sized step). Keyed on
        # the very tensor and its version, so a new or changed batch is encoded anew.
        dtype = self.fc.weight.dtype
        cached = self._encoded
        if cached is not None and cached[0] is x and cached[1] == x._version and cached[2].dtype == dtype:
            return cached[2]
        encoded = nn.functional.one_hot(x, self.vocab_size).to(dtype)
        self._encoded = (x, x._version, encoded)
        return encoded

    def init_hidden(self, batch_size: int, device=None):
        """Zeros; a (h, c) pair for LSTM. One call hides the difference (pytorch/examples)."""
        device = device or self.fc.weight.device
        shape = (self.num_layers * self.directions, batch_size, self.hidden_size)
        h = torch.zeros(shape, device=device, dtype=self.fc.weight.dtype)
        return (h, h.clone()) if self.arch == "lstm" else h

    def _read_out(self, states: torch.Tensor, last_only: bool) -> torch.Tensor:
        if last_only:
            # seed 002 reads out the last step only (fc(out[:, -1, :])): the same
            # numbers, a 20th of the read-out's work. Dropout still draws for
            # every step, so a run with dropout makes the same draws either way.
            return self.fc(self.drop(states)[:, -1:])
        return self.fc(self.drop(states))

    def forward(self, x: torch.Tensor, hidden=None, return_states: bool = False, last_only: bool = False):
        """x: indices [B, T] (text) or values [B, T, 1] (sine).

        Returns (output [B, T, O], hidden) and, with ``return_states``, the
        hidden state of every time step [B, T, H*directions] (top layer).
        ``last_only``: the output of the last step only, [B, 1, O] (a
        next-value task's loss reads nothing else)."""
        states, hidden = self.rnn(self.encode(x), hidden)
        out = self._read_out(states, last_only)
        if return_states:
            return out, hidden, states
        return out, hidden

    def forward_traced(self, x: torch.Tensor, hidden=None, last_only: bool = False):
        """Same result as forward, but the top layer's h_t of every step is
        watched: returns (output, hidden, grads_fn) where ``grads_fn()`` after
        backward gives ||dLoss/dh_t|| per step as a [T] tensor.

        Torch's fused layers hide h_t. Where torch builds the layer from
        per-step operations anyway (nn.RNN and nn.GRU on CPU) the fused call
        is kept and a hook on each step's autograd node reads the gradient
        that reaches h_t, at the cost of one norm per step. For nn.RNN
        elsewhere (cuDNN) the gradient is rebuilt from the read-out's by the
        recursion in ``_traced_by_recursion``. LSTM (oneDNN on CPU, cuDNN on
        GPU: no per-step nodes) is written out with ``torch.lstm_cell``, the
        cell nn.LSTMCell runs, one step and layer at a time, and GRU off CPU
        is stepped through nn.GRU one time step at a time. Those cost a few
        times a plain step, which is why the trainer samples this."""
        enc = self.encode(x)
        if self.directions != 1 or enc.shape[1] > MAX_TRACED_STEPS:
            # bidirectional: no single h_t to speak of. Very long sequences:
            # freeing a traced graph thousands of steps deep overflowed the C
            # stack (SIGSEGV at ~25k steps); the figure is skipped instead.
            out, hidden = self.forward(x, hidden, last_only=last_only)
            return out, hidden, None
        if isinstance(self.rnn, ElmanRNN):
            states, hidden, steps = self.rnn(enc, hidden, keep_steps=True)
            for h in steps:
                h.retain_grad()
            out = self._read_out(states, last_only)

            def grads_fn():
                return torch.stack([_norm(h.grad) for h in steps])

            return out, hidden, grads_fn
        if isinstance(self.rnn, nn.RNN) or (isinstance(self.rnn, nn.GRU) and enc.device.type == "cpu"):
            states, new_hidden = self.rnn(enc, hidden)
            nodes = _step_nodes(states)
            if nodes is not None:
                return self._traced_by_hooks(states, new_hidden, nodes, last_only)
            if isinstance(self.rnn, nn.RNN):
                return self._traced_by_recursion(states, new_hidden, last_only)
            # a GRU that torch did not build step by step: step it below
        if isinstance(self.rnn, nn.LSTM) and not self.rnn.proj_size:
            return self._traced_by_cells(enc, hidden, last_only)
        outs, tops = [], []
        for t in range(enc.shape[1]):
            o_t, hidden = self.rnn(enc[:, t : t + 1], hidden)
            h_all = hidden[0] if isinstance(hidden, tuple) else hidden
            o_t.retain_grad()
            h_all.retain_grad()
            outs.append(o_t)
            tops.append(h_all)
        states = torch.cat(outs, dim=1)
        out = self._read_out(states, last_only)
        last = len(tops) - 1

        def grads_fn():
            # h_t reaches the loss by two routes: the read-out at t (o_t) and
            # the recurrence into t+1 (the returned hidden); add both. The last
            # step's hidden feeds nothing when the caller detaches it.
            norms = []
            for t, (o_t, h_all) in enumerate(zip(outs, tops, strict=True)):
                g = o_t.grad[:, 0] if o_t.grad is not None else torch.zeros_like(h_all[-1])
                if h_all.grad is not None and t != last:
                    g = g + h_all.grad[-1]
                norms.append(_norm(g))
            return torch.stack(norms)

        return out, hidden, grads_fn

    def _traced_by_hooks(self, states: torch.Tensor, hidden, nodes, last_only: bool = False):
        """forward_traced's fast path: ``nodes[t]`` made the top layer's h_t.

        The engine runs a node once, after adding up every gradient that
        reaches its output: from the read-out at t, from step t+1, and from
        the returned hidden state for the last step if the loss used it. A
        pre-hook on the node therefore sees the whole dLoss/dh_t, exactly as
        autograd computed it."""
        norms: list[torch.Tensor | None] = [None] * len(nodes)
        for t, (node, index) in enumerate(nodes):
            node.register_prehook(_norm_hook(norms, t, index))
        out = self._read_out(states, last_only)
        device, dtype = states.device, states.dtype

        def grads_fn():
            zero = torch.zeros((), device=device, dtype=dtype)
            return torch.stack([zero if n is None else n for n in norms])

        return out, hidden, grads_fn

    def _traced_by_cells(self, enc: torch.Tensor, hidden, last_only: bool = False):
        """forward_traced for nn.LSTM: its own weights, one lstm_cell per step
        and layer (what nn.LSTM computes, to float rounding; inter-layer
        dropout as nn.LSTM applies it), each top-layer h_t a graph node whose
        retained .grad is the whole dLoss/dh_t. Several times cheaper than
        calling nn.LSTM once per time step."""
        rnn = self.rnn
        batch, steps = enc.shape[0], enc.shape[1]
        if hidden is None:
            zeros = enc.new_zeros(self.num_layers, batch, self.hidden_size)
            hidden = (zeros, zeros)
        hs, cs = list(hidden[0].unbind(0)), list(hidden[1].unbind(0))
        weights = [
            (
                getattr(rnn, f"weight_ih_l{layer}"),
                getattr(rnn, f"weight_hh_l{layer}"),
                getattr(rnn, f"bias_ih_l{layer}") if rnn.bias else None,
                getattr(rnn, f"bias_hh_l{layer}") if rnn.bias else None,
            )
            for layer in range(self.num_layers)
        ]
        dropout = rnn.dropout if self.training else 0.0
        tops: list[torch.Tensor] = []
        for t in range(steps):
            layer_input = enc[:, t]
            for layer, (w_ih, w_hh, b_ih, b_hh) in enumerate(weights):
                hs[layer], cs[layer] = torch.lstm_cell(layer_input, (hs[layer], cs[layer]), w_ih, w_hh, b_ih, b_hh)
                layer_input = hs[layer]
                if dropout and layer < self.num_layers - 1:
                    layer_input = nn.functional.dropout(layer_input, dropout, True)
            if layer_input.requires_grad:
                layer_input.retain_grad()
            tops.append(layer_input)
        states = torch.stack(tops, dim=1)
        out = self._read_out(states, last_only)
        device = states.device

        def grads_fn():
            return torch.stack([_norm(h.grad).to(device) for h in tops])

        return out, (torch.stack(hs), torch.stack(cs)), grads_fn

    def _traced_by_recursion(self, states: torch.Tensor, hidden, last_only: bool = False):
        """forward_traced for nn.RNN (tanh or ReLU) when torch ran it fused.

        The top layer's h_{t+1} = f(a_{t+1}) with a_{t+1} = W_ih x_{t+1} +
        W_hh h_t + b, and nothing above that layer but the read-out, so
        dLoss/dh_t = d_t + (f'(a_{t+1}) * dLoss/dh_{t+1}) @ W_hh, where d_t is
        the read-out's gradient at t (the gradient that reaches ``states``).
        A hook on ``states`` runs that recursion during backward, while W_hh
        still holds the weights the forward used. The figures are those of
        stepping nn.RNN one time step at a time to float rounding; it costs
        about as much as nn.RNN's own backward through time."""
        out = self._read_out(states, last_only)
        steps = states.shape[1]
        w_hh = getattr(self.rnn, f"weight_hh_l{self.num_layers - 1}")
        relu = self.rnn.nonlinearity == "relu"
        # A detached view, not ``states``: a hook that refers to its own
        # tensor is a reference cycle, and would keep each step's graph alive
        # until the garbage collector runs.
        h = states.detach()
        result: list[torch.Tensor] = []

        def hook(direct: torch.Tensor) -> None:
            # ~2 torch calls per time step: on the seed's sizes each call costs
            # about as much as its arithmetic, so the count is what matters
            with torch.no_grad():
                # f'(a) from the output: 1 - h^2 for tanh, [h > 0] for ReLU
                slope = (h > 0).to(h.dtype) if relu else 1 - h * h
                slopes, directs = slope.unbind(1), direct.unbind(1)
                weight = w_hh.detach()
                g = directs[-1]
                grads = [g]
                for t in range(steps - 2, -1, -1):
                    g = torch.addmm(directs[t], g * slopes[t + 1], weight)
                    grads.append(g)
                grads.reverse()
                result[:] = [torch.stack(torch._foreach_norm(grads))]

        if states.requires_grad:
            states.register_hook(hook)

        def grads_fn():
            return result[0] if result else torch.zeros(steps)

        return out, hidden, grads_fn


def traced_forward_is_plain(model: nn.Module, device) -> bool:
    """Does ``forward_traced`` run the very forward ``forward`` runs (so the
    trace costs a norm per step and changes no loss)? True for nn.RNN and
    nn.GRU on CPU (hooks on torch's own per-step nodes), nn.RNN on CUDA (a
    recursion in a hook) and the Elman layer; False for LSTM (written out
    cell by cell: ~2.4x a plain step, and rounded differently from the fused
    kernel) and GRU off CPU (stepped one time step at a time)."""
    rnn = getattr(model, "rnn", None)
    if not isinstance(model, RecurrentNet) or getattr(model, "directions", 1) != 1:
        return True  # no trace is taken at all
    device_type = torch.device(device).type
    if isinstance(rnn, (ElmanRNN, nn.RNN)):
        return True
    return isinstance(rnn, nn.GRU) and device_type == "cpu"


def _step_nodes(states: torch.Tensor):
    """[(node, output index)] of the autograd nodes that made h_0..h_{T-1}
    of the top layer, when torch built a batch-first layer from per-step
    operations (its CPU kernels for nn.RNN and nn.GRU do: the output is
    stack(h_t).transpose(0, 1)); None for any other graph (cuDNN, oneDNN)."""
    node = states.grad_fn
    if node is None or not type(node).__name__.startswith("TransposeBackward"):
        return None
    if {getattr(node, "_saved_dim0", None), getattr(node, "_saved_dim1", None)} != {0, 1}:
        return None
    node = node.next_functions[0][0]
    if node is None or type(node).__name__ != "StackBackward0" or getattr(node, "_saved_dim", None) != 0:
        return None
    inputs = node.next_functions
    if len(inputs) != states.shape[1] or len({id(fn) for fn, _ in inputs}) != len(inputs):
        return None
    # The last operation of each cell; anything else (a copy, a view) might
    # not be where the recurrence takes h_t from, so the hooks could miss it.
    if any(type(fn).__name__ not in _CELL_OUTPUT_NODES for fn, _ in inputs):
        return None
    return list(inputs)


# tanh / relu of nn.RNN's cell, the final add of nn.GRU's (CPU kernels)
_CELL_OUTPUT_NODES = frozenset({"TanhBackward0", "ReluBackward0", "AddBackward0"})


def _norm_hook(norms: list, t: int, index: int):
    def hook(grad_outputs):
        grad = grad_outputs[index]
        if grad is not None:
            norms[t] = torch.linalg.vector_norm(grad.detach())

    return hook


def _norm(g: torch.Tensor | None) -> torch.Tensor:
    if g is None:
        return torch.zeros(())
    return torch.linalg.vector_norm(g.detach())


CLASSIFIER_HIDDEN = 64  # seed 002: fc1 = nn.Linear(hidden_size * 2, 64)


class ClassifierNet(nn.Module):
    """Seed 002's TextClassificationRNN: one class per text (many-to-one).

    Unlike the seed, padding never reaches the result: a bidirectional stack
    reads each text packed to its own length (the backward direction starts
    at its last real token, not at the padding), and pooling looks only at
    real tokens. A text therefore gets the same answer alone or in any
    batch, padded to any length, which ``classify_text`` relies on."""

    task_kind = "classify"

    def __init__(self, cfg: ModelConfig, vocab_size: int, num_classes: int):
        super().__init__()
        self.cfg = cfg
        self.arch = cfg.arch
        self.hidden_size, self.num_layers = cfg.hidden, cfg.layers
        self.directions = 2 if cfg.bidirectional else 1
        self.pool = cfg.pool
        self.embedding = nn.Embedding(vocab_size, cfg.embedding_dim, padding_idx=0)
        self.rnn = recurrent_layers(cfg, cfg.embedding_dim)
        self.fc1 = nn.Linear(cfg.hidden * self.directions, CLASSIFIER_HIDDEN)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(cfg.head_dropout)
        self.fc2 = nn.Linear(CLASSIFIER_HIDDEN, num_classes)
        initialise(self, cfg.init)
        if cfg.init == "xavier":
            with torch.no_grad():
                self.embedding.weight[0].zero_()  # the padding row stays zero, as padding_idx keeps it

    def states(self, x: torch.Tensor):
        """(states of every step [B, T, H*dirs], real-token mask [B, T], lengths [B])."""
        lengths = (x != 0).sum(1).clamp(min=1)
        mask = torch.arange(x.shape[1], device=x.device)[None, :] < lengths[:, None]
        emb = self.embedding(x)
        if self.directions == 2:
            packed = nn.utils.rnn.pack_padded_sequence(emb, lengths.cpu(), batch_first=True, enforce_sorted=False)
            out, _ = self.rnn(packed)
            states, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        else:
            # one direction reads left to right: padding after a text cannot change its states
            states, _ = self.rnn(emb)
        return states, mask, lengths

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        states, mask, lengths = self.states(x)
        if self.pool == "max":  # seed 002: torch.max(lstm_out, dim=1)[0]
            return states.masked_fill(~mask[..., None], float("-inf")).max(1).values
        if self.pool == "mean":
            return (states * mask[..., None]).sum(1) / lengths[:, None].to(states.dtype)
        # last: the forward direction's state at the last token, the backward one's at the first
        rows = torch.arange(x.shape[0], device=x.device)
        last = states[rows, lengths - 1]
        if self.directions == 2:
            h = self.hidden_size
            last = torch.cat([last[:, :h], states[:, 0, h:]], dim=1)
        return last

    def forward(self, x: torch.Tensor, hidden=None):
        """x: token indices [B, T], 0 = padding. Returns (logits [B, classes], None)."""
        out = self.dropout(self.relu(self.fc1(self.pooled(x))))
        return self.fc2(out), None

    def forward_traced(self, x: torch.Tensor, hidden=None):
        # pooling mixes every step into one vector; no single h_t to follow
        out, hidden = self.forward(x, hidden)
        return out, hidden, None


def build_model(cfg: ModelConfig, task) -> nn.Module:
    if task.kind == "classify":
        return ClassifierNet(cfg, len(task.vocab), task.num_classes)
    if task.kind == "text":
        size = len(task.vocab)
        return RecurrentNet(cfg, size, size, "text")
    return RecurrentNet(cfg, 1, 1, "sine")


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
