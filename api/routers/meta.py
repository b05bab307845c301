"""Liveness, the store in use and its counts; `/` leads to the API documentation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import StoreDep
from ecosystem import __version__
from ecosystem.services.snapshot import stats as snapshot_stats

router = APIRouter()


@router.get("/api/v1/health", tags=["meta"])
def health(store: StoreDep) -> dict[str, Any]:
    """Liveness and the kind of store in use (no credentials, no path of the server's disk)."""
    return {"status": "ok", "store": public_store_name(store.uri), "version": __version__}


def public_store_name(uri: str) -> str:
    """`sqlite:////srv/data/helixmap.db` -> `sqlite:///helixmap.db`; `neo4j://user:pw@host:7687` -> `neo4j://host:7687`."""
    scheme, _, rest = uri.partition("://")
    if scheme == "sqlite":
        return f"sqlite:///{rest.replace(chr(92), '/').rstrip('/').rsplit('/', 1)[-1]}"
    return f"{scheme}://{rest.rsplit('@', 1)[-1]}"


@router.get("/api/v1/stats", tags=["meta"])
def stats(store: StoreDep) -> dict[str, Any]:
    """The same counts as `helixmap stats --json`, read in one snapshot of the store."""
    return snapshot_stats(store)
