"""The page's wiring, headless: a page moved to a view shows what a page opened at it shows, and the
defects of hand-kept field lists (issue 18) stay fixed."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlencode

import numpy as np
import pytest
from matplotlib.collections import Collection
from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Text

from scaling_explorer import Scenario
from scaling_explorer import lecture as lec
from scaling_explorer.app import Explorer
from scaling_explorer.laws import get_law
from scaling_explorer.style import STATUS_COLOR

# A value other than the default for every Scenario field (a field's declared example, if it has one).
NON_DEFAULT = {
    "budget": 1e22, "laws": ("kaplan2020", "hoffmann2022-approach3"), "surface": "hoffmann2022-approach3",
    "edits": (("besiroglu2024", "alpha", 0.4),), "band": 3.0, "years": (2020, 2023), "weights": "open",
    "architecture": "moe", "hardware": "A100", "mfu": 0.55, "price": 3.5, "model": "Gopher",
    "inference_tokens": 1e13, "unique_tokens": 1e11, "target_loss": 2.0, "param_count": "non-embedding",
    "flop_model": "chinchilla", "flatness": 0.015, "hide": ("contours", "labels"), "present": True,
    "mine": (7e9, 2e12),
    "teacher": "Llama 3 70B", "accounting": "teacher-inference", "size_ratio": 20.0, "hyperparameters": True,
}
FIELDS = [f for f in dataclasses.fields(Scenario) if f.init]


def _example(field: dataclasses.Field):
    if "example" in field.metadata:
        return field.metadata["example"]
    assert field.name in NON_DEFAULT, f"give Scenario field {field.name!r} a non-default example value"
    return NON_DEFAULT[field.name]


# -- what a page shows ------------------------------------------------------------------------
def _canon(value) -> str:
    """A value as comparable text: floats to 9 significant digits, arrays element by element."""
    if isinstance(value, (float, np.floating)):
        return f"{value:.9g}"
    if isinstance(value, np.ndarray):
        return "[" + ",".join(_canon(v) for v in value.ravel().tolist()) + f"]{value.shape}"
    if isinstance(value, (list, tuple)):
        return "(" + ",".join(_canon(v) for v in value) + ")"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{_canon(v)}" for k, v in sorted(value.items())) + "}"
    return repr(value)


def _widget_state(widget) -> dict:
    """A widget's synced state without references to other widgets (model ids differ between pages)."""
    state = {k: v for k, v in widget.get_state().items()
             if not (isinstance(v, str) and v.startswith("IPY_MODEL_")) and k not in ("children", "value_bytes")
             and not isinstance(v, (bytes, memoryview))}
    for part in ("layout", "style"):
        sub = getattr(widget, part, None)
        if sub is not None and hasattr(sub, "get_state"):
            state[part] = {k: v for k, v in sub.get_state().items() if not str(v).startswith("IPY_MODEL_")}
    return state


def widgets_shown(app: Explorer) -> list[str]:
    """Every widget of the page, in page order, with its state (the figure's canvas apart)."""
    out = []

    def walk(widget, path):
        if widget is app.figure.canvas or type(widget).__name__ == "FileUpload":
            out.append(f"{path} {type(widget).__name__}")
            return
        if widget is app.fit_panel.figure.canvas:
            return
        out.append(f"{path} {type(widget).__name__} {_canon(_widget_state(widget))}")
        for i, child in enumerate(getattr(widget, "children", ())):
            walk(child, f"{path}/{i}")

    walk(app.widget, "")
    return out


