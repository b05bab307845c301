"""The programme parts and framework programmes a store holds, with their numbers of projects (the choices of
the page "partners for an idea"), over the real CORDIS files."""

from __future__ import annotations

import csv
import gzip
import json
import shutil
from collections import Counter, defaultdict
from pathlib import Path

from ecosystem.services.themes import programme_choices, project_names
from ecosystem.store.sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parents[2]


def test_parts_are_counted_per_project_even_when_a_project_is_in_several(store: SQLiteStore, data_dir: Path) -> None:
    from importers.table import read_table

    source = data_dir / "cordis/h2020_programme_parts.csv.gz"
    store.apply(read_table(source, ROOT / "examples/h2020_programme_parts.toml"))
    parts: dict[str, set[str]] = defaultdict(set)
    with gzip.open(source, "rt", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            parts[row["programme_part"]].add(row["rcn"])
    expected = sorted(((p, len(ids)) for p, ids in parts.items()), key=lambda kv: (-kv[1], kv[0]))
    choices = programme_choices(store)
    assert [(c["code"], c["projects"]) for c in choices["parts"]] == expected
    assert choices["programmes"] == []  # the parts file names no framework programme
    in_parts = sum(len(ids) for ids in parts.values())
    assert in_parts > len(set().union(*parts.values()))  # some projects are in several parts: counted in each


def test_framework_programmes_and_project_names_come_from_the_cordis_export(sample_db: Path, data_dir: Path,
                                                                          tmp_path: Path) -> None:
    path = tmp_path / "sample.db"
    shutil.copy(sample_db, path)
    store = SQLiteStore(path)
    try:
        choices = programme_choices(store)
        names = project_names(store)
    finally:
        store.close()
    records = json.loads((data_dir / "cordis/json/project.json").read_text(encoding="utf-8"))
    assert {c["code"]: c["projects"] for c in choices["programmes"]} == Counter(
        r["frameworkProgramme"] for r in records)
    assert {str(r["id"]): names.get(str(r["id"])) for r in records} == {str(r["id"]): r["acronym"] for r in records}


def test_the_server_start_computes_them_before_the_first_visit(sample_db: Path, tmp_path: Path) -> None:
    import asyncio
    import threading

    from api.app import create_app
    from ecosystem.config import Settings
    from ecosystem.services import startup
    from ecosystem.services.cache import cache

    path = tmp_path / "sample.db"
    shutil.copy(sample_db, path)
    store = SQLiteStore(path)
    cache.clear()
    try:
        app = create_app(Settings(store=store.uri), store=store)

        async def start_and_stop() -> None:
            async with app.router.lifespan_context(app):
                for thread in [t for t in threading.enumerate() if t.name == startup.BACKGROUND_THREAD]:
                    thread.join(timeout=300)  # the background steps are done: what the start made is still held

        asyncio.run(start_and_stop())
        assert cache.holds(store, ("programme-choices",)) and cache.holds(store, ("project-names",))
        assert cache.holds(store, ("recommender",))
    finally:
        store.close()
        cache.clear()
