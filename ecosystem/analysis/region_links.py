"""Region-to-region collaboration: the organisation graph aggregated to NUTS regions, typed by urban-rural pair.

Each organisation pair sharing projects becomes part of one region link (its two regions at NUTS level 2 or
3; a pair inside one region is a link of that region with itself). Organisations without a NUTS3 region
count in a stand-in region named by their country code (or `unknown`), so no pair is dropped and the totals
equal the region profile's urban-rural matrix.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from ecosystem.domain.models import HELICES
from ecosystem.domain.nuts import in_region

__all__ = ["LEVELS", "PAIR_TYPES", "UNKNOWN_REGION", "URBAN_RURAL_ORDER", "LinkTally", "RegionLinks",
           "RegionTally", "aggregate_region_links", "pair_type", "region_code", "touches_rural"]

LEVELS = (2, 3)
UNKNOWN_REGION = "unknown"
URBAN_RURAL_ORDER = ("urban", "intermediate", "rural", "unknown")
_RANK = {t: i for i, t in enumerate(URBAN_RURAL_ORDER)}


def pair_type(a: str | None, b: str | None) -> str:
    """`urban-rural`, `intermediate-intermediate`, ...: the two types, urban first, unknown last."""
    x, y = sorted((a or "unknown", b or "unknown"), key=lambda t: _RANK.get(t, len(_RANK)))
    return f"{x}-{y}"


PAIR_TYPES = tuple(pair_type(a, b) for i, a in enumerate(URBAN_RURAL_ORDER) for b in URBAN_RURAL_ORDER[i:])


def touches_rural(kind: str) -> bool:
    """True for a pair type with a predominantly rural end."""
    return "rural" in kind.split("-")


def region_code(node: Mapping[str, Any], level: int) -> str:
    """The organisation's NUTS region at `level` (2 or 3), else its country code, else `unknown`."""
    nuts3 = node.get("nuts3")
    if nuts3:
        return str(nuts3)[: 2 + level]
    return str(node.get("country") or UNKNOWN_REGION)


@dataclass(slots=True)
class RegionTally:
    """Organisations of one region: by helix and by their own (NUTS3) urban-rural type."""

    code: str
    inside: bool
    helix: Counter[str] = field(default_factory=Counter)
    urban_rural: Counter[str] = field(default_factory=Counter)

    @property
    def organisations(self) -> int:
        return sum(self.helix.values())

    def majority_type(self) -> str:
        """The urban-rural type most of its organisations have (ties: the more urban), `unknown` when none."""
        known = [(n, -_RANK[t]) for t, n in self.urban_rural.items() if t != "unknown" and n and t in _RANK]
        if not known:
            return "unknown"
        return URBAN_RURAL_ORDER[-max(known)[1]]


@dataclass(slots=True)
class LinkTally:
    """Collaboration between two regions (a <= b; a == b for pairs inside one region)."""

    a: str
    b: str
    organisation_pairs: int = 0
    shared_projects: int = 0
    """Shared projects summed over the organisation pairs (a project joining 2 + 3 organisations counts 6)."""
    by_organisation_types: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Organisation pairs by the organisations' own urban-rural types (sorted as the region profile sorts)."""
    first_year: int | None = None
    last_year: int | None = None

    def add(self, types: tuple[str, str], weight: int, first: int | None, last: int | None,
            pairs: int = 1) -> None:
        """`pairs` organisation pairs of these types sharing `weight` projects in all."""
        self.organisation_pairs += pairs
        self.shared_projects += weight
        self.by_organisation_types[types] += pairs
        self.first_year = _least(self.first_year, first)
        self.last_year = _most(self.last_year, last)


