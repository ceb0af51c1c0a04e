"""A hypothesis strategy for every Scenario, built from the fields' declarations.

It iterates ``dataclasses.fields(Scenario)`` and reads each field's :class:`~scaling_explorer.scenario.Choice`
(kind, range, options), so a new field is covered without editing a test. Combinations a scenario
refuses as a whole (a FLOP model the MoE law cannot take, a target below a law's irreducible loss,
an allocation law as the surface) are drawn and dropped.
"""

import dataclasses

from hypothesis import strategies as st

from scaling_explorer import PRESETS, Scenario, ScenarioError, get_law


@st.composite
def _edits(draw):
    out = []
    for key in draw(st.lists(st.sampled_from(list(PRESETS)), unique=True, max_size=3)):
        law = get_law(key)
        for name in draw(st.lists(st.sampled_from(law.coefficients), unique=True, min_size=1, max_size=2)):
            out.append((key, name, getattr(law, name) * draw(st.floats(0.6, 1.3))))
    return tuple(out)


def field_strategy(f: dataclasses.Field) -> st.SearchStrategy:
    """Values the declared field ``f`` accepts (its range, its options, None where optional)."""
    c = f.metadata["choice"]
    if c.kind == "number":
        values = st.floats(c.low, c.high, exclude_min=c.low_open, exclude_max=c.high_open, allow_nan=False)
    elif c.kind == "text":
        values = st.sampled_from(c.choices()) | (st.just("") if c.optional else st.nothing())
    elif c.kind == "keys":
        values = st.lists(st.sampled_from(c.choices()), unique=True).map(tuple)
    elif c.kind == "edits":
        values = _edits()
    elif c.kind == "years":
        values = st.tuples(st.integers(1900, 2100), st.integers(1900, 2100)).map(lambda y: tuple(sorted(y)))
    elif c.kind == "flag":
        values = st.booleans()
    elif c.kind == "point":
        coordinate = st.floats(c.low, c.high, exclude_min=c.low_open, exclude_max=c.high_open, allow_nan=False)
        values = st.tuples(coordinate, coordinate)
    else:
        raise AssertionError(f"no strategy for kind {c.kind!r} (field {f.name}): add one here")
    values = st.just(f.default) | values
    return (st.none() | values) if c.optional and c.kind != "text" else values


def _build(choices: dict):
    try:
        return Scenario(**choices)
    except ScenarioError:
        return None


#: Every field drawn from its declaration; scenarios refused as a whole are dropped.
scenarios = st.fixed_dictionaries(
    {f.name: field_strategy(f) for f in dataclasses.fields(Scenario) if f.init}
).map(_build).filter(lambda s: s is not None)
