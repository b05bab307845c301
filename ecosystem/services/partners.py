"""The partner finder over a store: the recommender index built from the stored graph, cached until it changes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ecosystem.analysis.ideas import IdeaIndex
from ecosystem.analysis.ideas import partners_for_idea as rank_for_idea
from ecosystem.analysis.ideas import validate as validate_idea_filters
from ecosystem.analysis.recommend import (
    OrgInfo,
    ProjectInfo,
    RecommenderIndex,
    recommend,
)
from ecosystem.domain.errors import BadInputError, NotFoundError
from ecosystem.domain.filters import NetworkFilter
from ecosystem.services.cache import cache
from ecosystem.store.base import GraphReader

Inputs = tuple[list[OrgInfo], list[ProjectInfo], list[tuple[str, str]]]


def recommender_index(store: GraphReader) -> RecommenderIndex:
    """The recommender index for the store's current graph (built once per data version)."""
    return cache.get(store, ("recommender",), lambda: build_recommender_index(store), keep=True)


def warm(store: GraphReader) -> None:
    """Build both partner indexes (partners of an organisation, partners for an idea) for the store's current data
    version ahead of the first request (the server calls this in a thread at start), reading the store's
    organisations, projects and participations once for both; a request arriving during the build waits for it,
    through the cache, instead of building a second one."""
    read: list[Inputs] = []

    def inputs() -> Inputs:
        if not read:
            read.append(index_inputs(store))
        return read[0]

    cache.get(store, ("recommender",), lambda: build_recommender_index(store, inputs()), keep=True)
    cache.get(store, ("ideas",), lambda: build_idea_index(store, inputs()), keep=True)


def build_recommender_index(store: GraphReader, inputs: Inputs | None = None) -> RecommenderIndex:
    """The recommender index built from the store's organisations, projects and participations (no cache;
    `inputs`: those already read by `index_inputs`)."""
    return RecommenderIndex.build(*(inputs or index_inputs(store)))


def index_inputs(store: GraphReader) -> Inputs:
    """What the index is built from, as read from the store: organisations, projects, (project, org) pairs."""
    orgs = [OrgInfo(id=n["id"], name=n["name"] or n["id"], helix=n["helix"], urban_rural=n["urban_rural"],
                    country=n["country"], nuts3=n["nuts3"])
            for n in store.organisations_for_network(NetworkFilter())]
    projects = [ProjectInfo(id=pid, start_year=year, topics=tuple(topics), programme_part=part,
                            programme=programme)
                for pid, year, topics, part, programme in store.iter_projects()]
    participations = [(pid, oid) for pid, oid, _role, _ec in store.iter_participations()]
    return orgs, projects, participations


def recommendations(store: GraphReader, org_id: str, *, k: int = 10, helix: str | None = None,
                    urban_rural: str | None = None, country: str | None = None, nuts: str | None = None,
                    favour_rural_civil: bool = False, exclude_hubs: bool = False) -> dict[str, Any]:
    """Ranked partner recommendations for one organisation, each with its reasons in words and data.

    Never suggested: current partners and the organisation's own relations (`store.relations`: parent,
    subsidiaries, related bodies). `exclude_hubs`: no candidate among the top 1% of organisations by number
    of partners (the cut is made before the k best are taken, so k non-hubs come back where the graph has
    them); the answer's `hubs` states the cut (`min_partners`, `organisations`, `share`), null without it."""
    org = store.organisation(org_id)
    if org is None:
        raise NotFoundError(f"no organisation with id {org_id!r}")
    org_id = org["id"]  # a source record merged into an organisation gets that organisation's recommendations
    index = recommender_index(store)
    related = sorted({r["id"] for r in store.relations(org_id)})  # its own parent, subsidiaries, related bodies
    try:
        found = recommend(index, org_id, k=k, helix=helix, urban_rural=urban_rural, country=country, nuts=nuts,
                          favour_rural_civil=favour_rural_civil, exclude=related, exclude_hubs=exclude_hubs)
    except ValueError as exc:
        raise BadInputError(str(exc)) from exc
    return {"organisation": org_id, "k": k, "favour_rural_civil": favour_rural_civil, "exclude_hubs": exclude_hubs,
            "excluded_relations": related, "hubs": index.hubs().as_dict() if exclude_hubs else None,
            "filters": {"helix": helix, "urban_rural": urban_rural, "country": country, "nuts": nuts},
            "items": [r.as_dict() for r in found]}


def idea_index(store: GraphReader) -> IdeaIndex:
    """The index of partners for an idea, for the store's current graph (built once per data version)."""
    return cache.get(store, ("ideas",), lambda: build_idea_index(store), keep=True)


def build_idea_index(store: GraphReader, inputs: Inputs | None = None) -> IdeaIndex:
    """The idea index built from the store's organisations, projects, participations and project texts (no cache;
    `inputs`: those already read by `index_inputs`)."""
    orgs, projects, participations = inputs or index_inputs(store)
    texts: dict[str, list[str | None]] = {}
    for pid, acronym, title, topic_titles in store.iter_project_texts():
        if acronym or title or topic_titles:
            texts[pid] = [acronym, title, *topic_titles]
    return IdeaIndex.build(orgs, projects, participations, texts)


def partners_for_idea(store: GraphReader, *, topic: str | None = None, programme: str | None = None,
                      q: str | None = None, helix: str | None = None, urban_rural: str | None = None,
                      nuts: str | None = None, exclude: Sequence[str] = (), k: int = 20) -> dict[str, Any]:
    """Organisations to ask for an idea (a call topic, a programme part or framework programme, keywords),
    best first, each with its reasons; `exclude`: the organisations already in the consortium (never suggested;
    their partners and helix mix weigh in). At least one of topic, programme, q. Unknown ids in `exclude`, an
    unknown helix or urban-rural type, a malformed NUTS code: BadInputError naming the field. An idea that
    matches no stored project gives no items and a note saying why."""
    topic, programme, q = (v.strip() if v and v.strip() else None for v in (topic, programme, q))
    if not (topic or programme or q):
        raise BadInputError("say what the idea is about: a call topic, a programme (part) or keywords",
                            field="topic")
    validate_idea_filters(helix, urban_rural, nuts)
    team: list[str] = []
    for raw in exclude:
        oid = raw.strip()
        if not oid:
            continue
        org = store.organisation(oid)
        if org is None:
            raise BadInputError(f"no organisation with id {oid!r} (in exclude)", field="exclude")
        if org["id"] not in team:
            team.append(org["id"])  # a source record merged into an organisation stands for that organisation
    index = idea_index(store)
    found = rank_for_idea(index, topic=topic, programme=programme, q=q, helix=helix, urban_rural=urban_rural,
                          nuts=nuts, exclude=[oid for oid in team if oid in index.pos], k=k)
    return {"query": {"topic": topic, "programme": programme, "q": q, "helix": helix, "urban_rural": urban_rural,
                      "nuts": nuts, "exclude": team, "k": k},
            "matched_projects": found.matched_projects, "notes": [note.text for note in found.notes],
            "note_data": [note.as_dict() for note in found.notes],
            "items": [item.as_dict() for item in found.items]}
