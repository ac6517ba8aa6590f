"""Export (issue 11): every plot as PNG, SVG or CSV, a plot to the clipboard, and a whole run.

Plots are written by pyqtgraph's own exporters (``ImageExporter``,
``SVGExporter``, ``CSVExporter``), the ones its context menu's Export… uses:
they render the plot's scene as it is drawn now, so projector mode's big
text is in the file when it is on. Copy to clipboard grabs the plot as shown.

Export run… writes a folder a student can take home: ``settings.json`` (the
run's ``RunConfig``), ``metrics.csv`` (every training step the window
received), ``epochs.csv`` (per-epoch figures, where measured), one PNG per
plot, and ``train.py`` from ``core.script_export.script_for`` where that
module exists (it is looked for once, when this module is imported).
"""

from __future__ import annotations

import csv
import json
import os
import re

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters as pg_exporters
from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QCursor
from PySide6.QtWidgets import QApplication, QFileDialog, QMenu

from ..core.config import RunConfig
from ..core.errors import StudioError
from ..core.events import StepBatch
from ..core.series import MAX_ROWS, StridedTable
from .status_display import sentence

try:  # written by another part of issue 11; the run export says when it is missing
    from ..core.script_export import script_for
except ImportError:  # pragma: no cover - depends on what is installed
    script_for = None

FORMATS = ("png", "svg", "csv")
MIN_IMAGE_WIDTH = 800  # a slide needs more pixels than a small plot has on screen


def plot_title(plot: pg.PlotWidget) -> str:
    text = plot.getPlotItem().titleLabel.text or ""
    text = re.sub(r"<[^>]+>", "", text).strip()
    return text or plot.objectName()


def export_plot(plot: pg.PlotWidget, path: str, kind: str | None = None) -> str:
    """Write ``plot`` to ``path`` as png, svg or csv (from the suffix when
    ``kind`` is None) with pyqtgraph's exporters; raises OSError/ValueError."""
    kind = (kind or os.path.splitext(path)[1].lstrip(".")).lower()
    item = plot.getPlotItem()
    if kind == "png":
        exporter = pg_exporters.ImageExporter(item)
        width = max(int(item.sceneBoundingRect().width()), MIN_IMAGE_WIDTH)
        exporter.parameters()["width"] = width
        exporter.export(path)
    elif kind == "svg":
        try:
            pg_exporters.SVGExporter(item).export(path)
        except (ValueError, TypeError, ZeroDivisionError):
            # pyqtgraph 0.13's SVG writer trips over empty curves (a validation curve
            # before the first epoch): Qt's own SVG painter draws the plot as shown instead
            _render_svg(plot, path)
    elif kind == "csv":
        pg_exporters.CSVExporter(item).export(path)
    else:
        raise ValueError(f"cannot export a plot as {kind!r} (choose png, svg or csv)")
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        raise OSError(f"nothing was written to {path}")
    return path


def has_data(plot: pg.PlotWidget) -> bool:
    """Does any curve of the plot hold a point? (empty plots are left out of a run's figures)"""
    for curve in plot.getPlotItem().listDataItems():
        x = curve.getData()[0]
        if x is not None and np.size(x):
            return True
    return False


def _render_svg(plot: pg.PlotWidget, path: str) -> None:
    from PySide6.QtCore import QRect, QSize
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    generator = QSvgGenerator()
    generator.setFileName(path)
    size = plot.size()
    generator.setSize(QSize(size.width(), size.height()))
    generator.setViewBox(QRect(0, 0, size.width(), size.height()))
    generator.setTitle(plot_title(plot))
    painter = QPainter(generator)
    try:
        plot.render(painter)
    finally:
        painter.end()


