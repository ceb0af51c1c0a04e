"""Run every test marked ``browser`` after the others (a plugin of the test session, see conftest)."""

import pytest


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Browser tests last, after every other plugin has ordered the items.

    Playwright's sync API keeps an event loop running in the main thread once it starts, so a later
    test that calls ``asyncio.run`` (the fit panel's background fit, the notebook runs) would fail;
    and pytest groups tests by Playwright's session-scoped parameters wherever they first appear. A
    stable sort keeps the rest in their order.
    """
    items.sort(key=lambda item: bool(item.get_closest_marker("browser")))
