"""`importers.regions`: the Eurostat/GISCO regions files, recognised by content, parsed into validated records."""

from __future__ import annotations

import gzip
from collections import Counter
from pathlib import Path

import pytest

from ecosystem.domain.errors import BadInputError
from ecosystem.domain.location import NutsConversion, RegionShape
from ecosystem.domain.models import Degurba, UrbanRural
from importers.regions import (
    GISCO_LICENCE,
    detect_region_file,
    parse_converter,
    parse_geometry,
    parse_lau,
    parse_names,
    parse_postcodes,
    parse_typology,
    postcode_file_version,
)

TYPOLOGY_HEADER = "NUTS_ID,LEVL_CODE,CNTR_CODE,NAME_LATN,NUTS_NAME,URBN_TYPE,MOUNT_TYPE,COAST_TYPE,label_lon,label_lat"
LAU_HEADER = ("code_2016,lau_code,lau_name_national,lau_name_latin,name_change_last_year,population,"
              "total_area_m2,degurba,country")


@pytest.fixture(scope="module")
def regions_dir(data_dir: Path) -> Path:
    return data_dir / "regions"


@pytest.fixture(scope="module")
def municipalities(regions_dir: Path) -> list:
    return list(parse_lau(regions_dir / "lau2019_degurba.csv.gz"))


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, str):
        text = text.encode("utf-8")
    path.write_bytes(gzip.compress(text) if path.suffix == ".gz" else text)
    return path


# ------------------------------------------------------------------------------------------ detection

@pytest.mark.parametrize(("name", "kind"), [
    ("nuts2021_typology_labelpoints.csv", "typology"), ("nuts2021_codes_names.csv", "names"),
    ("NUTS_RG_60M_2021_4326.geojson", "geometry"), ("NUTS_RG_20M_2021_4326_LEVL_3.geojson", "geometry"),
    ("lau2019_degurba.csv.gz", "lau"), ("postcode_to_nuts3_2024.csv.gz", "postcodes"),
    ("nuts3_2016_to_2021.csv", "converter"), ("nuts3_2021_to_2024.csv", "converter"),
])
def test_each_real_regions_file_is_recognised_by_its_content(regions_dir: Path, name: str, kind: str) -> None:
    assert detect_region_file(regions_dir / name) == kind


def test_a_renamed_regions_file_is_still_recognised(regions_dir: Path, tmp_path: Path) -> None:
    head = (regions_dir / "nuts3_2016_to_2021.csv").read_text(encoding="utf-8").splitlines()[:5]
    assert detect_region_file(write(tmp_path / "download(3).txt", "\n".join(head) + "\n")) == "converter"
    lau_head = gzip.decompress((regions_dir / "lau2019_degurba.csv.gz").read_bytes()).splitlines()[:3]
    assert detect_region_file(write(tmp_path / "typology.csv.gz", b"\n".join(lau_head) + b"\n")) == "lau"


def test_a_file_that_is_no_regions_file_is_refused_naming_the_file(data_dir: Path) -> None:
    with pytest.raises(BadInputError) as err:
        detect_region_file(data_dir / "cordis" / "h2020_organization_sample.csv")
    assert err.value.file == "h2020_organization_sample.csv"
    assert "not a recognised regions file (expected" in err.value.message


def test_a_geojson_that_is_not_nuts_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "x.geojson", '{"type": "FeatureCollection", "features": []}')
    with pytest.raises(BadInputError, match="not a recognised regions file"):
        detect_region_file(path)


def test_an_empty_file_is_refused_as_empty(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="empty file") as err:
        detect_region_file(write(tmp_path / "nothing.csv", ""))
    assert err.value.file == "nothing.csv"


# ------------------------------------------------------------------------------------------ typology

def test_every_inhabited_nuts3_region_of_the_typology_gets_an_urban_rural_type(regions_dir: Path) -> None:
    regions = list(parse_typology(regions_dir / "nuts2021_typology_labelpoints.csv"))
    nuts3 = [r for r in regions if r.level == 3]
    assert len(nuts3) == 1514
    assert {r.nuts_id for r in nuts3 if r.urban_rural is UrbanRural.UNKNOWN} == {"NO0B1"}  # Jan Mayen
    assert Counter(r.urban_rural for r in nuts3)[UrbanRural.URBAN] == 398
    assert all(r.urban_rural is UrbanRural.UNKNOWN for r in regions if r.level < 3)  # URBN_TYPE is for NUTS3


