"""The two worked register examples of docs/registers.md, run exactly as the page writes them."""

from __future__ import annotations

import csv
import gzip
import re
from pathlib import Path

import pytest

from ecosystem.domain.errors import BadInputError
from importers.table import read_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "registers.md"
BLOCK = re.compile(r'```(?:csv|toml) title="([^"]+)"\n(.*?)```', re.S)


def _blocks() -> dict[str, str]:
    return dict(BLOCK.findall(DOC.read_text(encoding="utf-8")))


def _lau(data_dir: Path) -> dict[tuple[str, str], dict[str, str]]:
    """The LAU table's rows by (country, LAU code), read straight from the file."""
    with gzip.open(data_dir / "regions/lau2019_degurba.csv.gz", "rt", encoding="utf-8", newline="") as fh:
        return {(r["country"], r["lau_code"]): r for r in csv.DictReader(fh)}


DEGURBA = {"1": "city", "2": "town_suburb", "3": "rural_area"}


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_the_association_register_example_imports_as_documented(located_store, data_dir: Path,
                                                                tmp_path: Path) -> None:
    blocks = _blocks()
    table = _write(tmp_path, "rna_extract.csv", blocks["rna_extract.csv"])
    mapping = _write(tmp_path, "rna.toml", blocks["rna.toml"])
    report = located_store.apply(read_table(table, mapping))
    assert report.organisations == 5
    lau = _lau(data_dir)
    with table.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    for row in rows:
        org = located_store.organisation(f"rna:{row['id']}")
        assert org["helix"]["value"] == "civil_society"
        assert org["identifiers"]["rna"] == row["id"] and row["objet_social1"] in org["tags"]
        loc = org["location"]
        source = lau[("FR", row["adrs_codeinsee"])]
        assert loc["method"] == "municipality" and loc["lau_code"] == row["adrs_codeinsee"]
        assert loc["degurba"] == DEGURBA[source["degurba"]]
        assert loc["nuts3"] and loc["nuts3"][:3] == source["code_2016"][:3]  # NUTS 2021, same NUTS2 family
        assert "adrs_gestion_nom" not in str(org) and row["adrs_gestion_nom"] not in str(org)
    assert located_store.organisation("rna:W481000003")["location"]["degurba"] == "rural_area"
    assert located_store.organisation("rna:W691000001")["location"]["degurba"] == "city"


def test_the_participation_register_example_imports_as_documented(located_store, data_dir: Path,
                                                                  tmp_path: Path) -> None:
    blocks = _blocks()
    table = _write(tmp_path, "foerderkatalog_extract.csv", blocks["foerderkatalog_extract.csv"], "cp1252")
    mapping = _write(tmp_path, "foerderkatalog.toml", blocks["foerderkatalog.toml"])
    located_store.apply(read_table(table, mapping))
    stats = located_store.stats()
    assert (stats["organisations"], stats["projects"], stats["participations"]) == (4, 2, 5)
    # Sichere Netze: 3 partners -> 3 pairs; Stadtquartier: 2 partners -> 1 pair
    assert stats["collaborations"] == 4
    lau = _lau(data_dir)
    bodenkirchen = located_store.organisation("foekat:Gemeinde Bodenkirchen")
    assert bodenkirchen["location"]["degurba"] == DEGURBA[lau[("DE", "09274120")]["degurba"]] == "rural_area"
    assert bodenkirchen["helix"]["value"] == "government"
    assert bodenkirchen["identifiers"].get("lau") == "DE:09274120"
    assert located_store.organisation("foekat:Technische Universität Darmstadt")["helix"]["value"] == "academia"
    projects = located_store.organisation_projects("foekat:Technische Universität Darmstadt")
    assert sorted(p["id"] for p in projects) == ["foekat-verbund:Verbund: Sichere Netze",
                                                 "foekat-verbund:Verbund: Stadtquartier 2030"]
    sichere = next(p for p in projects if p["id"].endswith("Sichere Netze"))
    assert sichere["ec_contribution"] == pytest.approx(1234567.89) and sichere["start_year"] == 2020
    governments = {g["id"] for g in located_store.municipal_governments()}
    assert {"foekat:Gemeinde Bodenkirchen", "foekat:Landeshauptstadt München"} <= governments


def test_the_participation_register_read_with_the_wrong_encoding_says_so(tmp_path: Path) -> None:
    blocks = _blocks()
    table = _write(tmp_path, "foerderkatalog_extract.csv", blocks["foerderkatalog_extract.csv"], "cp1252")
    mapping = _write(tmp_path, "foerderkatalog.toml",
                     blocks["foerderkatalog.toml"].replace('encoding = "cp1252"', 'encoding = "utf-8"'))
    with pytest.raises(BadInputError) as error:
        read_table(table, mapping)
    assert "foerderkatalog_extract.csv" in str(error.value) and "encoding" in str(error.value)
