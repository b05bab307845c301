"""Exports of a collaboration graph for the tools researchers use: Gephi, VOSviewer, pandas, networkx.

Every format carries the same node fields (label, helix, urban_rural, region = NUTS3, region_name, country,
city, lat, lon, placed_by, degurba, and cluster when a clustering is given) and edge fields (weight = shared
projects, funding, first_year, last_year). A field without a value is left out in GraphML and GEXF (they
cannot hold None), empty in CSV and null in JSON. `lat` / `lon` are the organisation's place on a map
(`ecosystem.analysis.placement`: the coordinates the resolver accepted, else its NUTS3 region's label point,
`placed_by` saying which); a point that is no place ((0, 0), out of range) is never written. Output is
deterministic: nodes by id, edges by (source, target).
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import zipfile
from collections.abc import Callable, Mapping
from enum import Enum
from operator import itemgetter
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import networkx as nx

from ecosystem.analysis.clusters import Clustering
from ecosystem.analysis.metrics import paused_gc
from ecosystem.analysis.placement import real_point
from ecosystem.domain.errors import BadInputError

NODE_FIELDS: dict[str, type] = {
    "label": str, "helix": str, "urban_rural": str, "region": str, "region_name": str, "country": str,
    "city": str, "lat": float, "lon": float, "placed_by": str, "degurba": str, "cluster": int,
    "tags": str,  # a register's categories, "; "-joined (added last: earlier columns keep their places)
}
EDGE_FIELDS: dict[str, type] = {"weight": int, "funding": float, "first_year": int, "last_year": int}
SOURCE_KEYS = {"label": "name", "region": "nuts3"}  # export field -> collaboration-graph attribute

class ExportFormat(str, Enum):
    """The export formats (the API's `format` and the command line's `--format`)."""

    graphml = "graphml"
    gexf = "gexf"
    csv = "csv"
    json = "json"
    vosviewer = "vosviewer"


# format -> (media type, file extension)
EXPORT_FORMATS: dict[str, tuple[str, str]] = {
    "graphml": ("application/graphml+xml", "graphml"),
    "gexf": ("application/gexf+xml", "gexf"),
    "csv": ("application/zip", "zip"),
    "json": ("application/json", "json"),
    "vosviewer": ("application/json", "json"),
}
VOSVIEWER_MAX_CLUSTER = 1000  # VOSviewer numbers clusters 1..1000


def _membership(clusters: Clustering | Mapping[str, int] | None) -> Mapping[str, int] | None:
    return clusters.membership if isinstance(clusters, Clustering) else clusters


def export_records(graph: nx.Graph, clusters: Clustering | Mapping[str, int] | None = None
                   ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Nodes (with `id`) and edges (with `source` < `target`) in export form: typed, sorted, None kept."""
    membership = _membership(clusters)
    nodes = []
    with paused_gc():
        for node, data in sorted(graph.nodes(data=True), key=lambda nd: str(nd[0])):
            row: dict[str, Any] = {"id": str(node)}
            for field, cast in NODE_FIELDS.items():
                value: Any
                if field == "cluster":
                    value = membership.get(node) if membership is not None else None
                else:
                    value = data.get(SOURCE_KEYS.get(field, field))
                row[field] = None if value is None or value == "" else cast(value)
            row["label"] = row["label"] or str(node)
            if real_point(row["lat"], row["lon"]) is None:
                row["lat"] = row["lon"] = row["placed_by"] = None
            nodes.append(row)
        edges = []
        for a, b, data in graph.edges(data=True):
            source, target = (str(a), str(b)) if str(a) <= str(b) else (str(b), str(a))
            w, f, fy, ly = (data.get(k) for k in EDGE_FIELDS)
            edges.append({"source": source, "target": target, "weight": None if w is None else int(w),
                          "funding": None if f is None else float(f), "first_year": None if fy is None else int(fy),
                          "last_year": None if ly is None else int(ly)})
        edges.sort(key=itemgetter("source", "target"))
    return nodes, edges


_XML_TYPES = {str: ("string", "string"), int: ("long", "long"), float: ("double", "double")}  # (GraphML, GEXF)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 cannot carry at all


