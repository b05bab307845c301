"""Benchmark: what the Neo4j server itself can write here, with no client data in the way.

The graph of the full H2020 participation table (35,871 organisations, 31,451 projects, 144,726
PARTICIPATES_IN, one LOCATED_IN per organisation, 796,670 COLLABORATES_WITH with 3 properties) is created
purely server-side: nodes by ``UNWIND range(...) CREATE``, relationships between them by internal id, the
endpoints computed in Cypher from the row number (parameters are two integers per transaction). This is the
upper bound of any Bolt/Cypher loader on this server and machine: a client that ships real data can only be
slower. Prints one JSON object: per phase seconds, nodes/s or relationships/s, server CPU seconds (when the
server is the project's own, from ``scripts/neo4j``), and ``minimum_end_to_end_s``, the sum of the phases
at the best measured rates, against the 4.8 s the target of 30,000 participation rows/s allows.

Variants of the COLLABORATES_WITH phase (``--variants``):

- ``client``: client transactions of ``--batch`` rows, uniform random endpoints (as the store writes them);
- ``sorted``: the same, rows ordered by start node (each transaction touches few start nodes);
- ``in_tx``: one auto-commit query, ``CALL { ... } IN TRANSACTIONS OF --batch ROWS``, uniform endpoints;
- ``props4``: ``client`` with the store's 4 properties (weight, funding, first_year, last_year);
- ``noprops``: ``client`` without properties (what the properties cost);
- ``real``: the real 796,670 pairs and values of the H2020 projection (computed by the store's own code), in
  the store's order (by start node, then end node), read from chunk nodes uploaded beforehand (not timed), so
  each transaction still gets only one integer parameter: the real degree distribution and order, no client
  data in the timed part;
- ``real2``: ``real`` by two concurrent sessions, each on its own half of the chunks (disjoint start nodes);
- ``real_params``: the same pairs sent as parameters with the store's own query (what ``Neo4jStore`` does):
  the difference to ``real`` is the cost of shipping the data over Bolt.

Connection as ``bench/import_neo4j.py`` (NEO4J_URI / NEO4J_USERNAME / NEO4J_PASSWORD, else
``scripts/neo4j start``). The store is cleared at the start and the end (whatever is in it is lost).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATA, REPO
from import_neo4j import connection

ORGS, PROJECTS, PARTICIPATIONS, REGIONS, COLLABS = 35_871, 31_451, 144_726, 1_514, 796_670
ROWS = PARTICIPATIONS
TARGET_S = ROWS / 30_000
DOC = "x" * 400  # the store keeps each record's JSON document on its node; 400 characters is typical
# endpoints: a multiplicative hash of the row number, so pairs spread over all nodes like real ones
HASH_A, HASH_B = 2_654_435_761, 40_503


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def server_pid() -> int | None:
    """The pid of the project's own server (``scripts/neo4j``), to read its CPU time; None if not ours."""
    try:
        state = json.loads((REPO / ".neo4j" / "run" / "state.json").read_text())
        uri = os.environ.get("NEO4J_URI", "")
        if uri and not uri.endswith(f":{state['port']}"):
            return None
        return int(state["pid"])
    except (OSError, ValueError, KeyError):
        return None


