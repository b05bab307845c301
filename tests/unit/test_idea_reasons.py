"""The reasons of "partners for an idea" said in the page language, from the service's `reason_data`."""

from __future__ import annotations

import re
from typing import Any

from api.pages.i18n import Translator
from api.pages.ideas import idea_reasons


def item(**data: Any) -> dict[str, Any]:
    return {"id": "1", "helix": "civil_society", "components": {"helix": 1.0}, "reasons": ["In English."],
            "reason_data": data}


def test_reasons_are_sentences_in_the_page_language_naming_the_consortium() -> None:
    found = item(ids={"team_partners": ["7"]}, counts={"matching_projects": 4, "recent_matching_projects": 2,
                                                       "projects_with_team": 3})
    en = idea_reasons(Translator("en"), None, found, {"7": "GMINA X"}, {})  # type: ignore[arg-type]
    pl = idea_reasons(Translator("pl"), None, found, {"7": "GMINA X"}, {})  # type: ignore[arg-type]
    assert [r["text"] for r in en] == [
        "Took part in 4 project(s) matching the idea:", "Active in the theme lately: 2 of these projects started "
        "in the latest years of the data.", "Has already worked with members of the consortium (3 shared project(s)):",
        "Brings the civil society helix, which the consortium does not have yet."]
    assert en[0]["more"] == "" and pl[0]["text"] == "Uczestniczyła w projektach pasujących do pomysłu (4):"
    assert en[2]["links"] == [{"id": "7", "name": "GMINA X"}] and not any(r["lang"] for r in en)
    assert pl[3]["text"] == "Wnosi helisę „społeczeństwo obywatelskie”, której konsorcjum jeszcze nie ma."


def test_partners_of_the_consortium_are_named_with_how_many_more() -> None:
    found = item(ids={"via": ["7", "8"]}, counts={"shared_partners": 5})
    found["components"] = {"helix": 0.3}
    said = idea_reasons(Translator("en"), None, found, {"7": "A", "8": "B"}, {})  # type: ignore[arg-type]
    assert said == [{"text": "Works with partners of the consortium:", "links": [{"id": "7", "name": "A"},
                                                                               {"id": "8", "name": "B"}],
                     "more": "and 3 more", "lang": ""}]


def test_a_reason_these_sentences_do_not_know_is_shown_in_the_services_words() -> None:
    found = item()
    found["components"] = {}
    assert idea_reasons(Translator("pl"), None, found, {}, {}) == [  # type: ignore[arg-type]
        {"text": "In English.", "links": [], "more": "", "lang": "en"}]


def test_every_note_the_finder_can_give_is_said_in_both_languages_with_its_values() -> None:
    import inspect
    import string

    from api.pages.i18n import catalogue
    from api.pages.ideas import note_sentence
    from ecosystem.analysis import ideas

    codes = set(re.findall(r'Note\("(\w+)"', inspect.getsource(ideas)))
    assert len(codes) >= 10
    for code in codes:
        for lang in ("en", "pl"):
            message = catalogue(lang).get(f"idea.note.{code}")
            assert message, (code, lang)
            fields = {name for _, name, _, _ in string.Formatter().parse(message) if name}
            values = {name: "X" for name in fields}
            said = note_sentence(Translator(lang), {"code": code, "values": values, "text": "english"})
            assert said["lang"] == lang
            assert said["text"] == message.format(**values)
    unknown = note_sentence(Translator("pl"), {"code": "new_kind", "values": {}, "text": "In English."})
    assert unknown == {"text": "In English.", "lang": "en"}
