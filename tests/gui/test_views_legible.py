"""The views a teacher reads from the back of a classroom (issue 8, observations 5-8).

Every tensor bar is named, tick numbers never run together, the uniform-guess
label stays inside the loss plot and says why ln 18 goes with 17 characters,
the clip line is always in the gradient plot's range while clipping is on,
the sine legend covers no curve, every view explains itself, and projector
mode enlarges text and curves and restores them.
"""

import math
import re

import numpy as np
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QFont, QFontMetricsF, QImage, QPainter

from rnn_studio.gui.panels.gradient_panel import GradientView, short_name
from rnn_studio.gui.panels.loss_plot import LossView
from rnn_studio.gui.panels.sine_plot import SineView
from rnn_studio.gui.panels.text_view import TextView

ELMAN = ["rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0", "fc.weight", "fc.bias"]
LSTM_2_LAYERS = (
    ["embedding.weight"]
    + [f"rnn.{kind}_{part}_l{layer}" for layer in (0, 1) for kind in ("weight", "bias") for part in ("ih", "hh")]
    + ["fc.weight", "fc.bias"]
)
SMALL, LARGE = (450, 300), (900, 600)


def settle(qapp, widget, size):
    """Show at a size and paint until the axes have sized themselves to their text."""
    widget.resize(*size)
    widget.show()
    for _ in range(3):
        qapp.processEvents()
        widget.grab()
    qapp.processEvents()


def drawn_texts(axis) -> list[tuple[QRectF, str]]:
    """The tick texts the axis draws now, with their rectangles."""
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [(rect, text) for rect, _flags, text in specs[2]] if specs else []


def pixels(css_size: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(pt|px)", css_size).groups()
    return float(number) * (96 / 72 if unit == "pt" else 1)


def font_pixels(font: QFont) -> float:
    return font.pixelSize() if font.pixelSize() > 0 else font.pointSizeF() * 96 / 72


def gradient_view(names, values=None) -> GradientView:
    view = GradientView()
    values = values if values is not None else np.linspace(0.004, 0.06, len(names))
    view.set_param_norms(dict(zip(names, values, strict=True)))
    view.set_time_norms(np.linspace(0.001, 0.02, 12))
    view.append(np.arange(1, 201, dtype=float), 0.02 + 0.05 * np.abs(np.sin(np.arange(200) / 13)))
    view.redraw(force=True)
    return view


# --- 5. every bar named, numbers that never run together --------------------------


@pytest.mark.parametrize("names", [ELMAN, LSTM_2_LAYERS], ids=["elman", "lstm-2-layers"])
@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["small", "large"])
@pytest.mark.parametrize("projector", [False, True], ids=["desk", "projector"])
def test_every_tensor_bar_is_named_in_rows_that_do_not_overlap(qtbot, qapp, names, size, projector):
    view = gradient_view(names)
    qtbot.addWidget(view)
    view.set_projector(projector, 1.5)
    settle(qapp, view, size)
    axis = view.param_plot.getPlotItem().getAxis("left")
    texts = drawn_texts(axis)
    assert [text for _rect, text in texts] == [short_name(n) for n in names]  # W_hh0 included
    line = QFontMetricsF(axis.style["tickFont"]).height()
    centres = sorted(rect.center().y() for rect, _text in texts)
    assert min(np.diff(centres)) >= line, "the names' rows overlap"


def _assert_apart(texts, vertical: bool, where: str):
    for i, (a, text_a) in enumerate(texts):
        grown = a.adjusted(0, -0.5, 0, 0.5) if vertical else a.adjusted(-2, 0, 2, 0)
        for b, text_b in texts[i + 1 :]:
            assert not grown.intersects(b), f"{where}: {text_a!r} and {text_b!r} run together"


