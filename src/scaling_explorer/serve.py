"""Serve ``notebooks/explorer.ipynb`` with Voila, with the settings kept in ``etc/jupyter/``.

The page and kernel settings (sources stripped, no tracebacks, culling, the XSRF workaround for
voila-dashboards/voila#1458) live in configuration files, not on this command line, so that every
route reads the same ones: ``voila`` (``etc/jupyter/voila.json``), the Voila server extension under
``jupyter server`` / ``jupyter lab`` / JupyterHub's single-user servers
(``etc/jupyter/jupyter_server_config.json``, plus ``voila.json`` for the page options) and Binder
(the ``start`` script at the repository root). Each route finds them through ``JUPYTER_CONFIG_PATH``.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "explorer.ipynb"
CONFIG_DIR = ROOT / "etc" / "jupyter"
DATA_DIR = ROOT / "share" / "jupyter"
STOP_TIMEOUT_S = 20.0  # Voila's own shutdown waits up to 5 s per kernel; then it is killed


def config_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's) with ``etc/jupyter`` first on ``JUPYTER_CONFIG_PATH``.

    Directories on ``JUPYTER_CONFIG_PATH`` take precedence over ``~/.jupyter`` and the environment's
    ``etc/jupyter``, so a user's own Jupyter configuration cannot switch these settings off.
    """
    env = dict(os.environ if env is None else env)
    if not CONFIG_DIR.is_dir():
        raise FileNotFoundError(f"{CONFIG_DIR} not found: run from a checkout of the repository")
    rest = [p for p in env.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p and p != str(CONFIG_DIR)]
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join([str(CONFIG_DIR), *rest])
    # The page's Voila template (``template`` in voila.json: lab without its CDN links) lives in
    # share/jupyter, which Voila searches through JUPYTER_PATH.
    rest = [p for p in env.get("JUPYTER_PATH", "").split(os.pathsep) if p and p != str(DATA_DIR)]
    env["JUPYTER_PATH"] = os.pathsep.join([str(DATA_DIR), *rest])
    return env


def voila_command(port: int = 8866, pool_size: int = 0, notebook: Path = NOTEBOOK,
                  extra_args: Sequence[str] = ()) -> list[str]:
    """The Voila command line used by ``make demo``, ``scaling-explorer serve`` and the browser tests.

    Run it with :func:`config_env`: the settings themselves are in ``etc/jupyter/voila.json``.

    Parameters
    ----------
    port : int
        Port on 127.0.0.1.
    pool_size : int
        Preheated kernels kept ready (a class arriving at once); 0 disables preheating.
    extra_args : sequence of str
        More Voila options; they override the configuration files (tests shorten the cull times).
    """
    if not notebook.exists():
        raise FileNotFoundError(f"{notebook} not found: run from a checkout of the repository")
    cmd = [sys.executable, "-m", "voila", str(notebook), f"--port={port}"]
    if pool_size > 0:
        # VoilaKernelManager.fill_delay in voila.json refills the pool 120 s after a visitor takes a
        # kernel, after a class's arrival rather than during it (benchmarks/bench_load.py, 10 viewers:
        # time to interactive p50 28 s -> 15 s, server + kernel CPU per arrival 2.5 -> 0.4 s).
        cmd += ["--preheat_kernel=True", f"--pool_size={pool_size}"]
    return cmd + list(extra_args)


def run_until_signalled(cmd: Sequence[str], env: dict[str, str] | None = None) -> int:
    """Run ``cmd`` in the foreground; SIGINT, SIGTERM or SIGHUP stop it with one SIGTERM.

    The child runs in its own session, so a Ctrl-C in the terminal reaches only this process, which
    then sends the child exactly one SIGTERM (Voila then shuts every kernel down; a second signal
    while it does so could cut that short). A child still running ``STOP_TIMEOUT_S`` later is killed.
    Returns the child's exit status (0 when it stopped on our signal).
    """
    proc = subprocess.Popen(list(cmd), env=env, start_new_session=True)
    stopping: list[float] = []
    started: dict[int, str] = {}  # the child's descendants when the signal came (kernels included)

    def on_signal(signum, frame):
        if not stopping and proc.poll() is None:
            stopping.append(time.monotonic())
            started.update(_descendants(proc.pid))
            proc.send_signal(signal.SIGTERM)

    handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {s: signal.signal(s, on_signal) for s in handled}
    try:
        while True:
            try:
                status = proc.wait(timeout=0.5)
                # Voila shuts its kernels down, but one still starting when the signal came (a pool
                # being filled) can escape it: end whatever of its processes is left.
                _terminate(started)
                return 0 if stopping and status in (0, -signal.SIGTERM) else status
            except subprocess.TimeoutExpired:
                if stopping and time.monotonic() - stopping[0] > STOP_TIMEOUT_S:
                    proc.kill()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if proc.poll() is None:  # an exception on our side: do not leave the server behind
            proc.kill()
            proc.wait()


def _descendants(pid: int) -> dict[int, str]:
    """Descendants of ``pid`` as {pid: start time} from /proc (Linux; empty elsewhere)."""
    parents: dict[int, tuple[int, str]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):  # ended meanwhile, or not Linux
            continue
        parents[int(stat.parent.name)] = (int(fields[1]), fields[19])  # ppid, start time
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, start) in parents.items():
            if ppid == parent and child not in found:
                found[child] = start
                frontier.append(child)
    return found


def _terminate(processes: dict[int, str]) -> None:
    """SIGTERM each of ``processes`` ({pid: start time}) still running as the same process."""
    for pid, start in processes.items():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            if fields[19] == start and fields[0] != "Z":
                os.kill(pid, signal.SIGTERM)
        except (OSError, IndexError):  # already gone
            pass


