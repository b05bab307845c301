"""Helix classification: CORDIS activity types, evidence merging, overrides."""

from __future__ import annotations

import pytest

from ecosystem.domain.helix import (
    OVERRIDE_SOURCE,
    decide_helix,
    evidence_from_activity_type,
    merge_evidence,
)
from ecosystem.domain.models import Evidence, Helix


@pytest.mark.parametrize("code,helix", [("HES", Helix.ACADEMIA), ("REC", Helix.ACADEMIA), ("PRC", Helix.INDUSTRY),
                                        ("PUB", Helix.GOVERNMENT), ("OTH", Helix.CIVIL_SOCIETY)])
def test_each_cordis_activity_type_maps_to_its_helix(code: str, helix: Helix) -> None:
    assert decide_helix(evidence_from_activity_type(code)).value is helix


def test_a_repeated_type_is_one_type_with_full_confidence() -> None:
    single = decide_helix(evidence_from_activity_type("PRC"))
    doubled = decide_helix(evidence_from_activity_type("PRC;PRC"))
    assert doubled == single


def test_other_is_civil_society_at_lower_confidence() -> None:
    assert decide_helix(evidence_from_activity_type("OTH")).confidence < \
        decide_helix(evidence_from_activity_type("PUB")).confidence


def test_unknown_codes_and_empty_values_give_no_evidence() -> None:
    assert evidence_from_activity_type("XYZ") == []
    assert evidence_from_activity_type("") == []
    assert decide_helix([]).value is Helix.UNKNOWN


def test_mixed_types_lower_the_confidence_and_keep_all_evidence() -> None:
    result = decide_helix(evidence_from_activity_type("HES;PRC"))
    assert result.value is Helix.ACADEMIA
    assert result.confidence < decide_helix(evidence_from_activity_type("HES")).confidence
    assert {e.value for e in result.evidence} == {"HES", "PRC"}


def test_an_override_always_wins() -> None:
    evidence = evidence_from_activity_type("HES") + [
        Evidence(source=OVERRIDE_SOURCE, field="helix", value="civil_society", helix=Helix.CIVIL_SOCIETY,
                 confidence=0.1)]
    result = decide_helix(evidence)
    assert result.value is Helix.CIVIL_SOCIETY and result.confidence == 1.0


def test_merging_the_same_evidence_twice_changes_nothing() -> None:
    ev = evidence_from_activity_type("REC")
    assert merge_evidence(ev, ev) == ev
    assert decide_helix(merge_evidence(ev, ev)) == decide_helix(ev)


def test_agreeing_sources_raise_the_confidence() -> None:
    cordis = evidence_from_activity_type("PUB")
    register = [Evidence(source="register", field="type", value="Gemeinde", helix=Helix.GOVERNMENT, confidence=0.8)]
    assert decide_helix(cordis + register).confidence > decide_helix(cordis).confidence
