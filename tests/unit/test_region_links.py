"""Region links: the collaboration graph aggregated to NUTS regions, checked against the region profile."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from ecosystem.analysis.region_links import PAIR_TYPES, aggregate_region_links, pair_type, touches_rural


@pytest.fixture(scope="module")
def sample_store(sample_db: Path) -> Iterator[Any]:
    """The real CORDIS sample with the real regions, imported through the command line."""
    from ecosystem.store.sqlite import SQLiteStore

    store = SQLiteStore(sample_db)
    yield store
    store.close()


@pytest.mark.parametrize(("nuts", "level"), [("DK", 3), ("DK0", 2), ("DE21", 3), ("FR", 3), ("ES", 2),
                                             ("ITC4", 3), ("EL", 2)])
def test_region_links_totals_equal_the_region_profiles_urban_rural_matrix(
        sample_store: Any, nuts: str, level: int) -> None:
    from ecosystem.services.networks import collaboration_graph
    from ecosystem.services.regions import region_profile

    profile = region_profile(sample_store, nuts)
    totals = aggregate_region_links(collaboration_graph(sample_store), level, nuts).totals()
    assert totals["urban_rural_links"] == profile["urban_rural_links"]
    assert totals["organisation_pairs_inside"] == profile["links"]["inside"]
    assert totals["organisation_pairs_outside"] == profile["links"]["outside"]
    assert totals["organisations"] == profile["organisations"]
    assert sum(totals["organisation_pairs_by_pair_type"].values()) == totals["organisation_pairs"] > 0


def test_without_an_area_every_organisation_pair_is_in_exactly_one_region_link(sample_store: Any) -> None:
    from ecosystem.services.networks import collaboration_graph

    graph = collaboration_graph(sample_store)
    result = aggregate_region_links(graph, 3)
    assert sum(lk.organisation_pairs for lk in result.links.values()) == graph.number_of_edges()
    assert sum(lk.shared_projects for lk in result.links.values()) == graph.size(weight="weight")
    assert result.totals()["organisation_pairs_outside"] == 0


def test_links_leaving_the_area_name_their_outside_region(sample_store: Any) -> None:
    from ecosystem.services.networks import collaboration_graph

    result = aggregate_region_links(collaboration_graph(sample_store), 3, "DK")
    leaving = [lk for lk in result.links.values() if not (lk.a.startswith("DK") and lk.b.startswith("DK"))]
    assert leaving
    for link in leaving:
        outside = link.b if link.a.startswith("DK") else link.a
        assert not result.regions[outside].inside and result.regions[outside].organisations > 0
    assert all(r.inside == code.startswith("DK") for code, r in result.regions.items())


def test_level_2_regions_are_the_nuts3_codes_prefixes(sample_store: Any) -> None:
    from ecosystem.services.networks import collaboration_graph

    result = aggregate_region_links(collaboration_graph(sample_store), 2, "DE")
    located = [code for code in result.regions if len(code) > 2 and code != "unknown"]
    assert located and all(len(code) == 4 for code in located)


def _graph() -> nx.Graph:
    g = nx.Graph()
    g.add_node("u1", nuts3="DK011", country="DK", urban_rural="urban", helix="academia")
    g.add_node("u2", nuts3="DK011", country="DK", urban_rural="urban", helix="industry")
    g.add_node("r1", nuts3="DK014", country="DK", urban_rural="rural", helix="government")
    g.add_node("i1", nuts3="DE212", country="DE", urban_rural="intermediate", helix="civil_society")
    g.add_node("x1", nuts3=None, country="DK", urban_rural="unknown", helix="industry")
    g.add_edge("u1", "u2", weight=2, first_year=2015, last_year=2018)
    g.add_edge("u1", "r1", weight=3, first_year=2016, last_year=2020)
    g.add_edge("u2", "r1", weight=1, first_year=2014, last_year=2016)
    g.add_edge("r1", "i1", weight=1, first_year=None, last_year=None)
    g.add_edge("u1", "x1", weight=1, first_year=None, last_year=None)
    return g


def test_pairs_of_organisations_become_region_links_typed_by_both_regions() -> None:
    result = aggregate_region_links(_graph(), 3, "DK")
    links = {key: (lk.organisation_pairs, lk.shared_projects, result.link_type(lk))
             for key, lk in result.links.items()}
    assert links == {("DK011", "DK011"): (1, 2, "urban-urban"),
                     ("DK011", "DK014"): (2, 4, "urban-rural"),
                     ("DE212", "DK014"): (1, 1, "intermediate-rural"),
                     ("DK", "DK011"): (1, 1, "urban-unknown")}
    span = result.links[("DK011", "DK014")]
    assert (span.first_year, span.last_year) == (2014, 2020)
    assert not result.regions["DE212"].inside and result.regions["DK"].inside  # no NUTS3: the country stands in
    assert result.regions["DK011"].helix["academia"] == 1 and result.regions["DK011"].organisations == 2


def test_a_given_typology_wins_over_the_organisations_majority() -> None:
    result = aggregate_region_links(_graph(), 3, "DK")
    result.assign_types({"DK014": "intermediate"})
    assert result.link_type(result.links[("DK011", "DK014")]) == "urban-intermediate"


def test_pair_types_put_the_more_urban_end_first_and_unknown_last() -> None:
    assert pair_type("rural", "urban") == pair_type("urban", "rural") == "urban-rural"
    assert pair_type(None, "rural") == "rural-unknown"
    assert pair_type("intermediate", "intermediate") == "intermediate-intermediate"
    assert len(PAIR_TYPES) == 10 and len(set(PAIR_TYPES)) == 10
    assert [t for t in PAIR_TYPES if touches_rural(t)] == ["urban-rural", "intermediate-rural", "rural-rural",
                                                           "rural-unknown"]


def test_only_levels_2_and_3_are_aggregated() -> None:
    with pytest.raises(ValueError):
        aggregate_region_links(_graph(), 1)
