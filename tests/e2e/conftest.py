"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

import pytest

from tests import browser
from tests.conftest import require


@pytest.fixture(scope="module")
def chromium() -> str:
    """The headless Chromium the browser tests drive (a failure in CI when it is missing, a skip elsewhere)."""
    path = browser.find_chromium()
    require(path is not None, "headless Chromium not found: apt-get install chromium (or set HELIXMAP_CHROMIUM)")
    assert path is not None
    return path
