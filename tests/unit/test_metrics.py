"""Organisation metrics and region analytics on small graphs whose answers are known by hand."""

from __future__ import annotations

import itertools
import random

import networkx as nx
import pytest
from scipy.stats import spearmanr

from ecosystem.analysis.metrics import (
    BrokerageRoles,
    betweenness,
    brokerage,
    brokerage_all,
    organisation_analytics,
    organisation_metrics,
    top_brokers,
)
from ecosystem.analysis.regions import (
    ei_index,
    helix_diversity,
    region_synergy,
    top_bridges,
)
from ecosystem.analysis.synergy import synergy


def org_graph(nodes: dict[str, tuple[str, str]], edges: list[tuple[str, str, int]]) -> nx.Graph:
    """Nodes as id -> (helix, urban_rural); edges as (a, b, shared projects)."""
    graph = nx.Graph()
    for node, (helix, urban_rural) in nodes.items():
        graph.add_node(node, id=node, name=f"Org {node}", helix=helix, urban_rural=urban_rural, country="BE",
                       nuts3=None)
    graph.add_edges_from((a, b, {"weight": w}) for a, b, w in edges)
    return graph


def five_node_graph() -> nx.Graph:
    """v (industry, rural) links a, b (academia), c (government), d (industry); a and c are also linked.

    Pairs of v's partners and the groups (by helix) at a - v - c:
      a-b  academia, academia: both outside v's helix          -> itinerant
      a-c  linked                                                -> not a brokerage two-path
      a-d  academia, industry: one side shares v's helix        -> gatekeeper/representative
      b-c  academia, government: three different helices       -> liaison
      b-d  academia, industry                                    -> gatekeeper/representative
      c-d  government, industry                                  -> gatekeeper/representative
    By urban-rural type (v rural; a urban, b rural, c urban, d intermediate):
      a-b urban, rural -> g/r;  a-d urban, intermediate -> liaison;  b-c rural, urban -> g/r;
      b-d rural, intermediate -> g/r;  c-d urban, intermediate -> liaison
    """
    return org_graph(
        {"v": ("industry", "rural"), "a": ("academia", "urban"), "b": ("academia", "rural"),
         "c": ("government", "urban"), "d": ("industry", "intermediate")},
        [("v", "a", 3), ("v", "b", 1), ("v", "c", 2), ("v", "d", 1), ("a", "c", 1)])


def brute_force_brokerage(graph: nx.Graph, node: str, attribute: str) -> BrokerageRoles:
    """Enumerate every pair of partners: the definition, slowly."""
    group = {n: g for n, g in graph.nodes(data=attribute)}
    own = group[node]
    if own == "unknown":
        return BrokerageRoles()
    counts = {"coordinator": 0, "gatekeeper_representative": 0, "itinerant": 0, "liaison": 0}
    for a, c in itertools.combinations(sorted(graph.adj[node]), 2):
        if graph.has_edge(a, c) or "unknown" in (group[a], group[c]):
            continue
        if group[a] == group[c]:
            counts["coordinator" if group[a] == own else "itinerant"] += 1
        elif own in (group[a], group[c]):
            counts["gatekeeper_representative"] += 1
        else:
            counts["liaison"] += 1
    return BrokerageRoles(**counts)


def random_helix_graph(seed: int, n: int = 60, p: float = 0.15) -> nx.Graph:
    rng = random.Random(seed)
    graph = nx.gnp_random_graph(n, p, seed=seed)
    helices = ("academia", "industry", "government", "civil_society", "unknown")
    types = ("urban", "intermediate", "rural", "unknown")
    return org_graph({f"o{i:03d}": (rng.choice(helices), rng.choice(types)) for i in graph},
                     [(f"o{a:03d}", f"o{b:03d}", rng.randint(1, 4)) for a, b in graph.edges])


def test_brokerage_roles_of_the_five_node_example_match_the_hand_count() -> None:
    graph = five_node_graph()
    assert brokerage(graph, "v", "helix") == BrokerageRoles(coordinator=0, gatekeeper_representative=3,
                                                            itinerant=1, liaison=1)
    assert brokerage(graph, "v", "urban_rural") == BrokerageRoles(coordinator=0, gatekeeper_representative=3,
                                                                  itinerant=0, liaison=2)
    assert brokerage(graph, "a", "helix").total == 0  # a's partners v and c are linked: no open two-path


def test_brokerage_counts_a_coordinator_when_all_three_share_a_group() -> None:
    graph = org_graph({"x": ("academia", "urban"), "y": ("academia", "urban"), "z": ("academia", "rural")},
                      [("x", "y", 1), ("x", "z", 1)])
    roles = brokerage(graph, "x", "helix")
    assert roles == BrokerageRoles(coordinator=1)
    assert roles.as_dict() == {"coordinator": 1, "gatekeeper_representative": 0, "itinerant": 0, "liaison": 0,
                               "total": 1, "across_groups": 0}


def test_brokerage_leaves_out_two_paths_through_unknown_groups() -> None:
    graph = five_node_graph()
    graph.nodes["b"]["helix"] = "unknown"
    assert brokerage(graph, "v", "helix") == BrokerageRoles(gatekeeper_representative=2)
    graph.nodes["v"]["helix"] = "unknown"
    assert brokerage(graph, "v", "helix") == BrokerageRoles()


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("attribute", ["helix", "urban_rural"])
def test_brokerage_for_every_node_equals_the_definition_node_by_node(seed: int, attribute: str) -> None:
    graph = random_helix_graph(seed)
    every = brokerage_all(graph, attribute)
    assert every == {n: brute_force_brokerage(graph, n, attribute) for n in graph}
    assert all(brokerage(graph, n, attribute) == every[n] for n in graph)


