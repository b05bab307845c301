"""Column mappings for `helixmap import table`: a TOML file saying which column feeds which field.

The format is documented in `docs/mapping.md`. Loading a mapping checks everything that can be checked
without the table: required keys, unknown keys (a typo is an error, not a silently ignored column),
value types, helix names, constants. There are no target fields for people (contact persons, e-mails,
phones): a key asking for one is refused with a message that says why.
"""

from __future__ import annotations

import codecs
import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecosystem.domain.errors import BadInputError
from ecosystem.domain.models import Helix
from importers.cells import (
    BOOL,
    COORDINATES,
    COUNTRY,
    DATE,
    LAT,
    LIST,
    LON,
    NUMBER,
    TEXT,
    YEAR,
    convert,
)

SOURCE_KEYS = ("name", "licence", "url", "delimiter", "encoding", "quote", "skip_lines", "null_values",
               "decimal", "on_bad_row", "sheet")

ORGANISATION_FIELDS: dict[str, str] = {
    "name": TEXT, "short_name": TEXT, "country": COUNTRY, "city": TEXT, "postcode": TEXT, "street": TEXT,
    "lat": LAT, "lon": LON, "coordinates": COORDINATES, "nuts_code": TEXT, "municipality_code": TEXT, "url": TEXT,
    "sme": BOOL, "category": TEXT,
}
# fields whose cells may hold several values, split with a `separator` ("category": a register's categories)
SPLITTABLE = frozenset({"organisation.category"})
ORGANISATION_KEYS = ("id", "id_template", *ORGANISATION_FIELDS, "identifiers", "helix")

HELIX_KEYS = ("column", "codes", "values", "fixed", "confidence", "unknown")
HELIX_CODE_SETS = ("cordis",)
UNKNOWN_POLICIES = ("warn", "skip", "error")

PROJECT_FIELDS: dict[str, str] = {
    "acronym": TEXT, "title": TEXT, "objective": TEXT, "programme": TEXT, "programme_part": TEXT,
    "funding_scheme": TEXT, "start_date": DATE, "end_date": DATE, "start_year": YEAR, "end_year": YEAR,
    "topics": LIST, "topic_titles": LIST, "ec_max_contribution": NUMBER, "total_cost": NUMBER,
}
PROJECT_KEYS = ("id", "id_template", *PROJECT_FIELDS, "list_separator", "date_format")

PARTICIPATION_FIELDS: dict[str, str] = {"role": TEXT, "ec_contribution": NUMBER}

SECTIONS = ("source", "organisation", "project", "participation")

# Values that mean "no value" in typed columns (numbers, dates, years, coordinates, booleans) on top of
# [source] null_values. Text columns only use null_values (default: the empty string), because `NA` is
# also a country code (Namibia) and could be an id.
TYPED_NULLS = frozenset({"", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "None", "none"})

# Words in a key that ask for data about people. helixmap has no field for them, on purpose.
_PERSONAL = ("contact", "email", "e_mail", "e-mail", "mail", "phone", "telephone", "mobile", "fax", "person",
             "first_name", "firstname", "last_name", "lastname", "surname", "family_name", "given_name",
             "birth", "gender", "salutation")

_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|", "space": " "}


@dataclass(frozen=True)
class FieldSpec:
    """Where a target field's value comes from: a column of the table, or a constant for every row."""

    key: str  # the mapping key, e.g. "organisation.country"
    kind: str
    column: str | None = None
    value: Any = None  # a constant, already converted to the field's type
    separator: str | None = None  # a multi-value cell ("category"): split on this ("\n" for one value a line)


@dataclass(frozen=True)
class HelixSpec:
    column: str | None = None
    codes: str | None = None  # "cordis": CORDIS activity types through ecosystem.domain.helix
    values: dict[str, Helix] = field(default_factory=dict)  # upper-cased raw value -> helix
    fixed: Helix | None = None
    confidence: float = 0.8
    unknown: str = "warn"


