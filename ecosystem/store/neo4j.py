"""The server store: Neo4j 5 through the official driver.

Graph model::

    (:Organisation)-[:PARTICIPATES_IN {role, ec_contribution, source}]->(:Project)
    (:Organisation)-[:LOCATED_IN]->(:Region)-[:PART_OF]->(:Region)
    (:Organisation)-[:COLLABORATES_WITH {weight, funding, first_year, last_year}]-(:Organisation)

plus lookup nodes for locating organisations (:Municipality, :Postcode, :NutsConversion) and one
(:HelixmapMeta) node holding the data version. Writes are batched `UNWIND` in managed transactions
(retried on transient errors by the driver); every query names its database and routes reads as reads;
values always travel as parameters.

A Neo4j import is written in batches, not one transaction, so it scales. What is already stored is read
first (skipped for a label the count store says is empty), so records known to be new are CREATEd and
relationships are written by internal node id (an id seek, not an index seek); records that changed are
MERGEd or SET; unchanged ones are not written at all. The COLLABORATES_WITH projection is computed in
Python (numpy) and only its difference from what is stored is written. Imports are idempotent, and a
`collaborations_dirty` flag, set before anything the projection depends on is written and cleared once
the projection is rebuilt, makes a re-run after an interruption finish the job: the same import twice
equals one clean import.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from types import TracebackType
from typing import Any, Self

from ecosystem.domain.batch import ImportBatch, ImportReport
from ecosystem.domain.errors import (
    NotSupportedError,
    StoreUnavailableError,
)
from ecosystem.domain.filters import NetworkFilter
from ecosystem.domain.location import (
    LocationResolver,
    NutsConversion,
    NutsVersions,
    RegionShape,
    normalise_postcode,
)
from ecosystem.domain.merge import stronger_role
from ecosystem.domain.models import (
    HELICES,
    URBAN_RURAL,
    Municipality,
    Organisation,
    OrganisationRelation,
    Place,
    Project,
    Region,
)
from ecosystem.domain.municipalities import MunicipalityMatcher
from ecosystem.domain.nuts import COUNTRY_ALIASES, nuts_prefix
from ecosystem.domain.resolution import Overrides
from ecosystem.store.common import (
    fts_query,
    merge_regions,
    name_index_text,
    unlocated_reason,
)
from ecosystem.store.cypher_guard import check_plan
from ecosystem.store.entities import (
    Plan,
    override_ids,
    overrides_from_json,
    overrides_to_json,
    worth_resolving,
)
from ecosystem.store.neo4j_runner import BoltRunner, QueryRunner, Statement
from ecosystem.store.pipeline import (
    Held,
    ParticipationKey,
    Participations,
    ParticipationState,
    RunsImportPipeline,
    fold_participations,
    merge_projects,
)

__all__ = ["Neo4jStore", "collaboration_changes", "fold_participations", "merge_projects"]

# Rows per transaction, measured on the full H2020 table (2-core machine, Neo4j 5.26, 2g heap / 2g page cache;
# `bench/import_neo4j.py --sweep` and the side experiments noted in its docstring). Relationship writes are
# fastest at about 5,000 per transaction: PARTICIPATES_IN 33k/s at 5k against 27-29k/s at 2k, 25-31k/s at 10k,
# 25k/s at 20k and 20-25k/s at 50k; COLLABORATES_WITH (median of 3) 30k/s at 5k, 26k/s at 2k, 28k/s at 10k,
# 21k/s at 20k, 24k/s at 50k. Creating organisations showed no difference between 2k and 20k (7-10k nodes/s).
# A second concurrent writer gave nothing (the server's one busy core is the limit), so it stays at one.
BATCH = 10_000  # lookup nodes (regions, municipalities, postcodes) per MERGE transaction
LOOKUP_BATCH = 20_000  # keys per read of stored records
NODE_BATCH = 10_000  # organisations / projects created per transaction
PART_BATCH = 5_000  # PARTICIPATES_IN per transaction
COLLAB_BATCH = 5_000  # COLLABORATES_WITH per transaction
COLLAB_WRITERS = 1  # concurrent sessions writing COLLABORATES_WITH

SCHEMA = [
    "CREATE CONSTRAINT organisation_id IF NOT EXISTS FOR (o:Organisation) REQUIRE o.id IS UNIQUE",
    "CREATE CONSTRAINT project_id IF NOT EXISTS FOR (p:Project) REQUIRE p.id IS UNIQUE",
    "CREATE CONSTRAINT region_id IF NOT EXISTS FOR (r:Region) REQUIRE r.nuts_id IS UNIQUE",
    "CREATE CONSTRAINT municipality_key IF NOT EXISTS FOR (m:Municipality) REQUIRE m.key IS UNIQUE",
    "CREATE CONSTRAINT postcode_key IF NOT EXISTS FOR (p:Postcode) REQUIRE p.key IS UNIQUE",
    "CREATE CONSTRAINT conversion_key IF NOT EXISTS FOR (c:NutsConversion) REQUIRE c.key IS UNIQUE",
    "CREATE CONSTRAINT place_key IF NOT EXISTS FOR (p:Place) REQUIRE p.key IS UNIQUE",
    "CREATE CONSTRAINT org_relation_key IF NOT EXISTS FOR (r:OrgRelation) REQUIRE r.key IS UNIQUE",
    "CREATE INDEX org_relation_source IF NOT EXISTS FOR (r:OrgRelation) ON (r.source_id)",
    "CREATE CONSTRAINT org_record_id IF NOT EXISTS FOR (r:OrgRecord) REQUIRE r.id IS UNIQUE",
    "CREATE INDEX org_record_canonical IF NOT EXISTS FOR (r:OrgRecord) ON (r.canonical_id)",
    "CREATE CONSTRAINT meta_key IF NOT EXISTS FOR (m:HelixmapMeta) REQUIRE m.key IS UNIQUE",
    "CREATE INDEX organisation_helix IF NOT EXISTS FOR (o:Organisation) ON (o.helix)",
    "CREATE INDEX organisation_country IF NOT EXISTS FOR (o:Organisation) ON (o.country)",
    "CREATE INDEX organisation_nuts3 IF NOT EXISTS FOR (o:Organisation) ON (o.nuts3)",
    "CREATE INDEX organisation_urban_rural IF NOT EXISTS FOR (o:Organisation) ON (o.urban_rural)",
    "CREATE INDEX project_start_year IF NOT EXISTS FOR (p:Project) ON (p.start_year)",
    "CREATE INDEX region_country IF NOT EXISTS FOR (r:Region) ON (r.country)",
    "CREATE FULLTEXT INDEX organisation_names IF NOT EXISTS FOR (o:Organisation) ON EACH [o.name_text]",
]

# write organisations that may already be stored, moving their LOCATED_IN link with them
SAVE_ORGS = (
    "UNWIND $rows AS row MERGE (o:Organisation {id: row.id}) SET o.name = row.name, o.country = row.country, "
    "o.helix = row.helix, o.helix_confidence = row.helix_confidence, o.nuts3 = row.nuts3, "
    "o.urban_rural = row.urban_rural, o.degurba = row.degurba, o.lat = row.lat, o.lon = row.lon, "
    "o.city = row.city, o.name_text = row.name_text, o.doc = row.doc, o.resolvable = row.resolvable, "
    "o.grouped = row.grouped "
    "WITH o, row OPTIONAL MATCH (o)-[old:LOCATED_IN]->(r:Region) WHERE r.nuts_id <> row.nuts3 "
    "DELETE old WITH DISTINCT o, row WHERE row.nuts3 IS NOT NULL "
    "MATCH (r:Region {nuts_id: row.nuts3}) MERGE (o)-[:LOCATED_IN]->(r)")


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _collaborations(members: list[tuple[Any, ...]]) -> list[list[Any]]:
    """The organisation-organisation projection of participations, as columns to write.

    `members` holds (project id, organisation id, organisation internal id, EC contribution, start year, end
    year), one per participation. Each pair (a, b) with a.id < b.id gets the internal ids of a and b, the shared
    projects, the summed contributions of both, the first start year and the last end year (the start year when
    there is no end): the same numbers as the SQLite store. Returns six equally long lists, one per field.
    Vectorised with numpy (a million pair instances: a fraction of a second, where a Python loop takes seconds).
    Sums run in a fixed order (projects, then organisations, by id), so computing twice gives the same floats and
    an unchanged graph compares as unchanged.
    """
    import numpy as np

    if not members:
        return [[] for _ in range(6)]
    members = _one_member_per_node(members)
    pids, oids, internal_ids, ecs, starts, ends = zip(*members, strict=True)
    keys = sorted(set(oids))
    ordinal = {k: i for i, k in enumerate(keys)}  # ordinal order is id order
    project_ordinal = {k: i for i, k in enumerate(sorted(set(pids)))}
    n = len(members)
    org = np.fromiter(map(ordinal.__getitem__, oids), dtype=np.int64, count=n)
    project = np.fromiter(map(project_ordinal.__getitem__, pids), dtype=np.int64, count=n)
    internal = np.zeros(len(keys), dtype=np.int64)
    internal[org] = internal_ids
    never, before = np.iinfo(np.int64).max, np.iinfo(np.int64).min
    ec = np.array([0.0 if e is None else e for e in ecs], dtype=np.float64)
    start = np.array([never if s is None else s for s in starts], dtype=np.int64)
    end = np.array([e if e is not None else (before if s is None else s) for s, e in zip(starts, ends, strict=True)],
                   dtype=np.int64)
    order = np.lexsort((org, project))
    org, project, ec, start, end = org[order], project[order], ec[order], start[order], end[order]
    # rows of one project are now contiguous: row i pairs with every later row of its project
    first = np.flatnonzero(np.concatenate(([True], project[1:] != project[:-1])))
    size = np.diff(np.append(first, n))
    later = np.repeat(first + size, size) - np.arange(n) - 1
    total = int(later.sum())
    if total == 0:
        return [[] for _ in range(6)]
    left = np.repeat(np.arange(n), later)
    right = left + 1 + np.arange(total) - np.repeat(np.cumsum(later) - later, later)
    key = org[left] * len(keys) + org[right]
    order = np.argsort(key, kind="stable")
    key = key[order]
    bounds = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    weight = np.diff(np.append(bounds, total))
    funding = np.add.reduceat((ec[left] + ec[right])[order], bounds)
    first_year = np.minimum.reduceat(start[left][order], bounds)
    last_year = np.maximum.reduceat(end[left][order], bounds)
    pair = key[bounds]
    return [internal[pair // len(keys)].tolist(), internal[pair % len(keys)].tolist(), weight.tolist(),
            funding.tolist(), _unknown_as_none(first_year, never), _unknown_as_none(last_year, before)]


def _unknown_as_none(column: Any, unknown: int) -> list[Any]:
    """A numpy column as a list, the sentinel of an unknown year back to None."""
    import numpy as np

    values: list[Any] = column.tolist()
    for i in np.flatnonzero(column == unknown).tolist():
        values[i] = None
    return values


def _one_member_per_node(members: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Records merged into one node that took part in one project: one member, contributions added."""
    if len({(m[0], m[1]) for m in members}) == len(members):
        return members
    folded: dict[tuple[Any, Any], list[Any]] = {}
    for pid, oid, internal_id, ec, start, end in members:
        row = folded.get((pid, oid))
        if row is None:
            folded[(pid, oid)] = [pid, oid, internal_id, ec, start, end]
        elif ec is not None:
            row[3] = ec if row[3] is None else row[3] + ec
    return [tuple(r) for r in folded.values()]


