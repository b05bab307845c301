"""`import table`: any CSV/TSV through a TOML column mapping (importers.table, importers.mapping)."""

from __future__ import annotations

import csv
import gzip
import re
from pathlib import Path

import pytest

from ecosystem.domain.errors import BadInputError
from ecosystem.domain.models import Helix
from importers.mapping import load_mapping
from importers.table import parse_number, read_table

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / ".." / "shared" / "data"
FULL_TABLE = DATA / "cordis" / "h2020_participations_full.csv.gz"
EXAMPLE_MAPPING = REPO / "examples" / "h2020_participations.toml"
DOCS = REPO / "docs" / "mapping.md"

HEADER = "rcn,pic,name,type,role,start,amount"

PARTICIPATION_MAPPING = """
[source]
name = "test-source"
licence = "CC BY 4.0"
{source_extra}

[organisation]
id = "pic"
name = "name"

[organisation.helix]
column = "type"
codes = "cordis"
{helix_extra}

[project]
id = "rcn"
start_date = "start"

[participation]
role = "role"
ec_contribution = "amount"
"""


def write_mapping(tmp_path: Path, text: str | None = None, *, source_extra: str = "", helix_extra: str = "",
                  name: str = "mapping.toml") -> Path:
    path = tmp_path / name
    if text is None:
        text = PARTICIPATION_MAPPING.format(source_extra=source_extra, helix_extra=helix_extra)
    path.write_text(text, encoding="utf-8")
    return path


def write_table(tmp_path: Path, content: str | bytes, name: str = "table.csv") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def bad_input(path: Path, mapping: Path) -> BadInputError:
    with pytest.raises(BadInputError) as caught:
        read_table(path, mapping)
    return caught.value


