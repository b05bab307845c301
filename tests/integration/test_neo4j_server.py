"""The project's own Neo4j 5.26 server (``scripts/neo4j``), seen through the Python driver.

Uses ``NEO4J_URI``/``NEO4J_USERNAME``/``NEO4J_PASSWORD`` when set, otherwise starts the server with
``scripts/neo4j start`` (and stops it again afterwards if this module started it). When no server can
be had the tests fail under CI and are skipped elsewhere.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from neo4j import Driver, GraphDatabase
from neo4j.exceptions import AuthError

from tests.conftest import require
from tests.neo4j_server import Neo4jInfo, ensure_neo4j, stop_neo4j_if_started

pytestmark = pytest.mark.neo4j


@pytest.fixture(scope="module")
def neo4j_info() -> Iterator[Neo4jInfo]:
    try:
        info = ensure_neo4j()
    except RuntimeError as error:
        require(False, f"Neo4j is required (under CI this fails): {error}")
        raise
    try:
        yield info
    finally:
        stop_neo4j_if_started(info)


@pytest.fixture(scope="module")
def driver(neo4j_info: Neo4jInfo) -> Iterator[Driver]:
    with GraphDatabase.driver(neo4j_info["uri"], auth=(neo4j_info["username"], neo4j_info["password"])) as drv:
        yield drv


def test_driver_connects_with_the_generated_credentials(driver: Driver) -> None:
    driver.verify_connectivity()
    records, _, _ = driver.execute_query("RETURN 1 AS one")
    assert records[0]["one"] == 1


def test_server_is_neo4j_5_26_community(driver: Driver) -> None:
    records, _, _ = driver.execute_query("CALL dbms.components() YIELD name, versions, edition")
    kernel = next(record for record in records if record["name"] == "Neo4j Kernel")
    assert kernel["versions"][0].startswith("5.26."), kernel["versions"]
    assert kernel["edition"] == "community"


def test_a_wrong_password_is_refused_with_an_auth_error(neo4j_info: Neo4jInfo) -> None:
    wrong = neo4j_info["password"] + "-wrong"
    with (
        GraphDatabase.driver(neo4j_info["uri"], auth=(neo4j_info["username"], wrong)) as bad_driver,
        pytest.raises(AuthError),
    ):
        bad_driver.verify_connectivity()


def test_a_written_node_is_read_back(driver: Driver) -> None:
    marker = f"roundtrip-{uuid.uuid4()}"
    try:
        driver.execute_query(
            "CREATE (:HelixmapTestProbe {marker: $marker, helix: $helix, weight: $weight})",
            marker=marker,
            helix="academia",
            weight=0.5,
        )
        records, _, _ = driver.execute_query(
            "MATCH (n:HelixmapTestProbe {marker: $marker}) RETURN n.helix AS helix, n.weight AS weight",
            marker=marker,
            routing_="r",
        )
        assert [(record["helix"], record["weight"]) for record in records] == [("academia", 0.5)]
    finally:
        driver.execute_query("MATCH (n:HelixmapTestProbe {marker: $marker}) DELETE n", marker=marker)
