"""Organisations: search, profiles, partner recommendations and network metrics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from api.deps import StoreDep
from api.limits import HeavyDep
from api.routers.params import CountryParam, HelixName, NutsParam, UrbanRuralName
from ecosystem.domain.nuts import nuts_prefix
from ecosystem.services.insights import organisation_metrics
from ecosystem.services.organisations import organisation_profile
from ecosystem.services.partners import recommendations as find_partners
from ecosystem.services.regions import checked_nuts

router = APIRouter(prefix="/api/v1/organisations", tags=["organisations"])

OrgId = Annotated[str, Path(max_length=100)]


@router.get("")
def search(store: StoreDep,
           q: Annotated[str | None, Query(max_length=200, description="Name words (case and accents ignored)")] = None,
           helix: HelixName | None = None,
           country: CountryParam = None,
           nuts: NutsParam = None,
           urban_rural: UrbanRuralName | None = None,
           limit: Annotated[int, Query(ge=1, le=500)] = 20,
           offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
           tag: Annotated[str | None, Query(min_length=1, max_length=200,
                                            description="A register's category, as the profile shows it")] = None,
           programme: Annotated[str | None, Query(min_length=1, max_length=40,
                                                  description="A framework programme: H2020, HORIZON, FP7")] = None,
           ) -> dict[str, Any]:
    """Search organisations by name, helix, country, region (any NUTS level), urban-rural type and tag."""
    total, items = store.search_organisations(
        q, helix=helix.value if helix else None, country=country, nuts=checked_nuts(store, nuts),
        urban_rural=urban_rural.value if urban_rural else None, limit=limit, offset=offset,
        tag=tag, programme=programme)
    return {"total": total, "limit": limit, "offset": offset, "items": items}


@router.get("/{org_id}")
def profile(store: StoreDep, org_id: OrgId,
            partners_limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """An organisation's profile: names, helix with evidence, region, projects, partners, sources."""
    return organisation_profile(store, org_id, partners_limit=partners_limit)


@router.get("/{org_id}/recommendations")
def recommendations(store: StoreDep, _: HeavyDep, org_id: OrgId,
                    k: Annotated[int, Query(ge=1, le=100)] = 10,
                    helix: HelixName | None = None,
                    urban_rural: UrbanRuralName | None = None,
                    country: CountryParam = None,
                    nuts: NutsParam = None,
                    favour_rural_civil: bool = False,
                    exclude_hubs: Annotated[bool, Query(description=(
                        "Leave out the biggest hubs: the top 1% of organisations by number of partners "
                        "(the answer's `hubs` states the cut)"))] = False) -> dict[str, Any]:
    """Organisations this one should work with next (never a current partner), best first, each with its
    reasons: shared partners by name, shared topics and programme parts, the helix it fills, geography,
    recent activity. `favour_rural_civil` re-ranks in favour of rural and civil-society candidates;
    `exclude_hubs` leaves out the top 1% of organisations by number of partners."""
    return find_partners(store, org_id, k=k, helix=helix.value if helix else None,
                         urban_rural=urban_rural.value if urban_rural else None,
                         country=nuts_prefix(country) if country else None, nuts=checked_nuts(store, nuts),
                         favour_rural_civil=favour_rural_civil, exclude_hubs=exclude_hubs)


@router.get("/{org_id}/metrics")
def metrics(store: StoreDep, _: HeavyDep, org_id: OrgId) -> dict[str, Any]:
    """Degree and weighted degree, partners by helix and urban-rural type, shares of links crossing them,
    betweenness and Gould-Fernandez brokerage roles, and the organisation's cluster."""
    return organisation_metrics(store, store.canonical_id(org_id))
