"""A table of projects only (no [organisation]): the programme parts file's shape, read through a mapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecosystem.domain.errors import BadInputError
from importers.table import read_table
from tests.conftest import DATA, require

REPO = Path(__file__).resolve().parents[2]

MAPPING = """
[source]
name = "parts"
licence = "CC BY 4.0"

[project]
id = "rcn"
programme_part = "programme_part"
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_table_of_projects_fills_their_fields_and_joins_several_parts(tmp_path: Path) -> None:
    table = write(tmp_path, "parts.csv", "rcn,programme_part\n1,SC1\n2,LEIT\n1,LEIT\n1,SC1\n")
    batch = read_table(table, write(tmp_path, "parts.toml", MAPPING))
    assert not batch.organisations and not batch.participations
    parts = {p.id: p.programme_part for p in batch.projects}
    assert parts == {"1": "SC1;LEIT", "2": "LEIT"}
    assert all(p.sources and p.sources[0].source == "parts" for p in batch.projects)


def test_a_project_row_without_its_id_names_the_line_and_column(tmp_path: Path) -> None:
    table = write(tmp_path, "parts.csv", "rcn,programme_part\n1,SC1\n,LEIT\n")
    with pytest.raises(BadInputError) as caught:
        read_table(table, write(tmp_path, "parts.toml", MAPPING))
    assert caught.value.line == 3 and caught.value.field == "rcn"


def test_participations_need_organisations(tmp_path: Path) -> None:
    table = write(tmp_path, "parts.csv", "rcn,programme_part,role\n1,SC1,coordinator\n")
    mapping = write(tmp_path, "bad.toml", MAPPING + '\n[participation]\nrole = "role"\n')
    with pytest.raises(BadInputError, match=r"\[participation\] needs an \[organisation\]"):
        read_table(table, mapping)


def test_the_h2020_programme_parts_example_reads_the_real_file() -> None:
    data = DATA / "cordis" / "h2020_programme_parts.csv.gz"
    require(data.exists(), f"the shared CORDIS data is not beside the repository ({data} is missing)")
    batch = read_table(data, REPO / "examples" / "h2020_programme_parts.toml")
    parts = {p.id: p.programme_part for p in batch.projects}
    assert len(parts) == 31_348 and parts["221856"] == "SC4"
    assert sum(1 for v in parts.values() if v and ";" in v) == 5_508
