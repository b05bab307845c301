"""The offline bulk path (ecosystem/store/neo4j_bulk.py) against a real Neo4j server of the test's own.

The bulk path stops and starts the server, so it never runs on the session's shared server (NEO4J_URI /
tests/neo4j_server.py): a second server is started in a temporary folder (``HELIXMAP_NEO4J_HOME``) on a free
port, sharing the jars of the repository's ``.neo4j/lib``, and stopped at the end. Each load is checked against
an SQLite store fed the same batch, against the normal Bolt import of the same batch into the same server
(every node, relationship and property), and by a re-import through Bolt that must change nothing.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ecosystem.domain.resolution import Overrides
from ecosystem.store.entities import overrides_to_json
from tests.conftest import REPO, free_port, require

pytestmark = pytest.mark.neo4j

SCRIPT = REPO / "scripts" / "neo4j"
CORDIS_SAMPLE = "cordis/h2020_organization_sample.csv"
# Two PICs of the CORDIS sample with the same VAT number and city: two legal entities by the rules (different
# identifiers of one scheme), one organisation when a user's override says so, as these tests do.
SAME_VAT_PICS = ("911314807", "911394153")
H2020_TABLE = "cordis/h2020_participations_full.csv.gz"
H2020_MAPPING = REPO / "examples/h2020_participations.toml"
H2020_ROWS = 4000


def _jars() -> Path:
    """A folder that holds the Neo4j jars already (nothing to fetch), else the repository's own."""
    candidates = [os.environ.get("HELIXMAP_NEO4J_LIB"), os.environ.get("HELIXMAP_NEO4J_HOME") and
                  str(Path(os.environ["HELIXMAP_NEO4J_HOME"]) / "lib"), str(REPO / ".neo4j" / "lib")]
    for candidate in filter(None, candidates):
        if any(Path(candidate).glob("neo4j-5.*.jar")):
            return Path(candidate)
    return REPO / ".neo4j" / "lib"  # scripts/neo4j fetches into it once, as `scripts/neo4j start` would


