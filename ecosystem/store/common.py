"""Small pieces both stores share: name indexing, NUTS filters, reasons a place is unknown."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ecosystem.domain.models import Organisation, Region
from ecosystem.domain.text import fold


def name_index_text(org: Organisation) -> str:
    """Every name of an organisation, as written and folded (KØBENHAVNS -> kobenhavns), for full-text search."""
    names = [org.name, *(org.names or [])]
    if org.short_name:
        names.append(org.short_name)
    names += list(org.identifiers.values())
    folded = [fold(n) for n in names]
    return " | ".join(dict.fromkeys([*names, *folded]))


def fts_query(q: str) -> str | None:
    """A safe FTS5 query from free text: every folded word must match, as a prefix."""
    words = [w for w in fold(q).split() if w]
    if not words:
        return None
    return " ".join('"' + w.replace('"', '') + '"*' for w in words[:12])


def unlocated_reason(org: Organisation, *, regions_loaded: bool) -> str:
    """Why an organisation has no NUTS3 region, in a few words."""
    if not regions_loaded:
        return "no regions imported yet"
    loc = org.location
    if not (loc.nuts_code or loc.postcode or loc.lat is not None or loc.city):
        return "no location in the source" if loc.country or org.country else "no country or location"
    for note in loc.notes:
        if "outside" in note or "no NUTS" in note:
            return "country outside NUTS"
    return "location given but not matched"


def note_location(report: Any, org: Organisation) -> None:
    """Count a resolved organisation in an import report: placed, or why not; unknown NUTS codes warn."""
    loc = org.location
    if loc.nuts3:
        report.located += 1
    else:
        reason = unlocated_reason(org, regions_loaded=True)
        report.unlocated[reason] = report.unlocated.get(reason, 0) + 1
    for note in loc.notes:
        if note.startswith("unknown NUTS code"):
            report.warnings.append(f"organisation {org.id}: {note}; "
                                   + (f"placed by {loc.method}" if loc.nuts3 else "not placed"))


def merge_regions(existing: dict[str, Region], regions: Iterable[Region],
                  names: Iterable[tuple[str, str]]) -> list[Region]:
    """The regions an import writes, given those stored (`existing`, updated in place).

    A region without a name keeps the stored one; a name from a code list names its region, creating it (up
    to NUTS3) when the typology has not brought it. Returns each changed region once, in its final state.
    """
    rows: dict[str, Region] = {}
    for region in regions:
        old = existing.get(region.nuts_id)
        if old is not None and old.name and not region.name:
            region = region.model_copy(update={"name": old.name})
        existing[region.nuts_id] = rows[region.nuts_id] = region
    for nuts_id, name in names:
        old = existing.get(nuts_id)
        if old is None:
            level = max(0, len(nuts_id) - 2)
            if level > 3:
                continue
            old = Region(nuts_id=nuts_id, level=level, country=nuts_id[:2], parent=nuts_id[:-1] if level else None)
        if old.name != name:
            existing[nuts_id] = rows[nuts_id] = old.model_copy(update={"name": name})
    return list(rows.values())
