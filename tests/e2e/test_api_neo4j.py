"""The HTTP API on the Neo4j store: the same answers as on SQLite, and read-only Cypher for researchers."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import helixmap_command, open_neo4j, serve

pytestmark = pytest.mark.neo4j


@pytest.fixture(scope="module")
def apis(neo4j_info: dict, data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Two real servers over the same CORDIS sample: one on SQLite, one on Neo4j (with small Cypher limits)."""
    store = open_neo4j(neo4j_info)
    store.clear()
    store.close()
    tmp = tmp_path_factory.mktemp("api-neo4j")
    neo_env = {"HELIXMAP_STORE": neo4j_info["uri"], "NEO4J_USERNAME": neo4j_info["username"],
               "NEO4J_PASSWORD": neo4j_info["password"], "HELIXMAP_CYPHER_TIMEOUT_S": "2",
               "HELIXMAP_CYPHER_MAX_ROWS": "100"}
    lite_env = {"HELIXMAP_STORE": f"sqlite:///{tmp / 'lite.db'}"}
    for env in (neo_env, lite_env):
        done = subprocess.run([*helixmap_command(), "import", "cordis",
                               str(data_dir / "cordis/h2020_organization_sample.csv")],
                              env={**os.environ, **env}, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
    (tmp / "neo").mkdir()
    (tmp / "lite").mkdir()
    neo_server = serve(neo_env, tmp / "neo")
    lite_server = serve(lite_env, tmp / "lite")
    neo_url, lite_url = next(neo_server), next(lite_server)
    with httpx.Client(base_url=neo_url, timeout=60) as neo, httpx.Client(base_url=lite_url, timeout=60) as lite:
        yield {"neo4j": neo, "sqlite": lite}
    for gen in (neo_server, lite_server):
        gen.close()


@pytest.mark.parametrize("path", [
    "/api/v1/stats",
    "/api/v1/organisations?country=DK&limit=50",
    "/api/v1/organisations?helix=government&limit=50&offset=10",
    "/api/v1/organisations/999991043",
    "/api/v1/network?nuts=SE&limit=200",
    "/api/v1/regions/DK",
])
def test_the_api_answers_the_same_on_both_stores(apis: dict, path: str) -> None:
    a = apis["sqlite"].get(path)
    b = apis["neo4j"].get(path)
    assert a.status_code == b.status_code == 200
    assert _rounded(a.json()) == _rounded(b.json())


def _rounded(value):  # type: ignore[no-untyped-def]
    if isinstance(value, float):
        return round(value, 2)
    if isinstance(value, list):
        items = [_rounded(v) for v in value]
        return sorted(items, key=repr) if items and isinstance(items[0], dict) and "source" in items[0] else items
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items() if k != "store"}
    return value


def test_search_by_name_finds_the_same_organisations(apis: dict) -> None:
    for q in ("kobenhavns", "tehnikaulikool", "institut fur"):
        a = apis["sqlite"].get("/api/v1/organisations", params={"q": q, "limit": 500}).json()
        b = apis["neo4j"].get("/api/v1/organisations", params={"q": q, "limit": 500}).json()
        assert a["total"] == b["total"] > 0
        assert {i["id"] for i in a["items"]} == {i["id"] for i in b["items"]}


def test_cypher_returns_columns_rows_and_serialised_nodes(apis: dict) -> None:
    body = apis["neo4j"].post("/api/v1/query", json={
        "cypher": "MATCH (o:Organisation {id: $id})-[r:PARTICIPATES_IN]->(p:Project) RETURN o, r, p.id AS project "
                  "ORDER BY project", "parameters": {"id": "999991043"}}).json()
    assert body["columns"] == ["o", "r", "project"]
    assert body["rows"] and body["truncated"] is False
    node, rel, project = body["rows"][0]
    assert node["labels"] == ["Organisation"] and node["properties"]["name"] == "KOBENHAVNS UNIVERSITET"
    assert rel["rel_type"] == "PARTICIPATES_IN" and "role" in rel["properties"]
    assert body["row_cap"] == 100 and body["timeout_s"] == 2


def test_cypher_reports_the_row_cap(apis: dict) -> None:
    body = apis["neo4j"].post("/api/v1/query", json={"cypher": "UNWIND range(1, 1000) AS x RETURN x"}).json()
    assert len(body["rows"]) == 100 and body["truncated"] is True and body["row_cap"] == 100


@pytest.mark.parametrize("cypher,reason", [
    ("CREATE (n:Organisation {id: 'x'}) RETURN n", "AccessMode"),
    ("MATCH (o:Organisation) SET o.name = 'x'", "AccessMode"),
    ("CREATE INDEX evil IF NOT EXISTS FOR (n:Organisation) ON (n.x)", ""),
    ("CALL dbms.killQueries([])", "not allowed"),
    ("LOAD CSV FROM 'file:///etc/passwd' AS row RETURN row", "not allowed"),
    ("MATCH (o:Organisation RETURN o", "Syntax"),
    ("UNWIND range(1, 100000000) AS x WITH x WHERE x % 7 = 123456789 RETURN count(x)", "imed"),
])
def test_writes_schema_admin_and_over_limit_queries_get_a_4xx_with_the_reason(apis: dict, cypher: str,
                                                                               reason: str) -> None:
    response = apis["neo4j"].post("/api/v1/query", json={"cypher": cypher})
    assert 400 <= response.status_code < 500
    assert reason in response.json()["detail"]
    assert apis["neo4j"].get("/api/v1/stats").json() == apis["sqlite"].get("/api/v1/stats").json()


def test_cypher_on_the_sqlite_store_answers_501(apis: dict) -> None:
    response = apis["sqlite"].post("/api/v1/query", json={"cypher": "RETURN 1"})
    assert response.status_code == 501 and "Neo4j" in response.json()["detail"]


def test_a_malformed_cypher_request_is_422(apis: dict) -> None:
    assert apis["neo4j"].post("/api/v1/query", json={"query": "RETURN 1"}).status_code == 422
    assert apis["neo4j"].post("/api/v1/query", json={"cypher": ""}).status_code == 422
