"""The deployment files agree: jupyterhub_config.py (tested in a browser by test_hub.py), the
zero-to-jupyterhub values (not runnable here), and the settings every route reads (etc/jupyter)."""

import ast
import importlib.util

import pytest
import yaml
from conftest import IN_CI
from traitlets.config import PyFileConfigLoader

from scaling_explorer.serve import CONFIG_DIR, ROOT

# The hub extra is part of the test extra, so it is there under make test (and must be in CI).
if importlib.util.find_spec("jupyterhub") is None:
    if IN_CI:
        pytest.fail("CI must not skip: jupyterhub not installed", pytrace=False)
    pytest.skip("jupyterhub not installed (pip install -e '.[hub]')", allow_module_level=True)
from scaling_explorer.classroom import KERNEL_MESSAGE_TYPES, ClassroomAuthorizer  # noqa: E402

DEPLOY = ROOT / "deploy"


@pytest.fixture
def hub_config(tmp_path, monkeypatch):
    monkeypatch.setenv("SE_HUB_STATE", str(tmp_path / "state"))
    for name in ("SE_HUB_AUTH", "SE_HUB_IDLE_TIMEOUT", "SE_HUB_CULL_EVERY", "SE_HUB_POOL"):
        monkeypatch.delenv(name, raising=False)
    return PyFileConfigLoader("jupyterhub_config.py", str(DEPLOY)).load_config()


def test_local_hub_config(hub_config):
    c = hub_config
    assert c.JupyterHub.ip == c.JupyterHub.hub_ip == "127.0.0.1"
    assert c.JupyterHub.authenticator_class == "scaling_explorer.classroom.TemporaryAuthenticator"
    assert c.Spawner.default_url == "/voila/render/explorer.ipynb"
    assert (ROOT / "notebooks" / "explorer.ipynb").exists()
    assert c.Spawner.environment["JUPYTER_CONFIG_PATH"] == str(CONFIG_DIR)
    assert c.ConfigurableHTTPProxy.command[0].endswith("deploy/node_modules/.bin/configurable-http-proxy")
    culler = c.JupyterHub.services[0]["command"]
    assert "--timeout=1200" in culler and "--cull-users=True" in culler


def test_roster_mode_reads_the_roster(tmp_path, monkeypatch):
    roster = tmp_path / "roster.txt"
    roster.write_text("ada\ngrace\n")
    monkeypatch.setenv("SE_HUB_AUTH", "roster")
    monkeypatch.setenv("SE_HUB_ROSTER", str(roster))
    monkeypatch.setenv("SE_HUB_PASSWORD", "class-password")
    monkeypatch.setenv("SE_HUB_STATE", str(tmp_path / "state"))
    c = PyFileConfigLoader("jupyterhub_config.py", str(DEPLOY)).load_config()
    assert c.JupyterHub.authenticator_class == "dummy"
    assert c.Authenticator.allowed_users == {"ada", "grace"}
    assert c.DummyAuthenticator.password == "class-password"


def test_kubernetes_values_say_the_same(hub_config):
    values = yaml.safe_load((DEPLOY / "z2jh-values.yaml").read_text())
    c = hub_config
    single = values["singleuser"]
    assert single["defaultUrl"] == c.Spawner.default_url
    # The local run puts the checkout's etc/jupyter on the path; the image has the checkout in /home/jovyan.
    assert single["extraEnv"]["JUPYTER_CONFIG_PATH"] == "/home/jovyan/" + str(CONFIG_DIR.relative_to(ROOT))
    assert values["hub"]["config"]["KubeSpawner"]["notebook_dir"] == "/home/jovyan/notebooks"
    local_args = [a for a in c.Spawner.args if a != "--allow-root"]
    assert values["hub"]["config"]["KubeSpawner"]["args"] == local_args
    types = next(a for a in local_args if "allowed_message_types" in a).split("=", 1)[1]
    assert ast.literal_eval(types) == KERNEL_MESSAGE_TYPES
    assert single["memory"]["limit"] == c.Spawner.mem_limit
    assert single["cpu"]["limit"] == c.Spawner.cpu_limit
    culler = c.JupyterHub.services[0]["command"]
    assert f"--timeout={values['cull']['timeout']}" in culler
    assert f"--cull-every={values['cull']['every']}" in culler
    assert values["cull"]["users"] is True and values["hub"]["config"]["JupyterHub"]["shutdown_on_logout"] is True


@pytest.mark.parametrize(("action", "resource", "allowed"), [
    ("read", "contents", True), ("read", "kernels", True), ("execute", "kernels", True),
    ("write", "contents", False), ("write", "kernels", False), ("execute", "terminals", False),
    ("write", "server", False), ("write", "sessions", False), ("execute", "contents", False),
])
def test_classroom_authorizer(action, resource, allowed):
    assert ClassroomAuthorizer().is_authorized(None, None, action, resource) is allowed
