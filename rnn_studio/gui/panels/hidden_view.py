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
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from .char_strip import CharStrip, colors_for
from .common import GREY, explanation_tip
from .heatmap import Heatmap, char_ticks

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


class HiddenStateView(QWidget):
    """``hiddenHeatmap``, the layer/state choice and the text coloured by one unit (``unitStrip``)."""

    unitChosen = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("hiddenStateView")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        row = QHBoxLayout()
        self.layerCombo = QComboBox(self)
        self.layerCombo.setObjectName("hiddenLayerCombo")
        self.stateCombo = QComboBox(self)
        self.stateCombo.setObjectName("hiddenStateCombo")
        self.stateCombo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.unitSpin = QSpinBox(self)
        self.unitSpin.setObjectName("hiddenUnitSpin")
        self.unitSpin.setPrefix("unit ")
        self.note = QLabel(self)
        self.note.setObjectName("hiddenNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {GREY}")
        for widget in (self.layerCombo, self.stateCombo, self.unitSpin):
            row.addWidget(widget)
        row.addWidget(self.note, 1)
        layout.addLayout(row)
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
        self.reading = None
        self._note = ""
        self.dirty = False
        self._text = None
        self.layerCombo.currentIndexChanged.connect(self._choice_changed)
        self.stateCombo.currentIndexChanged.connect(self._choice_changed)
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

    def show_reading(self, reading, note: str = "") -> None:
        """Hold ``reading`` (inspection.Reading); drawn by ``redraw``."""
        self.reading = reading
        self._note = note
        self.dirty = True

    def show_error(self, why: str) -> None:
        self.clear(why)

    def redraw(self) -> bool:
        if not self.dirty or self.reading is None:
            return False
        self.dirty = False
        reading = self.reading
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
        if self.layerCombo.count() != reading.layers:
            self.layerCombo.blockSignals(True)
            self.layerCombo.clear()
            for i in range(reading.layers):
                self.layerCombo.addItem(f"layer {i + 1}")
            self.layerCombo.blockSignals(False)
        self.layerCombo.setVisible(reading.layers > 1)
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
    def _choice_changed(self, *_args) -> None:
        if self.reading is not None:
            self.dirty = True
            self.redraw()

    def _unit_changed(self, unit: int) -> None:
        if self.reading is not None:
            self.dirty = True
            self.redraw()
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