@dataclass(frozen=True)
class SourceSpec:
    name: str
    licence: str
    url: str | None = None
    delimiter: str | None = None  # None: detected from the header line
    encoding: str = "utf-8-sig"
    quote: str = '"'
    skip_lines: int = 0
    null_values: frozenset[str] = frozenset({""})
    decimal: str = "auto"  # "auto", "." or ","
    on_bad_row: str = "error"  # "error" or "skip"
    sheet: str | int | None = None  # XLSX: the sheet's name or 1-based position (default: the first)


@dataclass(frozen=True)
class EntitySpec:
    """An organisation or a project: its id column, an optional id template, and its fields."""

    id: FieldSpec
    id_template: str | None = None
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    identifiers: dict[str, FieldSpec] = field(default_factory=dict)
    helix: HelixSpec | None = None
    list_separator: str = ";"
    date_format: str | None = None  # strptime format; None: ISO 8601 (YYYY-MM-DD, timestamps too)


@dataclass(frozen=True)
class TableMapping:
    path: Path
    source: SourceSpec
    organisation: EntitySpec | None  # None: a table of projects only (no [organisation], no [participation])
    project: EntitySpec | None = None
    participation: dict[str, FieldSpec] = field(default_factory=dict)

    @property
    def file(self) -> str:
        return self.path.name

    @property
    def id_column(self) -> str:
        """The column of the table's main id: the organisation's, or the project's in a table of projects."""
        entity = self.organisation or self.project
        return (entity.id.column or "") if entity is not None else ""

    def column_specs(self) -> list[FieldSpec]:
        """Every field fed by a column, in mapping order (the id columns first)."""
        out: list[FieldSpec] = []
        if self.organisation is not None:
            out += [self.organisation.id]
            out += [s for s in self.organisation.fields.values() if s.column]
            out += [s for s in self.organisation.identifiers.values() if s.column]
            helix = self.organisation.helix
            if helix is not None and helix.column:
                out.append(FieldSpec("organisation.helix.column", TEXT, column=helix.column))
        if self.project is not None:
            out.append(self.project.id)
            out += [s for s in self.project.fields.values() if s.column]
        out += [s for s in self.participation.values() if s.column]
        return out


