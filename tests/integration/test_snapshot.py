"""An answer made of several reads sees one state of the store, even while an import commits beside it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from ecosystem.domain.batch import ImportBatch
from ecosystem.domain.models import Organisation, Participation, Project, Provenance
from ecosystem.store.sqlite import SQLiteStore

SOURCE = Provenance(source="test", licence="CC-BY-4.0")


def batch(tag: str, n: int) -> ImportBatch:
    orgs = [Organisation(id=f"{tag}{i}", name=f"Org {tag} {i}", country="PL") for i in range(n)]
    project = Project(id=f"P{tag}", acronym=f"A{tag}", start_year=2020, end_year=2022)
    parts = [Participation(project_id=project.id, organisation_id=o.id, role="participant", source=SOURCE)
             for o in orgs]
    return ImportBatch(label=tag, organisations=orgs, projects=[project], participations=parts)


def write_from_another_thread(path: Path, b: ImportBatch) -> None:
    """An import through its own store object, on its own thread (and so its own connection)."""
    def run() -> None:
        with SQLiteStore(path) as writer:
            writer.apply(b)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=120)
    assert not thread.is_alive()


def test_reads_inside_a_snapshot_do_not_see_a_commit_made_meanwhile(tmp_path: Path) -> None:
    path = tmp_path / "snap.db"
    with SQLiteStore(path) as store:
        store.apply(batch("a", 3))
        with store.snapshot():
            before = store.stats()
            write_from_another_thread(path, batch("b", 4))
            inside = store.stats()
            with store.snapshot():  # nests: still the same state
                assert store.stats() == before
        after = store.stats()
    assert inside == before and before["organisations"] == 3
    assert after["organisations"] == 7 and after["projects"] == 2


def test_a_snapshot_ends_with_the_block_even_when_it_raises(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "snap.db") as store:
        with pytest.raises(RuntimeError), store.snapshot():
            store.stats()
            raise RuntimeError("boom")
        store.apply(batch("c", 2))  # a write on the same connection: no read transaction left open
        assert store.stats()["organisations"] == 2


def test_the_services_and_the_stats_route_read_in_one_snapshot(tmp_path: Path) -> None:
    """organisation_profile and region_profile run inside `snapshot()` (seen as an open read transaction)."""
    from ecosystem.services import organisations

    path = tmp_path / "snap.db"
    with SQLiteStore(path) as store:
        store.apply(batch("d", 2))
        seen: list[bool] = []
        original = store.organisation_projects

        def spy(org_id: str) -> list[dict]:
            seen.append(store._conn().in_transaction)
            return original(org_id)

        store.organisation_projects = spy  # type: ignore[method-assign]
        organisations.organisation_profile(store, "d0")
    assert seen == [True]


@pytest.mark.neo4j
def test_on_neo4j_the_reads_of_a_snapshot_share_one_read_transaction(neo4j_store) -> None:  # type: ignore[no-untyped-def]
    neo4j_store.apply(batch("n", 3))
    runner = neo4j_store._runner
    with neo4j_store.snapshot():
        tx = runner._snapshot.tx
        assert tx is not None
        first = neo4j_store.stats()
        with neo4j_store.snapshot():  # nests: the same transaction
            assert runner._snapshot.tx is tx
            assert neo4j_store.organisation("n0")["name"] == "Org n 0"
        assert neo4j_store.stats() == first and first["organisations"] == 3
    assert getattr(runner._snapshot, "tx", None) is None
