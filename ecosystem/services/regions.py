"""Region profiles: who is in a NUTS region, how they link inside and outside, across urban-rural types."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ecosystem.domain.errors import NotFoundError
from ecosystem.domain.models import HELICES, URBAN_RURAL
from ecosystem.domain.nuts import in_region, nuts_prefix
from ecosystem.services.networks import collaboration_graph


def region_profile(store: Any, nuts: str) -> dict[str, Any]:
    """Helix counts, organisations by urban-rural type, links inside and outside, the urban-rural link matrix."""
    code = nuts_prefix(nuts)
    region = store.region(code)
    if region is None and not (len(code) == 2 and store.country_known(code)):
        raise NotFoundError(f"unknown NUTS region {code!r}")
    graph = collaboration_graph(store)
    inside = {n for n, d in graph.nodes(data=True) if in_region(d, code)}
    helix = Counter({h: 0 for h in HELICES})
    urban_rural = Counter({u: 0 for u in URBAN_RURAL})
    for n in inside:
        helix[graph.nodes[n]["helix"]] += 1
        urban_rural[graph.nodes[n]["urban_rural"]] += 1
    links_inside = links_outside = weight_inside = weight_outside = 0
    matrix: Counter[tuple[str, str]] = Counter()
    helix_matrix: Counter[tuple[str, str]] = Counter()
    partner_regions: Counter[str] = Counter()
    for a in inside:
        for b, data in graph[a].items():
            if b in inside:
                if a > b:
                    continue
                links_inside += 1
                weight_inside += data["weight"]
            else:
                links_outside += 1
                weight_outside += data["weight"]
                partner_regions[graph.nodes[b].get("nuts3") or graph.nodes[b].get("country") or "unknown"] += 1
            ua, ub = sorted((graph.nodes[a]["urban_rural"], graph.nodes[b]["urban_rural"]))
            matrix[(ua, ub)] += 1
            ha, hb = sorted((graph.nodes[a]["helix"], graph.nodes[b]["helix"]))
            helix_matrix[(ha, hb)] += 1
    return {
        "nuts": code,
        "level": region["level"] if region else 0,
        "name": region.get("name") if region else None,
        "urban_rural": region.get("urban_rural") if region else None,
        "organisations": len(inside),
        "helix": dict(helix),
        "organisations_by_urban_rural": dict(urban_rural),
        "links": {"inside": links_inside, "outside": links_outside,
                  "weight_inside": weight_inside, "weight_outside": weight_outside},
        "urban_rural_links": [{"a": a, "b": b, "links": n} for (a, b), n in sorted(matrix.items())],
        "helix_links": [{"a": a, "b": b, "links": n} for (a, b), n in sorted(helix_matrix.items())],
        "analytics": _analytics(store, graph, inside),
        "top_partner_regions": [{"region": r, "links": n}
                                for r, n in sorted(partner_regions.items(), key=lambda kv: (-kv[1], kv[0]))[:10]],
    }


def municipal_participation(store: Any) -> list[dict[str, Any]]:
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


def _analytics(store: Any, graph: Any, inside: set[str]) -> dict[str, Any]:
    """Helix diversity, E-I indices, top bridges (brokerage) and the helix synergy of the region's projects."""
    from ecosystem.analysis.regions import region_analytics

    return region_analytics(graph, inside, participations_of(store))


_participations: dict[str, tuple[str, list[tuple[str, str]]]] = {}


def participations_of(store: Any) -> list[tuple[str, str]]:
    """(project, organisation) pairs of the store, cached per data version."""
    version = store.data_version()
    cached = _participations.get(store.uri)
    if cached and cached[0] == version:
        return cached[1]
    rows = [(p, o) for p, o, _role, _ec in store.iter_participations()]
    _participations[store.uri] = (version, rows)
    return rows