class _Loader:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.name = path.name
        self.lines = text.splitlines()

    # -- errors ------------------------------------------------------------------------------
    def key_line(self, section: str, key: str | None = None) -> int | None:
        """Best effort: the line of `key` in `[section]` (or of the section header)."""
        current = ""
        header_line = None
        key_re = re.compile(rf"""^\s*["']?{re.escape(key)}["']?\s*=""") if key else None
        inline_re = re.compile(rf"""[{{,]\s*["']?{re.escape(key)}["']?\s*=""") if key else None
        parent, _, leaf = section.rpartition(".")
        for number, line in enumerate(self.lines, start=1):
            m = re.match(r"^\s*\[\s*([^\]]+?)\s*\]", line)
            if m:
                current = m.group(1).replace(" ", "")
                if current == section:
                    header_line = number
                continue
            if key_re is None or inline_re is None:
                continue
            if current == section and key_re.match(line):
                return number
            # an inline table: helix = { column = "type", ... } inside [organisation]
            if parent and current == parent and re.match(rf"^\s*{re.escape(leaf)}\s*=", line) \
                    and inline_re.search(line):
                return number
        return header_line

    def fail(self, message: str, section: str, key: str | None = None) -> BadInputError:
        dotted = f"{section}.{key}" if key else section
        return BadInputError(message, file=self.name, line=self.key_line(section, key), field=dotted)

    def check_keys(self, table: dict[str, Any], section: str, allowed: tuple[str, ...]) -> None:
        for key in table:
            if key in allowed:
                continue
            lowered = key.lower()
            if any(word in lowered for word in _PERSONAL):
                raise self.fail(
                    f"'{key}' in [{section}] asks for data about people; helixmap stores no personal data "
                    "(no contact persons, e-mails or phones), so there is no such field", section, key)
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise self.fail(f"unknown key '{key}' in [{section}]{hint}; allowed keys: {', '.join(allowed)}",
                            section, key)

    # -- values ------------------------------------------------------------------------------
    def string(self, table: dict[str, Any], section: str, key: str, *, required: bool = False) -> str | None:
        value = table.get(key)
        if value is None:
            if required:
                raise self.fail(f"[{section}] needs '{key}'", section, key)
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"'{key}' in [{section}] must be a non-empty string", section, key)
        return value.strip()

    def id_spec(self, table: dict[str, Any], section: str) -> FieldSpec:
        """The id of an entity: always from a column, and required."""
        spec = self.field_spec(table, section, "id", TEXT, column_only=True)
        if spec is None:
            raise self.fail(f"[{section}] needs 'id' (the column that holds the {section} id)", section, "id")
        return spec

    def field_spec(self, table: dict[str, Any], section: str, key: str, kind: str, *,
                   column_only: bool = False) -> FieldSpec | None:
        """`key = "column"`, `key = { column = "column" }` or `key = { value = "constant" }`; None: not mapped."""
        raw = table.get(key)
        dotted = f"{section}.{key}"
        if raw is None:
            return None
        if isinstance(raw, str):
            if not raw.strip():
                raise self.fail(f"'{key}' in [{section}] names no column", section, key)
            return FieldSpec(dotted, kind, column=raw.strip())
        if isinstance(raw, dict) and "separator" in raw:
            return self.split_spec(raw, section, key, dotted)
        if isinstance(raw, dict):
            extra = set(raw) - {"column", "value"}
            if extra or len(raw) != 1:
                raise self.fail(f"'{key}' in [{section}] takes either {{ column = \"...\" }} or "
                                f"{{ value = ... }}, found keys {sorted(raw)}", section, key)
            if "column" in raw:
                column = raw["column"]
                if not isinstance(column, str) or not column.strip():
                    raise self.fail(f"'{key}.column' in [{section}] must be a column name", section, key)
                return FieldSpec(dotted, kind, column=column.strip())
            if column_only:
                raise self.fail(f"'{key}' in [{section}] must come from a column, not a constant", section, key)
            return FieldSpec(dotted, kind, value=self.constant(raw["value"], section, key, kind))
        raise self.fail(f"'{key}' in [{section}] must be a column name (a string) or an inline table",
                        section, key)

    def split_spec(self, raw: dict[str, Any], section: str, key: str, dotted: str) -> FieldSpec:
        """`key = { column = "...", separator = "\n" }`: a multi-value cell, for the fields in `SPLITTABLE`."""
        if dotted not in SPLITTABLE:
            raise self.fail(f"'separator' is for {', '.join(sorted(SPLITTABLE))} only, not '{key}' in [{section}]",
                            section, key)
        if set(raw) != {"column", "separator"}:
            raise self.fail(f"'{key}' in [{section}] with a separator takes {{ column = \"...\", separator = "
                            f"\"...\" }}, found keys {sorted(raw)}", section, key)
        column, separator = raw["column"], raw["separator"]
        if not isinstance(column, str) or not column.strip():
            raise self.fail(f"'{key}.column' in [{section}] must be a column name", section, key)
        if not isinstance(separator, str) or not separator:
            raise self.fail(f"'{key}.separator' in [{section}] must be a non-empty string (\"\\n\" for one value "
                            "a line)", section, key)
        return FieldSpec(dotted, LIST, column=column.strip(), separator=separator)

    def constant(self, value: Any, section: str, key: str, kind: str) -> Any:

        if isinstance(value, bool):
            value = "true" if value else "false"
        if isinstance(value, list) and kind == LIST:
            return tuple(str(v).strip() for v in value if str(v).strip())
        if not isinstance(value, (str, int, float)):
            raise self.fail(f"the constant for '{key}' in [{section}] must be a string or a number",
                            section, key)
        try:
            return convert(kind, str(value).strip(), decimal="auto", date_format=None, separator=";")
        except ValueError as exc:
            raise self.fail(f"the constant for '{key}' in [{section}]: {exc}", section, key) from None

    def template(self, table: dict[str, Any], section: str) -> str | None:
        tpl = self.string(table, section, "id_template")
        if tpl is None:
            return None
        if tpl.count("{value}") != 1 or re.search(r"\{(?!value\})", tpl):
            raise self.fail("'id_template' must contain '{value}' once and no other placeholder, "
                            "e.g. \"pic:{value}\"", section, "id_template")
        return tpl

    # -- sections ----------------------------------------------------------------------------
    def source(self, table: dict[str, Any]) -> SourceSpec:
        self.check_keys(table, "source", SOURCE_KEYS)
        name = self.string(table, "source", "name", required=True)
        licence = self.string(table, "source", "licence", required=True)
        url = self.string(table, "source", "url")
        delimiter = self.delimiter(table)
        codec = self.encoding(table)
        quote = table.get("quote", '"')
        if not isinstance(quote, str) or len(quote) != 1 or quote == delimiter:
            raise self.fail("'quote' must be one character, different from the delimiter", "source", "quote")
        skip = table.get("skip_lines", 0)
        if not isinstance(skip, int) or isinstance(skip, bool) or skip < 0:
            raise self.fail("'skip_lines' must be a whole number >= 0", "source", "skip_lines")
        nulls = table.get("null_values", [""])
        if not isinstance(nulls, list) or not all(isinstance(v, str) for v in nulls):
            raise self.fail("'null_values' must be a list of strings, e.g. [\"\", \"NA\"]", "source",
                            "null_values")
        decimal, on_bad_row, sheet = self.cell_options(table)
        return SourceSpec(sheet=sheet, name=name or "", licence=licence or "", url=url, delimiter=delimiter,
                          encoding=codec, quote=quote, skip_lines=skip,
                          null_values=frozenset(v.strip() for v in nulls) | {""}, decimal=decimal,
                          on_bad_row=on_bad_row)

    def delimiter(self, table: dict[str, Any]) -> str | None:
        """One character, or a name of one ("tab", "semicolon", ...); None: detected from the header."""
        delimiter = table.get("delimiter")
        if delimiter is None:
            return None
        if not isinstance(delimiter, str):
            raise self.fail("'delimiter' must be a string", "source", "delimiter")
        delimiter = _DELIMITER_NAMES.get(delimiter.lower(), delimiter)
        if len(delimiter) != 1 or delimiter in "\r\n\"'":
            raise self.fail("'delimiter' must be one character (or \"tab\", \"comma\", \"semicolon\", "
                            f"\"pipe\"), found {table['delimiter']!r}", "source", "delimiter")
        return delimiter

    def encoding(self, table: dict[str, Any]) -> str:
        """The codec's canonical name; UTF-8 skips a byte-order mark."""
        encoding = table.get("encoding", "utf-8")
        if not isinstance(encoding, str):
            raise self.fail("'encoding' must be a string", "source", "encoding")
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise self.fail(f"unknown encoding {encoding!r}", "source", "encoding") from None
        if codec == "utf-8":
            codec = "utf-8-sig"  # a byte-order mark is skipped, not read as part of the first column
        return codec

    def cell_options(self, table: dict[str, Any]) -> tuple[str, str, str | int | None]:
        """The decimal separator, what to do with a bad row, and the XLSX sheet."""
        decimal = table.get("decimal", "auto")
        if decimal not in ("auto", ".", ","):
            raise self.fail("'decimal' must be \"auto\", \".\" or \",\"", "source", "decimal")
        on_bad_row = table.get("on_bad_row", "error")
        if on_bad_row not in ("error", "skip"):
            raise self.fail("'on_bad_row' must be \"error\" or \"skip\"", "source", "on_bad_row")
        sheet = table.get("sheet")
        if sheet is not None and (isinstance(sheet, bool) or not isinstance(sheet, (str, int))
                                  or (isinstance(sheet, int) and sheet < 1)):
            raise self.fail("'sheet' must be a sheet name or its position (1 for the first)", "source", "sheet")
        return decimal, on_bad_row, sheet

    def helix(self, raw: Any) -> HelixSpec:
        section = "organisation.helix"
        if isinstance(raw, str):  # helix = "government": a fixed helix for the whole file
            raw = {"fixed": raw}
        if not isinstance(raw, dict):
            raise self.fail("'helix' must be a table ([organisation.helix]) or a helix name", "organisation",
                            "helix")
        self.check_keys(raw, section, HELIX_KEYS)
        confidence = raw.get("confidence", 0.8)
        if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) \
                or not 0.0 <= confidence <= 1.0:
            raise self.fail("'confidence' must be a number between 0 and 1", section, "confidence")
        unknown = raw.get("unknown", "warn")
        if unknown not in UNKNOWN_POLICIES:
            raise self.fail(f"'unknown' must be one of {', '.join(UNKNOWN_POLICIES)}", section, "unknown")
        if "fixed" in raw:
            if set(raw) & {"column", "codes", "values"}:
                raise self.fail("'fixed' gives every organisation the same helix; it cannot be combined with "
                                "'column', 'codes' or 'values'", section, "fixed")
            return HelixSpec(fixed=self.helix_name(raw["fixed"], section, "fixed"),
                             confidence=float(confidence), unknown=unknown)
        column = self.string(raw, section, "column", required=True)
        codes = raw.get("codes")
        values = raw.get("values")
        if (codes is None) == (values is None):
            raise self.fail("give either codes = \"cordis\" or a values = { RAW = \"helix\", ... } map",
                            section, None)
        if codes is not None:
            if codes not in HELIX_CODE_SETS:
                raise self.fail(f"'codes' must be one of {', '.join(HELIX_CODE_SETS)}", section, "codes")
            if "confidence" in raw:
                raise self.fail("'confidence' is set by the code list for codes = \"cordis\"; remove it",
                                section, "confidence")
            return HelixSpec(column=column, codes=codes, unknown=unknown)
        if not isinstance(values, dict) or not values:
            raise self.fail("'values' must map raw values to helices, e.g. { HES = \"academia\" }", section,
                            "values")
        mapped = {}
        for raw_value, helix in values.items():
            mapped[raw_value.strip().upper()] = self.helix_name(helix, section, "values")
        return HelixSpec(column=column, values=mapped, confidence=float(confidence), unknown=unknown)

    def helix_name(self, value: Any, section: str, key: str) -> Helix:
        names = [h.value for h in Helix]
        if isinstance(value, str) and value.strip().lower().replace("-", "_").replace(" ", "_") in names:
            return Helix(value.strip().lower().replace("-", "_").replace(" ", "_"))
        raise self.fail(f"{value!r} is not a helix; use one of {', '.join(names)}", section, key)

    def organisation(self, table: dict[str, Any]) -> EntitySpec:
        section = "organisation"
        self.check_keys(table, section, ORGANISATION_KEYS)
        id_spec = self.id_spec(table, section)
        fields = {}
        for key, kind in ORGANISATION_FIELDS.items():
            spec = self.field_spec(table, section, key, kind)
            if spec is not None:
                fields[key] = spec
        if "coordinates" in fields and ("lat" in fields or "lon" in fields):
            raise self.fail("map either 'coordinates' (one \"lat,lon\" column) or 'lat' and 'lon', not both",
                            section, "coordinates")
        if ("lat" in fields) != ("lon" in fields):
            raise self.fail("'lat' and 'lon' go together", section, "lat" if "lat" in fields else "lon")
        identifiers = {}
        raw_ids = table.get("identifiers", {})
        if not isinstance(raw_ids, dict):
            raise self.fail("'identifiers' must be a table: [organisation.identifiers] scheme = \"column\"",
                            section, "identifiers")
        for scheme in raw_ids:
            if any(word in scheme.lower() for word in _PERSONAL):
                raise self.fail(f"identifier '{scheme}' asks for data about people; helixmap stores no "
                                "personal data (no contact persons, e-mails or phones)",
                                "organisation.identifiers", scheme)
            spec = self.field_spec(raw_ids, "organisation.identifiers", scheme, TEXT)
            if spec is not None:
                identifiers[scheme] = spec
        helix = self.helix(table["helix"]) if "helix" in table else None
        return EntitySpec(id=id_spec, id_template=self.template(table, section), fields=fields,
                          identifiers=identifiers, helix=helix)

    def project(self, table: dict[str, Any]) -> EntitySpec:
        section = "project"
        self.check_keys(table, section, PROJECT_KEYS)
        id_spec = self.id_spec(table, section)
        separator = table.get("list_separator", ";")
        if not isinstance(separator, str) or not separator:
            raise self.fail("'list_separator' must be a non-empty string", section, "list_separator")
        date_format = self.string(table, section, "date_format")
        if date_format is not None and "%" not in date_format:
            raise self.fail("'date_format' is a strptime format such as \"%d/%m/%Y\"", section, "date_format")
        fields = {}
        for key, kind in PROJECT_FIELDS.items():
            spec = self.field_spec(table, section, key, kind)
            if spec is not None:
                fields[key] = spec
        return EntitySpec(id=id_spec, id_template=self.template(table, section), fields=fields,
                          list_separator=separator, date_format=date_format)

    def participation(self, table: dict[str, Any]) -> dict[str, FieldSpec]:
        section = "participation"
        self.check_keys(table, section, tuple(PARTICIPATION_FIELDS))
        out = {}
        for key, kind in PARTICIPATION_FIELDS.items():
            spec = self.field_spec(table, section, key, kind)
            if spec is not None:
                out[key] = spec
        return out


