"""The message catalogues are complete in every language, and pages pick and write the language right."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from api.pages.i18n import LANGUAGES, Translator, catalogue, format_date, format_datetime, format_number, negotiate
from ecosystem.domain.models import HELICES, URBAN_RURAL, Degurba

API = Path(__file__).resolve().parents[2] / "api"
# t("key") or t('key') in templates and page code (dynamic keys are listed in DYNAMIC_KEYS)
KEY_USE = re.compile(r"""\bt\(\s*["']([A-Za-z0-9_.]+)["']""")
DYNAMIC_KEYS = ([f"helix.{h}" for h in HELICES] + [f"urban_rural.{u}" for u in URBAN_RURAL]
                + [f"degurba.{d.value}" for d in Degurba] + ["degurba.unknown", "role.unknown"]
                + [f"region.level_{n}" for n in range(4)] + [f"lang.{code}" for code in LANGUAGES]
                + [f"region.ei_{kind}" for kind in ("urban_rural", "helix")]
                + [f"region.ei_attr_{kind}" for kind in ("urban_rural", "helix")]
                + [f"date.month_{n}" for n in range(1, 13)])


def used_keys() -> set[str]:
    files = [*API.glob("templates/*.html"), *API.glob("pages/*.py")]
    return {key for f in files for key in KEY_USE.findall(f.read_text(encoding="utf-8"))}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_has_a_translation_in_every_language(lang: str) -> None:
    keys = {k for code in LANGUAGES for k in catalogue(code)}
    missing = sorted(k for k in keys if not catalogue(lang).get(k, "").strip())
    assert not missing, f"{lang} lacks translations for {missing}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_keep_the_placeholders_of_the_english_message(lang: str) -> None:
    wrong = [k for k, text in catalogue("en").items() if placeholders(catalogue(lang).get(k, "")) != placeholders(text)]
    assert not wrong, f"{lang} messages with other placeholders than English: {wrong}"


def test_templates_and_page_code_use_only_known_message_keys() -> None:
    known = set(catalogue("en"))
    assert used_keys(), "no message key found in the templates: the pattern is out of date"
    used = used_keys()
    prefixes = {k for k in used if k.endswith((".", "_"))}  # t("lang." ~ code): the full keys are in DYNAMIC_KEYS
    uncovered = sorted(p for p in prefixes if not any(k.startswith(p) for k in DYNAMIC_KEYS))
    assert not uncovered, f"dynamic message keys not listed in DYNAMIC_KEYS: {uncovered}"
    unknown = sorted((used - prefixes | set(DYNAMIC_KEYS)) - known)
    assert not unknown, f"message keys used but missing from the catalogues: {unknown}"


def test_templates_hold_no_words_outside_message_calls() -> None:
    """Text between tags is a message call, a value or punctuation, never a hard-coded word."""
    offenders = []
    for path in API.glob("templates/*.html"):
        text = re.sub(r"{%.*?%}|{{.*?}}|{#.*?#}", " ", path.read_text(encoding="utf-8"), flags=re.S)
        text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S)
        for chunk in re.sub(r"<[^>]*>", "\n", text).splitlines():
            if re.search(r"[A-Za-zÀ-ž]{2,}", chunk):
                offenders.append(f"{path.name}: {chunk.strip()}")
    assert not offenders, offenders


def test_the_language_comes_from_the_query_then_the_cookie_then_accept_language() -> None:
    assert negotiate("pl", "en", "en-GB") == "pl"
    assert negotiate(None, "pl", "en-GB,en;q=0.9") == "pl"
    assert negotiate("xx", None, "de-DE,pl;q=0.8,en;q=0.5") == "pl"
    assert negotiate(None, None, "en;q=0.3, pl-PL;q=0.7") == "pl"
    assert negotiate(None, None, "fr-FR, de") == "en"
    assert negotiate(None, None, None) == "en"


def test_numbers_are_written_the_way_each_language_writes_them() -> None:
    assert format_number(1234567.891, "en", 2) == "1,234,567.89"
    assert format_number(1234567.891, "pl", 2) == "1\u00a0234\u00a0567,89"
    assert format_number(1234, "pl") == "1234"  # Polish groups from five digits on
    assert format_number(1234, "en") == "1,234"
    assert format_number(-0.25, "pl", 2) == "−0,25"
    assert Translator("pl").pct(0.5) == "50\u00a0%"


def test_helix_and_urban_rural_names_are_translated() -> None:
    en, pl = Translator("en"), Translator("pl")
    assert en.helix("civil_society") == "civil society" and pl.helix("civil_society") == "społeczeństwo obywatelskie"
    assert pl.urban_rural("rural") == "przeważająco wiejski"
    assert pl.role("someNewRole") == "someNewRole"  # a role the catalogue does not know is shown as written


def test_dates_are_written_the_way_each_language_writes_them() -> None:
    """CLDR long dates and short times: en "December 3, 2026, 2:05 PM", pl "3 grudnia 2026, 14:05"."""
    assert format_date("2026-12-03", "en") == "December 3, 2026"
    assert format_date("2026-12-03", "pl") == "3 grudnia 2026"  # the month in the genitive, as CLDR writes it
    assert format_date("2015-05-01", "pl") == "1 maja 2015"
    assert format_datetime("2026-12-03T14:05:09Z", "en") == "December 3, 2026, 2:05\u202fPM UTC"
    assert format_datetime("2026-01-09T00:30:00Z", "en") == "January 9, 2026, 12:30\u202fAM UTC"
    assert format_datetime("2026-12-03T14:05:09Z", "pl") == "3 grudnia 2026, 14:05 UTC"
    assert format_date(None, "pl") == "–" and format_date("not a date", "en") == "not a date"
    assert Translator("pl").date("2020-02-29") == "29 lutego 2020"
