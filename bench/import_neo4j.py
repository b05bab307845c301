"""Benchmark: the full H2020 participation table into an empty Neo4j store, collaborations included.

Prints one JSON object:

- ``import``: end to end (parse + write + the COLLABORATES_WITH projection) into a cleared store: seconds,
  participation rows/s, and the breakdown (parse, organisations, projects, participations, collaborations,
  other = counts, relocation, flags);
- ``check``: ``stats()`` after the load against the known counts of the table;
- ``reimport``: the same import again: seconds and ``changed`` (must be 0, stats unchanged);
- ``naive``: a one-row-per-transaction MERGE loader (per participation row: MERGE organisation, MERGE
  project, MERGE relationship, in its own ``session.execute_write``) on the first 2,000 rows, into a cleared
  store, as rows/s; ``speedup_vs_naive`` is helixmap rows/s over naive rows/s.

``--bulk`` instead measures the opt-in offline path for an empty store (``ecosystem/store/neo4j_bulk.py``, the
project's own server only: it is stopped and started): parse, records (the store's own code, captured), CSV
files, stop + ``neo4j-admin database import full`` + start (``scripts/neo4j import``), schema and index
population (and the entity-resolution groups, if the batch forms any: the H2020 table forms none); then checks
``stats()`` against the table's counts and against the SQLite store's full stats, and re-imports the table
through the normal Bolt path, which must change nothing (the bulk store holds exactly what the normal path
writes).

``--sweep`` instead measures COLLABORATES_WITH batch sizes and writer counts on the loaded graph (the numbers
behind the constants at the top of ``ecosystem/store/neo4j.py``).

Connection: NEO4J_URI / NEO4J_USERNAME / NEO4J_PASSWORD, else ``scripts/neo4j start``. The benchmark clears
the store at its start (the server may be shared: whatever is in it is lost) and again at its end unless
``--keep``. Each phase runs in a fresh process. Targets: 30,000 rows/s end to end and 50x the naive loader.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATA, REPO, in_fresh_process

TABLE = DATA / "cordis" / "h2020_participations_full.csv.gz"
MAPPING = REPO / "examples" / "h2020_participations.toml"
EXPECTED = {"organisations": 35871, "projects": 31451, "participations": 144726, "collaborations": 796670}
NAIVE_ROWS = 2000
TARGET_ROWS_PER_S = 30_000
TARGET_SPEEDUP = 50


def connection() -> dict[str, str]:
    """NEO4J_URI / NEO4J_USERNAME / NEO4J_PASSWORD, else the project's own server (started if needed)."""
    if os.environ.get("NEO4J_URI", "").strip():
        return {"uri": os.environ["NEO4J_URI"], "username": os.environ.get("NEO4J_USERNAME") or "neo4j",
                "password": os.environ.get("NEO4J_PASSWORD", "")}
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "neo4j"), "start"], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=900, check=False)
    values = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    if done.returncode != 0 or "NEO4J_URI" not in values:
        sys.exit(f"no Neo4j server: set NEO4J_URI or fix scripts/neo4j start:\n{done.stderr}")
    return {"uri": values["NEO4J_URI"], "username": values.get("NEO4J_USERNAME", "neo4j"),
            "password": values.get("NEO4J_PASSWORD", "")}


def _open(conn: dict[str, str]) -> Any:
    from ecosystem.store.neo4j import Neo4jStore

    return Neo4jStore(conn["uri"], conn["username"], conn["password"])


def _timed(breakdown: dict[str, float], cpu: dict[str, float], name: str, fn: Any) -> Any:
    """Wall time of a store phase, and the CPU time this (client) process spent in it: the rest is waiting
    for the server."""
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start, start_cpu = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            breakdown[name] = breakdown.get(name, 0.0) + time.perf_counter() - start
            cpu[name] = cpu.get(name, 0.0) + time.process_time() - start_cpu
    return wrapper


def import_phase(conn: dict[str, str], clear: bool) -> dict[str, Any]:
    from importers.table import read_table

    store = _open(conn)
    if clear:
        store.clear()
    before = store.stats()
    breakdown: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for name, method in (("organisations", "create_organisations"), ("projects", "write_projects"),
                         ("participations", "write_participations"), ("collaborations", "rebuild_collaborations")):
        setattr(store, method, _timed(breakdown, cpu, name, getattr(store, method)))
    start, start_cpu = time.perf_counter(), time.process_time()
    batch = read_table(TABLE, MAPPING)
    breakdown["parse"] = time.perf_counter() - start
    cpu["parse"] = time.process_time() - start_cpu
    report = store.apply(batch)
    seconds = time.perf_counter() - start
    breakdown["other"] = seconds - sum(breakdown.values())
    cpu["other"] = time.process_time() - start_cpu - sum(cpu.values())
    stats = store.stats()
    store.close()
    rows = len(batch.participations)
    return {"seconds": round(seconds, 3), "rows": rows, "rows_per_s": round(rows / seconds),
            "breakdown": {k: round(v, 3) for k, v in breakdown.items()},
            "client_cpu": {k: round(v, 3) for k, v in cpu.items()}, "changed": report.changed,
            "stats": {k: stats[k] for k in EXPECTED}, "stats_unchanged": stats == before}