# The capacity rule (docs/deployment.md, "How big a class"), measured with
# ``benchmarks/bench_load.py --client protocol`` on a 2-core box; printed when the server starts.
MIB_PER_KERNEL = 180  # USS of a kernel that has run the page, plus its share of the libraries
STUDENTS_PER_CORE = 15  # stepping the budget once a second each
KERNEL_START_CPU_S = 2.3  # one pool kernel: start and run the page


def max_kernels() -> int:
    """``ClassKernelManager.max_kernels`` in ``etc/jupyter/voila.json`` (0: no limit)."""
    config = json.loads((CONFIG_DIR / "voila.json").read_text())
    return int(config.get("ClassKernelManager", {}).get("max_kernels", 0))


def capacity_rule(pool_size: int) -> str:
    """What the server holds and how to size the pool, for the terminal of whoever starts it."""
    limit = max_kernels()
    fill = f"filling it takes about {pool_size * KERNEL_START_CPU_S / (os.cpu_count() or 1):.0f} s here; " \
        if pool_size else ""
    return "\n".join([
        f"Preheated pool: {pool_size} kernel(s) ({fill}make it the class size, a minute before the class: "
        "make demo POOL=30, or scaling-explorer serve --pool-size 30).",
        f"Capacity rule: about {STUDENTS_PER_CORE} students per core stepping at once, "
        f"{MIB_PER_KERNEL} MiB of memory per open page; past {limit or 'no limit on'} pages a visitor is told "
        "the class is full (ClassKernelManager.max_kernels in etc/jupyter/voila.json). See docs/deployment.md.",
    ])


#: Preheated kernels by default (``scaling-explorer serve`` and ``make demo``, which passes ``POOL`` only when
#: given): the first pages of a class open at once on a 2-core box. For a class, the class size.
DEFAULT_POOL_SIZE = 4


def serve(port: int = 8866, pool_size: int = DEFAULT_POOL_SIZE) -> int:
    """Run Voila in the foreground until interrupted (Ctrl-C or SIGTERM); returns its exit status."""
    if not 0 < port < 65536:
        raise ValueError(f"port must be between 1 and 65535, got {port}")
    if pool_size < 0:
        raise ValueError(f"pool_size must be 0 or more, got {pool_size}")
    # SE_SERVE_IP: the address to listen on instead of voila.json's 127.0.0.1 (0.0.0.0 in a container
    # behind an ingress, deploy/kubernetes/voila.yaml).
    ip = os.environ.get("SE_SERVE_IP", "127.0.0.1")
    cmd, env = voila_command(port, pool_size, extra_args=[f"--Voila.ip={ip}"] if ip != "127.0.0.1" else []), \
        config_env()
    print(f"Scaling Explorer on http://{ip}:{port}/  (Ctrl-C to stop)", flush=True)
    print(capacity_rule(pool_size), flush=True)
    return run_until_signalled(cmd, env)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    with socket.socket() as s:
        s.settimeout(1.0)
        return s.connect_ex((host, port)) == 0


def kernel_processes(pid: int) -> list:
    """Kernel processes (``psutil.Process``) started by process ``pid`` (psutil comes with the test extra)."""
    import psutil

    out = []
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return out
    for child in children:
        try:
            if any("ipykernel_launcher" in part for part in child.cmdline()):
                out.append(child)
        except psutil.NoSuchProcess:  # ended meanwhile
            pass
    return out


class ManagedServer:
    """A server command on a free 127.0.0.1 port, run with :func:`config_env`, as a context manager.

    ``url`` once started; ``kernels()`` lists its kernel processes; leaving the ``with`` block stops
    it with SIGTERM (as ``scaling-explorer serve`` does on a signal).
    """

    ready_path = ""

    def __init__(self, cmd: list[str], port: int, log_path: Path | None = None, timeout: float = 60.0,
                 env: dict[str, str] | None = None, cwd: Path | None = None):
        self.port = port
        self.cmd = cmd
        self.url = f"http://127.0.0.1:{port}/"
        self.log_path = log_path
        self.timeout = timeout
        self.env = config_env(env)
        self.cwd = cwd
        self.process: subprocess.Popen | None = None
        self._log = None

    @property
    def command(self) -> str:
        """The command line, for printing."""
        return shlex.join(self.cmd)

    def __enter__(self):
        self._log = self.log_path.open("w") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(self.cmd, stdout=self._log, stderr=subprocess.STDOUT, env=self.env,
                                        cwd=self.cwd)
        deadline = time.monotonic() + self.timeout
        while True:
            try:  # a static file: answers without starting a kernel
                with urllib.request.urlopen(self.url + self.ready_path, timeout=2):
                    return self
            except urllib.error.HTTPError:
                return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.__exit__()
                    message = f"{self.cmd[2]} did not start within {self.timeout:g} s (log: {self.log_path})"
                    raise RuntimeError(message) from None
                time.sleep(0.3)

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log not in (None, subprocess.DEVNULL):
            self._log.close()

    def kernels(self) -> list:
        """The server's running kernel processes (``psutil.Process``)."""
        return kernel_processes(self.process.pid)


class VoilaServer(ManagedServer):
    """Voila run with :func:`voila_command` on a free port: for the browser tests and the benchmarks."""

    ready_path = "voila/static/voila.js"

    def __init__(self, pool_size: int = 0, notebook: Path = NOTEBOOK, log_path: Path | None = None,
                 timeout: float = 60.0, extra_args: Sequence[str] = ()):
        port = free_port()
        super().__init__(voila_command(port, pool_size=pool_size, notebook=notebook, extra_args=extra_args),
                         port, log_path=log_path, timeout=timeout)
