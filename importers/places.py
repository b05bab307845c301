"""GeoNames populated places (cities1000, cities15000, ...) for geocoding a city name within a country.

Two layouts are read, recognised by content: the official GeoNames dump (tab-separated, no header, 19
columns: geonameid, name, asciiname, alternatenames, latitude, longitude, feature class, feature code,
country code, cc2, admin1..4, population, elevation, dem, timezone, modification date), alone, gzipped or
in the published zip; and a CSV with a header naming at least geonameid, name, latitude, longitude and
countrycode (population, admin1code, asciiname and alternatenames when present). Country codes become
Eurostat ones (GR -> EL, GB -> UK). GeoNames data: CC BY 4.0.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ecosystem.domain.batch import ImportBatch
from ecosystem.domain.errors import BadInputError
from ecosystem.domain.models import Place
from ecosystem.domain.nuts import normalise_country
from importers._http import local_input
from importers.files import decode_text, iter_files, zip_members

__all__ = ["LICENCE", "detect_places_file", "parse_places", "read_places"]

LICENCE = "CC BY 4.0 (GeoNames)"
CSV_REQUIRED = ("geonameid", "name", "latitude", "longitude", "countrycode")
DUMP_COLUMNS = 19
_DUMP = {"id": 0, "name": 1, "ascii": 2, "alternates": 3, "lat": 4, "lon": 5, "feature_class": 6, "country": 8,
         "admin1": 10, "population": 14}
_CSV_ALIASES = {"country_code": "countrycode", "country code": "countrycode", "admin1_code": "admin1code",
                "lat": "latitude", "lon": "longitude", "lng": "longitude", "ascii_name": "asciiname",
                "alternate_names": "alternatenames", "geoname_id": "geonameid"}


def _layout(head: str) -> str | None:
    """"dump", "csv" or None from the first line of a file."""
    first = head.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    if not first:
        return None
    if first.count("\t") == DUMP_COLUMNS - 1 and first.split("\t", 1)[0].strip().isdigit():
        return "dump"
    for delim in (",", ";", "\t"):
        cols = {_CSV_ALIASES.get(c.strip().strip('"').lower(), c.strip().strip('"').lower())
                for c in first.split(delim)}
        if set(CSV_REQUIRED) <= cols:
            return "csv"
    return None


def _head(path: Path) -> str:
    try:
        with path.open("rb") as probe:
            magic = probe.read(4)
        if magic[:2] == b"\x1f\x8b":
            with gzip.open(path, "rb") as fh:
                data = fh.read(4096)
        elif magic == b"PK\x03\x04":
            return ""
        else:
            with path.open("rb") as fh:
                data = fh.read(4096)
    except (OSError, EOFError, zlib.error):
        return ""
    return data.decode("utf-8", errors="replace")


def detect_places_file(path: Path) -> bool:
    """Whether `path` is a GeoNames places file (either layout; gzipped, or a zip holding one)."""
    path = Path(path)
    if not path.is_file():
        return False
    if path.suffix.lower() == ".zip":
        try:
            return any(_layout(data[:4096].decode("utf-8", errors="replace")) for name, data in zip_members(path)
                       if name.lower().endswith((".txt", ".csv", ".tsv")) and not name.lower().startswith("readme"))
        except BadInputError:
            return False
    return _layout(_head(path)) is not None


def _number(raw: str, label: str, line: int, field: str, kind: type = float) -> Any:
    text = raw.strip()
    if text == "":
        return None
    try:
        return kind(text) if kind is float else int(float(text))
    except ValueError:
        raise BadInputError(f"not a number: {text!r}", file=label, line=line, field=field) from None


def _place(label: str, line: int, fields: dict[str, str], names: dict[str, str]) -> Place:
    """A validated Place from one row; `names` maps our keys to the file's column names (for errors)."""
    geonames_id = fields["id"].strip()
    if not geonames_id.isdigit():
        raise BadInputError(f"not a GeoNames id: {geonames_id!r}", file=label, line=line, field=names["id"])
    name = fields["name"].strip()
    if not name:
        raise BadInputError("empty place name", file=label, line=line, field=names["name"])
    lat = _number(fields["lat"], label, line, names["lat"])
    lon = _number(fields["lon"], label, line, names["lon"])
    if lat is None or not -90 <= lat <= 90:
        raise BadInputError(f"latitude out of range: {fields['lat']!r}", file=label, line=line, field=names["lat"])
    if lon is None or not -180 <= lon <= 180:
        raise BadInputError(f"longitude out of range: {fields['lon']!r}", file=label, line=line,
                            field=names["lon"])
    raw_country = fields["country"].strip().upper()
    if len(raw_country) != 2 or not raw_country.isalpha():
        raise BadInputError(f"not a country code: {raw_country!r}", file=label, line=line,
                            field=names["country"])
    population = _number(fields.get("population", ""), label, line, names.get("population", "population"), int)
    if population is not None and population < 0:
        raise BadInputError(f"negative population: {population}", file=label, line=line,
                            field=names.get("population", "population"))
    ascii_name = fields.get("ascii", "").strip() or None
    alternates = [a.strip() for a in fields.get("alternates", "").split(",") if a.strip()]
    return Place(geonames_id=geonames_id, name=name, ascii_name=ascii_name if ascii_name != name else None,
                 alternate_names=list(dict.fromkeys(a for a in alternates if a not in (name, ascii_name))),
                 country=normalise_country(raw_country) or raw_country, lat=lat, lon=lon, population=population,
                 admin1=fields.get("admin1", "").strip() or None)


