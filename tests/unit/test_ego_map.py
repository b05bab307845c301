"""The profile's own network map: shapes carry the urban-rural type beside the colour, partners are links."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from visualisations.ego import SHAPES, render_ego_svg
from visualisations.map import HELIX_COLOURS

SVG = "{http://www.w3.org/2000/svg}"


def payload() -> dict:
    return {"centre": {"id": "c", "name": "Centre <&> Org", "helix": "academia", "urban_rural": "urban"},
            "partners": [{"id": "p/1", "name": "Rural Civil", "helix": "civil_society", "urban_rural": "rural",
                          "weight": 4},
                         {"id": "p2", "name": "A very long industrial partner name indeed", "helix": "industry",
                          "urban_rural": "intermediate", "weight": 1},
                         {"id": "p3", "name": "Somewhere", "helix": "government", "urban_rural": "unknown",
                          "weight": 2}],
            "links": [{"a": "p/1", "b": "p3", "weight": 1}, {"a": "p2", "b": "elsewhere", "weight": 1}]}


def describe(node: dict) -> str:
    return f"{node['name']} ({node['helix']}, {node['urban_rural']})"


def test_each_partner_is_a_link_with_its_words_its_colour_and_the_shape_of_its_type() -> None:
    svg = render_ego_svg(payload(), describe, "Centre and partners")
    root = ET.fromstring(svg)  # well-formed, names escaped
    links = root.findall(f"{SVG}a")
    assert [a.get("href") for a in links] == ["/organisations/p%2F1", "/organisations/p2", "/organisations/p3"]
    tags = {"square": "rect", "diamond": "polygon", "triangle": "polygon", "circle": "circle"}
    for a, partner in zip(links, payload()["partners"], strict=True):
        assert a.get("aria-label") == describe(partner)
        marker = next(el for el in a if el.tag in {SVG + t for t in tags.values()})
        assert marker.tag == SVG + tags[SHAPES[partner["urban_rural"]]]
        assert marker.get("fill") == HELIX_COLOURS[partner["helix"]]
    triangle, diamond = (next(el for el in a if el.tag == SVG + "polygon").get("points") for a in links[:2])
    assert len(triangle.split()) == 3 and len(diamond.split()) == 4
    assert "Centre &lt;&amp;&gt; Org" in svg and root.find(f"{SVG}title").text == "Centre and partners"


def test_the_strongest_partner_has_the_thickest_line_and_links_among_partners_are_drawn_once() -> None:
    svg = render_ego_svg(payload(), describe, "t")
    widths = [float(w) for w in re.findall(r'stroke="#6b6b6b" stroke-width="([\d.]+)"', svg)]
    assert widths == [6.0, 2.2, 3.5]
    assert svg.count('stroke="#b3b3b3"') == 1  # p2 - elsewhere is not among the drawn partners


def test_an_organisation_without_partners_draws_only_itself() -> None:
    svg = render_ego_svg({"centre": payload()["centre"], "partners": [], "links": []}, describe, "t")
    assert "<a " not in svg and ET.fromstring(svg).find(f"{SVG}g[@role='img']") is not None
