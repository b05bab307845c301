"""Interactive, offline network maps of the collaboration graph (pyvis / vis-network).

The page is self-contained: vis-network's JavaScript and CSS (shipped inside the pyvis package) are
inlined, and a Content-Security-Policy forbids loading anything else. Everything is deterministic:
the same nodes and edges give the same bytes.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2

from visualisations.layout import GeoLayout, force_layout, geo_layout

HELIX_COLOURS: dict[str, str] = {  # Okabe-Ito, colour-blind safe
    "academia": "#0072B2",
    "industry": "#E69F00",
    "government": "#009E73",
    "civil_society": "#CC79A7",
    "unknown": "#999999",
}
HELIX_LABELS: dict[str, str] = {
    "academia": "Academia",
    "industry": "Industry",
    "government": "Government",
    "civil_society": "Civil society",
    "unknown": "Unknown",
}
URBAN_RURAL_SHAPES: dict[str, str] = {
    "urban": "square",
    "intermediate": "diamond",
    "rural": "triangle",
    "unknown": "dot",
}
URBAN_RURAL_LABELS: dict[str, str] = {
    "urban": "Urban",
    "intermediate": "Intermediate",
    "rural": "Rural",
    "unknown": "Unknown",
}
_URBAN_RURAL_LONG = {
    "urban": "predominantly urban",
    "intermediate": "intermediate",
    "rural": "predominantly rural",
    "unknown": "unknown",
}
_LEGEND_SHAPES = {
    "square": '<rect x="2" y="2" width="12" height="12" fill="#777"/>',
    "diamond": '<polygon points="8,1 15,8 8,15 1,8" fill="#777"/>',
    "triangle": '<polygon points="8,1 15,14 1,14" fill="#777"/>',
    "dot": '<circle cx="8" cy="8" r="6" fill="#777"/>',
}

LAYOUTS = ("geo", "force")
DEFAULT_MAX_EDGES = 20_000
PHYSICS_MAX_NODES = 300
"""The force layout keeps vis-network physics (draggable springs) up to this many nodes; above, off."""

LABEL_MAX_CHARS = 36
LABELLED_NODES = 12
LABEL_CANDIDATES = 40
"""Up to LABELLED_NODES of the LABEL_CANDIDATES strongest nodes are labelled at the initial zoom (those
whose labels do not overlap); the others' labels appear when zooming in."""
VIS_VERSION = "9.1.2"
_TEMPLATES = Path(__file__).parent / "templates"


# ---------------------------------------------------------------------------------------------------
# pure graph helpers


def _strength(nodes: Sequence[Mapping[str, Any]], edges: Iterable[Mapping[str, Any]]) -> dict[str, tuple[float, int]]:
    """(weighted degree, degree) per node id: given values win, else computed from ``edges``."""
    weighted: dict[str, float] = {}
    degree: dict[str, int] = {}
    for edge in edges:
        for end in (str(edge["source"]), str(edge["target"])):
            weighted[end] = weighted.get(end, 0.0) + float(edge.get("weight") or 1)
            degree[end] = degree.get(end, 0) + 1
    out: dict[str, tuple[float, int]] = {}
    for node in nodes:
        node_id = str(node["id"])
        wd = node.get("weighted_degree")
        dg = node.get("degree")
        out[node_id] = (
            float(wd) if wd is not None else weighted.get(node_id, 0.0),
            int(dg) if dg is not None else degree.get(node_id, 0),
        )
    return out


def _rank_key(node_id: str, strength: Mapping[str, tuple[float, int]]) -> tuple[float, int, str]:
    wd, dg = strength.get(node_id, (0.0, 0))
    return (-wd, -dg, node_id)


