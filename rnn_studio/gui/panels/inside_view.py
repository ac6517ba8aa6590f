"""The "Inside the network" area: the rewind bar above tabs of views (issue 10).

The first tab is the window's own reading of the sentences (or the sine
wave), handed in by the window; then Hidden state, Gates, Confidence, Memory
through time, Runs and Samples, each a view of its own file. Above the tabs,
always in sight: which text the hidden-state and gate views read, and the
rewind slider over the moments the run kept a snapshot of (its right end is
"now"); Train from here trains on from the moment shown, a new branch.

This widget only lays the views out and says what the user chose; what they
show is fed by ``rnn_studio/gui/inside.py``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from . import confidence_view, gates_view, hidden_view, memory_view, runs_view, samples_view
from .common import explanation_tip, tooltip
from .confidence_view import ConfidenceView
from .gates_view import GatesView
from .hidden_view import HiddenStateView
from .memory_view import MemoryView
from .runs_view import RunsView
from .samples_view import SamplesView

PROMPT_SOURCE = "\x00prompt"  # the source combo's data for "the prompt and its completion"
REWIND_TITLE = "Rewind"
REWIND_EXPLANATION = (
    "Go back in time: during training the studio keeps a copy of the weights at the start and at every "
    "tenth of the run (within a stated memory bound). Move the slider left to look at the network as it "
    "was then: the sentence reading, the hidden state, the gates and the confidence of the completion "
    "all show that moment; the right end is the network now. 'Train from here' trains on from the moment "
    "shown: a new branch, while the run you left stays in the Runs tab to compare. How to read it: the label "
    "names the epoch shown. What to try: rewind to the first tenth of the run and compare the hidden state then "
    "and now."
)


def explanations() -> list[tuple[str, str]]:
    """(title, paragraph) of every inside view, for the Help menu, in tab order."""
    from . import elman_dialog

    return [
        (hidden_view.TITLE, hidden_view.EXPLANATION),
        (gates_view.TITLE, gates_view.EXPLANATION),
        (confidence_view.TITLE, confidence_view.EXPLANATION),
        (memory_view.TITLE, memory_view.EXPLANATION),
        (runs_view.TITLE, runs_view.EXPLANATION),
        (samples_view.TITLE, samples_view.EXPLANATION),
        (REWIND_TITLE, REWIND_EXPLANATION),
        (elman_dialog.TITLE, elman_dialog.EXPLANATION),
    ]


class InsideView(QWidget):
    """``insideTabs`` (the reading first), ``insideSourceCombo``, ``rewindSlider``,
    ``rewindLabel``, ``rewindNowButton``, ``trainFromHereButton``."""

    sourceChanged = Signal()
    momentChanged = Signal(object)  # the epoch of the snapshot to show, or None for now
    trainFromHere = Signal(int)  # the epoch to branch from

    def __init__(self, reading: QWidget, parent=None):
        super().__init__(parent)
        self.setObjectName("insideView")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        bar = QWidget(self)
        bar.setObjectName("rewindBar")
        row = QHBoxLayout(bar)
        row.setContentsMargins(2, 0, 2, 0)
        self.sourceLabel = QLabel("Read:", bar)
        self.sourceCombo = QComboBox(bar)
        self.sourceCombo.setObjectName("insideSourceCombo")
        self.sourceCombo.setMinimumContentsLength(14)
        self.sourceCombo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        tooltip(
            self.sourceCombo,
            "The text whose hidden state and gates the Hidden state and Gates tabs show: a "
            "training sentence, or the prompt with the network's completion.",
        )
        self.momentLabel = QLabel("Moment:", bar)
        self.rewindSlider = QSlider(Qt.Orientation.Horizontal, bar)
        self.rewindSlider.setObjectName("rewindSlider")
        self.rewindSlider.setRange(0, 0)
        self.rewindSlider.setPageStep(1)
        self.rewindSlider.setMinimumWidth(120)
        self.rewindLabel = QLabel("now", bar)
        self.rewindLabel.setObjectName("rewindLabel")
        self.rewindNowButton = QPushButton("Now", bar)
        self.rewindNowButton.setObjectName("rewindNowButton")
        self.trainFromHereButton = QPushButton("Train from here", bar)
        self.trainFromHereButton.setObjectName("trainFromHereButton")
        tooltip(
            self.trainFromHereButton,
            "Train on from the moment shown: a new branch of this run (the run "
            "you leave stays in the Runs tab to compare).",
        )
        for widget in (self.rewindSlider, self.rewindLabel, self.rewindNowButton):
            widget.setToolTip(explanation_tip(REWIND_EXPLANATION))
        row.addWidget(self.sourceLabel)
        row.addWidget(self.sourceCombo, 2)
        row.addSpacing(8)
        row.addWidget(self.momentLabel)
        row.addWidget(self.rewindSlider, 2)
        row.addWidget(self.rewindLabel, 1)
        row.addWidget(self.rewindNowButton)
        row.addWidget(self.trainFromHereButton)
        layout.addWidget(bar)
        self.rewindBar = bar

        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("insideTabs")
        self.tabs.setDocumentMode(True)
        # the pages' own minimums (plots, tables) must not make the window taller than a
        # 1024x768 screen in projector mode: a short page scrolls or squeezes instead
        self.tabs.setMinimumHeight(90)
        layout.addWidget(self.tabs, 1)
        self.tabs.addTab(reading, "Reading")
        self.hiddenView = HiddenStateView(self.tabs)
        self.gatesView = GatesView(self.tabs)
        self.confidenceView = ConfidenceView(self.tabs)
        self.memoryView = MemoryView(self.tabs)
        self.runsView = RunsView(self.tabs)
        self.samplesView = SamplesView(self.tabs)
        for view, title, text in (
            (self.hiddenView, hidden_view.TITLE, hidden_view.EXPLANATION),
            (self.gatesView, gates_view.TITLE, gates_view.EXPLANATION),
            (self.confidenceView, confidence_view.TITLE, confidence_view.EXPLANATION),
            (self.memoryView, memory_view.TITLE, memory_view.EXPLANATION),
            (self.runsView, runs_view.TITLE, runs_view.EXPLANATION),
            (self.samplesView, samples_view.TITLE, samples_view.EXPLANATION),
        ):
            index = self.tabs.addTab(view, title)
            self.tabs.setTabToolTip(index, explanation_tip(text))
        self._moments: list[tuple[int, int]] = []
        self.sourceCombo.currentIndexChanged.connect(lambda _i: self.sourceChanged.emit())
        self.rewindSlider.valueChanged.connect(self._slider_moved)
        self.rewindNowButton.clicked.connect(lambda: self.rewindSlider.setValue(self.rewindSlider.maximum()))
        self.trainFromHereButton.clicked.connect(self._train_from_here)
        self.samplesView.momentClicked.connect(self.show_moment)
        self.set_moments([], "")

    # -- what the window and the controller use ---------------------------------------------------
    def views(self) -> list:
        return [self.hiddenView, self.gatesView, self.confidenceView, self.memoryView, self.runsView, self.samplesView]

    def projector_parts(self) -> list:
        """What the window's Projector restyles itself (plots, painted text)."""
        parts = []
        for view in self.views():
            parts += view.projector_parts() if hasattr(view, "projector_parts") else []
        return parts

    def current_view(self):
        widget = self.tabs.currentWidget()
        return widget if widget in self.views() else None

    def set_reading_title(self, title: str) -> None:
        self.tabs.setTabText(0, title)

    def set_sources(self, sentences: list[str]) -> None:
        """The training sentences the hidden-state and gate views can read, then the prompt."""
        wanted = [(s if len(s) <= 40 else s[:39] + "…", s) for s in sentences[:100]]
        wanted.append(("the prompt and its completion", PROMPT_SOURCE))
        current = [
            (self.sourceCombo.itemText(i), self.sourceCombo.itemData(i)) for i in range(self.sourceCombo.count())
        ]
        if current == wanted:
            return
        chosen = self.sourceCombo.currentData()
        self.sourceCombo.blockSignals(True)
        self.sourceCombo.clear()
        for label, data in wanted:
            self.sourceCombo.addItem(label, data)
        index = self.sourceCombo.findData(chosen) if chosen is not None else -1
        self.sourceCombo.setCurrentIndex(max(0, index))
        self.sourceCombo.blockSignals(False)
        self.sourceChanged.emit()

    def source(self) -> str | None:
        """The chosen training sentence, or None for the prompt."""
        data = self.sourceCombo.currentData()
        return None if data in (None, PROMPT_SOURCE) else data

    def moment(self) -> int | None:
        """The epoch of the snapshot the slider shows, None at its right end (now)."""
        value = self.rewindSlider.value()
        return self._moments[value][0] if value < len(self._moments) else None

    def set_moments(
        self, moments: list[tuple[int, int]], now_text: str, note: str = "", can_branch: bool = True
    ) -> None:
        """The snapshots kept ((epoch, step) each); the slider keeps the moment it shows."""
        shown = self.moment()
        moments = list(moments)
        if moments != self._moments:
            self._moments = moments
            self.rewindSlider.blockSignals(True)
            self.rewindSlider.setRange(0, len(moments))
            epochs = [m[0] for m in moments]
            self.rewindSlider.setValue(epochs.index(shown) if shown in epochs else len(moments))
            self.rewindSlider.blockSignals(False)
            if shown is not None and shown not in epochs:
                self.momentChanged.emit(None)
        self._now_text, self._note, self._can_branch = now_text, note, can_branch
        self._update_label()

    def show_moment(self, epoch: int | None) -> None:
        """Move the slider to the snapshot taken at ``epoch`` (None: now)."""
        epochs = [m[0] for m in self._moments]
        value = epochs.index(epoch) if epoch in epochs else len(self._moments)
        self.rewindSlider.setValue(value)

    def _slider_moved(self, _value: int) -> None:
        self._update_label()
        self.momentChanged.emit(self.moment())

    def _update_label(self) -> None:
        value, count = self.rewindSlider.value(), len(self._moments)
        if value < count:
            epoch, step = self._moments[value]
            text = f"epoch {epoch:,} (step {step:,}), snapshot {value + 1} of {count}"
        else:
            text = f"now: {self._now_text}" if self._now_text else "now"
        self.rewindLabel.setText(text)
        tip = REWIND_EXPLANATION + (f"\n\n{self._note}" if self._note else "")
        for widget in (self.rewindSlider, self.rewindLabel):
            widget.setToolTip(explanation_tip(tip))
        self.rewindSlider.setEnabled(count > 0)
        self.rewindNowButton.setEnabled(value < count)
        self.trainFromHereButton.setEnabled(value < count and self._can_branch)

    def _train_from_here(self) -> None:
        epoch = self.moment()
        if epoch is not None:
            self.trainFromHere.emit(epoch)
