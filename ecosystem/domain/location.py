"""Placing organisations in NUTS 2021 regions: postcodes, point in polygon, NUTS versions, the resolver.

Order of preference (PRODUCT.md): an explicit NUTS code, a postcode, coordinates, a city name. Every
resolved location gets its NUTS3 region's urban-rural type and, where the municipality is known, the
municipality's degree of urbanisation.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ecosystem.domain.models import Degurba, Location, Municipality, Region, UrbanRural
from ecosystem.domain.municipalities import lau_code_forms
from ecosystem.domain.nuts import COUNTRY_ALIASES, normalise_country
from ecosystem.domain.places import CITY_ALIASES, PlaceIndex
from ecosystem.domain.text import fold

__all__ = [
    "POSTCODE_DIGITS", "LocationResolver", "NutsConversion", "NutsVersions", "PostcodeLookup", "RegionShape",
    "ShapeIndex", "normalise_postcode", "point_in_polygon", "postcode_lookup_from_rows",
    "postcode_prefix_rows",
]

PostcodeLookup = Callable[[str, str], "tuple[str, str] | None"]

# ---------------------------------------------------------------------------------------------- records

@dataclass(frozen=True)
class RegionShape:
    """A NUTS region's boundary: a GeoJSON Polygon or MultiPolygon geometry (lon, lat; WGS84)."""

    nuts_id: str
    level: int
    geometry: dict[str, Any]


@dataclass(frozen=True)
class NutsConversion:
    """Part of `from_code` (in `from_version`) that lies in `to_code` (in `to_version`).

    `weight` is that part's share of `from_code`'s 2021 population (its area share where the region is
    uninhabited), so a split region resolves to its largest part first.
    """

    from_version: str
    from_code: str
    to_version: str
    to_code: str
    weight: float


# ---------------------------------------------------------------------------------------------- postcodes

# Countries whose postcodes are all digits, with the number of digits: a shorter number lost its leading
# zeros (CORDIS JSON gives Finnish 00912 as the integer 912) and is zero-padded. Checked against the
# TERCET postcode table (postcode_to_nuts3_2024.csv.gz) for every country it covers.
POSTCODE_DIGITS = {
    "AT": 4, "BE": 4, "BG": 4, "CH": 4, "CY": 4, "DK": 4, "HU": 4, "LI": 4, "LU": 4, "MK": 4, "NO": 4,
    "SI": 4, "LV": 4, "AL": 4,
    "CZ": 5, "DE": 5, "EE": 5, "EL": 5, "ES": 5, "FI": 5, "FR": 5, "HR": 5, "IT": 5, "LT": 5, "PL": 5,
    "RS": 5, "SE": 5, "SK": 5, "TR": 5, "ME": 5, "BA": 5, "XK": 5, "UA": 5,
    "IS": 3,
    "RO": 6,
}

_PREFIX = re.compile(r"^[A-Z]{1,3}\s*[-\u2010-\u2013]?\s*(?=\d)")   # D-80331, DK-2100, LV-1001, FIN 00014
_DIGIT_GROUPS = re.compile(r"(\d+)(?:[\s.\-\u2010-\u2013/]+(\d+))?")
_NL = re.compile(r"(\d{4})\s*([A-Z]{2})?")
_PT = re.compile(r"(\d{4})(?:[\s.\-\u2010-\u2013]*(\d{3})(?!\d))?")
_IE_EIRCODE = re.compile(r"([AC-FHKNPRTV-Y])([0-9O]{2}|6W)")
_IE_DUBLIN = re.compile(r"(?:(?:CO\.?\s*)?DUBLIN\s*|D\s*)?(\d{1,2})(W?)")
_MT = re.compile(r"([A-Z]{3})\s*\d{0,4}")
_UK = re.compile(r"([A-Z]{1,2}\d[A-Z\d]?)\s*(\d[A-Z]{2})")
_NOT_ALNUM = re.compile(r"[^0-9A-Z]+")


def normalise_postcode(country: str | None, raw: str | int | float | None) -> str | None:
    """The canonical form of a postcode, applied alike to the postcode table and to source records.

    Upper-case, no spaces or separators, country prefixes (``D-``, ``DK-``, ``LV-``) removed, lost
    leading zeros restored (FI 912 -> 00912), a full Irish Eircode reduced to its routing key (the table
    holds only those: ``D02 X285`` -> ``D02``, old ``Dublin 4`` -> ``D04``), a Maltese code to its
    three letters, NL ``1011 AB`` -> ``1011AB``, PT ``1000-001`` -> ``1000001`` (``4560-30`` -> ``4560``).
    None when nothing usable is left.
    """
    text = _postcode_text(raw)
    if text is None:
        return None
    cc = normalise_country(country)
    digits = POSTCODE_DIGITS.get(cc or "")
    if digits is not None:
        return _numeric(text, digits)
    own_form = _POSTCODE_FORMS.get(cc or "")
    return own_form(text) if own_form is not None else _alphanumeric(text)


