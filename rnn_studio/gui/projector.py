"""Projector mode: one switch that makes the whole window readable from the back of a classroom.

``Projector`` owns the switch and the zoom (View → Projector mode, Ctrl+= and
Ctrl+- to zoom, Ctrl+0 back to desktop size). Switched on, it:

- enlarges every widget's text by ``scale``, never below ``BODY_MIN_PX``
  pixels (18 px: what a projected 1024x768 screen needs to be read from the
  back of a room). Each widget's desktop font is recorded the first time
  and given back when the mode is switched off. Every widget gets its own
  font, because Qt's font inheritance does not reach through the window's
  style sheet (the panels' children would stay at the desktop default);
- calls ``set_projector(enabled, scale)`` on each view that has it (the views
  enlarge their plot text and thicken their curves themselves). A view
  without it gets ``PlotTextFallback``: titles, axis labels, ticks and text
  labels of its pyqtgraph plots at least ``PLOT_MIN_PX`` pixels (16 px);
- lets the settings panel collapse (dragging the splitter handle to the left
  edge hides it; View → Show settings panel brings it back).

The state is remembered between sessions: ``setting()``/``apply_setting()``
are the saved value and how to put it back (rnn_studio/gui/persistence.py).
"""

from __future__ import annotations

import math
import re

import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QFont, QFontInfo, QFontMetricsF
from PySide6.QtWidgets import QGraphicsView, QWidget

BODY_MIN_PX = 18  # no widget text smaller than this in projector mode
PLOT_MIN_PX = 16  # no plot text smaller than this in projector mode
MAX_PX = 64
DEFAULT_SCALE = 1.5
ZOOM_STEPS = (1.25, 1.5, 1.75, 2.0, 2.5, 3.0)
SETTINGS_SHARE_MAX = 0.3  # projector mode widens the settings panel at most to this share of the window
ROOMY_WIDTH = 1280  # narrower than this, projector mode suggests hiding the settings panel
_DESKTOP_FONT = "rnnStudioDesktopFont"  # the widget's font before projector mode first changed it


def css_pixels(size, dpi: float = 96.0) -> float:
    """A CSS-style size ("13pt", "20px", 12) in pixels."""
    if isinstance(size, (int, float)):
        return float(size) * dpi / 72.0
    match = re.fullmatch(r"\s*([0-9.]+)\s*(pt|px)?\s*", str(size or ""))
    if not match:
        return 0.0
    value = float(match.group(1))
    return value if match.group(2) == "px" else value * dpi / 72.0


def font_pixels(font: QFont) -> int:
    """The pixel height Qt draws ``font`` at (what a projected screen shows)."""
    return QFontInfo(font).pixelSize()


def _scaled_font(base: QFont, scale: float, floor_px: int, dpi: float) -> QFont:
    font = QFont(base)
    if base.pointSizeF() > 0:
        base_px = base.pointSizeF() * dpi / 72.0
    else:
        base_px = float(base.pixelSize())
    px = min(MAX_PX, max(floor_px, base_px * scale))
    # in points, so code that reads font.pointSize() keeps working; rounded up
    # to a quarter point so the pixel size Qt picks is never below the floor
    font.setPointSizeF(math.ceil(px * 72.0 / dpi * 4) / 4)
    return font


