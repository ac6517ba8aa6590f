"""Hidden state: h_t (and an LSTM's c_t) of every unit at every character.

A heatmap per layer, x = the characters of the text read, y = the units;
clicking a unit (or choosing it in the box) colours the text below by that
unit's activation, Karpathy's "neuron" view from "The Unreasonable
Effectiveness of Recurrent Neural Networks" (2015). The numbers are
``core.inspection.read_text``'s, the ones ``rnn-studio inspect`` prints.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Signal
from PySide6.QtWidgets import QComboBox, QSpinBox

from .char_strip import CharStrip, colors_for
from .common import explanation_tip
from .heatmap import Heatmap, char_ticks
from .reading_view import ReadingView

TITLE = "Hidden state"
EXPLANATION = (
    "What the network remembers at every character: each row is one hidden unit, each column one character "
    "of the text it reads, blue for a negative value, red for a positive one (h_t lies between -1 and +1). "
    "For an LSTM you can also show the cell state c_t, its long-term memory, which can grow past 1. "
    "Click a row (or choose a unit below) to colour the text by that unit: some units learn to fire "
    "inside a word, after a space, or until a particular letter comes. How to read it: early in "
    "training the picture is noise; as the loss falls, stripes appear where units carry something "
    "forward. What to try: read a training sentence and then your prompt; compare an RNN with an LSTM "
    "on the 'long memory' sentences and look for a unit that stays on from the first word to the last."
)


class HiddenStateView(ReadingView):
    """``hiddenHeatmap``, the layer/state choice and the text coloured by one unit (``unitStrip``)."""

    unitChosen = Signal(int)

    def __init__(self, parent=None):
        super().__init__("hiddenStateView", "hiddenNote", wrap_note=True, parent=parent)
        layout = self.outer
        self.layerCombo = self.add_choice(QComboBox(self))
        self.layerCombo.setObjectName("hiddenLayerCombo")
        self.stateCombo = self.add_choice(QComboBox(self))
        self.stateCombo.setObjectName("hiddenStateCombo")
        self.stateCombo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.unitSpin = self.add_choice(QSpinBox(self))
        self.unitSpin.setObjectName("hiddenUnitSpin")
        self.unitSpin.setPrefix("unit ")
        self.heatmap = Heatmap(
            "hiddenHeatmap",
            "h_t: every unit at every character",
            "character read",
            "unit",
            bar_label="value",
            parent=self,
        )
        layout.addWidget(self.heatmap.plot, 1)
        self.unitStrip = CharStrip("unitStrip", self)
        layout.addWidget(self.unitStrip)
        self.setToolTip(explanation_tip(EXPLANATION))
        self.heatmap.plot.setToolTip(explanation_tip(EXPLANATION))
        self.layerCombo.currentIndexChanged.connect(self.redraw_again)
        self.stateCombo.currentIndexChanged.connect(self.redraw_again)
        self.unitSpin.valueChanged.connect(self._unit_changed)
        self.heatmap.plot.scene().sigMouseClicked.connect(self._clicked)
        self.clear()

    def explanation(self) -> str:
        return EXPLANATION

    def projector_parts(self) -> list:
        return [self.heatmap, self.unitStrip]

    # -- data ------------------------------------------------------------------------------------
    def clear(self, why: str = "Press Train: the hidden state of the chosen text appears here.") -> None:
        self.reading = None
        self.dirty = False
        for image in self.heatmap.images:
            image.clear()
        self.unitStrip.set_cells("", [])
        self.note.setText(why)

    def redraw(self) -> bool:
        reading = self.take_reading()
        if reading is None:
            return False
        self._sync_choices(reading)
        layer = max(0, self.layerCombo.currentIndex())
        what = self.stateCombo.currentData() or "hidden"
        values = reading.cell if what == "cell" and reading.cell is not None else reading.hidden
        values = values[layer]  # [T, units]
        if what == "cell":
            bound = float(np.nanmax(np.abs(values))) if values.size else 1.0
            levels = (-max(bound, 1e-6), max(bound, 1e-6))
        else:
            levels = (-1.0, 1.0)
        self.heatmap.set_bar_levels(levels)
        self.heatmap.show(0, values, QRectF(0, 0, values.shape[0], values.shape[1]), levels)
        title = "c_t: the cell state (long-term memory)" if what == "cell" else "h_t: every unit at every character"
        if layer or reading.layers > 1:
            title += f", layer {layer + 1}"
        if self.heatmap.plot.getPlotItem().titleLabel.text != title:
            from .common import set_title

            set_title(self.heatmap.plot, title)
        if reading.text != self._text:
            self._text = reading.text
            self.heatmap.plot.getPlotItem().getAxis("bottom").setTicks(char_ticks(reading.text))
        self.note.setText(self._note)
        self._paint_unit(values, levels)
        return True

    def _paint_unit(self, values: np.ndarray, levels) -> None:
        unit = min(self.unitSpin.value(), values.shape[1] - 1)
        activation = values[:, unit] / max(abs(levels[1]), 1e-6)
        tips = [f"'{c}': unit {unit} = {values[t, unit]:+.3f}" for t, c in enumerate(self.reading.text)]
        self.unitStrip.set_cells(self.reading.text, colors_for(activation, "diverging"), tips)

    def _sync_choices(self, reading) -> None:
        self.sync_layers(self.layerCombo, reading.layers)
        states = [("h_t (hidden state)", "hidden")] + (
            [("c_t (cell state)", "cell")] if reading.cell is not None else []
        )
        if self.stateCombo.count() != len(states):
            self.stateCombo.blockSignals(True)
            self.stateCombo.clear()
            for label, data in states:
                self.stateCombo.addItem(label, data)
            self.stateCombo.blockSignals(False)
        self.stateCombo.setVisible(len(states) > 1)
        if self.unitSpin.maximum() != reading.units - 1:
            self.unitSpin.setMaximum(reading.units - 1)

    # -- choices ---------------------------------------------------------------------------------
    def _unit_changed(self, unit: int) -> None:
        self.redraw_again()
        self.unitChosen.emit(unit)

    def choose_unit(self, unit: int) -> None:
        self.unitSpin.setValue(unit)

    def _clicked(self, event) -> None:
        if self.reading is None:
            return
        view = self.heatmap.plot.getPlotItem().getViewBox()
        if not view.sceneBoundingRect().contains(event.scenePos()):
            return
        point = view.mapSceneToView(event.scenePos())
        unit = int(np.floor(point.y()))
        if 0 <= unit < self.reading.units:
            self.choose_unit(unit)
