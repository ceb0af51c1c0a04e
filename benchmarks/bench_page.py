"""Benchmark the served explorer page against an inline ``interactive_output`` baseline, in a real browser.

Usage: ``.venv/bin/python benchmarks/bench_page.py [--steps 50] [--loads 5] [--quick]``. Prints a table;
never fails a build (exit status 0 even when something breaks: the error is printed instead).

Starts and stops its own Voila servers (``scaling_explorer.serve.voila_command``, the command line used
everywhere) on free 127.0.0.1 ports and drives them with headless Chromium through Playwright:

a) page interactive time: ``page.goto`` until the numbers table shows the expected N_opt AND the plot has
   been drawn (non-blank), in a fresh browser context each time; with a preheated kernel pool (pool of 2,
   refilled and idle before each load) and without one.
b) slider latency: focus the compute slider's handle, press ArrowRight, time (in the page, from the keydown)
   until BOTH the numbers table text has changed (MutationObserver) and the plot pixels have changed
   (canvas ``toDataURL`` checked on requestAnimationFrame after each draw; for the baseline, a new loaded
   ``<img>``). One step at a time, ``--steps`` steps.
c) CPU seconds per update: the page's kernel (child ``ipykernel_launcher`` process of the Voila server)
   and the Voila server itself, read before and after the steps.
d) the same for ``benchmarks/inline_baseline.ipynb``: a FloatLogSlider on the same grid driving
   ``ipywidgets.interactive_output``, which draws a new inline figure and table on each change.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import statistics
import sys
import tempfile
import time
import traceback
from io import BytesIO
from pathlib import Path

import psutil

from scaling_explorer.serve import VoilaServer

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "benchmarks" / "inline_baseline.ipynb"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disable-gpu"]  # as tests/conftest.py
VIEWPORT = {"width": 1280, "height": 800}

# The targets.
TARGET_STEP_MS = 150
TARGET_SPEEDUP = 5
TARGET_KERNEL_CPU = 0.05
TARGET_INTERACTIVE_S = 3.0

CANVAS = ".jupyter-matplotlib-canvas-div canvas"

# ---------------------------------------------------------------------------------------- in-page JS
# True once the numbers table shows `expected` and the plot has been drawn (non-blank).
READY_JS = """([expected, variant]) => {
  const table = document.querySelector('.se-table');
  if (!table || !table.innerText.includes(expected)) return false;
  if (variant === 'inline') {
    const img = document.querySelector('.widget-output img');
    return !!img && img.complete && img.naturalWidth > 0;
  }
  const c = document.querySelector(arguments_canvas);
  if (!c || !c.width || !c.height) return false;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let ink = 0;
  for (let i = 0; i < d.length; i += 4 * 37) if (d[i + 3] > 0 && d[i] < 160) ink++;
  return ink > 50;
}""".replace("arguments_canvas", repr(CANVAS))

# Installed once per page: counts canvas draws and records the keydown time.
INSTALL_JS = """() => {
  if (window.__se) return;
  const se = window.__se = {draws: 0};
  const proto = CanvasRenderingContext2D.prototype;
  for (const name of ['drawImage', 'putImageData']) {
    const orig = proto[name];
    proto[name] = function (...a) { se.draws++; return orig.apply(this, a); };
  }
  document.addEventListener('keydown', () => { if (se.tKey === null) se.tKey = performance.now(); }, true);
}"""

# Armed before each key press; sets __se.done when both the table and the plot have changed.
ARM_JS = """([variant, canvasSel]) => {
  const se = window.__se;
  const tableText = () => { const t = document.querySelector('.se-table'); return t ? t.innerText : null; };
  const plotSig = variant === 'inline'
    ? () => { const i = document.querySelector('.widget-output img');
              return i && i.complete && i.naturalWidth ? i.src : null; }
    : () => document.querySelector(canvasSel).toDataURL();
  Object.assign(se, {tKey: null, tTable: null, tPlot: null, done: false, timeout: false,
                     table0: tableText(), plot0: plotSig()});
  if (se.observer) se.observer.disconnect();
  se.observer = new MutationObserver(() => {
    if (se.tTable !== null || se.tKey === null) return;
    const x = tableText();
    if (x !== null && x !== se.table0) { se.tTable = performance.now(); se.observer.disconnect(); }
  });
  se.observer.observe(document.body, {subtree: true, childList: true, characterData: true});
  let seen = se.draws, lastCheck = 0;
  const tick = (now) => {
    if (se.tKey !== null && se.tPlot === null) {
      // ipympl: compare pixels after each draw (and every 100 ms as a fallback); inline: every frame.
      if (variant === 'inline' || se.draws !== seen || now - lastCheck > 100) {
        seen = se.draws; lastCheck = now;
        const s = plotSig();
        if (s !== null && s !== se.plot0) se.tPlot = performance.now();
      }
    }
    if (se.tTable !== null && se.tPlot !== null) { se.done = true; return; }
    if (se.tKey !== null && performance.now() - se.tKey > 30000) { se.timeout = se.done = true; return; }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""


# ---------------------------------------------------------------------------------------- processes
class Server(VoilaServer):
    """The test suite's Voila server, plus CPU accounting for the benchmark."""

    #: CPUs the server and its kernels run on (None: wherever the caller runs); ``bench_load.py --pin``.
    cpus: set[int] | None = None

    def __init__(self, workdir: Path, name: str, pool_size: int = 0, notebook: Path | None = None,
                 extra_args: tuple[str, ...] = ()):
        kwargs = {"notebook": notebook} if notebook is not None else {}
        super().__init__(pool_size=pool_size, log_path=workdir / f"voila-{name}.log", extra_args=extra_args,
                         **kwargs)
        caller = os.sched_getaffinity(0)
        if self.cpus:  # the child inherits the affinity at its start, and its kernels inherit it from it
            os.sched_setaffinity(0, self.cpus)
        try:
            self.__enter__()
        finally:
            os.sched_setaffinity(0, caller)

    @property
    def proc(self):
        return self.process

    def kernel_cpu(self) -> dict[int, float]:
        out = {}
        for kernel in self.kernels():
            try:
                t = kernel.cpu_times()
                out[kernel.pid] = t.user + t.system
            except psutil.NoSuchProcess:  # the process ended meanwhile
                pass
        return out

    def server_cpu(self) -> float:
        t = psutil.Process(self.process.pid).cpu_times()
        return t.user + t.system

    def wait_idle(self, kernels: int, timeout: float = 45.0) -> float:
        """Wait until ``kernels`` kernels exist and no kernel nor the server uses CPU for 0.6 s.

        "No CPU" allows each idle kernel, and the server polling it, about 4 ms in 0.6 s: with a fixed 0.03 CPU-s,
        60 idle kernels never counted as idle and the wait ran to its timeout.
        """
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            before = self.kernel_cpu()
            server = self.server_cpu()
            time.sleep(0.6)
            after = self.kernel_cpu()
            busy = sum(after[p] - before.get(p, 0.0) for p in after) + self.server_cpu() - server
            if len(after) >= kernels and set(after) == set(before) and busy < 0.03 + 0.004 * len(after):
                return time.monotonic() - t0
        return time.monotonic() - t0

    def stop(self):
        self.__exit__()


# ---------------------------------------------------------------------------------------- measurements
def expected_text() -> str:
    """N_opt of Epoch's refit at the default budget, as both pages print it ("72.3 B")."""
    from scaling_explorer import laws
    from scaling_explorer.app.format import fmt_count

    N, _ = laws.get_law("besiroglu2024").compute_optimal(5.76e23)
    return fmt_count(float(N))


def nonblank(png: bytes) -> bool:
    from PIL import Image

    lo, hi = Image.open(BytesIO(png)).convert("L").getextrema()
    return hi - lo > 64


def plot_locator(page, variant):
    return page.locator(CANVAS).first if variant == "ipympl" else page.locator(".widget-output").first


def load_page(browser, server: Server, variant: str, expected: str):
    """Open the page in a fresh context; return (context, page, seconds until interactive)."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    t0 = time.perf_counter()
    page.goto(server.url, wait_until="commit", timeout=120_000)
    page.wait_for_function(READY_JS, arg=[expected, variant], polling=50, timeout=120_000)
    seconds = time.perf_counter() - t0
    if not nonblank(plot_locator(page, variant).screenshot()):
        raise RuntimeError(f"{variant}: the plot looks blank once the page reported ready")
    return context, page, seconds


def close_page(context, page):
    page.close(run_before_unload=True)  # sends Voila's kernel-shutdown beacon
    context.close()


def step_latencies(page, server: Server, variant: str, steps: int):
    """Press ArrowRight ``steps`` times on the compute slider; return (latencies ms, kernel CPU-s, server CPU-s)."""
    page.evaluate(INSTALL_JS)
    handle = page.locator(".noUi-handle").first
    handle.focus()
    page.wait_for_timeout(500)
    server.wait_idle(kernels=1, timeout=20)
    k0, s0 = server.kernel_cpu(), server.server_cpu()
    latencies, timeouts = [], 0
    for _ in range(steps):
        page.evaluate(ARM_JS, [variant, CANVAS])
        page.keyboard.press("ArrowRight")
        page.wait_for_function("() => window.__se.done", polling=20, timeout=35_000)
        r = page.evaluate("() => ({tKey: __se.tKey, tTable: __se.tTable, tPlot: __se.tPlot, timeout: __se.timeout})")
        if r["timeout"] or r["tKey"] is None:
            timeouts += 1
        else:
            latencies.append(max(r["tTable"], r["tPlot"]) - r["tKey"])
        page.wait_for_timeout(60)  # let trailing messages (acks) settle before the next step
    page.wait_for_timeout(300)
    k1, s1 = server.kernel_cpu(), server.server_cpu()
    # The page's kernel: the one that existed throughout and used the most CPU.
    deltas = {pid: k1[pid] - k0[pid] for pid in k0 if pid in k1}
    kernel = max(deltas.values()) if deltas else float("nan")
    return latencies, timeouts, kernel / steps, (s1 - s0) / steps


def pct(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]


def run_variant(browser, workdir: Path, variant: str, steps: int, loads: int, cold_loads: int, expected: str,
                log):
    res = {"variant": variant, "commands": []}
    notebook = None if variant == "ipympl" else BASELINE
    if variant == "ipympl" and loads > 0:
        # The shipped fill_delay (120 s, etc/jupyter/voila.json) would make each load wait two minutes
        # for the refill; 15 s still measures a load right after a refill.
        srv = Server(workdir, f"{variant}-pool", pool_size=2, notebook=notebook,
                     extra_args=("--VoilaKernelManager.fill_delay=15",))
        res["commands"].append(srv.command)
        try:
            log(f"  {variant}: preheated pool of 2, waiting for it to fill ...")
            srv.wait_idle(kernels=2, timeout=60)
            times = []
            for i in range(loads):
                context, page, s = load_page(browser, srv, variant, expected)
                times.append(s)
                log(f"    preheated load {i + 1}: {s:.2f} s")
                close_page(context, page)
                srv.wait_idle(kernels=2, timeout=60)  # refilled and idle before the next load
            res["warm_load"] = times
        finally:
            srv.stop()
    srv = Server(workdir, f"{variant}-cold", pool_size=0, notebook=notebook)
    res["commands"].append(srv.command)
    try:
        times = []
        for i in range(cold_loads):
            srv.wait_idle(kernels=0, timeout=30)
            context, page, s = load_page(browser, srv, variant, expected)
            times.append(s)
            log(f"  {variant}: load without preheat {i + 1}: {s:.2f} s")
            if i < cold_loads - 1:
                close_page(context, page)
        res["cold_load"] = times
        lat, timeouts, kcpu, scpu = step_latencies(page, srv, variant, steps)
        res.update(steps=lat, timeouts=timeouts, kernel_cpu=kcpu, server_cpu=scpu)
        log(f"  {variant}: {len(lat)} steps, median {statistics.median(lat) if lat else float('nan'):.0f} ms, "
            f"kernel {kcpu:.3f} CPU-s/update")
        close_page(context, page)
    finally:
        srv.stop()
    return res


# ---------------------------------------------------------------------------------------- report
def fmt(x, spec=".0f", unit=""):
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:{spec}}{unit}"


def med(values):
    return statistics.median(values) if values else float("nan")


def report(ours, base, args):
    rows = [("metric", "explorer (ipympl, blit)", "baseline (inline)", "baseline / explorer", "target")]

    def ratio(a, b):
        if a is None or b is None or not a or math.isnan(a) or math.isnan(b):
            return float("nan")
        return b / a

    def add(name, a, b, spec, unit, target="", show_ratio=True):
        rows.append((name, fmt(a, spec, unit), fmt(b, spec, unit),
                     fmt(ratio(a, b), ".1f", "x") if show_ratio else "", target))

    add("interactive, preheated pool (median)", med(ours.get("warm_load", [])), None, ".2f", " s",
        f"<= {TARGET_INTERACTIVE_S:g} s", show_ratio=False)
    add("interactive, preheated pool (max)", max(ours.get("warm_load", []) or [float("nan")]), None, ".2f", " s",
        show_ratio=False)
    add("interactive, no preheat (median)", med(ours.get("cold_load", [])), med(base.get("cold_load", [])), ".2f",
        " s")
    add("slider step -> table + plot (median)", med(ours.get("steps", [])), med(base.get("steps", [])), ".0f",
        " ms", f"< {TARGET_STEP_MS} ms, >= {TARGET_SPEEDUP}x")
    add("slider step -> table + plot (p90)", pct(ours.get("steps", []), 0.9), pct(base.get("steps", []), 0.9),
        ".0f", " ms")
    spread = [f"{fmt(min(v))} / {fmt(max(v))} ms" if v else "—" for v in (ours.get("steps"), base.get("steps"))]
    rows.append(("slider step (min / max)", *spread, "", ""))
    add("kernel CPU per update", ours.get("kernel_cpu"), base.get("kernel_cpu"), ".3f", " s",
        f"<= {TARGET_KERNEL_CPU:g} s")
    add("voila server CPU per update", ours.get("server_cpu"), base.get("server_cpu"), ".3f", " s")
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    line = "  ".join("-" * w for w in widths)
    print()
    print(line)
    for i, r in enumerate(rows):
        print("  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(zip(r, widths, strict=True))))
        if i == 0:
            print(line)
    print(line)
    n_ours, n_base = len(ours.get("steps", [])), len(base.get("steps", []))
    print(f"steps measured: explorer {n_ours} (timeouts {ours.get('timeouts', 0)}), baseline {n_base} "
          f"(timeouts {base.get('timeouts', 0)}); loads: preheated {len(ours.get('warm_load', []))}, "
          f"no preheat {len(ours.get('cold_load', []))} / {len(base.get('cold_load', []))}")
    print(f"preheated loads (s): {', '.join(f'{x:.2f}' for x in ours.get('warm_load', []))}")
    verdicts = []
    m = med(ours.get("steps", []))
    if m == m:
        verdicts.append(f"step median {m:.0f} ms {'meets' if m < TARGET_STEP_MS else 'MISSES'} < {TARGET_STEP_MS} ms")
    r = ratio(m, med(base.get("steps", [])))
    if r == r:
        verdicts.append(f"speed-up {r:.1f}x {'meets' if r >= TARGET_SPEEDUP else 'MISSES'} >= {TARGET_SPEEDUP}x")
    k = ours.get("kernel_cpu", float("nan"))
    if k == k:
        verdicts.append(f"kernel {k:.3f} CPU-s/update {'meets' if k <= TARGET_KERNEL_CPU else 'MISSES'} "
                        f"<= {TARGET_KERNEL_CPU}")
    w = med(ours.get("warm_load", []))
    if w == w:
        verdicts.append(f"preheated interactive {w:.2f} s {'meets' if w <= TARGET_INTERACTIVE_S else 'MISSES'} "
                        f"<= {TARGET_INTERACTIVE_S:g} s")
    print("targets: " + "; ".join(verdicts))
    print("commands (voila, as started):")
    for c in ours.get("commands", []) + base.get("commands", []):
        print("  " + c)
    print("benchmark: " + shlex.join([sys.executable, *sys.argv]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=50, help="slider steps per page (default 50)")
    ap.add_argument("--loads", type=int, default=5, help="preheated page loads (default 5)")
    ap.add_argument("--cold-loads", type=int, default=2, help="page loads without preheat (default 2)")
    ap.add_argument("--quick", action="store_true", help="10 steps, 2 preheated loads, 1 cold load")
    ap.add_argument("--only", choices=["ipympl", "inline"], help="run one variant only")
    args = ap.parse_args(argv)
    if args.quick:
        args.steps, args.loads, args.cold_loads = min(args.steps, 10), min(args.loads, 2), 1
    args.cold_loads = max(args.cold_loads, 1)

    def log(msg):
        print(msg, flush=True)

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("playwright is not installed: pip install playwright pytest-playwright")
        return 0
    if not Path(CHROMIUM).exists():
        print(f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)")
        return 0
    ours, base = {}, {}
    t0 = time.monotonic()
    try:
        expected = expected_text()
        with tempfile.TemporaryDirectory(prefix="bench_page-") as tmp, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                if args.only in (None, "ipympl"):
                    log("explorer page (ipympl, blitted budget updates):")
                    try:
                        ours = run_variant(browser, Path(tmp), "ipympl", args.steps, args.loads, args.cold_loads,
                                           expected, log)
                    except Exception:
                        traceback.print_exc()
                if args.only in (None, "inline"):
                    log("baseline page (inline interactive_output):")
                    try:
                        base = run_variant(browser, Path(tmp), "inline", args.steps, 0, args.cold_loads,
                                           expected, log)
                    except Exception:
                        traceback.print_exc()
            finally:
                browser.close()
    except Exception:
        traceback.print_exc()
    report(ours, base, args)
    print(f"wall time {time.monotonic() - t0:.0f} s, {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
