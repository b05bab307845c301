"""What the routers share: the vocabularies as the API names them, the NUTS query parameter, the network filter.

The enum names are part of the OpenAPI document (`HelixName`, ...); they are built from the domain's vocabularies
(`ecosystem.domain.models`), so the two cannot drift apart.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated

from fastapi import Query

from ecosystem.domain.filters import NetworkFilter, network_filter
from ecosystem.domain.models import Degurba, Helix, UrbanRural
from ecosystem.services.regions import checked_nuts
from ecosystem.store.base import GraphReader

if TYPE_CHECKING:  # for the type checker the API's names are the domain's enums
    HelixName = Helix
    UrbanRuralName = UrbanRural
    DegurbaName = Degurba
else:  # at run time, enums built from the domain's vocabularies, under the names the OpenAPI document uses
    HelixName = Enum("HelixName", {h.value: h.value for h in Helix}, type=str, module=__name__)
    UrbanRuralName = Enum("UrbanRuralName", {u.value: u.value for u in UrbanRural}, type=str, module=__name__)
    DegurbaName = Enum("DegurbaName", {d.value: d.value for d in Degurba}, type=str, module=__name__)


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
