"""Fit your own runs: upload a CSV, fit Approach 3 with a bootstrap, show the law and its residuals.

When the runs form iso-FLOP groups (three budgets or more, each with sizes spanning its minimum),
Hoffmann et al.'s Approach 2 is fitted too and reported beside Approach 3; when they do not, the
report says why no Approach-2 fit is given.

The upload is read from memory and never written to disk or executed. The fit runs in a worker
thread (``loop.run_in_executor``) so the kernel's event loop keeps serving the page: the progress
bar moves, Cancel works, and the rest of the page still redraws. Widget values set from the
worker (the progress bar) are sent by ipykernel's IOPub thread, which is safe from any thread in
ipykernel 6+; everything that touches the plot or the app state runs back on the event loop.
Without a running event loop (a plain script or a test) the fit runs synchronously.

State hooks used: ``AppState.set_fit(result)`` to show a drawable fit, ``AppState.fit_result``,
``AppState.scenario`` and ``AppState.set(...)`` (with ``LAWS_CHANGED``) to take a fit off the
page when the newest upload gives no drawable fit.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import threading
from concurrent.futures import ThreadPoolExecutor

import ipywidgets as w
import numpy as np
from matplotlib.figure import Figure

from ..fit import FitCancelled, drop_highest_loss, fit_approach2, fit_approach3, read_runs
from ..fit.approach3 import MAX_BOOTSTRAP_TERMS, MAX_RESAMPLES, MAX_RUNS
from ..scenario import Scenario
from .controls import ErrorSink
from .state import FIT_KEY, LAWS_CHANGED, AppState

MAX_UPLOAD_BYTES = 2_000_000  # 20,000 runs (the fit's limit) take about 1.1 MB
MAX_BOOTSTRAP = MAX_RESAMPLES
# Inline, because the widget's own stylesheet (font, 28 px line height) outranks the page's class rule.
REPORT_STYLE = ("font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: 12px; line-height: 1.35; "
                "white-space: pre; margin: 0")


@dataclasses.dataclass
class _Job:
    """One fit of one upload with one set of options; ``stop`` is its cancel flag."""

    content: bytes
    name: str
    exclude: int
    resamples: int
    stop: threading.Event = dataclasses.field(default_factory=threading.Event)


class FitPanel:
    """Upload control, options, progress bar with Cancel, fit report and a residual plot."""

    def __init__(self, state: AppState, errors: ErrorSink, figure: Figure):
        self.state = state
        self.errors = errors
        self.upload = w.FileUpload(accept=".csv,.tsv,.txt", multiple=False, description="Upload runs (CSV)")
        self.exclude = w.BoundedIntText(value=0, min=0, max=1000, description="Exclude highest-loss runs",
                                        style={"description_width": "initial"}, layout=w.Layout(width="260px"))
        self.resamples = w.BoundedIntText(value=1000, min=0, max=MAX_BOOTSTRAP, description="Bootstrap resamples",
                                          style={"description_width": "initial"}, layout=w.Layout(width="260px"))
        self.progress = w.IntProgress(value=0, min=0, max=1, description="", layout=w.Layout(width="260px",
                                                                                            visibility="hidden"))
        self.status = w.HTML()
        self.cancel = w.Button(description="Cancel", disabled=True, layout=w.Layout(width="90px"))
        self.message = w.HTML()
        self.report = w.HTML()
        self.upload.observe(self._on_upload, "value")
        self.exclude.observe(self._on_option, "value")
        self.resamples.observe(self._on_option, "value")
        self.cancel.on_click(lambda _: self.stop())
        self._last: tuple[bytes, str] | None = None  # the last upload, re-fitted when an option changes
        self.approach2 = None  # the last upload's Approach-2 fit (Approach2Fit), when its runs have iso-FLOP groups
        self._job: _Job | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fit")
        self.task: asyncio.Future | None = None  # the running fit on the event loop, if any

        self.figure = figure
        ax = self.ax = figure.subplots()
        figure.subplots_adjust(left=0.17, right=0.96, top=0.9, bottom=0.16)
        ax.set(xlabel="observed loss (nats/token)", ylabel="fitted loss (nats/token)")
        ax.set_title("Fit residuals", fontsize=11)
        ax.grid(True, color="#dddddd", lw=0.6)
        self.diagonal = ax.plot([], [], color="#777777", lw=1, ls="--", label="perfect fit")[0]
        self.points = ax.scatter([], [], s=16, color="#882255", alpha=0.7, label="runs")
        ax.legend(loc="upper left", fontsize=9, frameon=False)

    # ------------------------------------------------------------------ events

    def _on_upload(self, change):
        files = change["new"]
        if not files:
            return
        item = files[0]
        content = bytes(item["content"])
        self.upload.value = ()  # drop the bytes from the widget state; only this panel keeps them
        self.fit_bytes(content, item.get("name", "upload"))

    def _on_option(self, change):
        if self._last is not None:
            self.fit_bytes(*self._last)

    def fit_bytes(self, content: bytes, name: str = "upload") -> None:
        """Fit the runs in ``content`` (CSV bytes); a drawable fit becomes the state's ``"fit"`` law.

        Cancels a fit still running. A file that is refused, a fit that does not converge, or a
        cancelled fit clears the old report and takes the old fit off the page.
        """
        self.stop()
        self.message.value = ""
        self.report.value = ""
        self._last = (content, name)
        job = self._job = _Job(content, name, int(self.exclude.value), int(self.resamples.value))
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a script, a test): fit here and now
            self._finish(job, self._outcome(job))
            return
        self._busy(job)
        self.task = asyncio.ensure_future(self._run(loop, job))

    def stop(self) -> None:
        """Ask the running fit, if any, to stop; it does so after the current block of resamples."""
        if self._job is not None:
            self._job.stop.set()

    # ------------------------------------------------------------------ work

    async def _run(self, loop, job: _Job) -> None:
        outcome = await loop.run_in_executor(self._executor, self._outcome, job)
        self._finish(job, outcome)

    def _outcome(self, job: _Job):
        """Runs in the worker: read and fit; returns (runs, result) or the exception to report."""
        try:
            if len(job.content) > MAX_UPLOAD_BYTES:
                raise ValueError(f"{job.name} is {len(job.content):,} bytes; the limit is {MAX_UPLOAD_BYTES:,}")
            runs = read_runs(job.content, max_bytes=MAX_UPLOAD_BYTES)
            result = fit_approach3(runs, exclude_highest_loss=job.exclude, n_bootstrap=job.resamples, seed=0,
                                   progress=lambda done, total: self._progress(job, done, total),
                                   should_stop=job.stop.is_set)
            return runs, result, approach2_or_reason(drop_highest_loss(runs, result.n_excluded))
        except Exception as exc:  # reported on the event loop by _finish
            return exc

    def _progress(self, job: _Job, done: int, total: int) -> None:
        if job is self._job:  # widget traits set from the worker: ipykernel 6+ sends them safely
            self.progress.max = max(total, 1)
            self.progress.value = done
            self.status.value = f"bootstrap: {done:,} of {total:,} resamples"

    def _busy(self, job: _Job) -> None:
        self.progress.value, self.progress.max = 0, 1
        self.progress.layout.visibility = "visible"
        self.status.value = f"fitting {html.escape(job.name)}: searching Hoffmann's 4,500 starts"
        self.cancel.disabled = False

    def _finish(self, job: _Job, outcome) -> None:
        if job is not self._job:
            return  # superseded by a newer upload or option
        self._job = None
        self.cancel.disabled = True
        self.progress.layout.visibility = "hidden"
        self.status.value = ""
        if isinstance(outcome, FitCancelled):
            self._clear_fit()
            self.message.value = "<span class='se-note'>Fit cancelled.</span>"
            return
        if isinstance(outcome, Exception):
            self._clear_fit()
            self.errors.guard(self.message, _raise, outcome)
            return
        runs, result, approach2 = outcome
        header = f"{job.name}:\n"
        if result.drawable:
            self.state.set_fit(result)
        else:
            self._clear_fit()
            self.message.value = ("<span class='se-error'>The fit did not converge, so it is not drawn; the report "
                                  "shows where the optimiser stopped.</span>")
        text = html.escape(header + result.report() + "\n\n" + (
            approach2.report() if not isinstance(approach2, str)
            else f"Approach 2 (iso-FLOP parabolas, Hoffmann et al. 2022 §3.2): not fitted: {approach2}"))
        self.approach2 = None if isinstance(approach2, str) else approach2
        self.report.value = f'<pre class="se-report" style="{REPORT_STYLE}">{text}</pre>'
        self._show_residuals(runs, result)

    def _clear_fit(self) -> None:
        """Take the last fit off the page (no law, no band, no residuals): it is not this upload's."""
        self.points.set_offsets(np.empty((0, 2)))
        self.figure.canvas.draw_idle()
        if self.state.fit_result is None:
            return
        self.state.fit_result = None
        s = self.state.scenario
        changes = dict(laws=tuple(k for k in s.laws if k != FIT_KEY),
                       edits=tuple(e for e in s.edits if e[0] != FIT_KEY))
        if s.surface == FIT_KEY:
            changes["surface"] = Scenario().surface
        self.state.set(dataclasses.replace(s, **changes), extra_changed={LAWS_CHANGED})

    def _show_residuals(self, runs, result):
        used = drop_highest_loss(runs, result.n_excluded)
        observed = used["loss"].to_numpy()
        fitted = result.predict(used["params"].to_numpy(), used["tokens"].to_numpy())
        self.points.set_offsets(np.column_stack([observed, fitted]))
        lo, hi = float(min(observed.min(), fitted.min())), float(max(observed.max(), fitted.max()))
        pad = 0.05 * (hi - lo or 1.0)
        self.diagonal.set_data([lo - pad, hi + pad], [lo - pad, hi + pad])
        self.ax.set(xlim=(lo - pad, hi + pad), ylim=(lo - pad, hi + pad))
        self.figure.canvas.draw_idle()

    def panel(self) -> w.Widget:
        note = w.HTML(
            "<div class='se-note'>A CSV (comma, semicolon or tab) with columns <code>params</code>, "
            "<code>tokens</code> (or <code>flops</code>) and <code>loss</code>, one training run a row, at most "
            f"{MAX_RUNS:,} runs ({MAX_UPLOAD_BYTES // 1_000_000} MB), {MAX_RESAMPLES:,} resamples and "
            f"{MAX_BOOTSTRAP_TERMS // 1_000_000} million runs &times; resamples, which bounds a fit to about 80 s "
            "on a 2-core machine (typically a few seconds; Cancel stops it). Epoch's reconstruction of the "
            "Chinchilla runs (<code>data/svg_extracted_data.csv</code> in "
            "github.com/epoch-research/analyzing-chinchilla) is read as-is; Epoch excluded its 5 "
            "highest-loss runs. Runs that cannot determine the law "
            "are refused with the reason, and a fit that does not converge is reported but not drawn. When the runs "
            "form iso-FLOP groups (3 budgets or more, sizes spanning each minimum) the report adds Hoffmann's "
            "Approach 2 (a parabola per budget, then N<sub>opt</sub> = k C<sup>a</sup>). The "
            "file stays in memory and is not saved.</div>"
        )
        return w.VBox([note, w.HTML(template_link()), w.HBox([self.upload, self.exclude, self.resamples]),
                       w.HBox([self.progress, self.cancel, self.status]), self.message, self.report,
                       self.figure.canvas])


def template_link() -> str:
    """A download of a runs file in the expected shape: a synthetic iso-FLOP study of a known law."""
    from ..fit import synthetic_runs
    from ..laws import get_law
    from .share import data_link

    runs = synthetic_runs(get_law("besiroglu2024"), [1e18, 1e19, 1e20], sigma=0.0)[["params", "tokens", "loss"]]
    return ("<div class='se-note'>" + data_link("runs-template.csv", "text/csv", runs.to_csv(index=False).encode(),
                                                "Download a template CSV")
            + " (a synthetic iso-FLOP study of Epoch's refit: upload it to see the fit recover that law).</div>")


def approach2_or_reason(runs):
    """Hoffmann et al.'s Approach-2 fit of ``runs`` (an ``Approach2Fit``), or why there is none (a str)."""
    try:
        return fit_approach2(runs)
    except ValueError as exc:  # RunsError, NotIdentifiedError: not iso-FLOP groups, and why
        return " ".join(str(exc).split())


def _raise(exc: Exception) -> None:
    raise exc


__all__ = ["FitPanel", "MAX_BOOTSTRAP", "MAX_UPLOAD_BYTES"]