def artists_drawn(app: Explorer) -> list[str]:
    """Every visible artist of the figure: kind, data, colours, sizes and texts (label placement apart)."""
    app.figure.draw_without_rendering()
    placed = {id(a) for a in app.plots.layer_of("labels").artists()}
    out = []
    for artist in app.figure.findobj():
        if not artist.get_visible():
            continue
        kind = type(artist).__name__
        if isinstance(artist, Line2D):
            d = [artist.get_xdata(), artist.get_ydata(), artist.get_color(), artist.get_linestyle(),
                 artist.get_linewidth(), artist.get_marker(), artist.get_markersize(),
                 to_rgba(artist.get_markerfacecolor()) if artist.get_markerfacecolor() != "none" else "none",
                 artist.get_alpha(), artist.get_label() if not artist.get_label().startswith("_") else ""]
        elif isinstance(artist, Collection):
            d = [artist.get_facecolors(), artist.get_edgecolors(), artist.get_linewidths(), artist.get_alpha()]
            if id(artist) not in placed:  # label leaders follow the label placement
                d += [artist.get_offsets(), artist.get_sizes() if hasattr(artist, "get_sizes") else None,
                      [np.asarray(p.vertices) for p in artist.get_paths()]]
        elif isinstance(artist, Text):
            if not artist.get_text():
                continue
            d = [artist.get_text(), to_rgba(artist.get_color()), artist.get_fontsize(), artist.get_ha()]
            if id(artist) not in placed:
                d.append(artist.get_position())
        elif isinstance(artist, Patch):
            d = [artist.get_facecolor(), artist.get_edgecolor()]
        else:
            d = []
            if hasattr(artist, "get_xlim"):
                d = [artist.get_xlim(), artist.get_ylim(), artist.get_position().bounds]
        out.append(f"{kind} {_canon(d)}")
    return sorted(out)


def _diff(a: list[str], b: list[str]) -> str:
    """The first few entries each side lacks, from where they part."""
    only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    lines = []
    for x, y in zip(only_a[:4], only_b[:4], strict=False):
        i = next((k for k, (p, q) in enumerate(zip(x, y, strict=False)) if p != q), min(len(x), len(y)))
        lines.append(f"{x[:60]} ... moved: {x[max(0, i - 80):i + 160]!r}\n    fresh: {y[max(0, i - 80):i + 160]!r}")
    return "\n".join(lines) + f"\n({len(only_a)} moved-only, {len(only_b)} fresh-only)"


@pytest.fixture(scope="module")
def moved_page():
    """One page opened at the default view, moved to each field's value and back by the tests below
    (building a page is most of such a test's cost), with what it showed at the default view."""
    app = Explorer(raise_errors=True)
    return app, widgets_shown(app), artists_drawn(app)


@pytest.mark.parametrize("field", FIELDS, ids=[f.name for f in FIELDS])
def test_a_page_moved_to_a_view_shows_what_a_page_opened_at_it_shows(field, moved_page):
    moved, default_widgets, default_artists = moved_page
    value = _example(field)
    target = Scenario().replace(**{field.name: value})
    assert target != Scenario(), f"the example for {field.name} is its default"
    assert moved.state.scenario == Scenario(), "an earlier test left the shared page off the default view"
    moved.state.update(**{field.name: value})
    try:
        fresh = Explorer(raise_errors=True, scenario=target)
        assert moved.state.scenario == fresh.state.scenario
        a, b = widgets_shown(moved), widgets_shown(fresh)
        assert a == b, _diff(a, b)
        a, b = artists_drawn(moved), artists_drawn(fresh)
        assert a == b, _diff(a, b)
    finally:
        moved.state.update(**{field.name: getattr(Scenario(), field.name)})
    # ... and moved back, it shows the default view again.
    a = widgets_shown(moved)
    assert a == default_widgets, _diff(a, default_widgets)
    a = artists_drawn(moved)
    assert a == default_artists, _diff(a, default_artists)


# -- the defects of issue 18, one test each -----------------------------------------------------
@pytest.mark.parametrize(("field", "value"), [("param_count", "non-embedding"), ("flop_model", "chinchilla")])
def test_the_model_table_follows_how_n_and_flops_are_counted(field, value):
    moved = Explorer()
    moved.state.update(**{field: value})
    fresh = Explorer(scenario=Scenario().replace(**{field: value}))
    assert list(moved.table.rows.options) == list(fresh.table.rows.options)
    assert moved.table.caption.value == fresh.table.caption.value
    assert moved.table.detail.value == fresh.table.detail.value
    if field == "flop_model":  # Chinchilla's own count (Hoffmann et al. App. F) is not 6ND
        assert "(6ND)" not in moved.table.detail.value and "chinchilla count" in moved.table.detail.value