def test_top_brokers_are_the_highest_across_group_brokers_with_ties_by_id() -> None:
    graph = random_helix_graph(7, n=80)
    every = brokerage_all(graph, "helix")
    expected = sorted(graph, key=lambda n: (-every[n].across_groups, n))[:5]
    assert [n for n, _ in top_brokers(graph, graph, "helix", limit=5)] == expected


def test_organisation_metrics_count_partners_by_helix_and_crossing_links() -> None:
    graph = five_node_graph()
    metrics = organisation_metrics(graph, "v")
    assert metrics["degree"] == 4
    assert metrics["weighted_degree"] == 7
    assert metrics["partners_by_helix"] == {"academia": 2, "industry": 1, "government": 1, "civil_society": 0,
                                            "unknown": 0}
    assert metrics["partners_by_urban_rural"] == {"urban": 2, "intermediate": 1, "rural": 1, "unknown": 0}
    assert metrics["cross_helix_share"] == 0.75        # 3 of 4 partners are not industry
    assert metrics["cross_urban_rural_share"] == 0.75  # 3 of 4 partners are not rural


def test_crossing_shares_leave_out_unknown_partners() -> None:
    graph = five_node_graph()
    graph.nodes["a"]["urban_rural"] = "unknown"
    assert organisation_metrics(graph, "v")["cross_urban_rural_share"] == pytest.approx(2 / 3, abs=1e-6)
    graph.nodes["v"]["urban_rural"] = "unknown"
    assert organisation_metrics(graph, "v")["cross_urban_rural_share"] is None


def test_exact_betweenness_equals_networkx_normalised_betweenness() -> None:
    graph = random_helix_graph(4, n=50, p=0.1)
    result = betweenness(graph)
    assert result.exact
    expected = nx.betweenness_centrality(graph, normalized=True)
    assert result.values == pytest.approx(expected, abs=1e-12)


def test_sampled_betweenness_is_reproducible_and_ranks_like_exact() -> None:
    graph = nx.relabel_nodes(nx.connected_watts_strogatz_graph(400, 6, 0.1, seed=3), lambda i: f"n{i:03d}")
    exact = betweenness(graph)
    first = betweenness(graph, exact_below=0, sources=150, seed=11)
    again = betweenness(graph, exact_below=0, sources=150, seed=11)
    assert not first.exact and first.values == again.values
    nodes = sorted(graph)
    rho = spearmanr([exact.values[n] for n in nodes], [first.values[n] for n in nodes]).statistic
    assert rho > 0.9
    assert "150 sampled sources" in first.method()


def test_organisation_analytics_bundles_metrics_betweenness_and_both_brokerages() -> None:
    graph = five_node_graph()
    result = organisation_analytics(graph, "v")
    assert result["betweenness"] == pytest.approx(nx.betweenness_centrality(graph)["v"])
    assert result["brokerage_helix"]["itinerant"] == 1
    assert result["brokerage_urban_rural"]["liaison"] == 2


# --- region analytics ----------------------------------------------------------------------------------------------


def test_helix_diversity_of_two_one_one_zero_is_one_and_a_half_bits() -> None:
    """Shares 1/2, 1/4, 1/4: H = 1/2*1 + 2 * 1/4*2 = 1.5 bits; Simpson 1/4 + 1/16 + 1/16 = 0.375."""
    result = helix_diversity({"academia": 2, "industry": 1, "government": 1, "civil_society": 0, "unknown": 9})
    assert result == {"organisations": 4, "shannon_bits": 1.5, "evenness": 0.75, "simpson": 0.375,
                      "gini_simpson": 0.625}
    assert helix_diversity({})["shannon_bits"] is None


def test_ei_index_counts_links_touching_the_region_once() -> None:
    """Region {v, a}: links v-a (rural-urban, external), v-b (rural-rural, internal), v-c (external),
    v-d (external), a-c (urban-urban, internal): E = 3, I = 2, EI = 1/5; weighted E = 3+2+1, I = 1+1."""
    result = ei_index(five_node_graph(), {"v", "a"}, "urban_rural")
    assert (result["external"], result["internal"], result["ei"]) == (3, 2, 0.2)
    assert (result["external_weight"], result["internal_weight"], result["ei_weighted"]) == (6, 2, 0.5)


def test_top_bridges_rank_by_brokerage_outside_links_or_betweenness() -> None:
    graph = five_node_graph()
    assert [r["id"] for r in top_bridges(graph, {"v", "a", "b"}, limit=2)] == ["v", "a"]
    by_outside = top_bridges(graph, {"a", "c"}, by="outside_links", limit=1)
    assert by_outside[0]["id"] == "a" and by_outside[0]["outside_links"] == 1
    scores = {"a": 0.1, "c": 0.3}
    assert top_bridges(graph, {"a", "c"}, by="betweenness", betweenness=scores)[0]["id"] == "c"
    with pytest.raises(ValueError):
        top_bridges(graph, {"a"}, by="betweenness")


def test_region_synergy_uses_the_region_members_or_whole_consortia() -> None:
    graph = five_node_graph()
    participations = [("p1", "v"), ("p1", "a"), ("p2", "v"), ("p2", "c"), ("p3", "b"), ("p4", "a"), ("p4", "d")]
    own = region_synergy(graph, {"v", "a"}, participations)
    assert own == synergy([{"industry", "academia"}, {"industry"}, {"academia"}]).as_dict()
    whole = region_synergy(graph, {"v", "a"}, participations, whole_consortium=True)
    assert whole == synergy([{"industry", "academia"}, {"industry", "government"},
                             {"academia", "industry"}]).as_dict()
