"""The training panel: optimizer, learning rate, epochs, clip, seed, pace, device.

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
    QWidget,
)

from ...core.config import MAX_EPOCHS, MAX_LR
from .common import tooltip

# Pace stops, slowest first; 0 = flat out. In epochs (= steps) per second.
PACES = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 0.0)
FLAT_OUT = len(PACES) - 1

DEVICE_TIP = (
    "Which chip does the arithmetic: the CPU always works; a graphics card "
    "(CUDA or Apple MPS) is faster for big networks."
)
CPU_TIP = "Train on the CPU: always available."
LOOKING_LABEL = "Looking for GPUs…"
LOOKING_TIP = "Looking for graphics cards while PyTorch loads; they appear here in a moment."


def pace_label(pace: float) -> str:
    return "flat out" if pace <= 0 else f"{pace:g} epochs/s"


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

        pace_row = QWidget(self)
        pace_layout = QHBoxLayout(pace_row)
        pace_layout.setContentsMargins(0, 0, 0, 0)
        self.paceSlider = QSlider(Qt.Orientation.Horizontal, pace_row)
        self.paceSlider.setObjectName("paceSlider")
        self.paceSlider.setRange(0, FLAT_OUT)
        self.paceSlider.setPageStep(1)
        self.paceSlider.setValue(FLAT_OUT)
        self.paceSlider.setTickPosition(QSlider.TickPosition.TicksBelow)
        tooltip(
            self.paceSlider,
            "How fast training goes: slow it down (1 to 100 epochs per second) so the "
            "class can watch, or run it flat out. Works while training runs.",
        )
        pace_layout.addWidget(self.paceSlider, 1)
        self.paceLabel = QLabel(pace_label(0.0), pace_row)
        self.paceLabel.setObjectName("paceLabel")
        self.paceLabel.setMinimumWidth(self.paceLabel.fontMetrics().horizontalAdvance("100 epochs/s") + 6)
        pace_layout.addWidget(self.paceLabel)
        form.addRow("Pace", pace_row)

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

        self.run_widgets = [self.optimizerCombo, self.seedSpin, self.deviceCombo]
        self.optimizerCombo.currentIndexChanged.connect(self.changed)
        self.seedSpin.valueChanged.connect(self.changed)
        self.deviceCombo.currentIndexChanged.connect(self.changed)
        self.lrSpin.valueChanged.connect(self._lr_changed)
        self.clipSpin.valueChanged.connect(self._clip_changed)
        self.epochsSpin.valueChanged.connect(self._epochs_changed)
        self.untilPausedCheck.toggled.connect(self._epochs_changed)
        self.paceSlider.valueChanged.connect(self._pace_changed)

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
        self.paceLabel.setText(pace_label(self.pace))
        self.paceChanged.emit(self.pace)
        self.changed.emit()
