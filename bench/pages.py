"""Benchmark: the atlas pages on the full H2020 participation table (or a given store).

Prints one JSON object: the application's start (the pages warm what every page reads before serving), then for
each page type the first request right after the start (the countries' region pages are still being warmed in a
background thread then, so a first request may wait for them or share the CPU), how
long that background warm-up still ran after those first requests, and warm p50 / p95 / max over repeated requests
once it is done, in milliseconds, plus peak RSS.
Target (issue 11): search, profile and region pages under 300 ms p95 warm.

    python bench/pages.py                 # imports the full table into a temporary SQLite store first
    python bench/pages.py --db PATH.db    # a SQLite store (the full table is imported into it when it is missing)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATA, REPO, in_fresh_process, peak_rss_mb

TABLE = DATA / "cordis" / "h2020_participations_full.csv.gz"
MAPPING = REPO / "examples" / "h2020_participations.toml"
WARM_RUNS = 20


def import_phase(db: str) -> dict[str, Any]:
    from ecosystem.store.sqlite import SQLiteStore
    from importers.table import read_table

    store = SQLiteStore(db)
    store.apply(read_table(TABLE, MAPPING))
    store.close()
    return {}


def page_urls(client: Any) -> dict[str, str]:
    """One URL per page type, chosen from the store itself (the best-connected organisation and its place)."""
    found = client.get("/api/v1/organisations", params={"q": "universit", "limit": 1}).json()["items"]
    hit = found[0] if found else client.get("/api/v1/organisations", params={"limit": 1}).json()["items"][0]
    country = hit.get("country") or "DE"
    profile = f"/organisations/{hit['id']}"
    urls = {"home": "/", "search_words": "/search?q=universit",
            "search_filters": f"/search?country={country}&helix=academia&page=3",
            "profile": profile,
            "profile_finder_filtered": f"{profile}?helix=civil_society&favour_rural_civil=true&exclude_hubs=true",
            "region_country": f"/regions/{country}", "clusters": "/clusters", "cluster": "/clusters/1"}
    if hit.get("nuts3"):  # a store without the regions data has countries only
        urls.update({"region_nuts2": f"/regions/{hit['nuts3'][:4]}", "region_nuts3": f"/regions/{hit['nuts3']}"})
    return urls


def pages_phase(db: str) -> dict[str, Any]:
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

    from api.app import create_app
    from ecosystem.services.startup import BACKGROUND_THREAD
    from ecosystem.store.sqlite import SQLiteStore

    store = SQLiteStore(db)
    started = time.perf_counter()
    client = TestClient(create_app(store=store))
    client.__enter__()  # runs the application's start-up (then the region pages warm in the background)
    out_start = round((time.perf_counter() - started) * 1000, 1)
    urls = page_urls(client)
    out: dict[str, Any] = {"start_ms": out_start, "pages": {}}
    first: dict[str, tuple[int, float]] = {}
    for name, url in urls.items():  # each page type once, right after the start
        start = time.perf_counter()
        status = client.get(url).status_code
        first[name] = (status, (time.perf_counter() - start) * 1000)
    waited = time.perf_counter()
    for thread in threading.enumerate():  # the background warm-up shares the CPU: measure warm pages after it
        if thread.name == BACKGROUND_THREAD:
            thread.join()
    out["background_warm_left_ms"] = round((time.perf_counter() - waited) * 1000, 1)
    for name, url in urls.items():
        status, cold = first[name]
        times = []
        for _ in range(WARM_RUNS):
            start = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        out["pages"][name] = {"url": url, "status": status, "first_ms": round(cold, 1),
                              "p50_ms": round(statistics.median(times), 1),
                              "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1), "max_ms": round(times[-1], 1)}
    out["peak_rss_mb"] = peak_rss_mb()
    client.__exit__(None, None, None)
    store.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="a SQLite store (imported from the full H2020 table when missing)")
    args = parser.parse_args()
    result: dict[str, Any] = {"benchmark": "pages", "warm_runs": WARM_RUNS}
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or str(Path(tmp) / "h2020.db")
        if not Path(db).exists():
            result["import"] = in_fresh_process(import_phase, db)
        result.update(in_fresh_process(pages_phase, db))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