def _section(loader: _Loader, doc: dict[str, Any], name: str, *, required: bool) -> dict[str, Any] | None:
    table = doc.get(name)
    if table is None:
        if required:
            raise BadInputError(f"the mapping needs a [{name}] table", file=loader.name, field=name)
        return None
    if not isinstance(table, dict):
        raise loader.fail(f"'{name}' must be a table: [{name}]", name)
    return table


def load_mapping(path: Path) -> TableMapping:
    """Read and check a TOML mapping; every problem is a BadInputError naming the mapping file and key."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise BadInputError("the mapping file does not exist", file=str(path)) from None
    except OSError as exc:
        raise BadInputError(f"cannot read the mapping file ({exc})", file=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise BadInputError("the mapping file is not UTF-8 text (TOML is UTF-8)", file=path.name) from exc
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"at line (\d+)", str(exc))
        raise BadInputError(f"not valid TOML ({exc})", file=path.name,
                            line=int(m.group(1)) if m else None) from exc
    loader = _Loader(path, text)
    for key in doc:
        if key not in SECTIONS:
            if any(word in key.lower() for word in _PERSONAL):
                raise loader.fail(f"[{key}] asks for data about people; helixmap stores no personal data "
                                  "(no contact persons, e-mails or phones)", key)
            close = difflib.get_close_matches(key, SECTIONS, n=1)
            hint = f" (did you mean [{close[0]}]?)" if close else ""
            raise loader.fail(f"unknown key '{key}'{hint}; the mapping has the tables "
                              f"{', '.join(f'[{s}]' for s in SECTIONS)}", key)
    source = loader.source(_section(loader, doc, "source", required=True) or {})
    organisation, project, participation = _entities(loader, doc)
    return TableMapping(path=path, source=source, organisation=organisation, project=project,
                        participation=participation)


def _entities(loader: _Loader, doc: dict[str, Any]) -> tuple[EntitySpec | None, EntitySpec | None,
                                                              dict[str, FieldSpec]]:
    """[organisation], [project] and [participation]. Without [organisation], a table of projects only:
    [project] fills fields of projects (e.g. their programme parts), and there is no participation."""
    projects_only = "organisation" not in doc and "project" in doc
    org_table = _section(loader, doc, "organisation", required=not projects_only)
    organisation = loader.organisation(org_table) if org_table is not None else None
    project_table = _section(loader, doc, "project", required=False)
    project = loader.project(project_table) if project_table is not None else None
    part_table = _section(loader, doc, "participation", required=False)
    if part_table is not None and project is None:
        raise loader.fail("[participation] needs a [project] table (a participation is an organisation in "
                          "a project)", "participation")
    if part_table is not None and organisation is None:
        raise loader.fail("[participation] needs an [organisation] table (a participation is an organisation "
                          "in a project)", "participation")
    return organisation, project, loader.participation(part_table) if part_table is not None else {}
