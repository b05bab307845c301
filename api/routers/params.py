"""What the routers share: the vocabularies as the API names them, the NUTS query parameter, the network filter.

The enum names are part of the OpenAPI document (`HelixName`, ...); their values are the domain's vocabularies
(`ecosystem.domain.models`), which a test keeps in step.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from fastapi import Query

from ecosystem.domain.filters import NetworkFilter, network_filter
from ecosystem.services.regions import checked_nuts
from ecosystem.store.base import GraphReader


class HelixName(str, Enum):
    academia = "academia"
    industry = "industry"
    government = "government"
    civil_society = "civil_society"
    unknown = "unknown"


class UrbanRuralName(str, Enum):
    urban = "urban"
    intermediate = "intermediate"
    rural = "rural"
    unknown = "unknown"


class DegurbaName(str, Enum):
    city = "city"
    town_suburb = "town_suburb"
    rural_area = "rural_area"


NutsParam = Annotated[str | None, Query(description="NUTS code of any level, or a country code (EL, DE1, DEA23)",
                                        max_length=5)]
CountryParam = Annotated[str | None, Query(pattern="^[A-Za-z]{2}$")]
HelixListParam = Annotated[list[HelixName] | None, Query()]
UrbanRuralListParam = Annotated[list[UrbanRuralName] | None, Query()]
MinWeightParam = Annotated[int, Query(ge=1, le=10_000)]
YearParam = Annotated[int | None, Query(ge=1950, le=2100)]


def filter_of(store: GraphReader, nuts: str | None, helix: list[HelixName] | None,
              urban_rural: list[UrbanRuralName] | None, min_weight: int, year_from: int | None = None,
              year_to: int | None = None) -> NetworkFilter:
    """The network filter of a request's query parameters (the NUTS code checked against the store)."""
    code = checked_nuts(store, nuts)
    return network_filter(nuts=[code] if code else [], helix=[h.value for h in helix or []],
                          urban_rural=[u.value for u in urban_rural or []], min_weight=min_weight,
                          year_from=year_from, year_to=year_to)