@pytest.mark.parametrize("width", [200, 260, 330, 450])
@pytest.mark.parametrize("log", [False, True], ids=["linear", "log"])
def test_tick_numbers_never_run_together(qtbot, qapp, width, log):
    loss = LossView()
    grad = gradient_view(ELMAN, values=[0.013, 0.064, 0.002, 0.002, 0.031, 0.008])
    for w in (loss.plot, grad):
        qtbot.addWidget(w)
    steps = np.arange(1, 401, dtype=float)
    loss.set_task("text", 18)
    loss.append(steps, 2.9 * np.exp(-steps / 60) + 0.04)
    loss.redraw()
    loss.set_log(log)
    grad.set_log(log)
    settle(qapp, loss.plot, (width, 300))
    settle(qapp, grad, (width * 2, 420))
    plots = {"loss": loss.plot, "gradient": grad.plot, "tensors": grad.param_plot, "time": grad.time_plot}
    for name, plot in plots.items():
        for side in ("bottom", "left"):
            texts = drawn_texts(plot.getPlotItem().getAxis(side))
            _assert_apart(texts, side == "left", f"{name} {side} axis at {width} px")


@pytest.mark.parametrize("projector", [False, True], ids=["desk", "projector"])
def test_titles_fit_the_plots_of_a_1024_window(qtbot, qapp, projector):
    loss, grad = LossView(), gradient_view(ELMAN)
    for w in (loss.plot, grad):
        qtbot.addWidget(w)
    loss.set_task("text", 18)
    for view in (loss, grad):
        view.set_projector(projector, 1.5)
    settle(qapp, loss.plot, (290, 380))  # the plots' sizes in a 1024 x 768 window
    settle(qapp, grad, (334, 402))
    # on a projector a 165 px plot cannot hold "Back through time" at 16 px: it is cut there
    plots = [loss.plot, grad.plot, grad.param_plot] + ([] if projector else [grad.time_plot])
    for plot in plots:
        label = plot.getPlotItem().titleLabel
        assert label.item.boundingRect().width() - 8 <= plot.width(), label.text  # 8: the text's margins
        assert pixels(label.opts["size"]) >= (16 if projector else 13), label.text


# --- 5 and 8. the uniform-guess line and its label ----------------------------------


@pytest.mark.parametrize("log", [False, True], ids=["linear", "log"])
@pytest.mark.parametrize("size", [(290, 380), SMALL, LARGE], ids=["in-1024-window", "small", "large"])
@pytest.mark.parametrize("projector", [False, True], ids=["desk", "projector"])
def test_uniform_guess_label_stays_inside_the_plot(qtbot, qapp, log, size, projector):
    view = LossView()
    qtbot.addWidget(view.plot)
    view.set_projector(projector, 1.5)
    view.set_task("text", 18)
    steps = np.arange(1, 301, dtype=float)
    # an untrained network starts right at the line, which then sits at the top of the plot
    view.append(steps, math.log(18) * np.exp(-steps / 80) + 0.05)
    view.redraw()
    view.set_log(log)
    settle(qapp, view.plot, size)
    box = view.plot.getPlotItem().getViewBox().sceneBoundingRect()
    label = view.reference_label.sceneBoundingRect()
    assert box.contains(label), f"label {label} leaves the plot {box}"


def test_uniform_guess_explains_the_slot_for_unseen_characters(qtbot):
    view = LossView()
    qtbot.addWidget(view.plot)
    view.set_task("text", 18)
    label = " ".join(view.reference_label.toPlainText().split())  # however the label is laid out
    assert "ln 18 = 2.89" in label
    assert "17 characters + 1 slot for unseen ones" in label
    tip = view.plot.toolTip()
    assert "17 different characters + 1 slot for unseen ones = 18 choices" in tip
    assert "ln 18 = 2.89" in tip
    view.set_task("sine", None)
    assert "18" not in view.plot.toolTip()


# --- 6. the clip line is where the class can see it -----------------------------------


