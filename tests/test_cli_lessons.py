"""``rnn-studio --lesson FILE``, ``rnn-studio lesson check`` and ``lesson play``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rnn_studio import cli

LESSONS = Path(__file__).resolve().parents[1] / "assets" / "lessons"
SMALL = '''title = "Small"
[[step]]
title = "Train"
text = "Ten epochs."
prompts = ["good"]
[step.settings]
epochs = 10
[step.wait]
run_finished = true

[[step]]
title = "Look"
text = "Done."
'''


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


@pytest.fixture
def bad(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(SMALL.replace("epochs = 10", "epochs = 10\nhiden = 3"))
    return path


def test_lesson_opens_the_window_on_the_file(small, monkeypatch):
    import rnn_studio.gui.app as app

    calls = []

    def run_app(argv=None, lesson=None):
        calls.append(lesson)
        return 0

    monkeypatch.setattr(app, "run_app", run_app)
    assert cli.main(["--lesson", str(small)]) == 0
    assert calls == [str(small)]


def test_a_bad_lesson_is_refused_in_one_line_before_any_window(bad, monkeypatch, capsys):
    import rnn_studio.gui.app as app

    monkeypatch.setattr(app, "run_app", lambda *a, **k: pytest.fail("the window must not open"))
    assert cli.main(["--lesson", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err == f"rnn-studio: error: {bad}:8: unknown setting 'hiden' (did you mean 'hidden'?)\n"


def test_the_window_takes_the_lesson():
    """``rnn-studio --lesson FILE`` hands the file to the window, which opens it."""
    import inspect

    import rnn_studio.gui.app as app

    assert "lesson" in inspect.signature(app.run_app).parameters


def test_lesson_goes_with_no_command(small, capsys):
    assert cli.main(["--lesson", str(small), "train"]) == 2
    assert "does not go with 'train'" in capsys.readouterr().err


def test_check_lists_the_steps(capsys):
    assert cli.main(["lesson", "check", str(LESSONS / "03-exploding-gradients.toml")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Exploding gradients and clipping: 2 steps, ok"
    assert out[1] == "  1. Too large a step (new run); then train until the run diverges"


def test_check_refuses_with_the_line(bad, capsys):
    assert cli.main(["lesson", "check", str(bad)]) == 2
    assert f"{bad}:8:" in capsys.readouterr().err
    assert cli.main(["lesson", "check", str(bad.parent / "none.toml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_play_prints_each_step(small, capsys):
    assert cli.main(["lesson", "play", str(small)]) == 0
    out = capsys.readouterr().out
    assert "step 1: Train\n  new run #1: 10 epochs" in out
    assert "'good' -> 'good" in out and "played 2 steps" in out


def test_play_json(small, capsys):
    assert cli.main(["lesson", "play", str(small), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r.get("title") for r in rows[:2]] == ["Train", "Look"]
    assert rows[0]["epochs_trained"] == 10 and len(rows[0]["losses"]) == 10 and rows[0]["wait_met"] is True
    assert rows[-1]["event"] == "done" and rows[-1]["all_waits_met"] is True


def test_play_says_when_a_wait_is_never_met(tmp_path, capsys):
    path = tmp_path / "never.toml"
    path.write_text(SMALL.replace("run_finished = true", "loss_below = 0.0001"))
    assert cli.main(["lesson", "play", str(path)]) == 1
    assert "step 1 was never met" in capsys.readouterr().err
