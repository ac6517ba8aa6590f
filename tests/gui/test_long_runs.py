"""An all-night "until paused" run: the window's per-step history stays under a
stated bound (issue 12), and what is drawn and exported still tells the truth.

The steps are fed the way the runner hands them over (``StepBatch``es to the
views' append and the export record), 3.2 million of them, without training:
a real run that long takes hours."""

import csv

import numpy as np
import pyqtgraph as pg

from rnn_studio.core.events import EpochMetrics, StepBatch
from rnn_studio.core.series import MAX_POINTS, MAX_ROWS

STEPS = 3_200_000
CHUNK = 100_000
SPIKE_STEP = 2_345_679


def batches():
    rng = np.random.default_rng(0)
    for start in range(1, STEPS + 1, CHUNK):
        step = np.arange(start, start + CHUNK, dtype=np.float64)
        loss = 0.05 + 0.01 * rng.random(CHUNK)
        loss[step == SPIKE_STEP] = 7.5  # one bad step in the night
        yield StepBatch(
            step=step, loss=loss, grad_norm=1.0 + rng.random(CHUNK), lr=np.full(CHUNK, 0.01),
            steps=int(step[-1]), epoch=int(step[-1]), epochs=None, until_paused=True, lr_now=0.01,
            elapsed=step[-1] / 1000, steps_per_s=1000.0, param_grad_norms={}, time_grad_norms=None,
            epochs_done=(EpochMetrics(int(step[-1]), float(loss[-1])),),
        )


def test_an_all_night_run_keeps_a_bounded_history(window, tmp_path):
    w = window
    for batch in batches():
        w.lossView.append(batch.step, batch.loss)
        w.gradientView.append(batch.step, batch.grad_norm)
        w.lr_history.extend(batch.step, batch.lr)
        w.exporter.record.add(batch)
    for series in (w.lossView.buffer, w.gradientView.buffer, w.lr_history):
        assert series.size <= MAX_POINTS
        assert series.nbytes <= 2 * 8 * MAX_POINTS  # 16 MiB a curve, whatever the run's length
    record = w.exporter.record
    assert record.steps.size <= MAX_ROWS and record.steps.nbytes <= 4 * 8 * MAX_ROWS
    assert record.steps.offered == STEPS

    # every step is still kept at one resolution for the whole night, the bad step among them
    full = w.lossView.buffer
    kx, ky = full.column(0), full.column(1)
    assert full.group == 8 and kx[0] <= full.group and kx[-1] >= STEPS - full.group
    assert full.size > MAX_POINTS // 2 and list(kx[ky == 7.5]) == [SPIKE_STEP]

    # the curve drawn shows the whole night, and the one bad step in it
    assert w.lossView.redraw()
    curve = w.lossPlot.getPlotItem().listDataItems()[0]
    x, y = curve.xData, curve.yData
    group = w.lossView.data.overview.group
    assert x[0] <= group and x[-1] >= STEPS - group
    assert list(x[y == 7.5]) == [SPIKE_STEP]
    assert y.min() >= 0.05 and np.all(np.diff(x) > 0)
    assert isinstance(curve, pg.PlotDataItem)

    # the export holds evenly spaced steps over the whole run, their figures unchanged
    folder = tmp_path / "night"
    folder.mkdir()
    record.write(str(folder))
    with open(folder / "metrics.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    steps = np.array([int(r["step"]) for r in rows])
    assert len(rows) <= MAX_ROWS and len(rows) > MAX_ROWS // 4
    assert len(set(np.diff(steps))) == 1 and steps[0] == 1 and steps[-1] > STEPS - np.diff(steps)[0]
    assert all(r["lr"] == "0.01" for r in rows[:: len(rows) // 50])


def test_the_whole_run_draws_from_the_overview_and_a_zoom_draws_every_step(window, qtbot):
    from rnn_studio.gui.panels.curve_data import OVERVIEW_POINTS

    w = window
    w.show()
    qtbot.waitExposed(w)
    steps = np.arange(1, 400_001, dtype=np.float64)
    loss = 1.0 + 0.001 * np.sin(steps)
    loss[123_457] = 9.0
    w.lossView.append(steps, loss)
    assert w.lossView.redraw()
    curve = w.lossPlot.getPlotItem().listDataItems()[0]
    # the whole run in view: at most OVERVIEW_POINTS handed to pyqtgraph, the spike among them
    assert w.lossView.data.drawn == "overview" and len(curve.xData) <= OVERVIEW_POINTS
    assert 123_458.0 in curve.xData[curve.yData == 9.0] and curve.xData[-1] >= 400_000 - 16
    # zoomed in to a tenth of the run: every step there is drawn
    w.lossPlot.getPlotItem().getViewBox().setXRange(100_000, 140_000, padding=0)
    assert w.lossView.data.drawn == "full" and len(curve.xData) == 400_000
    # back to the whole run (the plot's auto range): the overview again
    w.lossPlot.getPlotItem().getViewBox().enableAutoRange()
    qtbot.waitUntil(lambda: w.lossView.data.drawn == "overview", timeout=5000)
    assert len(curve.xData) <= OVERVIEW_POINTS