DELETE_COLLABORATIONS = "UNWIND $rows AS i MATCH ()-[c:COLLABORATES_WITH]->() WHERE id(c) = i DELETE c"
UPDATE_COLLABORATIONS = (
    "UNWIND $rows AS row MATCH ()-[c:COLLABORATES_WITH]->() WHERE id(c) = row[0] "
    "SET c.weight = row[1], c.funding = row[2], c.first_year = row[3], c.last_year = row[4]")
CREATE_COLLABORATIONS = (
    "UNWIND range(0, size($a) - 1) AS i MATCH (x:Organisation) WHERE id(x) = $a[i] "
    "MATCH (y:Organisation) WHERE id(y) = $b[i] "
    "CREATE (x)-[:COLLABORATES_WITH {weight: $w[i], funding: $f[i], first_year: $fy[i], last_year: $ly[i]}]->(y)")


def collaboration_changes(projection: list[list[Any]], stored: Iterable[tuple[int, list[list[Any]]]]
                          ) -> tuple[list[list[Any]], list[list[Any]], list[int]]:
    """What to write to turn the `stored` projection (see `Neo4jStore._stored_collaborations`) into `projection`:
    the new pairs (as columns, like `projection`), the changed ones ([relationship id, weight, funding, first
    year, last year]) and the relationships to delete (vanished pairs and duplicates)."""
    held: dict[tuple[int, int], tuple[int, tuple[Any, ...]]] = {}
    deletes: list[int] = []
    for x, rels in stored:
        for cid, y, *values in rels:
            if (x, y) in held:
                deletes.append(cid)  # a duplicate
            else:
                held[(x, y)] = (cid, tuple(values))
    a, b, weight, funding, first_year, last_year = projection
    keep: list[int] = []
    updates: list[list[Any]] = []
    for i, row in enumerate(zip(weight, funding, first_year, last_year, strict=True)):
        old = held.pop((a[i], b[i]), None)
        if old is None:
            keep.append(i)
        elif old[1] != row:
            updates.append([old[0], *row])
    deletes.extend(cid for cid, _ in held.values())
    return [[column[i] for i in keep] for column in projection], updates, deletes


CREATE_PARTICIPATIONS = (
    "UNWIND $rows AS row MATCH (o:Organisation) WHERE id(o) = row[0] MATCH (p:Project) WHERE id(p) = row[1] "
    "CREATE (o)-[:PARTICIPATES_IN {role: row[2], ec_contribution: row[3], source: row[4], record_id: row[5]}]->(p)")
UPDATE_PARTICIPATIONS = (
    "UNWIND $rows AS row MATCH (o:Organisation) WHERE id(o) = row[0] "
    "MATCH (o)-[r:PARTICIPATES_IN]->(p:Project) WHERE id(p) = row[1] "
    "AND coalesce(r.record_id, '') = coalesce(row[5], '') "
    "SET r.role = row[2], r.ec_contribution = row[3], r.source = row[4]")



def participation_rows(todo: list[ParticipationKey], state: dict[ParticipationKey, ParticipationState],
                       existing: dict[ParticipationKey, ParticipationState], orgs: dict[str, int],
                       nodes: dict[str, int]) -> tuple[list[list[Any]], list[list[Any]]]:
    """The rows to CREATE and to SET, by internal node id; a participation whose nodes are not stored is left."""
    create: list[list[Any]] = []
    update: list[list[Any]] = []
    for key in todo:
        pid, oid, rid = key
        if oid not in orgs or pid not in nodes:
            continue
        role, ec, source = state[key]
        (update if key in existing else create).append([orgs[oid], nodes[pid], role, ec, source, rid or None])
    return create, update


def project_row(p: Project) -> dict[str, Any]:
    """A project's node properties."""
    return {"id": p.id, "acronym": p.acronym, "start_year": p.start_year, "end_year": p.end_year,
            "doc": p.model_dump_json()}


def organisation_row(o: Organisation) -> dict[str, Any]:
    """An organisation's node properties (`resolvable` and `grouped` select the records resolution reads)."""
    loc = o.location
    return {"id": o.id, "name": o.name, "country": o.country, "helix": o.helix.value.value,
            "helix_confidence": o.helix.confidence, "nuts3": loc.nuts3, "urban_rural": loc.urban_rural.value,
            "degurba": loc.degurba.value if loc.degurba else None, "lat": loc.lat, "lon": loc.lon,
            "city": loc.city, "name_text": name_index_text(o), "doc": o.model_dump_json(),
            "resolvable": worth_resolving(o), "grouped": True if o.records else None}


def relation_rows(relations: list[OrganisationRelation]) -> list[dict[str, Any]]:
    """(:OrgRelation) node properties, keyed by source, target and kind."""
    return [{"key": f"{r.source_id}|{r.target_id}|{r.kind}", "source_id": r.source_id, "target_id": r.target_id,
             "kind": r.kind, "source": r.source.model_dump_json()} for r in relations]


