"""The Scenario: every user choice as one frozen, serialisable value.

The page, a shared link, a lecture step, an export and the CLI all hold a :class:`Scenario`;
:func:`scaling_explorer.readout.evaluate` turns it into every number shown.

Each field is declared once, with a :class:`Choice` in its ``dataclasses.field`` metadata: its
query key, its kind, the range or the options it may take, a one-line doc and whether it is a
view preference. Everything else is derived from that declaration: validation
(:class:`ScenarioError` names the query key), the query and JSON round trips, the lenient reader
for links (:meth:`Scenario.from_query_lenient`), the ranges a control may offer
(:func:`choice`), the CLI flags (``--budget``, ``--serve``, ...; :mod:`scaling_explorer.cli`),
the key table in ``docs/api.md`` (:func:`key_table`) and the tests' hypothesis strategy.

To add a choice, add one field with ``_declare(...)``; the query key, the JSON, the CLI flag, the
docs table (regenerate with ``python -m scaling_explorer.scenario``) and the round-trip tests
follow.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode

from . import compute, flops, laws, presets
from .distill import TEACHER_LOSS_RANGE, Accounting

DEFAULT_LAWS = ("kaplan2020", "hoffmann2022-approach1", "besiroglu2024")
BUDGET_RANGE = (1e15, 1e30)  # FLOPs: a 10M-parameter toy to well past any model trained
#: Inference demand: far past any deployment (a budget of 1e30 FLOPs serves ~1e18 tokens at 70B).
TOKENS_MAX = 1e30
#: Unique tokens: the upper end of the 90% interval (1e14 to 1e15, median about 3e14) of the effective
#: stock of public human-written text, Villalobos et al. 2024 ("Will we run out of data?", ICML, §3).
UNIQUE_TOKENS_MAX = 1e15
#: A target loss above ln(262,144) = 12.48 nats, uniform guessing over the largest vocabulary in the
#: catalog (Gemma 3's 262k tokens), asks for less than no model at all.
TARGET_LOSS_MAX = 12.48
PRICE_MAX = 1000.0  # US$ per GPU-hour: ~100x any cloud list price for one GPU
BAND_MAX = 100.0  # a near-optimal band of 100x either way would call every model near-optimal
WEIGHTS = ("all", "open", "closed")
PARAM_COUNTS = ("native", "total", "non-embedding")
FLATNESS_RANGE = (1e-4, 0.5)  # relative loss tolerance of the near-optimal range
ARCHITECTURES = ("all", "dense", "moe")
YEARS_RANGE = (1900, 2100)
#: Test-time exchange: the catalog's models span about four orders of magnitude in size.
SIZE_RATIO_MAX = 1e4
#: Layers of the N-D plot that a lecture step (or the user) can hide.
LAYERS = ("contours", "shading", "frontiers", "optima", "models", "labels", "budget", "error", "distillation")


class ScenarioError(ValueError):
    """A choice that does not validate; ``field`` names it (the query key where there is one)."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


def _short(x: float) -> str:
    """``x`` for a message: 1e30, 12.48, 0.5 (as %g, without the exponent's plus sign and zeros)."""
    mantissa, e, exponent = f"{x:g}".partition("e")
    return f"{mantissa}e{int(exponent)}" if e else mantissa


@lru_cache(maxsize=1)
def _model_names() -> frozenset[str]:
    from .catalog import load_models

    return frozenset(load_models()["name"])


#: The kinds a field can be: how it is checked, written to a query and read back.
KINDS = ("number", "text", "keys", "edits", "years", "flag", "point")


