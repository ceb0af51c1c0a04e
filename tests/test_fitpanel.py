"""The fit panel: runs off the event loop, reports progress, cancels, never draws a fit it should not.

The background tests drive a real asyncio loop; a stand-in fit that waits on events the test sets
makes every step deterministic (no sleeps, no timing).
"""

from __future__ import annotations

import asyncio
import datetime
import threading

import numpy as np
from fit_reference import TRUE

from scaling_explorer.app import Explorer
from scaling_explorer.app import fitpanel as FP
from scaling_explorer.fit import synthetic_runs


def runs_csv(sep=",", sigma=0.01) -> bytes:
    runs = synthetic_runs(TRUE, np.geomspace(1e18, 1e21, 5), span=10, sigma=sigma, seed=0)
    return runs[["params", "tokens", "loss"]].to_csv(index=False, sep=sep).encode()


def upload(app, content: bytes, name="runs.csv"):
    app.fit_panel.upload.value = ({"name": name, "type": "text/csv", "size": len(content),
                                   "last_modified": datetime.datetime(2026, 1, 1), "content": memoryview(content)},)


def test_semicolon_file_fits_and_options_refit_the_last_upload():
    app = Explorer(raise_errors=True)
    panel = app.fit_panel
    panel.resamples.value = 20
    upload(app, runs_csv(sep=";"))
    assert "fit" in app.state.scenario.laws and "20 resamples" in panel.report.value
    assert '<pre class="se-report" style="font-family: \'DejaVu Sans Mono\'' in panel.report.value  # monospace
    panel.exclude.value = 3  # re-runs on the same upload
    assert "3 highest-loss runs excluded" in panel.report.value
    assert app.state.fit_result.n_runs == 45 - 3
    assert len(panel.points.get_offsets()) == 42


def test_a_refused_upload_clears_the_old_report_and_fit():
    app = Explorer(raise_errors=False)
    panel = app.fit_panel
    panel.resamples.value = 0
    upload(app, runs_csv())
    assert "fit" in app.state.scenario.laws and panel.report.value
    flat = b"params,tokens,loss\n" + b"\n".join(f"{n:g},{20 * n:g},2.5".encode() for n in np.geomspace(1e8, 1e10, 9))
    upload(app, flat, "flat.csv")
    assert "cannot determine the law" in panel.message.value and "the same (2.5)" in panel.message.value
    assert panel.report.value == ""
    assert app.state.fit_result is None and "fit" not in app.state.scenario.laws
    assert not app.plots.fit_band.get_visible() and len(panel.points.get_offsets()) == 0


def test_a_non_converged_fit_is_reported_not_drawn(monkeypatch):
    from scaling_explorer.fit import approach3 as A3

    for name, value in (("GRID_MAXITER", 2), ("NEWTON_MAXITER", 0), ("LBFGS_FALLBACK_MAXITER", 0)):
        monkeypatch.setattr(A3, name, value)
    monkeypatch.setattr(A3, "hoffmann_grid", lambda: np.array([[0.0, 0.0, 0.0, 0.5, 0.5]]))
    app = Explorer(raise_errors=False)
    upload(app, runs_csv())
    assert "NOT CONVERGED" in app.fit_panel.report.value and "not drawn" in app.fit_panel.message.value
    assert app.state.fit_result is None and "fit" not in app.state.scenario.laws


class GatedFit:
    """Stands in for fit_approach3: reports progress block by block, each block released by the test."""

    def __init__(self):
        self.real = FP.fit_approach3
        self.release = threading.Semaphore(0)
        self.reported = []

    def __call__(self, runs, *, progress, should_stop, n_bootstrap, **kw):
        fit = self.real(runs, **kw)  # the full fit, no bootstrap
        for done in range(0, n_bootstrap + 1, 10):
            self.release.acquire()
            if should_stop():
                raise FP.FitCancelled("cancelled")
            progress(done, n_bootstrap)
            self.reported.append(done)
        return fit


async def until(condition):
    while not condition():
        await asyncio.sleep(0)  # yield to the loop: the loop is free while the worker computes