def _postcode_text(raw: str | int | float | None) -> str | None:
    """A postcode as upper-case text; a number (JSON exports) as its digits; None for nothing usable."""
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, float):
        if not math.isfinite(raw) or raw != int(raw) or raw < 0:
            return None
        raw = int(raw)
    if isinstance(raw, int):
        return str(raw) if raw >= 0 else None
    text = str(raw).strip().upper()
    return text or None


def _alphanumeric(text: str) -> str | None:
    """The letters and digits of a postcode (countries without a form of their own)."""
    return _NOT_ALNUM.sub("", text) or None


def _dutch(text: str) -> str | None:
    """NL: four digits and two letters, ``1011 AB`` -> ``1011AB`` (the letters may be missing)."""
    if len(text) == 7 and text[4] == " " and text[:4].isdigit() and text[5:].isalpha():
        return text[:4] + text[5:]
    m = _NL.search(_strip_prefix(text))
    return (m.group(1) + (m.group(2) or "")) if m else None


def _portuguese(text: str) -> str | None:
    """PT: four digits and three, ``1000-001`` -> ``1000001`` (a short suffix is dropped: ``4560-30`` -> ``4560``)."""
    if len(text) == 8 and text[4] == "-" and text[:4].isdigit() and text[5:].isdigit():
        return text[:4] + text[5:]
    m = _PT.search(_strip_prefix(text))
    return (m.group(1) + (m.group(2) or "")) if m else None


def _maltese(text: str) -> str | None:
    """MT: the three letters of ``VLT 1234``."""
    m = _MT.match(text)
    return m.group(1) if m else None


def _british(text: str) -> str | None:
    """UK: outward and inward code without the space (``SW1A 1AA`` -> ``SW1A1AA``), else letters and digits."""
    m = _UK.match(text.replace(" ", "")) or _UK.match(text)
    return m.group(1) + m.group(2) if m else _alphanumeric(text)


def _strip_prefix(text: str) -> str:
    return _PREFIX.sub("", text, count=1) if text[:1].isalpha() else text


def _numeric(text: str, digits: int) -> str | None:
    if text.isdigit():
        return text if len(text) >= digits else text.zfill(digits)
    m = _DIGIT_GROUPS.search(_strip_prefix(text))
    if not m:
        return None
    code = m.group(1)
    second = m.group(2)
    if second and len(code) < digits and len(code) + len(second) <= digits:
        code += second
    if len(code) < digits:
        code = code.zfill(digits)
    return code


def _eircode_key(text: str) -> str | None:
    compact = text.replace(" ", "")
    m = _IE_EIRCODE.match(compact)
    if m and not compact.startswith("DUBLIN"):
        return m.group(1) + m.group(2).replace("O", "0")
    m = _IE_DUBLIN.fullmatch(text.strip(" .,"))
    if m:
        district = int(m.group(1))
        if 1 <= district <= 24:
            return f"D{district}W" if m.group(2) else f"D{district:02d}"
    return None


# Countries whose postcodes are not all digits, each with its own form.
_POSTCODE_FORMS: dict[str, Callable[[str], str | None]] = {
    "NL": _dutch, "PT": _portuguese, "IE": _eircode_key, "MT": _maltese, "UK": _british,
}


def postcode_prefix_rows(rows: Iterable[tuple[str, str, str]], *,
                         min_codes: int = 3) -> Iterator[tuple[str, str, str]]:
    """Extra (country, prefix, nuts3) rows for the shortest prefixes whose postcodes (at least
    `min_codes` of them) all lie in one NUTS3.

    With them, a postcode missing from the table (a new code, a French CEDEX, a 4-digit Dutch or
    Portuguese code without its suffix) is found by its longest prefix that the table vouches for:
    the resolver tries the whole code, then ever shorter prefixes. No prefix equals a real code.
    `rows` are normalised table rows (as `importers.regions.parse_postcodes` yields them).
    """
    by_country: dict[str, dict[str, str]] = defaultdict(dict)
    for country, postcode, nuts3 in rows:
        by_country[country][postcode] = nuts3
    for country, codes in by_country.items():
        for prefix, region in _vouched_prefixes(codes, min_codes):
            yield country, prefix, region


def _vouched_prefixes(codes: dict[str, str], min_codes: int) -> Iterator[tuple[str, str]]:
    """(prefix, nuts3) for the shortest prefixes of one country's postcodes (`codes`: postcode -> nuts3) whose
    postcodes, at least `min_codes` of them, all lie in one NUTS3."""
    prefix_regions: dict[str, str | None] = {}
    counts: Counter[str] = Counter()
    for postcode, nuts3 in codes.items():
        for n in range(1, len(postcode)):
            p = postcode[:n]
            counts[p] += 1
            seen = prefix_regions.get(p, "")
            if seen == "":
                prefix_regions[p] = nuts3
            elif seen is not None and seen != nuts3:
                prefix_regions[p] = None

    def vouches(prefix: str) -> bool:
        return prefix_regions.get(prefix) is not None and counts[prefix] >= min_codes and prefix not in codes

    for prefix, region in prefix_regions.items():
        if region is not None and vouches(prefix) and not vouches(prefix[:-1]):
            yield prefix, region


