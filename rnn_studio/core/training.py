"""The trainer: one optimizer step at a time, every step measured.

Knows nothing about Qt (minGPT's Trainer/callback split): the CLI loops over
``step()``; the studio's worker does the same in a QThread and can pause, stop,
step once or change the learning rate between any two steps.

Each step reports the loss, the total gradient norm before clipping, the norm
of each parameter's gradient, and (every ``time_grad_every`` steps, since it
needs an unrolled pass) the norm of dLoss/dh_t for every time step t: how far
back the gradient reaches. A non-finite loss or gradient is caught before the
update, which is then skipped, so the weights stay at the last good state.

At the end of every epoch the held-out data, if the task has any, is measured
in eval mode (``valid_loss``; and for classify ``accuracy`` over the epoch's
training steps and ``valid_accuracy``).

Everything a run's future depends on is state of the trainer, so that a
checkpoint can hold it (``run_state``/``restore_run_state``): the order of
the next minibatches comes from the trainer's own generator, and a model
with dropout draws from torch's generator with the trainer's state swapped in
around each step (other code using torch's random numbers between two steps
cannot change the run). Train N epochs, save, open, train M: the same
weights and losses as N+M in one run.
"""

from __future__ import annotations

import base64
import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from .config import RunConfig, validate
from .data import Vocabulary, build_task
from .devices import resolve_device
from .errors import DataError
from .models import build_model, parameter_count
from .optim import build_optimizer
from .resources import check_fits, step_positions


@dataclass
class StepReport:
    step: int  # optimizer steps taken so far in this run (1 for the first)
    epoch: int  # epochs completed after this step
    epoch_done: bool
    loss: float  # cross-entropy for text, mean squared error for sine
    grad_norm: float  # total gradient norm before clipping
    lr: float
    ms: float  # wall time of this step
    param_grad_norms: dict[str, float] = field(default_factory=dict)
    time_grad_norms: list[float] | None = None  # ||dLoss/dh_t|| for t = 0..T-1
    epoch_loss: float | None = None  # mean loss over the epoch, when epoch_done
    skipped: str | None = None  # why the update was not applied
    warning: str | None = None
    # when epoch_done: measured on the held-out data (None without a split),
    # and for classify the fraction right over the epoch's training steps
    valid_loss: float | None = None
    accuracy: float | None = None
    valid_accuracy: float | None = None


# A loss this many times the first step's is treated like NaN: the update
# before it is undone and training pauses (seen: 2.9, then 5.6e5, then NaN).
EXPLODED = 100.0