def _dump_rows(text: str, label: str) -> Iterator[Place]:
    names = {"id": "geonameid", "name": "name", "ascii": "asciiname", "alternates": "alternatenames",
             "lat": "latitude", "lon": "longitude", "country": "country code", "admin1": "admin1 code",
             "population": "population"}
    for line, row in enumerate(text.split("\n"), 1):
        row = row.rstrip("\r")
        if not row.strip():
            continue
        cells = row.split("\t")
        if len(cells) != DUMP_COLUMNS:
            raise BadInputError(f"expected {DUMP_COLUMNS} tab-separated fields, found {len(cells)}", file=label,
                                line=line)
        if cells[_DUMP["feature_class"]] not in ("P", ""):
            continue  # not a populated place (a per-country dump holds every feature)
        yield _place(label, line, {k: cells[i] for k, i in _DUMP.items()}, names)


def _csv_rows(text: str, label: str) -> Iterator[Place]:
    first = text.split("\n", 1)[0]
    delim = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise BadInputError(f"malformed CSV header ({exc})", file=label, line=1) from None
    canon = [_CSV_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in header]
    missing = [c for c in CSV_REQUIRED if c not in canon]
    if missing:
        raise BadInputError(f"missing required column(s) {', '.join(missing)}", file=label, line=1, field=missing[0])
    ours = {"geonameid": "id", "name": "name", "asciiname": "ascii", "alternatenames": "alternates",
            "latitude": "lat", "longitude": "lon", "countrycode": "country", "admin1code": "admin1",
            "population": "population"}
    index = {ours[c]: i for i, c in enumerate(canon) if c in ours}
    names = {key: header[i].strip() for key, i in index.items()}
    try:
        for row in reader:
            line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != len(header):
                raise BadInputError(f"expected {len(header)} fields, found {len(row)}", file=label, line=line)
            yield _place(label, line, {key: row[i] for key, i in index.items()}, names)
    except csv.Error as exc:
        raise BadInputError(f"malformed CSV ({exc})", file=label, line=reader.line_num) from exc


def parse_places(data: bytes, label: str, countries: Iterable[str] | None = None) -> list[Place]:
    """Places from one file's bytes (gzipped or not), in either layout; only `countries` (Eurostat codes) if given."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise BadInputError(f"not a readable gzip file ({exc})", file=label) from exc
    text = decode_text(data, label)
    layout = _layout(text[:4096])
    if layout is None:
        raise BadInputError("not a GeoNames places file: expected the 19-column GeoNames dump or a CSV with "
                            f"columns {', '.join(CSV_REQUIRED)}", file=label, line=1)
    rows = _dump_rows(text, label) if layout == "dump" else _csv_rows(text, label)
    if countries is None:
        return list(rows)
    keep = {normalise_country(c) or c for c in countries}
    return [p for p in rows if p.country in keep]


def _documents(inputs: Iterable[str | Path], cache_dir: Path, progress: Any) -> Iterator[tuple[str, bytes]]:
    for item in inputs:
        path, label = local_input(item, cache_dir, progress)
        if path.is_dir():
            for sub in iter_files(path, (".txt", ".csv", ".tsv", ".gz", ".zip")):
                if detect_places_file(sub):
                    yield from _file_documents(sub, str(sub.relative_to(path)))
            continue
        yield from _file_documents(path, label)


def _file_documents(path: Path, label: str) -> Iterator[tuple[str, bytes]]:
    if path.suffix.lower() == ".zip":
        found = False
        for name, data in zip_members(path):
            if name.lower().endswith((".txt", ".csv", ".tsv")) and _layout(data[:4096].decode("utf-8", "replace")):
                found = True
                yield f"{label}!{name}", data
        if not found:
            raise BadInputError("no GeoNames places file in the zip", file=label)
        return
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInputError(f"cannot read the file ({exc})", file=label) from exc
    yield label, data


def read_places(inputs: Iterable[str | Path], *, cache_dir: Path, progress: Any = None,
                countries: Iterable[str] | None = None) -> ImportBatch:
    """Parse GeoNames places files into one validated batch (`batch.places`; nothing is written here).

    A place listed in several files is kept once (the last file wins). `countries` (ISO or Eurostat codes)
    keeps only the places of those countries: the world-wide GeoNames files are large.
    """
    wanted = list(countries) if countries is not None else None
    places: dict[str, Place] = {}
    files: list[str] = []
    for label, data in _documents(inputs, cache_dir, progress):
        task = progress.add_task(f"reading {label}", total=None) if progress is not None else None
        found = parse_places(data, label, wanted)
        for place in found:
            places[place.geonames_id] = place
        if task is not None:
            progress.remove_task(task)
        files.append(f"{label} ({len(found)} places)")
    if not files:
        raise BadInputError("no GeoNames places file found in the input")
    return ImportBatch(label="places: " + ", ".join(files), places=list(places.values()))
