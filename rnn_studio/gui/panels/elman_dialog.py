"""Elman vs nn.RNN: the from-scratch cell of seed 003 and torch's own, side by side.

``core.elman_check.compare_elman_with_torch`` runs the Elman network and an
``nn.RNN`` holding the same weights on the same inputs, backpropagates the
same loss through both, and this dialog lists the first numbers of every
output and gradient from each, with the largest difference: micrograd's
habit of testing an engine against PyTorch, shown to the class.
"""

from __future__ import annotations

import html

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

from .common import GREEN, GREY, RED

TITLE = "Elman vs nn.RNN"
EXPLANATION = (
    "The Elman network is written out by hand, one time step at a time: h_t = tanh(W_ih x_t + b_ih + "
    "W_hh h_(t-1) + b_hh). Torch's nn.RNN computes the same thing in optimised code. This check gives "
    "both the same weights and the same inputs, then compares what they output and the gradients "
    "backpropagation through time gives every weight. The numbers agree up to the rounding of 32-bit "
    "floating point (about 1e-6): the hand-written network is the real thing. How to read it: the last column "
    "is the largest difference between the two. What to try: train the Elman network, then run the check on it."
)
SAME_WITHIN = 1e-4


def report_html(report) -> str:
    if report.error:
        return f"<p style='color:{RED}'>{html.escape(report.error)}</p>"
    comparison = report.comparison
    largest = comparison.max_difference
    verdict = (
        f"<b style='color:{GREEN}'>the same</b> (largest difference {largest:.1e}, float rounding)"
        if largest <= SAME_WITHIN
        else f"<b style='color:{RED}'>different</b> (largest difference {largest:.3g})"
    )
    rows = []
    for name, mine, theirs, difference in comparison.rows(3):
        a = ", ".join(f"{v:+.6f}" for v in mine)
        b = ", ".join(f"{v:+.6f}" for v in theirs)
        rows.append(
            f"<tr><td>{html.escape(name)}</td><td><tt>{a}</tt></td><td><tt>{b}</tt></td>"
            f"<td align='right'>{difference:.1e}</td></tr>"
        )
    return (
        f"<p>{html.escape(EXPLANATION)}</p>"
        f"<p>Checked: {html.escape(report.what)}. Outputs and gradients are {verdict}.</p>"
        f"<p>Largest difference in the outputs: <b>{comparison.max_output_difference:.2e}</b>; "
        f"in the gradients: <b>{comparison.max_gradient_difference:.2e}</b>.</p>"
        "<table border='1' cellspacing='0' cellpadding='4'>"
        "<tr><th>what</th><th>Elman (first values)</th><th>nn.RNN (first values)</th><th>largest difference</th></tr>"
        + "".join(rows)
        + f"</table><p style='color:{GREY}'>Inputs: 2 random sequences of 8 steps; loss: a fixed random weighting "
        "of every output and final state, so each gets a gradient of its own.</p>"
    )


class ElmanDialog(QDialog):
    """``elmanDialog`` with ``elmanText``: the comparison, or why not."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("elmanDialog")
        self.setWindowTitle(TITLE)
        layout = QVBoxLayout(self)
        self.text = QTextBrowser(self)
        self.text.setObjectName("elmanText")
        layout.addWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        self.report = None
        if parent is not None:
            self.resize(min(900, int(parent.width() * 0.85)), min(620, int(parent.height() * 0.85)))

    def show_waiting(self) -> None:
        self.report = None
        self.text.setHtml(f"<p>{html.escape(EXPLANATION)}</p><p><i>Comparing…</i></p>")
        self._present()

    def show_report(self, report) -> None:
        self.report = report
        self.text.setHtml(report_html(report))
        self._present()

    def _present(self) -> None:
        parent = self.parentWidget()
        if parent is not None:
            self.setFont(parent.font())
            self.text.setFont(parent.font())
        self.show()
        self.raise_()