def _xml_value(value: Any) -> str:
    return quoteattr(_NOT_XML.sub("", repr(value) if isinstance(value, float) else str(value)))


def _xml_text(value: Any) -> str:
    return escape(_NOT_XML.sub("", repr(value) if isinstance(value, float) else str(value)))


def _graphml(graph: nx.Graph, clusters: Clustering | Mapping[str, int] | None) -> bytes:
    """GraphML 1.0, written in one pass (networkx's writer builds a tree and is ~10x slower on big graphs)."""
    nodes, edges = export_records(graph, clusters)
    out = ['<?xml version="1.0" encoding="utf-8"?>\n<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://graphml.graphdrawing.org/'
           'xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n']
    keys = {}
    for scope, fields in (("node", NODE_FIELDS), ("edge", EDGE_FIELDS)):
        for name, cast in fields.items():
            key = keys[(scope, name)] = f"{scope[0]}_{name}"
            out.append(f'<key id="{key}" for="{scope}" attr.name="{name}" attr.type="{_XML_TYPES[cast][0]}"/>\n')
    out.append('<graph edgedefault="undirected">\n')
    with paused_gc():
        for n in nodes:
            data = "".join(f'<data key="{keys[("node", k)]}">{_xml_text(v)}</data>'
                           for k, v in n.items() if k != "id" and v is not None)
            out.append(f"<node id={_xml_value(n['id'])}>{data}</node>\n")
        for e in edges:
            data = "".join(f'<data key="{keys[("edge", k)]}">{_xml_text(v)}</data>'
                           for k, v in e.items() if k not in ("source", "target") and v is not None)
            out.append(f"<edge source={_xml_value(e['source'])} target={_xml_value(e['target'])}>{data}</edge>\n")
    out.append("</graph>\n</graphml>\n")
    return "".join(out).encode("utf-8")


def _gexf(graph: nx.Graph, clusters: Clustering | Mapping[str, int] | None) -> bytes:
    """GEXF 1.2 (Gephi), written in one pass; the edge weight is GEXF's own `weight` attribute."""
    nodes, edges = export_records(graph, clusters)
    node_fields = [k for k in NODE_FIELDS if k != "label"]
    edge_fields = [k for k in EDGE_FIELDS if k != "weight"]
    out = ['<?xml version="1.0" encoding="utf-8"?>\n<gexf xmlns="http://www.gexf.net/1.2draft" '
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.gexf.net/1.2draft '
           'http://www.gexf.net/1.2draft/gexf.xsd" version="1.2">\n<meta><creator>helixmap</creator></meta>\n'
           '<graph defaultedgetype="undirected" mode="static">\n']
    for scope, fields, types in (("node", node_fields, NODE_FIELDS), ("edge", edge_fields, EDGE_FIELDS)):
        out.append(f'<attributes class="{scope}">')
        out.extend(f'<attribute id="{i}" title="{name}" type="{_XML_TYPES[types[name]][1]}"/>'
                   for i, name in enumerate(fields))
        out.append("</attributes>\n")

    def attvalues(row: Mapping[str, Any], fields: list[str]) -> str:
        values = "".join(f'<attvalue for="{i}" value={_xml_value(row[k])}/>'
                         for i, k in enumerate(fields) if row[k] is not None)
        return f"<attvalues>{values}</attvalues>" if values else ""

    with paused_gc():
        out.append("<nodes>\n")
        for n in nodes:
            out.append(f"<node id={_xml_value(n['id'])} label={_xml_value(n['label'])}>"
                       f"{attvalues(n, node_fields)}</node>\n")
        out.append("</nodes>\n<edges>\n")
        for i, e in enumerate(edges):
            weight = "" if e["weight"] is None else f' weight="{e["weight"]}"'
            out.append(f'<edge id="{i}" source={_xml_value(e["source"])} target={_xml_value(e["target"])}{weight}>'
                       f"{attvalues(e, edge_fields)}</edge>\n")
        out.append("</edges>\n</graph>\n</gexf>\n")
    return "".join(out).encode("utf-8")


