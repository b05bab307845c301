"""The collaboration projection: weights, funding and years match the participations, filters cut it right."""

from __future__ import annotations

import csv
import itertools
from collections import defaultdict
from pathlib import Path

from ecosystem.domain.filters import network_filter
from ecosystem.domain.resolution import Overrides
from ecosystem.services.networks import (
    build_collaboration_graph,
    collaboration_graph,
    network_payload,
)
from importers.cordis import read_cordis


def _expected_pairs(path: Path, groups: dict[str, list[str]]) -> dict[tuple[str, str], tuple[int, float]]:
    """(a, b) -> (shared projects, summed EU contributions of both) straight from the CSV, the records of an
    organisation merged by entity resolution (`groups`) counted as that organisation."""
    canonical = {rid: c for c, rids in groups.items() for rid in rids}
    contrib: dict[tuple[str, str], float] = defaultdict(float)
    members: dict[str, set[str]] = defaultdict(set)
    with path.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            oid = canonical.get(r["organisationID"], r["organisationID"])
            members[r["projectID"]].add(oid)
            contrib[(r["projectID"], oid)] += float(r["ecContribution"] or 0)
    pairs: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0])
    for pid, group in members.items():
        for a, b in itertools.combinations(sorted(group), 2):
            pairs[(a, b)][0] += 1
            pairs[(a, b)][1] += contrib[(pid, a)] + contrib[(pid, b)]
    return {k: (int(v[0]), v[1]) for k, v in pairs.items()}


def test_edge_weights_and_funding_equal_the_shared_projects(store, data_dir: Path, tmp_path: Path) -> None:
    src = data_dir / "cordis/h2020_organization_sample.csv"
    # two PICs with one VAT number and city: one organisation only because a user's override says so
    store.resolve(Overrides(merge=[("911314807", "911394153")]))
    store.apply(read_cordis([src], cache_dir=tmp_path))
    graph = build_collaboration_graph(store, network_filter())
    groups = store.record_groups()
    assert groups, "the override merges the two records"
    expected = _expected_pairs(src, groups)
    assert graph.number_of_edges() == len(expected)
    for (a, b), (weight, funding) in expected.items():
        edge = graph.edges[a, b]
        assert edge["weight"] == weight
        assert abs(edge["funding"] - funding) < 0.01


def test_the_graph_is_cached_until_the_store_changes(store, data_dir: Path, tmp_path: Path) -> None:
    store.apply(read_cordis([data_dir / "cordis/json"], cache_dir=tmp_path))
    first = collaboration_graph(store)
    assert collaboration_graph(store) is first
    store.apply(read_cordis([data_dir / "cordis/h2020_organization_sample.csv"], cache_dir=tmp_path))
    second = collaboration_graph(store)
    assert second is not first and second.number_of_nodes() > first.number_of_nodes()


def test_filters_keep_only_matching_organisations_and_links_among_them(located_store, data_dir: Path,
                                                                       tmp_path: Path) -> None:
    located_store.apply(read_cordis([data_dir / "cordis/h2020_organization_sample.csv"], cache_dir=tmp_path))
    full = collaboration_graph(located_store)
    flt = network_filter(nuts=["ES"], helix=["academia", "government"])
    sub = collaboration_graph(located_store, flt)
    assert 0 < sub.number_of_nodes() < full.number_of_nodes()
    for n, d in sub.nodes(data=True):
        assert d["country"] == "ES" and d["helix"] in ("academia", "government")
    expected_edges = {frozenset((a, b)) for a, b in full.edges if a in sub and b in sub}
    assert {frozenset(e) for e in sub.edges} == expected_edges


def test_a_year_window_counts_only_projects_starting_in_it(store, data_dir: Path, tmp_path: Path) -> None:
    store.apply(read_cordis([data_dir / "cordis/json"], cache_dir=tmp_path))
    everything = collaboration_graph(store)
    years = {d["first_year"] for _, _, d in everything.edges(data=True)}
    year = sorted(y for y in years if y)[0]
    window = collaboration_graph(store, network_filter(year_from=year, year_to=year))
    assert 0 < window.number_of_edges() < everything.number_of_edges()
    assert all(d["first_year"] == year for _, _, d in window.edges(data=True))


def test_the_cap_keeps_the_strongest_organisations(store, data_dir: Path, tmp_path: Path) -> None:
    store.apply(read_cordis([data_dir / "cordis/h2020_organization_sample.csv"], cache_dir=tmp_path))
    payload = network_payload(store, network_filter(), limit=25)
    assert payload["truncated"] and len(payload["nodes"]) == 25
    kept = min(n["weighted_degree"] for n in payload["nodes"])
    graph = collaboration_graph(store)
    dropped = [d for n, d in graph.degree(weight="weight") if n not in {x["id"] for x in payload["nodes"]}]
    assert max(dropped) <= kept