def postcode_lookup_from_rows(version: str, rows: Iterable[tuple[str, str, str]], *,
                              prefixes: bool = True) -> PostcodeLookup:
    """An in-memory `postcode_lookup` over normalised table rows (plus `postcode_prefix_rows`)."""
    rows = list(rows)
    table = {(country, postcode): nuts3 for country, postcode, nuts3 in rows}
    if prefixes:
        for country, prefix, nuts3 in postcode_prefix_rows(rows):
            table.setdefault((country, prefix), nuts3)

    def lookup(country: str, postcode: str) -> tuple[str, str] | None:
        nuts3 = table.get((country, postcode))
        return (nuts3, version) if nuts3 else None

    return lookup


# ---------------------------------------------------------------------------------------------- polygons

def point_in_polygon(lon: float, lat: float, geometry: dict[str, Any]) -> bool:
    """Whether (lon, lat) lies inside a GeoJSON Polygon or MultiPolygon (holes excluded; even-odd rule)."""
    kind = geometry.get("type")
    coords = geometry.get("coordinates") or []
    polygons = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
    for polygon in polygons:
        if polygon and _in_ring(lon, lat, polygon[0]) and not any(_in_ring(lon, lat, h) for h in polygon[1:]):
            return True
    return False


def _in_ring(x: float, y: float, ring: Sequence[Sequence[float]]) -> bool:
    inside = False
    x1, y1 = ring[-1][0], ring[-1][1]
    for point in ring:
        x2, y2 = point[0], point[1]
        if (y2 > y) != (y1 > y) and x < (x1 - x2) * (y - y2) / (y1 - y2) + x2:
            inside = not inside
        x1, y1 = x2, y2
    return inside


class _Part:
    """One polygon of a region: bounding box, outer ring and holes as tuples of (x, y)."""

    __slots__ = ("nuts_id", "minx", "miny", "maxx", "maxy", "outer", "holes")

    def __init__(self, nuts_id: str, polygon: list[list[list[float]]]) -> None:
        self.nuts_id = nuts_id
        self.outer = tuple((float(p[0]), float(p[1])) for p in polygon[0])
        self.holes = tuple(tuple((float(p[0]), float(p[1])) for p in ring) for ring in polygon[1:])
        xs = [p[0] for p in self.outer]
        ys = [p[1] for p in self.outer]
        self.minx, self.maxx, self.miny, self.maxy = min(xs), max(xs), min(ys), max(ys)

    def contains(self, x: float, y: float) -> bool:
        if not (self.minx <= x <= self.maxx and self.miny <= y <= self.maxy):
            return False
        return _in_ring(x, y, self.outer) and not any(_in_ring(x, y, h) for h in self.holes)

    def distance(self, x: float, y: float) -> float:
        """Distance in degrees (longitude scaled by cos(latitude)) from the point to the boundary."""
        k = math.cos(math.radians(y))
        best = math.inf
        for ring in (self.outer, *self.holes):
            (x1, y1) = ring[-1]
            for (x2, y2) in ring:
                dx, dy = (x2 - x1) * k, y2 - y1
                px, py = (x - x1) * k, y - y1
                seg = dx * dx + dy * dy
                t = 0.0 if seg == 0 else max(0.0, min(1.0, (px * dx + py * dy) / seg))
                ex, ey = px - t * dx, py - t * dy
                best = min(best, ex * ex + ey * ey)
                x1, y1 = x2, y2
        return math.sqrt(best)


KM_PER_DEGREE = 111.2  # kilometres in a degree of latitude (and of longitude at the equator)
LON_STRETCH = 3  # a degree of longitude shrinks with latitude: a margin in degrees times this covers it up to 70°N
GRID_CELL_DEG = 0.5  # side of a cell of the bounding-box grid, in degrees
SNAP_KM = 10.0  # a point this close to a region (a harbour institute in the generalised sea) is placed in it


