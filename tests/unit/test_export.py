"""Exports read back with the tools' own readers: same organisations, links and attributes."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any

import networkx as nx
import pytest

from ecosystem.analysis.export import EXPORT_FORMATS, export_graph
from ecosystem.domain.errors import BadInputError

HOSTILE = 'Fondation "<Santé> & Co" \x07'


def small_graph(reverse: bool = False) -> nx.Graph:
    """Three organisations, one without region or coordinates; one link without years."""
    nodes = [
        ("111", {"id": "111", "name": "Universiteit Gent", "helix": "academia", "urban_rural": "urban",
                 "country": "BE", "nuts3": "BE234", "region_name": "Arr. Gent", "city": "Gent", "lat": 51.05,
                 "lon": 3.72, "degurba": "city", "tags": "Students; Researchers"}),
        ("222", {"id": "222", "name": HOSTILE, "helix": "civil_society", "urban_rural": "rural", "country": "FR",
                 "nuts3": "FRK24", "region_name": "Cantal", "city": None, "lat": None, "lon": None,
                 "degurba": "rural area"}),
        ("333", {"id": "333", "name": "", "helix": "industry", "urban_rural": "unknown", "country": "US",
                 "nuts3": None, "region_name": None, "city": None, "lat": None, "lon": None, "degurba": None}),
    ]
    edges = [("111", "222", {"weight": 3, "funding": 1250000.5, "first_year": 2015, "last_year": 2020}),
             ("333", "111", {"weight": 1, "funding": 0, "first_year": None, "last_year": None})]
    graph = nx.Graph()
    graph.add_nodes_from(reversed(nodes) if reverse else nodes)
    graph.add_edges_from(reversed(edges) if reverse else edges)
    return graph


CLUSTERS = {"111": 1, "222": 1, "333": 2}
CLEAN_HOSTILE = 'Fondation "<Santé> & Co" '  # XML 1.0 cannot carry the bell character: it is dropped there


def expected_nodes(hostile: str = HOSTILE) -> dict[str, dict[str, Any]]:
    return {
        "111": {"label": "Universiteit Gent", "helix": "academia", "urban_rural": "urban", "region": "BE234",
                "region_name": "Arr. Gent", "country": "BE", "city": "Gent", "lat": 51.05, "lon": 3.72,
                "degurba": "city", "cluster": 1, "tags": "Students; Researchers"},
        "222": {"label": hostile, "helix": "civil_society", "urban_rural": "rural", "region": "FRK24",
                "region_name": "Cantal", "country": "FR", "degurba": "rural area", "cluster": 1},
        "333": {"label": "333", "helix": "industry", "urban_rural": "unknown", "country": "US", "cluster": 2},
    }


EXPECTED_EDGES = {("111", "222"): {"weight": 3, "funding": 1250000.5, "first_year": 2015, "last_year": 2020},
                  ("111", "333"): {"weight": 1, "funding": 0.0}}


def as_bytes(data: bytes | str) -> bytes:
    assert isinstance(data, bytes)
    return data


def edge_key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def test_graphml_reads_back_with_the_same_nodes_edges_and_typed_attributes() -> None:
    graph = nx.read_graphml(io.BytesIO(as_bytes(export_graph(small_graph(), "graphml", CLUSTERS))))
    assert dict(graph.nodes(data=True)) == expected_nodes(CLEAN_HOSTILE)
    assert {edge_key(a, b): d for a, b, d in graph.edges(data=True)} == EXPECTED_EDGES


def test_gexf_reads_back_with_label_weight_and_attributes() -> None:
    graph = nx.read_gexf(io.BytesIO(as_bytes(export_graph(small_graph(), "gexf", CLUSTERS))))
    assert dict(graph.nodes(data=True)) == expected_nodes(CLEAN_HOSTILE)
    edges = {edge_key(a, b): {k: v for k, v in d.items() if k != "id"} for a, b, d in graph.edges(data=True)}
    assert edges == EXPECTED_EDGES  # GEXF's weight reads back as 3.0, equal to 3


def test_csv_export_is_a_zip_of_nodes_and_edges_with_empty_cells_for_no_value() -> None:
    with zipfile.ZipFile(io.BytesIO(as_bytes(export_graph(small_graph(), "csv", CLUSTERS)))) as archive:
        assert archive.namelist() == ["nodes.csv", "edges.csv"]
        nodes = list(csv.DictReader(io.StringIO(archive.read("nodes.csv").decode("utf-8"))))
        edges = list(csv.DictReader(io.StringIO(archive.read("edges.csv").decode("utf-8"))))
    assert [n["id"] for n in nodes] == ["111", "222", "333"]
    assert nodes[1]["label"] == HOSTILE and nodes[1]["lat"] == "" and nodes[1]["cluster"] == "1"
    assert float(nodes[0]["lat"]) == 51.05
    assert [(e["source"], e["target"], e["weight"], e["first_year"]) for e in edges] == [
        ("111", "222", "3", "2015"), ("111", "333", "1", "")]


def test_json_export_is_node_link_data_networkx_reads() -> None:
    data = export_graph(small_graph(), "json", CLUSTERS)
    assert isinstance(data, str)
    graph = nx.node_link_graph(json.loads(data), edges="edges")
    expected = expected_nodes()
    for node, attrs in graph.nodes(data=True):
        assert {k: v for k, v in attrs.items() if v is not None} == expected[node]
    assert {edge_key(a, b): {k: v for k, v in d.items() if v is not None}
            for a, b, d in graph.edges(data=True)} == EXPECTED_EDGES


def test_vosviewer_json_has_items_links_and_clusters_in_its_schema() -> None:
    document = json.loads(export_graph(small_graph(), "vosviewer", CLUSTERS))
    network = document["network"]
    items = {item["id"]: item for item in network["items"]}
    assert set(items) == {"111", "222", "333"}
    assert items["111"]["cluster"] == 1 and items["333"]["cluster"] == 2
    assert items["111"]["weights"] == {"Links": 2, "Total link strength": 4}
    assert items["222"]["label"] == HOSTILE and items["333"]["label"] == "333"
    assert "Helix: civil_society" in items["222"]["description"]
    assert sorted((link["source_id"], link["target_id"], link["strength"]) for link in network["links"]) == [
        ("111", "222", 3), ("111", "333", 1)]
    assert network["clusters"] == [{"cluster": 1, "label": "Cluster 1"}, {"cluster": 2, "label": "Cluster 2"}]


def test_vosviewer_puts_clusters_beyond_its_limit_together_in_cluster_1000() -> None:
    document = json.loads(export_graph(small_graph(), "vosviewer", {"111": 1, "222": 1000, "333": 4453}))
    assert sorted(item["cluster"] for item in document["network"]["items"]) == [1, 1000, 1000]


def test_exports_without_clusters_leave_the_cluster_out() -> None:
    graph = nx.read_graphml(io.BytesIO(as_bytes(export_graph(small_graph(), "graphml"))))
    assert all("cluster" not in attrs for _, attrs in graph.nodes(data=True))
    items = json.loads(export_graph(small_graph(), "vosviewer"))["network"]["items"]
    assert all("cluster" not in item for item in items)


@pytest.mark.parametrize("fmt", sorted(EXPORT_FORMATS))
def test_every_export_is_the_same_whatever_the_insertion_order(fmt: str) -> None:
    assert export_graph(small_graph(), fmt, CLUSTERS) == export_graph(small_graph(reverse=True), fmt, CLUSTERS)


def test_an_unknown_export_format_is_bad_input_naming_the_field() -> None:
    with pytest.raises(BadInputError, match="format"):
        export_graph(small_graph(), "pajek")


def placed_graph() -> nx.Graph:
    """A node at (0, 0), one out of range, one placed at its region's label point."""
    graph = nx.Graph()
    graph.add_node("1", name="Zero", lat=0.0, lon=0.0, placed_by="coordinates", nuts3="DE212")
    graph.add_node("2", name="Far", lat=123.0, lon=11.5, placed_by="coordinates", nuts3="DE212")
    graph.add_node("3", name="Label", lat=48.14, lon=11.58, placed_by="region", nuts3="DE212")
    graph.add_edges_from([("1", "2", {"weight": 1}), ("2", "3", {"weight": 1})])
    return graph


@pytest.mark.parametrize("fmt", sorted(EXPORT_FORMATS))
def test_no_export_writes_a_point_that_is_no_place(fmt: str) -> None:
    content = export_graph(placed_graph(), fmt)
    text = content if isinstance(content, str) else content.decode("utf-8", "replace")
    if fmt == "csv":
        with zipfile.ZipFile(io.BytesIO(as_bytes(content))) as archive:
            text = archive.read("nodes.csv").decode("utf-8")
    assert "123.0" not in text
    assert "48.14" in text or fmt == "vosviewer"


def test_export_records_say_how_each_node_is_placed() -> None:
    from ecosystem.analysis.export import export_records

    nodes = {n["id"]: n for n in export_records(placed_graph())[0]}
    assert (nodes["1"]["lat"], nodes["1"]["lon"], nodes["1"]["placed_by"]) == (None, None, None)
    assert (nodes["2"]["lat"], nodes["2"]["lon"], nodes["2"]["placed_by"]) == (None, None, None)
    assert (nodes["3"]["lat"], nodes["3"]["lon"], nodes["3"]["placed_by"]) == (48.14, 11.58, "region")
