"""Graph views: the organisation-organisation collaboration projection in networkx, cached.

Weight = shared projects; `funding` = the EU contributions of both partners in their shared projects;
`first_year` / `last_year` = the earliest start and the latest end of those projects.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from ecosystem.domain.filters import NetworkFilter
from ecosystem.services.cache import cache
from ecosystem.store.base import GraphReader


def collaboration_graph(store: GraphReader, flt: NetworkFilter | None = None) -> nx.Graph:
    """The collaboration graph for a filter, built from the store and cached until the store changes."""
    flt = flt or NetworkFilter()
    return cache.get(store, ("graph", flt), lambda: build_collaboration_graph(store, flt))


def build_collaboration_graph(store: GraphReader, flt: NetworkFilter) -> nx.Graph:
    """The organisation-organisation projection of the filtered organisations (no cache)."""
    graph = nx.Graph()
    nodes = store.organisations_for_network(flt)
    graph.add_nodes_from((n["id"], n) for n in nodes)
    ids = None if flt.is_empty() or not (flt.nuts or flt.helix or flt.urban_rural or flt.country) else set(graph)
    graph.add_edges_from(
        (a, b, {"weight": w, "funding": f, "first_year": fy, "last_year": ly})
        for a, b, w, f, fy, ly in store.collaboration_edges(flt, ids)
        if a in graph and b in graph)
    return graph


def weighted_degrees(graph: nx.Graph) -> dict[str, int]:
    """Each organisation's summed link weight (shared projects with all its partners)."""
    return {n: int(d) for n, d in graph.degree(weight="weight")}


def network_payload(store: GraphReader, flt: NetworkFilter, limit: int) -> dict[str, Any]:
    """Nodes and edges for the API; above `limit` nodes the strongest (weighted degree) are kept."""
    graph = collaboration_graph(store, flt)
    strength = weighted_degrees(graph)
    total_nodes = graph.number_of_nodes()
    total_edges = graph.number_of_edges()
    keep = sorted(graph.nodes, key=lambda n: (-strength[n], n))[:limit]
    keep_set = set(keep)
    nodes = []
    for n in keep:
        attrs = dict(graph.nodes[n])
        attrs["degree"] = graph.degree(n)
        attrs["weighted_degree"] = strength[n]
        nodes.append(attrs)
    edges = [{"source": min(a, b), "target": max(a, b), **d} for a, b, d in graph.edges(keep_set, data=True)
             if a in keep_set and b in keep_set]
    edges.sort(key=lambda e: (-e["weight"], e["source"], e["target"]))
    return {"nodes": nodes, "edges": edges, "truncated": total_nodes > len(keep),
            "total_nodes": total_nodes, "total_edges": total_edges, "limit": limit}
