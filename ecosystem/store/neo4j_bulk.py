"""Opt-in fast path: load an EMPTY local Neo4j store offline with ``neo4j-admin database import full``.

The normal path (`Neo4jStore.apply`) writes through Bolt and is bound by the server's transaction
throughput (see ``bench/neo4j_ceiling.py``). For a first load into an empty store on the same machine, the
offline importer writes the store files directly. In Community Edition it needs the whole DBMS stopped, so
the full path is: compute the records -> write CSV files -> stop the server -> import -> start the server ->
create the schema (constraints and indexes populate from the imported data) -> form the entity-resolution
groups, if any, through Bolt.

What is written is exactly what `Neo4jStore.apply` writes into an empty store: the batch goes through the
same import pipeline (`ecosystem.store.pipeline.apply_batch`), with `BulkWriter` as its writer. Its write
primitives (creating nodes, PARTICIPATES_IN, organisation relations, the COLLABORATES_WITH projection) keep their
rows for the CSV files, with the Neo4j store's own node properties and projection code, and its reads answer as
an empty store does, so record merging, participation folding, entity resolution and the projection are decided
once, for every store. A step an import into an empty store never takes (group records, placing organisations)
is refused with `NotSupportedError`; batches that `touches_regions()` (regions, municipalities, postcodes,
places) are refused up front: use the normal path for those.

Entity resolution is handled exactly, in two steps. The pipeline runs the stores' resolution over the
batch's records (with the overrides the store's meta node holds), so the import report counts merged and
uncertain pairs as `apply` does. When that resolution groups records (e.g. two CORDIS rows with one VAT
number), the files hold the records ungrouped, each on its own node with its participations and the
projection of those, and the manifest says ``"resolve_after_import": true``; `finish` then runs the store's
own `Neo4jStore.resolve` through Bolt on the imported store, which forms the groups ((:OrgRecord) nodes,
participations moved to the group's node with their ``record_id``) and brings COLLABORATES_WITH in line, as
`apply` does at its end. Only the records of the groups and their relationships are written through Bolt.
If the process dies between the offline import and `finish`, the store holds the batch ungrouped, and the next
import that brings organisations, or ``helixmap resolve``, forms the groups.

The meta node of the store that is replaced carries over: its ``resolution_overrides``, and its data version,
plus one as `apply` would leave it; when groups are formed after the import, `Neo4jStore.resolve` adds one
more, so that the ungrouped state the server shows in between has a version of its own (caches keyed by it
never mix the two).

Usage (after ``scripts/neo4j start``)::

    python -m ecosystem.store.neo4j_bulk TABLE --mapping MAPPING.toml [--dir DIR]

which checks that the store is empty, writes the files, runs ``scripts/neo4j import DIR`` (stop, import,
start), creates the schema and forms the groups. `write_import_files`, `run_import` and `finish` are the
steps for other callers (`stored_meta` reads what the meta node of the store to be replaced holds).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from ecosystem.domain.batch import ImportBatch, ImportReport
from ecosystem.domain.errors import NotSupportedError
from ecosystem.domain.models import Organisation, OrganisationRelation, Project
from ecosystem.domain.resolution import Overrides
from ecosystem.store.entities import Plan, override_ids, overrides_from_json
from ecosystem.store.neo4j import (
    Neo4jStore,
    _collaborations,
    organisation_row,
    participation_rows,
    project_row,
    relation_rows,
)
from ecosystem.store.pipeline import (
    Held,
    ParticipationKey,
    Participations,
    ParticipationState,
    apply_batch,
)

if TYPE_CHECKING:
    from ecosystem.domain.location import LocationResolver
    from ecosystem.domain.municipalities import MunicipalityMatcher

MANIFEST = "import.json"
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "neo4j"


class BulkWriter:
    """The Neo4j import into an EMPTY store, written to memory (rows for the CSV files) instead of to a server.

    An `ImportWriter` of its own: `ecosystem.store.pipeline.apply_batch` runs the import (record merging,
    participation folding, entity resolution, the COLLABORATES_WITH projection) and this writer answers its reads
    as an empty store does and keeps what it writes, with the Neo4j store's node properties (`organisation_row`,
    `project_row`, `relation_rows`) and projection (`_collaborations`). What an import into an empty store without
    regions never asks (regions, group records, placing organisations) is refused with `NotSupportedError`. When
    the resolution plans groups, `regroup` is set and the records stay ungrouped (see the module docstring).
    `meta` is what the store's meta node holds (its resolution overrides are used)."""

    def __init__(self, meta: dict[str, Any] | None = None) -> None:
        self.meta = dict(meta or {})
        self.nodes: dict[str, list[dict[str, Any]]] = {}
        self.participations: list[list[Any]] = []
        self.projection: list[list[Any]] | None = None
        self.bumped = False
        self.regroup = False
        self._position: dict[str, dict[str, int]] = {}  # label -> id -> position in its file ("internal id")

    def apply(self, batch: ImportBatch) -> ImportReport:
        return apply_batch(self, batch)

    @staticmethod
    def _refuse(step: str) -> NoReturn:
        raise NotSupportedError(f"the bulk import does not handle this step: {step}")

    # what an empty store holds: nothing but what this import creates
    @contextmanager
    def import_transaction(self) -> Iterator[Held]:
        yield Held()

    def write_regions(self, batch: ImportBatch) -> int:
        self._refuse("regions (import them with the normal path)")

    def region_count(self) -> int:
        return 0

    def grouped(self) -> dict[str, str]:
        return {}

    def _organisations(self, ids: Iterable[str] | None) -> dict[str, Organisation]:
        rows = self.nodes.get("Organisation", [])
        if ids is None:
            return {row["id"]: Organisation.model_validate_json(row["doc"]) for row in rows}
        at = self._position.get("Organisation", {})
        return {i: Organisation.model_validate_json(rows[at[i]]["doc"]) for i in ids if i in at}

    def load_organisations(self, ids: list[str]) -> dict[str, Organisation]:
        return self._organisations(ids)

    def all_organisations(self) -> dict[str, Organisation]:
        return self._organisations(None)

    def _create(self, label: str, rows: list[dict[str, Any]]) -> None:
        stored = self.nodes.setdefault(label, [])
        at = self._position.setdefault(label, {})
        for row in rows:
            at[row["id"]] = len(stored)
            stored.append(row)

    def _replace(self, label: str, rows: list[dict[str, Any]]) -> None:
        stored, at = self.nodes.get(label, []), self._position.get(label, {})
        for row in rows:
            if row["id"] in at:
                stored[at[row["id"]]] = row
            else:
                self._create(label, [row])

    def create_organisations(self, orgs: list[Organisation]) -> None:
        self._create("Organisation", [organisation_row(o) for o in orgs])  # no regions: no LOCATED_IN

    def save_organisations(self, orgs: list[Organisation]) -> None:
        self._replace("Organisation", [organisation_row(o) for o in orgs])

    def group_members(self, canonical_ids: list[str]) -> dict[str, dict[str, Organisation]]:
        return {}

    def save_group_records(self, members: dict[str, dict[str, Organisation]]) -> None:
        self._refuse("group records")

    def load_projects(self, ids: list[str]) -> dict[str, Project]:
        return {}

    def write_projects(self, new: list[Project], changed: list[Project]) -> None:
        self._create("Project", [project_row(p) for p in new])
        self._replace("Project", [project_row(p) for p in changed])

    def load_participations(self, project_ids: list[str]) -> dict[ParticipationKey, ParticipationState]:
        return {}

    def write_participations(self, parts: Participations, report: ImportReport) -> int:
        """PARTICIPATES_IN rows by position in the node files, and the projection computed from them, as the
        Neo4j store does for an empty store."""
        orgs, nodes = self._position.get("Organisation", {}), self._position.get("Project", {})
        unknown = sorted({o for _, o, _ in parts.state} - orgs.keys())
        if unknown:
            report.warnings.append(f"{len(unknown)} organisation(s) named only by participations were not stored, "
                                   f"so neither are their participations (first: {unknown[0]})")
        create, update = participation_rows(parts.todo, parts.state, parts.existing, orgs, nodes)
        if update:
            self._refuse("participations already stored")
        self.participations.extend(create)
        self.projection = _collaborations(
            [(pid, oid, orgs[oid], v[1], parts.projects[pid].start_year, parts.projects[pid].end_year)
             for (pid, oid, _), v in parts.state.items() if oid in orgs and pid in nodes])
        return len(create)

    def write_relations(self, relations: list[OrganisationRelation]) -> int:
        rows = relation_rows(relations)
        unique = list({row["key"]: row for row in rows}.values())
        self.nodes.setdefault("OrgRelation", []).extend(unique)
        return len(rows)  # as the Neo4j store counts them

    def location_resolver(self, orgs: list[Organisation]) -> tuple[LocationResolver, MunicipalityMatcher]:
        self._refuse("placing organisations")

    # entity resolution over what is written
    def store_overrides(self, overrides: Overrides | None) -> None:
        self._refuse("storing resolution overrides")

    def stored_overrides(self) -> Overrides | None:
        return overrides_from_json(json.loads(self.meta["resolution_overrides"])
                                   if self.meta.get("resolution_overrides") else None)

    def resolution_records(self, overrides: Overrides | None) -> list[Organisation]:
        named = override_ids(overrides)
        return [Organisation.model_validate_json(row["doc"]) for row in self.nodes.get("Organisation", [])
                if (row["resolvable"] or row["id"] in named) and row["grouped"] is None]

    def record_groups(self) -> dict[str, list[str]]:
        return {}

    def projects_of(self, ids: list[str]) -> dict[str, set[str]]:
        wanted = set(ids)
        orgs, projects = self.nodes.get("Organisation", []), self.nodes.get("Project", [])
        out: dict[str, set[str]] = {}
        for o, p, *_ in self.participations:
            oid = orgs[o]["id"]
            if oid in wanted:
                out.setdefault(oid, set()).add(projects[p]["id"])
        return out

    def defer_regrouping(self, plan: Plan) -> bool:
        self.regroup = True  # the groups are formed after the import, through Bolt (`finish`)
        return True  # the batch is written ungrouped, with the projection of what is written

    def dissolve_group(self, canonical_id: str, members: list[Organisation]) -> None:
        self._refuse("undoing a group")

    def form_group(self, canonical_id: str, record_ids: list[str], records: dict[str, Organisation],
                   organisation: Organisation) -> None:
        self._refuse("forming a group")

    # the projection and the data version
    def mark_dirty(self) -> None:
        """Nothing to note: the files are imported whole or not at all."""

    def collaborations_dirty(self) -> bool:
        return False

    def rebuild_collaborations(self, progress: Any) -> None:
        if self.projection is None:
            self._refuse("a projection of participations already stored")

    def changes(self, counted: int) -> int:
        return counted

    def bump(self, *, regions_changed: bool) -> None:
        self.bumped = True