class ShapeIndex:
    """Point-in-NUTS3 lookup over RegionShapes (other levels are ignored) with a bounding-box grid.

    A point just outside every polygon (coastlines are generalised: a harbour institute can fall in
    the sea) goes to the nearest region within `snap_km`, if any.
    """

    def __init__(self, shapes: Iterable[RegionShape], *, cell_deg: float = GRID_CELL_DEG,
                 snap_km: float = SNAP_KM) -> None:
        self._cell = cell_deg
        self._snap = snap_km / KM_PER_DEGREE
        self._snap_lon = self._snap * LON_STRETCH
        self._grid: dict[tuple[int, int], list[_Part]] = defaultdict(list)
        self._parts: dict[str, list[_Part]] = defaultdict(list)
        for shape in shapes:
            if shape.level != 3:
                continue
            geometry = shape.geometry
            coords = geometry.get("coordinates") or []
            polygons = [coords] if geometry.get("type") == "Polygon" else coords
            for polygon in polygons:
                if not polygon:
                    continue
                part = _Part(shape.nuts_id, polygon)
                self._parts[shape.nuts_id].append(part)
                for cx in range(self._key(part.minx - self._snap_lon), self._key(part.maxx + self._snap_lon) + 1):
                    for cy in range(self._key(part.miny - self._snap), self._key(part.maxy + self._snap) + 1):
                        self._grid[(cx, cy)].append(part)

    def _key(self, value: float) -> int:
        return math.floor(value / self._cell)

    @property
    def regions(self) -> set[str]:
        """The NUTS3 codes that have a shape."""
        return set(self._parts)

    def misplaced_labels(self, regions: Iterable[Region]) -> list[tuple[str, str | None]]:
        """(NUTS3 code, region found there) for regions whose label point is not inside their own shape.

        A check of a boundaries file against the typology: GISCO's 1:20M 2021 NUTS3 file labels
        Albania's polygons with each other's codes; its 1:60M file does not.
        """
        out = []
        for region in regions:
            if region.level == 3 and region.nuts_id in self._parts and region.label_lon is not None \
                    and region.label_lat is not None:
                found = self.lookup(region.label_lon, region.label_lat)
                if found != region.nuts_id:
                    out.append((region.nuts_id, found))
        return out

    def near(self, nuts_id: str, lon: float, lat: float, km: float | None = None) -> bool:
        """Whether (lon, lat) is inside region `nuts_id` or within `km` (default `snap_km`) of it."""
        limit = self._snap if km is None else km / KM_PER_DEGREE
        lon_limit = limit * LON_STRETCH
        for part in self._parts.get(nuts_id, ()):
            if part.minx - lon_limit <= lon <= part.maxx + lon_limit and part.miny - limit <= lat <= part.maxy + limit \
                    and (part.contains(lon, lat) or part.distance(lon, lat) <= limit):
                return True
        return False

    def lookup(self, lon: float, lat: float) -> str | None:
        """The NUTS3 region containing (lon, lat), else the nearest within `snap_km`, else None."""
        parts = self._grid.get((self._key(lon), self._key(lat)))
        if not parts:
            return None
        for part in parts:
            if part.contains(lon, lat):
                return part.nuts_id
        best, best_id = self._snap, None
        for part in parts:
            if part.minx - LON_STRETCH * best <= lon <= part.maxx + LON_STRETCH * best \
                    and part.miny - best <= lat <= part.maxy + best:
                d = part.distance(lon, lat)
                if d <= best:
                    best, best_id = d, part.nuts_id
        return best_id


# ---------------------------------------------------------------------------------------------- versions

MIN_SHARE = 0.01


class NutsVersions:
    """Converts NUTS codes of other versions (2016, 2024) to NUTS 2021 with the JRC converter tables.

    Split or merged regions map to several codes, largest population share first; parts under 1 %
    (boundary slivers) are dropped unless nothing else is left. Codes of other levels (NUTS1/2) are
    converted through the NUTS3 codes under them. A code the tables do not know is returned unchanged.
    """

    TARGET = "2021"

    def __init__(self, conversions: Iterable[NutsConversion]) -> None:
        forward: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
        backward: dict[str, dict[str, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
        for c in conversions:
            if c.to_version == self.TARGET and c.from_version != self.TARGET:
                parts = forward[c.from_version][c.from_code]
                parts[c.to_code] = parts.get(c.to_code, 0.0) + c.weight
            elif c.from_version == self.TARGET and c.to_version != self.TARGET:
                parts = backward[c.to_version][c.to_code]  # only used when a table comes one way only
                parts[c.from_code] = parts.get(c.from_code, 0.0) + c.weight
        for version, table in backward.items():
            if version not in forward:
                forward[version] = table
        self._tables: dict[str, dict[str, list[str]]] = {}
        self._weights: dict[str, dict[str, list[tuple[str, float]]]] = {}
        for version, table in forward.items():
            ranked: dict[str, list[tuple[str, float]]] = {}
            for code, parts in table.items():
                total = sum(parts.values()) or 1.0
                items = sorted(((t, w / total) for t, w in parts.items()), key=lambda tw: (-tw[1], tw[0]))
                ranked[code] = [items[0]] + [tw for tw in items[1:] if tw[1] >= MIN_SHARE]
            self._weights[version] = ranked
            self._tables[version] = {code: [t for t, _ in items] for code, items in ranked.items()}
        self._prefix_cache: dict[tuple[str, str], list[str]] = {}

    @property
    def versions(self) -> list[str]:
        """The versions that can be converted to 2021."""
        return sorted(self._tables)

    def to_2021(self, code: str, version: str | int) -> list[str]:
        """NUTS 2021 codes for `code` in `version`, most likely first (the code itself if unchanged)."""
        code = code.strip().upper()
        if code[:2] in COUNTRY_ALIASES:
            code = COUNTRY_ALIASES[code[:2]] + code[2:]
        version = str(version)
        table = self._tables.get(version)
        if version == self.TARGET or table is None or len(code) <= 2:
            return [code]
        if len(code) >= 5:
            return list(table.get(code, [code]))
        key = (version, code)
        if key not in self._prefix_cache:
            shares: dict[str, float] = defaultdict(float)
            for source, items in self._weights[version].items():
                if source.startswith(code):
                    for target, weight in items:
                        shares[target[: len(code)]] += weight
            ranked = sorted(shares.items(), key=lambda tw: (-tw[1], tw[0]))
            self._prefix_cache[key] = [t for t, _ in ranked] or [code]
        return list(self._prefix_cache[key])


# ---------------------------------------------------------------------------------------------- names

_LAU_PREFIXES = ("municipal commune of ", "local commune of ", "psevdodimotiki koinotita ",
                 "dimotiki koinotita ", "topiki koinotita ", "municipiul ", "orasul ", "grad ")
_LAU_SUFFIXES = (" psevdo", " linn")
_CITY_NOISE = re.compile(r"\b(cedex|cdx|bp|cs)\b.*$|\d+")
_SPLIT = re.compile(r"\s*(?:,|/|\(| - )\s*")
_SAINT = re.compile(r"\bste?\b")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})



