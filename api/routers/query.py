"""Researchers' read-only Cypher, on a store that speaks it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import SettingsDep, StoreDep
from ecosystem.domain.errors import NotSupportedError
from ecosystem.store.base import SupportsCypher

router = APIRouter(prefix="/api/v1", tags=["cypher"])


class CypherRequest(BaseModel):
    cypher: str = Field(min_length=1, max_length=20_000, description="A read-only Cypher query")
    parameters: dict[str, Any] = Field(default_factory=dict)


@router.post("/query")
def cypher(store: StoreDep, settings: SettingsDep, body: CypherRequest) -> dict[str, Any]:
    """Read-only Cypher (Neo4j store only). What may run is decided from the plan Neo4j gives for the query
    (`EXPLAIN`): only reads of this database; LOAD CSV, writes, schema and administration commands, SHOW and
    TERMINATE, USE of another database and procedures other than a few read-only ones (db.labels,
    db.relationshipTypes, db.propertyKeys, db.schema.*, full-text search) are refused with 400 naming the
    reason. The answer is bounded by a time limit (the request returns within it plus 2 s, else 400), a row
    cap and a byte cap (5 MB of JSON); `truncated` says when rows were cut. On the SQLite store: 501."""
    if not isinstance(store, SupportsCypher):
        raise NotSupportedError("read-only Cypher needs the Neo4j store (serve with --store neo4j://HOST:PORT)")
    return store.query(body.cypher, body.parameters, timeout_s=settings.cypher_timeout_s,
                       max_rows=settings.cypher_max_rows)
