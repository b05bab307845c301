"""Parsers for the Eurostat/GISCO regions files, each recognised by its content, not its name.

Files: NUTS 2021 typology with label points, NUTS 2021 code list, NUTS GeoJSON (any level), LAU 2019
with DEGURBA, postcode -> NUTS3 (TERCET), JRC NUTS3 version converters. ``.gz`` is read transparently.
Every parser raises `BadInputError` naming file, line and field for a row it cannot use.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import re
import zlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ecosystem.domain.errors import BadInputError
from ecosystem.domain.location import NutsConversion, RegionShape, normalise_postcode
from ecosystem.domain.models import (
    DEGURBA_CODES,
    URBN_TYPE_CODES,
    Municipality,
    Provenance,
    Region,
    UrbanRural,
)
from ecosystem.domain.nuts import normalise_country

__all__ = [
    "DEFAULT_POSTCODE_VERSION", "GISCO_LICENCE", "JRC_LICENCE", "NutsConversion", "RegionShape",
    "detect_region_file", "parse_converter", "parse_geometry", "parse_lau", "parse_names", "parse_postcodes",
    "parse_typology", "postcode_file_version",
]

GISCO_LICENCE = "© EuroGeographics for the administrative boundaries; Eurostat/GISCO"
JRC_LICENCE = "CC BY 4.0"
DEFAULT_POSTCODE_VERSION = "2024"

_NUTS = re.compile(r"[A-Z]{2}[0-9A-Z]{0,3}")
_NUTS3 = re.compile(r"[A-Z]{2}[0-9A-Z]{3}")
_CODE_VERSION = re.compile(r"code_v?(\d{4})", re.IGNORECASE)
_FILE_YEAR = re.compile(r"(?:^|[^0-9])((?:19|20)\d\d)(?![0-9])")
_GEOJSON_SCAN = 64 << 20
_EXPECTED = ("expected a NUTS typology, NUTS code list, NUTS GeoJSON, LAU DEGURBA, "
             "postcode-to-NUTS3 or NUTS converter file")


# ------------------------------------------------------------------------------------------ reading

_READ_ERRORS = (OSError, EOFError, zlib.error)


def _open_binary(path: Path) -> BinaryIO:
    if not path.is_file():
        raise BadInputError("file not found", file=path.name)
    with path.open("rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else path.open("rb")  # type: ignore[return-value]


def _read_error(exc: Exception, name: str, line: int | None) -> BadInputError:
    return BadInputError(f"truncated or corrupt file ({exc.__class__.__name__}: {exc})", file=name, line=line)


class _Csv:
    """A CSV file read line by line (plain or gzip), decoding each line so a bad byte gets its line number.

    Use as a context manager; `header` is the lower-cased first row, `rows()` yields (line, cells).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.name = self.path.name
        self.header: list[str] = []

    def __enter__(self) -> _Csv:
        self._fh = _open_binary(self.path)
        self._line = 0
        try:
            lines = self._lines()
            first = ""
            for first in lines:
                if first.strip():
                    break
            if not first.strip():
                raise BadInputError("empty file", file=self.name, line=1)
            delimiter = ";" if first.count(";") > first.count(",") else ","
            self._reader = csv.reader(_chain(first, lines), delimiter=delimiter)
            try:
                self.header = [h.strip().strip("'\"").lower() for h in next(self._reader)]
            except csv.Error as exc:
                raise BadInputError(f"malformed CSV header: {exc}", file=self.name, line=self._line) from exc
        except BaseException:
            self._fh.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()

    def _lines(self) -> Iterator[str]:
        fh = self._fh
        try:
            for raw in fh:
                self._line += 1
                if self._line == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                try:
                    yield raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise BadInputError("not UTF-8 text", file=self.name, line=self._line) from None
        except _READ_ERRORS as exc:
            raise _read_error(exc, self.name, self._line + 1) from exc

    def column(self, *names: str, required: bool = True) -> int:
        """Index of the first of `names` present in the header (-1 if absent and not required)."""
        for name in names:
            if name in self.header:
                return self.header.index(name)
        if required:
            raise BadInputError(f"missing required column '{names[0]}'", file=self.name, line=1,
                                field=names[0])
        return -1

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line number, cells) for each data row; short rows are padded with empty cells."""
        width = len(self.header)
        reader = self._reader
        count = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                if count == 0:
                    raise BadInputError("no data rows after the header", file=self.name, line=2) from None
                return
            except csv.Error as exc:
                raise BadInputError(f"malformed CSV: {exc}", file=self.name, line=self._line) from exc
            if len(cells) < width:
                cells += [""] * (width - len(cells))
            count += 1
            yield self._line, cells


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


def _read_json(path: Path) -> Any:
    with _open_binary(path) as fh:
        try:
            data = fh.read()
        except _READ_ERRORS as exc:
            raise _read_error(exc, path.name, None) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInputError("not UTF-8 text", file=path.name, line=data.count(b"\n", 0, exc.start) + 1) from None
    if not text.strip():
        raise BadInputError("empty file", file=path.name, line=1)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInputError(f"not valid JSON: {exc.msg}", file=path.name, line=exc.lineno) from exc
    except RecursionError:
        raise BadInputError("JSON nested too deeply to be GeoJSON", file=path.name) from None


def _bad(msg: str, src: _Csv, line: int, field: str) -> BadInputError:
    return BadInputError(msg, file=src.name, line=line, field=field)


def _nuts_code(value: str, src: _Csv, line: int, field: str, *, level3: bool = False) -> str:
    code = value.strip().upper()
    if not (_NUTS3 if level3 else _NUTS).fullmatch(code):
        kind = "NUTS3 code" if level3 else "NUTS code"
        raise _bad(f"not a {kind}: {value!r}", src, line, field)
    return code


def _float(value: str, src: _Csv, line: int, field: str) -> float | None:
    value = value.strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise _bad(f"not a number: {value!r}", src, line, field)
    return number


def _int(value: str, src: _Csv, line: int, field: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        pass
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if math.isfinite(number) and number == int(number):
        return int(number)
    raise _bad(f"not an integer: {value!r}", src, line, field)


def _clean_name(value: str) -> str | None:
    name = " ".join(value.replace("\xa0", " ").split())
    return name or None


# ------------------------------------------------------------------------------------------ detection

def detect_region_file(path: Path) -> str:
    """Which regions file this is, from its content: "typology", "names", "geometry", "lau",
    "postcodes" or "converter"."""
    path = Path(path)
    text, nuts_ids = _file_head(path)
    if not text:
        raise BadInputError("empty file", file=path.name, line=1)
    if text.startswith("{"):
        if '"FeatureCollection"' in text and nuts_ids:
            return "geometry"
        raise BadInputError(f"not a recognised regions file ({_EXPECTED})", file=path.name)
    kind = _table_kind(text.splitlines()[0])
    if kind is None:
        raise BadInputError(f"not a recognised regions file ({_EXPECTED})", file=path.name, line=1)
    return kind


def _file_head(path: Path) -> tuple[str, bool]:
    """The start of a file as text, and whether it names NUTS_ID properties (scanning on in a GeoJSON,
    where a large first geometry can push the properties far from the start)."""
    with _open_binary(path) as fh:
        try:
            head = fh.read(8192)
            text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
            nuts_ids = b'"NUTS_ID"' in head
            if text.startswith("{") and '"FeatureCollection"' in text:
                scanned, tail = len(head), head[-16:]
                while not nuts_ids and scanned < _GEOJSON_SCAN:
                    chunk = fh.read(1 << 20)
                    if not chunk:
                        break
                    nuts_ids = b'"NUTS_ID"' in tail + chunk
                    scanned, tail = scanned + len(chunk), chunk[-16:]
        except _READ_ERRORS as exc:
            raise _read_error(exc, path.name, 1) from exc
    return text, nuts_ids


def _table_kind(first: str) -> str | None:
    """The kind of a CSV regions file from its header line; None if it is none of them."""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    header = {h.strip().strip("'\"").lower() for h in next(csv.reader([first], delimiter=delimiter))}
    if {"nuts_id", "levl_code", "urbn_type"} <= header:
        return "typology"
    if any(h.startswith("code 20") for h in header) and "nuts level" in header:
        return "names"
    if {"lau_code", "degurba"} <= header:
        return "lau"
    if {"postcode", "nuts3"} <= header or header == {"code", "nuts3"}:
        return "postcodes"
    if sum(1 for h in header if _CODE_VERSION.fullmatch(h)) == 2:
        return "converter"
    return None


# ------------------------------------------------------------------------------------------ typology

def parse_typology(path: Path) -> Iterator[Region]:
    """NUTS 2021 regions (levels 0-3): names, urban-rural type (NUTS3), mountain and coast types, label point."""
    with _Csv(path) as src:
        c_id, c_lev = src.column("nuts_id"), src.column("levl_code")
        c_cntr, c_latn, c_name = src.column("cntr_code"), src.column("name_latn"), src.column("nuts_name")
        c_urbn = src.column("urbn_type")
        c_mount, c_coast = src.column("mount_type", required=False), src.column("coast_type", required=False)
        c_lon, c_lat = src.column("label_lon", required=False), src.column("label_lat", required=False)
        for line, row in src.rows():
            if not any(cell.strip() for cell in row):
                continue
            code = _nuts_code(row[c_id], src, line, "NUTS_ID")
            level = _level(row[c_lev], code, src, line, "LEVL_CODE")
            country = normalise_country(row[c_cntr]) or code[:2]
            if country != code[:2]:
                raise _bad(f"country {row[c_cntr]!r} does not match {code}", src, line, "CNTR_CODE")
            urban_rural = UrbanRural.UNKNOWN
            urbn = row[c_urbn].strip().removesuffix(".0")
            if level == 3 and urbn:
                if urbn not in URBN_TYPE_CODES:
                    raise _bad(f"unknown urban-rural type {urbn!r}", src, line, "URBN_TYPE")
                urban_rural = URBN_TYPE_CODES[urbn]
            lon = _float(row[c_lon], src, line, "label_lon") if c_lon >= 0 else None
            lat = _float(row[c_lat], src, line, "label_lat") if c_lat >= 0 else None
            if lon is not None and not -180 <= lon <= 180:
                raise _bad(f"longitude out of range: {lon}", src, line, "label_lon")
            if lat is not None and not -90 <= lat <= 90:
                raise _bad(f"latitude out of range: {lat}", src, line, "label_lat")
            yield Region(
                nuts_id=code, level=level, country=country,
                name=_clean_name(row[c_name]), name_latn=_clean_name(row[c_latn]),
                parent=code[:-1] if level > 0 else None, urban_rural=urban_rural,
                mount_type=_int(row[c_mount], src, line, "MOUNT_TYPE") if c_mount >= 0 else None,
                coast_type=_int(row[c_coast], src, line, "COAST_TYPE") if c_coast >= 0 else None,
                label_lon=lon, label_lat=lat,
                source=Provenance(source="eurostat-gisco", file=src.name, record=code, licence=GISCO_LICENCE),
            )


def _level(value: str, code: str, src: _Csv, line: int, field: str) -> int:
    text = value.strip().removesuffix(".0")
    if text not in ("0", "1", "2", "3"):
        raise _bad(f"unknown level {value!r}", src, line, field)
    level = int(text)
    if len(code) != 2 + level:
        raise _bad(f"NUTS code {code} does not have the shape of a level {level} code", src, line, field)
    return level


# ------------------------------------------------------------------------------------------ names

def parse_names(path: Path) -> Iterator[tuple[str, str]]:
    """(nuts_id, name) from the official NUTS code list; blank rows and section headings are skipped."""
    with _Csv(path) as src:
        c_code = next((i for i, h in enumerate(src.header) if h.startswith("code")), -1)
        if c_code < 0:
            raise BadInputError("missing required column 'Code 2021'", file=src.name, line=1, field="Code 2021")
        code_field = src.header[c_code]
        c_level = src.column("nuts level")
        name_cols = [src.column("country"), src.column("nuts level 1"), src.column("nuts level 2"),
                     src.column("nuts level 3")]
        for line, row in src.rows():
            raw = row[c_code].strip()
            if not raw or (not _NUTS.fullmatch(raw) and not any(
                    cell.strip() for i, cell in enumerate(row) if i != c_code)):
                continue  # a blank row or a section heading ("Statistical regions (EFTA countries, ...):")
            code = _nuts_code(raw, src, line, code_field)
            if row[c_level].strip():
                level = _level(row[c_level], code, src, line, "NUTS level")
            elif len(code) <= 5:
                level = len(code) - 2
            else:
                raise _bad(f"not a NUTS code: {raw!r}", src, line, code_field)
            name = _clean_name(row[name_cols[level]]) or next(
                (n for n in (_clean_name(row[i]) for i in name_cols) if n), None)
            if name is None:
                raise _bad(f"no name for {code}", src, line, src.header[name_cols[level]])
            yield code, name


# ------------------------------------------------------------------------------------------ geometry

def parse_geometry(path: Path) -> Iterator[RegionShape]:
    """Region boundaries from a NUTS GeoJSON FeatureCollection (one level or all of them).

    JSON has no useful line per feature: errors name the feature (``features[12].properties.NUTS_ID``).
    """
    path = Path(path)
    data = _read_json(path)
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" \
            or not isinstance(data.get("features"), list):
        raise BadInputError(f"not a recognised regions file ({_EXPECTED}): not a GeoJSON FeatureCollection",
                            file=path.name)
    for i, feature in enumerate(data["features"]):
        where = f"features[{i}]"
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(props, dict):
            raise BadInputError("feature without properties", file=path.name, field=where)
        code = str(props.get("NUTS_ID") or "").strip().upper()
        if not _NUTS.fullmatch(code):
            raise BadInputError(f"not a NUTS code: {props.get('NUTS_ID')!r}", file=path.name,
                                field=f"{where}.properties.NUTS_ID")
        level_raw = props.get("LEVL_CODE", len(code) - 2)
        if isinstance(level_raw, bool) or str(level_raw).strip() not in ("0", "1", "2", "3"):
            raise BadInputError(f"unknown level {level_raw!r} for {code}", file=path.name,
                                field=f"{where}.properties.LEVL_CODE")
        level = int(level_raw)
        if len(code) != 2 + level:
            raise BadInputError(f"NUTS code {code} does not have the shape of a level {level} code",
                                file=path.name, field=f"{where}.properties.NUTS_ID")
        geometry = feature.get("geometry")
        if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
            raise BadInputError(f"{code}: geometry is not a Polygon or MultiPolygon", file=path.name,
                                field=f"{where}.geometry")
        polygons = geometry.get("coordinates")
        if geometry["type"] == "Polygon":
            polygons = [polygons]
        if not isinstance(polygons, list) or not polygons or not all(_valid_polygon(p) for p in polygons):
            raise BadInputError(f"{code}: coordinates are not rings of [lon, lat] numbers",
                                file=path.name, field=f"{where}.geometry.coordinates")
        yield RegionShape(nuts_id=code, level=level, geometry=geometry)


def _valid_polygon(polygon: Any) -> bool:
    if not isinstance(polygon, list) or not polygon:
        return False
    for ring in polygon:
        if not isinstance(ring, list) or len(ring) < 4:
            return False
        for point in ring:
            if not isinstance(point, list) or len(point) < 2:
                return False
            lon, lat = point[0], point[1]
            if type(lon) not in (int, float) or type(lat) not in (int, float) \
                    or not (-180 <= lon <= 180 and -90 <= lat <= 90):
                return False
    return True


# ------------------------------------------------------------------------------------------ LAU

def parse_lau(path: Path) -> Iterator[Municipality]:
    """Municipalities (LAU) with DEGURBA, population and area; NUTS3 kept in the table's own version.

    The NUTS3 column is named for its version (``code_2016``): the code is kept as given, with
    `nuts3_source_version`, and the resolver converts it. The area column says m², but some countries
    give km² (DE, DK, FI, TR in LAU 2019): where a country's median municipality would be under
    0.01 km², its values are read as km².
    """
    path = Path(path)
    with _Csv(path) as src:
        c_nuts = next((i for i, h in enumerate(src.header) if _LAU_NUTS.fullmatch(h)), -1)
        version = _LAU_NUTS.fullmatch(src.header[c_nuts]).group(1) if c_nuts >= 0 else None  # type: ignore[union-attr]
        if c_nuts < 0:
            c_nuts = src.column("nuts_3_id", "nuts3")
        cols = _LauColumns(nuts=c_nuts, country=src.column("country", "cntr_code"),
                           code=src.column("lau_code", "lau_id"), name=src.column("lau_name_national", "lau_name"),
                           latn=src.column("lau_name_latin", required=False),
                           population=src.column("population", required=False),
                           area=src.column("total_area_m2", required=False), degurba=src.column("degurba"))
        km2 = _km2_countries(path, cols.country, cols.area) if cols.area >= 0 else set()
        for line, row in src.rows():
            if not any(cell.strip() for cell in row):
                continue
            country, lau_code, name, nuts3 = _lau_place(row, cols, src, line)
            latn = _clean_name(row[cols.latn]) if cols.latn >= 0 else None
            yield Municipality(
                country=country, lau_code=lau_code, name=name, name_latn=latn if latn != name else None,
                nuts3=nuts3, nuts3_source_version=version, population=_lau_population(row, cols, src, line),
                area_km2=_lau_area(row, cols, src, line, row[cols.country].strip() in km2),
                degurba=_lau_degurba(row, cols, src, line),
                source=Provenance(source="eurostat-lau", file=src.name, record=f"{country}_{lau_code}",
                                  licence=GISCO_LICENCE),
            )


@dataclass(frozen=True, slots=True)
class _LauColumns:
    """Column indexes of a LAU table (-1: an optional column the table lacks)."""

    nuts: int
    country: int
    code: int
    name: int
    latn: int
    population: int
    area: int
    degurba: int


def _lau_place(row: list[str], cols: _LauColumns, src: _Csv, line: int) -> tuple[str, str, str, str | None]:
    """(country, LAU code, name, NUTS3 code or None) of a municipality row, checked."""
    raw_country = row[cols.country].strip()
    country = normalise_country(raw_country)
    if not country or not _COUNTRY.fullmatch(country):
        raise _bad(f"not a country code: {raw_country!r}", src, line, src.header[cols.country])
    lau_code = row[cols.code].strip()
    if not lau_code:
        raise _bad("empty LAU code", src, line, src.header[cols.code])
    name = _clean_name(row[cols.name])
    if name is None:
        raise _bad("empty municipality name", src, line, src.header[cols.name])
    nuts_field = src.header[cols.nuts]
    nuts3 = row[cols.nuts].strip().upper() or None
    if nuts3 is not None:
        nuts3 = _nuts_code(nuts3, src, line, nuts_field)
        if nuts3[:2] != country:
            raise _bad(f"NUTS code {nuts3} is not in country {country}", src, line, nuts_field)
    return country, lau_code, name, nuts3


def _lau_population(row: list[str], cols: _LauColumns, src: _Csv, line: int) -> int | None:
    population = _int(row[cols.population], src, line, "population") if cols.population >= 0 else None
    if population is not None and population < 0:
        raise _bad(f"negative population {population}", src, line, "population")
    return population


def _lau_area(row: list[str], cols: _LauColumns, src: _Csv, line: int, in_km2: bool) -> float | None:
    """The area in km²: m² in the table, except for the countries that give km² (`_km2_countries`)."""
    area = _float(row[cols.area], src, line, "total_area_m2") if cols.area >= 0 else None
    if area is None:
        return None
    if area < 0:
        raise _bad(f"negative area {area}", src, line, "total_area_m2")
    return area if in_km2 else area / 1_000_000


def _lau_degurba(row: list[str], cols: _LauColumns, src: _Csv, line: int) -> Any:
    deg = row[cols.degurba].strip().removesuffix(".0")
    if deg == "9":
        deg = ""  # not classified (LAU 2019: the part of Cyprus outside government control)
    if deg and deg not in DEGURBA_CODES:
        raise _bad(f"unknown degree of urbanisation {deg!r}", src, line, src.header[cols.degurba])
    return DEGURBA_CODES[deg] if deg else None


_LAU_NUTS = re.compile(r"(?:code|nuts3?)_?((?:19|20)\d\d)")
_COUNTRY = re.compile(r"[A-Z]{2}")


def _km2_countries(path: Path, c_country: int, c_area: int) -> set[str]:
    areas: dict[str, list[float]] = defaultdict(list)
    with _Csv(path) as src:
        for _line, row in src.rows():
            try:
                areas[row[c_country].strip()].append(float(row[c_area]))
            except ValueError:
                continue
    km2 = set()
    for country, values in areas.items():
        values.sort()
        if values and values[len(values) // 2] < 10_000:
            km2.add(country)
    return km2


# ------------------------------------------------------------------------------------------ postcodes

def postcode_file_version(path: Path) -> str:
    """NUTS version of a postcode table. It is not in the content, so it comes from the file name
    (``postcode_to_nuts3_2024.csv.gz``; TERCET's ``pc2020_AT_NUTS-2021_v1.0.csv`` gives 2021), else 2024."""
    name = Path(path).name
    m = re.search(r"NUTS[-_]?((?:19|20)\d\d)", name, re.IGNORECASE)
    if m:
        return m.group(1)
    years = _FILE_YEAR.findall(name)
    return years[-1] if years else DEFAULT_POSTCODE_VERSION


def parse_postcodes(path: Path) -> tuple[str, Iterator[tuple[str, str, str]]]:
    """(NUTS version, rows of (country, normalised postcode, nuts3)) from a postcode -> NUTS3 table.

    Takes the combined table (``country,postcode,nuts3``) and TERCET's per-country files
    (``CODE;NUTS3``, values in quotes; the country is the NUTS3 code's). The NUTS version is not in
    the content: it comes from the file name (`postcode_file_version`), by default 2024. Postcodes are
    normalised with `ecosystem.location.normalise_postcode`, the function applied to source records.
    """
    path = Path(path)
    return postcode_file_version(path), _postcode_rows(path)


def _postcode_rows(path: Path) -> Iterator[tuple[str, str, str]]:
    with _Csv(path) as src:
        c_country = src.column("country", required=False)
        c_code = src.column("postcode", "code")
        c_nuts = src.column("nuts3")
        code_field = src.header[c_code]
        last_raw, last_country = "", ""
        for line, row in src.rows():
            nuts3 = row[c_nuts].strip().strip("'\"")
            if not _NUTS3.fullmatch(nuts3):
                if not any(cell.strip() for cell in row):
                    continue
                raise _bad(f"not a NUTS3 code: {row[c_nuts]!r}", src, line, "nuts3")
            raw_country = row[c_country] if c_country >= 0 else nuts3[:2]
            if raw_country != last_raw:
                country = normalise_country(raw_country) or ""
                if not _COUNTRY.fullmatch(country):
                    raise _bad(f"not a country code: {raw_country!r}", src, line, "country")
                last_raw, last_country = raw_country, country
            if nuts3[:2] != last_country:
                raise _bad(f"NUTS3 code {nuts3} is not in country {last_country}", src, line, "nuts3")
            postcode = normalise_postcode(last_country, row[c_code].strip().strip("'\""))
            if postcode is None:
                raise _bad(f"not a postcode: {row[c_code]!r}", src, line, code_field)
            yield last_country, postcode, nuts3


# ------------------------------------------------------------------------------------------ converters

def parse_converter(path: Path) -> Iterator[NutsConversion]:
    """Conversions from a JRC NUTS3 converter (``code_v2016,code_v2021,...,areaKm,pop21``).

    Each row yields both directions, each weighted by the part's share of its own source region
    (2021 population; area where the region has none), so 2024 -> 2021 comes from the 2021 -> 2024 table.
    """
    parts, v_a, v_b = _converter_parts(path)
    yield from _conversions(parts, v_a, v_b, forward=True)
    yield from _conversions(parts, v_b, v_a, forward=False)


ConverterPart = tuple[str, str, float, float]  # (code in version a, code in version b, area, population)


def _converter_parts(path: Path) -> tuple[list[ConverterPart], str, str]:
    """The rows of a converter, checked, and its two versions."""
    parts: list[ConverterPart] = []
    with _Csv(path) as src:
        codes = [(i, m.group(1)) for i, h in enumerate(src.header) if (m := _CODE_VERSION.fullmatch(h))]
        if len(codes) < 2:
            missing = "code_vXXXX" if not codes else "code_vYYYY"
            raise BadInputError(f"missing required column '{missing}' (two code_v<year> columns)",
                                file=src.name, line=1, field=missing)
        (c_a, v_a), (c_b, v_b) = codes[:2]
        c_area = src.column("areakm", "area_km2")
        c_pop = src.column("pop21", required=False)
        for line, row in src.rows():
            if not any(cell.strip() for cell in row):
                continue
            a = _nuts_code(row[c_a], src, line, src.header[c_a], level3=True)
            b = _nuts_code(row[c_b], src, line, src.header[c_b], level3=True)
            area = _float(row[c_area], src, line, src.header[c_area])
            if area is None or area < 0:
                raise _bad(f"missing or negative area {row[c_area]!r}", src, line, src.header[c_area])
            pop = _float(row[c_pop], src, line, "pop21") if c_pop >= 0 else None
            if pop is not None and pop < 0:
                raise _bad(f"negative population {pop}", src, line, "pop21")
            parts.append((a, b, area, pop or 0.0))
    return parts, v_a, v_b


def _conversions(parts: list[ConverterPart], from_v: str, to_v: str, *, forward: bool) -> Iterator[NutsConversion]:
    """One direction of a converter: each part weighted by its share of its source region (population, else
    area, else an equal share)."""
    pop_total: dict[str, float] = defaultdict(float)
    area_total: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    for a, b, area, pop in parts:
        source = a if forward else b
        pop_total[source] += pop
        area_total[source] += area
        count[source] += 1
    for a, b, area, pop in parts:
        source, target = (a, b) if forward else (b, a)
        if pop_total[source] > 0:
            weight = pop / pop_total[source]
        elif area_total[source] > 0:
            weight = area / area_total[source]
        else:
            weight = 1.0 / count[source]
        yield NutsConversion(from_version=from_v, from_code=source, to_version=to_v, to_code=target,
                             weight=weight)
