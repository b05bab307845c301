"""Entity resolution on real CORDIS and ROR records: normalised names, identifiers, conflicts, overrides."""

from __future__ import annotations

import copy
import csv
from pathlib import Path

import pytest

from ecosystem.domain.errors import BadInputError
from ecosystem.domain.models import Municipality
from ecosystem.domain.resolution import (
    EntityRecord,
    Overrides,
    load_overrides,
    normalise_name,
    record_from_municipality,
    record_from_organisation,
    resolve_entities,
)
from importers.cordis import read_cordis
from importers.ror import read_ror


@pytest.fixture(scope="module")
def sample(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, EntityRecord]:
    """Every CORDIS organisation of the samples (by PIC) and every ROR record (``ror:...``)."""
    cache = tmp_path_factory.mktemp("cache")
    cordis = read_cordis([data_dir / "cordis" / "h2020_organization_sample.csv",
                          data_dir / "cordis" / "json" / "organization.json"], cache_dir=cache)
    ror = read_ror([data_dir / "ror" / "ror_v2_europe_sample.json.gz"], cache_dir=cache)
    return {o.id: record_from_organisation(o) for o in [*cordis.organisations, *ror.organisations]}


def pick(sample: dict[str, EntityRecord], *ids: str) -> list[EntityRecord]:
    return [sample[i] for i in ids]


def municipality(country: str, code: str, name: str, population: int) -> EntityRecord:
    return record_from_municipality(Municipality(country=country, lau_code=code, name=name, population=population))


@pytest.mark.parametrize("a,b", [
    ("SIEMENS AKTIENGESELLSCHAFT", "Siemens AG"),
    ("Smart Robotics BV", "SMART ROBOTICS B.V."),
    ("ZANNINI POLAND SPOLKA Z OGRANICZONA ODPOWIEDZIALNOSCIA", "Zannini Poland Sp. z o.o."),
    ("Infineon Technologies Austria AG", "INFINEON TECHNOLOGIES AUSTRIA  AG"),
    ("Deep Blue S.r.l.", "DEEP BLUE SRL"),
    ("STMicroelectronics S.p.A.", "STMICROELECTRONICS SPA"),
    ("Institut für Angewandte Informatik e.V.", "INSTITUT FUR ANGEWANDTE INFORMATIK EV"),
    ("Brockmann Consult GmbH", "BROCKMANN CONSULT GESELLSCHAFT MIT BESCHRANKTER HAFTUNG"),
    ("Novo Nordisk A/S", "NOVO NORDISK AS"),
    ("Iquadrat Informatica SL", "IQUADRAT INFORMATICA S.L."),
])
def test_legal_forms_normalise_away(a: str, b: str) -> None:
    assert normalise_name(a) == normalise_name(b)
    assert normalise_name(a).split()[0] not in ("gmbh", "ag", "bv", "sl")


@pytest.mark.parametrize("a,b", [
    ("University of Potsdam", "Universität Potsdam"),
    ("Universidad de Burgos", "University of Burgos"),
    ("Potsdam University", "University of Potsdam"),
    ("Università degli Studi di Padova", "University of Padova"),
    ("KØBENHAVNS UNIVERSITET", "Kobenhavns Universitet"),
    ("Uniwersytet Warszawski", "Warszawski University"),
    ("WESTFAELISCHE WILHELMS-UNIVERSITAET MUENSTER", "Westfälische Wilhelms-Universität Münster"),
    ("Technische Universität Dresden", "TECHNICAL UNIVERSITY DRESDEN"),
])
def test_word_order_languages_and_transliterations_normalise_to_one_name(a: str, b: str) -> None:
    assert normalise_name(a) == normalise_name(b)


def test_a_university_and_its_hospital_in_the_same_city_do_not_merge(sample: dict[str, EntityRecord]) -> None:
    # Heidelberg University (CORDIS), University Hospital Heidelberg (CORDIS and ROR)
    result = resolve_entities(pick(sample, "999987648", "999841081", "ror:013czdx64"))
    assert result.same("999841081", "ror:013czdx64")
    assert not result.same("999987648", "ror:013czdx64")
    pair = next(p for p in result.pairs if {p.left, p.right} == {"999987648", "ror:013czdx64"})
    assert pair.decision == "different" and any("hospital" in r for r in pair.reasons)


