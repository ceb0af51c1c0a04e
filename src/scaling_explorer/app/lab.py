"""The training-budget lab page: buy runs, fit, predict, then reveal the hidden law.

Opened by a link ``?lab=<name>&seed=<int>`` (a shipped lab, see :func:`scaling_explorer.lab.list_labs`).
The hidden law lives only in the kernel, in the :class:`~scaling_explorer.lab.TrainingLab`; nothing
derived from it other than the losses of runs bought is put in a widget, the figure or the page until
Reveal. Every number comes from :mod:`scaling_explorer.lab` and :mod:`scaling_explorer.fit`.
"""

from __future__ import annotations

import html
import math
from urllib.parse import parse_qsl

import ipywidgets as w
import numpy as np

from .. import lab as labs
from ..lecture import GuessError, parse_guess
from .bridge import PageBridge
from .controls import ErrorSink, message_box
from .explorer import STYLE, _canvas
from .format import fmt_count, log_ticks_as_text
from .share import data_link

#: The page's own query keys.
LAB_QUERY_KEYS = ("lab", "seed")

LAB_STYLE = """
<style>
.se-lab-text p { margin: 4px 0; line-height: 1.4; max-width: 60em; }
.se-lab-side { min-width: 300px; max-width: 380px; padding-right: 10px; }
.se-lab-runs { max-height: 220px; overflow-y: auto; }
.se-lab-truth { background: #f4f8ff; padding: 6px; margin: 4px 0; }
.se-lab-budget { font-size: 13px; }
</style>
"""

FIT_COLOR = "#882255"  # style.LAW_STYLE["fit"]
TRUE_COLOR = "#000000"
GUESS_COLOR = "#E69F00"
MAX_FIGURE_WIDTH = 1100  # CSS pixels


def lab_requested(query: str) -> bool:
    """True when a page query asks for a lab (``lab=`` is among its keys)."""
    return any(k == "lab" for k, _ in parse_qsl((query or "").lstrip("?"), keep_blank_values=True))


def parse_lab_query(query: str) -> tuple[str, int]:
    """(lab name, seed) from ``lab=<name>&seed=<int>``; ``LabError`` naming a bad or unknown key."""
    pairs = parse_qsl((query or "").lstrip("?"), keep_blank_values=True)
    unknown = sorted({k for k, _ in pairs} - set(LAB_QUERY_KEYS))
    if unknown:
        raise labs.LabError(f"a lab link takes only lab= and seed=, not {', '.join(unknown)}")
    values = dict(pairs)
    seed_text = values.get("seed", "0")
    if not seed_text.isdigit() or int(seed_text) > labs.MAX_SEED:
        raise labs.LabError(f"seed={seed_text[:20]!r}: a seed is a whole number from 0 to {labs.MAX_SEED}")
    return values.get("lab", ""), int(seed_text)


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{html.escape(p.strip())}</p>" for p in text.split("\n\n") if p.strip())


def _round3(x: float) -> float:
    """A clicked value to three significant digits, so it reads back and reruns exactly."""
    return float(f"{x:.3g}")