def test_typology_regions_carry_names_parents_label_points_and_provenance(regions_dir: Path) -> None:
    regions = {r.nuts_id: r for r in parse_typology(regions_dir / "nuts2021_typology_labelpoints.csv")}
    athens = regions["EL303"]
    assert athens.country == "EL" and athens.parent == "EL30" and athens.urban_rural is UrbanRural.URBAN
    assert athens.label_lon is not None and 23 < athens.label_lon < 24
    assert regions["BG"].name == "България"  # the trailing no-break space is gone
    assert regions["NO0B1"].name == "Jan Mayen"  # a name spread over several lines
    assert athens.source is not None
    assert athens.source.file == "nuts2021_typology_labelpoints.csv"
    assert athens.source.record == "EL303" and athens.source.licence == GISCO_LICENCE


def test_an_unknown_level_is_refused_naming_file_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", f"{TYPOLOGY_HEADER}\nAT,0,AT,Österreich,Österreich,,0,0,14.1,47.5\n"
                                      "AT1,7,AT,Ostösterreich,Ostösterreich,,0,0,16.1,48.0\n")
    with pytest.raises(BadInputError, match="unknown level") as err:
        list(parse_typology(path))
    assert (err.value.file, err.value.line, err.value.field) == ("t.csv", 3, "LEVL_CODE")


def test_a_nuts_code_of_the_wrong_shape_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", f"{TYPOLOGY_HEADER}\nA-T1,1,AT,x,x,,0,0,16.1,48.0\n")
    with pytest.raises(BadInputError, match="not a NUTS code") as err:
        list(parse_typology(path))
    assert (err.value.line, err.value.field) == (2, "NUTS_ID")
    path = write(tmp_path / "u.csv", f"{TYPOLOGY_HEADER}\nAT12,3,AT,x,x,1,0,0,16.1,48.0\n")
    with pytest.raises(BadInputError, match="shape of a level 3 code"):
        list(parse_typology(path))


def test_non_numeric_coordinates_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", f"{TYPOLOGY_HEADER}\nAT130,3,AT,Wien,Wien,1,4,3,east,48.2\n")
    with pytest.raises(BadInputError, match="not a number") as err:
        list(parse_typology(path))
    assert (err.value.line, err.value.field) == (2, "label_lon")


def test_a_missing_required_column_is_named(tmp_path: Path) -> None:
    header = TYPOLOGY_HEADER.replace("URBN_TYPE,", "")
    path = write(tmp_path / "t.csv", f"{header}\nAT130,3,AT,Wien,Wien,4,3,16.3,48.2\n")
    with pytest.raises(BadInputError, match="missing required column 'urbn_type'") as err:
        list(parse_typology(path))
    assert err.value.file == "t.csv" and err.value.line == 1


def test_a_file_that_is_not_utf8_is_refused_at_its_line(tmp_path: Path) -> None:
    body = f"{TYPOLOGY_HEADER}\nAT,0,AT,Austria,Austria,,0,0,14.1,47.5\n".encode()
    body += "AT1,1,AT,Ostösterreich,Ostösterreich,,0,0,16.1,48.0\n".encode("latin-1")
    with pytest.raises(BadInputError, match="not UTF-8") as err:
        list(parse_typology(write(tmp_path / "latin1.csv", body)))
    assert (err.value.file, err.value.line) == ("latin1.csv", 3)


def test_an_empty_or_header_only_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="empty file") as err:
        list(parse_typology(write(tmp_path / "empty.csv", "")))
    assert err.value.file == "empty.csv"
    with pytest.raises(BadInputError, match="no data rows") as err:
        list(parse_typology(write(tmp_path / "header.csv", TYPOLOGY_HEADER + "\n")))
    assert err.value.line == 2


def test_a_truncated_gzip_file_is_refused_naming_file_and_line(regions_dir: Path, tmp_path: Path) -> None:
    data = (regions_dir / "lau2019_degurba.csv.gz").read_bytes()
    path = write(tmp_path / "lau_cut.csv.gz", b"")
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadInputError, match="truncated") as err:
        list(parse_lau(path))
    assert err.value.file == "lau_cut.csv.gz"
    assert err.value.line is not None and err.value.line > 1000


