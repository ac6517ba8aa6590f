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
  without it gets ``style_plot_text``: titles, axis labels, ticks and text
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
from PySide6.QtGui import QFont, QFontInfo
from PySide6.QtWidgets import QGraphicsView, QWidget

BODY_MIN_PX = 18  # no widget text smaller than this in projector mode
PLOT_MIN_PX = 16  # no plot text smaller than this in projector mode
MAX_PX = 64
DEFAULT_SCALE = 1.5
ZOOM_STEPS = (1.25, 1.5, 1.75, 2.0, 2.5, 3.0)
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


def style_plot_text(plot: pg.PlotWidget, enabled: bool, scale: float, memory: dict) -> None:
    """Projector-sized text for one pyqtgraph plot whose view has no
    ``set_projector`` of its own: title, axis labels, ticks and text items.
    ``memory`` keeps the desktop styling to give back."""
    item = plot.getPlotItem()
    dpi = plot.logicalDpiY() or 96.0
    key = id(plot)
    if key not in memory:
        memory[key] = {
            "title": dict(item.titleLabel.opts),
            "axes": {
                name: (item.getAxis(name).style.get("tickFont"), dict(item.getAxis(name).labelStyle))
                for name in ("bottom", "left")
            },
            "texts": {},
        }
    saved = memory[key]
    title_opts = dict(saved["title"])
    if enabled:
        title_px = max(PLOT_MIN_PX + 2, css_pixels(title_opts.get("size", "13pt"), dpi) * scale)
        title_opts["size"] = f"{round(title_px)}px"
    if item.titleLabel.text:
        item.titleLabel.setText(item.titleLabel.text, **title_opts)
    title_height = int(css_pixels(title_opts.get("size", "13pt"), dpi) * 1.6) + 4
    item.titleLabel.setMaximumHeight(max(30, title_height))
    item.layout.setRowFixedHeight(0, max(30, title_height) if item.titleLabel.text else 0)
    for name, (tick_font, label_style) in saved["axes"].items():
        axis = item.getAxis(name)
        style = dict(label_style)
        if enabled:
            base_tick = QFont(tick_font) if tick_font is not None else QFont(plot.font())
            axis.setTickFont(_scaled_font(base_tick, scale, PLOT_MIN_PX, dpi))
            label_px = max(PLOT_MIN_PX, css_pixels(style.get("font-size", "12pt"), dpi) * scale)
            style["font-size"] = f"{round(label_px)}px"
        else:
            axis.setTickFont(tick_font)
        axis.setLabel(axis.labelText, units=axis.labelUnits or None, unitPrefix=axis.labelUnitPrefix or None, **style)
    for text_item in [i for i in plot.scene().items() if isinstance(i, pg.TextItem)]:
        texts = saved["texts"]
        if id(text_item) not in texts:
            texts[id(text_item)] = QFont(text_item.textItem.font())
        base = texts[id(text_item)]
        text_item.setFont(_scaled_font(base, scale, PLOT_MIN_PX, dpi) if enabled else base)


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
        self._plot_memory: dict = {}
        self.enabled = False
        self.scale = DEFAULT_SCALE

    # ------------------------------------------------------------------ the switch
    def set_enabled(self, enabled: bool, scale: float | None = None) -> None:
        enabled = bool(enabled)
        scale = self.scale if scale is None else max(ZOOM_STEPS[0], min(ZOOM_STEPS[-1], float(scale)))
        if enabled == self.enabled and scale == self.scale:
            return
        self.enabled, self.scale = enabled, scale
        self._apply()
        self.changed.emit(self.enabled, self.scale)

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
        self.set_enabled(value["on"], float(scale))
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
                    style_plot_text(plot, self.enabled, self.scale, self._plot_memory)
        if self._splitter is not None:
            # the settings side may be dragged shut in projector mode; the views never
            self._splitter.setCollapsible(0, self.enabled)
            if not self.enabled and self._splitter.sizes()[0] == 0:
                total = sum(self._splitter.sizes())
                left = max(self._splitter.widget(0).minimumSizeHint().width(), total // 4)
                self._splitter.setSizes([left, max(0, total - left)])

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
