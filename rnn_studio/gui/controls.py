"""The settings on the left and the run buttons: what they describe and when they may change.

Owns what the controls decide: the ``RunConfig`` they describe, the task's
recommended settings when the task changes, the settings of an opened
network, which controls a run in progress locks, what Train will do (its
tooltip), and the parameter counts. The runner (``gui/runner.py``) owns the
network; these are only its settings.

Switching task throws the network on screen away (its plots belong to the
other task), so it asks first (issue 10): ``ask_to_discard`` shows a
question with Cancel; the window's ``confirm_discard`` attribute is the hook
tests and scripts replace to answer it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager

from PySide6.QtWidgets import QMessageBox, QStyle, QWidget

from ..core.config import AUTO, MAX_SENTENCES_CHARS, RunConfig, defaults_for, resolved_valid_fraction, validate
from ..core.errors import StudioError
from ..core.labelled import parse_examples
from ..core.resources import check_fits, planned_positions
from ..core.text import clean_sentences
from .panels.common import tooltip
from .panels.model_panel import count_parameters
from .panels.text_file import read_text_file_info
from .redraw import LiveViews
from .runner import Runner, device_name
from .status_display import sentence

TRAIN_TIP = "Start training a new network with the settings on the left."
TRAIN_OPENED_TIP = (
    "Go on training the opened network from where it stands, for the epochs set on the left. "
    "Press Reset (or change a setting that defines the network) to start a new network from scratch instead."
)
STEP_TIP = (
    "Train exactly one more epoch, then pause. After a run has ended it goes on training that network "
    "while the settings still describe it; otherwise it starts a new run."
)
TASK_NAMES = {"text": "text", "sine": "sine wave", "classify": "sentence classification"}


def ask_to_discard(parent: QWidget, text: str) -> bool:
    """Ask before throwing a trained network away; True only for an explicit yes."""
    box = QMessageBox(QMessageBox.Icon.Question, "Switch task?", text, QMessageBox.StandardButton.Cancel, parent)
    discard = box.addButton("Switch task", QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is discard


def build_config(data, model, training) -> RunConfig:
    """The run the panels describe; raises StudioError with a plain message."""
    cfg = defaults_for(data.task, data.sine_mode, model.arch)
    t = cfg.task
    if data.task == "text":
        if data.text_file:
            t.text_file = data.text_file
            t.window = data.windowSpin.value()
            t.batch_size = data.streamsSpin.value()
        else:
            if data.sentencesEdit.length() > MAX_SENTENCES_CHARS:
                raise StudioError(
                    f"the sentences hold {data.sentencesEdit.length():,} characters; the limit is {MAX_SENTENCES_CHARS:,}"
                )
            t.sentences = clean_sentences(data.sentences_text())
    elif data.task == "classify":
        page = data.classifyPage
        if page.data_file:
            t.data_file = page.data_file
        else:
            if len(page.examples_text()) > MAX_SENTENCES_CHARS:
                raise StudioError(
                    f"the examples hold more than {MAX_SENTENCES_CHARS:,} characters; put a larger data set in a "
                    ".csv file"
                )
            t.examples = page.examples()
            parse_examples(t.examples)  # a line without a label is said now, not by the worker
        t.level = page.level
        cfg.model.pool = model.pool
    else:
        t.sine_windows = data.sineWindowsSpin.value()
        t.sine_window_len = data.sineLengthSpin.value()
        t.sine_noise = float(data.sineNoiseSpin.value())
    t.valid_fraction = AUTO if data.valid_is_default else float(data.validSpin.value())
    if not (data.task == "text" and data.text_file) and not (data.task == "sine" and data.sine_mode == "sequence"):
        t.batch_examples = training.batchSpin.value()
        t.shuffle = training.shuffleCheck.isChecked()
    cfg.model.layers = model.layersSpin.value()
    cfg.model.hidden = model.hiddenSpin.value()
    cfg.model.encoding = model.encoding
    cfg.model.dropout = float(model.dropoutSpin.value())
    cfg.model.bidirectional = model.bidirectionalCheck.isChecked()  # unticked where not valid (allow_bidirectional)
    if model.xavierCheck.isChecked():
        cfg.model.init = "xavier"
    cfg.train.optimizer = training.optimizer
    cfg.train.lr = float(training.lrSpin.value())
    cfg.train.epochs = training.epochsSpin.value()
    cfg.train.clip = float(training.clipSpin.value())
    cfg.train.seed = training.seedSpin.value()
    cfg.train.plateau = training.plateauCheck.isChecked()
    cfg.train.device = training.device
    validate(cfg)
    if cfg.train.device != "cpu":
        # only listed once torch has loaded, so this never waits for it;
        # the CPU needs no check (and the worker checks again anyway)
        from ..core.devices import resolve_device

        resolve_device(cfg.train.device)
    return cfg


class Controls:
    """The data, model and training panels and the Train/Pause/Step/Stop buttons."""

    def __init__(
        self,
        window,
        runner: Runner,
        *,
        show_message: Callable[[str, str], None],
        reset: Callable[[], None],
        autosave: Callable[[], None],
        views: LiveViews,
        confirm_discard: Callable[[str], bool],
    ):
        self.data, self.model, self.training = window.dataPanel, window.modelPanel, window.trainingPanel
        self.train_button, self.pause_button = window.trainButton, window.pauseButton
        self.step_button, self.stop_button = window.stepButton, window.stopButton
        self.message_bar = window.messageBar
        self._style = window.style
        self._train_keys = getattr(window, "_train_keys", "")
        self.runner = runner
        self._show_message, self._reset, self._autosave = show_message, reset, autosave
        self.views, self._confirm = views, confirm_discard
        self.restoring_now = False
        self._note_shown = False

    # ------------------------------------------------------------------ settings -> config
    def build_config(self) -> RunConfig:
        return build_config(self.data, self.model, self.training)

    def view_task(self) -> str:
        """The task the views show: the network on screen's, else the chosen one."""
        return self.runner.info.task or self.data.task

    @contextmanager
    def restoring(self):
        """Controls set from saved settings or a file, not edited: no task
        defaults, no autosave, no notes."""
        before, self.restoring_now = self.restoring_now, True
        try:
            yield
        finally:
            self.restoring_now = before

    def schedule_autosave(self, *_args) -> None:
        if not self.restoring_now:
            self._autosave()

    # ------------------------------------------------------------------ the run's state
    def show_state(self) -> None:
        state = self.runner.state
        in_progress = self.runner.in_progress
        if in_progress:
            self._note_shown = False  # a note about changed settings is about the run now starting
        self.train_button.setEnabled(not in_progress)
        self.pause_button.setEnabled(in_progress)
        paused = state == "paused"
        self.pause_button.setText("Resume" if paused else "Pause")
        self.pause_button.setIcon(
            self._style().standardIcon(
                QStyle.StandardPixmap.SP_MediaPlay if paused else QStyle.StandardPixmap.SP_MediaPause
            )
        )
        self.pause_button.setToolTip(
            "Continue training from where it paused (Space)."
            if paused
            else "Pause training; you can change the learning rate meanwhile (Space)."
        )
        self.step_button.setEnabled(state != "running")
        self.stop_button.setEnabled(in_progress)
        self.update_train_tip()
        for widget in self.data.run_widgets + self.model.run_widgets + self.training.run_widgets:
            widget.setEnabled(not in_progress)
        if not in_progress:
            self._grey_out_unused()

    def _grey_out_unused(self) -> None:
        """Settings the chosen task does not use are greyed out too (a check
        box that is not valid here says why in its tooltip)."""
        task, mode = self.data.task, self.data.sine_mode
        self.model.encodingCombo.setEnabled(task == "text")
        self.data.sineWindowsSpin.setEnabled(mode == "next-value")
        self.model.poolingCombo.setEnabled(task == "classify")
        self.model.allow_bidirectional(task, mode)
        sequence = task == "sine" and mode == "sequence"
        self.data.validSpin.setEnabled(not sequence)
        if task == "text" and self.data.text_file:
            self.training.allow_batches("text_file")
        else:
            self.training.allow_batches("sequence" if sequence else None)

    def update_train_tip(self) -> None:
        """Say what Train will do: go on training an opened network while the
        controls still describe it, else start a new one."""
        goes_on = False
        network = self.runner.network
        if network is not None and network.opened and self.runner.shown_trainer() is not None:
            try:
                goes_on = self.runner.trainer_to_go_on(self.build_config()) is not None
            except StudioError:
                goes_on = False
        tooltip(self.train_button, (TRAIN_OPENED_TIP if goes_on else TRAIN_TIP) + self._train_keys)

    def update_parameter_count(self) -> int | None:
        """The model panel counts the network the controls describe, marked as
        the next run's when it differs from the one on screen; returns the count
        the status bar shows (the network on screen's, else that one)."""
        runner = self.runner
        shown = runner.info.parameters if runner.state != "idle" else None
        if shown is not None and runner.in_progress:  # the controls are locked: the same network
            self.model.show_count(shown)
            return shown
        count, too_big = None, None
        try:
            task = self.data.task
            cfg = defaults_for(task, self.data.sine_mode, self.model.arch)
            cfg.model.layers = self.model.layersSpin.value()
            cfg.model.hidden = self.model.hiddenSpin.value()
            cfg.model.encoding = self.model.encoding
            cfg.model.bidirectional = self.model.bidirectionalCheck.isChecked()
            classes = 0
            if task == "classify":
                page = self.data.classifyPage
                cfg.task.valid_fraction = AUTO if self.data.valid_is_default else float(self.data.validSpin.value())
                page.set_split(resolved_valid_fraction(cfg.task, 10), self.training.seedSpin.value())
                vocab, classes = page.vocab_size(), page.num_classes()
            else:
                vocab = self.data.vocab_size() if task == "text" else 1
            if (task == "sine" or vocab > 1) and (task != "classify" or classes > 1):
                count = count_parameters(cfg.model, task, vocab, classes)
                positions, words = self._step_positions()
                try:
                    if task == "classify":
                        check_fits(cfg.model, vocab, classes, text=False, classify=True)
                    else:
                        check_fits(cfg.model, vocab, vocab, text=task == "text", positions=positions,
                                   batch_words=words)
                except StudioError as exc:
                    too_big = str(exc)
        except (StudioError, KeyError):
            count = None
        self.model.show_count(count, too_big, on_screen=shown)
        return shown if shown is not None else count

    def _step_positions(self) -> tuple[int, str | None]:
        """What one training step of the run the controls describe keeps for
        backpropagation (batch x window), as the trainer will count it at Train;
        (0, None) while the settings cannot make a run (that is said elsewhere)."""
        try:
            cfg = self.build_config()
            info = self.data.text_file_info
            return planned_positions(cfg.task, info.characters if info is not None else None)
        except (StudioError, ValueError):
            return 0, None

    # ------------------------------------------------------------------ edits
    def setting_changed(self) -> None:
        """A setting that defines the network changed (by the user)."""
        self.schedule_autosave()
        if self.restoring_now:
            return
        network = self.runner.network
        if network is not None and network.opened:
            self.update_train_tip()
        if not self.runner.in_progress:
            self._grey_out_unused()
        if self.runner.state == "idle":
            if self.view_task() != self.views.task:
                self.views.show_task(self.view_task(), self.data.sine_mode)
        elif self.data.task != self.view_task():
            return  # another task: task_chosen asks whether to throw the network away
        elif not self._note_shown and self.message_bar.isHidden():
            self._note_shown = True
            self._show_message(
                "info",
                "The changed settings take effect when you press Train (a new run) "
                "or Reset; the plots show the run as it started.",
            )

    def task_chosen(self, *_args) -> None:
        """Another task: ask before throwing away the network on screen (it
        belongs to the other task), then load the task's recommended settings."""
        if self.restoring_now or self.runner.in_progress:
            return
        task = self.data.task
        dropped = self.view_task() if self.runner.state != "idle" else None
        if dropped == task:
            return
        if dropped is not None:
            new, old = TASK_NAMES.get(task, task), TASK_NAMES.get(dropped, dropped)
            question = (
                f"Switching to the {new} task throws away the trained {old} network and its plots. "
                "Save model… keeps a network before you switch."
            )
            if not self._confirm(question):
                with self.restoring():
                    self.data.set_task(dropped)  # nothing happened
                return
            self._reset()  # the ended run's views belong to the other task
        self.show_settings(defaults_for(task, self.data.sine_mode))
        self.views.show_task(task, self.data.sine_mode)
        if dropped is not None:
            self._show_message(
                "info",
                f"Switching to the {TASK_NAMES.get(task, task)} task cleared the last run: its "
                f"{TASK_NAMES.get(dropped, dropped)} network and its plots are gone (Save model… keeps a network "
                "before you switch). The task's recommended settings are loaded: press Train to start.",
            )

    def sine_mode_chosen(self, *_args) -> None:
        if self.restoring_now or self.runner.in_progress or self.data.task != "sine":
            return
        self.show_settings(defaults_for("sine", self.data.sine_mode))

    # ------------------------------------------------------------------ settings -> controls
    def show_settings(self, cfg: RunConfig) -> None:
        """Put a config's sine data, model and training settings in the
        controls (the sentences, task and device are each caller's own). A
        task's defaults set every control they define (seed 003's sequence
        needs its seed: most other seeds stall)."""
        d, m, t = self.data, self.model, self.training
        if cfg.task.kind == "sine":
            d.sineWindowsSpin.setValue(cfg.task.sine_windows)
            d.sineLengthSpin.setValue(cfg.task.sine_window_len)
            d.sineNoiseSpin.setValue(cfg.task.sine_noise)
        elif cfg.task.kind == "classify":
            d.classifyPage.set_level(cfg.task.level)
        elif cfg.task.text_file:
            d.windowSpin.setValue(cfg.task.window)
            d.streamsSpin.setValue(cfg.task.batch_size)
        d.set_valid(None if cfg.task.valid_fraction == AUTO else cfg.task.valid_fraction)
        m.set_arch(cfg.model.arch)
        m.layersSpin.setValue(cfg.model.layers)
        m.hiddenSpin.setValue(cfg.model.hidden)
        m.set_encoding(cfg.model.encoding)
        m.set_embedding_size(cfg.model.embedding_dim)
        m.dropoutSpin.setValue(cfg.model.dropout)
        m.bidirectionalCheck.setChecked(cfg.model.bidirectional)
        m.set_pool(cfg.model.pool)
        m.xavierCheck.setChecked(cfg.model.init == "xavier")
        t.set_optimizer(cfg.train.optimizer)
        t.lrSpin.setValue(cfg.train.lr)
        t.epochsSpin.setValue(cfg.train.epochs)
        t.batchSpin.setValue(cfg.task.batch_examples)
        t.shuffleCheck.setChecked(cfg.task.shuffle)
        t.clipSpin.setValue(cfg.train.clip)
        t.seedSpin.setValue(cfg.train.seed)
        t.plateauCheck.setChecked(cfg.train.plateau)

    def show_opened(self, cfg: RunConfig, device: str) -> bool:
        """Set the controls from an opened network's settings; True when the
        sentences were kept (a network trained on a text file, shown in the
        text file box, or on no sentences at all)."""
        d = self.data
        kept_sentences = False
        with self.restoring():
            d.set_task(cfg.task.kind)
            if cfg.task.kind == "sine":
                d.set_sine_mode(cfg.task.sine_mode)
            elif cfg.task.kind == "classify":
                self._show_opened_examples(cfg)
            elif cfg.task.text_file:
                # the file as it is now (a changed one too: Train then says why it cannot go
                # on); a file that cannot be read leaves the user's sentences, and Train
                # starts a new network on them
                kept_sentences = True
                try:
                    d.set_text_file(read_text_file_info(cfg.task.text_file))
                except StudioError:
                    d.close_text_file()
            elif not cfg.task.sentences:
                kept_sentences = True
            else:
                d.close_text_file()
                text = "\n".join(cfg.task.sentences)
                try:
                    same = clean_sentences(d.sentences_text()) == clean_sentences(text)
                except StudioError:
                    same = False
                if not same:
                    d.sentencesEdit.replace_all(text)  # one undoable edit: Ctrl+Z brings the user's back
                d.analyse()
            self.show_settings(cfg)
            self.training.set_device(device_name(device))
        return kept_sentences

    def _show_opened_examples(self, cfg: RunConfig) -> None:
        page = self.data.classifyPage
        if cfg.task.data_file:
            try:
                page.set_data_file(cfg.task.data_file)
            except StudioError as exc:
                page.set_missing_file(cfg.task.data_file, sentence(str(exc)))
            return
        text = "\n".join(cfg.task.examples)
        if page.examples_text().strip() != text.strip():
            page.examplesEdit.replace_all(text)  # one undoable edit
        page.use_typed()
