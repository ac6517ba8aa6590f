"""The window's menus: File, Run, View, Help, and Restore default settings.

Every action is the window's (added to it, not only to a menu), so its
shortcut works wherever the focus is. The File menu reuses the toolbar's own
``openModelAction``/``saveModelAction``; the Run actions press the same
buttons the toolbar shows and follow their enabled state, so a menu never
offers what the buttons refuse. Space (Pause/Resume) is not a shortcut here:
rnn_studio/gui/keys.py gives it to the window from anywhere; the menu only
shows it.

Restore default settings puts every setting back to what a new installation
shows (the seed tutorial's task, network and training settings, the default
pace, the CPU, the prompt "good") but keeps the sentences: they are the
lesson a teacher typed, and the seed's three are one click away (Load example
sentences… → Seed tutorial). Projector mode and the window's layout stay too:
they are about the room, not the lesson. It waits while a run is in progress.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLineEdit,
    QMessageBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from . import help as help_texts

# The controls Restore default settings puts back, by the window's attribute
# names (the sentences are not among them: see the module docstring).
DEFAULT_CONTROLS = (
    "taskCombo",
    "sineModeCombo",
    "sineWindowsSpin",
    "sineLengthSpin",
    "sineNoiseSpin",
    "archCombo",
    "layersSpin",
    "hiddenSpin",
    "encodingCombo",
    "dropoutSpin",
    "optimizerCombo",
    "lrSpin",
    "epochsSpin",
    "untilPausedCheck",
    "clipSpin",
    "seedSpin",
    "paceSlider",
    "deviceCombo",
    "logScaleCheck",
    "promptEdit",
    "lengthSpin",
    "temperatureSlider",
)
STEP_KEYS = "Ctrl+."
RESTORE_TEXT = (
    "Put every setting back to what a new installation shows: the seed tutorial's task, network and "
    "training settings, the default pace, the CPU, and the prompt 'good'?\n\n"
    "Your sentences stay as they are (Load example sentences… → Seed tutorial brings back the seed's three), "
    "and so do projector mode and the window's layout."
)


def _value_of(widget):
    if isinstance(widget, QComboBox):
        return widget.currentData()
    if isinstance(widget, (QAbstractSpinBox, QAbstractSlider)):
        return widget.value()
    if isinstance(widget, QAbstractButton):
        return widget.isChecked()
    if isinstance(widget, QLineEdit):
        return widget.text()
    raise TypeError(f"no default value for {type(widget).__name__}")


def _set_value(widget, value) -> None:
    if isinstance(widget, QComboBox):
        index = widget.findData(value)
        if index >= 0:
            widget.setCurrentIndex(index)
    elif isinstance(widget, (QAbstractSpinBox, QAbstractSlider)):
        widget.setValue(value)
    elif isinstance(widget, QAbstractButton):
        widget.setChecked(value)
    elif isinstance(widget, QLineEdit):
        widget.setText(value)


class _FollowEnabled(QObject):
    """Keeps an action enabled exactly when its button is."""

    def __init__(self, button: QWidget, action: QAction):
        super().__init__(action)
        self._action = action
        action.setEnabled(button.isEnabled())
        button.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.EnabledChange:
            self._action.setEnabled(obj.isEnabled())
        return False


class Menus(QObject):
    """Builds the menu bar of ``window`` (a MainWindow after its controls
    exist) and holds its actions as attributes named like their objects."""

    def __init__(self, window, projector):
        super().__init__(window)
        self._window = window
        self._projector = projector
        # the values a new installation shows: the controls hold them until the saved settings are restored
        self.defaults = {name: _value_of(getattr(window, name)) for name in DEFAULT_CONTROLS}
        self._dialogs: dict[str, QDialog] = {}
        bar = window.menuBar()
        bar.setObjectName("menuBar")

        self.fileMenu = bar.addMenu("&File")
        self.fileMenu.setObjectName("fileMenu")
        self.fileMenu.addAction(window.openModelAction)
        self.fileMenu.addAction(window.saveModelAction)
        self.fileMenu.addSeparator()
        self.restoreDefaultsAction = self._action(
            "restoreDefaultsAction",
            "Restore default settings…",
            self.ask_restore_defaults,
            tip="Put every setting back to the seed tutorial's (your sentences stay).",
        )
        self.fileMenu.addAction(self.restoreDefaultsAction)
        _FollowEnabled(window.trainButton, self.restoreDefaultsAction)  # not while a run is in progress
        self.fileMenu.addSeparator()
        self.quitAction = self._action(
            "quitAction", "&Quit", window.close, keys=[QKeySequence(QKeySequence.StandardKey.Quit), "Ctrl+Q"]
        )
        self.fileMenu.addAction(self.quitAction)

        self.runMenu = bar.addMenu("&Run")
        self.runMenu.setObjectName("runMenu")
        self.trainAction = self._action("trainAction", "&Train", window.train, keys=["Ctrl+Return", "Ctrl+Enter"])
        self.pauseAction = self._action("pauseAction", "&Pause\tSpace", window.toggle_pause)
        self.stepAction = self._action("stepAction", "&Step one epoch", window.step, keys=[STEP_KEYS])
        self.stopAction = self._action("stopAction", "St&op", window.stop, keys=["Esc"])
        self.resetAction = self._action("resetAction", "&Reset", window.reset, keys=["Ctrl+R"])
        for action, button in (
            (self.trainAction, window.trainButton),
            (self.pauseAction, window.pauseButton),
            (self.stepAction, window.stepButton),
            (self.stopAction, window.stopButton),
            (self.resetAction, window.resetButton),
        ):
            action.setToolTip(button.toolTip())
            _FollowEnabled(button, action)
            self.runMenu.addAction(action)
        window.runStateChanged.connect(self._run_state_changed)

        self.viewMenu = bar.addMenu("&View")
        self.viewMenu.setObjectName("viewMenu")
        self.projectorModeAction = self._action(
            "projectorModeAction",
            "&Projector mode",
            projector.set_enabled,
            keys=["F5"],
            checkable=True,
            tip="Large text and thick lines for a projector, readable from the back of the room.",
        )
        self.zoomInAction = self._action(
            "zoomInAction",
            "Zoom &in",
            projector.zoom_in,
            keys=["Ctrl+=", QKeySequence(QKeySequence.StandardKey.ZoomIn)],
        )
        self.zoomOutAction = self._action(
            "zoomOutAction", "Zoom &out", projector.zoom_out, keys=[QKeySequence(QKeySequence.StandardKey.ZoomOut)]
        )
        self.desktopSizeAction = self._action(
            "desktopSizeAction", "&Desktop size", lambda: projector.set_enabled(False), keys=["Ctrl+0"]
        )
        for action in (self.projectorModeAction, self.zoomInAction, self.zoomOutAction, self.desktopSizeAction):
            self.viewMenu.addAction(action)
        self.viewMenu.addSeparator()
        self.logScaleAction = self._action(
            "logScaleAction",
            "&Log scale",
            window.logScaleCheck.setChecked,
            keys=["Ctrl+L"],
            checkable=True,
            tip=window.logScaleCheck.toolTip(),
        )
        self.logScaleAction.setChecked(window.logScaleCheck.isChecked())
        window.logScaleCheck.toggled.connect(self.logScaleAction.setChecked)
        self.settingsPanelAction = self._action(
            "settingsPanelAction",
            "Show the &settings panel",
            self.show_settings_panel,
            keys=["Ctrl+B"],
            checkable=True,
            tip="Hide the settings on the left to give the plots the whole width, or show them again.",
        )
        self.settingsPanelAction.setChecked(True)
        window.mainSplitter.splitterMoved.connect(self._splitter_moved)
        self.viewMenu.addAction(self.logScaleAction)
        self.viewMenu.addAction(self.settingsPanelAction)
        projector.changed.connect(self._projector_changed)

        self.helpMenu = bar.addMenu("&Help")
        self.helpMenu.setObjectName("helpMenu")
        self.viewsHelpAction = self._action(
            "viewsHelpAction", "&What each view shows", self.show_views_help, keys=["F1"]
        )
        self.shortcutsAction = self._action("shortcutsAction", "&Keyboard shortcuts", self.show_shortcuts)
        self.aboutAction = self._action("aboutAction", "&About RNN Studio", self.show_about)
        for action in (self.viewsHelpAction, self.shortcutsAction, self.aboutAction):
            self.helpMenu.addAction(action)

    def _action(self, name, text, slot, *, keys=(), checkable=False, tip="") -> QAction:
        action = QAction(text, self._window)
        action.setObjectName(name)
        action.setCheckable(checkable)
        if keys:
            action.setShortcuts([QKeySequence(k) if isinstance(k, str) else k for k in keys])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        if checkable:
            action.toggled.connect(slot)
        else:
            action.triggered.connect(lambda _checked=False: slot())
        self._window.addAction(action)  # the shortcut works wherever the focus is
        return action

    # ------------------------------------------------------------------ run
    def _run_state_changed(self, state: str) -> None:
        self.pauseAction.setText("&Resume\tSpace" if state == "paused" else "&Pause\tSpace")

    # ------------------------------------------------------------------ view
    def _projector_changed(self, enabled: bool, _scale: float) -> None:
        if self.projectorModeAction.isChecked() != enabled:
            self.projectorModeAction.blockSignals(True)
            self.projectorModeAction.setChecked(enabled)
            self.projectorModeAction.blockSignals(False)

    def show_settings_panel(self, show: bool) -> None:
        splitter = self._window.mainSplitter
        panel = splitter.widget(0)
        panel.setVisible(show)
        if show and splitter.sizes()[0] == 0:  # dragged shut: open it again at a quarter of the width
            total = sum(splitter.sizes())
            left = max(panel.minimumSizeHint().width(), total // 4)
            splitter.setSizes([left, max(0, total - left)])
        self._sync_panel_action()

    def _splitter_moved(self, *_args) -> None:
        self._sync_panel_action()

    def _sync_panel_action(self) -> None:
        splitter = self._window.mainSplitter
        shown = not splitter.widget(0).isHidden() and splitter.sizes()[0] > 0
        if self.settingsPanelAction.isChecked() != shown:
            self.settingsPanelAction.blockSignals(True)
            self.settingsPanelAction.setChecked(shown)
            self.settingsPanelAction.blockSignals(False)

    # ------------------------------------------------------------------ restore defaults
    def ask_restore_defaults(self) -> QMessageBox:
        """Ask first (window-modal, never blocking the event loop); Restore Defaults applies."""
        box = QMessageBox(self._window)
        box.setObjectName("restoreDefaultsBox")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Restore default settings")
        box.setText(RESTORE_TEXT)
        box.setStandardButtons(QMessageBox.StandardButton.RestoreDefaults | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setFont(self._window.font())  # projector-sized text too
        box.buttonClicked.connect(
            lambda button: (
                self.restore_defaults()
                if box.standardButton(button) == QMessageBox.StandardButton.RestoreDefaults
                else None
            )
        )
        box.open()
        return box

    def restore_defaults(self) -> bool:
        """Every control in ``DEFAULT_CONTROLS`` back to a new installation's
        value; the sentences stay. False (and a message) while a run is in progress."""
        window = self._window
        if window.run_state in ("running", "paused"):
            window.show_message("info", "Stop the run first: the settings that define it are locked while it runs.")
            return False
        for name in DEFAULT_CONTROLS:  # the task first: switching it loads its own defaults
            _set_value(getattr(window, name), self.defaults[name])
        window.show_message(
            "info",
            "The default settings are back. Your sentences were kept: Load example sentences… → Seed tutorial "
            "brings back the seed's three.",
        )
        return True

    # ------------------------------------------------------------------ help
    def shortcut_rows(self) -> list[tuple[str, str]]:
        rows = [("Pause or resume training", "Space")]
        for action in self._window.actions():
            keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()]
            if keys and action.text():
                rows.append((action.text().split("\t")[0].replace("&", ""), ", ".join(dict.fromkeys(keys))))
        return rows

    def show_views_help(self) -> QDialog:
        return self._text_dialog("viewsHelpDialog", "What each view shows", help_texts.views_html())

    def show_shortcuts(self) -> QDialog:
        return self._text_dialog(
            "shortcutsDialog", "Keyboard shortcuts", help_texts.shortcuts_html(self.shortcut_rows())
        )

    def show_about(self) -> QDialog:
        device = self._window.deviceStatus.text().removeprefix("Device: ") or "CPU"
        return self._text_dialog("aboutDialog", "About RNN Studio", help_texts.about_html(device))

    def _text_dialog(self, name: str, title: str, text: str) -> QDialog:
        """A non-modal window of text: the class can keep watching the plots beside it."""
        dialog = self._dialogs.get(name)
        if dialog is None:
            dialog = QDialog(self._window)
            dialog.setObjectName(name)
            layout = QVBoxLayout(dialog)
            browser = QTextBrowser(dialog)
            browser.setObjectName(name.replace("Dialog", "Text"))
            browser.setOpenExternalLinks(False)
            layout.addWidget(browser)
            buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
            buttons.rejected.connect(dialog.close)
            layout.addWidget(buttons)
            self._dialogs[name] = dialog
        dialog.setWindowTitle(title)
        window = self._window
        browser = dialog.findChild(QTextBrowser)
        # the window's own font (projector-sized in projector mode): a dialog is a window of its own
        for widget in (dialog, *dialog.findChildren(QWidget)):
            widget.setFont(window.font())
        browser.setHtml(text)
        width = min(760, int(window.width() * 0.8))
        document = browser.document().clone(dialog)  # measured apart: the browser lays its own out later
        document.setTextWidth(width - 48)
        height = int(document.size().height()) + 110  # the text, the Close button, the margins
        document.deleteLater()
        dialog.resize(width, min(height, int(window.height() * 0.85)))
        dialog.show()
        dialog.raise_()
        return dialog
