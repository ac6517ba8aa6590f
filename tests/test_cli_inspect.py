"""`rnn-studio inspect` (issue 10): the numbers it prints are the core
function's (``core.inspection.read_text``) and torch's."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from rnn_studio.core.checkpoints import load_trainer
from rnn_studio.core.inspection import read_text
from tests.test_cli import assert_one_line_error, run_cli


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """{arch: path} of small networks trained a few epochs (2 layers, embedding for GRU)."""
    from rnn_studio.cli import main

    folder = tmp_path_factory.mktemp("inspect")
    paths = {}
    for arch, extra in (("lstm", ["--layers", "2"]), ("gru", ["--encoding", "embedding"]), ("rnn", []),
                        ("elman", [])):
        path = folder / f"{arch}.st"
        assert main(["train", "--arch", arch, "--hidden", "6", "--epochs", "20", "--device", "cpu",
                     "--save", str(path), *extra]) == 0
        paths[arch] = str(path)
    paths["sine"] = str(folder / "sine.st")
    assert main(["train", "--task", "sine", "--epochs", "1", "--device", "cpu", "--save", paths["sine"]]) == 0
    return paths


def _rows(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


@pytest.mark.parametrize("arch", ["lstm", "gru", "rnn", "elman"])
def test_json_rows_equal_the_core_reading_and_torch(checkpoints, capsys, arch):
    rc, out, err = run_cli(["inspect", "--checkpoint", checkpoints[arch], "--prompt", "good i", "--top-k", "3",
                            "--json"], capsys)
    assert rc == 0, err
    rows = _rows(out)
    assert [r["char"] for r in rows] == list("good i")
    trainer = load_trainer(checkpoints[arch], device="cpu", read_data=False)
    model, vocab = trainer.model, trainer.vocab
    reading = read_text(model, vocab, "good i")
    layers = 2 if arch == "lstm" else 1
    # torch: the fused forward pass's top layer and read-out, and the layers' last state
    x = torch.tensor([vocab.encode("good i")])
    model.eval()
    with torch.no_grad():
        out_t, hidden, states = model(x, return_states=True)
        probs = torch.softmax(out_t[0].double(), -1).numpy()
    h_n = hidden[0] if isinstance(hidden, tuple) else hidden
    for t, row in enumerate(rows):
        assert set(row) == {"char", "top", "hidden", "cell", "gates"}
        hidden_row = np.asarray(row["hidden"])
        assert hidden_row.shape == (layers, 6)
        np.testing.assert_array_equal(hidden_row, reading.hidden[:, t])  # the core's numbers, exactly
        np.testing.assert_allclose(hidden_row[-1], states[0, t].numpy(), atol=1e-5)  # torch's
        assert [c for c, _ in row["top"]] == [c for c, _ in reading.top(t, 3)]
        ps = [p for _, p in row["top"]]
        assert ps == sorted(ps, reverse=True) and len(ps) == 3
        for c, p in row["top"]:
            assert p == pytest.approx(probs[t, vocab.stoi[c]], abs=1e-6)
        # nothing outside the top is likelier than its last
        assert np.sort(probs[t, 1:])[-3] == pytest.approx(ps[-1], abs=1e-6)
        if arch == "lstm":
            assert set(row["gates"]) == {"input", "forget", "output", "candidate"}
            assert np.asarray(row["cell"]).shape == (2, 6)
            np.testing.assert_array_equal(np.asarray(row["gates"]["forget"]), reading.gates["forget"][:, t])
        elif arch == "gru":
            assert set(row["gates"]) == {"reset", "update", "candidate"} and row["cell"] is None
        else:
            assert row["gates"] is None and row["cell"] is None
    np.testing.assert_allclose(np.asarray(rows[-1]["hidden"]), h_n[:, 0].numpy(), atol=1e-5)
    if arch == "lstm":
        np.testing.assert_allclose(np.asarray(rows[-1]["cell"]), hidden[1][:, 0].numpy(), atol=1e-5)


def test_default_top_k_is_five(checkpoints, capsys):
    rc, out, _ = run_cli(["inspect", "--checkpoint", checkpoints["rnn"], "--prompt", "hey", "--json"], capsys)
    assert rc == 0
    assert all(len(r["top"]) == 5 for r in _rows(out))


def test_table_without_json(checkpoints, capsys):
    rc, out, err = run_cli(["inspect", "--checkpoint", checkpoints["lstm"], "--prompt", "good"], capsys)
    assert rc == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("lstm, 2 layers of 6 units")
    assert "forget" in lines[1] and "p(char)" in lines[1]
    assert len(lines) == 2 + 4 and lines[2].split()[1] == "'g'"
    rc, out, _ = run_cli(["inspect", "--checkpoint", checkpoints["rnn"], "--prompt", "go"], capsys)
    assert "a plain RNN has no gates" in out.splitlines()[0]


def test_unknown_characters_warn_on_stderr(checkpoints, capsys):
    rc, out, err = run_cli(["inspect", "--checkpoint", checkpoints["rnn"], "--prompt", "heZ", "--json"], capsys)
    assert rc == 0 and "never saw 'z'" in err  # prompts are lower-cased as the training text was
    assert len(_rows(out)) == 3


@pytest.mark.parametrize("argv, words", [
    (["--prompt", ""], ["empty"]),
    (["--top-k", "0"], ["--top-k"]),
    (["--top-k", "x"], ["--top-k"]),
    (["--top-k", "500"], ["--top-k", "at most"]),
    (["--device", "tpu"], []),
])
def test_bad_input_is_one_line_exit_2(checkpoints, capsys, argv, words):
    base = {"--checkpoint": checkpoints["rnn"], "--prompt": "good"}
    args = ["inspect"]
    given = dict(zip(argv[::2], argv[1::2], strict=True))
    for key, value in {**base, **given}.items():
        args += [key, value]
    assert_one_line_error(*run_cli(args, capsys), *words)


def test_missing_checkpoint_and_sine_network(checkpoints, capsys, tmp_path):
    assert_one_line_error(*run_cli(["inspect", "--checkpoint", str(tmp_path / "no.st"), "--prompt", "a"], capsys),
                          "not found")
    assert_one_line_error(*run_cli(["inspect", "--checkpoint", checkpoints["sine"], "--prompt", "a"], capsys),
                          "sine")
    junk = tmp_path / "junk.st"
    junk.write_bytes(b"not a checkpoint at all")
    assert_one_line_error(*run_cli(["inspect", "--checkpoint", str(junk), "--prompt", "a"], capsys), "damaged")
