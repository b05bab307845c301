"""The pages for people served from a real Neo4j store: the same pages, numbers and links as on SQLite."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import helixmap_command, open_neo4j, serve
from tests.e2e.test_pages import parse

pytestmark = pytest.mark.neo4j


@pytest.fixture(scope="module")
def sites(neo4j_info: dict, data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Two real servers over the same CORDIS sample (a small one): one on Neo4j, one on SQLite."""
    store = open_neo4j(neo4j_info)
    store.clear()
    store.close()
    tmp = tmp_path_factory.mktemp("pages-neo4j")
    neo_env = {"HELIXMAP_STORE": neo4j_info["uri"], "NEO4J_USERNAME": neo4j_info["username"],
               "NEO4J_PASSWORD": neo4j_info["password"]}
    lite_env = {"HELIXMAP_STORE": f"sqlite:///{tmp / 'lite.db'}"}
    for env in (neo_env, lite_env):
        done = subprocess.run([*helixmap_command(), "import", "cordis",
                               str(data_dir / "cordis/h2020_organization_sample.csv")],
                              env={**os.environ, **env}, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
    (tmp / "neo").mkdir()
    (tmp / "lite").mkdir()
    neo_server, lite_server = serve(neo_env, tmp / "neo"), serve(lite_env, tmp / "lite")
    neo_url, lite_url = next(neo_server), next(lite_server)
    with httpx.Client(base_url=neo_url, timeout=120) as neo, httpx.Client(base_url=lite_url, timeout=120) as lite:
        yield {"neo4j": neo, "sqlite": lite}
    for gen in (neo_server, lite_server):
        gen.close()


def get(client: httpx.Client, url: str, lang: str) -> str:
    response = client.get(url + ("&" if "?" in url else "?") + f"lang={lang}")
    assert response.status_code == 200, (url, response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("text/html")
    assert parse(response.text).lang == lang
    return response.text


def numbers(html: str) -> list[str]:
    """The page's figures in table cells, in order (what must not depend on the store)."""
    return re.findall(r'<td class="num">([^<]*)</td>', html)


def organisation(client: httpx.Client) -> str:
    return str(client.get("/api/v1/organisations", params={"q": "kobenhavns universitet"}).json()["items"][0]["id"])


@pytest.mark.parametrize("lang", ["en", "pl"])
@pytest.mark.parametrize("url", ["/", "/search?q=kobenhavns", "/search?country=DK&helix=academia",
                                 "/organisations/{org}", "/regions/DK", "/clusters", "/clusters/1"])
def test_each_page_shows_the_same_figures_on_neo4j_as_on_sqlite(sites: dict, url: str, lang: str) -> None:
    url = url.format(org=organisation(sites["neo4j"]))
    neo, lite = get(sites["neo4j"], url, lang), get(sites["sqlite"], url, lang)
    if url.startswith("/search"):  # the same results; each store's text search ranks ties its own way
        assert sorted(numbers(neo)) == sorted(numbers(lite)) and numbers(neo)
    else:
        assert numbers(neo) == numbers(lite) and numbers(neo)
    assert sorted(parse(neo).hrefs) == sorted(parse(lite).hrefs)


def test_a_visitor_goes_from_search_to_a_profile_its_map_a_partner_and_its_region_on_neo4j(sites: dict) -> None:
    web = sites["neo4j"]
    found = get(web, "/search?q=kobenhavns+universitet", "pl")
    assert "KOBENHAVNS UNIVERSITET" in found
    profile_url = next(h for h in parse(found).hrefs if h.startswith("/organisations/"))
    profile = get(web, profile_url, "pl")
    assert "Wyszukiwarka partnerów" in profile and '<svg class="ego"' in profile
    assert re.search(r"ostatnia zmiana \d{1,2} [a-ząćęłńóśźż]+ 20\d\d, \d\d:\d\d UTC", profile)  # Neo4j's time
    drawn = re.findall(r'<a href="(/organisations/[^"]+)" aria-label=', profile)
    assert drawn
    assert "Partner finder" in get(web, drawn[0], "en")
    region = get(web, "/regions/DK", "en")
    assert "E-I index" in region and "Sub-regions" in region
    clusters = get(web, "/clusters", "en")
    assert "adjusted Rand index" in clusters
    member = next(h for h in parse(get(web, "/clusters/1", "en")).hrefs if h.startswith("/organisations/"))
    assert "Partner finder" in get(web, member, "en")
    assert web.get("/organisations/no-such-org?lang=pl").status_code == 404
