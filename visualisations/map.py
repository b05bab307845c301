"""Interactive, offline maps of the collaboration graph: organisations on a canvas, drawn by the page's own script.

The page is self-contained (its script and styles inline; a Content-Security-Policy forbids loading anything
else). Positions are computed here (Web Mercator from the organisation's place, or force-directed); the page
draws region outlines behind the nodes, links coloured by the urban-rural (or helix) pair of their two
organisations, fits the view to what is shown after each filter, opens a side panel on a click, and offers
the same organisations and links as tables. Organisations without a place are listed beside the map, not
drawn. Everything is deterministic: the same nodes and edges give the same bytes.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2

from visualisations.layout import force_layout, geo_layout, project
from visualisations.regions import PAIR_COLOURS, UNKNOWN_COLOUR, simplify

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
HELIX_PAIR_COLOURS: dict[str, str] = {  # Paul Tol's muted scheme (colour-blind safe), one per pair of helices
    "academia-academia": "#332288",
    "academia-industry": "#88CCEE",
    "academia-government": "#44AA99",
    "academia-civil_society": "#117733",
    "industry-industry": "#999933",
    "industry-government": "#DDCC77",
    "industry-civil_society": "#CC6677",
    "government-government": "#882255",
    "government-civil_society": "#AA4499",
    "civil_society-civil_society": "#6699CC",
}
OUTLINE_FILLS = {"urban": "#dedede", "intermediate": "#ebebeb", "rural": "#e9f1dc", "unknown": "#f7f7f7"}
_LEGEND_SHAPES = {
    "square": '<rect x="2" y="2" width="12" height="12" fill="#777"/>',
    "diamond": '<polygon points="8,1 15,8 8,15 1,8" fill="#777"/>',
    "triangle": '<polygon points="8,1 15,14 1,14" fill="#777"/>',
    "dot": '<circle cx="8" cy="8" r="6" fill="#777"/>',
}

LAYOUTS = ("geo", "force")
DEFAULT_MAX_EDGES = 20_000
LABEL_MAX_CHARS = 36
UNPLACED_ROWS = 300
"""Organisations without a place listed beside the map at most (the CSV has them all)."""
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


class Messages:
    """The page's words: `messages` (a message catalogue, key -> str.format text); a missing key shows itself."""

    def __init__(self, messages: Mapping[str, str] | None, lang: str = "en") -> None:
        self.messages = messages or {}
        self.lang = lang

    def __call__(self, key: str, **values: Any) -> str:
        text = self.messages.get(key) or key
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):
            return text

    def num(self, value: float) -> str:
        """A whole number written as the language writes it (en 12,345; pl 12 345)."""
        text = f"{round(value):,}"
        if self.lang == "pl":
            text = text.replace(",", "\u00a0") if abs(round(value)) >= 10_000 else text.replace(",", "")
        return text

    def js(self) -> dict[str, str]:
        """The `map.` messages, for the page's script."""
        return {k: v for k, v in self.messages.items() if k.startswith("map.")}


def _place(node: Mapping[str, Any], t: Messages) -> str:
    region = _text(node.get("region_name"))
    nuts3 = _text(node.get("nuts3"))
    if region and nuts3:
        region = f"{region} ({nuts3})"
    parts = [p for p in (_text(node.get("city")), region or nuts3, _text(node.get("country"))) if p]
    return ", ".join(parts) or t("map.place_unknown")


def _label(name: str) -> str:
    return name if len(name) <= LABEL_MAX_CHARS else name[: LABEL_MAX_CHARS - 1].rstrip() + "…"


def _node_size(wd: float, max_wd: float) -> float:
    if max_wd <= 0:
        return 5.0
    return round(3.0 + 11.0 * math.sqrt(max(wd, 0.0) / max_wd), 1)


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
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return env.get_template("network.html")


def pair_of(a: str, b: str, order: Sequence[str]) -> str:
    """Two values as a pair in the given order (`urban-rural`, `academia-industry`)."""
    rank = {v: i for i, v in enumerate(order)}
    x, y = sorted((a, b), key=lambda v: rank.get(v, len(rank)))
    return f"{x}-{y}"


_UR_ORDER = ("urban", "intermediate", "rural", "unknown")
_HELIX_ORDER = ("academia", "industry", "government", "civil_society", "unknown")


def _outline_data(outlines: Mapping[str, Sequence[Mapping[str, Any]]], types: Mapping[str, str],
                  frame: tuple[float, float, float, float] | None) -> list[dict[str, Any]]:
    """Region outlines in canvas units (projected like the nodes), simplified to about a pixel of the view."""
    width = (frame[1] - frame[0]) if frame else 1000.0
    tolerance = max(width / 1500.0, 0.02)
    out = []
    for code in sorted(outlines):
        rings: list[list[float]] = []
        for geometry in outlines[code]:
            coords = geometry.get("coordinates") or []
            polygons = [coords] if geometry.get("type") == "Polygon" else coords
            for polygon in polygons:
                for ring in polygon[:1]:  # outer rings: holes are other regions, drawn on their own
                    points = simplify([project(p[1], p[0]) for p in ring], tolerance)
                    if len(points) >= 3:
                        rings.append([round(v, 2) for point in points for v in point])
        if rings:
            out.append({"code": code, "type": types.get(code, "unknown"), "rings": rings})
    return out


