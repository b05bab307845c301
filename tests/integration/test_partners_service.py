"""The partner finder's service over a real SQLite store: the index built once at server start, per data version."""

from __future__ import annotations

import asyncio
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from ecosystem.config import Settings
from ecosystem.services import partners
from ecosystem.services.cache import cache
from ecosystem.store.sqlite import SQLiteStore

UCPH = "999991043"  # KOBENHAVNS UNIVERSITET in the CORDIS sample


@pytest.fixture()
def store(sample_db: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "partners.db"
    shutil.copy(sample_db, path)
    opened = SQLiteStore(str(path))
    cache.clear()
    yield opened
    opened.close()
    cache.clear()


@pytest.fixture()
def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the real index builds (the real build still runs)."""
    counted: list[int] = []
    real = partners.build_recommender_index

    def counting(store: Any) -> Any:
        counted.append(1)
        return real(store)

    monkeypatch.setattr(partners, "build_recommender_index", counting)
    return counted


def test_the_server_builds_the_index_at_start_and_requests_reuse_it(store: SQLiteStore, builds: list[int]) -> None:
    app = create_app(Settings(store=store.uri), store=store)

    async def start_and_stop() -> None:
        async with app.router.lifespan_context(app):  # what uvicorn runs before it accepts a request
            assert len(builds) == 1  # the index is there before the server answers anything

    asyncio.run(start_and_stop())
    assert len(builds) == 1  # built by the start, before any request
    assert len(partners.recommendations(store, UCPH)["items"]) == 10
    partners.recommendations(store, UCPH, exclude_hubs=True)
    assert len(builds) == 1


def test_a_request_during_the_build_waits_for_it_instead_of_building_again(store: SQLiteStore,
                                                                            builds: list[int]) -> None:
    warming = threading.Thread(target=partners.warm, args=(store,))
    warming.start()
    answers = []
    askers = [threading.Thread(target=lambda: answers.append(partners.recommendations(store, UCPH, k=3)))
              for _ in range(3)]
    for t in askers:
        t.start()
    for t in (warming, *askers):
        t.join(timeout=120)
    assert len(builds) == 1
    assert len(answers) == 3 and all(a == answers[0] for a in answers)


def test_the_organisations_own_relations_are_never_suggested(store: SQLiteStore) -> None:
    from ecosystem.domain.batch import ImportBatch
    from ecosystem.domain.models import OrganisationRelation, Provenance

    first = partners.recommendations(store, UCPH, k=3)["items"][0]["id"]
    source = Provenance(source="test-relations", record=UCPH, licence="CC0")
    store.apply(ImportBatch(label="relations", relations=[
        OrganisationRelation(source_id=UCPH, target_id=first, kind="child", source=source)]))
    body = partners.recommendations(store, UCPH, k=20)
    assert first in body["excluded_relations"]
    assert first not in {i["id"] for i in body["items"]} and len(body["items"]) == 20


def test_the_command_line_leaves_hubs_out_and_says_where_it_cut(sample_db: Path) -> None:
    import os
    import subprocess

    from tests.conftest import helixmap_command

    env = {**os.environ, "HELIXMAP_STORE": f"sqlite:///{sample_db}"}
    done = subprocess.run([*helixmap_command(), "recommend", UCPH, "-k", "3", "--exclude-hubs"], env=env,
                          capture_output=True, text=True, timeout=600, check=True)
    assert "Hubs left out: the " in done.stdout and " or more partners (top 1%)" in done.stdout
    assert " 3. " in done.stdout
