"""Analytics over a store's graph, cached until the store changes: clusters, organisation metrics, exports."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ecosystem.analysis.clusters import Clustering, cluster_stability, detect_clusters, summarise_clusters
from ecosystem.domain.errors import BadInputError, NotFoundError
from ecosystem.domain.filters import NetworkFilter
from ecosystem.services.cache import cache
from ecosystem.services.networks import collaboration_graph
from ecosystem.store.base import GraphReader

EXPORT_FORMATS = {"graphml": ("application/graphml+xml", "graphml"), "gexf": ("application/gexf+xml", "gexf"),
                  "csv": ("application/zip", "zip"), "json": ("application/json", "json"),
                  "vosviewer": ("application/json", "vosviewer.json")}

def clusters_for(store: GraphReader, flt: NetworkFilter | None = None) -> Clustering:
    """Leiden clusters (fixed seed) of the filtered collaboration graph, cached per data version."""
    flt = flt or NetworkFilter()
    return cache.get(store, ("clusters", flt), lambda: detect_clusters(collaboration_graph(store, flt)))


def cluster_report(store: GraphReader, flt: NetworkFilter, *, top: int = 10, min_size: int = 1) -> dict[str, Any]:
    """Clusters with size, helix and urban-rural mix, missing helices, regions, top members, links between."""
    graph = collaboration_graph(store, flt)
    clustering = clusters_for(store, flt)
    return {"algorithm": "leiden-modularity", "seed": clustering.seed, "modularity": clustering.modularity,
            "n_clusters": clustering.n_clusters, "organisations": graph.number_of_nodes(),
            "clusters": summarise_clusters(graph, clustering, top=top, min_size=min_size)}


def organisation_metrics(store: GraphReader, org_id: str) -> dict[str, Any]:
    """Degree, partners by helix and urban-rural type, crossing shares, betweenness and brokerage roles."""
    from ecosystem.analysis.metrics import organisation_analytics

    graph = collaboration_graph(store)
    if org_id not in graph:
        raise NotFoundError(f"no organisation with id {org_id!r}")
    result = organisation_analytics(graph, org_id)
    result["cluster"] = clusters_for(store).membership.get(org_id)
    return result


def export(store: GraphReader, flt: NetworkFilter, fmt: str) -> tuple[bytes, str, str]:
    """The filtered network in a researcher's format: (content, media type, file suffix)."""
    from ecosystem.analysis.export import export_graph

    if fmt not in EXPORT_FORMATS:
        raise BadInputError(f"unknown export format {fmt!r} (one of {', '.join(EXPORT_FORMATS)})", field="format")
    graph = collaboration_graph(store, flt)
    content = export_graph(graph, fmt, clusters_for(store, flt))
    media, suffix = EXPORT_FORMATS[fmt]
    return (content.encode("utf-8") if isinstance(content, str) else content), media, suffix


# --- what the pages show of the whole store, cached per data version ----------------------------------------------

def cluster_summary(store: GraphReader, *, top: int = 10, min_size: int = 2) -> dict[str, Any]:
    """`cluster_report` of the whole network, kept until the store changes."""
    return cache.get(store, ("cluster_report", top, min_size),
                     lambda: cluster_report(store, NetworkFilter(), top=top, min_size=min_size))


def clustering_stability(store: GraphReader) -> dict[str, Any]:
    """How stable the clusters of the whole network are: Leiden under several seeds, compared pairwise by the
    adjusted Rand index (1 = the same partition every time), kept until the store changes."""
    return cache.get(store, ("cluster_stability",), lambda: cluster_stability(collaboration_graph(store)))


def store_summary(store: GraphReader) -> dict[str, Any]:
    """The store's counts (`stats`), kept until the store changes."""
    return cache.get(store, ("stats",), store.stats)


def countries(store: GraphReader) -> list[tuple[str, int]]:
    """Countries with their number of organisations in the collaboration network, kept until the store changes."""
    def count() -> list[tuple[str, int]]:
        graph = collaboration_graph(store)
        return sorted(Counter(d["country"] for _, d in graph.nodes(data=True) if d.get("country")).items())

    return cache.get(store, ("countries",), count)


def warm_pages(store: GraphReader) -> None:
    """Compute what the atlas pages read of the whole store (the collaboration graph, counts, countries, clusters
    and their stability, the municipalities), for the server's start, before it serves; the partner index is the
    partner service's. (The stability's Leiden runs hold the interpreter while they run: done after the start,
    they would stall every request for seconds.)"""
    from ecosystem.services.regions import participating_municipalities

    store_summary(store)
    countries(store)
    cluster_summary(store)
    participating_municipalities(store)
    clustering_stability(store)


def ego_network(store: GraphReader, org_id: str, *, limit: int = 12) -> dict[str, Any]:
    """An organisation and its strongest partners (most shared projects), with the links among them: what the
    profile's small network map draws. Unknown organisation: not found."""
    graph = collaboration_graph(store)
    if org_id not in graph:
        raise NotFoundError(f"no organisation with id {org_id!r}")

    def node(n: str) -> dict[str, Any]:
        data = graph.nodes[n]
        return {"id": n, "name": data.get("name") or n, "helix": data.get("helix") or "unknown",
                "urban_rural": data.get("urban_rural") or "unknown", "nuts3": data.get("nuts3")}

    strongest = sorted(graph[org_id].items(), key=lambda kv: (-kv[1]["weight"], kv[0]))[:max(0, limit)]
    partners = [{**node(n), "weight": data["weight"]} for n, data in strongest]
    ids = [p["id"] for p in partners]
    among = [{"a": a, "b": b, "weight": graph[a][b]["weight"]}
             for i, a in enumerate(ids) for b in ids[i + 1:] if graph.has_edge(a, b)]
    return {"centre": node(org_id), "partners": partners, "links": among, "degree": graph.degree(org_id)}