def naive_phase(conn: dict[str, str], n: int) -> dict[str, Any]:
    """The loader helixmap is measured against: one participation row, one transaction, three MERGEs."""
    from neo4j import GraphDatabase

    store = _open(conn)  # the same schema (unique constraints, so each MERGE is an index seek)
    store.clear()
    store.close()
    query = ("MERGE (o:Organisation {id: $pic}) SET o.country = $country, o.activity_type = $type "
             "MERGE (p:Project {id: $rcn}) SET p.start_year = $start_year, p.end_year = $end_year "
             "MERGE (o)-[r:PARTICIPATES_IN]->(p) SET r.role = $role, r.ec_contribution = $ec")

    def number(text: str, kind: Any) -> Any:
        return None if text in ("", "NA") else kind(float(text))

    driver = GraphDatabase.driver(conn["uri"], auth=(conn["username"], conn["password"]))
    start = time.perf_counter()
    with gzip.open(TABLE, "rt", encoding="utf-8", newline="") as fh:
        rows = list(itertools.islice(csv.DictReader(fh), n))
    with driver.session(database="neo4j") as session:
        for row in rows:
            params = {"pic": row["pic"], "country": row["country"], "type": row["type"], "rcn": row["rcn"],
                      "start_year": number(row["start_year"], int), "end_year": number(row["end_year"], int),
                      "role": row["role"], "ec": number(row["contribution"], float)}
            session.execute_write(lambda tx, p=params: tx.run(query, p).consume())
    seconds = time.perf_counter() - start
    count = driver.execute_query("MATCH ()-[r:PARTICIPATES_IN]->() RETURN count(r) AS n", database_="neo4j",
                                 routing_="r").records[0]["n"]
    driver.close()
    store = _open(conn)
    store.clear()
    store.close()
    return {"rows": len(rows), "seconds": round(seconds, 3), "rows_per_s": round(len(rows) / seconds, 1),
            "participations_written": count}


def bulk_phase(conn: dict[str, str], directory: str) -> dict[str, Any]:
    """The offline fast path, end to end from the table file to a store that answers queries."""
    from ecosystem.store import neo4j_bulk
    from importers.table import read_table

    store = _open(conn)
    store.clear()  # the bulk path only loads an empty store
    empty = neo4j_bulk.store_is_empty(store)
    meta = neo4j_bulk.stored_meta(store)
    store.close()
    if not empty:
        return {"error": "the store is not empty after clear()"}
    breakdown: dict[str, float] = {}
    start = time.perf_counter()
    batch = read_table(TABLE, MAPPING)
    breakdown["parse"] = time.perf_counter() - start
    report, manifest = neo4j_bulk.write_import_files(batch, directory, breakdown, meta)
    mark = time.perf_counter()
    done = subprocess.run([sys.executable, str(neo4j_bulk.SCRIPT), "import", directory], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, check=False)
    breakdown["stop_import_start"] = time.perf_counter() - mark
    if done.returncode != 0:
        return {"error": done.stderr[-3000:]}
    for line in done.stderr.splitlines():
        if line.startswith("{"):
            breakdown.update({f"  {k}": v for k, v in json.loads(line)["import_steps_s"].items()})
    values = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    conn = {"uri": values["NEO4J_URI"], "username": values["NEO4J_USERNAME"], "password": values["NEO4J_PASSWORD"]}
    mark = time.perf_counter()
    store = neo4j_bulk.finish(conn["uri"], conn["username"], conn["password"], manifest=manifest)
    breakdown["schema_indexes_and_groups"] = time.perf_counter() - mark
    seconds = time.perf_counter() - start
    stats = store.stats()
    store.close()
    rows = len(batch.participations)
    return {"seconds": round(seconds, 3), "rows": rows, "rows_per_s": round(rows / seconds),
            "breakdown": {k: round(v, 3) for k, v in breakdown.items()}, "changed": report.changed,
            "files": manifest["counts"], "stats": stats, "conn": conn}


def sqlite_stats_phase() -> dict[str, Any]:
    """The full stats of the same table imported into the SQLite store (the reference)."""
    import tempfile

    from ecosystem.store.sqlite import SQLiteStore
    from importers.table import read_table

    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(str(Path(tmp) / "reference.db"))
        store.apply(read_table(TABLE, MAPPING))
        stats = store.stats()
        store.close()
    return {"stats": stats}