def cap_network(
    nodes: list[dict[str, Any]], edges: list[dict[str, Any]], max_nodes: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """Keep the ``max_nodes`` strongest nodes (weighted degree, then degree, then id) and their edges.

    Weighted degree is the node's ``weighted_degree`` when given, else the sum of its edge weights.
    Order is kept; edges touching a removed (or unknown) node are dropped. Returns
    ``(nodes, edges, number of nodes dropped)``.
    """
    if max_nodes < 0:
        raise ValueError(f"max_nodes must be >= 0, got {max_nodes}")
    if len(nodes) <= max_nodes:
        kept_ids = {str(n["id"]) for n in nodes}
        kept_nodes = list(nodes)
    else:
        strength = _strength(nodes, edges)
        ranked = sorted((str(n["id"]) for n in nodes), key=lambda i: _rank_key(i, strength))
        kept_ids = set(ranked[:max_nodes])
        kept_nodes = [n for n in nodes if str(n["id"]) in kept_ids]
    kept_edges = [e for e in edges if str(e["source"]) in kept_ids and str(e["target"]) in kept_ids]
    return kept_nodes, kept_edges, len(nodes) - len(kept_nodes)


def cap_edges(edges: list[dict[str, Any]], max_edges: int, *, per_node: int = 2) -> tuple[list[dict[str, Any]], int]:
    """Keep at most ``max_edges`` edges, in their original order; returns ``(edges, number dropped)``.

    First every node's ``per_node`` heaviest edges (so no node is cut off from the map), then the
    heaviest of the rest (weight, then funding, then ids).
    """
    if max_edges < 0:
        raise ValueError(f"max_edges must be >= 0, got {max_edges}")
    if len(edges) <= max_edges:
        return list(edges), 0
    order = sorted(
        range(len(edges)),
        key=lambda i: (
            -float(edges[i].get("weight") or 1),
            -float(edges[i].get("funding") or 0.0),
            str(edges[i]["source"]),
            str(edges[i]["target"]),
        ),
    )
    keep: set[int] = set()
    used: dict[str, int] = {}
    for i in order:
        if len(keep) >= max_edges:
            break
        ends = (str(edges[i]["source"]), str(edges[i]["target"]))
        if any(used.get(end, 0) < per_node for end in ends):
            keep.add(i)
            for end in ends:
                used[end] = used.get(end, 0) + 1
    for i in order:
        if len(keep) >= max_edges:
            break
        keep.add(i)
    return [e for i, e in enumerate(edges) if i in keep], len(edges) - len(keep)


def _normalise(
    nodes: Iterable[Mapping[str, Any]], edges: Iterable[Mapping[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """String ids, known helix/urban-rural values, no duplicate nodes, self-loops or dangling edges.

    Duplicate edges (either direction) are merged: weights and funding summed, years widened.
    """
    out_nodes: list[dict[str, Any]] = []
    seen: set[str] = set()
    for node in nodes:
        node_id = str(node["id"])
        if node_id in seen:
            continue
        seen.add(node_id)
        item = dict(node)
        item["id"] = node_id
        if item.get("helix") not in HELIX_COLOURS:
            item["helix"] = "unknown"
        if item.get("urban_rural") not in URBAN_RURAL_SHAPES:
            item["urban_rural"] = "unknown"
        out_nodes.append(item)
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for edge in edges:
        source, target = str(edge["source"]), str(edge["target"])
        if source == target or source not in seen or target not in seen:
            continue
        key = (source, target) if source < target else (target, source)
        weight = int(edge.get("weight") or 1)
        if key not in merged:
            item = dict(edge)
            item.update(source=source, target=target, weight=weight)
            merged[key] = item
            continue
        item = merged[key]
        item["weight"] += weight
        if edge.get("funding") is not None:
            item["funding"] = float(item.get("funding") or 0.0) + float(edge["funding"])
        for name, pick in (("first_year", min), ("last_year", max)):
            values = [v for v in (item.get(name), edge.get(name)) if v is not None]
            item[name] = pick(values) if values else None
    return out_nodes, list(merged.values())


# ---------------------------------------------------------------------------------------------------
# presentation


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _darker(colour: str, factor: float = 0.72) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#{:02x}{:02x}{:02x}".format(*(round(c * factor) for c in (r, g, b)))


def _lighter(colour: str, factor: float = 0.35) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#{:02x}{:02x}{:02x}".format(*(round(c + (255 - c) * factor) for c in (r, g, b)))


def _node_colour(helix: str) -> dict[str, Any]:
    base = HELIX_COLOURS[helix]
    border = _darker(base)
    return {
        "background": base,
        "border": border,
        "highlight": {"background": _lighter(base), "border": "#000000"},
        "hover": {"background": _lighter(base), "border": "#000000"},
    }


def _place(node: Mapping[str, Any]) -> str:
    region = _text(node.get("region_name"))
    nuts3 = _text(node.get("nuts3"))
    if region and nuts3:
        region = f"{region} ({nuts3})"
    parts = [p for p in (_text(node.get("city")), region or nuts3, _text(node.get("country"))) if p]
    return ", ".join(parts) or "unknown"


def _years(first: Any, last: Any) -> str:
    if first is None and last is None:
        return ""
    if first is None or last is None or first == last:
        return str(first if first is not None else last)
    return f"{first}–{last}"


def _node_title(node: Mapping[str, Any], wd: float, degree: int) -> str:
    """Plain-text tooltip (vis-network shows string titles as text, never as HTML)."""
    ur = node["urban_rural"]
    lines = [
        _text(node.get("name")) or node["id"],
        f"Helix: {HELIX_LABELS[node['helix']]}",
        f"Place: {_place(node)}",
        f"Urban-rural type: {_URBAN_RURAL_LONG[ur]}",
        f"Partners: {degree:,} · shared projects (summed): {_format_number(wd)}",
    ]
    return "\n".join(lines)


def _edge_title(edge: Mapping[str, Any], names: Mapping[str, str]) -> str:
    lines = [
        f"{names[edge['source']]} — {names[edge['target']]}",
        f"Shared projects: {int(edge['weight']):,}",
    ]
    years = _years(edge.get("first_year"), edge.get("last_year"))
    if years:
        lines.append(f"Years: {years}")
    if edge.get("funding") is not None:
        lines.append(f"Shared funding: €{float(edge['funding']):,.0f}")
    return "\n".join(lines)


def _format_number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.1f}"


def _label(name: str) -> str:
    return name if len(name) <= LABEL_MAX_CHARS else name[: LABEL_MAX_CHARS - 1].rstrip() + "…"


def _node_size(wd: float, max_wd: float) -> float:
    if max_wd <= 0:
        return 6.0
    return round(4.0 + 14.0 * math.sqrt(max(wd, 0.0) / max_wd), 2)


def _edge_width(weight: int) -> float:
    return round(min(0.6 + 1.4 * math.log2(max(weight, 1)), 8.0), 2)


def _script_json(value: Any) -> str:
    """JSON safe to embed in a <script> element (no '</script>', '<!--' or line separators)."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
    for char, escape in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escape)
    return text


@functools.lru_cache(maxsize=1)
def _vis_assets() -> tuple[str, str, str]:
    """(vis-network JS, its CSS, pyvis version) read from the installed pyvis package."""
    import pyvis

    lib = Path(pyvis.__file__).parent / "templates" / "lib" / f"vis-{VIS_VERSION}"
    js = (lib / "vis-network.min.js").read_text(encoding="utf-8")
    css = (lib / "vis-network.css").read_text(encoding="utf-8")
    if "</script" in js.lower() or "</style" in css.lower():  # pragma: no cover - would break inlining
        raise RuntimeError("vis-network assets cannot be inlined safely")
    return js, css, str(getattr(pyvis, "__version__", "?"))


@functools.lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return env.get_template("network.html")


def _options(layout: str, node_count: int, edge_count: int) -> dict[str, Any]:
    physics = layout == "force" and node_count <= PHYSICS_MAX_NODES
    heavy = edge_count > 3000 or node_count > 800
    # Thousands of overlapping lines would hide everything: the more edges, the fainter each one.
    edge_opacity = round(min(0.5, max(0.08, 0.5 * math.sqrt(400.0 / max(edge_count, 1)))), 3)
    options: dict[str, Any] = {
        "autoResize": True,
        "layout": {"improvedLayout": False, "randomSeed": 7},
        "nodes": {
            "borderWidth": 1,
            "borderWidthSelected": 3,
            "font": {"size": 12, "face": "sans-serif", "color": "#222222", "strokeWidth": 3, "strokeColor": "#ffffff"},
            "scaling": {"label": {"enabled": False, "drawThreshold": 9, "maxVisible": 22}},
        },
        "edges": {
            "smooth": False,
            "color": {
                "color": "#8c8c8c",
                "highlight": "#222222",
                "hover": "#222222",
                "opacity": edge_opacity,
                "inherit": False,
            },
            "selectionWidth": 2,
            "hoverWidth": 1,
        },
        "interaction": {
            "hover": True,
            "tooltipDelay": 120,
            "hideEdgesOnDrag": heavy,
            "hideEdgesOnZoom": heavy,
            "navigationButtons": False,
            "keyboard": False,
        },
        "physics": {"enabled": False},
    }
    if physics:
        options["physics"] = {
            "enabled": True,
            "solver": "forceAtlas2Based",
            "forceAtlas2Based": {"gravitationalConstant": -40, "springLength": 60, "avoidOverlap": 0.4},
            "stabilization": {"enabled": True, "iterations": 150, "fit": True},
        }
    return options


def render_network_map(
    nodes: list[dict[str, Any]],
    edges: list[dict[str, Any]],
    *,
    layout: str = "geo",
    title: str = "helixmap network",
    notice: str | None = None,
    max_nodes: int = 1500,
    max_edges: int = DEFAULT_MAX_EDGES,
) -> str:
    """A complete, offline HTML page showing the collaboration network.

    ``layout`` is ``"geo"`` (positions from lat/lon, nodes without one in a "no location" strip) or
    ``"force"`` (force-directed, computed here). Above ``max_nodes`` organisations the strongest are
    kept (by weighted degree), above ``max_edges`` links the heaviest; the page says so.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    from pyvis.edge import Edge
    from pyvis.network import Network

    all_nodes, all_edges = _normalise(nodes, edges)
    strength = _strength(all_nodes, all_edges)
    shown_nodes, shown_edges, dropped_nodes = cap_network(all_nodes, all_edges, max_nodes)
    total_edges_of_shown = len(shown_edges)
    shown_edges, dropped_edges = cap_edges(shown_edges, max_edges)

    by_strength = sorted((n["id"] for n in shown_nodes), key=lambda i: _rank_key(i, strength))
    node_by_id = {n["id"]: n for n in shown_nodes}
    geo: GeoLayout | None = None
    if layout == "geo":
        geo = geo_layout([node_by_id[i] for i in by_strength])
        positions = geo.positions
    else:
        positions = force_layout([n["id"] for n in shown_nodes], shown_edges)

    max_wd = max((strength[n["id"]][0] for n in shown_nodes), default=0.0)
    names = {n["id"]: _text(n.get("name")) or n["id"] for n in shown_nodes}

    net = Network(height="100%", width="100%", bgcolor="#ffffff", heading=title, cdn_resources="in_line")
    for node in shown_nodes:
        wd, degree = strength[node["id"]]
        x, y = positions[node["id"]]
        net.add_node(
            node["id"],
            label=_label(names[node["id"]]),
            shape=URBAN_RURAL_SHAPES[node["urban_rural"]],
            color=_node_colour(node["helix"]),
            title=_node_title(node, wd, degree),
            size=_node_size(wd, max_wd),
            x=round(x, 1),
            y=round(y, 1),
            helix=node["helix"],
            urban_rural=node["urban_rural"],
        )
    # Network.add_edge scans every existing edge for duplicates (quadratic); edges are already
    # unique here, so they are built with pyvis's Edge directly.
    for k, edge in enumerate(shown_edges):
        net.edges.append(
            Edge(
                edge["source"],
                edge["target"],
                id=f"e{k}",
                width=_edge_width(edge["weight"]),
                title=_edge_title(edge, names),
            ).options
        )
    net.options = _options(layout, len(shown_nodes), len(shown_edges))
    vis_nodes, vis_edges, _heading, _height, _width, options_json = net.get_network_data()

    data = {
        "nodes": vis_nodes,
        "edges": vis_edges,
        "options": json.loads(options_json),
        "fit_nodes": geo.fit_nodes if geo else [],
        "label_nodes": by_strength[:LABEL_CANDIDATES],
        "label_count": LABELLED_NODES,
        "decorations": geo.decorations if geo else None,
    }
    vis_js, vis_css, pyvis_version = _vis_assets()
    return _template().render(
        title=title,
        notice=notice,
        layout=layout,
        node_count=len(shown_nodes),
        edge_count=len(shown_edges),
        summary=_summary(
            len(all_nodes), len(shown_nodes), total_edges_of_shown, len(shown_edges), dropped_nodes, dropped_edges
        ),
        unlocated_text=_unlocated_text(len(geo.unlocated)) if geo else "",
        helix_legend=_legend_counts(
            shown_nodes,
            "helix",
            HELIX_LABELS,
            lambda key: {"colour": HELIX_COLOURS[key], "border": _darker(HELIX_COLOURS[key])},
        ),
        shape_legend=_legend_counts(
            shown_nodes, "urban_rural", URBAN_RURAL_LABELS, lambda key: {"svg": _LEGEND_SHAPES[URBAN_RURAL_SHAPES[key]]}
        ),
        data_json=_script_json(data),
        vis_js=vis_js,
        vis_css=vis_css,
        vis_version=VIS_VERSION,
        pyvis_version=pyvis_version,
    )


def _summary(
    total_nodes: int, shown_nodes: int, total_edges: int, shown_edges: int, dropped_nodes: int, dropped_edges: int
) -> str:
    if dropped_nodes:
        text = f"Showing {shown_nodes:,} of {total_nodes:,} organisations (the strongest by weighted degree)"
    else:
        text = f"{shown_nodes:,} organisation{'s' if shown_nodes != 1 else ''}"
    if dropped_edges:
        text += (f" and {shown_edges:,} of their {total_edges:,} collaboration links"
                 " (the heaviest, and each organisation's two heaviest).")
    else:
        text += f" and {shown_edges:,} collaboration link{'s' if shown_edges != 1 else ''}."
    return text


def _unlocated_text(count: int) -> str:
    if not count:
        return "Every organisation shown has a location."
    verb = "has" if count == 1 else "have"
    return (f"{count:,} organisation{'s' if count != 1 else ''} {verb} no location: "
            "shown in the “no location” strip below the map.")


def _legend_counts(
    nodes: Sequence[Mapping[str, Any]], key: str, labels: Mapping[str, str], extra: Any
) -> list[dict[str, Any]]:
    counts: dict[str, int] = {k: 0 for k in labels}
    for node in nodes:
        counts[node[key]] += 1
    return [{"key": k, "label": labels[k], "count": f"{counts[k]:,}", **extra(k)} for k in labels]


def render_network_payload(payload: dict[str, Any], *, layout: str = "geo", title: str = "helixmap network",
                           max_nodes: int = 1500) -> str:
    """The map page for a network payload (`ecosystem.services.networks.network_payload`), saying when and
    how it was capped."""
    notice = None
    if payload["truncated"]:
        notice = (f"Showing the {len(payload['nodes']):,} strongest of {payload['total_nodes']:,} organisations "
                  "(by weighted degree); filter by region, helix or urban-rural type to see the rest.")
    return render_network_map(payload["nodes"], payload["edges"], layout=layout, title=title, notice=notice,
                              max_nodes=max_nodes)
