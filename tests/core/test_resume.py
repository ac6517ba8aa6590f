"""Exact resume (issue 9): train N, save, open, train M gives the weights and
losses of N+M in one run, for every task and the options that carry state
(dropout's random numbers, the plateau schedule, shuffled minibatches, a
text file's carried hidden state mid-epoch). A model trained on a file that
is gone or changed still answers, and says why it cannot go on training."""

from __future__ import annotations

import pytest
import torch

from rnn_studio.core.checkpoints import load_trainer, save_checkpoint
from rnn_studio.core.config import RunConfig, defaults_for
from rnn_studio.core.errors import CheckpointError, DataError
from rnn_studio.core.generation import complete
from rnn_studio.core.training import Trainer

CORPUS = "the quick brown fox jumps over the lazy dog.\n" * 40
SENTENCES = ["hey how are you", "good i am fine", "have a nice day", "see you soon", "what a day", "i am here"]


def text_cfg(**model):
    cfg = RunConfig()
    cfg.train.device = "cpu"
    for key, value in model.items():
        setattr(cfg.model, key, value)
    return cfg


def sentences_with_everything():
    cfg = text_cfg(arch="lstm", layers=2, hidden=16, dropout=0.3)
    cfg.task.sentences, cfg.task.batch_examples, cfg.task.valid_fraction = list(SENTENCES), 2, 0.2
    cfg.train.plateau = True
    return cfg


def corpus_cfg(tmp_path, arch="gru"):
    path = tmp_path / "corpus.txt"
    path.write_text(CORPUS, encoding="utf-8")
    cfg = text_cfg(arch=arch, hidden=16, layers=2, dropout=0.2)
    cfg.task.text_file, cfg.task.window, cfg.task.batch_size, cfg.task.valid_fraction = str(path), 16, 4, 0.1
    cfg.train.plateau = True
    return cfg


def sine_cfg():
    cfg = defaults_for("sine")
    cfg.task.sine_windows, cfg.task.batch_examples, cfg.task.valid_fraction = 64, 16, 0.25
    cfg.model.arch, cfg.model.layers, cfg.model.dropout, cfg.model.bidirectional = "gru", 2, 0.2, True
    cfg.train.plateau, cfg.train.device = True, "cpu"
    return cfg


def sequence_cfg():
    cfg = defaults_for("sine", "sequence")
    cfg.train.device = "cpu"
    return cfg


def classify_cfg(**model):
    cfg = defaults_for("classify")
    cfg.task.examples = ["pos: good film", "neg: bad film", "pos: not bad", "neg: not good", "pos: lovely",
                         "neg: awful", "pos: great fun", "neg: dull stuff", "pos: a fine day", "neg: a poor day",
                         "pos: so good", "neg: so bad"]
    cfg.task.batch_examples = 3
    cfg.train.plateau, cfg.train.device = True, "cpu"
    for key, value in model.items():
        setattr(cfg.model, key, value)
    return cfg


CASES = {
    "text seed": lambda tmp: RunConfig(),
    "text sentences, dropout, batches, plateau, validation": lambda tmp: sentences_with_everything(),
    "text file gru": lambda tmp: corpus_cfg(tmp, "gru"),
    "text file lstm": lambda tmp: corpus_cfg(tmp, "lstm"),
    "sine next-value": lambda tmp: sine_cfg(),
    "sine sequence": lambda tmp: sequence_cfg(),
    "classify": lambda tmp: classify_cfg(),
    "classify gru last pooling": lambda tmp: classify_cfg(arch="gru", pool="last"),
}


def steps_of(trainer: Trainer, count: int) -> list[tuple]:
    out = []
    for _ in range(count):
        r = trainer.step()
        out.append((r.loss, r.grad_norm, r.epoch_loss, r.valid_loss, r.accuracy, r.valid_accuracy, r.lr))
    return out