# --------------------------------------------------------------------------- CSV files


def _cell(value: Any) -> str:
    """One CSV cell as neo4j-admin reads it: no value = empty field, strings always quoted (so '' stays '')."""
    if value is None:
        return ""
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        raise NotSupportedError(f"the bulk import cannot write the number {value!r}")
    return repr(value) if isinstance(value, float) else str(value)


def _column_type(values: Iterable[Any]) -> str:
    kinds = {type(v) for v in values if v is not None}
    if not kinds or kinds == {str}:
        return "string"
    if kinds == {bool}:
        return "boolean"
    if kinds == {int}:
        return "long"
    if kinds <= {int, float}:
        return "double"
    raise NotSupportedError(f"the bulk import cannot write a column of {sorted(k.__name__ for k in kinds)}")


def _write(path: Path, header: str, lines: list[str]) -> bool:
    """Write a CSV file; True if a value holds a line break (the importer must then parse multi-line fields)."""
    text = "".join(lines)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(header + "\n")
        out.write(text)
    return text.count("\n") != len(lines) or "\r" in text


def _write_nodes(path: Path, group: str, rows: list[dict[str, Any]]) -> bool:
    keys = list(dict.fromkeys(k for row in rows for k in row))
    types = {k: _column_type(row.get(k) for row in rows) for k in keys}
    header = [f":ID({group})"] + [k if types[k] == "string" else f"{k}:{types[k]}" for k in keys]
    return _write(path, ",".join(header),
                  [f"{i}," + ",".join([_cell(row.get(k)) for k in keys]) + "\n" for i, row in enumerate(rows)])


