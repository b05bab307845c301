"""The pages for people through a real `helixmap serve` process on the real sample data, in English and Polish."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import require

# a page may name external sites in text and links to sources, never load a resource from one
EXTERNAL_RESOURCE = re.compile(r"""<(?:script|link|img|source|iframe)\b[^>]*?(?:src|href)=["']?(?:https?:)?//""", re.I)
PL_MONTHS = ("stycznia|lutego|marca|kwietnia|maja|czerwca|lipca|sierpnia|września|października|listopada|"
             "grudnia")
CSS_URL = re.compile(r"""url\(\s*["']?(?:https?:)?//""", re.I)


class Links(HTMLParser):
    """The hrefs and resource URLs of a page, and its <html lang>."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.resources: list[str] = []
        self.lang: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"] or "")
        if tag in ("script", "img") and a.get("src"):
            self.resources.append(a["src"] or "")
        if tag == "link" and a.get("href"):
            self.resources.append(a["href"] or "")


def parse(html: str) -> Links:
    links = Links()
    links.feed(html)
    return links


@pytest.fixture(scope="module")
def web(server: str):  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=server, timeout=120) as client:
        yield client


def page(web: httpx.Client, url: str, lang: str = "en", status: int = 200) -> tuple[str, Links]:
    response = web.get(url + (("&" if "?" in url else "?") + f"lang={lang}" if lang else ""))
    assert response.status_code == status, (url, response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("text/html")
    links = parse(response.text)
    if lang:
        assert links.lang == lang
    return response.text, links


def first(links: Links, prefix: str, skip: str | None = None) -> str:
    found = [h for h in links.hrefs if h.startswith(prefix) and h != skip and not h.startswith(prefix + "?")]
    assert found, f"no link starting with {prefix}"
    return found[0]


def test_home_shows_counts_entry_points_and_sources_in_english_and_polish(web: httpx.Client) -> None:
    stats = web.get("/api/v1/stats").json()
    en, en_links = page(web, "/", "en")
    pl, _ = page(web, "/", "pl")
    assert "civil society" in en and "społeczeństwo obywatelskie" in pl
    assert "predominantly rural" in en and "przeważająco wiejski" in pl
    assert f"{stats['organisations']:,}" in en  # 2,799 in English ...
    assert f"{stats['organisations']:,}".replace(",", "") in pl  # ... 2799 in Polish (grouped from 5 digits)
    for words in ("CORDIS © European Union, CC BY 4.0", "EuroGeographics", "ROR", "CC0", "GeoNames, CC BY 4.0"):
        assert words in en
    for target in ("/search", "/clusters", "/maps/network", "/docs"):
        assert any(h.startswith(target) for h in en_links.hrefs), target
    assert any(re.fullmatch(r"/regions/[A-Z]{2}", h) for h in en_links.hrefs)
    assert 'role="search"' in en and 'class="skip"' in en and "<main" in en and "<footer" in en
    # the data version's time in the footer, written the way each language writes dates (CLDR)
    assert re.search(r"last changed [A-Z][a-z]+ \d{1,2}, 20\d\d, \d{1,2}:\d\d\u202f[AP]M UTC", en)
    assert re.search(rf"ostatnia zmiana \d{{1,2}} ({PL_MONTHS}) 20\d\d, \d\d:\d\d UTC", pl)


def test_the_language_follows_the_query_then_the_cookie_then_accept_language(server: str) -> None:
    with httpx.Client(base_url=server, timeout=60) as browser:
        assert parse(browser.get("/", headers={"Accept-Language": "pl-PL,pl;q=0.9"}).text).lang == "pl"
        assert parse(browser.get("/clusters", params={"lang": "en"},
                                 headers={"Accept-Language": "pl"}).text).lang == "en"
        assert parse(browser.get("/clusters", headers={"Accept-Language": "pl"}).text).lang == "en"  # the cookie
        browser.get("/", params={"lang": "pl"})
        assert parse(browser.get("/search").text).lang == "pl"


def test_search_leads_to_a_profile_and_a_suggested_partner_to_its_own_profile(web: httpx.Client) -> None:
    html, links = page(web, "/search?q=kobenhavns+universitet", "en")
    assert "KOBENHAVNS UNIVERSITET" in html and "academia" in html
    profile_url = first(links, "/organisations/")
    profile, profile_links = page(web, profile_url, "pl")
    for words in ("nauka", "95\u00a0%", "activityType", "DK011", "przeważająco miejski", "miasto",
                  "Wyszukiwarka partnerów", "Współpracuje z Twoimi partnerami", "CC BY 4.0"):
        assert words in profile, words
    assert "koordynator" in profile  # project roles, translated
    suggested = [h for h in profile_links.hrefs if h.startswith("/organisations/") and h != profile_url]
    assert suggested
    partner, _ = page(web, suggested[0], "en")
    assert "Partner finder" in partner


def test_a_profile_draws_its_own_network_with_links_to_the_partners_it_lists(web: httpx.Client) -> None:
    org = web.get("/api/v1/organisations", params={"q": "kobenhavns universitet"}).json()["items"][0]["id"]
    html, _ = page(web, f"/organisations/{org}", "en")
    svg = html.split('<svg class="ego"', 1)[1].split("</svg>", 1)[0]
    drawn = re.findall(r'<a href="(/organisations/[^"]+)" aria-label="([^"]+)"', svg)
    assert len(drawn) == 12
    table = html.split('id="h-partners"', 1)[1].split("</table>", 1)[0]
    assert all(f'href="{href}"' in table for href, _ in drawn)  # the table is the map's text alternative
    assert all(re.search(r": (academia|industry|government|civil society|unknown helix), ", label) for _, label in drawn)
    assert "The organisation (in the middle)" in html and "predominantly rural" in html.split("<figcaption>")[1]
    pl, _ = page(web, f"/organisations/{org}", "pl")
    assert "najsilniejsi partnerzy" in pl
    partner, _ = page(web, drawn[0][0], "en")
    assert "Partner finder" in partner


def test_project_dates_are_written_the_way_each_language_writes_dates(web: httpx.Client) -> None:
    dated = None
    for item in web.get("/api/v1/organisations", params={"limit": 200}).json()["items"]:
        projects = web.get(f"/api/v1/organisations/{item['id']}").json()["projects"]
        dated = next((p for p in projects if p.get("start_date") and p.get("end_date")), None)
        if dated:
            break
    assert dated, "the sample holds projects with dates (the CORDIS JSON export)"
    start = date.fromisoformat(dated["start_date"])
    en, _ = page(web, f"/organisations/{item['id']}", "en")
    pl, _ = page(web, f"/organisations/{item['id']}", "pl")
    assert f"{start:%B} {start.day}, {start.year} – " in en
    assert re.search(rf"{start.day} ({PL_MONTHS}) {start.year} – \d{{1,2}} ({PL_MONTHS}) 20\d\d", pl)


def test_the_partner_finder_filters_and_says_why(web: httpx.Client) -> None:
    org = web.get("/api/v1/organisations", params={"q": "kobenhavns universitet"}).json()["items"][0]["id"]
    html, _ = page(web, f"/organisations/{org}?helix=civil_society&favour_rural_civil=true&exclude_hubs=true", "en")
    suggestions = html.split('class="suggestions"', 1)[1].split("</ol>", 1)[0]
    assert suggestions.count("<li><h3>") >= 1
    assert suggestions.count("civil society") >= suggestions.count("<li><h3>")
    assert "Brings the civil society helix" in suggestions
    assert "Left out as hubs: the " in html and " or more partners" in html


def test_a_bad_filter_value_gives_the_page_with_a_message(web: httpx.Client) -> None:
    html, _ = page(web, "/search?helix=wizards&nuts=ZZ9&page=minus&country=DE", "en")
    assert 'role="alert"' in html and "“wizards” is not a valid value for helix" in html and "ZZ9" in html
    assert "organisations found" in html
    org = web.get("/api/v1/organisations", params={"country": "DE"}).json()["items"][0]["id"]
    html, _ = page(web, f"/organisations/{org}?urban_rural=moon", "pl")
    assert "„moon” nie jest poprawną wartością" in html


def test_names_and_queries_are_escaped(web: httpx.Client) -> None:
    html, _ = page(web, "/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "en")
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def test_a_region_page_of_any_level_reads_its_ecosystem_and_leads_to_an_organisation(web: httpx.Client) -> None:
    for code in ("DK", "DK0", "DK01", "DK011"):
        html, links = page(web, f"/regions/{code}", "en")
        assert "E-I index" in html and "Helix synergy" in html and "Bridge organisations" in html
        assert "predominantly urban" in html and "%" in html
        assert f"/maps/network?nuts={code}" in html
    pl, links = page(web, "/regions/DK01", "pl")
    assert "Hovedstaden" in pl and "Organizacje pomostowe" in pl and "Indeks E-I" in pl
    member, _ = page(web, first(links, "/organisations/"), "en")
    assert "Partner finder" in member


def test_a_region_page_lists_its_sub_regions_with_their_numbers_and_links_to_them(web: httpx.Client) -> None:
    _, links = page(web, "/regions/DK", "en")
    assert "/regions/DK0" in links.hrefs  # a country's sub-regions are its NUTS 1 regions
    html, links = page(web, "/regions/DK01", "en")
    subs = html.split('id="h-subs"', 1)[1].split("</table>", 1)[0]
    codes = re.findall(r'href="/regions/(DK01\d)"', subs)
    assert codes and all(len(c) == 5 for c in codes)
    api = web.get(f"/api/v1/regions/{codes[0]}").json()
    row = subs.split(f'href="/regions/{codes[0]}"', 1)[1].split("</tr>", 1)[0]
    cells = re.findall(r'<td class="num">([^<]*)</td>', row)
    assert cells[0] == f"{api['organisations']:,}"  # organisations, then by helix
    assert cells[1:5] == [f"{api['helix'][h]:,}" for h in ("academia", "industry", "government", "civil_society")]
    csv = web.get("/regions/DK01?csv=sub_regions").text.lstrip("\ufeff").splitlines()
    assert {line.split(",")[0] for line in csv[1:]} >= set(codes)
    sub, _ = page(web, f"/regions/{codes[0]}", "pl")
    assert "NUTS 3 to najmniejszy poziom regionów" in sub


def test_a_region_missing_a_helix_says_so(web: httpx.Client) -> None:
    body = web.get("/api/v1/regions/DK011").json()
    missing = [h for h in ("academia", "industry", "government", "civil_society") if not body["helix"][h]]
    html, _ = page(web, "/regions/DK011", "en")
    for helix in missing:
        assert f"No {helix.replace('_', ' ')} organisation here takes part in any project." in html


def test_clusters_lead_to_a_cluster_and_a_cluster_to_its_members(web: httpx.Client) -> None:
    html, links = page(web, "/clusters", "pl")
    assert "Klastry" in html and "modularność" in html
    assert "Stabilność podziału na klastry" in html and re.search(r"indeks Randa średnio -?\d,\d\d", html)
    cluster_url = first(links, "/clusters/")
    cluster, cluster_links = page(web, cluster_url, "en")
    assert "Most connected members" in cluster
    assert re.search(r"adjusted Rand index -?\d\.\d\d on average", cluster)
    member, _ = page(web, first(cluster_links, "/organisations/"), "en")
    assert "Partner finder" in member


@pytest.mark.parametrize(("url", "words"), [("/organisations/no-such-org", "Nie ma organizacji"),
                                            ("/regions/ZZ9", "Nie ma regionu"),
                                            ("/regions/not-a-code", "Nie ma regionu"),
                                            ("/clusters/99999", "Nie ma klastra")])
def test_unknown_things_get_a_404_page_in_the_chosen_language_with_a_search_box(web: httpx.Client, url: str,
                                                                                words: str) -> None:
    html, _ = page(web, url, "pl", status=404)
    assert words in html and 'role="search"' in html and 'name="q"' in html
    assert web.get("/api/v1/organisations/no-such-org").headers["content-type"] == "application/json"


@pytest.mark.parametrize("url", ["/", "/search?q=universit", "/regions/DK01", "/clusters", "/clusters/1",
                                 "/organisations/no-such-org", "/docs", "/redoc", "/partners?q=graphene"])
def test_no_page_loads_anything_from_outside_the_server(web: httpx.Client, url: str) -> None:
    response = web.get(url)
    assert response.status_code in (200, 404)
    assert not EXTERNAL_RESOURCE.findall(response.text), url
    for resource in parse(response.text).resources:
        assert not urlsplit(resource).netloc, resource
        asset = web.get(resource)
        assert asset.status_code == 200, resource
        if resource.endswith(".css"):
            assert not CSS_URL.findall(asset.text), resource


def test_docs_and_redoc_are_served_from_the_package(web: httpx.Client) -> None:
    docs = web.get("/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs and "/openapi.json" in docs
    assert "/static/vendor/redoc/redoc.standalone.js" in web.get("/redoc").text
    assert "Apache License" in web.get("/static/vendor/swagger-ui/LICENSE").text
    assert "MIT" in web.get("/static/vendor/redoc/LICENSE").text


@pytest.mark.parametrize("url", ["/", "/search?q=universit", "/regions/DK01", "/clusters", "/clusters/1"])
def test_every_table_on_a_page_downloads_as_csv(web: httpx.Client, url: str) -> None:
    html, links = page(web, url, "pl")
    csv_links = [h for h in links.hrefs if "csv=" in h]
    assert len(csv_links) == html.count("</table>")
    for href in csv_links:
        response = web.get(href.replace("&amp;", "&"))
        assert response.headers["content-type"].startswith("text/csv"), href
        header = response.text.lstrip("\ufeff").splitlines()[0]
        assert header and "<" not in header


def test_a_profile_downloads_its_projects_partners_and_suggestions(web: httpx.Client) -> None:
    org = web.get("/api/v1/organisations", params={"q": "kobenhavns universitet"}).json()["items"][0]["id"]
    _, links = page(web, f"/organisations/{org}", "en")
    tables = {h.split("csv=")[1] for h in links.hrefs if "csv=" in h}
    assert tables == {"projects", "partners", "suggestions"}
    suggestions = web.get(f"/organisations/{org}?csv=suggestions").text
    assert suggestions.startswith("\ufeffId,Name,Helix") and "Works with" in suggestions


# -- in a real headless Chromium: axe-core, requests, keyboard and phone width -------------------------------

AXE_VERSION = "4.10.3"
AXE_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "axe"  # git-ignored; filled by the test run
PAGE_TYPES = ("/", "/search?q=universit", "/search?helix=wizards&page=minus", "/organisations/{org}",
              "/organisations/{org}?urban_rural=moon", "/regions/DK", "/regions/DK01", "/regions/DK011", "/clusters",
              "/clusters/1", "/organisations/no-such-org", "/partners", "/partners?q=graphene&exclude={org}",
              "/partners?helix=wizards&q=graphene")
AXE_RUN = """axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
  .then(r => r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')))"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe-core from npm, installed at test time into test-artifacts/axe."""
    script = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        require(npm is not None, "npm is needed to install axe-core for the accessibility test (apt-get install npm)")
        assert npm is not None
        AXE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(AXE_DIR),
                        f"axe-core@{AXE_VERSION}"], check=True, capture_output=True, timeout=300)
    return script.read_text(encoding="utf-8")