class PlotTextFallback:
    """Projector-sized text for one pyqtgraph plot whose view has no
    ``set_projector`` of its own: title, axis labels, ticks (major ones only,
    so large labels do not collide) and text items, all at least
    ``PLOT_MIN_PX``. The title shrinks (not below that) to fit the plot's
    width, again whenever the plot is resized. ``apply(False, ...)`` gives
    the desktop styling back."""

    def __init__(self, plot: pg.PlotWidget):
        self.plot = plot
        item = plot.getPlotItem()
        self.enabled = False
        self.scale = 1.0
        self._title = dict(item.titleLabel.opts)
        # a fixed axis width (the tensor names' axis) is widened with the text, else the labels drop out
        self._widths = {name: item.getAxis(name).fixedWidth for name in ("bottom", "left")}
        self._axes = {
            name: (
                item.getAxis(name).style.get("tickFont"),
                dict(item.getAxis(name).labelStyle),
                dict(item.getAxis(name).style),
            )
            for name in ("bottom", "left")
        }
        self._texts: dict[int, QFont] = {}
        item.getViewBox().sigResized.connect(self._fit_title)

    def apply(self, enabled: bool, scale: float) -> None:
        self.enabled, self.scale = enabled, scale
        plot, item = self.plot, self.plot.getPlotItem()
        dpi = plot.logicalDpiY() or 96.0
        for name, (tick_font, label_style, style) in self._axes.items():
            axis = item.getAxis(name)
            label = dict(label_style)
            if enabled:
                base_tick = QFont(tick_font) if tick_font is not None else QFont(plot.font())
                axis.setTickFont(_scaled_font(base_tick, scale, PLOT_MIN_PX, dpi))
                axis.setStyle(maxTextLevel=0)  # the major ticks' labels only: large ones would collide
                if name == "left" and self._widths[name] is not None:
                    axis.setWidth(int(self._widths[name] * scale))
                label_px = max(PLOT_MIN_PX, css_pixels(label.get("font-size", "12pt"), dpi) * scale)
                label["font-size"] = f"{round(label_px)}px"
            else:
                axis.setTickFont(tick_font)
                axis.setStyle(maxTextLevel=style.get("maxTextLevel", 2))
                if name == "left" and self._widths[name] is not None:
                    axis.setWidth(self._widths[name])
            units = axis.labelUnits or None
            axis.setLabel(axis.labelText, units=units, unitPrefix=axis.labelUnitPrefix or None, **label)
        for text_item in [i for i in plot.scene().items() if isinstance(i, pg.TextItem)]:
            base = self._texts.setdefault(id(text_item), QFont(text_item.textItem.font()))
            text_item.setFont(_scaled_font(base, scale, PLOT_MIN_PX, dpi) if enabled else base)
        self._fit_title()

    def _fit_title(self, *_args) -> None:
        item = self.plot.getPlotItem()
        label = item.titleLabel
        if not label.text:
            return
        opts = dict(self._title)
        dpi = self.plot.logicalDpiY() or 96.0
        if self.enabled:
            px = max(PLOT_MIN_PX + 2, round(css_pixels(opts.get("size", "13pt"), dpi) * self.scale))
            room = max(1.0, label.width() - 8)
            font = QFont(self.plot.font())
            font.setBold(bool(opts.get("bold", True)))
            while px > PLOT_MIN_PX:  # a narrow plot gets a smaller title, never below the floor
                font.setPixelSize(px)
                if QFontMetricsF(font).horizontalAdvance(label.text) <= room:
                    break
                px -= 1
            opts["size"] = f"{px}px"
        if label.opts.get("size") != opts.get("size"):
            label.setText(label.text, **opts)
        height = max(30, int(css_pixels(opts.get("size", "13pt"), dpi) * 1.5) + 4)
        label.setMaximumHeight(height)
        item.layout.setRowFixedHeight(0, height)


