"""The region flow map: NUTS outlines filled by urban-rural type, region links as lines coloured by pair type.

One offline HTML page drawn on the server as inline SVG: no script, no request for anything (a
Content-Security-Policy forbids it). Numbers show on hover (SVG <title>), each region links to its page,
a checkbox keeps only the links touching a rural region (CSS alone), and tables give the same regions and
links. Renders what `ecosystem.services.region_links.region_map` gives, in the language of the message
catalogue it is handed (its `regionmap.` keys) with that language's numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import urlencode

__all__ = ["MAX_DRAWN_LINKS", "PAIR_COLOURS", "URBAN_RURAL_TYPES", "Words", "render_region_map"]

MAX_DRAWN_LINKS = 1500
"""Lines drawn at most (the strongest); the table lists the same, the CSV every link."""
VIEW_WIDTH = 1000.0
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'"
EUROPE = (-25.0, 34.0, 45.0, 72.0)  # lon/lat frame used to fit the whole map (leaves out outermost regions)

PAIR_COLOURS: dict[str, str] = {  # Okabe-Ito (colour-blind safe); the pair type is also in each line's title
    "urban-urban": "#0072B2",
    "urban-intermediate": "#56B4E9",
    "urban-rural": "#D55E00",
    "intermediate-intermediate": "#E69F00",
    "intermediate-rural": "#CC79A7",
    "rural-rural": "#009E73",
}
UNKNOWN_COLOUR = "#8c8c8c"
URBAN_RURAL_TYPES = ("urban", "intermediate", "rural", "unknown")
"""The fills of the legend, in order; their names are the messages `regionmap.ur.<type>`."""
_PATTERNS = """<defs>
<pattern id="fill-urban" width="6" height="6" patternUnits="userSpaceOnUse">
<rect width="6" height="6" fill="#d9d9d9"/><path d="M0 0L6 6M6 0L0 6" stroke="#7a7a7a" stroke-width="0.8"/></pattern>
<pattern id="fill-intermediate" width="6" height="6" patternUnits="userSpaceOnUse">
<rect width="6" height="6" fill="#ececec"/><path d="M0 6L6 0" stroke="#9a9a9a" stroke-width="0.8"/></pattern>
<pattern id="fill-rural" width="6" height="6" patternUnits="userSpaceOnUse">
<rect width="6" height="6" fill="#f4f7ee"/><circle cx="3" cy="3" r="0.9" fill="#8a9a6a"/></pattern>
<pattern id="fill-unknown" width="6" height="6" patternUnits="userSpaceOnUse">
<rect width="6" height="6" fill="#ffffff"/></pattern>
</defs>"""
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1a1a1a;background:#fff}
header,main,footer{padding:0 12px}h1{font-size:1.3rem;margin:.6em 0 .3em}
.lead{margin:.2em 0 .6em;color:#333}
form.filters{display:flex;flex-wrap:wrap;gap:6px 12px;align-items:end;margin:.4em 0}
form.filters label{display:flex;flex-direction:column;font-size:.85rem}
form.filters input,form.filters select{font-size:1rem;min-height:32px}
.layout{display:flex;flex-wrap:wrap;gap:12px}
.map-wrap{flex:1 1 560px;min-width:0;border:1px solid #bbb}
.map-wrap svg{display:block;width:100%;height:auto;max-height:80vh;background:#eef3f8}
.legend{flex:0 1 260px;font-size:.9rem}.legend ul{list-style:none;padding:0;margin:.3em 0}
.legend li{display:flex;align-items:center;gap:6px;margin:2px 0}
.region path{stroke:#6b6b6b;stroke-width:.6;vector-effect:non-scaling-stroke}
.region.inside path{stroke:#222;stroke-width:1.2}.region.partner path{opacity:.55}
.region:hover path,.region:focus path{stroke:#000;stroke-width:2.5;opacity:1}
.link{stroke-linecap:round;vector-effect:non-scaling-stroke;opacity:.85}.link.out{opacity:.3}.link:hover{opacity:1}
.link.t-unknown{stroke-dasharray:4 3}
.country{fill:none;stroke:#333;stroke-width:1.4;vector-effect:non-scaling-stroke;pointer-events:none}
.edge-summary line{stroke:#555;stroke-width:1;stroke-dasharray:2 4;vector-effect:non-scaling-stroke;opacity:.5}
.edge-summary circle{fill:#fff;stroke:#333;stroke-width:1.5;vector-effect:non-scaling-stroke;opacity:.92}
.edge-summary text{font:600 12px system-ui,sans-serif;text-anchor:middle;fill:#111;paint-order:stroke;
stroke:#fff;stroke-width:3px}
#only-rural:checked ~ .layout .edge-summaries{display:none}
.switch{display:inline-flex;gap:6px;align-items:center;font-weight:600;margin:.4em 0;min-height:32px}
#only-rural:checked ~ .layout .link:not(.rural),#only-rural:checked ~ .tables tr.link-row:not(.rural){display:none}
.tables{overflow-x:auto}table{border-collapse:collapse;font-size:.85rem;margin:.4em 0 1em}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left}td.n{text-align:right}
caption{text-align:left;font-weight:600;padding:.3em 0}
a{color:#0b57a4}:focus{outline:3px solid #f0a000}
@media (max-width:600px){h1{font-size:1.1rem}.legend{flex-basis:100%}}
"""


