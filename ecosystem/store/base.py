"""The one seam to the graph database: the `GraphStore` protocol and what crosses it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Protocol, runtime_checkable

from ecosystem.models import (Municipality, Organisation, OrganisationRelation, Participation, Place, Project,
                              Region)

HELIX_KEYS = ("academia", "industry", "government", "civil_society", "unknown")
URBAN_RURAL_KEYS = ("urban", "intermediate", "rural", "unknown")


@dataclass
class ImportBatch:
    """Everything one import writes, validated before the store is touched.

    A store applies a batch in one transaction: all of it or nothing.
    """

    label: str = "import"
    organisations: list[Organisation] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    participations: list[Participation] = field(default_factory=list)
    regions: list[Region] = field(default_factory=list)
    region_names: list[tuple[str, str]] = field(default_factory=list)
    shapes: list[Any] = field(default_factory=list)  # importers.regions.RegionShape
    municipalities: list[Municipality] = field(default_factory=list)
    postcodes: list[tuple[str, str, str, str]] = field(default_factory=list)  # country, postcode, nuts3, version
    conversions: list[Any] = field(default_factory=list)  # importers.regions.NutsConversion
    relations: list[OrganisationRelation] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def touches_regions(self) -> bool:
        return bool(self.regions or self.region_names or self.shapes or self.municipalities
                    or self.postcodes or self.conversions or self.places)

    def size(self) -> int:
        return (len(self.organisations) + len(self.projects) + len(self.participations)
                + len(self.regions) + len(self.region_names) + len(self.shapes)
                + len(self.municipalities) + len(self.postcodes) + len(self.conversions)
                + len(self.relations) + len(self.places))


@dataclass
class ImportReport:
    """What an import did: rows seen and rows that changed the store."""

    label: str
    organisations: int = 0
    projects: int = 0
    participations: int = 0
    regions: int = 0
    municipalities: int = 0
    postcodes: int = 0
    changed: int = 0
    located: int = 0
    unlocated: dict[str, int] = field(default_factory=dict)
    merged: int = 0  # source records merged into another organisation by entity resolution (all, not only new)
    uncertain: int = 0  # pairs entity resolution could not decide (`helixmap resolve --review FILE` lists them)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass(frozen=True)
class NetworkFilter:
    """Filters shared by the network, the map and the exports.

    `nuts` takes any level: a country code, or a NUTS1, NUTS2 or NUTS3 code.
    """

    nuts: tuple[str, ...] = ()
    helix: tuple[str, ...] = ()
    urban_rural: tuple[str, ...] = ()
    country: tuple[str, ...] = ()
    year_from: int | None = None
    year_to: int | None = None
    min_weight: int = 1

    def is_empty(self) -> bool:
        return not (self.nuts or self.helix or self.urban_rural or self.country
                    or self.year_from or self.year_to) and self.min_weight <= 1


@runtime_checkable
class GraphStore(Protocol):
    """What every store offers. SQLite (embedded default) and Neo4j implement it."""

    uri: str

    def apply(self, batch: ImportBatch, progress: Any = None) -> ImportReport:
        """Write a batch in one transaction, resolve locations, refresh collaborations."""

    def stats(self) -> dict[str, Any]:
        """Counts: organisations, projects, participations, collaborations, helix, urban_rural."""

    def data_version(self) -> str:
        """A token that changes whenever the stored graph changes (for caches)."""

    def search_organisations(self, q: str | None = None, *, helix: str | None = None,
                             country: str | None = None, nuts: str | None = None,
                             urban_rural: str | None = None, limit: int = 20,
                             offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        """Full-text search on names (case and accents ignored) with filters."""

    def organisation(self, org_id: str) -> dict[str, Any] | None:
        """One organisation as a flat dict, or None."""

    def organisation_projects(self, org_id: str) -> list[dict[str, Any]]:
        """The projects an organisation takes part in, with role and contribution."""

    def partners(self, org_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """Collaboration partners with weights, strongest first."""

    def region(self, nuts_id: str) -> dict[str, Any] | None:
        """One NUTS region (2021) or None."""

    def organisations_for_network(self, flt: NetworkFilter) -> list[dict[str, Any]]:
        """Organisations selected by a filter, with their network attributes."""

    def collaboration_edges(self, flt: NetworkFilter,
                            ids: set[str] | None = None) -> Iterator[tuple[str, str, int, float, int | None, int | None]]:
        """Edges (a, b, weight, funding, first_year, last_year) among organisations passing the filter."""

    def close(self) -> None:
        """Release connections."""