class LabPage:
    """The whole lab page for one lab and seed; ``widget`` is what a notebook displays.

    Parameters
    ----------
    spec : LabSpec
        The lab (a shipped one from a link, or a lecturer's via :func:`~scaling_explorer.lab.load_lab_file`).
    seed : int
        One seed, one hidden law and one set of noise draws: the whole class gets the same lab.
    raise_errors : bool
        Re-raise errors from controls instead of showing them (for tests).
    """

    def __init__(self, spec: labs.LabSpec, seed: int = 0, raise_errors: bool = False, name: str | None = None):
        self.spec = spec
        self.seed = seed
        self.lab = spec.lab(seed)
        self.errors = ErrorSink(raise_errors)
        self.result: labs.LabFit | None = None
        self.truth: labs.Truth | None = None
        self.guess: dict[str, float] = {}

        text_layout = w.Layout(width="130px")
        self.n_box = w.Text(description="N", placeholder="e.g. 3e7", layout=text_layout,
                            style={"description_width": "18px"})
        self.d_box = w.Text(description="D", placeholder="e.g. 6e8", layout=text_layout,
                            style={"description_width": "18px"})
        self.train_button = w.Button(description="Train", button_style="primary", icon="play",
                                     tooltip="train a model of N parameters on D tokens (costs 6ND FLOPs)")
        self.train_message = message_box()
        self.cost = w.HTML()
        for box in (self.n_box, self.d_box):
            box.observe(lambda _: self._show_cost(), "value")
        self.train_button.on_click(lambda _: self._train())

        self.budget_bar = w.FloatProgress(value=0.0, min=0.0, max=1.0, bar_style="info",
                                          layout=w.Layout(width="96%"))
        self.budget_text = w.HTML()
        self.runs_table = w.HTML()
        self.export = w.HTML()

        self.fit_button = w.Button(description="Fit", icon="line-chart",
                                   tooltip="fit the runs: Approach 2 on iso-FLOP groups, Approach 3 otherwise")
        self.fit_message = message_box()
        self.fit_text = w.HTML()

        self.guess_boxes = {key: w.Text(description=label, placeholder=hint, layout=w.Layout(width="170px"),
                                        style={"description_width": "62px"})
                            for key, label, hint in (("params", "N_opt", "e.g. 2.5e8"),
                                                     ("tokens", "D_opt", "e.g. 5e9"),
                                                     ("loss", "loss", "e.g. 3.0"))}
        self.guess_message = message_box()
        self.reveal_button = w.Button(description="Reveal", button_style="warning", icon="eye",
                                      tooltip="show the hidden law's compute-optimal model at the target")
        self.reveal_button.on_click(lambda _: self.errors.guard(self.guess_message, self.reveal))
        self.fit_button.on_click(lambda _: self.errors.guard(self.fit_message, self.fit))
        self.truth_text = w.HTML()

        self.figure = _canvas(760, 400)
        self._build_axes()
        self.figure.canvas.mpl_connect("button_press_event", self._on_click)
        self.bridge = PageBridge()
        self.bridge.query = f"lab={spec.name}&seed={seed}" if name is None else f"lab={name}&seed={seed}"
        self.bridge.observe(self._on_width, ["width"])
        for widget, css in ((self.n_box, "se-lab-n"), (self.d_box, "se-lab-d"), (self.train_button, "se-lab-train"),
                            (self.fit_button, "se-lab-fit"), (self.reveal_button, "se-lab-reveal"),
                            (self.runs_table, "se-lab-table"), (self.truth_text, "se-lab-truth-box"),
                            (self.fit_text, "se-lab-fit-box"), (self.train_message, "se-lab-train-message"),
                            *((box, f"se-lab-guess-{key}") for key, box in self.guess_boxes.items())):
            widget.add_class(css)  # stable handles for the browser tests
        self.widget = self._page()
        self._refresh()

    # -- composition ---------------------------------------------------------------------------------
    def _page(self) -> w.Widget:
        lab = self.lab
        header = w.HTML(
            STYLE + LAB_STYLE + f"<h2>{html.escape(self.spec.title)}</h2>"
            f"<div class='se-lab-text'>{_paragraphs(self.spec.text)}</div>"
            f"<div class='se-note'>Budget {lab.budget:.3g} FLOPs · predict at {lab.target:.3g} FLOPs · "
            f"run noise {lab.noise:.1%} (std of log loss) · sizes {lab.params_range[0]:.3g} to "
            f"{lab.params_range[1]:.3g} parameters, {lab.tokens_range[0]:.3g} to {lab.tokens_range[1]:.3g} tokens · "
            f"seed {self.seed}</div>")
        side = w.VBox([
            w.HTML("<div class='se-h'><b>1. Train a model</b> (or click on the left plot to fill N and D)</div>"),
            w.HBox([self.n_box, self.d_box]),
            w.HBox([self.train_button, self.cost]),
            self.train_message,
            self.budget_text, self.budget_bar,
            w.HTML("<div class='se-h'><b>2. Fit</b> the runs you bought</div>"),
            self.fit_button, self.fit_message, self.fit_text,
            w.HTML(f"<div class='se-h'><b>3. Your prediction</b> at {lab.target:.3g} FLOPs</div>"),
            *self.guess_boxes.values(),
            self.reveal_button, self.guess_message,
        ], layout=w.Layout(flex="0 0 340px"))
        side.add_class("se-lab-side")
        main = w.VBox([self.bridge, self.figure.canvas, self.truth_text,
                       w.HTML("<div class='se-h'><b>Runs</b></div>"), self.runs_table, self.export],
                      layout=w.Layout(flex="1 1 480px", min_width="0"))
        main.add_class("se-main")
        page = w.VBox([header, w.HBox([side, main], layout=w.Layout(flex_flow="row wrap", width="100%"))])
        page.add_class("se-app")
        return page

    def _build_axes(self) -> None:
        fig = self.figure
        fig.clear()
        fig.set_layout_engine("constrained")  # before the colorbars, so they take their room from the layout
        self.ax_plane = fig.add_subplot(1, 2, 1)
        self.ax_loss = fig.add_subplot(1, 2, 2)
        lab = self.lab
        ax = self.ax_plane
        ax.set_xscale("log")
        ax.set_yscale("log")
        log_ticks_as_text(ax.xaxis, ax.yaxis)
        ax.set_xlim(*lab.params_range)
        ax.set_ylim(*lab.tokens_range)
        ax.set_xlabel("parameters N")
        ax.set_ylabel("training tokens D")
        ax.set_title("Runs on the N-D plane (click to pick)", fontsize=10)
        N = np.geomspace(*lab.params_range, 50)
        for C, style, what in ((lab.budget, ":", "whole budget"), (lab.target, "--", "target")):
            ax.plot(N, C / (6 * N), ls=style, color="#777777", lw=1)  # the iso-FLOP line, C = 6ND
            x = lab.params_range[1] / 300
            if lab.tokens_range[0] < C / (6 * x) < lab.tokens_range[1]:
                ax.annotate(f"{C:.0e} FLOPs ({what})", (x, C / (6 * x)), xytext=(3, 3), textcoords="offset points",
                            fontsize=7, color="#555555")
        self.scatter = ax.scatter([], [], c=[], cmap="viridis", s=28, edgecolors="black", linewidths=0.4)
        (self.fit_line,) = ax.plot([], [], color=FIT_COLOR, ls="-.", lw=1.6, label="fitted frontier")
        (self.fit_band,) = ax.plot([], [], color=FIT_COLOR, lw=4, alpha=0.35, solid_capstyle="butt",
                                   label="fit's 95% interval at target")
        (self.true_line,) = ax.plot([], [], color=TRUE_COLOR, lw=1.4, label="true frontier")
        (self.guess_mark,) = ax.plot([], [], marker="*", ms=13, color=GUESS_COLOR, mec="black", ls="none",
                                     label="your prediction")
        (self.true_mark,) = ax.plot([], [], marker="*", ms=13, color=TRUE_COLOR, ls="none", label="true optimum")
        self.colorbar = fig.colorbar(self.scatter, ax=self.ax_plane, pad=0.02, fraction=0.05)
        self.colorbar.set_label("loss (nats/token)")
        ax2 = self.ax_loss
        ax2.set_xscale("log")
        log_ticks_as_text(ax2.xaxis)
        ax2.set_xlabel("parameters N")
        ax2.set_ylabel("final loss")
        ax2.set_title("Loss against N, by run budget", fontsize=10)
        self.loss_points = ax2.scatter([], [], c=[], cmap="plasma", s=22, edgecolors="black", linewidths=0.4)
        self.flops_bar = fig.colorbar(self.loss_points, ax=ax2, pad=0.02, fraction=0.05)
        self.flops_bar.set_label("run FLOPs (log10)")

    # -- actions -------------------------------------------------------------------------------------
    def _read(self, box: w.Text, what: str) -> float:
        try:
            return parse_guess(box.value)
        except GuessError as exc:
            raise labs.LabError(f"{what}: {exc}") from None

    def _show_cost(self) -> None:
        try:
            N, D = parse_guess(self.n_box.value), parse_guess(self.d_box.value)
            cost = self.lab.cost(N, D)
        except (GuessError, ValueError):
            self.cost.value = ""
            return
        share = cost / self.lab.budget
        self.cost.value = f"<span class='se-note'>costs {cost:.3g} FLOPs ({share:.1%} of the budget)</span>"

    def _train(self) -> None:
        def run():
            N = self._read(self.n_box, "N (parameters)")
            D = self._read(self.d_box, "D (tokens)")
            self.lab.train(N, D)
            self._refresh()

        self.errors.guard(self.train_message, run)

    def train(self, params, tokens) -> float:
        """Train one run as the Train button does (for tests and notebooks); returns its loss."""
        loss = self.lab.train(params, tokens)
        self._refresh()
        return loss

    def fit(self) -> None:
        """Fit the runs bought so far (the Fit button)."""
        if len(self.lab.runs) < 5:
            raise labs.LabError(f"train at least 5 runs before fitting (you have {len(self.lab.runs)})")
        self.result = self.lab.fit()
        self._refresh()

    def reveal(self) -> None:
        """Read the prediction boxes and show the truth (the Reveal button)."""
        guess = {}
        for key, box in self.guess_boxes.items():
            if box.value.strip():
                guess[key] = self._read(box, box.description)
        if not guess:
            raise labs.LabError("write your prediction (N_opt, D_opt or loss) before you reveal the answer")
        self.guess = guess
        self.truth = self.lab.reveal()
        self._refresh()

    def _on_click(self, event) -> None:
        if event.inaxes is not self.ax_plane or event.xdata is None or event.ydata is None:
            return
        self.n_box.value = f"{_round3(event.xdata):.3g}"
        self.d_box.value = f"{_round3(event.ydata):.3g}"

    def _on_width(self, change=None) -> None:
        width = min(int(self.bridge.width) - 4, MAX_FIGURE_WIDTH)  # wider only shrinks the type
        if width < 320:
            return
        height = int(np.clip(width * 0.5, 300, 560))
        if (width, height) != tuple(self.figure.canvas.get_width_height()):
            self.figure.canvas.handle_resize({"width": width, "height": height})
            self.figure.canvas.draw_idle()

    # -- views ---------------------------------------------------------------------------------------
    def _refresh(self) -> None:
        lab, runs = self.lab, self.lab.runs
        self.budget_bar.value = min(lab.spent / lab.budget, 1.0)
        self.budget_bar.bar_style = "danger" if lab.remaining < 0.05 * lab.budget else "info"
        self.budget_text.value = (f"<div class='se-lab-budget'>Spent {lab.spent:.3g} of {lab.budget:.3g} FLOPs "
                                  f"({lab.spent / lab.budget:.1%}); {lab.remaining:.3g} left · {len(runs)} runs</div>")
        self._draw_runs(runs)
        self._draw_fit()
        self._draw_truth()
        self._legend()
        rows = "".join(f"<tr><td>{i + 1}</td><td>{r.params:.3g}</td><td>{r.tokens:.3g}</td><td>{r.flops:.3g}</td>"
                       f"<td>{r.loss:.4f}</td></tr>" for i, r in enumerate(runs.itertuples()))
        self.runs_table.value = (
            "<div class='se-lab-runs'><table class='se-table'><tr><th>#</th><th>params N</th><th>tokens D</th>"
            f"<th>FLOPs</th><th>loss</th></tr>{rows}</table></div>" if len(runs) else
            "<div class='se-note'>No runs yet.</div>")
        self.export.value = (data_link(f"lab-{self.spec.name}-seed{self.seed}-runs.csv", "text/csv",
                                       runs.to_csv(index=False).encode(), "runs (CSV)") if len(runs) else "")
        self.figure.canvas.draw_idle()

    def _draw_runs(self, runs) -> None:
        xy = np.column_stack([runs["params"], runs["tokens"]]) if len(runs) else np.empty((0, 2))
        loss = runs["loss"].to_numpy()
        self.scatter.set_offsets(xy)
        self.scatter.set_array(loss)
        self.loss_points.set_offsets(np.column_stack([runs["params"], loss]) if len(runs) else np.empty((0, 2)))
        self.loss_points.set_array(np.log10(runs["flops"].to_numpy()) if len(runs) else loss)
        if len(runs):
            self.scatter.set_clim(loss.min(), max(loss.max(), loss.min() + 1e-6))
            flops = np.log10(runs["flops"].to_numpy())
            self.loss_points.set_clim(flops.min() - 0.01, flops.max() + 0.01)
            ax = self.ax_loss
            ax.set_xlim(runs["params"].min() / 1.5, runs["params"].max() * 1.5)
            pad = 0.05 * (loss.max() - loss.min()) + 1e-3
            ax.set_ylim(loss.min() - pad, loss.max() + pad)

    def _legend(self) -> None:
        handles = ([self.fit_line, self.fit_band] if self.result is not None else []) + (
            [self.true_line, self.true_mark] + ([self.guess_mark] if len(self.guess_mark.get_xdata()) else [])
            if self.truth is not None else [])
        if handles:
            self.ax_plane.legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.85)

    def _draw_fit(self) -> None:
        result, lab = self.result, self.lab
        if result is None:
            self.fit_text.value = ""
            return
        C = np.geomspace(max(lab.runs["flops"].min() / 3, 1e10), lab.target * 3, 60)
        N, D = result.frontier(C)
        self.fit_line.set_data(N, D)
        (N_lo, N_hi), (D_lo, D_hi) = result.params_interval, result.tokens_interval
        if all(math.isfinite(v) for v in (N_lo, N_hi, D_lo, D_hi)):
            self.fit_band.set_data([N_lo, N_hi], [D_hi, D_lo])
        loss = (f"{result.loss:.4g} ({result.loss_interval[0]:.4g} to {result.loss_interval[1]:.4g})"
                if math.isfinite(result.loss) else f"not predicted ({html.escape(result.loss_note)})")
        how = ("Approach 2: a parabola per iso-FLOP budget, then a power law through the minima"
               if result.approach == 2 else "Approach 3: the parametric law fitted to all runs, with a bootstrap")
        self.fit_text.value = (
            f"<div class='se-note'>{how} (Hoffmann et al. 2022). Prediction at {lab.target:.3g} FLOPs with "
            f"{result.level:g}% intervals:</div><table class='se-table'>"
            f"<tr><td>N_opt</td><td>{result.params:.3g} ({N_lo:.3g} to {N_hi:.3g})</td></tr>"
            f"<tr><td>D_opt</td><td>{result.tokens:.3g} ({D_lo:.3g} to {D_hi:.3g})</td></tr>"
            f"<tr><td>loss</td><td>{loss}</td></tr></table>")

    def _draw_truth(self) -> None:
        truth, lab = self.truth, self.lab
        if truth is None:
            return
        C = np.geomspace(max(lab.runs["flops"].min() / 3 if len(lab.runs) else lab.budget / 100, 1e10),
                         lab.target * 3, 60)
        self.true_line.set_data(*truth.frontier(C))
        self.true_mark.set_data([truth.params], [truth.tokens])
        g = self.guess
        if "params" in g or "tokens" in g:
            N = g.get("params", lab.target / (6 * g["tokens"]) if "tokens" in g else math.nan)
            D = g.get("tokens", lab.target / (6 * N))
            self.guess_mark.set_data([N], [D])

        def row(label, key, true_value, fmt):
            fit = getattr(self.result, key, math.nan) if self.result is not None else math.nan
            cells = [f"<td>{label}</td><td>{fmt(true_value)}</td>"]
            for value in (g.get(key, math.nan), fit):
                error = f" ({value / true_value - 1:+.1%})" if math.isfinite(value) else ""
                cells.append(f"<td>{fmt(value) if math.isfinite(value) else '—'}{error}</td>")
            return "<tr>" + "".join(cells) + "</tr>"

        law = truth.law
        sources = "".join(f"<li>{html.escape(t)}" + (f" (<a href='{html.escape(u)}' target='_blank'>link</a>)"
                                                      if u else "") + "</li>" for t, u in self.spec.sources)
        coefficients = ", ".join(f"{k} = {getattr(law, k):.4g}" for k in law.coefficients)
        self.truth_text.value = (
            f"<div class='se-lab-truth'><b>The truth at {lab.target:.3g} FLOPs</b> (errors in percent of the "
            "truth)<table class='se-table'><tr><th></th><th>truth</th><th>your prediction</th><th>the fit</th></tr>"
            + row("N_opt", "params", truth.params, lambda v: fmt_count(v))
            + row("D_opt", "tokens", truth.tokens, lambda v: fmt_count(v))
            + row("loss", "loss", truth.loss, lambda v: f"{v:.4g}")
            + f"</table><div class='se-note'>Hidden law: {html.escape(law.name)} ({html.escape(coefficients)}); "
            f"{truth.tokens_per_param:.1f} tokens per parameter at the target.</div>"
            f"<div class='se-note'>{html.escape(self.spec.lecturer_note)}</div>"
            f"<ul class='se-note'>{sources}</ul></div>")


def lab_page(query: str, raise_errors: bool = False) -> w.Widget:
    """The lab page for a link's query (``lab=<name>&seed=<int>``); a bad link shows a message, not a traceback."""
    try:
        name, seed = parse_lab_query(query)
        spec = labs.load_lab(name)
    except labs.LabError as exc:
        if raise_errors:
            raise
        message = " ".join(str(exc).split())
        return w.HTML(STYLE + '<div class="se-app"><h2>Training-budget lab</h2><div class="se-error">This lab '
                      f"link could not be opened: {html.escape(message)}</div><div class='se-note'>Shipped labs: "
                      f"{html.escape(', '.join(labs.list_labs()))}; a link looks like ?lab=chinchilla-like&amp;seed=1"
                      "</div></div>")
    return LabPage(spec, seed, raise_errors=raise_errors).widget
