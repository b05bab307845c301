"""The row loop of the table reader: each row of a table, read through a compiled `TablePlan`, aggregated
into plain dicts and lists (pydantic records are built once per entity afterwards, in `table_records`).

A row whose mapped cells are the same as the first row seen for its organisation (or project) is not
converted again: the cells were already checked. Any row that differs is converted and checked in full.
The functions that read rows are closures over the plan's parts: the hot loop reads locals, not
attributes, and narrows nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ecosystem.domain.errors import BadInputError
from ecosystem.domain.merge import stronger_role
from ecosystem.domain.models import Evidence
from importers.table_plan import EntityPlan, HelixColumn, OrganisationPlan, ProjectPlan, Row, RowError, TablePlan

# A helix column's verdict on a raw cell: (status, evidence, the raw cell). Status "ok", "unknown" or
# "empty"; "skip" for an unknown value when such rows are skipped; "none" without a helix column.
HelixVerdict = tuple[str, list[Evidence], str]
_NO_HELIX: HelixVerdict = ("none", [], "")
_NOTED = frozenset({"unknown", "empty"})  # verdicts counted as warnings once the row is good
_MERGED_LISTS = ("topics", "topic_titles")  # project lists merged over rows, not kept from the first
_JOINED = ("programme_part",)  # project texts joined over rows with ";" (a project in several programme parts)


class CountWarning(Protocol):
    def __call__(self, kind: str, field: str | None, line: int, example: str | None = None) -> None: ...


@dataclass(slots=True)
class Aggregate:
    """What the rows add up to, before records are built."""

    orgs: dict[str, list[Any]] = field(default_factory=dict)  # id -> [key, values, helix raws, names, line]
    projects: dict[str, list[Any]] = field(default_factory=dict)  # id -> [key cells, values, line]
    parts: dict[tuple[str, str], list[Any]] = field(default_factory=dict)  # pair -> [role, amount, line]
    helix: dict[str, HelixVerdict] = field(default_factory=dict)  # raw helix cell -> verdict


@dataclass(frozen=True, slots=True)
class Context:
    """Where rows come from, for messages and warnings."""

    file: str  # the table
    mapping_file: str
    count: CountWarning


def row_taker(plan: TablePlan, agg: Aggregate, ctx: Context) -> Callable[[Row, int], None]:
    """The function that reads one row (and its line number) into `agg`; raises RowError on a bad row."""
    if plan.organisation is None:
        assert plan.project is not None  # the mapping loader allows no other table without [organisation]
        return _project_taker(plan.project, plan.columns, plan.text_nulls, agg, ctx)
    read_org = _organisation_reader(plan, plan.organisation, agg, ctx)
    commit_org = _organisation_committer(plan.organisation, agg, ctx)
    if plan.project is None:
        def take_organisation(row: Row, line: int) -> None:
            org = read_org(row, line)
            if org is not None:
                commit_org(org, line)
        return take_organisation
    return _participation_taker(plan.project, plan.text_nulls, agg, ctx, read_org, commit_org)


# -- cells ------------------------------------------------------------------------------------------

def values_reader(entity: EntityPlan) -> Callable[[Row], dict[str, Any]]:
    """The converted, non-null values of an entity's column-fed fields in a row."""
    texts = [(c.attr, c.index, c.nulls) for c in entity.texts]
    typed = [(c.attr, c.index, c.nulls, c.convert, c.column) for c in entity.typed]

    def values(row: Row) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for attr, index, nulls in texts:
            cell = row[index].strip()
            if cell not in nulls:
                out[attr] = cell
        for attr, index, nulls, conv, column in typed:
            cell = row[index].strip()
            if cell in nulls:
                continue
            try:
                out[attr] = conv(cell)
            except ValueError as exc:
                raise RowError(str(exc), column, "bad value") from None
        return out

    return values


