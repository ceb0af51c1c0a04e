"""The Scenario: every user choice as one frozen, serialisable value.

The page, a shared link, a lecture step, an export and the CLI all hold a :class:`Scenario`;
:func:`scaling_explorer.readout.evaluate` turns it into every number shown.

Query keys (``Scenario.from_query`` / ``to_query``; keys left out take their defaults):

========  =====================================================  ==========================
key       meaning                                                example
========  =====================================================  ==========================
budget    training compute in FLOPs                              ``budget=3.14e23``
laws      shown laws, comma-separated keys (empty: none)         ``laws=kaplan2020,besiroglu2024``
surface   loss law for contours, shading and model status        ``surface=besiroglu2024``
edit      coefficient edits, ``law:coefficient:value``, commas   ``edit=besiroglu2024:alpha:0.4``
band      near-optimal when D/D_opt is within [1/band, band]     ``band=2``
years     release years shown, inclusive                         ``years=2020-2024``
weights   ``all``, ``open`` or ``closed``                        ``weights=open``
arch      ``all``, ``dense`` or ``moe``                          ``arch=moe``
hw        hardware preset (``compute.HARDWARE``)                 ``hw=H100``
mfu       model-FLOPs utilisation, a fraction in (0, 1]          ``mfu=0.4``
price     US dollars per GPU-hour                                ``price=2``
model     the selected model's name (empty: none)                ``model=Chinchilla``
serve     lifetime inference tokens T (0: training cost only)    ``serve=1e13``
unique    unique training tokens available (empty: unlimited)    ``unique=2e11``
target    a target loss in nats per token (empty: none)          ``target=2.0``
count     count parameters as ``native`` (each law its own),       ``count=non-embedding``
          ``total`` or ``non-embedding`` (Pearce & Song's fit)
flop      FLOP model: ``6ND``, ``kaplan``, ``chinchilla``,         ``flop=chinchilla``
          ``deepseek`` (``conventions.FLOP_MODELS``)
flat      near-optimal range within this loss tolerance (off: none) ``flat=0.01``
hide      plot layers hidden, comma-separated (see ``LAYERS``)   ``hide=contours,labels``
present   presentation mode: large type, controls folded (0/1)   ``present=1``
========  =====================================================  ==========================
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode

from . import compute, conventions, laws

DEFAULT_LAWS = ("kaplan2020", "hoffmann2022-approach1", "besiroglu2024")
BUDGET_RANGE = (1e15, 1e30)  # FLOPs: a 10M-parameter toy to well past any model trained
TOKENS_MAX = 1e30  # inference demand and unique tokens: far past any corpus or deployment
WEIGHTS = ("all", "open", "closed")
PARAM_COUNTS = ("native", "total", "non-embedding")
FLATNESS_RANGE = (1e-4, 0.5)  # relative loss tolerance of the near-optimal range
ARCHITECTURES = ("all", "dense", "moe")
#: Layers of the N-D plot that a lecture step (or the user) can hide.
LAYERS = ("contours", "shading", "frontiers", "optima", "models", "labels", "budget")


class ScenarioError(ValueError):
    """A choice that does not validate; ``field`` names it (the query key where there is one)."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


@lru_cache(maxsize=1)
def _model_names() -> frozenset[str]:
    from .catalog import load_models

    return frozenset(load_models()["name"])


