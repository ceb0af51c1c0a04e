r"""Lectures: a guided sequence of scenarios, as data.

A lecture is a JSON file (shipped ones live in ``data/lectures/``, the package
``scaling_explorer.data``) read into a frozen :class:`Lecture` of :class:`Step`\ s. The page shows
one step at a time: its title and text, its sources, and the scenario it sets.

How a step's scenario is built (absolute, never cumulative)
-----------------------------------------------------------
``Scenario defaults`` <- the lecture's ``base`` query <- the step's ``scenario`` query (keys given
by the step replace the base's), then ``hide`` = every plot layer not in the step's ``show`` list
(``show`` omitted: every layer shows). Each step is therefore self-contained: opening a link at
step 5 gives the same view as clicking through steps 1-4, whatever the student changed on the way.
Queries use the keys of :meth:`Scenario.from_query`, except ``hide`` (layers are the step's
``show``).

Predict first
-------------
A step may carry ``predict``: the student guesses one number (``tokens_per_param``, ``params``
or ``tokens`` of one law at the step's budget) before it is shown. Until the reveal the page uses
:func:`question_scenario`, which is the step's scenario without the predicted law among the shown
laws (so its row, frontier and star do not give the answer away); the true value is
``evaluate(step_scenario(...)).row(law)``.

File format::

    {"title": "...", "summary": "...", "base": "laws=kaplan2020",
     "steps": [{"title": "...", "text": "paragraphs, blank-line separated; **bold**",
                "scenario": "budget=5.76e23&model=Gopher", "show": ["budget", "models"],
                "predict": {"quantity": "tokens_per_param", "law": "besiroglu2024",
                            "prompt": "How many tokens per parameter ...?"},
                "sources": [{"text": "Hoffmann et al. 2022, Table 3", "url": "https://arxiv.org/abs/2203.15556"}]}]}
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from .readout import LawRow, evaluate
from .scenario import LAYERS, VIEW_FIELDS, Scenario, ScenarioError, query_key

#: Where shipped lectures live (``data/lectures/`` in the repository; package data in a wheel).
LECTURES_DIR = files("scaling_explorer.data") / "lectures"

#: What a student can be asked to predict: quantity -> (LawRow attribute, what it is, unit).
QUANTITIES = {
    "tokens_per_param": ("tokens_per_param", "tokens per parameter", "tokens/parameter"),
    "params": ("params", "compute-optimal parameters N_opt", "parameters"),
    "tokens": ("tokens", "compute-optimal training tokens D_opt", "tokens"),
}

_LECTURE_KEYS = {"title", "summary", "base", "steps"}
_STEP_KEYS = {"title", "text", "scenario", "show", "predict", "sources"}
_PREDICT_KEYS = {"quantity", "law", "prompt"}
#: Query keys of a lecture link (beside the scenario's own keys).
LECTURE_QUERY_KEYS = ("lecture", "step")


class LectureError(ValueError):
    """A lecture that does not validate; ``problems`` lists every bad field of every step."""

    def __init__(self, problems: list[str], source: str = "lecture"):
        self.problems = list(problems)
        super().__init__(f"{len(problems)} problem(s) in {source}:\n  " + "\n  ".join(problems))


class GuessError(ValueError):
    """A student's guess that is not a positive number."""


@dataclass(frozen=True)
class Source:
    """A citation shown under a step: text (paper, table/section) and an address."""

    text: str
    url: str = ""


@dataclass(frozen=True)
class Prediction:
    """A number the student guesses before the reveal.

    Attributes
    ----------
    quantity : str
        A key of :data:`QUANTITIES`.
    law : str
        Key of the law whose value at the step's budget is the answer (shown by the step).
    prompt : str
        The question as asked.
    """

    quantity: str
    law: str
    prompt: str


@dataclass(frozen=True)
class Step:
    """One step: what the student reads and the scenario it sets (see the module docstring)."""

    title: str
    text: str
    scenario: str = ""
    show: tuple[str, ...] | None = None
    predict: Prediction | None = None
    sources: tuple[Source, ...] = ()


@dataclass(frozen=True)
class Lecture:
    """A titled sequence of steps; ``name`` is its key in links (``lecture=<name>``)."""

    name: str
    title: str
    steps: tuple[Step, ...]
    base: str = ""
    summary: str = ""

    def __len__(self) -> int:
        return len(self.steps)


