"""The page "partners for an idea" through a real `helixmap serve` on the sample data: the form, ranked results
with their reasons and links, nothing asked, no match, bad input; in English and Polish, and in a real Chromium."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

GRAPHENE = "/partners?q=graphene&exclude={org}&k=5"


class Form(HTMLParser):
    """The ids of the form's fields and the targets of its labels."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, dict[str, str | None]] = {}
        self.labelled: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("input", "select") and a.get("id"):
            self.fields[a["id"] or ""] = a
        if tag == "label" and a.get("for"):
            self.labelled.add(a["for"] or "")


@pytest.fixture(scope="module")
def web(server: str):  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=server, timeout=120) as client:
        yield client


@pytest.fixture(scope="module")
def team(web: httpx.Client) -> str:
    """KOBENHAVNS UNIVERSITET: the consortium so far."""
    return str(web.get("/api/v1/organisations", params={"q": "kobenhavns universitet"}).json()["items"][0]["id"])


def get(web: httpx.Client, url: str, lang: str, status: int = 200) -> str:
    response = web.get(url + ("&" if "?" in url else "?") + f"lang={lang}")
    assert response.status_code == status, (url, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def get_json(web: httpx.Client, url: str) -> dict[str, Any]:
    response = web.get(url)
    assert response.status_code == 200, (url, response.status_code, response.text[:300])
    return dict(response.json())


def results(html: str) -> list[str]:
    """The ranked organisations' links, in order."""
    if 'class="suggestions idea-results"' not in html:
        return []
    listed = html.split('class="suggestions idea-results"', 1)[1].split("</ol>", 1)[0]
    return re.findall(r'<li><h3><a href="(/organisations/[^"]+)">', listed)


def test_nothing_asked_shows_the_labelled_form_and_says_what_to_give(web: httpx.Client) -> None:
    en = get(web, "/partners", "en")
    pl = get(web, "/partners", "pl")
    assert "Give a call topic, a programme part or keywords" in en and 'role="alert"' not in en
    assert "Podaj temat konkursu, część programu lub słowa kluczowe" in pl
    form = Form()
    form.feed(en)
    names = {f.get("name") for f in form.fields.values()}
    assert {"topic", "programme", "q", "helix", "urban_rural", "nuts", "exclude", "k"} <= names
    assert set(form.fields) <= form.labelled  # every field has its label
    programme = en.split('id="i-programme"', 1)[1].split("</select>", 1)[0]
    assert re.search(r'<option value="H2020">H2020 \(\d+ projects\)</option>', programme)  # what the store holds
    assert '<a href="/partners" aria-current="page">' in en  # in the site navigation
    home = get(web, "/", "en")
    assert 'href="/partners"' in home.split("<main", 1)[1]  # and on the home page


def entries(html: str) -> dict[str, str]:
    """Each ranked organisation's link -> the HTML of its entry (name, place, reasons)."""
    listed = html.split('class="suggestions idea-results"', 1)[1].split("</ol>", 1)[0]
    return {m.group(1): m.group(0) for m in re.finditer(r'<li><h3><a href="(/organisations/[^"]+)">.*?</ul>\s*</li>',
                                                       listed, flags=re.S)}


def test_an_idea_gives_ranked_organisations_with_reasons_and_links(web: httpx.Client) -> None:
    html = get(web, "/partners?q=graphene&k=5", "en")
    ranked = results(html)
    api = web.get("/api/v1/partners", params={"q": "graphene", "k": 5}).json()
    assert ranked and ranked == [f"/organisations/{i['id']}" for i in api["items"]]  # the service's order
    assert f"Projects matching the idea: {api['matched_projects']}." in html
    said = entries(html)
    for item in api["items"]:
        entry = said[f"/organisations/{item['id']}"]
        assert entry.count("<li>") >= 1 and re.search(r"score 0\.\d{3}", entry)
        if item["reason_data"]["counts"].get("matching_projects") == 1:
            assert "Took part in 1 project(s) matching the idea: GrapheneCore2" in entry
    assert "Took part in 1 project(s) matching the idea: GrapheneCore2" in html
    pl = get(web, "/partners?q=graphene&k=5", "pl")
    assert results(pl) == ranked
    assert "Uczestniczyła w projektach pasujących do pomysłu (1): GrapheneCore2" in pl and "wynik 0," in pl
    csv = web.get("/partners?q=graphene&k=5&csv=partners&lang=en").text.lstrip("\ufeff").splitlines()
    assert len(csv) == len(ranked) + 1 and csv[0].startswith("Id,Name,Helix") and "GrapheneCore2" in csv[1]


def test_the_consortium_is_never_suggested_named_back_and_its_partners_said(web: httpx.Client, team: str) -> None:
    html = get(web, GRAPHENE.format(org=team), "en")
    ranked = results(html)
    api = web.get("/api/v1/partners", params={"q": "graphene", "exclude": team, "k": 5}).json()
    assert ranked and ranked == [f"/organisations/{i['id']}" for i in api["items"]]
    assert f"/organisations/{team}" not in ranked
    assert f'<a href="/organisations/{team}">KOBENHAVNS UNIVERSITET</a>' in html.split("<form", 1)[1]
    said = entries(html)
    worked = [i for i in api["items"] if i["reason_data"]["ids"].get("team_partners") == [team]]
    assert worked  # the sample: KOBENHAVNS UNIVERSITET's partners are among the answers
    for item in worked:
        shared = item["reason_data"]["counts"]["projects_with_team"]
        assert (f"Has already worked with members of the consortium ({shared} shared project(s)): "
                f'<a href="/organisations/{team}">KOBENHAVNS UNIVERSITET</a>') in said[f"/organisations/{item['id']}"]
    pl = get(web, GRAPHENE.format(org=team), "pl")
    assert results(pl) == ranked and "Współpracowała już z członkami konsorcjum (wspólne projekty:" in pl


def test_a_programme_and_filters_narrow_the_answer(web: httpx.Client) -> None:
    html = get(web, "/partners?programme=H2020&helix=industry&k=10", "en")
    ranked = results(html)
    assert ranked
    listed = html.split('class="suggestions idea-results"', 1)[1].split("</ol>", 1)[0]
    assert listed.count('<p class="muted">industry · ') == len(ranked)
    assert '<option value="H2020" selected>' in html and '<option value="industry" selected>' in html


def test_an_idea_that_matches_nothing_says_so_with_the_services_notes(web: httpx.Client) -> None:
    html = get(web, "/partners?topic=NO-SUCH-TOPIC-2099", "en")
    assert not results(html) and "No organisation matches this idea" in html
    assert "Projects matching the idea: 0." in html and "NO-SUCH-TOPIC-2099" in html.split('class="notes"', 1)[1]
    pl = get(web, "/partners?topic=NO-SUCH-TOPIC-2099", "pl")
    notes = pl.split('class="notes"', 1)[1].split("</div>", 1)[0]
    assert "Żadna organizacja nie pasuje do tego pomysłu" in pl and 'lang="en"' not in notes  # the notes in Polish
    assert "Żaden zapisany projekt nie ma tematu konkursu „NO-SUCH-TOPIC-2099”" in notes
    api = get_json(web, "/api/v1/partners?topic=NO-SUCH-TOPIC-2099")
    assert [n["code"] for n in api["note_data"]] == ["topic_none"] and api["notes"][0] == api["note_data"][0]["text"]


@pytest.mark.parametrize(("query", "field", "en", "pl"), [
    ("helix=wizards&q=graphene", "helix", "“wizards” is not a valid value for Helix.", "„wizards” nie jest poprawną"),
    ("q=graphene&exclude=no-such-org", "exclude", "No organisation has the id “no-such-org”.",
     "Żadna organizacja nie ma identyfikatora „no-such-org”."),
    ("q=graphene&nuts=ZZ9", "nuts", "“ZZ9” is not a valid value for Region (NUTS code or country).", "„ZZ9”"),
    ("q=graphene&k=500", "k", "“500” is not a valid value for Number of results.", "Liczba wyników"),
    ("helix=academia", "topic", "Say what the idea is about", "Napisz, czego dotyczy pomysł"),
])
def test_bad_input_gives_422_and_the_message_next_to_its_field(web: httpx.Client, query: str, field: str, en: str,
                                                              pl: str) -> None:
    html = get(web, f"/partners?{query}", "en", status=422)
    assert 'role="alert"' in html and not results(html)
    assert f'aria-invalid="true" aria-describedby="e-{field}"' in html
    beside = html.split(f'<p class="field-error" id="e-{field}">', 1)[1].split("</p>", 1)[0]
    assert en in beside
    assert pl in get(web, f"/partners?{query}", "pl", status=422)


def test_a_profile_leads_to_the_page_with_the_organisation_in_the_consortium(web: httpx.Client, team: str) -> None:
    profile = get(web, f"/organisations/{team}", "en")
    assert f'href="/partners?exclude={team}"' in profile
    html = get(web, f"/partners?exclude={team}", "en")  # the form with the consortium filled in, no idea yet
    assert f'value="{team}"' in html and "KOBENHAVNS UNIVERSITET" in html and 'role="alert"' not in html
    assert "Give a call topic, a programme part or keywords" in html


def settle(tab: Any, expression: str, timeout: float = 60) -> Any:
    """Wait until `expression` is truthy across a page load: an evaluation the navigation cuts off is tried again."""
    from tests.browser import BrowserError

    deadline = time.monotonic() + timeout
    while True:
        try:
            return tab.wait(expression, timeout=max(1.0, deadline - time.monotonic()))
        except BrowserError as exc:
            cut_off = "navigated or closed" in str(exc) or "context" in str(exc).lower()
            if not cut_off or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "pl"])
