"""Partner finder and analytics through the real HTTP server on the sample graph."""

from __future__ import annotations

import io
import json
import zipfile

import httpx
import networkx as nx
import pytest

UCPH = "999991043"  # KOBENHAVNS UNIVERSITET in the CORDIS sample


@pytest.fixture(scope="module")
def api(server: str):  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=server, timeout=120) as client:
        yield client


def test_recommendations_are_new_partners_with_reasons(api: httpx.Client) -> None:
    body = api.get(f"/api/v1/organisations/{UCPH}/recommendations", params={"k": 10}).json()
    partners = {p["id"] for p in api.get(f"/api/v1/organisations/{UCPH}", params={"partners_limit": 1000})
                .json()["partners"]}
    assert len(body["items"]) == 10
    for item in body["items"]:
        assert item["id"] not in partners and item["id"] != UCPH
        assert item["reasons"] and all(isinstance(r, str) and r for r in item["reasons"])
    scores = [i["score"] for i in body["items"]]
    assert scores == sorted(scores, reverse=True)
    assert any(i["reason_data"].get("shared_partners") for i in body["items"])


def test_recommendations_filter_by_helix_and_place(api: httpx.Client) -> None:
    body = api.get(f"/api/v1/organisations/{UCPH}/recommendations",
                   params={"helix": "civil_society", "country": "ES", "k": 5}).json()
    assert body["items"] and all(i["helix"] == "civil_society" and i["country"] == "ES" for i in body["items"])


def test_favouring_rural_and_civil_society_changes_the_ranking(api: httpx.Client) -> None:
    plain = api.get(f"/api/v1/organisations/{UCPH}/recommendations", params={"k": 20}).json()["items"]
    favoured = api.get(f"/api/v1/organisations/{UCPH}/recommendations",
                       params={"k": 20, "favour_rural_civil": True}).json()["items"]

    def share(items: list[dict]) -> int:
        return sum(1 for i in items if i["urban_rural"] == "rural" or i["helix"] == "civil_society")

    assert share(favoured) > share(plain)


def test_recommendations_for_unknown_organisations_and_bad_filters_are_4xx(api: httpx.Client) -> None:
    assert api.get("/api/v1/organisations/nope/recommendations").status_code == 404
    assert api.get(f"/api/v1/organisations/{UCPH}/recommendations", params={"helix": "x"}).status_code == 422
    assert api.get(f"/api/v1/organisations/{UCPH}/recommendations", params={"k": 0}).status_code == 422


def test_organisation_metrics_count_partners_by_helix_and_brokerage(api: httpx.Client) -> None:
    body = api.get(f"/api/v1/organisations/{UCPH}/metrics").json()
    profile = api.get(f"/api/v1/organisations/{UCPH}", params={"partners_limit": 1000}).json()
    assert body["degree"] == len(profile["partners"])
    by_helix = {}
    for p in profile["partners"]:
        by_helix[p["helix"]] = by_helix.get(p["helix"], 0) + 1
    assert {k: v for k, v in body["partners_by_helix"].items() if v} == by_helix
    assert body["betweenness"] > 0 and body["cluster"] is not None
    assert set(body["brokerage_helix"]) >= {"coordinator", "gatekeeper_representative", "itinerant", "liaison"}


def test_clusters_are_the_same_every_run_and_flag_missing_helices(api: httpx.Client) -> None:
    first = api.get("/api/v1/clusters").json()
    second = api.get("/api/v1/clusters").json()
    assert first == second and first["n_clusters"] > 1
    for cluster in first["clusters"]:
        present = {h for h, n in cluster["helix"].items() if n and h != "unknown"}
        assert set(cluster["missing_helices"]) == {"academia", "industry", "government", "civil_society"} - present


def test_the_region_profile_has_diversity_ei_bridges_and_synergy(api: httpx.Client) -> None:
    body = api.get("/api/v1/regions/DK0").json()
    analytics = body["analytics"]
    assert -1 <= analytics["ei_urban_rural"]["ei"] <= 1
    assert analytics["top_bridges"] and analytics["helix_diversity"]["shannon_bits"] > 0
    assert "synergy" in analytics and analytics["synergy"]["region"]


@pytest.mark.parametrize("fmt", ["graphml", "gexf", "json", "csv", "vosviewer"])
def test_exports_carry_the_network_with_helix_region_and_cluster(api: httpx.Client, fmt: str) -> None:
    network = api.get("/api/v1/network", params={"nuts": "DK", "limit": 20000}).json()
    response = api.get("/api/v1/export", params={"format": fmt, "nuts": "DK"})
    assert response.status_code == 200
    n_nodes, n_edges = len(network["nodes"]), len(network["edges"])
    if fmt == "graphml":
        graph = nx.read_graphml(io.BytesIO(response.content))
    elif fmt == "gexf":
        graph = nx.read_gexf(io.BytesIO(response.content))
    elif fmt == "json":
        graph = nx.node_link_graph(json.loads(response.content), edges="edges")
    elif fmt == "csv":
        with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
            names = zf.namelist()
            nodes = zf.read(next(n for n in names if "node" in n)).decode().strip().splitlines()
            edges = zf.read(next(n for n in names if "edge" in n)).decode().strip().splitlines()
        assert len(nodes) - 1 == n_nodes and len(edges) - 1 == n_edges and "helix" in nodes[0]
        return
    else:
        doc = json.loads(response.content)
        assert len(doc["network"]["items"]) == n_nodes and len(doc["network"]["links"]) == n_edges
        assert all("cluster" in item for item in doc["network"]["items"])
        return
    assert graph.number_of_nodes() == n_nodes and graph.number_of_edges() == n_edges
    some = next(iter(graph.nodes(data=True)))[1]
    assert {"helix", "urban_rural", "country"} <= set(some) and "cluster" in some


def test_an_unknown_export_format_is_422(api: httpx.Client) -> None:
    assert api.get("/api/v1/export", params={"format": "xlsx"}).status_code == 422


def test_municipalities_taking_part_are_found_and_typed_by_degree_of_urbanisation(api: httpx.Client) -> None:
    body = api.get("/api/v1/municipalities").json()
    assert body["total"] == len(body["items"]) > 0
    assert sum(body["by_degree_of_urbanisation"].values()) == body["total"]
    for item in body["items"]:
        assert item["degree_of_urbanisation"] in ("city", "town_suburb", "rural_area")
        assert item["bodies"] and item["projects"] == sum(b["projects"] for b in item["bodies"]) > 0
        # the region is a NUTS 2021 region the store knows, whatever version the LAU table used
        assert item["nuts3"] and api.get(f"/api/v1/regions/{item['nuts3']}").status_code == 200
        for b in item["bodies"]:
            profile = api.get(f"/api/v1/organisations/{b['id']}").json()
            assert profile["helix"]["value"] == "government"
            assert profile["identifiers"]["lau"] == item["lau"]
    for degree, n in body["by_degree_of_urbanisation"].items():
        only = api.get("/api/v1/municipalities", params={"degree_of_urbanisation": degree}).json()
        assert only["total"] == n and all(i["degree_of_urbanisation"] == degree for i in only["items"])
    assert api.get("/api/v1/municipalities", params={"degree_of_urbanisation": "village"}).status_code == 422
