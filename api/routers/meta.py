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
    """Liveness and the store in use."""
    return {"status": "ok", "store": store.uri.split("@")[-1], "version": __version__}


@router.get("/api/v1/stats", tags=["meta"])
def stats(store: StoreDep) -> dict[str, Any]:
    """The same counts as `helixmap stats --json`, read in one snapshot of the store."""
    return snapshot_stats(store)
