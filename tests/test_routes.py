"""Every route reads the settings in ``etc/jupyter``: here the Voila server extension under ``jupyter server``.

``/voila/render/...`` on a Jupyter server (what JupyterLab, Binder and JupyterHub's single-user servers
serve) must strip the sources and hide tracebacks exactly like ``scaling-explorer serve`` does. Voila's
defaults already strip sources, so the server also gets a user configuration (``JUPYTER_CONFIG_DIR``)
with ``jupyter_server_config.json`` asking for the opposite: the page only passes if the repository's
files are read and win.
"""

import json
import os
import shutil
import sys

import nbformat
import pytest
from playwright.sync_api import expect

from scaling_explorer.serve import CONFIG_DIR, NOTEBOOK, ManagedServer, free_port

pytestmark = pytest.mark.browser

SECRET = "forced-failure-7d1f"  # in the failing cell's source and its exception message
HOSTILE_PAGE = {"strip_sources": False, "show_tracebacks": True}


class JupyterServer(ManagedServer):
    ready_path = "api/status"

    def __init__(self, root_dir, log_path, env):
        port = free_port()
        cmd = [sys.executable, "-m", "jupyter", "server", "--no-browser", f"--port={port}",
               "--ServerApp.ip=127.0.0.1", "--ServerApp.root_dir=" + str(root_dir), "--IdentityProvider.token=",
               "--ServerApp.allow_root=True", "--ServerApp.port_retries=0"]
        super().__init__(cmd, port, log_path=log_path, env=env)


@pytest.fixture(scope="module")
def jupyter_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("root")
    shutil.copy(NOTEBOOK, root / "explorer.ipynb")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("A page whose second cell fails."),
                nbformat.v4.new_code_cell("print('first cell ran')"),
                nbformat.v4.new_code_cell(f"raise RuntimeError('{SECRET}')")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / "broken.ipynb")
    # What a lecturer's ~/.jupyter might say. (Not in a voila.json: Voila's server extension lets a
    # voila.json later on the search path win, so ~/.jupyter/voila.json would override ours; see README.)
    user = tmp_path_factory.mktemp("user-config")
    (user / "jupyter_server_config.json").write_text(json.dumps(
        {"VoilaConfiguration": HOSTILE_PAGE, "MappingKernelManager": {"cull_idle_timeout": 0}}))
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(user)}
    with JupyterServer(root, tmp_path_factory.mktemp("log") / "server.log", env) as server:
        yield server


def test_settings_files_agree():
    """The kernel culling settings are written in both files (voila reads one, jupyter server the other).

    Only standalone Voila turns the XSRF check off (voila#1458: it sets no ``_xsrf`` cookie, so the
    page-close shutdown cannot carry a token). A Jupyter server keeps its check: behind JupyterHub the
    page sends the hub's ``_xsrf`` cookie and the shutdown passes (test_hub.py); on a bare Jupyter
    server (Binder) a closed page's kernel is culled after 120 s instead (README, "Deployment").
    """
    voila = json.loads((CONFIG_DIR / "voila.json").read_text())
    server = json.loads((CONFIG_DIR / "jupyter_server_config.json").read_text())
    assert voila["MappingKernelManager"] == server["MappingKernelManager"]
    assert voila["Voila"]["tornado_settings"]["disable_check_xsrf"] is True
    assert "disable_check_xsrf" not in json.dumps(server)
    assert voila["VoilaConfiguration"] == {"strip_sources": True, "show_tracebacks": False,
                                           "template": "scaling-explorer",
                                           "multi_kernel_manager_class": "scaling_explorer.kernels.ClassKernelManager"}
    # the cap on kernels (voila#617) is set, and the capacity rule printed at start reads the same file
    from scaling_explorer.serve import max_kernels

    assert voila["ClassKernelManager"]["max_kernels"] == max_kernels() > 0


def test_page_on_the_server_route_has_no_sources(page, jupyter_server):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(jupyter_server.url + "voila/render/explorer.ipynb", timeout=90_000, wait_until="domcontentloaded")
    expect(page.locator(".se-app")).to_be_visible(timeout=90_000)
    expect(page.locator(".noUi-handle").first).to_be_visible(timeout=30_000)
    assert page.locator(".jp-InputArea, .jp-InputPrompt, .CodeMirror, .cm-editor").count() == 0
    assert "from scaling_explorer.app import" not in page.content()  # the notebook's source
    assert "cdn.jsdelivr" not in page.content()  # the offline template is in use on this route too
    # The kernel settings too: jupyter server logs them when its first kernel starts the culler.
    log = jupyter_server.log_path.read_text()
    assert "Culling kernels with idle durations > 120 seconds at 30 second intervals" in log, log[-2000:]


def test_forced_error_shows_no_traceback(page, jupyter_server):
    page.goto(jupyter_server.url + "voila/render/broken.ipynb", timeout=90_000, wait_until="domcontentloaded")
    body = page.locator("body")
    expect(body).to_contain_text("first cell ran", timeout=90_000)
    expect(body).to_contain_text("There was an error when executing cell", timeout=30_000)
    text, html = body.inner_text(), page.content()
    assert "Traceback" not in text and "RuntimeError" not in text
    assert SECRET not in html, "the failing cell's source or message reached the page"