def test_a_faculty_does_not_merge_with_its_university(sample: dict[str, EntityRecord]) -> None:
    result = resolve_entities(pick(sample, "999534561", "ror:00mv6sv71"))  # Zagreb: agronomy faculty, university
    assert not result.same("999534561", "ror:00mv6sv71")


def test_one_university_merges_across_languages_and_sources(sample: dict[str, EntityRecord]) -> None:
    result = resolve_entities(pick(sample, "999904616", "ror:03yrrjy16", "999842536", "ror:0443cwa12",
                                   "999977463", "ror:02kkvpp62"))
    assert result.same("999904616", "ror:03yrrjy16")  # SYDDANSK UNIVERSITET / University of Southern Denmark
    assert result.same("999842536", "ror:0443cwa12")  # TALLINNA TEHNIKAÜLIKOOL / TalTech
    assert result.same("999977463", "ror:02kkvpp62")  # TECHNISCHE UNIVERSITAET MUENCHEN / TUM
    assert len(result.clusters) == 3


def test_similar_names_in_other_cities_do_not_merge(sample: dict[str, EntityRecord]) -> None:
    result = resolve_entities(pick(sample, "999995602", "ror:00240q980", "ror:00s6t1f81", "999841954",
                                   "ror:02n742c10"))
    assert result.same("999995602", "ror:00240q980")      # Padova
    assert not result.same("999995602", "ror:00s6t1f81")  # Pavia
    assert not result.same("999841954", "ror:02n742c10")  # Trento is not Trieste


def test_records_sharing_an_exact_identifier_merge_whatever_their_names(sample: dict[str, EntityRecord]) -> None:
    register = EntityRecord(id="reg:1", source="register", name="Leuven research university", country="BE",
                            identifiers={"pic": "999991334"})
    isni = EntityRecord(id="reg:2", source="register", name="KUL", country="BE",
                        identifiers={"isni": "0000000106687884"})
    result = resolve_entities([*pick(sample, "999991334", "ror:05f950310"), register, isni])
    assert set(result.members("ror:05f950310")) == {"999991334", "ror:05f950310", "reg:1", "reg:2"}
    assert any(r.startswith("same PIC") for p in result.pairs for r in p.reasons)
    assert any(r.startswith("same ISNI") for p in result.pairs for r in p.reasons)


def test_a_vat_number_shared_by_a_state_does_not_merge_different_organisations(
        sample: dict[str, EntityRecord]) -> None:
    # two Bavarian public universities declare the Free State of Bavaria's VAT number
    result = resolve_entities(pick(sample, "999868629", "955334474"))
    assert not result.same("999868629", "955334474")
    assert [p.decision for p in result.uncertain] == ["uncertain"]
    assert "same VAT" in result.uncertain[0].reasons[0]


def test_a_municipality_merges_with_the_government_named_after_it_only(sample: dict[str, EntityRecord]) -> None:
    laus = [municipality("IT", "001272", "Torino", 875698), municipality("IT", "069091", "Torino di Sangro", 3020),
            municipality("IT", "072006", "Bari", 320862)]
    # COMUNE DI TORINO, UNIVERSITA DEGLI STUDI DI TORINO, CITTA' METROPOLITANA DI BARI
    result = resolve_entities([*laus, *pick(sample, "986538792", "999861936", "921221223")])
    assert result.same("986538792", "lau:IT:001272")
    assert not result.same("986538792", "lau:IT:069091")
    assert not result.same("999861936", "lau:IT:001272")
    assert not result.same("921221223", "lau:IT:072006")
    assert result.canonical["lau:IT:001272"] == "986538792"


def test_the_canonical_id_is_the_ror_id_else_the_smallest_pic(sample: dict[str, EntityRecord]) -> None:
    records = pick(sample, "999987260", "888895422", "999991334", "ror:05f950310")
    result = resolve_entities(records)
    assert result.canonical["999991334"] == "ror:05f950310"
    # Siemens AG under two PICs: two legal entities unless a user says they are one
    assert not result.same("999987260", "888895422")
    pair = next(p for p in result.pairs if {p.left, p.right} == {"999987260", "888895422"})
    assert pair.decision == "different" and "different PIC" in pair.reasons[-1]
    result = resolve_entities(records, overrides=Overrides(merge=[("999987260", "888895422")]))
    assert result.same("999987260", "888895422")
    assert result.canonical["999987260"] == "888895422"