def dissolve_statements(canonical_id: str, record_rows: list[dict[str, Any]]) -> list[Statement]:
    """One transaction undoing a group: its records back on their own nodes, with their participations."""
    return [
        (SAVE_ORGS, {"rows": record_rows}),
        ("MATCH (g:Organisation {id: $c})-[x:PARTICIPATES_IN]->(p:Project) WHERE x.record_id IS NOT NULL "
         "MATCH (o:Organisation {id: x.record_id}) "
         "CREATE (o)-[:PARTICIPATES_IN {role: x.role, ec_contribution: x.ec_contribution, "
         "source: x.source}]->(p) DELETE x", {"c": canonical_id}),
        ("MATCH (r:OrgRecord {canonical_id: $c}) DELETE r", {"c": canonical_id}),
    ]


def form_statements(canonical_id: str, record_ids: list[str], docs: dict[str, Organisation],
               row: dict[str, Any]) -> list[Statement]:
    """One transaction forming a group: its records kept as (:OrgRecord), their participations moved to the
    group's node (remembering their record), their own nodes deleted, the group's node written (`row`)."""
    others = [r for r in record_ids if r != canonical_id]
    return [
        ("UNWIND $rows AS row CREATE (r:OrgRecord) SET r = row",
         {"rows": [{"id": rid, "canonical_id": canonical_id, "doc": docs[rid].model_dump_json()}
                   for rid in record_ids]}),
        ("UNWIND $rids AS rid MATCH (o:Organisation {id: rid})-[x:PARTICIPATES_IN]->(p:Project) "
         "MATCH (g:Organisation {id: $c}) CREATE (g)-[:PARTICIPATES_IN {role: x.role, "
         "ec_contribution: x.ec_contribution, source: x.source, record_id: rid}]->(p) DELETE x",
         {"rids": others, "c": canonical_id}),
        ("UNWIND $rids AS rid MATCH (o:Organisation {id: rid}) DETACH DELETE o", {"rids": others}),
        (SAVE_ORGS, {"rows": [row]}),
    ]


def _connect(uri: str, username: str, password: str, database: str) -> BoltRunner:
    """A driver that has reached the server; refused credentials or connections are `StoreUnavailableError`."""
    from neo4j import GraphDatabase
    from neo4j.exceptions import AuthError, ServiceUnavailable

    try:
        driver = GraphDatabase.driver(uri, auth=(username, password), connection_timeout=10,
                                      max_transaction_retry_time=30, notifications_min_severity="OFF")
    except ValueError as exc:
        raise StoreUnavailableError(f"cannot reach Neo4j at {uri}: {' '.join(str(exc).split())[:200]}") from exc
    try:
        driver.verify_connectivity()
    except AuthError as exc:
        driver.close()
        raise StoreUnavailableError(f"Neo4j at {uri} refused the credentials of user {username!r} "
                                    "(set NEO4J_USERNAME / NEO4J_PASSWORD)") from exc
    except (ServiceUnavailable, OSError, ValueError) as exc:
        driver.close()
        reason = "connection refused" if "refused" in str(exc) else " ".join(str(exc).split())[:200]
        raise StoreUnavailableError(f"cannot reach Neo4j at {uri}: {reason}") from exc
    return BoltRunner(driver, uri, database)