def weights(trainer):
    return {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("where", ["epoch end", "mid-epoch"])
def test_train_save_open_train_is_one_run(case, where, tmp_path):
    cfg = CASES[case](tmp_path)
    cfg.train.device = "cpu"
    one_run = Trainer(cfg)
    per_epoch = one_run.task.steps_per_epoch if not (cfg.task.kind == "sine" and cfg.task.sine_mode == "sequence") else 1
    if where == "mid-epoch" and per_epoch < 2:
        pytest.skip("one step per epoch: every step ends an epoch")
    first = 3 * per_epoch + (1 if where == "mid-epoch" else 0)
    then = 2 * per_epoch + 1
    expected = steps_of(one_run, first + then)

    part = Trainer(cfg)
    got = steps_of(part, first)
    path = tmp_path / "ck.safetensors"
    save_checkpoint(part, str(path))
    # other code drawing random numbers in between must not change the run
    torch.manual_seed(1234)
    torch.rand(100)
    loaded = load_trainer(str(path), device="cpu")
    assert loaded.resume_blocker is None
    assert (loaded.epoch, loaded.steps) == (part.epoch, part.steps)
    torch.rand(7)
    got += steps_of(loaded, then)
    assert got == expected
    final, reference = weights(loaded), weights(one_run)
    for name in reference:
        torch.testing.assert_close(final[name], reference[name], rtol=0, atol=0, msg=name)
    if loaded.scheduler is not None:
        assert loaded.scheduler.num_bad_epochs == one_run.scheduler.num_bad_epochs
        assert loaded.scheduler.best == one_run.scheduler.best


def test_a_text_file_that_is_gone_still_completes_but_cannot_train_on(tmp_path):
    cfg = corpus_cfg(tmp_path)
    trainer = Trainer(cfg)
    trainer.run_epoch()
    path = tmp_path / "ck.safetensors"
    save_checkpoint(trainer, str(path))
    expected = complete(trainer.model, trainer.vocab, "the ", 12).text
    text_file = tmp_path / "corpus.txt"

    text_file.write_text(CORPUS.replace("lazy", "busy"), encoding="utf-8")  # same size, new content
    changed = load_trainer(str(path), device="cpu")
    assert "has changed" in changed.resume_blocker
    assert complete(changed.model, changed.vocab, "the ", 12).text == expected
    with pytest.raises(DataError, match="has changed"):
        changed.step()
    with pytest.raises(CheckpointError, match="cannot go on training.*has changed"):
        load_trainer(str(path), device="cpu", require_data=True)
    # saved again while its file is changed, it still names the file and its hash
    save_checkpoint(changed, str(tmp_path / "again.safetensors"))
    text_file.write_text(CORPUS, encoding="utf-8")
    assert load_trainer(str(tmp_path / "again.safetensors"), device="cpu").resume_blocker is None

    text_file.unlink()
    gone = load_trainer(str(path), device="cpu")
    assert "no longer there" in gone.resume_blocker
    assert complete(gone.model, gone.vocab, "the ", 12).text == expected
    with pytest.raises(CheckpointError, match="no longer there"):
        load_trainer(str(path), device="cpu", require_data=True)


def test_a_classifier_whose_data_file_is_gone_still_classifies(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("text,label\n" + "\n".join(f"{t},{lab}" for lab, t in
                                                (e.split(": ") for e in classify_cfg().task.examples)), encoding="utf-8")
    cfg = classify_cfg()
    cfg.task.examples, cfg.task.data_file = [], str(data)
    trainer = Trainer(cfg)
    trainer.run_epoch()
    path = tmp_path / "ck.safetensors"
    save_checkpoint(trainer, str(path))
    expected = trainer.classify_text("not good")
    data.unlink()
    loaded = load_trainer(str(path), device="cpu")
    assert "no longer there" in loaded.resume_blocker
    again = loaded.classify_text("not good")
    assert again.label == expected.label
    assert again.probabilities == pytest.approx(expected.probabilities)


def test_a_hidden_state_the_settings_never_carry_is_refused(tmp_path):
    from safetensors.torch import load_file

    from rnn_studio.core import checkpoint_io as io_

    trainer = Trainer(RunConfig())
    trainer.step()
    path = tmp_path / "ck.safetensors"
    save_checkpoint(trainer, str(path))
    with open(path, "rb") as fh:
        raw = io_.open_checkpoint(str(path), fh, path.stat().st_size)
        meta = dict(raw.meta)
    tensors = load_file(str(path))
    tensors["state.hidden.0"] = torch.zeros(1, 3, 12)
    meta.pop("crc32")
    path.write_bytes(io_.safetensors_bytes(meta, tensors))
    with pytest.raises(CheckpointError, match="never mention"):
        load_trainer(str(path), device="cpu")


@pytest.mark.parametrize("bad", [{"position": 5}, {"shuffle_state": "not base64!"}, {"epoch_losses": ["x"]},
                                 {"scheduler": {"best": "many"}}])
def test_a_damaged_training_state_is_refused(bad, tmp_path):
    from safetensors.torch import load_file

    from rnn_studio.core import checkpoint_io as io_

    cfg = classify_cfg()
    trainer = Trainer(cfg)
    trainer.step()
    path = tmp_path / "ck.safetensors"
    save_checkpoint(trainer, str(path))
    with open(path, "rb") as fh:
        meta = dict(io_.open_checkpoint(str(path), fh, path.stat().st_size).meta)
    meta.pop("crc32")
    meta["run_state"] = {**meta["run_state"], **bad}
    path.write_bytes(io_.safetensors_bytes(meta, load_file(str(path))))
    with pytest.raises(CheckpointError, match="damaged"):
        load_trainer(str(path), device="cpu")


def test_opened_for_prompts_only_the_file_is_not_read_and_is_still_named(tmp_path, monkeypatch):
    trainer = Trainer(corpus_cfg(tmp_path))
    trainer.step()
    path = tmp_path / "ck.safetensors"
    save_checkpoint(trainer, str(path))
    from rnn_studio.core import data as data_module

    def no_reading(*args, **kwargs):
        raise AssertionError("the text file was read")

    monkeypatch.setattr(data_module, "read_text_file_hashed", no_reading)
    quick = load_trainer(str(path), device="cpu", read_data=False)
    assert "prompts only" in quick.resume_blocker
    save_checkpoint(quick, str(tmp_path / "again.safetensors"))
    monkeypatch.undo()
    again = load_trainer(str(tmp_path / "again.safetensors"), device="cpu", require_data=True)
    assert again.resume_blocker is None and again.epoch == trainer.epoch
    assert again.run_state()[0] == trainer.run_state()[0]
    assert steps_of(again, 3) == steps_of(trainer, 3)
