"""The lab page built headlessly: links, controls, messages, export, and no hidden law in widget state."""

import base64
import io
import json
import math
import re
from types import SimpleNamespace

import ipywidgets as w
import pandas as pd
import pytest
from ipywidgets.widgets.widget import _instances

from scaling_explorer.app.explorer import explorer
from scaling_explorer.app.lab import LabPage, lab_page, lab_requested, parse_lab_query
from scaling_explorer.lab import LabError, load_lab

LAB, SEED = "chinchilla-like", 9


def all_state(widget) -> str:
    """The JSON state of ``widget`` and every widget it holds (what the kernel sends the browser)."""
    seen, out, todo = set(), [], [widget]
    while todo:
        x = todo.pop()
        if id(x) in seen:
            continue
        seen.add(id(x))
        state = x.get_state()
        out.append(json.dumps(state, default=repr))
        for value in state.values():
            for item in value if isinstance(value, (list, tuple)) else [value]:
                if isinstance(item, str) and item.startswith("IPY_MODEL_"):
                    todo.append(_instances[item[len("IPY_MODEL_"):]])
    return "\n".join(out)


def secrets():
    spec = load_lab(LAB)
    law = spec.lab(SEED).reveal().law
    return {"Besiroglu", spec.lecturer_note[:40]} | {f"{getattr(law, k):.4g}" for k in law.coefficients} | {
        repr(getattr(law, k)) for k in law.coefficients}


def leaked(text):
    return sorted(s for s in secrets() if re.search(rf"(?<![\w.]){re.escape(s)}(?![\w])", text))


def plan():
    out = []
    for C in (2.5e16, 8e16, 2.5e17):
        centre = math.sqrt(C / 120)
        for f in (1 / 4, 1 / 2, 1, 2, 4):
            N = float(f"{centre * f:.3g}")
            out.append((N, float(f"{C / (6 * N):.3g}")))
    return out


@pytest.fixture
def view():
    return LabPage(load_lab(LAB), SEED)


def test_links_route_to_the_lab():
    assert lab_requested("lab=chinchilla-like&seed=1") and not lab_requested("budget=1e20")
    assert parse_lab_query("?lab=kaplan-like&seed=42") == ("kaplan-like", 42)
    assert parse_lab_query("lab=kaplan-like") == ("kaplan-like", 0)
    for bad, match in (("lab=x&seed=-1", "seed="), ("lab=x&seed=1e3", "seed="),
                       ("lab=x&budget=1", "only lab= and seed=")):
        with pytest.raises(LabError, match=match):
            parse_lab_query(bad)
    assert isinstance(explorer(query=f"lab={LAB}&seed=3"), w.VBox)


@pytest.mark.parametrize("query, message", [
    ("lab=/etc/passwd", "no shipped lab by that name"),
    ("lab=missing-lab", "no shipped lab called"),
    ("lab=kaplan-like&seed=abc", "a seed is a whole number"),
])
def test_a_bad_link_gives_a_message_not_a_traceback(query, message):
    widget = lab_page(query)
    assert message in widget.value and "Traceback" not in widget.value and "passwd" not in widget.value
    with pytest.raises(LabError):
        lab_page(query, raise_errors=True)


def test_typed_runs_match_the_library_and_export_as_csv(view):
    reference = load_lab(LAB).lab(SEED)
    for N, D in plan()[:5]:
        view.n_box.value, view.d_box.value = f"{N:g}", f"{D:g}"
        view._train()
        assert view.train_message.value == ""
        assert view.lab.runs["loss"].iloc[-1] == reference.train(N, D)
    assert "5 runs" in view.budget_text.value and view.budget_bar.value == pytest.approx(reference.spent / 2e18)
    href = re.search(r'href="data:text/csv;base64,([^"]+)"', view.export.value).group(1)
    exported = pd.read_csv(io.BytesIO(base64.b64decode(href)))
    pd.testing.assert_frame_equal(exported, reference.runs)


def test_bad_input_shows_a_message_beside_the_control_and_charges_nothing(view):
    view.n_box.value, view.d_box.value = "lots", "1e9"
    view._train()
    assert "is not a number" in view.train_message.value and view.lab.spent == 0
    view.n_box.value = "1e12"
    view._train()
    assert "outside this lab" in view.train_message.value and view.lab.spent == 0
    view.n_box.value, view.d_box.value = "1e9", "1e11"
    view._train()
    assert "nothing was charged" in view.train_message.value and view.lab.spent == 0
    view.fit_button.click()
    assert "train at least 5 runs" in view.fit_message.value
    view.reveal_button.click()
    assert "write your prediction" in view.guess_message.value and view.truth is None


def test_a_click_on_the_plane_fills_n_and_d(view):
    view._on_click(SimpleNamespace(inaxes=view.ax_plane, xdata=12345678.9, ydata=9.87654e8))
    assert (view.n_box.value, view.d_box.value) == ("1.23e+07", "9.88e+08")
    view._on_click(SimpleNamespace(inaxes=view.ax_loss, xdata=1.0, ydata=1.0))
    assert view.n_box.value == "1.23e+07"


def test_the_hidden_law_is_in_no_widget_state_until_reveal(view):
    for N, D in plan():
        view.train(N, D)
    view.fit_button.click()
    assert "N_opt" in view.fit_text.value and view.fit_message.value == ""
    assert not leaked(all_state(view.widget))
    view.guess_boxes["params"].value = "2.5e8"
    view.reveal_button.click()
    truth = view.lab.reveal()
    assert f"{truth.loss:.4g}" in view.truth_text.value and "-0.3%" not in view.guess_message.value
    assert leaked(all_state(view.widget))  # the check above can fail: after Reveal the law is there
