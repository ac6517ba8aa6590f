"""The training panel: optimizer, learning rate, epochs, batches, clip, seed, pace, device.

``batchSpin`` (0 = all in one batch) and ``shuffleCheck`` are seed 002's
``DataLoader(batch_size, shuffle=True)`` for sentences, sine windows and
labelled examples; a text file has its own batch (parallel streams, beside
the file). The "Advanced" section (folded by default) holds
``plateauCheck``, the reduce-on-plateau learning-rate schedule.

The pace control (``PaceControl``) belongs to this panel but is shown in the
window's control bar, so it stays in view whatever the panel scrolls to.

The learning rate, clip, epochs and pace may change while a run goes on (the
worker applies them before its next step); the rest define the run and are
locked while it exists. The device list offers what this machine has and
shows what it lacks as disabled entries whose tooltip says why.

Listing the devices needs torch. ``TrainingPanel(defer_devices=True)`` starts
with the CPU alone and a "looking for GPUs" note; the window fills in the rest
with ``set_devices`` once torch has loaded on a background thread. A device
asked for before then (restored settings) is chosen when it appears.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QStyle,
    QToolButton,
    QWidget,
)

from ...core.config import MAX_BATCH, MAX_EPOCHS, MAX_LR
from .common import tooltip
from .fitting import FixedWidthLabel

# Pace stops, slowest first; 0 = flat out. In epochs (= steps) per second.
PACES = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 0.0)
FLAT_OUT = len(PACES) - 1
# A class can follow 20 epochs a second (the seed's 100 epochs take 5 s);
# flat out is one click away. Tests choose FLAT_OUT (tests/gui/conftest.py).
DEFAULT_PACE = PACES.index(20.0)

DEVICE_TIP = (
    "Which chip does the arithmetic: the CPU always works; a graphics card "
    "(CUDA or Apple MPS) is faster for big networks."
)
CPU_TIP = "Train on the CPU: always available."
LOOKING_LABEL = "Looking for GPUs…"
LOOKING_TIP = "Looking for graphics cards while PyTorch loads; they appear here in a moment."
BATCH_TIP = (
    f"How many examples (sentences, sine windows, labelled sentences) each weight update looks at (1 to "
    f"{MAX_BATCH:,}); 'all' = the whole training set in one batch, one update per epoch, as the seed tutorials "
    "train. Smaller batches: more, noisier updates per epoch; the loss plot then has several points (steps) "
    "per epoch."
)
SHUFFLE_TIP = (
    "Deal the examples into batches in a new random order every epoch (seed 002's DataLoader(shuffle=True)), "
    "so no batch always holds the same examples. Off: the same order every epoch."
)
NO_BATCHES = {
    "text_file": "A text file is read in order by parallel streams (the batch beside the file), each window "
    "carrying the memory of the one before: set its batch there.",
    "sequence": "The sine sequence mode trains one sequence with an update after every point (seed 003): "
    "there is nothing to batch.",
    "all": "One batch holds every example: there is no order to shuffle.",
}
PLATEAU_TIP = (
    "Reduce-on-plateau schedule (seed 002): when the loss (the validation loss, when part of the data is "
    "held out) has not improved for 5 epochs, halve the learning rate. Big steps early, fine steps late."
)


def pace_label(pace: float, short: bool = False) -> str:
    if pace <= 0:
        return "max" if short else "flat out"
    return f"{pace:g}/s" if short else f"{pace:g} epochs/s"


class TrainingPanel(QGroupBox):
    changed = Signal()
    lrChanged = Signal(float)
    clipChanged = Signal(float)
    epochsChanged = Signal(int, bool)
    paceChanged = Signal(float)

    def __init__(self, parent=None, *, defer_devices: bool = False):
        super().__init__("Training", parent)
        self.setObjectName("trainingPanel")
        form = QFormLayout(self)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # a narrow panel puts fields under their labels
        self.optimizerCombo = QComboBox(self)
        self.optimizerCombo.setObjectName("optimizerCombo")
        self.optimizerCombo.addItem("Adam", "adam")
        self.optimizerCombo.addItem("SGD (plain gradient descent)", "sgd")
        tooltip(
            self.optimizerCombo,
            "How the weights are nudged after each step: Adam adapts the step size "
            "per weight; SGD takes plain steps down the gradient.",
        )
        form.addRow("Optimizer", self.optimizerCombo)

        self.lrSpin = QDoubleSpinBox(self)
        self.lrSpin.setObjectName("lrSpin")
        self.lrSpin.setDecimals(5)
        self.lrSpin.setRange(0.00001, MAX_LR)
        self.lrSpin.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        self.lrSpin.setValue(0.01)
        self.lrSpin.setKeyboardTracking(False)
        tooltip(
            self.lrSpin,
            f"How big a step the weights take each time (0.00001 to {MAX_LR:g}); "
            "you can change it while training runs. Too big and the loss explodes.",
        )
        form.addRow("Learning rate", self.lrSpin)

        epochs_row = QWidget(self)
        epochs_layout = QHBoxLayout(epochs_row)
        epochs_layout.setContentsMargins(0, 0, 0, 0)
        self.epochsSpin = QSpinBox(epochs_row)
        self.epochsSpin.setObjectName("epochsSpin")
        self.epochsSpin.setRange(0, MAX_EPOCHS)
        self.epochsSpin.setValue(100)
        self.epochsSpin.setKeyboardTracking(False)
        tooltip(
            self.epochsSpin,
            f"How many times the network goes through all the training data "
            f"(0 to {MAX_EPOCHS:,}; 0 shows the untrained network).",
        )
        epochs_layout.addWidget(self.epochsSpin, 1)
        self.untilPausedCheck = QCheckBox("until paused", epochs_row)
        self.untilPausedCheck.setObjectName("untilPausedCheck")
        tooltip(self.untilPausedCheck, "Ignore the number of epochs and keep training until you press Pause or Stop.")
        epochs_layout.addWidget(self.untilPausedCheck)
        form.addRow("Epochs", epochs_row)

        batch_row = QWidget(self)
        batch_layout = QHBoxLayout(batch_row)
        batch_layout.setContentsMargins(0, 0, 0, 0)
        self.batchSpin = QSpinBox(batch_row)
        self.batchSpin.setObjectName("batchSpin")
        self.batchSpin.setRange(0, MAX_BATCH)
        self.batchSpin.setSpecialValueText("all")
        tooltip(self.batchSpin, BATCH_TIP)
        batch_layout.addWidget(self.batchSpin, 1)
        self.shuffleCheck = QCheckBox("shuffle", batch_row)
        self.shuffleCheck.setObjectName("shuffleCheck")
        self.shuffleCheck.setChecked(True)
        tooltip(self.shuffleCheck, SHUFFLE_TIP)
        batch_layout.addWidget(self.shuffleCheck)
        self.batchLabel = QLabel("Batch size", self)
        self.batchLabel.setToolTip(BATCH_TIP)
        form.addRow(self.batchLabel, batch_row)

        self.clipSpin = QDoubleSpinBox(self)
        self.clipSpin.setObjectName("clipSpin")
        self.clipSpin.setRange(0.0, 1000.0)
        self.clipSpin.setDecimals(2)
        self.clipSpin.setSingleStep(0.5)
        self.clipSpin.setSpecialValueText("off")
        self.clipSpin.setKeyboardTracking(False)
        tooltip(
            self.clipSpin,
            "Gradient clipping: if the gradient is longer than this, shrink it to this "
            "length before the step (0 = off, up to 1000). Stops sudden explosions.",
        )
        form.addRow("Gradient clip", self.clipSpin)

        self.seedSpin = QSpinBox(self)
        self.seedSpin.setObjectName("seedSpin")
        self.seedSpin.setRange(0, 2**31 - 1)
        tooltip(
            self.seedSpin,
            "The starting point of the random numbers: the same seed gives the same "
            "starting weights, so a run can be repeated exactly.",
        )
        form.addRow("Random seed", self.seedSpin)

        self.advancedButton = QToolButton(self)
        self.advancedButton.setObjectName("trainingAdvancedButton")
        self.advancedButton.setText("Advanced")
        self.advancedButton.setCheckable(True)
        self.advancedButton.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advancedButton.setArrowType(Qt.ArrowType.RightArrow)
        self.advancedButton.setAutoRaise(True)
        tooltip(self.advancedButton, "Show or hide the less common training settings.")
        form.addRow(self.advancedButton)
        self.advanced = QWidget(self)
        advanced = QHBoxLayout(self.advanced)
        advanced.setContentsMargins(12, 0, 0, 0)
        self.plateauCheck = QCheckBox("Halve the learning rate on a plateau", self.advanced)
        self.plateauCheck.setObjectName("plateauCheck")
        tooltip(self.plateauCheck, PLATEAU_TIP)
        advanced.addWidget(self.plateauCheck)
        form.addRow(self.advanced)
        self.advanced.hide()
        self.advancedButton.toggled.connect(self._show_advanced)

        # the pace lives in the window's control bar, always in view (the window places it)
        self.paceControl = PaceControl(self)
        self.paceSlider = self.paceControl.slider
        self.paceLabel = self.paceControl.label
        self.paceFlatOutButton = self.paceControl.flat_out_button

        self.deviceCombo = QComboBox(self)
        self.deviceCombo.setObjectName("deviceCombo")
        self.deviceCombo.setModel(QStandardItemModel(self.deviceCombo))
        tooltip(self.deviceCombo, DEVICE_TIP)
        form.addRow("Device", self.deviceCombo)
        self.devices_ready = False
        self._pending_device: str | None = None  # asked for before the list was complete
        if defer_devices:
            self._show_cpu_only()
        else:
            from ...core.devices import available_devices, unavailable_reasons

            self.set_devices([(d.name, d.label) for d in available_devices()], unavailable_reasons())

        self.run_widgets = [self.optimizerCombo, self.seedSpin, self.deviceCombo, self.batchSpin, self.shuffleCheck,
                            self.plateauCheck]
        self.batchSpin.valueChanged.connect(self.changed)
        self.shuffleCheck.toggled.connect(self.changed)
        self.plateauCheck.toggled.connect(self.changed)
        self.optimizerCombo.currentIndexChanged.connect(self.changed)
        self.seedSpin.valueChanged.connect(self.changed)
        self.deviceCombo.currentIndexChanged.connect(self.changed)
        self.lrSpin.valueChanged.connect(self._lr_changed)
        self.clipSpin.valueChanged.connect(self._clip_changed)
        self.epochsSpin.valueChanged.connect(self._epochs_changed)
        self.untilPausedCheck.toggled.connect(self._epochs_changed)
        self.paceSlider.valueChanged.connect(self._pace_changed)

    def _show_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advancedButton.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    def allow_batches(self, why_not: str | None) -> None:
        """Grey out the batch settings with the reason (``NO_BATCHES`` key) when the data has none."""
        for widget, tip in ((self.batchSpin, BATCH_TIP), (self.shuffleCheck, SHUFFLE_TIP)):
            reason = NO_BATCHES.get(why_not) if why_not else None
            if widget is self.shuffleCheck and reason is None and self.batchSpin.value() == 0:
                reason = NO_BATCHES["all"]
            widget.setEnabled(reason is None)
            tooltip(widget, tip if reason is None else f"{reason}\n\n{tip}")

    # -- devices ------------------------------------------------------------------------
    def _show_cpu_only(self) -> None:
        combo = self.deviceCombo
        combo.addItem("CPU", "cpu")
        combo.setItemData(0, CPU_TIP, Qt.ItemDataRole.ToolTipRole)
        combo.addItem(LOOKING_LABEL, "")
        combo.setItemData(1, LOOKING_TIP, Qt.ItemDataRole.ToolTipRole)
        combo.model().item(1).setEnabled(False)
        combo.setCurrentIndex(0)
        combo.setToolTip(f"{DEVICE_TIP} {LOOKING_TIP}")

    def set_devices(self, devices, unavailable: dict, *, apply_pending: bool = True) -> None:
        """Fill the list: ``devices`` as (name, label) pairs this machine can use
        (the CPU first), ``unavailable`` as {name: why} shown disabled. The
        current choice stays; a device asked for earlier is chosen if it is here
        and ``apply_pending``."""
        combo = self.deviceCombo
        current = combo.currentData() or "cpu"
        pending, self._pending_device = self._pending_device, None
        model: QStandardItemModel = combo.model()
        combo.blockSignals(True)  # the choice below is what counts, not the refill
        try:
            combo.clear()
            for name, label in devices:
                combo.addItem(label, name)
                tip = CPU_TIP if name == "cpu" else f"Train on {label}."
                combo.setItemData(combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
            labels = {"cuda": "CUDA (NVIDIA GPU): not available", "mps": "Apple GPU (MPS): not available"}
            for name, why in unavailable.items():
                combo.addItem(labels.get(name, f"{name}: not available"), name)
                index = combo.count() - 1
                combo.setItemData(index, why, Qt.ItemDataRole.ToolTipRole)
                model.item(index).setEnabled(False)
            index = combo.findData(current)
            combo.setCurrentIndex(max(0, index))
            self.devices_ready = True
            if pending and apply_pending:
                self.set_device(pending)
        finally:
            combo.blockSignals(False)
        tooltip(combo, DEVICE_TIP)
        if combo.currentData() != current:
            combo.currentIndexChanged.emit(combo.currentIndex())

    @property
    def device(self) -> str:
        return self.deviceCombo.currentData() or "cpu"

    @property
    def wanted_device(self) -> str:
        """The device to remember: the current one, or one asked for that the
        list does not show yet (restored settings while torch loads)."""
        return self._pending_device or self.device

    def set_device(self, name: str) -> bool:
        index = self.deviceCombo.findData(name)
        item = self.deviceCombo.model().item(index) if index >= 0 else None
        if index < 0 or not name or (item is not None and not item.isEnabled()):
            if not self.devices_ready:
                self._pending_device = name or None
            return False
        self._pending_device = None
        self.deviceCombo.setCurrentIndex(index)
        return True

    # -- values ---------------------------------------------------------------------------
    @property
    def optimizer(self) -> str:
        return self.optimizerCombo.currentData() or "adam"

    def set_optimizer(self, name: str) -> None:
        index = self.optimizerCombo.findData(name)
        if index >= 0:
            self.optimizerCombo.setCurrentIndex(index)

    @property
    def pace(self) -> float:
        return PACES[self.paceSlider.value()]

    def _lr_changed(self, value: float) -> None:
        self.lrChanged.emit(value)
        self.changed.emit()

    def _clip_changed(self, value: float) -> None:
        self.clipChanged.emit(value)
        self.changed.emit()

    def _epochs_changed(self, *_args) -> None:
        self.epochsSpin.setEnabled(not self.untilPausedCheck.isChecked())
        self.epochsChanged.emit(self.epochsSpin.value(), self.untilPausedCheck.isChecked())
        self.changed.emit()

    def _pace_changed(self, _value: int) -> None:
        self.paceControl.show_pace(self.pace)
        self.paceChanged.emit(self.pace)
        self.changed.emit()


class PaceControl(QWidget):
    """The pace slider, what it is set to, and a one-click "flat out" that
    remembers the slower pace to go back to. ``set_short`` fits it in a
    narrow window ("20/s")."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("paceControl")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.caption = QLabel("Pace", self)
        layout.addWidget(self.caption)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setObjectName("paceSlider")
        self.slider.setRange(0, FLAT_OUT)
        self.slider.setPageStep(1)
        self.slider.setValue(DEFAULT_PACE)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setMinimumWidth(80)
        self.slider.setMaximumWidth(160)
        tooltip(
            self.slider,
            f"How fast training goes: {PACES[DEFAULT_PACE]:g} epochs a second by default, so the class can "
            "watch the loss fall; 1 to 100 epochs per second, or flat out (the button beside it). "
            "Works while training runs.",
        )
        self.caption.setToolTip(self.slider.toolTip())
        layout.addWidget(self.slider, 1)
        self.label = FixedWidthLabel([pace_label(p) for p in PACES], self)
        self.label.setObjectName("paceLabel")
        layout.addWidget(self.label)
        self.flat_out_button = QToolButton(self)
        self.flat_out_button.setObjectName("paceFlatOutButton")
        self.flat_out_button.setCheckable(True)
        self.flat_out_button.setText("Flat out")
        self.flat_out_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaSeekForward))
        self.flat_out_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.flat_out_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        tooltip(
            self.flat_out_button,
            "Train as fast as this computer can; click again to go back to the watchable pace.",
        )
        layout.addWidget(self.flat_out_button)
        self._slower = DEFAULT_PACE  # where "flat out" goes back to
        self._short = False
        self.flat_out_button.toggled.connect(self._flat_out_toggled)
        self.show_pace(PACES[self.slider.value()])

    def show_pace(self, pace: float) -> None:
        value = self.slider.value()
        if value != FLAT_OUT:
            self._slower = value
        self.label.setText(pace_label(pace, short=self._short))
        self.flat_out_button.blockSignals(True)
        self.flat_out_button.setChecked(value == FLAT_OUT)
        self.flat_out_button.blockSignals(False)

    def _flat_out_toggled(self, on: bool) -> None:
        self.slider.setValue(FLAT_OUT if on else self._slower)

    def set_short(self, short: bool) -> None:
        """Short words in a narrow window: "20/s", and the button's icon alone."""
        self._short = short
        self.label.set_samples([pace_label(p, short=short) for p in PACES])
        self.label.setText(pace_label(PACES[self.slider.value()], short=short))
        self.flat_out_button.setToolButtonStyle(
            Qt.ToolButtonStyle.ToolButtonIconOnly if short else Qt.ToolButtonStyle.ToolButtonTextBesideIcon
        )
