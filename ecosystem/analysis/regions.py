"""Region analytics for the region profile: helix diversity, E-I index of its links, bridges, helix synergy.

A region is a set of organisation ids (e.g. those `ecosystem.regions.in_region` selects); links "touching"
the region have at least one end in it. Definitions in docs/analytics.md.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import networkx as nx

from ecosystem.analysis.metrics import UNKNOWN, Betweenness, brokerage_all, top_brokers
from ecosystem.analysis.synergy import HELIX_DIMENSIONS, project_helix_sets, synergy
from ecosystem.domain.models import HELICES
from ecosystem.domain.nuts import in_region

BRIDGE_RANKINGS = ("brokerage", "betweenness", "outside_links")


def region_nodes(graph: nx.Graph, code: str) -> set[str]:
    """Organisations of a NUTS region of any level, or of a country (two letters)."""
    return {n for n, data in graph.nodes(data=True) if in_region(data, code)}


def helix_diversity(counts: Mapping[str, int], *, categories: Sequence[str] = HELIX_DIMENSIONS) -> dict[str, Any]:
    """Shannon entropy (bits), evenness, Simpson concentration and Gini-Simpson diversity over `categories`.

    Other keys (such as "unknown") are left out. Evenness = entropy / log2(number of categories).
    """
    values = [max(0, int(counts.get(c, 0))) for c in categories]
    n = sum(values)
    if not n:
        return {"organisations": 0, "shannon_bits": None, "evenness": None, "simpson": None, "gini_simpson": None}
    shares = [v / n for v in values if v]
    shannon = -sum(p * math.log2(p) for p in shares)
    simpson = sum(p * p for p in shares)
    return {
        "organisations": n,
        "shannon_bits": round(shannon + 0.0, 6),
        "evenness": round(shannon / math.log2(len(categories)), 6) if len(categories) > 1 else None,
        "simpson": round(simpson, 6),
        "gini_simpson": round(1 - simpson, 6),
    }


def region_helix_counts(graph: nx.Graph, nodes: Iterable[str]) -> dict[str, int]:
    """Organisations of the region by helix (every helix present, zeros too)."""
    counts = Counter(dict.fromkeys(HELICES, 0))
    for n in nodes:
        counts[graph.nodes[n].get("helix") or UNKNOWN] += 1
    return dict(counts)


def ei_index(graph: nx.Graph, nodes: Iterable[str], attribute: str, *, unknown: str = UNKNOWN) -> dict[str, Any]:
    """Krackhardt & Stern's E-I index of the links touching the region, groups given by `attribute`.

    Internal = both ends in the same group, external = different groups; EI = (E - I) / (E + I) in [-1, 1]
    (-1: all links stay within groups). Links with an unknown end are counted apart as `unclassified`.
    The weighted form uses shared projects instead of link counts.
    """
    inside = set(nodes)
    group = {n: value or unknown for n, value in graph.nodes(data=attribute)}
    adj = graph.adj
    internal = external = unclassified = 0
    internal_w = external_w = 0.0
    for a in inside:
        ga = group[a]
        for b, data in adj[a].items():
            if b in inside and str(b) < str(a):
                continue  # a link inside the region is seen from both ends: count it once
            gb = group[b]
            if ga == unknown or gb == unknown:
                unclassified += 1
                continue
            w = data.get("weight", 1)
            if ga == gb:
                internal += 1
                internal_w += w
            else:
                external += 1
                external_w += w
    links = internal + external
    weight = internal_w + external_w
    return {
        "attribute": attribute,
        "internal": internal,
        "external": external,
        "unclassified": unclassified,
        "ei": round((external - internal) / links, 6) if links else None,
        "internal_weight": int(internal_w),
        "external_weight": int(external_w),
        "ei_weighted": round((external_w - internal_w) / weight, 6) if weight else None,
    }


def top_bridges(graph: nx.Graph, nodes: Iterable[str], *, by: str = "brokerage", limit: int = 10,
                betweenness: Betweenness | Mapping[str, float] | None = None) -> list[dict[str, Any]]:
    """The region's organisations that bridge most: by brokerage across helices (`brokerage`), by betweenness
    (`betweenness`, which must then be given) or by partners outside the region (`outside_links`).

    Brokerage across groups = gatekeeper/representative + itinerant + liaison two-paths (see metrics); it is
    computed only for the organisations listed (and, when ranking by it, the few needed to prove the top).
    """
    if by not in BRIDGE_RANKINGS:
        raise ValueError(f"rank bridges by one of {', '.join(BRIDGE_RANKINGS)}")
    inside = set(nodes)
    values = betweenness.values if isinstance(betweenness, Betweenness) else betweenness
    if by == "betweenness" and values is None:
        raise ValueError("ranking by betweenness needs betweenness values")

    def outside(n: str) -> int:
        return sum(1 for b in graph.adj[n] if b not in inside)

    if by == "brokerage":
        ranked = top_brokers(graph, inside, "helix", limit=limit)
        chosen = [n for n, _ in ranked]
        helix_roles = dict(ranked)
    else:
        score = (lambda n: values.get(n, 0.0)) if by == "betweenness" and values is not None else outside
        chosen = sorted(inside, key=lambda n: (-score(n), str(n)))[:limit]
        helix_roles = brokerage_all(graph, "helix", nodes=chosen)
    urban_rural_roles = brokerage_all(graph, "urban_rural", nodes=chosen)
    rows = []
    for n in chosen:
        data = graph.nodes[n]
        rows.append({
            "id": n, "name": data.get("name"), "helix": data.get("helix"), "urban_rural": data.get("urban_rural"),
            "nuts3": data.get("nuts3"), "country": data.get("country"),
            "degree": graph.degree(n), "outside_links": outside(n),
            "brokerage_helix": helix_roles[n].across_groups,
            "brokerage_urban_rural": urban_rural_roles[n].across_groups,
            "betweenness": round(values.get(n, 0.0), 9) if values is not None else None,
        })
    return rows


def region_synergy(graph: nx.Graph, nodes: Iterable[str], participations: Iterable[Sequence[Any]], *,
                   whole_consortium: bool = False) -> dict[str, float | int | None]:
    """The helix synergy indicator over the projects with a participant in the region.

    By default each project's record holds the helices of its participants in the region; with
    `whole_consortium` it holds those of the whole consortium.
    """
    helix_of = {n: h for n, h in graph.nodes(data="helix")}
    sets = project_helix_sets(participations, helix_of, nodes, whole_consortium=whole_consortium)
    return synergy(sets.values()).as_dict()


def region_analytics(graph: nx.Graph, nodes: Iterable[str], participations: Iterable[Sequence[Any]], *,
                     betweenness: Betweenness | Mapping[str, float] | None = None,
                     limit: int = 10) -> dict[str, Any]:
    """Everything the region profile adds: diversity, E-I indices, bridges, synergy (region and consortia)."""
    inside = set(nodes)
    rows = list(participations)
    return {
        "helix_diversity": helix_diversity(region_helix_counts(graph, inside)),
        "ei_urban_rural": ei_index(graph, inside, "urban_rural"),
        "ei_helix": ei_index(graph, inside, "helix"),
        "top_bridges": top_bridges(graph, inside, by="betweenness" if betweenness is not None else "brokerage",
                                   limit=limit, betweenness=betweenness),
        "synergy": {"region": region_synergy(graph, inside, rows),
                    "consortia": region_synergy(graph, inside, rows, whole_consortium=True)},
    }