@dataclass(frozen=True)
class Choice:
    """The declaration of one Scenario field.

    Attributes
    ----------
    key : str
        Query key (also the CLI flag ``--key``).
    kind : str
        One of :data:`KINDS`: ``number`` (a float), ``text`` (one of ``options``), ``keys`` (a tuple
        of ``options``), ``edits`` (law, coefficient, value triples), ``years`` ((first, last)),
        ``flag`` (a bool) or ``point`` ((N, D), both within ``low`` and ``high``; query text ``N:D``).
    doc : str
        One line: what the choice means, with its unit.
    example : str
        A query value, for the docs.
    optional : bool
        None is allowed (an empty query value); for ``text``, the empty string is allowed.
    low, high : float or None
        Range of a ``number``, or of each coordinate of a ``point`` (inclusive unless ``low_open`` /
        ``high_open``).
    low_open, high_open : bool
        The bound itself is excluded.
    options : tuple of str, or a callable returning one, or None
        What a ``text`` or ``keys`` field may take (a callable when the set is only known at run
        time, such as the registered laws).
    ordered : bool
        For ``keys``: the order is kept and a repeat refused (else sorted, repeats dropped).
    parse : callable or None
        For ``text``: accepts values beyond ``options`` (which then lists the named ones a control
        offers): ``parse(value)`` raises ``ValueError`` saying why a value is refused.
    view : bool
        A view preference (how the page looks, not what it computes): carried from one scenario
        to the next by :meth:`Scenario.with_view_of`, so a lecture step never resets it.
    extra : bool
        It asks for results beside the training-optimal ones (the Readout's extras): the
        frontiers, the contours and the budget leave it be (:data:`EXTRA_FIELDS`).
    judges : bool
        The published models' status depends on it besides the surface law, its count and the
        band (:data:`JUDGING_FIELDS`): every view of the models follows it.
    flags : tuple of str
        Older spellings of its CLI flag, kept working (``--flops`` for ``--budget``).
    range_note : str
        Why the range is what it is (a source), for the docs.
    """

    key: str
    kind: str
    doc: str
    example: str = ""
    optional: bool = False
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    options: tuple[str, ...] | Callable[[], tuple[str, ...]] | None = None
    ordered: bool = True
    parse: Callable[[str], object] | None = None
    view: bool = False
    extra: bool = False
    judges: bool = False
    flags: tuple[str, ...] = ()
    range_note: str = ""

    def choices(self) -> tuple[str, ...] | None:
        """The options a ``text`` or ``keys`` field may take now (None: free text or a number)."""
        return tuple(self.options()) if callable(self.options) else self.options

    def range(self) -> tuple[float, float] | None:
        """(low, high) of a ``number`` field; None for other kinds."""
        return None if self.kind not in ("number", "point") else (self.low, self.high)

    def describe_range(self) -> str:
        """The accepted values in words, for messages and the docs."""
        if self.kind in ("number", "point"):
            low = f"{'above' if self.low_open else 'from'} {_short(self.low)}"
            high = f"{'below' if self.high_open else 'to'} {_short(self.high)}"
            each = "N:D, each " if self.kind == "point" else ""
            return f"{each}{low} {high}" + (" (empty: none)" if self.optional else "")
        if self.parse is not None and self.range_note:  # forms beyond the options: the note names them
            return self.range_note + (" (empty: none)" if self.optional else "")
        if self.kind in ("text", "keys"):
            options = self.options if not callable(self.options) else None
            if options is None:
                return "a name" if self.kind == "text" else "names, comma-separated"
            return ("one of " if self.kind == "text" else "any of ") + ", ".join(options)
        return {"edits": "law:coefficient:value, comma-separated", "years": "first-last, e.g. 2020-2024",
                "flag": "1 or 0"}[self.kind]


def _declare(default, key: str, kind: str, doc: str, **choice) -> dataclasses.Field:
    """A Scenario field with its :class:`Choice` in the metadata."""
    return field(default=default, metadata={"choice": Choice(key=key, kind=kind, doc=doc, **choice)})


def _law_keys() -> tuple[str, ...]:
    return presets.law_keys()


@lru_cache(maxsize=1)
def _models() -> tuple[str, ...]:
    return tuple(sorted(_model_names()))


def _teachers() -> tuple[str, ...]:
    from .distill import catalog_teachers

    return catalog_teachers()


def _teacher(text: str):
    from .distill import teacher_from_spec

    try:
        return teacher_from_spec(text)
    except ValueError as exc:  # ScenarioError prefixes the key already
        raise ValueError(str(exc).removeprefix("teacher ")) from None


