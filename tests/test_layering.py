"""The one-way dependency: rnn_studio.core (and the CLI's train/complete paths)
never import Qt. Checked twice: by what a fresh interpreter has loaded after
importing and using them, and by reading the core's import statements."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "rnn_studio" / "core"
FORBIDDEN = ("PySide6", "PySide2", "shiboken6", "shiboken2", "pyqtgraph", "PyQt5", "PyQt6", "qtpy")

_PROBE = """
import contextlib, io, json, os, sys, tempfile
import rnn_studio.core
import rnn_studio.core.config, rnn_studio.core.data, rnn_studio.core.models, rnn_studio.core.training
import rnn_studio.core.generation, rnn_studio.core.checkpoints, rnn_studio.core.devices, rnn_studio.core.errors
import rnn_studio.core.session, rnn_studio.core.events
import rnn_studio.core.lessons, rnn_studio.core.lesson_player
import rnn_studio.cli
from rnn_studio.cli import main
ck = os.path.join(tempfile.mkdtemp(), "ck.pt")
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    assert main(["train", "--epochs", "2", "--device", "cpu", "--save", ck]) == 0
    assert main(["complete", "--checkpoint", ck, "--prompt", "good"]) == 0
    assert main(["train", "--layers", "99"]) == 2  # a refused setting takes the error path
    assert main(["lesson", "check", os.path.join("assets", "lessons", "01-next-character.toml")]) == 0
print(json.dumps(sorted(sys.modules)))
"""


def test_core_and_cli_load_no_qt_module():
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    modules = json.loads(proc.stdout.splitlines()[-1])
    assert "rnn_studio.core.training" in modules and "torch" in modules  # the probe did run
    qt = [m for m in modules if m.split(".")[0] in FORBIDDEN]
    assert qt == [], f"Qt modules loaded by the core or the CLI: {qt}"
    assert not [m for m in modules if m.startswith("rnn_studio.gui")]


def _imports(path: Path):
    """(line, module) of every import in a file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ["rnn_studio", "core"]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                yield node.lineno, ".".join(base + ([node.module] if node.module else []))
            else:
                yield node.lineno, node.module or ""
        elif isinstance(node, ast.Call):
            # importlib.import_module("PySide6") / __import__("PySide6")
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
                yield node.lineno, str(node.args[0].value)


def test_core_source_imports_no_qt_and_no_gui():
    files = sorted(CORE.rglob("*.py"))
    assert len(files) >= 8
    bad = []
    for path in files:
        for line, module in _imports(path):
            top = module.split(".")[0]
            if top in FORBIDDEN or module.startswith("rnn_studio.gui"):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert bad == []


def test_import_scan_catches_a_qt_import(tmp_path):
    """The scanner above is not blind."""
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom PySide6 import QtCore\nfrom ..gui import worker\n"
                      "import importlib\nimportlib.import_module('pyqtgraph')\n")
    found = [m for _, m in _imports(sample)]
    assert "PySide6" in found and "rnn_studio.gui" in found and "pyqtgraph" in found
