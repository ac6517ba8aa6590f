"""A window that fits the screen it opens on, from 1024x768 up (issue 8, observation 4).

The window used to open at a fixed 1400x900, larger than a 1280x800 laptop
or a 1024x768 projector. ``fit_window`` sizes it to the screen's free area
(``QScreen.availableGeometry``, less room for the window frame), at most
1400x900, and shares the width out: on a small screen the settings panel
takes less and the gradient plots get enough for their titles; on a large
one the proportions are the old 1400x900 ones. Saved layouts (the splitter
positions a user chose) are restored afterwards and win.

``let_combos_shrink`` lets the settings panel be narrower than its longest
combo-box item, so the panel can give the plots room.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QComboBox, QWidget

PREFERRED_SIZE = QSize(1400, 900)  # on a screen with room for it
FRAME_ALLOWANCE = QSize(8, 40)  # what a window manager adds around the window (borders, title bar)
SETTINGS_WIDTH = (256, 380)  # the settings panel's opening width on a 1024 and a 1400 wide screen
GRADIENT_SHARE = 0.55  # of the plots' row, for the gradient view (it holds three plots)
GRADIENT_MIN = 480  # ...never less: its small plots' titles need it
LOSS_MIN = 260


def window_size_for(free: QSize, preferred: QSize = PREFERRED_SIZE) -> QSize:
    """The window's size on a screen whose free area is ``free``."""
    return QSize(
        max(1, min(preferred.width(), free.width() - FRAME_ALLOWANCE.width())),
        max(1, min(preferred.height(), free.height() - FRAME_ALLOWANCE.height())),
    )


def fit_window(window, size: QSize | None = None) -> QSize:
    """Resize ``window`` (a MainWindow) to ``size``, by default what its
    screen has room for, centred there; then share the width among the
    settings panel and the plots."""
    if size is None:
        screen = window.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            size = PREFERRED_SIZE
        else:
            free = screen.availableGeometry()
            size = window_size_for(free.size())
            window.move(free.x() + (free.width() - size.width()) // 2, free.y() + (free.height() - size.height()) // 2)
    window.resize(size)
    share_width(window, window.width())
    return window.size()


def share_width(window, width: int) -> None:
    """Splitter sizes for a window ``width`` pixels wide."""
    low, high = SETTINGS_WIDTH
    settings = int(max(low, min(high, low + (width - 1024) * (high - low) / (1400 - 1024))))
    margins = window.centralWidget().layout().contentsMargins() if window.centralWidget() else None
    views = width - settings - window.mainSplitter.handleWidth() - (margins.left() + margins.right() if margins else 0)
    window.mainSplitter.setSizes([settings, max(1, views)])
    gradient = min(max(int(views * GRADIENT_SHARE), GRADIENT_MIN), max(1, views - LOSS_MIN))
    window.plotSplitter.setSizes([max(1, views - gradient), gradient])


def let_combos_shrink(root: QWidget, characters: int = 8) -> None:
    """Let every combo box under ``root`` be narrower than its longest item
    (the item is elided; the list still opens at full width), so a long item
    does not hold the settings panel wider than a small screen allows."""
    for combo in root.findChildren(QComboBox):
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(characters)
        # QComboBox keeps the minimum size it computed before; a style change makes it compute it again
        QApplication.sendEvent(combo, QEvent(QEvent.Type.StyleChange))