@dataclass(frozen=True)
class Scenario:
    """Every user choice. Validated on construction; ``ScenarioError`` names the bad field's query key.

    Each field's meaning, query key, range and options are declared beside it (:class:`Choice`);
    ``docs/api.md`` lists them (:func:`key_table`).
    """

    budget: float = _declare(5.76e23, "budget", "number", "training compute in FLOPs (opens on Chinchilla's, "
                             "Hoffmann §4)", example="3.14e23", low=BUDGET_RANGE[0], high=BUDGET_RANGE[1],
                             range_note="a 10M-parameter toy to well past any model trained", flags=("--flops",))
    laws: tuple[str, ...] = _declare(DEFAULT_LAWS, "laws", "keys", "shown laws (empty: none)",
                                     example="kaplan2020,besiroglu2024", options=_law_keys,
                                     range_note="law keys: `scaling-explorer laws`")
    surface: str = _declare("besiroglu2024", "surface", "text", "loss law for contours, shading and model status",
                            example="besiroglu2024", options=_law_keys,
                            range_note="a law key with a loss: `scaling-explorer laws`")
    edits: tuple[tuple[str, str, float], ...] = _declare((), "edit", "edits", "coefficient edits",
                                                         example="besiroglu2024:alpha:0.4", flags=("--edits",))
    band: float = _declare(2.0, "band", "number", "near-optimal when D/D_opt is within [1/band, band]",
                           example="2", low=1.0, low_open=True, high=BAND_MAX)
    years: tuple[int, int] | None = _declare(None, "years", "years", "release years shown, inclusive (empty: all)",
                                             example="2020-2024", optional=True)
    weights: str = _declare("all", "weights", "text", "models shown by their weights", example="open",
                            options=WEIGHTS)
    architecture: str = _declare("all", "arch", "text", "models shown by architecture", example="moe",
                                 options=ARCHITECTURES, flags=("--architecture",))
    hardware: str = _declare("H100", "hw", "text", "hardware preset (compute.HARDWARE)", example="H100",
                             options=tuple(compute.HARDWARE), flags=("--hardware",))
    mfu: float = _declare(0.4, "mfu", "number", "model-FLOPs utilisation, a fraction", example="0.4",
                          low=0.0, low_open=True, high=1.0)
    price: float = _declare(2.0, "price", "number", "US dollars per GPU-hour", example="2", low=0.0, low_open=True,
                            high=PRICE_MAX, range_note="about 100x any cloud list price for one GPU")
    model: str = _declare("Chinchilla", "model", "text", "the selected model's name (empty: none)",
                          example="Chinchilla", optional=True, options=_models,
                          range_note="a name in data/models.csv")
    inference_tokens: float = _declare(0.0, "serve", "number", "lifetime inference tokens T (0: training cost only)",
                                       example="1e13", low=0.0, high=TOKENS_MAX, extra=True, judges=True,
                                       flags=("--inference-tokens",))
    unique_tokens: float | None = _declare(None, "unique", "number", "unique training tokens available "
                                           "(empty: unlimited)", example="2e11", optional=True, low=0.0,
                                           low_open=True, high=UNIQUE_TOKENS_MAX, extra=True,
                                           range_note="the stock of public text, Villalobos et al. 2024: "
                                                      "1e14 to 1e15 tokens (90%)", flags=("--unique-tokens",))
    target_loss: float | None = _declare(None, "target", "number", "a target loss in nats per token (empty: none); "
                                         "above the surface law's irreducible loss", example="2.0", optional=True,
                                         low=0.0, low_open=True, high=TARGET_LOSS_MAX, extra=True,
                                         range_note="uniform guessing over a 262k vocabulary is 12.48 nats",
                                         flags=("--target-loss",))
    param_count: str = _declare("native", "count", "text", "count N as each law's own, total or non-embedding "
                                "(Pearce & Song's fit)", example="non-embedding", options=PARAM_COUNTS,
                                flags=("--param-count",))
    flop_model: str = _declare("6ND", "flop", "text", "FLOP model every law counts its budget with "
                               "(flops.FLOP_MODELS)", example="chinchilla",
                               options=tuple(flops.FLOP_MODELS), flags=("--flop-model",))
    flatness: float | None = _declare(None, "flat", "number", "near-optimal range within this relative loss "
                                      "tolerance (empty: none)", example="0.01", optional=True,
                                      low=FLATNESS_RANGE[0], high=FLATNESS_RANGE[1], extra=True,
                                      flags=("--flatness",))
    teacher: str = _declare("", "teacher", "text", "distil each optimum's model from this teacher (Busbridge et al. "
                            "2025; empty: none)", example="7.75e9:1.55e11", optional=True, options=_teachers,
                            parse=_teacher, extra=True, range_note="a catalog model with a published size and tokens, "
                            "NT:DT (non-embedding parameters:tokens) or a loss in their C4 nats, from "
                            "{:g} (E, excluded) to {:.2f} (uniform guessing)".format(*TEACHER_LOSS_RANGE))
    accounting: str = _declare("best-case", "accounting", "text", "which teacher costs the distillation FLOPs count "
                               "(Busbridge et al. 2025, Table 2)", example="teacher-inference",
                               options=tuple(a.value for a in Accounting), extra=True)
    size_ratio: float = _declare(14.0, "size-ratio", "number", "with demand: test-time compute against a model M "
                                 "times the optimum's size (Snell et al. 2024 §7)", example="14", low=1.0,
                                 high=SIZE_RATIO_MAX, extra=True, range_note="the catalog spans about four orders "
                                 "of magnitude in size")
    hyperparameters: bool = _declare(False, "hyper", "flag", "give the learning rate and batch at each optimum "
                                     "(Step Law; DeepSeek LLM)", example="1", extra=True)
    hide: tuple[str, ...] = _declare((), "hide", "keys", "plot layers hidden", example="contours,labels",
                                     options=LAYERS, ordered=False, view=True)
    mine: tuple[float, float] | None = _declare(None, "mine", "point", "your own model as N:D, parameters and "
                                                "training tokens, placed against the loss law (empty: none)",
                                                example="7e9:2e12", optional=True, low=1e6, high=1e16,
                                                range_note="a 1M-parameter toy to past any model or corpus")
    present: bool = _declare(False, "present", "flag", "presentation mode: large type, controls folded",
                             example="1", view=True)
    _laws_cache: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self):
        for f in _FIELDS:
            object.__setattr__(self, f.name, _check(f.metadata["choice"], getattr(self, f.name)))
        self._check_together()

    def _check_together(self) -> None:
        """Checks that involve more than one field, or the laws themselves."""
        for key in {k for k, _, _ in self.edits}:
            try:
                self.law(key)
            except ScenarioError:
                raise
            except (ValueError, TypeError) as exc:
                raise ScenarioError("edit", str(exc)) from None
        for key in self.laws:
            self.law(key)  # a convention a law cannot take raises here, naming its key
        surface = self.law(self.surface)
        if not surface.has_loss:
            raise ScenarioError("surface", f"{self.surface!r} is an allocation law without a loss surface")
        irreducible = getattr(surface, "E", None)
        if self.target_loss is not None and irreducible is not None and self.target_loss <= irreducible:
            raise ScenarioError("target", f"{self.target_loss:g} nats is at or below {surface.name}'s irreducible "
                                          f"loss E = {irreducible:g}: no model reaches it")

    # -- laws ------------------------------------------------------------------------------
    def law(self, key: str) -> laws.Law:
        """The law behind ``key`` with this scenario's edits, parameter count and FLOP model applied."""
        if key not in self._laws_cache:
            law = laws.edited(presets.get_law(key), self.edits_for(key))
            if self.param_count != "native":
                from .reexpress import reexpress

                law = reexpress(law, self.param_count)
            if self.flop_model != "6ND":
                if "flop_model" not in {f.name for f in dataclasses.fields(law)}:
                    raise ScenarioError("flop", f"{law.name} counts its FLOPs its own way; use flop=6ND with it")
                flop_model = flops.get_flop_model(self.flop_model).for_params(law.params_meaning)
                law = dataclasses.replace(law, flop_model=flop_model)
            self._laws_cache[key] = law
        return self._laws_cache[key]

    def edits_for(self, key: str) -> dict[str, float]:
        """Coefficient edits of the law ``key``, as {coefficient: value}."""
        return {name: value for k, name, value in self.edits if k == key}

    def replace(self, **changes) -> Scenario:
        """A validated copy with some fields changed.

        Equal to building the Scenario afresh with those values, but only the changed fields are
        checked, and the laws are rebuilt only when a field they depend on changed (a budget step
        on the page replaces one number).
        """
        if not changes.keys() <= FIELDS.keys():
            return dataclasses.replace(self, **changes)  # TypeError naming the unknown field, as dataclasses does
        new = object.__new__(Scenario)
        for name in FIELDS:
            object.__setattr__(new, name, getattr(self, name))
        for name, value in changes.items():
            object.__setattr__(new, name, _check(FIELDS[name], value))
        if _CHECKED_TOGETHER.isdisjoint(changes):
            object.__setattr__(new, "_laws_cache", self._laws_cache)  # same laws: share what was built
        else:
            object.__setattr__(new, "_laws_cache", {})
            new._check_together()
        return new

    def changed_fields(self, other: Scenario) -> frozenset[str]:
        """Names of the fields that differ between this scenario and ``other``."""
        return frozenset(f.name for f in _FIELDS if getattr(self, f.name) != getattr(other, f.name))

    # -- view preferences ------------------------------------------------------------------
    def view_preferences(self) -> dict:
        """The view preferences (fields declared ``view=True``: ``hide``, ``present``) as {field: value}."""
        return {name: getattr(self, name) for name in VIEW_FIELDS}

    def with_view_of(self, other: Scenario, names: tuple[str, ...] | None = None) -> Scenario:
        """The scenario with ``other``'s view preferences (all, or only ``names``).

        A lecture step builds its own scenario and then takes the page's ``present``:
        ``step.with_view_of(page, ("present",))``; a step that sets no layers takes ``hide`` too.
        """
        names = VIEW_FIELDS if names is None else tuple(names)
        for name in names:
            if name not in VIEW_FIELDS:
                raise ScenarioError(_KEY.get(name, name), "is not a view preference")
        changes = {n: getattr(other, n) for n in names if getattr(other, n) != getattr(self, n)}
        return self.replace(**changes) if changes else self

    # -- serialisation ---------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Every field as JSON-ready values, by field name."""
        return {f.name: _to_json_value(getattr(self, f.name)) for f in _FIELDS}

    @classmethod
    def from_dict(cls, data: dict) -> Scenario:
        """The inverse of :meth:`to_dict`; unknown keys raise ``ScenarioError``."""
        if not isinstance(data, dict):
            raise ScenarioError("scenario", f"expected an object, got {type(data).__name__}")
        values = {}
        for name, value in data.items():
            if name not in FIELDS:
                raise ScenarioError(name, f"unknown field; known: {', '.join(sorted(FIELDS))}")
            values[name] = _from_json_value(FIELDS[name], value)
        return cls(**values)

    def to_json(self) -> str:
        """The scenario as a JSON object (lossless)."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> Scenario:
        """Read :meth:`to_json`'s output."""
        try:
            data = json.loads(text)
        except (TypeError, json.JSONDecodeError) as exc:
            raise ScenarioError("scenario", f"not valid JSON ({exc})") from None
        return cls.from_dict(data)

    def to_query(self) -> str:
        """The scenario as a URL query string; fields at their default are left out."""
        pairs = [(c.key, _write(c, getattr(self, f.name))) for f in _FIELDS if (c := f.metadata["choice"])
                 and getattr(self, f.name) != f.default]
        return urlencode(pairs, safe=",:")

    @classmethod
    def query_values(cls, query: str) -> dict:
        """Read a query string into {field name: value} without building the Scenario (bad text raises)."""
        if not isinstance(query, str):
            raise ScenarioError("query", f"expected text, got {type(query).__name__}")
        values: dict = {}
        for key, text in parse_qsl(query.lstrip("?"), keep_blank_values=True):
            name = _FIELD_OF.get(key)
            if name is None:
                raise ScenarioError(key, f"unknown query key; known: {', '.join(_FIELD_OF)}")
            if name in values:
                raise ScenarioError(key, "given more than once")
            values[name] = _read(FIELDS[name], text)
        return values

    @classmethod
    def from_query(cls, query: str) -> Scenario:
        """Read a URL query string (a leading ``?`` is fine); unknown keys and bad values raise."""
        return cls(**cls.query_values(query))

    @classmethod
    def from_query_lenient(cls, query: str) -> tuple[Scenario, dict[str, str]]:
        """Read a link: the good keys apply, each bad one is left at its default and named.

        Returns
        -------
        scenario : Scenario
        problems : dict
            {query key: message} for every key that was not applied.
        """
        problems: dict[str, str] = {}
        values: dict = {}
        seen: set[str] = set()
        for key, text in parse_qsl(str(query).lstrip("?"), keep_blank_values=True):
            name = _FIELD_OF.get(key)
            if name is None:
                problems[key] = f"unknown query key; known: {', '.join(_FIELD_OF)}"
            elif key in seen:
                problems[key] = "given more than once"
                values.pop(name, None)
            else:
                seen.add(key)
                try:
                    values[name] = _read(FIELDS[name], text)
                except ScenarioError as exc:
                    problems[key] = str(exc).removeprefix(f"{key}: ")
        while True:
            try:
                return cls(**values), problems
            except ScenarioError as exc:
                name = _FIELD_OF.get(exc.field)
                if name not in values:  # not one of the link's keys: nothing left to drop
                    raise
                problems[exc.field] = str(exc).removeprefix(f"{exc.field}: ")
                del values[name]

    def to_code(self) -> str:
        """A short Python snippet that recomputes this scenario's numbers through the public API.

        Laws that are not presets (a fit, a user's law) are written out with their coefficients,
        so the snippet runs in a fresh kernel.
        """
        imports = ["Scenario", "evaluate"]
        registrations = []
        for key in dict.fromkeys((*self.laws, self.surface, *(k for k, _, _ in self.edits))):
            if key in presets.PRESETS:
                continue
            law = presets.get_law(key)
            kind = type(law).__name__
            if kind not in imports:
                imports.append(kind)
            coefficients = ", ".join(f"{c}={getattr(law, c)!r}" for c in law.coefficients)
            registrations.append(f"register_law({key!r}, {kind}({coefficients}, name={law.name!r}), replace=True)")
        if registrations:
            imports.append("register_law")
        changed = {f.name: getattr(self, f.name) for f in _FIELDS if getattr(self, f.name) != f.default}
        args = ", ".join(f"{k}={v!r}" for k, v in changed.items())
        return "\n".join([
            f"from scaling_explorer import {', '.join(imports)}", *registrations, "",
            f"scenario = Scenario({args})", "readout = evaluate(scenario)",
            "print(readout.to_frame().to_string(index=False))",
        ]) + "\n"


