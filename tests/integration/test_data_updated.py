"""Both stores say when their data last changed (the pages' footer shows it in the reader's language)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from importers.cordis import read_cordis


def test_the_time_of_the_last_change_moves_with_the_data_version_only(any_store, data_dir: Path,
                                                                         tmp_path: Path) -> None:
    assert any_store.data_updated() is None or any_store.data_version() != "0"  # a new store has not changed
    src = data_dir / "cordis/h2020_organization_sample.csv"
    before = datetime.now(UTC).replace(microsecond=0)
    any_store.apply(read_cordis([src], cache_dir=tmp_path))
    stamp = any_store.data_updated()
    assert stamp and stamp.endswith("Z")
    when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert before - timedelta(seconds=1) <= when <= datetime.now(UTC) + timedelta(seconds=1)
    version = any_store.data_version()
    assert any_store.apply(read_cordis([src], cache_dir=tmp_path)).changed == 0
    assert any_store.data_updated() == stamp and any_store.data_version() == version  # nothing changed, same time