class Trainer:
    """Owns the task, model and optimizer of one run."""

    def __init__(self, cfg: RunConfig, vocab: Vocabulary | None = None, device: str | torch.device | None = None,
                 task=None):
        self.cfg = validate(cfg.copy())
        self.device = torch.device(device) if isinstance(device, torch.device) else resolve_device(device or self.cfg.train.device)
        seed = self.cfg.train.seed
        torch.manual_seed(seed)
        np.random.seed(seed)
        self.task = (task or build_task(self.cfg.task, seed=seed, vocab=vocab)).to(self.device)
        self.vocab = self.task.vocab
        size = len(self.vocab) if self.vocab is not None else 1
        self.classify = self.task.kind == "classify"
        # refused before any memory is taken: the weights and what one step keeps for backpropagation
        positions, batch_words = step_positions(self.task)
        if self.classify:
            check_fits(self.cfg.model, size, self.task.num_classes, text=False, classify=True,
                       positions=positions, batch_words=batch_words)
        else:
            check_fits(self.cfg.model, size, size, text=self.task.kind == "text", positions=positions,
                       batch_words=batch_words)
        self.model = build_model(self.cfg.model, self.task).to(self.device)
        # a next-value loss reads the last step's output only: so does the read-out (seed 002)
        self._last_only = getattr(self.task, "output", None) == "last" and self.task.kind == "sine"
        # the order of each epoch's minibatches (seed 002's DataLoader(shuffle=True))
        self.shuffle_generator = torch.Generator().manual_seed(seed)
        self._order_state: torch.Tensor | None = None  # the generator before this epoch's draw
        self._position = 0  # steps taken in the current epoch
        m = self.cfg.model
        self._uses_rng = m.dropout > 0 or (self.classify and m.head_dropout > 0)
        self._rng_state = _get_rng(self.device) if self._uses_rng else None
        self.has_validation = (getattr(self.task, "valid_batch", None) is not None
                               or getattr(self.task, "valid_inputs", None) is not None)
        # why this trainer cannot go on training (a checkpoint whose data file
        # is gone or has changed); it still answers prompts
        self.resume_blocker: str | None = None
        self.data_hash: str | None = getattr(self.task, "data_hash", None)
        self.params = [p for p in self.model.parameters()]
        self._module_list = list(self.model.modules())
        self.param_names = [n for n, _ in self.model.named_parameters()]
        # Built when first used: torch's first optimizer imports torch._dynamo
        # (~1 s), which `train --epochs 0`, `complete` and `inspect` never need.
        self._optimizer: torch.optim.Optimizer | None = None
        self._scheduler = None
        self._pending_optimizer_state: dict | None = None  # a checkpoint's, loaded when the optimizer is built
        self.steps = 0
        self.epoch = 0
        self.first_epoch_loss: float | None = None
        self._warned_climb = False
        self._epoch_losses: list[float] = []
        self._epoch_correct = 0
        self._epoch_seen = 0
        self._batches = None
        self._hidden = None
        self._previous_weights: list[torch.Tensor] | None = None
        self._first_loss: float | None = None  # of the first step: the scale "exploded" is measured on
        # ...or the loss of a trivial guess, if larger: a uniform guess over the
        # vocabulary (ln V) for text, predicting 0 for sine (mean of y^2)
        if self.classify:
            self._trivial_loss = math.log(self.task.num_classes)
        elif self.vocab is not None:
            self._trivial_loss = math.log(len(self.vocab))
        else:
            self._trivial_loss = float(self.task.batch.targets.float().pow(2).mean()) + 1e-3
        self.rolled_back = False  # the last skipped step put the weights back one update
        # ||dLoss/dh_t|| every time_grad_every steps; a watcher that shows no
        # such view (the CLI) may turn it off where it is not free (traced_forward_is_plain)
        self.trace_time_grads = True

    # -- the optimizer, built on first use -------------------------------------
    @property
    def optimizer(self) -> torch.optim.Optimizer:
        if self._optimizer is None:
            self._build_optimizer()
        return self._optimizer

    @optimizer.setter
    def optimizer(self, optimizer: torch.optim.Optimizer) -> None:
        self._optimizer = optimizer

    @property
    def scheduler(self):
        if self._optimizer is None and self.cfg.train.plateau:
            self._build_optimizer()
        return self._scheduler

    def _build_optimizer(self) -> None:
        tr = self.cfg.train
        # torch's Adam/SGD, stepped over all parameters at once (core.optim: same numbers, ~10x cheaper)
        self._optimizer = build_optimizer(tr.optimizer, self.params, tr.lr)
        self._scheduler = (
            torch.optim.lr_scheduler.ReduceLROnPlateau(self._optimizer, mode="min", factor=0.5, patience=5)
            if tr.plateau else None
        )
        state, self._pending_optimizer_state = self._pending_optimizer_state, None
        if state is not None and not self.load_optimizer_state(state):
            self.load_notes = [*getattr(self, "load_notes", []),
                               "its optimizer state did not match the network, so training goes on with a fresh one"]

    def load_optimizer_state(self, state: dict) -> bool:
        """Load a checkpoint's optimizer state; False (and a fresh optimizer) if it does not fit."""
        try:
            self.optimizer.load_state_dict(state)
        except (ValueError, KeyError, TypeError, RuntimeError, IndexError):
            self._optimizer = None
            self._pending_optimizer_state = None
            self._build_optimizer()
            return False
        return True

    def defer_optimizer_state(self, state: dict) -> None:
        """Keep ``state`` for when the optimizer is built (a trainer opened for prompts may never build it)."""
        if self._optimizer is None:
            self._pending_optimizer_state = state
        else:
            self.load_optimizer_state(state)

    # -- settings that may change between steps ---------------------------------
    @property
    def lr(self) -> float:
        if self._optimizer is None and self._pending_optimizer_state is None:
            return float(self.cfg.train.lr)  # what the optimizer will be built with
        return float(self.optimizer.param_groups[0]["lr"])

    def set_lr(self, lr: float) -> None:
        if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
            raise ValueError(f"learning rate must be a positive finite number, got {lr!r}")
        if self._optimizer is not None or self._pending_optimizer_state is not None:
            for group in self.optimizer.param_groups:
                group["lr"] = float(lr)
        self.cfg.train.lr = float(lr)

    def set_clip(self, clip: float) -> None:
        self.cfg.train.clip = max(0.0, float(clip))

    @property
    def parameter_count(self) -> int:
        return parameter_count(self.model)

    @property
    def epoch_position(self) -> int:
        """Steps taken in the current epoch (0 at its start)."""
        return self._position if self._batches is not None else 0

    @property
    def finished(self) -> bool:
        return self.epoch >= self.cfg.train.epochs

    # -- one step ----------------------------------------------------------------
    def _loss(self, out: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if self.classify:
            return nn.functional.cross_entropy(out, targets)
        if self.task.kind == "text":
            return nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), targets.reshape(-1))
        return nn.functional.mse_loss(out[:, -1, 0], targets)

    def _grad_norms(self, loss: torch.Tensor, correct: torch.Tensor | None = None):
        """(loss, total norm, per-parameter norms) with a single device sync;
        with ``correct`` (classify) its value is appended to the norms."""
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in self.params]
        norms = torch._foreach_norm(grads)
        total = torch.linalg.vector_norm(torch.stack(norms))
        loss = loss.detach()
        if loss.dtype != total.dtype:
            loss = loss.to(total.dtype)
        # one tensor, one tolist(): a step costs ~1 ms on the seed's sizes, so
        # every extra torch call here shows in bench/README.md's ratio
        if correct is None:
            values = torch.stack([loss.reshape(()), total, *norms]).tolist()
        else:
            values = torch.stack([loss.reshape(()), total, *norms, correct.to(total.dtype)]).tolist()
        return values[0], values[1], values[2:], total

    def _apply(self, loss_value: float, total_value: float, total: torch.Tensor) -> str | None:
        """Clip and update unless something is non-finite; return why not.

        A non-finite loss means the current weights are already bad: the
        previous update took them there (loss 2.9, then 5.6e5, then NaN at
        lr 100). They are put back to the weights before that update, the last
        that gave a finite loss, and the optimizer's running averages, which
        hold the exploding gradient, are cleared; a lower learning rate can
        then go on from there. A non-finite gradient with a finite loss leaves
        the weights as they are: they gave a finite loss."""
        if not math.isfinite(loss_value):
            what = "NaN" if math.isnan(loss_value) else "infinite"
            self._roll_back()
            return f"loss became {what}"
        if self._first_loss is None:
            self._first_loss = loss_value
        elif loss_value > EXPLODED * max(self._first_loss, self._trivial_loss):
            # finite, but no learning run gets here: the weights are already
            # ruined (a step later they give NaN or an infinite gradient)
            self._roll_back()
            return f"loss exploded (from {self._first_loss:.3g} to {loss_value:.3g})"
        if not math.isfinite(total_value):
            what = "NaN" if math.isnan(total_value) else "infinite"
            return f"the gradient became {what}"
        clip = self.cfg.train.clip
        if clip > 0:
            nn.utils.clip_grads_with_norm_(self.params, clip, total)
        self._remember_weights()
        self.optimizer.step()
        return None

    def _remember_weights(self) -> None:
        # one foreach copy per step, straight from the parameters (no detached
        # list to build): ~3 us of a seed-sized step
        with torch.no_grad():
            if self._previous_weights is None:
                self._previous_weights = [p.detach().clone() for p in self.params]
            else:
                torch._foreach_copy_(self._previous_weights, self.params)

    def _roll_back(self) -> None:
        self.rolled_back = False
        if self._previous_weights is None:
            return
        with torch.no_grad():
            torch._foreach_copy_(self.params, self._previous_weights)
        if self._optimizer is not None:
            self._optimizer.state.clear()
        self._previous_weights = None  # one step back only: those weights gave a finite loss
        self.rolled_back = True

    def _zero_grad(self) -> None:
        # optimizer.zero_grad(set_to_none=True) for our single parameter
        # group, without its profiler scope and bookkeeping (~10 us a step)
        for p in self.params:
            p.grad = None

    def _ensure_train_mode(self) -> None:
        # model.train() walks and sets every submodule each call; checking is cheaper
        if not all(module.training for module in self._module_list):
            self.model.train()

    def _next_batch(self):
        """(batch, reset hidden?, last batch of the epoch?)"""
        if self._batches is None:
            self._start_epoch()
        batch, reset = next(self._batches)
        self._position += 1
        last = self._position >= self.task.steps_per_epoch
        if last:
            self._batches = None
            self._position = 0
        return batch, reset, last

    def _start_epoch(self) -> None:
        order = None
        if self.task.shuffles:
            self._order_state = self.shuffle_generator.get_state()
            order = torch.randperm(self.task.train_size, generator=self.shuffle_generator)
        self._batches = iter(self.task.batches(order))
        self._position = 0

    def step(self) -> StepReport:
        """Take one optimizer step (one epoch for the sentence and sine tasks
        in one batch)."""
        if self.resume_blocker:
            raise DataError(self.resume_blocker)
        if self.task.kind == "sine" and self.task.mode == "sequence":
            return self._step_sequence()
        start = time.perf_counter()
        batch, reset, epoch_done = self._next_batch()
        if self._uses_rng:
            _set_rng(self.device, self._rng_state)
        self._ensure_train_mode()
        self._zero_grad()
        hidden = None if reset else self._hidden
        every = self.cfg.train.time_grad_every
        traced = self.trace_time_grads and (every <= 1 or self.steps % every == 0)
        grads_fn = None
        last = self._last_only
        if traced:
            if last:
                out, hidden, grads_fn = self.model.forward_traced(batch.inputs, hidden, last_only=True)
            else:
                out, hidden, grads_fn = self.model.forward_traced(batch.inputs, hidden)
        elif last:
            out, hidden = self.model(batch.inputs, hidden, last_only=True)
        else:
            out, hidden = self.model(batch.inputs, hidden)
        loss = self._loss(out, batch.targets)
        loss.backward()
        if self.classify:
            correct = (out.detach().argmax(-1) == batch.targets).sum()
            loss_value, total_value, per_param, total = self._grad_norms(loss, correct)
            self._epoch_correct += int(per_param.pop())
            self._epoch_seen += int(batch.targets.shape[0])
        else:
            loss_value, total_value, per_param, total = self._grad_norms(loss)
        skipped = self._apply(loss_value, total_value, total)
        if self._uses_rng:
            self._rng_state = _get_rng(self.device)
        time_norms = grads_fn().tolist() if grads_fn is not None else None
        # carry the state to the next window (truncated BPTT); detached
        if hidden is not None:
            self._hidden = tuple(h.detach() for h in hidden) if isinstance(hidden, tuple) else hidden.detach()
        self.steps += 1
        return self._report(start, loss_value, total_value, per_param, time_norms, skipped, epoch_done)

    def _step_sequence(self) -> StepReport:
        """Seed 003: one epoch over the sequence, an update after every time
        step, the context detached between steps. The loss of each update is
        seed 003's (pred - target)^2 / 2; the reported loss is the MSE."""
        start = time.perf_counter()
        if self._uses_rng:
            _set_rng(self.device, self._rng_state)
        self._ensure_train_mode()
        x, y = self.task.batch.inputs, self.task.batch.targets
        hidden = None
        sq_errors, norms, time_norms = [], [], []
        per_param_sum = np.zeros(len(self.params))
        skipped = None
        for t in range(x.shape[1]):
            self._zero_grad()
            out, hidden, states = self.model(x[:, t : t + 1], hidden, return_states=True)
            states.retain_grad()
            diff = out[:, 0] - y[:, t]
            loss = diff.pow(2).sum() / 2
            loss.backward()
            loss_value, total_value, per_param, total = self._grad_norms(loss)
            skipped = self._apply(loss_value, total_value, total)
            if skipped:
                break
            sq_errors.append(2 * loss_value)
            norms.append(total_value)
            per_param_sum += per_param
            time_norms.append(float(torch.linalg.vector_norm(states.grad)) if states.grad is not None else 0.0)
            hidden = tuple(h.detach() for h in hidden) if isinstance(hidden, tuple) else hidden.detach()
        if self._uses_rng:
            self._rng_state = _get_rng(self.device)
        self.steps += 1
        count = max(1, len(norms))
        loss_value = float(np.mean(sq_errors)) if sq_errors and not skipped else (float("nan") if skipped else 0.0)
        total_value = float(np.mean(norms)) if norms and not skipped else (float("nan") if skipped else 0.0)
        return self._report(start, loss_value, total_value, list(per_param_sum / count), time_norms or None,
                            skipped, True)

    def _report(self, start, loss_value, total_value, per_param, time_norms, skipped, epoch_done) -> StepReport:
        warning = None
        epoch_loss = valid_loss = accuracy = valid_accuracy = None
        if skipped is None:
            self._epoch_losses.append(loss_value)
        if epoch_done:
            losses = self._epoch_losses
            if losses:
                # one step per epoch (sentences, sine): the mean is that loss, without numpy's cost
                epoch_loss = losses[0] if len(losses) == 1 else float(np.mean(losses))
            if self.classify and self._epoch_seen:
                accuracy = self._epoch_correct / self._epoch_seen
            self._epoch_losses = []
            self._epoch_correct = self._epoch_seen = 0
            if skipped is None:
                self.epoch += 1
                if self.has_validation:
                    valid_loss, valid_accuracy = self.evaluate_validation()
            if epoch_loss is not None:
                if self.first_epoch_loss is None:
                    self.first_epoch_loss = epoch_loss
                elif (not self._warned_climb and self.first_epoch_loss > 0
                      and epoch_loss > 3 * self.first_epoch_loss):
                    self._warned_climb = True
                    warning = (f"the loss has climbed to more than three times where it started (from "
                               f"{self.first_epoch_loss:.3g} to {epoch_loss:.3g}): the learning rate "
                               f"({self.lr:g}) is probably too high")
                if self.scheduler is not None and skipped is None:
                    # seed 002: scheduler.step(validation_loss), where there is one
                    self.scheduler.step(valid_loss if valid_loss is not None else epoch_loss)
        if skipped:
            # the epoch did not complete; start it again on the next step,
            # and forget the losses of its steps so far
            self._batches = None
            self._position = 0
            self._epoch_losses = []
            self._epoch_correct = self._epoch_seen = 0
        return StepReport(
            step=self.steps,
            epoch=self.epoch,
            epoch_done=epoch_done and skipped is None,
            loss=loss_value,
            grad_norm=total_value,
            lr=self.lr,
            ms=(time.perf_counter() - start) * 1000.0,
            param_grad_norms=dict(zip(self.param_names, per_param, strict=True)),
            time_grad_norms=time_norms,
            epoch_loss=epoch_loss if skipped is None else None,
            skipped=skipped,
            warning=warning,
            valid_loss=valid_loss,
            accuracy=accuracy,
            valid_accuracy=valid_accuracy,
        )

    def run_epoch(self) -> list[StepReport]:
        """Steps until one epoch has completed (or a step was skipped)."""
        reports = []
        while True:
            report = self.step()
            reports.append(report)
            if report.epoch_done or report.skipped:
                return reports

    # -- looking at the network ----------------------------------------------------
    def classify_text(self, text: str):
        """classify: the label, every class's probability and the unknown tokens of ``text``."""
        from .classification import classify_text

        if not self.classify:
            raise DataError("this network completes text; it does not classify")
        return classify_text(self.model, self.vocab, self.task.labels, text, self.task.max_length)

    # -- looking at the network ----------------------------------------------------
    @torch.no_grad()
    def predictions(self) -> dict:
        """What the views show: the greedy reading of each training sentence,
        or the predicted sine wave. Runs in eval mode and restores train mode."""
        was_training = self.model.training
        self.model.eval()
        try:
            if self.classify:
                return self._classify_predictions()
            if self.task.kind == "text":
                if self.task.mode != "sentences":
                    return {"kind": "corpus"}
                out, _ = self.model(self.task.batch.inputs)
                guess = out.argmax(-1).cpu().tolist()
                targets = self.task.batch.targets.cpu().tolist()
                return {
                    "kind": "text",
                    "sentences": [
                        {"input": s, "target": self.vocab.decode(t), "predicted": self.vocab.decode(g)}
                        for s, t, g in zip(self.task.padded, targets, guess, strict=True)
                    ],
                }
            x, y = self.task.batch.inputs, self.task.batch.targets
            if self.task.mode == "sequence":
                out, _ = self.model(x)
                return {"kind": "sine", "mode": "sequence", "input": x[0, :, 0].cpu().numpy(),
                        "target": y[0, :, 0].cpu().numpy(), "predicted": out[0, :, 0].cpu().numpy()}
            # next-value: the first window, its predicted next point, and the
            # wave the network draws when fed its own predictions
            out, _ = self.model(x[:1])
            return {"kind": "sine", "mode": "next-value", "input": x[0, :, 0].cpu().numpy(),
                    "target": float(y[0]), "predicted": float(out[0, -1, 0]),
                    "rollout": self._rollout(x[0:1], steps=x.shape[1])}
        finally:
            self.model.train(was_training)

    def _rollout(self, window: torch.Tensor, steps: int):
        """Next-value model run on its own predictions: the wave it 'imagines'."""
        values = []
        cur = window.clone()
        for _ in range(steps):
            out, _ = self.model(cur)
            nxt = out[:, -1:, :]
            values.append(float(nxt.reshape(-1)[0]))
            cur = torch.cat([cur[:, 1:], nxt], dim=1)
        return np.asarray(values, dtype=np.float32)

    def _classify_predictions(self, limit: int = 5000) -> dict:
        """Every example (up to ``limit``) with its class, predicted class and
        probabilities, and a confusion matrix for each split."""
        from .classification import confusion_matrix

        task = self.task
        rows = []
        n_classes = task.num_classes
        for split, batch, indices in (("train", task.batch, task.train_rows), ("valid", task.valid_batch, task.valid_rows)):
            if batch is None:
                continue
            probs = []
            for start in range(0, batch.inputs.shape[0], 256):
                x = batch.inputs[start : start + 256]
                longest = max(1, int((x != 0).sum(1).max()))
                out, _ = self.model(x[:, :longest])
                probs.append(torch.softmax(out.float(), -1).cpu())
            p = torch.cat(probs).numpy()
            targets = batch.targets.cpu().numpy()
            predicted = p.argmax(1)
            for k, row in enumerate(indices.tolist()):
                rows.append({"text": task.texts[row], "label": int(targets[k]), "predicted": int(predicted[k]),
                             "probabilities": p[k].tolist(), "split": split})
        matrices = {}
        for split in ("train", "valid"):
            chosen = [r for r in rows if r["split"] == split]
            if chosen:
                matrices[split] = confusion_matrix([r["label"] for r in chosen], [r["predicted"] for r in chosen],
                                                   n_classes)
        rows.sort(key=lambda r: r["split"] != "train")
        return {"kind": "classify", "labels": list(task.labels), "examples": rows[:limit],
                "confusion": matrices}

    @torch.no_grad()
    def evaluate_validation(self) -> tuple[float | None, float | None]:
        """(loss, accuracy or None) on the held-out data, in eval mode; a
        text file's tail is read in windows with the state carried, as in
        training. (None, None) without a split."""
        was = self.model.training
        self.model.eval()
        total_loss, total_items, correct = 0.0, 0, 0
        hidden = None
        try:
            for batch, reset in self.task.valid_batches():
                out, hidden = self.model(batch.inputs, None if reset else hidden)
                items = batch.targets.numel()
                total_loss += float(self._loss(out, batch.targets)) * items
                total_items += items
                if self.classify:
                    correct += int((out.argmax(-1) == batch.targets).sum())
        finally:
            self.model.train(was)
        if not total_items:
            return None, None
        return total_loss / total_items, (correct / total_items if self.classify else None)

    # -- rewind (issue 10) --------------------------------------------------------------
    def rewind(self, snapshot) -> None:
        """Train from ``snapshot`` (``evolution.Snapshot``): its weights, the epoch
        and step it was taken at, the start of an epoch, and a fresh optimizer
        state (Adam's moments belong to the weights that came later). Training
        on from here is a new branch of the run."""
        from .evolution import restore_snapshot

        restore_snapshot(self.model, snapshot)
        if self._optimizer is not None:
            self._optimizer.state.clear()
        self.epoch, self.steps = int(snapshot.epoch), int(snapshot.step)
        self._batches, self._position, self._hidden = None, 0, None
        self._epoch_losses, self._epoch_correct, self._epoch_seen = [], 0, 0
        self._previous_weights = None
        self.rolled_back = False

    # -- what a checkpoint needs to go on exactly --------------------------------------
    def run_state(self) -> tuple[dict, dict[str, torch.Tensor]]:
        """(plain JSON-able state, tensors) beyond weights and optimizer: with
        them, training goes on as if it had never stopped."""
        state = {
            "position": int(self._position) if self._batches is not None else 0,
            "order_state": _b64(self._order_state) if self._batches is not None and self._order_state is not None else None,
            "shuffle_state": _b64(self.shuffle_generator.get_state()),
            "rng_state": _b64(self._rng_state) if self._rng_state is not None else None,
            "epoch_losses": [float(v) for v in self._epoch_losses],
            "epoch_correct": int(self._epoch_correct),
            "epoch_seen": int(self._epoch_seen),
            "first_epoch_loss": self.first_epoch_loss,
            "first_loss": self._first_loss,
            "warned_climb": bool(self._warned_climb),
            "scheduler": _scheduler_state(self.scheduler),
        }
        tensors = {}
        if self._batches is not None and self.task.mode == "corpus" and self._hidden is not None:
            hidden = self._hidden if isinstance(self._hidden, tuple) else (self._hidden,)
            tensors = {f"state.hidden.{i}": h for i, h in enumerate(hidden)}
        return state, tensors

    def restore_run_state(self, state: dict, tensors: dict[str, torch.Tensor]) -> None:
        """Put back what ``run_state`` gave; raises ValueError (one line) for
        anything that does not fit this trainer. Checked before anything is set."""
        position = state.get("position", 0)
        if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position < self.task.steps_per_epoch:
            raise ValueError("its place in the epoch does not fit its data")
        losses = state.get("epoch_losses", [])
        if (not isinstance(losses, list) or len(losses) > position
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in losses)):
            raise ValueError("its losses of the current epoch are not a list of numbers")
        counts = [state.get("epoch_correct", 0), state.get("epoch_seen", 0)]
        if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 2**40 for v in counts):
            raise ValueError("its accuracy counts are not whole numbers")
        firsts = [state.get("first_epoch_loss"), state.get("first_loss")]
        if not all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v))
                   for v in firsts):
            raise ValueError("its first losses are not numbers")
        shuffle = _unb64(state.get("shuffle_state"), "shuffle_state")
        order = _unb64(state.get("order_state"), "order_state") if position else None
        rng = _unb64(state.get("rng_state"), "rng_state") if self._uses_rng else None
        if position and self.task.shuffles and order is None:
            raise ValueError("its minibatch order is missing")
        hidden = None
        if position and self.task.mode == "corpus":
            want = (self.model.num_layers * self.model.directions, self.task.batch_size, self.model.hidden_size)
            names = [f"state.hidden.{i}" for i in range(2 if self.cfg.model.arch == "lstm" else 1)]
            if set(tensors) != set(names) or any(tuple(tensors[n].shape) != want for n in names):
                raise ValueError("its carried hidden state does not fit its settings and data")
            hidden = tuple(tensors[n].to(self.device, torch.float32) for n in names)
            hidden = hidden if len(hidden) == 2 else hidden[0]
        elif tensors:
            raise ValueError("it holds a hidden state its settings never carry")
        check = torch.Generator()
        for value in (shuffle, order):
            if value is not None:
                check.set_state(value)  # raises on a state of the wrong size
        if rng is not None:
            probe = _get_rng(self.device)
            _set_rng(self.device, rng)
            _set_rng(self.device, probe)
        _restore_scheduler(self.scheduler, state.get("scheduler"))
        # all checked: apply
        if shuffle is not None:
            self.shuffle_generator.set_state(shuffle)
        if rng is not None:
            self._rng_state = rng
        self.first_epoch_loss, self._first_loss = firsts
        self._warned_climb = bool(state.get("warned_climb", False))
        self._epoch_losses = [float(v) for v in losses]
        self._epoch_correct, self._epoch_seen = counts
        self._batches, self._position = None, 0
        if position:
            # draw this epoch's order again from the generator as it was, then skip what was trained
            current = self.shuffle_generator.get_state()
            if order is not None:
                self.shuffle_generator.set_state(order)
            self._start_epoch()
            if order is None:
                self.shuffle_generator.set_state(current)
            for _ in range(position):
                next(self._batches)
            self._position = position
            self._hidden = hidden

    def evaluate_loss(self) -> float:
        """Loss on the whole task without updating (sentence and sine tasks)."""
        with torch.no_grad():
            was = self.model.training
            self.model.eval()
            try:
                if self.task.kind == "sine" and self.task.mode == "sequence":
                    out, _ = self.model(self.task.batch.inputs)
                    return float(nn.functional.mse_loss(out, self.task.batch.targets))
                if self.classify:
                    out, _ = self.model(self.task.batch.inputs)
                    return float(self._loss(out, self.task.batch.targets))
                batch, _ = next(iter(self.task.batches()))
                out, _ = self.model(batch.inputs)
                return float(self._loss(out, batch.targets))
            finally:
                self.model.train(was)


