"""Inside the network (issue 10): hidden states, gates and confidence of a text.

One function, ``read_text``, serves the window's hidden-state, gate and
confidence views and ``rnn-studio inspect``: the numbers a class sees are the
numbers a notebook reads.

The recurrence is written out from the network's own weights
(``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}``,
``_reverse`` for the backward direction), on the network's own device, in
eval mode, one time step at a time, with torch's equations and gate order:

- LSTM (rows i, f, g, o): i = σ, f = σ, g = tanh, o = σ of
  W_ih x_t + b_ih + W_hh h_{t-1} + b_hh;  c_t = f c_{t-1} + i g;  h_t = o tanh(c_t)
- GRU (rows r, z, n): r = σ(W_ir x + b_ir + W_hr h + b_hr),
  z = σ(W_iz x + b_iz + W_hz h + b_hz), n = tanh(W_in x + b_in + r (W_hn h + b_hn)),
  h_t = (1 - z) n + z h_{t-1}
- RNN / Elman (seed 003): h_t = tanh or relu(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)

Torch's fused layers hide the gates; written out, the gates are the ones
that made h_t and c_t, and tests/core/test_inspection.py checks that these
h_t and c_t equal ``nn.LSTM``/``nn.GRU``'s, layer by layer and step by step.

The next-character probabilities come from the model's own forward pass
(what ``generation.complete`` uses); the unknown index 0 (a character never
seen in training, never a target) is left out of the candidate lists, as
completion never writes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from .errors import DataError
from .models import ElmanRNN

GATE_NAMES = {
    "lstm": ("input", "forget", "output", "candidate"),  # candidate = g, the new cell content
    "gru": ("reset", "update", "candidate"),  # candidate = n
}
NO_GATES = {
    "rnn": "a plain RNN has no gates: its hidden state is tanh(W_ih x_t + W_hh h_(t-1) + b), all of it rewritten "
           "at every character",
    "rnn-relu": "a plain RNN has no gates: its hidden state is relu(W_ih x_t + W_hh h_(t-1) + b), all of it "
                "rewritten at every character",
    "elman": "a plain RNN has no gates: the Elman cell of seed 003 is h_t = tanh(W_ih x_t + W_hh h_(t-1) + b), all "
             "of it rewritten at every character",
}
DEFAULT_TOP_K = 5
MAX_INSPECT_CHARS = 5_000  # a typed sentence is at most 5,000 characters (text.MAX_SENTENCE_CHARS)
# hidden + cell + gates over layers x characters x units: 160 MB of float32 at most
MAX_READING_VALUES = 40_000_000


@dataclass
class StateTrace:
    """What the recurrent stack computed for one sequence (batch of one).

    Every array is float32 [layers, T, units], units = hidden size x
    directions (the forward direction's units first, as torch's output)."""

    arch: str  # "rnn" | "rnn-relu" | "lstm" | "gru" | "elman"
    hidden: np.ndarray
    cell: np.ndarray | None  # LSTM only
    gates: dict[str, np.ndarray] | None  # GATE_NAMES[arch] -> array; None without gates
    gates_reason: str | None  # why there are no gates, in plain words
    top_states: torch.Tensor = field(repr=False)  # the top layer's h_t as a tensor [T, units], on the device


def arch_of(rnn: nn.Module) -> str:
    """The architecture name of a recurrent stack (config.ARCHITECTURES)."""
    if isinstance(rnn, ElmanRNN):
        return "elman"
    if isinstance(rnn, nn.LSTM):
        return "lstm"
    if isinstance(rnn, nn.GRU):
        return "gru"
    if isinstance(rnn, nn.RNN):
        return "rnn-relu" if rnn.nonlinearity == "relu" else "rnn"
    raise DataError(f"cannot look inside a {type(rnn).__name__}: not one of RNN Studio's recurrent layers")


def _weights(rnn: nn.Module, layer: int, suffix: str):
    get = lambda name: getattr(rnn, f"{name}_l{layer}{suffix}", None)  # noqa: E731
    return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh")


def _run_direction(arch: str, x: torch.Tensor, weights, hidden_size: int):
    """One layer, one direction, written out. x: [T, I]. Returns (h [T, H],
    c [T, H] or None, {gate: [T, H]} or None)."""
    w_ih, w_hh, b_ih, b_hh = weights
    projected = x @ w_ih.t()  # the input part of every step at once
    if b_ih is not None:
        projected = projected + b_ih
    h = x.new_zeros(hidden_size)
    c = x.new_zeros(hidden_size) if arch == "lstm" else None
    hs, cs = [], []
    gates: dict[str, list] = {name: [] for name in GATE_NAMES.get(arch, ())}
    for t in range(x.shape[0]):
        recurrent = w_hh @ h
        if b_hh is not None:
            recurrent = recurrent + b_hh
        if arch == "lstm":
            i, f, g, o = (projected[t] + recurrent).chunk(4)
            i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
            c = f * c + i * g
            h = o * torch.tanh(c)
            cs.append(c)
            for name, value in zip(GATE_NAMES["lstm"], (i, f, o, g), strict=True):
                gates[name].append(value)
        elif arch == "gru":
            r_in, z_in, n_in = projected[t].chunk(3)
            r_h, z_h, n_h = recurrent.chunk(3)
            r = torch.sigmoid(r_in + r_h)
            z = torch.sigmoid(z_in + z_h)
            n = torch.tanh(n_in + r * n_h)
            h = (1 - z) * n + z * h
            for name, value in zip(GATE_NAMES["gru"], (r, z, n), strict=True):
                gates[name].append(value)
        else:
            a = projected[t] + recurrent
            h = torch.relu(a) if arch == "rnn-relu" else torch.tanh(a)
        hs.append(h)
    stack = lambda values: torch.stack(values) if values else x.new_zeros(0, hidden_size)  # noqa: E731
    return (stack(hs), stack(cs) if arch == "lstm" else None,
            {name: stack(v) for name, v in gates.items()} if gates else None)


def trace_states(rnn: nn.Module, inputs: torch.Tensor) -> StateTrace:
    """h_t (and c_t, and the gates) of every layer for ``inputs`` [T, I], the
    encoded sequence (one-hot rows, embeddings or values), computed from the
    stack's own weights on their device. The stack runs as in eval mode: no
    dropout between layers."""
    arch = arch_of(rnn)
    if isinstance(rnn, ElmanRNN) and rnn.activation is torch.relu:
        arch = "rnn-relu"
    if getattr(rnn, "proj_size", 0):
        raise DataError("cannot look inside an LSTM with projections")
    directions = 2 if getattr(rnn, "bidirectional", False) else 1
    suffixes = ("", "_reverse")[:directions]
    hidden_size = rnn.hidden_size
    weight = next(rnn.parameters())
    layer_input = inputs.to(device=weight.device, dtype=weight.dtype)
    hidden, cell = [], []
    gates: dict[str, list] = {name: [] for name in GATE_NAMES.get(arch, ())}
    with torch.no_grad():
        for layer in range(rnn.num_layers):
            parts = []
            for suffix in suffixes:
                x = layer_input.flip(0) if suffix else layer_input
                h, c, g = _run_direction(arch, x, _weights(rnn, layer, suffix), hidden_size)
                if suffix:  # the backward direction read the text from its end: put it back in order
                    h = h.flip(0)
                    c = c.flip(0) if c is not None else None
                    g = {k: v.flip(0) for k, v in g.items()} if g else None
                parts.append((h, c, g))
            h = torch.cat([p[0] for p in parts], dim=1)
            hidden.append(h)
            if arch == "lstm":
                cell.append(torch.cat([p[1] for p in parts], dim=1))
            for name in gates:
                gates[name].append(torch.cat([p[2][name] for p in parts], dim=1))
            layer_input = h

    def to_numpy(values: list) -> np.ndarray:
        return torch.stack(values).to("cpu", torch.float32).numpy()

    return StateTrace(
        arch=arch,
        hidden=to_numpy(hidden),
        cell=to_numpy(cell) if arch == "lstm" else None,
        gates={name: to_numpy(v) for name, v in gates.items()} if gates else None,
        gates_reason=NO_GATES.get(arch),
        top_states=layer_input,
    )


@dataclass
class Reading:
    """How a text network reads ``text``: its insides at every character and
    what it expects next.

    Arrays are float32 [layers, T, units] (``hidden``, ``cell``, each gate);
    ``probabilities`` [T, vocabulary] is the distribution over the character
    after ``text[t]``, as the network gives it having read ``text[:t+1]``."""

    text: str  # as fed (lower-cased where the vocabulary is; see Vocabulary.prepare_prompt)
    indices: list[int]
    unknown_chars: list[str]
    itos: list[str]
    arch: str
    hidden: np.ndarray
    cell: np.ndarray | None
    gates: dict[str, np.ndarray] | None
    gates_reason: str | None
    probabilities: np.ndarray

    @property
    def layers(self) -> int:
        return int(self.hidden.shape[0])

    @property
    def units(self) -> int:
        return int(self.hidden.shape[2])

    def top(self, t: int, k: int = DEFAULT_TOP_K) -> list[tuple[str, float]]:
        """The ``k`` most likely characters after ``text[t]``, most likely first."""
        probs = self.probabilities[t]
        order = np.argsort(-probs[1:], kind="stable")[:k] + 1  # index 0 = unknown, never written
        return [(self.itos[i], float(probs[i])) for i in order]

    def chosen_probabilities(self) -> np.ndarray:
        """[T]: the probability the network gave each character of the text
        before reading it (NaN for the first, which nothing predicted). In a
        completion, the confidence of each character it chose."""
        out = np.full(len(self.indices), np.nan)
        if len(self.indices) > 1:
            rows = np.arange(len(self.indices) - 1)
            out[1:] = self.probabilities[rows, np.asarray(self.indices[1:])]
        return out

    def heatmap(self, layer: int = 0, what: str = "hidden") -> np.ndarray:
        """[units, T] for a heatmap (y = unit, x = character): ``what`` is
        "hidden", "cell" or a gate name. Raises DataError with the reason where
        the network has no such thing."""
        if what == "hidden":
            values = self.hidden
        elif what == "cell":
            if self.cell is None:
                raise DataError(f"only an LSTM has a cell state; this is a {self.arch}")
            values = self.cell
        else:
            if self.gates is None:
                raise DataError(self.gates_reason or f"a {self.arch} has no gates")
            if what not in self.gates:
                raise DataError(f"a {self.arch} has no '{what}' gate; it has {', '.join(self.gates)}")
            values = self.gates[what]
        return values[layer].T

    def gate_means(self) -> dict[str, np.ndarray] | None:
        """Each gate averaged over the units: {name: [layers, T]}."""
        if self.gates is None:
            return None
        return {name: v.mean(axis=2) for name, v in self.gates.items()}

    def rows(self, top_k: int = DEFAULT_TOP_K) -> list[dict]:
        """One plain dict per character, ``rnn-studio inspect --json``'s rows:
        char, top [[char, p], ...], hidden [[...] per layer], cell, gates."""
        rows = []
        for t, char in enumerate(self.text):
            rows.append({
                "char": char,
                "top": [[c, p] for c, p in self.top(t, top_k)],
                "hidden": self.hidden[:, t].tolist(),
                "cell": self.cell[:, t].tolist() if self.cell is not None else None,
                "gates": {name: v[:, t].tolist() for name, v in self.gates.items()} if self.gates else None,
            })
        return rows


def _check_text_model(model, vocab) -> None:
    if vocab is None or getattr(model, "task_kind", None) != "text":
        kind = getattr(model, "task_kind", None) or "another"
        raise DataError(f"this network was trained on the {kind} task: reading a text needs one trained on text")


def read_text(model, vocab, text: str, prepare: bool = True) -> Reading:
    """The network's reading of ``text`` (a training sentence or a prompt):
    h_t per layer, c_t for LSTM, the gates where there are any, and the next
    character's probabilities after every character. ``prepare`` lower-cases
    the text as prompts are (``Vocabulary.prepare_prompt``)."""
    _check_text_model(model, vocab)
    if not isinstance(text, str) or text == "":
        raise DataError("the text is empty: type at least one character to look inside the network")
    if len(text) > MAX_INSPECT_CHARS:
        raise DataError(f"the text is {len(text):,} characters; the limit for looking inside is {MAX_INSPECT_CHARS:,}")
    if getattr(model, "directions", 1) != 1:
        raise DataError("this network reads both ways; a next-character network reads left to right")
    per_layer = 1 + (1 if model.arch == "lstm" else 0) + len(GATE_NAMES.get(model.arch, ()))
    values = model.num_layers * len(text) * model.hidden_size * per_layer + len(text) * len(vocab)
    if values > MAX_READING_VALUES:
        raise DataError(f"looking inside {len(text):,} characters of this network takes {values:,} numbers; the limit "
                        f"is {MAX_READING_VALUES:,}: use a shorter text")
    if prepare:
        text = vocab.prepare_prompt(text)
    indices = vocab.encode(text)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            x = torch.tensor([indices], dtype=torch.long, device=device)
            trace = trace_states(model.rnn, model.encode(x)[0])
            out, _ = model(x)
            probabilities = torch.softmax(out[0].double(), dim=-1).to("cpu", torch.float32).numpy()
    finally:
        model.train(was_training)
    return Reading(
        text=text, indices=indices, unknown_chars=vocab.unknown_chars(text), itos=list(vocab.itos),
        arch=trace.arch, hidden=trace.hidden, cell=trace.cell, gates=trace.gates, gates_reason=trace.gates_reason,
        probabilities=probabilities,
    )


# -- confidence of a completion, and branching from a candidate ----------------------------------


@dataclass
class ConfidentCompletion:
    """A greedy completion with the network's confidence in each character."""

    text: str  # prompt + generated
    prompt: str
    reading: Reading  # of the whole text: reading.chosen_probabilities() colours it

    @property
    def confidence(self) -> np.ndarray:
        return self.reading.chosen_probabilities()

    def candidates(self, position: int, k: int = DEFAULT_TOP_K) -> list[tuple[str, float]]:
        """What the network considered for ``text[position]`` (position >= 1), most likely first."""
        if not 1 <= position < len(self.text):
            raise DataError(f"position must be from 1 to {len(self.text) - 1}, got {position}")
        return self.reading.top(position - 1, k)


def complete_with_confidence(model, vocab, prompt: str, length: int = 15) -> ConfidentCompletion:
    """``generation.complete`` (greedy) and the reading of its result."""
    from .generation import complete

    result = complete(model, vocab, prompt, length)
    return ConfidentCompletion(result.text, result.prompt, read_text(model, vocab, result.text, prepare=False))


def branch(model, vocab, text: str, position: int, char: str, length: int | None = None) -> ConfidentCompletion:
    """Continue ``text`` from a chosen candidate: keep ``text[:position]``,
    write ``char`` at ``position``, and complete greedily to ``length``
    characters in all (default: as long as ``text``)."""
    if isinstance(position, bool) or not isinstance(position, int) or not 1 <= position <= len(text):
        raise DataError(f"a branch starts at a position from 1 to {len(text)}, got {position!r}")
    if not isinstance(char, str) or len(char) != 1 or char not in vocab.stoi:
        raise DataError(f"the network never writes {char!r}: choose one of the characters it knows")
    prompt = text[:position] + char
    return complete_with_confidence(model, vocab, prompt, max(length or len(text), len(prompt)))