def _csv_text(rows: list[dict[str, Any]], fields: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(fields)
    writer.writerows([row[f] for f in fields] for row in rows)  # csv writes None as an empty cell
    return buffer.getvalue()


def _csv_zip(graph: nx.Graph, clusters: Clustering | Mapping[str, int] | None) -> bytes:
    """One zip holding nodes.csv and edges.csv (UTF-8, comma-separated, empty cell = no value)."""
    nodes, edges = export_records(graph, clusters)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, rows, fields in (("nodes.csv", nodes, ["id", *NODE_FIELDS]),
                                   ("edges.csv", edges, ["source", "target", *EDGE_FIELDS])):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # fixed time: same graph, same bytes
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, _csv_text(rows, fields))
    return buffer.getvalue()


def _node_link(graph: nx.Graph, clusters: Clustering | Mapping[str, int] | None) -> str:
    """networkx node-link JSON with the edges under "edges": `nx.node_link_graph(data, edges="edges")`."""
    nodes, edges = export_records(graph, clusters)
    return json.dumps({"directed": False, "multigraph": False, "graph": {}, "nodes": nodes, "edges": edges},
                      ensure_ascii=False)


def _vosviewer(graph: nx.Graph, clusters: Clustering | Mapping[str, int] | None) -> str:
    """VOSviewer JSON (network items and links; clusters beyond 999 share cluster 1000)."""
    nodes, edges = export_records(graph, clusters)
    degree = dict(graph.degree())
    strength = dict(graph.degree(weight="weight"))
    key_of = {str(node): node for node in graph}
    items = []
    used: set[int] = set()
    for n in nodes:
        key = key_of[n["id"]]
        item: dict[str, Any] = {
            "id": n["id"],
            "label": n["label"],
            "description": _vosviewer_description(n),
            "weights": {"Links": degree[key], "Total link strength": int(strength[key])},
        }
        if n["cluster"] is not None:
            item["cluster"] = min(int(n["cluster"]), VOSVIEWER_MAX_CLUSTER)
            used.add(item["cluster"])
        items.append(item)
    links = [{"source_id": e["source"], "target_id": e["target"], "strength": e["weight"] or 0} for e in edges]
    network: dict[str, Any] = {"items": items, "links": links}
    if used:
        network["clusters"] = [{"cluster": c, "label": f"Cluster {c}" if c < VOSVIEWER_MAX_CLUSTER
                                else "Smaller clusters"} for c in sorted(used)]
    config = {"terminology": {"item": "organisation", "items": "organisations", "link": "collaboration",
                              "links": "collaborations", "link_strength": "shared projects",
                              "total_link_strength": "total shared projects"}}
    return json.dumps({"network": network, "config": config}, ensure_ascii=False)


def _vosviewer_description(node: Mapping[str, Any]) -> str:
    parts = [("Helix", node["helix"]), ("Urban-rural type", node["urban_rural"]),
             ("Region", " ".join(x for x in (node["region"], node["region_name"]) if x) or None),
             ("Country", node["country"])]
    return "<br>".join(f"{label}: {html.escape(str(value))}" for label, value in parts if value)


_WRITERS: dict[str, Callable[[nx.Graph, Clustering | Mapping[str, int] | None], bytes | str]] = {
    "graphml": _graphml, "gexf": _gexf, "csv": _csv_zip, "json": _node_link, "vosviewer": _vosviewer,
}


def export_graph(graph: nx.Graph, fmt: str, clusters: Clustering | Mapping[str, int] | None = None) -> bytes | str:
    """The graph in `fmt`: graphml, gexf (bytes, UTF-8 XML), csv (bytes: a zip of nodes.csv and edges.csv),
    json (str: node-link) or vosviewer (str: VOSviewer JSON). `clusters` adds a cluster field to nodes."""
    try:
        writer = _WRITERS[fmt]
    except KeyError:
        raise BadInputError(f"unknown export format {fmt!r} (one of {', '.join(EXPORT_FORMATS)})",
                            field="format") from None
    return writer(graph, clusters)
