"""Resolution rules that respect legal identity: one rule per test (docs/entity-resolution.md, "Legal identity")."""

from __future__ import annotations

import pytest

from ecosystem.domain.models import Location, Organisation, Provenance
from ecosystem.domain.resolution import (
    ACCEPT,
    EntityRecord,
    Overrides,
    record_from_organisation,
    resolve_entities,
)
from ecosystem.domain.text import PLACEHOLDERS, is_placeholder, real_value


def rec(rid: str, name: str, *, acronyms: tuple[str, ...] = (), city: str | None = "Oslo", country: str = "NO",
        ids: dict[str, str] | None = None, url: str | None = None, source: str = "register") -> EntityRecord:
    return EntityRecord(id=rid, source=source, name=name, acronyms=acronyms, country=country, city=city,
                        identifiers=ids or {}, url=url)


def pair(result, a: str, b: str):  # type: ignore[no-untyped-def]
    return next((p for p in result.pairs if {p.left, p.right} == {a, b}), None)


# -- different identifiers of one scheme: two legal entities ----------------------------------------------------

@pytest.mark.parametrize("scheme,left,right", [
    ("pic", "999976462", "937489223"),
    ("orgnr", "972417807", "983887406"),
    ("vat", "NO972417807MVA", "NO983887406MVA"),
])
def test_two_values_of_one_scheme_are_two_legal_entities(scheme: str, left: str, right: str) -> None:
    a = rec("a", "Universitetet i Oslo", ids={scheme: left}, url="https://www.uio.no")
    b = rec("b", "UNIVERSITETET I OSLO", ids={scheme: right}, url="https://www.uio.no")
    result = resolve_entities([a, b])
    assert not result.same("a", "b")
    judged = pair(result, "a", "b")
    assert judged is not None and judged.decision == "different"
    assert f"different {scheme.upper()}" in judged.reasons[-1]
    # without the identifiers the same two names are one organisation
    plain = resolve_entities([rec("a", a.name, url=a.url), rec("b", b.name, url=b.url)])
    assert plain.same("a", "b")


def test_a_shared_identifier_of_another_scheme_does_not_join_two_pics() -> None:
    """A faculty and the foundation bearing its name: two PICs, one VAT number (the state's)."""
    a = rec("a", "Faculty of Medicine Foundation", ids={"pic": "911111111", "vat": "NO971035854"})
    b = rec("b", "Faculty of Medicine Foundation", ids={"pic": "922222222", "vat": "NO971035854"})
    assert not resolve_entities([a, b]).same("a", "b")


def test_a_third_record_never_bridges_two_pics() -> None:
    ror = rec("ror:01xtthb56", "University of Oslo", source="ror", ids={"ror": "01xtthb56"})
    a = rec("a", "UNIVERSITETET I OSLO", ids={"pic": "999976462"})
    b = rec("b", "University of Oslo", ids={"pic": "937489223"})
    result = resolve_entities([ror, a, b])
    assert not result.same("a", "b")
    assert result.same("a", "ror:01xtthb56") or result.same("b", "ror:01xtthb56")


def test_a_source_listing_both_values_or_an_override_joins_them() -> None:
    a = rec("a", "Sintef", ids={"orgnr": "948007029"})
    b = rec("b", "Sintef", ids={"orgnr": "919303808"})
    assert not resolve_entities([a, b]).same("a", "b")
    assert resolve_entities([a, b], overrides=Overrides(merge=[("a", "b")])).same("a", "b")
    # the same value written differently is one value
    c = rec("c", "Sintef", ids={"orgnr": "948 007 029"})
    assert resolve_entities([a, c]).same("a", "c")


# -- short names never decide -----------------------------------------------------------------------------------

def test_a_shared_acronym_and_city_without_shared_name_words_is_no_merge() -> None:
    """Four ministries of one government, one abbreviation in the register's short-name column, one city."""
    names = ["Helse- og omsorgsdepartementet", "Justis- og beredskapsdepartementet",
             "Kunnskapsdepartementet", "Klima- og miljødepartementet"]
    records = [rec(f"m{k}", n, acronyms=("DEP",)) for k, n in enumerate(names)]
    result = resolve_entities(records)
    assert len({result.canonical[r.id] for r in records}) == 4


def test_ministries_of_one_government_in_english_are_not_one() -> None:
    records = [rec("h", "Ministry of Health", acronyms=("MOH",), country="GR", city="Athens"),
               rec("j", "Ministry of Justice", acronyms=("MOH",), country="GR", city="Athens")]
    assert not resolve_entities(records).same("h", "j")


