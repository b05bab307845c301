"""Placeholders are dropped when CORDIS files are read: never a short name, a name or a VAT number."""

from __future__ import annotations

import csv
from pathlib import Path

from importers.cordis import read_cordis


def test_cordis_placeholders_are_no_values(data_dir: Path, tmp_path: Path) -> None:
    source = data_dir / "cordis" / "h2020_organization_sample.csv"
    with source.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        rows = [next(reader), next(reader)]
    rows[0] = {**rows[0], "shortName": "n/a", "vatNumber": "MISSING"}
    rows[1] = {**rows[1], "name": "unknown", "shortName": "ACME"}
    path = tmp_path / "organization.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    orgs = {o.id: o for o in read_cordis([path], cache_dir=tmp_path).organisations}
    first, second = orgs[rows[0]["organisationID"]], orgs[rows[1]["organisationID"]]
    assert first.short_name is None and "vat" not in first.identifiers
    assert first.name == rows[0]["name"].strip()
    assert second.name == "ACME"  # the short name stands in for a placeholder name
