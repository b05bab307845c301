"""`ecosystem.text.fold`: the transliterated form used for search indexing and city-name matching."""

from __future__ import annotations

import csv
import gzip
import json
import re
from pathlib import Path

import pytest

from ecosystem.domain.text import fold

PLAIN = re.compile(r"[a-z0-9]+( [a-z0-9]+)*")


def test_kobenhavns_folds_to_kobenhavns() -> None:
    assert fold("KØBENHAVNS UNIVERSITET") == "kobenhavns universitet"
    assert fold("KØBENHAVNS") == fold("kobenhavns") == "kobenhavns"


def test_lodzka_folds_to_lodzka() -> None:
    assert fold("Łódzka") == "lodzka"
    assert fold("Politechnika Łódzka") == "politechnika lodzka"


@pytest.mark.parametrize(("text", "folded"), [
    ("ø", "o"), ("ł", "l"), ("Straße", "strasse"), ("æ", "ae"), ("Œuvre", "oeuvre"), ("Đakovo", "dakovo"),
    ("ħ", "h"), ("Diyarbakır", "diyarbakir"), ("Þórshöfn", "thorshofn"), ("ð", "d"), ("İstanbul", "istanbul"),
])
def test_letters_that_are_not_accented_forms_are_transliterated(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_accents_are_removed_and_case_is_lowered() -> None:
    assert fold("TALLINNA TEHNIKAÜLIKOOL") == "tallinna tehnikaulikool"
    assert fold("Česká zemědělská univerzita") == "ceska zemedelska univerzita"
    assert fold("Universität Zürich") == "universitat zurich"


def test_punctuation_becomes_spaces_and_whitespace_collapses() -> None:
    assert fold("Agència Catalana de l'Aigua") == "agencia catalana de l aigua"
    assert fold("  FRAUNHOFER-GESELLSCHAFT  zur   Förderung (e.V.) ") == "fraunhofer gesellschaft zur forderung e v"
    assert fold("col·legi") == "collegi"


def test_greek_and_cyrillic_get_a_basic_transliteration() -> None:
    assert fold("ΑΘΗΝΑ") == fold("Αθήνα") == "athina"
    assert fold("ΠΑΝΕΠΙΣΤΗΜΙΟ ΠΑΤΡΩΝ") == "panepistimio patron"
    assert fold("Москва") == "moskva"
    assert fold("София") == "sofiya"


def test_nothing_folds_to_an_empty_string() -> None:
    assert fold("") == ""
    assert fold(None) == ""
    assert fold(" -- ") == ""


def test_every_cordis_organisation_name_folds_to_plain_words_idempotently(data_dir: Path) -> None:
    with (data_dir / "cordis" / "h2020_organization_sample.csv").open(encoding="utf-8") as fh:
        names = [row["name"] for row in csv.DictReader(fh)]
    names += [row["name"] for row in json.loads((data_dir / "cordis" / "json" / "organization.json").read_text())]
    assert len(names) > 4000
    for name in names:
        folded = fold(name)
        assert PLAIN.fullmatch(folded), (name, folded)
        assert fold(folded) == folded


def test_folding_the_hundred_thousand_municipality_names_gives_their_plain_forms(data_dir: Path) -> None:
    with gzip.open(data_dir / "regions" / "lau2019_degurba.csv.gz", "rt", encoding="utf-8") as fh:
        names = [row["lau_name_national"] for row in csv.DictReader(fh)]
    assert len(names) > 99_000
    folded = [fold(n) for n in names]
    assert "kobenhavn" in folded and "lodz" in folded and "munchen landeshauptstadt" in folded