def test_with_demand_the_plot_and_the_table_give_each_model_one_status():
    law = get_law("besiroglu2024")
    # The demand at which Llama 3 8B's own (N, D) is the cheapest model of its loss over its life, from
    # Sardana et al.'s Lagrange condition alpha A N^-alpha = beta B D^-beta (1 + 2T / (6D)): near-optimal
    # there, over-trained for training alone.
    N, D = 8.03e9, 15e12
    T = 3 * D * (law.alpha * law.A * N ** -law.alpha / (law.beta * law.B * D ** -law.beta) - 1)
    app = Explorer(scenario=Scenario(inference_tokens=float(T)))
    names = app.plots.point_names["dense"]
    faces = app.plots.points["dense"].get_facecolors()
    edges = app.plots.points["dense"].get_edgecolors()
    labels = dict((value, label) for label, value in app.table.rows.options)
    checked = 0
    for status, color in STATUS_COLOR.items():
        for name, face, edge in zip(names, faces, edges, strict=True):
            drawn = tuple(face) == to_rgba(color) or (tuple(face)[3] == 0 and tuple(edge) == to_rgba(color))
            if drawn and name in labels:
                assert status in labels[name], (name, status, labels[name])
                checked += 1
    assert checked > 50
    assert "near-optimal" in labels["Llama 3 8B"]


def test_moving_the_shading_law_sets_the_sizing_law_as_a_fresh_page_does():
    moved = Explorer()
    moved.state.update(surface="kaplan2020")
    fresh = Explorer(scenario=Scenario(surface="kaplan2020"))
    assert moved.table.size_law.value == fresh.table.size_law.value == "kaplan2020"


def test_starting_lectures_leaves_no_watcher_behind():
    app = Explorer()
    app.start_lecture("scaling-laws")
    watchers = len(app.state._watchers)
    for _ in range(5):
        app.start_lecture("scaling-laws")
    assert len(app.state._watchers) == watchers


def test_a_link_opens_only_the_shipped_lectures(tmp_path):
    secret = tmp_path / "secret.json"
    secret.write_text('{"title": "not a lecture", "private_key": "hunter2", "steps": []}', encoding="utf-8")
    messages = []
    for path in (secret, tmp_path / "missing.json", "scaling-laws.json", "../lectures/scaling-laws"):
        app = Explorer()
        app.open_query(urlencode({"lecture": str(path)}))
        assert app.lecture is None and app.state.scenario == Scenario()
        messages.append(app.open_message.value.replace(str(path), "PATH"))
    assert messages[0] == messages[1]  # whether a file exists is not revealed
    assert "private_key" not in messages[0] and "hunter2" not in messages[0]
    assert all(name in messages[0] for name in lec.list_lectures())  # names the ones there are


def test_presentation_mode_survives_lecture_steps():
    app = Explorer()
    app.start_lecture("scaling-laws")
    app.state.update(present=True)
    for move in (app.lecture.next, app.lecture.next, app.lecture.previous):
        move()
        assert app.state.scenario.present and "se-present" in app.widget._dom_classes
        assert app.lecture.restore_button.disabled  # a view preference is no change to the step's view
    opened = lec.step_scenario if app.lecture.revealed else lec.question_scenario
    assert app.state.scenario == opened(app.lecture.lecture, app.lecture.step).replace(present=True)


def test_a_presentation_link_to_a_lecture_step_opens_that_step_presented():
    app = Explorer()
    app.open_query("present=1&lecture=scaling-laws&step=2")
    lecture = app.lecture.lecture
    assert app.lecture.step == 1
    assert app.state.scenario == lec.question_scenario(lecture, 1).replace(present=True)


