"""Opt-in fast path: load an EMPTY local Neo4j store offline with ``neo4j-admin database import full``.

The normal path (`Neo4jStore.apply`) writes through Bolt and is bound by the server's transaction
throughput (see ``bench/neo4j_ceiling.py``). For a first load into an empty store on the same machine, the
offline importer writes the store files directly. In Community Edition it needs the whole DBMS stopped, so
the full path is: compute the records -> write CSV files -> stop the server -> import -> start the server ->
create the schema (constraints and indexes populate from the imported data).

What is written is exactly what `Neo4jStore.apply` writes into an empty store: the batch goes through
`Neo4jStore.apply` itself, on a store whose server calls are captured instead of sent (`_Capture`), so record
merging, participation folding and the COLLABORATES_WITH projection are the store's own code. Batches the
capture does not handle (regions, municipalities, postcodes, places: anything `touches_regions()`) raise
`NotSupportedError`; use the normal path for those.

Usage (after ``scripts/neo4j start``)::

    python -m ecosystem.store.neo4j_bulk TABLE --mapping MAPPING.toml [--dir DIR]

which checks that the store is empty, writes the files, runs ``scripts/neo4j import DIR`` (stop, import,
start) and creates the schema. `write_import_files` and `finish` are the two halves for other callers.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterable

from ecosystem.errors import NotSupportedError
from ecosystem.store.base import ImportBatch, ImportReport
from ecosystem.store.neo4j import Neo4jStore

MANIFEST = "import.json"
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "neo4j"


class _Capture(Neo4jStore):
    """A `Neo4jStore` on an empty store whose writes are kept in memory instead of sent to a server.

    Only the calls `apply` makes on an empty store for organisations, projects, participations and
    organisation relations are handled; anything else raises `NotSupportedError`."""

    def __init__(self) -> None:  # no driver, no server
        self.database = "neo4j"
        self.uri = "capture:"
        self.nodes: dict[str, list[dict[str, Any]]] = {}
        self.participations: list[list[Any]] = []
        self.projection: list[list[Any]] | None = None
        self.bumped = False

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
        if read and query.startswith("MATCH (n:OrgRelation)"):
            return []  # _merge_simple reading what is stored
        raise NotSupportedError(f"the bulk import does not handle this step: {query[:80]}")

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


def write_import_files(batch: ImportBatch, directory: Path | str,
                       timings: dict[str, float] | None = None) -> tuple[ImportReport, dict[str, Any]]:
    """Write the CSV files and manifest that load `batch` into an empty store; returns the import report (as
    `Neo4jStore.apply` would give it) and the manifest (also written to ``DIRECTORY/import.json``). `timings`,
    if given, gets the seconds of computing the records and of writing the files."""
    if batch.touches_regions():
        raise NotSupportedError("the bulk import does not load regions; import them with the normal path")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    capture = _Capture()
    report = capture.apply(batch)
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
    meta = [{"key": "meta", "data_version": 1 if capture.bumped else 0, "collaborations_dirty": False}]
    _write_nodes(directory / "nodes_HelixmapMeta.csv", "HelixmapMeta", meta)
    nodes.append(["HelixmapMeta", "nodes_HelixmapMeta.csv"])

    if capture.participations:
        path = directory / "rels_PARTICIPATES_IN.csv"
        roles = {type(r[2]) for r in capture.participations} - {type(None)}
        ecs = _column_type(r[3] for r in capture.participations)
        if roles - {str}:
            raise NotSupportedError("participation roles must be text")
        multiline = _write(path, f":START_ID(Organisation),:END_ID(Project),role,ec_contribution:{ecs},source",
                           [f"{o},{p},{_cell(role)},{_cell(ec)},{_cell(source)}\n"
                            for o, p, role, ec, source in capture.participations]) or multiline
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
                "relationships": relationships, "counts": counts}
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    if timings is not None:
        timings["files"] = time.perf_counter() - start
    return report, manifest


# --------------------------------------------------------------------------- the offline part and after


def store_is_empty(store: Neo4jStore) -> bool:
    counts = store._counts()
    other = store._run("MATCH (n) WHERE NOT n:HelixmapMeta RETURN count(n) > 0 AS any", read=True)[0]["any"]
    return not any(counts.values()) and not other


def run_import(directory: Path | str, script: Path = SCRIPT) -> dict[str, str]:
    """``scripts/neo4j import DIRECTORY``: stop the server, import, start it; returns the connection values."""
    done = subprocess.run([sys.executable, str(script), "import", str(directory)], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, check=False)
    if done.returncode != 0:
        raise NotSupportedError(f"scripts/neo4j import failed:\n{done.stderr[-4000:]}")
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


def finish(uri: str, username: str, password: str, timeout_s: float = 600) -> Neo4jStore:
    """Open the imported store: `Neo4jStore` creates the schema, which is then populated from the data."""
    store = Neo4jStore(uri, username, password)
    store._run(f"CALL db.awaitIndexes({int(timeout_s)})")
    return store


def main(argv: list[str] | None = None) -> int:
    import argparse
    import os

    from importers.table import read_table

    parser = argparse.ArgumentParser(prog="python -m ecosystem.store.neo4j_bulk", description=__doc__.split("\n\n")[0])
    parser.add_argument("table")
    parser.add_argument("--mapping", required=True)
    parser.add_argument("--dir", default=str(SCRIPT.parent.parent / ".neo4j" / "import" / "helixmap"),
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
    store.close()
    if not empty:
        print("the store is not empty: the bulk import only loads an empty store", file=sys.stderr)
        return 2
    batch = read_table(args.table, args.mapping)
    times["parse"] = time.perf_counter() - start
    report, manifest = write_import_files(batch, args.dir, times)
    conn = run_import(args.dir)
    times["offline_import"] = time.perf_counter() - start - sum(times.values())
    store = finish(conn.get("NEO4J_URI", uri), conn.get("NEO4J_USERNAME", user), conn.get("NEO4J_PASSWORD", password))
    times["schema"] = time.perf_counter() - start - sum(times.values())
    stats = store.stats()
    store.close()
    print(json.dumps({"seconds": round(time.perf_counter() - start, 3),
                      "breakdown": {k: round(v, 3) for k, v in times.items()}, "counts": manifest["counts"],
                      "report": report.as_dict(), "stats": stats}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
