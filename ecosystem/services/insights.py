"""Analytics over a store's graph, cached until the store changes: clusters, organisation metrics, exports."""

from __future__ import annotations

from typing import Any

from ecosystem.analysis.clusters import Clustering, detect_clusters, summarise_clusters
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