# -- the seams -----------------------------------------------------------------------------------
def test_hide_keys_are_the_layer_names():
    from scaling_explorer.app.layers import HIDE_KEYS
    from scaling_explorer.scenario import LAYERS

    assert sorted(HIDE_KEYS) == sorted(LAYERS)


def test_a_layer_named_outside_the_hide_keys_is_refused_where_it_is_declared():
    from scaling_explorer.app.layers import Layer

    with pytest.raises(TypeError, match="scenario.LAYERS"):
        type("HaloLayer", (Layer,), {"name": "halo"})


def test_watch_returns_a_disposer_and_ignores_what_it_declares():
    app = Explorer()
    seen = []
    dispose = app.state.watch(seen.append, ignore={"budget"})
    app.state.update(budget=1e22)
    assert seen == []
    app.state.update(band=3.0)
    assert seen == [frozenset({"band"})]
    dispose()
    dispose()  # twice is harmless
    app.state.update(band=2.0)
    assert len(seen) == 1


def test_binding_an_unknown_field_is_refused():
    import ipywidgets as w

    from scaling_explorer.app.bind import Binder, ErrorSink
    from scaling_explorer.app.state import AppState

    with pytest.raises(ValueError, match="no Scenario field"):
        Binder(AppState(), ErrorSink()).bind("budgett", w.FloatText())


def test_the_frames_sent_are_pngs_of_the_figure():
    from io import BytesIO

    from PIL import Image

    app = Explorer()
    canvas = app.figure.canvas
    canvas.draw()
    pixels = np.asarray(canvas.get_renderer().buffer_rgba()).copy()
    canvas._png_is_old, canvas._force_full = True, True
    full = np.asarray(Image.open(BytesIO(canvas.get_diff_image())))
    assert np.array_equal(full, pixels)  # decoded by Pillow, a second encoder's reader
    app.state.update(budget=1e24)  # a blitted step: the frame holds only the changed pixels
    canvas._png_is_old, canvas._last_buff = True, pixels.view(np.uint32).squeeze(2)  # as sent before the step
    after = np.asarray(canvas.get_renderer().buffer_rgba())
    diff = np.asarray(Image.open(BytesIO(canvas.get_diff_image())))
    # ipympl's frontend draws a diff frame over the last one at the top-left corner: the changed
    # pixels (opaque) replace, the transparent rest leaves the last frame.
    shown = pixels.copy()
    corner = shown[:diff.shape[0], :diff.shape[1]]
    corner[diff[..., 3] > 0] = diff[diff[..., 3] > 0]
    changed = (after != pixels).any(axis=2)
    assert changed.any() and np.array_equal(shown, after)
    assert not diff[~changed[:diff.shape[0], :diff.shape[1]]].any()  # only the changed pixels are sent ...
    rows, columns = np.nonzero(changed)
    assert diff.shape[:2] == (rows.max() + 1, columns.max() + 1)  # ... up to the last changed row and column


def test_labels_land_where_the_published_adjusttext_puts_them(monkeypatch):
    # app/_adjusttext.py is adjustText 1.4.0 with a numpy pair search in place of scipy's KDTree and a
    # table of pairs in place of a pairwise comparison: the same places.
    import adjustText

    from scaling_explorer.app import layers

    def placed():
        # Each page at its own sizes, placed afresh: not from the places the process already keeps.
        monkeypatch.setattr(layers.LabelsLayer, "placements", {})
        app = Explorer()
        app.bridge.viewport_height, app.bridge.width = 800, 700  # a re-placement at a second size too
        app.figure.canvas.draw()
        labels = [t for t in app.plots.layer_of("labels").labels if hasattr(t, "get_text")]
        return [(t.get_text(), t.get_position(), t.get_ha(), t.get_va()) for t in labels]

    ours = placed()
    monkeypatch.setattr(layers, "adjust_text", adjustText.adjust_text)
    assert len(ours) > 5 and placed() == ours
