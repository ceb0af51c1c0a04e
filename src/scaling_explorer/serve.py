"""Serve ``notebooks/explorer.ipynb`` with Voila; the deployment settings live here, in the repo."""

from __future__ import annotations

import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "explorer.ipynb"


def voila_command(port: int = 8866, pool_size: int = 0, notebook: Path = NOTEBOOK) -> list[str]:
    """The Voila command line used by ``make demo``, ``scaling-explorer serve`` and the browser tests.

    Parameters
    ----------
    port : int
        Port on 127.0.0.1.
    pool_size : int
        Preheated kernels kept ready (a class arriving at once); 0 disables preheating.
    """
    if not notebook.exists():
        raise FileNotFoundError(f"{notebook} not found: run from a checkout of the repository")
    cmd = [
        sys.executable, "-m", "voila", str(notebook),
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--strip_sources=True",          # the page shows no code
        "--show_tracebacks=False",       # errors reach the page as messages, never as tracebacks
        # Voila 0.5 refuses the page-close kernel shutdown for a missing XSRF token (voila#1458),
        # leaking ~100 MiB per page view. See README, "Deployment", for the trade-off.
        "--Voila.tornado_settings={'disable_check_xsrf': True}",
        # Backstop: kernels idle for 10 minutes are culled.
        "--MappingKernelManager.cull_idle_timeout=600",
        "--MappingKernelManager.cull_interval=60",
    ]
    if pool_size > 0:
        # Refill the pool 15 s after a visitor takes a kernel, not while their page is loading
        # (measured: kernel CPU during a load 3.6 s -> 1.7-2.0 s).
        cmd += ["--preheat_kernel=True", f"--pool_size={pool_size}", "--VoilaKernelManager.fill_delay=15"]
    return cmd


def serve(port: int = 8866, pool_size: int = 0) -> None:
    """Run Voila in the foreground until interrupted."""
    if not 0 < port < 65536:
        raise ValueError(f"port must be between 1 and 65535, got {port}")
    if pool_size < 0:
        raise ValueError(f"pool_size must be 0 or more, got {pool_size}")
    print(f"Scaling Explorer on http://127.0.0.1:{port}/  (Ctrl-C to stop)")
    try:
        subprocess.run(voila_command(port, pool_size), check=False)
    except KeyboardInterrupt:
        pass


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class VoilaServer:
    """Voila run with :func:`voila_command` on a free 127.0.0.1 port, as a context manager.

    For the browser tests and the benchmarks: ``url`` once started, ``kernels()`` lists its
    kernel processes, and leaving the ``with`` block stops it.
    """

    def __init__(self, pool_size: int = 0, notebook: Path = NOTEBOOK, log_path: Path | None = None,
                 timeout: float = 60.0):
        self.port = free_port()
        self.cmd = voila_command(self.port, pool_size=pool_size, notebook=notebook)
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = log_path
        self.timeout = timeout
        self.process: subprocess.Popen | None = None
        self._log = None

    @property
    def command(self) -> str:
        """The command line, for printing."""
        return shlex.join(self.cmd)

    def __enter__(self) -> VoilaServer:
        self._log = self.log_path.open("w") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(self.cmd, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.timeout
        while True:
            try:  # a static file: answers without starting a kernel
                with urllib.request.urlopen(self.url + "voila/static/voila.js", timeout=2):
                    return self
            except urllib.error.HTTPError:
                return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()
                    message = f"voila did not start within {self.timeout:g} s (log: {self.log_path})"
                    raise RuntimeError(message) from None
                time.sleep(0.3)

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log not in (None, subprocess.DEVNULL):
            self._log.close()

    def kernels(self) -> list:
        """The server's running kernel processes (``psutil.Process``; psutil comes with the test extra)."""
        import psutil

        out = []
        for child in psutil.Process(self.process.pid).children(recursive=True):
            try:
                if any("ipykernel_launcher" in part for part in child.cmdline()):
                    out.append(child)
            except psutil.NoSuchProcess:  # ended meanwhile
                pass
        return out
