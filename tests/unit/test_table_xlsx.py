"""Registers as XLSX workbooks import through the same mappings as CSV."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from ecosystem.domain.errors import BadInputError
from importers.table import read_table

MAPPING = '''
[source]
name = "verenigingen-register"
licence = "CC BY 4.0"
sheet = "Register"

[organisation]
id = "KvK"
id_template = "kvk:{value}"
name = "Naam"
country = { value = "NL" }
postcode = "Postcode"
city = "Plaats"
category = "Categorie"

[organisation.helix]
column = "Rechtsvorm"
values = { Vereniging = "civil_society", Stichting = "civil_society", Gemeente = "government", BV = "industry" }
'''


def _workbook(path: Path, rows: list[list[object]], sheet: str = "Register") -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "Cover"
    ws.append(["this sheet is not the register"])
    data = wb.create_sheet(sheet)
    for row in rows:
        data.append(row)
    wb.save(path)
    return path


def test_a_civil_society_register_in_a_workbook_imports_as_organisations(tmp_path: Path) -> None:
    book = _workbook(tmp_path / "register.xlsx", [
        ["KvK", "Naam", "Rechtsvorm", "Postcode", "Plaats", "Categorie"],
        [40123456, "Vereniging Dorpsbelang Ôtterlo", "Vereniging", "6731 AA", "Otterlo", "dorpsraad"],
        [41234567, "Stichting Energie Coöperatie", "Stichting", "1011 AB", "Amsterdam", "energie"],
        [50000001, "Gemeente Ede", "Gemeente", "6711 AA", "Ede", None],
    ])
    (tmp_path / "m.toml").write_text(MAPPING, encoding="utf-8")
    batch = read_table(book, tmp_path / "m.toml")
    orgs = {o.id: o for o in batch.organisations}
    assert set(orgs) == {"kvk:40123456", "kvk:41234567", "kvk:50000001"}
    assert orgs["kvk:40123456"].helix.value.value == "civil_society"
    assert orgs["kvk:50000001"].helix.value.value == "government"
    assert orgs["kvk:40123456"].tags == ["dorpsraad"] and orgs["kvk:50000001"].tags == []
    assert orgs["kvk:41234567"].location.postcode == "1011 AB"
    assert all(o.sources[0].file == "register.xlsx" and o.sources[0].licence for o in orgs.values())
    assert batch.projects == [] and batch.participations == []


def test_a_bad_cell_in_a_workbook_names_the_workbook_row_and_column(tmp_path: Path) -> None:
    mapping = MAPPING.replace('category = "Categorie"', 'category = "Categorie"\nlat = "Lat"\nlon = "Lon"')
    (tmp_path / "m.toml").write_text(mapping, encoding="utf-8")
    book = _workbook(tmp_path / "register.xlsx", [
        ["KvK", "Naam", "Rechtsvorm", "Postcode", "Plaats", "Categorie", "Lat", "Lon"],
        [1, "A", "Vereniging", "", "", "", 52.1, 5.7],
        [2, "B", "Vereniging", "", "", "", "north", 5.7],
    ])
    with pytest.raises(BadInputError) as info:
        read_table(book, tmp_path / "m.toml")
    assert info.value.file == "register.xlsx" and info.value.line == 3 and info.value.field == "Lat"


def test_an_unknown_sheet_is_named_with_the_sheets_there(tmp_path: Path) -> None:
    (tmp_path / "m.toml").write_text(MAPPING.replace('sheet = "Register"', 'sheet = "Leden"'), encoding="utf-8")
    book = _workbook(tmp_path / "register.xlsx", [["KvK", "Naam"]])
    with pytest.raises(BadInputError) as info:
        read_table(book, tmp_path / "m.toml")
    assert "Leden" in str(info.value) and "Register" in str(info.value)
