"""The partner finder over a store: the recommender index built from the stored graph, cached until it changes."""

from __future__ import annotations

from typing import Any

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


def recommender_index(store: GraphReader) -> RecommenderIndex:
    """The recommender index for the store's current graph (built once per data version)."""
    return cache.get(store, ("recommender",), lambda: build_recommender_index(store))


def warm(store: GraphReader) -> None:
    """Build the recommender index for the store's current data version ahead of the first request (the
    server calls this in a thread at start); a request arriving during the build waits for it, through the
    cache, instead of building a second one."""
    recommender_index(store)


def build_recommender_index(store: GraphReader) -> RecommenderIndex:
    """The recommender index built from the store's organisations, projects and participations (no cache)."""
    return RecommenderIndex.build(*index_inputs(store))


def index_inputs(store: GraphReader) -> tuple[list[OrgInfo], list[ProjectInfo], list[tuple[str, str]]]:
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
