"""Issue 10: hidden states, gates and confidence, checked against torch.

The oracle is torch itself (STYLE.md, micrograd): the model's own nn.LSTM /
nn.GRU / nn.RNN stepped one character at a time gives h_t (and c_t) of every
layer in its returned state; the written-out recurrence must give the same
numbers, and the gates it reports must rebuild them by torch's equations.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rnn_studio.core.config import ModelConfig, RunConfig
from rnn_studio.core.data import Vocabulary
from rnn_studio.core.errors import DataError
from rnn_studio.core.generation import complete
from rnn_studio.core.inspection import (
    GATE_NAMES,
    MAX_INSPECT_CHARS,
    branch,
    complete_with_confidence,
    read_text,
    trace_states,
)
from rnn_studio.core.models import RecurrentNet
from rnn_studio.core.training import Trainer

VOCAB = Vocabulary("hey how are you good i am fine have a nice day")
TEXT = "good i am fi"
ATOL = 1e-5
RTOL = 1e-6  # relu states grow to ~30: float32 rounding there is ~1e-5 absolute


def make_model(arch, layers=1, encoding="onehot", hidden=7, bidirectional=False, seed=0):
    torch.manual_seed(seed)
    cfg = ModelConfig(arch=arch, layers=layers, hidden=hidden, encoding=encoding, embedding_dim=5,
                      bidirectional=bidirectional)
    model = RecurrentNet(cfg, len(VOCAB), len(VOCAB), "text")
    # larger weights than the default init, so the gates are far from 0.5 and a mistake shows
    with torch.no_grad():
        for p in model.rnn.parameters():
            p.mul_(3.0)
    return model.eval()


def stepped_oracle(model, text):
    """h_t and c_t of every layer, [layers, T, H], from the model's own torch
    layer called one character at a time."""
    x = model.encode(torch.tensor([VOCAB.encode(text)]))
    hidden = None
    hs, cs = [], []
    with torch.no_grad():
        for t in range(x.shape[1]):
            _, hidden = model.rnn(x[:, t:t + 1], hidden)
            if isinstance(hidden, tuple):
                hs.append(hidden[0][:, 0].clone())
                cs.append(hidden[1][:, 0].clone())
            else:
                hs.append(hidden[:, 0].clone())
    h = torch.stack(hs, dim=1).numpy()
    c = torch.stack(cs, dim=1).numpy() if cs else None
    return h, c


@pytest.mark.parametrize("arch", ["lstm", "gru", "rnn", "rnn-relu", "elman"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("encoding", ["onehot", "embedding"])
def test_hidden_and_cell_states_equal_torch_stepped(arch, layers, encoding):
    model = make_model(arch, layers, encoding)
    reading = read_text(model, VOCAB, TEXT)
    h, c = stepped_oracle(model, TEXT)
    assert reading.hidden.shape == (layers, len(TEXT), 7)
    np.testing.assert_allclose(reading.hidden, h, atol=ATOL, rtol=RTOL)
    if arch == "lstm":
        np.testing.assert_allclose(reading.cell, c, atol=ATOL, rtol=RTOL)
    else:
        assert reading.cell is None
    # the top layer is what the fused forward pass reads out
    with torch.no_grad():
        _, _, states = model(torch.tensor([VOCAB.encode(TEXT)]), return_states=True)
    np.testing.assert_allclose(reading.hidden[-1], states[0].numpy(), atol=ATOL, rtol=RTOL)


def _in_unit_interval(values):
    assert np.all(values >= 0) and np.all(values <= 1)


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("encoding", ["onehot", "embedding"])
def test_lstm_gates_rebuild_torch_cell_and_hidden(layers, encoding):
    """c_t = f c_(t-1) + i g and h_t = o tanh(c_t), with torch's c and h."""
    model = make_model("lstm", layers, encoding)
    reading = read_text(model, VOCAB, TEXT)
    h, c = stepped_oracle(model, TEXT)
    gates = reading.gates
    assert set(gates) == set(GATE_NAMES["lstm"])
    i, f, o, g = gates["input"], gates["forget"], gates["output"], gates["candidate"]
    for gate in (i, f, o):
        _in_unit_interval(gate)
    assert np.all(np.abs(g) <= 1)
    c_prev = np.concatenate([np.zeros_like(c[:, :1]), c[:, :-1]], axis=1)
    np.testing.assert_allclose(f * c_prev + i * g, c, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(o * np.tanh(c), h, atol=ATOL, rtol=RTOL)


def test_lstm_gates_are_torch_gate_rows():
    """The input gate is sigmoid of the first quarter of W_ih x + b + W_hh h + b (torch order i, f, g, o)."""
    model = make_model("lstm")
    reading = read_text(model, VOCAB, TEXT)
    rnn = model.rnn
    x = model.encode(torch.tensor([VOCAB.encode(TEXT)]))[0]
    h_prev = torch.zeros(7)
    with torch.no_grad():
        for t in range(len(TEXT)):
            a = rnn.weight_ih_l0 @ x[t] + rnn.bias_ih_l0 + rnn.weight_hh_l0 @ h_prev + rnn.bias_hh_l0
            rows = a.split(7)
            np.testing.assert_allclose(reading.gates["input"][0, t], torch.sigmoid(rows[0]).numpy(), atol=ATOL)
            np.testing.assert_allclose(reading.gates["forget"][0, t], torch.sigmoid(rows[1]).numpy(), atol=ATOL)
            np.testing.assert_allclose(reading.gates["candidate"][0, t], torch.tanh(rows[2]).numpy(), atol=ATOL)
            np.testing.assert_allclose(reading.gates["output"][0, t], torch.sigmoid(rows[3]).numpy(), atol=ATOL)
            h_prev = torch.from_numpy(reading.hidden[0, t])


@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("encoding", ["onehot", "embedding"])
def test_gru_gates_rebuild_torch_hidden(layers, encoding):
    """h_t = (1 - z) n + z h_(t-1) with torch's h."""
    model = make_model("gru", layers, encoding)
    reading = read_text(model, VOCAB, TEXT)
    h, _ = stepped_oracle(model, TEXT)
    z, n, r = reading.gates["update"], reading.gates["candidate"], reading.gates["reset"]
    _in_unit_interval(z)
    _in_unit_interval(r)
    h_prev = np.concatenate([np.zeros_like(h[:, :1]), h[:, :-1]], axis=1)
    np.testing.assert_allclose((1 - z) * n + z * h_prev, h, atol=ATOL, rtol=RTOL)
    # r enters n: n = tanh(W_in x + b_in + r (W_hn h + b_hn)); checked for layer 0
    rnn = model.rnn
    x = model.encode(torch.tensor([VOCAB.encode(TEXT)]))[0]
    with torch.no_grad():
        for t in range(len(TEXT)):
            hp = torch.from_numpy(h_prev[0, t])
            gi = (rnn.weight_ih_l0 @ x[t] + rnn.bias_ih_l0).split(7)
            gh = (rnn.weight_hh_l0 @ hp + rnn.bias_hh_l0).split(7)
            rt = torch.from_numpy(r[0, t])
            np.testing.assert_allclose(n[0, t], torch.tanh(gi[2] + rt * gh[2]).numpy(), atol=ATOL)


@pytest.mark.parametrize("arch", ["rnn", "rnn-relu", "elman"])
def test_plain_rnn_has_no_gates_and_says_why(arch):
    reading = read_text(make_model(arch), VOCAB, TEXT)
    assert reading.gates is None and reading.gate_means() is None
    assert reading.gates_reason.startswith("a plain RNN has no gates")
    with pytest.raises(DataError, match="a plain RNN has no gates"):
        reading.heatmap(0, "input")


@pytest.mark.parametrize("arch", ["lstm", "gru", "rnn"])
def test_bidirectional_stack_matches_torch_output(arch):
    """Both directions, forward units first, as torch lays out its output."""
    model = make_model(arch, layers=2, bidirectional=True)
    x = model.encode(torch.tensor([VOCAB.encode(TEXT)]))
    trace = trace_states(model.rnn, x[0])
    with torch.no_grad():
        out, hidden = model.rnn(x)
    assert trace.hidden.shape == (2, len(TEXT), 14)
    np.testing.assert_allclose(trace.hidden[-1], out[0].numpy(), atol=ATOL, rtol=RTOL)
    h_n = hidden[0] if isinstance(hidden, tuple) else hidden  # [layers*2, 1, H]
    for layer in range(2):
        np.testing.assert_allclose(trace.hidden[layer, -1, :7], h_n[2 * layer, 0].numpy(), atol=ATOL)
        np.testing.assert_allclose(trace.hidden[layer, 0, 7:], h_n[2 * layer + 1, 0].numpy(), atol=ATOL)


def test_probabilities_and_top_k_equal_softmax_of_the_model():
    model = make_model("lstm", 2)
    reading = read_text(model, VOCAB, TEXT)
    with torch.no_grad():
        probs = torch.softmax(model(torch.tensor([VOCAB.encode(TEXT)]))[0][0].double(), -1).numpy()
    np.testing.assert_allclose(reading.probabilities, probs, atol=1e-6)
    for t in range(len(TEXT)):
        top = reading.top(t, 4)
        expected = np.argsort(-probs[t, 1:], kind="stable")[:4] + 1
        assert [c for c, _ in top] == [VOCAB.itos[i] for i in expected]
        assert [p for _, p in top] == sorted((p for _, p in top), reverse=True)
        assert all(abs(p - probs[t, VOCAB.stoi[c]]) < 1e-6 for c, p in top)
    chosen = reading.chosen_probabilities()
    assert math.isnan(chosen[0])
    for t in range(1, len(TEXT)):
        assert chosen[t] == pytest.approx(probs[t - 1, VOCAB.stoi[TEXT[t]]], abs=1e-6)


def test_reading_runs_in_eval_mode_and_restores_training_mode():
    model = make_model("lstm", 2)
    model.cfg.dropout = 0.5
    model.drop = torch.nn.Dropout(0.5)
    model.train()
    first = read_text(model, VOCAB, TEXT)
    second = read_text(model, VOCAB, TEXT)
    assert model.training
    np.testing.assert_array_equal(first.probabilities, second.probabilities)


def test_heatmap_and_gate_means_shapes():
    reading = read_text(make_model("lstm", 2, hidden=5), VOCAB, TEXT)
    assert reading.heatmap(1, "hidden").shape == (5, len(TEXT))
    assert reading.heatmap(0, "cell").shape == (5, len(TEXT))
    assert reading.heatmap(0, "forget").shape == (5, len(TEXT))
    means = reading.gate_means()
    assert means["forget"].shape == (2, len(TEXT))
    np.testing.assert_allclose(means["forget"], reading.gates["forget"].mean(axis=2))
    with pytest.raises(DataError, match="only an LSTM"):
        read_text(make_model("gru"), VOCAB, TEXT).heatmap(0, "cell")


def test_rows_are_the_json_shape():
    reading = read_text(make_model("gru", 2, hidden=3), VOCAB, "hey")
    rows = reading.rows(top_k=3)
    assert [r["char"] for r in rows] == list("hey")
    assert len(rows[0]["hidden"]) == 2 and len(rows[0]["hidden"][0]) == 3
    assert rows[0]["cell"] is None and set(rows[0]["gates"]) == {"reset", "update", "candidate"}
    assert len(rows[0]["top"]) == 3


def test_bad_input_is_one_plain_error():
    model = make_model("rnn")
    with pytest.raises(DataError, match="empty"):
        read_text(model, VOCAB, "")
    with pytest.raises(DataError, match="limit"):
        read_text(model, VOCAB, "a" * (MAX_INSPECT_CHARS + 1))
    sine = RecurrentNet(ModelConfig(), 1, 1, "sine")
    with pytest.raises(DataError, match="sine"):
        read_text(sine, None, "abc")


def test_unknown_characters_are_reported():
    reading = read_text(make_model("rnn"), VOCAB, "hez!")
    assert reading.unknown_chars == ["z", "!"]
    assert reading.indices[2] == 0


def test_confidence_of_a_trained_completion_and_branch():
    cfg = RunConfig()
    cfg.train.device, cfg.train.epochs = "cpu", 100
    trainer = Trainer(cfg)
    for _ in range(100):
        trainer.step()
    result = complete_with_confidence(trainer.model, trainer.vocab, "good", 15)
    assert result.text == complete(trainer.model, trainer.vocab, "good", 15).text == "good i am fine "
    confidence = result.confidence
    assert confidence.shape == (15,) and math.isnan(confidence[0])
    assert np.all(confidence[4:] > 0.3)  # a trained network is sure of the sentence it learnt
    # at each generated position the chosen character is the top candidate
    for position in range(4, 15):
        assert result.candidates(position, 5)[0][0] == result.text[position]
    # branch: write the second candidate at position 5 and go on from there
    second = result.candidates(5, 5)[1][0]
    other = branch(trainer.model, trainer.vocab, result.text, 5, second)
    assert other.text.startswith("good " + second) and len(other.text) == 15
    assert other.text == complete(trainer.model, trainer.vocab, "good " + second, 15).text
    with pytest.raises(DataError, match="never writes"):
        branch(trainer.model, trainer.vocab, result.text, 5, "Z")
    with pytest.raises(DataError, match="position"):
        branch(trainer.model, trainer.vocab, result.text, 0, "a")


def test_reading_is_on_the_models_device_and_leaves_weights_alone():
    model = make_model("lstm")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    read_text(model, VOCAB, TEXT)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