# -- the real table ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_the_full_h2020_table_gives_the_distinct_counts_computed_with_the_csv_module(data_dir):
    assert FULL_TABLE.exists(), f"{FULL_TABLE} is missing from the shared data"
    with gzip.open(FULL_TABLE, "rt", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    pairs = {(r["rcn"], r["pic"]) for r in rows}
    seen: list[float | None] = []

    batch = read_table(FULL_TABLE, EXAMPLE_MAPPING, progress=seen.append)

    assert len(batch.organisations) == len({r["pic"] for r in rows}) == 35_871
    assert len(batch.projects) == len({r["rcn"] for r in rows}) == 31_451
    assert len(batch.participations) == len(pairs)
    assert {(p.project_id, p.organisation_id) for p in batch.participations} == pairs
    assert seen[-1] == len(rows)
    first = rows[0]
    part = next(p for p in batch.participations
                if (p.project_id, p.organisation_id) == (first["rcn"], first["pic"]))
    assert part.role == first["role"] and part.ec_contribution == float(first["contribution"])
    assert part.source.record == f"{first['rcn']}/{first['pic']}"
    assert part.source.file == "h2020_participations_full.csv.gz"
    # NA is no value for dates and amounts, and Namibia for a country
    undated = {r["rcn"] for r in rows if r["start_date"] == "NA"}
    assert undated and all(p.start_date is None and p.start_year is None
                           for p in batch.projects if p.id in undated)
    namibian = {r["pic"] for r in rows if r["country"] == "NA"}
    assert namibian and all(o.country == "NA" for o in batch.organisations if o.id in namibian)
    no_amount = sum(1 for r in rows if r["contribution"] == "NA")
    assert sum(1 for p in batch.participations if p.ec_contribution is None) == no_amount
    by_type = {r["pic"]: r["type"] for r in rows}
    expected = {"HES": Helix.ACADEMIA, "REC": Helix.ACADEMIA, "PRC": Helix.INDUSTRY,
                "PUB": Helix.GOVERNMENT, "OTH": Helix.CIVIL_SOCIETY}
    assert all(o.helix.value is expected[by_type[o.id]] for o in batch.organisations)
    assert batch.warnings == []


def test_every_record_keeps_its_source_file_name_and_licence(tmp_path):
    table = write_table(tmp_path, f"{HEADER}\n1,10,A,PRC,participant,2020-01-01,5\n1,11,B,HES,coordinator,,\n"
                                  "2,10,A,PRC,coordinator,2021-03-01,7\n")
    batch = read_table(table, write_mapping(tmp_path))
    records = [*batch.organisations, *batch.projects]
    provenances = [s for r in records for s in r.sources] + [p.source for p in batch.participations]
    assert all(p.source == "test-source" and p.licence == "CC BY 4.0" and p.file == "table.csv"
               for p in provenances)
    assert [s.record for o in batch.organisations for s in o.sources] == ["10", "11"]
    assert [s.record for p in batch.projects for s in p.sources] == ["1", "2"]
    assert [p.source.record for p in batch.participations] == ["1/10", "1/11", "2/10"]


# -- bad input: file, line and field ----------------------------------------------------------------

def test_a_broken_quote_names_the_file_the_line_and_the_field(tmp_path):
    table = write_table(tmp_path, f'{HEADER}\n1,10,A,PRC,participant,2020-01-01,5\n'
                                  f'2,11,"ACME Ltd,HES,coordinator,2020-01-01,6\n3,12,C,PRC,participant,,\n')
    err = bad_input(table, write_mapping(tmp_path))
    assert (err.file, err.line, err.field) == ("table.csv", 3, "name")
    assert "quot" in err.message


def test_a_stray_quote_after_a_closing_quote_names_the_line_and_the_field(tmp_path):
    table = write_table(tmp_path, f'{HEADER}\n1,10,"ACME "Big" Ltd",PRC,participant,2020-01-01,5\n')
    err = bad_input(table, write_mapping(tmp_path))
    assert (err.file, err.line, err.field) == ("table.csv", 2, "name")


def test_a_wrong_delimiter_says_so_and_names_the_delimiter_seen(tmp_path):
    table = write_table(tmp_path, f"{HEADER.replace(',', ';')}\n1;10;A;PRC;participant;2020-01-01;5\n")
    err = bad_input(table, write_mapping(tmp_path, source_extra='delimiter = ","'))
    assert (err.file, err.line, err.field) == ("table.csv", 1, "pic")
    assert "delimiter ','" in err.message and "';'" in err.message
    assert "rcn;pic;name" in err.message  # the header as it was read
    assert "mapping.toml" in err.message


def test_a_file_that_is_not_utf8_names_the_line_and_the_field(tmp_path):
    table = write_table(tmp_path, f"{HEADER}\n1,10,A,PRC,participant,2020-01-01,5\n".encode()
                        + b"2,11,Universit\xe9 de Lyon,HES,coordinator,2020-01-01,6\n")
    err = bad_input(table, write_mapping(tmp_path))
    assert (err.file, err.line, err.field) == ("table.csv", 3, "name")
    assert "UTF-8" in err.message and "e9" in err.message


def test_a_bad_byte_deep_in_a_big_gzipped_file_is_found_by_its_line(tmp_path):
    rows = [HEADER] + [f"{i},{i % 700},Zoé Ørsted Café,PRC,participant,2020-01-01,{i}" for i in range(30_000)]
    content = ("\n".join(rows) + "\n").encode() + b"99,1,A,PRC,participant,2020-01-01,3\xff\n"
    table = write_table(tmp_path, gzip.compress(content), name="big.csv.gz")
    err = bad_input(table, write_mapping(tmp_path))
    assert (err.file, err.line, err.field) == ("big.csv.gz", 30_002, "amount")


def test_a_declared_encoding_reads_the_same_bytes(tmp_path):
    table = write_table(tmp_path, f"{HEADER}\n".encode() + b"2,11,Universit\xe9 de Lyon,HES,coordinator,2020-01-01,6\n")
    batch = read_table(table, write_mapping(tmp_path, source_extra='encoding = "cp1252"'))
    assert batch.organisations[0].name == "Université de Lyon"


def test_an_empty_file_is_bad_input_naming_the_line_and_the_id_column(tmp_path):
    err = bad_input(write_table(tmp_path, b""), write_mapping(tmp_path))
    assert (err.file, err.line, err.field) == ("table.csv", 1, "pic")
    assert "empty" in err.message


def test_a_header_without_rows_is_bad_input(tmp_path):
    err = bad_input(write_table(tmp_path, f"{HEADER}\n\n"), write_mapping(tmp_path))
    assert (err.file, err.line) == ("table.csv", 2)


def test_a_row_without_an_organisation_id_names_its_line_and_field(tmp_path):
    table = write_table(tmp_path, f"{HEADER}\n1,10,A,PRC,participant,2020-01-01,5\n2, ,B,HES,coordinator,,\n")
    err = bad_input(table, write_mapping(tmp_path))
    assert (err.file, err.line, err.field) == ("table.csv", 3, "pic")


def test_a_row_without_a_project_id_names_its_line_and_field(tmp_path):
    table = write_table(tmp_path, f"{HEADER}\n1,10,A,PRC,participant,2020-01-01,5\n,11,B,HES,coordinator,,\n")
    err = bad_input(table, write_mapping(tmp_path))
    assert (err.file, err.line, err.field) == ("table.csv", 3, "rcn")


def test_a_non_numeric_amount_names_its_line_and_field(tmp_path):
    table = write_table(tmp_path, f"{HEADER}\n1,10,A,PRC,participant,2020-01-01,5\n"
                                  "2,11,B,HES,coordinator,2020-01-01,12 EUR\n")
    err = bad_input(table, write_mapping(tmp_path))
    assert (err.file, err.line, err.field) == ("table.csv", 3, "amount")
    assert "12 EUR" in err.message


def test_a_bad_date_names_its_line_and_field(tmp_path):
    table = write_table(tmp_path, f"{HEADER}\n1,10,A,PRC,participant,2020-01-01,5\n"
                                  "1,11,B,HES,participant,01/02/2020,5\n")
    err = bad_input(table, write_mapping(tmp_path))
    assert (err.file, err.line, err.field) == ("table.csv", 3, "start")


def test_a_row_with_a_missing_cell_names_its_line(tmp_path):
    table = write_table(tmp_path, f"{HEADER}\n1,10,A,PRC,participant,2020-01-01,5\n2,11,B,HES,coordinator,2020-01-01\n")
    err = bad_input(table, write_mapping(tmp_path))
    assert (err.file, err.line) == ("table.csv", 3)
    assert "6 fields" in err.message and "7" in err.message


def test_bad_rows_are_skipped_and_counted_when_the_mapping_says_so(tmp_path):
    table = write_table(tmp_path, f"{HEADER}\n1,10,A,PRC,participant,2020-01-01,5\n2,11,B,HES,coordinator,,x\n"
                                  "3,12,C,HES,coordinator,,y\n4,,D,PRC,participant,,\n5,13,E,PRC,participant,,1\n")
    batch = read_table(table, write_mapping(tmp_path, source_extra='on_bad_row = "skip"'))
    assert [o.id for o in batch.organisations] == ["10", "13"]
    assert len(batch.participations) == 2
    assert any("2 rows skipped" in w and "'amount'" in w and "line 3" in w for w in batch.warnings)
    assert any("1 row skipped" in w and "'pic'" in w and "line 5" in w for w in batch.warnings)


def test_blank_lines_are_skipped(tmp_path):
    table = write_table(tmp_path, f"{HEADER}\n\n1,10,A,PRC,participant,2020-01-01,5\n,,,,,,\n\n")
    batch = read_table(table, write_mapping(tmp_path))
    assert len(batch.organisations) == 1 and batch.warnings == []


# -- the mapping ------------------------------------------------------------------------------------

def test_an_unknown_mapping_key_is_named_with_the_mapping_file_and_its_line(tmp_path):
    mapping = write_mapping(tmp_path, '[source]\nname = "x"\nlicence = "y"\n\n'
                                      '[organisation]\nid = "pic"\nnmae = "name"\n')
    err = bad_input(write_table(tmp_path, f"{HEADER}\n"), mapping)
    assert (err.file, err.line, err.field) == ("mapping.toml", 7, "organisation.nmae")
    assert "did you mean 'name'" in err.message


def test_an_unknown_table_in_the_mapping_is_named(tmp_path):
    mapping = write_mapping(tmp_path, '[source]\nname = "x"\nlicence = "y"\n[organisation]\nid = "pic"\n'
                                      '[projects]\nid = "rcn"\n')
    err = bad_input(write_table(tmp_path, f"{HEADER}\n"), mapping)
    assert err.file == "mapping.toml" and err.field == "projects" and "[project]" in err.message


def test_a_mapping_without_a_licence_is_refused(tmp_path):
    mapping = write_mapping(tmp_path, '[source]\nname = "x"\n[organisation]\nid = "pic"\n')
    err = bad_input(write_table(tmp_path, f"{HEADER}\n"), mapping)
    assert err.file == "mapping.toml" and err.field == "source.licence"


def test_a_mapping_that_is_not_toml_names_its_line(tmp_path):
    mapping = write_mapping(tmp_path, '[source]\nname = "x"\nlicence = "y"\n[organisation]\nid = pic\n')
    err = bad_input(write_table(tmp_path, f"{HEADER}\n"), mapping)
    assert (err.file, err.line) == ("mapping.toml", 5)


def test_a_mapped_column_missing_from_the_header_is_named_with_the_columns_there(tmp_path):
    mapping = write_mapping(tmp_path, PARTICIPATION_MAPPING.format(source_extra="", helix_extra="")
                            .replace('name = "name"', 'name = "legal_name"'))
    err = bad_input(write_table(tmp_path, f"{HEADER}\n1,10,A,PRC,participant,2020-01-01,5\n"), mapping)
    assert (err.file, err.line, err.field) == ("table.csv", 1, "legal_name")
    assert "organisation.name" in err.message and "mapping.toml" in err.message
    assert all(f"'{c}'" in err.message for c in HEADER.split(","))


@pytest.mark.parametrize("key", ["contact_email", "phone", "contact_person", "email"])
def test_fields_for_personal_data_are_refused(tmp_path, key):
    mapping = write_mapping(tmp_path, f'[source]\nname = "x"\nlicence = "y"\n[organisation]\nid = "pic"\n{key} = "c"\n')
    err = bad_input(write_table(tmp_path, f"{HEADER}\n"), mapping)
    assert err.file == "mapping.toml" and err.field == f"organisation.{key}"
    assert "personal data" in err.message


def test_the_example_mapping_for_the_full_table_loads():
    mapping = load_mapping(EXAMPLE_MAPPING)
    assert mapping.source.name == "cordis-h2020-participations"
    assert mapping.source.licence == "CC BY 4.0 (© European Union, CORDIS)"
    assert mapping.organisation.id.column == "pic" and mapping.organisation.id_template is None
    assert mapping.project is not None and mapping.project.id.column == "rcn"
    assert mapping.organisation.helix is not None and mapping.organisation.helix.codes == "cordis"


def test_the_worked_examples_in_the_docs_read_their_tables(tmp_path):
    text = DOCS.read_text(encoding="utf-8")
    tables = re.findall(r"```csv\n(.*?)```", text, flags=re.DOTALL)
    mappings = re.findall(r"```toml\n(.*?)```", text, flags=re.DOTALL)
    assert len(tables) == len(mappings) == 2
    participations = read_table(write_table(tmp_path, tables[0], name="h2020.csv"),
                                write_mapping(tmp_path, mappings[0], name="h2020.toml"))
    assert (len(participations.organisations), len(participations.projects),
            len(participations.participations)) == (7, 2, 7)
    namibian = next(o for o in participations.organisations if o.id == "915949564")
    assert namibian.country == "NA"
    register = read_table(write_table(tmp_path, tables[1], name="register.csv"),
                          write_mapping(tmp_path, mappings[1], name="register.toml"))
    assert len(register.organisations) == 5 and register.projects == register.participations == []
    darmstadt = register.organisations[0]
    assert darmstadt.name == "TECHNISCHE UNIVERSITAT DARMSTADT"
    assert darmstadt.names == ["Technische Universität Darmstadt"]
    assert darmstadt.short_name == "TU Darmstadt" and len(darmstadt.sources) == 1
    assert {o.id: o.helix.value.value for o in register.organisations} == {
        "999986581": "academia", "999627875": "academia", "984295764": "government",
        "997401434": "civil_society", "972830073": "industry"}


# -- helices, registers, duplicates -----------------------------------------------------------------

REGISTER_MAPPING = """
[source]
name = "regional-register"
licence = "CC BY 4.0"

[organisation]
id = "org_id"
id_template = "reg:{value}"
name = "org_name"
country = { value = "fi" }
coordinates = "latlon"

[organisation.identifiers]
vat = "business_id"

[organisation.helix]
column = "category"
values = { University = "academia", Company = "industry", Municipality = "government", Association = "civil_society" }
confidence = 0.7
"""


def test_a_value_map_sends_types_to_helices(tmp_path):
    table = write_table(tmp_path, "org_id\torg_name\tcategory\tbusiness_id\tlatlon\n"
                                  "1\tAalto University\tuniversity\t2228357-4\t60.18,24.83\n"
                                  "2\tKone\tCompany\t\t\n3\tCity of Espoo\tMunicipality\t\t\n"
                                  "4\tMLL\tAssociation\t\t\n", name="register.tsv")
    batch = read_table(table, write_mapping(tmp_path, REGISTER_MAPPING))
    helices = {o.id: o.helix for o in batch.organisations}
    assert {k: v.value for k, v in helices.items()} == {
        "reg:1": Helix.ACADEMIA, "reg:2": Helix.INDUSTRY, "reg:3": Helix.GOVERNMENT, "reg:4": Helix.CIVIL_SOCIETY}
    evidence = helices["reg:1"].evidence[0]
    assert (evidence.source, evidence.field, evidence.value, evidence.confidence) == (
        "regional-register", "category", "university", 0.7)


def test_a_register_mapping_without_projects_gives_organisations_only(tmp_path):
    table = write_table(tmp_path, "org_id;org_name;category;business_id;latlon\n"
                                  "1;Aalto University;University;2228357-4;60.18,24.83\n"
                                  "2;Kone;Company;;\n")
    batch = read_table(table, write_mapping(tmp_path, REGISTER_MAPPING))
    assert [o.id for o in batch.organisations] == ["reg:1", "reg:2"]
    assert batch.projects == [] and batch.participations == []
    aalto = batch.organisations[0]
    assert aalto.country == "FI" and aalto.location.country == "FI"
    assert (aalto.location.lat, aalto.location.lon) == (60.18, 24.83)
    assert aalto.identifiers == {"vat": "2228357-4"}


def test_a_fixed_helix_applies_to_every_organisation(tmp_path):
    mapping = write_mapping(tmp_path, '[source]\nname = "municipalities"\nlicence = "CC0"\n'
                                      '[organisation]\nid = "code"\nname = "name"\nhelix = "government"\n')
    batch = read_table(write_table(tmp_path, "code,name\n091,Helsinki\n049,Espoo\n"), mapping)
    assert [o.id for o in batch.organisations] == ["091", "049"]
    assert all(o.helix.value is Helix.GOVERNMENT for o in batch.organisations)


def test_a_mapping_without_a_helix_leaves_the_helix_unknown(tmp_path):
    mapping = write_mapping(tmp_path, '[source]\nname = "x"\nlicence = "y"\n[organisation]\nid = "code"\n'
                                      'name = "name"\nsme = "sme"\n')
    batch = read_table(write_table(tmp_path, "code,name,sme\n1,A,yes\n1,A,no\n2,B,\n"), mapping)
    assert [(o.id, o.helix.value, o.helix.evidence, o.sme) for o in batch.organisations] == [
        ("1", Helix.UNKNOWN, [], True), ("2", Helix.UNKNOWN, [], None)]


def test_unknown_type_codes_become_one_counted_warning(tmp_path):
    table = write_table(tmp_path, f"{HEADER}\n1,10,A,XYZ,participant,,\n1,11,B,XYZ,participant,,\n"
                                  "1,12,C,PRC,participant,,\n1,13,D,,participant,,\n")
    batch = read_table(table, write_mapping(tmp_path))
    assert len(batch.organisations) == 4
    assert {o.id: o.helix.value for o in batch.organisations}["10"] is Helix.UNKNOWN
    unknown = [w for w in batch.warnings if "unknown value" in w]
    assert len(unknown) == 1 and "2 rows" in unknown[0] and "'XYZ'" in unknown[0] and "line 2" in unknown[0]
    assert any("1 row with no value in column 'type'" in w for w in batch.warnings)


def test_unknown_type_codes_can_skip_the_row_or_stop_the_import(tmp_path):
    content = f"{HEADER}\n1,10,A,XYZ,participant,,\n1,12,C,PRC,participant,,\n"
    skipped = read_table(write_table(tmp_path, content), write_mapping(tmp_path, helix_extra='unknown = "skip"'))
    assert [o.id for o in skipped.organisations] == ["12"]
    assert any("1 row skipped" in w and "'XYZ'" in w for w in skipped.warnings)
    err = bad_input(write_table(tmp_path, content), write_mapping(tmp_path, helix_extra='unknown = "error"'))
    assert (err.file, err.line, err.field) == ("table.csv", 2, "type")


def test_duplicate_rows_collapse_into_one_organisation_one_project_and_one_participation(tmp_path):
    table = write_table(tmp_path, f"{HEADER}\n"
                                  "1,10,,PRC,thirdParty,,100\n"
                                  "1,10,ACME OY,PRC,participant,2020-01-01,\"1 234,50\"\n"
                                  "1,10,Acme Oy,PRC,coordinator,2020-01-01,5\n"
                                  "1,11,Beta,HES,participant,2020-01-01,\n"
                                  "2,10,ACME OY,PRC,participant,2021-06-01,7\n")
    batch = read_table(table, write_mapping(tmp_path))
    assert [o.id for o in batch.organisations] == ["10", "11"]
    acme = batch.organisations[0]
    assert acme.name == "ACME OY" and acme.names == ["Acme Oy"] and len(acme.sources) == 1
    assert [p.id for p in batch.projects] == ["1", "2"]
    assert batch.projects[0].start_date.isoformat() == "2020-01-01" and batch.projects[0].start_year == 2020
    parts = {(p.project_id, p.organisation_id): p for p in batch.participations}
    assert len(parts) == 3
    merged = parts[("1", "10")]
    assert merged.role == "coordinator" and merged.ec_contribution == pytest.approx(100 + 1234.5 + 5)
    assert parts[("1", "11")].ec_contribution is None
    assert any("2 rows repeating a (project, organisation) pair" in w for w in batch.warnings)


def test_a_semicolon_table_with_a_bom_is_detected(tmp_path):
    content = "\ufeff" + f"{HEADER.replace(',', ';')}\n1;10;Å;PRC;participant;2020-01-01;1,5\n"
    batch = read_table(write_table(tmp_path, content), write_mapping(tmp_path))
    assert batch.organisations[0].name == "Å" and batch.participations[0].ec_contribution == 1.5


def test_a_gzipped_tsv_is_read_whatever_its_name(tmp_path):
    content = f"{HEADER.replace(',', chr(9))}\n1\t10\tA\tHES\tparticipant\t2020-01-01\t2\n"
    table = write_table(tmp_path, gzip.compress(content.encode()), name="export.tsv")
    batch = read_table(table, write_mapping(tmp_path))
    assert [o.id for o in batch.organisations] == ["10"]
    assert batch.organisations[0].sources[0].file == "export.tsv"


def test_lines_before_the_header_can_be_skipped_and_lines_still_count_from_the_top(tmp_path):
    table = write_table(tmp_path, f"Export of 2024-01-01\n\n{HEADER}\n1,10,A,PRC,participant,2020-01-01,x\n")
    err = bad_input(table, write_mapping(tmp_path, source_extra="skip_lines = 2"))
    assert (err.line, err.field) == (4, "amount")


def test_years_come_from_dates_when_absent_and_na_is_no_value(tmp_path):
    extra = 'start_date = "start"\nend_date = "end"\nend_year = "end_year"'
    mapping = write_mapping(tmp_path, PARTICIPATION_MAPPING.format(source_extra="", helix_extra="")
                            .replace('start_date = "start"', extra))
    table = write_table(tmp_path, f"{HEADER},end,end_year\n"
                                  "1,10,A,PRC,participant,2019-05-01T00:00:00,NA,2022-04-30,NA\n"
                                  "2,10,A,PRC,participant,NA,5,NA,2023\n")
    first, second = read_table(table, mapping).projects
    assert (first.start_year, first.end_date.isoformat(), first.end_year) == (2019, "2022-04-30", 2022)
    assert (second.start_date, second.start_year, second.end_year) == (None, None, 2023)


def test_progress_reports_the_rows_read(tmp_path):
    rows = "".join(f"{i},{i},N{i},PRC,participant,,\n" for i in range(20_000))
    seen: list[int] = []
    read_table(write_table(tmp_path, f"{HEADER}\n{rows}"), write_mapping(tmp_path), progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 20_000 and len(seen) > 1


@pytest.mark.parametrize("text, value", [
    ("1234.5", 1234.5), ("1234,5", 1234.5), ("1 234,50", 1234.5), ("1\u00a0234,50", 1234.5),
    ("1.234,50", 1234.5), ("1,234.50", 1234.5), ("1.234.567", 1234567.0), ("-12", -12.0), ("317625", 317625.0),
])
def test_numbers_are_read_in_their_usual_european_spellings(text, value):
    assert parse_number(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["12 EUR", "n.a.", "1_000", "inf", "1,2,3.4,5", "--1"])
def test_anything_else_is_not_a_number(text):
    with pytest.raises(ValueError):
        parse_number(text)


# -- categories (tags), several a cell, and placeholders ----------------------------------------------------------

CATEGORY_MAPPING = """
[source]
name = "participation-register"
licence = "NLOD 2.0"

[organisation]
id = "orgnr"
id_template = "no:{value}"
name = "name"
short_name = "short"
country = { value = "NO" }
category = %s

[organisation.identifiers]
orgnr = "orgnr"
"""


def test_a_separator_splits_a_multi_value_category_cell(tmp_path):
    mapping = write_mapping(tmp_path, CATEGORY_MAPPING % '{ column = "groups", separator = "\\n" }')
    rows = [["orgnr", "name", "short", "groups"],
            ["971277882", "Norges Handikapforbund", "NHF", "Disabled people\nPatients\r\nDisabled people"],
            ["864139442", "Norges Røde Kors", "Ukjent", "Refugees"],
            ["971035854", "Oslo kommune", "-", "ukjent"]]
    path = tmp_path / "register.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    orgs = {o.id: o for o in read_table(path, mapping).organisations}
    assert orgs["no:971277882"].tags == ["Disabled people", "Patients"]
    assert orgs["no:864139442"].tags == ["Refugees"]
    assert orgs["no:971035854"].tags == []  # a placeholder is no category
    # placeholders are never short names
    assert orgs["no:971277882"].short_name == "NHF"
    assert orgs["no:864139442"].short_name is None and orgs["no:971035854"].short_name is None


def test_without_a_separator_a_category_cell_is_one_tag(tmp_path):
    mapping = write_mapping(tmp_path, CATEGORY_MAPPING % '"groups"')
    path = write_table(tmp_path, 'orgnr,name,short,groups\n971277882,NHF,NHF,"Disabled people; Patients"\n')
    assert read_table(path, mapping).organisations[0].tags == ["Disabled people; Patients"]


def test_a_placeholder_identifier_is_no_identifier(tmp_path):
    mapping = write_mapping(tmp_path, CATEGORY_MAPPING.replace('orgnr = "orgnr"', 'orgnr = "orgnr"\nvat = "vat"')
                            % '"groups"')
    path = write_table(tmp_path, "orgnr,name,short,groups,vat\n971277882,NHF,NHF,Patients,N/A\n"
                                 "864139442,Røde Kors,RK,Refugees,NO864139442MVA\n")
    orgs = {o.id: o for o in read_table(path, mapping).organisations}
    assert orgs["no:971277882"].identifiers == {"orgnr": "971277882"}
    assert orgs["no:864139442"].identifiers["vat"] == "NO864139442MVA"


@pytest.mark.parametrize("spec,message", [
    ('{ column = "groups", separator = "" }', "non-empty"),
    ('{ column = "groups", separator = 3 }', "non-empty"),
    ('{ value = "x", separator = ";" }', "takes"),
])
def test_a_bad_separator_is_a_clear_error(tmp_path, spec, message):
    with pytest.raises(BadInputError, match=message):
        load_mapping(write_mapping(tmp_path, CATEGORY_MAPPING % spec))


def test_a_separator_is_for_categories_only(tmp_path):
    text = CATEGORY_MAPPING.replace('name = "name"', 'name = { column = "name", separator = ";" }') % '"groups"'
    with pytest.raises(BadInputError, match="'separator' is for organisation.category only"):
        load_mapping(write_mapping(tmp_path, text))
