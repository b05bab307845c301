"""Merging what several imports say about one organisation or project, idempotently.

Rules: the first name seen stays the primary name and every other spelling is kept in `names`;
a field that is empty in the store is filled by a new value; a new non-empty value replaces an old
one for the descriptive fields; evidence, identifiers and sources are unions. Merging a record
with itself changes nothing.
"""

from __future__ import annotations

from ecosystem.domain.helix import decide_helix, merge_evidence
from ecosystem.domain.models import Location, Organisation, Project, Provenance

ROLE_RANK = {"coordinator": 5, "participant": 4, "partner": 3, "beneficiary": 3,
             "thirdparty": 2, "internationalpartner": 1, "associatedpartner": 1}


def role_rank(role: str | None) -> int:
    return ROLE_RANK.get((role or "").replace("_", "").replace(" ", "").lower(), 0)


def stronger_role(a: str | None, b: str | None) -> str | None:
    """The higher of two roles (coordinator > participant > partner > thirdParty > ...)."""
    if not a:
        return b
    if not b:
        return a
    return a if role_rank(a) >= role_rank(b) else b


def merge_sources(old: list[Provenance], new: list[Provenance]) -> list[Provenance]:
    seen = {p.key(): p for p in old}
    for p in new:
        seen.setdefault(p.key(), p)
    return sorted(seen.values(), key=lambda p: (p.source, p.file or "", p.record or ""))


def _merge_names(primary: str, names: list[str], more: list[str]) -> list[str]:
    out = list(names)
    for n in more:
        if n and n != primary and n not in out:
            out.append(n)
    return out


def merge_location(old: Location, new: Location) -> Location:
    """Raw location fields: new non-empty values win (a newer source is a better witness)."""
    data = old.model_dump()
    for key in ("country", "city", "postcode", "street", "lat", "lon", "nuts_code", "municipality_code"):
        value = getattr(new, key)
        if value not in (None, ""):
            data[key] = value
    return Location.model_validate(data)


def merge_organisation(old: Organisation | None, new: Organisation) -> Organisation:
    """Fold a new record of the same organisation into the stored one."""
    if old is None:
        names = _merge_names(new.name, [], new.names)
        helix = decide_helix(merge_evidence([], new.helix.evidence))
        return new.model_copy(update={"names": names, "helix": helix,
                                      "sources": merge_sources([], new.sources)})
    primary = old.name or new.name
    names = _merge_names(primary, old.names, [new.name, *new.names])
    evidence = merge_evidence(old.helix.evidence, new.helix.evidence)
    return Organisation(
        id=old.id,
        name=primary,
        short_name=new.short_name or old.short_name,
        names=names,
        country=new.country or old.country,
        helix=decide_helix(evidence),
        location=merge_location(old.location, new.location),
        identifiers={**old.identifiers, **new.identifiers},
        sme=new.sme if new.sme is not None else old.sme,
        url=new.url or old.url,
        acronyms=list(dict.fromkeys([*old.acronyms, *new.acronyms])),
        established=new.established or old.established,
        status=new.status or old.status,
        tags=list(dict.fromkeys([*old.tags, *new.tags])),
        sources=merge_sources(old.sources, new.sources),
    )


def merge_project(old: Project | None, new: Project) -> Project:
    """Fold a new record of the same project into the stored one."""
    if old is None:
        return new.model_copy(update={"sources": merge_sources([], new.sources)})
    data = old.model_dump()
    for key, value in new.model_dump().items():
        if key in ("id", "sources", "topics", "topic_titles"):
            continue
        if value not in (None, "", []):
            data[key] = value
    data["topics"] = list(dict.fromkeys([*old.topics, *new.topics]))
    data["topic_titles"] = list(dict.fromkeys([*old.topic_titles, *new.topic_titles]))
    merged = Project.model_validate(data)
    merged.sources = merge_sources(old.sources, new.sources)
    return merged
