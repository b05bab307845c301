"""A register's categories as tags: kept with their source, searchable (`tag=`) on both stores, shown in the
profile (API and page) and in the search page's form."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from importers.table import read_table
from tests.conftest import serve

MAPPING = """
[source]
name = "participation-register"
licence = "CC BY 4.0"

[organisation]
id = "orgnr"
id_template = "no:{value}"
name = "name"
short_name = "short"
city = "city"
country = { value = "NO" }
category = { column = "groups", separator = "\\n" }
helix = "civil_society"

[organisation.identifiers]
orgnr = "orgnr"
"""

ROWS = [
    ["orgnr", "name", "short", "city", "groups"],
    ["971277882", "Norges Handikapforbund", "NHF", "Oslo", "Disabled people\nPatients"],
    ["864139442", "Norges Røde Kors", "Ukjent", "Oslo", "Refugees\nPatients"],
    ["983887406", "Kirkens Bymisjon", "Ukjent", "Oslo", "Homeless people"],
    ["971035854", "Landsforeningen for hjerte- og lungesyke", "LHL", "Oslo", "ukjent"],
]


def register_batch(tmp_path: Path):  # type: ignore[no-untyped-def]
    table = tmp_path / "register.csv"
    with table.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(ROWS)
    mapping = tmp_path / "register.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return read_table(table, mapping)


def test_tags_are_a_search_filter_on_both_stores(any_store, tmp_path: Path) -> None:
    report = any_store.apply(register_batch(tmp_path))
    assert report.organisations == 4  # the placeholder short names made no organisation of two
    total, items = any_store.search_organisations(tag="Patients")
    assert total == 2 and {i["id"] for i in items} == {"no:971277882", "no:864139442"}
    total, items = any_store.search_organisations("kors", tag="Patients")
    assert total == 1 and items[0]["id"] == "no:864139442"
    assert any_store.search_organisations(tag="Homeless people")[0] == 1
    assert any_store.search_organisations(tag="Patient")[0] == 0      # a tag is matched whole
    assert any_store.search_organisations(tag="ukjent")[0] == 0       # a placeholder is no tag
    assert any_store.search_organisations(tag="Patients", country="SE")[0] == 0
    assert any_store.organisation("no:864139442")["tags"] == ["Refugees", "Patients"]
    # every export format carries them (a "tags" column, "; "-joined)
    from ecosystem.analysis.export import export_graph, export_records
    from ecosystem.domain.filters import NetworkFilter
    from ecosystem.services.networks import build_collaboration_graph

    graph = build_collaboration_graph(any_store, NetworkFilter())
    nodes = {n["id"]: n for n in export_records(graph)[0]}
    assert nodes["no:864139442"]["tags"] == "Refugees; Patients"
    assert nodes["no:971035854"]["tags"] is None
    for fmt in ("graphml", "gexf", "csv", "json"):
        data = export_graph(graph, fmt)
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) and fmt != "csv" else data
        if fmt != "csv":
            assert "Refugees; Patients" in str(text), fmt


@pytest.fixture(scope="module")
def tagged_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from ecosystem.store.sqlite import SQLiteStore

    folder = tmp_path_factory.mktemp("tags")
    store = SQLiteStore(folder / "tags.db")
    store.apply(register_batch(folder))
    store.close()
    yield from serve({"HELIXMAP_STORE": f"sqlite:///{folder / 'tags.db'}"}, folder)


def test_the_api_filters_by_tag_and_the_profile_shows_tags_with_their_source(tagged_server: str) -> None:
    found = httpx.get(f"{tagged_server}/api/v1/organisations", params={"tag": "Patients"}, timeout=30).json()
    assert found["total"] == 2
    profile = httpx.get(f"{tagged_server}/api/v1/organisations/no:971277882", timeout=30).json()
    assert profile["tags"] == [{"tag": "Disabled people", "source": "participation-register"},
                               {"tag": "Patients", "source": "participation-register"}]
    assert profile["short_name"] == "NHF"
    assert httpx.get(f"{tagged_server}/api/v1/organisations/no:864139442", timeout=30).json()["short_name"] is None
    bad = httpx.get(f"{tagged_server}/api/v1/organisations", params={"tag": "x" * 201}, timeout=30)
    assert bad.status_code == 422


def test_the_pages_show_tags_and_filter_by_them(tagged_server: str) -> None:
    page = httpx.get(f"{tagged_server}/search", params={"tag": "Homeless people"}, timeout=30).text
    assert 'name="tag"' in page and 'value="Homeless people"' in page
    assert "Kirkens Bymisjon" in page and "Norges Handikapforbund" not in page
    profile = httpx.get(f"{tagged_server}/organisations/no:971277882", timeout=30).text
    assert 'href="/search?tag=Disabled%20people"' in profile
    assert "from participation-register" in profile


LENS_MAPPING = """
[source]
name = "association-register"
licence = "CC BY 4.0"

