"""The deployment files agree: jupyterhub_config.py (tested in a browser by test_hub.py), the
zero-to-jupyterhub values (not runnable here), and the settings every route reads (etc/jupyter)."""

import ast
import asyncio
import importlib.util
import json
import os
from pathlib import Path

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
from scaling_explorer.classroom import (  # noqa: E402
    KERNEL_MESSAGE_TYPES,
    ClassroomAuthorizer,
    ClassroomContentsManager,
)

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
    assert c.Spawner.environment["JUPYTER_CONFIG_PATH"].split(os.pathsep) == [str(DEPLOY / "singleuser"),
                                                                              str(CONFIG_DIR)]
    # a Start button that POSTs, and a cap on live temporary accounts
    assert c.JupyterHub.template_paths == [str(DEPLOY / "templates")]
    assert c.TemporaryAuthenticator.max_accounts == 40
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
    paths = c.Spawner.environment["JUPYTER_CONFIG_PATH"].split(os.pathsep)
    assert single["extraEnv"]["JUPYTER_CONFIG_PATH"].split(":") == [
        "/home/jovyan/" + str(Path(p).relative_to(ROOT)) for p in paths]
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
    ("read", "contents", False), ("read", "nbconvert", False), ("read", "kernels", True), ("execute", "kernels", True),
    ("write", "contents", False), ("write", "kernels", False), ("execute", "terminals", False),
    ("write", "server", False), ("write", "sessions", False), ("execute", "contents", False),
])
def test_classroom_authorizer(action, resource, allowed):
    assert ClassroomAuthorizer().is_authorized(None, None, action, resource) is allowed


def test_visitor_servers_find_only_the_explorer_notebook(tmp_path):
    """Voila renders what the contents manager finds: another notebook or a solution is not there."""
    from tornado.web import HTTPError

    for name in ("explorer.ipynb", "01-kaplan-scaling-laws.ipynb"):
        (tmp_path / name).write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "answers.py").write_text("ANSWER = 42\n")
    manager = ClassroomContentsManager(root_dir=str(tmp_path))

    async def check():
        assert (await manager.get("explorer.ipynb"))["type"] == "notebook"
        assert [item["name"] for item in (await manager.get(""))["content"]] == ["explorer.ipynb"]
        for path in ("01-kaplan-scaling-laws.ipynb", "/solutions/answers.py", "solutions", "missing.ipynb"):
            with pytest.raises(HTTPError) as refused:
                await manager.get(path)
            assert refused.value.status_code == 404
        assert await manager.file_exists("explorer.ipynb")
        assert not await manager.file_exists("01-kaplan-scaling-laws.ipynb")
        assert not await manager.dir_exists("solutions")

    asyncio.run(check())


def test_visitor_servers_load_no_jupyterlab():
    """/lab is not there to open: the classroom servers' own configuration turns the Lab extensions off."""
    config = json.loads((DEPLOY / "singleuser" / "jupyter_server_config.json").read_text())
    assert config["ServerApp"]["jpserver_extensions"] == {"jupyterlab": False, "notebook": False, "nbclassic": False}


def test_the_login_page_posts_a_start_button():
    """A GET of /hub/login renders this form; only its POST (the Start button) signs a visitor in."""
    from scaling_explorer.classroom import TemporaryAuthenticator

    assert TemporaryAuthenticator().auto_login is False
    html = (DEPLOY / "templates" / "login.html").read_text()
    assert 'method="post"' in html and 'value="Start"' in html and 'name="_xsrf"' in html
    assert html.count("<form") == 1


class _Handler:
    """What TemporaryAuthenticator reads from JupyterHub's login handler: its database session."""

    def __init__(self, db):
        self.db = db