def test_an_acronym_counts_beside_shared_name_words() -> None:
    a = rec("a", "Norsk institutt for bioøkonomi", acronyms=("NIBIO",), city="Ås")
    b = rec("b", "Norsk institutt for biookonomi NIBIO", acronyms=("NIBIO",), city="Ås")
    result = resolve_entities([a, b])
    assert result.same("a", "b")
    assert any("same acronym NIBIO" in r for r in pair(result, "a", "b").reasons)


# -- legal forms and supporter prefixes count against -----------------------------------------------------------

@pytest.mark.parametrize("left,right", [
    ("Kongsberg Gruppen ASA", "Kongsberg Gruppen AS"),
    ("Storengy SA", "Storengy SAS"),
    ("Bosch Rexroth GmbH", "Bosch Rexroth KG"),
    ("Rolls-Royce Ltd", "Rolls-Royce PLC"),
])
def test_different_legal_forms_are_at_most_uncertain(left: str, right: str) -> None:
    result = resolve_entities([rec("a", left, url="https://example.com"), rec("b", right, url="https://example.com")])
    assert not result.same("a", "b")
    judged = pair(result, "a", "b")
    assert judged is not None and judged.score < ACCEPT
    assert any("legal forms differ" in r for r in judged.reasons)


@pytest.mark.parametrize("supporters,organisation", [
    ("Friends of the Royal Botanic Gardens", "Royal Botanic Gardens"),
    ("Foundation of the Hellenic World", "Hellenic World"),
    ("Association of Nordic Museums", "Nordic Museums"),
    ("Amici della Scala", "La Scala"),
    ("Freunde der Staatsoper", "Staatsoper"),
    ("Les Amis du Louvre", "Louvre"),
])
def test_friends_foundation_or_association_of_x_is_not_x(supporters: str, organisation: str) -> None:
    result = resolve_entities([rec("a", supporters), rec("b", organisation)])
    assert not result.same("a", "b")
    judged = pair(result, "a", "b")
    assert judged is None or judged.decision == "different"


def test_two_records_of_one_supporters_association_still_match() -> None:
    assert resolve_entities([rec("a", "Friends of the Earth Norway"),
                             rec("b", "FRIENDS OF THE EARTH NORWAY")]).same("a", "b")


# -- placeholders are never names, short names or identifiers ---------------------------------------------------

@pytest.mark.parametrize("value", ["unknown", "Unknown", "N/A", "n.a.", "-", "--", "none", "NULL", "ukjent",
                                   "Ikke oppgitt", "unbekannt", "inconnu", "desconocido", "sconosciuto", "onbekend",
                                   "nieznany", "tuntematon", "okänd", "ismeretlen", "", "  "])
def test_placeholders(value: str) -> None:
    assert is_placeholder(value)
    assert real_value(value) is None


@pytest.mark.parametrize("value", ["Red Cross", "ABB", "NA-Group", "0301", "UiO", "Nonesuch Ltd"])
def test_real_values_are_not_placeholders(value: str) -> None:
    assert not is_placeholder(value)
    assert real_value(f" {value} ") == value


def test_the_placeholder_list_is_folded() -> None:
    from ecosystem.domain.text import fold
    assert all(fold(p) == p for p in PLACEHOLDERS)


def test_a_placeholder_short_name_joins_nothing() -> None:
    """The register's "unknown" in the short-name column: a patients' association, the Red Cross, a port
    authority and a company of one city were one organisation."""
    names = ["Norges Handikapforbund", "Norges Røde Kors", "Oslo Havn KF", "Havnelageret Eiendom AS"]
    orgs = [Organisation(id=f"r{k}", name=n, short_name="Ukjent", country="NO",
                         location=Location(country="NO", city="Oslo"), identifiers={"orgnr": "-"},
                         sources=[Provenance(source="register", file="r.csv", record=str(k), licence="CC-BY-4.0")])
            for k, n in enumerate(names)]
    records = [record_from_organisation(o) for o in orgs]
    assert all(not r.acronyms and not r.identifiers for r in records)
    result = resolve_entities(records)
    assert len({result.canonical[r.id] for r in records}) == 4


def test_placeholder_identifiers_join_nothing() -> None:
    a = rec("a", "Alpha Consulting", ids={"vat": "N/A", "pic": "unknown"}, city="Bergen")
    b = rec("b", "Beta Robotics", ids={"vat": "N/A", "pic": "unknown"}, city="Bergen")
    assert not resolve_entities([a, b]).same("a", "b")