# ------------------------------------------------------------------------------------------ names

def test_the_code_list_gives_every_code_a_name_and_skips_headings(regions_dir: Path) -> None:
    names = dict(parse_names(regions_dir / "nuts2021_codes_names.csv"))
    assert len(names) == 2121
    assert names["EL303"] == "Κεντρικός Τομέας Αθηνών"
    assert names["TR10"] == "İstanbul"  # the code had a trailing space
    assert names["DEZZZ"] == "Extra-Regio NUTS 3"
    assert not any(code.startswith("Statistical") for code in names)


def test_a_code_list_row_with_a_bad_level_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "n.csv", "Code 2021,Country,NUTS level 1,NUTS level 2,NUTS level 3,NUTS level\n"
                                     "BE,Belgique,,,,0\nBE1,,Bruxelles,,,x\n")
    with pytest.raises(BadInputError, match="unknown level") as err:
        list(parse_names(path))
    assert (err.value.line, err.value.field) == (3, "NUTS level")


# ------------------------------------------------------------------------------------------ geometry

def test_the_60m_file_holds_every_level_and_the_20m_file_nuts3_only(regions_dir: Path) -> None:
    all_levels = list(parse_geometry(regions_dir / "NUTS_RG_60M_2021_4326.geojson"))
    assert Counter(s.level for s in all_levels) == {0: 37, 1: 125, 2: 334, 3: 1514}
    nuts3 = list(parse_geometry(regions_dir / "NUTS_RG_20M_2021_4326_LEVL_3.geojson"))
    assert len(nuts3) == 1512 and {s.level for s in nuts3} == {3}
    assert all(isinstance(s, RegionShape) and s.geometry["type"] in ("Polygon", "MultiPolygon") for s in nuts3)


def test_a_geojson_that_is_not_valid_json_is_refused_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "g.geojson", '{"type": "FeatureCollection",\n "features": [\n {"NUTS_ID": }]}')
    with pytest.raises(BadInputError, match="not valid JSON") as err:
        list(parse_geometry(path))
    assert (err.value.file, err.value.line) == ("g.geojson", 3)


def test_a_feature_with_an_unknown_level_is_refused_naming_the_feature(tmp_path: Path) -> None:
    ring = "[[0,0],[1,0],[1,1],[0,0]]"
    path = write(tmp_path / "g.geojson", '{"type": "FeatureCollection", "features": ['
                 f'{{"type": "Feature", "properties": {{"NUTS_ID": "AT1", "LEVL_CODE": 1}}, '
                 f'"geometry": {{"type": "Polygon", "coordinates": [{ring}]}}}}, '
                 f'{{"type": "Feature", "properties": {{"NUTS_ID": "AT13", "LEVL_CODE": 5}}, '
                 f'"geometry": {{"type": "Polygon", "coordinates": [{ring}]}}}}]}}')
    with pytest.raises(BadInputError, match="unknown level") as err:
        list(parse_geometry(path))
    assert err.value.field == "features[1].properties.LEVL_CODE"


def test_a_feature_with_non_numeric_coordinates_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "g.geojson", '{"type": "FeatureCollection", "features": [{"type": "Feature", '
                 '"properties": {"NUTS_ID": "AT130", "LEVL_CODE": 3}, "geometry": {"type": "Polygon", '
                 '"coordinates": [[[16.1, 48.1], ["16.5", 48.1], [16.5, 48.3], [16.1, 48.1]]]}}]}')
    with pytest.raises(BadInputError, match="coordinates") as err:
        list(parse_geometry(path))
    assert err.value.field == "features[0].geometry.coordinates"


# ------------------------------------------------------------------------------------------ LAU

def test_every_municipality_is_read_with_its_2016_nuts3_kept_as_given(municipalities: list) -> None:
    assert len(municipalities) == 99_140
    assert {m.nuts3_source_version for m in municipalities} == {"2016"}
    zagreb = next(m for m in municipalities if m.country == "HR" and m.name == "GRAD ZAGREB")
    assert zagreb.nuts3 == "HR041"  # HR050 in NUTS 2021: converted by the resolver, not here
    assert zagreb.degurba is Degurba.CITY and zagreb.population == 790_017
    assert zagreb.source is not None
    assert zagreb.source.file == "lau2019_degurba.csv.gz" and zagreb.source.record == "HR_01333"
    assert zagreb.source.source == "eurostat-lau"


