"""Entity resolution applied to a store: one organisation node per real organisation.

`ecosystem.domain.resolution` decides which source records are one organisation; this module turns its answer into
what a store keeps, the same way for every store:

- every source record stays as it was imported (a record of a group is kept beside the group's node, a record
  on its own *is* its node), so a merge can always be undone;
- a group of two or more records becomes one organisation whose id is the group's canonical id (its ROR id,
  else its smallest PIC, else its smallest id), folded from its records (`canonical_organisation`): every name,
  identifier, source and piece of helix evidence, the canonical record's own values first; `records` lists the
  records and `same_as` the judged pairs that joined them;
- participations of a record that joined a group move to the group's node and remember their record
  (`record_id`), so they can move back;
- a later import naming a record of a group updates that record and refolds the group (`route`), and
  resolution runs again after every import that brings organisations: the same records give the same groups,
  so re-running an import changes nothing; a user's overrides (kept in the store) always win.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from itertools import combinations
from pathlib import Path

from ecosystem.domain.batch import ImportReport
from ecosystem.domain.merge import merge_organisation
from ecosystem.domain.models import Organisation, SameAs
from ecosystem.domain.resolution import (
    EntityRecord,
    Overrides,
    Resolution,
    record_from_organisation,
    resolve_entities,
    write_review,
)

__all__ = ["Plan", "canonical_organisation", "fold_into_records", "override_ids", "overrides_from_json",
           "overrides_to_json", "plan", "resolve_and_plan", "resolve_store_records", "worth_resolving"]

# resolution runs again with the side-by-side pairs forbidden at most this often: each round only adds forbidden
# pairs, and the bound keeps a pathological input from looping
SIDE_BY_SIDE_ROUNDS = 5

# identifiers that can place a record in a group without a name (a PIC alone is the record's own id)
_JOINING_IDENTIFIERS = ("vat", "ror", "isni", "wikidata", "grid", "fundref", "lau")


def worth_resolving(org: Organisation) -> bool:
    """Whether a record can match another one at all: a real name, or an identifier other than its own id.

    A research export row (a PIC with no name) cannot: leaving it out keeps a 35,000-organisation import cheap.
    """
    if org.records:
        return True
    if org.name and org.name.strip() and org.name != org.id:
        return True
    return any(org.identifiers.get(k) for k in _JOINING_IDENTIFIERS)


def _entity(org: Organisation) -> EntityRecord:
    rec = record_from_organisation(org)
    if rec.name == org.id:  # a record without a name of its own (a research export's PIC) matches by identifiers
        rec = replace(rec, name="")
    return rec


def resolve_store_records(records: Iterable[Organisation], overrides: Overrides | None = None, *,
                          projects_of: Callable[[list[str]], Mapping[str, set[str]]] | None = None,
                          review_path: Path | None = None) -> Resolution:
    """Resolve source records (only those `worth_resolving`; the others stay on their own).

    `projects_of(record ids)` gives the projects each record takes part in. Two records that take part in one
    project side by side are two participants, so two legal entities (a university and its foundation, two
    companies of one group): such a pair is never merged, whatever the names say. The resolution is run again
    with those pairs forbidden until no group holds two participants of one project.
    """
    named = override_ids(overrides)
    entities = [_entity(o) for o in records if worth_resolving(o) or o.id in named]
    user = overrides or Overrides()
    forced = {rid for pair in user.merge for rid in pair}
    forbid: list[tuple[str, str]] = []
    for _ in range(SIDE_BY_SIDE_ROUNDS):
        current = Overrides(merge=list(user.merge), forbid=[*user.forbid, *forbid]) if forbid else overrides
        resolution = resolve_entities(entities, overrides=current)
        if projects_of is None:
            break
        found = _side_by_side(resolution, projects_of, forced)
        if not found:
            break
        forbid += found
        resolution.warnings.append(f"{len(found)} pair(s) not merged: they take part in one project side by side")
    if review_path is not None:
        write_review(resolution.uncertain, {e.id: e for e in entities}, review_path)
    return resolution


def _side_by_side(resolution: Resolution, projects_of: Callable[[list[str]], Mapping[str, set[str]]],
                  forced: set[str]) -> list[tuple[str, str]]:
    """Pairs of a group that take part in one project side by side (and no user's merge names)."""
    groups = [m for m in resolution.clusters.values() if len(m) > 1]
    projects = projects_of(sorted({rid for m in groups for rid in m}))
    return [(a, b) for m in groups for a, b in combinations(m, 2)
            if a not in forced and b not in forced and projects.get(a, set()) & projects.get(b, set())]


def override_ids(overrides: Overrides | None) -> set[str]:
    """The record ids a user's overrides name: resolved even when they could not match on their own."""
    if overrides is None:
        return set()
    return {rid for pair in (*overrides.merge, *overrides.forbid) for rid in pair}


def fold_into_records(orgs: Iterable[Organisation], members: dict[str, dict[str, Organisation]],
                      grouped: Mapping[str, str]) -> set[str]:
    """Fold newly imported records of merged organisations into their stored records (`members`: canonical id ->
    record id -> record, updated in place); returns the canonical ids whose records changed (to refold)."""
    touched: set[str] = set()
    for org in orgs:
        c = grouped[org.id]
        old = members[c][org.id]
        merged = merge_organisation(old, org)
        if merged != old:
            members[c][org.id] = merged
            touched.add(c)
    return touched


def resolve_and_plan(records: Iterable[Organisation], current: Mapping[str, Iterable[str]],
                     overrides: Overrides | None, report: ImportReport, *,
                     projects_of: Callable[[list[str]], Mapping[str, set[str]]] | None = None,
                     review_path: Path | None = None) -> Plan:
    """A store's resolution step: resolve its records (`resolve_store_records`), note the merged records, the
    uncertain pairs and the warnings in `report`, and return what to change against its `current` groups."""
    resolution = resolve_store_records(records, overrides, projects_of=projects_of, review_path=review_path)
    report.warnings += resolution.warnings
    report.uncertain = len(resolution.uncertain)
    report.merged = sum(len(m) - 1 for m in resolution.clusters.values())
    return plan(resolution, current)


@dataclass
class Plan:
    """What to change in a store: groups to undo (by canonical id) and groups to make (canonical -> records)."""

    dissolve: list[str] = field(default_factory=list)
    form: dict[str, list[str]] = field(default_factory=dict)
    pairs: dict[str, list[SameAs]] = field(default_factory=dict)  # canonical id -> the pairs behind the group

    def __bool__(self) -> bool:
        return bool(self.dissolve or self.form)


def plan(resolution: Resolution, current: Mapping[str, Iterable[str]]) -> Plan:
    """The difference between the groups a store holds (`current`: canonical -> record ids) and `resolution`'s."""
    wanted = {c: sorted(m) for c, m in resolution.clusters.items() if len(m) > 1}
    held = {c: sorted(m) for c, m in current.items()}
    out = Plan()
    out.dissolve = sorted(c for c, members in held.items() if wanted.get(c) != members)
    for c, members in sorted(wanted.items()):
        if held.get(c) != members:
            out.form[c] = members
    same: dict[str, list[SameAs]] = {}
    for p in resolution.pairs:
        if p.decision == "same":
            canonical = resolution.canonical.get(p.left)
            if canonical is not None and canonical in wanted:
                same.setdefault(canonical, []).append(SameAs(left=p.left, right=p.right, score=p.score,
                                                     reasons=list(p.reasons)))
    out.pairs = same
    return out


def canonical_organisation(canonical_id: str, members: Mapping[str, Organisation],
                           pairs: Iterable[SameAs] = ()) -> Organisation:
    """One organisation folded from its source records; the canonical record's own values come first."""
    if canonical_id not in members:
        raise ValueError(f"canonical record {canonical_id} is not among the records {sorted(members)}")
    head = members[canonical_id]
    others = [members[k] for k in sorted(members) if k != canonical_id]
    folded: Organisation | None = None
    for rec in [*others, head]:  # later records win for single-valued fields: the canonical one last
        folded = merge_organisation(folded, rec.model_copy(update={"id": canonical_id}))
    assert folded is not None
    # identifiers, sources and helix evidence are unions (merge_organisation); the name is the canonical record's
    # and every other spelling is kept, but not a bare record id standing in for a missing name
    names = [n for n in dict.fromkeys([head.name, *head.names, *(n for o in others for n in (o.name, *o.names))])
             if n and n != head.name and n not in members]
    location = head.location if head.location.nuts3 or not any(o.location.nuts3 for o in others) \
        else next(o.location for o in others if o.location.nuts3)
    return folded.model_copy(update={
        "id": canonical_id, "name": head.name if head.name != head.id or not others else _best_name(others, head),
        "names": names, "location": location,
        "records": sorted(members), "same_as": sorted(pairs, key=lambda p: (p.left, p.right))})


def _best_name(others: list[Organisation], head: Organisation) -> str:
    named = [o.name for o in others if o.name and o.name != o.id]
    return named[0] if named else head.name


def overrides_to_json(overrides: Overrides) -> dict[str, list[list[str]]]:
    return {"merge": [list(p) for p in overrides.merge], "forbid": [list(p) for p in overrides.forbid]}


def overrides_from_json(data: Mapping[str, Iterable[Iterable[str]]] | None) -> Overrides | None:
    if not data or not (data.get("merge") or data.get("forbid")):
        return None
    pair = lambda p: tuple(p)[:2]
    return Overrides(merge=[pair(p) for p in data.get("merge", [])], forbid=[pair(p) for p in data.get("forbid", [])])
