"""The one seam to the graph database: the `GraphStore` protocol and what crosses it."""

from __future__ import annotations

from typing import Any, Iterator, Protocol, runtime_checkable

from ecosystem.domain.batch import ImportBatch, ImportReport
from ecosystem.domain.filters import NetworkFilter


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
