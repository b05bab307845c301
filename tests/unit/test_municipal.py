"""Public bodies that are a municipality's government are found in names of many languages."""

from __future__ import annotations

import pytest

from ecosystem.domain.models import (
    Evidence,
    Helix,
    HelixAssignment,
    Location,
    Municipality,
    Organisation,
)
from ecosystem.domain.municipalities import (
    MunicipalityMatcher,
    link_municipality,
    municipality_name_in,
)


@pytest.mark.parametrize("name,expected", [
    ("COMUNE DI PRATO", "prato"), ("AYUNTAMIENTO DE VIGO", "vigo"), ("GEMEENTE HELMOND", "helmond"),
    ("AARHUS KOMMUNE", "aarhus"), ("MESTO NITRA", "nitra"), ("COMMUNE D'AVIGNON", "avignon"),
    ("FREIE UND HANSESTADT HAMBURG", "hamburg"), ("CAMARA MUNICIPAL DE LISBOA", "lisboa"),
    ("Newcastle City Council", "newcastle"), ("Miasto Łódź", "lodz"),
])
def test_the_municipality_is_read_out_of_a_public_bodys_name(name: str, expected: str) -> None:
    assert municipality_name_in(name) == expected


@pytest.mark.parametrize("name", ["LANCASHIRE COUNTY COUNCIL", "Provincie Zuid-Holland", "REGION DE MURCIA",
                                  "MINISTERIO DEL INTERIOR", "DIPUTACION FORAL DE BIZKAIA"])
def test_counties_provinces_regions_and_ministries_are_not_municipalities(name: str) -> None:
    assert municipality_name_in(name) is None


def _org(name: str, country: str, nuts3: str | None = None, helix: Helix = Helix.GOVERNMENT) -> Organisation:
    return Organisation(id="1", name=name, country=country,
                        helix=HelixAssignment(value=helix, confidence=0.9, evidence=[
                            Evidence(source="cordis", field="activityType", value="PUB", helix=helix,
                                     confidence=0.9)]),
                        location=Location(country=country, nuts3=nuts3))


MUNICIPALITIES = [
    Municipality(country="ES", lau_code="28079", name="Madrid", nuts3="ES300", nuts3_source_version="2021",
                 population=3266126),
    Municipality(country="ES", lau_code="28127", name="Rozas de Madrid, Las", nuts3="ES300",
                 nuts3_source_version="2021", population=95550),
    Municipality(country="SE", lau_code="0980", name="Gotland", nuts3="SE214", nuts3_source_version="2021"),
    Municipality(country="XX", lau_code="1", name="Springfield", nuts3="XX001", nuts3_source_version="2021",
                 population=10),
    Municipality(country="XX", lau_code="2", name="Springfield", nuts3="XX002", nuts3_source_version="2021",
                 population=99),
]


def test_a_municipal_government_is_linked_with_evidence_and_a_tag() -> None:
    org = link_municipality(_org("AYUNTAMIENTO DE MADRID", "ES"), MunicipalityMatcher(MUNICIPALITIES))
    assert org.identifiers["lau"] == "ES:28079"
    assert "municipal government" in org.tags
    assert any(e.source == "helixmap-municipal" and "Madrid" in e.value for e in org.helix.evidence)


def test_a_name_with_its_article_after_a_comma_matches() -> None:
    org = link_municipality(_org("Ayuntamiento de Las Rozas de Madrid", "ES"), MunicipalityMatcher(MUNICIPALITIES))
    assert org.identifiers["lau"] == "ES:28127"


def test_a_swedish_genitive_matches() -> None:
    assert link_municipality(_org("GOTLANDS KOMMUN", "SE"), MunicipalityMatcher(MUNICIPALITIES)).identifiers["lau"] \
        == "SE:0980"


def test_the_organisations_own_region_decides_between_namesakes() -> None:
    matcher = MunicipalityMatcher(MUNICIPALITIES)
    assert link_municipality(_org("City of Springfield", "XX", "XX001"), matcher).identifiers["lau"] == "XX:1"
    assert link_municipality(_org("City of Springfield", "XX"), matcher).identifiers["lau"] == "XX:2"


def test_only_government_bodies_are_linked_and_linking_twice_changes_nothing() -> None:
    matcher = MunicipalityMatcher(MUNICIPALITIES)
    company = _org("Stadt Madrid GmbH", "ES", helix=Helix.INDUSTRY)
    assert link_municipality(company, matcher) is company
    once = link_municipality(_org("AYUNTAMIENTO DE MADRID", "ES"), matcher)
    assert link_municipality(once, matcher) is once


# -- municipality codes: padded to the LAU width of their country ----------------------------------------------

@pytest.mark.parametrize("code,width,forms", [
    ("301", 4, ["301", "0301"]),            # Oslo's code written without its leading zero
    ("0301", 4, ["0301", "301"]),
    ("0091", 3, ["0091", "091", "91"]),
    ("91", 3, ["91", "091"]),               # Helsinki
    ("2A004", 5, ["2A004"]),                # Corsica: letters are never padded
    ("21001", 5, ["21001"]),
    ("7", None, ["7"]),
])
def test_municipality_code_forms(code: str, width: int | None, forms: list[str]) -> None:
    from ecosystem.domain.municipalities import lau_code_forms
    assert lau_code_forms(code, width) == forms


def test_a_short_municipality_code_finds_the_padded_lau_code() -> None:
    """`91` is Helsinki's LAU code `091` (the width of Finland's codes is three): the source dropped the zero."""
    from ecosystem.domain.location import LocationResolver
    from ecosystem.domain.models import Region
    regions = [Region(nuts_id="FI", level=0, country="FI"), Region(nuts_id="FI1B1", level=3, country="FI")]
    laus = [Municipality(country="FI", lau_code="091", name="Helsinki", nuts3="FI1B1", nuts3_source_version="2021"),
            Municipality(country="FI", lau_code="049", name="Espoo", nuts3="FI1B1", nuts3_source_version="2021")]
    resolver = LocationResolver(regions, [], laus, [], lambda country, postcode: None)
    for code in ("91", "091", "0091"):
        loc = resolver.resolve(Location(country="FI", municipality_code=code))
        assert (loc.nuts3, loc.lau_code) == ("FI1B1", "091"), code
    unknown = resolver.resolve(Location(country="FI", municipality_code="92"))
    assert unknown.nuts3 is None
