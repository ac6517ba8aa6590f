"""Pieces the panels share: projector-sized plot styling, a growing buffer,
the message bar that explains problems in the window itself, and the note
labels and read-only tables the inside views are built of.

Projector mode (``set_plot_projector``) enlarges a plot's title, axis labels
and tick numbers to at least ``PROJECTOR_TEXT_PX`` and each view thickens its
curves to at least ``PROJECTOR_PEN_PX`` (``pen_width``); turning it off
restores the desktop sizes. Axes are ``ReadableAxis``: tick numbers that would
run together are left out instead of being drawn over each other.

Plots follow pyqtgraph's own examples: each curve is created once and only
``setData`` is called on it; data lives in a NumPy buffer that doubles when
full, so appending is amortised O(1) and every point is kept.
"""

from __future__ import annotations

import functools
import html
import weakref
from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTableWidget,
)

# Colours that survive a washed-out projector: dark on white.
BLUE = "#1f5fbf"
ORANGE = "#e0680b"
RED = "#c62828"
GREEN = "#2e7d32"
GREY = "#6b6b6b"
TICK_PT = 11
LABEL_PT = 12
TITLE_PT = 13
PX_PER_PT = 96 / 72  # CSS's ratio; projector sizes are given in pixels, which is what a class sees
PROJECTOR_TEXT_PX = 16  # no plot text smaller than this on a projector
PROJECTOR_PEN_PX = 3.0  # no curve thinner than this on a projector
PROJECTOR_SCALE = 1.5  # a sensible default for set_projector(True, scale)
SMALLEST_TITLE_SHARE = 0.75  # a title too wide for its plot shrinks down to this share of its size


def tooltip(widget, text: str):
    widget.setToolTip(text)
    widget.setWhatsThis(text)
    return widget


def explanation_tip(text: str) -> str:
    """A view's explanation as a tooltip: rich text, because Qt word-wraps only
    rich-text tooltips (a plain paragraph would be one line across the screen)."""
    return f"<p style='white-space:pre-wrap'>{html.escape(text, quote=False)}</p>"


def note_label(parent, name: str, text: str = "", *, grey: bool = True, wrap: bool = True) -> QLabel:
    """A view's note: a line of plain words above or beside what it draws."""
    label = QLabel(text, parent)
    label.setObjectName(name)
    label.setWordWrap(wrap)
    if grey:
        label.setStyleSheet(f"color: {GREY}")
    return label


def read_only_table(
    parent,
    name: str,
    headers: tuple[str, ...],
    stretch_column: int,
    selection: QAbstractItemView.SelectionMode = QAbstractItemView.SelectionMode.NoSelection,
) -> QTableWidget:
    """A table the user reads and clicks but never edits: no row numbers,
    columns as wide as their contents but ``stretch_column``, which takes the rest."""
    table = QTableWidget(0, len(headers), parent)
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(selection)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch_column, QHeaderView.ResizeMode.Stretch)
    return table


def pen_width(width: float, projector: bool = False, scale: float = 1.0) -> float:
    """A curve's width in pixels: ``width`` on a desktop, scaled and never under
    ``PROJECTOR_PEN_PX`` on a projector."""
    return max(PROJECTOR_PEN_PX, width * scale) if projector else width


def styled_pen(color, width: float, projector: bool = False, scale: float = 1.0, style=None) -> QPen:
    pen = pg.mkPen(color, width=pen_width(width, projector, scale))
    if style is not None:
        pen.setStyle(style)
    return pen


@dataclass
class PlotText:
    """The text sizes of one plot: desktop sizes in points, projector sizes in
    pixels (at least ``PROJECTOR_TEXT_PX``, ``scale`` times the desktop size)."""

    title_pt: int = TITLE_PT
    projector: bool = False
    scale: float = 1.0

    def pixels(self, points: float) -> float:
        """How tall text of ``points`` desktop points is drawn, in pixels."""
        px = points * PX_PER_PT
        return max(PROJECTOR_TEXT_PX, round(px * self.scale)) if self.projector else px

    def css(self, points: float) -> str:
        return f"{round(self.pixels(points))}px" if self.projector else f"{points}pt"

    def font(self, points: float) -> QFont:
        font = QFont()
        if self.projector:
            font.setPixelSize(round(self.pixels(points)))
        else:
            font.setPointSizeF(points)
        return font


def plot_text(plot: pg.PlotWidget) -> PlotText:
    style = getattr(plot, "_plot_text", None)
    if style is None:
        style = PlotText()
        plot._plot_text = style
    return style


