"""Where an organisation stands on a map: the one rule every map, the network API and every export follow.

An organisation stands at the coordinates the location resolver accepted; else at its NUTS3 region's label
point (and says so); else it has no place. Coordinates are accepted when they are a real place (finite, in
range, not (0, 0)), the resolver placed the organisation in a NUTS3 region, no resolver note rejects them
(outside the country, in no region, "postcode preferred"), and either the resolver placed it by those very
coordinates or they lie inside the region's stored boundary. Raw source coordinates the resolver did not
accept are never drawn or exported.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ecosystem.domain.location import RegionShape, point_in_polygon

__all__ = ["PLACED_BY", "Placement", "RegionBounds", "coordinates_rejected", "place", "real_point"]

PLACED_BY = ("coordinates", "region", None)
"""`coordinates`: the accepted coordinates; `region`: the NUTS3 region's label point; None: no place."""

_REJECTING_NOTES = (
    "are not a place",
    "are in no NUTS region",
    ": ignored",
    "postcode preferred",
)
"""Resolver notes (`ecosystem.domain.location.LocationResolver`) that reject an organisation's coordinates."""


@dataclass(frozen=True, slots=True)
class Placement:
    lat: float | None
    lon: float | None
    placed_by: str | None

    def as_fields(self) -> dict[str, Any]:
        return {"lat": self.lat, "lon": self.lon, "placed_by": self.placed_by}


UNPLACED = Placement(None, None, None)


def real_point(lat: Any, lon: Any) -> tuple[float, float] | None:
    """(lat, lon) as floats when they are a place: finite, in range and not exactly (0, 0); else None."""
    try:
        y, x = float(lat), float(lon)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(y) and math.isfinite(x)) or not (-90.0 <= y <= 90.0 and -180.0 <= x <= 180.0):
        return None
    if y == 0.0 and x == 0.0:
        return None
    return y, x


def coordinates_rejected(notes: Iterable[str] | None) -> bool:
    """Whether one of the resolver's notes says it did not accept the source's coordinates."""
    return any(marker in str(note) for note in notes or () for marker in _REJECTING_NOTES)


Inside = Callable[[str, float, float], "bool | None"]
"""(NUTS3 code, lon, lat) -> inside the region's boundary; None when the region has no stored boundary."""


def place(location: Mapping[str, Any], label: tuple[float, float] | None, inside: Inside | None = None) -> Placement:
    """The place of one organisation.

    `location` has the stored location fields: `lat`, `lon` (the source's), `nuts3`, `method` and `notes`
    (the resolver's decision); `label` is the (lat, lon) label point of its NUTS3 region; `inside` tests a
    point against a region's boundary (without it, only coordinates the resolver placed the organisation by
    are accepted).
    """
    nuts3 = location.get("nuts3")
    if not nuts3:
        return UNPLACED
    point = real_point(location.get("lat"), location.get("lon"))
    if point is not None and not coordinates_rejected(location.get("notes")):
        if location.get("method") == "coordinates":
            return Placement(point[0], point[1], "coordinates")
        if inside is not None and inside(str(nuts3), point[1], point[0]):
            return Placement(point[0], point[1], "coordinates")
    if label is not None:
        at = real_point(*label)
        if at is not None:
            return Placement(at[0], at[1], "region")
    return UNPLACED


class RegionBounds:
    """The stored NUTS3 boundaries, for `place`'s `inside`: bounding box first, then point in polygon."""

    def __init__(self, shapes: Iterable[RegionShape]) -> None:
        self._parts: dict[str, list[tuple[tuple[float, float, float, float], dict[str, Any]]]] = {}
        for shape in shapes:
            box = _bbox(shape.geometry)
            if box is not None:
                self._parts.setdefault(shape.nuts_id, []).append((box, shape.geometry))

    def __len__(self) -> int:
        return len(self._parts)

    def __call__(self, nuts3: str, lon: float, lat: float) -> bool | None:
        parts = self._parts.get(nuts3)
        if not parts:
            return None
        return any(x0 <= lon <= x1 and y0 <= lat <= y1 and point_in_polygon(lon, lat, geometry)
                   for (x0, y0, x1, y1), geometry in parts)


def _bbox(geometry: Mapping[str, Any]) -> tuple[float, float, float, float] | None:
    coords = geometry.get("coordinates") or []
    polygons: Sequence[Any] = [coords] if geometry.get("type") == "Polygon" else coords
    xs = [float(p[0]) for polygon in polygons for ring in polygon[:1] for p in ring]
    ys = [float(p[1]) for polygon in polygons for ring in polygon[:1] for p in ring]
    return (min(xs), min(ys), max(xs), max(ys)) if xs else None
