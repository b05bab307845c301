"""Benchmark: the full H2020 participation table into a fresh SQLite store, then the full projection.

Prints one JSON object: import seconds, rows/s, peak RSS; projection seconds, nodes, edges, peak RSS.
Targets on a 2-core machine: import < 15 s, projection < 10 s, peak RSS < 2 GB.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATA, REPO, in_fresh_process

TABLE = DATA / "cordis" / "h2020_participations_full.csv.gz"
MAPPING = REPO / "examples" / "h2020_participations.toml"


def import_phase(db: str) -> dict[str, Any]:
    from ecosystem.store.sqlite import SQLiteStore
    from importers.table import read_table

    start = time.perf_counter()
    store = SQLiteStore(db)
    batch = read_table(TABLE, MAPPING)
    parsed = time.perf_counter() - start
    report = store.apply(batch)
    seconds = time.perf_counter() - start
    stats = store.stats()
    store.close()
    with gzip.open(TABLE, "rt", encoding="utf-8") as fh:
        rows = sum(1 for _ in fh) - 1
    return {"seconds": round(seconds, 3), "parse_seconds": round(parsed, 3), "rows": rows,
            "rows_per_s": round(rows / seconds), "organisations": stats["organisations"],
            "projects": stats["projects"], "participations": stats["participations"],
            "collaborations": stats["collaborations"], "changed_rows": report.changed}


def projection_phase(db: str) -> dict[str, Any]:
    from ecosystem.domain.filters import NetworkFilter
    from ecosystem.services.networks import build_collaboration_graph
    from ecosystem.store.sqlite import SQLiteStore

    store = SQLiteStore(db)
    start = time.perf_counter()
    graph = build_collaboration_graph(store, NetworkFilter())
    seconds = time.perf_counter() - start
    return {"seconds": round(seconds, 3), "nodes": graph.number_of_nodes(), "edges": graph.number_of_edges()}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.db")
        result = {"benchmark": "import_sqlite", "input": TABLE.name,
                  "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
                  "import": in_fresh_process(import_phase, db),
                  "reimport": in_fresh_process(import_phase, db),
                  "projection": in_fresh_process(projection_phase, db)}
        result["targets"] = {"import_s": 15, "projection_s": 10, "peak_rss_mb": 2048}
        result["within_targets"] = (result["import"]["seconds"] < 15 and result["projection"]["seconds"] < 10
                                    and max(result["import"]["peak_rss_mb"],
                                            result["projection"]["peak_rss_mb"]) < 2048)
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
