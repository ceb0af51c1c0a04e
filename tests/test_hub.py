"""The class deployment: ``deploy/jupyterhub_config.py`` on 127.0.0.1 with the local process spawner.

Two visitors sign in (temporary accounts), each lands on their own page at
``/user/<name>/voila/render/explorer.ipynb``, a slider step works for both, their servers are
read-only, and signing out (visitor 1) or the idle culler (visitor 2, whose browser context is killed)
ends their servers and kernels. Short cull times (60 s, every 5 s) keep it quick.
"""

import contextlib
import importlib.util
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from browser_helpers import shoot
from conftest import require
from playwright.sync_api import expect

from scaling_explorer.serve import ROOT, free_port, port_open

pytestmark = pytest.mark.browser

DEPLOY = ROOT / "deploy"
PROXY = DEPLOY / "node_modules" / ".bin" / "configurable-http-proxy"
PAGE = re.compile(r"/user/(visitor-[0-9a-f]{6})/voila/render/explorer\.ipynb")
# The culler's idle time must outlast the slowest sign-in on a loaded box (a server start took 18 s
# here at load 8): the first visitor's page waits, idle, for the second one's.
IDLE, EVERY = 60, 5


def _servers(hub: subprocess.Popen) -> dict[str, psutil.Process]:
    """Single-user servers started by the hub, by user name."""
    out = {}
    for child in psutil.Process(hub.pid).children(recursive=True):
        try:
            if any("jupyterhub-singleuser" in part for part in child.cmdline()):
                out[child.environ().get("JUPYTERHUB_USER", "?")] = child
        except psutil.NoSuchProcess:
            pass
    return out


