"""Run comparison: the last runs, a table, and their curves over the loss view.

The window keeps the last runs (``core.history.RunHistory``, at least 5; a
pinned run is never dropped). The table lists each with its label (what
tells runs apart: architecture, layers x hidden size, learning rate...),
final loss, steps per second, parameters and training time; ticking "show"
draws its loss curve (and its validation curve, dotted, where it has one)
over the loss plot, each run in its own colour and line style, named in a
legend. ``RunOverlay`` draws onto the loss view's plot from outside: the
loss view itself is untouched (its own curve stays the run in progress).
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QTableWidgetItem, QVBoxLayout, QWidget

from .common import LABEL_PT, note_label, plot_text, read_only_table, styled_pen

TITLE = "Runs"
EXPLANATION = (
    "The last runs, newest at the bottom, so you can compare them: what each network was (architecture, "
    "layers x hidden size, learning rate and whatever else differed), its final loss, how many training "
    "steps per second it took, its number of parameters and its training time. Tick 'show' to draw a "
    "run's loss curve over the loss plot, in its own colour and line style (its validation curve dotted, "
    "where it has one), named in the legend; tick 'pin' to keep a run however many new ones you train "
    "(otherwise only the last few are kept). How to read it: a lower, earlier drop is a run that learned faster. "
    "What to try: train an RNN and then an LSTM on the 'long "
    "memory' sentences, show both, and see which one reaches the lower loss."
)
COLUMNS = ("show", "pin", "run", "final loss", "steps/s", "parameters", "time")
# colour and dash style per overlaid run, in turn: told apart in grey print and by the colour-blind too
OVERLAY_STYLES = (
    ("#8e24aa", Qt.PenStyle.DashLine),
    ("#00897b", Qt.PenStyle.DashDotLine),
    ("#6d4c41", Qt.PenStyle.DotLine),
    ("#d81b60", Qt.PenStyle.DashDotDotLine),
    ("#3949ab", Qt.PenStyle.DashLine),
    ("#7cb342", Qt.PenStyle.DashDotLine),
)
OVERLAY_PX = 2.0


def _time(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 60 else f"{int(seconds // 60)} min {int(seconds % 60):02d} s"


class RunsView(QWidget):
    """``runsTable``: one row per run; ``showToggled(run_id, on)``, ``pinToggled(run_id, on)``."""

    showToggled = Signal(int, bool)
    pinToggled = Signal(int, bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("runsView")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        self.note = note_label(
            self, "runsNote", "Every run you train is listed here; tick 'show' to draw it over the loss plot.", grey=False
        )
        layout.addWidget(self.note)
        self.table = read_only_table(self, "runsTable", COLUMNS, stretch_column=2)
        layout.addWidget(self.table, 1)
        self.setToolTip(EXPLANATION)
        self.table.itemChanged.connect(self._item_changed)
        self.dirty = False
        self._rows: list = []
        self._shown: set[int] = set()
        self._current: int | None = None

    def explanation(self) -> str:
        return EXPLANATION

    def show_runs(self, runs, shown: set[int], current: int | None) -> None:
        self._rows, self._shown, self._current = list(runs), set(shown), current
        self.dirty = True

    def redraw(self) -> bool:
        if not self.dirty:
            return False
        self.dirty = False
        table = self.table
        table.blockSignals(True)
        if table.rowCount() != len(self._rows):
            table.setRowCount(len(self._rows))
        for row, run in enumerate(self._rows):
            now = run.run_id == self._current
            label = f"{run.label}  (this run)" if now else run.label
            if run.branch_of is not None:
                label += f"  (branch of run {run.branch_of})"
            final = f"{run.final_loss:.4f}" if run.final_loss is not None else "–"
            if run.final_valid_loss is not None:
                final += f" (valid. {run.final_valid_loss:.4f})"
            texts = (
                "",
                "",
                f"{run.run_id}. {label}",
                final,
                f"{run.steps_per_s:,.0f}",
                f"{run.parameters:,}",
                _time(run.seconds),
            )
            for column, text in enumerate(texts):
                item = table.item(row, column)
                fresh = item is None
                if fresh:
                    item = QTableWidgetItem()
                    table.setItem(row, column, item)
                if column < 2:
                    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                    on = run.run_id in self._shown if column == 0 else run.pinned
                    state = Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
                    if fresh or item.checkState() != state:
                        item.setCheckState(state)
                    if column == 0 and now:
                        item.setFlags(Qt.ItemFlag.ItemIsUserCheckable)  # its curve is the loss plot's own
                        item.setToolTip("This run's curve is the loss plot's own.")
                elif item.text() != text:
                    item.setText(text)
                item.setData(Qt.ItemDataRole.UserRole, run.run_id)
        table.blockSignals(False)
        return True

    def _item_changed(self, item: QTableWidgetItem) -> None:
        run_id = item.data(Qt.ItemDataRole.UserRole)
        if run_id is None or item.column() > 1:
            return
        on = item.checkState() == Qt.CheckState.Checked
        (self.showToggled if item.column() == 0 else self.pinToggled).emit(int(run_id), on)


class RunOverlay:
    """Other runs' loss curves over the loss view's plot, with a legend of their own."""

    def __init__(self, plot: pg.PlotWidget, live_curve=None):
        self.plot = plot
        self.live_curve = live_curve
        self.item = plot.getPlotItem()
        self.legend = pg.LegendItem(
            brush=pg.mkBrush(255, 255, 255, 210), pen=pg.mkPen("#999999"), labelTextColor="#222222"
        )
        self.legend.setParentItem(self.item.getViewBox())
        # at the right, half way down: under the uniform-guess label, above where trained curves end
        self.legend.anchor(itemPos=(1, 0.5), parentPos=(1, 0.45), offset=(-8, 0))
        self._runs: list = []
        self.legend.hide()
        self._curves: dict[int, list] = {}
        self._projector = (False, 1.5)
        self._live_label = ""

    def run_ids(self) -> list[int]:
        return list(self._curves)

    def show_runs(self, runs: list, live_label: str = "") -> None:
        """Overlay exactly ``runs`` (RunRecords), in turn colours and styles."""
        for curves in self._curves.values():
            for curve in curves:
                self.item.removeItem(curve)
        self._curves.clear()
        self.legend.clear()
        self._runs, self._live_label = list(runs), live_label
        self.legend.setLabelTextSize(plot_text(self.plot).css(LABEL_PT - 1))
        enabled, scale = self._projector
        if runs and self.live_curve is not None:
            self.legend.addItem(self.live_curve, f"this run: {live_label}" if live_label else "this run")
        for index, run in enumerate(runs):
            color, style = OVERLAY_STYLES[index % len(OVERLAY_STYLES)]
            x, y = run.step_loss.arrays()
            curve = pg.PlotDataItem(x, y, pen=styled_pen(color, OVERLAY_PX, enabled, scale, style))
            self.item.addItem(curve)
            self.legend.addItem(curve, f"{run.run_id}. {run.label}")
            curves = [curve]
            if run.has_validation:
                vx, vy = run.valid_loss.arrays()
                per_epoch = (run.steps - run.start_steps) / max(1, run.epochs) if run.epochs else 1.0
                valid = pg.PlotDataItem(
                    vx * max(per_epoch, 1.0), vy, pen=styled_pen(color, OVERLAY_PX, enabled, scale, Qt.PenStyle.DotLine)
                )
                self.item.addItem(valid)
                self.legend.addItem(valid, f"{run.run_id}. validation")
                curves.append(valid)
            self._curves[run.run_id] = curves
        self.legend.setVisible(bool(runs))

    def set_projector(self, enabled: bool, scale: float = 1.5) -> None:
        """Thicker lines and a legend in projector-sized text (rebuilt, so its box fits the text)."""
        self._projector = (enabled, scale)
        self.show_runs(self._runs, self._live_label)