def test_forced_merges_and_forbidden_pairs_always_win(sample: dict[str, EntityRecord]) -> None:
    records = pick(sample, "999987648", "ror:013czdx64", "999991334", "ror:05f950310")
    overrides = Overrides(merge=[("999987648", "ror:013czdx64")], forbid=[("999991334", "ror:05f950310")])
    result = resolve_entities(records, overrides=overrides)
    assert result.same("999987648", "ror:013czdx64")
    assert not result.same("999991334", "ror:05f950310")
    assert resolve_entities(records).same("999991334", "ror:05f950310")


def test_override_files_in_csv_and_toml_are_read(sample: dict[str, EntityRecord], tmp_path: Path) -> None:
    records = pick(sample, "999987648", "ror:013czdx64", "999991334", "ror:05f950310")
    as_csv = tmp_path / "overrides.csv"
    as_csv.write_text("left_id,right_id,decision,note\n999987648,ror:013czdx64,merge,by hand\n"
                      "999991334,ror:05f950310,forbid,\n", encoding="utf-8")
    as_toml = tmp_path / "overrides.toml"
    as_toml.write_text('merge = [["999987648", "ror:013czdx64"]]\nforbid = [["999991334", "ror:05f950310"]]\n',
                       encoding="utf-8")
    for path in (as_csv, as_toml):
        result = resolve_entities(records, overrides=path)
        assert result.same("999987648", "ror:013czdx64") and not result.same("999991334", "ror:05f950310")


def test_contradictory_or_malformed_overrides_are_bad_input(sample: dict[str, EntityRecord], tmp_path: Path) -> None:
    records = pick(sample, "999991334", "ror:05f950310")
    both = Overrides(merge=[("999991334", "ror:05f950310")], forbid=[("ror:05f950310", "999991334")])
    with pytest.raises(BadInputError, match="both merge and forbid"):
        resolve_entities(records, overrides=both)
    bad = tmp_path / "overrides.csv"
    bad.write_text("left_id,right_id,decision\n999991334,ror:05f950310,perhaps\n", encoding="utf-8")
    with pytest.raises(BadInputError) as err:
        load_overrides(bad)
    assert (err.value.file, err.value.line, err.value.field) == ("overrides.csv", 2, "decision")
    unknown = resolve_entities(records, overrides=Overrides(merge=[("999991334", "nobody")]))
    assert any("unknown record id" in w for w in unknown.warnings)


def test_resolving_is_idempotent_and_independent_of_record_order(sample: dict[str, EntityRecord]) -> None:
    records = [r for r in sample.values() if r.country == "BE"]
    first = resolve_entities(records)
    again = resolve_entities(list(reversed(records)))
    assert first.canonical == again.canonical and first.pairs == again.pairs
    assert first.same("999991334", "ror:05f950310")


def test_merging_is_reversible_and_leaves_the_records_unchanged(sample: dict[str, EntityRecord]) -> None:
    records = pick(sample, "999991334", "ror:05f950310", "999980664", "ror:02495e989")
    before = copy.deepcopy(records)
    merged = resolve_entities(records)
    assert records == before
    assert merged.members("999991334") == ["999991334", "ror:05f950310"]
    undone = resolve_entities(records, overrides=Overrides(forbid=[("999991334", "ror:05f950310")]))
    assert undone.members("999991334") == ["999991334"]
    assert undone.same("999980664", "ror:02495e989")  # the other merge (UCLouvain) is untouched


def test_uncertain_pairs_go_to_the_review_file_and_come_back_as_overrides(sample: dict[str, EntityRecord],
                                                                           tmp_path: Path) -> None:
    records = pick(sample, "910945140", "999980761")  # SINTEF AS and the SINTEF foundation
    review = tmp_path / "review" / "uncertain.csv"
    result = resolve_entities(records, review_path=review)
    assert not result.same("910945140", "999980761") and len(result.uncertain) == 1
    with review.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["left_id"], r["right_id"], r["decision"]) for r in rows] == [("910945140", "999980761", "")]
    rows[0]["decision"] = "merge"
    with review.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert resolve_entities(records, overrides=review).same("910945140", "999980761")