[organisation]
id = "id"
name = "name"
country = { value = "DE" }
coordinates = "latlon"
category = { column = "groups", separator = "|" }
helix = { column = "kind", values = { verein = "civil_society", firma = "industry" } }
"""

LENS_ROWS = """id,name,latlon,groups,kind
b1,Berliner Patientenverein,"52.52,13.40",Patients,verein
b2,Berliner Firma,"52.52,13.41",Refugees,firma
h1,Hamburger Patientenverein,"53.55,10.00",Patients|Refugees,verein
h2,Hamburger Tafel,"53.56,10.01",Homeless people,verein
m1,Münchner Tafel,"48.14,11.57",Homeless people,verein
"""


def test_a_region_profile_counts_tags_and_lists_those_absent_in_comparable_regions(located_store,
                                                                                     tmp_path: Path) -> None:
    from ecosystem.services.regions import region_tags

    table = tmp_path / "vereine.csv"
    table.write_text(LENS_ROWS, encoding="utf-8")
    mapping = tmp_path / "vereine.toml"
    mapping.write_text(LENS_MAPPING, encoding="utf-8")
    located_store.apply(read_table(table, mapping))
    assert located_store.organisation("b1")["location"]["nuts3"] == "DE300"
    berlin = region_tags(located_store, "DE300")
    assert berlin["tags"] == [{"tag": "Patients", "organisations": 1}]  # the company's tag is not civil society's
    # Hamburg and München are predominantly urban NUTS3 regions of Germany, like Berlin
    assert berlin["comparable_regions"] == 2
    assert berlin["absent_in_comparable"] == [{"tag": "Homeless people", "comparable_regions": 2},
                                              {"tag": "Refugees", "comparable_regions": 1}]
    hamburg = region_tags(located_store, "DE600")
    assert {t["tag"]: t["organisations"] for t in hamburg["tags"]} == {
        "Patients": 1, "Refugees": 1, "Homeless people": 1}
    assert hamburg["absent_in_comparable"] == []
    germany = region_tags(located_store, "DE")
    assert germany["organisations_with_tags"] == 4 and germany["absent_in_comparable"] == []


def test_the_framework_programme_is_a_search_filter_on_both_stores(any_store, data_dir: Path,
                                                                    tmp_path: Path) -> None:
    import json

    from importers.cordis import read_cordis

    folder = data_dir / "cordis" / "json"
    any_store.apply(read_cordis([folder / "project.json", folder / "organization.json"], cache_dir=tmp_path))
    projects = json.loads((folder / "project.json").read_text(encoding="utf-8"))
    fp7 = {str(p["id"]) for p in projects if p["frameworkProgramme"] == "FP7"}
    rows = json.loads((folder / "organization.json").read_text(encoding="utf-8"))
    expected = {any_store.canonical_id(str(r["organisationID"])) for r in rows if str(r["projectID"]) in fp7}
    total, items = any_store.search_organisations(programme="FP7", limit=500)
    assert total == len(expected) > 0 and {i["id"] for i in items} == expected
    assert any_store.search_organisations(programme="H2020")[0] > total
    assert any_store.search_organisations(programme="FP6")[0] == 0


def test_the_region_profile_api_and_page_show_the_groups_served(regions_db: Path, tmp_path: Path) -> None:
    import shutil

    from ecosystem.store.sqlite import SQLiteStore

    path = tmp_path / "lens.db"
    shutil.copy(regions_db, path)
    table = tmp_path / "vereine.csv"
    table.write_text(LENS_ROWS, encoding="utf-8")
    mapping = tmp_path / "vereine.toml"
    mapping.write_text(LENS_MAPPING, encoding="utf-8")
    store = SQLiteStore(path)
    store.apply(read_table(table, mapping))
    store.close()
    for base in serve({"HELIXMAP_STORE": f"sqlite:///{path}"}, tmp_path):
        tags = httpx.get(f"{base}/api/v1/regions/DE300", timeout=60).json()["tags"]
        assert tags["tags"] == [{"tag": "Patients", "organisations": 1}]
        assert [t["tag"] for t in tags["absent_in_comparable"]] == ["Homeless people", "Refugees"]
        page = httpx.get(f"{base}/regions/DE300", timeout=60).text
        assert 'href="/search?tag=Patients&amp;nuts=DE300"' in page
        assert "Absent here, present in comparable regions" in page and "Homeless people" in page
