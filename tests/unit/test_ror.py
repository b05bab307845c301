"""ROR schema v2 importer: types to helices, names in all languages, relationships, status, bad input."""

from __future__ import annotations

import copy
import gzip
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from ecosystem.domain.batch import ImportBatch
from ecosystem.domain.errors import BadInputError
from ecosystem.domain.models import Helix, Organisation
from importers.ror import evidence_from_types, read_ror, ror_suffix

SAMPLE = "ror/ror_v2_europe_sample.json.gz"


@pytest.fixture(scope="module")
def raw_records(data_dir: Path) -> list[dict[str, Any]]:
    with gzip.open(data_dir / SAMPLE, "rt", encoding="utf-8") as fh:
        return json.load(fh)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def batch(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> ImportBatch:
    return read_ror([data_dir / SAMPLE], cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def orgs(batch: ImportBatch) -> dict[str, Organisation]:
    return {o.id: o for o in batch.organisations}


def _write(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_every_sample_record_becomes_one_organisation_with_a_ror_id(batch: ImportBatch) -> None:
    assert len(batch.organisations) == 5029
    assert all(o.id.startswith("ror:") and len(o.id) == 13 for o in batch.organisations)
    assert all(o.sources[0].source == "ror" and o.sources[0].licence == "CC0 1.0" for o in batch.organisations)


@pytest.mark.parametrize("ror_id,helix", [
    ("ror:05f950310", Helix.ACADEMIA),       # KU Leuven: education, funder
    ("ror:04bwf3e34", Helix.ACADEMIA),       # DLR: facility, funder
    ("ror:040823y46", Helix.INDUSTRY),       # Guger Technologies: company
    ("ror:04f7aqa58", Helix.GOVERNMENT),     # Bundessortenamt: government
    ("ror:0000ev088", Helix.CIVIL_SOCIETY),  # IKEA Foundation: funder, nonprofit
    ("ror:041ypg504", Helix.CIVIL_SOCIETY),  # a university and state library: archive
])
def test_determinate_ror_types_map_to_their_helix(orgs: dict[str, Organisation], ror_id: str,
                                                  helix: Helix) -> None:
    assert orgs[ror_id].helix.value is helix
    assert all(e.source == "ror" and e.field == "types" for e in orgs[ror_id].helix.evidence)


@pytest.mark.parametrize("ror_id,helix", [
    ("ror:013czdx64", Helix.ACADEMIA),       # University Hospital Heidelberg: healthcare, funder
    ("ror:00bfpqv95", Helix.GOVERNMENT),     # Azienda ULSS 8 Berica: a public health authority
    ("ror:00fjnk327", Helix.INDUSTRY),       # Menwell Limited: a private clinic
    ("ror:0146eme06", Helix.CIVIL_SOCIETY),  # Stichting Kwintes: a care foundation
])
def test_healthcare_is_decided_by_the_name_at_lower_confidence(orgs: dict[str, Organisation], ror_id: str,
                                                               helix: Helix) -> None:
    org = orgs[ror_id]
    assert org.helix.value is helix
    assert org.helix.confidence < orgs["ror:05f950310"].helix.confidence
    assert org.helix.evidence[0].value.startswith("healthcare")


def test_the_most_specific_type_wins_and_ambiguous_types_alone_fall_back_to_a_default() -> None:
    assert evidence_from_types(["healthcare", "education"])[0].helix is Helix.ACADEMIA
    assert evidence_from_types(["funder", "company"])[0].helix is Helix.INDUSTRY
    assert evidence_from_types(["facility", "government"])[0].helix is Helix.ACADEMIA
    healthcare = evidence_from_types(["healthcare"], ["Hôpital Simone Veil"])[0]
    assert healthcare.helix is Helix.GOVERNMENT and healthcare.confidence == 0.4
    other = evidence_from_types(["other"], ["Docomomo International"])[0]
    assert other.helix is Helix.CIVIL_SOCIETY and other.confidence < 0.5
    assert evidence_from_types([]) == []


def test_funder_never_decides_when_another_type_is_given() -> None:
    """docs/ror.md: `funder` decides only alone; with `other` the record is read as `other`."""
    both = evidence_from_types(["funder", "other"], ["Docomomo International"])[0]
    assert both.helix is Helix.CIVIL_SOCIETY and both.value == "other"
    assert evidence_from_types(["other", "funder"])[0].value == "other"
    alone = evidence_from_types(["funder"], ["Docomomo International"])[0]
    assert alone.helix is Helix.GOVERNMENT and alone.value == "funder"


def test_placeholder_names_are_never_names_or_acronyms(raw_records: list[dict[str, Any]], tmp_path: Path) -> None:
    record = copy.deepcopy(raw_records[0])
    record["names"] = [*record["names"], {"value": "N/A", "types": ["acronym"], "lang": None},
                       {"value": "unknown", "types": ["alias"], "lang": None}]
    path = tmp_path / "ror.json"
    path.write_text(json.dumps([record]), encoding="utf-8")
    org = read_ror([path], cache_dir=tmp_path).organisations[0]
    assert "N/A" not in org.acronyms and "unknown" not in org.names
    record["names"] = [{"value": "unknown", "types": ["label"], "lang": None}]
    path.write_text(json.dumps([record]), encoding="utf-8")
    with pytest.raises(BadInputError, match="placeholders"):
        read_ror([path], cache_dir=tmp_path)


def test_names_in_all_languages_are_kept_with_the_display_name_first(orgs: dict[str, Organisation]) -> None:
    eth = orgs["ror:05a28rw58"]
    assert eth.name == "ETH Zurich"
    assert {"ETH Zürich", "Eidgenössische Technische Hochschule Zürich", "Politecnico Federale di Zurigo",
            "École Polytechnique Fédérale de Zurich"} <= set(eth.names)
    assert eth.name not in eth.names
    leuven = orgs["ror:05f950310"]
    assert leuven.acronyms == ["KUL"] and "Katholieke Universiteit Leuven" in leuven.names


def test_location_established_year_identifiers_and_website_are_read(orgs: dict[str, Organisation]) -> None:
    leuven = orgs["ror:05f950310"]
    assert (leuven.country, leuven.location.city) == ("BE", "Leuven")
    assert leuven.location.lat == pytest.approx(50.87959) and leuven.location.lon == pytest.approx(4.70093)
    assert leuven.established == 1425
    assert leuven.identifiers == {"ror": "05f950310", "fundref": "501100004040", "grid": "grid.5596.f",
                                  "isni": "0000 0001 0668 7884", "wikidata": "Q833670"}
    assert leuven.url == "https://www.kuleuven.be"


def test_countries_use_eurostat_codes(orgs: dict[str, Organisation]) -> None:
    countries = {o.country for o in orgs.values()}
    assert {"EL", "UK"} <= countries and not {"GR", "GB"} & countries


def test_relationships_become_relations_between_ror_ids(batch: ImportBatch) -> None:
    dkfz = {(r.kind, r.target_id) for r in batch.relations if r.source_id == "ror:04cdgtt98"}
    assert ("child", "ror:024sq8w11") in dkfz   # DKFZ -> its Dresden site
    assert ("parent", "ror:0281dp749") in dkfz  # DKFZ -> the Helmholtz Association
    assert {r.kind for r in batch.relations} <= {"parent", "child", "related", "predecessor", "successor"}
    assert all(r.source.source == "ror" and r.source.record for r in batch.relations)


def test_inactive_and_withdrawn_records_are_kept_and_flagged(orgs: dict[str, Organisation],
                                                             batch: ImportBatch) -> None:
    assert orgs["ror:02v6kpv12"].status == "inactive"   # Université Toulouse III - Paul Sabatier
    assert orgs["ror:0391a8v61"].status == "withdrawn"  # a Belgrade faculty
    assert orgs["ror:05f950310"].status == "active"
    assert any("inactive or withdrawn" in w for w in batch.warnings)


def test_the_published_zip_and_a_plain_json_file_are_read(raw_records: list[dict[str, Any]],
                                                          tmp_path: Path) -> None:
    records = raw_records[:20]
    plain = _write(tmp_path / "ror-data.json", records)
    archive = tmp_path / "v2.0-ror-data.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("v2.0-ror-data.json", json.dumps(records))
        zf.writestr("v2.0-ror-data.csv", "id,name\n")
    from_json = read_ror([plain], cache_dir=tmp_path)
    from_zip = read_ror([archive], cache_dir=tmp_path)
    assert [o.id for o in from_zip.organisations] == [o.id for o in from_json.organisations]
    assert len(from_json.organisations) == 20


def test_reading_twice_gives_the_same_batch(raw_records: list[dict[str, Any]], tmp_path: Path) -> None:
    path = _write(tmp_path / "ror.json", raw_records[:50])
    first, second = read_ror([path], cache_dir=tmp_path), read_ror([path], cache_dir=tmp_path)
    assert first.organisations == second.organisations and first.relations == second.relations


def test_a_file_that_is_not_json_is_bad_input_naming_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "ror.json"
    path.write_text('[\n{"id": "https://ror.org/05f950310",\n', encoding="utf-8")
    with pytest.raises(BadInputError) as err:
        read_ror([path], cache_dir=tmp_path)
    assert err.value.file == "ror.json" and err.value.line is not None and "not JSON" in str(err.value)


def test_a_json_object_instead_of_a_list_is_not_a_ror_dump(tmp_path: Path) -> None:
    path = _write(tmp_path / "ror.json", {"items": []})
    with pytest.raises(BadInputError, match="JSON array"):
        read_ror([path], cache_dir=tmp_path)


def test_another_sources_json_is_not_a_ror_dump(data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="not a ROR dump") as err:
        read_ror([data_dir / "cordis" / "json" / "organization.json"], cache_dir=tmp_path)
    assert err.value.line == 1 and err.value.field == "id"


def test_a_record_without_names_or_id_is_reported_by_its_index_and_field(raw_records: list[dict[str, Any]],
                                                                         tmp_path: Path) -> None:
    records = [dict(r) for r in raw_records[:3]]
    records[2]["names"] = []
    with pytest.raises(BadInputError) as err:
        read_ror([_write(tmp_path / "a.json", records)], cache_dir=tmp_path)
    assert (err.value.line, err.value.field) == (3, "names")
    records[2] = {k: v for k, v in raw_records[2].items() if k != "id"}
    with pytest.raises(BadInputError) as err:
        read_ror([_write(tmp_path / "b.json", records)], cache_dir=tmp_path)
    assert (err.value.line, err.value.field) == (3, "id")
    records[2] = dict(raw_records[2], id="https://ror.org/not-a-ror")
    with pytest.raises(BadInputError, match="not a ROR id"):
        read_ror([_write(tmp_path / "c.json", records)], cache_dir=tmp_path)


def test_a_zip_without_a_schema_v2_file_is_bad_input(tmp_path: Path) -> None:
    archive = tmp_path / "v1.0-ror-data.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("v1.0-ror-data.json", json.dumps([{"id": "https://ror.org/05f950310", "name": "KU Leuven"}]))
    with pytest.raises(BadInputError, match="schema v2"):
        read_ror([archive], cache_dir=tmp_path)


def test_ror_ids_are_read_in_both_forms() -> None:
    assert ror_suffix("https://ror.org/05F950310") == "05f950310"
    assert ror_suffix("05f950310") == "05f950310"
    assert ror_suffix("https://ror.org/12345") is None