@pytest.mark.parametrize("clip", [0.005, 0.04, 0.5, 25.0])
@pytest.mark.parametrize("log", [False, True], ids=["linear", "log"])
@pytest.mark.parametrize("clip_first", [False, True], ids=["data-then-clip", "clip-then-data"])
def test_clip_line_is_always_inside_the_gradient_plot(qtbot, qapp, clip, log, clip_first):
    view = GradientView()
    qtbot.addWidget(view)
    steps = np.arange(1, 101, dtype=float)
    norms = 0.02 + 0.05 * np.abs(np.sin(steps / 7))  # between 0.02 and 0.07
    if clip_first:
        view.set_clip(clip)
        view.set_log(log)
    view.append(steps, norms)
    view.redraw()
    if not clip_first:
        view.set_clip(clip)
        view.set_log(log)
    settle(qapp, view, SMALL)
    low, high = view.plot.getPlotItem().getViewBox().viewRange()[1]
    position = math.log10(clip) if log else clip
    assert view.clip_line.isVisible() and view.clip_line.value() == pytest.approx(position)
    assert low <= position <= high
    # the norms stay in view too
    shown = np.log10(norms) if log else norms
    assert low <= shown.min() and shown.max() <= high
    view.set_clip(0)
    settle(qapp, view, SMALL)
    low, high = view.plot.getPlotItem().getViewBox().viewRange()[1]
    if clip > 1:  # without the line the range shrinks back to the norms
        assert high < position


# --- 5. curves thick enough; the sine legend covers nothing --------------------------


def curve_pens(loss, grad, sine):
    return {
        "loss": loss.curve.opts["pen"],
        "gradient": grad.curve.opts["pen"],
        "sine predicted": sine.predicted.opts["pen"],
        "sine target": sine.target.opts["pen"],
        "sine input": sine.given.opts["pen"],
    }


def test_curves_are_thick_enough_to_see(qtbot):
    loss, grad, sine = LossView(), GradientView(), SineView()
    for w in (loss.plot, grad, sine.plot):
        qtbot.addWidget(w)
    for name, pen in curve_pens(loss, grad, sine).items():
        assert pen.widthF() >= 2.5, name


@pytest.mark.parametrize("mode", ["next", "sequence"])
def test_sine_legend_covers_no_curve(qtbot, qapp, mode):
    view = SineView()
    qtbot.addWidget(view.plot)
    view.reset(mode)
    wave = np.sin(np.linspace(0, 2 * np.pi, 20, endpoint=False))
    data = {"mode": mode, "input": wave, "target": np.roll(wave, -1), "predicted": 0.8 * np.roll(wave, -1)}
    if mode == "next":
        data.update(target=0.0, predicted=0.0, rollout=0.8 * wave)
    view.show_predictions(data)
    view.redraw()
    for size in (SMALL, LARGE):
        settle(qapp, view.plot, size)
        item = view.plot.getPlotItem()
        legend, box = item.legend.sceneBoundingRect(), item.getViewBox().sceneBoundingRect()
        assert legend.width() > 0 and not legend.intersects(box), (legend, box)
        assert view.plot.rect().contains(legend.toRect()), "the legend is cut off"
        assert [label.text for _sample, label in item.legend.items] == ["predicted", "target", "input"]


# --- 7. every view explains itself -----------------------------------------------------


def test_every_view_explains_itself(qtbot):
    from rnn_studio.gui.panels.explanations import view_explanations

    explained = dict(view_explanations())
    assert len(explained) == len(view_explanations()) >= 6
    for title, text in explained.items():
        assert len(text) > 250, title
        assert "read" in text and "try" in text.lower(), f"{title}: what it shows, how to read it, what to try"
    loss, grad, sine, reading = LossView(), GradientView(), SineView(), TextView()
    for w in (loss.plot, grad, sine.plot, reading):
        qtbot.addWidget(w)
    tips = {
        "loss": (loss.plot, loss.explanation()),
        "sine": (sine.plot, sine.explanation()),
        "text": (reading, reading.explanation()),
    }
    for (title, text), plot in zip(grad.explanations(), (grad.plot, grad.param_plot, grad.time_plot), strict=True):
        tips[title] = (plot, text)
    assert set(explained) >= {"Loss", "Gradient size per step", "Each tensor", "Back through time"}
    for name, (widget, text) in tips.items():
        tip = widget.toolTip()
        assert text[:60] in tip, f"{name}'s tooltip is not its explanation: {tip[:80]!r}"
        assert tip.startswith("<p"), f"{name}: a rich-text tooltip, so Qt wraps the paragraph"
    assert "W_hh" in explained["Each tensor"] and "recurrent" in explained["Each tensor"]
    assert "unseen" in explained["Loss"] or "never seen" in explained["Loss"]


