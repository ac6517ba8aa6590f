"""The from-scratch Elman cell against torch's nn.RNN (issue 10, seed 003).

micrograd's habit (STYLE.md): test an engine against PyTorch as an oracle.
``compare_elman_with_torch`` copies an Elman network's weights into an
``nn.RNN`` of the same shape (the parameters carry nn.RNN's names and
shapes), runs both on the same inputs, backpropagates the same loss through
both, and returns the outputs and gradients side by side with the largest
difference: the window's "Elman vs nn.RNN" action shows exactly this.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from .errors import DataError
from .models import ElmanRNN


def _stack(model) -> ElmanRNN:
    rnn = getattr(model, "rnn", model)
    if not isinstance(rnn, ElmanRNN):
        raise DataError("this network is not the from-scratch Elman network: choose the architecture 'elman'")
    return rnn


def elman_to_rnn(elman) -> nn.RNN:
    """An ``nn.RNN`` holding a copy of the Elman network's weights (same device)."""
    elman = _stack(elman)
    weight = next(elman.parameters())
    nonlinearity = "relu" if elman.activation is torch.relu else "tanh"
    rnn = nn.RNN(elman.input_size, elman.hidden_size, elman.num_layers, nonlinearity=nonlinearity,
                 bias=elman.bias, batch_first=True, dropout=elman.dropout).to(weight.device, weight.dtype)
    with torch.no_grad():
        for name, value in elman.named_parameters():
            getattr(rnn, name).copy_(value)
    return rnn


def rnn_to_elman(rnn: nn.RNN, elman) -> None:
    """Copy an ``nn.RNN``'s weights into the Elman network (shapes must match)."""
    elman = _stack(elman)
    own = dict(elman.named_parameters())
    theirs = dict(rnn.named_parameters())
    if set(own) != set(theirs) or any(own[k].shape != theirs[k].shape for k in own):
        raise DataError("the two networks have different shapes: their weights cannot be copied across")
    with torch.no_grad():
        for name, value in theirs.items():
            own[name].copy_(value)


@dataclass
class ElmanComparison:
    """Both networks' outputs [B, T, H] and final states [layers, B, H], and
    the gradient of each weight (and of the inputs) under the same loss."""

    outputs: tuple[np.ndarray, np.ndarray]  # (elman, nn.RNN)
    final_states: tuple[np.ndarray, np.ndarray]
    gradients: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    max_output_difference: float = 0.0
    max_gradient_difference: float = 0.0

    @property
    def max_difference(self) -> float:
        return max(self.max_output_difference, self.max_gradient_difference)

    def rows(self, values: int = 3) -> list[tuple[str, list[float], list[float], float]]:
        """For a side-by-side table: (what, first values by Elman, by nn.RNN, largest difference)."""
        items = [("output", *self.outputs), ("final state", *self.final_states)]
        items += [(f"d loss / d {name}", *pair) for name, pair in self.gradients.items()]
        return [(name, a.ravel()[:values].tolist(), b.ravel()[:values].tolist(), float(np.abs(a - b).max()))
                for name, a, b in items]


def compare_elman_with_torch(elman, inputs: torch.Tensor | None = None, seed: int = 0) -> ElmanComparison:
    """Run the Elman network (or a RecurrentNet built on one) and a copy of it
    as ``nn.RNN`` on ``inputs`` [B, T, input size] (default: 2 random
    sequences of 8 steps, seeded), in eval mode. Loss: sum(outputs * R) +
    sum(h_n * S), R and S fixed random weights, so that every output and
    final state gets a gradient of its own. The Elman network's weights and
    gradients are left as they were."""
    stack = _stack(elman)
    weight = next(stack.parameters())
    generator = torch.Generator().manual_seed(seed)
    if inputs is None:
        inputs = torch.randn(2, 8, stack.input_size, generator=generator)
    if inputs.dim() != 3 or inputs.shape[2] != stack.input_size:
        raise DataError(f"the inputs must be [batch, time, {stack.input_size}], got {list(inputs.shape)}")
    inputs = inputs.detach().to(weight.device, weight.dtype)
    twin = elman_to_rnn(stack)
    # the Elman network's own parameters are used, but its .grad must not change
    copy = ElmanRNN(stack.input_size, stack.hidden_size, stack.num_layers, stack.bias, stack.dropout,
                    "relu" if stack.activation is torch.relu else "tanh").to(weight.device, weight.dtype)
    copy.load_state_dict(stack.state_dict())
    copy.eval()
    twin.eval()
    batch, steps = inputs.shape[0], inputs.shape[1]
    r = torch.randn(batch, steps, stack.hidden_size, generator=generator).to(weight.device, weight.dtype)
    s = torch.randn(stack.num_layers, batch, stack.hidden_size, generator=generator).to(weight.device, weight.dtype)
    results = []
    for net in (copy, twin):
        x = inputs.clone().requires_grad_(True)
        out, h_n = net(x)
        loss = (out * r).sum() + (h_n * s).sum()
        loss.backward()
        grads = {name: p.grad.detach().cpu().numpy() for name, p in net.named_parameters()}
        grads["inputs"] = x.grad.detach().cpu().numpy()
        results.append((out.detach().cpu().numpy(), h_n.detach().cpu().numpy(), grads))
    (out_a, h_a, g_a), (out_b, h_b, g_b) = results
    gradients = {name: (g_a[name], g_b[name]) for name in g_a}
    return ElmanComparison(
        outputs=(out_a, out_b),
        final_states=(h_a, h_b),
        gradients=gradients,
        max_output_difference=float(max(np.abs(out_a - out_b).max(), np.abs(h_a - h_b).max())),
        max_gradient_difference=float(max(np.abs(a - b).max() for a, b in gradients.values())),
    )
