"""The studio window: layout and wiring, nothing else.

Panels (rnn_studio/gui/panels/) hold the widgets; the worker
(rnn_studio/gui/worker.py) runs the core Trainer in a QThread. This module
builds a RunConfig from the panels, starts/pauses/steps/stops runs, routes the
worker's batched signals to the views and redraws them on a timer only when
something changed. What the user typed and chose is kept by a
``SettingsKeeper`` (rnn_studio/gui/persistence.py); the window only wires it.

Run states: ``idle`` (no run), ``running``, ``paused`` (a run exists: the
settings that define it are locked), ``finished``, ``stopped``, ``failed``
(the run ended; its network still answers prompts; Train starts a new one,
and Step trains the ended network one more epoch while the controls still
describe it, else starts a new run and says so). The plots, the prompts and
the status bar describe the network on screen until Train, Step or Reset: a
setting changed after a run is the next run's (the model panel shows the next
run's parameter count beside it).

Files: Save model… asks the network's own thread to write a checkpoint (between
two steps, or through a serve-only worker once the run has ended). Open model…
loads a checkpoint in a worker thread; on success the window shows it as an
ended run with the controls set from its settings, and Train (or Step) goes on
training that network for the epochs on the left as long as the controls still
describe it; Reset, or changing a setting that defines the network, makes the
next Train start a new network from scratch. A file that fails to open changes
nothing in the window.

``MainWindow(defer_torch=True)`` (what ``rnn-studio`` uses) paints before torch
has loaded: the device list starts with the CPU, and a background thread
imports torch after the first paint and fills in the graphics cards. Without
it the list is complete when the constructor returns.
"""

from __future__ import annotations

import logging
import math
import os
import stat
import time
from contextlib import contextmanager

from PySide6.QtCore import QEvent, QObject, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QFileDialog,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.config import ARCH_LABELS, MAX_SENTENCES_CHARS, RunConfig, defaults_for, validate
from ..core.errors import StudioError
from ..core.resources import check_fits
from ..core.text import clean_sentences
from .control_bar import ControlBar, FittedProgressBar, RunButton
from .keys import SpaceToPause, WheelScrollsThePanel
from .menus import Menus
from .panels.common import GrowingBuffer, MessageBar, tooltip
from .panels.data_panel import DataPanel
from .panels.gradient_panel import GradientView
from .panels.loss_plot import LossView
from .panels.model_panel import ModelPanel, count_parameters
from .panels.prompt_panel import PromptPanel
from .panels.sine_plot import SineView
from .panels.text_view import TextView
from .panels.training_panel import TrainingPanel
from .persistence import SettingsKeeper
from .projector import Projector
from .screen_fit import fit_window, let_combos_shrink
from .worker import DeviceScan, RunHandle, TrainingWorker, warm_up_in_background

# The classroom (issue 8): the settings panel may shrink this far (then it scrolls);
# the menus' actions are the window's attributes too.
SETTINGS_MIN_WIDTH = 256
MENU_ACTIONS = (
    "restoreDefaultsAction",
    "quitAction",
    "trainAction",
    "pauseAction",
    "stepAction",
    "stopAction",
    "resetAction",
    "projectorModeAction",
    "zoomInAction",
    "zoomOutAction",
    "logScaleAction",
    "settingsPanelAction",
    "viewsHelpAction",
    "shortcutsAction",
    "aboutAction",
)

# The timer ticks at least this far apart; each tick redraws one view whose data
# changed (plots update when their data changed, never per training step).
REDRAW_INTERVAL_MS = 15
MAX_REDRAW_INTERVAL_MS = 500  # ...and at least twice a second
# Painting pyqtgraph plots is Python that holds the GIL, so every millisecond the
# GUI thread spends drawing is one the training thread waits. The redraw interval
# grows until the GUI thread is busy at most this fraction of the time.
GUI_BUSY_TARGET = 0.08
PACED_GUI_BUSY_TARGET = 0.5  # when the pace control slows training, smooth drawing matters more
STOP_WAIT_MS = 1000
PROGRESS_STEPS = 10_000  # the progress bar's range, whatever the number of epochs
# Closing waits at most this long for all threads together; one still running
# then (a step that outlasts it, a file read that blocks) is left to end on its
# own: never terminate() a thread, and never let the window hang.
CLOSE_WAIT_MS = 1500
IN_PROGRESS = ("running", "paused")
DEVICE_SCAN_FALLBACK_MS = 3000  # start the device scan even if the first paint never comes
MODEL_FILTER = "RNN Studio models (*.pt);;All files (*)"
TRAIN_TIP = "Start training a new network with the settings on the left."
TRAIN_OPENED_TIP = (
    "Go on training the opened network from where it stands, for the epochs set on the left. "
    "Press Reset (or change a setting that defines the network) to start a new network from scratch instead."
)
STEP_TIP = (
    "Train exactly one more epoch, then pause. After a run has ended it goes on training that network "
    "while the settings still describe it; otherwise it starts a new run."
)

log = logging.getLogger(__name__)
# Threads given up on at close, kept (and owned by C++) until they end on their own.
_abandoned: list = []


def _format_elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class _FirstPaint(QObject):
    """Calls ``callback`` (once, on the next event-loop turn) after the first
    paint event reaches ``widget``, then stops watching."""

    def __init__(self, widget, callback):
        super().__init__(widget)
        self._callback = callback
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Paint and self._callback is not None:
            callback, self._callback = self._callback, None
            obj.removeEventFilter(self)
            QTimer.singleShot(0, callback)  # after this frame has been drawn
        return False


