"""Regions (any NUTS level) and the municipalities whose own government takes part in projects."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from api.deps import StoreDep
from api.limits import HeavyDep
from api.routers.params import CountryParam, DegurbaName, NutsParam
from ecosystem.services.regions import checked_nuts, checked_region, region_profile, region_tags
from ecosystem.services.regions import municipalities as participating_municipalities

router = APIRouter(prefix="/api/v1", tags=["regions"])


@router.get("/regions/{nuts}")
def region(store: StoreDep, _: HeavyDep, nuts: Annotated[str, Path(max_length=5)]) -> dict[str, Any]:
    """A region's ecosystem: helix counts, urban-rural mix, links inside and outside, link matrices, and the
    groups its civil society serves (register categories) with those absent but present in comparable regions."""
    code = checked_region(store, nuts)
    return {**region_profile(store, code), "tags": region_tags(store, code)}


@router.get("/municipalities")
def municipalities(store: StoreDep,
                   country: CountryParam = None,
                   nuts: NutsParam = None,
                   degree_of_urbanisation: Annotated[DegurbaName | None, Query()] = None) -> dict[str, Any]:
    """Municipalities whose own government takes part in projects, with their degree of urbanisation
    (city / town_suburb / rural_area), population and the participating bodies."""
    return participating_municipalities(
        store, country=country, nuts=checked_nuts(store, nuts),
        degree_of_urbanisation=degree_of_urbanisation.value if degree_of_urbanisation else None)
