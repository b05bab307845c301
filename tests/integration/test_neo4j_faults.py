"""Faults on the Neo4j store: refused connections, wrong credentials, a server killed mid-import."""

from __future__ import annotations

import csv
import gzip
import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from tests.conftest import REPO, free_port, helixmap_command, open_neo4j, require
from tests.expected import counts_from_rows

pytestmark = pytest.mark.neo4j

TABLE = "cordis/h2020_participations_full.csv.gz"
MAPPING = REPO / "examples/h2020_participations.toml"


def _cli(*args: str, env: dict[str, str], timeout: int = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*helixmap_command(), *args], env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def test_a_refused_connection_is_one_clear_line_naming_the_uri(tmp_path: Path) -> None:
    uri = f"bolt://127.0.0.1:{free_port()}"
    result = _cli("stats", env={"HELIXMAP_STORE": uri, "NEO4J_PASSWORD": "x"})
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and uri in lines[0] and "Traceback" not in result.stderr


def test_wrong_credentials_are_one_clear_line_naming_the_uri(neo4j_info: dict) -> None:
    result = _cli("stats", env={"HELIXMAP_STORE": neo4j_info["uri"], "NEO4J_USERNAME": neo4j_info["username"],
                                "NEO4J_PASSWORD": neo4j_info["password"] + "-wrong"})
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and neo4j_info["uri"] in lines[0] and "credentials" in lines[0]


def _neo4j_home() -> Path:
    return Path(os.environ.get("HELIXMAP_NEO4J_HOME", REPO / ".neo4j"))


def _expected(data_dir: Path) -> tuple[dict[str, int], int]:
    """Counts and the total collaboration weight (sum over projects of n*(n-1)/2), from the table itself."""
    members: dict[str, set[str]] = defaultdict(set)
    with gzip.open(data_dir / TABLE, "rt", encoding="utf-8", newline="") as fh:
        rows = [(r["rcn"], r["pic"]) for r in csv.DictReader(fh)]
    for pid, oid in rows:
        members[pid].add(oid)
    total_weight = sum(len(g) * (len(g) - 1) // 2 for g in members.values())
    return counts_from_rows(rows), total_weight


def test_an_import_killed_with_the_server_converges_when_run_again(neo4j_info: dict, data_dir: Path) -> None:
    state_file = _neo4j_home() / "run" / "state.json"
    require(state_file.exists(), f"this test kills and restarts the server that scripts/neo4j started; no "
                                 f"{state_file} (set HELIXMAP_NEO4J_HOME to its .neo4j folder)")
    state = json.loads(state_file.read_text())
    store = open_neo4j(neo4j_info)
    store.clear()
    env = {"HELIXMAP_STORE": neo4j_info["uri"], "NEO4J_USERNAME": neo4j_info["username"],
           "NEO4J_PASSWORD": neo4j_info["password"]}
    args = [*helixmap_command(), "import", "table", str(data_dir / TABLE), "--mapping", str(MAPPING)]
    proc = subprocess.Popen(args, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, stdin=subprocess.DEVNULL)
    expected, total_weight = _expected(data_dir)
    killed = False
    deadline = time.monotonic() + 600
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            n = store._run("MATCH ()-[r:PARTICIPATES_IN]->() RETURN count(r) AS n", read=True)[0]["n"]
        except Exception:
            n = 0
        if n > 0:
            os.kill(state["pid"], signal.SIGKILL)
            killed = True
            break
        time.sleep(0.05)
    store.close()
    _, stderr = proc.communicate(timeout=300)
    restart = subprocess.run([sys.executable, str(_neo4j_home().parent / "scripts" / "neo4j"), "start",
                              "--port", str(state["port"])], capture_output=True, text=True, timeout=600)
    assert restart.returncode == 0, restart.stderr
    assert killed, "the import finished before the server could be killed"
    assert proc.returncode == 1
    lines = [line for line in stderr.splitlines() if line.strip() and "error" in line.lower()]
    assert lines and neo4j_info["uri"] in lines[-1] and "Traceback" not in stderr

    again = subprocess.run(args, env={**os.environ, **env}, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr
    store = open_neo4j(neo4j_info)
    stats = store.stats()
    assert {k: stats[k] for k in expected} == expected
    weight = store._run("MATCH ()-[c:COLLABORATES_WITH]->() RETURN sum(c.weight) AS w", read=True)[0]["w"]
    assert weight == total_weight
    duplicates = store._run("MATCH (a)-[c:COLLABORATES_WITH]-(b) WITH a, b, count(c) AS n WHERE n > 1 "
                            "RETURN count(*) AS n", read=True)[0]["n"]
    assert duplicates == 0
    store.clear()
    store.close()
