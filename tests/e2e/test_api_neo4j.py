"""The HTTP API on the Neo4j store: the same answers as on SQLite, and read-only Cypher for researchers."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.conftest import helixmap_command, open_neo4j, require, serve

pytestmark = pytest.mark.neo4j
CYPHER_TIMEOUT_S = 2


@pytest.fixture(scope="module")
def apis(neo4j_info: dict, data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Two real servers over the same CORDIS sample: one on SQLite, one on Neo4j (with small Cypher limits)."""
    store = open_neo4j(neo4j_info)
    store.clear()
    store.close()
    tmp = tmp_path_factory.mktemp("api-neo4j")
    neo_env = {"HELIXMAP_STORE": neo4j_info["uri"], "NEO4J_USERNAME": neo4j_info["username"],
               "NEO4J_PASSWORD": neo4j_info["password"], "HELIXMAP_CYPHER_TIMEOUT_S": str(CYPHER_TIMEOUT_S),
               "HELIXMAP_CYPHER_MAX_ROWS": "100"}
    lite_env = {"HELIXMAP_STORE": f"sqlite:///{tmp / 'lite.db'}"}
    for env in (neo_env, lite_env):
        for path in ("cordis/h2020_organization_sample.csv", "cordis/json"):  # the JSON export: titles, topics
            done = subprocess.run([*helixmap_command(), "import", "cordis", str(data_dir / path)],
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


def test_partners_for_an_idea_are_the_same_on_both_stores(apis: dict) -> None:
    require("neo4j" in apis, "the Neo4j server of this module")
    for params in ({"topic": "ECSEL-2016-2", "k": 10}, {"q": "sensors", "helix": "industry"}):
        a = apis["sqlite"].get("/api/v1/partners", params=params)
        b = apis["neo4j"].get("/api/v1/partners", params=params)
        assert a.status_code == b.status_code == 200, b.text
        assert a.json()["items"] and _rounded(a.json()) == _rounded(b.json())
    assert apis["neo4j"].get("/api/v1/partners", params={"q": "x", "exclude": "nope"}).status_code == 422


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
    ("CREATE (n:Organisation {id: 'x'}) RETURN n", "writes"),
    ("MATCH (o:Organisation) SET o.name = 'x'", "writes"),
    ("MATCH (o:Organisation) DETACH DELETE o", "writes"),
    ("MERGE (o:Organisation {id: '1'}) RETURN o", "writes"),
    ("CREATE INDEX evil IF NOT EXISTS FOR (n:Organisation) ON (n.x)", "schema"),
    ("CALL dbms.killQueries([])", "killQueries"),
    ("CALL `dbms`.`listConfig`()", "dbms.listConfig"),
    ("CALL `db`.`clearQueryCaches`()", "db.clearQueryCaches"),
    ("CALL /* a */ db . clearQueryCaches ()", "db.clearQueryCaches"),
    ("LOAD CSV FROM 'file:///etc/passwd' AS row RETURN row", "LOAD CSV"),
    ("SHOW SETTINGS", "SHOW"),
    ("SHOW TRANSACTIONS", "SHOW"),
    ("show /* x */ transactions yield *", "SHOW"),
    ("SHOW USERS", "database 'system'"),
    ("SHOW DATABASES", "database 'system'"),
    ("TERMINATE TRANSACTIONS 'neo4j-transaction-1'", "TERMINATE"),
    ("CREATE USER evil SET PASSWORD 'abcdefgh12'", "database 'system'"),
    ("USE system CALL db.labels()", "database 'system'"),
    ("USE system MATCH (n) RETURN n", "system"),
    ("CALL { CREATE (n:Organisation {id: 'y'}) } IN TRANSACTIONS", "IN TRANSACTIONS"),
    ("MATCH (o:Organisation RETURN o", "Syntax"),
    ("UNWIND range(1, 100000000) AS x WITH x WHERE x % 7 = 123456789 RETURN count(x)", "imed"),
])
def test_writes_schema_admin_and_over_limit_queries_get_a_400_with_the_reason(apis: dict, cypher: str,
                                                                              reason: str) -> None:
    response = apis["neo4j"].post("/api/v1/query", json={"cypher": cypher}, timeout=CYPHER_TIMEOUT_S + 2)
    assert response.status_code == 400, response.text
    assert reason in response.json()["detail"]
    assert apis["neo4j"].get("/api/v1/stats").json() == apis["sqlite"].get("/api/v1/stats").json()