def write_import_files(batch: ImportBatch, directory: Path | str, timings: dict[str, float] | None = None,
                       meta: dict[str, Any] | None = None) -> tuple[ImportReport, dict[str, Any]]:
    """Write the CSV files and manifest that load `batch` into an empty store; returns the import report (as
    `Neo4jStore.apply` would give it) and the manifest (also written to ``DIRECTORY/import.json``). `timings`,
    if given, gets the seconds of computing the records and of writing the files. `meta` is what the meta node
    of the (empty) store to be replaced holds (`stored_meta`): its data version and resolution overrides carry
    over. When the manifest says ``resolve_after_import``, `finish` must be given it (see the module docstring)."""
    if batch.touches_regions():
        raise NotSupportedError("the bulk import does not load regions; import them with the normal path")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    writer = BulkWriter(meta)
    report = writer.apply(batch)
    if writer.regroup:
        # what `apply` counts for the regrouping `finish` does: the groups formed, and the projection rebuilt
        # after them when the batch wrote no participations (else it was counted already)
        report.changed += 1 if writer.projection is not None else 2
    if timings is not None:
        timings["records"] = time.perf_counter() - start
    start = time.perf_counter()
    files = _ImportFiles(directory)
    for label, rows in writer.nodes.items():
        files.nodes(label, rows)
    version = int(writer.meta.get("data_version") or 0) + (1 if writer.bumped else 0)
    files.nodes("HelixmapMeta", [{"key": "meta", "data_version": version, "collaborations_dirty": False,
                                  "resolution_overrides": writer.meta.get("resolution_overrides")}], count=False)
    if writer.participations:
        files.participations(writer.participations)
    if writer.projection is not None and writer.projection[0]:
        files.collaborations(writer.projection)
    manifest = {"database": "neo4j", "id_type": "integer", "multiline_fields": files.multiline,
                "nodes": files.node_files, "relationships": files.relationship_files, "counts": files.counts,
                "resolve_after_import": writer.regroup}
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    if timings is not None:
        timings["files"] = time.perf_counter() - start
    return report, manifest


