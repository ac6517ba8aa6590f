"""Every view's paragraph for a class, in one list (for a Help menu).

The texts live beside each view's drawing code (``EXPLANATION`` in its
module, used as its tooltip); this only collects them, in the order the views
appear in the window: the loss, the accuracy (classify), the three gradient
plots, then the reading of the text, the classifier's examples and confusion
matrix, and the sine wave.
"""

from __future__ import annotations

from . import accuracy_plot, confusion_view, examples_view, gradient_panel, inside_view, loss_plot, sine_plot, text_view


def view_explanations() -> list[tuple[str, str]]:
    """(title, paragraph) for every view, task-neutral."""
    return [
        (loss_plot.TITLE, loss_plot.EXPLANATION),
        (accuracy_plot.TITLE, accuracy_plot.EXPLANATION),
        (gradient_panel.GRADIENT_TITLE, gradient_panel.GRADIENT_EXPLANATION),
        (gradient_panel.TENSORS_TITLE, gradient_panel.TENSORS_EXPLANATION),
        (gradient_panel.TIME_TITLE, gradient_panel.time_plot_tip(None)),
        (text_view.TITLE, text_view.EXPLANATION),
        (examples_view.TITLE, examples_view.EXPLANATION),
        (confusion_view.TITLE, confusion_view.EXPLANATION),
        (sine_plot.TITLE, sine_plot.EXPLANATION),
        *inside_view.explanations(),
    ]
