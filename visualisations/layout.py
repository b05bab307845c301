"""Server-side node positions for the network map: geographic (Web Mercator) and force-directed."""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

GEO_SCALE = 25.0
"""Canvas units per degree of longitude (Europe comes out about 1,000 units wide)."""

SPREAD_CELL = 3.0
"""Nodes closer than this (canvas units, ~12 km) are spread on a small spiral so none hides another."""

SPREAD_STEP = 3.5
STRIP_SPACING = 30.0
FOCUS_QUANTILE = 0.05
FOCUS_MARGIN = 0.25
"""The initial view: the 5th-95th percentile box of the located nodes, widened by a quarter each way."""
GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))
FORCE_SEED = 42
FORCE_ITERATIONS = 500


def coordinates(node: Mapping[str, Any]) -> tuple[float, float] | None:
    """(lat, lon) of a node, or None when missing, not finite, out of range or exactly (0, 0), or when the
    node's `placed_by` says it has no place."""
    if "placed_by" in node and node["placed_by"] is None:
        return None
    try:
        lat = float(node.get("lat"))  # type: ignore[arg-type]
        lon = float(node.get("lon"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0) or (lat == 0.0 and lon == 0.0):
        return None
    return lat, lon


def mercator_y(lat: float) -> float:
    """Web-Mercator northing of a latitude, in degrees-equivalent (equals lat near the equator)."""
    lat = max(-85.0, min(85.0, lat))
    return math.degrees(math.log(math.tan(math.pi / 4.0 + math.radians(lat) / 2.0)))


def project(lat: float, lon: float) -> tuple[float, float]:
    """Canvas position (x east, y down) of a coordinate."""
    return lon * GEO_SCALE, -mercator_y(lat) * GEO_SCALE


@dataclass
class GeoLayout:
    """Result of :func:`geo_layout`."""

    positions: dict[str, tuple[float, float]]
    unlocated: list[str]
    fit_nodes: list[str]
    decorations: dict[str, Any] = field(default_factory=dict)
    frame: tuple[float, float, float, float] | None = None
    """(left, right, top, bottom) of the initial view, canvas units."""


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))]


