"""The studio window: layout and wiring, nothing else.

Panels (rnn_studio/gui/panels/) hold the widgets. The window builds them into
a layout and connects signals to the objects that decide things:

- ``Runner`` (runner.py) owns every thread (runs, serve-only workers, model
  loaders) and the network on screen, and emits typed ``core.events``;
- ``LiveViews`` (redraw.py) feeds the plots and the reading those events and
  redraws them on a paced timer, in frames that show one epoch;
- ``StatusDisplay`` (status_display.py): the progress bar, the status bar and
  the run's messages;
- ``Controls`` (controls.py): the settings the controls describe, task
  defaults, what a run locks, what Train will do;
- ``FileActions`` (file_actions.py): Save model… and Open model…;
- ``DeviceList`` (device_list.py): the device list, filled after the first
  paint with ``MainWindow(defer_torch=True)`` (what ``rnn-studio`` uses);
- ``SettingsKeeper`` (persistence.py): what the user typed and chose.

The window's own methods only pass a button press or a panel's signal on to
one of them. The attributes and signals below are what tests, benchmarks and
scripts use.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QFrame,
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

from ..core.config import RunConfig
from ..core.errors import StudioError
from ..core.events import Classified, Completion, Loaded, Paused, Predictions, RunEnded, RunStarted, as_dict
from .collector import collect_on_gui_thread
from .control_bar import ControlBar, FittedProgressBar, RunButton
from .controls import STEP_TIP, TRAIN_TIP, Controls, ask_to_discard
from .device_list import DeviceList
from .export import Exporter
from .file_actions import FileActions
from .inside import InsideViews
from .keys import SpaceToPause, WheelScrollsThePanel
from .lesson_panel import LessonPanel
from .lesson_player import LessonPlayer
from .menus import Menus
from .panels.accuracy_plot import AccuracyView
from .panels.common import MessageBar, tooltip
from .panels.confusion_view import ConfusionView
from .panels.data_panel import DataPanel
from .panels.examples_view import ExamplesView
from .panels.gradient_panel import GradientView
from .panels.inside_view import InsideView
from .panels.loss_plot import LossView
from .panels.model_panel import ModelPanel
from .panels.prompt_panel import PromptPanel
from .panels.runs_view import RunOverlay
from .panels.sine_plot import SineView
from .panels.text_view import TextView
from .panels.training_panel import TrainingPanel
from .persistence import SettingsKeeper
from .projector import Projector
from .redraw import LiveViews
from .runner import CLOSE_WAIT_MS, Runner
from .screen_fit import fit_window, let_combos_shrink
from .status_display import StatusDisplay, sentence
from .worker import TrainingWorker

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

NO_NETWORK = "There is no trained network yet: press Train first."


def resume_blocked_message(blocker: str) -> str:
    """Why Train cannot go on with the network on screen, and what to do."""
    return (
        f"This network cannot go on training: {sentence(blocker)} It still answers prompts. To train a new "
        "network on the file as it is now, press Reset, then Train; to go on with this one, put the file it "
        "was trained on back and open the model again."
    )


class MainWindow(QMainWindow):
    runStateChanged = Signal(str)  # idle, running, paused, finished, stopped, failed (once the controls show it)
    workerPaused = Signal(str)  # the worker has paused: "request", "step" or "diverged"
    modelSaved = Signal(str, str)  # path, error ("" when the file was written)
    modelOpened = Signal(str, str)  # path, error ("" when the network is shown)
    devicesListed = Signal()  # the device list is complete (at once unless defer_torch)

    def __init__(self, parent=None, *, defer_torch: bool = False):
        super().__init__(parent)
        # before any thread starts: a worker thread must never run the collector that
        # frees this window's widgets (gui/collector.py)
        collect_on_gui_thread()
        self._defer_torch = defer_torch
        self.setObjectName("mainWindow")
        self.setWindowTitle("RNN Studio")
        # projector-sized text: one point above the desktop default
        font = self.font()
        font.setPointSizeF(max(font.pointSizeF(), 10.0) + 1.0)
        self.setFont(font)
        self.setStyleSheet("QGroupBox { font-weight: bold; } QGroupBox * { font-weight: normal; }")
        self.closed_cleanly: bool | None = None  # set on close: did every thread end within the deadline?
        self._announced_state = "idle"
        # Switching task asks before it throws the trained network away; tests
        # and scripts answer by replacing this: (question) -> True to go ahead.
        self.confirm_discard = lambda question: ask_to_discard(self, question)
        self.runner = Runner(self)

        self._build_ui()
        self.views = LiveViews(
            self,
            loss=self.lossView,
            gradient=self.gradientView,
            sine=self.sineView,
            text=self.textView,
            prompt=self.promptPanel,
            bottom_stack=self.bottomStack,
            pace=lambda: self.trainingPanel.pace,
            accuracy=self.accuracyView,
            examples=self.examplesPanel,
            confusion=self.confusionPanel,
            reading_stack=self.readingStack,
        )
        self.status = StatusDisplay(
            self.runner,
            progress_bar=self.progressBar,
            state_label=self.runStateStatus,
            speed_label=self.speedStatus,
            device_label=self.deviceStatus,
            parameter_label=self.parameterStatus,
            device_combo=self.deviceCombo,
            message_bar=self.messageBar,
        )
        self.inside = InsideViews(
            self,
            self.runner,
            self.insideView,
            loss_view=self.lossView,
            text_view=self.textView,
            prompt=lambda: (self.promptPanel.promptEdit.text(), self.promptPanel.lengthSpin.value()),
            overlay=self.runOverlay,
            train_branch=self.train_branch,
            model_size=lambda: (self.modelPanel.hiddenSpin.value(), self.modelPanel.layersSpin.value()),
            pace=lambda: self.trainingPanel.pace,
        )
        self._keeper = SettingsKeeper(self)
        self.controls = Controls(
            self,
            self.runner,
            show_message=self.show_message,
            reset=self.reset,
            autosave=self._keeper.schedule,
            views=self.views,
            confirm_discard=lambda question: self.confirm_discard(question),
        )
        self.files = FileActions(
            self,
            self.runner,
            self._keeper,
            save_action=self.saveModelAction,
            open_action=self.openModelAction,
            show_message=self.show_message,
            view_task=self.controls.view_task,
        )
        self.devices = DeviceList(
            self,
            self.trainingPanel,
            defer_torch=defer_torch,
            run_in_progress=lambda: self.runner.in_progress,
            restoring=self.controls.restoring,
        )
        self._connect()
        self._build_lessons_and_export()
        self._keeper.restore()
        self.views.show_task(self.controls.view_task(), self.dataPanel.sine_mode)
        self._update_controls()
        self._update_parameter_count()
        app = QApplication.instance()
        if app is not None:  # quitting the app without closing the window still ends every run
            app.aboutToQuit.connect(self.runner.stop_all)

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

        # right: the views. In a scroll area that scrolls only when the views' smallest
        # sizes add up to more than the screen (projector mode at 1024x768, a deep
        # network's many tensor bars): the window itself never grows past the screen.
        views_scroll = QScrollArea(self.mainSplitter)
        views_scroll.setObjectName("viewsScroll")
        views_scroll.setWidgetResizable(True)
        views_scroll.setFrameShape(QFrame.Shape.NoFrame)
        views_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        views = QWidget(views_scroll)
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
        # the loss, and beside it for the classify task the accuracy per epoch
        self.lossSplitter = QSplitter(Qt.Orientation.Horizontal, top)
        self.lossSplitter.setObjectName("lossSplitter")
        self.lossSplitter.setChildrenCollapsible(False)
        self.lossView = LossView(self.lossSplitter)
        self.lossSplitter.addWidget(self.lossView.plot)
        self.accuracyView = AccuracyView(self.lossSplitter)
        self.lossSplitter.addWidget(self.accuracyView.plot)
        self.accuracyView.plot.hide()
        top.addWidget(self.lossSplitter)
        self.gradientView = GradientView(top)
        top.addWidget(self.gradientView)
        self.viewSplitter.addWidget(top)
        self.bottomStack = QStackedWidget(self.viewSplitter)
        self.bottomStack.setObjectName("bottomStack")
        text_page = QSplitter(Qt.Orientation.Horizontal, self.bottomStack)
        text_page.setObjectName("textSplitter")
        text_page.setChildrenCollapsible(False)
        self.textSplitter = text_page
        # the text task's reading of each sentence, or the classifier's examples and confusion matrix
        self.readingStack = QStackedWidget(text_page)
        self.readingStack.setObjectName("readingStack")
        self.textView = TextView(self.readingStack)
        self.readingStack.addWidget(self.textView)
        self.classifySplitter = QSplitter(Qt.Orientation.Horizontal, self.readingStack)
        self.classifySplitter.setObjectName("classifySplitter")
        self.classifySplitter.setChildrenCollapsible(False)
        self.examplesPanel = ExamplesView(self.classifySplitter)
        self.classifySplitter.addWidget(self.examplesPanel)
        self.confusionPanel = ConfusionView(self.classifySplitter)
        self.classifySplitter.addWidget(self.confusionPanel)
        self.classifySplitter.setStretchFactor(0, 3)
        self.classifySplitter.setStretchFactor(1, 1)
        self.readingStack.addWidget(self.classifySplitter)
        text_page.addWidget(self.readingStack)
        self.promptPanel = PromptPanel(text_page)
        text_page.addWidget(self.promptPanel)
        text_page.setSizes([560, 460])
        self.bottomStack.addWidget(text_page)
        self.sineView = SineView(self.bottomStack)
        self.bottomStack.addWidget(self.sineView.plot)
        # issue 10: the reading is the first tab of "Inside the network", under the rewind bar
        self.insideView = InsideView(self.bottomStack, self.viewSplitter)
        self.bottomStack.currentChanged.connect(
            lambda page: self.insideView.set_reading_title("Sine wave" if page else "Reading")
        )
        self.viewSplitter.addWidget(self.insideView)
        self.runOverlay = RunOverlay(self.lossView.plot, self.lossView.curve)
        self.viewSplitter.setStretchFactor(0, 3)
        self.viewSplitter.setStretchFactor(1, 2)
        views_scroll.setWidget(views)
        self.mainSplitter.addWidget(views_scroll)
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
                "validSpin",
                "openTextFileButton",
                "closeTextFileButton",
                "textFileInfo",
                "textFilePreview",
                "windowSpin",
                "streamsSpin",
                "classifyPresetCombo",
                "examplesEdit",
                "openDataButton",
                "typeExamplesButton",
                "dataInfo",
                "dataPreview",
                "levelCombo",
            ),
            self.modelPanel: (
                "archCombo",
                "layersSpin",
                "hiddenSpin",
                "encodingCombo",
                "dropoutSpin",
                "bidirectionalCheck",
                "poolingCombo",
                "xavierCheck",
            ),
            self.trainingPanel: (
                "optimizerCombo",
                "lrSpin",
                "epochsSpin",
                "untilPausedCheck",
                "batchSpin",
                "shuffleCheck",
                "clipSpin",
                "seedSpin",
                "plateauCheck",
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
        self.accuracyPlot = self.accuracyView.plot
        self.examplesView = self.examplesPanel.table
        self.confusionView = self.confusionPanel.table

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
            self,
            (
                self.lossView,
                self.accuracyView,
                self.gradientView,
                self.sineView,
                self.textView,
                self.runOverlay,
                *self.insideView.projector_parts(),
            ),
            self.mainSplitter,
        )
        self.menus = Menus(self, self.projector)
        for name in MENU_ACTIONS:
            setattr(self, name, getattr(self.menus, name))
        self.elmanCheckAction = QAction("&Elman vs nn.RNN…", self)
        self.elmanCheckAction.setObjectName("elmanCheckAction")
        self.elmanCheckAction.setToolTip(
            "Show that the from-scratch Elman network and torch's nn.RNN, given the same "
            "weights, compute the same outputs and gradients."
        )
        self.menus.helpMenu.insertAction(self.aboutAction, self.elmanCheckAction)

    def _build_lessons_and_export(self) -> None:
        """Issue 11: the lesson panel (a dock, shown while a lesson is open), File → Open
        lesson…/Save as lesson…, and File → Export with Copy plot and Export run…"""
        self.lessonPanel = LessonPanel(self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.lessonPanel)
        self.lessonPanel.hide()
        self.lessons = LessonPlayer(self, self.lessonPanel)
        file_menu, before = self.menus.fileMenu, self.restoreDefaultsAction
        self.openLessonAction = QAction("Open &lesson…", self)
        self.openLessonAction.setObjectName("openLessonAction")
        self.openLessonAction.setToolTip("Open a lesson file (.toml): its steps set, lock and explain the controls.")
        self.openLessonAction.triggered.connect(self.lessons.open_clicked)
        self.saveLessonAction = QAction("Save as lesso&n…", self)
        self.saveLessonAction.setObjectName("saveLessonAction")
        self.saveLessonAction.setToolTip("Write the settings on the left, a text you type and the controls to "
                                         "lock or hide as a lesson file.")
        self.saveLessonAction.triggered.connect(self.lessons.save_clicked)
        for action in (self.openLessonAction, self.saveLessonAction):
            self.addAction(action)
            file_menu.insertAction(before, action)
        file_menu.insertSeparator(before)
        self.exporter = Exporter(self, file_menu, before)
        self.exportMenu = self.exporter.exportMenu
        self.copyPlotAction = self.exporter.copyPlotAction
        self.exportRunAction = self.exporter.exportRunAction

    def open_lesson(self, path: str) -> bool:
        """Open the lesson at ``path`` (False, with the line and reason, when the file has an error)."""
        return self.lessons.open_lesson(path)

    def settings_shown(self) -> None:
        """The controls were set from a file (an opened model, a lesson step): show what they mean now."""
        self.views.show_task(self.controls.view_task(), self.dataPanel.sine_mode)
        self._update_controls()
        self._update_parameter_count()
        self.controls.schedule_autosave()

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
        self.projector.changed.connect(self.controls.schedule_autosave)  # remembered between sessions
        self.logScaleCheck.toggled.connect(self._set_log)

        # the controls
        controls, data, training = self.controls, self.dataPanel, self.trainingPanel
        data.taskCombo.currentIndexChanged.connect(controls.task_chosen)
        data.sineModeCombo.currentIndexChanged.connect(controls.sine_mode_chosen)
        data.changed.connect(controls.setting_changed)
        data.analysed.connect(self._update_parameter_count)
        # batch x window: what a step keeps must fit too. Not ``data.changed``: it fires at every
        # keystroke in the sentences, whose count waits for the (debounced) ``analysed``
        for signal in (data.sineWindowsSpin.valueChanged, data.sineLengthSpin.valueChanged,
                       data.sineModeCombo.currentIndexChanged, data.textFileBox.changed, data.validSpin.valueChanged):
            signal.connect(self._update_parameter_count)
        data.taskCombo.currentIndexChanged.connect(self._update_parameter_count)
        data.limitMessage.connect(lambda text: self.show_message("warning", text))
        data.presetLoaded.connect(lambda text: self.show_message("info", text))
        self.modelPanel.changed.connect(controls.setting_changed)
        self.modelPanel.changed.connect(self._update_parameter_count)
        training.changed.connect(controls.schedule_autosave)
        for widget in (training.optimizerCombo, training.seedSpin, training.deviceCombo, training.batchSpin):
            signal = widget.currentIndexChanged if hasattr(widget, "currentIndexChanged") else widget.valueChanged
            signal.connect(controls.setting_changed)
        for check in (training.shuffleCheck, training.plateauCheck):
            check.toggled.connect(controls.setting_changed)
        training.seedSpin.valueChanged.connect(self._update_parameter_count)  # the classifier's split
        training.batchSpin.valueChanged.connect(self._update_parameter_count)
        data.openTextFileButton.clicked.connect(self.files.open_text_file_clicked)
        data.openDataButton.clicked.connect(self.files.open_data_file_clicked)
        training.deviceCombo.currentIndexChanged.connect(self.status.show_device)
        # live settings: the run in progress takes them between two steps
        training.lrChanged.connect(self.runner.set_lr)
        training.clipChanged.connect(self.gradientView.set_clip)
        training.clipChanged.connect(self.runner.set_clip)
        training.epochsChanged.connect(self.runner.set_epochs)
        training.paceChanged.connect(self.runner.set_pace)
        self.promptPanel.completeRequested.connect(self.complete)
        self.promptPanel.classifyRequested.connect(self.classify)
        self.promptPanel.promptEdit.textChanged.connect(controls.schedule_autosave)
        self.promptPanel.promptEdit.textChanged.connect(self.inside.prompt_changed)
        self.promptPanel.lengthSpin.valueChanged.connect(self.inside.prompt_changed)
        self.elmanCheckAction.triggered.connect(self.inside.check_elman)

        # the network on screen: its events go to the views that show them
        runner = self.runner
        runner.networkChanged.connect(self._network_changed)
        runner.stateChanged.connect(self._state_changed)
        runner.runStarted.connect(self.views.run_started)
        runner.runStarted.connect(self._run_started)
        runner.batch.connect(self.views.add_batch)
        runner.predictions.connect(self.views.add_predictions)
        runner.predictions.connect(self._predictions)
        runner.completed.connect(self._completed)
        runner.classified.connect(self._classified)
        runner.paused.connect(self._run_paused)
        runner.warned.connect(self.status.run_warned)
        runner.ended.connect(self._run_ended)
        runner.saved.connect(self.files.saved)
        runner.opening.connect(self._opening)
        runner.opened.connect(self._opened)
        runner.openFailed.connect(self._open_failed)
        self.views.frameShown.connect(self.status.show_frame)
        self.files.modelSaved.connect(self.modelSaved)
        self.files.modelOpened.connect(self.modelOpened)
        self.devices.failed.connect(lambda text: self.show_message("warning", text))
        self.devices.listed.connect(self.status.show_device)
        self.devices.listed.connect(self.devicesListed)

    # ------------------------------------------------------------------ buttons
    def build_config(self) -> RunConfig:
        """The run the controls describe; raises StudioError with a plain message."""
        return self.controls.build_config()

    @Slot()
    def train(self, *, step_only: bool = False) -> bool:
        """Start a run from the controls (see ``Runner.train_from``); False
        (with a message) when it cannot."""
        if self.runner.in_progress:
            return False
        try:
            cfg = self.controls.build_config()
        except StudioError as exc:
            self.show_message("error", f"Cannot start training: {sentence(str(exc))}")
            return False
        blocker = self.runner.resume_blocker(cfg, any_ended=step_only)
        if blocker:
            self.show_message("error", resume_blocked_message(blocker))
            return False
        self.messageBar.dismiss()  # whatever it said was about the last run or the last try
        note = self.runner.train_from(
            cfg, step_only=step_only, until_paused=self.untilPausedCheck.isChecked(), pace=self.trainingPanel.pace
        )
        if note:
            self.show_message("info", note)
        return True

    def train_branch(self, epoch: int) -> bool:
        """Train the network on screen on from its snapshot at ``epoch``, to
        the goal its run had (``Runner.train_branch``); False with a message when it cannot."""
        network = self.runner.network
        if network is None:
            return False
        cfg = RunConfig.from_dict(network.config)
        cfg.train.epochs = max(1, (self.runner.info.epochs or cfg.train.epochs) - epoch)
        if not self.runner.train_branch(
            cfg, epoch, until_paused=self.untilPausedCheck.isChecked(), pace=self.trainingPanel.pace
        ):
            self.show_message("info", "There is no snapshot of that moment to train from.")
            return False
        return True

    @Slot()
    def toggle_pause(self) -> None:
        if self.runner.state == "paused":
            if self.messageBar.kind == "error":
                self.messageBar.dismiss()
            self.runner.resume()
        else:
            self.runner.pause()

    @Slot()
    def step(self) -> None:
        """One epoch: of the paused run, else of the network on screen (or a new one). Then it pauses."""
        if self.runner.state == "paused" and self.messageBar.kind == "error":
            self.messageBar.dismiss()
        if not self.runner.step():
            self.train(step_only=True)

    @Slot()
    def stop(self) -> None:
        self.runner.stop()

    @Slot()
    def reset(self) -> None:
        """Stop and forget the run; the next Train starts from scratch."""
        self.messageBar.dismiss()
        self.runner.reset()

    @Slot(str, int, float)
    def complete(self, prompt: str, length: int, temperature: float) -> None:
        """Ask the network for a completion (classify: for the label of the
        prompt); the answer arrives as an event."""
        if self.controls.view_task() == "classify":
            self.classify(prompt)
        elif self.controls.view_task() != "text":
            self.promptPanel.show_warning("Prompts need the text task: the sine network predicts numbers, not letters.")
        elif not self.runner.complete(prompt, length, temperature):
            self.promptPanel.show_warning(NO_NETWORK)

    @Slot(str)
    def classify(self, text: str) -> None:
        """Ask the classifier for the label of ``text``; the answer arrives as an event."""
        if self.controls.view_task() != "classify":
            self.promptPanel.show_warning("Only a classifier labels sentences: choose the Classify sentences task.")
        elif not self.runner.classify(text):
            self.promptPanel.show_warning(NO_NETWORK)

    def save_model(self, path: str) -> bool:
        """Write the network on screen to ``path``; ``modelSaved`` says how it went."""
        return self.files.save_model(path)

    def open_model(self, path: str) -> bool:
        """Load the checkpoint at ``path`` in a worker thread; ``modelOpened`` says how it went."""
        return self.files.open_model(path)

    @Slot()
    def _save_model_clicked(self) -> None:
        self.files.save_clicked()

    @Slot()
    def _open_model_clicked(self) -> None:
        self.files.open_clicked()

    def _space(self) -> None:
        """Space: pause or resume, whatever has the focus (rnn_studio/gui/keys.py
        decides where Space types text instead); the focused control is left alone."""
        self.toggle_pause()

    def _set_log(self, on: bool) -> None:
        self.views.set_log(on)
        self.controls.schedule_autosave()

    # ------------------------------------------------------------------ events of the network on screen
    @Slot()
    def _network_changed(self) -> None:
        info = self.runner.info
        task = info.task or self.dataPanel.task
        mode = info.mode if task == "sine" and info.mode else self.dataPanel.sine_mode
        self.views.clear(task, mode, info.vocab_size)

    @Slot(str)
    def _state_changed(self, _state: str) -> None:
        self.views.follow_run(self.runner.in_progress)
        self._update_controls()
        self._update_parameter_count()

    @Slot(object)
    def _run_started(self, _event: RunStarted) -> None:
        self._update_parameter_count()
        self.status.show_device()

    @Slot(object)
    def _completed(self, event: Completion) -> None:
        self.promptPanel.show_result(as_dict(event))

    @Slot(object)
    def _classified(self, event: Classified) -> None:
        self.promptPanel.show_classification(as_dict(event))

    @Slot(object)
    def _predictions(self, event: Predictions) -> None:
        """As the classifier learns, the sentence in the prompt box is labelled again."""
        if event.data.get("kind") == "classify" and self.promptPanel.task == "classify":
            self.promptPanel.request_classification()

    @Slot(object)
    def _run_paused(self, event: Paused) -> None:
        self.status.run_paused(event)
        if event.reason == "diverged":
            self.trainingPanel.lrSpin.setFocus()
        self.views.redraw(force=True)
        self.workerPaused.emit(event.reason)

    @Slot(object)
    def _run_ended(self, event: RunEnded) -> None:
        self.status.run_ended(event)
        self.views.redraw(force=True)

    @Slot(str)
    def _opening(self, path: str) -> None:
        self.status.show_opening(os.path.basename(path))
        self.files.update_actions()

    @Slot(object)
    def _opened(self, event: Loaded) -> None:
        cfg = RunConfig.from_dict(event.saved_config or event.config)
        kept_sentences = self.controls.show_opened(cfg, event.device)
        self._update_controls()
        self._update_parameter_count()
        self.controls.schedule_autosave()
        self.files.opened(event, cfg, kept_sentences)

    @Slot(str, str)
    def _open_failed(self, path: str, message: str) -> None:
        self._update_controls()
        self.files.open_failed(path, message)

    def _update_controls(self, *_args) -> None:
        self.controls.show_state()
        self.files.update_actions()
        self.status.show_state()
        state = self.runner.state
        if state != self._announced_state:  # announced once the controls match it
            self._announced_state = state
            self.runStateChanged.emit(state)

    def _update_parameter_count(self, *_args) -> None:
        self.status.show_parameters(self.controls.update_parameter_count())

    @Slot()
    def _redraw(self, force: bool = False) -> None:
        self.views.redraw(force)

    # ------------------------------------------------------------------ messages and settings
    def show_message(self, kind: str, text: str) -> None:
        """Explain something in the window itself (not a modal box)."""
        self.messageBar.show_message(kind, text)

    def message_text(self) -> str:
        return self.messageBar.text()

    def restoring(self):
        """Controls set from saved settings, not edited: no task defaults, no autosave, no notes."""
        return self.controls.restoring()

    def save_settings(self, geometry: bool = False) -> None:
        """Write what the user typed and chose now (only what changed); never raises."""
        self._keeper.save(geometry=geometry)

    # ------------------------------------------------------------------ closing
    def closeEvent(self, event: QCloseEvent) -> None:
        """Save, disappear at once, then end every thread (within about a
        second unless one training step takes longer: the worker stops between steps)."""
        self.views.stop()
        self._keeper.close()  # saves, marks the session closed and frees this window's settings slot
        self.hide()  # the user sees the window go now, even while a long step finishes
        self.closed_cleanly = self.runner.stop_all(CLOSE_WAIT_MS)
        super().closeEvent(event)

    # ------------------------------------------------------------------ for tests and benchmarks
    @property
    def run_state(self) -> str:
        return self.runner.state

    @property
    def run_thread(self):
        """The current run's QThread (None before the first run)."""
        return self.runner.run_thread

    @property
    def worker(self) -> TrainingWorker | None:
        return self.runner.worker

    def threads(self) -> list:
        """Every QThread this window started that has not been freed yet."""
        return self.runner.threads()

    @property
    def lr_history(self):
        """(step, learning rate) as the trainer reported them, up to the frame shown."""
        return self.views.lr_history

    @property
    def last_metrics(self) -> dict | None:
        """The fields of the StepBatch the views show now."""
        batch = self.views.last_batch
        return as_dict(batch) if batch is not None else None