def _lau_keys(*names: str | None) -> set[str]:
    """Folded forms under which a municipality is known: whole, before a comma, each part of "A/B",
    without Greek "Municipal Commune of", with German umlauts as ae/oe/ue too."""
    keys: set[str] = set()
    for name in names:
        if not name:
            continue
        variants = [name, *_SPLIT.split(name)]
        if any(c in name for c in "äöüÄÖÜ"):
            variants += [v.translate(_UMLAUTS) for v in variants]
        for part in variants:
            key = fold(part)
            for prefix in _LAU_PREFIXES:
                if key.startswith(prefix):
                    key = key[len(prefix):]
            for suffix in _LAU_SUFFIXES:
                key = key.removesuffix(suffix)
            if key:
                keys.add(key)
    return keys


def _city_keys(city: str, country: str) -> list[str]:
    """Folded forms of a source's city, most specific first: "TORINO TO" -> torino to, torino."""
    keys: list[str] = []
    whole = fold(city)
    for candidate in (whole, fold(_SPLIT.split(city)[0]), fold(_CITY_NOISE.sub(" ", whole))):
        words = candidate.split()
        while len(words) > 1 and len(words[-1]) <= 2:  # trailing province code or district letter
            words.pop()
        for key in (candidate, " ".join(words)):
            if key and key not in keys:
                keys.append(key)
    if country in ("FR", "BE", "LU", "CH"):
        keys += [k for k in (_SAINT.sub(lambda m: "saint" if m.group() == "st" else "sainte", k) for k in keys)
                 if k not in keys]
    aliases = CITY_ALIASES.get(country)
    if aliases:
        keys += [aliases[k] for k in keys if k in aliases and aliases[k] not in keys]
    return keys


# ---------------------------------------------------------------------------------------------- resolver

DOMINANT_POPULATION = 10  # a city names the most populous of its namesakes when it has this many times the next's
MIN_CITY_WORD = 3  # shorter words of a city name ("LEUVEN HEVERLEE" -> leuven, heverlee) do not name a municipality


class _Lau:
    __slots__ = ("lau_code", "degurba", "regions", "population")

    def __init__(self, lau_code: str, degurba: Degurba | None, regions: tuple[str, ...],
                 population: int | None) -> None:
        self.lau_code = lau_code
        self.degurba = degurba
        self.regions = regions
        self.population = population or 0


_Resolved = tuple["str | None", "str | None", UrbanRural, "str | None", "Degurba | None", tuple[str, ...], bool]