def _finite(field_name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ScenarioError(field_name, f"{value!r} is not a number")
    value = float(value)
    if not math.isfinite(value):
        raise ScenarioError(field_name, f"{value!r} is not finite")
    return value


@dataclass(frozen=True)
class Scenario:
    """Every user choice. Validated on construction; ``ScenarioError`` names the bad field.

    Attributes
    ----------
    budget : float
        Training compute in FLOPs (opens on Chinchilla's 5.76e23, Hoffmann §4).
    laws : tuple of str
        Keys of the laws whose frontiers and rows are shown.
    surface : str
        Key of the loss law behind the contours, the shading and the models' status.
    edits : tuple of (str, str, float)
        Coefficient edits ``(law key, coefficient, value)``, sorted.
    band : float
        A model is near-optimal when D / D_opt lies within [1/band, band].
    years : (int, int) or None
        Release years shown (inclusive); None shows all.
    weights, architecture : str
        Model filters: ``all``/``open``/``closed`` and ``all``/``dense``/``moe``.
    hardware : str
        Key of :data:`scaling_explorer.compute.HARDWARE`.
    mfu : float
        Model-FLOPs utilisation, a fraction in (0, 1].
    price : float
        US dollars per GPU-hour.
    model : str
        Name of the selected model ("" for none).
    inference_tokens : float
        Lifetime inference tokens T the models will serve (0: training cost only).
    unique_tokens : float or None
        Unique training tokens available, repeated beyond one epoch (None: unlimited).
    target_loss : float or None
        A loss to reach, nats per token (None: none).
    param_count : str
        Count parameters as ``native`` (each law in its own convention, as published),
        ``total`` or ``non-embedding`` (laws re-counted by :func:`~scaling_explorer.reexpress.reexpress`;
        a non-embedding budget is Kaplan's 6·N_nonemb·D).
    flop_model : str
        Key of :data:`scaling_explorer.conventions.FLOP_MODELS` every law counts its budget with.
    flatness : float or None
        When set, each law's row carries the range of N and D on the budget's iso-FLOP line
        whose loss is within this relative tolerance of the optimum (0.01 for 1%).
    hide : tuple of str
        Plot layers hidden (from :data:`LAYERS`), sorted.
    present : bool
        Presentation mode: large type in the figure, the controls folded away.
    """

    budget: float = 5.76e23
    laws: tuple[str, ...] = DEFAULT_LAWS
    surface: str = "besiroglu2024"
    edits: tuple[tuple[str, str, float], ...] = ()
    band: float = 2.0
    years: tuple[int, int] | None = None
    weights: str = "all"
    architecture: str = "all"
    hardware: str = "H100"
    mfu: float = 0.4
    price: float = 2.0
    model: str = "Chinchilla"
    inference_tokens: float = 0.0
    unique_tokens: float | None = None
    target_loss: float | None = None
    param_count: str = "native"
    flop_model: str = "6ND"
    flatness: float | None = None
    hide: tuple[str, ...] = ()
    present: bool = False
    _laws_cache: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self):
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731  (frozen)
        budget = _finite("budget", self.budget)
        if not BUDGET_RANGE[0] <= budget <= BUDGET_RANGE[1]:
            raise ScenarioError("budget", f"{budget:g} FLOPs is outside {BUDGET_RANGE[0]:g} to {BUDGET_RANGE[1]:g}")
        set_("budget", budget)
        if self.param_count not in PARAM_COUNTS:
            raise ScenarioError("count", f"{self.param_count!r} is not one of {', '.join(PARAM_COUNTS)}")
        if self.flop_model not in conventions.FLOP_MODELS:
            raise ScenarioError("flop", f"unknown FLOP model {self.flop_model!r}; choose from "
                                f"{', '.join(conventions.FLOP_MODELS)}")
        if self.flatness is not None:
            flatness = _finite("flat", self.flatness)
            if not FLATNESS_RANGE[0] <= flatness <= FLATNESS_RANGE[1]:
                raise ScenarioError("flat", f"a loss tolerance must lie in {FLATNESS_RANGE[0]:g} to "
                                    f"{FLATNESS_RANGE[1]:g} (0.01 is 1%), got {flatness:g}")
            set_("flatness", flatness)

        if isinstance(self.laws, str) or not all(isinstance(k, str) for k in self.laws):
            raise ScenarioError("laws", f"must be a sequence of law keys, got {self.laws!r}")
        known = laws.law_keys()
        for key in self.laws:
            if key not in known:
                raise ScenarioError("laws", f"unknown law {key!r}; choose from {', '.join(known)}")
        if len(set(self.laws)) != len(self.laws):
            raise ScenarioError("laws", f"a law is listed twice in {','.join(self.laws)}")
        set_("laws", tuple(self.laws))

        if self.surface not in known:
            raise ScenarioError("surface", f"unknown law {self.surface!r}; choose from {', '.join(known)}")

        edits = {}
        for item in self.edits:
            try:
                key, name, value = item
            except (TypeError, ValueError):
                raise ScenarioError("edit", f"{item!r} is not (law, coefficient, value)") from None
            if key not in known:
                raise ScenarioError("edit", f"unknown law {key!r}")
            if (key, name) in edits:
                raise ScenarioError("edit", f"{key}:{name} is edited twice")
            edits[key, name] = _finite("edit", value)
        set_("edits", tuple(sorted((k, n, v) for (k, n), v in edits.items())))
        for key in {k for k, _ in edits}:
            try:
                self.law(key)
            except ScenarioError:
                raise
            except (ValueError, TypeError) as exc:
                raise ScenarioError("edit", str(exc)) from None
        for key in self.laws:
            self.law(key)  # a convention a law cannot take raises here, naming its key
        if not self.law(self.surface).has_loss:
            raise ScenarioError("surface", f"{self.surface!r} is an allocation law without a loss surface")

        band = _finite("band", self.band)
        if not band > 1:
            raise ScenarioError("band", f"must be above 1, got {band:g}")
        set_("band", band)

        if self.years is not None:
            try:
                low, high = (int(y) for y in self.years)
            except (TypeError, ValueError):
                raise ScenarioError("years", f"{self.years!r} is not (first year, last year)") from None
            if not 1900 <= low <= high <= 2100:
                raise ScenarioError("years", f"{low}-{high} is not a span of years")
            set_("years", (low, high))
        if self.weights not in WEIGHTS:
            raise ScenarioError("weights", f"{self.weights!r} is not one of {', '.join(WEIGHTS)}")
        if self.architecture not in ARCHITECTURES:
            raise ScenarioError("arch", f"{self.architecture!r} is not one of {', '.join(ARCHITECTURES)}")
        if self.hardware not in compute.HARDWARE:
            raise ScenarioError("hw", f"unknown hardware {self.hardware!r}; choose from {', '.join(compute.HARDWARE)}")
        mfu = _finite("mfu", self.mfu)
        if not 0 < mfu <= 1:
            raise ScenarioError("mfu", f"must be a fraction in (0, 1], got {mfu:g}")
        set_("mfu", mfu)
        price = _finite("price", self.price)
        if not price > 0:
            raise ScenarioError("price", f"must be above $0 per GPU-hour, got {price:g}")
        set_("price", price)
        if not isinstance(self.model, str):
            raise ScenarioError("model", f"{self.model!r} is not a model name")
        if self.model and self.model not in _model_names():
            raise ScenarioError("model", f"no model called {self.model!r} in the catalog")
        tokens = _finite("serve", self.inference_tokens)
        if not 0 <= tokens <= TOKENS_MAX:
            raise ScenarioError("serve", f"lifetime inference tokens must be 0 to {TOKENS_MAX:g}, got {tokens:g}")
        set_("inference_tokens", tokens)
        if self.unique_tokens is not None:
            unique = _finite("unique", self.unique_tokens)
            if not 0 < unique <= TOKENS_MAX:
                raise ScenarioError("unique", f"unique tokens must be above 0 and at most {TOKENS_MAX:g}, "
                                              f"got {unique:g}")
            set_("unique_tokens", unique)
        if self.target_loss is not None:
            target = _finite("target", self.target_loss)
            if not target > 0:
                raise ScenarioError("target", f"a target loss must be above 0 nats per token, got {target:g}")
            set_("target_loss", target)
        if isinstance(self.hide, str) or any(layer not in LAYERS for layer in self.hide):
            raise ScenarioError("hide", f"{self.hide!r}: layers are {', '.join(LAYERS)}")
        set_("hide", tuple(sorted(set(self.hide))))
        if not isinstance(self.present, bool):
            raise ScenarioError("present", f"must be true or false, got {self.present!r}")

    # -- laws ------------------------------------------------------------------------------
    def law(self, key: str) -> laws.Law:
        """The law behind ``key`` with this scenario's edits, parameter count and FLOP model applied."""
        if key not in self._laws_cache:
            law = laws.edited(laws.get_law(key), self.edits_for(key))
            if self.param_count != "native":
                from .reexpress import reexpress

                law = reexpress(law, self.param_count)
            if self.flop_model != "6ND":
                if "flop_model" not in {f.name for f in dataclasses.fields(law)}:
                    raise ScenarioError("flop", f"{law.name} counts its FLOPs its own way; use flop=6ND with it")
                flops = conventions.get_flop_model(self.flop_model).for_params(law.params_meaning)
                law = dataclasses.replace(law, flop_model=flops)
            self._laws_cache[key] = law
        return self._laws_cache[key]

    def edits_for(self, key: str) -> dict[str, float]:
        """Coefficient edits of the law ``key``, as {coefficient: value}."""
        return {name: value for k, name, value in self.edits if k == key}

    def replace(self, **changes) -> Scenario:
        """A validated copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def changed_fields(self, other: Scenario) -> frozenset[str]:
        """Names of the fields that differ between this scenario and ``other``."""
        return frozenset(f.name for f in _FIELDS if getattr(self, f.name) != getattr(other, f.name))

    # -- serialisation ---------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Every field as JSON-ready values."""
        return {f.name: _to_json_value(getattr(self, f.name)) for f in _FIELDS}

    @classmethod
    def from_dict(cls, data: dict) -> Scenario:
        """The inverse of :meth:`to_dict`; unknown keys raise ``ScenarioError``."""
        if not isinstance(data, dict):
            raise ScenarioError("scenario", f"expected an object, got {type(data).__name__}")
        names = {f.name for f in _FIELDS}
        for key in data:
            if key not in names:
                raise ScenarioError(key, f"unknown field; known: {', '.join(sorted(names))}")
        values = dict(data)
        if "laws" in values and isinstance(values["laws"], list):
            values["laws"] = tuple(values["laws"])
        if "hide" in values and isinstance(values["hide"], list):
            values["hide"] = tuple(values["hide"])
        if "edits" in values and isinstance(values["edits"], list):
            values["edits"] = tuple(tuple(e) if isinstance(e, list) else e for e in values["edits"])
        if values.get("years") is not None and isinstance(values["years"], list):
            values["years"] = tuple(values["years"])
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
        default = _DEFAULT
        pairs = [(_KEY[f.name], _QUERY_WRITE[f.name](getattr(self, f.name)))
                 for f in _FIELDS if getattr(self, f.name) != getattr(default, f.name)]
        return urlencode(pairs, safe=",:")

    @classmethod
    def from_query(cls, query: str) -> Scenario:
        """Read a URL query string (a leading ``?`` is fine); unknown keys and bad values raise."""
        if not isinstance(query, str):
            raise ScenarioError("query", f"expected text, got {type(query).__name__}")
        values: dict = {}
        for key, text in parse_qsl(query.lstrip("?"), keep_blank_values=True):
            name = _FIELD_OF.get(key)
            if name is None:
                raise ScenarioError(key, f"unknown query key; known: {', '.join(_FIELD_OF)}")
            if name in values:
                raise ScenarioError(key, "given more than once")
            values[name] = _QUERY_READ[name](key, text)
        return cls(**values)

    def to_code(self) -> str:
        """A short Python snippet that recomputes this scenario's numbers through the public API.

        Laws that are not presets (a fit, a user's law) are written out with their coefficients,
        so the snippet runs in a fresh kernel.
        """
        imports = ["Scenario", "evaluate"]
        registrations = []
        for key in dict.fromkeys((*self.laws, self.surface, *(k for k, _, _ in self.edits))):
            if key in laws.PRESETS:
                continue
            law = laws.get_law(key)
            kind = type(law).__name__
            if kind not in imports:
                imports.append(kind)
            coefficients = ", ".join(f"{c}={getattr(law, c)!r}" for c in law.coefficients)
            registrations.append(f"register_law({key!r}, {kind}({coefficients}, name={law.name!r}), replace=True)")
        if registrations:
            imports.append("register_law")
        changed = {f.name: getattr(self, f.name) for f in _FIELDS
                   if getattr(self, f.name) != getattr(_DEFAULT, f.name)}
        args = ", ".join(f"{k}={v!r}" for k, v in changed.items())
        return "\n".join([
            f"from scaling_explorer import {', '.join(imports)}", *registrations, "",
            f"scenario = Scenario({args})", "readout = evaluate(scenario)",
            "print(readout.to_frame().to_string(index=False))",
        ]) + "\n"


