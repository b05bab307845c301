"""Leiden clusters: reproducible, stable ids, agreement measured by the adjusted Rand index; the real sample."""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from ecosystem.analysis.clusters import (
    adjusted_rand_index,
    cluster_stability,
    detect_clusters,
    stable_labels,
    summarise_clusters,
)


def two_cliques(order: str = "forward") -> nx.Graph:
    """Academia/industry clique a0..a4 and government clique g0..g4 (weights 2), one bridge a4-g0 (weight 1)."""
    graph = nx.Graph()
    left = [f"a{i}" for i in range(5)]
    right = [f"g{i}" for i in range(5)]
    nodes = [(n, {"name": n.upper(), "helix": "academia" if n in ("a0", "a1", "a2") else "industry",
                  "urban_rural": "urban", "nuts3": "BE211", "country": "BE"}) for n in left]
    nodes += [(n, {"name": n.upper(), "helix": "government", "urban_rural": "rural", "nuts3": "BE341",
                   "country": "BE"}) for n in right]
    edges = [(a, b, {"weight": 2}) for group in (left, right) for i, a in enumerate(group) for b in group[i + 1:]]
    edges.append(("a4", "g0", {"weight": 1}))
    if order == "reversed":
        nodes.reverse()
        edges.reverse()
    graph.add_nodes_from(nodes)
    graph.add_edges_from(edges)
    return graph


def test_two_cliques_joined_by_one_edge_make_two_clusters() -> None:
    clustering = detect_clusters(two_cliques())
    assert clustering.n_clusters == 2
    # equal sizes: cluster 1 holds the smallest member id ("a0")
    assert clustering.members() == {1: ["a0", "a1", "a2", "a3", "a4"], 2: ["g0", "g1", "g2", "g3", "g4"]}
    assert clustering.modularity > 0.4


def test_leiden_gives_identical_clusters_run_to_run_and_for_any_insertion_order() -> None:
    graph = nx.relabel_nodes(nx.connected_caveman_graph(6, 7), lambda i: f"org{i:02d}")
    nx.set_edge_attributes(graph, 1, "weight")
    runs = [detect_clusters(graph, seed=5) for _ in range(3)]
    assert all(r == runs[0] for r in runs)
    shuffled = nx.Graph()
    nodes = list(graph.nodes(data=True))
    edges = list(graph.edges(data=True))
    random.Random(1).shuffle(nodes)
    random.Random(2).shuffle(edges)
    shuffled.add_nodes_from(nodes)
    shuffled.add_edges_from(edges)
    assert detect_clusters(shuffled, seed=5).membership == runs[0].membership
    assert detect_clusters(two_cliques("reversed")).membership == detect_clusters(two_cliques()).membership


def test_stable_labels_order_clusters_by_size_then_smallest_member() -> None:
    assert stable_labels([7, 7, 3, 3, 3, 9, 9], ["e", "f", "b", "c", "d", "a", "g"]) == [3, 3, 1, 1, 1, 2, 2]


def test_adjusted_rand_index_is_one_for_identical_and_relabelled_partitions() -> None:
    assert adjusted_rand_index([0, 0, 1, 1, 2], [0, 0, 1, 1, 2]) == 1.0
    assert adjusted_rand_index({"x": 1, "y": 1, "z": 2}, {"x": 5, "y": 5, "z": 4}) == 1.0


def test_adjusted_rand_index_matches_hand_computed_values() -> None:
    """[0,0,1,1] vs [0,0,0,1]: sum C(n_ij,2) = 1, rows 1+1 = 2, columns 3+0 = 3, expected 2*3/6 = 1,
    maximum (2+3)/2 = 2.5 -> ARI = (1-1)/(2.5-1) = 0.
    [0,0,0,1,1,1] vs [0,0,1,1,2,2]: sum C(n_ij,2) = 1+1 = 2, rows 3+3 = 6, columns 1+1+1 = 3,
    expected 6*3/15 = 1.2, maximum 4.5 -> ARI = 0.8/3.3 = 8/33."""
    assert adjusted_rand_index([0, 0, 1, 1], [0, 0, 0, 1]) == pytest.approx(0.0)
    assert adjusted_rand_index([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2]) == pytest.approx(8 / 33)
    with pytest.raises(ValueError):
        adjusted_rand_index([0, 1], [0])


