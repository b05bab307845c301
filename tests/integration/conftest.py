"""Fixtures of the integration tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecosystem.services.cache import cache
from ecosystem.store.sqlite import SQLiteStore


@pytest.fixture()
def sample_store(sample_db: Path, tmp_path: Path) -> Iterator[SQLiteStore]:
    """A private copy of the CORDIS sample store, opened; the services' cache empty before and after."""
    path = tmp_path / "sample-copy.db"
    shutil.copy(sample_db, path)
    opened = SQLiteStore(str(path))
    cache.clear()
    yield opened
    opened.close()
    cache.clear()