def sweep_phase(conn: dict[str, str], sizes: list[int], writers: list[int]) -> dict[str, Any]:
    """Rewrite the whole COLLABORATES_WITH projection with each batch size / writer count (graph loaded)."""
    import ecosystem.store.neo4j as module

    store = _open(conn)
    out = []
    for size, n in itertools.product(sizes, writers):
        store._run_implicit("MATCH ()-[c:COLLABORATES_WITH]->() CALL (c) { DELETE c } IN TRANSACTIONS OF 50000 ROWS")
        module.COLLAB_BATCH, module.COLLAB_WRITERS = size, n
        start = time.perf_counter()
        store._rebuild_collaborations(None, None, had=0)
        seconds = time.perf_counter() - start
        count = store.stats()["collaborations"]
        out.append({"batch": size, "writers": n, "seconds": round(seconds, 2),
                    "relationships_per_s": round(count / seconds), "collaborations": count})
    store.close()
    return {"collaborations": out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="leave the imported graph in the store")
    parser.add_argument("--sweep", action="store_true", help="measure COLLABORATES_WITH batch sizes instead")
    parser.add_argument("--bulk", action="store_true", help="measure the offline neo4j-admin import path instead "
                        "(the project's own server from scripts/neo4j; it is restarted)")
    parser.add_argument("--sizes", default="2000,5000,10000,20000,50000")
    parser.add_argument("--writers", default="1,2")
    args = parser.parse_args()
    conn = connection()
    import importlib.util

    rust = importlib.util.find_spec("neo4j._rust") is not None  # the neo4j-rust-ext packstream codec
    result: dict[str, Any] = {"benchmark": "import_neo4j", "input": TABLE.name, "server": conn["uri"],
                              "neo4j_rust_ext": rust, "cpus": os.cpu_count(),
                              "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    if args.bulk:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            bulk = in_fresh_process(bulk_phase, conn, tmp)
        result["bulk"] = bulk
        if "error" in bulk:
            print(json.dumps(result, indent=2))
            sys.exit(1)
        conn = bulk.pop("conn")
        reference = in_fresh_process(sqlite_stats_phase)["stats"]
        got = bulk.pop("stats")
        result["check"] = {"expected": EXPECTED, "got": {k: got[k] for k in EXPECTED},
                           "ok": {k: got[k] for k in EXPECTED} == EXPECTED,
                           "same_stats_as_sqlite": json.dumps(got, sort_keys=True) == json.dumps(reference,
                                                                                                 sort_keys=True)}
        result["reimport_after_bulk"] = in_fresh_process(import_phase, conn, False)
        result["reimport_after_bulk"].pop("breakdown", None)
        result["reimport_after_bulk"].pop("client_cpu", None)
        result["reimport_after_bulk"]["ok"] = (result["reimport_after_bulk"]["changed"] == 0
                                               and result["reimport_after_bulk"]["stats_unchanged"]
                                               and result["reimport_after_bulk"].pop("stats") == EXPECTED)
        result["targets"] = {"rows_per_s": TARGET_ROWS_PER_S}
        result["within_targets"] = bulk["rows_per_s"] >= TARGET_ROWS_PER_S
    elif args.sweep:
        result["import"] = in_fresh_process(import_phase, conn, True)
        result["sweep"] = in_fresh_process(sweep_phase, conn, [int(s) for s in args.sizes.split(",")],
                                           [int(w) for w in args.writers.split(",")])
    else:
        result["naive"] = in_fresh_process(naive_phase, conn, NAIVE_ROWS)
        result["import"] = in_fresh_process(import_phase, conn, True)
        got = result["import"].pop("stats")
        result["check"] = {"expected": EXPECTED, "got": got, "ok": got == EXPECTED}
        result["reimport"] = in_fresh_process(import_phase, conn, False)
        result["reimport"].pop("breakdown", None)
        result["reimport"].pop("client_cpu", None)
        result["reimport"]["ok"] = (result["reimport"]["changed"] == 0 and result["reimport"]["stats_unchanged"]
                                    and result["reimport"].pop("stats") == EXPECTED)
        result["speedup_vs_naive"] = round(result["import"]["rows_per_s"] / result["naive"]["rows_per_s"], 1)
        result["targets"] = {"rows_per_s": TARGET_ROWS_PER_S, "speedup_vs_naive": TARGET_SPEEDUP}
        result["within_targets"] = (result["import"]["rows_per_s"] >= TARGET_ROWS_PER_S
                                    and result["speedup_vs_naive"] >= TARGET_SPEEDUP)
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    if not args.keep:
        store = _open(conn)
        store.clear()
        store.close()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