@dataclass(frozen=True)
class Judgement:
    """A guess against the true value.

    Attributes
    ----------
    guess, truth : float
    factor : float
        max(guess/truth, truth/guess), at least 1.
    direction : str
        "too high", "too low", or "close" (within 10%).
    """

    guess: float
    truth: float
    factor: float
    direction: str


# -- building scenarios ------------------------------------------------------------------------
def _merge_queries(base: str, step: str) -> str:
    pairs = dict(parse_qsl(base.lstrip("?"), keep_blank_values=True))
    overrides = parse_qsl(step.lstrip("?"), keep_blank_values=True)
    keys = [k for k, _ in overrides]
    if len(set(keys)) != len(keys):
        raise ScenarioError("query", f"a key is given more than once in {step!r}")
    pairs.update(overrides)
    return urlencode(list(pairs.items()), safe=",:")


def _build(base: str, step: Step, view_from: Scenario | None = None) -> Scenario:
    query = _merge_queries(base, step.scenario)
    given = dict(parse_qsl(query, keep_blank_values=True))
    if "hide" in given:
        raise ScenarioError("hide", "a lecture sets layers with the step's \"show\" list, not hide=")
    scenario = Scenario.from_query(query)
    if step.show is not None:
        scenario = scenario.replace(hide=tuple(layer for layer in LAYERS if layer not in step.show))
    if view_from is None:
        return scenario
    # The viewer's view preferences (presentation mode, ...) that this step does not set itself stay.
    keep = tuple(name for name in VIEW_FIELDS if query_key(name) not in given
                 and not (name == "hide" and step.show is not None))
    return scenario.with_view_of(view_from, keep)


def _check_index(lecture: Lecture, i: int) -> None:
    if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(lecture.steps):
        raise LectureError([f"step {i!r}: {lecture.name!r} has steps 0 to {len(lecture.steps) - 1}"], lecture.name)


def step_scenario(lecture: Lecture, i: int, view_from: Scenario | None = None) -> Scenario:
    """The scenario of step ``i`` (0-based): defaults, then ``base``, then the step's changes.

    With ``view_from`` (the page's current scenario), the view preferences the step does not set
    (``present``; ``hide`` when the step has no ``show`` list) are taken from it: a step never
    resets presentation mode.
    """
    _check_index(lecture, i)
    return _build(lecture.base, lecture.steps[i], view_from)


def question_scenario(lecture: Lecture, i: int, view_from: Scenario | None = None) -> Scenario:
    """The scenario shown before a predict-first reveal: the step's, without the predicted law shown.

    Equals :func:`step_scenario` for a step without ``predict``; ``view_from`` as there.
    """
    scenario = step_scenario(lecture, i, view_from)
    p = lecture.steps[i].predict
    if p is None:
        return scenario
    return scenario.replace(laws=tuple(k for k in scenario.laws if k != p.law))


def answer_row(lecture: Lecture, i: int) -> LawRow:
    """The row behind step ``i``'s prediction: its law at the step's budget."""
    p = lecture.steps[i].predict
    if p is None:
        raise LectureError([f"step {i + 1} ({lecture.steps[i].title}): it asks for no prediction"], lecture.name)
    return evaluate(step_scenario(lecture, i)).row(p.law)


def true_value(lecture: Lecture, i: int) -> float:
    """The number step ``i`` asks the student to predict (units as in :data:`QUANTITIES`)."""
    p = lecture.steps[i].predict
    row = answer_row(lecture, i)
    return float(getattr(row, QUANTITIES[p.quantity][0]))


def parse_guess(text) -> float:
    """A guess typed by the student ("20", "7e10", "70B", "1.4T"), as a positive float."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        raw = str(text).strip().replace(",", "").replace("_", "")
        scale = {"k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}.get(raw[-1:].lower(), None) if raw else None
        try:
            value = float(raw[:-1]) * scale if scale else float(raw)
        except ValueError:
            raise GuessError(f"{str(text).strip() or 'an empty box'!r} is not a number; "
                             "type e.g. 20, 7e10 or 70B") from None
    if not math.isfinite(value) or value <= 0:
        raise GuessError(f"a guess must be a positive number, got {value:g}")
    return value


def judge(guess: float, truth: float) -> Judgement:
    """How far ``guess`` is from ``truth``, as a factor (both positive)."""
    guess, truth = parse_guess(guess), float(truth)
    ratio = guess / truth
    factor = max(ratio, 1 / ratio)
    direction = "close" if factor <= 1.1 else ("too high" if ratio > 1 else "too low")
    return Judgement(guess=guess, truth=truth, factor=factor, direction=direction)


# -- links -------------------------------------------------------------------------------------
def lecture_query(lecture: Lecture, i: int) -> str:
    """The link's query for step ``i`` (0-based): ``lecture=<name>&step=<i + 1>`` (1-based in links)."""
    _check_index(lecture, i)
    return urlencode([("lecture", lecture.name), ("step", str(i + 1))])