# ---------------------------------------------------------------------------------------------- geometry

class Projection:
    """Equirectangular at the frame's middle latitude, scaled to VIEW_WIDTH (y grows southwards)."""

    def __init__(self, bbox: tuple[float, float, float, float]) -> None:
        lon0, lat0, lon1, lat1 = bbox
        self.k = math.cos(math.radians((lat0 + lat1) / 2))
        self.lon0, self.lat1 = lon0, lat1
        span = max((lon1 - lon0) * self.k, 1e-6)
        self.scale = VIEW_WIDTH / span
        self.height = max((lat1 - lat0) * self.scale, 1.0)

    def __call__(self, lon: float, lat: float) -> tuple[float, float]:
        return ((lon - self.lon0) * self.k * self.scale, (self.lat1 - lat) * self.scale)


def _polygons(geometry: Mapping[str, Any]) -> list[list[list[list[float]]]]:
    coords = geometry.get("coordinates") or []
    return [coords] if geometry.get("type") == "Polygon" else list(coords)


def _rings(geometries: Iterable[Mapping[str, Any]]) -> Iterable[list[list[float]]]:
    for geometry in geometries:
        for polygon in _polygons(geometry):
            yield from polygon


def bbox_of(geometries: Iterable[Mapping[str, Any]]) -> tuple[float, float, float, float] | None:
    """(min lon, min lat, max lon, max lat) of the geometries, None when empty."""
    xs: list[float] = []
    ys: list[float] = []
    for ring in _rings(geometries):
        xs.extend(p[0] for p in ring)
        ys.extend(p[1] for p in ring)
    return (min(xs), min(ys), max(xs), max(ys)) if xs else None


