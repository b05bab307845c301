"""Region profiles: who is in a NUTS region, how they link inside and outside, across urban-rural types."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from ecosystem.domain.errors import BadInputError, NotFoundError
from ecosystem.domain.models import HELICES, URBAN_RURAL
from ecosystem.domain.nuts import in_region, is_nuts_code, nuts_prefix
from ecosystem.services.cache import DataVersionCache, cache
from ecosystem.services.networks import collaboration_graph
from ecosystem.services.snapshot import in_snapshot, kept_per_data_version
from ecosystem.store.base import GraphReader


def known_region(store: GraphReader, nuts: str) -> tuple[str, dict[str, Any] | None]:
    """A NUTS or country code the store knows, upper-cased, with its region (None for a bare country)."""
    code = nuts_prefix(nuts)
    region = store.region(code)
    if region is None and not (len(code) == 2 and store.country_known(code)):
        raise NotFoundError(f"unknown NUTS region {code!r}")
    return code, region


def checked_region(store: GraphReader, nuts: str) -> str:
    """A NUTS or country code as a user gave it, upper-cased: bad input when malformed, not found when unknown."""
    if not is_nuts_code(nuts):
        raise BadInputError(f"not a NUTS or country code: {nuts!r}", field="nuts")
    return known_region(store, nuts)[0]


def checked_nuts(store: GraphReader, nuts: str | None) -> str | None:
    """An optional NUTS filter: None stays None, a code is checked as by `checked_region`."""
    return None if nuts is None else checked_region(store, nuts)


@dataclass
class _Links:
    """Tallies of the links that touch a region's organisations."""

    inside: int = 0
    outside: int = 0
    weight_inside: int = 0
    weight_outside: int = 0
    urban_rural: Counter[tuple[str, str]] = field(default_factory=Counter)
    helix: Counter[tuple[str, str]] = field(default_factory=Counter)
    partner_regions: Counter[str] = field(default_factory=Counter)


def _count_links(graph: nx.Graph, inside: set[str]) -> _Links:
    """Each link inside the region once, each link leaving it once, with its helix and urban-rural pair."""
    links = _Links()
    for a in inside:
        for b, data in graph[a].items():
            if b in inside:
                if a > b:
                    continue
                links.inside += 1
                links.weight_inside += data["weight"]
            else:
                links.outside += 1
                links.weight_outside += data["weight"]
                links.partner_regions[graph.nodes[b].get("nuts3") or graph.nodes[b].get("country") or "unknown"] += 1
            ua, ub = sorted((graph.nodes[a]["urban_rural"], graph.nodes[b]["urban_rural"]))
            links.urban_rural[(ua, ub)] += 1
            ha, hb = sorted((graph.nodes[a]["helix"], graph.nodes[b]["helix"]))
            links.helix[(ha, hb)] += 1
    return links


@kept_per_data_version("region_profile")
@in_snapshot
def region_profile(store: GraphReader, nuts: str) -> dict[str, Any]:
    """Helix counts, organisations by urban-rural type, links inside and outside, the urban-rural link matrix."""
    code, region = known_region(store, nuts)
    graph = collaboration_graph(store)
    inside = {n for n, d in graph.nodes(data=True) if in_region(d, code)}
    helix = Counter({h: 0 for h in HELICES})
    urban_rural = Counter({u: 0 for u in URBAN_RURAL})
    for n in inside:
        helix[graph.nodes[n]["helix"]] += 1
        urban_rural[graph.nodes[n]["urban_rural"]] += 1
    links = _count_links(graph, inside)
    region = region or {}
    return {
        "nuts": code,
        "level": region.get("level", 0),
        "name": region.get("name"),
        "urban_rural": region.get("urban_rural"),
        "organisations": len(inside),
        "helix": dict(helix),
        "organisations_by_urban_rural": dict(urban_rural),
        "links": {"inside": links.inside, "outside": links.outside,
                  "weight_inside": links.weight_inside, "weight_outside": links.weight_outside},
        "urban_rural_links": [{"a": a, "b": b, "links": n} for (a, b), n in sorted(links.urban_rural.items())],
        "helix_links": [{"a": a, "b": b, "links": n} for (a, b), n in sorted(links.helix.items())],
        "analytics": _analytics(store, graph, inside),
        "top_partner_regions": [{"region": r, "links": n}
                                for r, n in sorted(links.partner_regions.items(), key=lambda kv: (-kv[1], kv[0]))[:10]],
    }


# --- the pages' view of a region: its profile and its sub-regions, cached per data version ---------------------

summaries = DataVersionCache(max_entries=256)
"""Per-region results of the pages (profiles, sub-regions): small values, many keys, so kept apart from the
shared cache of whole graphs, which they would otherwise push out."""


def cached_region_profile(store: GraphReader, nuts: str) -> dict[str, Any]:
    """`region_profile`, kept until the store changes."""
    code = nuts_prefix(nuts)
    return summaries.get(store, ("profile", code), lambda: region_profile(store, code))