def _gone(proc: psutil.Process) -> bool:
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.5)
    return predicate()


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    require(importlib.util.find_spec("jupyterhub") is not None, "jupyterhub not installed (pip install -e '.[hub]')")
    require(PROXY.exists(), f"{PROXY} missing: run `npm ci --prefix deploy` (make does)")
    state = tmp_path_factory.mktemp("hub")
    port = free_port()
    env = {**os.environ, "SE_HUB_STATE": str(state), "SE_HUB_PORT": str(port), "SE_HUB_API_PORT": str(free_port()),
           "SE_HUB_PROXY_API_PORT": str(free_port()), "SE_HUB_IDLE_TIMEOUT": str(IDLE), "SE_HUB_CULL_EVERY": str(EVERY)}
    log = (state / "hub.log").open("w")
    cmd = [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(DEPLOY / "jupyterhub_config.py")]
    proc = subprocess.Popen(cmd, cwd=state, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        ok = _wait(lambda: proc.poll() is not None or _answers(url + "hub/api"), 60)
        assert ok and proc.poll() is None, f"the hub did not start: {(state / 'hub.log').read_text()[-3000:]}"
        yield proc, url, state / "hub.log"
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        assert not port_open(port), "the hub's proxy still answers after the hub stopped"


def _answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


def _start(context, url):
    """Open the login page and press Start (the POST that makes the account); the server then starts."""
    page = context.new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(url + "hub/login", timeout=120_000)
    page.get_by_role("button", name="Start").click()
    return page


def _sign_in(context, url):
    page = _start(context, url)
    page.wait_for_url(PAGE, timeout=120_000)
    return page


def _accounts(state: Path) -> int:
    """Users in the hub's database."""
    with contextlib.closing(sqlite3.connect(state / "jupyterhub.sqlite")) as db:
        return db.execute("select count(*) from users").fetchone()[0]


def test_a_plain_get_of_the_login_page_creates_no_account(hub):
    """A readiness probe, a link previewer or a monitor GETs /hub/login: no account, no server."""
    proc, url, log = hub
    before = _accounts(log.parent)
    for _ in range(5):
        with urllib.request.urlopen(url + "hub/login", timeout=30) as r:
            body = r.read().decode()
            assert r.status == 200 and 'value="Start"' in body
    with urllib.request.urlopen(url, timeout=30) as r:  # the root redirects to the login page
        assert r.status == 200
    assert _accounts(log.parent) == before, "a GET created an account"
    assert not _servers(proc)


@pytest.mark.waits
def test_two_visitors_each_get_their_own_page(browser, hub, output_path):
    proc, url, log = hub
    first, second = browser.new_context(), browser.new_context()
    try:
        pages = [_start(first, url), _start(second, url)]  # both servers start together
        for page in pages:
            page.wait_for_url(PAGE, timeout=120_000)
        names = [PAGE.search(p.url).group(1) for p in pages]
        assert names[0] != names[1], "two visitors were given the same account"
        for page in pages:
            expect(page.locator(".se-app")).to_be_visible(timeout=120_000)
            expect(page.locator(".noUi-handle").first).to_be_visible(timeout=30_000)
        for page in pages:  # one step of the compute slider: 10**(log10(5.76e23) + 0.05)
            page.locator(".noUi-handle").first.focus()
            page.keyboard.press("ArrowRight")
        for page in pages:
            expect(page.locator(".se-budget")).to_contain_text("6.46e23", timeout=30_000)
        shoot(pages[0], str(output_path) + "-hub.png", full_page=True)  # when SE_SCREENSHOTS asks
        servers = _servers(proc)
        assert set(names) <= set(servers), f"servers {sorted(servers)} for visitors {names}"
        # A visitor cannot open another visitor's server.
        other = pages[1].request.get(f"{url}user/{names[0]}/api/status", max_redirects=0)
        assert other.status in (302, 403), other.status
        # Visitor 2's browser vanishes now, so the culler's idle clock runs while visitor 1 is checked.
        culled_kernels = servers[names[1]].children(recursive=True)
        second.close()

        # Read-only servers: no file written, no kernel started through the API, no terminal. The
        # requests carry the XSRF token, so a 403 comes from the classroom authorizer.
        api = f"{url}user/{names[0]}/api/"
        xsrf = next(k["value"] for k in first.cookies() if k["name"] == "_xsrf")
        headers = {"X-XSRFToken": xsrf}
        # The notebooks (solutions among them) cannot be read, and there is no Lab to open.
        assert pages[0].request.get(api + "contents", headers=headers).status == 403
        assert pages[0].request.get(api + "contents/solutions", headers=headers).status == 403
        assert pages[0].request.get(f"{url}user/{names[0]}/lab", max_redirects=0).status == 404
        # Voila renders only the explorer page: not a teaching notebook's outputs, nor lists them.
        voila = f"{url}user/{names[0]}/voila/"
        assert pages[0].request.get(voila + "render/01-kaplan-scaling-laws.ipynb", max_redirects=0).status == 404
        assert "01-kaplan" not in pages[0].request.get(voila + "tree", max_redirects=0).text()
        response = pages[0].request.post(api + "contents", data={"type": "notebook"}, headers=headers)
        assert response.status == 403, response.status
        assert pages[0].request.post(api + "kernels", data={"name": "python3"}, headers=headers).status == 403
        assert pages[0].request.post(api + "terminals", headers=headers).status in (403, 404)
        # A second tab closed normally shuts its kernel down (voila#1458 workaround, through the hub).
        kernels = servers[names[0]].children(recursive=True)
        assert len(kernels) == 1, f"{len(kernels)} kernels under the first visitor's server"
        tab = first.new_page()
        tab.goto(pages[0].url, timeout=120_000, wait_until="commit")
        expect(tab.locator(".se-app")).to_be_visible(timeout=120_000)
        assert _wait(lambda: len(servers[names[0]].children(recursive=True)) == 2, 30)
        tab.close(run_before_unload=True)
        assert _wait(lambda: len(servers[names[0]].children(recursive=True)) == 1, 20), (
            "closing a tab left its kernel running: the page-close shutdown is refused on the hub route")

        # Visitor 1 signs out: the server (and its kernels) end at once.
        pages[0].goto(url + "hub/logout")
        assert _wait(lambda: _gone(servers[names[0]]) and all(_gone(k) for k in kernels), 30), (
            "signing out did not end the first visitor's server")

        # Visitor 2's vanished browser: the idle culler ends the server and removes the account.
        assert _wait(lambda: _gone(servers[names[1]]) and all(_gone(k) for k in culled_kernels),
                     IDLE + 6 * EVERY + 30), (
            "the idle culler did not end the second visitor's server")
        assert _wait(lambda: f"Deleting user {names[1]}" in log.read_text() or "Culling user" in log.read_text(),
                     2 * EVERY + 10)
        assert proc.poll() is None
    finally:
        first.close()
        second.close()
