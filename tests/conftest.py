"""Shared fixtures: the real sample data in ../shared/data, fresh SQLite stores, a served API."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
IN_CI = bool(os.environ.get("CI"))


def require(condition: bool, reason: str) -> None:
    """Skip with a reason outside CI; fail in CI, where nothing may skip silently."""
    if condition:
        return
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    require(DATA.is_dir(), f"the shared sample data is missing (expected {DATA.name} beside the repository)")
    return DATA


@pytest.fixture()
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    from ecosystem.store.sqlite import SQLiteStore

    s = SQLiteStore(tmp_path / "helixmap.db")
    yield s
    s.close()


REGION_FILES = ("regions/nuts2021_typology_labelpoints.csv", "regions/nuts2021_codes_names.csv",
                "regions/NUTS_RG_20M_2021_4326_LEVL_3.geojson", "regions/NUTS_RG_60M_2021_4326.geojson",
                "regions/lau2019_degurba.csv.gz",
                "regions/postcode_to_nuts3_2024.csv.gz", "regions/nuts3_2021_to_2024.csv",
                "regions/nuts3_2016_to_2021.csv")


@pytest.fixture(scope="session")
def regions_db(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """A store file holding every regions file of the sample data (built once per test session)."""
    from ecosystem.store.sqlite import SQLiteStore
    from importers.eurostat import read_regions

    path = tmp_path_factory.mktemp("regions") / "regions.db"
    s = SQLiteStore(path)
    s.apply(read_regions([data_dir / f for f in REGION_FILES], cache_dir=path.parent / "cache"))
    s.close()
    return path


@pytest.fixture()
def located_store(tmp_path: Path, regions_db: Path):  # type: ignore[no-untyped-def]
    """A fresh store that already holds the regions data."""
    from ecosystem.store.sqlite import SQLiteStore

    path = tmp_path / "helixmap.db"
    shutil.copy(regions_db, path)
    s = SQLiteStore(path)
    yield s
    s.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def helixmap_command() -> list[str]:
    """The installed console script when present, else the module."""
    exe = Path(sys.executable).with_name("helixmap")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "ecosystem.cli"]


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory: pytest.TempPathFactory, regions_db: Path, data_dir: Path) -> Path:
    """Regions plus the CORDIS CSV sample and JSON export, imported through the command line."""
    path = tmp_path_factory.mktemp("sample") / "sample.db"
    shutil.copy(regions_db, path)
    env = {**os.environ, "HELIXMAP_STORE": f"sqlite:///{path}"}
    for args in (["import", "cordis", str(data_dir / "cordis/h2020_organization_sample.csv")],
                 ["import", "cordis", str(data_dir / "cordis/json")]):
        subprocess.run([*helixmap_command(), *args], env=env, check=True, capture_output=True, timeout=600)
    return path


def serve(env_overrides: dict[str, str], log_dir: Path) -> Iterator[str]:
    """Run `helixmap serve` for real on a free loopback port; yields its base URL, stops it after."""
    port = free_port()
    env = {**os.environ, **env_overrides}
    log = (log_dir / "serve.log").open("w")
    proc = subprocess.Popen([*helixmap_command(), "serve", "--port", str(port)], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"helixmap serve did not start: {(log_dir / 'serve.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def server(sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`helixmap serve` for real, on a free loopback port, over a copy of the sample store."""
    path = tmp_path_factory.mktemp("served") / "served.db"
    shutil.copy(sample_db, path)
    yield from serve({"HELIXMAP_STORE": f"sqlite:///{path}"}, path.parent)


@pytest.fixture(scope="session")
def neo4j_info() -> Iterator[dict]:
    """A real Neo4j server: NEO4J_URI when set (scripts/test starts one), else `scripts/neo4j start`."""
    from tests.neo4j_server import ensure_neo4j, stop_neo4j_if_started

    try:
        info = ensure_neo4j()
    except RuntimeError as exc:
        require(False, f"Neo4j is needed for this test and could not be had: {exc}")
        raise
    yield dict(info)
    stop_neo4j_if_started(info)


def open_neo4j(info: dict):  # type: ignore[no-untyped-def]
    from ecosystem.store.neo4j import Neo4jStore

    return Neo4jStore(info["uri"], info["username"], info["password"])


@pytest.fixture()
def neo4j_store(neo4j_info: dict):  # type: ignore[no-untyped-def]
    """An empty Neo4j store (cleared before the test)."""
    s = open_neo4j(neo4j_info)
    s.clear()
    yield s
    s.close()


@pytest.fixture(params=["sqlite", "neo4j"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    """The same contract, run against both stores."""
    if request.param == "sqlite":
        from ecosystem.store.sqlite import SQLiteStore

        s = SQLiteStore(tmp_path / "contract.db")
        yield s
        s.close()
    else:
        yield request.getfixturevalue("neo4j_store")