def test_background_fit_reports_progress_and_finishes_on_the_loop(monkeypatch):
    gate = GatedFit()
    monkeypatch.setattr(FP, "fit_approach3", gate)

    async def scenario():
        app = Explorer(raise_errors=True)
        panel = app.fit_panel
        panel.resamples.value = 30
        upload(app, runs_csv())
        assert panel.task is not None and not panel.task.done()  # returned at once: the loop is free
        assert not panel.cancel.disabled and panel.progress.layout.visibility == "visible"
        for done in (0, 10, 20, 30):
            gate.release.release()
            await until(lambda done=done: panel.progress.value == done and gate.reported[-1:] == [done])
            assert panel.progress.max == 30 and f"{done:,} of 30" in panel.status.value
        await panel.task
        assert "fit" in app.state.scenario.laws and app.state.fit_result is not None
        assert panel.cancel.disabled and panel.progress.layout.visibility == "hidden"

    asyncio.run(scenario())


def test_cancel_stops_the_fit_and_draws_nothing(monkeypatch):
    gate = GatedFit()
    monkeypatch.setattr(FP, "fit_approach3", gate)

    async def scenario():
        app = Explorer(raise_errors=True)
        panel = app.fit_panel
        panel.resamples.value = 1000
        upload(app, runs_csv())
        gate.release.release()
        await until(lambda: gate.reported == [0])
        panel.cancel.click()
        gate.release.release()  # the next block sees the request
        await panel.task
        assert gate.reported == [0]
        assert "cancelled" in panel.message.value.lower() and panel.report.value == ""
        assert app.state.fit_result is None and "fit" not in app.state.scenario.laws

    asyncio.run(scenario())


def test_a_new_upload_supersedes_a_running_fit(monkeypatch):
    gate = GatedFit()
    monkeypatch.setattr(FP, "fit_approach3", gate)

    async def scenario():
        app = Explorer(raise_errors=True)
        panel = app.fit_panel
        panel.resamples.value = 10
        upload(app, runs_csv(), "first.csv")
        first = panel.task
        panel.resamples.value = 0  # an option change re-runs on the same upload and cancels the first
        for _ in range(4):
            gate.release.release()
        await first
        await panel.task
        assert "first.csv" in panel.report.value and "(no bootstrap" in panel.report.value
        assert app.state.fit_result is not None and app.state.fit_result.bootstrap is None

    asyncio.run(scenario())


def test_upload_limit():
    app = Explorer(raise_errors=False)
    upload(app, b"params,tokens,loss\n" + b"1,2,3\n" * (FP.MAX_UPLOAD_BYTES // 6 + 1), "big.csv")
    assert "limit" in app.fit_panel.message.value and app.state.fit_result is None


KERNEL_SETUP = """
import datetime, numpy as np
from scaling_explorer.app import Explorer
from scaling_explorer.fit import synthetic_runs
from scaling_explorer.laws import ParametricLaw
law = ParametricLaw(E=1.8, A=400.0, B=2000.0, alpha=0.34, beta=0.37)
content = synthetic_runs(law, np.geomspace(1e18, 1e21, 5), span=10, seed=0)[["params", "tokens", "loss"]]
content = content.to_csv(index=False).encode()
app = Explorer(raise_errors=True)
panel = app.fit_panel
panel.resamples.value = 50
panel.upload.value = ({"name": "runs.csv", "type": "text/csv", "size": len(content),
                       "last_modified": datetime.datetime(2026, 1, 1), "content": memoryview(content)},)
print("background:", panel.task is not None)
"""


def test_in_a_real_kernel_the_fit_runs_off_the_event_loop():
    """ipykernel runs widget callbacks on its asyncio loop, so the panel fits in the background there."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    try:
        def run(code):
            out = []
            reply = kc.execute_interactive(code, timeout=300, output_hook=lambda msg: out.append(
                msg["content"].get("text", "") if msg["msg_type"] == "stream" else
                msg["content"].get("evalue", "") if msg["msg_type"] == "error" else ""))
            assert reply["content"]["status"] == "ok", "".join(out)
            return "".join(out)

        assert "background: True" in run(KERNEL_SETUP)
        out = run("await panel.task\n"
                  "print('drawn:', 'fit' in app.state.scenario.laws, 'progress:', panel.progress.value,"
                  " panel.progress.max)")
        assert "drawn: True progress: 50 50" in out
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
