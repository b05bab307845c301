"""`ecosystem.domain.location`: postcodes, point in polygon, NUTS versions and the location resolver, on the real data."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ecosystem.domain.location import (
    LocationResolver,
    NutsVersions,
    RegionShape,
    ShapeIndex,
    normalise_postcode,
    point_in_polygon,
    postcode_lookup_from_rows,
    postcode_prefix_rows,
)
from ecosystem.domain.models import Degurba, Location, Region, UrbanRural
from ecosystem.domain.nuts import normalise_country
from importers.regions import (
    parse_converter,
    parse_geometry,
    parse_lau,
    parse_postcodes,
    parse_typology,
)

# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def regions_dir(data_dir: Path) -> Path:
    return data_dir / "regions"


@pytest.fixture(scope="module")
def regions(regions_dir: Path) -> list[Region]:
    return list(parse_typology(regions_dir / "nuts2021_typology_labelpoints.csv"))


@pytest.fixture(scope="module")
def shapes(regions_dir: Path) -> list[RegionShape]:
    return list(parse_geometry(regions_dir / "NUTS_RG_20M_2021_4326_LEVL_3.geojson"))


@pytest.fixture(scope="module")
def conversions(regions_dir: Path) -> list[Any]:
    return [*parse_converter(regions_dir / "nuts3_2016_to_2021.csv"),
            *parse_converter(regions_dir / "nuts3_2021_to_2024.csv")]


@pytest.fixture(scope="module")
def postcode_rows(regions_dir: Path) -> tuple[str, list[tuple[str, str, str]]]:
    version, rows = parse_postcodes(regions_dir / "postcode_to_nuts3_2024.csv.gz")
    return version, list(rows)


@pytest.fixture(scope="module")
def resolver(regions: list[Region], shapes: list[RegionShape], conversions: list[Any], regions_dir: Path,
             postcode_rows: tuple[str, list[tuple[str, str, str]]]) -> LocationResolver:
    version, rows = postcode_rows
    return LocationResolver(regions, shapes, parse_lau(regions_dir / "lau2019_degurba.csv.gz"), conversions,
                            postcode_lookup_from_rows(version, rows),
                            postcode_countries={country for country, _p, _n in rows})


def cordis_locations(data_dir: Path) -> list[tuple[str, Location]]:
    """(organisation name, Location) for every row of the CSV sample and the JSON export."""
    out = []
    with (data_dir / "cordis" / "h2020_organization_sample.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows += json.loads((data_dir / "cordis" / "json" / "organization.json").read_text(encoding="utf-8"))
    for row in rows:
        lat = lon = None
        if row.get("geolocation"):
            lat, lon = (float(x) for x in str(row["geolocation"]).split(","))
        postcode = row.get("postCode")
        out.append((row["name"], Location(
            country=row.get("country") or None, city=row.get("city") or None, lat=lat, lon=lon,
            postcode=None if postcode in (None, "") else str(postcode), nuts_code=row.get("nutsCode") or None)))
    return out


def row(data_dir: Path, name: str) -> Location:
    return next(loc for n, loc in cordis_locations(data_dir) if n == name)


# ------------------------------------------------------------------------------------------ postcodes

@pytest.mark.parametrize(("country", "raw", "normalised"), [
    ("FI", 912, "00912"), ("FI", 912.0, "00912"), ("FI", "14", "00014"), ("FI", "02044 VTT", "02044"),
    ("CZ", "100 00", "10000"), ("SK", "949 76", "94976"), ("SE", "S-75128", "75128"), ("SE", "SE-16903", "16903"),
    ("PL", "00-002", "00002"), ("PL", "42 201", "42201"), ("LV", "LV-1001", "1001"), ("LV", 1586, "1586"),
    ("LT", "LT-01103", "01103"), ("LT", 590, "00590"), ("NL", "1011 AB", "1011AB"), ("NL", " 1011  ab ", "1011AB"),
    ("NL", "6200MD", "6200MD"), ("IE", "A41", "A41"), ("IE", "D02 X285", "D02"), ("IE", "d02x285", "D02"),
    ("IE", "DO2 TW21", "D02"), ("IE", "Dublin 4", "D04"), ("IE", "2", "D02"), ("IE", "-", None),
    ("PT", "1000-001", "1000001"), ("PT", "1049 001", "1049001"), ("PT", "4560-30", "4560"),
    ("DE", "D-80331", "80331"), ("DE", 1069, "01069"), ("FR", "F-75001", "75001"), ("FR", "75794 CEDEX 16", "75794"),
    ("DK", "DK-2100", "2100"), ("HR", "HR-10000", "10000"), ("IT", 185, "00185"), ("RO", "24610", "024610"),
    ("EL", "157 80", "15780"), ("GR", "11855", "11855"), ("MT", "VLT1448", "VLT"), ("MT", "SCM 1001", "SCM"),
    ("NO", "1", "0001"), ("UK", "CB2 9NB", "CB29NB"), ("GB", "cb2 9nb", "CB29NB"),
    ("BE", "BRUSSELS", None), ("DE", "", None), ("DE", None, None), ("US", "94305-4125", "943054125"),
])
def test_postcodes_normalise_alike_from_the_table_and_from_cordis(country: str, raw: Any,
                                                                  normalised: str | None) -> None:
    assert normalise_postcode(country, raw) == normalised


def test_country_codes_follow_eurostat() -> None:
    assert normalise_country("GR") == "EL" and normalise_country("gb") == "UK"
    assert normalise_country("FI;FI") == "FI" and normalise_country("") is None


def test_prefixes_vouched_for_by_the_table_find_codes_it_does_not_hold(
        postcode_rows: tuple[str, list[tuple[str, str, str]]]) -> None:
    _version, rows = postcode_rows
    prefixes = {(c, p): n for c, p, n in postcode_prefix_rows(rows)}
    assert prefixes[("FR", "75")] == "FR101"  # every Paris code, so CEDEX codes too
    assert ("FI", "000") not in prefixes  # one special code (00002) vouches for nothing
    codes = {(c, p) for c, p, _n in rows}
    assert not codes & prefixes.keys()


def test_over_95_percent_of_cordis_postcodes_in_covered_countries_find_a_nuts3(
        data_dir: Path, resolver: LocationResolver, postcode_rows: tuple[str, list[tuple[str, str, str]]]) -> None:
    covered = {country for country, _p, _n in postcode_rows[1]}
    located = Counter()
    total = Counter()
    for _name, loc in cordis_locations(data_dir):
        country = normalise_country(loc.country)
        if country in covered and loc.postcode:
            alone = Location(country=loc.country, postcode=loc.postcode)
            total[country] += 1
            located[country] += resolver.resolve(alone).method == "postcode"
    share = sum(located.values()) / sum(total.values())
    assert sum(total.values()) > 3500
    assert share > 0.98, {c: (located[c], total[c]) for c in total if located[c] < total[c]}


def test_the_finnish_integer_postcode_912_finds_helsinkis_nuts3(data_dir: Path, resolver: LocationResolver) -> None:
    loc = row(data_dir, "MURATA ELECTRONICS OY")
    assert loc.postcode == "912"
    placed = resolver.resolve(Location(country="FI", postcode=loc.postcode))
    assert placed.nuts3 == "FI1B1" and placed.method == "postcode"
    assert placed.urban_rural is UrbanRural.URBAN


# ------------------------------------------------------------------------------------------ polygons

SQUARE_WITH_HOLE = {"type": "Polygon", "coordinates": [
    [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]],
    [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]],
]}


def test_point_in_polygon_handles_a_hole() -> None:
    assert point_in_polygon(2, 2, SQUARE_WITH_HOLE)
    assert not point_in_polygon(5, 5, SQUARE_WITH_HOLE)
    assert point_in_polygon(7, 5, SQUARE_WITH_HOLE)
    assert not point_in_polygon(11, 5, SQUARE_WITH_HOLE)


def test_point_in_polygon_handles_every_part_of_a_multipolygon() -> None:
    multi = {"type": "MultiPolygon", "coordinates": [SQUARE_WITH_HOLE["coordinates"],
                                                     [[[20, 20], [30, 20], [25, 30], [20, 20]]]]}
    assert point_in_polygon(25, 22, multi) and point_in_polygon(1, 1, multi)
    assert not point_in_polygon(5, 5, multi) and not point_in_polygon(15, 15, multi)


def test_a_region_with_a_hole_does_not_contain_the_region_inside_it(shapes: list[RegionShape]) -> None:
    by_id = {s.nuts_id: s for s in shapes}
    prague = (14.42, 50.08)  # Praha (CZ010) is a hole in Středočeský kraj (CZ020)
    assert len(by_id["CZ020"].geometry["coordinates"]) == 2
    assert not point_in_polygon(*prague, by_id["CZ020"].geometry)
    assert point_in_polygon(*prague, by_id["CZ010"].geometry)
    assert ShapeIndex(shapes).lookup(*prague) == "CZ010"
    assert ShapeIndex(s for s in shapes if s.nuts_id == "CZ020").lookup(14.10, 50.14) == "CZ020"  # Kladno


def test_the_label_point_of_every_nuts3_region_is_found_in_that_region(
        regions: list[Region], regions_dir: Path, shapes: list[RegionShape]) -> None:
    index = ShapeIndex(shapes)
    misplaced = index.misplaced_labels(regions)
    # a real quirk of GISCO's 1:20M file: Albania's polygons carry each other's codes (the 1:60M file is right)
    assert {code[:2] for code, _found in misplaced} == {"AL"}
    coarse = ShapeIndex(parse_geometry(regions_dir / "NUTS_RG_60M_2021_4326.geojson"))
    assert coarse.misplaced_labels(regions) == []


def test_shape_lookups_find_the_region_of_nearly_every_label_point(regions: list[Region], shapes: list[RegionShape]) -> None:
    index = ShapeIndex(shapes)
    points = [(r.label_lon, r.label_lat) for r in regions if r.level == 3 and r.label_lon is not None] * 4
    found = [index.lookup(lon, lat) for lon, lat in points]  # type: ignore[arg-type]
    assert sum(f is not None for f in found) / len(found) > 0.99


def test_a_point_just_off_a_generalised_coast_snaps_to_the_nearest_region(shapes: list[RegionShape]) -> None:
    index = ShapeIndex(shapes)
    assert index.lookup(-9.2, 38.69) is not None  # Tagus estuary, Lisbon
    assert index.lookup(-30.0, 45.0) is None  # mid-Atlantic


# ------------------------------------------------------------------------------------------ versions

def test_a_2016_code_that_changed_in_2021_is_converted(conversions: list[Any]) -> None:
    versions = NutsVersions(conversions)
    assert versions.to_2021("HR041", "2016") == ["HR050"]
    assert versions.to_2021("DE212", "2016") == ["DE212"]  # unchanged
    assert versions.to_2021("DE212", 2021) == ["DE212"]


def test_a_split_region_converts_to_its_parts_largest_first(conversions: list[Any]) -> None:
    versions = NutsVersions(conversions)
    assert versions.to_2021("BE325", "2016") == ["BE329", "BE32C", "BE32A"]
    assert versions.to_2021("DEG0R", "2024") == ["DEG0P", "DEG0N"]  # 2024 -> 2021: the table read backwards


def test_nuts1_and_nuts2_codes_convert_through_the_regions_under_them(conversions: list[Any]) -> None:
    versions = NutsVersions(conversions)
    assert set(versions.to_2021("HR04", "2016")) == {"HR02", "HR05", "HR06"}
    assert versions.to_2021("DE2", "2016") == ["DE2"]
    assert versions.to_2021("GR30", "2016") == ["EL30"]


def test_a_version_converted_one_way_only_is_read_backwards() -> None:
    from ecosystem.domain.location import NutsConversion

    versions = NutsVersions([NutsConversion("2021", "XX111", "2024", "XX121", 1.0),
                             NutsConversion("2021", "XX112", "2024", "XX121", 1.0)])
    assert set(versions.to_2021("XX121", "2024")) == {"XX111", "XX112"}


# ------------------------------------------------------------------------------------------ resolver

def test_an_athens_university_whose_coordinates_say_patras_is_placed_by_its_postcode_with_a_note(
        data_dir: Path, resolver: LocationResolver) -> None:
    loc = row(data_dir, "GEOPONIKO PANEPISTIMION ATHINON")
    assert (loc.lat, loc.lon) == (38.2653828, 21.7618384)  # Patras
    before = resolver.disagreements
    placed = resolver.resolve(loc)
    assert placed.nuts3 == "EL303" and placed.method == "postcode"
    assert "coordinates place it in EL632, postcode in EL303: postcode preferred" in placed.notes
    assert placed.urban_rural is UrbanRural.URBAN and placed.degurba is Degurba.CITY
    assert resolver.disagreements == before + 1
    assert loc.nuts3 is None and loc.notes == []  # the input is left alone


def test_a_postcode_the_table_misplaces_is_overruled_when_coordinates_and_city_agree(
        data_dir: Path, resolver: LocationResolver) -> None:
    loc = row(data_dir, "FUNDACION TECNALIA RESEARCH & INNOVATION")  # Derio, Bizkaia; TERCET puts 48160 in ES212
    placed = resolver.resolve(loc)
    assert placed.nuts3 == "ES213" and placed.method == "coordinates"
    assert placed.notes == ["coordinates and city place it in ES213, postcode in ES212: coordinates preferred"]


def test_a_2016_lau_nuts3_code_that_changed_in_2021_is_converted(resolver: LocationResolver) -> None:
    placed = resolver.resolve(Location(country="HR", city="Zagreb", postcode="10000"))
    assert placed.nuts3 == "HR050" and placed.method == "postcode"
    assert placed.lau_code == "01333" and placed.degurba is Degurba.CITY  # GRAD ZAGREB, HR041 in LAU 2019


def test_an_explicit_nuts_code_wins_and_old_versions_are_converted(resolver: LocationResolver) -> None:
    placed = resolver.resolve(Location(country="DE", nuts_code="DE212", postcode="10115"))
    assert (placed.nuts3, placed.method) == ("DE212", "nuts")
    old = resolver.resolve(Location(country="HR", nuts_code="HR041"))
    assert (old.nuts3, old.method) == ("HR050", "nuts")
    assert old.notes == ["NUTS code HR041 (2016) is HR050 in NUTS 2021"]


def test_an_unknown_nuts_code_is_noted_and_the_postcode_used(resolver: LocationResolver) -> None:
    placed = resolver.resolve(Location(country="DE", nuts_code="XX999", postcode="10115", city="Berlin"))
    assert (placed.nuts3, placed.method) == ("DE300", "postcode")
    assert "unknown NUTS code XX999" in placed.notes


def test_a_nuts2_code_alone_gives_no_nuts3_and_the_city_is_used(resolver: LocationResolver) -> None:
    placed = resolver.resolve(Location(country="DE", nuts_code="DE12", city="Heidelberg"))
    assert (placed.nuts3, placed.method) == ("DE125", "city")
    assert placed.lau_code == "08221000" and placed.degurba is Degurba.CITY
    alone = resolver.resolve(Location(nuts_code="DE12"))
    assert alone.nuts3 is None and alone.method is None and alone.notes


def test_gr_and_gb_are_accepted_for_el_and_uk(resolver: LocationResolver) -> None:
    assert resolver.resolve(Location(country="GR", postcode="11855")).nuts3 == "EL303"
    assert resolver.resolve(Location(country="GB", lat=51.5072, lon=-0.1276)).nuts3 == "UKI32"


def test_a_postcode_not_in_the_table_is_noted_and_coordinates_used(resolver: LocationResolver) -> None:
    placed = resolver.resolve(Location(country="NL", postcode="6801 HA", city="Arnhem", lat=51.98, lon=5.91))
    assert placed.method == "coordinates" and placed.nuts3 == "NL226"
    assert "postcode 6801HA not found" in placed.notes


def test_a_municipality_is_matched_by_a_name_starting_with_the_city_within_the_region(
        resolver: LocationResolver) -> None:
    placed = resolver.resolve(Location(country="DE", postcode="79106", city="Freiburg"))
    assert placed.nuts3 == "DE131" and placed.degurba is Degurba.CITY  # "Freiburg im Breisgau, Stadt"
    leuven = resolver.resolve(Location(country="BE", postcode="3001", city="LEUVEN HEVERLEE"))
    assert leuven.nuts3 == "BE242" and leuven.lau_code == "24062"


def test_a_coordinate_outside_the_organisations_country_is_not_used(resolver: LocationResolver) -> None:
    placed = resolver.resolve(Location(country="AT", lat=48.137, lon=11.575))  # Munich
    assert placed.nuts3 is None
    assert any("outside AT" in n for n in placed.notes)


def test_every_cordis_organisation_in_a_nuts_country_is_placed_with_an_urban_rural_type(
        data_dir: Path, resolver: LocationResolver, regions: list[Region]) -> None:
    locations = cordis_locations(data_dir)
    nuts_countries = {r.country for r in regions}
    resolver.clear_caches()
    placed = [resolver.resolve(loc) for _name, loc in locations]
    inside = [p for p in placed if normalise_country(p.country) in nuts_countries]
    assert len(placed) == 4350 and len(inside) == 4196
    assert all(p.nuts3 for p in inside)
    assert all(p.urban_rural is not UrbanRural.UNKNOWN for p in inside)
    assert sum(p.degurba is not None for p in inside) / len(inside) > 0.85
    methods = Counter(p.method for p in inside)
    assert methods["postcode"] / len(inside) > 0.85
    assert resolver.stats["postcode"] == methods["postcode"]
    assert 0 < resolver.disagreements < len(placed) * 0.1


def test_an_organisation_outside_nuts_countries_is_left_unplaced_with_a_note(resolver: LocationResolver) -> None:
    placed = resolver.resolve(Location(country="US", postcode="94305", city="Stanford", lat=37.43, lon=-122.17))
    assert placed.nuts3 is None and placed.urban_rural is UrbanRural.UNKNOWN
    assert placed.notes == ["country US has no NUTS regions"]


def test_resolving_again_replaces_the_notes_instead_of_piling_them_up(data_dir: Path,
                                                                       resolver: LocationResolver) -> None:
    once = resolver.resolve(row(data_dir, "GEOPONIKO PANEPISTIMION ATHINON"))
    assert resolver.resolve(once) == once
