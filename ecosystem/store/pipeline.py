"""The import pipeline, written once for every store: merge -> locate -> resolve -> project.

`apply_batch` writes an `ImportBatch` and `resolve_again` runs entity resolution again; both decide here what
is written (which records merge into what is stored, which organisations are placed again, when resolution
regroups, when the collaboration projection is rebuilt) and what the `ImportReport` counts. They do it through
an `ImportWriter`: the storage primitives a store implements (read what is stored, write organisations,
projects, participations, group records, rebuild the projection, bump the data version), all inside the store's
own transaction (`import_transaction`). The SQLite store, the Neo4j store and the offline Neo4j bulk CSV writer
are the writers; each holds only its storage code.

How a writer measures change is its own (`changes`): SQLite counts the rows its statements changed, Neo4j and
the bulk writer the records the steps below report as written.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ecosystem.domain.batch import ImportBatch, ImportReport
from ecosystem.domain.bulk import paused_gc
from ecosystem.domain.merge import merge_organisation, merge_project, stronger_role
from ecosystem.domain.models import Organisation, OrganisationRelation, Participation, Project
from ecosystem.domain.municipalities import link_municipality
from ecosystem.domain.resolution import Overrides
from ecosystem.store.common import note_location, unlocated_reason
from ecosystem.store.entities import (
    Plan,
    canonical_organisation,
    fold_into_records,
    resolve_and_plan,
)

if TYPE_CHECKING:
    from ecosystem.domain.location import LocationResolver
    from ecosystem.domain.municipalities import MunicipalityMatcher

# (project, organisation node, source record when it is one of several merged into the node, else '')
ParticipationKey = tuple[str, str, str]
ParticipationState = tuple[Any, Any, Any]  # (role, EC contribution, source as JSON)


@dataclass(frozen=True)
class Held:
    """What a store holds when an import starts (a zero lets a writer skip reading what cannot be there)."""

    organisations: int = 0
    projects: int = 0
    participations: int = 0
    collaborations: int = 0
    regions: int = 0


@dataclass
class Participations:
    """The participations of a batch once folded with what is stored: what a writer writes."""

    state: dict[ParticipationKey, ParticipationState]  # every participation the batch names, as it will be
    todo: list[ParticipationKey]  # those that are new or differ from what is stored
    existing: dict[ParticipationKey, ParticipationState]  # what was stored of the batch's projects
    projects: dict[str, Project]  # every project the batch names, as it will be
    empty: bool  # the store held no participations: `state` is every participation there is


class ImportWriter(Protocol):
    """The storage primitives the pipeline writes through. Every method runs inside `import_transaction`."""

    def import_transaction(self) -> AbstractContextManager[Held]:
        """The store's own transaction for one import (all or nothing where the store has one); gives what the
        store holds as it starts."""

    def write_regions(self, batch: ImportBatch) -> int:
        """Regions, shapes, municipalities, postcodes, NUTS conversions and places; how many changed."""

    def region_count(self) -> int:
        """How many regions are stored now."""

    def grouped(self) -> dict[str, str]:
        """Record id -> canonical id of every source record kept in a group."""

    def load_organisations(self, ids: list[str]) -> dict[str, Organisation]:
        """The stored organisations of these ids (those stored)."""

    def all_organisations(self) -> dict[str, Organisation]:
        """Every stored organisation."""

    def create_organisations(self, orgs: list[Organisation]) -> None:
        """Write organisations known not to be stored yet."""

    def save_organisations(self, orgs: list[Organisation]) -> None:
        """Write organisations that may be stored (replacing them, their region link moved with them)."""

    def group_members(self, canonical_ids: list[str]) -> dict[str, dict[str, Organisation]]:
        """The stored records of each group: canonical id -> record id -> record."""

    def save_group_records(self, members: dict[str, dict[str, Organisation]]) -> None:
        """Write the records of these groups (canonical id -> record id -> record)."""

    def load_projects(self, ids: list[str]) -> dict[str, Project]:
        """The stored projects of these ids."""

    def write_projects(self, new: list[Project], changed: list[Project]) -> None:
        """Create the new projects, replace the changed ones."""

    def load_participations(self, project_ids: list[str]) -> dict[ParticipationKey, ParticipationState]:
        """The stored participations in these projects."""

    def write_participations(self, parts: Participations, report: ImportReport) -> int:
        """Write the participations in `parts.todo`; how many changed."""

    def write_relations(self, relations: list[OrganisationRelation]) -> int:
        """Links between organisations other than collaboration; how many changed."""

    def location_resolver(self, orgs: list[Organisation]) -> tuple[LocationResolver, MunicipalityMatcher]:
        """What places `orgs`: a location resolver and a municipality matcher over the stored regions."""

    def store_overrides(self, overrides: Overrides | None) -> None:
        """Keep entity-resolution overrides in the store (None drops them)."""

    def stored_overrides(self) -> Overrides | None:
        """The entity-resolution overrides the store keeps."""

    def resolution_records(self, overrides: Overrides | None) -> list[Organisation]:
        """The records resolution looks at: those that can match (`worth_resolving`), any an override names,
        and the records of every group."""

    def record_groups(self) -> dict[str, list[str]]:
        """Canonical id -> record ids of every group."""

    def projects_of(self, ids: list[str]) -> dict[str, set[str]]:
        """The projects each source record takes part in (on its own node, or through its group's)."""

    def defer_regrouping(self, plan: Plan) -> bool:
        """True when this writer leaves the planned groups to a later step (nothing moves now)."""

    def dissolve_group(self, canonical_id: str, members: list[Organisation]) -> None:
        """Undo a group: its records back on their own nodes, with their participations."""

    def form_group(self, canonical_id: str, record_ids: list[str], records: dict[str, Organisation],
                   organisation: Organisation) -> None:
        """Make a group: the records kept, their participations moved to the group's node (`organisation`)."""

    def mark_dirty(self) -> None:
        """Note that something the collaboration projection depends on is about to change."""

    def collaborations_dirty(self) -> bool:
        """Whether the projection was left out of line by an interrupted import."""

    def rebuild_collaborations(self, progress: Any) -> None:
        """Bring the collaboration projection in line with the participations."""

    def changes(self, counted: int) -> int:
        """How much this import changed, given what the steps `counted`."""

    def bump(self, *, regions_changed: bool) -> None:
        """A new data version (and regions version when the regions changed)."""


def apply_batch(writer: ImportWriter, batch: ImportBatch, progress: Any = None) -> ImportReport:
    """Write `batch`: merge its records into what is stored, place organisations, resolve entities, rebuild the
    collaboration projection when participations moved; re-importing the same batch changes nothing."""
    report = ImportReport(label=batch.label, warnings=list(batch.warnings))
    with paused_gc(), writer.import_transaction() as held:
        regions_changed = _write_regions(writer, batch, report)
        changed = regions_changed
        grouped = writer.grouped() if held.organisations else {}
        current, org_changes = _write_organisations(
            writer, [o for o in batch.organisations if o.id not in grouped], empty=not held.organisations)
        refolded = _write_group_records(writer, [o for o in batch.organisations if o.id in grouped], grouped)
        current.update(refolded)
        report.organisations = len(batch.organisations)
        changed += org_changes + len(refolded)
        projects, project_changes, years_changed = _write_projects(writer, batch, report, empty=not held.projects)
        changed += project_changes
        part_changes = _write_participations(writer, batch, report, projects, grouped,
                                             empty=not held.participations)
        changed += part_changes
        changed += writer.write_relations(batch.relations)
        regions_loaded = bool(held.regions) or (bool(regions_changed) and writer.region_count() > 0)
        changed += relocate(writer, None if regions_changed else current, report, regions_loaded=regions_loaded,
                            progress=progress)
        moved = bool(batch.organisations) and resolve_stored(writer, report, regions_loaded=regions_loaded)
        changed += moved
        if part_changes or moved or years_changed or writer.collaborations_dirty():
            writer.rebuild_collaborations(progress)
            changed += 1
        report.changed = writer.changes(changed)
        if report.changed:
            writer.bump(regions_changed=bool(regions_changed))
    return report


def resolve_again(writer: ImportWriter, overrides: Overrides | None = None, *, keep_overrides: bool = True,
                  review_path: Path | None = None) -> ImportReport:
    """Run entity resolution again: with new `overrides` (kept in the store for later imports; none and
    `keep_overrides=False` drops them), writing the uncertain pairs to `review_path` when given."""
    report = ImportReport(label="entity resolution")
    with paused_gc(), writer.import_transaction() as held:
        if overrides is not None or not keep_overrides:
            writer.store_overrides(overrides)
        moved = resolve_stored(writer, report, regions_loaded=bool(held.regions), review_path=review_path)
        rebuilt = moved or writer.collaborations_dirty()
        if rebuilt:
            writer.rebuild_collaborations(None)
        report.changed = writer.changes(int(rebuilt))
        if report.changed:
            writer.bump(regions_changed=False)
    return report


def _write_regions(writer: ImportWriter, batch: ImportBatch, report: ImportReport) -> int:
    if not batch.touches_regions():
        return 0
    changed = writer.write_regions(batch)
    report.regions = len(batch.regions) + len(batch.region_names) + len(batch.shapes) + len(batch.places)
    report.municipalities = len(batch.municipalities)
    report.postcodes = len(batch.postcodes)
    return changed


def merge_organisations(orgs: Iterable[Organisation], existing: dict[str, Organisation]) -> dict[str, Organisation]:
    """The state of every organisation once written: merged, in order, into the stored one (a batch naming one
    organisation twice folds both records); an unchanged one is the stored object itself."""
    current: dict[str, Organisation] = {}
    for org in orgs:
        old = current.get(org.id)
        if old is None:
            old = existing.get(org.id)
        merged = merge_organisation(old, org)
        current[org.id] = old if old is not None and merged == old else merged
    return current


def _write_organisations(writer: ImportWriter, orgs: list[Organisation], *,
                         empty: bool) -> tuple[dict[str, Organisation], int]:
    """Merge and write organisations: the stored state of every organisation in the batch, how many changed."""
    if not orgs:
        return {}, 0
    existing = {} if empty else writer.load_organisations(list(dict.fromkeys(o.id for o in orgs)))
    current = merge_organisations(orgs, existing)
    new = [o for oid, o in current.items() if oid not in existing]
    changed = [o for oid, o in current.items() if oid in existing and o != existing[oid]]
    writer.create_organisations(new)
    writer.save_organisations(changed)
    return current, len(new) + len(changed)


def _write_group_records(writer: ImportWriter, orgs: list[Organisation],
                         grouped: dict[str, str]) -> dict[str, Organisation]:
    """Fold records of merged organisations into their stored records and refold the groups they changed."""
    if not orgs:
        return {}
    members = writer.group_members(sorted({grouped[o.id] for o in orgs}))
    touched = sorted(fold_into_records(orgs, members, grouped))
    if not touched:
        return {}
    stored = writer.load_organisations(touched)
    out = {c: canonical_organisation(c, members[c], stored[c].same_as if c in stored else []) for c in touched}
    writer.save_group_records({c: members[c] for c in touched})
    writer.save_organisations(list(out.values()))
    return out


def merge_projects(projects: list[Project], named: list[str], existing: dict[str, Project]) -> dict[str, Project]:
    """The state of every project a batch names once written: its records merged, in order, into the stored one
    (a record naming only the id changes nothing), and a bare project for one only a participation names."""
    current: dict[str, Project] = {}
    for project in projects:
        old = current.get(project.id)
        if old is None:
            old = existing.get(project.id)
        merged = merge_project(old, project) if project.model_fields_set - {"id"} or old is None else old
        current[project.id] = old if old is not None and merged == old else merged
    for pid in named:
        if pid not in current:
            current[pid] = existing[pid] if pid in existing else merge_project(None, Project(id=pid))
    return current


def _write_projects(writer: ImportWriter, batch: ImportBatch, report: ImportReport, *,
                    empty: bool) -> tuple[dict[str, Project], int, bool]:
    """Merge and write projects, and a bare one for a project only named by a participation. Returns the stored
    state of every project the batch names, how many changed, and whether a stored project's years changed
    (the projection carries them)."""
    report.projects = len(batch.projects)
    named = list(dict.fromkeys([p.id for p in batch.projects] + [p.project_id for p in batch.participations]))
    if not named:
        return {}, 0, False
    existing = {} if empty else writer.load_projects(named)
    current = merge_projects(batch.projects, named, existing)
    new = [p for pid, p in current.items() if pid not in existing]
    changed = [p for pid, p in current.items() if pid in existing and p != existing[pid]]
    years_changed = any((p.start_year, p.end_year) != (existing[p.id].start_year, existing[p.id].end_year)
                        for p in changed)
    if years_changed:
        writer.mark_dirty()
    writer.write_projects(new, changed)
    return current, len(new) + len(changed), years_changed


def fold_participations(participations: Iterable[Participation], grouped: dict[str, str],
                        existing: dict[ParticipationKey, ParticipationState]
                        ) -> dict[ParticipationKey, ParticipationState]:
    """The state of every participation a batch names once written. A record merged into another organisation
    takes part through that organisation's node; a batch naming one participation twice folds both rows, in
    order: the stronger role, the last amount."""
    state: dict[ParticipationKey, ParticipationState] = {}
    for p in participations:
        oid = grouped.get(p.organisation_id, p.organisation_id)
        key = (p.project_id, oid, p.organisation_id if oid != p.organisation_id else "")
        old = state.get(key) or existing.get(key)
        role = stronger_role(old[0] if old else None, p.role)
        ec = p.ec_contribution if p.ec_contribution is not None else (old[1] if old else None)
        state[key] = (role, ec, p.source.model_dump_json())
    return state


def _write_participations(writer: ImportWriter, batch: ImportBatch, report: ImportReport,
                          projects: dict[str, Project], grouped: dict[str, str], *, empty: bool) -> int:
    """Write the participations that are new or changed; how many changed."""
    report.participations = len(batch.participations)
    if not batch.participations:
        return 0
    existing = {} if empty else writer.load_participations(sorted({p.project_id for p in batch.participations}))
    state = fold_participations(batch.participations, grouped, existing)
    todo = [k for k, v in state.items() if existing.get(k) != v]
    return writer.write_participations(Participations(state, todo, existing, projects, empty), report)


def relocate(writer: ImportWriter, given: dict[str, Organisation] | None, report: ImportReport, *,
             regions_loaded: bool, progress: Any = None) -> int:
    """Resolve NUTS3, urban-rural type and degree of urbanisation for the given organisations (all: None), and
    count in `report` where each is placed or why not; how many changed.

    `given` is the stored state of the batch's organisations, kept in memory: nothing is read back unless every
    organisation has to be placed again (the regions changed)."""
    if given is not None and not given:
        return 0
    if not regions_loaded:
        for o in (given or {}).values():
            reason = unlocated_reason(o, regions_loaded=False)
            report.unlocated[reason] = report.unlocated.get(reason, 0) + 1
        return 0
    orgs = writer.all_organisations() if given is None else given
    resolver, matcher = writer.location_resolver(list(orgs.values()))
    changed = []
    for org in _progress(progress, "locating organisations", orgs.values(), len(orgs)):
        loc = resolver.resolve(org.location)
        located = org.model_copy(update={"location": loc}) if loc != org.location else org
        located = link_municipality(located, matcher)
        if located is not org:
            changed.append(located)
        note_location(report, located)
    writer.save_organisations(changed)
    return len(changed)


def _progress(progress: Any, label: str, items: Iterable[Organisation], total: int) -> Iterator[Organisation]:
    task = progress.add_task(label, total=total) if progress is not None else None
    for i, item in enumerate(items):
        if task is not None and i % 2000 == 0:
            progress.update(task, completed=i)
        yield item
    if task is not None:
        progress.update(task, completed=total)


def resolve_stored(writer: ImportWriter, report: ImportReport, *, regions_loaded: bool,
                   review_path: Path | None = None) -> bool:
    """Run entity resolution over every stored source record and regroup what changed; True if anything moved."""
    overrides = writer.stored_overrides()
    todo = resolve_and_plan(writer.resolution_records(overrides), writer.record_groups(), overrides, report,
                            projects_of=writer.projects_of, review_path=review_path)
    return regroup(writer, todo, regions_loaded=regions_loaded) if todo else False


def regroup(writer: ImportWriter, todo: Plan, *, regions_loaded: bool) -> bool:
    """Undo and form the planned groups, then place the groups formed; True if anything moved.

    The projection is marked dirty first, and each group is undone or made as one step: an interrupted
    regrouping leaves whole groups, and the next import finishes it. Records of a group undone may join a group
    formed next, so each group's records are read once the groups before it are written."""
    if writer.defer_regrouping(todo):
        return False
    writer.mark_dirty()
    members = writer.group_members(todo.dissolve)
    for c in todo.dissolve:
        writer.dissolve_group(c, list(members.get(c, {}).values()))
    formed: dict[str, Organisation] = {}
    for c, rids in todo.form.items():
        docs = writer.load_organisations(rids)
        org = canonical_organisation(c, docs, todo.pairs.get(c, []))
        writer.form_group(c, rids, docs, org)
        formed[c] = org
    relocate(writer, formed, ImportReport(label="resolution"), regions_loaded=regions_loaded)
    return True


class RunsImportPipeline:
    """`apply` and `resolve` of a store whose import is this pipeline: the store, an `ImportWriter`, keeps only
    its storage primitives."""

    def apply(self: ImportWriter, batch: ImportBatch, progress: Any = None) -> ImportReport:
        return apply_batch(self, batch, progress)

    def resolve(self: ImportWriter, overrides: Overrides | None = None, *, keep_overrides: bool = True,
                review_path: Path | None = None) -> ImportReport:
        """Run entity resolution again: with new `overrides` (kept in the store for later imports; none and
        `keep_overrides=False` drops them), writing the uncertain pairs to `review_path` when given."""
        return resolve_again(self, overrides, keep_overrides=keep_overrides, review_path=review_path)