class _ImportFiles:
    """The CSV files of one offline import, and what the manifest lists of them."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.node_files: list[list[str]] = []
        self.relationship_files: list[list[str]] = []
        self.counts: dict[str, int] = {}
        self.multiline = False  # a value holds a line break: the importer must parse multi-line fields

    def nodes(self, label: str, rows: list[dict[str, Any]], *, count: bool = True) -> None:
        path = self.directory / f"nodes_{label}.csv"
        self.multiline = _write_nodes(path, label, rows) or self.multiline
        self.node_files.append([label, path.name])
        if count:
            self.counts[label] = len(rows)

    def participations(self, rows: list[list[Any]]) -> None:
        """[organisation, project (positions in their files), role, EC contribution, source, record id]."""
        for column, name in ((2, "roles"), (4, "sources"), (5, "record ids")):
            if {type(r[column]) for r in rows} - {str, type(None)}:
                raise NotSupportedError(f"participation {name} must be text")
        ecs = _column_type(r[3] for r in rows)
        path = self.directory / "rels_PARTICIPATES_IN.csv"
        self.multiline = _write(path, f":START_ID(Organisation),:END_ID(Project),role,ec_contribution:{ecs},source,"
                                "record_id", [f"{o},{p},{_cell(role)},{_cell(ec)},{_cell(source)},{_cell(record)}\n"
                                              for o, p, role, ec, source, record in rows]) or self.multiline
        self.relationship_files.append(["PARTICIPATES_IN", path.name])
        self.counts["PARTICIPATES_IN"] = len(rows)

    def collaborations(self, projection: list[list[Any]]) -> None:
        """The projection's columns (see `ecosystem.store.neo4j._collaborations`)."""
        path = self.directory / "rels_COLLABORATES_WITH.csv"
        _write(path, ":START_ID(Organisation),:END_ID(Organisation),weight:long,funding:double,first_year:long,"
               "last_year:long", [f"{x},{y},{w},{f!r},{_year(s)},{_year(e)}\n"
                                  for x, y, w, f, s, e in zip(*projection, strict=True)])
        self.relationship_files.append(["COLLABORATES_WITH", path.name])
        self.counts["COLLABORATES_WITH"] = len(projection[0])