def page_urls(web: httpx.Client) -> list[str]:
    org = web.get("/api/v1/organisations", params={"q": "kobenhavns universitet"}).json()["items"][0]["id"]
    return [u.format(org=org) for u in PAGE_TYPES]


@pytest.mark.browser
@pytest.mark.parametrize(("lang", "width"), [("en", 1440), ("pl", 1440), ("en", 390), ("pl", 390)])
def test_axe_core_finds_no_serious_violation_and_no_request_leaves_the_server(
        server: str, web: httpx.Client, chromium: str, axe_source: str, lang: str, width: int) -> None:
    from tests import browser

    with browser.Chromium(chromium, window_size=(width, 900)) as tab:
        tab.call("Network.enable", session=True)
        for url in page_urls(web):
            sep = "&" if "?" in url else "?"
            tab.open(f"{server}{url}{sep}lang={lang}")
            assert tab.evaluate("document.documentElement.lang") == lang
            tab.evaluate(axe_source)
            violations = tab.evaluate(AXE_RUN)
            assert violations == [], (url, violations)
        requested = {e["params"]["request"]["url"] for e in tab._events
                     if e.get("method") == "Network.requestWillBeSent"}
        assert requested and all(u.startswith(server) for u in requested), sorted(requested)
        # the one 404 is the not-found page visited on purpose, the one 422 the bad input given on purpose
        assert not [e for e in tab.errors if "status of 404" not in e and "status of 422" not in e], tab.errors


@pytest.mark.browser
def test_pages_fit_a_phone_and_the_skip_link_comes_first_for_the_keyboard(server: str, web: httpx.Client,
                                                                          chromium: str) -> None:
    from tests import browser

    with browser.Chromium(chromium, window_size=(390, 844)) as tab:
        for url in page_urls(web):
            tab.open(f"{server}{url}")
            overflow = tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, (url, overflow)
        tab.open(f"{server}/")
        tab.call("Input.dispatchKeyEvent", {"type": "keyDown", "key": "Tab", "code": "Tab",
                                            "windowsVirtualKeyCode": 9}, session=True)
        tab.call("Input.dispatchKeyEvent", {"type": "keyUp", "key": "Tab", "code": "Tab",
                                            "windowsVirtualKeyCode": 9}, session=True)
        assert tab.evaluate("document.activeElement.className") == "skip"
        outline = tab.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline not in ("none", "")