_FIELDS = tuple(f for f in dataclasses.fields(Scenario) if f.init)
#: Every declared field: {field name: Choice}, in the Scenario's order.
FIELDS: dict[str, Choice] = {f.name: f.metadata["choice"] for f in _FIELDS}
_KEY = {name: c.key for name, c in FIELDS.items()}
_FIELD_OF = {c.key: name for name, c in FIELDS.items()}
# The class's numpy-style Attributes section, from the declarations (help(Scenario) lists every field).
if Scenario.__doc__:  # None under python -OO
    Scenario.__doc__ += "\n    Attributes\n    ----------\n" + "".join(
        f"    {name} : {f.type}\n        {c.doc} (query key ``{c.key}``; {c.describe_range()}).\n"
        for name, c, f in ((f.name, f.metadata["choice"], f) for f in _FIELDS))
#: Fields :meth:`Scenario._check_together` (the laws, and what is checked against them) depends on.
_CHECKED_TOGETHER = frozenset({"laws", "surface", "edits", "param_count", "flop_model", "target_loss"})
#: Fields that are view preferences (``Choice.view``).
VIEW_FIELDS = tuple(name for name, c in FIELDS.items() if c.view)
#: Fields that ask for results beside the training-optimal ones (``Choice.extra``).
EXTRA_FIELDS = tuple(name for name, c in FIELDS.items() if c.extra)
#: Fields the published models' status depends on besides the surface law and the band (``Choice.judges``).
JUDGING_FIELDS = tuple(name for name, c in FIELDS.items() if c.judges)


