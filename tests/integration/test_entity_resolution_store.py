"""Entity resolution inside both stores: one node per real organisation, reversible, idempotent, overridable."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest

from ecosystem.domain.resolution import Overrides
from importers.cordis import read_cordis
from importers.ror import read_ror
from tests.expected import counts_from_rows, csv_pairs

KEYS = ("organisations", "projects", "participations", "collaborations")


@pytest.fixture
def merged_store(any_store, data_dir: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    """CORDIS organisations, then the ROR sample: records of both sources resolved in the store."""
    any_store.apply(read_cordis([data_dir / "cordis/h2020_organization_sample.csv"], cache_dir=tmp_path))
    report = any_store.apply(read_ror([data_dir / "ror/ror_v2_europe_sample.json.gz"], cache_dir=tmp_path))
    any_store.test_report = report
    return any_store


def _cordis_ror_groups(store) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    return {c: m for c, m in store.record_groups().items()
            if c.startswith("ror:") and any(not r.startswith("ror:") for r in m)}


def test_organisations_in_cordis_and_ror_are_one_node_with_both_identifiers(merged_store, data_dir: Path) -> None:
    groups = _cordis_ror_groups(merged_store)
    assert len(groups) > 100, "the CORDIS and ROR samples share well over a hundred organisations"
    assert merged_store.test_report.merged >= len(groups)
    for canonical, members in list(groups.items())[:40]:
        org = merged_store.organisation(canonical)
        pic = next(r for r in members if not r.startswith("ror:"))
        assert org["id"] == canonical and org["records"] == sorted(members)
        assert org["identifiers"].get("ror") and org["identifiers"].get("pic") == pic
        assert {s["source"].split("-")[0] for s in org["sources"]} >= {"cordis", "ror"}
        assert org["same_as"] and all(p["reasons"] for p in org["same_as"])
        # the PIC still finds the organisation, and its projects are the organisation's
        assert merged_store.organisation(pic)["id"] == canonical
        assert merged_store.canonical_id(pic) == canonical
    # counts straight from the input files (PICs of the CSV, ids of the ROR dump), read through the store's groups
    src = data_dir / "cordis/h2020_organization_sample.csv"
    with gzip.open(data_dir / "ror/ror_v2_europe_sample.json.gz", "rt", encoding="utf-8") as fh:
        ror_ids = {"ror:" + r["id"].rsplit("/", 1)[-1] for r in json.load(fh)}
    pics = {oid for _pid, oid in csv_pairs(src)}
    groups = merged_store.record_groups()
    canonical = {rid: c for c, members in groups.items() for rid in members}
    stats = merged_store.stats()
    assert stats["records"] == len(pics | ror_ids)
    expected = counts_from_rows(csv_pairs(src), groups)
    expected["organisations"] = len({canonical.get(i, i) for i in pics | ror_ids})  # ROR records take no part
    assert {k: stats[k] for k in KEYS} == expected


def test_a_merged_organisation_keeps_its_projects_and_is_found_once(merged_store, data_dir: Path) -> None:
    src = data_dir / "cordis/h2020_organization_sample.csv"
    projects_of: dict[str, set[str]] = {}
    with src.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            projects_of.setdefault(row["organisationID"], set()).add(row["projectID"])
    checked = 0
    for canonical, members in _cordis_ror_groups(merged_store).items():
        expected = set().union(*(projects_of.get(r, set()) for r in members))
        if not expected:
            continue
        assert {p["id"] for p in merged_store.organisation_projects(canonical)} == expected
        name = merged_store.organisation(canonical)["name"]
        _total, hits = merged_store.search_organisations(name, limit=50)
        ids = [h["id"] for h in hits]
        assert canonical in ids and not set(members) - {canonical} & set(ids)
        checked += 1
        if checked == 15:
            break
    assert checked == 15
    from ecosystem.services.partners import recommendations

    pic = next(r for r in members if not r.startswith("ror:"))
    found = recommendations(merged_store, pic, k=3)  # asked by a merged record's id: the organisation answers
    assert found["organisation"] == canonical and len(found["items"]) == 3
    assert not {i["id"] for i in found["items"]} & set(members)


def test_importing_both_sources_again_changes_nothing(merged_store, data_dir: Path, tmp_path: Path) -> None:
    stats, groups, version = merged_store.stats(), merged_store.record_groups(), merged_store.data_version()
    again = merged_store.apply(read_cordis([data_dir / "cordis/h2020_organization_sample.csv"], cache_dir=tmp_path))
    assert again.changed == 0
    again = merged_store.apply(read_ror([data_dir / "ror/ror_v2_europe_sample.json.gz"], cache_dir=tmp_path))
    assert again.changed == 0
    assert merged_store.stats() == stats and merged_store.record_groups() == groups
    assert merged_store.data_version() == version


def test_two_participants_of_one_project_are_never_merged(merged_store) -> None:
    # Stichting Wageningen Research and Wageningen University: similar names, one city, but side by side in
    # the same projects: two legal entities
    assert merged_store.canonical_id("999981634") != merged_store.canonical_id("999547365")


def test_an_override_undoes_a_merge_and_dropping_it_redoes_it(merged_store, data_dir: Path,
                                                               tmp_path: Path) -> None:
    before = merged_store.stats()
    groups = _cordis_ror_groups(merged_store)
    canonical, members = next((c, m) for c, m in sorted(groups.items()) if len(m) == 2)
    pic = next(r for r in members if r != canonical)
    projects = {p["id"] for p in merged_store.organisation_projects(canonical)}
    review = tmp_path / "review.csv"
    report = merged_store.resolve(Overrides(forbid=[(pic, canonical)]), review_path=review)
    assert report.changed
    assert merged_store.canonical_id(pic) == pic and merged_store.organisation(pic)["id"] == pic
    assert "ror" not in merged_store.organisation(pic)["identifiers"]
    assert {p["id"] for p in merged_store.organisation_projects(pic)} == projects
    assert merged_store.organisation_projects(canonical) == []
    assert merged_store.stats()["organisations"] == before["organisations"] + 1
    assert review.read_text(encoding="utf-8").startswith("left_id,")
    # the override is kept: a re-import does not merge the pair again
    merged_store.apply(read_cordis([data_dir / "cordis/h2020_organization_sample.csv"], cache_dir=tmp_path))
    assert merged_store.canonical_id(pic) == pic
    merged_store.resolve(None, keep_overrides=False)
    assert merged_store.canonical_id(pic) == canonical
    assert merged_store.stats() == before


def test_an_override_merges_records_without_names(any_store, data_dir: Path, tmp_path: Path) -> None:
    """Research-export rows (a PIC, no name) only match by identifiers, but a user's override still merges them."""
    from importers.table import read_table

    repo = Path(__file__).resolve().parents[2]
    with gzip.open(data_dir / "cordis/h2020_participations_full.csv.gz", "rt", encoding="utf-8") as fh:
        head = [next(fh) for _ in range(301)]
    table = tmp_path / "slice.csv"
    table.write_text("".join(head), encoding="utf-8")
    any_store.apply(read_table(table, repo / "examples/h2020_participations.toml"))
    rows = [(r["rcn"], r["pic"]) for r in csv.DictReader(head)]
    before = any_store.stats()
    assert any_store.record_groups() == {} and before["records"] == before["organisations"]
    projects: dict[str, set[str]] = {}
    for rcn, pic in rows:
        projects.setdefault(pic, set()).add(rcn)
    a, b = next((x, y) for x in sorted(projects) for y in sorted(projects)
                if x < y and not projects[x] & projects[y])  # never side by side in one project
    any_store.resolve(Overrides(merge=[(a, b)]))
    assert any_store.record_groups() == {a: [a, b]} and any_store.canonical_id(b) == a
    stats = any_store.stats()
    assert {k: stats[k] for k in KEYS} == counts_from_rows(rows, {a: [a, b]})
    assert {p["id"] for p in any_store.organisation_projects(a)} == projects[a] | projects[b]
    any_store.resolve(None, keep_overrides=False)
    assert any_store.record_groups() == {} and any_store.stats() == before
