"""A real Neo4j server for tests: an external one from the environment, or ``scripts/neo4j``'s own.

- :func:`ensure_neo4j` returns connection details. When ``NEO4J_URI`` is set it uses that server
  (with ``NEO4J_USERNAME``, default ``neo4j``, and ``NEO4J_PASSWORD``); otherwise it runs
  ``scripts/neo4j start``, which fetches Neo4j 5.26 community on first use and starts it on a free
  loopback port. It raises :class:`RuntimeError` (reason plus server log tail) when that fails.
- :func:`stop_neo4j_if_started` stops the server again, but only if :func:`ensure_neo4j` started it:
  a server that was already running (or an external one) is left alone.

Standard library only; no pytest in here, so a conftest decides whether a failure fails or skips.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TypedDict

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "neo4j"
START_TIMEOUT = 900.0  # the first start also downloads ~120 MB with Maven


class Neo4jInfo(TypedDict):
    uri: str
    username: str
    password: str
    started: bool


def _run(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _parse(stdout: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in stdout.splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def _info(values: dict[str, str], started: bool) -> Neo4jInfo:
    return {
        "uri": values["NEO4J_URI"],
        "username": values.get("NEO4J_USERNAME") or "neo4j",
        "password": values.get("NEO4J_PASSWORD", ""),
        "started": started,
    }


def ensure_neo4j() -> Neo4jInfo:
    """Connection details of a running Neo4j; starts the project's own server if needed."""
    if os.environ.get("NEO4J_URI", "").strip():
        return _info(dict(os.environ), started=False)
    status = _run("status", timeout=30.0)
    if status.returncode == 0:
        return _info(_parse(status.stdout), started=False)
    try:
        result = _run("start", timeout=START_TIMEOUT)
    except subprocess.TimeoutExpired as error:
        raise RuntimeError(f"scripts/neo4j start did not finish within {error.timeout:.0f} s") from error
    values = _parse(result.stdout)
    if result.returncode != 0 or "NEO4J_URI" not in values:
        # stderr: progress lines, then "neo4j: failed to start: <reason>" and the server log tail.
        lines = result.stderr.strip().splitlines()
        first = next((i for i, line in enumerate(lines) if line.startswith("neo4j: failed")), 0)
        reason = "\n".join(lines[first:]) or f"scripts/neo4j start exited with {result.returncode}"
        raise RuntimeError(reason)
    return _info(values, started=True)


def stop_neo4j_if_started(info: Neo4jInfo) -> None:
    """Stop the server if :func:`ensure_neo4j` started it; leave others running."""
    if info.get("started"):
        _run("stop", timeout=120.0)
