"""Regressions from the review: files that are not files, checkpoints whose
text changed, saves that cannot be written, batches too big for memory,
extreme temperatures, the unknown slot in completions."""

from __future__ import annotations

import os
import stat
import threading

import pytest
import torch

from rnn_studio.cli import main
from rnn_studio.core import text as text_module
from rnn_studio.core.checkpoints import load_trainer, read_checkpoint, save_checkpoint
from rnn_studio.core.config import RunConfig
from rnn_studio.core.errors import CheckpointError, DataError
from rnn_studio.core.generation import complete
from rnn_studio.core.text import clean_sentences, read_text_file
from rnn_studio.core.training import Trainer


def _fifo(tmp_path):
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return str(path)


def _in_thread(fn, timeout=10.0):
    """Run fn in a thread; fail (instead of hanging the suite) if it blocks."""
    result = {}

    def target():
        try:
            result["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "blocked on a file that never ends"
    return result


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_text_file_that_is_not_a_regular_file_is_refused_at_once(tmp_path, kind):
    path = _fifo(tmp_path) if kind == "fifo" else "/dev/zero"
    result = _in_thread(lambda: read_text_file(path))
    assert isinstance(result.get("error"), DataError)
    assert "not a regular file" in str(result["error"])


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_checkpoint_that_is_not_a_regular_file_is_refused_at_once(tmp_path, kind):
    path = _fifo(tmp_path) if kind == "fifo" else "/dev/zero"
    result = _in_thread(lambda: read_checkpoint(path))
    assert isinstance(result.get("error"), CheckpointError)


def _corpus_checkpoint(tmp_path):
    corpus = tmp_path / "book.txt"
    corpus.write_text("the cat sat on the mat. " * 40, encoding="utf-8")
    cfg = RunConfig()
    cfg.task.text_file = str(corpus)
    cfg.task.window, cfg.task.batch_size = 16, 4
    cfg.train.epochs, cfg.train.device = 1, "cpu"
    trainer = Trainer(cfg)
    trainer.run_epoch()
    ck = tmp_path / "book.pt"
    save_checkpoint(trainer, str(ck))
    return corpus, ck, complete(trainer.model, trainer.vocab, "the ", 30).text


@pytest.mark.parametrize("change", ["shortened", "not utf-8", "removed"])
def test_a_checkpoint_does_not_depend_on_its_training_text_afterwards(tmp_path, change):
    corpus, ck, before = _corpus_checkpoint(tmp_path)
    if change == "shortened":
        corpus.write_text("x", encoding="utf-8")
    elif change == "not utf-8":
        corpus.write_bytes(b"\xff\xfe\x00bad")
    else:
        corpus.unlink()
    trainer = load_trainer(str(ck), device="cpu")
    assert complete(trainer.model, trainer.vocab, "the ", 30).text == before


def test_saving_where_nothing_can_be_written_is_a_message_not_a_traceback(tmp_path, capsys):
    code = main(["train", "--epochs", "1", "--save", "/proc/rnn-studio-test.pt"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "cannot save" in err and "Traceback" not in err


def test_a_folder_given_as_the_save_file_is_refused_before_training(tmp_path, capsys):
    code = main(["train", "--epochs", "1", "--save", str(tmp_path)])
    assert code == 2 and "is a folder" in capsys.readouterr().err


def test_saved_checkpoints_are_readable_by_others_as_the_umask_allows(tmp_path):
    old = os.umask(0o022)
    try:
        trainer = Trainer(RunConfig.from_dict({"train": {"epochs": 1, "device": "cpu"}}))
        path = tmp_path / "shared.pt"
        save_checkpoint(trainer, str(path))
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_one_sentence_longer_than_the_limit_is_refused_in_plain_words():
    long = "ab" * (text_module.MAX_SENTENCE_CHARS // 2 + 1)
    with pytest.raises(DataError, match="per sentence"):
        clean_sentences(["hello there", long])


def test_many_sentences_padded_to_a_long_one_are_refused_before_any_memory_is_taken():
    long = "x" * 4000
    with pytest.raises(DataError, match="positions"):
        clean_sentences(["hi there"] * 200 + [long])


def test_a_wide_vocabulary_over_many_long_sentences_is_refused():
    chars = "".join(chr(0x4E00 + i) for i in range(3000))
    sentences = [chars[i:] + chars[:i] for i in range(40)]  # 120k characters, 3,000 different
    with pytest.raises(DataError, match="different characters"):
        clean_sentences(sentences)


@pytest.fixture(scope="module")
def trained():
    trainer = Trainer(RunConfig.from_dict({"train": {"epochs": 30, "device": "cpu"}}))
    for _ in range(30):
        trainer.step()
    return trainer


@pytest.mark.parametrize("temperature", [1e-45, 1e-300, 5e-324, 1e-4])
def test_a_tiny_temperature_is_greedy_not_a_crash(trained, temperature):
    greedy = complete(trained.model, trained.vocab, "good", 20).text
    assert complete(trained.model, trained.vocab, "good", 20, temperature=temperature).text == greedy


def test_completions_never_write_the_unknown_mark(trained):
    for seed in range(5):
        out = complete(trained.model, trained.vocab, "h", 200, temperature=2.0, seed=seed)
        assert text_module.UNKNOWN not in out.generated


def test_complete_names_the_missing_device_not_the_file(tmp_path, capsys):
    if torch.cuda.is_available():
        pytest.skip("CUDA is here")
    trainer = Trainer(RunConfig.from_dict({"train": {"epochs": 1, "device": "cpu"}}))
    ck = tmp_path / "m.pt"
    save_checkpoint(trainer, str(ck))
    code = main(["complete", "--checkpoint", str(ck), "--prompt", "good", "--device", "cuda"])
    err = capsys.readouterr().err
    assert code == 2 and "device 'cuda'" in err and "m.pt" not in err


@pytest.mark.parametrize("flag", [["--sentences", "a b|c d"], ["--encoding", "embedding"], ["--window", "8"]])
def test_text_flags_with_the_sine_task_are_refused_not_ignored(capsys, flag):
    code = main(["train", "--task", "sine", "--epochs", "1", *flag])
    err = capsys.readouterr().err
    assert code == 2 and flag[0] in err and "text task" in err


def test_the_longest_sentence_allowed_is_traced_without_crashing_and_longer_is_skipped():
    """Freeing a traced graph ~25k steps deep overflowed the C stack (SIGSEGV):
    the trace stops at MAX_TRACED_STEPS. Run in a subprocess so a crash fails
    this test instead of killing the suite."""
    import subprocess
    import sys

    code = (
        "import torch\n"
        "from rnn_studio.core import RunConfig, Trainer\n"
        "from rnn_studio.core.models import MAX_TRACED_STEPS\n"
        "cfg = RunConfig(); cfg.task.sentences = ['ab' * 2500, 'hello']; cfg.train.time_grad_every = 1\n"
        "cfg.train.device = 'cpu'\n"
        "r = Trainer(cfg).step(); print(len(r.time_grad_norms))\n"
        "t = Trainer(cfg)\n"
        "x = torch.zeros(1, MAX_TRACED_STEPS + 1, dtype=torch.long)\n"
        "out, hidden, fn = t.model.forward_traced(x)\n"
        "print(fn is None)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-1000:]
    assert proc.stdout.split() == ["4999", "True"]


def test_the_thread_policy_goes_back_up_for_a_larger_model():
    from rnn_studio.core import resources

    before, remembered = torch.get_num_threads(), resources._default_threads
    try:
        torch.set_num_threads(2)  # torch's default on a 2-core machine
        resources._default_threads = None
        resources.apply_thread_policy(600)
        assert torch.get_num_threads() == 1
        resources.apply_thread_policy(resources.SMALL_MODEL_PARAMETERS * 10)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
        resources._default_threads = remembered
