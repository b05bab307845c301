"""Stores behind one protocol: SQLite (embedded default) and Neo4j (server)."""

from __future__ import annotations

from urllib.parse import urlparse

from ecosystem.config import Settings
from ecosystem.domain.batch import ImportBatch, ImportReport
from ecosystem.domain.errors import StoreUnavailableError
from ecosystem.domain.filters import NetworkFilter
from ecosystem.store.base import GraphReader, GraphStore, GraphWriter, SupportsCypher

__all__ = ["GraphReader", "GraphStore", "GraphWriter", "ImportBatch", "ImportReport", "NetworkFilter", "SupportsCypher",
           "open_store"]


def open_store(uri: str, settings: Settings | None = None) -> GraphStore:
    """Open the store a URL names: `sqlite:///path.db`, `neo4j://host:7687`, `bolt://host:7687`."""
    settings = settings or Settings()
    scheme = urlparse(uri).scheme
    if scheme == "sqlite":
        from ecosystem.store.sqlite import SQLiteStore

        path = uri[len("sqlite:///"):] if uri.startswith("sqlite:///") else uri[len("sqlite://"):]
        if not path:
            raise StoreUnavailableError(f"no file in the store URL {uri!r} (use sqlite:///helixmap.db)")
        return SQLiteStore(path, uri=uri)
    if scheme in ("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc"):
        try:
            from ecosystem.store.neo4j import Neo4jStore
        except ImportError as exc:  # pragma: no cover - the Neo4j store lands separately
            raise StoreUnavailableError(f"the Neo4j store is not available: {exc}") from exc
        return Neo4jStore(uri, settings.neo4j_username, settings.neo4j_password,
                          database=settings.neo4j_database)
    raise StoreUnavailableError(f"unknown store URL {uri!r}: use sqlite:///FILE, neo4j://HOST:PORT or bolt://HOST:PORT")
