"""The one seam to the graph database: the protocols every store implements, and what crosses them.

`GraphReader` is what views read, `GraphWriter` what imports and entity resolution write, `GraphStore` both
(with `close` and use as a context manager); `SupportsCypher` is the extra a Cypher-speaking store offers.
Callers type their store with these and never probe a store for a method.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

from ecosystem.domain.batch import ImportBatch, ImportReport
from ecosystem.domain.filters import NetworkFilter
from ecosystem.domain.location import RegionShape
from ecosystem.domain.resolution import Overrides

# (a, b, weight, funding, first_year, last_year): one organisation pair sharing projects
CollaborationEdge = tuple[str, str, int, float, int | None, int | None]


@runtime_checkable
class GraphReader(Protocol):
    """What views (services, API, command line) read from a store."""

    uri: str

    def stats(self) -> dict[str, Any]:
        """Counts: organisations, projects, participations, collaborations, helix, urban_rural."""

    def data_version(self) -> str:
        """A token that changes whenever the stored graph changes (for caches)."""

    def search_organisations(self, q: str | None = None, *, helix: str | None = None,
                             country: str | None = None, nuts: str | None = None,
                             urban_rural: str | None = None, limit: int = 20,
                             offset: int = 0, tag: str | None = None,
                             programme: str | None = None) -> tuple[int, list[dict[str, Any]]]:
        """Full-text search on names (case and accents ignored) with filters; `tag`: organisations carrying
        that tag (a register's category, exactly as stored); `programme`: organisations taking part in a
        project of that framework programme (H2020, HORIZON, FP7)."""

    def canonical_id(self, org_id: str) -> str:
        """The organisation a source record id was merged into (the id itself when it was not)."""

    def organisation(self, org_id: str) -> dict[str, Any] | None:
        """One organisation as a flat dict, or None."""

    def organisation_projects(self, org_id: str) -> list[dict[str, Any]]:
        """The projects an organisation takes part in, with role and contribution."""

    def partners(self, org_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """Collaboration partners with weights, strongest first."""

    def relations(self, org_id: str) -> list[dict[str, Any]]:
        """Related organisations (parent, child, related) with their source."""

    def record_groups(self) -> dict[str, list[str]]:
        """Organisations made of several source records: organisation id -> record ids."""

    def region(self, nuts_id: str) -> dict[str, Any] | None:
        """One NUTS region (2021) or None."""

    def country_known(self, country: str) -> bool:
        """True when the store holds the country's regions or organisations."""

    def organisations_for_network(self, flt: NetworkFilter) -> list[dict[str, Any]]:
        """Organisations selected by a filter, with their network attributes."""

    def collaboration_edges(self, flt: NetworkFilter,
                            ids: set[str] | None = None) -> Iterator[CollaborationEdge]:
        """Edges (a, b, weight, funding, first_year, last_year) among organisations passing the filter."""

    def iter_participations(self) -> Iterator[tuple[str, str, str | None, float | None]]:
        """Every participation: (project, organisation, role, EU contribution)."""

    def iter_projects(self) -> Iterator[tuple[str, int | None, list[str], str | None, str | None]]:
        """Every project: (id, start year, topics, programme part, programme)."""

    def iter_project_texts(self) -> Iterator[tuple[str, str | None, str | None, list[str]]]:
        """Every project's words: (id, acronym, title, call topic titles); None / [] where the source has none."""

    def municipal_governments(self) -> list[dict[str, Any]]:
        """Organisations that are a municipality's own government, with their municipality and projects."""

    def municipality(self, key: str) -> dict[str, Any] | None:
        """One municipality (LAU) by its key, or None."""

    def location_report(self) -> dict[str, Any]:
        """How organisations were located (by method) and why the others were not."""

    def region_shapes(self, level: int, nuts: str | None = None) -> list[RegionShape]:
        """Stored NUTS boundaries of one level, inside `nuts` (any level, or a country) when given."""

    def organisation_places(self) -> dict[str, dict[str, Any]]:
        """What the location resolver decided for each organisation placed in a NUTS3 region, for maps:
        id -> lat, lon (the source's), nuts3, method, notes and the region's label point (label_lat, label_lon)."""

    def data_updated(self) -> str | None:
        """When the data last changed (ISO 8601, UTC), or None when the store has not recorded it."""

    def snapshot(self) -> AbstractContextManager[None]:
        """A context in which this thread's reads see one state of the store (one read transaction), so an
        answer made of several queries never mixes counts from before and after a write. Nests."""


@runtime_checkable
class GraphWriter(Protocol):
    """What imports and entity resolution write."""

    uri: str

    def apply(self, batch: ImportBatch, progress: Any = None) -> ImportReport:
        """Write a batch in one transaction, resolve locations, refresh collaborations."""

    def resolve(self, overrides: Overrides | None = None, *, keep_overrides: bool = True,
                review_path: Path | None = None) -> ImportReport:
        """Run entity resolution again (with new overrides, kept in the store), listing uncertain pairs."""


@runtime_checkable
class GraphStore(GraphReader, GraphWriter, Protocol):
    """A whole store: SQLite (embedded default) and Neo4j implement it. Use it as a context manager."""

    def close(self) -> None:
        """Release connections."""

    def __enter__(self) -> Self:
        """The store itself."""

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Close the store, on error too."""


@runtime_checkable
class SupportsCypher(Protocol):
    """A store that runs researchers' read-only Cypher (Neo4j)."""

    def query(self, cypher: str, parameters: dict[str, Any] | None = None, *, timeout_s: float = 10.0,
              max_rows: int = 1000) -> dict[str, Any]:
        """Run a read-only query with a time limit and a row cap: {"columns", "rows", "truncated"}."""
