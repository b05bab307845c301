"""An organisation's own small network map: the organisation in the middle, its strongest partners around it.

Inline SVG drawn on the server from what `ecosystem.services.insights.ego_network` gives: no script and no
request for anything, so it works offline. Fill colour says the helix and the marker's shape says the
urban-rural type (square urban, diamond intermediate, triangle rural, circle not known), so colour is never the
only carrier; each partner is a link to its profile with its name, helix and type as the link's accessible
name. The page keeps the partners table beside it as the text alternative.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from html import escape
from typing import Any
from urllib.parse import quote

from visualisations.map import HELIX_COLOURS

__all__ = ["SHAPES", "legend_marker", "render_ego_svg"]

WIDTH, HEIGHT = 640.0, 420.0
RADIUS = 150.0
SHAPES = {"urban": "square", "intermediate": "diamond", "rural": "triangle", "unknown": "circle"}
LABEL_CHARS = 22


def _marker(shape: str, x: float, y: float, r: float, fill: str) -> str:
    """One marker of a shape, centred on (x, y), about `r` in radius."""
    style = f'fill="{fill}" stroke="#1a1a1a" stroke-width="1.5"'
    if shape == "square":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" height="{2 * r:.1f}" {style}/>'
    if shape == "diamond":
        d = r * 1.3
        return (f'<polygon points="{x:.1f},{y - d:.1f} {x + d:.1f},{y:.1f} {x:.1f},{y + d:.1f} {x - d:.1f},{y:.1f}" '
                f'{style}/>')
    if shape == "triangle":
        h = r * 1.35
        return (f'<polygon points="{x:.1f},{y - h:.1f} {x + h:.1f},{y + h * 0.8:.1f} {x - h:.1f},{y + h * 0.8:.1f}" '
                f'{style}/>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" {style}/>'


def _short(name: str) -> str:
    return name if len(name) <= LABEL_CHARS else name[:LABEL_CHARS - 1].rstrip() + "…"


def _positions(count: int) -> list[tuple[float, float]]:
    return [(WIDTH / 2 + RADIUS * math.cos(2 * math.pi * i / count - math.pi / 2),
             HEIGHT / 2 + RADIUS * math.sin(2 * math.pi * i / count - math.pi / 2)) for i in range(count)]


def _partner(p: Mapping[str, Any], xy: tuple[float, float], words: str, url: str) -> str:
    """A partner: a link around its marker and its short name, the name placed away from the middle."""
    x, y = xy
    colour = HELIX_COLOURS.get(p.get("helix") or "unknown", HELIX_COLOURS["unknown"])
    anchor = "start" if x > WIDTH / 2 + 1 else "end" if x < WIDTH / 2 - 1 else "middle"
    dx = 14 if anchor == "start" else -14 if anchor == "end" else 0
    dy = -16 if y < HEIGHT / 2 and anchor == "middle" else 24 if anchor == "middle" else 4
    return (f'<a href="{escape(url)}" aria-label="{escape(words)}"><title>{escape(words)}</title>'
            + _marker(SHAPES.get(p.get("urban_rural") or "unknown", "circle"), x, y, 9, colour)
            + f'<text x="{x + dx:.1f}" y="{y + dy:.1f}" text-anchor="{anchor}" aria-hidden="true">'
              f'{escape(_short(p.get("name") or p["id"]))}</text></a>')


def render_ego_svg(payload: Mapping[str, Any], describe: Callable[[Mapping[str, Any]], str], title: str,
                   *, href: Callable[[str], str] = lambda org_id: "/organisations/" + quote(org_id, safe="")) -> str:
    """The SVG of an ego network. `describe(node)` says a node in words (name, helix, urban-rural type and,
    for a partner, shared projects) in the page's language; `title` names the whole drawing."""
    partners = list(payload.get("partners", []))
    centre = payload["centre"]
    where = {p["id"]: xy for p, xy in zip(partners, _positions(len(partners)), strict=True)}
    mid = (WIDTH / 2, HEIGHT / 2)
    top = max((p.get("weight", 1) for p in partners), default=1) or 1
    out = [f'<svg class="ego" viewBox="0 0 {WIDTH:.0f} {HEIGHT:.0f}" role="group" aria-labelledby="ego-title" '
           f'xmlns="http://www.w3.org/2000/svg">',
           f'<title id="ego-title">{escape(title)}</title>',
           "<style>.ego{display:block;width:100%;max-width:640px;height:auto}"
           ".ego a:focus rect,.ego a:focus circle,.ego a:focus polygon{stroke:#000;stroke-width:4}"
           ".ego a:focus{outline:3px solid #e07b00}"
           ".ego text{font:12px sans-serif;fill:#1a1a1a;paint-order:stroke;stroke:#fff;stroke-width:3px}</style>",
           '<g aria-hidden="true">']
    for link in payload.get("links", []):
        if link["a"] in where and link["b"] in where:
            (x1, y1), (x2, y2) = where[link["a"]], where[link["b"]]
            out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#b3b3b3" '
                       f'stroke-width="1"/>')
    for p in partners:
        x, y = where[p["id"]]
        width = 1 + 5 * (p.get("weight", 1) / top)
        out.append(f'<line x1="{mid[0]:.1f}" y1="{mid[1]:.1f}" x2="{x:.1f}" y2="{y:.1f}" stroke="#6b6b6b" '
                   f'stroke-width="{width:.1f}"/>')
    out.append("</g>")
    out.extend(_partner(p, where[p["id"]], describe(p), href(p["id"])) for p in partners)
    colour = HELIX_COLOURS.get(centre.get("helix") or "unknown", HELIX_COLOURS["unknown"])
    out.append(f'<g role="img" aria-label="{escape(describe(centre))}"><title>{escape(describe(centre))}</title>'
               + _marker(SHAPES.get(centre.get("urban_rural") or "unknown", "circle"), *mid, 15, colour) + "</g>")
    out.append("</svg>")
    return "".join(out)


def legend_marker(shape: str, helix: str = "unknown") -> str:
    """A small marker for a legend (decorative: the legend says it in words)."""
    colour = HELIX_COLOURS.get(helix, HELIX_COLOURS["unknown"])
    return (f'<svg class="swatch" width="20" height="20" viewBox="0 0 20 20" aria-hidden="true" focusable="false">'
            f'{_marker(SHAPES.get(shape, "circle"), 10, 10, 6, colour)}</svg>')
