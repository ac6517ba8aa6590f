"""The optimizers a run trains with: torch's Adam and SGD, with a cheaper step.

On the seeds' sizes ``torch.optim.Adam.step()`` costs ~150 us of a ~1 ms
step (bench/README.md, issue 12): on CPU torch runs its per-parameter
loop, eight small operations for each of the six tensors, with Python
bookkeeping around them. ``fused=True`` cuts that to ~45 us but rounds
differently (losses move by ~2e-7 from the plain loop's after a few
steps). These classes keep torch's arithmetic to the bit and do it in a
few operations over all parameters at once:

- ``FlatAdam`` keeps both moments of every parameter in one flat buffer
  each (the optimizer's state tensors are views into them, so
  ``state_dict()``, ``load_state_dict()`` and torch's own step see the same
  numbers); a step gathers the gradients into one flat tensor, updates the
  moments and the denominator with one operation each, and writes the
  parameters with one ``_foreach_addcdiv_``. Every element goes through the
  same operations with the same scalars as in ``torch.optim.Adam``'s
  single-tensor step, so the weights are identical (tests/core/test_optim.py
  checks it bit for bit against torch's Adam on every architecture).
- ``FastSGD``: plain SGD's ``param.add_(grad, alpha=-lr)`` for all
  parameters in one ``_foreach_add_``.

Anything else (a closure, a missing gradient, momentum, weight decay, a
tensor learning rate, moments whose step counts differ) goes through
torch's own ``step()``. ``state_dict()`` returns copies: the live state
is views into one buffer, which safetensors refuses to write.
"""

from __future__ import annotations

import torch
from torch.optim import optimizer as _torch_optimizer

# a float32 step count stops at 2**24 (adding 1 rounds back); torch's Adam
# keeps its step as a float32 tensor, so the bias corrections do the same
_FLOAT32_STEP_LIMIT = 2.0**24


def build_optimizer(name: str, params, lr: float) -> torch.optim.Optimizer:
    """``"adam"`` or ``"sgd"`` with torch's defaults, as the seeds build them."""
    if name == "sgd":
        return FastSGD(params, lr=lr)
    return FlatAdam(params, lr=lr)


def _plain_dense(params) -> bool:
    return (
        bool(params)
        and all(p.layout == torch.strided and p.dtype == torch.float32 and not p.is_complex() for p in params)
        and len({p.device for p in params}) == 1
    )


