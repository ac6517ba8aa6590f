"""Lesson files (issue 11): a title, then steps a teacher walks a class through.

A lesson is TOML (``docs/lessons.md`` is the reference): each ``[[step]]``
has a title and a text in light formatting, and may set the run's settings
(``[step.settings]``, named as ``core.config``'s fields), start from a
preset, lock or hide controls and highlight a view (by the window's object
names), suggest prompts, say what to watch, and wait for a condition
(``[step.wait]``: ``after_epochs``, ``loss_below``, ``run_finished``,
``diverged``) before the next step.

TensorFlow Playground's shared URLs (settings plus hidden controls) are what
teachers use today; a file adds the commentary they ask for
(tensorflow/playground #195). This module is Qt-free: ``load_lesson`` checks
everything a window or ``lesson_player`` will need before anything changes,
and refuses a file with ``LessonError``, whose message carries the line and
the reason. ``save_lesson`` writes the same format back (the window's "Save
as lesson…"), with a small hand-written TOML writer: the format needs only
strings, numbers, booleans, string lists and tables.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

try:  # Python 3.11+; on 3.10 the same parser from PyPI (pyproject: tomli; python_version < "3.11")
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from .config import (
    PRESETS,
    ModelConfig,
    RunConfig,
    TaskConfig,
    TrainConfig,
    defaults_for,
    validate,
)
from .errors import ConfigError, DataError, StudioError
from .text import clean_sentences

FORMAT_VERSION = 1
MAX_LESSON_BYTES = 256 * 1024
MAX_STEPS = 100
MAX_TITLE_CHARS = 200
MAX_TEXT_CHARS = 20_000
MAX_PROMPTS = 20
MAX_PROMPT_CHARS = 200
MAX_NAMES = 64  # locked, hidden or highlighted names per step
MAX_SAMPLES = 50
MAX_COMPLETION_CHARS = 1_000
MAX_PACE = 1_000.0  # epochs per second

# The window's object names a step may lock or hide (the widgets' setObjectName).
CONTROLS = (
    # data
    "taskCombo", "presetCombo", "sentencesEdit", "sineModeCombo", "sineWindowsSpin", "sineLengthSpin",
    "sineNoiseSpin",
    # model
    "archCombo", "layersSpin", "hiddenSpin", "encodingCombo", "dropoutSpin",
    # training
    "optimizerCombo", "lrSpin", "epochsSpin", "untilPausedCheck", "clipSpin", "seedSpin", "deviceCombo",
    "paceControl",
    # run buttons and files
    "trainButton", "pauseButton", "stepButton", "stopButton", "resetButton", "openModelButton",
    "saveModelButton",
    # prompt
    "promptEdit", "completeButton", "lengthSpin", "temperatureSlider",
    # whole panels
    "dataPanel", "modelPanel", "trainingPanel", "promptPanel",
)
# Views a step may highlight (plots, the sentence reading, the prompt, issue 10's inside views).
VIEWS = (
    "lossPlot", "gradNormPlot", "paramNormPlot", "timeGradPlot", "sinePlot", "textView", "promptPanel",
    "completionView", "insideView", "hiddenStateView", "gatesView", "confidenceView", "memoryView", "runsView",
    "samplesView", "dataPanel", "modelPanel", "trainingPanel",
)

# ``preset``: where a step's settings start from (all other settings return to these).
STEP_PRESETS = ("text", "sine", "sine-sequence", "classify", *sorted(PRESETS))
RUN_MODES = ("new", "continue", "none")
ACTIONS = ("elman-check",)
WAIT_KINDS = ("after_epochs", "loss_below", "run_finished", "diverged")
# settings a running network takes between two steps (the rest need a new network)
LIVE_SETTINGS = ("lr", "clip", "epochs", "pace")
# ``[step.settings]`` names -> (config section, field). The flat names are the
# fields of core.config's TaskConfig/ModelConfig/TrainConfig, except that
# TaskConfig.kind is ``task``; ``pace`` (epochs per second) is the window's.
_NOT_SETTINGS = {"device": "the device belongs to the machine the lesson runs on, not to the lesson"}
SETTING_FIELDS: dict[str, tuple[str, str]] = {}
for _section, _kind in (("task", TaskConfig), ("model", ModelConfig), ("train", TrainConfig)):
    for _f in fields(_kind):
        if _f.name not in _NOT_SETTINGS:
            SETTING_FIELDS["task" if (_section, _f.name) == ("task", "kind") else _f.name] = (_section, _f.name)
SETTINGS = (*SETTING_FIELDS, "pace")
_FILE_SETTINGS = ("text_file", "data_file")  # relative paths are read from the lesson's folder

_TOP_KEYS = ("format", "title", "summary", "step")
_STEP_KEYS = ("title", "text", "preset", "settings", "run", "lock", "hide", "highlight", "prompts", "length",
              "temperature", "samples", "watch", "wait", "action", "overlay")


class LessonError(StudioError):
    """A lesson file that cannot be used: ``line`` (1-based, 0 when the file
    as a whole is at fault) and ``reason``; str() is 'FILE:LINE: reason'."""

    def __init__(self, reason: str, line: int = 0, path: str | None = None):
        self.reason, self.line, self.path = reason, line, path
        where = f"{path}:" if path else ""
        where += f"{line}:" if line else ""
        super().__init__(f"{where} {reason}" if where else reason)


@dataclass(frozen=True)
class Wait:
    """What the next step waits for. ``after_epochs``: that many epochs
    trained since the step began; ``loss_below``: the last epoch's training
    loss under the value; ``run_finished``: the run reached its epochs;
    ``diverged``: an update was skipped (NaN or exploding loss) or the loss
    climbed past three times where it started."""

    kind: str
    value: float | int | bool

    def met(self, epochs_in_step: int, last_loss: float | None, finished: bool, diverged: bool) -> bool:
        if self.kind == "after_epochs":
            return epochs_in_step >= self.value
        if self.kind == "loss_below":
            return last_loss is not None and math.isfinite(last_loss) and last_loss < self.value
        if self.kind == "run_finished":
            return finished
        return diverged

    def describe(self) -> str:
        if self.kind == "after_epochs":
            return f"train {self.value} epoch{'s' if self.value != 1 else ''}"
        if self.kind == "loss_below":
            return f"train until the loss is below {self.value:g}"
        if self.kind == "run_finished":
            return "train until the run ends"
        return "train until the run diverges"

    @property
    def needs_training(self) -> bool:
        return True


@dataclass
class Step:
    """One screen of a lesson. ``settings`` holds only what the step names;
    ``config`` is the whole run configuration once the step has been applied
    (earlier steps' settings carry over, a preset starts afresh)."""

    title: str
    text: str
    preset: str | None = None
    settings: dict = field(default_factory=dict)
    run: str = "none"
    lock: tuple[str, ...] = ()
    hide: tuple[str, ...] = ()
    highlight: tuple[str, ...] = ()
    prompts: tuple[str, ...] = ()
    length: int | None = None
    temperature: float | None = None
    samples: int = 1
    watch: str = ""
    wait: Wait | None = None
    action: str | None = None
    overlay: bool = False
    line: int = 0  # where ``[[step]]`` is in the file
    config: RunConfig | None = None
    pace: float | None = None  # epochs per second (None = as fast as it goes)

    @property
    def html(self) -> str:
        return text_to_html(self.text)

    @property
    def plain(self) -> str:
        return text_to_plain(self.text)

    @property
    def changes_network(self) -> bool:
        """Settings a running network cannot take: applying them means a new run."""
        return self.preset is not None or any(k not in LIVE_SETTINGS for k in self.settings)


@dataclass
class Lesson:
    title: str
    steps: list[Step]
    summary: str = ""
    path: str | None = None
    format: int = FORMAT_VERSION

    @property
    def folder(self) -> Path:
        return Path(self.path).resolve().parent if self.path else Path.cwd()

    def to_toml(self) -> str:
        return lesson_to_toml(self)


# -- light formatting ---------------------------------------------------------------------
_INLINE = re.compile(r"`([^`\n]+)`|\*\*(.+?)\*\*|\*([^*\n]+?)\*")


def _inline_html(text: str) -> str:
    out, last = [], 0
    for match in _INLINE.finditer(text):
        out.append(html.escape(text[last:match.start()], quote=False))
        code, bold, italic = match.groups()
        if code is not None:
            out.append(f"<code>{html.escape(code, quote=False)}</code>")
        elif bold is not None:
            out.append(f"<b>{_inline_html(bold)}</b>")
        else:
            out.append(f"<i>{html.escape(italic, quote=False)}</i>")
        last = match.end()
    out.append(html.escape(text[last:], quote=False))
    return "".join(out)


def _paragraphs(text: str) -> list[list[str]]:
    return [[line.strip() for line in block.strip().splitlines()]
            for block in re.split(r"\n[ \t]*\n", text.strip()) if block.strip()]


def text_to_html(text: str) -> str:
    """A step's text as the HTML subset a QLabel shows: paragraphs (blank
    lines), lists (lines starting '- '), **bold**, *italic*, `code`.
    Everything else is escaped: a lesson cannot inject markup."""
    parts = []
    for lines in _paragraphs(text):
        if all(line.startswith("- ") for line in lines):
            items = "".join(f"<li>{_inline_html(line[2:])}</li>" for line in lines)
            parts.append(f"<ul>{items}</ul>")
        else:
            parts.append(f"<p>{_inline_html(' '.join(lines))}</p>")
    return "".join(parts)


def text_to_plain(text: str) -> str:
    """The text for a terminal: markers dropped, paragraphs kept."""
    def strip(line: str) -> str:
        return _INLINE.sub(lambda m: next(g for g in m.groups() if g is not None), line)

    blocks = []
    for lines in _paragraphs(text):
        if all(line.startswith("- ") for line in lines):
            blocks.append("\n".join("  - " + strip(line[2:]) for line in lines))
        else:
            blocks.append(strip(" ".join(lines)))
    return "\n\n".join(blocks)


# -- finding the line of a key -----------------------------------------------------------
_KEY_PART = r'(?:[A-Za-z0-9_-]+|"[^"\n]*"|\'[^\'\n]*\')'
_KEY_LINE = re.compile(rf"^\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*=(.*)$")
_HEADER_LINE = re.compile(rf"^\s*(\[\[|\[)\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*(\]\]|\])")
_INLINE_KEY = re.compile(rf"[{{,]\s*({_KEY_PART})\s*=")


def _split_key(text: str) -> tuple[str, ...]:
    parts = re.findall(_KEY_PART, text)
    return tuple(p[1:-1] if p[:1] in "\"'" else p for p in parts)


class _Lines:
    """Where each table and key of a TOML text is (1-based lines), by path:
    ('step', 2, 'settings', 'hidden') is ``hidden`` in the third ``[[step]]``'s
    settings, however it was written (a [step.settings] table, a dotted key
    or an inline table). Good enough for error messages, not a parser."""

    def __init__(self, text: str):
        self.where: dict[tuple, int] = {}
        arrays: dict[tuple, int] = {}
        table: tuple = ()
        closing = None  # the delimiter that ends the multi-line string we are in
        for number, line in enumerate(text.splitlines(), start=1):
            if closing is not None:
                if line.count(closing) % 2 == 1:
                    closing = None
                continue
            header = _HEADER_LINE.match(line)
            if header:
                names = _split_key(header.group(2))
                resolved: tuple = ()
                for name in names[:-1]:
                    resolved += (name,)
                    if resolved in arrays:
                        resolved += (arrays[resolved],)
                resolved += (names[-1],)
                if header.group(1) == "[[":
                    arrays[resolved] = arrays.get(resolved, -1) + 1
                    resolved += (arrays[resolved],)
                table = resolved
                self.where.setdefault(table, number)
                continue
            key = _KEY_LINE.match(line)
            if not key:
                continue
            path = table + _split_key(key.group(1))
            self.where.setdefault(path, number)
            value = key.group(2)
            if value.lstrip().startswith("{"):
                for inner in _INLINE_KEY.finditer(value):
                    self.where.setdefault(path + _split_key(inner.group(1)), number)
            for delimiter in ('"""', "'''"):
                if value.count(delimiter) % 2 == 1:
                    closing = delimiter
                    break

    def line(self, path: tuple) -> int:
        path = tuple(path)
        while path:
            if path in self.where:
                return self.where[path]
            path = path[:-1]
        return 1


# -- reading -------------------------------------------------------------------------------
def _decode_line(message: str) -> int:
    found = re.search(r"line (\d+)", message)
    return int(found.group(1)) if found else 0


def read_lesson_text(path: str | Path) -> str:
    """The file's text, refused when too large or not UTF-8."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise LessonError("not a file", path=str(path))
        if size > MAX_LESSON_BYTES:
            raise LessonError(f"the file is {size:,} bytes; a lesson may be at most {MAX_LESSON_BYTES:,}",
                              path=str(path))
        with open(path, "rb") as handle:
            data = handle.read(MAX_LESSON_BYTES + 1)
    except FileNotFoundError:
        raise LessonError("no such file", path=str(path)) from None
    except (IsADirectoryError, PermissionError, OSError) as exc:
        raise LessonError(f"cannot be read ({exc.strerror or exc})", path=str(path)) from None
    if len(data) > MAX_LESSON_BYTES:
        raise LessonError(f"the file is larger than {MAX_LESSON_BYTES:,} bytes", path=str(path))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise LessonError("the file is not UTF-8 text", line, str(path)) from None


def load_lesson(path: str | Path) -> Lesson:
    """Read and check a lesson file. Raises ``LessonError`` (line and reason)."""
    text = read_lesson_text(path)
    return parse_lesson(text, path=str(path), folder=Path(path).resolve().parent)


def parse_lesson(text: str, path: str | None = None, folder: str | Path | None = None) -> Lesson:
    """Check a lesson's text; relative file names in settings are read from ``folder``."""
    if len(text.encode("utf-8")) > MAX_LESSON_BYTES:
        raise LessonError(f"the lesson is larger than {MAX_LESSON_BYTES:,} bytes", path=path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        reason = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", message)
        line = _decode_line(message) or max(1, text.count("\n") + (0 if text.endswith("\n") else 1))
        raise LessonError(f"not valid TOML: {reason[:1].lower()}{reason[1:]}", line, path) from None
    return _Checker(text, path, Path(folder) if folder else Path.cwd()).lesson(data)


class _Checker:
    def __init__(self, text: str, path: str | None, folder: Path):
        self.lines = _Lines(text)
        self.path, self.folder = path, folder

    def fail(self, where: tuple, reason: str):
        raise LessonError(reason, self.lines.line(where), self.path)

    # -- values
    def string(self, where, value, limit, name, empty=False) -> str:
        if not isinstance(value, str):
            self.fail(where, f"{name} must be text in quotes, got {_shown(value)}")
        if not empty and not value.strip():
            self.fail(where, f"{name} is empty")
        if len(value) > limit:
            self.fail(where, f"{name} is {len(value):,} characters; the limit is {limit:,}")
        if any(ord(c) < 32 and c not in "\n\t" for c in value):
            self.fail(where, f"{name} holds a control character")
        return value

    def whole(self, where, value, low, high, name) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(where, f"{name} must be a whole number, got {_shown(value)}")
        if not low <= value <= high:
            self.fail(where, f"{name} must be between {low:,} and {high:,}, got {value:,}")
        return value

    def number(self, where, value, low, high, name) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self.fail(where, f"{name} must be a number, got {_shown(value)}")
        if not low <= value <= high:
            self.fail(where, f"{name} must be between {low:g} and {high:g}, got {value:g}")
        return float(value)

    def flag(self, where, value, name) -> bool:
        if not isinstance(value, bool):
            self.fail(where, f"{name} must be true or false, got {_shown(value)}")
        return value

    def names(self, where, value, allowed, name) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(where, f"{name} must be a list of names in quotes, got {_shown(value)}")
        if len(value) > MAX_NAMES:
            self.fail(where, f"{name} names {len(value)} things; the limit is {MAX_NAMES}")
        for item in value:
            if item not in allowed:
                self.fail(where, f"{name}: unknown name '{item}'{_suggest(item, allowed)}")
        return tuple(dict.fromkeys(value))

    def unknown_keys(self, where, table: dict, allowed, what: str) -> None:
        for key in table:
            if key not in allowed:
                self.fail(where + (key,), f"unknown key '{key}' in {what}{_suggest(key, allowed)}")

    # -- the lesson
    def lesson(self, data: dict) -> Lesson:
        self.unknown_keys((), data, _TOP_KEYS, "the lesson")
        version = data.get("format", FORMAT_VERSION)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            self.fail(("format",), f"format must be a whole number (this studio reads {FORMAT_VERSION})")
        if version > FORMAT_VERSION:
            self.fail(("format",), f"this lesson is format {version}, newer than this studio reads "
                      f"({FORMAT_VERSION}); update RNN Studio")
        if "title" not in data:
            self.fail((), "the lesson has no title (add: title = \"...\" at the top)")
        title = self.string(("title",), data["title"], MAX_TITLE_CHARS, "title").strip()
        summary = self.string(("summary",), data.get("summary", ""), MAX_TEXT_CHARS, "summary", empty=True)
        raw_steps = data.get("step")
        if raw_steps is None:
            self.fail((), "the lesson has no steps (add at least one [[step]] with a title and a text)")
        if not isinstance(raw_steps, list) or not all(isinstance(s, dict) for s in raw_steps):
            self.fail(("step",), "step must be written as [[step]] tables")
        if not raw_steps:
            self.fail(("step",), "the lesson has no steps")
        if len(raw_steps) > MAX_STEPS:
            self.fail(("step", MAX_STEPS), f"the lesson has {len(raw_steps)} steps; the limit is {MAX_STEPS}")
        config = defaults_for("text")  # a lesson starts from the studio's defaults (the seed tutorial)
        steps = []
        have_run = False
        for index, raw in enumerate(raw_steps):
            step, config = self.step(index, raw, config, have_run)
            have_run = have_run or step.run != "none"
            steps.append(step)
        return Lesson(title=title, steps=steps, summary=summary, path=self.path, format=version)

    def step(self, index: int, raw: dict, config: RunConfig, have_run: bool) -> tuple[Step, RunConfig]:
        at = ("step", index)
        self.unknown_keys(at, raw, _STEP_KEYS, f"step {index + 1}")
        for key in ("title", "text"):
            if key not in raw:
                self.fail(at, f"step {index + 1} has no {key}")
        title = self.string(at + ("title",), raw["title"], MAX_TITLE_CHARS, "title").strip()
        text = self.string(at + ("text",), raw["text"], MAX_TEXT_CHARS, "text")
        preset = raw.get("preset")
        if preset is not None:
            if preset not in STEP_PRESETS:
                self.fail(at + ("preset",), f"unknown preset '{preset}' (choose one of: {', '.join(STEP_PRESETS)})")
            config = _preset_config(preset)
        else:
            config = config.copy()
        settings_raw = raw.get("settings", {})
        if not isinstance(settings_raw, dict):
            self.fail(at + ("settings",), "settings must be a table ([step.settings])")
        settings, pace = self.settings(at + ("settings",), settings_raw, config)
        step = Step(title=title, text=text, preset=preset, settings=settings, line=self.lines.line(at), pace=pace)
        where_config = at + ("settings",) if settings_raw else (at + ("preset",) if preset else at)
        try:
            validate(config)
        except ConfigError as exc:
            self.fail(_config_key(str(exc), at, settings_raw) or where_config, f"settings: {exc}")
        if config.task.kind == "text" and not config.task.text_file:
            try:
                clean_sentences(config.task.sentences)
            except DataError as exc:
                self.fail(at + ("settings", "sentences") if "sentences" in settings_raw else where_config, str(exc))
        if config.task.kind == "classify" and not config.task.examples and not config.task.data_file:
            self.fail(where_config, "a classify step needs data_file (a .csv or .tsv file) or examples")
        step.config = config
        wait = raw.get("wait")
        if wait is not None:
            step.wait = self.wait(at + ("wait",), wait)
        run = raw.get("run")
        if run is None:
            if step.changes_network:
                run = "new"
            elif step.wait is not None:
                run = "continue" if have_run else "new"
            else:
                run = "none"
        elif run not in RUN_MODES:
            self.fail(at + ("run",), f"unknown run '{_shown(run)}' (choose one of: {', '.join(RUN_MODES)})")
        if run == "continue":
            fixed = [k for k in settings if k not in LIVE_SETTINGS]
            if preset is not None:
                self.fail(at + ("preset",), "run = \"continue\" goes on training the same network; "
                          "a preset needs a new one (run = \"new\")")
            if fixed:
                self.fail(at + ("settings", fixed[0]), f"{fixed[0]} cannot change while a network goes on "
                          f"training (only {', '.join(LIVE_SETTINGS)} can); use run = \"new\"")
        if run == "none" and step.wait is not None:
            self.fail(at + ("wait",), "this step trains nothing (run = \"none\"), so it has nothing to wait for")
        step.run = run
        has_network = have_run or run != "none"
        step.lock = self.names(at + ("lock",), raw.get("lock", []), CONTROLS, "lock")
        step.hide = self.names(at + ("hide",), raw.get("hide", []), CONTROLS, "hide")
        step.highlight = self.names(at + ("highlight",), raw.get("highlight", []), VIEWS, "highlight")
        prompts = raw.get("prompts", [])
        if isinstance(prompts, str):
            prompts = [prompts]
        if not isinstance(prompts, list):
            self.fail(at + ("prompts",), f"prompts must be a list of texts in quotes, got {_shown(prompts)}")
        if len(prompts) > MAX_PROMPTS:
            self.fail(at + ("prompts",), f"{len(prompts)} prompts; the limit is {MAX_PROMPTS}")
        step.prompts = tuple(self.string(at + ("prompts",), p, MAX_PROMPT_CHARS, "a prompt") for p in prompts)
        if step.prompts and not has_network:
            self.fail(at + ("prompts",), "no network has been trained yet: prompts need a step that trains first")
        if step.prompts and config.task.kind == "sine":
            self.fail(at + ("prompts",), "a sine network has no prompt box: prompts are for text and classify")
        if "length" in raw:
            step.length = self.whole(at + ("length",), raw["length"], 1, MAX_COMPLETION_CHARS, "length")
        if "temperature" in raw:
            step.temperature = self.number(at + ("temperature",), raw["temperature"], 0.0, 100.0, "temperature")
        if "samples" in raw:
            step.samples = self.whole(at + ("samples",), raw["samples"], 1, MAX_SAMPLES, "samples")
        step.watch = self.string(at + ("watch",), raw.get("watch", ""), MAX_TEXT_CHARS, "watch", empty=True)
        action = raw.get("action")
        if action is not None:
            if action not in ACTIONS:
                self.fail(at + ("action",), f"unknown action '{_shown(action)}' (choose one of: {', '.join(ACTIONS)})")
            if action == "elman-check" and config.model.arch != "elman":
                self.fail(at + ("action",), "the Elman check needs the from-scratch Elman network (arch = \"elman\")")
            if not has_network:
                self.fail(at + ("action",), "no network has been trained yet: the action needs a step that trains first")
        step.action = action
        step.overlay = self.flag(at + ("overlay",), raw.get("overlay", False), "overlay")
        return step, config

    def settings(self, where: tuple, raw: dict, config: RunConfig) -> tuple[dict, float | None]:
        settings: dict = {}
        pace = None
        for key, value in raw.items():
            at = where + (key,)
            if key in _NOT_SETTINGS:
                self.fail(at, f"{key} cannot be set by a lesson: {_NOT_SETTINGS[key]}")
            if key not in SETTINGS:
                self.fail(at, f"unknown setting '{key}'{_suggest(key, SETTINGS)}")
            if key == "pace":
                pace = self.number(at, value, 0.0, MAX_PACE, "pace") or None
                settings[key] = value
                continue
            section, name = SETTING_FIELDS[key]
            target = getattr(config, section)
            default = getattr(type(target)(), name)
            value = self.setting_value(at, key, value, default)
            if key in _FILE_SETTINGS and value is not None:
                value = self.file(at, key, value)
            setattr(target, name, value)
            settings[key] = value
        return settings, pace

    def setting_value(self, at, key, value, default):
        if isinstance(default, bool):
            return self.flag(at, value, key)
        if isinstance(default, int):
            if isinstance(value, bool) or not isinstance(value, int):
                self.fail(at, f"{key} must be a whole number, got {_shown(value)}")
            return value
        if isinstance(default, float):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                self.fail(at, f"{key} must be a number, got {_shown(value)}")
            return float(value)
        if isinstance(default, list):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                self.fail(at, f"{key} must be a list of texts in quotes, got {_shown(value)}")
            for item in value:
                if any(ord(c) < 32 and c != "\t" for c in item):
                    self.fail(at, f"{key}: one line holds a line break or control character; give one line per item")
            return list(value)
        # str, or str | None (the file settings)
        if not isinstance(value, str):
            self.fail(at, f"{key} must be text in quotes, got {_shown(value)}")
        return value

    def file(self, at, key, value: str) -> str:
        if not value.strip():
            self.fail(at, f"{key} is empty")
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = self.folder / path
        if not path.is_file():
            self.fail(at, f"{key}: no such file {str(path)!r}")
        return str(path.resolve())

    def wait(self, where: tuple, raw) -> Wait:
        if not isinstance(raw, dict):
            self.fail(where, "wait must be a table, e.g. [step.wait] then after_epochs = 100")
        if not raw:
            self.fail(where, f"wait is empty (give one of: {', '.join(WAIT_KINDS)})")
        keys = list(raw)
        for key in keys:
            if key not in WAIT_KINDS:
                self.fail(where + (key,), f"unknown wait '{key}'{_suggest(key, WAIT_KINDS)} "
                          f"(choose one of: {', '.join(WAIT_KINDS)})")
        if len(keys) > 1:
            self.fail(where + (keys[1],), f"a step waits for one thing; it names both {keys[0]} and {keys[1]}")
        kind, value = keys[0], raw[keys[0]]
        at = where + (kind,)
        if kind == "after_epochs":
            value = self.whole(at, value, 1, 1_000_000, "after_epochs")
        elif kind == "loss_below":
            value = self.number(at, value, 0.0, 1e6, "loss_below")
            if value <= 0:
                self.fail(at, "loss_below must be greater than 0")
        else:
            if value is not True:
                self.fail(at, f"{kind} must be true (leave the wait out to wait for nothing)")
        return Wait(kind, value)


def _config_key(message: str, at: tuple, settings_raw: dict) -> tuple | None:
    """The setting a config error is about, when the step names it."""
    words = {
        "architecture": "arch", "learning rate": "lr", "gradient clip": "clip", "hidden size": "hidden",
        "embedding size": "embedding_dim", "validation fraction": "valid_fraction", "sine mode": "sine_mode",
        "window length": "window", "sine window length": "sine_window_len", "bidirectional": "bidirectional",
        "encoding": "encoding", "optimizer": "optimizer", "layers": "layers", "epochs": "epochs",
        "seed": "seed", "dropout": "dropout", "pooling": "pool", "level": "level", "task": "task",
    }
    lowered = message.lower()
    for word, key in sorted(words.items(), key=lambda kv: -len(kv[0])):
        if word in lowered and key in settings_raw:
            return at + ("settings", key)
    return None


def _preset_config(name: str) -> RunConfig:
    if name == "text":
        return defaults_for("text")
    if name == "sine":
        return defaults_for("sine", "next-value")
    if name == "sine-sequence":
        return defaults_for("sine", "sequence")
    if name == "classify":
        return defaults_for("classify")
    return PRESETS[name]()


def _shown(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _suggest(name: str, allowed) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(allowed), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


# -- writing -------------------------------------------------------------------------------
def _toml_string(value: str, multiline: bool = False) -> str:
    def escape(text: str, keep_newlines: bool) -> str:
        out = []
        for char in text:
            if char == "\\":
                out.append("\\\\")
            elif char == '"':
                out.append('\\"')
            elif char == "\n" and keep_newlines:
                out.append("\n")
            elif char == "\n":
                out.append("\\n")
            elif char == "\t":
                out.append("\\t")
            elif ord(char) < 32 or ord(char) == 127:
                out.append(f"\\u{ord(char):04x}")
            else:
                out.append(char)
        return "".join(out)

    if multiline and "\n" in value:
        return '"""\n' + escape(value, True) + '"""'
    return '"' + escape(value, False) + '"'


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a lesson cannot hold {value!r}")
        text = repr(value)
        return text if any(c in text for c in ".en") else text + ".0"
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, (list, tuple)):
        items = [_toml_value(v) for v in value]
        one_line = "[" + ", ".join(items) + "]"
        if len(one_line) <= 100:
            return one_line
        return "[\n" + "".join(f"    {item},\n" for item in items) + "]"
    raise ValueError(f"a lesson cannot hold {type(value).__name__} values")


def lesson_to_toml(lesson: Lesson, folder: str | Path | None = None) -> str:
    """The lesson as TOML that ``parse_lesson`` reads back to the same lesson.
    File settings are written relative to ``folder`` when they lie under it."""
    out = ["# An RNN Studio lesson: docs/lessons.md describes the format.",
           f"format = {FORMAT_VERSION}", f"title = {_toml_string(lesson.title)}"]
    if lesson.summary:
        out.append(f"summary = {_toml_string(lesson.summary, multiline=True)}")
    base = Path(folder).resolve() if folder else None
    for step in lesson.steps:
        out += ["", "[[step]]", f"title = {_toml_string(step.title)}",
                f"text = {_toml_string(step.text, multiline=True)}"]
        if step.preset:
            out.append(f"preset = {_toml_string(step.preset)}")
        out.append(f"run = {_toml_string(step.run)}")
        for key in ("lock", "hide", "highlight", "prompts"):
            values = getattr(step, key)
            if values:
                out.append(f"{key} = {_toml_value(list(values))}")
        if step.length is not None:
            out.append(f"length = {step.length}")
        if step.temperature is not None:
            out.append(f"temperature = {_toml_value(float(step.temperature))}")
        if step.samples != 1:
            out.append(f"samples = {step.samples}")
        if step.watch:
            out.append(f"watch = {_toml_string(step.watch, multiline=True)}")
        if step.action:
            out.append(f"action = {_toml_string(step.action)}")
        if step.overlay:
            out.append("overlay = true")
        if step.settings:
            out += ["", "[step.settings]"]
            for key, value in step.settings.items():
                if key in _FILE_SETTINGS and value is not None and base is not None:
                    try:
                        value = Path(value).resolve().relative_to(base).as_posix()
                    except ValueError:
                        pass
                if value is None:
                    continue  # "no file": the default, nothing to write
                out.append(f"{key} = {_toml_value(value)}")
        if step.wait is not None:
            out += ["", "[step.wait]", f"{step.wait.kind} = {_toml_value(step.wait.value)}"]
    return "\n".join(out) + "\n"


def save_lesson(lesson: Lesson, path: str | Path) -> str:
    """Write the lesson atomically; the text is checked by reading it back
    first, so a file written here always opens. Returns the path written."""
    from .atomic import atomic_write

    path = Path(path)
    text = lesson_to_toml(lesson, folder=path.resolve().parent)
    parse_lesson(text, path=str(path), folder=path.resolve().parent)
    data = text.encode("utf-8")
    if len(data) > MAX_LESSON_BYTES:
        raise LessonError(f"the lesson would be {len(data):,} bytes; the limit is {MAX_LESSON_BYTES:,}", path=str(path))
    return atomic_write(str(path), lambda handle: handle.write(data))


def settings_from_config(cfg: RunConfig) -> tuple[str, dict]:
    """(preset, settings) that give ``cfg``: the task's preset and every
    setting that differs from it (the window's "Save as lesson…")."""
    kind = cfg.task.kind
    preset = "sine-sequence" if kind == "sine" and cfg.task.sine_mode == "sequence" else kind
    base = _preset_config(preset)
    settings = {}
    for key, (section, name) in SETTING_FIELDS.items():
        value = getattr(getattr(cfg, section), name)
        if value != getattr(getattr(base, section), name):
            settings[key] = list(value) if isinstance(value, list) else value
    return preset, settings


def lesson_from_window(title: str, text: str, cfg: RunConfig, *, lock=(), hide=(), highlight=(), prompts=(),
                       watch: str = "", wait: Wait | None = None, summary: str = "") -> Lesson:
    """A one-step lesson holding the window's settings and chosen controls."""
    preset, settings = settings_from_config(cfg)
    step = Step(title=title, text=text, preset=preset, settings=settings, run="new", lock=tuple(lock),
                hide=tuple(hide), highlight=tuple(highlight), prompts=tuple(prompts), watch=watch, wait=wait)
    return Lesson(title=title, steps=[step], summary=summary)


__all__ = [
    "ACTIONS", "CONTROLS", "LIVE_SETTINGS", "Lesson", "LessonError", "MAX_LESSON_BYTES", "RUN_MODES", "SETTINGS",
    "STEP_PRESETS", "Step", "VIEWS", "WAIT_KINDS", "Wait", "lesson_from_window", "lesson_to_toml", "load_lesson",
    "parse_lesson", "save_lesson", "settings_from_config", "text_to_html", "text_to_plain",
]
