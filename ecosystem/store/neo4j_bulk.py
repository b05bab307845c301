"""Opt-in fast path: load an EMPTY local Neo4j store offline with ``neo4j-admin database import full``.

The normal path (`Neo4jStore.apply`) writes through Bolt and is bound by the server's transaction
throughput (see ``bench/neo4j_ceiling.py``). For a first load into an empty store on the same machine, the
offline importer writes the store files directly. In Community Edition it needs the whole DBMS stopped, so
the full path is: compute the records -> write CSV files -> stop the server -> import -> start the server ->
create the schema (constraints and indexes populate from the imported data) -> form the entity-resolution
groups, if any, through Bolt.

What is written is exactly what `Neo4jStore.apply` writes into an empty store: the batch goes through
`Neo4jStore.apply` itself, on a store whose server calls are captured instead of sent (`_Capture`), so record
merging, participation folding, entity resolution and the COLLABORATES_WITH projection are the store's own
code. Batches the capture does not handle (regions, municipalities, postcodes, places: anything
`touches_regions()`) raise `NotSupportedError`; use the normal path for those.

Entity resolution is handled exactly, in two steps. The capture runs the store's own resolution over the
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
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ecosystem.domain.batch import ImportBatch, ImportReport
from ecosystem.domain.errors import NotSupportedError
from ecosystem.domain.models import Organisation
from ecosystem.store.neo4j import Neo4jStore

MANIFEST = "import.json"
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "neo4j"


class _Regroup(Exception):
    """Raised inside `Neo4jStore._resolve` once it has planned groups to form: they are formed after the import."""


class _Capture(Neo4jStore):
    """A `Neo4jStore` on an empty store whose writes are kept in memory instead of sent to a server.

    Only the calls `apply` makes on an empty store for organisations, projects, participations and
    organisation relations are handled; anything else raises `NotSupportedError`. Entity resolution runs up to
    its plan; if the plan forms groups, `regroup` is set and the records stay ungrouped (see the module
    docstring). `meta` is what the store's meta node holds (its resolution overrides are used)."""

    def __init__(self, meta: dict[str, Any] | None = None) -> None:  # no driver, no server
        self.database = "neo4j"
        self.uri = "capture:"
        self.meta = dict(meta or {})
        self.nodes: dict[str, list[dict[str, Any]]] = {}
        self.participations: list[list[Any]] = []
        self.projection: list[list[Any]] | None = None
        self.bumped = False
        self.regroup = False

    def _counts(self) -> dict[str, int]:
        return dict.fromkeys(("organisations", "projects", "participations", "collaborations", "regions"), 0)

    def _create_nodes(self, label: str, rows: list[dict[str, Any]]) -> dict[str, int]:
        stored = self.nodes.setdefault(label, [])
        start = len(stored)
        stored.extend(rows)
        return {row["id"]: start + i for i, row in enumerate(rows)}  # "internal ids": positions in the file

    def _node_ids(self, label: str, keys: list[str]) -> dict[str, int]:
        return {}  # an empty store holds nothing but what this import creates

    def _mark_dirty(self) -> None:
        pass

    def _bump(self) -> None:
        self.bumped = True

    def _run(self, query: str, read: bool = False, **params: Any) -> list[Any]:
        if read and "m.collaborations_dirty AS d" in query:
            return [{"d": False}]
        if read and "m.resolution_overrides AS o" in query:
            return [{"o": self.meta.get("resolution_overrides")}]
        if read and query.startswith("MATCH (o:Organisation) WHERE (o.resolvable OR o.id IN $named) "
                                     "AND o.grouped IS NULL RETURN o.doc AS doc"):
            named = set(params.get("named") or ())
            return [{"doc": row["doc"]} for row in self.nodes.get("Organisation", [])
                    if (row["resolvable"] or row["id"] in named) and row["grouped"] is None]
        if read and query.startswith(("MATCH (n:OrgRelation)", "MATCH (r:OrgRecord)")):
            return []  # what is stored: an empty store holds no relations and no groups
        raise NotSupportedError(f"the bulk import does not handle this step: {query[:80]}")

    def _write(self, work: Any) -> Any:
        raise NotSupportedError("the bulk import does not handle this step (a transaction function)")

    def _grouped(self) -> dict[str, str]:
        return {}  # an empty store holds no groups

    def _projects_of(self, ids: list[str]) -> dict[str, set[str]]:
        wanted = set(ids)
        orgs, projects = self.nodes.get("Organisation", []), self.nodes.get("Project", [])
        out: dict[str, set[str]] = {}
        for o, p, *_ in self.participations:
            oid = orgs[o]["id"]
            if oid in wanted:
                out.setdefault(oid, set()).add(projects[p]["id"])
        return out

    def _group_members(self, canonical_ids: list[str]) -> dict[str, dict[str, Organisation]]:
        # `_resolve` reads the groups to undo right after planning a regrouping: none are stored, and the groups
        # to form are formed after the import, through Bolt
        raise _Regroup

    def _resolve(self, report: ImportReport, *, regions_loaded: bool, review_path: Path | None = None) -> bool:
        try:
            return super()._resolve(report, regions_loaded=regions_loaded, review_path=review_path)
        except _Regroup:
            self.regroup = True
            return False  # the batch is written ungrouped, with the projection of what is written

    def _write_batches(self, query: str, rows: list[Any], size: int = 0, **params: Any) -> None:
        if not rows:
            return
        if "CREATE (o)-[:PARTICIPATES_IN" in query:
            self.participations.extend(rows)
        elif "CREATE (o)-[:LOCATED_IN]->(r)" in query:
            return  # MATCHes a Region: an empty store (no regions in the batch) has none, so nothing is created
        elif query.startswith("UNWIND $rows AS row MERGE (n:OrgRelation {key: row.key})"):
            self.nodes.setdefault("OrgRelation", []).extend(rows)
        else:
            raise NotSupportedError(f"the bulk import does not handle this step: {query[:80]}")

    def _rebuild_collaborations(self, progress: Any = None, projection: list[list[Any]] | None = None,
                                had: int = 1) -> None:
        if had or projection is None:
            raise NotSupportedError("the bulk import only loads an empty store")
        self.projection = projection


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
    capture = _Capture(meta)
    report = capture.apply(batch)
    if capture.regroup:
        # what `apply` counts for the regrouping `finish` does: the groups formed, and the projection rebuilt
        # after them when the batch wrote no participations (else it was counted already)
        report.changed += 1 if capture.projection is not None else 2
    if timings is not None:
        timings["records"] = time.perf_counter() - start
    start = time.perf_counter()
    nodes: list[list[str]] = []
    relationships: list[list[str]] = []
    counts: dict[str, int] = {}
    multiline = False
    for label, rows in capture.nodes.items():
        path = directory / f"nodes_{label}.csv"
        multiline = _write_nodes(path, label, rows) or multiline
        nodes.append([label, path.name])
        counts[label] = len(rows)
    version = int(capture.meta.get("data_version") or 0) + (1 if capture.bumped else 0)
    meta_row = {"key": "meta", "data_version": version, "collaborations_dirty": False,
                "resolution_overrides": capture.meta.get("resolution_overrides")}
    multiline = _write_nodes(directory / "nodes_HelixmapMeta.csv", "HelixmapMeta", [meta_row]) or multiline
    nodes.append(["HelixmapMeta", "nodes_HelixmapMeta.csv"])

    if capture.participations:
        path = directory / "rels_PARTICIPATES_IN.csv"
        for column, name in ((2, "roles"), (4, "sources"), (5, "record ids")):
            if {type(r[column]) for r in capture.participations} - {str, type(None)}:
                raise NotSupportedError(f"participation {name} must be text")
        ecs = _column_type(r[3] for r in capture.participations)
        multiline = _write(path, f":START_ID(Organisation),:END_ID(Project),role,ec_contribution:{ecs},source,"
                           "record_id", [f"{o},{p},{_cell(role)},{_cell(ec)},{_cell(source)},{_cell(record)}\n"
                                         for o, p, role, ec, source, record in capture.participations]) or multiline
        relationships.append(["PARTICIPATES_IN", path.name])
        counts["PARTICIPATES_IN"] = len(capture.participations)
    if capture.projection is not None and capture.projection[0]:
        a, b, weight, funding, first_year, last_year = capture.projection
        path = directory / "rels_COLLABORATES_WITH.csv"
        _write(path, ":START_ID(Organisation),:END_ID(Organisation),weight:long,funding:double,first_year:long,"
               "last_year:long", [f"{x},{y},{w},{f!r},{'' if s is None else s},{'' if e is None else e}\n"
                                  for x, y, w, f, s, e in zip(a, b, weight, funding, first_year, last_year)])
        relationships.append(["COLLABORATES_WITH", path.name])
        counts["COLLABORATES_WITH"] = len(a)
    manifest = {"database": "neo4j", "id_type": "integer", "multiline_fields": multiline, "nodes": nodes,
                "relationships": relationships, "counts": counts, "resolve_after_import": capture.regroup}
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    if timings is not None:
        timings["files"] = time.perf_counter() - start
    return report, manifest


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
    store._run(f"CALL db.awaitIndexes({int(timeout_s)})")
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
