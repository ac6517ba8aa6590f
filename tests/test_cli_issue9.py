"""The command line of issue 9: classify, validation, batches, bidirectional,
exact resume; every bad input one line and exit 2."""

from __future__ import annotations

import json

import pytest
import torch

from tests.test_cli import assert_one_line_error, run_cli

EXAMPLES = "|".join([
    "pos: a good film", "neg: a bad film", "pos: not bad at all", "neg: not good at all", "pos: lovely",
    "neg: awful", "pos: so good", "neg: so bad", "pos: great fun", "neg: dull stuff",
])


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("classify")
    files = {"folder": folder}
    for name, content in {
        "good.csv": "text,label\n" + "\n".join(f"{t},{lab}" for lab, t in (e.split(": ") for e in EXAMPLES.split("|"))),
        "no_columns.csv": "sentence,class\na,b\nc,d\n",
        "one_class.csv": "text,label\na,pos\nb,pos\n",
        "empty_texts.csv": "text,label\n,pos\n ,neg\n",
        "blank_labels.csv": "text,label\na,\nb,  \n",
        "corpus.txt": "the cat sat on the mat. " * 500,
    }.items():
        (folder / name).write_text(content, encoding="utf-8")
        files[name.split(".")[0]] = folder / name
    (folder / "foreign.pt").write_bytes(b"\x00" * 100)
    files["foreign"] = folder / "foreign.pt"
    return files


def rows_of(out):
    rows = [json.loads(line) for line in out.splitlines()]
    return rows[:-1], rows[-1]