_FIELDS = tuple(f for f in dataclasses.fields(Scenario) if f.init)
_DEFAULT = Scenario.__new__(Scenario)  # filled below without validation (the catalog loads lazily)
for _f in _FIELDS:
    object.__setattr__(_DEFAULT, _f.name, _f.default)
object.__setattr__(_DEFAULT, "_laws_cache", {})

_KEY = {f.name: f.name for f in _FIELDS} | {"edits": "edit", "architecture": "arch", "hardware": "hw",
                                           "inference_tokens": "serve", "unique_tokens": "unique",
                                           "target_loss": "target", "param_count": "count", "flop_model": "flop",
                                           "flatness": "flat"}
_FIELD_OF = {v: k for k, v in _KEY.items()}


def _to_json_value(value):
    if isinstance(value, tuple):
        return [_to_json_value(v) for v in value]
    return value


def _fmt(x: float) -> str:
    return repr(float(x)).replace("e+", "e")  # shortest text that reads back as the same float


def _read_float(key: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ScenarioError(key, f"{text!r} is not a number") from None


def _read_keys(key: str, text: str) -> tuple[str, ...]:
    return tuple(k for k in text.split(",")) if text else ()


def _read_edits(key: str, text: str):
    edits = []
    for item in filter(None, text.split(",")):
        parts = item.split(":")
        if len(parts) != 3:
            raise ScenarioError(key, f"{item!r} is not law:coefficient:value")
        edits.append((parts[0], parts[1], _read_float(key, parts[2])))
    return tuple(edits)


def _read_bool(key: str, text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise ScenarioError(key, f"{text!r} is not 1 or 0")


def _read_years(key: str, text: str):
    low, sep, high = text.partition("-")
    try:
        return (int(low), int(high)) if sep else (int(low), int(low))
    except ValueError:
        raise ScenarioError(key, f"{text!r} is not a span of years such as 2020-2024") from None


_QUERY_WRITE = {
    "budget": _fmt, "band": _fmt, "mfu": _fmt, "price": _fmt,
    "laws": ",".join, "hide": ",".join,
    "edits": lambda edits: ",".join(f"{k}:{n}:{_fmt(v)}" for k, n, v in edits),
    "years": lambda years: "" if years is None else f"{years[0]}-{years[1]}",
    "present": lambda present: "1" if present else "0",
    "surface": str, "weights": str, "architecture": str, "hardware": str, "model": str,
    "inference_tokens": _fmt,
    "unique_tokens": lambda v: "" if v is None else _fmt(v),
    "target_loss": lambda v: "" if v is None else _fmt(v),
    "param_count": str, "flop_model": str, "flatness": lambda x: "" if x is None else _fmt(x),
}
_QUERY_READ = {
    "budget": _read_float, "band": _read_float, "mfu": _read_float, "price": _read_float,
    "laws": _read_keys, "hide": _read_keys, "edits": _read_edits,
    "years": lambda key, text: None if text == "" else _read_years(key, text),
    "present": lambda key, text: _read_bool(key, text),
    "surface": lambda key, text: text, "weights": lambda key, text: text,
    "architecture": lambda key, text: text, "hardware": lambda key, text: text, "model": lambda key, text: text,
    "inference_tokens": _read_float,
    "unique_tokens": lambda key, text: None if text == "" else _read_float(key, text),
    "target_loss": lambda key, text: None if text == "" else _read_float(key, text),
    "param_count": lambda key, text: text, "flop_model": lambda key, text: text,
    "flatness": lambda key, text: None if text == "" else _read_float(key, text),
}