def split_query(query: str) -> tuple[str | None, int | None, str]:
    """Split a page query into (lecture name, 0-based step, the rest for ``Scenario.from_query``).

    ``step`` without ``lecture`` or a step that is not a positive whole number raises
    :class:`LectureError`; a missing step means the first.
    """
    lecture, step, rest = None, None, []
    for key, value in parse_qsl(query.lstrip("?"), keep_blank_values=True):
        if key == "lecture":
            lecture = value
        elif key == "step":
            if not value.isdigit() or int(value) < 1:
                raise LectureError([f"step={value!r}: steps are numbered from 1"], "the link")
            step = int(value) - 1
        else:
            rest.append((key, value))
    if step is not None and lecture is None:
        raise LectureError(["step= is given without lecture="], "the link")
    if lecture is not None and step is None:
        step = 0
    return lecture, step, urlencode(rest, safe=",:")


# -- reading -----------------------------------------------------------------------------------
def list_lectures() -> tuple[str, ...]:
    """Names of the shipped lectures (``load_lecture`` takes them)."""
    return tuple(sorted(p.name[:-5] for p in LECTURES_DIR.iterdir() if p.name.endswith(".json")))


def load_shipped(name: str) -> Lecture:
    """A shipped lecture by name; nothing else is read (what a public page may open from a link).

    Raises
    ------
    LectureError
        Naming the shipped lectures, for any other name (a path included), whether or not such a
        file exists.
    """
    shipped = list_lectures()
    if not isinstance(name, str) or name not in shipped:
        # The name is not echoed: a link must learn nothing about the file system (the same words
        # for a real file and a missing one).
        raise LectureError([f"no shipped lecture by that name; the shipped lectures are "
                            f"{', '.join(shipped) or 'none'}"], "the link")
    return parse_lecture((LECTURES_DIR / f"{name}.json").read_text(encoding="utf-8"), name=name)


#: The same loader under the name the library branch gave it (tests and notebooks use both).
load_shipped_lecture = load_shipped


def fields_set(lecture: Lecture) -> frozenset[str]:
    """Scenario fields that some step of ``lecture`` sets (in ``base``, a step's query, or ``hide`` by ``show``)."""
    keys = {key for key, _ in parse_qsl(lecture.base.lstrip("?"), keep_blank_values=True)}
    for step in lecture.steps:
        keys |= {key for key, _ in parse_qsl(step.scenario.lstrip("?"), keep_blank_values=True)}
        if step.show is not None:
            keys.add("hide")
    return frozenset(keys)


def load_lecture(name_or_path) -> Lecture:
    """A shipped lecture by name (``"scaling-laws"``) or a lecture JSON file by path.

    For notebooks and the CLI; a page opens only :func:`load_shipped`.

    Raises
    ------
    LectureError
        Listing every problem in every step (unknown keys, bad queries, a prediction of a law
        the step does not show, ...), or naming the lectures there are when none is called that.
    """
    text = str(name_or_path)
    shipped = LECTURES_DIR / f"{text}.json"
    if "/" not in text and not text.endswith(".json") and shipped.is_file():
        return parse_lecture(shipped.read_text(encoding="utf-8"), name=text)
    path = Path(text)
    if path.is_file():
        return parse_lecture(path.read_text(encoding="utf-8"), name=path.stem)
    raise LectureError([f"no lecture called {text!r}; shipped: {', '.join(list_lectures()) or 'none'}, "
                        "or give the path of a .json file"], text)


