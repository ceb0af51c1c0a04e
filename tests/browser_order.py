"""Run every test marked ``browser`` after the others, those marked ``waits`` first among them (a plugin of
the test session, see conftest)."""

from collections import Counter

import pytest


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Browser tests last, after every other plugin has ordered the items.

    Playwright's sync API keeps an event loop running in the main thread once it starts, so a later
    test that calls ``asyncio.run`` (the fit panel's background fit, the notebook runs) would fail;
    and pytest groups tests by Playwright's session-scoped parameters wherever they first appear.

    Among the browser tests, a file with a test marked ``waits`` (it mostly waits on a clock, as the hub's
    idle culler) comes first, so its wait overlaps the others' work; then files with more tests. ``make
    test`` hands them to its workers a file at a time in this order (``--no-loadscope-reorder``). A stable
    sort keeps each file's tests in their order.
    """
    browser = {item: bool(item.get_closest_marker("browser")) for item in items}
    per_file = Counter(item.path for item in items if browser[item])
    waits = {item.path for item in items if browser[item] and item.get_closest_marker("waits")}
    items.sort(key=lambda item: (browser[item], item.path not in waits, -per_file[item.path]) if browser[item]
               else (False,))