def _script(*args: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A second Neo4j server in a temporary folder; the shared one is never addressed."""
    home = tmp_path_factory.mktemp("neo4j-bulk") / "home"
    env = {k: v for k, v in os.environ.items() if k not in ("NEO4J_BOLT_PORT", "NEO4J_URI")}
    env.update(HELIXMAP_NEO4J_HOME=str(home), HELIXMAP_NEO4J_LIB=str(_jars()), NEO4J_HEAP_SIZE="512m",
               NEO4J_PAGECACHE_SIZE="256m", NEO4J_IMPORT_MEMORY="512m")
    try:
        try:
            started = _script("start", "--port", str(free_port()), env=env, timeout=900)
        except subprocess.TimeoutExpired:
            started = None
        require(started is not None and started.returncode == 0,
                "could not start a second Neo4j server for the bulk import: "
                + (started.stderr[-3000:] if started is not None else "scripts/neo4j start timed out"))
        assert started is not None
        values = dict(line.split("=", 1) for line in started.stdout.splitlines() if "=" in line)
        yield {"env": env, "home": home, "uri": values["NEO4J_URI"], "username": values["NEO4J_USERNAME"],
               "password": values["NEO4J_PASSWORD"]}
    finally:
        stopped = _script("stop", env=env, timeout=180)  # only this folder's server
        assert stopped.returncode == 0, stopped.stderr


def _open(conn: dict[str, Any]):  # type: ignore[no-untyped-def]
    from ecosystem.store.neo4j import Neo4jStore

    return Neo4jStore(conn["uri"], conn["username"], conn["password"])


def _dump(store) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
    """Every helixmap node and relationship with all its properties, as sorted JSON lines (ids: the keys)."""
    nodes = sorted(json.dumps([sorted(r["l"]), r["p"]], sort_keys=True) for r in store._run(
        "MATCH (n) WHERE NOT n:HelixmapMeta RETURN labels(n) AS l, properties(n) AS p", read=True))
    rels = sorted(json.dumps([r["t"], r["a"], r["b"], r["p"]], sort_keys=True) for r in store._run(
        "MATCH (a)-[x]->(b) RETURN type(x) AS t, coalesce(a.id, a.key) AS a, coalesce(b.id, b.key) AS b, "
        "properties(x) AS p", read=True))
    return nodes, rels


def _reference(batch, path: Path, overrides: Overrides | None = None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Stats and groups of the batch imported into a new SQLite store (with the overrides set first)."""
    from ecosystem.store.sqlite import SQLiteStore

    store = SQLiteStore(path)
    if overrides is not None:
        store.resolve(overrides)
    store.apply(batch)
    out = {"stats": store.stats(), "groups": store.record_groups()}
    store.close()
    return out


def _bulk_load(batch, conn: dict[str, Any], directory: Path):  # type: ignore[no-untyped-def]
    """The whole bulk path, as `python -m ecosystem.store.neo4j_bulk` runs it; returns (report, manifest, store)."""
    from ecosystem.store import neo4j_bulk

    store = _open(conn)
    assert neo4j_bulk.store_is_empty(store)
    meta = neo4j_bulk.stored_meta(store)
    store.close()
    report, manifest = neo4j_bulk.write_import_files(batch, directory, meta=meta)
    values = neo4j_bulk.run_import(directory, env=conn["env"])
    assert values["NEO4J_URI"] == conn["uri"], "the server came back on another port"
    store = neo4j_bulk.finish(values["NEO4J_URI"], values["NEO4J_USERNAME"], values["NEO4J_PASSWORD"],
                              manifest=manifest)
    return report, manifest, store


def _check(batch, conn: dict[str, Any], tmp_path: Path, *, regroup: bool,  # type: ignore[no-untyped-def]
           overrides: Overrides | None = None) -> None:
    from ecosystem.store import neo4j_bulk

    store = _open(conn)
    store.clear()
    # kept in the meta node (clear() keeps them): the bulk path must carry them over and follow them
    store.resolve(overrides, keep_overrides=overrides is not None)
    version = int(store.data_version())
    store.close()
    reference = _reference(batch, tmp_path / "reference.db", overrides)

    report, manifest, store = _bulk_load(batch, conn, tmp_path / "files")
    try:
        assert manifest["resolve_after_import"] is regroup
        stats = store.stats()
        assert stats == reference["stats"]
        assert store.record_groups() == reference["groups"]
        assert stats["records"] > stats["organisations"] if regroup else stats["records"] == stats["organisations"]
        # the data version goes on from the replaced store's; a regrouping after the import is one more change
        version += 2 if regroup else 1
        assert store.data_version() == str(version)
        meta = neo4j_bulk.stored_meta(store)
        assert meta["resolution_overrides"] == (json.dumps(overrides_to_json(overrides))
                                                if overrides is not None else None)
        bulk = _dump(store)
        dirty = store._run("MATCH (m:HelixmapMeta {key: 'meta'}) RETURN m.collaborations_dirty AS d",
                           read=True)[0]["d"]
        assert dirty is False

        again = store.apply(batch)  # the normal path over the bulk-loaded store: nothing to do
        assert again.changed == 0
        assert store.stats() == stats and store.data_version() == str(version)

        store.clear()  # the normal Bolt import of the same batch: the very same graph
        normal = store.apply(batch)
        assert _dump(store) == bulk
        assert normal.as_dict() == report.as_dict()
    finally:
        store.close()


def test_the_cordis_sample_bulk_loads_as_the_normal_import_with_its_entity_resolution_group(
        own_server: dict[str, Any], data_dir: Path, tmp_path: Path) -> None:
    """Two PICs of the sample share a VAT number and a user's override makes them one organisation: the group is
    formed through Bolt after the import."""
    from importers.cordis import read_cordis

    batch = read_cordis([data_dir / CORDIS_SAMPLE], cache_dir=tmp_path / "cache")
    _check(batch, own_server, tmp_path, regroup=True, overrides=Overrides(merge=[SAME_VAT_PICS]))


def test_h2020_participations_bulk_load_as_the_normal_import_keeping_the_stored_overrides(
        own_server: dict[str, Any], data_dir: Path, tmp_path: Path) -> None:
    """Rows of the full H2020 participation table (research export: PICs without names, nothing to resolve),
    replacing a store that held data and a user's override."""
    from importers.table import read_table

    table = tmp_path / "h2020_participations_head.csv"
    with gzip.open(data_dir / H2020_TABLE, "rt", encoding="utf-8", newline="") as src, \
            table.open("w", encoding="utf-8", newline="") as out:
        reader = csv.reader(src)
        writer = csv.writer(out)
        for i, row in enumerate(reader):
            if i > H2020_ROWS:
                break
            writer.writerow(row)
    batch = read_table(table, H2020_MAPPING)
    assert len(batch.participations) == H2020_ROWS
    overrides = Overrides(forbid=[(batch.organisations[0].id, batch.organisations[1].id)])
    _check(batch, own_server, tmp_path, regroup=False, overrides=overrides)


def test_the_records_follow_the_stored_overrides(data_dir: Path, tmp_path: Path) -> None:
    """The captured resolution uses the overrides of the store the bulk load replaces (no server needed)."""
    from ecosystem.store import neo4j_bulk
    from importers.cordis import read_cordis

    batch = read_cordis([data_dir / CORDIS_SAMPLE], cache_dir=tmp_path / "cache")
    report, manifest = neo4j_bulk.write_import_files(batch, tmp_path / "plain", meta={"data_version": 3})
    assert not manifest["resolve_after_import"] and report.merged == 0  # two PICs: two legal entities
    merge = Overrides(merge=[SAME_VAT_PICS])
    pairs = [tuple(members) for members in _reference(batch, tmp_path / "merged.db", merge)["groups"].values()]
    assert pairs == [SAME_VAT_PICS]
    overrides = json.dumps(overrides_to_json(merge))
    report, manifest = neo4j_bulk.write_import_files(batch, tmp_path / "joined",
                                                     meta={"data_version": 3, "resolution_overrides": overrides})
    assert manifest["resolve_after_import"] and report.merged == 1
    meta = (tmp_path / "joined" / "nodes_HelixmapMeta.csv").read_text()
    assert ",4," in meta and overrides.replace('"', '""') in meta
