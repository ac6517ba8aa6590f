"""Playing a lesson without a window: every step, as a class would see it.

``play_lesson`` applies each step's settings, trains (a new network or the
current one, as the step says) until the step's wait condition holds or the
run ends, then does what the step asks the class to do: complete or classify
its prompts (at its temperature, one sample per seed 0..samples-1), read
each text prompt character by character (the sentence reading), run the
Elman vs nn.RNN check. Everything that happened comes back in plain
dataclasses, so a test can assert what the lesson's text promises
(``tests/core/test_lessons_shipped.py``) and ``rnn-studio lesson play``
can print it.

The loop is the trainer's own ``step()`` (as ``Session`` drives it, without
pacing or pauses): the numbers are those the window would show for the same
settings and seed on the same device. Three skipped updates in a row end a
step's training, as they end ``rnn-studio train``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from .lessons import Lesson, Step

DEFAULT_LENGTH = 15  # seed 000's out_len: characters in all, the prompt included
SKIPPED_IN_A_ROW_STOP = 3


@dataclass
class Sample:
    prompt: str
    temperature: float
    seed: int
    text: str  # prompt + generated characters


@dataclass
class Classified:
    text: str
    label: str
    probabilities: dict[str, float]


@dataclass
class RunTrace:
    """One network's life across the steps that trained it (for overlays)."""

    run_id: int
    arch: str
    settings: dict  # RunConfig.to_dict()
    losses: list[float] = field(default_factory=list)  # per epoch
    valid_losses: list[float | None] = field(default_factory=list)
    accuracies: list[float | None] = field(default_factory=list)
    valid_accuracies: list[float | None] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)  # per optimizer step, before clipping
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    parameters: int = 0

    @property
    def diverged(self) -> bool:
        return bool(self.skipped or self.warnings)

    @property
    def final_loss(self) -> float | None:
        return self.losses[-1] if self.losses else None


@dataclass
class StepOutcome:
    index: int
    title: str
    run: str  # new, continue or none
    run_id: int | None = None
    epochs_trained: int = 0
    epoch: int = 0  # the run's epoch when the step ended
    losses: list[float] = field(default_factory=list)
    valid_losses: list[float | None] = field(default_factory=list)
    accuracy: float | None = None
    valid_accuracy: float | None = None
    grad_norms: list[float] = field(default_factory=list)
    time_grad_norms: list[float] | None = None  # the last ||dLoss/dh_t|| per time step measured
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    wait: str | None = None
    wait_met: bool | None = None
    samples: list[Sample] = field(default_factory=list)
    readings: dict[str, list[str]] = field(default_factory=dict)  # prompt -> likeliest next char after each char
    classifications: list[Classified] = field(default_factory=list)
    elman_difference: float | None = None
    parameters: int | None = None
    seconds: float = 0.0

    @property
    def diverged(self) -> bool:
        return bool(self.skipped or self.warnings)

    @property
    def final_loss(self) -> float | None:
        return self.losses[-1] if self.losses else None

    def completion(self, prompt: str, seed: int = 0) -> str:
        """The completion of ``prompt`` with sample seed ``seed``."""
        for sample in self.samples:
            if sample.prompt == prompt and sample.seed == seed:
                return sample.text
        raise KeyError(f"step {self.index + 1} has no completion of {prompt!r} (seed {seed})")

    def texts(self, prompt: str) -> list[str]:
        return [s.text for s in self.samples if s.prompt == prompt]

    def label(self, text: str) -> str:
        for item in self.classifications:
            if item.text == text:
                return item.label
        raise KeyError(f"step {self.index + 1} did not classify {text!r}")

    def summary(self) -> str:
        """One or a few lines for ``rnn-studio lesson play``."""
        parts = [f"step {self.index + 1}: {self.title}"]
        if self.run != "none":
            what = f"  {self.run} run #{self.run_id}: {self.epochs_trained} epochs (run at epoch {self.epoch})"
            if self.final_loss is not None:
                what += f", loss {self.final_loss:.4g}"
            valid = [v for v in self.valid_losses if v is not None]
            if valid:
                what += f", validation {valid[-1]:.4g} (lowest {min(valid):.4g})"
            if self.valid_accuracy is not None:
                what += f", validation accuracy {self.valid_accuracy:.3f}"
            if self.grad_norms:
                finite = [g for g in self.grad_norms if math.isfinite(g)]
                if finite:
                    what += f", largest gradient norm {max(finite):.3g}"
            parts.append(what)
        if self.diverged:
            parts.append(f"  diverged: {(self.skipped or self.warnings)[0]}")
        if self.wait:
            parts.append(f"  wait ({self.wait}): {'met' if self.wait_met else 'NOT met'}")
        for sample in self.samples:
            temperature = f" T={sample.temperature:g} seed {sample.seed}" if sample.temperature else ""
            parts.append(f"  {sample.prompt!r}{temperature} -> {sample.text!r}")
        for item in self.classifications:
            parts.append(f"  {item.text!r} -> {item.label} ({item.probabilities[item.label]:.2f})")
        if self.elman_difference is not None:
            parts.append(f"  Elman vs nn.RNN: largest difference {self.elman_difference:.3g}")
        return "\n".join(parts)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["diverged"] = self.diverged
        return data