def simplify(points: Sequence[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    """Ramer-Douglas-Peucker on a projected ring (first and last point kept)."""
    if len(points) < 4:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (ax, ay), (bx, by) = points[first], points[last]
        dx, dy = bx - ax, by - ay
        norm = math.hypot(dx, dy) or 1e-12
        far, index = 0.0, -1
        for i in range(first + 1, last):
            px, py = points[i]
            d = abs(dy * (px - ax) - dx * (py - ay)) / norm if (dx or dy) else math.hypot(px - ax, py - ay)
            if d > far:
                far, index = d, i
        if index > 0 and far > tolerance:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return [p for p, k in zip(points, keep, strict=True) if k]


def path_data(geometries: Iterable[Mapping[str, Any]], project: Projection, tolerance: float) -> str:
    """SVG path data of the geometries' rings, projected and simplified; rings smaller than a pixel dropped."""
    parts = []
    for ring in _rings(geometries):
        points = simplify([project(p[0], p[1]) for p in ring], tolerance)
        if len(points) < 3:
            continue
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        if max(xs) - min(xs) < tolerance and max(ys) - min(ys) < tolerance:
            continue
        parts.append("M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in points) + "Z")
    return "".join(parts)


def _fit(payload: Mapping[str, Any]) -> tuple[float, float, float, float]:
    """The lon/lat frame to show: the area's regions (within Europe's frame when they reach beyond it)."""
    shapes = payload.get("shapes") or {}
    inside = [g for r in payload["regions"] if r["inside"] for g in shapes.get(r["code"], [])]
    box = bbox_of(inside) or bbox_of(g for gs in shapes.values() for g in gs)
    if box is None:
        points = [(r["lon"], r["lat"]) for r in payload["regions"] if r.get("lon") is not None]
        box = (min(p[0] for p in points), min(p[1] for p in points), max(p[0] for p in points),
               max(p[1] for p in points)) if points else EUROPE
    clipped = (max(box[0], EUROPE[0]), max(box[1], EUROPE[1]), min(box[2], EUROPE[2]), min(box[3], EUROPE[3]))
    if clipped[0] < clipped[2] and clipped[1] < clipped[3]:
        box = clipped
    pad_x = max((box[2] - box[0]) * 0.08, 0.3)
    pad_y = max((box[3] - box[1]) * 0.08, 0.2)
    return (box[0] - pad_x, box[1] - pad_y, box[2] + pad_x, box[3] + pad_y)


# ---------------------------------------------------------------------------------------------- text

class Words:
    """The page's words: the `regionmap.` messages of a catalogue (key -> str.format text; a missing key shows
    itself) and a number formatter for the same language (default: English digits grouping)."""

    def __init__(self, messages: Mapping[str, str] | None = None, lang: str = "en",
                 number: Callable[[int], str] | None = None) -> None:
        self.messages = messages or {}
        self.lang = lang
        self.number = number or (lambda value: f"{value:,}")

    def __call__(self, key: str, **values: Any) -> str:
        text = self.messages.get(f"regionmap.{key}") or f"regionmap.{key}"
        return text.format(**values) if values else text

    def num(self, value: int) -> str:
        return self.number(value)

    def helix(self, value: str) -> str:
        return self(f"helix.{value}")

    def urban_rural(self, value: str | None) -> str:
        return self(f"ur.{value if value in URBAN_RURAL_TYPES else 'unknown'}")

    def pair(self, value: str) -> str:
        """A pair type (`urban-rural`); one the catalogue does not know is shown as it is."""
        return self.messages.get(f"regionmap.pair.{value}") or value


def _helix_text(helix: Mapping[str, int], t: Words) -> str:
    parts = [f"{t.helix(k)} {t.num(v)}" for k, v in helix.items() if v]
    return ", ".join(parts) or t("helix.none")


def _title(payload: Mapping[str, Any], t: Words) -> str:
    area = f"{payload.get('name') or payload.get('nuts')} ({payload['nuts']})" if payload.get("nuts") else t("europe")
    bits = [t("title", area=area, level=payload["level"])]
    flt = payload.get("filters") or {}
    if flt.get("helix"):
        bits.append(f" {t('and')} ".join(t.helix(h) for h in flt["helix"]))
    if flt.get("year_from") or flt.get("year_to"):
        bits.append(t("title_years", start=flt.get("year_from") or "…", end=flt.get("year_to") or "…"))
    return ", ".join(bits)


def _region_tooltip(region: Mapping[str, Any], inner: int, t: Words) -> str:
    return t("region_tooltip", name=region["name"], code=region["code"], type=t.urban_rural(region["urban_rural"]),
             organisations=t.num(region["organisations"]), helix=_helix_text(region["helix"], t), inner=t.num(inner))


def _link_tooltip(link: Mapping[str, Any], names: Mapping[str, str], t: Words) -> str:
    return t("link_tooltip", a=f"{names.get(link['a'], link['a'])} ({link['a']})",
             b=f"{names.get(link['b'], link['b'])} ({link['b']})", pairs=t.num(link["organisation_pairs"]),
             projects=t.num(link["shared_projects"]), type=t.pair(link["pair_type"]))


# ---------------------------------------------------------------------------------------------- SVG

def _svg_regions(payload: Mapping[str, Any], project: Projection, tolerance: float,
                 inner: Mapping[str, int], t: Words) -> list[str]:
    shapes = payload.get("shapes") or {}
    out = []
    for region in sorted(payload["regions"], key=lambda r: r["inside"]):  # the area's regions on top
        geometries = shapes.get(region["code"])
        d = path_data(geometries, project, tolerance) if geometries else ""
        if not d:
            continue
        cls = "inside" if region["inside"] else "partner"
        out.append(f'<a class="region {cls}" href="/regions/{escape(region["code"])}" '
                   f'data-code="{escape(region["code"])}"><path d="{d}" fill="url(#fill-{region["urban_rural"]})">'
                   f'<title>{escape(_region_tooltip(region, inner.get(region["code"], 0), t))}</title></path></a>')
    return out


def _svg_links(links: Sequence[Mapping[str, Any]], points: Mapping[str, tuple[float, float]],
               names: Mapping[str, str], t: Words) -> list[str]:
    strongest = max((lk["organisation_pairs"] for lk in links), default=1)
    out = []
    for link in links:
        (x1, y1), (x2, y2) = points[link["a"]], points[link["b"]]
        width = 1.0 + 9.0 * math.sqrt(link["organisation_pairs"] / strongest)
        colour = PAIR_COLOURS.get(link["pair_type"], UNKNOWN_COLOUR)
        cls = "link" + (" rural" if link["touches_rural"] else "") + (" out" if link["leaves_area"] else "") + \
            (" t-unknown" if link["pair_type"] not in PAIR_COLOURS else "")
        out.append(f'<line class="{cls}" data-type="{escape(link["pair_type"])}" x1="{x1:.1f}" y1="{y1:.1f}" '
                   f'x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" stroke-width="{width:.1f}">'
                   f"<title>{escape(_link_tooltip(link, names, t))}</title></line>")
    return out


def drawable_links(payload: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], dict[str, tuple[float, float]]]:
    """The strongest links between two different regions that both have a label point (at most
    MAX_DRAWN_LINKS), and the label point of each region (lon, lat)."""
    points = {r["code"]: (r["lon"], r["lat"]) for r in payload["regions"]
              if r.get("lon") is not None and r.get("level") == payload["level"]}
    links = [lk for lk in payload["links"] if lk["a"] != lk["b"] and lk["a"] in points and lk["b"] in points]
    return links[:MAX_DRAWN_LINKS], points


def _drawing_order(link: Mapping[str, Any]) -> tuple[bool, int]:
    """Links leaving the area first, then the area's own; weakest first (strong ones end up on top)."""
    return (not link["leaves_area"], link["organisation_pairs"])


def _svg_countries(payload: Mapping[str, Any], project: Projection, tolerance: float) -> list[str]:
    """Country borders (NUTS level 0) over the region fills."""
    out = []
    for code, geometries in sorted((payload.get("countries") or {}).items()):
        d = path_data(geometries, project, tolerance)
        if d:
            out.append(f'<path class="country" data-code="{escape(code)}" d="{d}"/>')
    return ['<g class="countries" aria-hidden="true">', *out, "</g>"] if out else []


EDGE_SUMMARIES = 24
"""Partner countries summarised at the edge of the map at most (the strongest; the table lists them all)."""


def _edge_point(centre: tuple[float, float], target: tuple[float, float], width: float, height: float,
                inset: float) -> tuple[float, float]:
    """Where the ray from `centre` to `target` meets the frame (inset), or `target` when it is inside it."""
    cx, cy = centre
    tx, ty = target
    if inset <= tx <= width - inset and inset <= ty <= height - inset:
        return tx, ty
    dx, dy = tx - cx, ty - cy
    scales = [s for s in ((width - inset - cx) / dx if dx > 0 else (inset - cx) / dx if dx < 0 else math.inf,
                          (height - inset - cy) / dy if dy > 0 else (inset - cy) / dy if dy < 0 else math.inf)
              if s > 0]
    k = min(scales, default=0.0)
    return cx + dx * k, cy + dy * k


def _svg_edge_summaries(payload: Mapping[str, Any], project: Projection, t: Words) -> list[str]:
    """The links leaving the area, one marker per partner country at the edge of the map in its direction,
    sized by organisation pairs."""
    rows = [c for c in payload.get("outside_by_country") or [] if c.get("lon") is not None][:EDGE_SUMMARIES]
    if not rows or not payload.get("nuts"):
        return []
    centre = (VIEW_WIDTH / 2, project.height / 2)
    strongest = max(c["organisation_pairs"] for c in rows)
    out = ['<g class="edge-summaries">']
    labelled: list[tuple[float, float]] = []  # the strongest first: a weaker marker's label gives way
    for row in rows:
        x, y = _edge_point(centre, project(row["lon"], row["lat"]), VIEW_WIDTH, project.height, 26.0)
        radius = 5.0 + 13.0 * math.sqrt(row["organisation_pairs"] / strongest)
        kinds = ", ".join(f"{t.pair(k)} {t.num(v)}"
                          for k, v in sorted(row["by_pair_type"].items(), key=lambda kv: -kv[1]))
        tip = t("edge_tooltip", country=row["country"], pairs=t.num(row["organisation_pairs"]),
                regions=t.num(row["regions"]), projects=t.num(row["shared_projects"]), kinds=kinds)
        text = ""
        if not any(abs(x - lx) < 62 and abs(y - ly) < 18 for lx, ly in labelled):
            labelled.append((x, y))
            text = (f'<text x="{x:.1f}" y="{y + 4:.1f}">{escape(row["country"])} '
                    f'{t.num(row["organisation_pairs"])}</text>')
        out.append(f'<g class="edge-summary" data-country="{escape(row["country"])}" '
                   f'data-pairs="{row["organisation_pairs"]}"><title>{escape(tip)}</title>'
                   f'<line x1="{centre[0]:.1f}" y1="{centre[1]:.1f}" x2="{x:.1f}" y2="{y:.1f}"/>'
                   f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}"/>{text}</g>')
    out.append("</g>")
    return out


def render_svg(payload: Mapping[str, Any], t: Words | None = None) -> str:
    """The map: outlines, country borders, then links (weakest first, so strong ones stay on top), then the
    links leaving the area summarised per partner country at the edge."""
    t = t or Words()
    project = Projection(_fit(payload))
    tolerance = 0.6 * (VIEW_WIDTH / 1000)
    names = {r["code"]: r["name"] for r in payload["regions"]}
    inner = {lk["a"]: lk["organisation_pairs"] for lk in payload["links"] if lk["a"] == lk["b"]}
    links, lonlat = drawable_links(payload)
    points = {code: project(lon, lat) for code, (lon, lat) in lonlat.items()}
    body = [*_svg_regions(payload, project, tolerance, inner, t), *_svg_countries(payload, project, tolerance),
            '<g class="links">', *_svg_links(sorted(links, key=_drawing_order), points, names, t), "</g>",
            *_svg_edge_summaries(payload, project, t)]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {VIEW_WIDTH:.0f} {project.height:.0f}" '
            f'role="img" aria-labelledby="map-title" preserveAspectRatio="xMidYMid meet">'
            f'<title id="map-title">{escape(_title(payload, t))}</title>{_PATTERNS}{"".join(body)}</svg>')


# ---------------------------------------------------------------------------------------------- page

def _swatch(colour: str, dashed: bool = False) -> str:
    dash = ' stroke-dasharray="4 3"' if dashed else ""
    return (f'<svg width="34" height="14" aria-hidden="true"><line x1="2" y1="7" x2="32" y2="7" stroke="{colour}" '
            f'stroke-width="5"{dash}/></svg>')


def _legend(payload: Mapping[str, Any], t: Words) -> str:
    counts = payload["totals"]["organisation_pairs_by_pair_type"]
    links = [f"<li>{_swatch(c)} {escape(t('legend_pairs', type=t.pair(k), pairs=t.num(counts.get(k, 0))))}</li>"
             for k, c in PAIR_COLOURS.items()]
    unknown = sum(v for k, v in counts.items() if k not in PAIR_COLOURS)
    links.append(f"<li>{_swatch(UNKNOWN_COLOUR, dashed=True)} {escape(t('legend_unknown', pairs=t.num(unknown)))}</li>")
    fills = [f'<li><svg width="22" height="16" aria-hidden="true">{_PATTERNS}<rect width="22" height="16" '
             f'fill="url(#fill-{k})" stroke="#555"/></svg> {escape(t.urban_rural(k))}</li>' for k in URBAN_RURAL_TYPES]
    return (f'<section class="legend" aria-label="{escape(t("legend"))}"><h2>{escape(t("legend"))}</h2>'
            f'<p>{escape(t("legend_links"))}</p>'
            f'<ul>{"".join(links)}</ul><p>{escape(t("legend_regions"))}</p>'
            f'<ul>{"".join(fills)}</ul></section>')


def _filters_form(payload: Mapping[str, Any], t: Words) -> str:
    flt = payload.get("filters") or {}
    helix = (flt.get("helix") or [""])[0]
    options = "".join(f'<option value="{h}"{" selected" if h == helix else ""}>{escape(t.helix(h or "all"))}'
                      "</option>" for h in ("", "academia", "industry", "government", "civil_society"))
    level = "".join(f'<option value="{lv}"{" selected" if lv == payload["level"] else ""}>NUTS {lv}</option>'
                    for lv in (2, 3))
    return ('<form class="filters" method="get" action="/maps/regions">'
            f'<label>{escape(t("form_area"))}<input name="nuts" value="{escape(payload.get("nuts") or "")}" '
            'maxlength="5" size="6"></label>'
            f'<label>{escape(t("form_level"))}<select name="level">{level}</select></label>'
            f'<label>{escape(t("form_helix"))}<select name="helix">{options}</select></label>'
            f'<label>{escape(t("form_year_from"))}<input name="year_from" type="number" min="1950" max="2100" '
            f'value="{flt.get("year_from") or ""}"></label>'
            f'<label>{escape(t("form_year_to"))}<input name="year_to" type="number" min="1950" max="2100" '
            f'value="{flt.get("year_to") or ""}"></label><input type="hidden" name="lang" value="{escape(t.lang)}">'
            f'<button type="submit">{escape(t("form_show"))}</button></form>')


def _tables(payload: Mapping[str, Any], csv_query: str, t: Words) -> str:
    names = {r["code"]: r["name"] for r in payload["regions"]}
    region_rows = "".join(
        f'<tr><td><a href="/regions/{escape(r["code"])}">{escape(r["code"])}</a></td><td>{escape(r["name"])}</td>'
        f'<td>{escape(t.urban_rural(r["urban_rural"]))}</td>'
        f'<td>{escape(t("role_inside") if r["inside"] else t("role_partner"))}</td>'
        f'<td class="n">{t.num(r["organisations"])}</td>'
        f'<td>{escape(_helix_text(r["helix"], t))}</td></tr>' for r in payload["regions"])
    shown = payload["links"][:MAX_DRAWN_LINKS]
    link_rows = "".join(
        f'<tr class="link-row{" rural" if lk["touches_rural"] else ""}"><td>{escape(lk["a"])} '
        f'{escape(names.get(lk["a"], ""))}</td><td>{escape(lk["b"])} {escape(names.get(lk["b"], ""))}</td>'
        f'<td class="n">{t.num(lk["organisation_pairs"])}</td><td class="n">{t.num(lk["shared_projects"])}</td>'
        f'<td>{escape(t.pair(lk["pair_type"]))}</td></tr>' for lk in shown)
    more = (f"<p>{escape(t('more_links', shown=t.num(len(shown)), total=t.num(len(payload['links']))))}</p>"
            if len(payload["links"]) > len(shown) else "")
    col = {k: f'<th scope="col">{escape(t(k))}</th>' for k in (
        "col_code", "col_name", "col_type", "col_role", "col_organisations", "col_helix", "col_region", "col_pairs",
        "col_projects", "col_pair_type")}
    return (f'<section class="tables" aria-label="{escape(t("tables_label"))}"><h2>{escape(t("tables"))}</h2>'
            f'<p>{escape(t("csv"))} <a href="/api/v1/region-links.csv?{escape(csv_query)}" download>'
            f'{escape(t("csv_links"))}</a>, <a href="/api/v1/region-links.csv?{escape(csv_query + "&table=regions")}" '
            f'download>{escape(t("csv_regions"))}</a>.</p>'
            f'<table id="regions-table"><caption>{escape(t("caption_regions"))}</caption><thead><tr>'
            f'{col["col_code"]}{col["col_name"]}{col["col_type"]}{col["col_role"]}{col["col_organisations"]}'
            f'{col["col_helix"]}</tr></thead>'
            f"<tbody>{region_rows}</tbody></table>{more}"
            f"{_country_table(payload, t)}"
            f'<table id="links-table"><caption>{escape(t("caption_links"))}</caption><thead><tr>'
            f'{col["col_region"]}{col["col_region"]}{col["col_pairs"]}{col["col_projects"]}{col["col_pair_type"]}'
            f"</tr></thead><tbody>{link_rows}</tbody></table></section>")


def _country_table(payload: Mapping[str, Any], t: Words) -> str:
    rows = payload.get("outside_by_country") or []
    if not rows:
        return ""
    body = "".join(f'<tr><td>{escape(c["country"])}</td><td class="n">{t.num(c["regions"])}</td>'
                   f'<td class="n">{t.num(c["organisation_pairs"])}</td>'
                   f'<td class="n">{t.num(c["shared_projects"])}</td>'
                   f'<td class="n">{t.num(sum(v for k, v in c["by_pair_type"].items() if "rural" in k.split("-")))}'
                   "</td></tr>" for c in rows)
    head = "".join(f'<th scope="col">{escape(t(k))}</th>' for k in (
        "col_country", "col_partner_regions", "col_pairs", "col_projects", "col_rural_pairs"))
    return (f'<table id="countries-table"><caption>{escape(t("caption_countries"))}</caption><thead><tr>{head}</tr>'
            f"</thead><tbody>{body}</tbody></table>")


def _query(payload: Mapping[str, Any]) -> str:
    flt = payload.get("filters") or {}
    params: list[tuple[str, Any]] = [("level", payload["level"])]
    if payload.get("nuts"):
        params.append(("nuts", payload["nuts"]))
    params += [("helix", h) for h in flt.get("helix") or []]
    params += [(k, flt[k]) for k in ("year_from", "year_to") if flt.get(k)]
    return urlencode(params)


def render_region_map(payload: Mapping[str, Any], notice: str = "", messages: Mapping[str, str] | None = None,
                      lang: str = "en", number: Callable[[int], str] | None = None,
                      other_lang: str | None = None) -> str:
    """The whole offline page for a `region_map` payload, in `lang`: `messages` is that language's catalogue
    (its `regionmap.` keys), `number` writes a number the way it does; `other_lang` (a language code) adds a
    link to the same page in that language; `notice` is the footer's data notice."""
    t = Words(messages, lang, number)
    title = _title(payload, t)
    totals = payload["totals"]
    drawn, _ = drawable_links(payload)
    lead = t("lead", regions=t.num(totals["regions"]), organisations=t.num(totals["organisations"]),
             pairs=t.num(totals["organisation_pairs"]), inside=t.num(totals["organisation_pairs_inside"]),
             outside=t.num(totals["organisation_pairs_outside"]), partners=t.num(totals["partner_regions"]),
             drawn=t.num(len(drawn)), links=t.num(totals["links"]))
    switch = (f'<p class="lang-switch"><a href="?{escape(_query(payload) + "&lang=" + other_lang)}" '
              f'lang="{escape(other_lang)}" hreflang="{escape(other_lang)}">{escape(t("other_language"))}</a></p>'
              if other_lang else "")
    return f"""<!DOCTYPE html>
<html lang="{escape(lang)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<title>{escape(title)} · helixmap</title><style>{_CSS}</style></head>
<body data-regions="{len(payload['regions'])}" data-links="{len(drawn)}">
<header><h1>{escape(title)}</h1><p class="lead">{escape(lead)}</p>{_filters_form(payload, t)}{switch}</header>
<main><input type="checkbox" id="only-rural"><label class="switch" for="only-rural">{escape(t("only_rural"))}</label>
<div class="layout"><div class="map-wrap">{render_svg(payload, t)}</div>{_legend(payload, t)}</div>
{_tables(payload, _query(payload), t)}</main>
<footer><p>{escape(notice)}</p></footer></body></html>
"""