def cpu_seconds(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


class Runner:
    def __init__(self, driver: Any, pid: int | None) -> None:
        self.driver, self.pid = driver, pid

    def write(self, query: str, **params: Any) -> None:
        with self.driver.session(database="neo4j") as session:
            session.execute_write(lambda tx: tx.run(query, params).consume())

    def auto(self, query: str, **params: Any) -> None:
        with self.driver.session(database="neo4j") as session:
            session.run(query, params).consume()

    def read(self, query: str, **params: Any) -> Any:
        return self.driver.execute_query(query, params, database_="neo4j", routing_="r").records

    def phase(self, name: str, count: int, unit: str, work: Any) -> dict[str, Any]:
        before_cpu, load_before = cpu_seconds(self.pid), load()
        start = time.perf_counter()
        work()
        seconds = time.perf_counter() - start
        after_cpu = cpu_seconds(self.pid)
        out = {"phase": name, "count": count, "seconds": round(seconds, 3), f"{unit}_per_s": round(count / seconds),
               "load_before": load_before, "load_after": load()}
        if before_cpu is not None and after_cpu is not None:
            out["server_cpu_s"] = round(after_cpu - before_cpu, 2)
        print(json.dumps(out), file=sys.stderr, flush=True)
        return out


def clear(conn: dict[str, str]) -> None:
    sys.path.insert(0, str(REPO))
    from ecosystem.store.neo4j import Neo4jStore

    store = Neo4jStore(conn["uri"], conn["username"], conn["password"])  # the store's schema (constraints)
    store.clear()
    store.close()


def real_projection(o0: int) -> list[list[Any]]:
    """The H2020 COLLABORATES_WITH projection as the store computes it, endpoints as internal ids o0 + n of the
    organisations created here (organisation n of the bulk capture, in its order)."""
    from ecosystem.store.neo4j_bulk import BulkWriter
    from importers.table import read_table

    capture = BulkWriter()
    capture.apply(read_table(DATA / "cordis" / "h2020_participations_full.csv.gz",
                             REPO / "examples" / "h2020_participations.toml"))
    a, b, *values = capture.projection
    return [[o0 + x for x in a], [o0 + y for y in b], *values]


def batches(total: int, size: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + size, total) - 1) for lo in range(0, total, size)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=5_000, help="relationships per transaction (store: 5,000)")
    parser.add_argument("--variants", default="real,real_params,client,sorted,in_tx,props4,noprops")
    args = parser.parse_args()
    from neo4j import GraphDatabase

    conn = connection()
    pid = server_pid()
    driver = GraphDatabase.driver(conn["uri"], auth=(conn["username"], conn["password"]),
                                  notifications_min_severity="OFF")
    run = Runner(driver, pid)
    result: dict[str, Any] = {"benchmark": "neo4j_ceiling", "server": conn["uri"], "cpus": os.cpu_count(),
                              "batch": args.batch, "load_average_at_start": load(), "phases": []}
    phases: list[dict[str, Any]] = result["phases"]
    clear(conn)

    # a commit of one tiny write: what every transaction of a one-row-per-transaction loader pays at least
    def commits() -> None:
        for i in range(200):
            run.write("MERGE (m:HelixmapMeta {key: 'ceiling'}) SET m.n = $i", i=i)
    phases.append(run.phase("single_row_commits", 200, "commits", commits))

    node_batch = 10_000

    def nodes(label: str, total: int, extra: str) -> Any:
        def work() -> None:
            for lo, hi in batches(total, node_batch):
                run.write(f"UNWIND range($lo, $hi) AS i CREATE (:{label} {{id: toString(i), {extra}}})", lo=lo, hi=hi)
        return work

    phases.append(run.phase("organisations", ORGS, "nodes", nodes(
        "Organisation", ORGS, "name: 'organisation ' + i, country: 'DE', helix: 'academia', "
        "helix_confidence: 0.9, urban_rural: 'unknown', name_text: 'organisation ' + i, doc: $doc".replace(
            "$doc", repr(DOC)))))
    phases.append(run.phase("projects", PROJECTS, "nodes", nodes(
        "Project", PROJECTS, f"acronym: 'P' + i, start_year: 2014 + i % 7, end_year: 2018 + i % 7, doc: {DOC!r}")))
    phases.append(run.phase("regions", REGIONS, "nodes", nodes("Region", REGIONS, "level: 3, country: 'DE'")))

    def ids(label: str) -> list[int]:
        return run.read(f"MATCH (n:{label}) RETURN collect(id(n)) AS ids")[0]["ids"]
    org_ids, project_ids, region_ids = ids("Organisation"), ids("Project"), ids("Region")
    # internal ids of a fresh store are consecutive; after a clear they may not be, so check
    contiguous = all(max(x) - min(x) + 1 == len(x) for x in (org_ids, project_ids, region_ids))
    result["contiguous_ids"] = contiguous
    if not contiguous:
        sys.exit("node ids are not consecutive (the store held data before): restart with scripts/neo4j start "
                 "--fresh")
    o0, p0, r0 = min(org_ids), min(project_ids), min(region_ids)

    def rels(name: str, total: int, query: str, batch: int = args.batch, **params: Any) -> Any:
        def work() -> None:
            for lo, hi in batches(total, batch):
                run.write(query, lo=lo, hi=hi, **params)
        return work

    pairs = "MATCH (a) WHERE id(a) = $o0 + (i * $ha) % $n MATCH (b) WHERE id(b) = $o0 + (i * $hb + 1) % $n "
    common = {"o0": o0, "n": ORGS, "ha": HASH_A, "hb": HASH_B}
    phases.append(run.phase("participates_in", PARTICIPATIONS, "relationships", rels(
        "participates_in", PARTICIPATIONS,
        "UNWIND range($lo, $hi) AS i MATCH (a) WHERE id(a) = $o0 + (i * $ha) % $n "
        "MATCH (b) WHERE id(b) = $p0 + (i * $hb) % $m "
        f"CREATE (a)-[:PARTICIPATES_IN {{role: 'participant', ec_contribution: 1000.5 * i, source: {DOC[:120]!r}}}]->(b)",
        o0=o0, p0=p0, n=ORGS, m=PROJECTS, ha=HASH_A, hb=HASH_B)))
    phases.append(run.phase("located_in", ORGS, "relationships", rels(
        "located_in", ORGS, "UNWIND range($lo, $hi) AS i MATCH (a) WHERE id(a) = $o0 + i "
        "MATCH (r) WHERE id(r) = $r0 + i % $k CREATE (a)-[:LOCATED_IN]->(r)", o0=o0, r0=r0, k=REGIONS)))

    props3 = "{weight: 1 + i % 5, first_year: 2014 + i % 7, last_year: 2020 + i % 5}"
    props4 = "{weight: 1 + i % 5, funding: 12345.5 * (i % 1000), first_year: 2014 + i % 7, last_year: 2020 + i % 5}"
    collab = {
        "client": f"UNWIND range($lo, $hi) AS i {pairs}CREATE (a)-[:COLLABORATES_WITH {props3}]->(b)",
        # ~22 consecutive rows share a start node (796,670 / 35,871), ends spread as before
        "sorted": "UNWIND range($lo, $hi) AS i MATCH (a) WHERE id(a) = $o0 + i / 23 "
                  "MATCH (b) WHERE id(b) = $o0 + (i * $hb + 1) % $n "
                  f"CREATE (a)-[:COLLABORATES_WITH {props3}]->(b)",
        "props4": f"UNWIND range($lo, $hi) AS i {pairs}CREATE (a)-[:COLLABORATES_WITH {props4}]->(b)",
        "noprops": f"UNWIND range($lo, $hi) AS i {pairs}CREATE (a)-[:COLLABORATES_WITH]->(b)",
    }
    delete = "MATCH ()-[c:COLLABORATES_WITH]->() CALL (c) { DELETE c } IN TRANSACTIONS OF 50000 ROWS"
    variants = args.variants.split(",")
    if {"real", "real2", "real_params"} & set(variants):
        projection = real_projection(o0)
        result["real_pairs"] = len(projection[0])
        chunks = batches(len(projection[0]), args.batch)
        for k, (lo, hi) in enumerate(chunks):  # untimed upload of the real pairs, -1 for no year
            run.write("CREATE (:CeilingChunk {k: $k, a: $a, b: $b, w: $w, f: $f, fy: $fy, ly: $ly})", k=k,
                      **{name: [-1 if v is None else v for v in column[lo:hi + 1]]
                         for name, column in zip(("a", "b", "w", "f", "fy", "ly"), projection)})
    real_query = ("MATCH (c:CeilingChunk {k: $k}) WITH c.a AS a, c.b AS b, c.w AS w, c.fy AS fy, "
                  "c.ly AS ly UNWIND range(0, size(a) - 1) AS i MATCH (x) WHERE id(x) = a[i] "
                  "MATCH (y) WHERE id(y) = b[i] CREATE (x)-[:COLLABORATES_WITH {weight: w[i], "
                  "first_year: CASE WHEN fy[i] < 0 THEN null ELSE fy[i] END, "
                  "last_year: CASE WHEN ly[i] < 0 THEN null ELSE ly[i] END}]->(y)")
    for variant in variants:
        if variant == "real2":
            def work() -> None:
                from concurrent.futures import ThreadPoolExecutor

                half = (len(chunks) + 1) // 2

                def one(ks: range) -> None:
                    for k in ks:
                        run.write(real_query, k=k)
                with ThreadPoolExecutor(2) as pool:
                    list(pool.map(one, (range(0, half), range(half, len(chunks)))))
        elif variant == "real":
            def work() -> None:
                for k in range(len(chunks)):
                    run.write("MATCH (c:CeilingChunk {k: $k}) WITH c.a AS a, c.b AS b, c.w AS w, c.fy AS fy, "
                              "c.ly AS ly UNWIND range(0, size(a) - 1) AS i MATCH (x) WHERE id(x) = a[i] "
                              "MATCH (y) WHERE id(y) = b[i] CREATE (x)-[:COLLABORATES_WITH {weight: w[i], "
                              "first_year: CASE WHEN fy[i] < 0 THEN null ELSE fy[i] END, "
                              "last_year: CASE WHEN ly[i] < 0 THEN null ELSE ly[i] END}]->(y)", k=k)
        elif variant == "real_params":
            def work() -> None:
                a, b, weight, funding, first_year, last_year = projection
                query = ("UNWIND range(0, size($a) - 1) AS i MATCH (x:Organisation) WHERE id(x) = $a[i] "
                         "MATCH (y:Organisation) WHERE id(y) = $b[i] "
                         "CREATE (x)-[:COLLABORATES_WITH {weight: $w[i], funding: $f[i], first_year: $fy[i], "
                         "last_year: $ly[i]}]->(y)")
                for lo, hi in chunks:
                    hi += 1
                    run.write(query, a=a[lo:hi], b=b[lo:hi], w=weight[lo:hi], f=funding[lo:hi],
                              fy=first_year[lo:hi], ly=last_year[lo:hi])
        elif variant == "in_tx":
            def work() -> None:
                run.auto(f"UNWIND range(0, $total - 1) AS i CALL (i) {{ {pairs}"
                         f"CREATE (a)-[:COLLABORATES_WITH {props3}]->(b) }} IN TRANSACTIONS OF {args.batch} ROWS",
                         total=COLLABS, **common)
        else:
            work = rels(variant, COLLABS, collab[variant], **common)
        phases.append(run.phase(f"collaborates_with_{variant}", COLLABS, "relationships", work))
        run.auto(delete)

    run.auto("MATCH (c:CeilingChunk) DELETE c")
    best = {p["phase"]: p["seconds"] for p in phases}
    collab_best = min(v for k, v in best.items() if k.startswith("collaborates_with_") and k not in (
        "collaborates_with_noprops", "collaborates_with_real_params"))
    minimum = (best["organisations"] + best["projects"] + best["participates_in"] + best["located_in"]
               + collab_best)
    result["minimum_end_to_end_s"] = round(minimum, 2)
    result["minimum_rows_per_s"] = round(ROWS / minimum)
    result["target_s"] = round(TARGET_S, 2)
    result["reachable_by_bolt"] = minimum <= TARGET_S
    result["load_average_at_end"] = load()
    run.write("MATCH (m:HelixmapMeta {key: 'ceiling'}) DELETE m")
    clear(conn)
    driver.close()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
