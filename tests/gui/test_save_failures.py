"""Issue 7 in the window: a save that the disk refuses is one plain line in
the message bar, the previous file stays whole, no temporary file is left,
and a save through a symbolic link says where it wrote."""

from __future__ import annotations

from rnn_studio.core.checkpoints import load_trainer
from tests.gui.test_files import save, train_to_the_end


def test_disk_full_in_the_window_is_one_plain_line_and_keeps_the_old_file(window, qtbot, small_disk):
    w = window
    train_to_the_end(w, qtbot, epochs=2)
    path = small_disk / "model.pt"
    assert save(w, qtbot, path)[1] == ""
    before = path.read_bytes()
    w.reset()
    w.hiddenSpin.setValue(96)  # about 5x the seed's bytes: does not fit in what is left
    train_to_the_end(w, qtbot, epochs=1)
    saved_path, error = save(w, qtbot, path)
    assert "disk is full" in error and str(path) in error
    message = w.message_text()
    assert w.messageBar.kind == "error" and message.startswith("The model was not saved")
    assert "\n" not in message and "Traceback" not in message and "enforce fail" not in message
    assert path.read_bytes() == before
    assert sorted(p.name for p in small_disk.iterdir()) == ["model.pt"]


def test_save_through_a_link_says_where_it_wrote(window, qtbot, tmp_path):
    w = window
    train_to_the_end(w, qtbot, epochs=2)
    target = tmp_path / "real.pt"
    link = tmp_path / "link.pt"
    link.symlink_to(target)
    assert save(w, qtbot, link)[1] == ""
    assert link.is_symlink() and target.is_file()
    assert str(target) in w.message_text()
    assert load_trainer(str(target), device="cpu").epoch == 2