def test_classify_trains_on_a_csv_and_answers(data, tmp_path, capsys):
    ck = tmp_path / "c.st"
    rc, out, err = run_cli(["train", "--task", "classify", "--data", data["good"], "--epochs", "3", "--json",
                            "--save", ck], capsys)
    assert rc == 0, err
    epochs, done = rows_of(out)
    assert [r["epoch"] for r in epochs] == [1, 2, 3]
    assert all(set(r) == {"epoch", "loss", "grad_norm", "ms", "valid_loss", "accuracy", "valid_accuracy"} for r in epochs)
    assert set(done) == {"event", "epochs", "final_loss", "ms_per_epoch", "valid_loss", "accuracy", "valid_accuracy"}
    assert done["valid_accuracy"] == epochs[-1]["valid_accuracy"] and 0 <= done["accuracy"] <= 1
    rc, out, err = run_cli(["classify", "--checkpoint", ck, "--text", "not bad at all"], capsys)
    assert rc == 0, err
    assert out.strip() in ("pos", "neg") and out.count("\n") == 1
    rc, out, err = run_cli(["classify", "--checkpoint", ck, "--text", "a good zorp", "--json"], capsys)
    assert rc == 0, err
    answer = json.loads(out)
    assert set(answer) == {"label", "probabilities"} and set(answer["probabilities"]) == {"neg", "pos"}
    assert answer["label"] == max(answer["probabilities"], key=answer["probabilities"].get)
    assert sum(answer["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)


def test_classify_typed_examples_without_a_split(capsys):
    rc, out, err = run_cli(["train", "--task", "classify", "--sentences", EXAMPLES, "--valid-fraction", "0",
                            "--epochs", "2", "--json", "--level", "char", "--pool", "mean", "--batch-size", "4",
                            "--no-bidirectional", "--arch", "gru", "--embedding-dim", "8", "--hidden", "8"], capsys)
    assert rc == 0, err
    epochs, done = rows_of(out)
    assert all(set(r) == {"epoch", "loss", "grad_norm", "ms", "accuracy"} for r in epochs)


def test_classify_default_data_is_the_shipped_set(capsys):
    rc, out, err = run_cli(["train", "--task", "classify", "--epochs", "1"], capsys)
    assert rc == 0, err
    assert "validation accuracy" in out and "trained lstm" in out


def test_valid_fraction_and_batches_for_sine_and_text(data, capsys):
    rc, out, err = run_cli(["train", "--task", "sine", "--valid-fraction", "0.2", "--batch-size", "100",
                            "--bidirectional", "--epochs", "2", "--json"], capsys)
    assert rc == 0, err
    epochs, done = rows_of(out)
    assert all(set(r) == {"epoch", "loss", "grad_norm", "ms", "valid_loss"} for r in epochs)
    assert done["valid_loss"] == epochs[-1]["valid_loss"]
    rc, out, err = run_cli(["train", "--text-file", data["corpus"], "--epochs", "1", "--json", "--window", "32"],
                           capsys)
    assert rc == 0, err
    epochs, done = rows_of(out)
    assert "valid_loss" in epochs[0] and "valid_loss" in done  # a text file of 12,000 characters: 10% held out
    rc, out, err = run_cli(["train", "--sentences", "hey how are you|good i am fine|have a nice day|see you",
                            "--valid-fraction", "0.25", "--batch-size", "2", "--epochs", "2", "--json"], capsys)
    assert rc == 0, err
    epochs, _ = rows_of(out)
    assert len(epochs) == 2 and "valid_loss" in epochs[0]


def test_overfit_preset(capsys):
    rc, out, err = run_cli(["train", "--preset", "overfit", "--epochs", "3", "--json"], capsys)
    assert rc == 0, err
    epochs, _ = rows_of(out)
    assert "valid_loss" in epochs[0]


@pytest.mark.parametrize("task_args", [
    [],
    ["--task", "classify", "--sentences", EXAMPLES, "--batch-size", "3", "--plateau"],
    ["--task", "sine", "--valid-fraction", "0.2", "--batch-size", "200", "--dropout", "0.2", "--layers", "2"],
    ["--text-file", "{corpus}", "--window", "32", "--batch-size", "4", "--arch", "lstm", "--plateau"],
])
def test_resume_is_the_same_as_one_run(task_args, data, tmp_path, capsys):
    args = [a.format(corpus=data["corpus"]) for a in task_args]
    rc, out, err = run_cli(["train", *args, "--epochs", "5", "--json", "--save", tmp_path / "full.st"], capsys)
    assert rc == 0, err
    full, full_done = rows_of(out)
    rc, out, err = run_cli(["train", *args, "--epochs", "3", "--json", "--save", tmp_path / "part.st"], capsys)
    assert rc == 0, err
    first, _ = rows_of(out)
    rc, out, err = run_cli(["train", "--resume", tmp_path / "part.st", "--epochs", "2", "--json",
                            "--save", tmp_path / "resumed.st"], capsys)
    assert rc == 0, err
    rest, done = rows_of(out)
    assert [r["epoch"] for r in rest] == [4, 5] and done["epochs"] == 5
    strip = [{k: v for k, v in r.items() if k != "ms"} for r in first + rest]
    assert strip == [{k: v for k, v in r.items() if k != "ms"} for r in full]
    assert done["final_loss"] == full_done["final_loss"]
    from safetensors.torch import load_file

    a, b = load_file(str(tmp_path / "full.st")), load_file(str(tmp_path / "resumed.st"))
    assert set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in a)


def test_resume_of_a_changed_text_file_says_why(data, tmp_path, capsys):
    corpus = tmp_path / "c.txt"
    corpus.write_text("the cat sat on the mat. " * 20, encoding="utf-8")
    rc, out, err = run_cli(["train", "--text-file", corpus, "--epochs", "1", "--save", tmp_path / "c.st"], capsys)
    assert rc == 0, err
    corpus.write_text("the dog sat on the mat. " * 20, encoding="utf-8")
    rc, out, err = run_cli(["train", "--resume", tmp_path / "c.st", "--epochs", "1"], capsys)
    assert_one_line_error(rc, out, err, "cannot go on training", "changed")
    rc, out, err = run_cli(["complete", "--checkpoint", tmp_path / "c.st", "--prompt", "the"], capsys)
    assert rc == 0, err


BAD = {
    "no text/label columns": (["train", "--task", "classify", "--data", "{no_columns}"], ["text and label"]),
    "a single class": (["train", "--task", "classify", "--data", "{one_class}"], ["two classes"]),
    "empty texts": (["train", "--task", "classify", "--data", "{empty_texts}"], ["empty"]),
    "all-blank labels": (["train", "--task", "classify", "--data", "{blank_labels}"], ["blank"]),
    "missing data file": (["train", "--task", "classify", "--data", "{folder}/nope.csv"], ["not found"]),
    "data for the text task": (["train", "--data", "{good}"], ["--data", "classify"]),
    "bidirectional text": (["train", "--bidirectional"], ["bidirectional", "predict"]),
    "bidirectional sine sequence": (["train", "--task", "sine", "--sine-mode", "sequence", "--bidirectional"],
                                    ["bidirectional"]),
    "batches for sine sequence": (["train", "--task", "sine", "--sine-mode", "sequence", "--batch-size", "4"],
                                  ["one sequence"]),
    "valid fraction 1": (["train", "--valid-fraction", "1"], ["--valid-fraction"]),
    "valid fraction -0.1": (["train", "--valid-fraction", "-0.1"], ["--valid-fraction"]),
    "held out of one sentence": (["train", "--sentences", "hello there", "--valid-fraction", "0.5"], ["two"]),
    "onehot classifier": (["train", "--task", "classify", "--encoding", "onehot"], ["embedding"]),
    "resume of a missing file": (["train", "--resume", "{folder}/nope.st"], ["not found"]),
    "resume of a foreign file": (["train", "--resume", "{foreign}"], ["foreign.pt"]),
    "resume with other settings": (["train", "--resume", "{foreign}", "--arch", "gru"], ["--arch"]),
    "classify without text": (["classify", "--checkpoint", "{foreign}", "--text", "  "], ["empty"]),
    "classify a foreign file": (["classify", "--checkpoint", "{foreign}", "--text", "hi"], ["foreign.pt"]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_line_and_exit_2(case, data, capsys):
    args, words = BAD[case]
    args = [a.format(**{k: str(v) for k, v in data.items()}) for a in args]
    if args[0] == "train" and "--resume" not in args:
        args += ["--epochs", "1"]
    rc, out, err = run_cli(args, capsys)
    assert_one_line_error(rc, out, err, *words)


def test_classify_and_complete_refuse_each_others_networks(data, tmp_path, capsys):
    text_ck, cls_ck = tmp_path / "t.st", tmp_path / "c.st"
    assert run_cli(["train", "--epochs", "1", "--save", text_ck], capsys)[0] == 0
    assert run_cli(["train", "--task", "classify", "--data", data["good"], "--epochs", "1", "--save", cls_ck],
                   capsys)[0] == 0
    rc, out, err = run_cli(["classify", "--checkpoint", text_ck, "--text", "hello"], capsys)
    assert_one_line_error(rc, out, err, "not a classifier")
    rc, out, err = run_cli(["complete", "--checkpoint", cls_ck, "--prompt", "hello"], capsys)
    assert_one_line_error(rc, out, err, "rnn-studio classify")