def sub_region_code(node: dict[str, Any], code: str) -> str | None:
    """The code of the next NUTS level down inside `code` (NUTS1 for a country) that holds an organisation."""
    nuts3 = node.get("nuts3") or ""
    if len(code) >= 5 or len(nuts3) < len(code) + 1 or not in_region(node, code):
        return None
    return nuts3[:len(code) + 1] if len(code) > 2 else nuts3[:3]


def _sub_region_numbers(store: GraphReader, code: str) -> list[dict[str, Any]]:
    graph = collaboration_graph(store)
    of: dict[str, str] = {}
    for n, data in graph.nodes(data=True):
        sub = sub_region_code(data, code)
        if sub:
            of[n] = sub
    level = 1 if len(code) == 2 else len(code) - 1
    codes = set(of.values()) | {shape.nuts_id for shape in store.region_shapes(level, code)
                                if len(shape.nuts_id) == len(code) + 1}
    rows: dict[str, dict[str, Any]] = {}
    for sub in sorted(codes):
        region = store.region(sub) or {}
        rows[sub] = {"nuts": sub, "name": region.get("name"), "level": region.get("level", level),
                     "urban_rural": region.get("urban_rural"), "organisations": 0,
                     "helix": dict.fromkeys(HELICES, 0), "organisations_by_urban_rural": dict.fromkeys(URBAN_RURAL, 0),
                     "links_inside": 0, "links_outside": 0}
    for n, sub in of.items():
        row, data = rows[sub], graph.nodes[n]
        row["organisations"] += 1
        for name, value in (("helix", data.get("helix")), ("organisations_by_urban_rural", data.get("urban_rural"))):
            row[name][value or "unknown"] = row[name].get(value or "unknown", 0) + 1
        for other in graph[n]:
            if of.get(other) == sub:
                row["links_inside"] += 1 if n < other else 0
            else:
                row["links_outside"] += 1
    return list(rows.values())


def sub_regions(store: GraphReader, nuts: str) -> list[dict[str, Any]]:
    """The next NUTS level down inside a region (NUTS1 for a country; none below NUTS3), each with its
    organisations by helix and urban-rural type, its own urban-rural type and its links inside and leaving it.

    Sub-regions come from the stored boundaries and from where organisations are, so one without organisations
    is listed with zeros when its boundary is stored.
    """
    code, _ = known_region(store, nuts)
    return summaries.get(store, ("sub_regions", code), lambda: _sub_region_numbers(store, code))


def warm_region_pages(store: GraphReader) -> None:
    """Compute the region page of every country in the network (the home page's entry points), so their first
    visitors pay nothing; smaller regions are quick to compute on a first visit."""
    graph = collaboration_graph(store)
    for country in sorted({d["country"] for _, d in graph.nodes(data=True) if d.get("country")}):
        try:
            cached_region_profile(store, country)
            sub_regions(store, country)
        except NotFoundError:  # a country code the store knows no region for
            continue

def region_municipalities(store: GraphReader, nuts: str) -> list[dict[str, Any]]:
    """The participating municipalities inside a region of any level or a country, kept until the store changes."""
    code = nuts_prefix(nuts)
    return summaries.get(store, ("municipalities", code), lambda: [
        m for m in participating_municipalities(store)
        if in_region({"nuts3": m.get("nuts3"), "country": m.get("country")}, code)])


def participating_municipalities(store: GraphReader) -> list[dict[str, Any]]:
    """`municipal_participation`, kept until the store changes."""
    return summaries.get(store, ("municipal_participation",), lambda: municipal_participation(store))


def municipal_participation(store: GraphReader) -> list[dict[str, Any]]:
    """Municipalities whose own government takes part in projects (one entry per municipality)."""
    by_key: dict[str, dict[str, Any]] = {}
    for body in store.municipal_governments():
        entry = by_key.get(body["lau"])
        if entry is None:
            m = store.municipality(body["lau"]) or {}
            # the body is placed through its municipality: its region is the municipality's, in NUTS 2021
            # (the LAU table gives NUTS 2016; that code is kept as `lau_table_nuts3`)
            entry = {"lau": body["lau"], "name": m.get("name"), "country": body["country"],
                     "nuts3": body["nuts3"], "urban_rural": body["urban_rural"],
                     "lau_table_nuts3": m.get("nuts3"), "lau_table_nuts_version": m.get("nuts3_source_version"),
                     "population": m.get("population"), "area_km2": m.get("area_km2"),
                     "degree_of_urbanisation": m.get("degurba"), "bodies": [], "projects": 0}
            by_key[body["lau"]] = entry
        entry["bodies"].append({"id": body["id"], "name": body["name"], "projects": body["projects"]})
        entry["projects"] += body["projects"]
    return sorted(by_key.values(), key=lambda e: (-e["projects"], e["lau"]))