def _helix_reader(plan: OrganisationPlan, text_nulls: frozenset[str], agg: Aggregate,
                  ctx: Context) -> Callable[[Row, int], HelixVerdict]:
    """A row's helix verdict, decided once per distinct raw value of the helix column."""
    helix = plan.helix_column
    if helix is None:
        return _no_helix
    index, column, skip, cache = helix.index, helix.column, helix.unknown == "skip", agg.helix

    def read(row: Row, line: int) -> HelixVerdict:
        raw = row[index]
        verdict = cache.get(raw)
        if verdict is None:
            verdict = cache[raw] = _helix_verdict(helix, text_nulls, raw, line, ctx)
        if skip and verdict[0] == "unknown":
            ctx.count("skipped-helix", column, line, raw.strip())
            return ("skip", [], raw)
        return verdict

    return read


def _no_helix(row: Row, line: int) -> HelixVerdict:
    return _NO_HELIX


def _helix_verdict(helix: HelixColumn, text_nulls: frozenset[str], raw: str, line: int,
                   ctx: Context) -> HelixVerdict:
    cell = raw.strip()
    if cell in text_nulls:
        return ("empty", [], raw)
    evidence = helix.evidence(cell)
    if evidence:
        return ("ok", evidence, raw)
    if helix.unknown == "error":
        raise BadInputError(f"unknown value {cell!r} in the helix column (known: {helix.known}); map it in "
                            f"[organisation.helix] values or set unknown = \"warn\" or \"skip\" in "
                            f"{ctx.mapping_file}", file=ctx.file, line=line, field=helix.column)
    return ("unknown", [], raw)


def _blank_or_bad(row: Row, line: int, ctx: Context, error: RowError) -> None:
    """A row of empty cells is counted and passed over; any other is `error`."""
    if not any(c.strip() for c in row):
        ctx.count("blank", None, line)
        return
    raise error


# -- organisations ----------------------------------------------------------------------------------

# A row's organisation part: (id, helix verdict, key cells, the entry seen before or None, values or None)
OrgRow = tuple[str, HelixVerdict, object, list[Any] | None, dict[str, Any] | None]


def _organisation_reader(plan: TablePlan, org_plan: OrganisationPlan, agg: Aggregate,
                         ctx: Context) -> Callable[[Row, int], OrgRow | None]:
    entity = org_plan.entity
    ncols, text_nulls, orgs = plan.columns, plan.text_nulls, agg.orgs
    index, prefix, suffix, id_column = entity.id.index, entity.id.prefix, entity.id.suffix, entity.id.column
    read_helix = _helix_reader(org_plan, text_nulls, agg, ctx)
    key_of, values_of = entity.key, values_reader(entity)

    def read(row: Row, line: int) -> OrgRow | None:
        """The organisation part of a row; None for a row passed over (blank, or a skipped helix)."""
        if len(row) != ncols:
            _blank_or_bad(row, line, ctx, RowError(
                f"the row has {len(row)} fields, the header has {ncols} (a stray delimiter or an unquoted "
                "delimiter inside a value?)", None, "wrong number of fields"))
            return None
        oid = row[index].strip()
        if oid in text_nulls:
            _blank_or_bad(row, line, ctx, RowError(
                f"no organisation id in column '{id_column}' ({ctx.mapping_file}: organisation.id)", id_column,
                "no organisation id"))
            return None
        oid = prefix + oid + suffix
        helix = read_helix(row, line)
        if helix[0] == "skip":
            return None
        key = key_of(row)
        org = orgs.get(oid)
        values = values_of(row) if org is None or key != org[0] else None
        return oid, helix, key, org, values

    return read


def _organisation_committer(plan: OrganisationPlan, agg: Aggregate,
                            ctx: Context) -> Callable[[OrgRow, int], None]:
    orgs, count, tracks_names = agg.orgs, ctx.count, plan.tracks_names
    helix_column = plan.helix_column.column if plan.helix_column is not None else None

    def commit(org_row: OrgRow, line: int) -> None:
        oid, (status, _, raw), key, org, values = org_row
        if status in _NOTED:
            if status == "unknown":
                count("unknown-helix", helix_column, line, raw.strip())
            else:
                count("empty-helix", helix_column, line)
        if org is None:
            orgs[oid] = [key, values, {raw} if status == "ok" else set(), None, line]
        elif values is not None:
            _merge_organisation(org, values, raw if status == "ok" else None, tracks_names)

    return commit


