"""Space pauses and resumes training from anywhere in the window (issue 8, observation 1).

A ``QShortcut("Space")`` loses to whatever has the focus: a spin box takes the
key as text (after a mouse click on Train the focus lands in the learning-rate
box with its text selected, and Space erased it), a check box ticks itself
("until paused" made the run endless), a combo box opens. ``SpaceToPause`` is
an application-level event filter that sees the key before the focused
widget: in the window it watches, Space pauses or resumes and the focused
control never sees it, except in the boxes where Space types text (the
sentences, the prompt). Dialogs, menus and popups are other windows and keep
their Space.

The ShortcutOverride event is accepted (so no shortcut, such as the Run
menu's Pause/Resume with its "Space" label, fires a second time) and the
KeyPress that follows does the work; an auto-repeated key does nothing, so
holding Space does not flicker between paused and running.

``WheelScrollsThePanel`` does the same for the mouse wheel over the settings
panel: it scrolls the panel instead of changing the combo box or spin box that
happens to pass under the pointer (seen: scrolling down to the device list
switched the encoding to Embedding).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

_PLAIN = (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
_KEY_EVENTS = (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress, QEvent.Type.KeyRelease)


def types_text(widget: QWidget | None) -> bool:
    """Does Space typed into ``widget`` become text the user meant to type?
    Editable line and text edits do; a spin box's number, a read-only view,
    a button, a slider or a plot do not."""
    chain = []
    current = widget
    while current is not None and not current.isWindow():
        chain.append(current)
        current = current.parentWidget()
    if any(isinstance(w, QAbstractSpinBox) for w in chain):
        return False  # its line edit holds a number: Space would only erase it
    for w in chain:
        if isinstance(w, QLineEdit):
            return not w.isReadOnly()
        if isinstance(w, (QPlainTextEdit, QTextEdit)):
            return not w.isReadOnly()
        if isinstance(w, QComboBox):
            return w.isEditable()
    return False


class SpaceToPause(QObject):
    """Space calls ``toggle`` wherever the focus is in ``window`` unless it types text there."""

    def __init__(self, window: QWidget, toggle: Callable[[], None]):
        super().__init__(window)
        self._window = window
        self._toggle = toggle
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() not in _KEY_EVENTS or not isinstance(obj, QWidget):
            return False
        if event.key() != Qt.Key.Key_Space or event.modifiers() not in _PLAIN:
            return False
        if obj.window() is not self._window or types_text(obj):
            return False
        if event.type() == QEvent.Type.ShortcutOverride:
            event.accept()  # the key comes as a KeyPress, to us; no shortcut fires
            return True
        if event.type() == QEvent.Type.KeyPress and not event.isAutoRepeat() and self._window.isEnabled():
            self._toggle()
        return True  # the focused control never sees it: it neither ticks, opens nor erases


class WheelScrollsThePanel(QObject):
    """The mouse wheel over a settings panel scrolls the panel, not the
    control under the pointer: rolling the wheel to reach the device list
    must not switch the encoding on the way. A control with the keyboard
    focus (clicked or tabbed into) still takes the wheel."""

    def __init__(self, area):
        super().__init__(area)
        self._area = area
        for widget in area.widget().findChildren(QWidget):
            if isinstance(widget, (QComboBox, QAbstractSpinBox, QAbstractSlider)):
                widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # not WheelFocus: the wheel must not grab it
                widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() != QEvent.Type.Wheel or obj.hasFocus():
            return False
        QApplication.sendEvent(self._area.verticalScrollBar(), event)
        return True