class MainWindow(QMainWindow):
    runStateChanged = Signal(str)  # idle, running, paused, finished, stopped, failed
    workerPaused = Signal(str)  # the worker has paused: "request", "step" or "diverged"
    modelSaved = Signal(str, str)  # path, error ("" when the file was written)
    modelOpened = Signal(str, str)  # path, error ("" when the network is shown)
    devicesListed = Signal()  # the device list is complete (at once unless defer_torch)

    def __init__(self, parent=None, *, defer_torch: bool = False):
        super().__init__(parent)
        self._defer_torch = defer_torch
        self.setObjectName("mainWindow")
        self.setWindowTitle("RNN Studio")
        # projector-sized text: one point above the desktop default
        font = self.font()
        font.setPointSizeF(max(font.pointSizeF(), 10.0) + 1.0)
        self.setFont(font)
        self.setStyleSheet("QGroupBox { font-weight: bold; } QGroupBox * { font-weight: normal; }")
        self.run_state = "idle"
        self._announced_state = "idle"
        self.closed_cleanly: bool | None = None  # set on close: did every thread end within the deadline?
        self._run_id = 0
        self._last_id = 0  # every worker gets a new id: runs, and models being opened
        self._handle: RunHandle | None = None  # the current run (its thread may have ended)
        self._loader: RunHandle | None = None  # a model being opened (Open model…)
        # The network the current run holds: {"run", "config", "device", "opened"};
        # "opened" (from a file) means Train, not only Step, goes on training it.
        self._network: dict | None = None
        self._epoch_offset = 0  # epochs the opened network had when this run went on training it
        self._save_id = 0
        self._device_scan: DeviceScan | None = None
        self._serve_handle: RunHandle | None = None  # answers prompts once the run's thread has ended
        self._retired: list[RunHandle] = []  # threads of earlier runs, until they have finished
        self._run_info: dict = {}
        self._progress: dict | None = None
        self._progress_dirty = False
        self._frame_mark: tuple[float, float] | None = None
        self._next_view = 0
        self._completion_id = 0
        self._settings_note_shown = False
        self._restoring = False
        self._shown_task = ""
        self.lr_history = GrowingBuffer(2)  # (step, learning rate) as the trainer reported them
        self.last_metrics: dict | None = None

        self._build_ui()
        self._keeper = SettingsKeeper(self)
        self._connect()
        self._keeper.restore()
        self._sync_view_task()
        self._update_device_status()
        self._update_controls()
        self._update_parameter_count()
        if defer_torch:
            # torch loads on a background thread once the window has painted
            self._first_paint = _FirstPaint(self, self._start_device_scan)
            QTimer.singleShot(0, self._scan_if_not_shown)
            QTimer.singleShot(DEVICE_SCAN_FALLBACK_MS, self._start_device_scan)
        else:
            QTimer.singleShot(0, warm_up_in_background)  # once the window is up
        app = QApplication.instance()
        if app is not None:  # quitting the app without closing the window still ends every run
            app.aboutToQuit.connect(self._stop_all)

    # ------------------------------------------------------------------ layout
    def _build_ui(self) -> None:
        central = QWidget(self)
        central.setObjectName("central")
        outer = QVBoxLayout(central)
        outer.setContentsMargins(4, 4, 4, 2)  # on a 1024 wide screen every pixel goes to the plots
        outer.setSpacing(6)

        outer.addWidget(self._build_toolbar(central))
        self.messageBar = MessageBar(central)
        outer.addWidget(self.messageBar)

        self.mainSplitter = QSplitter(Qt.Orientation.Horizontal, central)
        self.mainSplitter.setObjectName("mainSplitter")
        self.mainSplitter.setChildrenCollapsible(False)
        outer.addWidget(self.mainSplitter, 1)

        # left: the settings
        scroll = QScrollArea(self.mainSplitter)
        scroll.setObjectName("settingsScroll")
        scroll.setWidgetResizable(True)
        # a narrow panel scrolls sideways rather than holding the window wider than the screen
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        settings_widget = QWidget(scroll)
        settings_layout = QVBoxLayout(settings_widget)
        settings_layout.setContentsMargins(0, 0, 6, 0)
        self.dataPanel = DataPanel(settings_widget)
        self.modelPanel = ModelPanel(settings_widget)
        self.trainingPanel = TrainingPanel(settings_widget, defer_devices=self._defer_torch)
        settings_layout.addWidget(self.dataPanel, 1)
        settings_layout.addWidget(self.modelPanel)
        settings_layout.addWidget(self.trainingPanel)
        scroll.setWidget(settings_widget)
        scroll.setMinimumWidth(SETTINGS_MIN_WIDTH)
        self.controlBar.set_pace(self.trainingPanel.paceControl)  # always in view, above the plots
        let_combos_shrink(settings_widget)  # a long item must not hold the panel wide
        self._wheel_scrolls = WheelScrollsThePanel(scroll)  # the wheel scrolls the panel, never changes a setting
        self.mainSplitter.addWidget(scroll)

        # right: the views
        views = QWidget(self.mainSplitter)
        views_layout = QVBoxLayout(views)
        views_layout.setContentsMargins(0, 0, 0, 0)
        self.viewSplitter = QSplitter(Qt.Orientation.Vertical, views)
        self.viewSplitter.setObjectName("viewSplitter")
        self.viewSplitter.setChildrenCollapsible(False)
        views_layout.addWidget(self.viewSplitter)
        top = QSplitter(Qt.Orientation.Horizontal, self.viewSplitter)
        top.setObjectName("plotSplitter")
        top.setChildrenCollapsible(False)
        self.plotSplitter = top
        self.lossView = LossView(top)
        top.addWidget(self.lossView.plot)
        self.gradientView = GradientView(top)
        top.addWidget(self.gradientView)
        self.viewSplitter.addWidget(top)
        self.bottomStack = QStackedWidget(self.viewSplitter)
        self.bottomStack.setObjectName("bottomStack")
        text_page = QSplitter(Qt.Orientation.Horizontal, self.bottomStack)
        text_page.setObjectName("textSplitter")
        text_page.setChildrenCollapsible(False)
        self.textSplitter = text_page
        self.textView = TextView(text_page)
        text_page.addWidget(self.textView)
        self.promptPanel = PromptPanel(text_page)
        text_page.addWidget(self.promptPanel)
        text_page.setSizes([560, 460])
        self.bottomStack.addWidget(text_page)
        self.sineView = SineView(self.bottomStack)
        self.bottomStack.addWidget(self.sineView.plot)
        self.viewSplitter.addWidget(self.bottomStack)
        self.viewSplitter.setStretchFactor(0, 3)
        self.viewSplitter.setStretchFactor(1, 2)
        self.mainSplitter.addWidget(views)
        self.mainSplitter.setStretchFactor(0, 0)
        self.mainSplitter.setStretchFactor(1, 1)
        self.mainSplitter.setSizes([380, 1020])
        self.plotSplitter.setSizes([470, 550])
        self.viewSplitter.setSizes([470, 330])
        self.setCentralWidget(central)

        # the names tests and checks use, as attributes too
        names = {
            self.dataPanel: (
                "taskCombo",
                "presetCombo",
                "sentencesEdit",
                "sineModeCombo",
                "sineWindowsSpin",
                "sineLengthSpin",
                "sineNoiseSpin",
            ),
            self.modelPanel: ("archCombo", "layersSpin", "hiddenSpin", "encodingCombo", "dropoutSpin"),
            self.trainingPanel: (
                "optimizerCombo",
                "lrSpin",
                "epochsSpin",
                "untilPausedCheck",
                "clipSpin",
                "seedSpin",
                "paceSlider",
                "deviceCombo",
            ),
            self.promptPanel: (
                "promptEdit",
                "lengthSpin",
                "temperatureSlider",
                "completeButton",
                "completionView",
                "completionWarning",
            ),
        }
        for panel, attributes in names.items():
            for name in attributes:
                setattr(self, name, getattr(panel, name))
        self.lossPlot = self.lossView.plot
        self.gradNormPlot = self.gradientView.plot
        self.sinePlot = self.sineView.plot

        # status bar: device, parameters, speed
        status = self.statusBar()
        self.deviceStatus = QLabel(status)
        self.deviceStatus.setObjectName("deviceStatus")
        self.parameterStatus = QLabel(status)
        self.parameterStatus.setObjectName("parameterStatus")
        self.speedStatus = QLabel(status)
        self.speedStatus.setObjectName("speedStatus")
        for label in (self.deviceStatus, self.parameterStatus, self.speedStatus):
            label.setContentsMargins(8, 0, 8, 0)
            status.addPermanentWidget(label)
        self.runStateStatus = QLabel(status)
        self.runStateStatus.setObjectName("runStateStatus")
        status.addWidget(self.runStateStatus, 1)

        # the classroom (issue 8): a window that fits the screen, projector mode, menus
        fit_window(self)
        self.projector = Projector(
            self, (self.lossView, self.gradientView, self.sineView, self.textView), self.mainSplitter
        )
        self.menus = Menus(self, self.projector)
        for name in MENU_ACTIONS:
            setattr(self, name, getattr(self.menus, name))

    def _build_toolbar(self, parent) -> QWidget:
        bar = ControlBar(parent)  # fits its width: see rnn_studio/gui/control_bar.py
        self.controlBar = bar
        run_buttons, file_buttons = [], []
        style = self.style()
        specs = (
            (
                "trainButton",
                "Train",
                QStyle.StandardPixmap.SP_MediaPlay,
                "Ctrl+Return",
                TRAIN_TIP,
            ),
            (
                "pauseButton",
                "Pause",
                QStyle.StandardPixmap.SP_MediaPause,
                "Space",
                "Pause training, or resume where it paused; you can change the learning rate meanwhile.",
            ),
            (
                "stepButton",
                "Step",
                QStyle.StandardPixmap.SP_MediaSkipForward,
                "",
                STEP_TIP,
            ),
            (
                "stopButton",
                "Stop",
                QStyle.StandardPixmap.SP_MediaStop,
                "Esc",
                "End this run; the plots and the trained network stay so you can still try prompts.",
            ),
            (
                "resetButton",
                "Reset",
                QStyle.StandardPixmap.SP_BrowserReload,
                "Ctrl+R",
                "Stop, forget the trained network and clear the plots; the next Train starts from scratch.",
            ),
        )
        font = bar.font()
        font.setPointSize(font.pointSize() + 2)
        font.setBold(True)
        for name, text, icon, keys, tip in specs:
            button = RunButton(style.standardIcon(icon), text, bar)
            button.setObjectName(name)
            button.setFont(font)
            button.setMinimumHeight(40)
            button.setMinimumWidth(104)
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            shortcut = f" ({QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText)})" if keys else ""
            tooltip(button, tip + shortcut)
            if name == "trainButton":
                self._train_keys = shortcut
            setattr(self, name, button)
            run_buttons.append(button)
        file_font = bar.font()
        file_font.setPointSize(file_font.pointSize() + 1)
        for name, action_name, text, short, icon, keys, tip, slot in (
            (
                "openModelButton",
                "openModelAction",
                "Open model…",
                "Open…",
                QStyle.StandardPixmap.SP_DialogOpenButton,
                QKeySequence.StandardKey.Open,
                "Open a network saved earlier: its settings fill the controls, it answers prompts, "
                "and Train goes on training it.",
                self._open_model_clicked,
            ),
            (
                "saveModelButton",
                "saveModelAction",
                "Save model…",
                "Save…",
                QStyle.StandardPixmap.SP_DialogSaveButton,
                QKeySequence.StandardKey.Save,
                "Save the trained network (weights, letters and settings) to a file, even while it trains.",
                self._save_model_clicked,
            ),
        ):
            action = QAction(style.standardIcon(icon), text, self)
            action.setObjectName(action_name)
            action.setIconText(short)
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            native = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{tip} ({native})" if native else tip)
            action.setWhatsThis(action.toolTip())
            action.triggered.connect(slot)
            self.addAction(action)  # the shortcut works wherever the focus is
            button = QToolButton(bar)
            button.setObjectName(name)
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setFont(file_font)
            button.setMinimumHeight(40)
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            setattr(self, action_name, action)
            setattr(self, name, button)
            file_buttons.append(button)
        self.progressBar = FittedProgressBar(bar)  # paints a shorter text when the whole does not fit
        self.progressBar.setObjectName("progressBar")
        self.progressBar.setMinimumHeight(34)
        self.progressBar.setTextVisible(True)
        progress_font = self.progressBar.font()
        progress_font.setPointSize(progress_font.pointSize() + 2)
        self.progressBar.setFont(progress_font)
        tooltip(self.progressBar, "Epochs done, time spent training and training steps per second.")
        self.logScaleCheck = QCheckBox("Log scale", bar)
        self.logScaleCheck.setObjectName("logScaleCheck")
        self.logScaleCheck.setFont(progress_font)
        tooltip(
            self.logScaleCheck,
            "Draw the loss and gradient plots on a logarithmic scale, so small changes late in training stay visible "
            "(also in the View menu).",
        )
        bar.set_parts(run_buttons, file_buttons, self.progressBar, extras=[self.logScaleCheck])
        return bar

    def _connect(self) -> None:
        self.trainButton.clicked.connect(self.train)
        self.pauseButton.clicked.connect(self.toggle_pause)
        self.stepButton.clicked.connect(self.step)
        self.stopButton.clicked.connect(self.stop)
        self.resetButton.clicked.connect(self.reset)
        # Train, Stop, Reset... are the Run menu's actions, whose shortcuts work wherever the focus
        # is (rnn_studio/gui/menus.py); Space pauses from anywhere except where it types text
        self._space_to_pause = SpaceToPause(self, self._space)
        self.projector.changed.connect(self._schedule_autosave)  # remembered between sessions
        self.logScaleCheck.toggled.connect(self._set_log)

        self.dataPanel.taskCombo.currentIndexChanged.connect(self._task_chosen)
        self.dataPanel.sineModeCombo.currentIndexChanged.connect(self._sine_mode_chosen)
        self.dataPanel.changed.connect(self._run_setting_changed)
        self.dataPanel.analysed.connect(self._update_parameter_count)
        self.dataPanel.taskCombo.currentIndexChanged.connect(self._update_parameter_count)
        self.dataPanel.limitMessage.connect(self._limit_message)
        self.dataPanel.presetLoaded.connect(self._preset_loaded)
        self.modelPanel.changed.connect(self._run_setting_changed)
        self.modelPanel.changed.connect(self._update_parameter_count)
        tp = self.trainingPanel
        tp.changed.connect(self._schedule_autosave)
        for widget in (tp.optimizerCombo, tp.seedSpin, tp.deviceCombo):
            signal = widget.currentIndexChanged if hasattr(widget, "currentIndexChanged") else widget.valueChanged
            signal.connect(self._run_setting_changed)
        tp.deviceCombo.currentIndexChanged.connect(self._update_device_status)
        tp.lrChanged.connect(self._lr_changed)
        tp.clipChanged.connect(self._clip_changed)
        tp.epochsChanged.connect(self._epochs_changed)
        tp.paceChanged.connect(self._pace_changed)
        self.promptPanel.completeRequested.connect(self.complete)
        self.promptPanel.promptEdit.textChanged.connect(self._schedule_autosave)

        self._redraw_timer = QTimer(self)
        self._redraw_timer.setInterval(REDRAW_INTERVAL_MS)
        self._redraw_timer.timeout.connect(self._redraw)

    # ------------------------------------------------------------------ settings -> config
    def build_config(self) -> RunConfig:
        """The run the controls describe; raises StudioError with a plain message."""
        data, model, training = self.dataPanel, self.modelPanel, self.trainingPanel
        cfg = defaults_for(data.task, data.sine_mode, model.arch)
        if data.task == "text":
            if data.sentencesEdit.length() > MAX_SENTENCES_CHARS:
                raise StudioError(
                    f"the sentences hold {data.sentencesEdit.length():,} characters; "
                    f"the limit is {MAX_SENTENCES_CHARS:,}"
                )
            cfg.task.sentences = clean_sentences(data.sentences_text())
        else:
            cfg.task.sine_windows = data.sineWindowsSpin.value()
            cfg.task.sine_window_len = data.sineLengthSpin.value()
            cfg.task.sine_noise = float(data.sineNoiseSpin.value())
        cfg.model.layers = model.layersSpin.value()
        cfg.model.hidden = model.hiddenSpin.value()
        cfg.model.encoding = model.encoding
        cfg.model.dropout = float(model.dropoutSpin.value())
        cfg.train.optimizer = training.optimizer
        cfg.train.lr = float(training.lrSpin.value())
        cfg.train.epochs = training.epochsSpin.value()
        cfg.train.clip = float(training.clipSpin.value())
        cfg.train.seed = training.seedSpin.value()
        cfg.train.device = training.device
        validate(cfg)
        if cfg.train.device != "cpu":
            # only listed once torch has loaded, so this never waits for it;
            # the CPU needs no check (and the worker checks again anyway)
            from ..core.devices import resolve_device

            resolve_device(cfg.train.device)
        return cfg

    # ------------------------------------------------------------------ actions
    @Slot()
    def train(self, *, step_only: bool = False) -> bool:
        """Start a run from the controls: on the opened network while they still
        describe it (with ``step_only``, on any ended network they describe),
        else on a new one. False (with a message) when it cannot."""
        if self.run_state in IN_PROGRESS:
            return False
        try:
            cfg = self.build_config()
        except StudioError as exc:
            self.show_message("error", f"Cannot start training: {_sentence(str(exc))}")
            return False
        self._cancel_open()
        goes_on = self._network_trainer(cfg, any_ended=step_only)
        note = None
        if goes_on is None and self._shown_trainer() is not None:
            verb = "Step" if step_only else "Train"
            if self._network.get("opened"):
                note = (
                    f"The settings no longer describe the opened network, so {verb} started a new network from "
                    "scratch (Open model… brings the saved one back)."
                )
            elif step_only and self.run_state == "failed":
                note = (
                    "The last run ended with an error, so Step started a new network from scratch: "
                    "one epoch, then it pauses."
                )
            elif step_only:
                note = (
                    "The settings no longer describe the network on screen, so Step started a new network from "
                    "scratch: one epoch, then it pauses."
                )
        if goes_on is not None:
            # the network moves to a new thread: every thread that held it must have ended first
            for handle in (self._handle, self._serve_handle):
                if handle is not None:
                    handle.worker.request_stop()
                    handle.wait()
            network = dict(self._network)
        else:
            network = {"config": cfg.to_dict(), "device": cfg.train.device, "opened": False}
        # going on with the network on screen keeps its plots: the new steps join them
        self._end_run(clear_views=goes_on is None)
        self._run_id = self._new_id()
        network["run"] = self._run_id
        self._network = network
        training = self.trainingPanel
        self._epoch_offset = goes_on.epoch if goes_on is not None else 0
        epochs = cfg.train.epochs + self._epoch_offset
        worker = TrainingWorker(
            self._run_id,
            None if goes_on is not None else cfg,
            trainer=goes_on,
            start_paused=step_only,
            epochs_to_step=1 if step_only else 0,
            until_paused=training.untilPausedCheck.isChecked(),
            epochs=epochs,
            pace=training.pace,
        )
        if goes_on is not None:
            worker.request_lr(cfg.train.lr)  # applied before its first step
            worker.request_clip(cfg.train.clip)
        self._wire(worker)
        self._handle = RunHandle(worker, self)
        self._handle.thread.finished.connect(self._thread_finished)
        self._run_info = {"task": cfg.task.kind, "mode": cfg.task.sine_mode, "epochs": epochs}
        if goes_on is None:
            self._prepare_views(cfg)
        else:
            self.gradientView.set_clip(cfg.train.clip)
            self._sync_view_task()
            self._show_progress()
        self._settings_note_shown = False
        self.messageBar.dismiss()  # whatever it said was about the last run or the last try
        if note:
            self.show_message("info", note)
        self.run_state = "paused" if step_only else "running"
        self._handle.start()
        self._frame_mark = None
        self._redraw_timer.start(REDRAW_INTERVAL_MS)
        self._update_controls()
        return True

    @Slot()
    def toggle_pause(self) -> None:
        if self.run_state == "running":
            self._handle.worker.request_pause()
            self.run_state = "paused"
        elif self.run_state == "paused":
            if self.messageBar.kind == "error":
                self.messageBar.dismiss()
            self._handle.worker.request_resume()
            self.run_state = "running"
        self._update_controls()

    @Slot()
    def step(self) -> None:
        """One epoch: of the paused run; of the ended run's network while the
        controls still describe it; else of a new run. Then it pauses."""
        if self.run_state == "paused":
            if self.messageBar.kind == "error":
                self.messageBar.dismiss()
            self._handle.worker.request_step()
        elif self.run_state not in IN_PROGRESS:
            self.train(step_only=True)

    @Slot()
    def stop(self) -> None:
        """End the run: the flag, then quit and wait. The network stays for prompts."""
        if self.run_state not in IN_PROGRESS or self._handle is None:
            return
        self._handle.stop(STOP_WAIT_MS)
        self.run_state = "stopped"
        self._update_controls()

    @Slot()
    def reset(self) -> None:
        """Stop and forget the run; the next Train starts from scratch."""
        self._cancel_open()
        self._network = None
        self._end_run(clear_views=True)
        self.run_state = "idle"
        self.messageBar.dismiss()
        self._update_controls()
        self._update_parameter_count()

    @Slot(str, int, float)
    def complete(self, prompt: str, length: int, temperature: float) -> None:
        """Ask the network for a completion; the answer arrives as a signal."""
        if self._view_task() != "text":
            self.promptPanel.show_warning("Prompts need the text task: the sine network predicts numbers, not letters.")
            return
        if self._handle is None or self.run_state == "idle":
            self.promptPanel.show_warning("There is no trained network yet: press Train first.")
            return
        self._completion_id += 1
        request = {
            "id": self._completion_id,
            "prompt": prompt,
            "length": length,
            "temperature": temperature,
            "seed": self._completion_id,
        }
        if not self._ask_network("complete", request):
            self.promptPanel.show_warning("There is no trained network yet: press Train first.")

    def _ask_network(self, kind: str, request: dict) -> bool:
        """Post a request ("complete" or "save") to the thread that holds the
        network: the run's own worker while it lives, else a short-lived
        serve-only worker, so the model is touched by one thread at a time."""

        def post(worker: TrainingWorker) -> bool:
            return worker.request_completion(request) if kind == "complete" else worker.request_save(request)

        if self._handle is None:
            return False
        if post(self._handle.worker):
            return True
        if self._serve_handle is not None and post(self._serve_handle.worker):
            return True
        trainer = self._handle.worker.trainer
        if trainer is None:
            return False
        self._handle.wait()
        if self._serve_handle is not None:
            self._serve_handle.wait()
            self._retire(self._serve_handle)
        worker = TrainingWorker(self._run_id, trainer=trainer, train=False)
        post(worker)
        worker.completed.connect(self._on_completed)
        worker.saved.connect(self._on_saved)
        self._serve_handle = RunHandle(worker, self)
        self._serve_handle.thread.finished.connect(self._thread_finished)
        self._serve_handle.start()
        return True

    # ------------------------------------------------------------------ files
    def _model_folder(self) -> str:
        folder = self._keeper.model_folder()
        return folder if folder and os.path.isdir(folder) else os.path.expanduser("~")

    def _remember_folder(self, path: str) -> None:
        self._keeper.remember_folder(os.path.dirname(os.path.abspath(path)))

    @Slot()
    def _save_model_clicked(self) -> None:
        if not self._has_network():
            self.save_model("")  # explains that there is nothing to save yet
            return
        name = "sine-model.pt" if self._view_task() == "sine" else "text-model.pt"
        path, _ = QFileDialog.getSaveFileName(
            self, "Save model", os.path.join(self._model_folder(), name), MODEL_FILTER
        )
        if path:
            if not os.path.splitext(path)[1]:
                path += ".pt"
            self.save_model(path)

    @Slot()
    def _open_model_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open model", self._model_folder(), MODEL_FILTER)
        if path:
            self.open_model(path)

    def _has_network(self) -> bool:
        return self._handle is not None and self.run_state != "idle"

    def save_model(self, path: str) -> bool:
        """Write the current network to ``path`` (atomic). The network's own
        thread saves it, between two steps if it is training; ``modelSaved``
        (and a line in the message bar) tells how it went. False when there is
        nothing to save."""
        if not self._has_network():
            text = "There is no trained network to save yet: press Train first, or open a saved model."
            self.show_message("warning", text)
            self.modelSaved.emit(path, text)
            return False
        if not path or not path.strip():
            text = "No file name was given, so nothing was saved."
            self.show_message("warning", text)
            self.modelSaved.emit(path, text)
            return False
        self._save_id += 1
        request = {"id": self._save_id, "path": os.path.abspath(path)}
        if not self._ask_network("save", request):
            text = "There is no trained network to save yet: press Train first, or open a saved model."
            self.show_message("warning", text)
            self.modelSaved.emit(path, text)
            return False
        return True

    @Slot(object)
    def _on_saved(self, reply: dict) -> None:
        path, error = reply.get("path", ""), reply.get("error")
        if error:
            self.show_message("error", f"The model was not saved: {_sentence(error)}")
            self.modelSaved.emit(path, error)
            return
        self._remember_folder(path)
        epoch = reply.get("epoch")
        when = f" after {epoch:,} epoch{'s' if epoch != 1 else ''}" if isinstance(epoch, int) else ""
        written = reply.get("written") or path
        where = f"{written} (through the link {path})" if written != path else path
        self.show_message("info", f"Saved the network{when} to {where}. Open model… brings it back.")
        self.modelSaved.emit(path, "")

    def open_model(self, path: str) -> bool:
        """Load the checkpoint at ``path`` in a worker thread; ``modelOpened``
        tells how it went. Until it has loaded nothing in the window changes,
        and a file that cannot be used changes nothing at all. False (with a
        message) only while another model is still being opened."""
        self._cancel_open()  # a newer Open model… wins: the file still loading is dropped
        refusal = _blocking_file(path)
        if refusal:  # a pipe or a device would block the thread that reads it: no thread reads it
            self.show_message("error", f"Could not open the model: {refusal} Nothing in the window was changed.")
            QTimer.singleShot(0, lambda: self.modelOpened.emit(path, refusal))  # as a load that failed would
            return True
        worker = TrainingWorker(self._new_id(), train=False, load_path=os.path.abspath(path) if path else "")
        worker.loaded.connect(self._on_model_loaded)
        worker.predictions.connect(self._on_predictions)
        worker.completed.connect(self._on_completed)
        worker.saved.connect(self._on_saved)
        worker.ended.connect(self._on_open_ended)
        self._loader = RunHandle(worker, self)
        self._loader.thread.finished.connect(self._thread_finished)
        self._loader.start()
        self.runStateStatus.setText(f"Opening {os.path.basename(path)}…")
        self._update_file_actions()
        return True

    def _cancel_open(self) -> None:
        """A newer action wins over a model still being opened."""
        if self._loader is not None:
            loader, self._loader = self._loader, None
            loader.worker.request_stop()
            self._retire(loader)
            self._update_file_actions()

    @Slot(object)
    def _on_model_loaded(self, info: dict) -> None:
        if self._loader is None or info.get("run") != self._loader.worker.run_id:
            return  # opening was cancelled by a newer Train, Reset or Open
        handle, self._loader = self._loader, None
        self._end_run(clear_views=True)  # the opened network replaces the current one
        # the file's own settings: the fallbacks of loading (a text file that is gone) are not the user's
        cfg = RunConfig.from_dict(info.get("saved_config") or info["config"])
        epoch, epochs = int(info["epoch"]), int(cfg.train.epochs)
        self.run_state = "finished" if epoch >= epochs else "stopped"
        self._run_id = info["run"]
        self._handle = handle
        path = info["path"]
        kept_sentences = self._apply_opened_config(cfg, info["device"])
        self._network = {"run": self._run_id, "config": cfg.to_dict(), "device": info["device"], "opened": True}
        name = os.path.basename(path)
        self._run_info = {
            "task": info["task"],
            "mode": info["mode"],
            "epochs": epochs,
            "parameters": info["parameters"],
            "device": info["device"],
            "vocab_size": info["vocab_size"],
            "opened": name,
            "epoch": epoch,
            "steps": info["steps"],
        }
        self._sync_view_task()
        self.lossView.set_task(info["task"], info["vocab_size"])
        self.sineView.reset(info["mode"] if info["task"] == "sine" else self.dataPanel.sine_mode)
        self.gradientView.set_clip(cfg.train.clip)
        self._remember_folder(path)
        self._update_controls()
        self._update_parameter_count()
        what = ARCH_LABELS.get(cfg.model.arch, cfg.model.arch)
        task = "sentences" if info["task"] == "text" else "the sine wave"
        article = "an" if what[:1] in "AEIOLR" else "a"
        text = (
            f"Opened {name}: {article} {what} trained on {task} for {epoch:,} epoch{'s' if epoch != 1 else ''}. "
            "Its settings are in the controls; try a prompt, or press Train to go on training it."
        )
        if kept_sentences:
            source = f"the text file {cfg.task.text_file}" if cfg.task.text_file else "a text file"
            text += (
                f" It was trained on {source}, which the sentence box cannot show: your sentences stay, "
                "and Train starts a new network on them."
            )
        elif info["task"] == "text":
            text += " Ctrl+Z in the sentence box brings back the sentences you had."
        for note in info.get("notes") or ():
            text += f" Note: {note}."
        self.show_message("info", text)
        self._schedule_autosave()
        self.modelOpened.emit(path, "")

    def _apply_opened_config(self, cfg: RunConfig, device: str) -> bool:
        """Set the controls from an opened network's settings; True when the
        sentences were kept (a network trained on a text file)."""
        d, t = self.dataPanel, self.trainingPanel
        kept_sentences = False
        self._restoring = True  # no task defaults, no autosave, no "takes effect" note
        try:
            d.set_task(cfg.task.kind)
            if cfg.task.kind == "sine":
                d.set_sine_mode(cfg.task.sine_mode)
            elif cfg.task.text_file or not cfg.task.sentences:
                kept_sentences = True
            else:
                text = "\n".join(cfg.task.sentences)
                try:
                    same = clean_sentences(d.sentences_text()) == clean_sentences(text)
                except StudioError:
                    same = False
                if not same:
                    d.sentencesEdit.replace_all(text)  # one undoable edit: Ctrl+Z brings the user's back
                d.analyse()
            self._show_settings(cfg)
            t.set_device(_device_name(device))
        finally:
            self._restoring = False
        return kept_sentences

    def _shown_trainer(self):
        """The trainer of the network on screen (an ended run, or an opened
        file); None while a run is in progress or when there is none."""
        network = self._network
        if (
            network is None
            or self._handle is None
            or network.get("run") != self._run_id
            or self.run_state in IN_PROGRESS
            or self.run_state == "idle"
        ):
            return None
        return self._handle.worker.trainer

    def _network_trainer(self, cfg: RunConfig, *, any_ended: bool = False):
        """The trainer to go on training when the controls (``cfg``) still
        describe the network on screen: an opened network (what Train does), or
        with ``any_ended`` the network of a finished or stopped run (what Step
        does). None otherwise."""
        trainer = self._shown_trainer()
        network = self._network
        if trainer is None:
            return None
        if not network.get("opened") and not (any_ended and self.run_state in ("finished", "stopped")):
            return None
        if not _same_network(network["config"], cfg.to_dict()):
            return None
        if _device_name(network["device"]) != _device_name(cfg.train.device):
            return None
        return trainer

    @Slot(object)
    def _on_open_ended(self, event: dict) -> None:
        loader = self._loader
        if loader is None or event.get("run") != loader.worker.run_id:
            return  # it loaded (and became the current network), or was cancelled
        self._loader = None
        loader.wait()
        self._retire(loader)
        path = loader.worker.load_path or ""
        message = event.get("message") or "the file could not be read"
        self.show_message(
            "error", f"Could not open the model: {_sentence(message)} Nothing in the window was changed."
        )
        self._update_controls()
        self.modelOpened.emit(path, message)

    def _space(self) -> None:
        """Space: pause or resume, whatever has the focus (rnn_studio/gui/keys.py
        decides where Space types text instead); the focused control is left alone."""
        self.toggle_pause()

    # ------------------------------------------------------------------ run plumbing
    def _wire(self, worker: TrainingWorker) -> None:
        worker.runStarted.connect(self._on_run_started)
        worker.metrics.connect(self._on_metrics)
        worker.predictions.connect(self._on_predictions)
        worker.completed.connect(self._on_completed)
        worker.paused.connect(self._on_paused)
        worker.warned.connect(self._on_warned)
        worker.ended.connect(self._on_ended)
        worker.saved.connect(self._on_saved)

    def _new_id(self) -> int:
        self._last_id += 1
        return self._last_id

    def _end_run(self, clear_views: bool) -> None:
        """Stop whatever runs and let go of the current run."""
        for handle in (self._handle, self._serve_handle):
            if handle is not None:
                handle.stop(STOP_WAIT_MS)
                self._retire(handle)
        self._handle = None
        self._serve_handle = None
        self._run_info = {}
        self._progress = None
        self._redraw_timer.stop()
        if clear_views:
            self._clear_views()

    def _retire(self, handle: RunHandle) -> None:
        if handle.is_running():
            if handle not in self._retired:
                self._retired.append(handle)
        else:
            handle.discard()

    @Slot()
    def _thread_finished(self) -> None:
        for handle in list(self._retired):
            if not handle.is_running():
                self._retired.remove(handle)
                handle.discard()

    def _stop_all(self) -> bool:
        """Stop every thread this window started, waiting at most
        ``CLOSE_WAIT_MS`` for all of them; True when all have ended."""
        handles = [h for h in (self._handle, self._serve_handle, self._loader, *self._retired) if h is not None]
        for handle in handles:
            handle.worker.request_stop()
        deadline = time.perf_counter() + CLOSE_WAIT_MS / 1000.0
        ok = True
        for handle in handles:
            remaining = max(1, int((deadline - time.perf_counter()) * 1000))
            if not handle.wait(remaining):
                ok = False
                self._abandon(handle)
        return ok

    def _abandon(self, handle: RunHandle) -> None:
        """Give up on a thread that did not end in time (a step longer than the
        deadline, a file read that blocks): never terminate() it, and never let
        a running QThread be destroyed, which aborts the process. Its QThread
        passes to the main thread's QThread object (owned by C++, it outlives
        every window and Python's own clean-up) and is freed once it ends."""
        name = handle.thread.objectName()
        log.warning("RNN Studio: thread %s did not end within %d ms; leaving it to end on its own", name,
                    CLOSE_WAIT_MS)
        for attribute in ("_handle", "_serve_handle", "_loader"):
            if getattr(self, attribute) is handle:
                setattr(self, attribute, None)
        if handle in self._retired:
            self._retired.remove(handle)
        thread = handle.thread
        try:
            thread.finished.disconnect(self._thread_finished)
        except (RuntimeError, TypeError):
            pass
        thread.setParent(QThread.currentThread())
        _abandoned.append(handle)
        thread.finished.connect(thread.deleteLater)  # Qt's own pattern: freed by the GUI thread once ended
        thread.finished.connect(lambda: _abandoned.remove(handle) if handle in _abandoned else None)

    # ------------------------------------------------------------------ worker signals
    def _current(self, payload: dict) -> bool:
        return payload.get("run") == self._run_id and self._handle is not None

    @Slot(object)
    def _on_run_started(self, info: dict) -> None:
        if not self._current(info):
            return
        self._run_info.update(info)
        self._update_parameter_count()
        self.lossView.set_task(info["task"], info.get("vocab_size"))
        self._update_device_status()

    @Slot(object)
    def _on_metrics(self, metrics: dict) -> None:
        if not self._current(metrics):
            return
        steps = metrics["step"]
        self.lossView.append(steps, metrics["loss"])
        self.gradientView.append(steps, metrics["grad_norm"])
        self.lr_history.extend(steps, metrics["lr"])
        self.gradientView.set_param_norms(metrics["param_grad_norms"])
        self.gradientView.set_time_norms(metrics["time_grad_norms"])
        self.last_metrics = metrics
        self._progress = metrics
        self._progress_dirty = True

    @Slot(object)
    def _on_predictions(self, data: dict) -> None:
        if not self._current(data):
            return
        view = {"sine": self.sineView, "text": self.textView}.get(data.get("kind"))
        if view is None:
            return
        view.show_predictions(data)
        if not self._redraw_timer.isActive():  # no run is drawing (an opened network): show it now
            view.redraw()

    @Slot(object)
    def _on_completed(self, reply: dict) -> None:
        if reply.get("run") != self._run_id or reply.get("id") != self._completion_id:
            return  # an answer from an earlier run, or to an earlier question
        self.promptPanel.show_result(reply)

    @Slot(object)
    def _on_paused(self, event: dict) -> None:
        if not self._current(event) or self.run_state not in IN_PROGRESS:
            return
        if event["reason"] != "request" or self.run_state == "paused":
            self.run_state = "paused"
            if event["reason"] == "diverged":
                self.show_message("error", event["message"])
                self.trainingPanel.lrSpin.setFocus()
            self._redraw(force=True)
            self._update_controls()
            self.workerPaused.emit(event["reason"])

    @Slot(object)
    def _on_warned(self, event: dict) -> None:
        if not self._current(event):
            return
        self.show_message(
            "warning",
            f"Warning: {_sentence(event['message'])} Lower it (it can change "
            "while training runs) or turn on gradient clipping.",
        )

    @Slot(object)
    def _on_ended(self, event: dict) -> None:
        if event.get("serve_only") or not self._current(event):
            return
        state, message = event["state"], event.get("message", "")
        if state == "rejected":
            self.run_state = "idle"
            self._handle.wait()
            self._retire(self._handle)
            self._handle = None
            self.show_message("error", f"Cannot start training: {_sentence(message)}")
        elif state == "failed":
            self.run_state = "failed"
            self.show_message(
                "error",
                f"Training stopped because of an error inside the trainer: {_sentence(message)} "
                "The studio still works: change a setting and press Train to try again.",
            )
        elif state == "finished":
            self.run_state = "finished"
        elif self.run_state in IN_PROGRESS:
            self.run_state = "stopped"
        self._redraw(force=True)
        self._redraw_timer.stop()
        self._update_controls()

    # ------------------------------------------------------------------ live settings
    def _live_worker(self) -> TrainingWorker | None:
        if self._handle is not None and self.run_state in IN_PROGRESS:
            return self._handle.worker
        return None

    def _lr_changed(self, value: float) -> None:
        worker = self._live_worker()
        if worker is not None:
            worker.request_lr(value)

    def _clip_changed(self, value: float) -> None:
        self.gradientView.set_clip(value)
        worker = self._live_worker()
        if worker is not None:
            worker.request_clip(value)

    def _epochs_changed(self, epochs: int, until_paused: bool) -> None:
        worker = self._live_worker()
        if worker is not None:
            epochs += self._epoch_offset  # an opened network trains this many more
            worker.request_epochs(epochs, until_paused)
            self._run_info["epochs"] = epochs
            self._progress_dirty = True

    def _pace_changed(self, pace: float) -> None:
        worker = self._live_worker()
        if worker is not None:
            worker.request_pace(pace)

    def _set_log(self, on: bool) -> None:
        self.lossView.set_log(on)
        self.gradientView.set_log(on)
        self._schedule_autosave()

    def _task_chosen(self, *_args) -> None:
        """Another task: load its recommended (seed) settings."""
        if self._restoring or self.run_state in IN_PROGRESS:
            return
        dropped = self._view_task() if self.run_state != "idle" else None
        if dropped is not None:
            self.reset()  # the ended run's views belong to the other task
        self._apply_defaults(defaults_for(self.dataPanel.task, self.dataPanel.sine_mode))
        self._sync_view_task()
        if dropped is not None:
            names = {"text": "text", "sine": "sine wave"}
            self.show_message(
                "info",
                f"Switching to the {names.get(self.dataPanel.task, self.dataPanel.task)} task cleared the last "
                f"run: its {names.get(dropped, dropped)} network and its plots are gone (Save model… keeps a "
                "network before you switch). The task's recommended settings are loaded: press Train to start.",
            )

    def _sine_mode_chosen(self, *_args) -> None:
        if self._restoring or self.run_state in IN_PROGRESS or self.dataPanel.task != "sine":
            return
        self._apply_defaults(defaults_for("sine", self.dataPanel.sine_mode))

    def _apply_defaults(self, cfg: RunConfig) -> None:
        """Set every control the task's defaults define (seed 003's sequence
        needs its seed: most other seeds stall). The sentences and the device
        stay the user's."""
        self._show_settings(cfg)

    def _show_settings(self, cfg: RunConfig) -> None:
        """Put a config's sine data, model and training settings in the
        controls (the sentences, task and device are each caller's own)."""
        d, m, t = self.dataPanel, self.modelPanel, self.trainingPanel
        if cfg.task.kind == "sine":
            d.sineWindowsSpin.setValue(cfg.task.sine_windows)
            d.sineLengthSpin.setValue(cfg.task.sine_window_len)
            d.sineNoiseSpin.setValue(cfg.task.sine_noise)
        m.set_arch(cfg.model.arch)
        m.layersSpin.setValue(cfg.model.layers)
        m.hiddenSpin.setValue(cfg.model.hidden)
        m.set_encoding(cfg.model.encoding)
        m.dropoutSpin.setValue(cfg.model.dropout)
        t.set_optimizer(cfg.train.optimizer)
        t.lrSpin.setValue(cfg.train.lr)
        t.epochsSpin.setValue(cfg.train.epochs)
        t.clipSpin.setValue(cfg.train.clip)
        t.seedSpin.setValue(cfg.train.seed)

    def _run_setting_changed(self, *_args) -> None:
        self._schedule_autosave()
        if self._restoring:
            return
        if self._network is not None and self._network.get("opened"):
            self._update_train_tip()
        if self.run_state not in IN_PROGRESS:
            self.modelPanel.encodingCombo.setEnabled(self.dataPanel.task == "text")
            self.dataPanel.sineWindowsSpin.setEnabled(self.dataPanel.sine_mode == "next-value")
        if self.run_state == "idle":
            if self._view_task() != self._shown_task:
                self._sync_view_task()
        elif not self._settings_note_shown and self.messageBar.isHidden():
            self._settings_note_shown = True
            self.show_message(
                "info",
                "The changed settings take effect when you press Train (a new run) "
                "or Reset; the plots show the run as it started.",
            )

    def _limit_message(self, text: str) -> None:
        self.show_message("warning", text)

    def _preset_loaded(self, explanation: str) -> None:
        self.show_message("info", explanation)

    # ------------------------------------------------------------------ views
    def _view_task(self) -> str:
        return self._run_info.get("task") or self.dataPanel.task

    def _sync_view_task(self) -> None:
        task = self._view_task()
        self._shown_task = task
        self.bottomStack.setCurrentIndex(0 if task == "text" else 1)
        self.promptPanel.set_text_task(task == "text")
        self.gradientView.set_task(task)
        if self.run_state == "idle":
            self.lossView.set_task(task, None)
            self.sineView.reset(self.dataPanel.sine_mode)

    def _prepare_views(self, cfg: RunConfig) -> None:
        self._clear_views()
        vocab = self.dataPanel.vocab_size() if cfg.task.kind == "text" else None
        self.lossView.set_task(cfg.task.kind, vocab)
        self.sineView.reset(cfg.task.sine_mode)
        self.gradientView.set_clip(cfg.train.clip)
        self._sync_view_task()
        self._show_progress()

    def _clear_views(self) -> None:
        self.lossView.reset()
        self.lossView.set_task(self.dataPanel.task, None)
        self.gradientView.reset()
        self.sineView.reset(self.dataPanel.sine_mode)
        self.textView.clear_reading()
        self.lr_history.clear()
        self.last_metrics = None
        self._progress = None
        self._show_progress()
        self.speedStatus.setText("")

    @Slot()
    def _redraw(self, force: bool = False) -> None:
        """Push changed data to the views. A timer tick redraws one view with new
        data, taking turns, so one paint never blocks the GUI thread for long;
        ``force`` (pauses and ends) redraws them all."""
        views = (self.lossView, self.gradientView, self.sineView, self.textView)
        if force:
            self.lossView.redraw()
            self.gradientView.redraw(force=True)
            self.sineView.redraw()
            self.textView.redraw()
        else:
            self._pace_redraws()
            for offset in range(len(views)):
                index = (self._next_view + offset) % len(views)
                if views[index].redraw():
                    self._next_view = (index + 1) % len(views)
                    break
        if self._progress_dirty:
            self._progress_dirty = False
            self._show_progress()

    def _pace_redraws(self) -> None:
        """Adapt the redraw interval to what drawing costs on this machine: the
        GUI thread's CPU time since the last frame over the wall time."""
        now, cpu = time.perf_counter(), time.thread_time()
        last = self._frame_mark
        self._frame_mark = (now, cpu)
        if last is None or not self._redraw_timer.isActive():
            return
        wall = now - last[0]
        if wall <= 0:
            return
        busy = (cpu - last[1]) / wall
        target = GUI_BUSY_TARGET if self.trainingPanel.pace <= 0 else PACED_GUI_BUSY_TARGET
        interval = self._redraw_timer.interval()
        if busy > target:
            interval = min(MAX_REDRAW_INTERVAL_MS, int(interval * 1.5) + 1)
        elif busy < target / 2:
            interval = max(REDRAW_INTERVAL_MS, int(interval / 1.25))
        if interval != self._redraw_timer.interval():
            self._redraw_timer.setInterval(interval)

    def _show_progress(self) -> None:
        bar = self.progressBar
        metrics = self._progress
        if metrics is None:
            opened = self._run_info.get("opened")
            if opened and self.run_state not in IN_PROGRESS:
                bar.setRange(0, 1)
                bar.setValue(1)
                bar.setFormat(f"Opened {opened}: trained for {self._run_info.get('epoch', 0):,} epochs")
                return
            bar.setRange(0, 1)
            bar.setValue(0)
            bar.setFormat("Ready: press Train" if self.run_state == "idle" else "Starting…")
            return
        epoch, epochs = metrics["epoch"], max(0, int(metrics["epochs"] or 0))
        rate = metrics["steps_per_s"]
        elapsed = _format_elapsed(metrics["elapsed"])
        if metrics["until_paused"]:
            bar.setRange(0, 1)
            bar.setValue(0)
            text = f"Epoch {epoch:,} (until paused)"
        else:
            if epochs < 2**31:
                bar.setRange(0, max(1, epochs))
                bar.setValue(min(epoch, max(1, epochs)))
            else:  # QProgressBar counts in 32 bits: show a fraction instead
                bar.setRange(0, PROGRESS_STEPS)
                bar.setValue(round(PROGRESS_STEPS * min(1.0, epoch / epochs)))
            text = f"Epoch {epoch:,} / {epochs:,}"
        prefix = {
            "paused": "Paused: ",
            "stopped": "Stopped: ",
            "failed": "Stopped by an error: ",
            "finished": "Finished: ",
        }.get(self.run_state, "")
        bar.setFormat(f"{prefix}{text}  ·  {elapsed}  ·  {rate:,.0f} steps/s")
        self.speedStatus.setText(f"{rate:,.0f} steps/s")

    def show_message(self, kind: str, text: str) -> None:
        """Explain something in the window itself (not a modal box)."""
        self.messageBar.show_message(kind, text)

    def message_text(self) -> str:
        return self.messageBar.text()

    # ------------------------------------------------------------------ controls state
    def _update_controls(self) -> None:
        state = self.run_state
        in_progress = state in IN_PROGRESS
        self.trainButton.setEnabled(not in_progress)
        self.pauseButton.setEnabled(in_progress)
        paused = state == "paused"
        self.pauseButton.setText("Resume" if paused else "Pause")
        self.pauseButton.setIcon(
            self.style().standardIcon(
                QStyle.StandardPixmap.SP_MediaPlay if paused else QStyle.StandardPixmap.SP_MediaPause
            )
        )
        self.pauseButton.setToolTip(
            "Continue training from where it paused (Space)."
            if paused
            else "Pause training; you can change the learning rate meanwhile (Space)."
        )
        self.stepButton.setEnabled(state != "running")
        self.stopButton.setEnabled(in_progress)
        self._update_train_tip()
        self._update_file_actions()
        for widget in self.dataPanel.run_widgets + self.modelPanel.run_widgets + self.trainingPanel.run_widgets:
            widget.setEnabled(not in_progress)
        # settings the chosen task does not use are greyed out too
        if not in_progress:
            self.modelPanel.encodingCombo.setEnabled(self.dataPanel.task == "text")
            self.dataPanel.sineWindowsSpin.setEnabled(self.dataPanel.sine_mode == "next-value")
        words = {
            "idle": "Ready",
            "running": "Training…",
            "paused": "Paused",
            "finished": "Finished",
            "stopped": "Stopped",
            "failed": "Stopped by an error",
        }
        self.runStateStatus.setText(words.get(state, state))
        self._show_progress()
        self._update_device_status()
        if state != self._announced_state:  # announced once the controls match it
            self._announced_state = state
            self.runStateChanged.emit(state)

    def _update_train_tip(self) -> None:
        """Say what Train will do: go on training an opened network while the
        controls still describe it, else start a new one."""
        goes_on = False
        network = self._network
        if network is not None and network.get("opened") and self._shown_trainer() is not None:
            try:
                goes_on = self._network_trainer(self.build_config()) is not None
            except StudioError:
                goes_on = False
        tooltip(self.trainButton, (TRAIN_OPENED_TIP if goes_on else TRAIN_TIP) + self._train_keys)

    def _update_file_actions(self) -> None:
        self.saveModelAction.setEnabled(self._has_network())
        self.openModelAction.setEnabled(True)  # a newer Open model… replaces one still loading

    # ------------------------------------------------------------------ devices (defer_torch)
    @Slot()
    def _scan_if_not_shown(self) -> None:
        if not self.isVisible():  # built but not shown (tests, scripts): nothing to paint first
            self._start_device_scan()

    @Slot()
    def _start_device_scan(self) -> None:
        if self._device_scan is not None or self.trainingPanel.devices_ready:
            return
        # no parent: the scan thread may still hold it when the window is gone
        self._device_scan = DeviceScan()
        self._device_scan.found.connect(self._devices_found)
        self._device_scan.start()

    @Slot(object)
    def _devices_found(self, choices: dict) -> None:
        # a device restored from the settings is chosen now, unless a run already uses another
        apply = self.run_state not in IN_PROGRESS
        self._restoring = True
        try:
            self.trainingPanel.set_devices(choices["devices"], choices["unavailable"], apply_pending=apply)
        finally:
            self._restoring = False
        self._update_device_status()
        if choices.get("error"):
            self.show_message(
                "warning",
                f"PyTorch could not list the graphics cards ({choices['error']}); training runs on the CPU.",
            )
        self.devicesListed.emit()

    def _update_device_status(self, *_args) -> None:
        combo = self.trainingPanel.deviceCombo
        device = self._run_info.get("device")
        label = combo.currentText()
        if device is not None:
            index = combo.findData(device)
            label = combo.itemText(index) if index >= 0 else device
        self.deviceStatus.setText(f"Device: {label}")

    def _update_parameter_count(self, *_args) -> None:
        """The status bar counts the network on screen; the model panel counts
        the one the controls describe, marked as the next run's when they differ."""
        shown = self._run_info.get("parameters") if self.run_state != "idle" else None
        if shown is not None and self.run_state in IN_PROGRESS:  # the controls are locked: the same network
            self.modelPanel.show_count(shown)
            self.parameterStatus.setText(f"Parameters: {shown:,}")
            return
        count, too_big = None, None
        try:
            task = self.dataPanel.task
            cfg = defaults_for(task, self.dataPanel.sine_mode, self.modelPanel.arch)
            cfg.model.layers = self.modelPanel.layersSpin.value()
            cfg.model.hidden = self.modelPanel.hiddenSpin.value()
            cfg.model.encoding = self.modelPanel.encoding
            vocab = self.dataPanel.vocab_size() if task == "text" else 1
            if task != "text" or vocab > 1:
                count = count_parameters(cfg.model, task, vocab)
                try:
                    check_fits(cfg.model, vocab, vocab, text=task == "text")
                except StudioError as exc:
                    too_big = str(exc)
        except (StudioError, KeyError):
            count = None
        self.modelPanel.show_count(count, too_big, on_screen=shown)
        status = shown if shown is not None else count
        self.parameterStatus.setText("Parameters: –" if status is None else f"Parameters: {status:,}")

    # ------------------------------------------------------------------ persistence (SettingsKeeper decides)
    @contextmanager
    def restoring(self):
        """Controls set from saved settings, not edited: no task defaults, no autosave, no notes."""
        self._restoring = True
        try:
            yield
        finally:
            self._restoring = False

    def _schedule_autosave(self, *_args) -> None:
        if not self._restoring:
            self._keeper.schedule()

    def save_settings(self, geometry: bool = False) -> None:
        """Write what the user typed and chose now (only what changed); never raises."""
        self._keeper.save(geometry=geometry)

    # ------------------------------------------------------------------ closing
    def closeEvent(self, event: QCloseEvent) -> None:
        """Save, disappear at once, then end any run (within about a second
        unless one training step takes longer: the worker stops between steps)."""
        self._redraw_timer.stop()
        self._keeper.close()  # saves, marks the session closed and frees this window's settings slot
        self.hide()  # the user sees the window go now, even while a long step finishes
        self.closed_cleanly = self._stop_all()
        if self.run_state in IN_PROGRESS:
            self.run_state = "stopped"
        super().closeEvent(event)

    # ------------------------------------------------------------------ for tests and benchmarks
    @property
    def run_thread(self):
        """The current run's QThread (None before the first run)."""
        return self._handle.thread if self._handle is not None else None

    @property
    def worker(self) -> TrainingWorker | None:
        return self._handle.worker if self._handle is not None else None

    def threads(self) -> list:
        """Every QThread this window started that has not been freed yet."""
        handles = [h for h in (self._handle, self._serve_handle, self._loader, *self._retired) if h is not None]
        return [h.thread for h in handles]


