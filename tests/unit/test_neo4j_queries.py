"""What the Neo4j store sends, without a server: a `CollectingRunner` records every (cypher, parameters) pair.

Integration tests (tests/integration) run the same store against a real server; these check the query building:
values always travel as parameters, writes are batched, each regrouping is one transaction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ecosystem.domain.batch import ImportBatch
from ecosystem.domain.errors import QueryRejectedError
from ecosystem.domain.filters import NetworkFilter
from ecosystem.domain.models import Organisation, Participation, Project, Provenance
from ecosystem.store.entities import Plan
from ecosystem.store.neo4j import (
    PART_BATCH,
    SCHEMA,
    Neo4jStore,
    collaboration_changes,
    fold_participations,
)
from ecosystem.store.neo4j_runner import CollectingRunner
from ecosystem.store.pipeline import regroup
from ecosystem.store.sqlite import SQLiteStore

SOURCE = Provenance(source="test", licence="CC-BY-4.0")
COUNTS = ("organisations", "projects", "participations", "collaborations", "regions")


def empty_store_answers(cypher: str, parameters: dict[str, Any]) -> list[dict[str, Any]] | None:
    """What an empty Neo4j store answers to the reads an import makes."""
    if cypher.startswith("CALL () { MATCH (o:Organisation)"):
        return [dict.fromkeys(COUNTS, 0)]
    if "m.collaborations_dirty AS d" in cypher:
        return [{"d": False}]
    if "m.resolution_overrides AS o" in cypher:
        return [{"o": None}]
    if "RETURN collect([row.id, id(n)]) AS ids" in cypher:  # nodes created: internal ids 100, 101...
        return [{"ids": [[row["id"], 100 + i] for i, row in enumerate(parameters["rows"])]}]
    return None


def _store(answer: Any = empty_store_answers) -> tuple[Neo4jStore, CollectingRunner]:
    runner = CollectingRunner(answer=answer)
    store = Neo4jStore("bolt://test:7687", runner=runner)
    runner.sent.clear()  # the schema, checked on its own
    return store, runner


def _batch(n_orgs: int = 3) -> ImportBatch:
    orgs = [Organisation(id=f"9990000{i}", name=f"Org {i}'s \"lab\"", country="PL") for i in range(n_orgs)]
    projects = [Project(id="P1", acronym="ACRO", start_year=2020, end_year=2022)]
    parts = [Participation(project_id="P1", organisation_id=o.id, role="participant", ec_contribution=10.0 * i,
                           source=SOURCE) for i, o in enumerate(orgs)]
    return ImportBatch(label="test", organisations=orgs, projects=projects, participations=parts)


def _all_values(parameters: Any) -> list[Any]:
    if isinstance(parameters, dict):
        return [v for x in parameters.values() for v in _all_values(x)]
    if isinstance(parameters, list | tuple):
        return [v for x in parameters for v in _all_values(x)]
    return [parameters]


def test_opening_a_store_creates_the_schema_and_the_meta_node_through_the_runner() -> None:
    runner = CollectingRunner()
    Neo4jStore("bolt://test:7687", runner=runner)
    assert runner.queries()[:len(SCHEMA)] == SCHEMA
    assert runner.queries()[-1].startswith("MERGE (m:HelixmapMeta {key: 'meta'})")
    assert {s.mode for s in runner.sent} == {"write"}


def test_search_filters_travel_as_parameters_never_in_the_query_text() -> None:
    store, runner = _store(lambda cypher, p: [{"n": 0}] if "count(o) AS n" in cypher else [])
    store.search_organisations("Kraków' OR 1=1 //", helix="academia", country="pl", nuts="PL21",
                               urban_rural="urban", limit=5, offset=10)
    assert runner.sent, "nothing was sent"
    for sent in runner.sent:
        assert sent.mode == "read"
        for value in ("academia", "PL21", "'urban'", "Kraków", "OR 1=1"):
            assert value not in sent.cypher
        assert "$helix" in sent.cypher and "$nuts" in sent.cypher and "$q" in sent.cypher
        assert sent.parameters["helix"] == "academia" and sent.parameters["country"] == "PL"
    assert runner.sent[-1].parameters["limit"] == 5 and runner.sent[-1].parameters["offset"] == 10


def test_a_network_filter_is_sent_as_lists_of_parameters() -> None:
    store, runner = _store()
    store.organisations_for_network(NetworkFilter(helix=["industry"], country=["PL"], nuts=["PL9"]))
    (sent,) = runner.sent
    assert sent.parameters == {"helix": ["industry"], "countries": ["PL"], "nuts": ["PL9"]}
    assert "industry" not in sent.cypher and "PL9" not in sent.cypher


def test_researcher_cypher_is_refused_by_the_plan_neo4j_gives_before_it_runs() -> None:
    store, runner = _store()
    plans = {"CALL `dbms`.listConfig()": ({"operatorType": "ProduceResults@neo4j", "children": [
        {"operatorType": "ProcedureCall@neo4j", "args": {"Details": "dbms.listConfig() :: (name :: STRING)"}}]}, "s"),
             "LOAD /**/ CSV FROM 'file:///etc/passwd' AS line RETURN line": (
        {"operatorType": "ProduceResults@neo4j", "children": [{"operatorType": "LoadCSV@neo4j"}]}, "r")}
    runner.plan = plans.__getitem__
    with pytest.raises(QueryRejectedError, match="dbms.listConfig"):
        store.query("CALL `dbms`.listConfig()")
    with pytest.raises(QueryRejectedError, match="LOAD CSV"):
        store.query("LOAD /**/ CSV FROM 'file:///etc/passwd' AS line RETURN line")
    assert runner.sent == []


def test_researcher_cypher_runs_read_only_with_its_parameters_limit_and_cap() -> None:
    store, runner = _store(lambda cypher, p: [{"name": "x"}])
    answer = store.query("MATCH (o:Organisation {id: $id}) RETURN o.name AS name", {"id": "1"}, timeout_s=3,
                         max_rows=7)
    (sent,) = runner.sent
    assert sent.mode == "limited" and sent.parameters == {"id": "1"}
    assert answer == {"columns": ["name"], "rows": [["x"]], "truncated": False, "row_cap": 7, "timeout_s": 3}


def test_an_import_into_an_empty_store_creates_nodes_and_links_by_internal_id_with_parameters() -> None:
    store, runner = _store()
    batch = _batch()
    report = store.apply(batch)
    assert report.organisations == 3 and report.participations == 3 and report.changed > 0
    creates = [s for s in runner.sent if "CREATE (o)-[:PARTICIPATES_IN" in s.cypher]
    assert len(creates) == 1 and creates[0].mode == "batch"
    rows = creates[0].parameters["rows"]
    assert len(rows) == 3 and {r[1] for r in rows} == {100}  # the project's internal id, as created
    assert [r[2] for r in rows] == ["participant"] * 3
    collaborations = [s for s in runner.sent if "CREATE (x)-[:COLLABORATES_WITH" in s.cypher]
    assert len(collaborations) == 1 and collaborations[0].parameters["w"] == [1, 1, 1]
    assert runner.queries()[-1].startswith(
        "MATCH (m:HelixmapMeta {key: 'meta'}) SET m.data_version = m.data_version + 1, m.data_updated = ")
    values = {str(v) for s in runner.sent for v in _all_values(s.parameters)}
    for sent in runner.sent:  # no name, id or amount of the batch is written into a query's text
        for org in batch.organisations:
            assert org.id not in sent.cypher and org.name not in sent.cypher
    assert any("Org 1's \"lab\"" in v for v in values)


def test_participation_writes_are_batched_by_the_measured_size() -> None:
    store, runner = _store()
    n = PART_BATCH + 3
    orgs = [Organisation(id=f"O{i}", name=f"O{i}") for i in range(n)]
    parts = [Participation(project_id=f"P{i % 2}", organisation_id=o.id, source=SOURCE) for i, o in enumerate(orgs)]
    store.apply(ImportBatch(organisations=orgs, participations=parts))
    sizes = [len(s.parameters["rows"]) for s in runner.sent if "CREATE (o)-[:PARTICIPATES_IN" in s.cypher]
    assert sizes == [PART_BATCH, 3]


def test_each_regrouping_is_one_transaction() -> None:
    read_docs = "MATCH (n:Organisation {id: id}) RETURN collect(n.doc)"
    store, runner = _store(lambda cypher, p: [{"docs": [Organisation(id=i, name="A").model_dump_json()
                                                        for i in p["ids"]]}] if read_docs in cypher else [])
    regroup(store, Plan(dissolve=["G1"], form={"A1": ["A1", "A2"]}), regions_loaded=False)
    together = [s for s in runner.sent if s.mode == "together"]
    assert [s.cypher.split()[0] for s in together] == ["UNWIND", "MATCH", "MATCH", "UNWIND", "UNWIND", "UNWIND",
                                                       "UNWIND"]
    form = together[3:]
    assert form[0].parameters["rows"][1] == {"id": "A2", "canonical_id": "A1",
                                              "doc": Organisation(id="A2", name="A").model_dump_json()}
    assert form[1].parameters == {"rids": ["A2"], "c": "A1"}
    assert any("collaborations_dirty = true" in q for q in runner.queries("write"))


def test_a_participation_named_twice_keeps_the_stronger_role_and_the_last_amount() -> None:
    rows = [Participation(project_id="P", organisation_id="A", role="participant", ec_contribution=5.0,
                          source=SOURCE),
            Participation(project_id="P", organisation_id="A", role="coordinator", source=SOURCE),
            Participation(project_id="P", organisation_id="R", role="participant", ec_contribution=1.0,
                          source=SOURCE)]
    state = fold_participations(rows, {"R": "G"}, {})
    assert state[("P", "A", "")][:2] == ("coordinator", 5.0)
    assert ("P", "G", "R") in state  # a record merged into a group takes part through the group's node


def test_the_stored_projection_is_brought_in_line_by_its_difference_only() -> None:
    projection = [[1, 1, 2], [2, 3, 3], [2, 1, 1], [3.0, 1.0, 0.0], [2020, 2021, None], [2022, 2021, None]]
    stored = [(1, [[50, 2, 2, 3.0, 2020, 2022], [51, 2, 2, 3.0, 2020, 2022], [52, 4, 1, 0.0, None, None]]),
              (2, [[53, 3, 1, 9.0, None, None]])]
    new, updates, deletes = collaboration_changes(projection, stored)
    assert new == [[1], [3], [1], [1.0], [2021], [2021]]  # only (1, 3) is new
    assert updates == [[53, 1, 0.0, None, None]]  # (2, 3): funding changed
    assert sorted(deletes) == [51, 52]  # a duplicate of (1, 2), and (1, 4) vanished


def test_a_neo4j_store_closes_its_connection_on_leaving_a_with_block_on_error_too() -> None:
    runner = CollectingRunner()
    with pytest.raises(RuntimeError), Neo4jStore("bolt://test:7687", runner=runner) as store:
        assert store.uri == "bolt://test:7687"
        raise RuntimeError("boom")
    assert runner.closed


def test_an_sqlite_store_closes_its_file_on_leaving_a_with_block(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "s.db") as store:
        assert store.stats()["organisations"] == 0
    assert store._local.conn is None


def test_the_bulk_writer_runs_the_same_pipeline_and_keeps_its_rows_without_a_server() -> None:
    from ecosystem.store.neo4j_bulk import BulkWriter

    store, _ = _store()
    writer = BulkWriter()
    report = writer.apply(_batch())
    assert report.as_dict() == store.apply(_batch()).as_dict()  # what the Neo4j store reports for an empty store
    assert writer.bumped and [r["id"] for r in writer.nodes["Organisation"]] == [o.id for o in _batch().organisations]
    assert [(r[0], r[1], r[2]) for r in writer.participations] == [(0, 0, "participant"), (1, 0, "participant"),
                                                                  (2, 0, "participant")]  # positions in the files
    assert writer.projection is not None and writer.projection[2] == [1, 1, 1]
