"""Gates: how an LSTM or GRU decides what to keep, per character and per unit.

Left, one band per gate (units x characters): an LSTM's input, forget and
output gates (0 = shut, 1 = open) and its candidate (the new cell content,
-1 to +1); a GRU's reset and update gates and candidate. Right, each gate
averaged over the units at every character. The gates are
``core.inspection``'s, written out from the network's own weights and
checked against ``nn.LSTM``/``nn.GRU`` (they reproduce h_t and c_t). A plain
RNN has no gates: the view says so, in a sentence, instead of drawing.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QStackedWidget, QWidget

from .common import BLUE, GREEN, GREY, ORANGE, RED, explanation_tip, make_plot, set_plot_projector, styled_pen
from .heatmap import DIVERGING, SEQUENTIAL, Heatmap, PlotPart, char_ticks
from .reading_view import ReadingView

TITLE = "Gates"
EXPLANATION = (
    "An LSTM or GRU has gates: numbers between 0 (shut) and 1 (open), one per unit, recomputed at every "
    "character. LSTM: the input gate lets new information into the cell, the forget gate keeps (1) or "
    "wipes (0) what the cell held, the output gate decides how much of the cell shows in h_t, and the "
    "candidate (-1 to +1) is the new content the input gate lets in. GRU: the update gate keeps the old "
    "state (1) or takes the new candidate (0), the reset gate decides how much of the old state the "
    "candidate may use. Left: every unit at every character; right: each gate averaged over the units. "
    "How to read it: a forget gate that stays near 1 across a sentence is a memory being kept; a burst "
    "of input after a space is a new word being written in. A plain RNN has no gates: all of its state "
    "is rewritten at every character, which is why it forgets. What to try: train an LSTM on the 'long memory' "
    "sentences and watch its forget gates between the first word and the last."
)
GATE_COLORS = {"input": BLUE, "forget": GREEN, "output": ORANGE, "candidate": RED, "reset": BLUE, "update": GREEN}
MEANS_PX = 2.0


class GatesView(ReadingView):
    """``gatesHeatmap`` (the gates stacked, candidate last), ``gateMeansPlot``, or ``gatesReason``."""

    def __init__(self, parent=None):
        super().__init__("gatesView", "gatesNote", wrap_note=False, parent=parent)
        outer = self.outer
        self.layerCombo = self.add_choice(QComboBox(self))
        self.layerCombo.setObjectName("gatesLayerCombo")
        self.stack = QStackedWidget(self)
        outer.addWidget(self.stack, 1)
        self.gatesReason = QLabel(self.stack)
        self.gatesReason.setObjectName("gatesReason")
        self.gatesReason.setWordWrap(True)
        font = self.gatesReason.font()
        font.setPointSize(font.pointSize() + 2)
        self.gatesReason.setFont(font)
        self.stack.addWidget(self.gatesReason)
        plots = QWidget(self.stack)
        plots_row = QHBoxLayout(plots)
        plots_row.setContentsMargins(0, 0, 0, 0)
        self.heatmap = Heatmap(
            "gatesHeatmap",
            "Gates of every unit",
            "character read",
            "gate: unit",
            maps=(SEQUENTIAL, DIVERGING),
            levels=(0.0, 1.0),
            bar_label="open",
            parent=plots,
        )
        plots_row.addWidget(self.heatmap.plot, 3)
        self.meansPlot = make_plot(
            "gateMeansPlot", "Averaged over the units", "character read", "mean", parent=plots, small=True
        )
        self.meansPlot.getPlotItem().getViewBox().setMouseEnabled(x=False, y=False)
        self.meansPlot.getPlotItem().addLegend(offset=(-4, -4), labelTextColor="#222222", brush=(255, 255, 255, 200))
        self.meansPlot.setYRange(-1, 1)
        plots_row.addWidget(self.meansPlot, 2)
        self.stack.addWidget(plots)
        self._curves: dict[str, object] = {}
        self._projector = (False, 1.5)
        for widget in (self, self.heatmap.plot, self.meansPlot):
            widget.setToolTip(explanation_tip(EXPLANATION))
        self._names: tuple[str, ...] = ()
        self.layerCombo.currentIndexChanged.connect(self.redraw_again)
        self.clear()

    def explanation(self) -> str:
        return EXPLANATION

    def projector_parts(self) -> list:
        return [self.heatmap, PlotPart(self.meansPlot, self._restyle_means)]

    def _restyle_means(self, enabled: bool, scale: float = 1.5) -> None:
        self._projector = (enabled, scale)
        set_plot_projector(self.meansPlot, enabled, scale)
        for name, curve in self._curves.items():
            curve.setPen(styled_pen(GATE_COLORS.get(name, GREY), MEANS_PX, enabled, scale))

    def clear(self, why: str = "Press Train: the gates of an LSTM or GRU reading the chosen text appear here.") -> None:
        self.reading = None
        self.dirty = False
        self.gatesReason.setText(why)
        self.stack.setCurrentIndex(0)
        self.layerCombo.hide()
        self.note.setText("")

    def redraw(self) -> bool:
        reading = self.take_reading()
        if reading is None:
            return False
        self.note.setText(self._note)
        if reading.gates is None:
            self.gatesReason.setText(f"No gates to show: {reading.gates_reason or 'this network has none'}.")
            self.stack.setCurrentIndex(0)
            self.layerCombo.hide()
            return True
        self.stack.setCurrentIndex(1)
        self.sync_layers(self.layerCombo, reading.layers)
        layer = max(0, self.layerCombo.currentIndex())
        names = tuple(reading.gates)
        gates = [n for n in names if n != "candidate"]
        units, steps = reading.units, len(reading.text)
        # the 0..1 gates in one image (band after band), the candidate (-1..1) above them in its own
        stacked = np.concatenate([reading.gates[n][layer] for n in gates], axis=1)  # [T, gates x units]
        self.heatmap.show(0, stacked, QRectF(0, 0, steps, len(gates) * units), (0.0, 1.0))
        if "candidate" in names:
            self.heatmap.show(
                1, reading.gates["candidate"][layer], QRectF(0, len(gates) * units, steps, units), (-1.0, 1.0)
            )
        order = gates + (["candidate"] if "candidate" in names else [])
        if names != self._names:
            self._names = names
            ticks = [((i + 0.5) * units, name) for i, name in enumerate(order)]
            self.heatmap.plot.getPlotItem().getAxis("left").setTicks([ticks, []])
            self._make_curves(order)
        if reading.text != self._text:
            self._text = reading.text
            ticks = char_ticks(reading.text, limit=40)
            self.heatmap.plot.getPlotItem().getAxis("bottom").setTicks(ticks)
            self.meansPlot.getPlotItem().getAxis("bottom").setTicks(ticks)
            # a fixed range (the y one is too): no auto-range pass over the curves at every refresh
            self.meansPlot.setXRange(0, steps, padding=0)
        x = np.arange(steps) + 0.5
        for name in order:
            self._curves[name].setData(x, reading.gates[name][layer].mean(axis=1))
        return True

    def _make_curves(self, order: list[str]) -> None:
        item = self.meansPlot.getPlotItem()
        for curve in self._curves.values():
            item.removeItem(curve)
        if item.legend is not None:
            item.legend.clear()
        enabled, scale = self._projector
        self._curves = {
            name: item.plot(pen=styled_pen(GATE_COLORS.get(name, GREY), MEANS_PX, enabled, scale), name=name)
            for name in order
        }