def test_municipality_areas_are_in_km2_even_where_the_table_gives_km2_as_m2(municipalities: list) -> None:
    by_name = {(m.country, m.name): m for m in municipalities}
    assert by_name[("BE", "Anderlecht")].area_km2 == pytest.approx(17.74, abs=0.01)  # given in m²
    assert by_name[("DE", "München, Landeshauptstadt")].area_km2 == pytest.approx(311, abs=1)  # given in km²
    assert by_name[("FI", "Helsinki")].area_km2 == pytest.approx(715, abs=1)
    areas = sorted(m.area_km2 for m in municipalities if m.area_km2 is not None)
    assert 1 < areas[len(areas) // 2] < 100


def test_every_municipality_outside_turkey_and_northern_cyprus_has_a_degree_of_urbanisation(
        municipalities: list) -> None:
    missing = Counter(m.country for m in municipalities if m.degurba is None)
    assert missing == {"TR": 973, "CY": 182}


def test_a_non_numeric_population_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "lau.csv.gz", f"{LAU_HEADER}\nBE100,21001,Anderlecht,Anderlecht,False,119714,"
                                          "17744118,1,BE\nBE100,21002,Auderghem,Oudergem,False,many,9033439,1,BE\n")
    with pytest.raises(BadInputError, match="not an integer") as err:
        list(parse_lau(path))
    assert (err.value.file, err.value.line, err.value.field) == ("lau.csv.gz", 3, "population")


def test_a_municipality_with_a_foreign_nuts3_code_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "lau.csv", f"{LAU_HEADER}\nDE100,21001,Anderlecht,Anderlecht,False,1,1,1,BE\n")
    with pytest.raises(BadInputError, match="not in country BE") as err:
        list(parse_lau(path))
    assert err.value.field == "code_2016"


# ------------------------------------------------------------------------------------------ postcodes

def test_postcodes_are_read_normalised_with_their_version_from_the_file_name(regions_dir: Path) -> None:
    version, rows = parse_postcodes(regions_dir / "postcode_to_nuts3_2024.csv.gz")
    table = {(c, p): n for c, p, n in rows}
    assert version == "2024"
    assert len(table) >= 820_000
    assert table[("CZ", "10000")] == "CZ010"      # "100 00"
    assert table[("PL", "00002")] == "PL911"      # "00-002"
    assert table[("LV", "1001")] == "LV00A"       # "LV-1001"
    assert table[("NL", "1011AB")] == "NL32B"     # "1011 AB"
    assert table[("IE", "A41")] == "IE061"        # Eircode routing key
    assert table[("PT", "1000001")] == "PT1A0"    # "1000-001"
    assert table[("NO", "0001")] == "NO081"       # the table itself lost a leading zero on some rows ("1")


def test_the_postcode_version_defaults_to_2024_when_the_name_has_no_year(tmp_path: Path) -> None:
    assert postcode_file_version(Path("postcodes.csv")) == "2024"
    assert postcode_file_version(Path("pc2020_AT_NUTS-2021_v1.0.csv")) == "2021"
    assert postcode_file_version(Path("postcode_to_nuts3_2016.csv.gz")) == "2016"
    version, rows = parse_postcodes(write(tmp_path / "codes.csv", "country,postcode,nuts3\nAT,1010,AT130\n"))
    assert (version, list(rows)) == ("2024", [("AT", "1010", "AT130")])


def test_a_tercet_per_country_file_is_read_too(tmp_path: Path) -> None:
    path = write(tmp_path / "pc2020_PL_NUTS-2021_v1.0.csv", "CODE;NUTS3\n'00-002';'PL911'\n'30-001';'PL213'\n")
    assert detect_region_file(path) == "postcodes"
    version, rows = parse_postcodes(path)
    assert version == "2021" and list(rows) == [("PL", "00002", "PL911"), ("PL", "30001", "PL213")]


def test_a_postcode_row_with_a_bad_nuts3_code_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", "country,postcode,nuts3\nAT,1010,AT130\nAT,1020,AT13\n")
    _version, rows = parse_postcodes(path)
    with pytest.raises(BadInputError, match="not a NUTS3 code") as err:
        list(rows)
    assert (err.value.line, err.value.field) == (3, "nuts3")


# ------------------------------------------------------------------------------------------ converters

