"""The network's current greedy reading of each training sentence.

For every position the network guesses the next character (seed 000's
training objective); the view writes the sentence and, under it, the guesses,
with each wrong guess in red on pink (a wrong space shows as '·' so it is
visible). Long inputs are cut for display: the view is a window onto the
training, not a copy of it.
"""

from __future__ import annotations

import html

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QTextEdit

from .common import GREEN, GREY, RED, explanation_tip

MAX_SENTENCES_SHOWN = 40
MAX_CHARS_SHOWN = 160
FONT_PT = 14
PROJECTOR_FONT_PT = 18  # at least this on a projector

TITLE = "The network reads the sentences"
EXPLANATION = (
    "The network's current reading of every training sentence. Top line: the sentence. Under it: "
    "for each position, the letter the network thinks comes next, given the letters before it. "
    "Right guesses are green, wrong ones white on red (a wrong space shows as ·); the first letter "
    "is grey, because nothing comes before it to guess from. The count at the end of a line is how "
    "many it got right. How to read it: early on it guesses the same common letter (often a space) "
    "everywhere; then the frequent letters come, and finally whole words. Letters that could be "
    "followed by several others stay red longest. What to try: a longer or repetitive sentence, "
    "fewer hidden units, or two sentences that start the same way and then part."
)


def reading_html(sentences: list[dict]) -> tuple[str, int, int]:
    """(html, characters right, characters guessed) for the view."""
    rows = []
    right = total = 0
    for sentence in sentences:
        given = sentence["input"].rstrip(" ") or sentence["input"]
        target, predicted = sentence["target"], sentence["predicted"]
        # padding spaces after the sentence are not part of what it must learn
        length = max(0, len(given) - 1)
        target, predicted = target[:length], predicted[:length]
        ok = sum(1 for t, p in zip(target, predicted, strict=True) if t == p)
        right += ok
        total += len(target)
        if len(rows) >= MAX_SENTENCES_SHOWN:
            continue
        shown = min(length, MAX_CHARS_SHOWN)
        cells = []
        for t, p in zip(target[:shown], predicted[:shown], strict=False):
            if t == p:
                cells.append(f'<span style="color:{GREEN}">{html.escape(p)}</span>')
            else:
                mark = "·" if p == " " else html.escape(p)
                cells.append(f'<span style="color:#ffffff; background:{RED}; font-weight:bold">{mark}</span>')
        cut = "…" if length > shown else ""
        first = html.escape(given[:1])
        score = f"{ok}/{len(target)}" if target else "–"
        rows.append(
            f'<span style="color:#222222">{html.escape(given[: shown + 1])}{cut}</span>\n'
            f'<span style="color:{GREY}">{first}</span>{"".join(cells)}{cut}'
            f'  <span style="color:{GREY}; font-size:small">{score}</span>'
        )
    hidden = len(sentences) - len(rows)
    body = "\n\n".join(rows)
    if hidden > 0:
        body += f"\n\n<span style='color:{GREY}'>… and {hidden:,} more sentences</span>"
    return f"<pre style='margin:0'>{body}</pre>", right, total


class TextView(QTextEdit):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("textView")
        self.setReadOnly(True)
        font = QFont("DejaVu Sans Mono")
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setPointSize(FONT_PT)
        self.setFont(font)
        self.setToolTip(explanation_tip(EXPLANATION))
        self.accuracy = None
        self._pending = None
        self.clear_reading()

    def explanation(self) -> str:
        """The paragraph a class reads about this view (its tooltip and Help text)."""
        return EXPLANATION

    def set_projector(self, enabled: bool, scale: float = 1.5) -> None:
        """Larger letters for a projector; ``enabled=False`` restores the desktop size."""
        font = self.font()
        font.setPointSize(max(PROJECTOR_FONT_PT, round(FONT_PT * scale)) if enabled else FONT_PT)
        self.setFont(font)

    def clear_reading(self) -> None:
        self._pending = None
        self.accuracy = None
        self.setHtml(
            f"<p style='color:{GREY}'>Press Train: the network's guesses for each sentence appear here, "
            "wrong letters in red.</p>"
        )

    def show_predictions(self, data: dict) -> None:
        self._pending = data

    def redraw(self) -> bool:
        data, self._pending = self._pending, None
        if data is None or data.get("kind") != "text":
            return False
        body, right, total = reading_html(data["sentences"])
        self.accuracy = right / total if total else None
        header = ""
        if total:
            header = (
                f"<p style='margin-bottom:6px'><b>Epoch {data.get('epoch', 0)}:</b> "
                f"{right}/{total} next letters right ({100 * right / total:.0f}%)</p>"
            )
        bar = self.verticalScrollBar().value()
        self.setHtml(header + body)
        self.verticalScrollBar().setValue(bar)
        return True
