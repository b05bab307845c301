"""The profile page's partner finder writes every reason the recommender gives, in the page's language."""

from __future__ import annotations

from api.pages.i18n import Translator
from api.pages.words import partner_reasons


def test_the_country_pair_reason_is_a_sentence_in_each_language_with_its_number_written_there() -> None:
    cand = {"reason_data": {"country_affinity": {"countries": ["DE", "FR"], "times_expected": 2.4}}}
    en = [r["text"] for r in partner_reasons(Translator("en"), cand, {})]
    pl = [r["text"] for r in partner_reasons(Translator("pl"), cand, {})]
    assert en == ["Organisations in DE and FR work together often: 2.4 times as often as their numbers of partners "
                  "alone would give"]
    assert pl == ["Organizacje z DE i FR często współpracują: 2,4 razy częściej, niż wynikałoby z samej liczby ich "
                  "partnerów"]


def test_without_the_pair_no_country_sentence() -> None:
    assert partner_reasons(Translator("en"), {"reason_data": {"projects": 3}}, {})[0]["text"] == "3 projects in the data"