def parse_lecture(text: str, name: str = "lecture") -> Lecture:
    """Read and validate a lecture's JSON text; ``name`` is its key in links."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LectureError([f"not valid JSON ({exc})"], name) from None
    if not isinstance(data, dict):
        raise LectureError([f"expected a JSON object, got {type(data).__name__}"], name)
    problems: list[str] = []
    for key in sorted(set(data) - _LECTURE_KEYS):
        problems.append(f"unknown key {key!r}; known: {', '.join(sorted(_LECTURE_KEYS))}")
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.append("title: must be non-empty text")
    summary = data.get("summary", "")
    if not isinstance(summary, str):
        problems.append("summary: must be text")
    base = data.get("base", "")
    if not isinstance(base, str):
        problems.append("base: must be a query string such as \"laws=kaplan2020\"")
        base = ""
    else:
        try:
            if "hide" in dict(parse_qsl(base.lstrip("?"))):
                raise ScenarioError("hide", "a lecture sets layers with each step's \"show\" list")
            Scenario.from_query(base)
        except ScenarioError as exc:
            problems.append(f"base: {exc}")
            base = ""
    raw_steps = data.get("steps")
    steps: list[Step] = []
    if not isinstance(raw_steps, list) or not raw_steps:
        problems.append("steps: must be a non-empty list")
        raw_steps = []
    for i, raw in enumerate(raw_steps):
        step, step_problems = _parse_step(raw, base)
        label = f"step {i + 1}" + (f" ({raw['title']})" if isinstance(raw, dict) and isinstance(
            raw.get("title"), str) and raw["title"] else "")
        problems += [f"{label}: {p}" for p in step_problems]
        if step is not None:
            steps.append(step)
    if problems:
        raise LectureError(problems, name)
    return Lecture(name=name, title=title.strip(), steps=tuple(steps), base=base, summary=summary)


def _text(raw: dict, key: str, problems: list[str], required: bool = True) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        problems.append(f"{key}: must be {'non-empty ' if required else ''}text")
        return ""
    return value.strip()


def _parse_step(raw, base: str) -> tuple[Step | None, list[str]]:
    if not isinstance(raw, dict):
        return None, [f"expected an object, got {type(raw).__name__}"]
    problems = [f"unknown key {k!r}; known: {', '.join(sorted(_STEP_KEYS))}" for k in sorted(set(raw) - _STEP_KEYS)]
    title = _text(raw, "title", problems)
    text = _text(raw, "text", problems)
    query = _text(raw, "scenario", problems, required=False)

    show = raw.get("show")
    if show is not None:
        if not isinstance(show, list) or not all(isinstance(x, str) for x in show):
            problems.append(f"show: must be a list of layers from {', '.join(LAYERS)}")
            show = None
        else:
            unknown = [x for x in show if x not in LAYERS]
            if unknown:
                problems.append(f"show: unknown layer(s) {', '.join(unknown)}; layers are {', '.join(LAYERS)}")
                show = None
            else:
                show = tuple(show)

    sources = []
    raw_sources = raw.get("sources", [])
    if not isinstance(raw_sources, list):
        problems.append("sources: must be a list of {\"text\", \"url\"}")
        raw_sources = []
    for j, src in enumerate(raw_sources):
        if not isinstance(src, dict) or set(src) - {"text", "url"} or not isinstance(src.get("text"), str) \
                or not src["text"].strip() or not isinstance(src.get("url", ""), str):
            problems.append(f"sources[{j}]: must be {{\"text\": non-empty text, \"url\": text}}")
            continue
        url = src.get("url", "")
        if url and not url.startswith(("https://", "http://")):
            problems.append(f"sources[{j}]: url {url!r} must start with https://")
            continue
        sources.append(Source(text=src["text"].strip(), url=url))

    step = Step(title=title, text=text, scenario=query, show=show, sources=tuple(sources))
    scenario = None
    try:
        scenario = _build(base, step)
    except ScenarioError as exc:
        problems.append(f"scenario: {exc}")

    predict = raw.get("predict")
    prediction = None
    if predict is not None:
        if not isinstance(predict, dict):
            problems.append("predict: must be an object with quantity, law and prompt")
        else:
            bad = [f"predict: unknown key {k!r}" for k in sorted(set(predict) - _PREDICT_KEYS)]
            quantity, law, prompt = predict.get("quantity"), predict.get("law"), predict.get("prompt")
            if quantity not in QUANTITIES:
                bad.append(f"predict: quantity {quantity!r} is not one of {', '.join(QUANTITIES)}")
            if not isinstance(prompt, str) or not prompt.strip():
                bad.append("predict: prompt must be non-empty text")
            if scenario is not None and law not in scenario.laws:
                bad.append(f"predict: law {law!r} is not among the step's shown laws "
                           f"({', '.join(scenario.laws) or 'none'})")
            problems += bad
            if not bad:
                prediction = Prediction(quantity=quantity, law=law, prompt=prompt.strip())
    if problems:
        return None, problems
    return Step(title=title, text=text, scenario=query, show=show, predict=prediction,
                sources=tuple(sources)), []
