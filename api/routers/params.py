"""What the routers share: the vocabularies as the API names them, the NUTS query parameter, the network filter.

The enum names are part of the OpenAPI document (`HelixName`, ...); they are built from the domain's vocabularies
(`ecosystem.domain.models`), so the two cannot drift apart.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated

from fastapi import Query

from ecosystem.domain.errors import BadInputError
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


# The map pages are GET forms: an empty field means "any", and every value arrives as text.
FormList = Annotated[list[str] | None, Query(description="Empty values (a form's \"any\") are ignored")]
FormYear = Annotated[str | None, Query(max_length=4, description="A year (empty: any)")]


def form_year(value: str | None, field: str) -> int | None:
    """A year from a form field: empty is none; anything else must be a year between 1950 and 2100."""
    if value is None or not value.strip():
        return None
    if not value.strip().isdigit() or not 1950 <= int(value) <= 2100:
        raise BadInputError(f"{field} must be a year between 1950 and 2100, not {value!r}", field=field)
    return int(value)


def form_filter(store: GraphReader, *, nuts: str | None, helix: list[str] | None = None,
                urban_rural: list[str] | None = None, min_weight: int = 1, year_from: str | None = None,
                year_to: str | None = None) -> NetworkFilter:
    """The network filter of a map page's form: empty fields ignored, the NUTS code checked against the store,
    the vocabularies checked by `network_filter`, the years in order."""
    code = checked_nuts(store, nuts.strip()) if nuts and nuts.strip() else None
    flt = network_filter(nuts=[code] if code else [], helix=[h for h in helix or [] if h],
                         urban_rural=[u for u in urban_rural or [] if u], min_weight=min_weight,
                         year_from=form_year(year_from, "year_from"), year_to=form_year(year_to, "year_to"))
    if flt.year_from is not None and flt.year_to is not None and flt.year_from > flt.year_to:
        raise BadInputError(f"year_from {flt.year_from} is after year_to {flt.year_to}", field="year_from")
    return flt
