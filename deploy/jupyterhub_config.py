"""JupyterHub for a class: ``make hub`` (or ``jupyterhub -f deploy/jupyterhub_config.py``) on 127.0.0.1.

Every visitor gets a temporary account by pressing Start (``SE_HUB_AUTH=temporary``, the default;
at most ``SE_HUB_MAX_ACCOUNTS``, 40, alive at once) or signs in from a
roster with the class password (``SE_HUB_AUTH=roster``, ``SE_HUB_ROSTER=names.txt`` one name a line,
``SE_HUB_PASSWORD=...``). Each visitor's server opens straight on the explorer page, reads the page
and kernel settings in ``etc/jupyter`` like every other route, and is read-only
(``scaling_explorer.classroom``). jupyterhub-idle-culler stops servers idle for ``SE_HUB_IDLE_TIMEOUT``
seconds (default 1200) and removes their temporary accounts; signing out stops the server at once.

The same settings for Kubernetes are in ``deploy/z2jh-values.yaml``. Environment variables (all optional):
``SE_HUB_PORT`` (8930), ``SE_HUB_API_PORT`` (8931), ``SE_HUB_PROXY_API_PORT`` (8932),
``SE_HUB_STATE`` (``deploy/state``: database, cookie secret, proxy pid),
``SE_HUB_IDLE_TIMEOUT`` / ``SE_HUB_CULL_EVERY`` (seconds), ``SE_HUB_POOL`` (preheated kernels per server, 0).
"""

import os
import sys
from pathlib import Path

from scaling_explorer.classroom import KERNEL_MESSAGE_TYPES

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
STATE = Path(os.environ.get("SE_HUB_STATE", HERE / "state"))
STATE.mkdir(parents=True, exist_ok=True)
IDLE_TIMEOUT = int(os.environ.get("SE_HUB_IDLE_TIMEOUT", "1200"))
CULL_EVERY = int(os.environ.get("SE_HUB_CULL_EVERY", "60"))

# --- network: 127.0.0.1 only (put a TLS reverse proxy in front for a public class) ---------------
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = int(os.environ.get("SE_HUB_PORT", "8930"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("SE_HUB_API_PORT", "8931"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ.get('SE_HUB_PROXY_API_PORT', '8932')}"
# configurable-http-proxy pinned in deploy/package.json (npm ci --prefix deploy), started by the hub.
c.ConfigurableHTTPProxy.command = [str(HERE / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.should_start = True
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")

# --- who may come in ---------------------------------------------------------------------------
if os.environ.get("SE_HUB_AUTH", "temporary") == "roster":
    roster = Path(os.environ["SE_HUB_ROSTER"]).read_text().split()
    c.JupyterHub.authenticator_class = "dummy"  # checks one shared password (the class password)
    c.DummyAuthenticator.password = os.environ["SE_HUB_PASSWORD"]
    c.Authenticator.allowed_users = set(roster)
else:
    c.JupyterHub.authenticator_class = "scaling_explorer.classroom.TemporaryAuthenticator"
    # A Start button that POSTs: a plain GET of /hub/login (a probe, a link preview) makes no account.
    c.JupyterHub.template_paths = [str(HERE / "templates")]
    # Accounts, like kernels on one Voila box, are capped at what the box holds (docs/deployment.md).
    c.TemporaryAuthenticator.max_accounts = int(os.environ.get("SE_HUB_MAX_ACCOUNTS", "40"))
c.JupyterHub.shutdown_on_logout = True  # signing out ends the visitor's server and its kernels

# --- each visitor's server ---------------------------------------------------------------------
# SimpleLocalProcessSpawner runs every server as the hub's own user (no system accounts needed),
# hence the read-only single-user servers below.
c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
c.SimpleLocalProcessSpawner.home_dir_template = str(STATE / "home" / "{username}")
c.Spawner.cmd = [str(BIN / "jupyterhub-singleuser")]
c.Spawner.notebook_dir = str(ROOT / "notebooks")
c.Spawner.default_url = "/voila/render/explorer.ipynb"  # straight onto the page
# deploy/singleuser first: no JupyterLab (or classic notebook) in a visitor's server, so /lab is not
# there to open; then the settings every route reads (etc/jupyter).
c.Spawner.environment = {"JUPYTER_CONFIG_PATH": os.pathsep.join([str(HERE / "singleuser"),
                                                                 str(ROOT / "etc" / "jupyter")]),
                         "JUPYTER_PATH": str(ROOT / "share" / "jupyter")}  # the page's offline Voila template
c.Spawner.args = [
    "--ServerApp.authorizer_class=scaling_explorer.classroom.ClassroomAuthorizer",
    # only the explorer page can be opened (Voila renders any notebook the contents manager finds)
    "--ServerApp.contents_manager_class=scaling_explorer.classroom.ClassroomContentsManager",
    f"--MappingKernelManager.allowed_message_types={KERNEL_MESSAGE_TYPES!r}",
    "--ServerApp.terminals_enabled=False",
]
if os.geteuid() == 0:
    c.Spawner.args.append("--allow-root")
if int(os.environ.get("SE_HUB_POOL", "0")) > 0:  # preheated kernels in every visitor's server
    c.Spawner.args += ["--VoilaConfiguration.preheat_kernel=True",
                       f"--VoilaConfiguration.default_pool_size={int(os.environ['SE_HUB_POOL'])}"]
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 90
# Limits per visitor: measured ~115 MiB USS (~160 MiB RSS) per page kernel plus ~100 MiB for the server, 0.02 CPU-s per
# slider step. The local spawner cannot enforce these (it passes them on as MEM_LIMIT / CPU_LIMIT
# only); Kubernetes does (z2jh-values.yaml), and so would jupyterhub-systemdspawner on a systemd host.
c.Spawner.mem_limit = "600M"
c.Spawner.cpu_limit = 1.0
c.JupyterHub.concurrent_spawn_limit = 100
c.JupyterHub.active_server_limit = 200

# --- idle culler: stop idle servers and delete their temporary accounts ------------------------
# The hub stops a service with SIGINT and waits 30 s before SIGTERM. A hub started where SIGINT is
# ignored (a background job of a script) passes that on, and the culler would then hold up every
# stop for 30 s: start it with Python's usual SIGINT handler.
CULLER = ("import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
          "from jupyterhub_idle_culler import main; main()")
c.JupyterHub.services = [{
    "name": "idle-culler",
    "command": [sys.executable, "-c", CULLER, f"--timeout={IDLE_TIMEOUT}",
                f"--cull-every={CULL_EVERY}", "--cull-users=True", "--remove-named-servers=True"],
}]
c.JupyterHub.load_roles = [{
    "name": "idle-culler",
    "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers", "admin:users"],
    "services": ["idle-culler"],
}]
# Servers report activity often enough for a culler checking every CULL_EVERY seconds.
c.JupyterHub.last_activity_interval = min(300, max(5, CULL_EVERY))
c.Spawner.environment["JUPYTERHUB_ACTIVITY_INTERVAL"] = str(min(300, max(5, CULL_EVERY)))