class MetricsRecord(QObject):
    """Every step and epoch of the network on screen, as the runner sent them,
    in bounded tables (``core.series.StridedTable``): up to ``MAX_ROWS`` steps
    (and epochs) every one; beyond, every other one, then every fourth...,
    evenly spaced, the first column saying which. An all-night run stays
    under 2 x MAX_ROWS x 8 x (4 + 5) bytes (72 MiB at the default)."""

    STEP_COLUMNS = ("step", "loss", "grad_norm", "lr")
    EPOCH_COLUMNS = ("epoch", "loss", "valid_loss", "accuracy", "valid_accuracy")

    def __init__(self, runner, parent=None, max_rows: int = MAX_ROWS):
        super().__init__(parent)
        self.steps = StridedTable(len(self.STEP_COLUMNS), max_rows=max_rows)
        self.epochs = StridedTable(len(self.EPOCH_COLUMNS), capacity=64, max_rows=max_rows)
        runner.batch.connect(self.add)
        runner.networkChanged.connect(self.clear)

    def clear(self) -> None:
        self.steps.clear()
        self.epochs.clear()

    def add(self, batch: StepBatch) -> None:
        self.steps.extend(batch.step, batch.loss, batch.grad_norm, batch.lr)
        if batch.epochs_done:
            figures = [[e.epoch, *(np.nan if v is None else v for v in (e.loss, e.valid_loss, e.accuracy,
                                                                       e.valid_accuracy))]
                       for e in batch.epochs_done]
            self.epochs.extend(*np.asarray(figures, dtype=np.float64).T)

    def write(self, folder: str) -> list[str]:
        written = []
        path = os.path.join(folder, "metrics.csv")
        with open(path, "w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle)
            out.writerow(self.STEP_COLUMNS)
            out.writerows((int(step), *(repr(float(v)) for v in values)) for step, *values in self.steps.rows())
        written.append(path)
        if self.epochs.size:
            path = os.path.join(folder, "epochs.csv")
            with open(path, "w", newline="", encoding="utf-8") as handle:
                out = csv.writer(handle)
                out.writerow(self.EPOCH_COLUMNS)
                for epoch, *values in self.epochs.rows():
                    out.writerow([int(epoch), *("" if not np.isfinite(v) else repr(float(v)) for v in values)])
            written.append(path)
        return written


class Exporter(QObject):
    """File → Export (one submenu per plot), Copy to clipboard, Export run…"""

    def __init__(self, window, file_menu: QMenu, before: QAction):
        super().__init__(window)
        self.window = window
        self.record = MetricsRecord(window.runner, self)
        self.exportMenu = QMenu("&Export", window)
        self.exportMenu.setObjectName("exportMenu")
        self.exportMenu.setToolTipsVisible(True)
        self.exportMenu.menuAction().setObjectName("exportMenuAction")
        self.exportMenu.aboutToShow.connect(self._fill_menu)
        self.copyPlotAction = QAction("&Copy plot to clipboard", window)
        self.copyPlotAction.setObjectName("copyPlotAction")
        self.copyPlotAction.setToolTip("Copy the plot under the mouse (else the loss plot) as an image, for slides.")
        self.copyPlotAction.triggered.connect(lambda: self.copy_plot())
        self.exportRunAction = QAction("Export &run…", window)
        self.exportRunAction.setObjectName("exportRunAction")
        self.exportRunAction.setToolTip(
            "Write a folder with the run's settings (JSON), every step's metrics (CSV), the figures (PNG) "
            "and train.py, a plain-PyTorch script to take home."
        )
        self.exportRunAction.triggered.connect(self.export_run_clicked)
        for action in (self.copyPlotAction, self.exportRunAction):
            window.addAction(action)
        file_menu.insertMenu(before, self.exportMenu)
        file_menu.insertAction(before, self.copyPlotAction)
        file_menu.insertAction(before, self.exportRunAction)
        file_menu.insertSeparator(before)
        self._fill_menu()

    # ------------------------------------------------------------------ the plots
    def plots(self) -> dict[str, pg.PlotWidget]:
        """Every plot in the window by object name, in the order they were built."""
        found = {}
        for plot in self.window.findChildren(pg.PlotWidget):
            if plot.objectName():
                found.setdefault(plot.objectName(), plot)
        return found

    def _fill_menu(self) -> None:
        self.exportMenu.clear()
        for name, plot in self.plots().items():
            sub = self.exportMenu.addMenu(plot_title(plot))
            sub.setObjectName(f"export_{name}")
            for kind in FORMATS:
                action = sub.addAction(f"{kind.upper()}…")
                action.setObjectName(f"export_{name}_{kind}")
                action.triggered.connect(lambda _=False, n=name, k=kind: self.export_clicked(n, k))
            copy = sub.addAction("Copy to clipboard")
            copy.triggered.connect(lambda _=False, n=name: self.copy_plot(n))

    def export_clicked(self, name: str, kind: str) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, f"Export {name} as {kind.upper()}", f"{name}.{kind}",
                                              f"{kind.upper()} (*.{kind})")
        if path:
            self.export(name, path, kind)

    def export(self, name: str, path: str, kind: str | None = None) -> bool:
        plot = self.plots().get(name)
        if plot is None:
            self.window.show_message("error", f"There is no plot named {name}.")
            return False
        try:
            export_plot(plot, path, kind)
        except (OSError, ValueError, RuntimeError) as exc:
            self.window.show_message("error", f"Cannot export {plot_title(plot)}: {sentence(str(exc))}")
            return False
        self.window.show_message("info", f"{plot_title(plot)} exported to {path}.")
        return True

    def plot_under_mouse(self) -> pg.PlotWidget | None:
        widget = QApplication.widgetAt(QCursor.pos())
        while widget is not None and not isinstance(widget, pg.PlotWidget):
            widget = widget.parentWidget()
        return widget

    def copy_plot(self, name: str | None = None) -> bool:
        plot = self.plots().get(name) if name else (self.plot_under_mouse() or self.plots().get("lossPlot"))
        if plot is None:
            return False
        QApplication.clipboard().setPixmap(plot.grab())
        self.window.show_message("info", f"{plot_title(plot)} copied to the clipboard.")
        return True

    # ------------------------------------------------------------------ the run
    def run_config(self) -> RunConfig:
        network = self.window.runner.network
        if network is not None and getattr(network, "config", None):
            return RunConfig.from_dict(network.config)
        return self.window.build_config()

    def export_run_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.window, "Export run to folder")
        if folder:
            self.export_run(folder)

    def export_run(self, folder: str) -> list[str]:
        """Write the run's settings, metrics, figures and train.py into ``folder``;
        returns the files written (empty, with a message, when it could not)."""
        try:
            cfg = self.run_config()
            os.makedirs(folder, exist_ok=True)
            written = []
            path = os.path.join(folder, "settings.json")
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(cfg.to_dict(), handle, indent=2)
            written.append(path)
            written += self.record.write(folder)
            for name, plot in self.plots().items():
                if plot.isVisible() and has_data(plot):
                    written.append(export_plot(plot, os.path.join(folder, f"{name}.png"), "png"))
            note = ""
            if script_for is not None:
                path = os.path.join(folder, "train.py")
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(script_for(cfg))
                written.append(path)
            else:
                note = " train.py was left out: this version of RNN Studio cannot write the script yet."
        except (StudioError, OSError, ValueError, RuntimeError) as exc:
            self.window.show_message("error", f"Cannot export the run: {sentence(str(exc))}")
            return []
        self.window.show_message("info", f"Run exported to {folder}: {len(written)} files.{note}")
        return written


__all__ = ["Exporter", "FORMATS", "MetricsRecord", "export_plot", "has_data", "plot_title", "script_for"]