@dataclass
class LessonPlay:
    lesson: Lesson
    steps: list[StepOutcome] = field(default_factory=list)
    runs: list[RunTrace] = field(default_factory=list)
    seconds: float = 0.0

    def run(self, run_id: int) -> RunTrace:
        return self.runs[run_id - 1]

    @property
    def all_waits_met(self) -> bool:
        return all(s.wait_met is not False for s in self.steps)

    def to_dict(self) -> dict:
        return {"title": self.lesson.title, "seconds": self.seconds, "steps": [s.to_dict() for s in self.steps],
                "runs": [asdict(r) | {"diverged": r.diverged} for r in self.runs]}


def play_lesson(lesson: Lesson, device: str = "cpu", on_step: Callable[[StepOutcome], None] | None = None
                ) -> LessonPlay:
    """Play every step of ``lesson`` (see the module docstring)."""
    play = LessonPlay(lesson=lesson)
    start = time.perf_counter()
    trainer = None
    for index, step in enumerate(lesson.steps):
        outcome, trainer = _play_step(play, index, step, trainer, device)
        play.steps.append(outcome)
        if on_step is not None:
            on_step(outcome)
    play.seconds = time.perf_counter() - start
    return play


def _play_step(play: LessonPlay, index: int, step: Step, trainer, device: str):
    from .training import Trainer

    started = time.perf_counter()
    outcome = StepOutcome(index=index, title=step.title, run=step.run)
    if step.run == "new" or (step.run == "continue" and trainer is None):
        cfg = step.config.copy()
        cfg.train.device = device
        trainer = Trainer(cfg)
        play.runs.append(RunTrace(run_id=len(play.runs) + 1, arch=cfg.model.arch, settings=cfg.to_dict(),
                                  parameters=trainer.parameter_count))
    elif step.run == "continue":
        if "lr" in step.settings:
            trainer.set_lr(float(step.settings["lr"]))
        if "clip" in step.settings:
            trainer.set_clip(float(step.settings["clip"]))
        if "epochs" in step.settings:
            trainer.cfg.train.epochs = int(step.settings["epochs"])
    if step.run != "none":
        _train(play.runs[-1], outcome, step, trainer)
    if trainer is not None:
        outcome.run_id = len(play.runs)
        outcome.epoch = trainer.epoch
        outcome.parameters = trainer.parameter_count
        _ask(outcome, step, trainer)
    outcome.seconds = time.perf_counter() - started
    return outcome, trainer


def _train(run: RunTrace, outcome: StepOutcome, step: Step, trainer) -> None:
    wait = step.wait
    outcome.wait = wait.describe() if wait else None
    first_epoch = trainer.epoch
    if wait is not None and wait.kind == "after_epochs":
        trainer.cfg.train.epochs = max(trainer.cfg.train.epochs, first_epoch + int(wait.value))
    in_a_row = 0
    met = False
    while not trainer.finished:
        report = trainer.step()
        outcome.grad_norms.append(report.grad_norm)
        run.grad_norms.append(report.grad_norm)
        if report.time_grad_norms is not None:
            outcome.time_grad_norms = list(report.time_grad_norms)
        if report.warning:
            outcome.warnings.append(report.warning)
            run.warnings.append(report.warning)
        if report.skipped:
            outcome.skipped.append(report.skipped)
            run.skipped.append(report.skipped)
            in_a_row += 1
        else:
            in_a_row = 0
        if report.epoch_done:
            for target in (outcome, run):
                target.losses.append(report.epoch_loss)
                target.valid_losses.append(report.valid_loss)
            run.accuracies.append(report.accuracy)
            run.valid_accuracies.append(report.valid_accuracy)
            if report.accuracy is not None:
                outcome.accuracy = report.accuracy
            if report.valid_accuracy is not None:
                outcome.valid_accuracy = report.valid_accuracy
        if wait is not None and (report.epoch_done or report.skipped or report.warning):
            last = outcome.losses[-1] if outcome.losses else None
            if wait.kind != "run_finished" and wait.met(trainer.epoch - first_epoch, last, trainer.finished,
                                                        outcome.diverged):
                met = True
                break
        if in_a_row >= SKIPPED_IN_A_ROW_STOP:
            break
    outcome.epochs_trained = trainer.epoch - first_epoch
    if wait is not None:
        outcome.wait_met = met or (wait.kind == "run_finished" and trainer.finished)


def _ask(outcome: StepOutcome, step: Step, trainer) -> None:
    from .generation import complete

    kind = trainer.task.kind
    if step.action == "elman-check":
        from .elman_check import compare_elman_with_torch

        outcome.elman_difference = compare_elman_with_torch(trainer.model).max_difference
    if kind == "classify":
        for text in step.prompts:
            result = trainer.classify_text(text)
            outcome.classifications.append(Classified(text, result.label, dict(result.probabilities)))
        return
    if kind != "text":
        return
    temperature = step.temperature or 0.0
    length = step.length or DEFAULT_LENGTH
    for prompt in step.prompts:
        for seed in range(step.samples):
            result = complete(trainer.model, trainer.vocab, prompt, max(length, len(prompt)), temperature, seed)
            outcome.samples.append(Sample(prompt, temperature, seed, result.text))
        if getattr(trainer.model, "directions", 1) == 1:
            from .inspection import read_text

            reading = read_text(trainer.model, trainer.vocab, prompt)
            outcome.readings[prompt] = [reading.top(t, 1)[0][0] for t in range(len(reading.text))]


__all__ = ["Classified", "LessonPlay", "RunTrace", "Sample", "StepOutcome", "play_lesson"]
