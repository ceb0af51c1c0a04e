"""Serve ``notebooks/explorer.ipynb`` with Voila; the deployment settings live here, in the repo."""

from __future__ import annotations

import subprocess
import sys
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
        cmd += ["--preheat_kernel=True", f"--pool_size={pool_size}"]
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