class FlatAdam(torch.optim.Adam):
    """``torch.optim.Adam`` (default settings) with one update for all parameters."""

    def __init__(self, params, lr: float = 1e-3, **kwargs):
        super().__init__(params, lr=lr, **kwargs)
        group = self.param_groups[0]
        self._params: list[torch.Tensor] = list(group["params"])
        self._fast = (
            len(self.param_groups) == 1
            and _plain_dense(self._params)
            and not group["amsgrad"]
            and group["weight_decay"] == 0
            and not group["maximize"]
            and not group["capturable"]
            and not group["differentiable"]
            and not group["fused"]
        )
        self._linked_state = None  # the state dict the flat buffers were linked into
        self._first_entry = None
        self._step_value: float | None = None  # every parameter's step count, when they agree

    # -- the flat buffers ------------------------------------------------------
    def _link(self) -> None:
        """Flat moments and step counts; each parameter's state becomes views
        into them, keeping whatever values the state already held."""
        params = self._params
        sizes = [p.numel() for p in params]
        total = sum(sizes)
        device = params[0].device
        exp_avg = torch.zeros(total, device=device)
        exp_avg_sq = torch.zeros(total, device=device)
        steps = torch.zeros(len(params))  # on the CPU, float32: where torch's Adam keeps them
        self._grad = torch.empty(total, device=device)
        self._denom = torch.empty(total, device=device)
        self._exp_avg, self._exp_avg_sq, self._steps = exp_avg, exp_avg_sq, steps
        self._exp_avg_views, self._denom_views = [], []
        offset = 0
        for i, (p, n) in enumerate(zip(params, sizes, strict=True)):
            ea, es = exp_avg[offset : offset + n].view_as(p), exp_avg_sq[offset : offset + n].view_as(p)
            state = self.state[p]
            if "exp_avg" in state:
                ea.copy_(state["exp_avg"])
                es.copy_(state["exp_avg_sq"])
                steps[i] = float(state["step"])
            state["exp_avg"], state["exp_avg_sq"], state["step"] = ea, es, steps[i]
            self._exp_avg_views.append(ea)
            self._denom_views.append(self._denom[offset : offset + n].view_as(p))
            offset += n
        self._linked_state = self.state
        self._first_entry = self.state[params[0]]
        values = steps.unique()
        self._step_value = float(values[0]) if len(values) == 1 else None

    def _is_linked(self) -> bool:
        # rolled back (state.clear()), rewound or loaded (a new state dict) since the link?
        state = self.state
        return (
            state is self._linked_state
            and len(state) == len(self._params)
            and state.get(self._params[0]) is self._first_entry
        )

    def load_state_dict(self, state_dict) -> None:
        super().load_state_dict(state_dict)
        self._linked_state = None  # the loaded tensors are copied into the flat buffers at the next step

    def state_dict(self):
        saved = super().state_dict()
        saved["state"] = {
            key: {k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in entry.items()}
            for key, entry in saved["state"].items()
        }
        return saved

    # -- the step --------------------------------------------------------------
    def step(self, closure=None):
        if closure is not None or not self._fast or _has_step_hooks(self):
            return _hooked(type(self)._step_with_torch)(self, closure)
        params = self._params
        grads = [p.grad for p in params]
        group = self.param_groups[0]
        lr = group["lr"]
        if any(g is None for g in grads) or isinstance(lr, torch.Tensor):
            return self._torch_step()
        if not self._is_linked():
            self._link()
        if self._step_value is None:
            return self._torch_step()
        beta1, beta2 = group["betas"]
        step = self._step_value
        if step < _FLOAT32_STEP_LIMIT:
            step += 1.0
        self._step_value = step
        self._steps.add_(1)
        grad, exp_avg, exp_avg_sq, denom = self._grad, self._exp_avg, self._exp_avg_sq, self._denom
        torch.cat([g.reshape(-1) for g in grads], out=grad)
        # torch.optim.adam._single_tensor_adam, operation for operation
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        step_size = lr / bias_correction1
        bias_correction2_sqrt = bias_correction2**0.5
        torch.sqrt(exp_avg_sq, out=denom)
        denom.div_(bias_correction2_sqrt).add_(group["eps"])
        with torch.no_grad():
            torch._foreach_addcdiv_(params, self._exp_avg_views, self._denom_views, -step_size)
        return None

    def _step_with_torch(self, closure=None):
        loss = _unwrapped(torch.optim.Adam.step)(self, closure)
        if self._linked_state is not None and self._is_linked():
            values = self._steps.unique()  # torch stepped the views: read its counts back
            self._step_value = float(values[0]) if len(values) == 1 else None
        return loss

    def _torch_step(self):
        return self._step_with_torch()


class FastSGD(torch.optim.SGD):
    """``torch.optim.SGD`` (no momentum, no weight decay): one ``_foreach_add_``."""

    def __init__(self, params, lr: float = 1e-3, **kwargs):
        super().__init__(params, lr=lr, **kwargs)
        group = self.param_groups[0]
        self._params: list[torch.Tensor] = list(group["params"])
        self._fast = (
            len(self.param_groups) == 1
            and _plain_dense(self._params)
            and group["momentum"] == 0
            and group["weight_decay"] == 0
            and not group["maximize"]
            and not group["differentiable"]
            and not group["fused"]
        )

    def step(self, closure=None):
        if closure is not None or not self._fast or _has_step_hooks(self):
            return _hooked(type(self)._step_with_torch)(self, closure)
        grads = [p.grad for p in self._params]
        lr = self.param_groups[0]["lr"]
        if any(g is None for g in grads) or isinstance(lr, torch.Tensor):
            return self._step_with_torch()
        with torch.no_grad():
            torch._foreach_add_(self._params, grads, alpha=-lr)
        return None

    def _step_with_torch(self, closure=None):
        return _unwrapped(torch.optim.SGD.step)(self, closure)


# torch wraps every optimizer class's step() in a profiler scope that also
# runs step hooks (~15 us a step on the seeds' sizes). Ours is marked as
# wrapped already, and goes through that wrapper only when a hook is registered.
FlatAdam.step.hooked = True
FastSGD.step.hooked = True


def _has_step_hooks(optimizer: torch.optim.Optimizer) -> bool:
    return bool(
        optimizer._optimizer_step_pre_hooks
        or optimizer._optimizer_step_post_hooks
        or _torch_optimizer._global_optimizer_pre_hooks
        or _torch_optimizer._global_optimizer_post_hooks
    )


_HOOKED: dict = {}


def _hooked(step):
    """torch's own wrapper (profiler scope, step hooks) around ``step``."""
    if step not in _HOOKED:
        _HOOKED[step] = torch.optim.Optimizer.profile_hook_step(step)
    return _HOOKED[step]


def _unwrapped(step):
    """torch's step without the profiler wrapper it may carry (ours runs it, once)."""
    return getattr(step, "__wrapped__", step)
