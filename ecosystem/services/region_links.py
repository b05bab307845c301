"""Region-to-region collaboration of an area: its regions, their links inside and to the rest of Europe.

The JSON of `GET /api/v1/region-links` and the data of the region flow map (`/maps/regions`), which also
gets the region outlines: the stored boundaries of the level asked for (a NUTS2 region without one is drawn
as its NUTS3 parts) and the countries' (level 0) borders. Links leaving the area are also summarised per
partner country (`outside_by_country`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from ecosystem.analysis.region_links import (
    LEVELS,
    UNKNOWN_REGION,
    RegionLinks,
    aggregate_region_links,
    touches_rural,
)
from ecosystem.domain.errors import BadInputError, NotFoundError
from ecosystem.domain.filters import NetworkFilter
from ecosystem.domain.models import HELICES
from ecosystem.services.networks import collaboration_graph
from ecosystem.store.base import GraphReader

__all__ = ["nuts3_outlines", "region_links", "region_map"]

CACHE_SIZE = 16
"""Payloads kept (per store, data version, filter and level): a warm map or JSON request skips the aggregation."""
_lock = threading.Lock()
_payloads: OrderedDict[tuple[str, str, NetworkFilter, int], dict[str, Any]] = OrderedDict()
_shapes: dict[str, tuple[str, dict[str, list[dict[str, Any]]]]] = {}
_regions: dict[str, tuple[str, dict[str, dict[str, Any] | None]]] = {}


def region_links(store: GraphReader, flt: NetworkFilter, level: int = 3) -> dict[str, Any]:
    """Every region of the area (code, name, level, urban-rural type, label point, organisations by helix)
    and every region link touching it (organisation pairs, shared projects, pair type), with totals.
    Cached until the store changes: callers must not change the payload.

    `flt.nuts` (at most one code) selects the area; links from it to other regions are kept, the other end
    named. `flt.helix` and the years filter the organisations and projects as on the network map.
    """
    nuts = _check(store, flt, level)
    version = store.data_version()
    key = (store.uri, version, flt, level)
    with _lock:
        if key in _payloads:
            _payloads.move_to_end(key)
            return _payloads[key]
    graph = collaboration_graph(store, replace(flt, nuts=()))
    shapes = _level3_shapes(store)
    area = sorted({code[: 2 + level] for code in shapes if nuts is None or code.startswith(nuts)})
    result = aggregate_region_links(graph, level, nuts, regions=area)
    docs = {code: _region(store, code, version) for code in result.regions}
    result.assign_types({code: doc["urban_rural"] for code, doc in docs.items()
                         if doc and doc.get("urban_rural") not in (None, "unknown") and doc.get("level") == level})
    payload = _payload(result, docs, _region(store, nuts, version) if nuts else None, flt)
    with _lock:
        _payloads[key] = payload
        while len(_payloads) > CACHE_SIZE:
            _payloads.popitem(last=False)
    return payload


def region_map(store: GraphReader, flt: NetworkFilter, level: int = 3) -> dict[str, Any]:
    """`region_links` plus each listed region's outline (`shapes`: code -> GeoJSON geometries) and the
    borders of the countries of the listed regions (`countries`: code -> geometries)."""
    payload = dict(region_links(store, flt, level))  # the cached payload itself stays as it is
    codes = {r["code"] for r in payload["regions"]}
    own = _shapes_of_level(store, level) if level != 3 else {}
    outlines: dict[str, list[dict[str, Any]]] = {code: list(own[code]) for code in codes if code in own}
    for code, geometries in _level3_shapes(store).items():
        key = code[: 2 + level]
        if key in codes and key not in own:
            outlines.setdefault(key, []).extend(geometries)
    payload["shapes"] = outlines
    countries = _shapes_of_level(store, 0)
    payload["countries"] = {c: countries[c] for c in sorted({code[:2] for code in codes}) if c in countries}
    return payload


def _check(store: GraphReader, flt: NetworkFilter, level: int) -> str | None:
    """The area's code (None: everything); bad parameters are bad input naming the field."""
    if level not in LEVELS:
        raise BadInputError(f"level must be 2 or 3, not {level!r}", field="level")
    if len(flt.nuts) > 1:
        raise BadInputError("one NUTS code at a time", field="nuts")
    if flt.year_from is not None and flt.year_to is not None and flt.year_from > flt.year_to:
        raise BadInputError(f"year_from {flt.year_from} is after year_to {flt.year_to}", field="year_from")
    if not flt.nuts:
        return None
    code = flt.nuts[0]
    if store.region(code) is None and not (len(code) == 2 and store.country_known(code)):
        raise NotFoundError(f"unknown NUTS region {code!r}")
    if len(code) - 2 > level:
        raise BadInputError(f"{code} is a NUTS{len(code) - 2} region: ask for level {len(code) - 2} or finer",
                            field="level")
    return code


def _level3_shapes(store: GraphReader) -> dict[str, list[dict[str, Any]]]:
    """NUTS3 code -> its geometries, read once per data version."""
    return _shapes_of_level(store, 3)


def _shapes_of_level(store: GraphReader, level: int) -> dict[str, list[dict[str, Any]]]:
    """NUTS code -> its geometries for one level (0 countries ... 3), read once per data version."""
    version = store.data_version()
    key = f"{store.uri}#{level}"
    with _lock:
        cached = _shapes.get(key)
        if cached and cached[0] == version:
            return cached[1]
    shapes: dict[str, list[dict[str, Any]]] = {}
    for shape in store.region_shapes(level):
        shapes.setdefault(shape.nuts_id, []).append(shape.geometry)
    with _lock:
        _shapes[key] = (version, shapes)
    return shapes


