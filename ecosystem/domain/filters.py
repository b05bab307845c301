"""The filter shared by networks, maps, exports and region views, validated once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ecosystem.domain.errors import BadInputError
from ecosystem.domain.models import HELICES, URBAN_RURAL
from ecosystem.domain.nuts import is_nuts_code, nuts_prefix

__all__ = ["NetworkFilter", "network_filter"]


@dataclass(frozen=True)
class NetworkFilter:
    """Filters shared by the network, the map and the exports.

    `nuts` takes any level: a country code, or a NUTS1, NUTS2 or NUTS3 code.
    """

    nuts: tuple[str, ...] = ()
    helix: tuple[str, ...] = ()
    urban_rural: tuple[str, ...] = ()
    country: tuple[str, ...] = ()
    year_from: int | None = None
    year_to: int | None = None
    min_weight: int = 1

    def is_empty(self) -> bool:
        return not (self.nuts or self.helix or self.urban_rural or self.country
                    or self.year_from or self.year_to) and self.min_weight <= 1


def network_filter(*, nuts: Iterable[str] = (), helix: Iterable[str] = (), urban_rural: Iterable[str] = (),
                   country: Iterable[str] = (), year_from: int | None = None, year_to: int | None = None,
                   min_weight: int = 1) -> NetworkFilter:
    """A validated filter; bad values are bad input naming the field."""
    codes = []
    for code in nuts:
        if not is_nuts_code(code):
            raise BadInputError(f"not a NUTS or country code: {code!r}", field="nuts")
        codes.append(nuts_prefix(code))
    for value in helix:
        if value not in HELICES:
            raise BadInputError(f"unknown helix {value!r} (one of {', '.join(HELICES)})", field="helix")
    for value in urban_rural:
        if value not in URBAN_RURAL:
            raise BadInputError(f"unknown urban-rural type {value!r} (one of {', '.join(URBAN_RURAL)})",
                                field="urban_rural")
    if min_weight < 1:
        raise BadInputError("min_weight must be at least 1", field="min_weight")
    return NetworkFilter(nuts=tuple(sorted(set(codes))), helix=tuple(sorted(set(helix))),
                         urban_rural=tuple(sorted(set(urban_rural))),
                         country=tuple(sorted({nuts_prefix(c) for c in country})),
                         year_from=year_from, year_to=year_to, min_weight=min_weight)
