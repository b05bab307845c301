"""A table mapping compiled against a table's header: the plan the row loop follows.

`importers.mapping` checks the TOML file and keeps its shape (a field comes from a column *or* is a
constant; a helix is fixed, read from a column, or absent). `compile_plan` resolves all of that once,
when the header is known: every column-fed field gets its column index, its bound converter and its null
values; constants, id templates and helix rules are settled. The frozen dataclasses here have no optional
parts, so the row loop never narrows a `None`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from operator import itemgetter
from types import MappingProxyType
from typing import Any

from ecosystem.domain.helix import evidence_from_activity_type
from ecosystem.domain.models import Evidence
from importers.cells import COUNTRY, LIST, NUMBER, TEXT, convert, parse_number
from importers.mapping import TYPED_NULLS, EntitySpec, FieldSpec, HelixSpec, TableMapping

Row = Sequence[str]
RowKey = Callable[[Row], object]  # the cells of a row that feed one entity, comparable with ==


class RowError(Exception):
    """A bad cell or row: becomes a BadInputError, or a counted warning when rows may be skipped."""

    def __init__(self, message: str, field: str | None = None, kind: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.kind = kind or message


@dataclass(frozen=True, slots=True)
class TextColumn:
    """A text field read from a column as it is (stripped)."""

    attr: str
    index: int
    nulls: frozenset[str]


@dataclass(frozen=True, slots=True)
class TypedColumn:
    """A field read from a column through a converter; a ValueError names `column`."""

    attr: str
    index: int
    column: str
    nulls: frozenset[str]
    convert: Callable[[str], Any]


@dataclass(frozen=True, slots=True)
class IdColumn:
    """The column of an entity's id and its template, split around `{value}` ("" and "" without one)."""

    index: int
    column: str
    key: str  # the mapping key, e.g. "organisation.id"
    prefix: str
    suffix: str


@dataclass(frozen=True, slots=True)
class EntityPlan:
    """An organisation or a project: its id, the fields read from columns, and the constant fields."""

    id: IdColumn
    texts: tuple[TextColumn, ...]
    typed: tuple[TypedColumn, ...]
    constants: Mapping[str, Any]
    key: RowKey  # the cells of every column-fed field (and the helix column), to spot unchanged rows


@dataclass(frozen=True, slots=True)
class HelixColumn:
    """A helix read from a column: raw value -> evidence (none: an unknown value)."""

    index: int
    column: str
    unknown: str  # "warn", "skip" or "error"
    known: str  # the known raw values, for the error message
    evidence: Callable[[str], list[Evidence]]  # a stripped, non-null cell


@dataclass(frozen=True, slots=True)
class OrganisationPlan:
    entity: EntityPlan
    helix_column: HelixColumn | None  # narrowed once, when the row reader is built
    fixed_evidence: tuple[Evidence, ...]  # a helix for every organisation of the file (or none)
    tracks_names: bool  # the name comes from a column: other spellings are kept


@dataclass(frozen=True, slots=True)
class ProjectPlan:
    entity: EntityPlan
    role: Callable[[Row], str | None]
    amount: Callable[[Row], float | None]


@dataclass(frozen=True, slots=True)
class TablePlan:
    columns: int
    text_nulls: frozenset[str]
    skip_bad_rows: bool
    source: str
    licence: str
    organisation: OrganisationPlan | None  # None: a table of projects only
    project: ProjectPlan | None  # narrowed once, when the row reader is built


def compile_plan(mapping: TableMapping, header: list[str]) -> TablePlan:
    """The mapping resolved against `header` (which holds every mapped column: `_header` checked it)."""
    src = mapping.source
    organisation = _organisation_plan(mapping, header) if mapping.organisation is not None else None
    project = _project_plan(mapping, mapping.project, header) if mapping.project is not None else None
    return TablePlan(columns=len(header), text_nulls=src.null_values, skip_bad_rows=src.on_bad_row == "skip",
                     source=src.name, licence=src.licence, organisation=organisation, project=project)


# -- entities ---------------------------------------------------------------------------------------

def _converter(kind: str, mapping: TableMapping, entity: EntitySpec) -> Callable[[str], Any]:
    """The converter for one non-text field, bound to the mapping's decimal, date and list separators."""
    decimal = mapping.source.decimal
    if kind == NUMBER:
        return partial(parse_number, decimal=decimal)
    return partial(convert, kind, decimal=decimal, date_format=entity.date_format, separator=entity.list_separator)


def _id_column(spec: FieldSpec, template: str | None, header: list[str]) -> IdColumn:
    prefix, _, suffix = (template or "{value}").partition("{value}")
    column = spec.column or ""  # the loader makes ids column-only
    return IdColumn(index=header.index(column), column=column, key=spec.key, prefix=prefix, suffix=suffix)


