"""A heatmap plot for the inside views: one ``pg.ImageItem`` per band, a colour bar.

Follows pyqtgraph's own examples: the image items are made once and only
``setImage`` is called, with the levels given (no auto-levels pass over the
data) so a 256 x 100 image costs about a millisecond. Images are in
pyqtgraph's default column-major order: ``values[x, y]``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from .common import make_plot, set_plot_projector

DIVERGING = "CET-D1"  # blue - white - red: activations from -1 to +1
SEQUENTIAL = "viridis"  # gates (0 to 1) and log norms


def colormap(name: str):
    try:
        return pg.colormap.get(name)
    except Exception:  # a pyqtgraph without colorcet maps: a plain ramp
        return pg.ColorMap([0.0, 0.5, 1.0], [(40, 70, 200), (255, 255, 255), (200, 40, 40)])


class Heatmap:
    """A plot with image bands stacked vertically (``bands`` names their colour
    maps); ``plot`` is the PlotWidget, ``images`` the ImageItems."""

    def __init__(
        self,
        name: str,
        title: str,
        x_label: str,
        y_label: str,
        maps: tuple[str, ...] = (DIVERGING,),
        levels: tuple[float, float] = (-1.0, 1.0),
        bar_label: str = "",
        parent=None,
    ):
        self.plot = make_plot(name, title, x_label, y_label, parent=parent, small=True)
        item = self.plot.getPlotItem()
        item.getViewBox().setMouseEnabled(x=False, y=False)
        self.images = []
        for map_name in maps:
            image = pg.ImageItem(axisOrder="col-major")
            image.setColorMap(colormap(map_name))
            item.addItem(image)
            self.images.append(image)
        self.bar = pg.ColorBarItem(
            values=levels, colorMap=colormap(maps[0]), interactive=False, width=14, label=bar_label
        )
        self.bar.setImageItem(self.images[0], insert_in=item)
        self.levels = levels
        self._rects: dict[int, QRectF] = {}
        self._range: QRectF | None = None

    def show(self, band: int, values: np.ndarray, rect: QRectF, levels: tuple[float, float] | None = None) -> None:
        """Band ``band`` shows ``values`` [x, y] in ``rect`` (view coordinates)."""
        image = self.images[band]
        levels = levels or self.levels
        clean = np.nan_to_num(np.asarray(values, dtype=np.float32), nan=levels[0], posinf=levels[1], neginf=levels[0])
        image.setImage(clean, levels=levels, autoLevels=False)
        image.setRect(rect)
        image.show()
        self._rects[band] = QRectF(rect)
        self._fit()

    def _fit(self) -> None:
        """The view spans exactly the bands shown, set now (not at the next paint's
        auto-range): a click at once after new data maps to the right unit."""
        shown = [r for i, r in self._rects.items() if self.images[i].isVisible()]
        if not shown:
            return
        union = shown[0]
        for rect in shown[1:]:
            union = union.united(rect)
        if union != self._range:
            self._range = QRectF(union)
            self.plot.getPlotItem().getViewBox().setRange(union, padding=0)

    def set_bar_levels(self, levels: tuple[float, float]) -> None:
        if tuple(self.bar.levels()) != tuple(levels):
            self.bar.setLevels(levels)

    def hide_band(self, band: int) -> None:
        self.images[band].hide()
        self._fit()

    def set_projector(self, enabled: bool, scale: float = 1.5) -> None:
        set_plot_projector(self.plot, enabled, scale)


def char_ticks(text: str, limit: int = 60) -> list[list[tuple[float, str]]]:
    """Bottom-axis ticks naming each character at the middle of its column
    (every n-th when there are more than ``limit``); '·' for a space."""
    step = max(1, -(-len(text) // limit))
    major = [(i + 0.5, "·" if c == " " else c) for i, c in enumerate(text) if i % step == 0]
    return [major, []]


class PlotPart:
    """One plot of a view, for the window's ``Projector``: it skips only this
    plot's widget when it enlarges fonts (the view's own combos and labels
    are enlarged with the rest of the window) and calls ``restyle``."""

    def __init__(self, plot, restyle):
        self.plot = plot
        self._restyle = restyle

    def set_projector(self, enabled: bool, scale: float = 1.5) -> None:
        self._restyle(enabled, scale)
