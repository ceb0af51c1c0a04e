"""Fit your own runs: upload a CSV, fit Approach 3 with a bootstrap, show the law and its residuals.

The upload is read from memory and never written to disk or executed.
"""

from __future__ import annotations

import html

import ipywidgets as w
import numpy as np
from matplotlib.figure import Figure

from ..fit import drop_highest_loss, fit_approach3, read_runs
from .controls import ErrorSink
from .state import AppState

MAX_UPLOAD_BYTES = 5_000_000
MAX_BOOTSTRAP = 4_000


class FitPanel:
    """Upload control, fit report and a residual plot (predicted against observed loss)."""

    def __init__(self, state: AppState, errors: ErrorSink, figure: Figure):
        self.state = state
        self.errors = errors
        self.upload = w.FileUpload(accept=".csv", multiple=False, description="Upload runs (CSV)")
        self.exclude = w.BoundedIntText(value=0, min=0, max=1000, description="Exclude highest-loss runs",
                                        style={"description_width": "initial"}, layout=w.Layout(width="260px"))
        self.resamples = w.BoundedIntText(value=1000, min=0, max=MAX_BOOTSTRAP, description="Bootstrap resamples",
                                          style={"description_width": "initial"}, layout=w.Layout(width="260px"))
        self.message = w.HTML()
        self.report = w.HTML()
        self.upload.observe(self._on_upload, "value")

        self.figure = figure
        ax = self.ax = figure.subplots()
        figure.subplots_adjust(left=0.17, right=0.96, top=0.9, bottom=0.16)
        ax.set(xlabel="observed loss (nats/token)", ylabel="fitted loss (nats/token)")
        ax.set_title("Fit residuals", fontsize=11)
        ax.grid(True, color="#dddddd", lw=0.6)
        self.diagonal = ax.plot([], [], color="#777777", lw=1, ls="--", label="perfect fit")[0]
        self.points = ax.scatter([], [], s=16, color="#882255", alpha=0.7, label="runs")
        ax.legend(loc="upper left", fontsize=9, frameon=False)

    def _on_upload(self, change):
        files = change["new"]
        if not files:
            return
        item = files[0]
        content = bytes(item["content"])
        self.upload.value = ()  # drop the bytes from the widget state; they are not kept anywhere
        self.errors.guard(self.message, self.fit_bytes, content, item.get("name", "upload"))

    def fit_bytes(self, content: bytes, name: str = "upload") -> None:
        """Fit the runs in ``content`` (CSV bytes) and make the fit the state's ``"fit"`` law."""
        if len(content) > MAX_UPLOAD_BYTES:
            raise ValueError(f"{name} is {len(content):,} bytes; the limit is {MAX_UPLOAD_BYTES:,}")
        runs = read_runs(content, max_bytes=MAX_UPLOAD_BYTES)
        result = fit_approach3(runs, exclude_highest_loss=int(self.exclude.value),
                               n_bootstrap=int(self.resamples.value), seed=0)
        self.state.set_fit(result)
        self.report.value = f"<pre class='se-report'>{html.escape(f'{name}:' + chr(10) + result.report())}</pre>"
        self._show_residuals(runs, result)

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
            "<div class='se-note'>A CSV with columns <code>params</code>, <code>tokens</code> (or "
            "<code>flops</code>) and <code>loss</code>, one training run a row, at most "
            f"{MAX_UPLOAD_BYTES // 1_000_000} MB. Epoch's reconstruction of the Chinchilla runs "
            "(<code>data/svg_extracted_data.csv</code> in github.com/epoch-research/analyzing-chinchilla) "
            "is read as-is; Epoch excluded its 5 highest-loss runs. The file stays in memory and is not "
            "saved. Fitting takes a few seconds.</div>"
        )
        return w.VBox([note, w.HBox([self.upload, self.exclude, self.resamples]), self.message,
                       self.report, self.figure.canvas])