def _positions(layout: str, shown: list[dict[str, Any]], shown_edges: list[dict[str, Any]],
               by_strength: list[str], given: Mapping[str, tuple[float, float]] | None = None,
               ) -> tuple[dict[str, tuple[float, float]], list[str], Any]:
    """(positions, ids without a place, frame) for the layout; `given` force positions are used when they
    cover every node shown."""
    if layout == "geo":
        node_by_id = {n["id"]: n for n in shown}
        geo = geo_layout([node_by_id[i] for i in by_strength], strip=False)
        return geo.positions, geo.unlocated, geo.frame
    if given is not None and all(n["id"] in given for n in shown):
        return {n["id"]: given[n["id"]] for n in shown}, [], None
    return force_layout([n["id"] for n in shown], shown_edges), [], None


def force_positions(nodes: list[dict[str, Any]], edges: list[dict[str, Any]], *, max_nodes: int = 1500,
                    max_edges: int = DEFAULT_MAX_EDGES) -> dict[str, tuple[float, float]]:
    """The force layout `render_network_map` would compute for these nodes and edges (after the same caps):
    compute it once, keep it (per data version and filters) and pass it back as `positions`."""
    all_nodes, all_edges = _normalise(nodes, edges)
    shown, shown_edges, _ = cap_network(all_nodes, all_edges, max_nodes)
    shown_edges, _ = cap_edges(shown_edges, max_edges)
    return force_layout([n["id"] for n in shown], shown_edges)


def _node_record(node: Mapping[str, Any], xy: tuple[float, float], wd: float, degree: int, max_wd: float,
                 t: Messages) -> dict[str, Any]:
    return {
        "id": node["id"], "name": _text(node.get("name")) or node["id"], "label": _label(_text(node.get("name"))
                                                                                        or node["id"]),
        "helix": node["helix"], "ur": node["urban_rural"], "x": round(xy[0], 2), "y": round(xy[1], 2),
        "size": _node_size(wd, max_wd), "partners": degree, "strength": round(wd, 1),
        "place": _place(node, t), "placed_by": node.get("placed_by"), "nuts3": _text(node.get("nuts3")),
    }


def _edge_rows(edges: Sequence[Mapping[str, Any]], index: Mapping[str, int],
               node_by_id: Mapping[str, Mapping[str, Any]]) -> list[list[Any]]:
    """[from, to, shared projects, urban-rural pair, helix pair] per drawn link, weakest first."""
    rows = []
    for edge in sorted(edges, key=lambda e: (int(e["weight"]), e["source"], e["target"])):
        if edge["source"] in index and edge["target"] in index:
            a, b = node_by_id[edge["source"]], node_by_id[edge["target"]]
            rows.append([index[edge["source"]], index[edge["target"]], int(edge["weight"]),
                         pair_of(a["urban_rural"], b["urban_rural"], _UR_ORDER),
                         pair_of(a["helix"], b["helix"], _HELIX_ORDER)])
    return rows


