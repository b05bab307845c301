"""ROR organisations and GeoNames places in the embedded store."""

from __future__ import annotations

import json
from pathlib import Path

from importers.cordis import read_cordis
from importers.eurostat import read_regions
from importers.ror import read_ror


def test_ror_records_get_their_helices_places_and_relationships(located_store, data_dir: Path,
                                                                tmp_path: Path) -> None:
    ror = data_dir / "ror/ror_v2_europe_sample.json.gz"
    report = located_store.apply(read_ror([ror], cache_dir=tmp_path))
    stats = located_store.stats()
    assert stats["organisations"] == report.organisations > 5000
    assert stats["helix"]["unknown"] == 0
    records = json.loads(__import__("gzip").decompress(ror.read_bytes()))
    by_type = {}
    for rec in records:
        if len(rec["types"]) == 1:
            by_type.setdefault(rec["types"][0], rec)
    expected = {"education": "academia", "company": "industry", "government": "government",
                "nonprofit": "civil_society", "facility": "academia", "archive": "civil_society"}
    for kind, helix in expected.items():
        if kind in by_type:
            org = located_store.organisation("ror:" + by_type[kind]["id"].rsplit("/", 1)[-1])
            assert org["helix"]["value"] == helix, kind
    with_parent = next(r for r in records if any(rel["type"] == "parent" for rel in r.get("relationships", [])))
    oid = "ror:" + with_parent["id"].rsplit("/", 1)[-1]
    kinds = {r["kind"] for r in located_store.relations(oid)}
    assert "parent" in kinds
    placed = located_store._conn().execute(
        "SELECT count(*) FROM organisations WHERE id LIKE 'ror:%' AND nuts3 IS NOT NULL").fetchone()[0]
    assert placed / stats["organisations"] > 0.9
    again = located_store.apply(read_ror([ror], cache_dir=tmp_path))
    assert again.changed == 0


def test_a_city_name_alone_is_placed_through_geonames(located_store, data_dir: Path, tmp_path: Path) -> None:
    located_store.apply(read_regions([data_dir / "places/geonames_cities15000_europe.csv"], cache_dir=tmp_path))
    f = tmp_path / "organization.csv"
    f.write_text('"projectID","organisationID","name","activityType","country","city"\n'
                 '"1","500","Kulturverein Tübingen e.V.","OTH","DE","Tübingen"\n', encoding="utf-8")
    located_store.apply(read_cordis([f], cache_dir=tmp_path))
    org = located_store.organisation("500")
    assert org["location"]["nuts3"] == "DE142"
    assert org["location"]["method"] in ("city", "place")
    assert org["location"]["urban_rural"] in ("urban", "intermediate", "rural")