class ReadableAxis(pg.AxisItem):
    """An axis whose tick numbers never run together.

    pyqtgraph chooses the tick spacing from the axis length alone and always
    draws every major tick's text, so a narrow plot writes "0.020.040.06" and
    a log axis writes its 2..9 labels over each other near each decade. Here a
    label that would touch one already placed (major ticks first, lowest value
    first) is left out; its tick mark stays."""

    LABEL_ROOM_PX = 4  # pyqtgraph sets the axis title 5 px past the edge: descenders were cut

    def resizeEvent(self, ev=None):
        super().resizeEvent(ev)
        if self.label is None:
            return
        pos = self.label.pos()
        if self.orientation == "bottom":
            self.label.setPos(pos.x(), pos.y() - self.LABEL_ROOM_PX)
        elif self.orientation == "left":
            self.label.setPos(pos.x() + self.LABEL_ROOM_PX, pos.y())

    def _updateHeight(self):
        super()._updateHeight()
        self._make_label_room(self.fixedHeight, self.minimumHeight, self.setMinimumHeight, self.setMaximumHeight)

    def _updateWidth(self):
        super()._updateWidth()
        self._make_label_room(self.fixedWidth, self.minimumWidth, self.setMinimumWidth, self.setMaximumWidth)

    def _make_label_room(self, fixed, current, set_min, set_max) -> None:
        if fixed is None and self.isVisible() and self.label is not None and self.label.isVisible():
            size = current() + self.LABEL_ROOM_PX
            set_max(size)
            set_min(size)

    def generateDrawSpecs(self, p):
        specs = super().generateDrawSpecs(p)
        if specs is None:
            return None
        axis_spec, tick_specs, text_specs = specs
        return axis_spec, tick_specs, readable_texts(text_specs, self.orientation in ("left", "right"))


def readable_texts(text_specs: list, vertical: bool) -> list:
    """The (rect, flags, text) specs that can be drawn without touching each other."""
    kept: list[QRectF] = []
    out = []
    for spec in text_specs:
        rect = spec[0]
        # a gap of about a third of a character between neighbours on a horizontal axis
        gap = 1.0 if vertical else max(4.0, 0.35 * rect.height())
        grown = rect.adjusted(0, -gap / 2, 0, gap / 2) if vertical else rect.adjusted(-gap / 2, 0, gap / 2, 0)
        if any(grown.intersects(other) for other in kept):
            continue
        kept.append(grown)
        out.append(spec)
    return out


def make_plot(name: str, title: str, x_label: str, y_label: str, *, parent=None, small: bool = False) -> pg.PlotWidget:
    """A white PlotWidget with large fonts and the object name tests look for."""
    axes = {"bottom": ReadableAxis("bottom"), "left": ReadableAxis("left")}
    plot = pg.PlotWidget(parent=parent, background="w", axisItems=axes)
    plot.setObjectName(name)
    plot.setMinimumSize(*((120, 100) if small else (200, 150)))
    item = plot.getPlotItem()
    plot._plot_text = PlotText(title_pt=TITLE_PT - 1 if small else TITLE_PT)
    set_title(plot, title)
    for axis_name, text in (("bottom", x_label), ("left", y_label)):
        axis = item.getAxis(axis_name)
        axis.setPen(pg.mkPen("#444444"))
        axis.setTextPen(pg.mkPen("#222222"))
        axis.setLabel(text)
        axis.enableAutoSIPrefix(False)  # "(x0.001)" on an axis confuses more than it helps
    _style_axes(plot)
    # No grid: pyqtgraph draws it as part of each axis, which doubles the cost
    # of every repaint, and a faint grid does not survive a projector anyway.
    item.setMenuEnabled(False)
    item.hideButtons()
    _let_title_shrink(item.titleLabel)
    # the title spans the axis column too (pyqtgraph centres it over the data
    # only): a small plot's title then fits without shrinking as much
    item.layout.removeItem(item.titleLabel)
    item.layout.addItem(item.titleLabel, 0, 0, 1, 3)
    # a title too long for the plot's width gets smaller, down to a floor (then it is cut)
    item.getViewBox().sigResized.connect(functools.partial(_refit_title, weakref.ref(plot)))
    return plot


def _let_title_shrink(label) -> None:
    """pyqtgraph makes a title as wide as its text the plot's minimum width; in a
    narrow window the splitter then squeezes the view below that and the plot
    is drawn clipped. Letting the title shrink keeps the plot whole (a very
    narrow plot cuts its title instead)."""
    update_min = label.updateMin

    def update_min_height_only():
        update_min()
        label.setMinimumWidth(0)
        hints = getattr(label, "_sizeHint", None)
        if isinstance(hints, dict) and Qt.SizeHint.MinimumSize in hints:
            hints[Qt.SizeHint.MinimumSize] = (0, hints[Qt.SizeHint.MinimumSize][1])
            label.updateGeometry()

    label.updateMin = update_min_height_only
    update_min_height_only()


