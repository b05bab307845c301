"""The organisation map in a real headless Chromium, served by a real `helixmap serve` on the real sample
(regions, CORDIS CSV and JSON): outlines drawn, the view fitted, links coloured by pair type in the legend and
on the canvas, the rural switch keeping cross links, a click on a node or a region leading to its page, the
table alternative, keyboard, Polish, a 390 px phone, and no request leaving 127.0.0.1. Screenshots are kept
in ``test-artifacts/`` for a person to look at.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import browser
from visualisations.map import PAIR_COLOURS

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
WINDOW = (1400, 900)
READY = "document.body.dataset.ready"
AREA = "/maps/network?nuts=DE"


def _dataset(page: browser.Chromium) -> dict[str, str]:
    return page.evaluate("Object.assign({}, document.body.dataset)")


def _click(page: browser.Chromium, x: float, y: float) -> None:
    for kind in ("mousePressed", "mouseReleased"):
        page.call("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1},
                  session=True)


def _requests(page: browser.Chromium) -> list[str]:
    return [e["params"]["request"]["url"] for e in page._events if e.get("method") == "Network.requestWillBeSent"]


def _map_box(page: browser.Chromium) -> tuple[int, int, int, int]:
    r = page.evaluate("(function () { var r = document.getElementById('map').getBoundingClientRect();"
                      " return [r.left, r.top, r.right, r.bottom]; })()")
    return int(r[0]) + 1, int(r[1]) + 1, int(r[2]) - 1, int(r[3]) - 1


def _urban_rural_pixels(path: Path, box: tuple[int, int, int, int]) -> int:
    """Pixels of the urban-rural link colour (#D55E00), blended over the map's light background."""
    png = browser.read_png(path)
    return browser.count_pixels(png, lambda r, g, b: r > 185 and 70 < g < 150 and b < 105 and r - g > 60, box)


def test_the_map_draws_outlines_fits_the_view_and_colours_links_by_pair_type(chromium: str, server: str) -> None:
    with browser.Chromium(chromium, window_size=WINDOW) as page:
        page.call("Network.enable", session=True)
        page.open(server + AREA, wait_for=READY)
        data = _dataset(page)
        assert int(data["outlines"]) > 300  # Germany's NUTS3 regions behind the nodes
        assert int(data["drawn"]) == int(data["placed"]) > 100
        assert page.evaluate("helixmapMap.fittedShare()") > 0.8  # the drawn nodes fill the canvas
        assert page.evaluate("document.querySelector('h1').textContent").startswith("Deutschland (DE)")
        # the legend counts the links drawn, by the pair type of their two organisations
        counts = page.evaluate("(function () { var o = {}; document.querySelectorAll("
                               "'#link-legend [data-mode=pair] [data-count]').forEach(function (el) {"
                               " o[el.dataset.count] = Number(el.textContent.replace(/\\D/g, '')); }); return o; })()")
        assert set(counts) == {*PAIR_COLOURS, "other"}
        assert sum(counts.values()) == int(data["drawnEdges"]) > 0
        links = page.evaluate("helixmapMap.visibleLinks()")
        for kind in ("urban-urban", "urban-rural"):
            assert counts[kind] == sum(1 for lk in links if lk[2] == kind) > 0
        shot = page.screenshot(ARTIFACTS / "map-de.png")
        assert _urban_rural_pixels(shot, _map_box(page)) > 0
        # only the links touching a rural organisation: the urban-rural colour is on the canvas; by helix pair it goes
        page.evaluate("document.getElementById('only-rural').click()")
        by_pair = _urban_rural_pixels(page.screenshot(ARTIFACTS / "map-de-rural.png"), _map_box(page))
        page.evaluate("document.querySelector('input[name=colour-by][value=helix]').click()")
        assert page.evaluate("document.querySelector('#link-legend [data-mode=helix]').hidden") is False
        by_helix = _urban_rural_pixels(page.screenshot(ARTIFACTS / "map-de-rural-helix.png"), _map_box(page))
        assert by_pair > 30 and by_pair > 3 * by_helix, (by_pair, by_helix)
        assert all(u.startswith(server) for u in _requests(page)), _requests(page)
        assert page.errors == []


def test_the_rural_switch_keeps_the_cross_links_and_their_other_ends(chromium: str, server: str) -> None:
    with browser.Chromium(chromium, window_size=WINDOW) as page:
        page.open(server + AREA, wait_for=READY)
        before = int(_dataset(page)["visible"])
        page.evaluate("document.getElementById('only-rural').click()")
        links = page.evaluate("helixmapMap.visibleLinks()")
        visible = set(page.evaluate("helixmapMap.visibleIds()"))
        assert links and all("rural" in lk[2].split("-") for lk in links)
        assert any(lk[2] == "urban-rural" for lk in links)  # the cross links stay
        assert {end for lk in links for end in lk[:2]} <= visible  # with both their ends
        kinds = page.evaluate("(function () { var D = JSON.parse(document.getElementById('map-data').textContent);"
                              " var o = {}; D.nodes.forEach(function (n) { o[n.id] = n.ur; }); return o; })()")
        assert {kinds[i] for i in visible} >= {"urban", "rural"}
        assert 0 < len(visible) < before
        assert page.evaluate("helixmapMap.fittedShare()") > 0.8  # refitted to what is left
        assert page.evaluate("document.getElementById('title-filters').textContent").strip()
        # the helix filter hides nodes and their links; "show all" brings everything back
        page.evaluate("document.querySelector('input[data-filter=helix][value=industry]').click()")
        assert all(page.evaluate("(function () { var D = JSON.parse(document.getElementById('map-data').textContent);"
                                 " var h = {}; D.nodes.forEach(function (n) { h[n.id] = n.helix; });"
                                 " return helixmapMap.visibleIds().map(function (i) { return h[i] !== 'industry'; });"
                                 " })()"))
        page.evaluate("document.getElementById('filter-all').click()")
        assert int(_dataset(page)["visible"]) == before
        assert page.errors == []


def test_a_click_on_a_node_opens_its_panel_and_leads_to_its_page(chromium: str, server: str) -> None:
    with browser.Chromium(chromium, window_size=WINDOW) as page:
        page.open(server + AREA, wait_for=READY)
        org = page.evaluate("JSON.parse(document.getElementById('map-data').textContent).nodes[0]")
        x, y = page.evaluate(f"helixmapMap.screenOf({org['id']!r})")
        _click(page, x, y)
        page.wait("!document.getElementById('panel').hidden")
        panel = page.evaluate("document.getElementById('panel').innerText")
        assert org["name"] in panel and "Partner finder" in panel
        hrefs = page.evaluate("Array.from(document.querySelectorAll('#panel a')).map(function (a) {"
                              " return a.getAttribute('href'); })")
        assert f"/organisations/{org['id']}" in hrefs and f"/organisations/{org['id']}#h-finder" in hrefs
        page.evaluate(f"document.querySelector('#panel a[href=\"/organisations/{org['id']}\"]').click()")
        assert page.wait(f"location.pathname === '/organisations/{org['id']}' && document.readyState === 'complete'",
                         timeout=30)
        assert org["name"] in page.evaluate("document.querySelector('h1').textContent")


def test_a_click_on_a_region_leads_to_its_page(chromium: str, server: str) -> None:
    with browser.Chromium(chromium, window_size=WINDOW) as page:
        page.open(server + AREA, wait_for=READY)
        x, y, code = page.evaluate("helixmapMap.emptyRegionPoint()")
        _click(page, x, y)
        page.wait("!document.getElementById('panel').hidden")
        page.evaluate(f"document.querySelector('#panel a[href=\"/regions/{code}\"]').click()")
        assert page.wait(f"location.pathname === '/regions/{code}'", timeout=30)


def test_the_table_alternative_keyboard_and_csv(chromium: str, server: str) -> None:
    with browser.Chromium(chromium, window_size=WINDOW) as page:
        page.open(server + AREA, wait_for=READY)
        page.evaluate("document.querySelector('#tables summary').click()")
        page.wait("document.body.dataset.tables")
        rows = page.evaluate("document.querySelectorAll('#organisations-table tbody tr').length")
        assert rows == int(_dataset(page)["nodes"])
        page.evaluate("document.querySelectorAll('#organisations-table th button')[4].click()")  # partners, ascending
        partners = page.evaluate("Array.from(document.querySelectorAll('#organisations-table tbody tr td:nth-child(5)'))"
                                 ".map(function (td) { return Number(td.textContent.replace(/\\D/g, '')); })")
        assert partners == sorted(partners) and partners[0] < partners[-1]
        assert page.evaluate("document.querySelectorAll('#links-table tbody tr').length") > 0
        # the filters answer the keyboard: focus the rural switch, press space
        page.evaluate("document.getElementById('only-rural').focus()")
        for kind in ("keyDown", "keyUp"):
            page.call("Input.dispatchKeyEvent", {"type": kind, "key": " ", "code": "Space", "windowsVirtualKeyCode": 32,
                                                 **({"text": " "} if kind == "keyDown" else {})}, session=True)
        assert page.wait("helixmapMap.state.onlyRural")
        csv_href = page.evaluate("document.querySelector('a[href^=\"/api/v1/network.csv\"]').getAttribute('href')")
    with httpx.Client(base_url=server, timeout=120) as client:
        table = list(csv.DictReader(io.StringIO(client.get(csv_href).text.lstrip("\ufeff"))))
        links = list(csv.DictReader(io.StringIO(client.get(csv_href + "&table=links").text.lstrip("\ufeff"))))
    assert len(table) == rows and {"placed_by", "lat", "lon"} <= set(table[0])
    assert all(r["placed_by"] in ("coordinates", "region", "") for r in table)
    assert links and {r["pair_type"] for r in links} >= {"urban-urban"}


def test_the_map_speaks_polish_and_fits_a_390_px_phone(chromium: str, server: str) -> None:
    with browser.Chromium(chromium, window_size=(390, 844)) as page:
        page.open(server + AREA + "&lang=pl", wait_for=READY)
        assert page.evaluate("document.documentElement.lang") == "pl"
        assert "Tylko powiązania z organizacją wiejską" in page.evaluate("document.body.innerText")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        width = page.evaluate("document.getElementById('map').getBoundingClientRect().width")
        assert width >= 340
        assert page.evaluate("helixmapMap.fittedShare()") > 0.7
        page.screenshot(ARTIFACTS / "map-de-390.png")
        assert page.errors == []


def test_hostile_names_stay_text(chromium: str, tmp_path: Path) -> None:
    from api.pages.i18n import catalogue
    from visualisations import render_network_map

    names = ["<script>alert(1)</script>", "Agència Catalana de l'Aigua", '"><img src=x onerror=alert(2)>',
             "</script><!--"]
    nodes: list[dict[str, Any]] = [
        {"id": f"n{i}", "name": name, "helix": "civil_society", "urban_rural": "rural", "lat": 41.0 + i, "lon": 2.0 + i}
        for i, name in enumerate(names)]
    edges = [{"source": "n0", "target": f"n{i}", "weight": i} for i in range(1, len(names))]
    page_file = tmp_path / "hostile.html"
    page_file.write_text(render_network_map(nodes, edges, title="<b>t</b>", notice="<i>n</i>",
                                            messages=catalogue("en")), encoding="utf-8")
    with browser.Chromium(chromium, window_size=WINDOW) as page:
        page.open(page_file.as_uri(), wait_for=READY)
        assert _dataset(page)["drawn"] == str(len(nodes))
        assert page.evaluate("document.querySelectorAll('img, b, i').length") == 0
        assert page.evaluate("document.querySelector('h1').textContent") == "<b>t</b>"
        x, y = page.evaluate("helixmapMap.screenOf('n0')")
        page.mouse_move(x - 40, y - 40)
        page.mouse_move(x, y)
        tooltip = page.wait("(function () { var t = document.getElementById('tooltip');"
                            " return t.style.display === 'block' && t.innerText; })()", timeout=10)
        assert tooltip.splitlines()[0] == names[0]
        assert page.errors == []


@pytest.mark.parametrize(("path", "status"), [
    ("/maps/network?helix=banking", 422),
    ("/maps/network?urban_rural=suburban", 422),
    ("/maps/network?year_from=abc", 422),
    ("/maps/network?year_from=2020&year_to=2010", 422),
    ("/maps/network?nuts=XX", 404),
    ("/api/v1/network.csv?table=nodes", 422),
])
def test_bad_map_requests_get_a_4xx_with_a_message(server: str, path: str, status: int) -> None:
    response = httpx.get(server + path, timeout=120)
    assert response.status_code == status and response.json()["detail"]


def test_the_map_form_takes_empty_fields_as_any_and_the_network_api_gives_places(server: str) -> None:
    response = httpx.get(server + "/maps/network", params={"nuts": "DK", "helix": "", "urban_rural": "",
                                                            "year_from": "", "year_to": ""}, timeout=120)
    assert response.status_code == 200 and "Danmark (DK)" in response.text
    nodes = httpx.get(server + "/api/v1/network", params={"nuts": "DE", "limit": 2000}, timeout=120).json()["nodes"]
    assert nodes and all(n["placed_by"] in ("coordinates", "region", None) for n in nodes)
    assert all((n["lat"], n["lon"]) != (0, 0) and (n["lat"] is None) == (n["placed_by"] is None) for n in nodes)


@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe-core from npm (the version the page tests use), installed at test time into test-artifacts/axe."""
    import shutil
    import subprocess

    from tests.conftest import require
    from tests.e2e.test_pages import AXE_DIR, AXE_VERSION

    script = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        require(npm is not None, "npm is needed to install axe-core for the accessibility test (apt-get install npm)")
        assert npm is not None
        AXE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(AXE_DIR),
                        f"axe-core@{AXE_VERSION}"], check=True, capture_output=True, timeout=300)
    return script.read_text(encoding="utf-8")


@pytest.mark.parametrize("lang", ["en", "pl"])
def test_axe_core_finds_no_serious_violation_on_the_maps(chromium: str, server: str, axe_source: str,
                                                         lang: str) -> None:
    from tests.e2e.test_pages import AXE_RUN

    with browser.Chromium(chromium, window_size=WINDOW, timeout=300) as page:
        for url in (f"/maps/network?nuts=DK&lang={lang}", f"/maps/network?nuts=DK&layout=force&lang={lang}"):
            page.open(server + url, wait_for=READY)
            page.evaluate(axe_source)
            assert page.evaluate(AXE_RUN) == [], url