def _year(value: int | None) -> str:
    return "" if value is None else str(value)


# --------------------------------------------------------------------------- the offline part and after


def store_is_empty(store: Neo4jStore) -> bool:
    counts = store._counts()
    other = store._run("MATCH (n) WHERE NOT n:HelixmapMeta RETURN count(n) > 0 AS any", read=True)[0]["any"]
    return not any(counts.values()) and not other


def stored_meta(store: Neo4jStore) -> dict[str, Any]:
    """What the store's meta node holds and an import keeps: the data version and the resolution overrides."""
    rows = store._run("MATCH (m:HelixmapMeta {key: 'meta'}) RETURN m.data_version AS data_version, "
                      "m.resolution_overrides AS resolution_overrides", read=True)
    return dict(rows[0]) if rows else {}


def run_import(directory: Path | str, script: Path = SCRIPT, env: dict[str, str] | None = None) -> dict[str, str]:
    """``scripts/neo4j import DIRECTORY``: stop the server, import, start it; returns the connection values.
    `env` replaces the environment of the script (e.g. ``HELIXMAP_NEO4J_HOME`` for a server in another folder)."""
    done = subprocess.run([sys.executable, str(script), "import", str(directory)], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, check=False, env=env)
    if done.returncode != 0:
        raise NotSupportedError(f"scripts/neo4j import failed:\n{done.stderr[-4000:]}")
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


def finish(uri: str, username: str, password: str, timeout_s: float = 600,
           manifest: dict[str, Any] | None = None) -> Neo4jStore:
    """Open the imported store: `Neo4jStore` creates the schema, which is then populated from the data; then,
    when `manifest` (from `write_import_files`) says so, the entity-resolution groups are formed through Bolt."""
    store = Neo4jStore(uri, username, password)
    store._run("CALL db.awaitIndexes($timeout)", timeout=int(timeout_s))
    if manifest is not None and manifest.get("resolve_after_import"):
        store.resolve()  # with the overrides carried over into the meta node
    return store


def main(argv: list[str] | None = None) -> int:
    import argparse
    import os

    from importers.table import read_table

    parser = argparse.ArgumentParser(prog="python -m ecosystem.store.neo4j_bulk", description=__doc__.split("\n\n")[0])
    parser.add_argument("table")
    parser.add_argument("--mapping", required=True)
    home = Path(os.environ.get("HELIXMAP_NEO4J_HOME") or SCRIPT.parent.parent / ".neo4j")
    parser.add_argument("--dir", default=str(home / "import" / "helixmap"),
                        help="where the CSV files go (default: the server's import folder)")
    args = parser.parse_args(argv)
    uri, user = os.environ.get("NEO4J_URI", ""), os.environ.get("NEO4J_USERNAME", "neo4j")
    password = os.environ.get("NEO4J_PASSWORD", "")
    if not uri:
        parser.error("set NEO4J_URI / NEO4J_USERNAME / NEO4J_PASSWORD (scripts/neo4j start prints them)")
    times: dict[str, float] = {}
    start = time.perf_counter()
    store = Neo4jStore(uri, user, password)
    empty = store_is_empty(store)
    meta = stored_meta(store)
    store.close()
    if not empty:
        print("the store is not empty: the bulk import only loads an empty store", file=sys.stderr)
        return 2
    batch = read_table(args.table, args.mapping)
    times["parse"] = time.perf_counter() - start
    report, manifest = write_import_files(batch, args.dir, times, meta)
    conn = run_import(args.dir)
    times["offline_import"] = time.perf_counter() - start - sum(times.values())
    store = finish(conn.get("NEO4J_URI", uri), conn.get("NEO4J_USERNAME", user), conn.get("NEO4J_PASSWORD", password),
                   manifest=manifest)
    times["schema_and_groups"] = time.perf_counter() - start - sum(times.values())
    stats = store.stats()
    store.close()
    print(json.dumps({"seconds": round(time.perf_counter() - start, 3),
                      "breakdown": {k: round(v, 3) for k, v in times.items()}, "counts": manifest["counts"],
                      "report": report.as_dict(), "stats": stats}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