def _entity_plan(mapping: TableMapping, entity: EntitySpec, fields: dict[str, FieldSpec], header: list[str],
                 extra_key_columns: tuple[int, ...] = ()) -> EntityPlan:
    texts: list[TextColumn] = []
    typed: list[TypedColumn] = []
    constants: dict[str, Any] = {}
    nulls = mapping.source.null_values
    for attr, spec in fields.items():
        if spec.column is None:
            constants[attr] = spec.value
        elif spec.kind == TEXT:
            texts.append(TextColumn(attr, header.index(spec.column), nulls))
        else:
            convert_cell = (partial(convert, LIST, decimal=mapping.source.decimal, date_format=None,
                                    separator=spec.separator) if spec.separator else
                            _converter(spec.kind, mapping, entity))
            typed.append(TypedColumn(attr, header.index(spec.column), spec.column,
                                     nulls if spec.kind in (COUNTRY, LIST) else nulls | TYPED_NULLS, convert_cell))
    columns = sorted({c.index for c in texts} | {c.index for c in typed} | set(extra_key_columns))
    key: RowKey = itemgetter(*columns) if columns else _no_key
    return EntityPlan(id=_id_column(entity.id, entity.id_template, header), texts=tuple(texts),
                      typed=tuple(typed), constants=MappingProxyType(constants), key=key)


def _no_key(row: Row) -> None:
    return None


def _organisation_plan(mapping: TableMapping, header: list[str]) -> OrganisationPlan:
    spec = mapping.organisation
    assert spec is not None
    fields = dict(spec.fields)
    fields.update({f"identifier:{k}": v for k, v in spec.identifiers.items()})
    helix_column = _helix_column(spec.helix, mapping.source.name, header) if spec.helix is not None else None
    fixed: tuple[Evidence, ...] = ()
    if spec.helix is not None and spec.helix.fixed is not None:
        fixed = (Evidence(source=mapping.source.name, field="helix", value=spec.helix.fixed.value,
                          helix=spec.helix.fixed, confidence=spec.helix.confidence),)
    name = spec.fields.get("name")
    entity = _entity_plan(mapping, spec, fields, header,
                          (helix_column.index,) if helix_column is not None else ())
    return OrganisationPlan(entity=entity, helix_column=helix_column, fixed_evidence=fixed,
                            tracks_names=name is not None and name.column is not None)


def _helix_column(helix: HelixSpec, source: str, header: list[str]) -> HelixColumn | None:
    if helix.column is None:
        return None
    column = helix.column
    evidence: Callable[[str], list[Evidence]]
    if helix.codes == "cordis":
        evidence = partial(_cordis_evidence, source=source, field=column)
        known = "HES, REC, PRC, PUB, OTH"
    else:
        evidence = partial(_mapped_evidence, values=helix.values, source=source, field=column,
                           confidence=helix.confidence)
        known = ", ".join(helix.values)
    return HelixColumn(index=header.index(column), column=column, unknown=helix.unknown, known=known,
                       evidence=evidence)


def _cordis_evidence(cell: str, *, source: str, field: str) -> list[Evidence]:
    return evidence_from_activity_type(cell, source=source, field=field)


def _mapped_evidence(cell: str, *, values: dict[str, Any], source: str, field: str,
                     confidence: float) -> list[Evidence]:
    found = values.get(cell.upper())
    return [Evidence(source=source, field=field, value=cell, helix=found, confidence=confidence)] if found else []


# -- projects and participations --------------------------------------------------------------------

def _project_plan(mapping: TableMapping, project: EntitySpec, header: list[str]) -> ProjectPlan:
    return ProjectPlan(entity=_entity_plan(mapping, project, dict(project.fields), header),
                       role=_role_reader(mapping, header), amount=_amount_reader(mapping, header))


def _role_reader(mapping: TableMapping, header: list[str]) -> Callable[[Row], str | None]:
    spec = mapping.participation.get("role")
    if spec is None:
        return _no_value
    if spec.column is None:
        return partial(_constant, spec.value)
    return partial(_role_cell, header.index(spec.column), mapping.source.null_values)


def _amount_reader(mapping: TableMapping, header: list[str]) -> Callable[[Row], float | None]:
    spec = mapping.participation.get("ec_contribution")
    if spec is None:
        return _no_value
    if spec.column is None:
        return partial(_constant, spec.value)
    decimal = mapping.source.decimal
    read = _amount_cell if decimal != "," else _amount_parsed
    return partial(read, header.index(spec.column), spec.column, mapping.source.null_values | TYPED_NULLS,
                   decimal)


def _no_value(row: Row) -> None:
    return None


def _constant(value: Any, row: Row) -> Any:
    return value


def _role_cell(index: int, nulls: frozenset[str], row: Row) -> str | None:
    role = row[index].strip()
    return None if role in nulls else role


def _amount_cell(index: int, column: str, nulls: frozenset[str], decimal: str, row: Row) -> float | None:
    """A contribution; `float` reads the common case (1234.5) without `parse_number`'s checks."""
    cell = row[index].strip()
    if cell in nulls:
        return None
    try:
        amount = float(cell)
    except ValueError:
        return _amount_parsed(index, column, nulls, decimal, row)
    if amount - amount != 0.0 or "_" in cell:  # inf, nan, 1_000
        return _amount_parsed(index, column, nulls, decimal, row)
    return amount


def _amount_parsed(index: int, column: str, nulls: frozenset[str], decimal: str,
                               row: Row) -> float | None:
    cell = row[index].strip()
    if cell in nulls:
        return None
    try:
        return parse_number(cell, decimal)
    except ValueError as exc:
        raise RowError(str(exc), column, "bad value") from None