class Neo4jStore(RunsImportPipeline):
    """`GraphStore` on a Neo4j 5 server (`neo4j://host:7687` or `bolt://host:7687`).

    Every query goes through one `QueryRunner` (`ecosystem.store.neo4j_runner`): the Bolt driver's, or a test's
    `CollectingRunner` given as `runner` (then nothing is connected)."""

    def __init__(self, uri: str, username: str = "", password: str = "", *, database: str = "neo4j",
                 runner: QueryRunner | None = None) -> None:
        self.uri = uri
        self.database = database
        self._runner: QueryRunner = runner if runner is not None else _connect(uri, username, password, database)
        # what one import keeps between its steps (see `import_transaction`)
        self._held = Held()
        self._created: dict[str, dict[str, int]] = {"Organisation": {}, "Project": {}}
        self._projection: list[list[Any]] | None = None
        self._ensure_schema()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- plumbing --------------------------------------------------------------------------------
    def _run(self, query: str, read: bool = False, **params: Any) -> list[dict[str, Any]]:
        """One query in its own transaction (a read is routed as a read); its rows as dicts."""
        return self._runner.read(query, params) if read else self._runner.write(query, params)

    def _write_batches(self, query: str, rows: list[Any], size: int = BATCH, **params: Any) -> None:
        self._runner.write_batches(query, rows, size, params)

    def _run_implicit(self, query: str, **params: Any) -> None:
        """An auto-commit query: `CALL { ... } IN TRANSACTIONS` refuses to run in a managed transaction."""
        self._runner.write_auto_commit(query, params)

    def _ensure_schema(self) -> None:
        for statement in SCHEMA:
            self._run(statement)
        self._run("MERGE (m:HelixmapMeta {key: 'meta'}) ON CREATE SET m.data_version = 0, "
                  "m.collaborations_dirty = false")

    def close(self) -> None:
        self._runner.close()

    def clear(self) -> None:
        """Delete every helixmap node and relationship (used by tests and `--fresh` loads)."""
        # relationships first, in bounded transactions: a well-connected node detached at once can hold
        # hundreds of thousands of relationships and exceed the transaction memory limit
        for rel in ("COLLABORATES_WITH", "PARTICIPATES_IN", "LOCATED_IN", "PART_OF"):
            self._run_implicit(f"MATCH ()-[r:{rel}]->() CALL (r) {{ DELETE r }} IN TRANSACTIONS OF 50000 ROWS")
        for label in ("Organisation", "Project", "Region", "Municipality", "Postcode", "NutsConversion", "Place",
                      "OrgRelation", "OrgRecord"):
            self._run_implicit(f"MATCH (n:{label}) CALL (n) {{ DETACH DELETE n }} IN TRANSACTIONS OF 10000 ROWS")
        self._run("MATCH (m:HelixmapMeta) SET m.data_version = coalesce(m.data_version, 0) + 1, "
                  "m.collaborations_dirty = false, "
                  "m.data_updated = toString(datetime.truncate('second', datetime({timezone: '+00:00'})))")

    def data_version(self) -> str:
        rows = self._run("MATCH (m:HelixmapMeta {key: 'meta'}) RETURN m.data_version AS v", read=True)
        return str(rows[0]["v"]) if rows else "0"

    def _bump(self) -> None:
        self._run("MATCH (m:HelixmapMeta {key: 'meta'}) SET m.data_version = m.data_version + 1, "
                  "m.data_updated = toString(datetime.truncate('second', datetime({timezone: '+00:00'})))")

    # -- writing: the storage primitives of the import pipeline (`ecosystem.store.pipeline`) ---------------------
    # (`apply` and `resolve` run the pipeline: `RunsImportPipeline`)
    @contextmanager
    def import_transaction(self) -> Iterator[Held]:
        """An import is written in batches, not one transaction (see the module docstring); what this import
        created (internal ids) and the projection computed from memory are kept until it ends."""
        self._held = Held(**self._counts())
        self._created = {"Organisation": {}, "Project": {}}
        self._projection = None
        try:
            yield self._held
        finally:
            self._created = {"Organisation": {}, "Project": {}}
            self._projection = None

    def changes(self, counted: int) -> int:
        return counted

    def bump(self, *, regions_changed: bool) -> None:
        self._bump()

    def _counts(self) -> dict[str, int]:
        """What the store holds before an import, from the count store (constant time)."""
        rows = self._run(
            "CALL () { MATCH (o:Organisation) RETURN count(o) AS organisations } "
            "CALL () { MATCH (p:Project) RETURN count(p) AS projects } "
            "CALL () { MATCH ()-[r:PARTICIPATES_IN]->() RETURN count(r) AS participations } "
            "CALL () { MATCH ()-[c:COLLABORATES_WITH]->() RETURN count(c) AS collaborations } "
            "CALL () { MATCH (r:Region) RETURN count(r) AS regions } "
            "RETURN organisations, projects, participations, collaborations, regions", read=True)
        return dict(rows[0])

    def collaborations_dirty(self) -> bool:
        """Whether something the projection depends on was written since it was last rebuilt."""
        return bool(self._run("MATCH (m:HelixmapMeta {key: 'meta'}) RETURN m.collaborations_dirty AS d",
                              read=True)[0]["d"])

    def mark_dirty(self) -> None:
        """Set before anything the projection depends on is written; cleared once it is rebuilt."""
        self._run("MATCH (m:HelixmapMeta {key: 'meta'}) SET m.collaborations_dirty = true")

    def _node_ids(self, label: str, keys: list[str]) -> dict[str, int]:
        """Internal ids of nodes by their key, so relationship writes seek by id instead of by index."""
        out: dict[str, int] = {}
        for chunk in _chunks(keys, LOOKUP_BATCH):
            out.update(self._run(f"UNWIND $keys AS k MATCH (n:{label} {{id: k}}) RETURN collect([k, id(n)]) AS ids",
                                 read=True, keys=chunk)[0]["ids"])
        return out

    def write_regions(self, batch: ImportBatch) -> int:
        changed = 0
        stored = {r["id"]: r["doc"] for r in self._run("MATCH (r:Region) RETURN r.nuts_id AS id, r.doc AS doc",
                                                         read=True)}
        existing = {nuts_id: Region.model_validate_json(doc) for nuts_id, doc in stored.items()}
        rows = merge_regions(existing, batch.regions, batch.region_names)
        region_rows = [{"id": r.nuts_id, "level": r.level, "country": r.country, "parent": r.parent,
                        "urban_rural": r.urban_rural.value, "doc": r.model_dump_json()}
                       for r in rows if stored.get(r.nuts_id) != r.model_dump_json()]
        self._write_batches(
            "UNWIND $rows AS row MERGE (r:Region {nuts_id: row.id}) SET r.level = row.level, r.country = row.country, "
            "r.parent = row.parent, r.urban_rural = row.urban_rural, r.doc = row.doc", region_rows)
        self._write_batches(
            "UNWIND $rows AS row MATCH (r:Region {nuts_id: row.id}) MATCH (p:Region {nuts_id: row.parent}) "
            "MERGE (r)-[:PART_OF]->(p)", [r for r in region_rows if r["parent"]])
        changed += len(region_rows)
        shape_rows = [{"id": s.nuts_id, "level": s.level, "geometry": json.dumps(s.geometry, separators=(",", ":"))}
                      for s in batch.shapes]
        stored_shapes = {r["id"]: r["g"] for r in self._run(
            "MATCH (r:Region) WHERE r.shape IS NOT NULL RETURN r.nuts_id AS id, r.shape AS g", read=True)}
        shape_rows = [s for s in shape_rows if stored_shapes.get(s["id"]) != s["geometry"]]
        self._write_batches("UNWIND $rows AS row MERGE (r:Region {nuts_id: row.id}) ON CREATE SET "
                            "r.level = row.level, r.country = left(row.id, 2), r.urban_rural = 'unknown', "
                            "r.doc = null SET r.shape = row.geometry, r.shape_level = row.level", shape_rows, size=200)
        changed += len(shape_rows)
        changed += self._merge_simple(
            "Municipality", [{"key": f"{m.country}:{m.lau_code}", "nuts3": m.nuts3,
                              "degurba": m.degurba.value if m.degurba else None, "doc": m.model_dump_json()}
                             for m in batch.municipalities], ("nuts3", "degurba", "doc"))
        changed += self._merge_simple(
            "Postcode", [{"key": f"{c}:{p}", "nuts3": n, "version": v} for c, p, n, v in batch.postcodes],
            ("nuts3", "version"))
        changed += self._merge_simple(
            "NutsConversion", [{"key": f"{c.from_version}:{c.from_code}:{c.to_version}:{c.to_code}",
                                "from_version": c.from_version, "from_code": c.from_code,
                                "to_version": c.to_version, "to_code": c.to_code, "weight": c.weight}
                               for c in batch.conversions], ("from_version", "from_code", "to_version", "to_code",
                                                              "weight"))
        changed += self._merge_simple(
            "Place", [{"key": p.geonames_id, "country": p.country, "doc": p.model_dump_json()}
                      for p in batch.places], ("country", "doc"))
        return changed

    def region_count(self) -> int:
        return int(self._run("MATCH (r:Region) RETURN count(r) AS n", read=True)[0]["n"])

    def _merge_simple(self, label: str, rows: list[dict[str, Any]], fields: tuple[str, ...]) -> int:
        """MERGE lookup nodes by key, writing only those that differ; returns how many changed."""
        if not rows:
            return 0
        props = ", ".join(f"n.{f} AS {f}" for f in fields)
        stored = {r["key"]: tuple(r[f] for f in fields) for r in self._run(
            f"MATCH (n:{label}) RETURN n.key AS key, {props}", read=True)}
        todo = [r for r in rows if stored.get(r["key"]) != tuple(r[f] for f in fields)]
        sets = ", ".join(f"n.{f} = row.{f}" for f in fields)
        self._write_batches(f"UNWIND $rows AS row MERGE (n:{label} {{key: row.key}}) SET {sets}", todo)
        return len(todo)

    def load_organisations(self, ids: list[str]) -> dict[str, Organisation]:
        return self._load_orgs(ids)

    def all_organisations(self) -> dict[str, Organisation]:
        return self._load_orgs(None)

    def _load_orgs(self, ids: list[str] | None) -> dict[str, Organisation]:
        out: dict[str, Organisation] = {}
        if ids is None:
            for r in self._run("MATCH (o:Organisation) RETURN o.doc AS doc", read=True):
                org = Organisation.model_validate_json(r["doc"])
                out[org.id] = org
            return out
        for doc in self._docs("Organisation", ids):
            org = Organisation.model_validate_json(doc)
            out[org.id] = org
        return out

    def _docs(self, label: str, ids: list[str]) -> Iterator[str]:
        """The stored documents (`doc`) of the nodes of one label with these ids, read in chunks."""
        query = f"UNWIND $ids AS id MATCH (n:{label} {{id: id}}) RETURN collect(n.doc) AS docs"
        for chunk in _chunks(ids, LOOKUP_BATCH):
            yield from self._run(query, read=True, ids=chunk)[0]["docs"]

    @staticmethod
    def _org_row(o: Organisation) -> dict[str, Any]:
        return organisation_row(o)

    def save_organisations(self, orgs: list[Organisation]) -> None:
        """Write organisations that may already be stored, moving their LOCATED_IN link with them."""
        self._write_batches(SAVE_ORGS, [organisation_row(o) for o in orgs], size=NODE_BATCH)

    def _create_nodes(self, label: str, rows: list[dict[str, Any]]) -> dict[str, int]:
        """CREATE nodes known not to exist yet (no index seek, unlike MERGE); returns their internal ids."""
        ids: dict[str, int] = {}
        # one collected list per transaction: streaming one record per node back costs the client twice the time
        # of the whole write (31,451 projects: 1.5 s against 0.65 s)
        query = f"UNWIND $rows AS row CREATE (n:{label}) SET n = row RETURN collect([row.id, id(n)]) AS ids"
        for chunk in _chunks(rows, NODE_BATCH):
            ids.update(self._runner.write(query, {"rows": chunk})[0]["ids"])
        return ids

    def create_organisations(self, orgs: list[Organisation]) -> None:
        """CREATE organisations known to be new, with their LOCATED_IN link to the regions that are stored."""
        rows = [organisation_row(o) for o in orgs]
        self._created["Organisation"].update(self._create_nodes("Organisation", rows))
        self._write_batches("UNWIND $rows AS row MATCH (o:Organisation {id: row.id}) "
                            "MATCH (r:Region {nuts_id: row.nuts3}) CREATE (o)-[:LOCATED_IN]->(r)",
                            [{"id": r["id"], "nuts3": r["nuts3"]} for r in rows if r["nuts3"]])

    def write_relations(self, relations: list[OrganisationRelation]) -> int:
        """Links between organisations other than collaboration (ROR parent, child...); returns how many changed."""
        return self._merge_simple("OrgRelation", relation_rows(relations), ("source_id", "target_id", "kind", "source"))

    # -- entity resolution (see ecosystem/store/entities.py) -------------------------------------
    def grouped(self) -> dict[str, str]:
        return self._grouped()

    def _grouped(self) -> dict[str, str]:
        """Record id -> canonical id of every source record kept in a group."""
        return {r["id"]: r["c"] for r in self._run("MATCH (r:OrgRecord) RETURN r.id AS id, r.canonical_id AS c",
                                                  read=True)}

    def group_members(self, canonical_ids: list[str]) -> dict[str, dict[str, Organisation]]:
        out: dict[str, dict[str, Organisation]] = {}
        for r in self._run("UNWIND $ids AS c MATCH (r:OrgRecord {canonical_id: c}) RETURN c, r.id AS id, r.doc AS doc",
                           read=True, ids=canonical_ids):
            out.setdefault(r["c"], {})[r["id"]] = Organisation.model_validate_json(r["doc"])
        return out

    def save_group_records(self, members: dict[str, dict[str, Organisation]]) -> None:
        self._write_batches("UNWIND $rows AS row MATCH (r:OrgRecord {id: row.id}) SET r.doc = row.doc",
                            [{"id": rid, "doc": doc.model_dump_json()} for c in sorted(members)
                             for rid, doc in members[c].items()])

    def projects_of(self, ids: list[str]) -> dict[str, set[str]]:
        """The projects each source record takes part in (on its own node, or through its group's node)."""
        out: dict[str, set[str]] = {}
        for r in self._run(
                "UNWIND $ids AS rid MATCH (o:Organisation {id: rid})-[x:PARTICIPATES_IN]->(p:Project) "
                "WHERE x.record_id IS NULL RETURN rid, collect(p.id) AS ps", read=True, ids=ids):
            out.setdefault(r["rid"], set()).update(r["ps"])
        for r in self._run(
                "UNWIND $ids AS rid MATCH (rec:OrgRecord {id: rid}) "
                "MATCH (:Organisation {id: rec.canonical_id})-[x:PARTICIPATES_IN {record_id: rid}]->(p:Project) "
                "RETURN rid, collect(p.id) AS ps", read=True, ids=ids):
            out.setdefault(r["rid"], set()).update(r["ps"])
        return out

    def store_overrides(self, overrides: Overrides | None) -> None:
        self._run("MATCH (m:HelixmapMeta {key: 'meta'}) SET m.resolution_overrides = $o",
                  o=json.dumps(overrides_to_json(overrides)) if overrides is not None else None)

    def stored_overrides(self) -> Overrides | None:
        meta = self._run("MATCH (m:HelixmapMeta {key: 'meta'}) RETURN m.resolution_overrides AS o", read=True)
        return overrides_from_json(json.loads(meta[0]["o"]) if meta and meta[0]["o"] else None)

    def resolution_records(self, overrides: Overrides | None) -> list[Organisation]:
        """The records that can match (see `worth_resolving`), any record a user's override names, and the
        records of every group (a group's node is not a record)."""
        records = [Organisation.model_validate_json(r["doc"]) for r in self._run(
            "MATCH (o:Organisation) WHERE (o.resolvable OR o.id IN $named) AND o.grouped IS NULL "
            "RETURN o.doc AS doc", read=True, named=sorted(override_ids(overrides)))]
        records += [Organisation.model_validate_json(r["doc"]) for r in self._run(
            "MATCH (r:OrgRecord) RETURN r.doc AS doc", read=True)]
        return records

    def defer_regrouping(self, plan: Plan) -> bool:
        return False

    def dissolve_group(self, canonical_id: str, members: list[Organisation]) -> None:
        """One transaction undoing a group (see `dissolve_statements`)."""
        self._projection = None  # participations move: the projection is read back
        self._runner.write_together(dissolve_statements(canonical_id, [organisation_row(o) for o in members]))

    def form_group(self, canonical_id: str, record_ids: list[str], records: dict[str, Organisation],
                   organisation: Organisation) -> None:
        """One transaction forming a group (see `form_statements`)."""
        self._projection = None
        self._runner.write_together(form_statements(canonical_id, record_ids, records,
                                                    organisation_row(organisation)))

    def load_projects(self, ids: list[str]) -> dict[str, Project]:
        existing: dict[str, Project] = {}
        for doc in self._docs("Project", ids):
            p = Project.model_validate_json(doc)
            existing[p.id] = p
        return existing

    def write_projects(self, new: list[Project], changed: list[Project]) -> None:
        """CREATE the new projects (keeping their internal ids), SET the changed ones."""
        self._created["Project"].update(self._create_nodes("Project", [project_row(p) for p in new]))
        self._write_batches("UNWIND $rows AS row MERGE (p:Project {id: row.id}) SET p.acronym = row.acronym, "
                            "p.start_year = row.start_year, p.end_year = row.end_year, p.doc = row.doc",
                            [project_row(p) for p in changed], size=NODE_BATCH)

    def write_participations(self, parts: Participations, report: ImportReport) -> int:
        """Write PARTICIPATES_IN by internal node id: CREATE where the pair is new, SET where it changed.

        When the store held no participations before, the collaboration projection of what is now stored (see
        `_collaborations`) is computed from memory, by a second thread while this one waits for the server."""
        needed = {o for _, o, _ in (parts.state if parts.empty else parts.todo)}
        orgs = dict(self._created["Organisation"])
        orgs.update(self._node_ids("Organisation", sorted(needed - orgs.keys())))
        nodes = dict(self._created["Project"])
        nodes.update(self._node_ids("Project", sorted({p for p, _, _ in parts.todo} - nodes.keys())))
        unknown = sorted(needed - orgs.keys())
        if unknown:
            report.warnings.append(f"{len(unknown)} organisation(s) named only by participations were not stored, "
                                   f"so neither are their participations (first: {unknown[0]})")
        create, update = participation_rows(parts.todo, parts.state, parts.existing, orgs, nodes)
        if create or update:
            self.mark_dirty()
        with ThreadPoolExecutor(1) as pool:
            projection = None
            if parts.empty:
                members = [(pid, oid, orgs[oid], v[1], parts.projects[pid].start_year, parts.projects[pid].end_year)
                           for (pid, oid, _), v in parts.state.items() if oid in orgs and pid in nodes]
                projection = pool.submit(_collaborations, members)
            self._write_batches(CREATE_PARTICIPATIONS, create, size=PART_BATCH)
            self._write_batches(UPDATE_PARTICIPATIONS, update, size=PART_BATCH)
            if projection is not None:
                self._projection = projection.result()
        return len(create) + len(update)

    def load_participations(self, project_ids: list[str]) -> dict[ParticipationKey, ParticipationState]:
        """The stored participations in the given projects, by (project, organisation node, record or '')."""
        existing: dict[ParticipationKey, ParticipationState] = {}
        for chunk in _chunks(project_ids, PART_BATCH):
            for pid, oid, rid, role, ec, source in self._run(
                    "UNWIND $ids AS id MATCH (o:Organisation)-[r:PARTICIPATES_IN]->(p:Project {id: id}) "
                    "RETURN collect([p.id, o.id, coalesce(r.record_id, ''), r.role, r.ec_contribution, r.source]) "
                    "AS rows", read=True, ids=chunk)[0]["rows"]:
                existing[(pid, oid, rid)] = (role, ec, source)
        return existing

    def rebuild_collaborations(self, progress: Any) -> None:
        """The projection computed from memory during this import when there is one, else read back."""
        self._rebuild_collaborations(progress, self._projection, had=self._held.collaborations)
        self._projection = None

    def _rebuild_collaborations(self, progress: Any = None, projection: list[list[Any]] | None = None,
                                had: int = 1) -> None:
        """Bring the materialised COLLABORATES_WITH projection in line with the participations.

        The projection is computed in Python from the participations read back from the server (unless given),
        compared with what is stored (unless nothing was), and only the difference is written: new pairs are
        CREATEd by internal node id, changed ones SET, vanished ones (and any duplicate) deleted."""
        self.mark_dirty()
        if projection is None:
            projection = _collaborations(self._participation_members())
        deletes: list[int] = []
        updates: list[list[Any]] = []
        if had:
            projection, updates, deletes = collaboration_changes(projection, self._stored_collaborations())
        self._write_batches(DELETE_COLLABORATIONS, deletes, size=COLLAB_BATCH)
        self._write_batches(UPDATE_COLLABORATIONS, updates, size=COLLAB_BATCH)
        self._create_collaborations(projection, progress)
        self._run("MATCH (m:HelixmapMeta {key: 'meta'}) SET m.collaborations_dirty = false")

    def _participation_members(self) -> list[tuple[Any, ...]]:
        """Every participation as `_collaborations` takes it, read back from the server."""
        # one record per project (not per participation): far less client work per row
        return [(rec["p"], oid, i, ec, rec["sy"], rec["ey"]) for rec in self._runner.stream(
            "MATCH (p:Project)<-[r:PARTICIPATES_IN]-(o:Organisation) RETURN p.id AS p, p.start_year AS sy, "
            "p.end_year AS ey, collect([o.id, id(o), r.ec_contribution]) AS m") for oid, i, ec in rec["m"]]

    def _stored_collaborations(self) -> Iterator[tuple[int, list[list[Any]]]]:
        """The stored COLLABORATES_WITH: (internal id of a, [[relationship id, id of b, weight, funding, first
        year, last year], ...]), one record per organisation, not per relationship."""
        for rec in self._runner.stream(
                "MATCH (a:Organisation)-[c:COLLABORATES_WITH]->(b:Organisation) RETURN id(a) AS a, "
                "collect([id(c), id(b), c.weight, c.funding, c.first_year, c.last_year]) AS cs"):
            yield rec["a"], rec["cs"]

    def _create_collaborations(self, projection: list[list[Any]], progress: Any) -> None:
        """CREATE the new pairs by internal node id, in transactions of `COLLAB_BATCH`."""
        a, b, weight, funding, first_year, last_year = projection
        total = len(a)
        task = progress.add_task("writing collaborations", total=total) if progress is not None else None

        def write(lo: int) -> int:
            hi = min(lo + COLLAB_BATCH, total)
            # columns, not rows: slices of six lists cost the client far less than 800,000 small lists
            self._runner.write_together([(CREATE_COLLABORATIONS, {
                "a": a[lo:hi], "b": b[lo:hi], "w": weight[lo:hi], "f": funding[lo:hi], "fy": first_year[lo:hi],
                "ly": last_year[lo:hi]})])
            return hi - lo

        starts = range(0, total, COLLAB_BATCH)
        with ThreadPoolExecutor(COLLAB_WRITERS) as pool:
            for done in (pool.map(write, starts) if COLLAB_WRITERS > 1 else map(write, starts)):
                if task is not None:
                    progress.advance(task, done)

    # -- locations -------------------------------------------------------------------------------
    def location_resolver(self, orgs: list[Organisation]) -> tuple[LocationResolver, MunicipalityMatcher]:
        regions = [Region.model_validate_json(r["doc"]) for r in self._run(
            "MATCH (r:Region) WHERE r.doc IS NOT NULL RETURN r.doc AS doc", read=True)]
        shapes = [RegionShape(nuts_id=r["id"], level=r["level"], geometry=json.loads(r["g"])) for r in self._run(
            "MATCH (r:Region) WHERE r.shape IS NOT NULL AND r.shape_level = 3 "
            "RETURN r.nuts_id AS id, r.shape_level AS level, r.shape AS g", read=True)]
        municipalities = [Municipality.model_validate_json(r["doc"]) for r in self._run(
            "MATCH (m:Municipality) RETURN m.doc AS doc", read=True)]
        conversions = [NutsConversion(r["fv"], r["fc"], r["tv"], r["tc"], r["w"]) for r in self._run(
            "MATCH (c:NutsConversion) RETURN c.from_version AS fv, c.from_code AS fc, c.to_version AS tv, "
            "c.to_code AS tc, c.weight AS w", read=True)]
        keys = set()
        for org in orgs:
            country = org.location.country or org.country
            if country and org.location.postcode:
                pc = normalise_postcode(COUNTRY_ALIASES.get(country, country), org.location.postcode)
                if pc:
                    for n in range(len(pc), 0, -1):
                        keys.add(f"{COUNTRY_ALIASES.get(country, country)}:{pc[:n]}")
        found: dict[tuple[str, str], tuple[str, str]] = {}
        key_list = sorted(keys)
        for chunk in _chunks(key_list, BATCH):
            for r in self._run("UNWIND $keys AS k MATCH (p:Postcode {key: k}) RETURN p.key AS key, p.nuts3 AS n, "
                               "p.version AS v", read=True, keys=chunk):
                country, pc = r["key"].split(":", 1)
                found[(country, pc)] = (r["n"], r["v"])
        countries = [r["c"] for r in self._run("MATCH (p:Postcode) RETURN DISTINCT split(p.key, ':')[0] AS c",
                                                read=True)]
        places = [Place.model_validate_json(r["doc"]) for r in self._run(
            "MATCH (p:Place) RETURN p.doc AS doc", read=True)]
        resolver = LocationResolver(regions, shapes, municipalities, conversions,
                                    lambda country, pc: found.get((country, pc)), postcode_countries=countries,
                                    places=places)
        return resolver, MunicipalityMatcher(municipalities, NutsVersions(conversions))

    # -- reading ---------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        one = lambda q: self._run(q, read=True)[0]["n"]
        helix = dict.fromkeys(HELICES, 0)
        for r in self._run("MATCH (o:Organisation) RETURN o.helix AS k, count(*) AS n", read=True):
            helix[r["k"]] = r["n"]
        urban_rural = dict.fromkeys(URBAN_RURAL, 0)
        for r in self._run("MATCH (o:Organisation) RETURN o.urban_rural AS k, count(*) AS n", read=True):
            urban_rural[r["k"]] = r["n"]
        return {
            "organisations": one("MATCH (o:Organisation) RETURN count(o) AS n"),
            "projects": one("MATCH (p:Project) RETURN count(p) AS n"),
            "participations": one("MATCH ()-[r:PARTICIPATES_IN]->() RETURN count(r) AS n")
            - one("MATCH (o:Organisation {grouped: true})-[r:PARTICIPATES_IN]->(p:Project) "
                  "WITH o, p, count(r) AS k RETURN coalesce(sum(k - 1), 0) AS n"),
            "collaborations": one("MATCH ()-[c:COLLABORATES_WITH]->() RETURN count(c) AS n"),
            "helix": helix,
            "urban_rural": urban_rural,
            "regions": one("MATCH (r:Region) WHERE r.doc IS NOT NULL RETURN count(r) AS n"),
            "municipalities": one("MATCH (m:Municipality) RETURN count(m) AS n"),
            "located": one("MATCH (o:Organisation) WHERE o.nuts3 IS NOT NULL RETURN count(o) AS n"),
            "records": one("MATCH (o:Organisation) RETURN count(o) AS n")
            + one("MATCH (r:OrgRecord) WHERE r.id <> r.canonical_id RETURN count(r) AS n"),
        }

    def record_groups(self) -> dict[str, list[str]]:
        """Organisations made of several source records by entity resolution: canonical id -> record ids."""
        out: dict[str, list[str]] = {}
        for rid, c in sorted(self._grouped().items(), key=lambda t: (t[1], t[0])):
            out.setdefault(c, []).append(rid)
        return out

    def canonical_id(self, org_id: str) -> str:
        """The id of the organisation node a source record belongs to (itself unless it was merged)."""
        rows = self._run("MATCH (r:OrgRecord {id: $id}) RETURN r.canonical_id AS c", read=True, id=org_id)
        return rows[0]["c"] if rows else org_id

    @staticmethod
    def _org_where(params: dict[str, Any], *, helix: Any = None, country: Any = None, nuts: Any = None,
                   urban_rural: Any = None) -> list[str]:
        where = []
        if helix:
            where.append("o.helix = $helix")
            params["helix"] = helix
        if country:
            where.append("o.country = $country")
            params["country"] = COUNTRY_ALIASES.get(country.upper(), country.upper())
        if nuts:
            code = nuts_prefix(nuts)
            params["nuts"] = code
            where.append("(o.country = $nuts OR o.nuts3 STARTS WITH $nuts)" if len(code) == 2
                         else "o.nuts3 STARTS WITH $nuts")
        if urban_rural:
            where.append("o.urban_rural = $urban_rural")
            params["urban_rural"] = urban_rural
        return where

    def search_organisations(self, q: str | None = None, *, helix: str | None = None,
                             country: str | None = None, nuts: str | None = None,
                             urban_rural: str | None = None, limit: int = 20,
                             offset: int = 0, tag: str | None = None,
                             programme: str | None = None) -> tuple[int, list[dict[str, Any]]]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        where = self._org_where(params, helix=helix, country=country, nuts=nuts, urban_rural=urban_rural)
        if tag:  # the tags list of the organisation's JSON document, the tag as a JSON string
            params["tag_json"] = json.dumps(tag, ensure_ascii=False)
            where.append("o.doc CONTAINS '\"tags\":[' AND "
                         "split(split(o.doc, '\"tags\":[')[1], ']')[0] CONTAINS $tag_json")
        if programme:  # a project of that framework programme (the project's JSON document)
            params["programme_json"] = '"programme":' + json.dumps(programme, ensure_ascii=False)
            where.append("EXISTS { MATCH (o)-[:PARTICIPATES_IN]->(pp:Project) WHERE pp.doc CONTAINS $programme_json }")
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        fields = ("o.id AS id, o.name AS name, o.country AS country, o.helix AS helix, "
                  "o.helix_confidence AS helix_confidence, o.nuts3 AS nuts3, o.urban_rural AS urban_rural, "
                  "o.degurba AS degurba, o.city AS city")
        if q:
            match = fts_query(q)
            if match is None:
                return 0, []
            params["q"] = " AND ".join(w.strip('"*') + "*" for w in match.split())
            head = "CALL db.index.fulltext.queryNodes('organisation_names', $q) YIELD node AS o, score"
            total = self._run(f"{head}{clause} RETURN count(o) AS n", read=True, **params)[0]["n"]
            rows = self._run(f"{head}{clause} RETURN {fields} ORDER BY score DESC, o.name, o.id "
                             "SKIP $offset LIMIT $limit", read=True, **params)
        else:
            total = self._run(f"MATCH (o:Organisation){clause} RETURN count(o) AS n", read=True, **params)[0]["n"]
            rows = self._run(f"MATCH (o:Organisation){clause} RETURN {fields} ORDER BY o.name, o.id "
                             "SKIP $offset LIMIT $limit", read=True, **params)
        return total, [dict(r) for r in rows]

    def organisation(self, org_id: str) -> dict[str, Any] | None:
        rows = self._run("OPTIONAL MATCH (r:OrgRecord {id: $id}) WITH coalesce(r.canonical_id, $id) AS id "
                         "MATCH (o:Organisation {id: id}) RETURN o.doc AS doc", read=True, id=org_id)
        return json.loads(rows[0]["doc"]) if rows else None

    def organisation_projects(self, org_id: str) -> list[dict[str, Any]]:
        rows = self._run("MATCH (:Organisation {id: $id})-[r:PARTICIPATES_IN]->(p:Project) "
                         "RETURN p.id AS id, p.doc AS doc, collect(r.role) AS roles, "
                         "sum(r.ec_contribution) AS ec, count(r.ec_contribution) AS n_ec, p.start_year AS sy "
                         "ORDER BY sy DESC, id", read=True, id=org_id)
        out = []
        for r in rows:
            d = json.loads(r["doc"])
            role = None
            for x in r["roles"]:
                role = stronger_role(role, x)
            r = {**dict(r), "role": role, "ec": r["ec"] if r["n_ec"] else None}
            out.append({"id": r["id"], "acronym": d.get("acronym"), "title": d.get("title"),
                        "programme": d.get("programme"), "start_year": d.get("start_year"),
                        "end_year": d.get("end_year"), "role": r["role"], "ec_contribution": r["ec"],
                        "start_date": d.get("start_date"), "end_date": d.get("end_date")})
        # the same order as SQLite: NULL years last
        out.sort(key=lambda p: (p["start_year"] is None, -(p["start_year"] or 0), p["id"]))
        return out

    def partners(self, org_id: str, limit: int = 100) -> list[dict[str, Any]]:
        rows = self._run(
            "MATCH (:Organisation {id: $id})-[c:COLLABORATES_WITH]-(o:Organisation) "
            "RETURN o.id AS id, o.name AS name, o.helix AS helix, o.country AS country, o.nuts3 AS nuts3, "
            "o.urban_rural AS urban_rural, c.weight AS weight, c.funding AS funding, c.first_year AS first_year, "
            "c.last_year AS last_year ORDER BY weight DESC, name, id LIMIT $limit", read=True, id=org_id, limit=limit)
        return [dict(r) for r in rows]

    def region(self, nuts_id: str) -> dict[str, Any] | None:
        rows = self._run("MATCH (r:Region {nuts_id: $id}) WHERE r.doc IS NOT NULL RETURN r.doc AS doc",
                         read=True, id=nuts_id)
        return json.loads(rows[0]["doc"]) if rows else None

    def country_known(self, country: str) -> bool:
        rows = self._run("RETURN EXISTS { MATCH (o:Organisation {country: $c}) } OR "
                         "EXISTS { MATCH (r:Region {country: $c}) } AS known", read=True, c=country)
        return bool(rows[0]["known"])

    def organisations_for_network(self, flt: NetworkFilter) -> list[dict[str, Any]]:
        params: dict[str, Any] = {}
        where = []
        if flt.helix:
            where.append("o.helix IN $helix")
            params["helix"] = list(flt.helix)
        if flt.urban_rural:
            where.append("o.urban_rural IN $urban_rural")
            params["urban_rural"] = list(flt.urban_rural)
        if flt.country:
            where.append("o.country IN $countries")
            params["countries"] = [COUNTRY_ALIASES.get(c, c) for c in flt.country]
        if flt.nuts:
            params["nuts"] = [nuts_prefix(c) for c in flt.nuts]
            where.append("any(code IN $nuts WHERE (size(code) = 2 AND o.country = code) OR o.nuts3 STARTS WITH code)")
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        rows = self._run(
            f"MATCH (o:Organisation){clause} OPTIONAL MATCH (o)-[:LOCATED_IN]->(r:Region) "
            "RETURN o.id AS id, o.name AS name, o.helix AS helix, o.urban_rural AS urban_rural, o.country AS country, "
            "o.nuts3 AS nuts3, r.doc AS rdoc, o.city AS city, o.lat AS lat, o.lon AS lon, o.degurba AS degurba, "
            "CASE WHEN o.doc CONTAINS '\"tags\":[' THEN split(split(o.doc, '\"tags\":[')[1], ']')[0] "
            "ELSE '' END AS tagtext",
            read=True, **params)
        out = []
        for r in rows:
            d = dict(r)
            rdoc = d.pop("rdoc")
            d["region_name"] = json.loads(rdoc).get("name") if rdoc else None
            tagtext = d.pop("tagtext")  # the document's tags list, without its brackets
            d["tags"] = "; ".join(json.loads(f"[{tagtext}]")) if tagtext else None
            out.append(d)
        return out

    def collaboration_edges(self, flt: NetworkFilter, ids: set[str] | None = None
                            ) -> Iterator[tuple[str, str, int, float, int | None, int | None]]:
        if flt.year_from is not None or flt.year_to is not None:
            # merged records that took part in one project through one node count once, their amounts added
            query = ("MATCH (a:Organisation)-[x:PARTICIPATES_IN]->(p:Project)<-[y:PARTICIPATES_IN]-(b:Organisation) "
                     "WHERE a.id < b.id AND p.start_year >= $from AND p.start_year <= $to "
                     "WITH a, b, p, collect(DISTINCT x) AS xs, collect(DISTINCT y) AS ys "
                     "WITH a.id AS a, b.id AS b, count(p) AS w, "
                     "sum(reduce(t = 0.0, r IN xs + ys | t + coalesce(r.ec_contribution, 0.0))) AS f, "
                     "min(p.start_year) AS fy, max(coalesce(p.end_year, p.start_year)) AS ly WHERE w >= $min "
                     "RETURN a, b, w, f, fy, ly")
            params = {"from": flt.year_from if flt.year_from is not None else -10**6,
                      "to": flt.year_to if flt.year_to is not None else 10**6, "min": flt.min_weight}
        else:
            query = ("MATCH (a:Organisation)-[c:COLLABORATES_WITH]->(b:Organisation) WHERE c.weight >= $min "
                     "RETURN a.id AS a, b.id AS b, c.weight AS w, c.funding AS f, c.first_year AS fy, "
                     "c.last_year AS ly")
            params = {"min": flt.min_weight}
        for rec in self._runner.stream(query, params):
            a, b = rec["a"], rec["b"]
            if ids is None or (a in ids and b in ids):
                yield a, b, rec["w"], rec["f"], rec["fy"], rec["ly"]

    def iter_participations(self) -> Iterator[tuple[str, str, str | None, float | None]]:
        """(project id, organisation id, role, EU contribution) of every participation."""
        for rec in self._runner.stream("MATCH (o:Organisation)-[r:PARTICIPATES_IN]->(p:Project) "
                                       "RETURN p.id AS p, o.id AS o, collect(r.role) AS roles, "
                                       "sum(r.ec_contribution) AS ec, count(r.ec_contribution) AS n_ec"):
            role = None
            for x in rec["roles"]:
                role = stronger_role(role, x)
            yield rec["p"], rec["o"], role, rec["ec"] if rec["n_ec"] else None

    def iter_projects(self) -> Iterator[tuple[str, int | None, list[str], str | None, str | None]]:
        """(id, start year, topics, programme part, programme) of every project."""
        for rec in self._runner.stream("MATCH (p:Project) RETURN p.id AS id, p.doc AS doc"):
            doc = json.loads(rec["doc"]) if rec["doc"] else {}
            yield rec["id"], doc.get("start_year"), doc.get("topics") or [], doc.get("programme_part"), \
                doc.get("programme")

    def iter_project_texts(self) -> Iterator[tuple[str, str | None, str | None, list[str]]]:
        """(id, acronym, title, call topic titles) of every project."""
        for rec in self._runner.stream("MATCH (p:Project) RETURN p.id AS id, p.doc AS doc"):
            doc = json.loads(rec["doc"]) if rec["doc"] else {}
            yield rec["id"], doc.get("acronym"), doc.get("title"), doc.get("topic_titles") or []

    def relations(self, org_id: str) -> list[dict[str, Any]]:
        """Links of an organisation that are not collaboration (ROR parent, child, related...)."""
        rows = self._run(
            "OPTIONAL MATCH (m:OrgRecord {canonical_id: $id}) WITH [$id] + collect(m.id) AS ids "
            "MATCH (r:OrgRelation) WHERE r.source_id IN ids OPTIONAL MATCH (t:OrgRecord {id: r.target_id}) "
            "WITH r, coalesce(t.canonical_id, r.target_id) AS target WHERE target <> $id "
            "OPTIONAL MATCH (o:Organisation {id: target}) "
            "RETURN DISTINCT target AS id, r.kind AS kind, o.name AS name ORDER BY kind, id", read=True, id=org_id)
        return [dict(r) for r in rows]

    def municipal_governments(self) -> list[dict[str, Any]]:
        """Organisations linked as the government of a municipality, with their project counts."""
        out = []
        for r in self._run("MATCH (o:Organisation {helix: 'government'}) "
                           "RETURN o.id AS id, o.name AS name, o.country AS country, o.doc AS doc, "
                           "o.nuts3 AS nuts3, o.urban_rural AS urban_rural, "
                           "COUNT { MATCH (o)-[:PARTICIPATES_IN]->(p:Project) RETURN DISTINCT p } AS projects "
                           "ORDER BY id", read=True):
            lau = json.loads(r["doc"]).get("identifiers", {}).get("lau")
            if lau:
                out.append({"id": r["id"], "name": r["name"], "country": r["country"], "lau": lau,
                            "projects": r["projects"], "nuts3": r["nuts3"], "urban_rural": r["urban_rural"]})
        return out

    def municipality(self, key: str) -> dict[str, Any] | None:
        """One LAU municipality by its key `COUNTRY:LAU_CODE`."""
        rows = self._run("MATCH (m:Municipality {key: $key}) RETURN m.doc AS doc", read=True, key=key)
        return json.loads(rows[0]["doc"]) if rows else None

    def location_report(self) -> dict[str, Any]:
        by_method: dict[str, int] = {}
        unlocated: dict[str, int] = {}
        regions_loaded = bool(self._run("MATCH (r:Region) RETURN count(r) AS n", read=True)[0]["n"])
        for org in self._load_orgs(None).values():
            if org.location.nuts3:
                key = org.location.method or "unknown"
                by_method[key] = by_method.get(key, 0) + 1
            else:
                reason = unlocated_reason(org, regions_loaded=regions_loaded)
                unlocated[reason] = unlocated.get(reason, 0) + 1
        return {"located_by": by_method, "unlocated": unlocated}

    # -- read-only Cypher ------------------------------------------------------------------------
    def query(self, cypher: str, parameters: dict[str, Any] | None = None, *, timeout_s: float = 10.0,
              max_rows: int = 1000, max_bytes: int = 5_000_000) -> dict[str, Any]:
        """Run researcher Cypher in a read transaction with a time limit, a row cap and a byte cap, once the plan
        Neo4j gives for it shows that it only reads (`ecosystem.store.cypher_guard`)."""
        database = getattr(self._runner, "database", "neo4j")

        def check(plan: Any, query_type: str | None) -> None:
            check_plan(plan, query_type, database=database)

        answer = self._runner.read_limited(cypher, parameters, timeout_s=timeout_s, max_rows=max_rows,
                                           convert=_serialise, check_plan=check, max_bytes=max_bytes)
        answer.update({"row_cap": max_rows, "timeout_s": timeout_s})
        return answer

    def region_shapes(self, level: int, nuts: str | None = None) -> list[RegionShape]:
        """Stored NUTS boundaries of one level, inside `nuts` (any level, or a country) when given."""
        rows = self._run("MATCH (r:Region) WHERE r.shape IS NOT NULL AND r.shape_level = $level "
                         "AND r.nuts_id STARTS WITH $prefix RETURN r.nuts_id AS id, r.shape AS g ORDER BY id",
                         read=True, level=level, prefix=nuts_prefix(nuts) if nuts else "")
        return [RegionShape(nuts_id=r["id"], level=level, geometry=json.loads(r["g"])) for r in rows]

    def organisation_places(self) -> dict[str, dict[str, Any]]:
        """What the location resolver decided for each organisation placed in a NUTS3 region, for maps:
        id -> lat, lon (the source's), nuts3, method, notes and the region's label point (label_lat, label_lon)."""
        rows = self._run("MATCH (o:Organisation) WHERE o.nuts3 IS NOT NULL "
                         "OPTIONAL MATCH (r:Region {nuts_id: o.nuts3}) "
                         "RETURN o.id AS id, o.lat AS lat, o.lon AS lon, o.nuts3 AS nuts3, o.doc AS doc, r.doc AS rdoc",
                         read=True)
        out: dict[str, dict[str, Any]] = {}
        for r in rows:
            location = (json.loads(r["doc"]) if r["doc"] else {}).get("location") or {}
            region = json.loads(r["rdoc"]) if r["rdoc"] else {}
            out[r["id"]] = {"lat": r["lat"], "lon": r["lon"], "nuts3": r["nuts3"], "method": location.get("method"),
                            "notes": location.get("notes") or [], "label_lat": region.get("label_lat"),
                            "label_lon": region.get("label_lon")}
        return out

    def data_updated(self) -> str | None:
        """When the data last changed (ISO 8601, UTC), or None when the store has not recorded it."""
        rows = self._run("MATCH (m:HelixmapMeta {key: 'meta'}) RETURN m.data_updated AS t", read=True)
        return str(rows[0]["t"]) if rows and rows[0]["t"] else None

    def snapshot(self) -> AbstractContextManager[None]:
        """This thread's reads inside run in one read transaction (`BoltRunner.snapshot`; Neo4j's isolation is
        read-committed). Nests."""
        snapshot = getattr(self._runner, "snapshot", None)
        return snapshot() if snapshot is not None else nullcontext()


