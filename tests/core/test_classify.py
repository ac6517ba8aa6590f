"""The classify task (issue 9): data files and typed examples, seed 002's
TextPreprocessor, the classifier network, training, and asking it about a text."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnn_studio.core.classification import classify_text, confusion_matrix
from rnn_studio.core.config import ModelConfig, defaults_for, validate
from rnn_studio.core.errors import ConfigError, DataError
from rnn_studio.core.labelled import TokenVocabulary, parse_examples, read_labelled_file, tokenize
from rnn_studio.core.models import ClassifierNet
from rnn_studio.core.training import Trainer

EXAMPLES = [
    "pos: a good film", "neg: a bad film", "pos: not bad at all", "neg: not good at all",
    "pos: dull at first but wonderful in the end", "neg: wonderful at first but dull in the end",
    "pos: good good", "neg: bad bad", "pos: lovely", "neg: awful", "pos: a lovely film", "neg: an awful film",
]


def classify_config(**task):
    cfg = defaults_for("classify")
    cfg.task.examples = list(EXAMPLES)
    cfg.train.device = "cpu"
    for key, value in task.items():
        setattr(cfg.task, key, value)
    return cfg


# -- data -----------------------------------------------------------------------------------------

def test_typed_examples_split_at_the_first_colon_and_skip_blank_lines():
    assert parse_examples("pos: a: b\n\n  \nneg:c\r\n") == [("a: b", "pos"), ("c", "neg")]


@pytest.mark.parametrize("text,words", [
    ("just text\nneg: x", ["line 1", "label: text"]),
    ("pos: a\npos: b", ["two classes"]),
    ("pos:\nneg:  ", ["every text is empty"]),
    (": a\n: b", ["blank in every row"]),
    ("pos: a\nneg:", ["line 2", "no text"]),
    ("", ["no examples"]),
])
def test_bad_typed_examples_are_one_plain_sentence(text, words):
    with pytest.raises(DataError) as err:
        parse_examples(text)
    message = str(err.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_csv_and_tsv_files_with_a_header(tmp_path):
    csv_path = tmp_path / "d.csv"
    csv_path.write_text('label,text\npositive,"good, really"\nnegative,bad\n\n', encoding="utf-8")
    examples, digest = read_labelled_file(str(csv_path))
    assert examples == [("good, really", "positive"), ("bad", "negative")] and len(digest) == 64
    tsv_path = tmp_path / "d.tsv"
    tsv_path.write_text("Text\tLabel\ngood, really\tpositive\nbad\tnegative\n", encoding="utf-8")
    assert read_labelled_file(str(tsv_path))[0] == examples


@pytest.mark.parametrize("content,words", [
    (b"sentence,class\na,b\n", ["text and label"]),
    (b"text,label\na,pos\nb,pos\n", ["two classes"]),
    (b"text,label\n,pos\n ,neg\n", ["every text is empty"]),
    (b"text,label\na,\nb, \n", ["blank in every row"]),
    (b"text,label\ncaf\xe9,pos\n", ["UTF-8"]),
    (b"", ["no text"]),
])
def test_bad_files_are_one_plain_sentence(tmp_path, content, words):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(DataError) as err:
        read_labelled_file(str(path))
    assert "\n" not in str(err.value)
    for word in words:
        assert word in str(err.value)


def test_vocabulary_is_seed_002s_text_preprocessor():
    vocab = TokenVocabulary.from_texts(["The film the FILM", "a film"], max_vocab=4)
    # lower-cased, most frequent first (film 3, the 2), 0 pads, 1 is unknown, capped at max_vocab
    assert vocab.itos == ["<pad>", "<unk>", "film", "the"]
    assert vocab.encode("the Film was") == [3, 2, 1]
    assert vocab.encode("the film the", max_length=2) == [3, 2]
    assert vocab.unknown_tokens("the was a was") == ["was", "a"]
    assert tokenize("  Not   BAD ", "char") == list("not bad")


def test_task_pads_with_zero_cuts_to_max_length_and_splits_by_seed():
    task = Trainer(classify_config(max_length=3, valid_fraction=0.25)).task
    assert task.batch.inputs.shape[1] == 3
    assert len(task.train_rows) == 9 and len(task.valid_rows) == 3
    assert set(task.train_rows) | set(task.valid_rows) == set(range(12))
    assert task.labels == ["neg", "pos"]
    again = Trainer(classify_config(max_length=3, valid_fraction=0.25)).task
    assert list(again.valid_rows) == list(task.valid_rows)


def test_settings_a_classifier_refuses():
    for change, word in ((lambda c: setattr(c.model, "pool", "min"), "pooling"),
                         (lambda c: setattr(c.task, "level", "byte"), "level"),
                         (lambda c: setattr(c.model, "encoding", "onehot"), "embedding"),
                         (lambda c: setattr(c.task, "valid_fraction", 0.95), "validation")):
        cfg = classify_config()
        change(cfg)
        with pytest.raises(ConfigError, match=word):
            validate(cfg)


# -- the network ------------------------------------------------------------------------------------

@pytest.mark.parametrize("pool", ["max", "last", "mean"])
@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("arch", ["lstm", "gru", "rnn"])
def test_padding_never_changes_a_texts_answer(pool, bidirectional, arch):
    torch.manual_seed(0)
    cfg = ModelConfig(arch=arch, layers=2, hidden=8, encoding="embedding", embedding_dim=6,
                      bidirectional=bidirectional, pool=pool)
    model = ClassifierNet(cfg, 20, 3).eval()
    texts = [[5, 6, 7], [8, 9], [4, 4, 4, 4, 4]]
    batch = torch.zeros(3, 9, dtype=torch.long)
    for i, ids in enumerate(texts):
        batch[i, : len(ids)] = torch.tensor(ids)
    with torch.no_grad():
        together, _ = model(batch)
        for i, ids in enumerate(texts):
            alone, _ = model(torch.tensor([ids]))
            torch.testing.assert_close(alone[0], together[i])


def test_seed_sizes_with_embedding_128_hidden_256():
    cfg = defaults_for("classify")
    cfg.model.embedding_dim, cfg.model.hidden = 128, 256
    model = ClassifierNet(cfg.model, 10_000, 2)
    # seed 002's TextClassificationRNN(10000, 128, 256, 2): the same shapes
    assert model.embedding.weight.shape == (10_000, 128) and model.embedding.padding_idx == 0
    assert model.rnn.num_layers == 2 and model.rnn.bidirectional and model.rnn.dropout == 0.3
    assert model.fc1.weight.shape == (64, 512) and model.fc2.weight.shape == (2, 64)
    assert model.dropout.p == 0.5


def test_training_learns_the_examples_and_reports_accuracy():
    cfg = classify_config(valid_fraction=0.0)
    cfg.train.epochs, cfg.train.lr = 60, 0.01
    trainer = Trainer(cfg)
    reports = [trainer.run_epoch()[-1] for _ in range(cfg.train.epochs)]
    assert reports[-1].epoch_loss < reports[0].epoch_loss / 5
    assert reports[-1].accuracy == 1.0 and reports[-1].valid_loss is None and reports[-1].valid_accuracy is None
    predictions = trainer.predictions()
    assert predictions["kind"] == "classify" and predictions["labels"] == ["neg", "pos"]
    assert len(predictions["examples"]) == 12
    first = predictions["examples"][0]
    assert set(first) == {"text", "label", "predicted", "probabilities", "split"}
    assert sum(first["probabilities"]) == pytest.approx(1.0, abs=1e-5)
    assert predictions["confusion"]["train"].trace() == 12
    result = trainer.classify_text("dull at first but wonderful in the end")
    assert result.label == "pos" and result.unknown == []
    # words past the maximum length (here the longest training example) are not read
    assert trainer.classify_text("zorp a lovely film " + "x " * 20).unknown == ["zorp", "x"]
    assert set(result.probabilities) == {"neg", "pos"}
    assert sum(result.probabilities.values()) == pytest.approx(1.0, abs=1e-5)


def test_classify_text_refuses_empty_text_and_restores_train_mode():
    trainer = Trainer(classify_config())
    with pytest.raises(DataError, match="empty"):
        classify_text(trainer.model, trainer.vocab, trainer.task.labels, "   ")
    trainer.model.train()
    trainer.classify_text("good")
    assert trainer.model.training


def test_confusion_matrix_counts_true_by_predicted():
    matrix = confusion_matrix([0, 0, 1, 1, 1], [0, 1, 1, 1, 0], 2)
    assert matrix.tolist() == [[1, 1], [1, 2]]
    assert matrix.dtype == np.int64


def test_char_level_reads_characters():
    trainer = Trainer(classify_config(level="char"))
    assert all(len(t) == 1 for t in trainer.vocab.tokens)
    longest = max(len(e.split(":", 1)[1].strip()) for e in EXAMPLES)
    assert trainer.task.max_length == longest