def test_a_person_fills_the_form_and_follows_a_suggestion(server: str, chromium: str, team: str, lang: str) -> None:
    from tests import browser

    with browser.Chromium(chromium, window_size=(1200, 900)) as tab:
        tab.open(f"{server}/partners?lang={lang}", wait_for="!!document.getElementById('i-q')")
        for field, text in (("i-q", "graphene"), ("i-exclude", team)):
            tab.evaluate(f"document.getElementById('{field}').focus()")
            tab.call("Input.insertText", {"text": text}, session=True)
        tab.evaluate("document.getElementById('i-k').value = '5'")
        tab.evaluate("setTimeout(() => document.querySelector('.idea-form button[type=submit]').click(), 0)")
        settle(tab, "location.pathname === '/partners' && location.search.includes('q=graphene') "
                    "&& document.readyState === 'complete' && !!document.querySelector('.idea-results')")
        assert tab.evaluate("document.documentElement.lang") == lang  # the chosen language stays
        query = tab.evaluate("location.search")
        assert f"exclude={team}" in query and "k=5" in query  # a URL to share
        rows = tab.evaluate("""[...document.querySelectorAll('.idea-results > li')].map(li => ({
            href: li.querySelector('h3 a').getAttribute('href'),
            reasons: [...li.querySelectorAll('.reasons li')].map(r => r.textContent.trim())}))""")
        api = httpx.get(f"{server}/api/v1/partners", params={"q": "graphene", "exclude": team, "k": 5}).json()
        assert [r["href"] for r in rows] == [f"/organisations/{i['id']}" for i in api["items"]]  # ranked as asked
        assert 1 <= len(rows) <= 5 and all(r["reasons"] for r in rows)
        assert f"/organisations/{team}" not in [r["href"] for r in rows]
        said = "Has already worked with members" if lang == "en" else "Współpracowała już z członkami konsorcjum"
        assert any(said in reason and "KOBENHAVNS UNIVERSITET" in reason for r in rows for reason in r["reasons"])
        tab.evaluate("setTimeout(() => document.querySelector('.idea-results h3 a').click(), 0)")
        settle(tab, f"location.pathname === '{rows[0]['href']}' && document.readyState === 'complete' "
                    "&& !!document.getElementById('h-finder')")
        assert tab.evaluate("document.querySelector('h1').textContent.trim()")  # the suggested organisation's profile
        assert not tab.errors, tab.errors