def set_title(plot: pg.PlotWidget, title: str, points: int | None = None) -> None:
    """Set the title at the plot's size (``points`` changes the desktop size),
    in projector mode too, smaller where the plot is too narrow for it."""
    style = plot_text(plot)
    if points is not None:
        style.title_pt = points
    item = plot.getPlotItem()
    pixels = title_pixels(plot, title)
    item.setTitle(title, color="#222222", size=f"{pixels:g}px", bold=True)
    # pyqtgraph fixes the title row at 30 px; a projector-sized title needs more
    height = max(30, round(style.pixels(style.title_pt) * 1.6))
    item.titleLabel.setMaximumHeight(height)
    item.layout.setRowFixedHeight(0, height)


def title_pixels(plot: pg.PlotWidget, title: str) -> float:
    """The title's size in pixels: the plot's own, or smaller (down to
    ``SMALLEST_TITLE_SHARE`` of it, and never under ``PROJECTOR_TEXT_PX`` on a
    projector) when the title would not fit the plot's width."""
    style = plot_text(plot)
    wanted = round(style.pixels(style.title_pt))
    smallest = round(wanted * SMALLEST_TITLE_SHARE)
    if style.projector:
        smallest = max(PROJECTOR_TEXT_PX, smallest)
    room = plot.getPlotItem().width() - 8
    pixels = wanted
    if room > 0:
        font = QFont()
        font.setBold(True)
        while pixels > smallest:
            font.setPixelSize(pixels)
            if QFontMetricsF(font).horizontalAdvance(title) <= room:
                break
            pixels -= 1
    return pixels


def _refit_title(plot_ref, *_args) -> None:
    plot = plot_ref()
    if plot is None:
        return
    label = plot.getPlotItem().titleLabel
    if label.isVisible() and label.text and f"{title_pixels(plot, label.text):g}px" != label.opts.get("size"):
        set_title(plot, label.text)


def _style_axes(plot: pg.PlotWidget) -> None:
    style = plot_text(plot)
    item = plot.getPlotItem()
    for axis_name in ("bottom", "left"):
        axis = item.getAxis(axis_name)
        axis.setStyle(tickFont=style.font(TICK_PT))
        axis.setTickFont(style.font(TICK_PT))  # setStyle alone does not redraw the numbers
        axis.setLabel(axis.labelText, **{"color": "#222222", "font-size": style.css(LABEL_PT)})


def set_plot_projector(plot: pg.PlotWidget, enabled: bool, scale: float = PROJECTOR_SCALE) -> None:
    """Projector-sized text on one plot (title, axis labels, tick numbers, legend);
    ``enabled=False`` restores the desktop sizes."""
    style = plot_text(plot)
    style.projector = bool(enabled)
    style.scale = max(1.0, float(scale))
    item = plot.getPlotItem()
    title = item.titleLabel.text
    if item.titleLabel.isVisible() and title:
        set_title(plot, title)
    _style_axes(plot)
    if item.legend is not None:
        size = style.css(LABEL_PT)
        item.legend.setLabelTextSize(size)
        for _sample, label in item.legend.items:
            label.setText(label.text, size=size)  # setLabelTextSize alone does not redraw them
        item.legend.updateSize()


class MessageBar(QFrame):
    """A coloured strip above the plots: what happened, in plain words."""

    STYLES = {
        "info": ("#e8f1fb", "#1f5fbf"),
        "warning": ("#fff4e0", "#b35c00"),
        "error": ("#fdecea", "#b71c1c"),
    }

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.kind = ""
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        self.label = QLabel(self)
        self.label.setObjectName("messageLabel")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        font = self.label.font()
        font.setPointSize(font.pointSize() + 1)
        self.label.setFont(font)
        layout.addWidget(self.label, 1)
        self.close_button = QPushButton("✕", self)
        self.close_button.setObjectName("messageCloseButton")
        self.close_button.setFixedWidth(32)
        self.close_button.setFlat(True)
        self.close_button.setToolTip("Hide this message")
        self.close_button.clicked.connect(self.dismiss)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_message(self, kind: str, text: str) -> None:
        background, border = self.STYLES.get(kind, self.STYLES["info"])
        self.kind = kind
        self.setStyleSheet(
            f"QFrame#messageBar {{ background: {background}; border: 2px solid {border}; border-radius: 6px; }}"
            f"QLabel#messageLabel {{ color: #1a1a1a; }}"
        )
        self.label.setText(text)
        self.show()

    def text(self) -> str:
        return "" if self.isHidden() else self.label.text()

    def dismiss(self) -> None:
        self.kind = ""
        self.label.clear()
        self.hide()