class LocationResolver:
    """Places locations in NUTS 2021 level-3 regions and adds urban-rural type and degree of urbanisation.

    `postcode_lookup(country, normalised_postcode)` returns (nuts3, nuts_version) or None; when a
    postcode is not found, ever shorter prefixes are tried (see `postcode_prefix_rows`).
    `postcode_countries`, when given, limits postcode look-ups to the countries the table covers.
    Counts per method, unresolved locations and postcode/coordinate disagreements are kept in `stats`.
    """

    def __init__(self, regions: Iterable[Region], shapes: Iterable[RegionShape],
                 municipalities: Iterable[Municipality], conversions: Iterable[NutsConversion],
                 postcode_lookup: PostcodeLookup, *, postcode_countries: Iterable[str] | None = None,
                 places: Iterable[Any] = ()) -> None:
        self.regions: dict[str, Region] = {r.nuts_id: r for r in regions}
        self._nuts3 = {code for code, r in self.regions.items() if r.level == 3}
        self._countries = {r.country for r in self.regions.values()}
        self.versions = NutsVersions(conversions)
        self.shapes = ShapeIndex(shapes)
        place_list = list(places)
        self.places: Any = None
        if place_list:

            self.places = PlaceIndex(place_list, region_of=self.shapes.lookup)
        self._postcode_lookup = postcode_lookup
        self._postcode_countries = set(postcode_countries) if postcode_countries is not None else None
        self._laus: dict[tuple[str, str], list[_Lau]] = defaultdict(list)  # (country, folded name)
        self._by_code: dict[tuple[str, str], _Lau] = {}  # (country, LAU code)
        self._lau_width: dict[str, int] = {}  # country -> the width of its numeric LAU codes (to pad "301")
        in_region: dict[str, list[tuple[str, _Lau]]] = defaultdict(list)  # nuts3 -> (folded name, LAU)
        for m in municipalities:
            self._add_municipality(m, in_region)
        self._laus = dict(self._laus)
        self._region_names: dict[str, tuple[list[str], list[_Lau]]] = {}
        self._region_degurba: dict[str, Degurba] = {}  # regions whose municipalities all have one degree
        for region, entries in in_region.items():
            degrees = {lau.degurba for _name, lau in entries}
            if len(degrees) == 1 and None not in degrees:
                self._region_degurba[region] = degrees.pop()  # type: ignore[assignment]
            entries.sort(key=lambda e: e[0])
            self._region_names[region] = ([e[0] for e in entries], [e[1] for e in entries])
        self._postcode_cache: dict[tuple[str, str], tuple[list[str], str] | None] = {}
        self._city_cache: dict[tuple[str, str], tuple[str | None, str | None]] = {}
        self._lau_cache: dict[tuple[str, str, str], tuple[str | None, Degurba | None, str | None]] = {}
        self._cache: dict[tuple[object, ...], _Resolved] = {}
        self.stats: Counter[str] = Counter()

    def clear_caches(self) -> None:
        """Forget cached results (postcodes, cities, municipalities, whole locations) and statistics."""
        for cache in (self._postcode_cache, self._city_cache, self._lau_cache, self._cache):
            cache.clear()
        self.stats.clear()

    @property
    def disagreements(self) -> int:
        """How many locations had postcode and coordinates in different NUTS3 regions (more than
        `ShapeIndex.snap_km` apart: closer than that is the polygons' generalisation, not a disagreement)."""
        return self.stats["disagreement"]

    # -- building

    def _add_municipality(self, m: Municipality, in_region: dict[str, list[tuple[str, _Lau]]]) -> None:
        regions: tuple[str, ...] = ()
        if m.nuts3:
            version = m.nuts3_source_version or NutsVersions.TARGET
            regions = tuple(c for c in self.versions.to_2021(m.nuts3, version) if c in self._nuts3)
        lau = _Lau(m.lau_code, m.degurba, regions, m.population)
        country = normalise_country(m.country) or m.country
        self._by_code[(country, m.lau_code)] = lau
        if m.lau_code.isdigit():
            self._lau_width[country] = max(self._lau_width.get(country, 0), len(m.lau_code))
        for key in _lau_keys(m.name, m.name_latn):
            self._laus[(country, key)].append(lau)
            for region in regions:
                in_region[region].append((key, lau))

    # -- resolving

    def resolve(self, loc: Location) -> Location:
        """A copy of `loc` with nuts3 (2021), method, urban_rural, lau_code, degurba and notes set.

        The resolved fields, notes included, are replaced: resolving again (after new regions data)
        leaves no stale note behind.
        """
        key = (loc.country, loc.postcode, loc.lat, loc.lon, loc.nuts_code, loc.city, loc.municipality_code)
        result = self._cache.get(key)
        if result is None:
            result = self._resolve(loc)
            self._cache[key] = result
        nuts3, method, urban_rural, lau_code, degurba, notes, disagree = result
        self.stats[method or "unresolved"] += 1
        if disagree:
            self.stats["disagreement"] += 1
        return loc.model_copy(update={
            "nuts3": nuts3, "method": method, "urban_rural": urban_rural, "lau_code": lau_code,
            "degurba": degurba, "notes": list(notes),
        })

    def _resolve(self, loc: Location) -> _Resolved:
        """In order of preference: the source's NUTS3 code, its municipality code, its postcode and coordinates
        (weighed against each other), its city's name; then the municipality and the degree of urbanisation."""
        notes: list[str] = []
        nuts_code = (loc.nuts_code or "").strip().upper() or None
        country = normalise_country(loc.country) or (normalise_country(nuts_code[:2]) if nuts_code else None)
        nuts3, method, within = self._by_nuts_code(nuts_code, notes) if nuts_code else (None, None, None)
        by_code: _Lau | None = None
        if nuts3 is None and loc.municipality_code and country:
            by_code = self._by_municipality_code(country, loc.municipality_code, notes)
            if by_code is not None:
                nuts3, method = by_code.regions[0], "municipality"
        disagree = False
        if nuts3 is None and (country is None or country in self._countries):
            nuts3, method, disagree = self._by_evidence(loc, country, within, notes)
        elif nuts3 is None:
            notes.append(f"country {country} has no NUTS regions")
        if nuts3 is None and within:
            notes.append(f"NUTS code {within} is not a NUTS3 region and nothing else places it")
        lau_code, degurba = self._municipality_and_degree(loc, country, nuts3, by_code, notes)
        region = self.regions.get(nuts3) if nuts3 else None
        urban_rural = region.urban_rural if region else UrbanRural.UNKNOWN
        return nuts3, method, urban_rural, lau_code, degurba, tuple(notes), disagree

    def _by_nuts_code(self, nuts_code: str, notes: list[str]) -> tuple[str | None, str | None, str | None]:
        """(nuts3, method, within) from the source's NUTS code: a NUTS3 region, or a NUTS1/2 code (`within`)
        that the other evidence must fall in; codes of other NUTS versions converted."""
        code = self._known_code(nuts_code, notes)
        if code and len(code) == 5:
            return code, "nuts", None
        return None, None, code or None

    def _by_municipality_code(self, country: str, municipality_code: str, notes: list[str]) -> _Lau | None:
        """The municipality (LAU) the source's code names, when the LAU table places it in a region."""
        code = municipality_code.strip()
        lau = next((found for form in lau_code_forms(code, self._lau_width.get(country))
                    if (found := self._by_code.get((country, form))) is not None), None)
        if lau is None:
            notes.append(f"municipality code {code} is not in the LAU table of {country}")
            return None
        if not lau.regions:
            return None
        if len(lau.regions) > 1:
            notes.append(f"municipality {code} lies in {', '.join(lau.regions)} (NUTS 2021): {lau.regions[0]} taken")
        return lau

    def _by_evidence(self, loc: Location, country: str | None, within: str | None,
                     notes: list[str]) -> tuple[str | None, str | None, bool]:
        """(nuts3, method, disagreement) from postcode and coordinates, else from the city's name."""
        nuts3: str | None = None
        method: str | None = None
        disagree = False
        by_postcode = self._by_postcode(country, loc, notes)
        by_point = self._by_coordinates(country, loc, notes)
        if by_postcode:
            nuts3, method, disagree = self._weigh(by_postcode, by_point, loc, country, notes)
        elif by_point:
            nuts3, method = by_point, "coordinates"
        if nuts3 is None and loc.city and country:
            nuts3, method = self._by_name(loc, loc.city, country, within, notes)
        if nuts3 and within and not nuts3.startswith(within):
            notes.append(f"NUTS code {within} given, but {method} places it in {nuts3}")
        return nuts3, method, disagree

    def _by_name(self, loc: Location, city: str, country: str, within: str | None,
                 notes: list[str]) -> tuple[str | None, str | None]:
        """(nuts3, method) from the city's name: a municipality of that name, else (only without coordinates)
        a place of that name in the gazetteer."""
        nuts3 = self._by_city(country, city, within, notes)
        if nuts3:
            return nuts3, "city"
        if self.places is None or (loc.lat is not None and loc.lon is not None):
            return None, None
        hit = self.places.locate(city, country, nuts3_hint=within)
        if not hit:
            return None, None
        lat, lon, note = hit
        nuts3 = self.shapes.lookup(lon, lat)
        if note:
            notes.append(note)
        return nuts3, "place" if nuts3 else None

    def _municipality_and_degree(self, loc: Location, country: str | None, nuts3: str | None, by_code: _Lau | None,
                                 notes: list[str]) -> tuple[str | None, Degurba | None]:
        """(LAU code, degree of urbanisation): the municipality given by code or named by the city in `nuts3`;
        the region's degree when every municipality of the region has the same one."""
        lau_code: str | None = None
        degurba: Degurba | None = None
        if by_code is not None:
            lau_code, degurba = by_code.lau_code, by_code.degurba
        elif nuts3 and loc.city and country:
            lau_code, degurba = self._municipality(country, loc.city, nuts3, notes)
        if nuts3 and degurba is None:
            degurba = self._region_degurba.get(nuts3)  # every municipality of the region has this degree
        return lau_code, degurba

    def _weigh(self, by_postcode: list[str], by_point: str | None, loc: Location, country: str | None,
               notes: list[str]) -> tuple[str, str, bool]:
        """(nuts3, method, disagreement) from postcode candidates and the coordinates' region.

        The postcode wins, unless the city names a municipality in the coordinates' region and none in
        the postcode's (the postcode table misplaces some codes: TERCET puts Derio's 48160 in Gipuzkoa).
        Regions less than `ShapeIndex.snap_km` apart do not disagree: that is the polygons' generalisation.
        """
        nuts3 = by_point if by_point in by_postcode else by_postcode[0]
        if by_point is None or by_point == nuts3 or self.shapes.near(nuts3, loc.lon, loc.lat):  # type: ignore[arg-type]
            return nuts3, "postcode", False
        if loc.city and country and self._city_in(country, loc.city, by_point) \
                and not self._city_in(country, loc.city, nuts3):
            notes.append(f"coordinates and city place it in {by_point}, postcode in {nuts3}: coordinates preferred")
            return by_point, "coordinates", True
        notes.append(f"coordinates place it in {by_point}, postcode in {nuts3}: postcode preferred")
        return nuts3, "postcode", True

    def _known_code(self, code: str, notes: list[str]) -> str | None:
        if code[:2] in COUNTRY_ALIASES:
            code = COUNTRY_ALIASES[code[:2]] + code[2:]
        if code in self.regions:
            return code
        for version in self.versions.versions:
            for candidate in self.versions.to_2021(code, version):
                if candidate in self.regions and candidate != code:
                    notes.append(f"NUTS code {code} ({version}) is {candidate} in NUTS 2021")
                    return candidate
        notes.append(f"unknown NUTS code {code}")
        return None

    def _by_postcode(self, country: str | None, loc: Location, notes: list[str]) -> list[str] | None:
        if loc.postcode is None or loc.postcode == "" or country is None:
            return None
        if self._postcode_countries is not None and country not in self._postcode_countries:
            return None
        postcode = normalise_postcode(country, loc.postcode)
        if postcode is None:
            notes.append(f"postcode {loc.postcode!r} not understood")
            return None
        key = (country, postcode)
        if key not in self._postcode_cache:
            self._postcode_cache[key] = self._lookup_postcode(country, postcode)
        found = self._postcode_cache[key]
        if found is None:
            notes.append(f"postcode {postcode} not found")
            return None
        candidates, matched = found
        if matched != postcode:
            notes.append(f"postcode {postcode} not in the table: placed by its prefix {matched}")
        return candidates

    def _lookup_postcode(self, country: str, postcode: str) -> tuple[list[str], str] | None:
        for n in range(len(postcode), 0, -1):
            hit = self._postcode_lookup(country, postcode[:n])
            if hit:
                nuts3, version = hit
                candidates = [c for c in self.versions.to_2021(nuts3, version) if c in self._nuts3]
                return (candidates, postcode[:n]) if candidates else None
        return None

    def _by_coordinates(self, country: str | None, loc: Location, notes: list[str]) -> str | None:
        lat, lon = loc.lat, loc.lon
        if lat is None or lon is None:
            return None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
            notes.append(f"coordinates ({lat}, {lon}) are not a place")
            return None
        nuts3 = self.shapes.lookup(lon, lat)
        if nuts3 is None:
            notes.append(f"coordinates ({lat}, {lon}) are in no NUTS region")
            return None
        if country and nuts3[:2] != country:
            notes.append(f"coordinates ({lat}, {lon}) are in {nuts3}, outside {country}: ignored")
            return None
        return nuts3

    def _laus_for(self, country: str, city: str) -> list[tuple[str, list[_Lau]]]:
        return [(key, self._laus[(country, key)]) for key in _city_keys(city, country)
                if (country, key) in self._laus]

    def _by_city(self, country: str, city: str, within: str | None, notes: list[str]) -> str | None:
        key = (country, city + "\x00" + (within or ""))
        if key not in self._city_cache:
            self._city_cache[key] = self._match_city(country, city, within)
        nuts3, note = self._city_cache[key]
        if note:
            notes.append(note)
        return nuts3

    def _match_city(self, country: str, city: str, within: str | None) -> tuple[str | None, str | None]:
        for _key, laus in self._laus_for(country, city):
            laus = [lau for lau in laus if lau.regions and (not within or lau.regions[0].startswith(within))]
            regions = {lau.regions[0] for lau in laus}
            if len(regions) == 1:
                return regions.pop(), None
            if len(regions) > 1:
                laus.sort(key=lambda lau: -lau.population)
                if laus[0].population >= DOMINANT_POPULATION * max(laus[1].population, 1):
                    return laus[0].regions[0], None
                return None, f"city {city!r} names municipalities in {len(regions)} regions"
        return None, None

    def _city_in(self, country: str, city: str, nuts3: str) -> bool:
        return any(nuts3 in lau.regions for _key, laus in self._laus_for(country, city) for lau in laus)

    def _municipality(self, country: str, city: str, nuts3: str,
                      notes: list[str]) -> tuple[str | None, Degurba | None]:
        key = (country, city, nuts3)
        if key not in self._lau_cache:
            self._lau_cache[key] = self._match_municipality(country, city, nuts3)
        lau_code, degurba, note = self._lau_cache[key]
        if note:
            notes.append(note)
        return lau_code, degurba

    def _match_municipality(self, country: str, city: str,
                            nuts3: str) -> tuple[str | None, Degurba | None, str | None]:
        """The municipality named `city` in region `nuts3`: by a name, then a name that starts with it
        ("Freiburg" -> "Freiburg im Breisgau, Stadt"), then a word of it ("LEUVEN HEVERLEE"). Several
        municipalities with one degree of urbanisation (Bratislava's boroughs) still give that degree."""
        matches = self._laus_for(country, city)
        attempts: list[list[_Lau]] = [[lau for lau in found if nuts3 in lau.regions] for _key, found in matches]
        attempts += [self._names_starting_with(nuts3, key) for key in _city_keys(city, country)]
        attempts += [[lau for lau in self._laus.get((country, word), ()) if nuts3 in lau.regions]
                     for word in fold(city).split() if len(word) >= MIN_CITY_WORD]
        for found in attempts:
            distinct = {lau.lau_code: lau for lau in found}
            if len(distinct) == 1:
                lau = next(iter(distinct.values()))
                return lau.lau_code, lau.degurba, None
            if distinct:
                degrees = {lau.degurba for lau in distinct.values()}
                return None, degrees.pop() if len(degrees) == 1 else None, None
        elsewhere = {lau.lau_code: lau for _key, found in matches for lau in found}
        if len(elsewhere) == 1:
            lau = next(iter(elsewhere.values()))
            where = lau.regions[0] if lau.regions else "an unknown region"
            return None, None, f"city {city!r} is a municipality in {where}, not in {nuts3}: municipality not set"
        return None, None, None

    def _names_starting_with(self, nuts3: str, key: str) -> list[_Lau]:
        """The municipalities of region `nuts3` whose name starts with the words of `key`."""
        names, laus = self._region_names.get(nuts3, ([], []))
        found = []
        for i in range(bisect.bisect_left(names, key + " "), len(names)):
            if not names[i].startswith(key + " "):
                break
            found.append(laus[i])
        return found