def _get_rng(device: torch.device) -> torch.Tensor:
    """The state of the generator dropout draws from on ``device``."""
    if device.type == "cuda":
        return torch.cuda.get_rng_state(device)
    if device.type == "mps":
        return torch.mps.get_rng_state()
    return torch.get_rng_state()


def _set_rng(device: torch.device, state: torch.Tensor) -> None:
    if device.type == "cuda":
        torch.cuda.set_rng_state(state, device)
    elif device.type == "mps":
        torch.mps.set_rng_state(state)
    else:
        torch.set_rng_state(state)


MAX_RNG_STATE_BYTES = 16_384  # torch's CPU generator state is 5,056 bytes, CUDA's 16


def _b64(state: torch.Tensor) -> str:
    return base64.b64encode(state.cpu().numpy().tobytes()).decode("ascii")


def _unb64(text, name: str) -> torch.Tensor | None:
    if text is None:
        return None
    if not isinstance(text, str) or len(text) > MAX_RNG_STATE_BYTES * 4 // 3 + 4:
        raise ValueError(f"its {name} is not a generator state")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise ValueError(f"its {name} is not a generator state") from None
    return torch.frombuffer(bytearray(raw), dtype=torch.uint8).clone()


# ReduceLROnPlateau's counters; its settings (factor, patience) come from the config
_SCHEDULER_KEYS = ("best", "num_bad_epochs", "cooldown_counter", "last_epoch")


def _scheduler_state(scheduler) -> dict | None:
    if scheduler is None:
        return None
    state = {k: scheduler.state_dict().get(k) for k in _SCHEDULER_KEYS}
    best = state["best"]
    if isinstance(best, float) and not math.isfinite(best):
        state["best"] = "inf" if best > 0 else "-inf"
    return state


def _restore_scheduler(scheduler, state) -> None:
    if scheduler is None or state is None:
        return
    if not isinstance(state, dict):
        raise ValueError("its learning-rate schedule is not a mapping")
    best = state.get("best")
    if best in ("inf", "-inf"):
        best = float(best)
    if isinstance(best, bool) or not isinstance(best, (int, float)) or math.isnan(best):
        raise ValueError("its learning-rate schedule's best loss is not a number")
    counters = [state.get(k) for k in ("num_bad_epochs", "cooldown_counter", "last_epoch")]
    if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 2**40 for v in counters):
        raise ValueError("its learning-rate schedule's counters are not whole numbers")
    scheduler.best = float(best)
    scheduler.num_bad_epochs, scheduler.cooldown_counter, scheduler.last_epoch = counters