def _region(store: GraphReader, code: str, version: str) -> dict[str, Any] | None:
    """A stored region (any level), cached per data version."""
    if code == UNKNOWN_REGION:
        return None
    with _lock:
        cached = _regions.get(store.uri)
        if not cached or cached[0] != version:
            cached = _regions[store.uri] = (version, {})
        if code in cached[1]:
            return cached[1][code]
    doc = store.region(code)
    with _lock:
        cached[1][code] = doc
    return doc


def _payload(result: RegionLinks, docs: dict[str, dict[str, Any] | None], area: dict[str, Any] | None,
             flt: NetworkFilter) -> dict[str, Any]:
    regions = []
    for code, tally in sorted(result.regions.items(), key=lambda kv: (not kv[1].inside, kv[0])):
        doc = docs.get(code) or {}
        located = code != UNKNOWN_REGION and len(code) > 2
        regions.append({
            "code": code,
            "name": _name(code, doc, located),
            "level": result.level if located else (0 if code != UNKNOWN_REGION else None),
            "urban_rural": result.types.get(code, "unknown"),
            "urban_rural_from": _type_source(doc, result.level, result.types.get(code, "unknown")),
            "lon": doc.get("label_lon"),
            "lat": doc.get("label_lat"),
            "inside": tally.inside,
            "organisations": tally.organisations,
            "helix": {h: tally.helix.get(h, 0) for h in HELICES},
        })
    links = []
    for link in sorted(result.links.values(), key=lambda lk: (-lk.organisation_pairs, lk.a, lk.b)):
        kind = result.link_type(link)
        links.append({
            "a": link.a, "b": link.b,
            "organisation_pairs": link.organisation_pairs,
            "shared_projects": link.shared_projects,
            "pair_type": kind,
            "touches_rural": touches_rural(kind),
            "leaves_area": not (result.regions[link.a].inside and result.regions[link.b].inside),
            "first_year": link.first_year, "last_year": link.last_year,
        })
    return {
        "outside_by_country": _outside_by_country(regions, links),
        "nuts": result.nuts,
        "name": ((area or {}).get("name_latn") or (area or {}).get("name")) if result.nuts else "Europe",
        "level": result.level,
        "filters": {"helix": list(flt.helix), "year_from": flt.year_from, "year_to": flt.year_to},
        "regions": regions,
        "links": links,
        "totals": result.totals(),
        "notes": ["shared_projects sums the shared projects of each organisation pair",
                  "a link with a == b counts the pairs inside one region",
                  "organisations without a NUTS3 region count in their country (code of 2 letters) or 'unknown'"],
    }


def _outside_by_country(regions: list[dict[str, Any]], links: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The links leaving the area summed per partner country: organisation pairs, shared projects, partner
    regions, pairs by pair type, and the pairs-weighted mean of the partner regions' label points."""
    by_code = {r["code"]: r for r in regions}
    out: dict[str, dict[str, Any]] = {}
    for link in links:
        if not link["leaves_area"]:
            continue
        a, b = by_code[link["a"]], by_code[link["b"]]
        partner = b if a["inside"] and not b["inside"] else a
        if partner["code"] == UNKNOWN_REGION:
            continue
        country = partner["code"][:2]
        item = out.setdefault(country, {"country": country, "organisation_pairs": 0, "shared_projects": 0,
                                        "regions": set(), "by_pair_type": {}, "_lon": 0.0, "_lat": 0.0, "_w": 0})
        pairs = link["organisation_pairs"]
        item["organisation_pairs"] += pairs
        item["shared_projects"] += link["shared_projects"]
        item["regions"].add(partner["code"])
        item["by_pair_type"][link["pair_type"]] = item["by_pair_type"].get(link["pair_type"], 0) + pairs
        if partner.get("lon") is not None and partner.get("lat") is not None:
            item["_lon"] += partner["lon"] * pairs
            item["_lat"] += partner["lat"] * pairs
            item["_w"] += pairs
    rows = []
    for item in sorted(out.values(), key=lambda i: (-i["organisation_pairs"], i["country"])):
        weight = item.pop("_w")
        lon, lat = item.pop("_lon"), item.pop("_lat")
        item["lon"] = round(lon / weight, 4) if weight else None
        item["lat"] = round(lat / weight, 4) if weight else None
        item["regions"] = len(item["regions"])
        rows.append(item)
    return rows


def _name(code: str, doc: dict[str, Any], located: bool) -> str:
    if code == UNKNOWN_REGION:
        return "Region not known"
    name = doc.get("name_latn") or doc.get("name") or code
    return str(name) if located else f"{name} (region not known)"


def _type_source(doc: dict[str, Any], level: int, kind: str) -> str:
    if doc.get("urban_rural") not in (None, "unknown") and doc.get("level") == level:
        return "typology"
    return "organisations" if kind != "unknown" else "none"


def nuts3_outlines(store: GraphReader, codes: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """The stored boundaries (GeoJSON geometries) of these NUTS3 regions; regions without one left out."""
    shapes = _level3_shapes(store)
    return {code: shapes[code] for code in sorted(set(codes)) if code in shapes}