# --- projector mode -------------------------------------------------------------------


def plot_text_sizes(plot) -> dict:
    item = plot.getPlotItem()
    sizes = {"title": pixels(item.titleLabel.opts["size"])}
    for side in ("bottom", "left"):
        axis = item.getAxis(side)
        sizes[f"{side} ticks"] = font_pixels(axis.style["tickFont"])
        if axis.labelText:
            sizes[f"{side} label"] = pixels(axis.labelStyle["font-size"])
    if item.legend is not None:
        for _sample, label in item.legend.items:
            sizes[f"legend {label.text}"] = pixels(label.opts["size"])
    return sizes


def test_projector_mode_enlarges_text_and_curves_and_turns_back(qtbot, qapp):
    loss, grad, sine, reading = LossView(), GradientView(), SineView(), TextView()
    for w in (loss.plot, grad, sine.plot, reading):
        qtbot.addWidget(w)
    grad.set_param_norms(dict(zip(ELMAN, np.linspace(0.01, 0.05, 6), strict=True)))
    grad.redraw(force=True)
    loss.set_task("text", 18)
    sine.reset("sequence")
    plots = {"loss": loss.plot, "gradient": grad.plot, "tensors": grad.param_plot, "time": grad.time_plot}
    plots["sine"] = sine.plot
    views = (loss, grad, sine, reading)
    desk_text = {name: plot_text_sizes(plot) for name, plot in plots.items()}
    desk_pens = {name: pen.widthF() for name, pen in curve_pens(loss, grad, sine).items()}
    desk_reading = font_pixels(reading.font())

    for view in views:
        view.set_projector(True, 1.5)
    for name, plot in plots.items():
        for part, size in plot_text_sizes(plot).items():
            assert size >= 16, f"{name} {part}: {size} px on a projector"
            assert size > desk_text[name][part], f"{name} {part} did not grow"
        title_row = plot.getPlotItem().titleLabel.maximumHeight()
        assert title_row >= 1.4 * plot_text_sizes(plot)["title"], f"{name}: the title row clips the title"
    for name, pen in curve_pens(loss, grad, sine).items():
        assert pen.widthF() >= 3 and pen.widthF() > desk_pens[name], name
    assert loss.reference.pen.widthF() >= 3 and grad.clip_line.pen.widthF() >= 3
    assert font_pixels(reading.font()) > desk_reading
    settle(qapp, grad, LARGE)
    assert font_pixels(grad.param_plot.getPlotItem().getAxis("left").style["tickFont"]) >= 16
    # the title set by a task change keeps the projector size
    loss.set_task("sine", None)
    assert plot_text_sizes(loss.plot)["title"] >= 16

    for view in views:
        view.set_projector(False, 1.5)
    loss.set_task("text", 18)
    for name, plot in plots.items():
        sizes = plot_text_sizes(plot)
        # a title shrinks (by a quarter at most) where the plot is too narrow for it
        wanted = desk_text[name].pop("title")
        assert 0.74 * wanted <= sizes.pop("title") <= 17.4
        if name == "tensors":  # the names' font fits the plot's height, which has changed
            assert sizes.pop("left ticks") <= round(sizes["bottom ticks"])
            desk_text[name].pop("left ticks")
        assert sizes == pytest.approx(desk_text[name]), name
    assert {name: pen.widthF() for name, pen in curve_pens(loss, grad, sine).items()} == desk_pens
    assert font_pixels(reading.font()) == desk_reading
