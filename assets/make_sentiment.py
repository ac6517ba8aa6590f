"""Write assets/sentiment.csv: short film reviews where word order decides.

Written for RNN Studio (no outside data): every sentence comes from the
templates below, filled with the word lists below, drawn with a fixed seed,
so running this again gives the same file byte for byte.

Why a bag of words cannot do well on it: most sentences are built so that
their words say nothing about their label on their own.
- contrast ("dull at first but wonderful in the end", "i expected a great
  film but it was boring", "a lovely story , not a weak one"): each drawn
  pair of words appears in both orders, so the two sentences have the same
  bag of words and opposite labels;
- negation ("the plot was not good", "not bad at all", "never dull", "far
  from brilliant"): the label is the adjective's polarity flipped by a word
  before it, an exclusive-or no weighted sum of word counts can express;
- plain sentences ("the acting was superb") are the few a bag of words gets.

    python assets/make_sentiment.py          # rewrites assets/sentiment.csv
"""

from __future__ import annotations

import csv
import random
import re
from pathlib import Path

POSITIVE = ["good", "great", "wonderful", "brilliant", "lovely", "fun", "excellent", "charming", "superb",
            "delightful", "moving", "clever"]
NEGATIVE = ["bad", "awful", "dull", "boring", "terrible", "weak", "poor", "dreadful", "tedious", "messy",
            "silly", "bland"]
NOUNS = ["film", "movie", "story", "plot", "acting", "ending", "music", "show", "book", "cast", "script",
         "dialogue", "sequel", "soundtrack"]

# (template, label rule): a is the adjective whose polarity decides, b its opposite
PLAIN = [
    ("the {n} was {a}", "same"),
    ("a {a} {n}", "same"),
    ("the {n} is {a} and {a2}", "same"),  # a2: another word of a's polarity
]
NEGATION = [
    ("the {n} was not {a}", "flip"),
    ("the {n} was not {a} at all", "flip"),
    ("the {n} was never {a}", "flip"),
    ("the {n} was far from {a}", "flip"),
    ("not a {a} {n}", "flip"),
]
CONTRAST = [
    ("the {n} was {b} at first but {a} in the end", "same"),
    ("i expected a {b} {n} but it was {a}", "same"),
    ("a {a} {n} , not a {b} one", "same"),
    ("it started {b} and ended {a}", "same"),
    ("{b} opening , {a} {n}", "same"),
]
SHARES = {"plain": 0.15, "negation": 0.30, "contrast": 0.55}
TOTAL = 800
SEED = 9


def article(text: str) -> str:
    return re.sub(r"\ba (?=[aeiou])", "an ", text)


def polarity(word: str) -> str:
    return "positive" if word in POSITIVE else "negative"


def opposite(label: str) -> str:
    return "negative" if label == "positive" else "positive"


def sentences(rng: random.Random) -> list[tuple[str, str]]:
    out: dict[str, str] = {}

    def add(text: str, label: str) -> None:
        out.setdefault(text, label)

    target = {kind: int(TOTAL * share) for kind, share in SHARES.items()}
    count = {kind: 0 for kind in SHARES}
    while count["plain"] < target["plain"]:
        template, _ = rng.choice(PLAIN)
        words = rng.choice([POSITIVE, NEGATIVE])
        a, a2 = rng.sample(words, 2)
        text = article(template.format(n=rng.choice(NOUNS), a=a, a2=a2))
        if text not in out:
            add(text, polarity(a))
            count["plain"] += 1
    while count["negation"] < target["negation"]:
        template, _ = rng.choice(NEGATION)
        # the same template and noun with a positive and a negative word
        noun = rng.choice(NOUNS)
        for a in (rng.choice(POSITIVE), rng.choice(NEGATIVE)):
            text = article(template.format(n=noun, a=a))
            if text not in out and count["negation"] < target["negation"]:
                add(text, opposite(polarity(a)))
                count["negation"] += 1
    while count["contrast"] < target["contrast"]:
        template, _ = rng.choice(CONTRAST)
        noun, good, bad = rng.choice(NOUNS), rng.choice(POSITIVE), rng.choice(NEGATIVE)
        # both orders: the same bag of words with opposite labels
        for a, b in ((good, bad), (bad, good)):
            text = article(template.format(n=noun, a=a, b=b))
            if text not in out and count["contrast"] < target["contrast"]:
                add(text, polarity(a))
                count["contrast"] += 1
    rows = list(out.items())
    rng.shuffle(rows)
    return rows


def main() -> None:
    path = Path(__file__).with_name("sentiment.csv")
    rows = sentences(random.Random(SEED))
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    labels = [label for _, label in rows]
    print(f"{path}: {len(rows)} sentences, {labels.count('positive')} positive, {labels.count('negative')} negative")


if __name__ == "__main__":
    main()
