"""The network map in a real headless Chromium, on a real CORDIS network.

Builds the collaboration network of ``../shared/data/cordis/h2020_organization_sample.csv`` (organisations
linked when they share a project), renders both layouts, and checks in Chromium that vis-network drew
every node, that filters work, and that the screenshot shows coloured nodes. Screenshots are kept in
``test-artifacts/`` for a person to look at.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import re
from collections import Counter
from pathlib import Path

import pytest

from tests import browser
from visualisations import HELIX_COLOURS, render_network_map

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"
ORGANISATIONS = DATA / "cordis" / "h2020_organization_sample.csv"
NUTS_POINTS = DATA / "regions" / "nuts2021_typology_labelpoints.csv"
ARTIFACTS = REPO / "test-artifacts"
WINDOW = (1400, 900)
LEGEND_WIDTH = 300  # the legend column on the right (270px + border and scrollbar slack)
HEADER_HEIGHT = 130

HELIX = {"HES": "academia", "REC": "academia", "PRC": "industry", "PUB": "government", "OTH": "civil_society"}
URBAN_RURAL = {"1": "urban", "2": "intermediate", "3": "rural"}


def _nuts3_points() -> dict[str, list[tuple[float, float, str, str, str]]]:
    """NUTS 2021 level-3 label points by country: (lat, lon, code, name, urban-rural type)."""
    by_country: dict[str, list[tuple[float, float, str, str, str]]] = {}
    with NUTS_POINTS.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["LEVL_CODE"] != "3":
                continue
            by_country.setdefault(row["CNTR_CODE"], []).append(
                (
                    float(row["label_lat"]),
                    float(row["label_lon"]),
                    row["NUTS_ID"],
                    row["NAME_LATN"],
                    URBAN_RURAL.get(row["URBN_TYPE"], "unknown"),
                )
            )
    return by_country


def _nearest(
    points: list[tuple[float, float, str, str, str]], lat: float, lon: float
) -> tuple[float, float, str, str, str]:
    scale = math.cos(math.radians(lat))
    return min(points, key=lambda p: (p[0] - lat) ** 2 + ((p[1] - lon) * scale) ** 2)


def cordis_network() -> tuple[list[dict], list[dict]]:
    """Nodes and edges of the CORDIS sample: one node per organisation, one edge per pair sharing projects.

    The sample has no NUTS codes, so the region (and its urban-rural type) is the nearest NUTS3 label
    point in the organisation's country: an approximation that is good enough to exercise the shapes.
    """
    points = _nuts3_points()
    nodes: dict[str, dict] = {}
    projects: dict[str, list[str]] = {}
    with ORGANISATIONS.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            org = row["organisationID"]
            members = projects.setdefault(row["projectID"], [])
            if org not in members:
                members.append(org)
            if org in nodes:
                continue
            lat = lon = None
            if row["geolocation"].strip():
                lat_text, lon_text = row["geolocation"].split(",")[:2]
                lat, lon = float(lat_text), float(lon_text)
            nuts3 = region = None
            urban_rural = "unknown"
            if lat is not None and lon is not None and row["country"] in points:
                _, _, nuts3, region, urban_rural = _nearest(points[row["country"]], lat, lon)
            nodes[org] = {
                "id": org,
                "name": row["name"],
                "helix": HELIX.get(row["activityType"].split(";")[0].strip(), "unknown"),
                "urban_rural": urban_rural,
                "country": row["country"] or None,
                "nuts3": nuts3,
                "region_name": region,
                "city": row["city"] or None,
                "lat": lat,
                "lon": lon,
            }
    weights: Counter[tuple[str, str]] = Counter()
    for members in projects.values():
        for a, b in itertools.combinations(sorted(members), 2):
            weights[(a, b)] += 1
    edges = [
        {"source": a, "target": b, "weight": w, "funding": None, "first_year": None, "last_year": None}
        for (a, b), w in sorted(weights.items())
    ]
    return list(nodes.values()), edges


@pytest.fixture(scope="module")
def network() -> tuple[list[dict], list[dict]]:
    if not ORGANISATIONS.is_file():
        pytest.fail(f"shared data missing: {ORGANISATIONS}")
    return cordis_network()


DRAWN = "document.body.dataset.drawn"


def _dataset(page: browser.Chromium) -> dict[str, str]:
    return page.evaluate("Object.assign({}, document.body.dataset)")


def _check_screenshot(path: Path) -> dict[str, int]:
    """Count node-coloured pixels in the network area (left of the legend, below the header)."""
    png = browser.read_png(path)
    assert (png.width, png.height) == WINDOW
    box = (0, HEADER_HEIGHT, png.width - LEGEND_WIDTH, png.height)
    counts = {
        helix: browser.count_pixels(png, browser.near(colour, 10), box) for helix, colour in HELIX_COLOURS.items()
    }
    white = browser.count_pixels(png, lambda r, g, b: r > 245 and g > 245 and b > 245, box)
    area = (box[2] - box[0]) * (box[3] - box[1])
    assert white < area * 0.98, f"network area of {path.name} is (almost) blank"
    return counts


@pytest.mark.parametrize(
    ("layout", "max_nodes", "name"),
    [("geo", 600, "map-geo"), ("force", 600, "map-force"), ("force", 200, "map-force-physics")],
)
def test_real_network_draws_in_chromium(
    chromium: str, network: tuple[list[dict], list[dict]], layout: str, max_nodes: int, name: str, tmp_path: Path
) -> None:
    """600 nodes: positions fixed, physics off; 200 nodes (force): vis-network physics settles them first."""
    nodes, edges = network
    html = render_network_map(
        nodes,
        edges,
        layout=layout,
        title=f"CORDIS H2020 sample ({layout} layout, {max_nodes} strongest)",
        notice="CORDIS © European Union, CC BY 4.0",
        max_nodes=max_nodes,
    )
    assert len(nodes) > max_nodes  # the cap is exercised
    assert f"Showing {max_nodes:,} of {len(nodes):,} organisations" in html
    page_file = tmp_path / f"{name}.html"
    page_file.write_text(html, encoding="utf-8")

    with browser.Chromium(chromium, window_size=WINDOW) as page:
        page.open(page_file.as_uri(), wait_for=DRAWN)
        data = _dataset(page)
        assert data["drawn"] == str(max_nodes), data
        assert data["drawnEdges"] == data["edges"], data
        assert data["visible"] == str(max_nodes), data
        assert int(data["labels"]) > 0, data
        # vis-network holds every node (none lost between the server data and the canvas)
        assert page.evaluate("Object.keys(helixmapNetwork.getPositions()).length") == max_nodes
        shot = page.screenshot(ARTIFACTS / f"{name}.png")
        assert page.errors == []
    counts = _check_screenshot(shot)
    for helix in ("academia", "industry", "government", "civil_society"):
        assert counts[helix] > 100, f"too few {helix} pixels in {shot}: {counts}"


def test_filters_hide_nodes_in_chromium(chromium: str, network: tuple[list[dict], list[dict]], tmp_path: Path) -> None:
    nodes, edges = network
    html = render_network_map(
        nodes, edges, layout="geo", max_nodes=400, title="CORDIS H2020 sample: academia in urban and rural regions"
    )
    page_file = tmp_path / "map-filtered.html"
    page_file.write_text(html, encoding="utf-8")
    shown_ids = {n["id"] for n in json.loads(re.search(r"var DATA = (\{.*?\});\n", html).group(1))["nodes"]}
    shown = [n for n in nodes if n["id"] in shown_ids]
    assert len(shown) == 400
    expected = sum(1 for n in shown if n["helix"] == "academia" and n["urban_rural"] in ("urban", "rural"))
    assert 0 < expected < 400

    with browser.Chromium(chromium, window_size=WINDOW) as page:
        # a URL fragment preselects the filters
        page.open(page_file.as_uri() + "#helix=academia&urban_rural=urban,rural", wait_for=DRAWN)
        data = _dataset(page)
        assert data["drawn"] == "400" and data["visible"] == str(expected), data
        shot = page.screenshot(ARTIFACTS / "map-geo-filtered.png")
        # clicking the checkboxes works too
        page.evaluate('document.querySelector(\'input[data-filter="helix"][value="industry"]\').click()')
        with_industry = expected + sum(
            1 for n in shown if n["helix"] == "industry" and n["urban_rural"] in ("urban", "rural")
        )
        assert _dataset(page)["visible"] == str(with_industry)
        page.evaluate("document.getElementById('filter-all').click()")
        assert _dataset(page)["visible"] == "400"
        assert page.errors == []
    counts = _check_screenshot(shot)
    assert counts["academia"] > 100, counts
    assert counts["industry"] < 30, counts  # industry hidden: only stray antialiased pixels may match


def test_hostile_names_do_not_break_the_page(chromium: str, tmp_path: Path) -> None:
    names = [
        "<script>alert(1)</script>",
        "Agència Catalana de l'Aigua",
        '"><img src=x onerror=alert(2)>',
        "</script><!--",
    ]
    nodes = [
        {"id": f"n{i}", "name": name, "helix": "civil_society", "urban_rural": "rural", "lat": 41.0 + i, "lon": 2.0 + i}
        for i, name in enumerate(names)
    ]
    nodes.append(
        {"id": "x", "name": "No coordinates", "helix": "industry", "urban_rural": "unknown", "lat": None, "lon": None}
    )
    edges = [{"source": "n0", "target": f"n{i}", "weight": i} for i in range(1, len(names))]
    page_file = tmp_path / "hostile.html"
    page_file.write_text(render_network_map(nodes, edges, title="<b>t</b>", notice="<i>n</i>"), encoding="utf-8")
    with browser.Chromium(chromium, window_size=WINDOW) as page:
        page.open(page_file.as_uri(), wait_for=DRAWN)
        assert _dataset(page)["drawn"] == str(len(nodes))
        assert page.evaluate("document.querySelectorAll('img, b, i').length") == 0
        assert page.evaluate("document.querySelector('h1').textContent") == "<b>t</b>"
        labels = page.evaluate("helixmapNetwork.body.data.nodes.get().map(function (n) { return n.label; })")
        assert labels[: len(names)] == names
        # hovering a node shows its tooltip, with the name as text
        at = page.evaluate(
            "(function () { var p = helixmapNetwork.canvasToDOM(helixmapNetwork.getPositions(['n0']).n0);"
            " var r = document.querySelector('#network canvas').getBoundingClientRect();"
            " return [p.x + r.left, p.y + r.top]; })()"
        )
        page.mouse_move(at[0] - 40, at[1] - 40)
        page.mouse_move(*at)
        tooltip = page.wait(
            "(function () { var t = document.querySelector('.vis-tooltip');"
            " return t && t.style.visibility === 'visible' && t.innerText; })()",
            timeout=10,
        )
        assert tooltip.splitlines()[0] == names[0] and "Helix: Civil society" in tooltip
        assert page.errors == []