def _run(coroutine):
    """Run a coroutine that never suspends (``authenticate`` awaits nothing) without an event loop:
    asyncio.run would refuse where the browser tests' Playwright keeps a loop running in this thread."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise AssertionError("authenticate suspended")


@pytest.fixture
def hub_db():
    from jupyterhub import orm

    db = orm.new_session_factory("sqlite:///:memory:")()
    yield db
    db.close()


def test_temporary_accounts_are_capped(hub_db):
    from jupyterhub import orm
    from tornado.web import HTTPError

    from scaling_explorer.classroom import TemporaryAuthenticator

    auth = TemporaryAuthenticator(max_accounts=2)
    handler = _Handler(hub_db)
    names = []
    for _ in range(2):
        name = _run(auth.authenticate(handler, {}))["name"]
        names.append(name)
        hub_db.add(orm.User(name=name))  # what the hub does with a name it is given
        hub_db.commit()
    assert len(set(names)) == 2 and all(n.startswith("visitor-") for n in names)
    hub_db.add(orm.User(name="teacher"))  # other accounts do not count
    hub_db.commit()
    with pytest.raises(HTTPError) as full:
        _run(auth.authenticate(handler, {}))
    assert full.value.status_code == 503 and "class is full" in full.value.reason
    hub_db.delete(hub_db.query(orm.User).filter_by(name=names[0]).one())  # the culler removed one
    hub_db.commit()
    assert _run(auth.authenticate(handler, {}))["name"].startswith("visitor-")


# --- Kubernetes: the public page on N Voila replicas (deploy/kubernetes/voila.yaml); no cluster here ----
_NAME = {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"}
_LABELS = {"type": "object", "additionalProperties": {"type": "string"}, "minProperties": 1}
_META = {"type": "object", "required": ["name"], "properties": {"name": _NAME, "labels": _LABELS,
                                                                "annotations": {"type": "object"}}}
_PORT = {"type": "object", "required": ["containerPort"], "properties": {"containerPort": {"type": "integer"},
                                                                          "name": {"type": "string"}}}
_PROBE = {"type": "object", "required": ["httpGet"],
          "properties": {"httpGet": {"type": "object", "required": ["path", "port"]}}}
# The parts of the Kubernetes API schemas (apps/v1, v1, networking.k8s.io/v1, autoscaling/v2) these use.
K8S_SCHEMAS = {
    "Deployment": {"type": "object", "required": ["apiVersion", "kind", "metadata", "spec"], "properties": {
        "apiVersion": {"const": "apps/v1"}, "metadata": _META,
        "spec": {"type": "object", "required": ["selector", "template"], "properties": {
            "replicas": {"type": "integer", "minimum": 1},
            "selector": {"type": "object", "required": ["matchLabels"], "properties": {"matchLabels": _LABELS}},
            "template": {"type": "object", "required": ["metadata", "spec"], "properties": {
                "metadata": {"type": "object", "required": ["labels"], "properties": {"labels": _LABELS}},
                "spec": {"type": "object", "required": ["containers"], "properties": {
                    "containers": {"type": "array", "minItems": 1, "items": {
                        "type": "object", "required": ["name", "image", "ports", "resources"], "properties": {
                            "name": _NAME, "image": {"type": "string"},
                            "command": {"type": "array", "items": {"type": "string"}},
                            "ports": {"type": "array", "items": _PORT},
                            "resources": {"type": "object", "required": ["requests", "limits"]},
                            "readinessProbe": _PROBE, "livenessProbe": _PROBE}}}}}}}}}}},
    "Service": {"type": "object", "required": ["apiVersion", "kind", "metadata", "spec"], "properties": {
        "apiVersion": {"const": "v1"}, "metadata": _META,
        "spec": {"type": "object", "required": ["selector", "ports"], "properties": {
            "selector": _LABELS, "ports": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["port", "targetPort"]}}}}}},
    "Ingress": {"type": "object", "required": ["apiVersion", "kind", "metadata", "spec"], "properties": {
        "apiVersion": {"const": "networking.k8s.io/v1"}, "metadata": _META,
        "spec": {"type": "object", "required": ["rules"], "properties": {"rules": {"type": "array", "items": {
            "type": "object", "required": ["http"], "properties": {"http": {"type": "object", "required": ["paths"],
                "properties": {"paths": {"type": "array", "items": {
                    "type": "object", "required": ["path", "pathType", "backend"], "properties": {
                        "pathType": {"enum": ["Prefix", "Exact", "ImplementationSpecific"]},
                        "backend": {"type": "object", "required": ["service"]}}}}}}}}}}}}},
    "HorizontalPodAutoscaler": {"type": "object", "required": ["apiVersion", "kind", "metadata", "spec"],
                                "properties": {
        "apiVersion": {"const": "autoscaling/v2"}, "metadata": _META,
        "spec": {"type": "object", "required": ["scaleTargetRef", "maxReplicas", "metrics"], "properties": {
            "minReplicas": {"type": "integer", "minimum": 1}, "maxReplicas": {"type": "integer", "minimum": 1},
            "scaleTargetRef": {"type": "object", "required": ["apiVersion", "kind", "name"]},
            "metrics": {"type": "array", "minItems": 1}}}}},
}


@pytest.fixture(scope="module")
def k8s():
    docs = [d for d in yaml.safe_load_all((DEPLOY / "kubernetes" / "voila.yaml").read_text()) if d]
    return {d["kind"]: d for d in docs}


def test_kubernetes_manifests_follow_the_schemas(k8s):
    import jsonschema

    assert set(k8s) == set(K8S_SCHEMAS)
    for kind, doc in k8s.items():
        jsonschema.validate(doc, K8S_SCHEMAS[kind])
    with pytest.raises(jsonschema.ValidationError):  # the check can fail
        jsonschema.validate({**k8s["Service"], "apiVersion": "v2"}, K8S_SCHEMAS["Service"])


def test_kubernetes_pieces_fit_together(k8s):
    from scaling_explorer.serve import VoilaServer

    deployment, service, ingress, hpa = (k8s[k] for k in ("Deployment", "Service", "Ingress",
                                                           "HorizontalPodAutoscaler"))
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert service["spec"]["selector"].items() <= labels.items()
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    cmd = container["command"]
    assert cmd[:2] == ["scaling-explorer", "serve"]  # the settings of etc/jupyter, the pool and the cap
    port = int(cmd[cmd.index("--port") + 1])
    assert [p["containerPort"] for p in container["ports"]] == [port]
    assert {e["name"]: e["value"] for e in container["env"]}["SE_SERVE_IP"] == "0.0.0.0"
    assert container["readinessProbe"]["httpGet"]["path"] == "/" + VoilaServer.ready_path  # no kernel started
    target = {p["name"]: p for p in service["spec"]["ports"]}[container["ports"][0]["name"]]
    assert target["targetPort"] == container["ports"][0]["name"]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"] and backend["port"]["name"] == target["name"]
    notes = ingress["metadata"]["annotations"]
    # A page's kernel lives in one replica: the browser must come back to it.
    assert notes["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert int(notes["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600  # the kernel websocket
    ref = hpa["spec"]["scaleTargetRef"]
    assert (ref["kind"], ref["name"]) == ("Deployment", deployment["metadata"]["name"])
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert hpa["spec"]["minReplicas"] <= deployment["spec"]["replicas"] <= hpa["spec"]["maxReplicas"]
