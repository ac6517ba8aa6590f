"""The Samples tab's table: rows added as a run records them, the rewound moment highlighted."""

from rnn_studio.core.history import Sample
from rnn_studio.gui.panels.samples_view import HIGHLIGHT, WHITE, SamplesView


def colours(view):
    table = view.table
    return [table.item(row, 0).background().color().name() for row in range(table.rowCount())]


def texts(view):
    return [view.table.item(row, 2).text() for row in range(view.table.rowCount())]


def test_rows_follow_the_samples_and_the_moment(qtbot):
    view = SamplesView()
    qtbot.addWidget(view)
    samples = [Sample(e, e * 3, f"text {e}") for e in (0, 10, 20)]
    view.show_samples(samples, moment=10)
    assert view.redraw()
    assert texts(view) == ["text 0", "text 10", "text 20"]
    assert colours(view) == [WHITE.name(), HIGHLIGHT.name(), WHITE.name()]
    first_row_item = view.table.item(0, 2)

    samples.append(Sample(30, 90, None))  # a run goes on: one more row, the others untouched
    view.show_samples(samples, moment=30)
    assert view.redraw()
    assert texts(view) == ["text 0", "text 10", "text 20", "–"]
    assert view.table.item(0, 2) is first_row_item
    assert colours(view) == [WHITE.name()] * 3 + [HIGHLIGHT.name()]

    thinned = [samples[0], samples[2], samples[3]]  # a long run's samples thinned: the table is rebuilt
    view.show_samples(thinned, moment=20)
    assert view.redraw()
    assert texts(view) == ["text 0", "text 20", "–"]
    assert colours(view) == [WHITE.name(), HIGHLIGHT.name(), WHITE.name()]

    view.show_samples(thinned, moment=None)
    assert view.redraw()
    assert colours(view) == [WHITE.name()] * 3
