"""Places on the maps, the network API and the exports come from what the resolver decided and the store kept,
on the real sample (regions, CORDIS CSV and JSON imported through the command line)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecosystem.analysis.placement import coordinates_rejected
from ecosystem.domain.filters import NetworkFilter
from ecosystem.domain.location import point_in_polygon
from ecosystem.services.insights import export
from ecosystem.services.networks import network_payload
from ecosystem.store.sqlite import SQLiteStore


@pytest.fixture(scope="module")
def sample(sample_db: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(sample_db)
    yield s
    s.close()


def test_the_store_keeps_the_resolvers_decision(sample: SQLiteStore) -> None:
    places = sample.organisation_places()
    assert len(places) > 1000
    for org_id in sorted(places)[:200]:
        doc = sample.organisation(org_id)
        assert doc is not None
        location = doc["location"]
        kept = places[org_id]
        assert (kept["nuts3"], kept["method"], kept["notes"]) == (location["nuts3"], location["method"],
                                                                  location["notes"])
        assert (kept["lat"], kept["lon"]) == (location["lat"], location["lon"])


def test_every_node_stands_in_its_region_or_at_its_label_point(sample: SQLiteStore) -> None:
    places = sample.organisation_places()
    shapes: dict[str, list[dict]] = {}
    for shape in sample.region_shapes(3):
        shapes.setdefault(shape.nuts_id, []).append(shape.geometry)
    nodes = network_payload(sample, NetworkFilter(), limit=100_000)["nodes"]
    by = {"coordinates": 0, "region": 0, None: 0}
    rejected_drawn = 0
    for node in nodes:
        by[node["placed_by"]] += 1
        kept = places.get(node["id"])
        if node["placed_by"] is None:
            assert node["lat"] is None and node["lon"] is None and (kept is None or kept["label_lat"] is None)
            continue
        assert (node["lat"], node["lon"]) != (0, 0)
        assert kept is not None and node["nuts3"] == kept["nuts3"]
        if node["placed_by"] == "region":
            assert (node["lat"], node["lon"]) == (kept["label_lat"], kept["label_lon"])
            rejected_drawn += (node["lat"], node["lon"]) == (kept["lat"], kept["lon"])
        else:
            assert (node["lat"], node["lon"]) == (kept["lat"], kept["lon"])
            assert not coordinates_rejected(kept["notes"])
            assert kept["method"] == "coordinates" or any(
                point_in_polygon(node["lon"], node["lat"], g) for g in shapes[kept["nuts3"]])
    assert rejected_drawn == 0
    assert by["coordinates"] > 1000 and by["region"] > 50 and by[None] > 0
    # the sample has coordinates the resolver rejected ("postcode preferred"): none of them is drawn
    rejected = {k for k, v in places.items() if coordinates_rejected(v["notes"])}
    assert len(rejected) > 20
    assert all(n["placed_by"] != "coordinates" for n in nodes if n["id"] in rejected)


def test_exports_carry_the_same_places(sample: SQLiteStore) -> None:
    content, _media, _suffix = export(sample, NetworkFilter(), "json")
    nodes = {n["id"]: n for n in json.loads(content)["nodes"]}
    payload = {n["id"]: n for n in network_payload(sample, NetworkFilter(), limit=100_000)["nodes"]}
    assert nodes.keys() == payload.keys()
    for org_id, node in payload.items():
        assert (nodes[org_id]["lat"], nodes[org_id]["lon"], nodes[org_id]["placed_by"]) == (
            node["lat"], node["lon"], node["placed_by"])