class Projector(QObject):
    """The projector switch of one window. ``views``: objects that draw data
    (each may have ``set_projector``); ``splitter``: the settings|views
    splitter, whose settings side may collapse in projector mode."""

    changed = Signal(bool, float)  # enabled, scale

    def __init__(self, window: QWidget, views, splitter=None):
        super().__init__(window)
        self._window = window
        self._views = list(views)
        self._splitter = splitter
        self._fallbacks: dict[int, PlotTextFallback] = {}
        self._desktop_sizes: list[int] | None = None  # the splitter before projector mode widened the settings
        self.enabled = False
        self.scale = DEFAULT_SCALE
        self._quiet = False

    # ------------------------------------------------------------------ the switch
    def set_enabled(self, enabled: bool, scale: float | None = None) -> None:
        enabled = bool(enabled)
        scale = self.scale if scale is None else max(ZOOM_STEPS[0], min(ZOOM_STEPS[-1], float(scale)))
        if enabled == self.enabled and scale == self.scale:
            return
        was_enabled = self.enabled
        self.enabled, self.scale = enabled, scale
        self._apply()
        self.changed.emit(self.enabled, self.scale)
        say = getattr(self._window, "show_message", None)
        if enabled and not was_enabled and not self._quiet and self._window.width() < ROOMY_WIDTH and say is not None:
            if self._splitter is not None and self._splitter.sizes()[0] > 0:
                say(
                    "info",
                    "Projector mode: Ctrl+B (View → Show the settings panel) hides the settings to give the plots "
                    "the whole width, and brings them back.",
                )

    def zoom_in(self) -> None:
        if not self.enabled:
            self.set_enabled(True)
            return
        bigger = [s for s in ZOOM_STEPS if s > self.scale + 1e-9]
        if bigger:
            self.set_enabled(True, bigger[0])

    def zoom_out(self) -> None:
        if not self.enabled:
            return
        smaller = [s for s in ZOOM_STEPS if s < self.scale - 1e-9]
        if smaller:
            self.set_enabled(True, smaller[-1])
        else:
            self.set_enabled(False)  # below the smallest step: the desktop size

    # ------------------------------------------------------------------ remembered between sessions
    def setting(self) -> dict:
        return {"on": self.enabled, "scale": self.scale}

    def apply_setting(self, value) -> bool:
        """Put back a saved ``setting()``; False (nothing changed) when it is not one."""
        if not isinstance(value, dict) or not isinstance(value.get("on"), bool):
            return False
        scale = value.get("scale", DEFAULT_SCALE)
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale):
            return False
        if not ZOOM_STEPS[0] <= scale <= ZOOM_STEPS[-1]:
            return False
        self._quiet = True  # put back at start-up: the window says nothing about it
        try:
            self.set_enabled(value["on"], float(scale))
        finally:
            self._quiet = False
        return True

    # ------------------------------------------------------------------ applying it
    def _apply(self) -> None:
        views_with_own = [v for v in self._views if hasattr(v, "set_projector")]
        skip = [w for w in (_view_widget(v) for v in views_with_own) if w is not None]
        self._scale_fonts(skip)
        for view in self._views:
            if hasattr(view, "set_projector"):
                view.set_projector(self.enabled, self.scale)
            else:
                for plot in _plots_of(view):
                    if id(plot) not in self._fallbacks:
                        self._fallbacks[id(plot)] = PlotTextFallback(plot)
                    self._fallbacks[id(plot)].apply(self.enabled, self.scale)
        if self._splitter is not None:
            self._fit_settings_panel()

    def _fit_settings_panel(self) -> None:
        """The settings side may be dragged shut in projector mode (the views
        never); switched on, it widens to show its larger text if the window
        has room; switched off, it goes back to where it was."""
        splitter = self._splitter
        splitter.setCollapsible(0, self.enabled)
        for index in range(1, splitter.count()):
            splitter.setCollapsible(index, False)
        sizes = splitter.sizes()
        total = sum(sizes)
        if self.enabled:
            if self._desktop_sizes is None:
                self._desktop_sizes = sizes
            panel = splitter.widget(0)
            inner = panel.widget() if hasattr(panel, "widget") else None
            wanted = (inner.minimumSizeHint().width() if inner is not None else 0) + 24  # and its scroll bar
            left = min(max(sizes[0], wanted), int(total * SETTINGS_SHARE_MAX))
            if sizes[0] > 0 and left != sizes[0]:
                splitter.setSizes([left, max(1, total - left)])
        elif self._desktop_sizes is not None:
            left = min(self._desktop_sizes[0], total) if sizes[0] > 0 else max(self._desktop_sizes[0], total // 4)
            splitter.setSizes([left, max(1, total - left)])
            self._desktop_sizes = None

    def _scale_fonts(self, skip: list[QWidget]) -> None:
        window = self._window
        dpi = window.logicalDpiY() or 96.0
        widgets = [window, *window.findChildren(QWidget)]
        for widget in widgets:
            if isinstance(widget, QGraphicsView) or any(s is widget or s.isAncestorOf(widget) for s in skip):
                continue  # plots draw their own text; views with set_projector do theirs
            base = widget.property(_DESKTOP_FONT)
            if not isinstance(base, QFont):
                if not self.enabled:
                    continue  # never enlarged: nothing to give back
                base = QFont(widget.font())
                widget.setProperty(_DESKTOP_FONT, base)
            widget.setFont(_scaled_font(base, self.scale, BODY_MIN_PX, dpi) if self.enabled else base)


def _view_widget(view) -> QWidget | None:
    if isinstance(view, QWidget):
        return view
    plot = getattr(view, "plot", None)
    return plot if isinstance(plot, QWidget) else None


def _plots_of(view) -> list[pg.PlotWidget]:
    widget = _view_widget(view)
    if widget is None:
        return []
    plots = [widget] if isinstance(widget, pg.PlotWidget) else []
    return plots + widget.findChildren(pg.PlotWidget)
