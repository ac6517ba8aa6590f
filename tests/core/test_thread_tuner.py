"""ThreadTuner (core/resources.py): one thread or torch's default, whichever
steps faster where the window runs, measured while training."""

import pytest
import torch

from rnn_studio.core import resources
from rnn_studio.core.config import defaults_for
from rnn_studio.core.resources import SMALL_MODEL_PARAMETERS, ThreadTuner
from rnn_studio.core.session import Session


@pytest.fixture(autouse=True)
def keep_threads():
    before = torch.get_num_threads()
    resources._tuned.clear()  # each test starts in a process that measured nothing yet
    yield
    resources._tuned.clear()
    torch.set_num_threads(before)


def drive(tuner, seconds_for, steps):
    """Feed ``steps`` step times; each depends on the thread count in use, as a real step's does."""
    used = []
    for _ in range(steps):
        threads = torch.get_num_threads()
        used.append(threads)
        tuner.after_step(seconds_for(threads))
    return used


@pytest.mark.parametrize("faster", [1, 2])
def test_the_faster_thread_count_is_kept(faster):
    torch.set_num_threads(2)
    tuner = ThreadTuner(SMALL_MODEL_PARAMETERS, default_threads=2, trial_s=0.0, trial_steps=3, keep_s=1.0)
    assert tuner.active
    used = drive(tuner, lambda n: 0.01 if n == faster else 0.1, 40)
    assert tuner.trials >= 1 and tuner.choice == faster
    assert tuner.measured[faster] < tuner.measured[3 - faster]
    assert set(used) == {1, 2}, "both were tried"
    # after a trial, the faster one is what trains, until the next trial
    assert used[-5:].count(faster) >= 3


def test_a_changed_machine_changes_the_choice():
    torch.set_num_threads(2)
    tuner = ThreadTuner(SMALL_MODEL_PARAMETERS, default_threads=2, trial_s=0.0, trial_steps=3, keep_s=0.5)
    drive(tuner, lambda n: 0.01 if n == 2 else 0.05, 30)
    assert tuner.choice == 2
    drive(tuner, lambda n: 0.5 if n == 2 else 0.05, 60)  # another program took the second core
    assert tuner.choice == 1


def test_small_models_one_thread_machines_and_gpus_are_left_alone():
    torch.set_num_threads(2)
    for tuner in (
        ThreadTuner(SMALL_MODEL_PARAMETERS - 1, default_threads=2),
        ThreadTuner(10**6, default_threads=1),
        ThreadTuner(10**6, "cuda", default_threads=2),
    ):
        assert not tuner.active
        drive(tuner, lambda n: 0.01 * n, 50)
        assert torch.get_num_threads() == 2 and tuner.trials == 0


def test_the_window_s_sessions_tune_and_the_cli_s_do_not():
    cfg = defaults_for("text")
    cfg.model.arch, cfg.model.hidden = "lstm", 128  # ~85,000 parameters: past the small-model bar
    cfg.train.epochs = 3
    tuned = Session(cfg, tune_threads=True)
    tuned.run()
    assert (tuned.thread_tuner is not None) == (ThreadTuner(10**6).default > 1)
    plain = Session(cfg)
    plain.run()
    assert plain.thread_tuner is None


def test_a_stalling_thread_count_is_given_up_quickly():
    torch.set_num_threads(2)
    tuner = ThreadTuner(SMALL_MODEL_PARAMETERS, default_threads=2, trial_s=0.0, trial_steps=4, keep_s=100.0)
    used = drive(tuner, lambda n: 0.01 if n == 1 else 5.0, 12)  # two threads: five seconds a step
    assert tuner.choice == 1 and tuner.trials == 1
    assert used.count(2) <= 3, "the stalled candidate ran at most a step past its budget"


def test_a_busier_machine_starts_a_new_trial_before_it_is_due():
    torch.set_num_threads(2)
    tuner = ThreadTuner(SMALL_MODEL_PARAMETERS, default_threads=2, trial_s=0.0, trial_steps=3, keep_s=1e9)
    drive(tuner, lambda n: 0.01 if n == 2 else 0.05, 30)
    assert tuner.choice == 2 and tuner.trials == 1
    drive(tuner, lambda n: 0.5 if n == 2 else 0.05, 30)
    assert tuner.choice == 1 and tuner.trials == 2


def test_a_later_run_of_the_same_size_starts_with_the_last_choice():
    torch.set_num_threads(2)
    first = ThreadTuner(SMALL_MODEL_PARAMETERS, default_threads=2, trial_s=0.0, trial_steps=3, keep_s=1.0)
    drive(first, lambda n: 0.01 if n == 1 else 0.05, 20)
    assert first.choice == 1
    torch.set_num_threads(2)
    later = ThreadTuner(SMALL_MODEL_PARAMETERS, default_threads=2, trial_s=0.0, trial_steps=3, keep_s=1.0)
    assert torch.get_num_threads() == 1 and later.choice == 1
    used = drive(later, lambda n: 0.01 if n == 1 else 0.05, 20)
    assert used[:20] == [1] * 20, "no trial at the start: one thread until keep_s of training has passed"
    other_size = ThreadTuner(SMALL_MODEL_PARAMETERS + 1, default_threads=2)
    assert other_size.trials == 0 and other_size.measured == {}