def _serialise(value: Any) -> Any:
    """Nodes and relationships as JSON with their properties; paths as lists; the rest as is."""
    from neo4j.graph import Node, Path, Relationship
    from neo4j.time import Date, DateTime, Duration, Time

    if isinstance(value, Node):
        props = dict(value)
        props.pop("doc", None)
        props.pop("name_text", None)
        props.pop("shape", None)
        return {"type": "node", "element_id": value.element_id, "labels": sorted(value.labels), "properties": props}
    if isinstance(value, Relationship):
        props = dict(value)
        props.pop("source", None)
        return {"type": "relationship", "element_id": value.element_id, "rel_type": value.type,
                "start": value.start_node.element_id if value.start_node else None,
                "end": value.end_node.element_id if value.end_node else None, "properties": props}
    if isinstance(value, Path):
        return {"type": "path", "nodes": [_serialise(n) for n in value.nodes],
                "relationships": [_serialise(r) for r in value.relationships]}
    if isinstance(value, list):
        return [_serialise(v) for v in value]
    if isinstance(value, dict):
        return {k: _serialise(v) for k, v in value.items()}
    if isinstance(value, (Date, DateTime, Time, Duration)):
        return str(value)
    return value


def not_supported_query(*_: Any, **__: Any) -> Any:
    raise NotSupportedError("read-only Cypher needs the Neo4j store (start helixmap with --store neo4j://...)")
