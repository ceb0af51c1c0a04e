"""Stopping and culling: a signal on ``scaling-explorer serve`` (or ``make demo``) ends Voila and every
kernel and frees the port; kernels of pages that vanished without a word (a killed browser) are culled.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest
from conftest import require
from playwright.sync_api import expect

from scaling_explorer.cli import build_parser
from scaling_explorer.serve import (
    DEFAULT_POOL_SIZE,
    ROOT,
    VoilaServer,
    capacity_rule,
    free_port,
    kernel_processes,
    port_open,
)


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


def test_serve_and_make_demo_share_one_default_pool():
    """``scaling-explorer serve`` preheats a small pool unless told otherwise, and ``make demo`` passes a pool
    only when POOL is given (so the two cannot drift apart); the start message says how to size it."""
    assert DEFAULT_POOL_SIZE > 0
    assert build_parser().parse_args(["serve"]).pool_size == DEFAULT_POOL_SIZE
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^POOL \?=\s*$", makefile, re.M), "make demo must not declare a second default pool"
    assert "$(if $(POOL), --pool-size $(POOL))" in makefile
    rule = capacity_rule(DEFAULT_POOL_SIZE)
    assert f"Preheated pool: {DEFAULT_POOL_SIZE} kernel" in rule and "POOL=30" in rule and "Capacity rule:" in rule


@pytest.mark.parametrize(("sig", "pool"), [(signal.SIGTERM, 0), (signal.SIGINT, 1)])
def test_signal_on_serve_ends_voila_and_every_kernel(sig, pool, tmp_path):
    port = free_port()
    cmd = [sys.executable, "-m", "scaling_explorer", "serve", "--port", str(port), "--pool-size", str(pool)]
    with (tmp_path / "serve.log").open("w") as log:
        proc = _start_and_open_a_kernel(cmd, port, pool, log)
        try:
            kernels, everything = _snapshot(proc)
            printed = (tmp_path / "serve.log").read_text()
            assert "Capacity rule:" in printed and f"Preheated pool: {pool} kernel" in printed, printed
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
    # -o: never rebuild the venv from here; BIN: the environment running the tests. POOL=1: one preheated
    # kernel is enough to be signalled, and checks that POOL reaches the server (the default pool without
    # POOL: test_serve_and_make_demo_share_one_default_pool).
    cmd = ["make", "-s", "-o", ".venv/.installed", "demo", f"PORT={port}", f"BIN={bin_dir}", "POOL=1"]
    with (tmp_path / "make.log").open("w") as log:
        proc = _start_and_open_a_kernel(cmd, port, 1, log)
        try:
            kernels, everything = _snapshot(proc)
            assert "Preheated pool: 1 kernel" in (tmp_path / "make.log").read_text(), "make demo's POOL"
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
            pages = [kept.new_page(), doomed.new_page()]
            for page in pages:
                page.goto(server.url, timeout=90_000, wait_until="commit")
            for page in pages:
                expect(page.locator(".se-app")).to_be_visible(timeout=90_000)
            assert _wait(lambda: len(server.kernels()) == 2, 30)
            doomed.close()  # no beforeunload: the page vanishes as with a crashed or killed browser
            closed = time.monotonic()  # from here neither page says anything to its kernel
            assert _wait(lambda: len(server.kernels()) == 1, idle + 3 * interval + 20), (
                f"{len(server.kernels())} kernels left: disconnected kernels are not culled")
            log = (tmp_path / "voila.log").read_text()
            # Culled, not shut down by a page-close beacon.
            culls = [line for line in log.splitlines() if "Culling 'idle' kernel" in line]
            assert len(culls) >= 1, "\n".join(culls)
            # The page still open keeps its kernel (cull_connected is false) and still answers, though
            # it too has been idle past the timeout for two cull passes.
            time.sleep(max(0.0, closed + idle + 2 * interval - time.monotonic()))
            culls = [line for line in (tmp_path / "voila.log").read_text().splitlines() if "Culling" in line]
            assert len(server.kernels()) == 1, "the kernel of an open page was culled:\n" + "\n".join(culls)
            handle = pages[0].locator(".noUi-handle").first
            handle.focus()
            pages[0].keyboard.press("ArrowRight")
            expect(pages[0].locator(".se-budget")).to_contain_text("6.46e23", timeout=20_000)
        finally:
            kept.close()


def _get(url: str, timeout: float = 120) -> tuple[int, str]:
    """Status and body of a GET (an HTTP error status is an answer too)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_a_visitor_past_max_kernels_gets_the_class_is_full_page(tmp_path):
    """ClassKernelManager.max_kernels (etc/jupyter/voila.json): the next visitor is told, not given a kernel."""
    with VoilaServer(log_path=tmp_path / "voila.log", extra_args=["--ClassKernelManager.max_kernels=1"]) as server:
        status, body = _get(server.url)
        assert status == 200 and "jupyter-config-data" in body
        assert len(server.kernels()) == 1
        status, body = _get(server.url)
        assert status == 503, status
        assert "The class is full, try again in a minute" in body
        assert '<meta http-equiv="refresh"' in body and "cdn." not in body  # retries by itself, offline
        assert len(server.kernels()) == 1, "a refused visitor still started a kernel"
        assert "The class is full" in (tmp_path / "voila.log").read_text()


def test_a_visitor_never_waits_on_a_pool_kernel_that_is_not_started():
    """With the pool taken and its refill hours away (fill_delay), the next visitor gets a kernel of their own.

    Voila alone hands out the waiting refill entry, and the page then gets no byte until it has started.
    """
    with VoilaServer(pool_size=1, extra_args=["--VoilaKernelManager.fill_delay=36000"]) as server:
        assert _wait(lambda: len(server.kernels()) >= 1, 90), "the pool did not fill"
        for _ in range(2):  # the pool's kernel, then one started for this visitor
            status, body = _get(server.url, timeout=90)
            assert status == 200 and "jupyter-config-data" in body


def test_the_page_says_starting_before_the_kernel_has_run(voila_url):
    """The first bytes of a page whose kernel is still starting already say so (no blank page).

    The session's server has no pool, so this page's kernel starts only when it is asked for. That the state
    gives way to the page once it has run: test_page.py's first test."""
    with urllib.request.urlopen(voila_url, timeout=120) as r:
        head = b""
        while b"jupyter-config-data" not in head:  # the kernel's id comes once the kernel has started
            chunk = r.read1(65536)
            assert chunk, "the page ended without its kernel"
            head += chunk
        before_kernel = head.split(b"jupyter-config-data")[0].decode()
        assert "Starting your page" in before_kernel and ">Retry<" in before_kernel
        assert "body:has(.se-app) #se-starting { display: none; }" in before_kernel