def test_stability_over_seeds_on_clear_communities_is_perfect() -> None:
    report = cluster_stability(two_cliques(), seeds=(1, 2, 3))
    assert report["clusters"] == [2, 2, 2]
    assert report["ari_min"] == report["ari_mean"] == 1.0


def test_cluster_summary_gives_helix_mix_missing_helices_regions_and_links() -> None:
    graph = two_cliques()
    summary = summarise_clusters(graph, detect_clusters(graph), top=3)
    first, second = summary
    assert first["size"] == 5
    assert first["helix"] == {"academia": 3, "industry": 2, "government": 0, "civil_society": 0, "unknown": 0}
    assert first["missing_helices"] == ["government", "civil_society"]
    assert second["missing_helices"] == ["academia", "industry", "civil_society"]
    assert first["urban_rural"]["urban"] == 5 and second["urban_rural"]["rural"] == 5
    assert first["top_regions"] == [{"nuts3": "BE211", "organisations": 5}]
    assert first["top_countries"] == [{"country": "BE", "organisations": 5}]
    assert first["internal_weight"] == 20  # 10 links of weight 2
    assert first["links_to_clusters"] == [{"cluster": 2, "weight": 1, "links": 1}]
    assert [m["id"] for m in first["top_members"]] == ["a0", "a1", "a2"]  # all strength 8: by id
    assert first["top_members"][0]["within_strength"] == 8


# --- the real CORDIS sample, located in NUTS regions ---------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(regions_db: Path, data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[nx.Graph, list[Any]]:
    """The collaboration graph and participations of the CORDIS organisation sample, with regions."""
    from ecosystem.domain.filters import NetworkFilter
    from ecosystem.services.networks import build_collaboration_graph
    from ecosystem.store.sqlite import SQLiteStore
    from importers.cordis import read_cordis

    path = tmp_path_factory.mktemp("analytics") / "sample.db"
    shutil.copy(regions_db, path)
    store = SQLiteStore(path)
    try:
        store.apply(read_cordis([data_dir / "cordis/h2020_organization_sample.csv"], cache_dir=path.parent / "cache"))
        graph = build_collaboration_graph(store, NetworkFilter())
        participations = list(store.iter_participations())
    finally:
        store.close()
    return graph, participations


def test_sample_graph_clusters_are_reproducible_and_summarise_every_organisation(
        sample: tuple[nx.Graph, list[Any]]) -> None:
    from ecosystem.analysis.export import export_graph

    graph, _ = sample
    first, second = detect_clusters(graph), detect_clusters(graph)
    assert first == second
    summary = summarise_clusters(graph, first)
    assert sum(c["size"] for c in summary) == graph.number_of_nodes()
    assert [c["cluster"] for c in summary] == list(range(1, first.n_clusters + 1))
    assert [c["size"] for c in summary] == sorted((c["size"] for c in summary), reverse=True)
    assert export_graph(graph, "graphml", first) == export_graph(graph, "graphml", second)


def test_sample_region_analytics_see_urban_rural_links_and_synergy(sample: tuple[nx.Graph, list[Any]]) -> None:
    from ecosystem.analysis.metrics import brokerage, brokerage_all
    from ecosystem.analysis.regions import region_analytics, region_nodes

    graph, participations = sample
    germany = region_nodes(graph, "DE")
    assert len(germany) > 100
    result = region_analytics(graph, germany, participations)
    ei = result["ei_urban_rural"]
    assert ei["internal"] > 0 and ei["external"] > 0 and -1 <= ei["ei"] <= 1
    assert result["synergy"]["region"]["projects"] > 50
    assert result["helix_diversity"]["organisations"] == len(germany)  # every sample organisation has a helix
    assert len(result["top_bridges"]) == 10
    every = brokerage_all(graph, "urban_rural")
    assert all(every[n] == brokerage(graph, n, "urban_rural") for n in sorted(germany)[:100])
