"""GeoNames places and geocoding a city name within a country."""

from __future__ import annotations

import csv
import gzip
import zipfile
from pathlib import Path

import pytest

from ecosystem.domain.errors import BadInputError
from ecosystem.domain.location import ShapeIndex
from ecosystem.domain.models import Place
from ecosystem.domain.places import PlaceIndex, city_keys
from importers.places import detect_places_file, read_places
from importers.regions import parse_geometry

CITIES1000 = "places/geonames_cities1000_europe.csv.gz"
CITIES15000 = "places/geonames_cities15000_europe.csv"


@pytest.fixture(scope="module")
def places(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Place]:
    return read_places([data_dir / CITIES1000], cache_dir=tmp_path_factory.mktemp("cache")).places


@pytest.fixture(scope="module")
def index(places: list[Place]) -> PlaceIndex:
    return PlaceIndex(places)


def _dump_line(row: dict[str, str]) -> str:
    """A row of the sample CSV in the official 19-column GeoNames layout (same values, other layout)."""
    cells = [row["geonameid"], row["name"], row["name"], "", row["latitude"], row["longitude"], "P", "PPL",
             row["countrycode"], "", row["admin1code"], "", "", "", row["population"], "", "", row["timezone"],
             "2024-01-01"]
    return "\t".join(cells)


def test_the_sample_files_are_read_with_eurostat_country_codes(places: list[Place], data_dir: Path,
                                                                tmp_path: Path) -> None:
    assert len(places) == 74014
    countries = {p.country for p in places}
    assert {"EL", "UK"} <= countries and not {"GR", "GB"} & countries
    big = read_places([data_dir / CITIES15000], cache_dir=tmp_path).places
    assert len(big) == 8135 and all(p.population is not None for p in big)


def test_places_files_are_recognised_by_content(data_dir: Path) -> None:
    assert detect_places_file(data_dir / CITIES15000)
    assert detect_places_file(data_dir / CITIES1000)
    assert not detect_places_file(data_dir / "cordis" / "h2020_organization_sample.csv")
    assert not detect_places_file(data_dir / "regions" / "lau2019_degurba.csv.gz")


def test_the_official_geonames_dump_layout_is_read_alone_and_in_its_zip(data_dir: Path, tmp_path: Path) -> None:
    with (data_dir / CITIES15000).open(encoding="utf-8") as fh:
        rows = [r for _, r in zip(range(30), csv.DictReader(fh))]
    text = "\n".join(_dump_line(r) for r in rows) + "\n"
    dump = tmp_path / "cities15000.txt"
    dump.write_text(text, encoding="utf-8")
    archive = tmp_path / "cities15000.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("cities15000.txt", text)
    assert detect_places_file(dump) and detect_places_file(archive)
    plain = read_places([dump], cache_dir=tmp_path).places
    zipped = read_places([archive], cache_dir=tmp_path).places
    assert plain == zipped and len(plain) == 30
    assert plain[0].name == rows[0]["name"] and plain[0].population == int(rows[0]["population"])


def test_a_city_name_is_geocoded_within_its_country(index: PlaceIndex) -> None:
    lat, lon, note = index.locate("Santiago de Compostela", "ES")  # type: ignore[misc]
    assert (round(lat, 2), round(lon, 2), note) == (42.88, -8.55, None)
    assert index.locate("ATHINA", "EL") is not None      # upper-case transliteration, Eurostat country code
    assert index.locate("Copenhagen", "DK") is not None
    assert index.locate("Atlantis", "DK") is None
    assert index.locate("Santiago de Compostela", "PT") is None  # only within the country


def test_source_city_spellings_are_cleaned_before_matching(index: PlaceIndex) -> None:
    paris = index.locate("Paris", "FR")
    assert index.locate("PARIS 15", "FR")[:2] == paris[:2]  # type: ignore[index]
    assert index.locate("AVIGNON CEDEX 9", "FR") is not None
    assert index.locate("MUENSTER", "DE")[:2] == index.locate("Münster", "DE")[:2]  # type: ignore[index]
    assert index.locate("Munich", "DE") is not None  # an English name, through the city aliases
    assert "torino" in city_keys("TORINO TO", "IT")


def test_an_ambiguous_name_takes_the_most_populous_place_and_says_so(index: PlaceIndex) -> None:
    lat, lon, note = index.locate("Münster", "DE")  # type: ignore[misc]
    assert (round(lat, 2), round(lon, 2)) == (51.96, 7.63)  # Münster in Westphalia, 300,000 people
    assert note is not None and "4 places named 'Münster' in DE" in note and "most populous" in note
    _, _, prato = index.locate("Prato", "IT")  # type: ignore[misc]
    assert prato is not None and prato.startswith("3 places named 'Prato' in IT")


def test_a_region_hint_chooses_between_places_of_one_name(places: list[Place], data_dir: Path) -> None:
    shapes = ShapeIndex(parse_geometry(data_dir / "regions" / "NUTS_RG_20M_2021_4326_LEVL_3.geojson"))
    index = PlaceIndex(places, region_of=shapes.lookup)
    lat, lon, note = index.locate("Münster", "DE", nuts3_hint="DE716")  # type: ignore[misc]
    assert shapes.lookup(lon, lat) == "DE716"  # the small Münster in Hesse
    assert note is not None and "took the one in DE716" in note
    lat, lon, _ = index.locate("Münster", "DE", nuts3_hint="DE2")  # type: ignore[misc]
    assert shapes.lookup(lon, lat) == "DE276"  # any NUTS level works as a hint: Bavaria
    lat, lon, note = index.locate("Münster", "DE", nuts3_hint="FR1")  # type: ignore[misc]
    assert (round(lat, 2), "most populous" in note) == (51.96, True)  # type: ignore[operator]


def test_a_bad_row_is_reported_with_its_file_line_and_field(data_dir: Path, tmp_path: Path) -> None:
    lines = (data_dir / CITIES15000).read_text(encoding="utf-8").splitlines()[:6]
    cells = lines[4].split(",")
    cells[2] = "north"  # latitude
    lines[4] = ",".join(cells)
    path = tmp_path / "cities.csv.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    with pytest.raises(BadInputError) as err:
        read_places([path], cache_dir=tmp_path)
    assert (err.value.file, err.value.line, err.value.field) == ("cities.csv.gz", 5, "latitude")


def test_a_file_that_is_not_a_places_file_is_bad_input(data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="not a GeoNames places file"):
        read_places([data_dir / "cordis" / "h2020_organization_sample.csv"], cache_dir=tmp_path)


def test_places_can_be_limited_to_some_countries(data_dir: Path, tmp_path: Path) -> None:
    kept = read_places([data_dir / CITIES15000], cache_dir=tmp_path, countries=["GR", "IT"]).places
    assert {p.country for p in kept} == {"EL", "IT"} and len(kept) > 100
