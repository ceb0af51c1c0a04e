"""Shared fixtures: a Voila server for the browser tests, Chromium for Playwright."""

import os
import shutil
from pathlib import Path

import pytest

from scaling_explorer.serve import VoilaServer

pytest_plugins = ["browser_order"]

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def require(condition: bool, reason: str):
    """Skip when something optional is absent on a user's machine; fail in CI, where it must be there."""
    if not condition:
        if IN_CI:
            pytest.fail(f"CI must not skip: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    require(Path(CHROMIUM).exists() or shutil.which("chromium") is not None,
            f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": ["--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--disable-gpu"]}


@pytest.fixture(scope="session")
def voila_url(tmp_path_factory):
    with VoilaServer(log_path=tmp_path_factory.mktemp("voila") / "voila.log") as server:
        yield server.url


@pytest.fixture
def epoch_csv() -> Path:
    """Epoch's reconstructed Chinchilla runs (no licence: read from ../shared, never copied)."""
    path = SHARED_DATA / "epoch-chinchilla-figure4.csv"
    require(path.exists(), f"{path} absent: download data/svg_extracted_data.csv from "
                           "github.com/epoch-research/analyzing-chinchilla to run this test")
    return path


_PLAYWRIGHT_FIXTURES = {"page", "browser", "context", "browser_name"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Mark every test that drives Chromium ``browser``, before ``-m`` selects (``make test`` runs the
    browser tests as a session of their own); ``browser_order`` then runs them after the others."""
    for item in items:
        if _PLAYWRIGHT_FIXTURES & set(getattr(item, "fixturenames", ())) and not item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.browser)