def _merge_organisation(org: list[Any], values: dict[str, Any], raw_helix: str | None, tracks_names: bool) -> None:
    """A later row of a known organisation with other cells: new fields filled, other names kept."""
    known = org[1]
    for attr, value in values.items():
        if attr not in known:
            known[attr] = value
    if raw_helix is not None:
        org[2].add(raw_helix)
    if tracks_names:
        name = values.get("name")
        if name and name != known.get("name"):
            if org[3] is None:
                org[3] = {}
            org[3][name] = None


# -- projects and participations --------------------------------------------------------------------

def _participation_taker(plan: ProjectPlan, text_nulls: frozenset[str], agg: Aggregate, ctx: Context,
                         read_org: Callable[[Row, int], OrgRow | None],
                         commit_org: Callable[[OrgRow, int], None]) -> Callable[[Row, int], None]:
    entity = plan.entity
    index, prefix, suffix, id_column = entity.id.index, entity.id.prefix, entity.id.suffix, entity.id.column
    key_of, values_of, role_of, amount_of = entity.key, values_reader(entity), plan.role, plan.amount
    projects, parts, count = agg.projects, agg.parts, ctx.count

    def take(row: Row, line: int) -> None:
        org = read_org(row, line)
        if org is None:
            return
        pid = row[index].strip()
        if pid in text_nulls:
            raise RowError(f"no project id in column '{id_column}' ({ctx.mapping_file}: project.id)", id_column,
                           "no project id")
        pid = prefix + pid + suffix
        key = key_of(row)
        proj = projects.get(pid)
        values = values_of(row) if proj is None or key != proj[0] else None
        role, amount = role_of(row), amount_of(row)
        # the row is good: commit it
        commit_org(org, line)
        if proj is None:
            projects[pid] = [key, values, line]
        elif values is not None:
            _merge_project(proj[1], values)
        pair = (pid, org[0])
        part = parts.get(pair)
        if part is None:
            parts[pair] = [role, amount, line]
        else:
            count("duplicate", None, line)
            _merge_participation(part, role, amount)

    return take


def _project_taker(plan: ProjectPlan, ncols: int, text_nulls: frozenset[str], agg: Aggregate,
                   ctx: Context) -> Callable[[Row, int], None]:
    """Rows of a table of projects only: each row fills fields of its project (no organisation, no
    participation)."""
    entity = plan.entity
    index, prefix, suffix, id_column = entity.id.index, entity.id.prefix, entity.id.suffix, entity.id.column
    key_of, values_of, projects = entity.key, values_reader(entity), agg.projects

    def take(row: Row, line: int) -> None:
        if len(row) != ncols:
            _blank_or_bad(row, line, ctx, RowError(
                f"the row has {len(row)} fields, the header has {ncols} (a stray delimiter or an unquoted "
                "delimiter inside a value?)", None, "wrong number of fields"))
            return
        pid = row[index].strip()
        if pid in text_nulls:
            _blank_or_bad(row, line, ctx, RowError(
                f"no project id in column '{id_column}' ({ctx.mapping_file}: project.id)", id_column,
                "no project id"))
            return
        pid = prefix + pid + suffix
        key = key_of(row)
        proj = projects.get(pid)
        values = values_of(row) if proj is None or key != proj[0] else None
        if proj is None:
            projects[pid] = [key, values, line]
        elif values is not None:
            _merge_project(proj[1], values)

    return take


def _merge_project(known: dict[str, Any], values: dict[str, Any]) -> None:
    """A later row of a known project with other cells: new fields filled, topic lists merged, programme parts
    joined ("SC1;LEIT")."""
    for attr, value in values.items():
        if attr not in known:
            known[attr] = value
        elif attr in _MERGED_LISTS:
            known[attr] = tuple(dict.fromkeys((*known[attr], *value)))
        elif attr in _JOINED and value not in known[attr].split(";"):
            known[attr] = f"{known[attr]};{value}"


def _merge_participation(part: list[Any], role: str | None, amount: float | None) -> None:
    """A (project, organisation) pair seen before: one participation, stronger role, contributions summed."""
    part[0] = stronger_role(part[0], role)
    if amount is not None:
        part[1] = amount if part[1] is None else part[1] + amount
