"""One contract, two stores: the same imports give the same graph on SQLite and on a real Neo4j server."""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path

import pytest

from importers.cordis import read_cordis
from importers.table import read_table
from tests.expected import counts_from_rows, csv_pairs, json_pairs

KEYS = ("organisations", "projects", "participations", "collaborations")
REPO = Path(__file__).resolve().parents[2]


def _counts(store) -> dict[str, int]:  # type: ignore[no-untyped-def]
    stats = store.stats()
    return {k: stats[k] for k in KEYS}


def test_an_import_gives_exactly_the_counts_of_the_input(any_store, data_dir: Path, tmp_path: Path) -> None:
    src = data_dir / "cordis/h2020_organization_sample.csv"
    any_store.apply(read_cordis([src], cache_dir=tmp_path))
    assert _counts(any_store) == counts_from_rows(csv_pairs(src), any_store.record_groups())


def test_importing_twice_changes_nothing(any_store, data_dir: Path, tmp_path: Path) -> None:
    src = data_dir / "cordis/h2020_organization_sample.csv"
    any_store.apply(read_cordis([src], cache_dir=tmp_path))
    before, version = any_store.stats(), any_store.data_version()
    report = any_store.apply(read_cordis([src], cache_dir=tmp_path))
    assert report.changed == 0
    assert any_store.stats() == before and any_store.data_version() == version


def test_a_later_import_keeps_collaborations_consistent(any_store, data_dir: Path, tmp_path: Path) -> None:
    csv_src = data_dir / "cordis/h2020_organization_sample.csv"
    json_src = data_dir / "cordis/json/organization.json"
    any_store.apply(read_cordis([json_src.parent], cache_dir=tmp_path))
    any_store.apply(read_cordis([csv_src], cache_dir=tmp_path))
    pairs = json_pairs(json_src) + csv_pairs(csv_src)
    assert _counts(any_store) == counts_from_rows(pairs, any_store.record_groups())
    weights = {(p["id"]): p["weight"] for p in any_store.partners("999991043", limit=1000)}
    members: dict[str, set[str]] = {}
    for pid, oid in json_pairs(json_src) + csv_pairs(csv_src):
        members.setdefault(pid, set()).add(oid)
    expected: dict[str, int] = {}
    for group in members.values():
        if "999991043" in group:
            for other in group - {"999991043"}:
                expected[other] = expected.get(other, 0) + 1
    assert weights == expected


def test_a_participation_table_imports_through_its_mapping(any_store, data_dir: Path, tmp_path: Path) -> None:
    full = data_dir / "cordis/h2020_participations_full.csv.gz"
    part = tmp_path / "slice.csv"
    with gzip.open(full, "rt", encoding="utf-8") as fh:
        part.write_text("".join(itertools.islice(fh, 3001)), encoding="utf-8")
    any_store.apply(read_table(part, REPO / "examples/h2020_participations.toml"))
    import csv
    with part.open(encoding="utf-8", newline="") as fh:
        rows = [(r["rcn"], r["pic"]) for r in csv.DictReader(fh)]
    assert _counts(any_store) == counts_from_rows(rows, any_store.record_groups())


def test_helix_and_search_agree_with_the_input(any_store, data_dir: Path, tmp_path: Path) -> None:
    import csv

    src = data_dir / "cordis/h2020_organization_sample.csv"
    any_store.apply(read_cordis([src], cache_dir=tmp_path))
    total, items = any_store.search_organisations("tehnikaulikool")
    assert total == 1 and items[0]["name"] == "TALLINNA TEHNIKAÜLIKOOL" and items[0]["helix"] == "academia"
    with src.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    italian = {r["organisationID"] for r in rows if r["country"] == "IT"}
    government = {r["organisationID"] for r in rows if r["activityType"] == "PUB"}
    assert any_store.search_organisations(country="IT", limit=1)[0] == len(italian)
    assert any_store.search_organisations(helix="government", limit=1)[0] == len(government)


# -- the same answers from both stores, on the sample graph with regions -------------------------------------


