"""The organisation map page: offline, legend and filters, link colours, outlines, places, escaping, capping,
positions, tables, languages (no browser)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from api.pages.i18n import catalogue
from visualisations import (
    HELIX_COLOURS,
    URBAN_RURAL_SHAPES,
    cap_edges,
    cap_network,
)
from visualisations import render_network_map as _render
from visualisations.map import HELIX_PAIR_COLOURS, PAIR_COLOURS

HOSTILE = "<script>alert(1)</script>"
CATALAN = "Agència Catalana de l'Aigua"


def node(node_id: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": node_id,
        "name": f"Organisation {node_id}",
        "helix": "academia",
        "urban_rural": "urban",
        "country": "BE",
        "nuts3": "BE211",
        "region_name": "Arr. Antwerpen",
        "city": "Antwerpen",
        "lat": 51.2,
        "lon": 4.4,
    }
    base.update(fields)
    return base


def edge(source: str, target: str, weight: int = 1, **fields: Any) -> dict[str, Any]:
    return {
        "source": source,
        "target": target,
        "weight": weight,
        "funding": None,
        "first_year": None,
        "last_year": None,
        **fields,
    }


def render_network_map(nodes: list[dict], edges: list[dict], **kwargs: Any) -> str:
    kwargs.setdefault("messages", catalogue(kwargs.get("lang", "en")))
    return _render(nodes, edges, **kwargs)


def page_data(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="map-data">(.*?)</script>', html, re.S)
    assert match, "no map data in page"
    return json.loads(match.group(1))


def by_id(html: str) -> dict[str, dict[str, Any]]:
    return {n["id"]: n for n in page_data(html)["nodes"]}


def links(html: str) -> dict[frozenset[str], list[Any]]:
    data = page_data(html)
    ids = [n["id"] for n in data["nodes"]]
    return {frozenset((ids[e[0]], ids[e[1]])): e for e in data["edges"]}


@pytest.fixture
def small() -> tuple[list[dict], list[dict]]:
    nodes = [
        node("a", name=HOSTILE, helix="academia", urban_rural="urban", city="Paris", lat=48.85, lon=2.35),
        node("b", name=CATALAN, helix="government", urban_rural="intermediate", city="Barcelona", lat=41.39, lon=2.17,
             placed_by="region"),
        node("c", name="Oulun yliopisto", helix="industry", urban_rural="rural", city="Oulu", lat=65.01, lon=25.47),
        node("d", name="Stichting Noord", helix="civil_society", urban_rural="unknown", lat=None, lon=None),
        node("e", name="Mystery", helix="something else", urban_rural="", lat=None, lon=None),
    ]
    edges = [
        edge("a", "b", 3, funding=125000.5, first_year=2015, last_year=2019),
        edge("b", "c", 1),
        edge("a", "c", 2),
        edge("c", "d", 1),
    ]
    return nodes, edges


def test_page_loads_nothing_from_the_network(small: tuple[list[dict], list[dict]]) -> None:
    html = render_network_map(*small)
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, re.IGNORECASE)
    assert not re.search(r"<link\b", html, re.IGNORECASE)
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", html, re.IGNORECASE)
    assert not re.search(r"https?://", html)
    assert "default-src 'none'" in html  # the CSP forbids any fetch


def test_legend_and_filters(small: tuple[list[dict], list[dict]]) -> None:
    html = render_network_map(*small)
    for helix, colour in HELIX_COLOURS.items():
        assert f'data-filter="helix" value="{helix}"' in html
        assert f'fill="{colour}"' in html
    for urban_rural in URBAN_RURAL_SHAPES:
        assert f'data-filter="ur" value="{urban_rural}"' in html
    legend = html[html.index("<aside") : html.index("</aside>")]
    assert legend.count('type="checkbox"') == len(HELIX_COLOURS) + len(URBAN_RURAL_SHAPES) + 1  # + only rural
    assert 'id="only-rural"' in legend and legend.count('name="colour-by"') == 2
    for key, colour in PAIR_COLOURS.items():  # the link legend, by urban-rural pair and by helix pair
        assert f'stroke="{colour}"' in legend and f'data-count="{key}"' in legend
    for key, colour in HELIX_PAIR_COLOURS.items():
        assert f'stroke="{colour}"' in legend and f'data-count="{key}"' in legend
    assert "Only links that touch a rural organisation" in legend


def test_links_carry_their_urban_rural_and_helix_pair(small: tuple[list[dict], list[dict]]) -> None:
    html = render_network_map(*small, layout="force")
    by_pair = links(html)
    assert by_pair[frozenset("ab")][2:] == [3, "urban-intermediate", "academia-government"]
    assert by_pair[frozenset("bc")][2:] == [1, "intermediate-rural", "industry-government"]
    assert by_pair[frozenset("ac")][2:] == [2, "urban-rural", "academia-industry"]
    assert by_pair[frozenset("cd")][2:] == [1, "rural-unknown", "industry-civil_society"]
    colours = page_data(html)["colours"]
    assert colours["pair"]["urban-rural"] == PAIR_COLOURS["urban-rural"] and "other" in colours["pair"]


def test_nodes_carry_helix_type_size_place_and_how_they_were_placed(small: tuple[list[dict], list[dict]]) -> None:
    html = render_network_map(*small, layout="force")
    nodes = by_id(html)
    assert (nodes["a"]["helix"], nodes["a"]["ur"]) == ("academia", "urban")
    assert (nodes["e"]["helix"], nodes["e"]["ur"]) == ("unknown", "unknown")
    # sizes follow weighted degree: a 5, c 4, b 4, d 1, e 0
    assert nodes["a"]["size"] > nodes["c"]["size"] == nodes["b"]["size"] > nodes["d"]["size"] > nodes["e"]["size"]
    assert nodes["b"]["name"] == CATALAN and "Barcelona" in nodes["b"]["place"]
    assert nodes["b"]["placed_by"] == "region" and (nodes["a"]["partners"], nodes["a"]["strength"]) == (2, 5)


def test_names_are_escaped(small: tuple[list[dict], list[dict]]) -> None:
    html = render_network_map(*small, title=f"Map of {CATALAN} {HOSTILE}", notice=f"note {HOSTILE}")
    assert HOSTILE not in html
    assert "Agència Catalana de l&#39;Aigua &lt;script&gt;alert(1)&lt;/script&gt;" in html  # <title>, <h1>
    assert "note &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in html  # inside the script data
    nodes = by_id(html)  # and the data still round-trips to the real names
    assert nodes["a"]["name"] == HOSTILE and nodes["b"]["name"] == CATALAN


def test_cap_network_keeps_the_strongest() -> None:
    nodes = [node(x) for x in "abcdef"]
    edges = [edge("a", "b", 5), edge("a", "c", 1), edge("b", "c", 1), edge("d", "e", 1), edge("a", "f", 1)]
    kept, kept_edges, dropped = cap_network(nodes, edges, 3)
    assert [n["id"] for n in kept] == ["a", "b", "c"]
    assert dropped == 3
    assert {(e["source"], e["target"]) for e in kept_edges} == {("a", "b"), ("a", "c"), ("b", "c")}
    # a given weighted degree wins over the one computed from the edges
    nodes[4]["weighted_degree"] = 100
    kept, _, _ = cap_network(nodes, edges, 1)
    assert [n["id"] for n in kept] == ["e"]
    # nothing to cap
    kept, kept_edges, dropped = cap_network(nodes, edges, 10)
    assert (len(kept), len(kept_edges), dropped) == (6, 5, 0)
    assert cap_network(nodes, edges, 0) == ([], [], 6)
    with pytest.raises(ValueError):
        cap_network(nodes, edges, -1)


def test_cap_is_said_on_the_page(small: tuple[list[dict], list[dict]]) -> None:
    html = render_network_map(*small, max_nodes=3, notice="Filtered to NUTS ES51")
    assert "Showing 3 of 5 organisations (the strongest by weighted degree)" in html
    assert "Filtered to NUTS ES51" in html
    assert set(by_id(html)) == {"a", "b", "c"}
    assert 'data-nodes="3"' in html


def test_cap_edges_keeps_every_node_connected() -> None:
    edges = [edge("a", "b", 9), edge("a", "c", 8), edge("b", "c", 7), edge("c", "d", 1), edge("a", "d", 1)]
    kept, dropped = cap_edges(edges, 3, per_node=1)
    assert dropped == 2
    pairs = {(e["source"], e["target"]) for e in kept}
    assert ("a", "b") in pairs and any("d" in p for p in pairs)


def test_geo_positions_follow_coordinates() -> None:
    nodes = [
        node("lisbon", lat=38.72, lon=-9.14),
        node("warsaw", lat=52.23, lon=21.01),
        node("rome", lat=41.9, lon=12.5),
        node("oslo", lat=59.91, lon=10.75),
    ]
    html = render_network_map(nodes, [edge("lisbon", "warsaw")], layout="geo")
    pos = {k: (v["x"], v["y"]) for k, v in by_id(html).items()}
    assert pos["lisbon"][0] < pos["rome"][0] < pos["warsaw"][0]  # further east, larger x
    assert pos["oslo"][1] < pos["warsaw"][1] < pos["rome"][1] < pos["lisbon"][1]  # further north, smaller y


def test_web_mercator_projection() -> None:
    from visualisations.layout import project

    assert project(0.0, 0.0) == pytest.approx((0.0, 0.0), abs=1e-9)
    (x1, y30), (_, y40), (_, y50), (x2, y60) = project(30, -10), project(40, 0), project(50, 0), project(60, 10)
    assert x2 - x1 == pytest.approx(2 * (project(0, 10)[0] - project(0, 0)[0]))  # x is linear in longitude
    assert y60 < y50 < y40 < y30  # north is up
    assert (y50 - y60) > (y30 - y40)  # ten degrees of latitude are longer in the north


def test_organisations_without_a_place_are_listed_beside_the_map_not_drawn(small: tuple[list[dict], list[dict]]) -> None:
    html = render_network_map(*small, layout="geo")
    assert set(by_id(html)) == set("abc")  # drawn: the placed ones only
    table = html[html.index('id="unplaced-table"') : html.index("</table>", html.index('id="unplaced-table"'))]
    assert "Stichting Noord" in table and "Mystery" in table and "Oulun" not in table
    assert 'href="/organisations/d"' in table
    assert "Without a place (2)" in html and 'data-unplaced="2"' in html
    # a node whose placement says "no place" is not drawn, whatever its raw coordinates
    html = render_network_map([node("x", placed_by=None), node("y")], [edge("x", "y")], layout="geo")
    assert set(by_id(html)) == {"y"}
    # the force layout draws them all
    assert set(by_id(render_network_map(*small, layout="force"))) == set("abcde")


def test_points_that_are_no_place_are_not_drawn() -> None:
    html = render_network_map([node("zero", lat=0.0, lon=0.0), node("far", lat=123.0, lon=5.0), node("ok")], [],
                              layout="geo")
    assert set(by_id(html)) == {"ok"}


def test_region_outlines_are_projected_like_the_nodes() -> None:
    square = {"type": "Polygon", "coordinates": [[[4.0, 51.0], [5.0, 51.0], [5.0, 51.5], [4.0, 51.5], [4.0, 51.0]]]}
    html = render_network_map([node("a", lat=51.2, lon=4.4)], [], layout="geo", outlines={"BE211": [square]})
    data = page_data(html)
    (outline,) = data["outlines"]
    assert outline["code"] == "BE211" and outline["type"] == "urban"
    xs, ys = outline["rings"][0][0::2], outline["rings"][0][1::2]
    a = data["nodes"][0]
    assert min(xs) < a["x"] < max(xs) and min(ys) < a["y"] < max(ys)  # the node inside its region
    assert data["region_names"]["BE211"] == "Arr. Antwerpen"
    assert page_data(render_network_map([node("a")], [], layout="force", outlines={"BE211": [square]}))["outlines"] == []


def test_same_point_nodes_are_spread_and_the_strongest_keeps_it() -> None:
    nodes = [node(str(i)) for i in range(6)]
    html = render_network_map(nodes, [edge("0", "1", 4), edge("2", "3")], layout="geo")
    pos = {k: (v["x"], v["y"]) for k, v in by_id(html).items()}
    assert len(set(pos.values())) == 6
    xs = [p[0] for p in pos.values()]
    assert max(xs) - min(xs) < 20  # still around the same place


def test_force_layout(small: tuple[list[dict], list[dict]]) -> None:
    html = render_network_map(*small, layout="force")
    nodes = by_id(html)
    assert len({(n["x"], n["y"]) for n in nodes.values()}) == 5
    assert 'id="unplaced"' not in html
    many = [node(f"n{i}") for i in range(320)]
    ring = [edge(f"n{i}", f"n{(i + 1) % 320}") for i in range(320)]
    big = by_id(render_network_map(many, ring, layout="force"))
    # neighbours on the ring end up closer than the average pair
    dist = [((big[f"n{i}"]["x"] - big[f"n{(i + 1) % 320}"]["x"]) ** 2
             + (big[f"n{i}"]["y"] - big[f"n{(i + 1) % 320}"]["y"]) ** 2) ** 0.5 for i in range(320)]
    far = [((big[f"n{i}"]["x"] - big[f"n{(i + 160) % 320}"]["x"]) ** 2
            + (big[f"n{i}"]["y"] - big[f"n{(i + 160) % 320}"]["y"]) ** 2) ** 0.5 for i in range(320)]
    assert sum(dist) < sum(far) / 4


def test_output_is_deterministic(small: tuple[list[dict], list[dict]]) -> None:
    for layout in ("geo", "force"):
        assert render_network_map(*small, layout=layout) == render_network_map(*small, layout=layout)


def test_duplicate_and_dangling_edges() -> None:
    nodes = [node("a"), node("b", lat=50.0, lon=5.0)]
    edges = [
        edge("a", "b", 2, first_year=2016, last_year=2018),
        edge("b", "a", 1, first_year=2014, last_year=2017),
        edge("a", "a", 4),
        edge("a", "zz", 1),
    ]
    html = render_network_map(nodes, edges)
    data = page_data(html)
    assert len(data["edges"]) == 1 and data["edges"][0][2] == 3
    assert "2 organisations and 1 collaboration links." in html


def test_empty_network_and_bad_layout() -> None:
    html = render_network_map([], [])
    assert "0 organisations and 0 collaboration links." in html
    assert page_data(html)["nodes"] == []
    with pytest.raises(ValueError):
        render_network_map([], [], layout="circle")


def test_the_page_speaks_polish(small: tuple[list[dict], list[dict]]) -> None:
    html = render_network_map(*small, lang="pl")
    assert '<html lang="pl">' in html
    assert "Tylko powiązania z organizacją wiejską" in html and "Bez miejsca (2)" in html
    assert "Only links that touch" not in html
    assert page_data(html)["messages"]["map.open_finder"] == "Wyszukiwarka partnerów"
    english = render_network_map(*small)
    assert not re.search(r">\s*map\.[a-z_.]+\s*<", english)  # no message key shows instead of its text


def test_given_force_positions_are_used_and_equal_the_computed_ones(small: tuple[list[dict], list[dict]]) -> None:
    from visualisations.map import force_positions

    positions = force_positions(*small, max_nodes=4)
    assert set(positions) == set("abcd")
    given = render_network_map(*small, layout="force", max_nodes=4, positions=positions)
    assert given == render_network_map(*small, layout="force", max_nodes=4)
    moved = {k: (x + 100.0, y) for k, (x, y) in positions.items()}
    nodes = by_id(render_network_map(*small, layout="force", max_nodes=4, positions=moved))
    assert nodes["a"]["x"] == round(moved["a"][0], 2)