def _device_name(device: str) -> str:
    """'cuda' and 'cuda:0' are the same card; the list names it 'cuda:0'."""
    device = (device or "cpu").strip().lower()
    return "cuda:0" if device == "cuda" else device


def _blocking_file(path: str) -> str:
    """Why reading ``path`` could block ("" when it cannot): opening a FIFO
    waits for a writer, a device may never answer. Such files are refused
    before any thread touches them (the core refuses them too); a missing
    file or a folder is left to the core's own message."""
    if not path:
        return ""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return ""
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return ""
    return f"{path} is not a regular file (a pipe, device or socket), so it cannot be a saved model."


def _same_network(saved: dict, built: dict) -> bool:
    """Do the controls (``built``) describe the network whose settings were
    ``saved``? Compares what defines a network, not what may change while it
    trains (learning rate, epochs, clip)."""
    try:
        a, b = saved["task"], built["task"]
        if a.get("kind") != b.get("kind") or a.get("text_file") or b.get("text_file"):
            return False
        if b["kind"] == "text":
            if clean_sentences(a.get("sentences") or []) != b["sentences"]:
                return False
            keys = ("window", "batch_size")
        else:
            keys = ("sine_mode", "sine_windows", "sine_window_len", "sine_noise")
        if any(not _same_value(a.get(k), b.get(k)) for k in keys):
            return False
        model_a, model_b = saved["model"], built["model"]
        if set(model_a) != set(model_b) or any(not _same_value(model_a[k], model_b[k]) for k in model_b):
            return False
        return all(saved["train"].get(k) == built["train"].get(k) for k in ("optimizer", "seed"))
    except (KeyError, TypeError, AttributeError, StudioError):
        return False


def _same_value(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
        except (TypeError, ValueError):
            return False
    return a == b


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