def _spread(ids: Sequence[str], raw: Mapping[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    """Move nodes sharing (almost) the same point onto a golden-angle spiral around it.

    ``ids`` must be ordered strongest first: the strongest node keeps the exact point.
    """
    cells: dict[tuple[int, int], list[str]] = {}
    for node_id in ids:
        x, y = raw[node_id]
        cells.setdefault((math.floor(x / SPREAD_CELL), math.floor(y / SPREAD_CELL)), []).append(node_id)
    out: dict[str, tuple[float, float]] = {}
    for members in cells.values():
        cx, cy = raw[members[0]]
        for k, node_id in enumerate(members):
            if k == 0:
                out[node_id] = (cx, cy)
                continue
            radius = SPREAD_STEP * math.sqrt(k)
            out[node_id] = (cx + radius * math.cos(k * GOLDEN_ANGLE), cy + radius * math.sin(k * GOLDEN_ANGLE))
    return out


def _nice_step(span_degrees: float) -> int:
    for step in (1, 2, 5, 10, 20, 30):
        if span_degrees / step <= 10:
            return step
    return 45


Frame = tuple[float, float, float, float]
"""(left, right, top, bottom) of the initial view, in canvas units."""

EMPTY_FRAME: Frame = (-250.0, 750.0, -1500.0, -1000.0)
"""The initial view when no node has coordinates: western Europe."""


def geo_layout(nodes: Sequence[Mapping[str, Any]], *, strip: bool = True) -> GeoLayout:
    """Positions from lat/lon; nodes without coordinates go to a strip below the map (`strip`), or have no
    position (listed in `unlocated` only).

    ``nodes`` must be ordered strongest first (it decides who keeps the exact point and the strip order).
    The initial view is fitted to the bulk of the nodes (see ``FOCUS_QUANTILE``), so a few far-away
    partners (Australia, Brazil) do not shrink Europe to a dot; they are drawn and reached by zooming out.
    """
    raw: dict[str, tuple[float, float]] = {}
    located: list[str] = []
    unlocated: list[str] = []
    for node in nodes:
        coords = coordinates(node)
        if coords is None:
            unlocated.append(node["id"])
        else:
            raw[node["id"]] = project(*coords)
            located.append(node["id"])
    positions = _spread(located, raw)
    frame = _padded(_at_least_ten_degrees(_focus(located, raw)))
    left, right, top, bottom = frame
    fit_nodes = [i for i in located if left <= raw[i][0] <= right and top <= raw[i][1] <= bottom]
    box = _place_unlocated(unlocated, frame, positions) if strip else None
    if strip:
        fit_nodes += unlocated
    decorations = {
        **_graticule(frame),
        "strip": {k: (round(v, 1) if isinstance(v, float) else v) for k, v in box.items()} if box else None,
    }
    return GeoLayout(positions=positions, unlocated=unlocated, fit_nodes=fit_nodes, decorations=decorations,
                     frame=frame)


def _focus(located: Sequence[str], raw: Mapping[str, tuple[float, float]]) -> Frame:
    """The box of the bulk of the located nodes (5th-95th percentile, widened) or of all of them when few."""
    if not located:
        return EMPTY_FRAME
    xs = sorted(raw[i][0] for i in located)
    ys = sorted(raw[i][1] for i in located)
    q = FOCUS_QUANTILE if len(located) >= 20 else 0.0
    left, right = _quantile(xs, q), _quantile(xs, 1 - q)
    top, bottom = _quantile(ys, q), _quantile(ys, 1 - q)
    if q:
        margin_x, margin_y = FOCUS_MARGIN * (right - left), FOCUS_MARGIN * (bottom - top)
        left, right = max(xs[0], left - margin_x), min(xs[-1], right + margin_x)
        top, bottom = max(ys[0], top - margin_y), min(ys[-1], bottom + margin_y)
    return left, right, top, bottom


def _at_least_ten_degrees(frame: Frame) -> Frame:
    """A frame at least ten degrees of longitude wide and as many canvas units high, about the same centre."""
    left, right, top, bottom = frame
    min_size = 10 * GEO_SCALE
    if right - left < min_size:
        mid = (left + right) / 2
        left, right = mid - min_size / 2, mid + min_size / 2
    if bottom - top < min_size:
        mid = (top + bottom) / 2
        top, bottom = mid - min_size / 2, mid + min_size / 2
    return left, right, top, bottom


def _padded(frame: Frame) -> Frame:
    """A frame widened by 5% on each side."""
    left, right, top, bottom = frame
    pad_x, pad_y = 0.05 * (right - left), 0.05 * (bottom - top)
    return left - pad_x, right + pad_x, top - pad_y, bottom + pad_y


def _place_unlocated(unlocated: Sequence[str], frame: Frame,
                     positions: dict[str, tuple[float, float]]) -> dict[str, Any] | None:
    """Put the nodes without a location in rows below the map (into `positions`); the strip's box and label."""
    if not unlocated:
        return None
    left, right, _top, bottom = frame
    gap = max(12.0, (right - left) / 70.0)  # between the map and the strip, and above the strip's first row
    columns = max(1, int((right - left - STRIP_SPACING) // STRIP_SPACING))
    strip_top = bottom + 3 * gap
    first_row = strip_top + 2.2 * gap + STRIP_SPACING / 2
    for k, node_id in enumerate(unlocated):
        row, col = divmod(k, columns)
        positions[node_id] = (left + STRIP_SPACING * (col + 1), first_row + STRIP_SPACING * row)
    rows = (len(unlocated) + columns - 1) // columns
    label = f"No location: {len(unlocated):,} organisation{'s' if len(unlocated) != 1 else ''}"
    return {
        "left": left,
        "right": right,
        "top": strip_top,
        "bottom": first_row + STRIP_SPACING * (rows - 1) + STRIP_SPACING,
        "label": label,
    }


def _graticule(frame: Frame) -> dict[str, list[dict[str, Any]]]:
    """Meridians and parallels, drawn across whatever part is in view, so covering twice the focus."""
    left, right, top, bottom = frame
    lon_min, lon_max = (
        max(-180.0, (1.5 * left - 0.5 * right) / GEO_SCALE),
        min(180.0, (1.5 * right - 0.5 * left) / GEO_SCALE),
    )
    step = _nice_step((right - left) / GEO_SCALE)
    meridians = [
        {"x": round(lon * GEO_SCALE, 1), "label": f"{abs(lon)}°{'E' if lon > 0 else 'W' if lon < 0 else ''}"}
        for lon in range(math.ceil(lon_min / step) * step, math.floor(lon_max / step) * step + 1, step)
    ]
    lat_top = _inverse_mercator(-(1.5 * top - 0.5 * bottom) / GEO_SCALE)
    lat_bottom = _inverse_mercator(-(1.5 * bottom - 0.5 * top) / GEO_SCALE)
    lat_step = _nice_step(_inverse_mercator(-top / GEO_SCALE) - _inverse_mercator(-bottom / GEO_SCALE))
    parallels = [
        {
            "y": round(-mercator_y(lat) * GEO_SCALE, 1),
            "label": f"{abs(lat)}°{'N' if lat > 0 else 'S' if lat < 0 else ''}",
        }
        for lat in range(
            math.ceil(lat_bottom / lat_step) * lat_step, math.floor(lat_top / lat_step) * lat_step + 1, lat_step
        )
        if -85 <= lat <= 85
    ]
    return {"meridians": meridians, "parallels": parallels}


def _inverse_mercator(y_degrees: float) -> float:
    return math.degrees(2.0 * math.atan(math.exp(math.radians(y_degrees))) - math.pi / 2.0)


_IGRAPH_LOCK = threading.Lock()


def force_layout(
    node_ids: Sequence[str], edges: Sequence[Mapping[str, Any]], *, seed: int = FORCE_SEED
) -> dict[str, tuple[float, float]]:
    """Force-directed positions (igraph's Fruchterman-Reingold, grid variant: well under a second for 1,500
    nodes and 20,000 links), from a fixed start and a seeded random source: the same every run.

    Positions are scaled to the network size (about 22 canvas units per node on a side).
    """
    import igraph

    if not node_ids:
        return {}
    if len(node_ids) == 1:
        return {node_ids[0]: (0.0, 0.0)}
    index = {node_id: k for k, node_id in enumerate(node_ids)}
    pairs = [(index[e["source"]], index[e["target"]]) for e in edges if e["source"] in index and e["target"] in index]
    # Log-scaled weights: a pair with 40 shared projects should pull harder than one with 1, not 40 times.
    weights = [1.0 + math.log(max(float(e.get("weight") or 1), 1.0)) for e in edges
               if e["source"] in index and e["target"] in index]
    graph = igraph.Graph(n=len(node_ids), edges=pairs)
    start = [[math.cos(k * GOLDEN_ANGLE) * math.sqrt(k + 1), math.sin(k * GOLDEN_ANGLE) * math.sqrt(k + 1)]
             for k in range(len(node_ids))]
    with _IGRAPH_LOCK:  # igraph's random source is global: seeded for this layout only
        igraph.set_random_number_generator(random.Random(seed))
        try:
            coords = graph.layout_fruchterman_reingold(weights=weights or None, seed=start,
                                                       niter=FORCE_ITERATIONS, grid="auto").coords
        finally:
            igraph.set_random_number_generator(random)
    xs = [c[0] for c in coords]
    ys = [c[1] for c in coords]
    mid_x, mid_y = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-9)
    half_side = max(250.0, 22.0 * math.sqrt(len(node_ids)))
    return {node_id: ((coords[k][0] - mid_x) / span * 2 * half_side, (coords[k][1] - mid_y) / span * 2 * half_side)
            for k, node_id in enumerate(node_ids)}