@dataclass(slots=True)
class RegionLinks:
    """Regions and region links of an area (or of everything), with the urban-rural type of each region."""

    level: int
    nuts: str | None
    regions: dict[str, RegionTally]
    links: dict[tuple[str, str], LinkTally]
    types: dict[str, str] = field(default_factory=dict)

    def assign_types(self, known: Mapping[str, str] | None = None) -> None:
        """Each region's type: the given (Eurostat typology) where known, else its organisations' majority."""
        known = known or {}
        self.types = {code: (known.get(code) or tally.majority_type()) if code != UNKNOWN_REGION else "unknown"
                      for code, tally in self.regions.items()}

    def link_type(self, link: LinkTally) -> str:
        return pair_type(self.types.get(link.a), self.types.get(link.b))

    def organisation_type_matrix(self) -> Counter[tuple[str, str]]:
        """Organisation pairs by their urban-rural types over every link: the region profile's matrix."""
        total: Counter[tuple[str, str]] = Counter()
        for link in self.links.values():
            total.update(link.by_organisation_types)
        return total

    def totals(self) -> dict[str, Any]:
        by_type: Counter[str] = Counter({t: 0 for t in PAIR_TYPES})
        inside = outside = 0
        for link in self.links.values():
            by_type[self.link_type(link)] += link.organisation_pairs
            if self.regions[link.a].inside and self.regions[link.b].inside:
                inside += link.organisation_pairs
            else:
                outside += link.organisation_pairs
        return {
            "regions": sum(1 for r in self.regions.values() if r.inside),
            "partner_regions": sum(1 for r in self.regions.values() if not r.inside),
            "organisations": sum(r.organisations for r in self.regions.values() if r.inside),
            "links": len(self.links),
            "organisation_pairs": inside + outside,
            "organisation_pairs_inside": inside,
            "organisation_pairs_outside": outside,
            "shared_projects": sum(link.shared_projects for link in self.links.values()),
            "organisation_pairs_by_pair_type": dict(by_type),
            "urban_rural_links": [{"a": a, "b": b, "links": n}
                                  for (a, b), n in sorted(self.organisation_type_matrix().items())],
        }


def aggregate_region_links(graph: nx.Graph, level: int, nuts: str | None = None,
                           regions: Iterable[str] = ()) -> RegionLinks:
    """Region links of the pairs with at least one organisation in `nuts` (every pair when None).

    `regions` names regions of the area to list even without organisations (those drawn on the map).
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")
    code_of = {n: region_code(d, level) for n, d in graph.nodes(data=True)}
    inside = {n for n, d in graph.nodes(data=True) if nuts is None or in_region(d, nuts)}
    links = _tally_links(graph, code_of, inside if nuts is not None else None)
    tallies = _tally_regions(graph, code_of, inside, {code for key in links for code in key}, regions)
    result = RegionLinks(level=level, nuts=nuts, regions=tallies, links=links)
    result.assign_types()
    return result


def _tally_links(graph: nx.Graph, code_of: Mapping[str, str],
                 inside: set[str] | None) -> dict[tuple[str, str], LinkTally]:
    """Organisation pairs with an end in `inside` (every pair when None), per pair of regions.

    Counted per (region, type, region, type) first: the hot loop over every pair only adds to counters."""
    end: dict[str, tuple[str, str]] = {n: (code_of[n], d.get("urban_rural") or "unknown")
                                       for n, d in graph.nodes(data=True)}
    pairs: Counter[tuple[str, str, str, str]] = Counter()
    projects: Counter[tuple[str, str, str, str]] = Counter()
    years: dict[tuple[str, str, str, str], tuple[int | None, int | None]] = {}
    for a, b, data in graph.edges(inside, data=True):
        ea, eb = end[a], end[b]
        key = ea + eb if ea <= eb else eb + ea
        pairs[key] += 1
        projects[key] += data.get("weight", 1)
        first, last = data.get("first_year"), data.get("last_year")
        if first is not None or last is not None:
            old = years.get(key)
            years[key] = (first, last) if old is None else (_least(old[0], first), _most(old[1], last))
    links: dict[tuple[str, str], LinkTally] = {}
    for key, n in pairs.items():
        ra, ta, rb, tb = key
        link = links.get((ra, rb))
        if link is None:
            link = links[(ra, rb)] = LinkTally(ra, rb)
        first, last = years.get(key, (None, None))
        link.add((ta, tb) if ta <= tb else (tb, ta), int(projects[key]), first, last, pairs=n)
    return links


def _least(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _most(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def _tally_regions(graph: nx.Graph, code_of: Mapping[str, str], inside: set[str], partners: set[str],
                   area: Iterable[str]) -> dict[str, RegionTally]:
    """Organisations by helix and type in the area's regions and in the partner regions."""
    tallies: dict[str, RegionTally] = {code: RegionTally(code, True) for code in area}
    for n, d in graph.nodes(data=True):
        code = code_of[n]
        if n not in inside and code not in partners:
            continue
        tally = tallies.get(code)
        if tally is None:
            tally = tallies[code] = RegionTally(code, n in inside)
        tally.inside = tally.inside or n in inside
        tally.helix[d.get("helix") or "unknown"] += 1
        tally.urban_rural[d.get("urban_rural") or "unknown"] += 1
    for tally in tallies.values():
        for h in HELICES:
            tally.helix.setdefault(h, 0)
    return tallies
