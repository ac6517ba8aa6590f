"""The lesson file format: what loads, and every way a file is refused with its line and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from rnn_studio.core.config import defaults_for
from rnn_studio.core.lessons import (
    MAX_LESSON_BYTES,
    LessonError,
    Wait,
    lesson_from_window,
    lesson_to_toml,
    load_lesson,
    parse_lesson,
    save_lesson,
    text_to_html,
    text_to_plain,
)

SHIPPED = sorted((Path(__file__).resolve().parents[2] / "assets" / "lessons").glob("*.toml"))

GOOD = '''\
title = "A lesson"

[[step]]
title = "First"
text = """
Hello **class**.
"""
[step.settings]
arch = "lstm"
hidden = 32

[step.wait]
after_epochs = 5

[[step]]
title = "Second"
text = "Go on."
prompts = ["good"]
[step.wait]
loss_below = 0.5
'''


def refused(text: str, folder: Path | None = None) -> LessonError:
    with pytest.raises(LessonError) as info:
        parse_lesson(text, path="x.toml", folder=folder)
    return info.value


def line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def test_a_good_lesson_loads_with_its_settings_carried_over():
    lesson = parse_lesson(GOOD)
    first, second = lesson.steps
    assert lesson.title == "A lesson"
    assert first.run == "new" and first.settings == {"arch": "lstm", "hidden": 32}
    assert first.config.model.arch == "lstm" and first.config.model.hidden == 32
    assert first.wait == Wait("after_epochs", 5) and first.line == 3
    # no settings, a training wait, a network exists: go on training it
    assert second.run == "continue" and second.config.model.hidden == 32
    assert second.prompts == ("good",) and second.wait.kind == "loss_below"
    assert first.html == "<p>Hello <b>class</b>.</p>"


def test_light_formatting_escapes_everything_else():
    html = text_to_html("a <b>tag</b> & **bold *and* more**, *it*, `x < y`\n\n- one\n- two")
    assert html == ("<p>a &lt;b&gt;tag&lt;/b&gt; &amp; <b>bold <i>and</i> more</b>, <i>it</i>, "
                    "<code>x &lt; y</code></p><ul><li>one</li><li>two</li></ul>")
    assert text_to_plain("**a** `b`\nc\n\n- d") == "a b c\n\n  - d"


@pytest.mark.parametrize("text, needle, reason", [
    # TOML syntax: tomllib's own line
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = \n', "text = ", "not valid TOML"),
    ('title = "x"\n[[step]]\ntitle = "unclosed\ntext = "b"\n', 'title = "unclosed', "not valid TOML"),
    # the lesson
    ('title = "x"\ncolour = "red"\n[[step]]\ntitle = "a"\ntext = "b"\n', "colour", "unknown key 'colour'"),
    ('format = 9\ntitle = "x"\n[[step]]\ntitle = "a"\ntext = "b"\n', "format", "newer than this studio"),
    ('title = 3\n[[step]]\ntitle = "a"\ntext = "b"\n', "title = 3", "title must be text"),
    ('title = "x"\nstep = "one"\n', "step = ", "[[step]] tables"),
    # a step
    ('title = "x"\n[[step]]\ntitle = "a"\n', "[[step]]", "step 1 has no text"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\n[[step]]  # two\ntext = "c"\n', "# two", "step 2 has no title"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\nprompt = ["x"]\n', "prompt =", "did you mean 'prompts'"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "  "\n', "text =", "text is empty"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\npreset = "jazz"\n', "preset", "unknown preset 'jazz'"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\nrun = "sprint"\n', "run =", "unknown run"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\nlock = ["lrSpinn"]\n', "lock", "did you mean 'lrSpin'"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\nhide = [3]\n', "hide", "list of names"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\nhighlight = "lossPlt"\n', "highlight", "did you mean 'lossPlot'"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\nrun = "new"\ntemperature = -1\n', "temperature", "between 0"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\nrun = "new"\nsamples = 0\n', "samples", "between 1"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\nrun = "new"\noverlay = "yes"\n', "overlay", "true or false"),
    # settings
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\n[step.settings]\nhiden = 3\n', "hiden", "did you mean 'hidden'"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\n[step.settings]\nhidden = "big"\n', "hidden", "whole number"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\n[step.settings]\narch = "lstm"\nhidden = 0\n', "hidden = 0",
     "hidden size must be between"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\n[step.settings]\nlr = 0\nseed = 1\n', "lr = 0",
     "learning rate must be greater than 0"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\n[step.settings]\nbidirectional = true\n', "bidirectional",
     "bidirectional is not available"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\n[step.settings]\narch = "transformer"\n', "arch",
     "unknown architecture"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\n[step.settings]\ndevice = "cuda"\n', "device",
     "device cannot be set by a lesson"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\n[step.settings]\nsentences = "one line"\n', "sentences",
     "list of texts"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\n[step.settings]\npace = -1\n', "pace", "between 0"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\n[step.settings]\nsentences = [" ", ""]\n', "sentences",
     "no sentences to train on"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\n[step.settings]\ndata_file = "nowhere.csv"\n', "data_file",
     "no such file"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\npreset = "classify"\n', "preset",
     "needs data_file"),
    # dotted keys and inline tables are found too
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\nsettings.layers = 99\n', "settings.layers", "layers"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\nsettings = { hidden = 3, colour = 1 }\n', "settings =",
     "unknown setting 'colour'"),
    # wait
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\nrun = "new"\n[step.wait]\nepochs = 3\n', "epochs = 3",
     "unknown wait 'epochs'"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\nrun = "new"\n[step.wait]\nafter_epochs = 3\nloss_below = 1\n',
     "loss_below", "waits for one thing"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\nrun = "new"\n[step.wait]\nafter_epochs = 0\n', "after_epochs",
     "between 1"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\nrun = "new"\n[step.wait]\nloss_below = 0\n', "loss_below",
     "greater than 0"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\nrun = "new"\n[step.wait]\nrun_finished = false\n',
     "run_finished", "must be true"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\nrun = "new"\nwait = {}\n', "wait =", "wait is empty"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\nrun = "none"\n[step.wait]\nafter_epochs = 3\n', "[step.wait]",
     "nothing to wait for"),
    # what a step may do when
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\nprompts = ["good"]\n', "prompts", "no network has been trained"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\npreset = "sine"\nprompts = ["good"]\n', "prompts",
     "sine network has no prompt box"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\nrun = "new"\naction = "elman-check"\n', "action",
     "needs the from-scratch Elman"),
    ('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\nrun = "new"\n[[step]]\ntitle = "c"\ntext = "d"\n'
     'run = "continue"\n[step.settings]\nhidden = 3\n', "hidden = 3", "cannot change while"),
])
def test_every_error_names_its_line_and_reason(text, needle, reason, tmp_path):
    error = refused(text, folder=tmp_path)
    assert reason in error.reason
    assert error.line == line_of(text, needle), (error.line, str(error))
    assert str(error).startswith(f"x.toml:{error.line}: ")


def test_a_key_inside_a_text_does_not_confuse_the_line():
    text = ('title = "x"\n[[step]]\ntitle = "a"\ntext = """\nhidden = 3 is only words here\n"""\n'
            '[step.settings]\nhidden = 0\n')
    assert refused(text).line == 8


def test_the_settings_of_the_third_step_point_at_the_third_step(tmp_path):
    step = '[[step]]\ntitle = "s"\ntext = "t"\n[step.settings]\nhidden = {}\n'
    text = 'title = "x"\n' + step.format(8) + step.format(16) + step.format(0)
    assert "hidden size must be between" in refused(text).reason
    assert refused(text).line == 16


def test_no_title_no_steps_too_many_steps():
    assert "no title" in refused('[[step]]\ntitle = "a"\ntext = "b"\n').reason
    assert "no steps" in refused('title = "x"\n').reason
    many = 'title = "x"\n' + '[[step]]\ntitle = "a"\ntext = "b"\n' * 101
    error = refused(many)
    assert "101 steps" in error.reason and error.line == 2 + 3 * 100


def test_files_too_large_not_utf8_or_missing(tmp_path):
    big = tmp_path / "big.toml"
    big.write_text('title = "x"\n#' + "a" * MAX_LESSON_BYTES + "\n")
    with pytest.raises(LessonError, match="at most"):
        load_lesson(big)
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'title = "x"\n[[step]]\ntitle = "caf\xe9"\n')
    with pytest.raises(LessonError) as info:
        load_lesson(latin)
    assert info.value.line == 3 and "UTF-8" in info.value.reason
    with pytest.raises(LessonError, match="no such file"):
        load_lesson(tmp_path / "missing.toml")
    with pytest.raises(LessonError, match="not a file|cannot be read"):
        load_lesson(tmp_path)


def test_relative_data_files_are_read_from_the_lessons_folder(tmp_path):
    (tmp_path / "data.csv").write_text("text,label\ngood film,positive\nbad film,negative\n")
    path = tmp_path / "l.toml"
    path.write_text('title = "x"\n[[step]]\ntitle = "a"\ntext = "b"\npreset = "classify"\n'
                    '[step.settings]\ndata_file = "data.csv"\n')
    lesson = load_lesson(path)
    assert lesson.steps[0].config.task.data_file == str((tmp_path / "data.csv").resolve())


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_lessons_survive_a_round_trip(path, tmp_path):
    lesson = load_lesson(path)
    out = tmp_path / path.name
    if any("data_file" in s.settings for s in lesson.steps):
        (tmp_path.parent / "sentiment.csv").write_bytes((path.parent.parent / "sentiment.csv").read_bytes())
    save_lesson(lesson, out)
    again = load_lesson(out)
    assert again.title == lesson.title and len(again.steps) == len(lesson.steps)
    for a, b in zip(lesson.steps, again.steps, strict=True):
        assert (a.title, a.text, a.run, a.lock, a.hide, a.highlight, a.prompts, a.wait, a.action, a.overlay) == \
               (b.title, b.text, b.run, b.lock, b.hide, b.highlight, b.prompts, b.wait, b.action, b.overlay)
        assert a.config.to_dict() == b.config.to_dict()


def test_a_window_lesson_saves_and_reopens(tmp_path):
    cfg = defaults_for("text")
    cfg.task.sentences = ['say "hi"\\there', "tab\there"]
    cfg.model.arch, cfg.train.lr, cfg.train.clip = "gru", 0.003, 1.0
    text = 'Watch the **loss**.\n\nThen type `good`; "quotes" and a backslash \\ survive.'
    lesson = lesson_from_window("My lesson", text, cfg, lock=["archCombo"], hide=["deviceCombo"],
                                highlight=["lossPlot"], prompts=["good"], wait=Wait("after_epochs", 50))
    path = tmp_path / "mine.toml"
    assert save_lesson(lesson, path) == str(path)
    again = load_lesson(path)
    step = again.steps[0]
    assert step.text == text and step.lock == ("archCombo",) and step.hide == ("deviceCombo",)
    assert step.config.to_dict() == {**cfg.to_dict(), "train": {**cfg.to_dict()["train"], "device": "auto"}}
    assert step.wait == Wait("after_epochs", 50) and step.run == "new"
    assert lesson_to_toml(again, tmp_path) == path.read_text()


def test_a_refused_save_writes_nothing(tmp_path):
    cfg = defaults_for("text")
    lesson = lesson_from_window("x", "y", cfg, lock=["noSuchControl"])
    path = tmp_path / "bad.toml"
    with pytest.raises(LessonError, match="noSuchControl"):
        save_lesson(lesson, path)
    assert not path.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["README.md", "docs/lessons.md"])
def test_the_documented_examples_load(name):
    import re

    text = (Path(__file__).resolve().parents[2] / name).read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", text, re.S)
    assert blocks
    for block in blocks:
        assert parse_lesson(block).steps
