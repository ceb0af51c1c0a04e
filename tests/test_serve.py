"""Stopping and culling: a signal on ``scaling-explorer serve`` (or ``make demo``) ends Voila and every
kernel and frees the port; kernels of pages that vanished without a word (a killed browser) are culled.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from conftest import require
from playwright.sync_api import expect

from scaling_explorer.serve import ROOT, VoilaServer, free_port, kernel_processes, port_open


def _wait(predicate, timeout, step=0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _start_and_open_a_kernel(cmd, port, pool, log):
    """Start ``cmd``; once it answers, GET the page (a kernel starts and runs the notebook)."""
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        assert _wait(lambda: port_open(port) or proc.poll() is not None, 90), "the server did not start"
        assert proc.poll() is None, "the server exited at start"
        # Let the pool fill first, so the page takes a preheated kernel (a page that arrives earlier gets a
        # kernel of its own; then there are pool + 1 kernels, which is also fine below).
        assert _wait(lambda: len(kernel_processes(proc.pid)) >= pool, 90), "the pool did not fill"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=120) as r:
            assert r.status == 200 and r.read()
        # The page took a kernel (from the pool, if any; the pool refills only 120 s later).
        assert _wait(lambda: len(kernel_processes(proc.pid)) >= max(1, pool), 60), "no kernel started"
        return proc
    except BaseException:
        _kill_group(proc)
        raise


def _kill_group(proc):
    """Stop what a test started, whatever happened (a later test must not see its processes or sockets)."""
    try:  # the group outlives its leader when a child was left behind
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _snapshot(proc):
    """Every process under ``proc`` and its kernels, taken just before the signal (no count is assumed)."""
    return kernel_processes(proc.pid), psutil.Process(proc.pid).children(recursive=True)


def _assert_all_gone(proc, kernels, everything, port, how):
    try:
        status = proc.wait(40)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail(f"still running 40 s after {how}")
    left = [p for p in everything if _alive(p)]
    for p in left:  # do not leave them behind for the other tests
        p.kill()
    assert status == 0, f"exit status {status} after {how}"
    assert not left, f"{len(left)} child process(es) left after {how}: {[p.pid for p in left]}"
    assert all(not _alive(k) for k in kernels)
    assert not port_open(port), f"port {port} still answers after {how}"


@pytest.mark.parametrize(("sig", "pool"), [(signal.SIGTERM, 0), (signal.SIGINT, 2)])
def test_signal_on_serve_ends_voila_and_every_kernel(sig, pool, tmp_path):
    port = free_port()
    cmd = [sys.executable, "-m", "scaling_explorer", "serve", "--port", str(port), "--pool-size", str(pool)]
    with (tmp_path / "serve.log").open("w") as log:
        proc = _start_and_open_a_kernel(cmd, port, pool, log)
        try:
            kernels, everything = _snapshot(proc)
            # At least the pool plus the page's kernel when the pool was empty; never an exact count (a race).
            assert len(kernels) >= max(1, pool)
            assert any("voila" in " ".join(p.cmdline()) for p in everything)
            proc.send_signal(sig)
            _assert_all_gone(proc, kernels, everything, port, signal.Signals(sig).name)
        finally:
            _kill_group(proc)


def test_sigterm_on_make_demo_ends_everything(tmp_path):
    require(shutil.which("make") is not None, "make not found")
    bin_dir = Path(sys.executable).parent
    require((bin_dir / "scaling-explorer").exists(), f"scaling-explorer not installed in {bin_dir}")
    port = free_port()
    # -o: never rebuild the venv from here; BIN: the environment running the tests.
    cmd = ["make", "-s", "-o", ".venv/.installed", "demo", f"PORT={port}", f"BIN={bin_dir}"]
    with (tmp_path / "make.log").open("w") as log:
        proc = _start_and_open_a_kernel(cmd, port, 0, log)
        try:
            kernels, everything = _snapshot(proc)
            proc.send_signal(signal.SIGTERM)  # GNU make passes SIGTERM on to its recipe
            try:
                proc.wait(40)
            except subprocess.TimeoutExpired:
                pass
            # make itself exits non-zero when its recipe was terminated; what matters is what it leaves.
            if proc.poll() is not None:
                proc.returncode = 0
            _assert_all_gone(proc, kernels, everything, port, "SIGTERM on make demo")
        finally:
            _kill_group(proc)


@pytest.mark.browser
def test_kernels_of_a_killed_browser_context_are_culled(browser, tmp_path):
    """Short cull times (the repo's are 120 s / 30 s) keep this under a minute; the mechanism is the same."""
    idle, interval = 8, 2
    args = [f"--MappingKernelManager.cull_idle_timeout={idle}", f"--MappingKernelManager.cull_interval={interval}"]
    with VoilaServer(log_path=tmp_path / "voila.log", extra_args=args) as server:
        kept = browser.new_context(viewport={"width": 1280, "height": 800})
        doomed = browser.new_context(viewport={"width": 1280, "height": 800})
        try:
            pages = [kept.new_page(), doomed.new_page(), doomed.new_page()]
            for page in pages:
                page.goto(server.url, timeout=90_000, wait_until="commit")
            for page in pages:
                expect(page.locator(".se-app")).to_be_visible(timeout=90_000)
            assert _wait(lambda: len(server.kernels()) == 3, 30)
            doomed.close()  # no beforeunload: the pages vanish as with a crashed or killed browser
            assert _wait(lambda: len(server.kernels()) == 1, idle + 3 * interval + 20), (
                f"{len(server.kernels())} kernels left: disconnected kernels are not culled")
            log = (tmp_path / "voila.log").read_text()
            # Culled, not shut down by a page-close beacon.
            culls = [line for line in log.splitlines() if "Culling 'idle' kernel" in line]
            assert len(culls) >= 2, "\n".join(culls)
            # The page still open keeps its kernel (cull_connected is false) and still answers.
            time.sleep(idle + 2 * interval)
            culls = [line for line in (tmp_path / "voila.log").read_text().splitlines() if "Culling" in line]
            assert len(server.kernels()) == 1, "the kernel of an open page was culled:\n" + "\n".join(culls)
            handle = pages[0].locator(".noUi-handle").first
            handle.focus()
            pages[0].keyboard.press("ArrowRight")
            expect(pages[0].locator(".se-budget")).to_contain_text("6.46e+23", timeout=20_000)
        finally:
            kept.close()
