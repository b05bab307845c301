"""Graph views: the organisation-organisation collaboration projection in networkx, cached.

Weight = shared projects; `funding` = the EU contributions of both partners in their shared projects;
`first_year` / `last_year` = the earliest start and the latest end of those projects.

Each node's `lat` / `lon` are its place on a map (`ecosystem.analysis.placement.place`: the coordinates the
resolver accepted, else its NUTS3 region's label point, else none) and `placed_by` says which; the source's
raw coordinates never reach a graph.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from ecosystem.analysis.placement import UNPLACED, Placement, RegionBounds, place
from ecosystem.analysis.region_links import pair_type
from ecosystem.domain.filters import NetworkFilter
from ecosystem.domain.models import HELICES
from ecosystem.services.cache import cache
from ecosystem.store.base import GraphReader

_HELIX_RANK = {h: i for i, h in enumerate((*[h for h in HELICES if h != "unknown"], "unknown"))}


def collaboration_graph(store: GraphReader, flt: NetworkFilter | None = None) -> nx.Graph:
    """The collaboration graph for a filter, built from the store and cached until the store changes."""
    flt = flt or NetworkFilter()
    return cache.get(store, ("graph", flt), lambda: build_collaboration_graph(store, flt))


def build_collaboration_graph(store: GraphReader, flt: NetworkFilter) -> nx.Graph:
    """The organisation-organisation projection of the filtered organisations (no cache)."""
    graph = nx.Graph()
    nodes = store.organisations_for_network(flt)
    where = placements(store)
    for node in nodes:
        node.update(where.get(node["id"], UNPLACED).as_fields())
    graph.add_nodes_from((n["id"], n) for n in nodes)
    ids = None if flt.is_empty() or not (flt.nuts or flt.helix or flt.urban_rural or flt.country) else set(graph)
    graph.add_edges_from(
        (a, b, {"weight": w, "funding": f, "first_year": fy, "last_year": ly})
        for a, b, w, f, fy, ly in store.collaboration_edges(flt, ids)
        if a in graph and b in graph)
    return graph


def placements(store: GraphReader) -> dict[str, Placement]:
    """Where each organisation placed in a NUTS3 region stands on a map (the others have no place), cached
    until the store changes."""
    return cache.get(store, ("placements",), lambda: compute_placements(store))


def compute_placements(store: GraphReader) -> dict[str, Placement]:
    """`placements` without the cache: the resolver's decision kept by the store, checked against the stored
    NUTS3 boundaries."""
    bounds = RegionBounds(store.region_shapes(3))
    out: dict[str, Placement] = {}
    for org_id, loc in store.organisation_places().items():
        label = (loc["label_lat"], loc["label_lon"]) if loc.get("label_lat") is not None else None
        out[org_id] = place(loc, label, bounds)
    return out


def link_kinds(a: dict[str, Any], b: dict[str, Any]) -> dict[str, str]:
    """A link's `pair_type` (the urban-rural types of its two organisations, urban first: `urban-rural`) and
    `helix_pair` (their helices in the order of HELICES: `academia-industry`)."""
    ha, hb = sorted((a.get("helix") or "unknown", b.get("helix") or "unknown"),
                    key=lambda h: _HELIX_RANK.get(h, len(_HELIX_RANK)))
    return {"pair_type": pair_type(a.get("urban_rural"), b.get("urban_rural")), "helix_pair": f"{ha}-{hb}"}


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
    edges = [{"source": min(a, b), "target": max(a, b), **d, **link_kinds(graph.nodes[a], graph.nodes[b])}
             for a, b, d in graph.edges(keep_set, data=True) if a in keep_set and b in keep_set]
    edges.sort(key=lambda e: (-e["weight"], e["source"], e["target"]))
    return {"nodes": nodes, "edges": edges, "truncated": total_nodes > len(keep),
            "total_nodes": total_nodes, "total_edges": total_edges, "limit": limit}