def choice(name_or_key: str) -> Choice:
    """The declaration of a field, by field name (``inference_tokens``) or query key (``serve``)."""
    name = name_or_key if name_or_key in FIELDS else _FIELD_OF.get(name_or_key)
    if name is None:
        raise KeyError(name_or_key)
    return FIELDS[name]


def field_name(key: str) -> str:
    """The field behind a query key (``serve`` -> ``inference_tokens``)."""
    return _FIELD_OF[key]


def query_key(name: str) -> str:
    """The query key of a field (``inference_tokens`` -> ``serve``)."""
    return _KEY[name]


# -- per-kind checks, readers and writers --------------------------------------------------------
def _finite(key: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ScenarioError(key, f"{value!r} is not a number")
    value = float(value)
    if not math.isfinite(value):
        raise ScenarioError(key, f"{value!r} is not finite")
    return value


def _check(c: Choice, value):
    """``value`` normalised (floats, sorted tuples) if it fits the declaration; else ScenarioError."""
    key = c.key
    if value is None and c.optional and c.kind != "text":
        return None
    if c.kind == "number":
        x = _finite(key, value)
        too_low = x <= c.low if c.low_open else x < c.low
        too_high = x >= c.high if c.high_open else x > c.high
        if too_low or too_high:
            raise ScenarioError(key, f"{_short(x)} is outside the accepted range: {c.describe_range()}"
                                + (f" ({c.range_note})" if c.range_note else ""))
        return x
    if c.kind == "text":
        if not isinstance(value, str):
            raise ScenarioError(key, f"{value!r} is not text")
        if value == "" and c.optional:
            return value
        options = c.choices()
        if c.parse is not None and (options is None or value not in options):
            try:
                c.parse(value)
            except ValueError as exc:
                raise ScenarioError(key, str(exc)) from None
            return value
        if options is not None and value not in options:
            if len(options) > 30:
                raise ScenarioError(key, f"no {value!r} among the {len(options)} known"
                                    + (f" ({c.range_note})" if c.range_note else ""))
            raise ScenarioError(key, f"{value!r} is not one of {', '.join(options)}")
        return value
    if c.kind == "keys":
        if isinstance(value, str) or not isinstance(value, (tuple, list)) or not all(
                isinstance(k, str) for k in value):
            raise ScenarioError(key, f"must be a sequence of names, got {value!r}")
        options = c.choices()
        for k in value:
            if options is not None and k not in options:
                raise ScenarioError(key, f"unknown {k!r}; choose from {', '.join(options)}")
        if not c.ordered:
            return tuple(sorted(set(value)))
        if len(set(value)) != len(value):
            raise ScenarioError(key, f"a name is listed twice in {','.join(value)}")
        return tuple(value)
    if c.kind == "edits":
        edits = {}
        known = presets.law_keys()
        for item in value:
            try:
                law_key, name, x = item
            except (TypeError, ValueError):
                raise ScenarioError(key, f"{item!r} is not (law, coefficient, value)") from None
            if law_key not in known:
                raise ScenarioError(key, f"unknown law {law_key!r}")
            if (law_key, name) in edits:
                raise ScenarioError(key, f"{law_key}:{name} is edited twice")
            edits[law_key, name] = _finite(key, x)
        return tuple(sorted((k, n, x) for (k, n), x in edits.items()))
    if c.kind == "years":
        try:
            low, high = (int(y) for y in value)
        except (TypeError, ValueError):
            raise ScenarioError(key, f"{value!r} is not (first year, last year)") from None
        if not YEARS_RANGE[0] <= low <= high <= YEARS_RANGE[1]:
            raise ScenarioError(key, f"{low}-{high} is not a span of years")
        return (low, high)
    if c.kind == "flag":
        if not isinstance(value, bool):
            raise ScenarioError(key, f"must be true or false, got {value!r}")
        return value
    if c.kind == "point":
        if isinstance(value, str) or not isinstance(value, (tuple, list)) or len(value) != 2:
            raise ScenarioError(key, f"{value!r} is not (N, D)")
        point = tuple(_finite(key, x) for x in value)
        for what, x in zip(("N", "D"), point, strict=True):
            if not c.low <= x <= c.high:
                raise ScenarioError(key, f"{what} = {_short(x)} is outside the accepted range: {c.describe_range()}"
                                    + (f" ({c.range_note})" if c.range_note else ""))
        return point
    raise AssertionError(c.kind)


def _fmt(x: float) -> str:
    """The shortest text that reads back as the same float: 2.0, 0.4, 1e22, 8.81e9 (not 8810000000.0)."""
    x = float(x)
    if abs(x) >= 1e6:
        for digits in range(1, 18):  # the fewest significant digits that read back exactly (17 always do)
            mantissa, _, exponent = f"{x:.{digits - 1}e}".partition("e")
            if float(f"{mantissa}e{exponent}") == x:
                return f"{mantissa}e{int(exponent)}"
    return repr(x).replace("e+", "e")


def _write(c: Choice, value) -> str:
    """The query text of ``value`` (inverse of :func:`_read`)."""
    if value is None:
        return ""
    if c.kind == "number":
        return _fmt(value)
    if c.kind == "keys":
        return ",".join(value)
    if c.kind == "edits":
        return ",".join(f"{k}:{n}:{_fmt(v)}" for k, n, v in value)
    if c.kind == "years":
        return f"{value[0]}-{value[1]}"
    if c.kind == "flag":
        return "1" if value else "0"
    if c.kind == "point":
        return f"{_fmt(value[0])}:{_fmt(value[1])}"
    return str(value)


def _read_float(key: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ScenarioError(key, f"{text!r} is not a number") from None


def _read(c: Choice, text: str):
    """The value of a query text (checked later, on construction)."""
    key = c.key
    if c.optional and text == "" and c.kind != "text":
        return None
    if c.kind == "number":
        return _read_float(key, text)
    if c.kind == "keys":
        return tuple(text.split(",")) if text else ()
    if c.kind == "edits":
        edits = []
        for item in filter(None, text.split(",")):
            parts = item.split(":")
            if len(parts) != 3:
                raise ScenarioError(key, f"{item!r} is not law:coefficient:value")
            edits.append((parts[0], parts[1], _read_float(key, parts[2])))
        return tuple(edits)
    if c.kind == "years":
        low, sep, high = text.partition("-")
        try:
            return (int(low), int(high)) if sep else (int(low), int(low))
        except ValueError:
            raise ScenarioError(key, f"{text!r} is not a span of years such as 2020-2024") from None
    if c.kind == "flag":
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ScenarioError(key, f"{text!r} is not 1 or 0")
    if c.kind == "point":
        parts = text.split(":")
        if len(parts) != 2:
            raise ScenarioError(key, f"{text!r} is not N:D, e.g. 7e9:2e12")
        return tuple(_read_float(key, part) for part in parts)
    return text


def _to_json_value(value):
    if isinstance(value, tuple):
        return [_to_json_value(v) for v in value]
    return value


def _from_json_value(c: Choice, value):
    if c.kind in ("keys", "years", "point") and isinstance(value, list):
        return tuple(value)
    if c.kind == "edits" and isinstance(value, list):
        return tuple(tuple(e) if isinstance(e, list) else e for e in value)
    return value


# -- documentation -----------------------------------------------------------------------------
def key_table() -> str:
    """The query keys as a Markdown table (key, meaning, accepted values, default, example), from the declarations."""
    lines = ["| key | meaning | accepted | default | example |", "|---|---|---|---|---|"]
    for f in _FIELDS:
        c = f.metadata["choice"]
        accepted = c.describe_range()
        accepted += f"; {c.range_note}" if c.range_note and c.range_note not in accepted else ""
        default = _write(c, f.default) or "(empty)"
        view = " (view preference)" if c.view else ""
        lines.append(f"| `{c.key}` | {c.doc}{view} | {accepted} | `{default}` | `{c.key}={c.example}` |")
    return "\n".join(lines) + "\n"


DOCS_BEGIN, DOCS_END = "<!-- scenario keys: begin (generated by key_table) -->", "<!-- scenario keys: end -->"


def docs_with_key_table(text: str) -> str:
    """``text`` (docs/api.md) with the generated key table between its markers."""
    head, _, rest = text.partition(DOCS_BEGIN)
    _, _, tail = rest.partition(DOCS_END)
    return f"{head}{DOCS_BEGIN}\n{key_table()}{DOCS_END}{tail}"


if __name__ == "__main__":  # python -m scaling_explorer.scenario docs/api.md: regenerate the key table
    import sys
    from pathlib import Path

    path = Path(sys.argv[1])
    path.write_text(docs_with_key_table(path.read_text()))