@pytest.fixture()
def listener() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on 127.0.0.1 that records every request it receives (it must receive none)."""
    received: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            received.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"a,b\n1,2\n")

        def log_message(self, *_: object) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", received
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("template", [
    "LOAD CSV FROM '{url}/plain.csv' AS row RETURN row",
    "LOAD /**/ CSV FROM '{url}/comment.csv' AS row RETURN row",
    "LOAD // a line comment\n CSV WITH HEADERS FROM '{url}/line.csv' AS row RETURN row",
    "load csv from '{url}/lower.csv' as row return row",
    "WITH '{url}/built.csv' AS u LOAD CSV FROM u AS row RETURN row",
    "CALL () {{ LOAD CSV FROM '{url}/sub.csv' AS row RETURN row }} RETURN row",
])
def test_load_csv_is_refused_and_the_url_is_never_fetched(apis: dict, listener: tuple[str, list[str]],
                                                          template: str) -> None:
    url, received = listener
    response = apis["neo4j"].post("/api/v1/query", json={"cypher": template.format(url=url)},
                                  timeout=CYPHER_TIMEOUT_S + 2)
    assert response.status_code == 400 and "LOAD CSV" in response.json()["detail"]
    assert received == []


def test_one_huge_value_does_not_hold_the_request_beyond_the_limit(apis: dict) -> None:
    """A single row of five million numbers: the answer comes within the limit plus 2 s, refused or cut."""
    response = apis["neo4j"].post("/api/v1/query", json={"cypher": "RETURN range(1, 5000000) AS r"},
                                  timeout=CYPHER_TIMEOUT_S + 2)
    if response.status_code == 400:
        assert "timed out" in response.json()["detail"]
    else:
        body = response.json()
        assert response.status_code == 200 and body["truncated"] is True and body["rows"] == []


def test_the_answer_is_cut_at_the_byte_cap_with_truncated_set(apis: dict) -> None:
    """Rows of half a megabyte each: the rows stop before 5 MB of JSON, well under the row cap."""
    cypher = "UNWIND range(1, 30) AS i RETURN i, reduce(s = '', x IN range(1, 18) | s + s + 'ab') AS big"
    response = apis["neo4j"].post("/api/v1/query", json={"cypher": cypher}, timeout=60)
    body = response.json()
    assert response.status_code == 200 and body["truncated"] is True
    assert 0 < len(body["rows"]) < 30 and len(response.content) <= 5_100_000


def test_the_read_only_procedures_and_comments_of_a_researcher_still_run(apis: dict) -> None:
    for cypher in ("CALL db.labels()", "CALL db.relationshipTypes() YIELD relationshipType RETURN relationshipType",
                   "CALL db.propertyKeys()", "MATCH (o:Organisation) // how many?\nRETURN count(o) AS n",
                   "MATCH (o:Organisation) WHERE o.name CONTAINS 'LOAD CSV' OR o.name = 'dbms.listConfig' "
                   "RETURN count(o) AS n", "USE neo4j MATCH (p:Project) RETURN count(p) AS n"):
        response = apis["neo4j"].post("/api/v1/query", json={"cypher": cypher})
        assert response.status_code == 200, (cypher, response.text)
    labels = apis["neo4j"].post("/api/v1/query", json={"cypher": "CALL db.labels()"}).json()
    assert ["Organisation"] in labels["rows"]


def test_the_server_scripts_neo4j_writes_has_the_defences_on(neo4j_info: dict) -> None:
    """Defence in depth in the server's own settings (read with an administrator's connection)."""
    from neo4j import GraphDatabase

    names = ["dbms.security.allow_csv_import_from_file_urls", "dbms.security.procedures.allowlist",
             "server.bolt.listen_address"]
    with GraphDatabase.driver(neo4j_info["uri"], auth=(neo4j_info["username"], neo4j_info["password"])) as driver:
        rows, _, _ = driver.execute_query("CALL dbms.listConfig() YIELD name, value WHERE name IN $names "
                                          "RETURN name, value", names=names)
    config = {r["name"]: r["value"] for r in rows}
    require(os.environ.get("NEO4J_URI") is None or config.get("dbms.security.procedures.allowlist") not in (None, ""),
            "NEO4J_URI names a server not started by scripts/neo4j")
    assert config["dbms.security.allow_csv_import_from_file_urls"] == "false"
    assert "dbms.listConfig" not in config["dbms.security.procedures.allowlist"]
    assert "db.labels" in config["dbms.security.procedures.allowlist"]
    assert config["server.bolt.listen_address"].startswith("127.0.0.1:")


def test_cypher_on_the_sqlite_store_answers_501(apis: dict) -> None:
    response = apis["sqlite"].post("/api/v1/query", json={"cypher": "RETURN 1"})
    assert response.status_code == 501 and "Neo4j" in response.json()["detail"]


def test_a_malformed_cypher_request_is_422(apis: dict) -> None:
    assert apis["neo4j"].post("/api/v1/query", json={"query": "RETURN 1"}).status_code == 422
    assert apis["neo4j"].post("/api/v1/query", json={"cypher": ""}).status_code == 422