def test_a_converter_yields_both_directions_weighted_by_population_share(regions_dir: Path) -> None:
    conversions = list(parse_converter(regions_dir / "nuts3_2016_to_2021.csv"))
    assert all(isinstance(c, NutsConversion) for c in conversions)
    assert {(c.from_version, c.to_version) for c in conversions} == {("2016", "2021"), ("2021", "2016")}
    zagreb = [c for c in conversions if c.from_version == "2016" and c.from_code == "HR041"]
    assert [(c.to_code, c.weight) for c in zagreb] == [("HR050", 1.0)]
    split = sorted((c for c in conversions if c.from_version == "2016" and c.from_code == "BE325"),
                   key=lambda c: -c.weight)
    assert [c.to_code for c in split] == ["BE329", "BE32C", "BE32A"]
    assert sum(c.weight for c in split) == pytest.approx(1.0)
    totals: dict[tuple[str, str], float] = Counter()
    for c in conversions:
        totals[(c.from_version, c.from_code)] += c.weight
    assert all(t == pytest.approx(1.0) for t in totals.values())


def test_the_2021_to_2024_converter_gives_2024_to_2021_as_well(regions_dir: Path) -> None:
    conversions = list(parse_converter(regions_dir / "nuts3_2021_to_2024.csv"))
    back = {c.to_code: c.weight for c in conversions if c.from_version == "2024" and c.from_code == "DEG0R"}
    assert set(back) == {"DEG0N", "DEG0P"} and back["DEG0P"] > back["DEG0N"]


def test_a_converter_row_with_a_non_numeric_area_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "code_v2016,code_v2021,uniqueID,areaKm,pop11,pop21\n"
                                     "AT111,AT111,AT111AT111,703.2,37553.6,37485.0\n"
                                     "AT112,AT112,AT112AT112,big,150342.6,162446.0\n")
    with pytest.raises(BadInputError, match="not a number") as err:
        list(parse_converter(path))
    assert (err.value.file, err.value.line, err.value.field) == ("c.csv", 3, "areakm")


def test_a_geojson_whose_first_geometry_is_large_is_still_recognised(tmp_path: Path) -> None:
    ring = ", ".join(f"[{10 + i / 100000:.5f}, 48.0]" for i in range(30_000)) + ", [10, 48.0]"
    path = write(tmp_path / "big.geojson.gz", '{"type": "FeatureCollection", "features": [{"type": "Feature", '
                 f'"geometry": {{"type": "Polygon", "coordinates": [[[10, 47.9], {ring}]]}}, '
                 '"properties": {"NUTS_ID": "AT1", "LEVL_CODE": 1}}]}')
    assert detect_region_file(path) == "geometry"
    assert [s.nuts_id for s in parse_geometry(path)] == ["AT1"]


def test_a_non_finite_number_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", "code_v2016,code_v2021,areaKm,pop21\nAT111,AT111,nan,1\n")
    with pytest.raises(BadInputError, match="not a number") as err:
        list(parse_converter(path))
    assert (err.value.line, err.value.field) == (2, "areakm")


def test_the_regions_import_keeps_every_level_of_geometry_and_the_finest_nuts3(regions_dir: Path,
                                                                               tmp_path: Path) -> None:
    from importers.eurostat import read_regions

    batch = read_regions([regions_dir / "nuts2021_typology_labelpoints.csv",
                          regions_dir / "NUTS_RG_60M_2021_4326.geojson",
                          regions_dir / "NUTS_RG_20M_2021_4326_LEVL_3.geojson"], cache_dir=tmp_path)
    by_level = Counter(s.level for s in batch.shapes)
    assert by_level[0] == 37 and by_level[1] == 125 and by_level[2] == 334 and by_level[3] >= 1512
    assert len({s.nuts_id for s in batch.shapes}) == len(batch.shapes)  # one shape per region
    shapes = {s.nuts_id: s for s in batch.shapes}
    assert {"DK", "DK0", "DK01", "DK011", "PL", "PL91"} <= set(shapes)
    coarse = {s.nuts_id: s for s in parse_geometry(regions_dir / "NUTS_RG_60M_2021_4326.geojson")}
    # NUTS3 from the finer 1:20M file: more points than the 1:60M one
    assert len(str(shapes["DK011"].geometry)) > len(str(coarse["DK011"].geometry))
