"""The model panel: architecture, size, encoding, dropout, direction, pooling, parameter count.

``bidirectionalCheck`` is enabled only where reading both ways is valid (a
classifier, the sine next-value task); elsewhere its tooltip says why not
(the backward direction would see what must be predicted). ``poolingCombo``
is the classifier's pooling over time. The "Advanced" section (folded by
default) holds ``xavierCheck``, seed 002's Xavier initialisation.

The parameter count is computed from the settings with the core's estimate
(no model is built in the GUI thread: an 8-layer LSTM of 4096 units would take
seconds and gigabytes just to count). tests/gui checks it against the models
the core builds.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core.config import ARCH_LABELS, ARCHITECTURES, MAX_HIDDEN, MAX_LAYERS, ModelConfig
from ...core.resources import estimate_parameters
from .common import tooltip


def count_parameters(model: ModelConfig, task: str, vocab_size: int, classes: int = 0) -> int:
    """What ``parameter_count(build_model(model, task))`` will return."""
    if task == "text":
        return estimate_parameters(model, vocab_size, vocab_size, text=True)
    if task == "classify":
        return estimate_parameters(model, vocab_size, classes, text=False, classify=True)
    return estimate_parameters(model, 1, 1, text=False)


BIDIRECTIONAL_TIP = (
    "Read each sequence both ways, start to end and end to start, and join what the two directions remember: "
    "a word's meaning can depend on what comes after it ('not bad at all'). Twice the recurrent weights."
)
# why it is greyed out, per task (tooltips of a disabled check box)
NOT_BIDIRECTIONAL = {
    "text": "Not for next-character text: the backward direction would already have read the very character "
    "the network must predict, so it would learn to copy, not to predict.",
    "sequence": "Not for the sine sequence mode: each step predicts the next point, which the backward "
    "direction would already have seen.",
    "elman": "The from-scratch Elman network reads in one direction only: choose RNN, LSTM or GRU.",
}
POOLS = (
    ("max", "Max over time", "Seed 002: for each number of the memory, its largest value over all the words."),
    ("last", "Last step", "The memory after the last word (and, reading backwards, after the first)."),
    ("mean", "Mean over time", "The average memory over all the words."),
)
POOLING_TIP = (
    "How the network's memory after every word becomes one summary of the whole sentence, which the "
    "classifier then labels. Classify task only."
)
XAVIER_TIP = (
    "Xavier (Glorot) initialisation, seed 002's best practice: start every weight matrix with random values "
    "scaled to its size, so signals neither shrink nor blow up through the layers, and every bias at 0. Off: "
    "PyTorch's default start."
)


ARCH_TIPS = {
    "rnn": "The classic recurrent network: one tanh layer that mixes the new input with its memory.",
    "rnn-relu": "Like the classic RNN but with ReLU: simpler, and its gradients can blow up.",
    "lstm": "Long short-term memory: gates decide what to keep, so it remembers much further back.",
    "gru": "Gated recurrent unit: a lighter LSTM with two gates; also remembers far back.",
    "elman": "Elman's 1990 network written out by hand from weight tensors, as in seed 003.",
}


class ModelPanel(QGroupBox):
    changed = Signal()

    def __init__(self, parent=None):
        super().__init__("Model", parent)
        self.setObjectName("modelPanel")
        form = QFormLayout(self)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # a narrow panel puts fields under their labels
        self.archCombo = QComboBox(self)
        self.archCombo.setObjectName("archCombo")
        for index, arch in enumerate(ARCHITECTURES):
            self.archCombo.addItem(ARCH_LABELS[arch], arch)
            self.archCombo.setItemData(index, ARCH_TIPS[arch], 3)  # Qt.ToolTipRole
        tooltip(
            self.archCombo,
            "Which kind of recurrent network learns: a plain RNN, or an LSTM/GRU "
            "whose gates help it remember further back.",
        )
        form.addRow("Architecture", self.archCombo)
        self.layersSpin = QSpinBox(self)
        self.layersSpin.setObjectName("layersSpin")
        self.layersSpin.setRange(1, MAX_LAYERS)
        tooltip(self.layersSpin, f"How many recurrent layers are stacked on top of each other (1 to {MAX_LAYERS}).")
        form.addRow("Layers", self.layersSpin)
        self.hiddenSpin = QSpinBox(self)
        self.hiddenSpin.setObjectName("hiddenSpin")
        self.hiddenSpin.setRange(1, MAX_HIDDEN)
        self.hiddenSpin.setValue(12)
        tooltip(
            self.hiddenSpin,
            f"How many numbers the network's memory holds at each step (1 to {MAX_HIDDEN}); "
            "more can learn more but trains slower.",
        )
        form.addRow("Hidden size", self.hiddenSpin)
        self.encodingCombo = QComboBox(self)
        self.encodingCombo.setObjectName("encodingCombo")
        self.encodingCombo.addItem("One-hot", "onehot")
        self.encodingCombo.addItem("Embedding (16 numbers)", "embedding")
        tooltip(
            self.encodingCombo,
            "How a letter enters the network: one-hot gives each letter its own input "
            "switch; an embedding learns 16 numbers per letter (text task only).",
        )
        form.addRow("Encoding", self.encodingCombo)
        self.dropoutSpin = QDoubleSpinBox(self)
        self.dropoutSpin.setObjectName("dropoutSpin")
        self.dropoutSpin.setRange(0.0, 0.9)
        self.dropoutSpin.setSingleStep(0.05)
        self.dropoutSpin.setDecimals(2)
        tooltip(
            self.dropoutSpin,
            "While training, switch off this fraction of the memory at random "
            "(0 to 0.9) so the network cannot lean on any single number.",
        )
        form.addRow("Dropout", self.dropoutSpin)
        self.bidirectionalCheck = QCheckBox("Read both ways (bidirectional)", self)
        self.bidirectionalCheck.setObjectName("bidirectionalCheck")
        tooltip(self.bidirectionalCheck, BIDIRECTIONAL_TIP)
        form.addRow("Direction", self.bidirectionalCheck)
        self.poolingCombo = QComboBox(self)
        self.poolingCombo.setObjectName("poolingCombo")
        for index, (name, label, tip) in enumerate(POOLS):
            self.poolingCombo.addItem(label, name)
            self.poolingCombo.setItemData(index, tip, Qt.ItemDataRole.ToolTipRole)
        tooltip(self.poolingCombo, POOLING_TIP)
        form.addRow("Pooling", self.poolingCombo)
        self.advancedButton = QToolButton(self)
        self.advancedButton.setObjectName("modelAdvancedButton")
        self.advancedButton.setText("Advanced")
        self.advancedButton.setCheckable(True)
        self.advancedButton.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advancedButton.setArrowType(Qt.ArrowType.RightArrow)
        self.advancedButton.setAutoRaise(True)
        tooltip(self.advancedButton, "Show or hide the less common model settings.")
        form.addRow(self.advancedButton)
        self.advanced = QWidget(self)
        advanced = QVBoxLayout(self.advanced)
        advanced.setContentsMargins(12, 0, 0, 0)
        self.xavierCheck = QCheckBox("Xavier initialisation", self.advanced)
        self.xavierCheck.setObjectName("xavierCheck")
        tooltip(self.xavierCheck, XAVIER_TIP)
        advanced.addWidget(self.xavierCheck)
        form.addRow(self.advanced)
        self.advanced.hide()
        self.advancedButton.toggled.connect(self._show_advanced)
        self.parameterCountLabel = QLabel(self)
        self.parameterCountLabel.setObjectName("parameterCountLabel")
        tooltip(self.parameterCountLabel, "How many numbers (weights) training adjusts.")
        form.addRow("Parameters", self.parameterCountLabel)
        self.run_widgets = [self.archCombo, self.layersSpin, self.hiddenSpin, self.encodingCombo, self.dropoutSpin,
                            self.bidirectionalCheck, self.poolingCombo, self.xavierCheck]
        self.bidirectionalCheck.toggled.connect(self.changed)
        self.poolingCombo.currentIndexChanged.connect(self.changed)
        self.xavierCheck.toggled.connect(self.changed)
        self.archCombo.currentIndexChanged.connect(self.changed)
        self.layersSpin.valueChanged.connect(self.changed)
        self.hiddenSpin.valueChanged.connect(self.changed)
        self.encodingCombo.currentIndexChanged.connect(self.changed)
        self.dropoutSpin.valueChanged.connect(self.changed)

    @property
    def arch(self) -> str:
        return self.archCombo.currentData() or "rnn"

    @property
    def encoding(self) -> str:
        return self.encodingCombo.currentData() or "onehot"

    def set_embedding_size(self, size: int) -> None:
        """The embedding's size in its item's words (text 16, classify 32)."""
        index = self.encodingCombo.findData("embedding")
        self.encodingCombo.setItemText(index, f"Embedding ({size} numbers)")

    @property
    def pool(self) -> str:
        return self.poolingCombo.currentData() or "max"

    def set_pool(self, pool: str) -> None:
        index = self.poolingCombo.findData(pool)
        if index >= 0:
            self.poolingCombo.setCurrentIndex(index)

    def _show_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advancedButton.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    def allow_bidirectional(self, task: str, sine_mode: str) -> None:
        """Enable the check box only where reading both ways is valid; else
        untick it and say why in its tooltip."""
        if self.arch == "elman":
            why = NOT_BIDIRECTIONAL["elman"]
        elif task == "text":
            why = NOT_BIDIRECTIONAL["text"]
        elif task == "sine" and sine_mode == "sequence":
            why = NOT_BIDIRECTIONAL["sequence"]
        else:
            why = None
        check = self.bidirectionalCheck
        if why is not None and check.isChecked():
            check.setChecked(False)
        check.setEnabled(why is None)
        tooltip(check, BIDIRECTIONAL_TIP if why is None else f"{why}\n\n{BIDIRECTIONAL_TIP}")

    def set_arch(self, arch: str) -> None:
        index = self.archCombo.findData(arch)
        if index >= 0:
            self.archCombo.setCurrentIndex(index)

    def set_encoding(self, encoding: str) -> None:
        index = self.encodingCombo.findData(encoding)
        if index >= 0:
            self.encodingCombo.setCurrentIndex(index)

    def show_count(self, count: int | None, too_big: str | None = None, *, on_screen: int | None = None) -> None:
        """The parameter count the controls describe. ``on_screen``: the count of
        the network the window shows (a run that has ended); when the controls
        describe another size, the label says it is the next run's."""
        text = "–" if count is None else f"{count:,}"
        if too_big:
            self.parameterCountLabel.setText(
                f"<span style='color:#b71c1c'><b>{text}: too big for this machine</b></span>"
            )
            self.parameterCountLabel.setToolTip(too_big[0].upper() + too_big[1:] + ".")
        elif count is not None and on_screen is not None and count != on_screen:
            self.parameterCountLabel.setText(f"{text} (next run)")
            self.parameterCountLabel.setToolTip(
                f"The next run (Train) builds a network with {text} weights; "
                f"the network on screen has {on_screen:,}."
            )
        else:
            self.parameterCountLabel.setText(text)
            self.parameterCountLabel.setToolTip("How many numbers (weights) training adjusts.")
