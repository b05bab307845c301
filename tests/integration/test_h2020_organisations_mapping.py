"""The README's full-table path: regions, the participation table, then CORDIS organization.csv through
examples/h2020_organisations.toml (organisations only) places the table's PICs below country level without
adding a project or a collaboration; importing it again changes nothing."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

from ecosystem.services.partners import index_inputs
from importers.table import read_table

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
GRAPH = ("projects", "participations", "collaborations")


def test_the_organisations_mapping_places_the_tables_pics(located_store, data_dir: Path, tmp_path: Path) -> None:
    sample = data_dir / "cordis" / "h2020_organization_sample.csv"
    with sample.open(encoding="utf-8", newline="") as fh:
        pics = {row["organisationID"] for row in csv.DictReader(fh)}
    # the participation table's rows of 400 projects that have a participant in the sample
    with gzip.open(data_dir / "cordis" / "h2020_participations_full.csv.gz", "rt", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    rcn, pic = header.index("rcn"), header.index("pic")
    chosen = sorted({r[rcn] for r in body if r[pic] in pics})[:400]
    keep = set(chosen)
    table = tmp_path / "participations.csv"
    with table.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *(r for r in body if r[rcn] in keep)])
    located_store.apply(read_table(table, EXAMPLES / "h2020_participations.toml"))
    before = located_store.stats()
    table_orgs, _, _ = index_inputs(located_store)
    assert all(o.nuts3 is None and o.urban_rural == "unknown" for o in table_orgs)  # country only

    report = located_store.apply(read_table(sample, EXAMPLES / "h2020_organisations.toml"))
    after = located_store.stats()
    assert {k: after[k] for k in GRAPH} == {k: before[k] for k in GRAPH}  # no project counted twice
    orgs = {o.id: o for o in index_inputs(located_store)[0]}
    in_table = [orgs[o.id] for o in table_orgs if o.id in pics]
    placed = [o for o in in_table if o.nuts3]
    assert len(in_table) > 300
    assert len(placed) >= 0.9 * len(in_table)  # the rest: countries outside NUTS
    assert all(o.urban_rural in ("urban", "intermediate", "rural") for o in placed)
    assert {o.urban_rural for o in placed} == {"urban", "intermediate", "rural"}
    assert all(o.name != o.id for o in in_table)  # named now, no longer only a PIC
    assert report.changed > 0

    again = located_store.apply(read_table(sample, EXAMPLES / "h2020_organisations.toml"))
    assert again.changed == 0 and located_store.stats() == after
