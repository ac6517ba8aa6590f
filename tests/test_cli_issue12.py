"""Issue 12: the CLI's --json rows, --json-every, progress within an epoch,
the activation memory check, text files held as bytes, and commands that do
not build what they do not use. Behaviour only: no test asserts a time."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from rnn_studio.cli import _Progress
from rnn_studio.core import resources
from rnn_studio.core.config import defaults_for
from rnn_studio.core.data import CorpusTask, Vocabulary
from rnn_studio.core.errors import ConfigError
from rnn_studio.core.events import StepEnded
from rnn_studio.core.session import Session
from rnn_studio.core.training import Trainer

from .test_cli import assert_one_line_error, run_cli

ROOT = Path(__file__).resolve().parents[1]
TEXT = "the quick brown fox jumps over the lazy dog. " * 400  # 18,000 characters


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("issue12") / "book.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def test_json_rows_and_last_line_unchanged_by_default(capsys):
    rc, out, _ = run_cli(["train", "--epochs", "3", "--json"], capsys)
    rows = [json.loads(line) for line in out.splitlines()]
    assert rc == 0 and len(rows) == 4
    assert all(set(r) == {"epoch", "loss", "grad_norm", "ms"} for r in rows[:3])
    assert set(rows[-1]) == {"event", "epochs", "final_loss", "ms_per_epoch"} and rows[-1]["event"] == "done"


def test_json_every_adds_step_rows_within_an_epoch(text_file, capsys):
    rc, out, _ = run_cli(["train", "--text-file", text_file, "--epochs", "1", "--batch-size", "4", "--window", "50",
                          "--hidden", "8", "--json", "--json-every", "10"], capsys)
    rows = [json.loads(line) for line in out.splitlines()]
    steps = [r for r in rows if r.get("event") == "step"]
    epochs = [r for r in rows if "event" not in r]
    assert rc == 0 and len(epochs) == 1 and rows[-1]["event"] == "done"
    per_epoch = steps[0]["steps_per_epoch"]
    assert [r["step"] for r in steps] == list(range(10, per_epoch + 1, 10))
    assert all(r["epoch_step"] == r["step"] for r in steps if r["step"] < per_epoch)
    assert {"loss", "grad_norm", "lr", "steps_per_s", "epoch"} <= set(steps[0])
    assert rows.index(steps[-1]) < rows.index(epochs[0])  # in order: the steps, then their epoch


def test_json_every_needs_json(capsys):
    assert_one_line_error(*run_cli(["train", "--json-every", "5"], capsys), "--json-every", "--json")


def test_progress_within_an_epoch_shows_step_chars_and_time_left(text_file):
    cfg = defaults_for("text")
    cfg.task.text_file, cfg.task.batch_size, cfg.task.window, cfg.model.hidden = str(text_file), 4, 50, 8
    trainer = Trainer(cfg)

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    progress = _Progress(2, stream=stream, trainer=trainer)
    seen = []

    def listen(event):
        if type(event).__name__ == "StepBatch":
            progress.last_draw = 0.0  # draw every batch
            progress.update_steps(event)
            seen.append(stream.getvalue().rsplit("\r", 1)[-1])

    Session(trainer=trainer, epochs=1, flush_interval=0.0, thread_policy=False).run(listen)
    per_epoch = trainer.task.steps_per_epoch
    # once a rate is known: where the epoch stands, characters per second and the time left
    assert any("epoch 0/2  step " in text and f"/{per_epoch:,}" in text and "chars/s" in text and "left" in text
               for text in seen), seen


def test_session_step_events_every_n():
    trainer = Trainer(defaults_for("text"))
    events = []
    Session(trainer=trainer, epochs=7, epoch_events=True, step_events_every=3).run(events.append)
    steps = [e for e in events if isinstance(e, StepEnded)]
    assert [e.step for e in steps] == [3, 6]
    assert steps[0].epoch == 3 and steps[0].steps_per_epoch == 1 and steps[0].loss > 0


# -- memory: activations count ----------------------------------------------------------------------
def test_activations_that_do_not_fit_are_refused_before_training(text_file, capsys, monkeypatch):
    monkeypatch.setattr(resources, "available_memory_bytes", lambda: 60 * 2**20)
    rc, out, err = run_cli(["train", "--text-file", text_file, "--batch-size", "64", "--window", "200",
                            "--arch", "lstm", "--hidden", "128"], capsys)
    assert_one_line_error(rc, out, err, "64 streams x windows of 200 characters", "backpropagation", "smaller batch")
    # the weights alone fit: the same network with a small batch is accepted
    rc, out, err = run_cli(["train", "--text-file", text_file, "--batch-size", "2", "--window", "16",
                            "--arch", "lstm", "--hidden", "128", "--epochs", "0"], capsys)
    assert rc == 0, err


def test_check_fits_counts_batch_times_window_times_hidden(monkeypatch):
    monkeypatch.setattr(resources, "available_memory_bytes", lambda: 4 * 2**30)
    model = defaults_for("text", arch="lstm").model
    model.hidden = 128
    resources.check_fits(model, 65, 65, positions=50 * 50)  # char-rnn's batch: fine
    with pytest.raises(ConfigError, match="GiB for what each step keeps"):
        resources.check_fits(model, 65, 65, positions=4096 * 2048, batch_words="4,096 streams x windows of 2,048")
    small = resources.estimate_activation_bytes(model, 65, 65, 1000)
    assert resources.estimate_activation_bytes(model, 65, 65, 2000) == 2 * small
    model.hidden = 256
    assert resources.estimate_activation_bytes(model, 65, 65, 1000) > small


# -- text files: one byte a character ------------------------------------------------------------------
def test_corpus_is_held_once_as_bytes():
    task = CorpusTask(TEXT, window=50, batch_size=4, valid_fraction=0.1)
    assert task.inputs.dtype == torch.uint8 and task.valid_inputs.dtype == torch.uint8
    assert task.inputs.untyped_storage().data_ptr() == task.targets.untyped_storage().data_ptr()
    assert task.inputs.untyped_storage().nbytes() == len(TEXT)  # train, valid and targets: one copy
    batch, _ = next(iter(task.batches()))
    assert batch.inputs.dtype == torch.long


def test_corpus_encoding_matches_the_vocabulary_for_any_text():
    text = "héllo wörld ✓ — 日本語 \ufffd " * 50
    task = CorpusTask(text, window=7, batch_size=3)
    expected = [task.vocab.stoi.get(c, 0) for c in text]
    stream_len = task.inputs.shape[1]
    assert task.inputs[1].tolist() == expected[stream_len : 2 * stream_len]
    # a given vocabulary (a checkpoint's): characters it never saw are index 0
    vocab = Vocabulary("helo wr")
    task = CorpusTask(text, window=7, batch_size=3, vocab=vocab)
    assert task.inputs[0].tolist() == [vocab.stoi.get(c, 0) for c in text[: task.inputs.shape[1]]]
    big = "".join(chr(0x4E00 + i) for i in range(300)) * 3
    task = CorpusTask(big, window=5, batch_size=2)
    assert task.inputs.dtype == torch.int16 and len(task.vocab) == 301
    assert np.array_equal(task.inputs[0].numpy(), [task.vocab.stoi[c] for c in big[: task.inputs.shape[1]]])


# -- start: nothing built that is not used ----------------------------------------------------------
def test_epochs_0_and_complete_never_build_an_optimizer(tmp_path, capsys):
    rc, _, _ = run_cli(["train", "--save", tmp_path / "seed.pt"], capsys)
    assert rc == 0
    code = (
        "import sys\n"
        "from rnn_studio.cli import main\n"
        "assert main(['train', '--epochs', '0']) == 0\n"
        f"assert main(['complete', '--checkpoint', {str(tmp_path / 'seed.pt')!r}, '--prompt', 'good']) == 0\n"
        "print('dynamo', 'torch._dynamo' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["0 epochs requested: nothing trained.", "good i am fine ", "dynamo False"]


def test_a_trainer_opened_for_prompts_builds_its_optimizer_when_it_trains(tmp_path, capsys):
    from rnn_studio.core.checkpoints import load_trainer

    rc, _, _ = run_cli(["train", "--epochs", "20", "--save", tmp_path / "a.pt"], capsys)
    assert rc == 0
    opened = load_trainer(str(tmp_path / "a.pt"), read_data=False)
    assert opened._optimizer is None
    resumed = load_trainer(str(tmp_path / "a.pt"))
    assert opened.optimizer.state_dict()["state"][0]["step"] == resumed.optimizer.state_dict()["state"][0]["step"]
    assert opened.step().loss == resumed.step().loss
