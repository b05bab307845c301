"""The choice of an organisation's place on a map (ecosystem.analysis.placement)."""

from __future__ import annotations

from typing import Any

import pytest

from ecosystem.analysis.placement import RegionBounds, coordinates_rejected, place, real_point
from ecosystem.domain.location import RegionShape

# A square "region" DE212 around Munich and one DEG01 in Thuringia (lon, lat).
MUNICH = RegionShape("DE212", 3, {"type": "Polygon", "coordinates": [[[11.3, 48.0], [11.8, 48.0], [11.8, 48.3],
                                                                       [11.3, 48.3], [11.3, 48.0]]]})
ERFURT = RegionShape("DEG01", 3, {"type": "MultiPolygon", "coordinates": [[[[10.9, 50.9], [11.2, 50.9],
                                                                            [11.2, 51.1], [10.9, 51.1],
                                                                            [10.9, 50.9]]]]})
BOUNDS = RegionBounds([MUNICH, ERFURT])
LABEL = (48.14, 11.58)


def loc(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"lat": 48.1, "lon": 11.5, "nuts3": "DE212", "method": "nuts", "notes": []}
    base.update(fields)
    return base


def test_coordinates_inside_the_resolved_region_are_kept() -> None:
    p = place(loc(), LABEL, BOUNDS)
    assert (p.lat, p.lon, p.placed_by) == (48.1, 11.5, "coordinates")


def test_coordinates_the_resolver_placed_by_are_kept_without_a_boundary() -> None:
    p = place(loc(method="coordinates", nuts3="DE300"), LABEL, BOUNDS)
    assert (p.lat, p.lon, p.placed_by) == (48.1, 11.5, "coordinates")


def test_coordinates_in_another_region_give_the_label_point() -> None:
    # an Oberbayern firm whose source puts it in Thuringia: the postcode placed it in DE212
    p = place(loc(lat=51.0, lon=11.0, method="postcode"), LABEL, BOUNDS)
    assert (p.lat, p.lon, p.placed_by) == (48.14, 11.58, "region")


def test_coordinates_a_resolver_note_rejects_give_the_label_point_even_inside() -> None:
    notes = ["coordinates place it in DEG01, postcode in DE212: postcode preferred"]
    p = place(loc(method="postcode", notes=notes), LABEL, BOUNDS)
    assert p.placed_by == "region" and (p.lat, p.lon) == LABEL
    assert coordinates_rejected(["coordinates (54.0, 11.0) are in DK014, outside DE: ignored"])
    assert not coordinates_rejected(["postcode 80331 not in the table: placed by its prefix 8033"])


@pytest.mark.parametrize("lat,lon", [(0.0, 0.0), (None, 11.5), (95.0, 11.5), (48.1, 200.0), (float("nan"), 1.0),
                                     ("x", 1.0)])
def test_points_that_are_no_place_are_never_used(lat: Any, lon: Any) -> None:
    p = place(loc(lat=lat, lon=lon, method="coordinates"), LABEL, BOUNDS)
    assert p.placed_by == "region" and (p.lat, p.lon) == LABEL
    assert real_point(lat, lon) is None


def test_without_a_boundary_only_the_resolvers_own_coordinates_are_trusted() -> None:
    p = place(loc(nuts3="FRK24"), (45.05, 2.65), BOUNDS)  # no stored boundary for FRK24, method nuts
    assert (p.lat, p.lon, p.placed_by) == (45.05, 2.65, "region")
    p = place(loc(), LABEL, None)
    assert p.placed_by == "region"


def test_without_a_region_there_is_no_place_even_with_coordinates() -> None:
    assert place(loc(nuts3=None, method=None), None, BOUNDS).placed_by is None
    p = place(loc(lat=51.0, lon=11.0, method="postcode"), None, BOUNDS)
    assert (p.lat, p.lon, p.placed_by) == (None, None, None)
    assert place(loc(lat=51.0, lon=11.0), (0.0, 0.0), BOUNDS).placed_by is None


def test_region_bounds_test_the_polygon_not_only_the_box() -> None:
    triangle = RegionShape("X", 3, {"type": "Polygon", "coordinates": [[[0, 0], [10, 0], [0, 10], [0, 0]]]})
    bounds = RegionBounds([triangle])
    assert bounds("X", 2.0, 2.0) is True
    assert bounds("X", 9.0, 9.0) is False  # inside the box, outside the triangle
    assert bounds("Y", 2.0, 2.0) is None


def test_a_profile_never_gives_a_coordinate_that_is_not_a_place() -> None:
    from ecosystem.services.organisations import profile_location

    kept = profile_location({"city": "Aarhus", "lat": 56.16, "lon": 10.2, "notes": []})
    assert (kept["city"], kept["lat"], kept["lon"]) == ("Aarhus", 56.16, 10.2)
    for lat, lon in ((0.0, 0.0), (91.0, 10.0), (float("nan"), 1.0)):
        gone = profile_location({"city": "X", "lat": lat, "lon": lon})
        assert (gone["city"], gone["lat"], gone["lon"]) == ("X", None, None)
    note = "coordinates (56.16, 10.2) disagree with the postcode: postcode preferred"
    rejected = profile_location({"lat": 56.16, "lon": 10.2, "notes": [note]})
    assert (rejected["lat"], rejected["lon"]) == (None, None)