def municipalities(store: GraphReader, *, country: str | None = None, nuts: str | None = None,
                   degree_of_urbanisation: str | None = None) -> dict[str, Any]:
    """The participating municipalities in a country or region (codes as checked by `checked_nuts`), of one
    degree of urbanisation, with their count per degree of urbanisation."""
    wanted_country = nuts_prefix(country) if country else None

    def selected(m: dict[str, Any]) -> bool:
        return ((not wanted_country or m["country"] == wanted_country)
                and (not nuts or (m.get("nuts3") or "").startswith(nuts) or (len(nuts) == 2 and m["country"] == nuts))
                and (degree_of_urbanisation is None or m.get("degree_of_urbanisation") == degree_of_urbanisation))

    items = [m for m in municipal_participation(store) if selected(m)]
    counts: dict[str, int] = {}
    for m in items:
        key = m.get("degree_of_urbanisation") or "unknown"
        counts[key] = counts.get(key, 0) + 1
    return {"total": len(items), "by_degree_of_urbanisation": counts, "items": items}


def _analytics(store: GraphReader, graph: nx.Graph, inside: set[str]) -> dict[str, Any]:
    """Helix diversity, E-I indices, top bridges (brokerage) and the helix synergy of the region's projects."""
    from ecosystem.analysis.regions import region_analytics

    return region_analytics(graph, inside, participations_of(store))


def participations_of(store: GraphReader) -> list[tuple[str, str]]:
    """(project, organisation) pairs of the store, cached per data version."""
    return cache.get(store, ("participations",),
                     lambda: [(p, o) for p, o, _role, _ec in store.iter_participations()])


# -- a register's categories as an inclusion lens --------------------------------------------------------------

TAG_LENS_HELIX = "civil_society"  # the organisations whose tags say which groups a region's civil society serves
_NOT_GROUP_TAG_PREFIXES = ("ror:",)  # ROR types say what an organisation is, not whom it serves
_NOT_GROUP_TAGS = frozenset({"municipal government"})
MAX_LENS_ORGANISATIONS = 200_000  # civil-society organisations of one country read for the comparison


def _group_tags(org: dict[str, Any]) -> list[str]:
    return [t for t in org.get("tags", []) if t not in _NOT_GROUP_TAGS and not t.startswith(_NOT_GROUP_TAG_PREFIXES)]


def _country_tags(store: GraphReader, country: str) -> list[tuple[str | None, str | None, list[str]]]:
    """(NUTS3, urban-rural type, group tags) of every civil-society organisation of a country (kept per data
    version: every region page of the country reads them)."""
    return cache.get(store, ("country_tags", country), lambda: _read_country_tags(store, country))


def _read_country_tags(store: GraphReader, country: str) -> list[tuple[str | None, str | None, list[str]]]:
    _total, items = store.search_organisations(country=country, helix=TAG_LENS_HELIX, limit=MAX_LENS_ORGANISATIONS)
    out = []
    for item in items:
        doc = store.organisation(item["id"]) or {}
        tags = _group_tags(doc)
        if tags:
            out.append((item.get("nuts3"), item.get("urban_rural"), tags))
    return out


def region_tags(store: GraphReader, nuts: str) -> dict[str, Any]:
    """Which groups a region's civil-society organisations serve (their register categories, counted), and, for a
    NUTS3 region, the categories absent in it but present in comparable regions (the same urban-rural type in
    the same country), with how many of those regions have them."""
    code, region = known_region(store, nuts)
    country = (region or {}).get("country") or code[:2]
    return cache.get(store, ("region_tags", code), lambda: _region_tags(store, code, country, region))


def _region_tags(store: GraphReader, code: str, country: str, region: dict[str, Any] | None) -> dict[str, Any]:
    rows = _country_tags(store, country)
    here: Counter[str] = Counter()
    organisations = 0
    for nuts3, _ur, tags in rows:
        if nuts3 and nuts3.startswith(code) or len(code) == 2:
            organisations += 1
            here.update(tags)
    absent: list[dict[str, Any]] = []
    comparable: set[str] = set()
    if region is not None and region.get("level") == 3:
        kind = region.get("urban_rural")
        in_regions: dict[str, set[str]] = {}
        for nuts3, ur, tags in rows:
            if nuts3 and nuts3 != code and ur == kind:
                comparable.add(nuts3)
                for tag in tags:
                    in_regions.setdefault(tag, set()).add(nuts3)
        absent = [{"tag": t, "comparable_regions": len(r)} for t, r in
                  sorted(in_regions.items(), key=lambda kv: (-len(kv[1]), kv[0])) if t not in here]
    return {"nuts": code, "helix": TAG_LENS_HELIX, "organisations_with_tags": organisations,
            "tags": [{"tag": t, "organisations": n} for t, n in sorted(here.items(), key=lambda kv: (-kv[1], kv[0]))],
            "comparable_regions": len(comparable), "absent_in_comparable": absent}
