"""Eurostat/GISCO regions: NUTS regions with urban-rural types, boundaries, municipalities, postcodes.

Each file is recognised by its content (see `importers.regions.detect_region_file`); a folder or a zip
is searched for them, a URL is downloaded first.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ecosystem.domain.batch import ImportBatch
from ecosystem.domain.errors import BadInputError
from ecosystem.domain.location import point_in_polygon, postcode_prefix_rows
from ecosystem.domain.models import URBN_TYPE_CODES, Provenance, Region, UrbanRural
from importers._http import download, is_url
from importers.files import iter_files, zip_members
from importers.places import detect_places_file, read_places
from importers.regions import (
    GISCO_LICENCE,
    detect_region_file,
    parse_converter,
    parse_geometry,
    parse_lau,
    parse_names,
    parse_postcodes,
    parse_typology,
)

SUFFIXES = (".csv", ".json", ".geojson", ".gz", ".tsv", ".zip")


def _files(inputs: Iterable[str | Path], cache_dir: Path, progress: Any,
           scratch: Path) -> Iterator[tuple[Path, bool]]:
    """(path, strict) for every file named, in a folder, or in a zip; strict files must be regions files."""
    for item in inputs:
        if is_url(str(item)):
            path = download(str(item), cache_dir, progress=progress)
        else:
            path = Path(item)
            if not path.exists():
                raise BadInputError("no such file or directory", file=str(item))
        if path.is_dir():
            for sub in iter_files(path, SUFFIXES):
                yield from _expand(sub, scratch, strict=False)
        else:
            yield from _expand(path, scratch, strict=True)


def _expand(path: Path, scratch: Path, *, strict: bool) -> Iterator[tuple[Path, bool]]:
    if path.suffix.lower() == ".zip":
        for name, data in zip_members(path):
            if Path(name).suffix.lower() in SUFFIXES[:-1]:
                target = scratch / Path(name).name
                target.write_bytes(data)
                yield target, False
        return
    yield path, strict


def _regions_from_geojson(path: Path) -> list[Region]:
    """GISCO's NUTS GeoJSON carries the typologies in its properties: regions when no typology file is given."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    out = []
    for feature in doc.get("features", []):
        props = feature.get("properties") or {}
        code = props.get("NUTS_ID")
        level = props.get("LEVL_CODE", len(code) - 2 if code else None)
        if not code or level is None or not 0 <= int(level) <= 3:
            continue
        urbn = props.get("URBN_TYPE")
        out.append(Region(
            nuts_id=code, level=int(level), country=props.get("CNTR_CODE") or code[:2],
            name=props.get("NUTS_NAME") or props.get("NAME_LATN"), name_latn=props.get("NAME_LATN"),
            parent=code[:-1] if int(level) > 0 else None,
            urban_rural=URBN_TYPE_CODES.get(str(urbn), UrbanRural.UNKNOWN) if urbn is not None else UrbanRural.UNKNOWN,
            mount_type=props.get("MOUNT_TYPE"), coast_type=props.get("COAST_TYPE"),
            source=Provenance(source="eurostat-gisco", file=path.name, record=code, licence=GISCO_LICENCE)))
    return out


def read_regions(inputs: Iterable[str | Path], *, cache_dir: Path, progress: Any = None) -> ImportBatch:
    """Parse regions files into one validated batch (nothing is written here)."""
    batch = ImportBatch(label="regions")
    seen: list[str] = []
    geo_regions: dict[str, Region] = {}
    with tempfile.TemporaryDirectory(prefix="helixmap-regions-") as tmp:
        for path, strict in _files(inputs, cache_dir, progress, Path(tmp)):
            if detect_places_file(path):
                batch.places.extend(read_places([path], cache_dir=cache_dir).places)
                seen.append(f"{path.name} (places)")
                continue
            try:
                kind = detect_region_file(path)
            except BadInputError:
                if strict:
                    raise
                batch.warnings.append(f"{path.name}: not a regions file; skipped")
                continue
            task = progress.add_task(f"reading {path.name}", total=None) if progress is not None else None
            _read_region_file(batch, geo_regions, path, kind)
            if task is not None:
                progress.remove_task(task)
            seen.append(f"{path.name} ({kind})")
    if not seen:
        raise BadInputError("no regions file found in the input")
    typology_ids = {r.nuts_id for r in batch.regions}
    batch.regions.extend(r for code, r in sorted(geo_regions.items()) if code not in typology_ids)
    batch.shapes = _best_shapes(batch.regions, batch.shapes)
    # one postcode row per (country, postcode): the last file wins
    batch.postcodes = list({(c, p): (c, p, n, v) for c, p, n, v in batch.postcodes}.values())
    batch.label = "regions: " + ", ".join(seen)
    return batch


def _read_region_file(batch: ImportBatch, geo_regions: dict[str, Region], path: Path, kind: str) -> None:
    """One regions file of a known kind into the batch (regions from a GeoJSON into `geo_regions`)."""
    if kind == "typology":
        batch.regions.extend(parse_typology(path))
    elif kind == "names":
        batch.region_names.extend(parse_names(path))
    elif kind == "geometry":
        batch.shapes.extend(parse_geometry(path))  # every level: NUTS3 places organisations, 0-2 draw maps
        for region in _regions_from_geojson(path):
            geo_regions.setdefault(region.nuts_id, region)
    elif kind == "lau":
        batch.municipalities.extend(parse_lau(path))
    elif kind == "postcodes":
        version, rows = parse_postcodes(path)
        table = list(rows)
        batch.postcodes.extend((c, p, n, version) for c, p, n in table)
        # prefixes the table vouches for (all their codes in one NUTS3): a code missing from
        # the table is then found by its longest such prefix
        batch.postcodes.extend((c, p, n, version) for c, p, n in postcode_prefix_rows(table))
    elif kind == "converter":
        batch.conversions.extend(parse_converter(path))


def _best_shapes(regions: list[Region], shapes: list[Any]) -> list[Any]:
    """One shape per NUTS region (any level): the finest geometry given wins (the 1:20M file over the 1:60M one),
    unless it does not hold the region's own label point (the 1:20M file swaps some Albanian codes)."""
    labels = {r.nuts_id: (r.label_lon, r.label_lat) for r in regions
              if r.label_lon is not None and r.label_lat is not None}

    def holds_label(shape: Any) -> bool:
        point = labels.get(shape.nuts_id)
        return point is None or point_in_polygon(point[0], point[1], shape.geometry)

    best: dict[str, Any] = {}
    for shape in shapes:
        old = best.get(shape.nuts_id)
        rank = (holds_label(shape), len(json.dumps(shape.geometry)))
        if old is None or rank > (holds_label(old), len(json.dumps(old.geometry))):
            best[shape.nuts_id] = shape
    return [best[k] for k in sorted(best)]
