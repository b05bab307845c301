"""The region flow map through a real `helixmap serve` on the real sample: its JSON, CSV and page, and the page
in a real headless Chromium (outlines drawn, nothing loaded from elsewhere, a region click opens its page, English
and Polish)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.pages.i18n import format_number
from tests import browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def api(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=120) as client:
        yield client


def test_region_links_give_every_region_and_link_with_totals_equal_to_the_region_profile(api: httpx.Client) -> None:
    body = api.get("/api/v1/region-links", params={"nuts": "DK", "level": 3}).json()
    profile = api.get("/api/v1/regions/DK").json()
    assert body["totals"]["urban_rural_links"] == profile["urban_rural_links"]
    assert body["name"] == "Danmark" and body["level"] == 3
    inside = [r for r in body["regions"] if r["inside"]]
    assert {r["code"] for r in inside} >= {"DK011", "DK014", "DK050"}
    for region in inside:
        assert set(region) >= {"code", "name", "level", "urban_rural", "lon", "lat", "organisations", "helix"}
        assert sum(region["helix"].values()) == region["organisations"]
    codes = {r["code"] for r in body["regions"]}
    assert body["links"] and all(lk["a"] in codes and lk["b"] in codes for lk in body["links"])
    assert any(lk["leaves_area"] for lk in body["links"])
    assert sum(lk["organisation_pairs"] for lk in body["links"]) == body["totals"]["organisation_pairs"]
    assert {lk["pair_type"] for lk in body["links"]} >= {"urban-urban", "urban-rural"}


def test_region_links_take_level_2_helix_and_years(api: httpx.Client) -> None:
    level2 = api.get("/api/v1/region-links", params={"nuts": "DE", "level": 2}).json()
    assert all(len(r["code"]) == 4 for r in level2["regions"] if r["inside"] and r["level"] == 2)
    academia = api.get("/api/v1/region-links", params={"nuts": "DE", "level": 2, "helix": "academia"}).json()
    assert 0 < academia["totals"]["organisations"] < level2["totals"]["organisations"]
    assert all(sum(r["helix"].values()) == r["helix"]["academia"] for r in academia["regions"])
    years = api.get("/api/v1/region-links", params={"year_from": 2018, "year_to": 2019})
    assert years.status_code == 200 and years.json()["filters"]["year_from"] == 2018


def test_region_links_download_as_csv(api: httpx.Client) -> None:
    body = api.get("/api/v1/region-links", params={"nuts": "DK"}).json()
    response = api.get("/api/v1/region-links.csv", params={"nuts": "DK"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == len(body["links"])
    assert sum(int(r["organisation_pairs"]) for r in rows) == body["totals"]["organisation_pairs"]
    regions = list(csv.DictReader(io.StringIO(
        api.get("/api/v1/region-links.csv", params={"nuts": "DK", "table": "regions"}).text)))
    assert len(regions) == len(body["regions"])


@pytest.mark.parametrize(("path", "status"), [
    ("/api/v1/region-links?nuts=XX", 404),
    ("/api/v1/region-links?nuts=%27%3B--", 422),
    ("/api/v1/region-links?level=4", 422),
    ("/api/v1/region-links?level=two", 422),
    ("/api/v1/region-links?nuts=DK011&level=2", 422),
    ("/api/v1/region-links?helix=banking", 422),
    ("/api/v1/region-links?year_from=2020&year_to=2010", 422),
    ("/api/v1/region-links?year_from=1066", 422),
    ("/maps/regions?nuts=XX", 404),
    ("/maps/regions?year_from=abc", 422),
    ("/maps/regions?helix=banking", 422),
    ("/maps/regions?year_from=2020&year_to=2010", 422),
    ("/maps/regions?nuts=%27%3B--", 422),
])
def test_bad_region_link_requests_get_a_4xx_with_a_message(api: httpx.Client, path: str, status: int) -> None:
    response = api.get(path)
    assert response.status_code == status
    assert response.json()["detail"]


def test_the_region_map_page_is_offline_and_titled_by_area_and_filters(api: httpx.Client) -> None:
    response = api.get("/maps/regions", params={"nuts": "DK", "level": 3, "helix": "academia"})
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    html = response.text
    assert not re.search(r"<(script|link|img|iframe)\b", html)
    assert not re.search(r"(src|href)=[\"']https?://", html)
    assert "<title>Region links: Danmark (DK), NUTS 3, academia" in html
    assert '<html lang="en">' in html and "<h2>Legend</h2>" in html
    assert '<a href="?level=3&amp;nuts=DK&amp;helix=academia&amp;lang=pl" lang="pl" hreflang="pl">Polski</a>' in html
    # empty form fields mean "any"
    assert api.get("/maps/regions", params={"nuts": "DK", "helix": "", "year_from": "", "year_to": ""}
                   ).status_code == 200


@pytest.mark.browser
def test_the_region_map_draws_outlines_loads_nothing_from_elsewhere_and_a_region_click_opens_its_page(
        chromium: str, server: str) -> None:
    with browser.Chromium(chromium, window_size=(1200, 900)) as page:
        page.call("Network.enable", session=True)
        page.open(f"{server}/maps/regions?nuts=DK&level=3")
        drawn = page.evaluate("Array.from(document.querySelectorAll('a.region.inside path'))"
                              ".filter(function (p) { var b = p.getBBox(); return b.width > 5 && b.height > 5; })"
                              ".length")
        assert drawn >= 10  # Denmark's 11 NUTS3 regions (Bornholm's small islands may be under 5 units)
        lines = page.evaluate("document.querySelectorAll('line.link').length")
        rural = page.evaluate("document.querySelectorAll('line.link.rural').length")
        assert 0 < rural < lines
        page.screenshot(ARTIFACTS / "region-map-dk.png")
        # the rural switch leaves only the links touching a rural region
        page.evaluate("document.getElementById('only-rural').click()")
        shown = page.evaluate("Array.from(document.querySelectorAll('line.link'))"
                              ".filter(function (l) { return getComputedStyle(l).display !== 'none'; }).length")
        assert shown == rural
        page.evaluate("document.getElementById('only-rural').click()")
        # a real click where the region (not a link line) is on top
        target = page.evaluate("""(function () {
            var a = document.querySelector('a.region.inside[data-code="DK014"]');
            var r = a.getBoundingClientRect();
            for (var i = 1; i < 20; i++) for (var j = 1; j < 20; j++) {
                var x = r.left + r.width * i / 20, y = r.top + r.height * j / 20;
                var hit = document.elementFromPoint(x, y);
                if (hit && hit.closest('a') === a) return [x, y];
            }
            return null; })()""")
        assert target, "no visible point of DK014 to click"
        for kind in ("mousePressed", "mouseReleased"):
            page.call("Input.dispatchMouseEvent", {"type": kind, "x": target[0], "y": target[1], "button": "left",
                                                   "clickCount": 1}, session=True)
        assert page.wait("location.pathname === '/regions/DK014' && location.pathname", timeout=20)
        requests = [e["params"]["request"]["url"] for e in page._events
                    if e.get("method") == "Network.requestWillBeSent"]
        assert requests and all(u.startswith(server) or u.startswith("data:") for u in requests), requests
        assert page.errors == [] or all("404" in e for e in page.errors), page.errors


@pytest.mark.browser
def test_the_region_map_fits_a_390_px_wide_phone_in_english_and_polish(chromium: str, server: str,
                                                                        api: httpx.Client) -> None:
    with browser.Chromium(chromium, window_size=(390, 844)) as page:
        page.open(f"{server}/maps/regions?nuts=DK&level=3")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        width = page.evaluate("document.querySelector('.map-wrap svg').getBoundingClientRect().width")
        assert width >= 340
        page.screenshot(ARTIFACTS / "region-map-dk-390.png")
        assert page.errors == []
        assert page.evaluate("document.documentElement.lang") == "en"
        assert page.evaluate("document.querySelector('.legend h2').textContent") == "Legend"
        # the same page in Polish (asked for by Accept-Language): words and numbers in Polish, still fits
        page.call("Network.enable", session=True)
        page.call("Network.setExtraHTTPHeaders", {"headers": {"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"}},
                  session=True)
        page.open(f"{server}/maps/regions?nuts=DK&level=3")
        assert page.evaluate("document.documentElement.lang") == "pl"
        assert page.evaluate("document.title").startswith("Powiązania regionów: Danmark (DK), NUTS 3")
        legend = page.evaluate("document.querySelector('.legend').innerText")
        assert "Legenda" in legend and "Przeważająco wiejski" in legend and "miejski – wiejski (par: " in legend
        assert "Legend\n" not in legend and "pairs" not in legend
        other = page.evaluate("[document.querySelector('a[hreflang=en]').textContent,"
                              " document.querySelector('input[name=lang]').value]")
        assert other == ["English", "pl"]
        totals = api.get("/api/v1/region-links", params={"nuts": "DK", "level": 3}).json()["totals"]
        lead = page.evaluate("document.querySelector('.lead').textContent")
        assert lead.startswith(f"Regiony: {format_number(totals['regions'], 'pl')}, "
                               f"organizacje: {format_number(totals['organisations'], 'pl')}; ")
        assert f"ze wspólnymi projektami: {format_number(totals['organisation_pairs'], 'pl')}," in lead
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page.errors == []


def test_links_leaving_the_area_are_summed_per_partner_country(api: httpx.Client) -> None:
    body = api.get("/api/v1/region-links", params={"nuts": "DK", "level": 3}).json()
    countries = body["outside_by_country"]
    assert countries and all(c["country"] != "DK" for c in countries)
    unknown = sum(lk["organisation_pairs"] for lk in body["links"] if lk["leaves_area"]
                  and "unknown" in (lk["a"], lk["b"]))
    assert sum(c["organisation_pairs"] for c in countries) + unknown == body["totals"]["organisation_pairs_outside"]
    de = next(c for c in countries if c["country"] == "DE")
    assert sum(de["by_pair_type"].values()) == de["organisation_pairs"] and 5 < de["lon"] < 16


@pytest.mark.browser
def test_the_region_map_draws_country_borders_level_2_outlines_and_the_partners_at_the_edge(
        chromium: str, server: str) -> None:
    with browser.Chromium(chromium, window_size=(1200, 900)) as page:
        page.open(f"{server}/maps/regions?nuts=DK&level=3")
        assert page.evaluate("document.querySelectorAll('path.country').length") >= 2  # DK and its partners'
        summaries = page.evaluate("Array.from(document.querySelectorAll('g.edge-summary')).map(function (g) {"
                                  " var b = g.querySelector('circle').getBBox(); return [g.dataset.country,"
                                  " b.width]; })")
        assert len(summaries) >= 5 and all(w > 5 for _, w in summaries)
        assert "DE" in {c for c, _ in summaries}
        assert page.evaluate("document.querySelectorAll('#countries-table tbody tr').length") >= len(summaries)
        page.screenshot(ARTIFACTS / "region-map-dk-edges.png")
        page.open(f"{server}/maps/regions?nuts=DE&level=2")
        # NUTS2 regions drawn from their own (level 2) boundary: one path each, not their NUTS3 parts
        drawn = page.evaluate("Array.from(document.querySelectorAll('a.region.inside path'))"
                              ".filter(function (p) { var b = p.getBBox(); return b.width > 5; }).length")
        assert drawn >= 30  # Germany's 38 NUTS2 regions
        assert page.evaluate("document.querySelectorAll('path.country[data-code=DE]').length") == 1
        page.screenshot(ARTIFACTS / "region-map-de-nuts2.png")
        assert page.errors == []