@pytest.fixture(scope="module")
def both(sample_db: Path, neo4j_info: dict, data_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The sample graph in SQLite (built by the CLI) and in Neo4j (built by the same CLI with --store neo4j)."""
    import os
    import shutil
    import subprocess

    from ecosystem.store.sqlite import SQLiteStore
    from tests.conftest import REGION_FILES, helixmap_command, open_neo4j

    neo = open_neo4j(neo4j_info)
    neo.clear()
    env = {**os.environ, "HELIXMAP_STORE": neo4j_info["uri"], "NEO4J_USERNAME": neo4j_info["username"],
           "NEO4J_PASSWORD": neo4j_info["password"]}
    for args in (["import", "regions", *[str(data_dir / f) for f in REGION_FILES]],
                 ["import", "cordis", str(data_dir / "cordis/h2020_organization_sample.csv")],
                 ["import", "cordis", str(data_dir / "cordis/json")]):
        done = subprocess.run([*helixmap_command(), *args], env=env, capture_output=True, text=True, timeout=1200)
        assert done.returncode == 0, done.stderr
    path = tmp_path_factory.mktemp("contract") / "sqlite.db"
    shutil.copy(sample_db, path)
    lite = SQLiteStore(path)
    yield {"sqlite": lite, "neo4j": neo}
    lite.close()
    neo.close()


def test_stats_are_identical(both) -> None:  # type: ignore[no-untyped-def]
    assert both["neo4j"].stats() == both["sqlite"].stats()


@pytest.mark.parametrize("kwargs", [
    {"q": "universit"}, {"q": "kobenhavns"}, {"q": "institut", "country": "DE"}, {"helix": "government"},
    {"nuts": "ITC1"}, {"nuts": "EL", "helix": "academia"}, {"urban_rural": "rural"}, {"q": "gmbh", "urban_rural": "urban"},
])
def test_search_gives_the_same_results(both, kwargs) -> None:  # type: ignore[no-untyped-def]
    a_total, a_items = both["sqlite"].search_organisations(limit=2000, **kwargs)
    b_total, b_items = both["neo4j"].search_organisations(limit=2000, **kwargs)
    assert a_total == b_total > 0
    assert {i["id"] for i in a_items} == {i["id"] for i in b_items}
    if "q" not in kwargs:  # without a query both order by name, id
        assert [i["id"] for i in a_items] == [i["id"] for i in b_items]


def test_profiles_projects_and_partners_are_identical(both) -> None:  # type: ignore[no-untyped-def]
    _, items = both["sqlite"].search_organisations(limit=60, country="FR")
    for item in items:
        oid = item["id"]
        assert both["neo4j"].organisation(oid) == both["sqlite"].organisation(oid)
        assert both["neo4j"].organisation_projects(oid) == both["sqlite"].organisation_projects(oid)
        rounded = [[{**p, "funding": round(p["funding"], 2)} for p in store.partners(oid)]
                   for store in (both["neo4j"], both["sqlite"])]
        assert rounded[0] == rounded[1]


@pytest.mark.parametrize("filters", [{}, {"nuts": ["DE"]}, {"helix": ["industry"], "min_weight": 2},
                                     {"urban_rural": ["rural", "intermediate"]}, {"year_from": 2016, "year_to": 2017}])
def test_networks_are_identical(both, filters) -> None:  # type: ignore[no-untyped-def]
    from ecosystem.domain.filters import network_filter
    from ecosystem.services.networks import build_collaboration_graph

    flt = network_filter(**filters)
    a = build_collaboration_graph(both["sqlite"], flt)
    b = build_collaboration_graph(both["neo4j"], flt)
    assert dict(a.nodes(data=True)) == dict(b.nodes(data=True))
    ea = {frozenset((u, v)): (d["weight"], round(d["funding"], 2), d["first_year"], d["last_year"])
          for u, v, d in a.edges(data=True)}
    eb = {frozenset((u, v)): (d["weight"], round(d["funding"], 2), d["first_year"], d["last_year"])
          for u, v, d in b.edges(data=True)}
    assert ea == eb


@pytest.mark.parametrize("nuts", ["DK0", "ITC11", "FR", "EL30"])
def test_region_profiles_are_identical(both, nuts: str) -> None:  # type: ignore[no-untyped-def]
    from ecosystem.services.regions import region_profile

    assert region_profile(both["neo4j"], nuts) == region_profile(both["sqlite"], nuts)


def test_project_texts_are_read_back_as_imported(any_store, data_dir: Path, tmp_path: Path) -> None:
    batch = read_cordis([data_dir / "cordis/json"], cache_dir=tmp_path)
    any_store.apply(batch)
    expected = {p.id: (p.acronym, p.title, list(p.topic_titles)) for p in batch.projects}
    texts = {pid: (acronym, title, titles) for pid, acronym, title, titles in any_store.iter_project_texts()}
    assert texts == expected
    assert any(title for _a, title, _t in texts.values())
