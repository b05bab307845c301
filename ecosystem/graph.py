"""Graph views: the organisation-organisation collaboration projection in networkx, cached.

Weight = shared projects; `funding` = the EU contributions of both partners in their shared projects;
`first_year` / `last_year` = the earliest start and the latest end of those projects.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Iterable

import networkx as nx

from ecosystem.errors import BadInputError
from ecosystem.store.base import NetworkFilter
from ecosystem.store.common import is_nuts_code, nuts_prefix

HELICES = ("academia", "industry", "government", "civil_society", "unknown")
URBAN_RURAL = ("urban", "intermediate", "rural", "unknown")

_cache: OrderedDict[tuple[str, str, NetworkFilter], nx.Graph] = OrderedDict()
_cache_lock = threading.Lock()
CACHE_SIZE = 8


def network_filter(*, nuts: Iterable[str] = (), helix: Iterable[str] = (), urban_rural: Iterable[str] = (),
                   country: Iterable[str] = (), year_from: int | None = None, year_to: int | None = None,
                   min_weight: int = 1) -> NetworkFilter:
    """A validated filter; bad values are bad input naming the field."""
    codes = []
    for code in nuts:
        if not is_nuts_code(code):
            raise BadInputError(f"not a NUTS or country code: {code!r}", field="nuts")
        codes.append(nuts_prefix(code))
    for value in helix:
        if value not in HELICES:
            raise BadInputError(f"unknown helix {value!r} (one of {', '.join(HELICES)})", field="helix")
    for value in urban_rural:
        if value not in URBAN_RURAL:
            raise BadInputError(f"unknown urban-rural type {value!r} (one of {', '.join(URBAN_RURAL)})",
                                field="urban_rural")
    if min_weight < 1:
        raise BadInputError("min_weight must be at least 1", field="min_weight")
    return NetworkFilter(nuts=tuple(sorted(set(codes))), helix=tuple(sorted(set(helix))),
                         urban_rural=tuple(sorted(set(urban_rural))),
                         country=tuple(sorted({nuts_prefix(c) for c in country})),
                         year_from=year_from, year_to=year_to, min_weight=min_weight)


def collaboration_graph(store: Any, flt: NetworkFilter | None = None) -> nx.Graph:
    """The collaboration graph for a filter, built from the store and cached until the store changes."""
    flt = flt or NetworkFilter()
    key = (store.uri, store.data_version(), flt)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    graph = build_collaboration_graph(store, flt)
    with _cache_lock:
        _cache[key] = graph
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return graph


def build_collaboration_graph(store: Any, flt: NetworkFilter) -> nx.Graph:
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
    return {n: int(d) for n, d in graph.degree(weight="weight")}


def network_payload(store: Any, flt: NetworkFilter, limit: int) -> dict[str, Any]:
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


def render_map(store: Any, flt: NetworkFilter, *, layout: str = "geo", max_nodes: int = 1500,
               title: str = "helixmap network") -> str:
    """The interactive map page for a filter (offline, capped at `max_nodes`)."""
    from visualisations import render_network_map

    payload = network_payload(store, flt, limit=max_nodes)
    notice = None
    if payload["truncated"]:
        notice = (f"Showing the {len(payload['nodes']):,} strongest of {payload['total_nodes']:,} organisations "
                  "(by weighted degree); filter by region, helix or urban-rural type to see the rest.")
    return render_network_map(payload["nodes"], payload["edges"], layout=layout, title=title, notice=notice,
                              max_nodes=max_nodes)
