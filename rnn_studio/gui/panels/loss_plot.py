"""The loss curve: every step kept, drawn downsampled, optional log scale.

The first data item of ``lossPlot`` is the loss per step (x = step number).
When the run holds data out (``RunStarted.has_validation``) a second curve,
orange, dashed, a dot per epoch, is the validation loss measured after every
epoch; when an epoch is several steps (minibatches, a text file's windows),
the training loss averaged over each epoch is drawn too, as dark blue dots,
so the two are compared epoch for epoch. Epoch points sit at the step that
ended the epoch (epoch x steps per epoch); a legend under the plot names the
curves and says which points are steps and which epochs.
For text, a dashed line marks ln(vocabulary size): the cross-entropy of a
uniform guess, the loss an untrained network starts near. The vocabulary has
one slot more than the characters the sentences use (index 0 is kept for
characters never seen in training), and the line's label says so: otherwise
"17 different characters" beside "ln 18" reads as a mistake.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetricsF

from ...core.series import EnvelopeSeries
from .common import (
    BLUE,
    GREY,
    LABEL_PT,
    ORANGE,
    PROJECTOR_TEXT_PX,
    explanation_tip,
    make_plot,
    plot_text,
    set_plot_projector,
    set_title,
    styled_pen,
)
from .curve_data import CurveData

TITLE = "Loss"
EXPLANATION = (
    "How wrong the network still is, one point per training step (one epoch: one pass over the data). "
    "For text it is the cross-entropy of the next-letter guesses: 0 would mean the network is sure of "
    "every next letter and right. The dashed line is a blind uniform guess, ln(number of choices): "
    "every character of the sentences plus one slot the vocabulary keeps for characters never seen in "
    "training. An untrained network starts near that line. For the sine wave the loss is the mean "
    "squared error between the predicted and the true values. "
    "How to read it: the curve should fall, quickly at first, then flatten. Spikes or a climb mean the "
    "steps are too large: lower the learning rate or turn on gradient clipping. A curve that flattens "
    "high means the network cannot do better: try more hidden units or an LSTM or GRU. Tick "
    "'log scale' to see the small improvements late in training. "
    "With part of the data held out for validation (the Validation setting), an orange dashed curve shows "
    "the loss on those examples the network never trains on, once per epoch. While both fall the network "
    "is learning what generalises; when the training loss keeps falling but the validation loss turns up, "
    "it has started to learn its training examples by heart (overfitting): stop there, or use more data, "
    "dropout or a smaller network."
)
EPOCH_BLUE = "#0b2f6b"

CURVE_PX = 2.5
REFERENCE_PX = 2.0
VALID_PX = 2.5
EPOCH_DOT_PX = 7


def uniform_guess_texts(vocab_size: int) -> list[str]:
    """The reference line's label, ln(choices) with the unknown slot counted
    aloud, from the widest layout to the narrowest."""
    characters = vocab_size - 1
    noun = "character" if characters == 1 else "characters"
    guess, value = "uniform guess:", f"ln {vocab_size} = {math.log(vocab_size):.2f}"
    count, slot = f"({characters} {noun}", "+ 1 slot for unseen ones)"
    return [
        f"{guess} {value}\n{count} {slot}",
        f"{guess} {value}\n{count}\n{slot}",
        f"{guess}\n{value}\n{count}\n{slot}",
        f"{guess}\n{value}\n{count}\n+ 1 slot for\nunseen ones)",
    ]


def uniform_guess_text(vocab_size: int) -> str:
    return uniform_guess_texts(vocab_size)[0]


class LossView:
    def __init__(self, parent=None):
        self.plot = make_plot("lossPlot", "Loss", "step (epoch)", "loss: how wrong", parent=parent)
        item = self.plot.getPlotItem()
        item.setClipToView(True)
        item.setDownsampling(auto=True, mode="peak")
        self.curve = item.plot(pen=styled_pen(BLUE, CURVE_PX), name="loss")
        self.data = CurveData(self.curve)
        self.buffer = self.data.full  # every step kept (bounded)
        # per epoch: the training mean (when an epoch is several steps) and the validation loss
        self.epoch_curve = item.plot(pen=None, symbol="s", symbolSize=EPOCH_DOT_PX - 1, symbolBrush=EPOCH_BLUE,
                                     symbolPen=None)
        self.valid_curve = item.plot(
            pen=styled_pen(ORANGE, VALID_PX, style=Qt.PenStyle.DashLine), symbol="o", symbolSize=EPOCH_DOT_PX,
            symbolBrush=ORANGE, symbolPen=None,
        )
        self.valid_curve.setZValue(2)
        self.epoch_buffer = EnvelopeSeries(2)
        self.valid_buffer = EnvelopeSeries(2)
        self.steps_per_epoch = 1
        self.has_validation = False
        self.legend = pg.LegendItem(colCount=2, horSpacing=4, labelTextSize=f"{LABEL_PT}pt",
                                    labelTextColor="#222222", frame=False)
        self.legend.setMinimumWidth(0)
        self._legend_shown = False
        self.reference = pg.InfiniteLine(
            angle=0, movable=False, pen=styled_pen(GREY, REFERENCE_PX, style=Qt.PenStyle.DashLine)
        )
        # below the line when it is in the upper half of the view, above it otherwise
        # (pyqtgraph picks between the two anchors): the label never leaves the plot
        # under the title, where the line sits when training starts. Its right edge
        # at the plot's right, where the loss has fallen by then, keeps a wide label
        # inside a narrow plot.
        self.reference_label = pg.InfLineLabel(
            self.reference,
            text="",
            position=0.99,
            anchors=[(1, -0.15), (1, 1.15)],  # clear of the line's dashes
            color="#333333",
            fill=pg.mkBrush(255, 255, 255, 170),  # the curve shows through where it passes
        )
        self.reference.hide()
        item.addItem(self.reference, ignoreBounds=True)
        self._reference_value: float | None = None
        self._vocab_size: int | None = None
        self._log = False
        self.dirty = False
        item.getViewBox().sigResized.connect(self._fit_reference_label)
        self.plot.setToolTip(explanation_tip(self.explanation()))

    def explanation(self) -> str:
        """The paragraph a class reads about this view (its tooltip and Help text)."""
        if self._vocab_size:
            n = self._vocab_size
            return (
                f"{EXPLANATION}\n\nHere: {n - 1} different characters + 1 slot for unseen ones = {n} choices, "
                f"so a uniform guess costs ln {n} = {math.log(n):.2f}."
            )
        return EXPLANATION

    def reset(self) -> None:
        self.data.clear()
        self.epoch_buffer.clear()
        self.valid_buffer.clear()
        self.curve.setData([], [])
        self.epoch_curve.setData([], [])
        self.valid_curve.setData([], [])
        self.dirty = False

    def set_run(self, steps_per_epoch: int, has_validation: bool) -> None:
        """What the run draws: several steps per epoch? a validation curve?"""
        self.steps_per_epoch = max(1, int(steps_per_epoch or 1))
        self.has_validation = bool(has_validation)
        item = self.plot.getPlotItem()
        if self.steps_per_epoch > 1:
            x_label = f"step ({self.steps_per_epoch:,}/epoch)"
        else:
            x_label = "epoch (one step each)"
        item.getAxis("bottom").setLabel(x_label)
        self.legend.clear()
        several = self.steps_per_epoch > 1
        self.legend.addItem(self.curve, "per step" if several else "training")
        if several:
            self.legend.addItem(self.epoch_curve, "epoch mean")
        if self.has_validation:
            self.legend.addItem(self.valid_curve, "validation")
        self._show_legend(several or self.has_validation)
        style = plot_text(self.plot)
        size = style.css(LABEL_PT)
        for _sample, label in self.legend.items:
            label.setText(label.text, size=size)

    def _show_legend(self, shown: bool) -> None:
        item = self.plot.getPlotItem()
        if shown and not self._legend_shown:
            item.layout.addItem(self.legend, 4, 0, 1, 3)
            item.layout.setAlignment(self.legend, Qt.AlignmentFlag.AlignHCenter)
            item.legend = self.legend  # projector mode sizes its text
            self.legend.show()
        elif not shown and self._legend_shown:
            item.layout.removeItem(self.legend)
            item.legend = None
            self.legend.hide()
        self._legend_shown = shown

    def append_epochs(self, epochs) -> None:
        """``core.events.EpochMetrics`` of the epochs just completed."""
        if not epochs:
            return
        spe = self.steps_per_epoch
        x = np.array([m.epoch * spe for m in epochs], dtype=np.float64)
        if spe > 1:
            train = np.array([np.nan if m.loss is None else m.loss for m in epochs], dtype=np.float64)
            if self.epoch_buffer.extend_finite(x, train):
                self.dirty = True
        if self.has_validation:
            valid = np.array([np.nan if m.valid_loss is None else m.valid_loss for m in epochs], dtype=np.float64)
            if self.valid_buffer.extend_finite(x, valid):
                self.dirty = True

    def set_task(self, task: str, vocab_size: int | None) -> None:
        """Title for the task's loss; for text, the uniform-guess line at ln(vocabulary size)."""
        kind = "cross-entropy" if task in ("text", "classify") else "mean squared error"
        set_title(self.plot, f"Loss ({kind})")
        if task == "text" and vocab_size and vocab_size > 1:
            self._vocab_size = vocab_size
            self._reference_value = math.log(vocab_size)
            self.reference.show()
            self._fit_reference_label()
        else:
            self._vocab_size = None
            self._reference_value = None
            self.reference.hide()
        self._place_reference()
        self.plot.setToolTip(explanation_tip(self.explanation()))

    def append(self, steps: np.ndarray, losses: np.ndarray) -> None:
        if self.data.extend_finite(steps, losses):
            self.dirty = True

    def redraw(self) -> bool:
        """Push new points to the curve; True when there was something to draw."""
        if not self.dirty:
            return False
        self.dirty = False
        self.data.draw()
        self.epoch_curve.setData(self.epoch_buffer.column(0), self.epoch_buffer.column(1))
        self.valid_curve.setData(self.valid_buffer.column(0), self.valid_buffer.column(1))
        # settle the auto range now, not inside paintEvent: a range that changes
        # during the paint makes Qt paint the whole plot twice (bench/README.md)
        self.plot.scene().prepareForPaint()
        return True

    def set_log(self, on: bool) -> None:
        self._log = on
        self.plot.getPlotItem().setLogMode(False, on)
        self._place_reference()

    def set_projector(self, enabled: bool, scale: float = 1.5) -> None:
        """Projector-sized text and thicker lines; ``enabled=False`` restores the desktop look."""
        set_plot_projector(self.plot, enabled, scale)
        self.curve.setPen(styled_pen(BLUE, CURVE_PX, enabled, scale))
        self.valid_curve.setPen(styled_pen(ORANGE, VALID_PX, enabled, scale, Qt.PenStyle.DashLine))
        dot = round(EPOCH_DOT_PX * (scale if enabled else 1.0))
        self.valid_curve.setSymbolSize(dot)
        self.epoch_curve.setSymbolSize(dot - 1)
        self.reference.setPen(styled_pen(GREY, REFERENCE_PX, enabled, scale, Qt.PenStyle.DashLine))
        self._fit_reference_label()

    def _fit_reference_label(self, *_args) -> None:
        """The widest layout of the label that fits the plot's width, at the label's
        size or, in a narrow plot, a little smaller (never under the projector floor)."""
        style = plot_text(self.plot)
        if self._vocab_size is None:  # no label text yet: its size still follows the mode
            self.reference_label.setFont(_pixel_font(round(style.pixels(LABEL_PT - 1))))
            return
        wanted = round(style.pixels(LABEL_PT - 1))
        smallest = max(PROJECTOR_TEXT_PX, round(0.8 * wanted)) if style.projector else round(0.8 * wanted)
        room = self.plot.getPlotItem().getViewBox().width() - 12  # the text's margins and a gap
        texts = uniform_guess_texts(self._vocab_size)
        text, pixels = texts[-1], smallest  # nothing fits: the narrowest, cut at its left
        for size in range(wanted, smallest - 1, -1):
            metrics = QFontMetricsF(_pixel_font(size))
            fitting = [t for t in texts if max(metrics.horizontalAdvance(line) for line in t.split("\n")) <= room]
            if fitting or room <= 0:  # not laid out yet: the widest, at full size
                text, pixels = (fitting[0] if fitting else texts[0]), size
                break
        if text != self.reference_label.format:
            self.reference_label.setFormat(text)
        if self.reference_label.textItem.font().pixelSize() != pixels:
            self.reference_label.setFont(_pixel_font(pixels))
        self.reference_label.updatePosition()

    def _place_reference(self) -> None:
        value = self._reference_value
        if value is None:
            return
        self.reference.setPos(math.log10(value) if self._log else value)

    @property
    def points(self) -> int:
        return self.buffer.size


def _pixel_font(pixels: int) -> QFont:
    font = QFont()
    font.setPixelSize(pixels)
    return font
