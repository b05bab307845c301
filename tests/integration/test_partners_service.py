"""The partner finder's service over a real SQLite store: the index built once at server start, per data version."""

from __future__ import annotations

import asyncio
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
def store(sample_store: SQLiteStore) -> SQLiteStore:
    return sample_store


@pytest.fixture()
def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the real index builds (the real build still runs)."""
    counted: list[int] = []
    real = partners.build_recommender_index

    def counting(store: Any, *inputs: Any) -> Any:
        counted.append(1)
        return real(store, *inputs)

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


# -- partners for an idea ------------------------------------------------------------------------------------------

def _project_words(store: SQLiteStore) -> dict[str, set[str]]:
    from ecosystem.domain.text import fold

    return {pid: set(fold(" ".join(t for t in (acronym, title, *titles) if t)).split())
            for pid, acronym, title, titles in store.iter_project_texts()}


def _members(store: SQLiteStore, project_ids: set[str]) -> set[str]:
    return {oid for pid, oid, _role, _ec in store.iter_participations() if pid in project_ids}


def test_partners_for_a_call_topic_took_part_in_it_and_the_reasons_name_the_projects(store: SQLiteStore) -> None:
    topic_projects = {pid for pid, _y, topics, _part, _prog in store.iter_projects() if "ECSEL-2016-2" in topics}
    assert len(topic_projects) == 2  # Productive4.0 and SCOTT in the sample
    body = partners.partners_for_idea(store, topic="ecsel-2016-2", k=15)
    assert body["matched_projects"] == 2 and body["notes"] == []
    assert body["query"]["topic"] == "ecsel-2016-2" and body["query"]["k"] == 15
    assert len(body["items"]) == 15
    members = _members(store, topic_projects)
    for item in body["items"]:
        assert item["id"] in members
        assert set(item["reason_data"]["ids"]["projects"]) <= topic_projects
        assert "Productive4.0" in item["reasons"][0] or "SCOTT" in item["reasons"][0]
        assert item["components"]["team"] is None and 0 <= item["score"] <= 1
    both = [i for i in body["items"] if i["reason_data"]["counts"]["matching_projects"] == 2]
    assert both and body["items"][0]["reason_data"]["counts"]["matching_projects"] == 2


def test_keywords_match_project_titles_case_and_accents_folded(store: SQLiteStore) -> None:
    words = _project_words(store)
    with_sensor = {pid for pid, ws in words.items() if any(w.startswith("sensor") for w in ws)}
    assert len(with_sensor) >= 2
    body = partners.partners_for_idea(store, q="SÉNSORS", k=100)
    assert body["matched_projects"] == len({p for p, ws in words.items() if any(w.startswith("sensors") for w in ws)})
    assert body["items"] and {i["id"] for i in body["items"]} <= _members(store, with_sensor)


def test_the_team_is_excluded_and_weighs_in(store: SQLiteStore) -> None:
    alone = partners.partners_for_idea(store, topic="ECSEL-2016-2", k=30)
    lead = alone["items"][0]["id"]
    teamed = partners.partners_for_idea(store, topic="ECSEL-2016-2", exclude=[lead], k=30)
    assert teamed["query"]["exclude"] == [lead]
    assert lead not in {i["id"] for i in teamed["items"]}
    own_partners = {p["id"] for p in store.partners(lead, limit=10_000)}
    top = teamed["items"][0]
    assert top["id"] in own_partners and top["reason_data"]["ids"]["team_partners"] == [lead]
    assert top["components"]["team"] > 0
    name = store.organisation(lead)["name"]
    assert any(name in r for r in top["reasons"])


def test_bad_input_names_the_field_and_an_empty_match_is_a_note(store: SQLiteStore) -> None:
    from ecosystem.domain.errors import BadInputError

    for kwargs, field in (({}, "topic"), ({"q": "   "}, "topic"), ({"q": "x", "helix": "alien"}, "helix"),
                          ({"q": "x", "urban_rural": "town"}, "urban_rural"), ({"q": "x", "nuts": "??"}, "nuts"),
                          ({"q": "sensors", "exclude": ["no-such-org"]}, "exclude")):
        with pytest.raises(BadInputError) as err:
            partners.partners_for_idea(store, **kwargs)  # type: ignore[arg-type]
        assert err.value.field == field
    body = partners.partners_for_idea(store, programme="SC1")
    assert body["items"] == [] and body["matched_projects"] == 0 and "no programme parts" in body["notes"][0]


def test_the_idea_index_is_built_at_start_and_again_only_when_the_data_changes(store: SQLiteStore,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from ecosystem.domain.batch import ImportBatch
    from ecosystem.domain.models import Organisation, Provenance

    counted: list[int] = []
    real = partners.build_idea_index
    monkeypatch.setattr(partners, "build_idea_index", lambda s, *i: counted.append(1) or real(s, *i))
    partners.warm(store)
    assert counted == [1]
    partners.partners_for_idea(store, q="sensors")
    partners.partners_for_idea(store, topic="ECSEL-2016-2", exclude=[UCPH])
    assert counted == [1]
    source = Provenance(source="test-ideas", record="x", licence="CC0")
    store.apply(ImportBatch(label="one more", organisations=[Organisation(id="idea-new", name="New Org",
                                                                          sources=[source])]))
    partners.partners_for_idea(store, q="sensors")
    assert counted == [1, 1]


def test_the_start_reads_the_store_once_for_both_indexes(store: SQLiteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[int] = []
    real = partners.index_inputs
    monkeypatch.setattr(partners, "index_inputs", lambda s: reads.append(1) or real(s))
    partners.warm(store)
    assert reads == [1]
    assert cache.holds(store, ("recommender",)) and cache.holds(store, ("ideas",))
    partners.warm(store)  # warm already: nothing read again
    assert reads == [1]
