"""Issue 10: the Elman network against nn.RNN, side by side."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnn_studio.core.config import ModelConfig, RunConfig
from rnn_studio.core.elman_check import compare_elman_with_torch, elman_to_rnn, rnn_to_elman
from rnn_studio.core.errors import DataError
from rnn_studio.core.models import ElmanRNN, RecurrentNet
from rnn_studio.core.training import Trainer


@pytest.mark.parametrize("layers", [1, 2])
def test_elman_and_nn_rnn_agree_on_outputs_and_gradients(layers):
    torch.manual_seed(1)
    elman = ElmanRNN(5, 7, layers)
    result = compare_elman_with_torch(elman)
    assert result.outputs[0].shape == (2, 8, 7) and result.final_states[0].shape == (layers, 2, 7)
    assert set(result.gradients) == {n for n, _ in elman.named_parameters()} | {"inputs"}
    assert result.max_output_difference < 1e-5 and result.max_gradient_difference < 1e-4
    assert result.max_difference == max(result.max_output_difference, result.max_gradient_difference)
    # gradients are real (not all zero), and the Elman network's own are untouched
    assert all(np.abs(a).max() > 0 for a, _ in result.gradients.values())
    assert all(p.grad is None for p in elman.parameters())
    rows = result.rows()
    assert rows[0][0] == "output" and len(rows[0][1]) == 3 and all(row[3] < 1e-4 for row in rows)


def test_the_comparison_would_see_a_difference():
    """Guard: a wrong weight in the torch copy shows as a large difference."""
    torch.manual_seed(2)
    elman = ElmanRNN(3, 4)
    import rnn_studio.core.elman_check as check

    original = check.elman_to_rnn

    def broken(stack):
        rnn = original(stack)
        with torch.no_grad():
            rnn.weight_hh_l0[0, 0] += 0.5
        return rnn

    check.elman_to_rnn = broken
    try:
        result = compare_elman_with_torch(elman)
    finally:
        check.elman_to_rnn = original
    assert result.max_output_difference > 1e-3


def test_copies_both_ways():
    torch.manual_seed(3)
    elman = ElmanRNN(4, 6, 2)
    rnn = elman_to_rnn(elman)
    x = torch.randn(1, 5, 4)
    with torch.no_grad():
        np.testing.assert_allclose(elman(x)[0].numpy(), rnn(x)[0].numpy(), atol=1e-6)
    other = torch.nn.RNN(4, 6, 2, batch_first=True)
    rnn_to_elman(other, elman)
    with torch.no_grad():
        np.testing.assert_allclose(elman(x)[0].numpy(), other(x)[0].numpy(), atol=1e-6)
    with pytest.raises(DataError, match="different shapes"):
        rnn_to_elman(torch.nn.RNN(4, 5, 2), elman)


def test_a_trained_seed_network_on_its_own_sentences():
    cfg = RunConfig()
    cfg.model.arch, cfg.train.device, cfg.train.epochs = "elman", "cpu", 5
    trainer = Trainer(cfg)
    for _ in range(5):
        trainer.step()
    x = trainer.model.encode(trainer.task.batch.inputs)
    result = compare_elman_with_torch(trainer.model, x)
    assert result.outputs[0].shape[:2] == tuple(trainer.task.batch.inputs.shape)
    assert result.max_difference < 1e-4


def test_refuses_other_networks():
    with pytest.raises(DataError, match="not the from-scratch Elman"):
        compare_elman_with_torch(RecurrentNet(ModelConfig(arch="rnn"), 5, 5))
    with pytest.raises(DataError, match="inputs must be"):
        compare_elman_with_torch(ElmanRNN(3, 4), torch.zeros(1, 2, 5))
