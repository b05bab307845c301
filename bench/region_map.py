"""Benchmark: region links (`GET /api/v1/region-links`) and the region flow map page (`/maps/regions`).

Prints one JSON object. `sample`: the CORDIS organisation sample with the real regions (organisations placed
in NUTS3 regions): wall and CPU seconds to build region links cold (the collaboration graph is built first
and timed apart) and warm (cached), and to build and render the page, for Denmark (NUTS 3), Germany (NUTS 2)
and all of Europe (NUTS 3), with page sizes. `full` (skipped with --sample-only): the full H2020
participation table (35,871 organisations, ~797k links; it gives countries, not regions, so organisations
count in their country's stand-in region): the same for all of Europe and for Germany, the aggregation's
cost over every link.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import DATA, REPO, in_fresh_process

REGION_FILES = ("regions/nuts2021_typology_labelpoints.csv", "regions/nuts2021_codes_names.csv",
                "regions/NUTS_RG_20M_2021_4326_LEVL_3.geojson", "regions/NUTS_RG_60M_2021_4326.geojson",
                "regions/postcode_to_nuts3_2024.csv.gz",
                "regions/nuts3_2021_to_2024.csv", "regions/nuts3_2016_to_2021.csv")
SAMPLE = DATA / "cordis" / "h2020_organization_sample.csv"
TABLE = DATA / "cordis" / "h2020_participations_full.csv.gz"
MAPPING = REPO / "examples" / "h2020_participations.toml"
VIEWS = (("DK", 3), ("DE", 2), (None, 3))


CPU: dict[str, float] = {}


def timed(fn: Callable[[], Any], name: str = "") -> tuple[Any, float]:
    """The value and wall seconds; CPU seconds go to CPU[name] (this machine may be shared: CPU is the cost)."""
    start, cpu = time.perf_counter(), time.process_time()
    value = fn()
    CPU[name] = round(time.process_time() - cpu, 3)
    return value, round(time.perf_counter() - start, 3)


def import_phase(db: str, full: bool) -> dict[str, Any]:
    from ecosystem.store.sqlite import SQLiteStore
    from importers.cordis import read_cordis
    from importers.eurostat import read_regions
    from importers.table import read_table

    store = SQLiteStore(db)
    _, regions_s = timed(lambda: store.apply(read_regions([DATA / f for f in REGION_FILES],
                                                          cache_dir=Path(db).parent / "cache")))
    if full:
        _, data_s = timed(lambda: store.apply(read_table(TABLE, MAPPING)))
    else:
        _, data_s = timed(lambda: store.apply(read_cordis([SAMPLE], cache_dir=Path(db).parent / "cache")))
    store.close()
    return {"import_regions_seconds": regions_s, "import_data_seconds": data_s}


def views_phase(db: str, views: tuple[tuple[str | None, int], ...]) -> dict[str, Any]:
    from api.pages.i18n import catalogue
    from ecosystem.domain.filters import network_filter
    from ecosystem.services.networks import collaboration_graph
    from ecosystem.services.region_links import region_links, region_map
    from ecosystem.store.sqlite import SQLiteStore
    from visualisations.regions import drawable_links, render_region_map

    store = SQLiteStore(db)
    graph, graph_s = timed(lambda: collaboration_graph(store), "graph")
    out: dict[str, Any] = {"graph": {"seconds": graph_s, "cpu_seconds": CPU["graph"],
                                     "organisations": graph.number_of_nodes(), "links": graph.number_of_edges()},
                           "views": []}
    for nuts, level in views:
        flt = network_filter(nuts=[nuts] if nuts else [])
        payload, links_s = timed(lambda: region_links(store, flt, level), "links")  # noqa: B023
        _, warm_s = timed(lambda: region_links(store, flt, level))  # noqa: B023
        page, map_s = timed(lambda: region_map(store, flt, level))  # noqa: B023
        html, render_s = timed(lambda: render_region_map(page, messages=catalogue("en")), "render")  # noqa: B023
        out["views"].append({
            "nuts": nuts, "level": level, "regions": payload["totals"]["regions"],
            "partner_regions": payload["totals"]["partner_regions"], "links": payload["totals"]["links"],
            "organisation_pairs": payload["totals"]["organisation_pairs"], "drawn_links": len(drawable_links(page)[0]),
            "region_links_seconds": links_s, "region_links_cpu_seconds": CPU["links"],
            "region_links_warm_seconds": warm_s,
            "region_map_payload_seconds": map_s, "render_seconds": render_s, "render_cpu_seconds": CPU["render"],
            "page_kib": round(len(html.encode()) / 1024, 1)})
    store.close()
    return out


def run(full: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "bench.db")
        imported = in_fresh_process(import_phase, db, full)
        views = ((None, 3), ("DE", 3)) if full else VIEWS
        return {"import": imported, **in_fresh_process(views_phase, db, views)}


def main() -> None:
    result: dict[str, Any] = {"benchmark": "region_map", "sample": {"input": SAMPLE.name, **run(False)}}
    if "--sample-only" not in sys.argv:
        result["full"] = {"input": TABLE.name, **run(True)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