def render_network_map(
    nodes: list[dict[str, Any]],
    edges: list[dict[str, Any]],
    *,
    layout: str = "geo",
    title: str = "helixmap network",
    notice: str | None = None,
    max_nodes: int = 1500,
    max_edges: int = DEFAULT_MAX_EDGES,
    outlines: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    messages: Mapping[str, str] | None = None,
    lang: str = "en",
    form: Mapping[str, Any] | None = None,
    csv_query: str | None = "",
    positions: Mapping[str, tuple[float, float]] | None = None,
) -> str:
    """A complete, offline HTML page showing the collaboration network.

    ``layout`` is ``"geo"`` (positions from each organisation's place, `lat` / `lon`; those without one listed
    in a table beside the map) or ``"force"`` (force-directed, computed here). ``outlines`` (NUTS3 code ->
    GeoJSON geometries) are drawn behind the nodes on the geographic layout. Above ``max_nodes``
    organisations the strongest are kept (by weighted degree), above ``max_edges`` links the heaviest; the
    page says so. ``messages`` is the message catalogue of ``lang`` (its `map.` keys); ``form`` the server
    filters to show in the filter form; ``csv_query`` the query of the CSV downloads.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    t = Messages(messages, lang)
    all_nodes, all_edges = _normalise(nodes, edges)
    strength = _strength(all_nodes, all_edges)
    shown_nodes, shown_edges, dropped_nodes = cap_network(all_nodes, all_edges, max_nodes)
    total_edges_of_shown = len(shown_edges)
    shown_edges, dropped_edges = cap_edges(shown_edges, max_edges)

    by_strength = sorted((n["id"] for n in shown_nodes), key=lambda i: _rank_key(i, strength))
    positions, unplaced_ids, frame = _positions(layout, shown_nodes, shown_edges, by_strength, positions)
    node_by_id = {n["id"]: n for n in shown_nodes}
    max_wd = max((strength[n["id"]][0] for n in shown_nodes), default=0.0)
    drawn = [i for i in by_strength if i in positions]
    index = {node_id: k for k, node_id in enumerate(drawn)}
    records = [_node_record(node_by_id[i], positions[i], *strength[i], max_wd, t) for i in drawn]
    edge_rows = _edge_rows(shown_edges, index, node_by_id)
    types = {n["nuts3"]: n["urban_rural"] for n in shown_nodes if n.get("nuts3")}
    outline_rows = _outline_data(outlines or {}, types, frame) if layout == "geo" else []
    region_names = {n["nuts3"]: _text(n.get("region_name")) for n in shown_nodes if n.get("nuts3")}
    unplaced = [node_by_id[i] for i in unplaced_ids]
    data = {
        "nodes": records,
        "edges": edge_rows,
        "outlines": outline_rows,
        "region_names": {o["code"]: region_names.get(o["code"]) or o["code"] for o in outline_rows},
        "colours": {"pair": {**PAIR_COLOURS, "other": UNKNOWN_COLOUR},
                    "helix": {**HELIX_PAIR_COLOURS, "other": UNKNOWN_COLOUR},
                    "node": HELIX_COLOURS, "fill": OUTLINE_FILLS},
        "messages": t.js(),
        "lang": lang,
        "layout": layout,
    }
    return _template().render(
        t=t,
        lang=lang,
        title=title,
        notice=notice,
        layout=layout,
        node_count=len(shown_nodes),
        drawn_count=len(records),
        edge_count=len(edge_rows),
        summary=_summary(t, len(all_nodes), len(shown_nodes), total_edges_of_shown, len(shown_edges),
                         dropped_nodes, dropped_edges),
        unplaced=[{"id": n["id"], "name": _text(n.get("name")) or n["id"], "helix": n["helix"],
                   "country": _text(n.get("country")), "partners": strength[n["id"]][1]}
                  for n in unplaced[:UNPLACED_ROWS]],
        unplaced_count=len(unplaced),
        helix_legend=_legend_counts(shown_nodes, "helix", HELIX_LABELS,
                                    lambda key: {"colour": HELIX_COLOURS[key], "border": _darker(HELIX_COLOURS[key])}),
        shape_legend=_legend_counts(shown_nodes, "urban_rural", URBAN_RURAL_LABELS,
                                    lambda key: {"svg": _LEGEND_SHAPES[URBAN_RURAL_SHAPES[key]]}),
        pair_legend=list(PAIR_COLOURS.items()),
        helix_pair_legend=list(HELIX_PAIR_COLOURS.items()),
        other_colour=UNKNOWN_COLOUR,
        form=form,
        csv_query=csv_query,
        data_json=_script_json(data),
    )


def _summary(t: Messages, total_nodes: int, shown_nodes: int, total_edges: int, shown_edges: int,
             dropped_nodes: int, dropped_edges: int) -> str:
    if dropped_nodes:
        text = t("map.summary_capped", shown=t.num(shown_nodes), total=t.num(total_nodes))
    else:
        text = t("map.summary_nodes", count=t.num(shown_nodes))
    if dropped_edges:
        text += " " + t("map.summary_links_capped", shown=t.num(shown_edges), total=t.num(total_edges))
    else:
        text += " " + t("map.summary_links", count=t.num(shown_edges))
    return text


def _legend_counts(
    nodes: Sequence[Mapping[str, Any]], key: str, labels: Mapping[str, str], extra: Any
) -> list[dict[str, Any]]:
    counts: dict[str, int] = {k: 0 for k in labels}
    for node in nodes:
        counts[node[key]] += 1
    return [{"key": k, "label": labels[k], "count": counts[k], **extra(k)} for k in labels]


def render_network_payload(payload: dict[str, Any], *, layout: str = "geo", title: str = "helixmap network",
                           max_nodes: int = 1500, outlines: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
                           messages: Mapping[str, str] | None = None, lang: str = "en",
                           form: Mapping[str, Any] | None = None, csv_query: str | None = "",
                           positions: Mapping[str, tuple[float, float]] | None = None) -> str:
    """The map page for a network payload (`ecosystem.services.networks.network_payload`), saying when and
    how it was capped."""
    t = Messages(messages, lang)
    notice = None
    if payload["truncated"]:
        notice = t("map.notice_capped", shown=t.num(len(payload["nodes"])), total=t.num(payload["total_nodes"]))
    return render_network_map(payload["nodes"], payload["edges"], layout=layout, title=title, notice=notice,
                              max_nodes=max_nodes, outlines=outlines, messages=messages, lang=lang, form=form,
                              csv_query=csv_query, positions=positions)
