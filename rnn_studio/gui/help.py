"""The Help menu's texts: what each view shows, the keyboard shortcuts, About.

What each view shows comes from the views themselves when they can say it
(``view_explanations()`` in rnn_studio/gui/panels/explanations.py, each text
kept beside its view's drawing code); ``FALLBACK_EXPLANATIONS`` stands in
until they do. The About text names the versions a teacher reports with a
bug, and never imports torch itself: before the window has loaded it, it
says so.
"""

from __future__ import annotations

import html
import sys

FALLBACK_EXPLANATIONS: list[tuple[str, str]] = [
    (
        "Loss",
        "How wrong the network's guesses are, one point per epoch. It should fall. For text the dashed line "
        "is the loss of a network that guesses at random (ln of the number of characters it chooses from): "
        "an untrained network starts near it.",
    ),
    (
        "Gradient size per step",
        "How hard each training step pushes the weights: the length of the whole gradient. A sudden spike is "
        "an exploding gradient; the red dashed line is the gradient clip, the length a step is cut to.",
    ),
    (
        "Each tensor",
        "The same push, one bar per weight tensor (input weights, recurrent weights, biases, output layer): "
        "which part of the network is learning most right now.",
    ),
    (
        "Back through time",
        "How much the loss still depends on the memory at each earlier time step. Bars that shrink towards "
        "the start show a vanishing gradient: a plain RNN forgets what came long ago; an LSTM or GRU keeps it.",
    ),
    (
        "Reading the sentences",
        "Each training sentence, and under it the network's guess for every next letter given the letters "
        "before it. Wrong guesses are red; watch them turn right as the loss falls.",
    ),
    (
        "The sine wave",
        "The true wave and the network's prediction of each next value. Early on the prediction is flat; "
        "as training goes on it follows the wave.",
    ),
    (
        "The prompt: let the network finish a sentence",
        "Type the start of a sentence (the prompt): the network adds the most likely next letter, again and again. "
        "Temperature 0 always takes the most likely letter; higher temperatures pick more surprising ones.",
    ),
]

# What a class asks about most, beside the views that draw data.
PROMPT_EXPLANATION = FALLBACK_EXPLANATIONS[-1]


def view_explanations() -> list[tuple[str, str]]:
    """(title, paragraph) for every view, from the views when they provide it."""
    try:
        from .panels.explanations import view_explanations as from_views
    except ImportError:
        return list(FALLBACK_EXPLANATIONS)
    try:
        explained = [(str(t), str(p)) for t, p in from_views()]
    except Exception:  # noqa: BLE001 - Help must open whatever a view says
        return list(FALLBACK_EXPLANATIONS)
    if not any("sentence" in title.lower() and "finish" in title.lower() for title, _ in explained):
        explained.append(PROMPT_EXPLANATION)
    return explained


def views_html() -> str:
    rows = "".join(f"<h3>{html.escape(title)}</h3><p>{html.escape(text)}</p>" for title, text in view_explanations())
    return f"<h2>What each view shows</h2>{rows}"


def shortcuts_html(rows: list[tuple[str, str]]) -> str:
    """``rows``: (what it does, its keys)."""
    body = "".join(
        f"<tr><td style='padding-right:24px'><b>{html.escape(keys)}</b></td><td>{html.escape(what)}</td></tr>"
        for what, keys in rows
    )
    return (
        "<h2>Keyboard shortcuts</h2><table>" + body + "</table>"
        "<p>Space pauses and resumes wherever the focus is, except in the sentences and the prompt, "
        "where it types a space.</p>"
    )


def versions(device: str) -> list[tuple[str, str]]:
    """(what, version) for the About box; torch only if the window has loaded it."""
    import pyqtgraph
    from PySide6 import QtCore

    from .. import __version__

    try:
        import PySide6

        pyside = PySide6.__version__
    except (ImportError, AttributeError):
        pyside = "?"
    torch = sys.modules.get("torch")
    torch_version = getattr(torch, "__version__", "?") if torch is not None else "loads after the window"
    return [
        ("RNN Studio", __version__),
        ("PyTorch", str(torch_version)),
        ("Qt", QtCore.qVersion()),
        ("PySide6", pyside),
        ("pyqtgraph", pyqtgraph.__version__),
        ("Python", sys.version.split()[0]),
        ("Device in use", device),
    ]


def about_html(device: str) -> str:
    rows = "".join(
        f"<tr><td style='padding-right:24px'>{html.escape(what)}</td><td><b>{html.escape(v)}</b></td></tr>"
        for what, v in versions(device)
    )
    return (
        "<h2>RNN Studio</h2><p>Watch recurrent neural networks (RNN, LSTM, GRU) learn, "
        "one step at a time.</p><table>" + rows + "</table>"
    )
