"""CORDIS files in every published shape go into a real SQLite store with exact counts."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import pytest

from ecosystem.domain.errors import BadInputError
from importers.cordis import read_cordis
from tests.expected import counts_from_rows, csv_pairs, json_pairs

KEYS = ("organisations", "projects", "participations", "collaborations")


def _import(store, *paths, cache: Path):  # type: ignore[no-untyped-def]
    return store.apply(read_cordis([str(p) for p in paths], cache_dir=cache))


def _counts(store) -> dict[str, int]:  # type: ignore[no-untyped-def]
    s = store.stats()
    return {k: s[k] for k in KEYS}


def _semicolon_copy(src: Path, dst: Path) -> Path:
    with src.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    with dst.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=";", quoting=csv.QUOTE_MINIMAL).writerows(rows)
    return dst


def test_the_csv_sample_gives_exactly_the_counts_of_the_input(store, data_dir: Path, tmp_path: Path) -> None:
    src = data_dir / "cordis/h2020_organization_sample.csv"
    _import(store, src, cache=tmp_path)
    assert _counts(store) == counts_from_rows(csv_pairs(src), store.record_groups())


def test_a_second_import_of_the_same_file_changes_nothing(store, data_dir: Path, tmp_path: Path) -> None:
    src = data_dir / "cordis/h2020_organization_sample.csv"
    _import(store, src, cache=tmp_path)
    before, version = store.stats(), store.data_version()
    report = _import(store, src, cache=tmp_path)
    assert report.changed == 0
    assert store.stats() == before
    assert store.data_version() == version


def test_semicolon_csv_as_cordis_publishes_it_imports_the_same_graph(store, data_dir: Path, tmp_path: Path) -> None:
    src = data_dir / "cordis/h2020_organization_sample.csv"
    _import(store, _semicolon_copy(src, tmp_path / "organization.csv"), cache=tmp_path)
    assert _counts(store) == counts_from_rows(csv_pairs(src), store.record_groups())


def test_the_json_export_imports_organisations_and_projects(store, data_dir: Path, tmp_path: Path) -> None:
    _import(store, data_dir / "cordis/json", cache=tmp_path)
    expected = counts_from_rows(json_pairs(data_dir / "cordis/json/organization.json"), store.record_groups())
    assert _counts(store) == expected
    projects = json.loads((data_dir / "cordis/json/project.json").read_text(encoding="utf-8"))
    first = projects[0]
    stored = store._conn().execute("SELECT doc FROM projects WHERE id = ?", (str(first["id"]),)).fetchone()
    doc = json.loads(stored[0])
    assert doc["acronym"] == first["acronym"]
    assert doc["start_year"] == int(first["startDate"][:4])
    assert doc["programme"] == first["frameworkProgramme"]


def test_a_doubled_activity_type_is_one_type(store, data_dir: Path, tmp_path: Path) -> None:
    rows = json.loads((data_dir / "cordis/json/organization.json").read_text(encoding="utf-8"))
    doubled = [r for r in rows if r["activityType"] == "PRC;PRC"]
    assert doubled, "the sample is known to hold PRC;PRC"
    _import(store, data_dir / "cordis/json", cache=tmp_path)
    org = store.organisation(str(doubled[0]["organisationID"]))
    assert org["helix"]["value"] == "industry"
    assert {e["value"] for e in org["helix"]["evidence"]} == {"PRC"}


def test_activity_types_carry_their_helices_with_evidence(store, data_dir: Path, tmp_path: Path) -> None:
    src = data_dir / "cordis/h2020_organization_sample.csv"
    _import(store, src, cache=tmp_path)
    expected = {"HES": "academia", "REC": "academia", "PRC": "industry", "PUB": "government", "OTH": "civil_society"}
    with src.open(encoding="utf-8", newline="") as fh:
        seen: dict[str, str] = {}
        for r in csv.DictReader(fh):
            seen.setdefault(r["activityType"], r["organisationID"])
    for code, oid in seen.items():
        org = store.organisation(oid)
        assert org["helix"]["value"] == expected[code], (code, oid)
        assert org["helix"]["evidence"][0]["field"] == "activityType"
        assert 0 < org["helix"]["confidence"] <= 1
    oth = store.organisation(seen["OTH"])["helix"]["confidence"]
    assert oth < store.organisation(seen["HES"])["helix"]["confidence"]


def test_duplicate_rows_of_one_participation_are_one_participation(store, data_dir: Path, tmp_path: Path) -> None:
    src = data_dir / "cordis/h2020_organization_sample.csv"
    pairs = csv_pairs(src)
    assert len(pairs) > len(set(pairs)), "the sample is known to hold duplicate rows"
    _import(store, src, cache=tmp_path)
    assert store.stats()["participations"] == len(set(pairs))


def test_every_role_is_a_participation(store, tmp_path: Path, data_dir: Path) -> None:
    src = data_dir / "cordis/h2020_organization_sample.csv"
    _import(store, src, cache=tmp_path)
    roles = {r[0] for r in store._conn().execute("SELECT DISTINCT role FROM participations")}
    assert {"coordinator", "participant", "partner", "thirdParty", "internationalPartner"} <= roles


def test_a_zip_and_a_directory_hold_the_same_graph_as_the_files(store, data_dir: Path, tmp_path: Path) -> None:
    src = data_dir / "cordis/h2020_organization_sample.csv"
    archive = tmp_path / "cordis-h2020projects-csv.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(_semicolon_copy(src, tmp_path / "organization.csv"), "organization.csv")
        zf.writestr("legalBasis.csv", "legalBasis;title\nH2020-EU.1.;Excellent science\n")
    _import(store, archive, cache=tmp_path)
    assert _counts(store) == counts_from_rows(csv_pairs(src), store.record_groups())


def test_no_personal_data_is_stored(store, data_dir: Path, tmp_path: Path) -> None:
    _import(store, data_dir / "cordis/h2020_organization_sample.csv", cache=tmp_path)
    dump = "\n".join(d for (d,) in store._conn().execute("SELECT doc FROM organisations"))
    assert "contact-form" not in dump and "contactForm" not in dump
    assert "@" not in "".join(json.loads(d)["url"] or "" for (d,) in
                              store._conn().execute("SELECT doc FROM organisations"))


def test_every_stored_organisation_keeps_its_source_and_licence(store, data_dir: Path, tmp_path: Path) -> None:
    _import(store, data_dir / "cordis/h2020_organization_sample.csv", cache=tmp_path)
    for (doc,) in store._conn().execute("SELECT doc FROM organisations"):
        sources = json.loads(doc)["sources"]
        assert sources and all(s["licence"] and s["source"] == "cordis" for s in sources)


# -- bad input: a clear error naming file, line and field; the store unchanged ---------------------------------

HEADER = ('"projectID","projectAcronym","organisationID","name","activityType","country","role",'
          '"ecContribution","geolocation","postCode","city"\n')
GOOD = '"1","A","100","ACME LTD","PRC","DE","coordinator","1000.5","52.5,13.4","10115","Berlin"\n'


@pytest.mark.parametrize("name,content,line,field", [
    ("amount.csv", HEADER + GOOD + '"1","A","101","B GMBH","PRC","DE","participant","lots","","",""\n', 3,
     "ecContribution"),
    ("quote.csv", HEADER + GOOD + '"1","A","102","BROKEN "QUOTE,"PRC","DE","participant","1","","",""\n', 3, None),
    ("noid.csv", HEADER + GOOD + '"1","A","","NO ID","PRC","DE","participant","1","","",""\n', 3, "organisationID"),
    ("columns.csv", '"projectID","name"\n"1","x"\n', 1, "organisationID"),
    ("delimiter.csv", HEADER.replace(",", "|") + GOOD.replace(",", "|"), 1, "projectID"),
    ("empty.csv", "", 1, None),
])
def test_bad_csv_is_refused_naming_file_line_and_field(store, tmp_path: Path, name: str, content: str,
                                                       line: int, field: str | None) -> None:
    _import(store, tmp_path.joinpath("seed.csv").write_text(HEADER + GOOD) and tmp_path / "seed.csv", cache=tmp_path)
    before, version = store.stats(), store.data_version()
    bad = tmp_path / name
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(BadInputError) as info:
        _import(store, bad, cache=tmp_path)
    err = info.value
    assert err.file == name and err.line == line
    if field:
        assert err.field == field
    assert store.stats() == before and store.data_version() == version


def test_a_file_that_is_not_utf8_names_the_line(store, tmp_path: Path) -> None:
    bad = tmp_path / "latin1.csv"
    bad.write_bytes((HEADER + GOOD + '"2","B","103","CAFÉ SARL","PRC","FR","participant","1","","",""\n')
                    .encode("latin-1"))
    with pytest.raises(BadInputError) as info:
        _import(store, bad, cache=tmp_path)
    assert info.value.line == 3 and "utf-8" in str(info.value).lower()
    assert store.stats()["organisations"] == 0


def test_a_truncated_zip_is_refused_and_nothing_is_written(store, data_dir: Path, tmp_path: Path) -> None:
    archive = tmp_path / "cordis.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(data_dir / "cordis/h2020_organization_sample.csv", "organization.csv")
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadInputError) as info:
        _import(store, archive, cache=tmp_path)
    assert info.value.file == "cordis.zip"
    assert store.stats()["organisations"] == 0


def test_a_failure_late_in_a_file_leaves_nothing_half_written(store, data_dir: Path, tmp_path: Path) -> None:
    text = (data_dir / "cordis/h2020_organization_sample.csv").read_text(encoding="utf-8")
    bad = tmp_path / "late.csv"
    bad.write_text(text + '"9","Z","999","LAST","PRC","DE","","","","","","","","","","","","","","participant",'
                   '"not-a-number","","","",""\n', encoding="utf-8")
    with pytest.raises(BadInputError) as info:
        _import(store, bad, cache=tmp_path)
    assert info.value.field == "ecContribution" and info.value.line == text.count("\n") + 1
    assert store.stats()["organisations"] == 0 and store.stats()["participations"] == 0


def test_an_unparseable_geolocation_is_a_counted_warning_not_an_error(store, tmp_path: Path) -> None:
    f = tmp_path / "geo.csv"
    f.write_text(HEADER + GOOD.replace("52.5,13.4", "somewhere"), encoding="utf-8")
    report = _import(store, f, cache=tmp_path)
    assert store.stats()["organisations"] == 1
    assert any("geolocation" in w for w in report.warnings)


def test_search_folds_letters_that_are_not_accents(store, tmp_path: Path) -> None:
    f = tmp_path / "names.csv"
    f.write_text(HEADER + GOOD.replace("ACME LTD", "KØBENHAVNS UNIVERSITET")
                 + GOOD.replace('"100"', '"101"').replace("ACME LTD", "Uniwersytet Łódzki")
                 + GOOD.replace('"100"', '"102"').replace("ACME LTD", "Straße der Forschung e.V."), encoding="utf-8")
    _import(store, f, cache=tmp_path)
    for q, expected in (("kobenhavns", "KØBENHAVNS UNIVERSITET"), ("lodzki", "Uniwersytet Łódzki"),
                        ("strasse", "Straße der Forschung e.V."), ("KØBENHAVNS univ", "KØBENHAVNS UNIVERSITET")):
        total, items = store.search_organisations(q)
        assert total == 1 and items[0]["name"] == expected, q


def test_an_unknown_nuts_code_is_a_counted_warning_and_the_postcode_places_it(located_store, tmp_path: Path) -> None:
    f = tmp_path / "nuts.csv"
    f.write_text(HEADER.replace('"city"', '"city","nutsCode"') + GOOD.replace('"Berlin"', '"Berlin","ZZ999"'),
                 encoding="utf-8")
    report = _import(located_store, f, cache=tmp_path)
    org = located_store.organisation("100")
    assert org["location"]["nuts3"] == "DE300" and org["location"]["method"] == "postcode"
    assert any("ZZ999" in w for w in report.warnings)


def test_at_least_95_percent_of_organisations_in_nuts_countries_get_an_urban_rural_type(
        located_store, data_dir: Path, tmp_path: Path) -> None:
    _import(located_store, data_dir / "cordis/h2020_organization_sample.csv", data_dir / "cordis/json",
            cache=tmp_path)
    nuts_countries = {r[0] for r in located_store._conn().execute("SELECT DISTINCT country FROM regions")}
    rows = located_store._conn().execute("SELECT country, urban_rural FROM organisations").fetchall()
    inside = [ur for country, ur in rows if country in nuts_countries]
    typed = sum(1 for ur in inside if ur != "unknown")
    assert len(inside) > 2000 and typed / len(inside) >= 0.95
