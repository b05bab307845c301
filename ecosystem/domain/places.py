"""Geocoding a city name within a country with GeoNames places: the fallback when a source gives neither
coordinates nor a postcode.

Names are compared folded (case, accents, transliteration: `ecosystem.text.fold`), under the place's name,
ASCII name and alternate names, and a few cleaned forms of the source's city ("PARIS 15", "AVIGNON CEDEX 9",
"DERIO (BIZKAIA)", "TORINO TO", "ST DENIS"). Several places with one name in a country are resolved by the
region hint when one is given, else by population, and the note says so.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable

from ecosystem.domain.models import Place
from ecosystem.domain.nuts import normalise_country
from ecosystem.domain.text import fold

__all__ = ["CITY_ALIASES", "PlaceIndex", "RegionOf", "city_keys"]

# English or local names that sources use for a municipality named otherwise in the LAU table
# (folded source name -> folded LAU name), per country.
CITY_ALIASES: dict[str, dict[str, str]] = {
    "AT": {"vienna": "wien"},
    "BE": {"brussels": "bruxelles", "antwerp": "antwerpen", "ghent": "gent", "louvain la neuve":
           "ottignies louvain la neuve"},
    "BG": {"sofia": "stolichna", "sofiya": "stolichna"},
    "CZ": {"prague": "praha"},
    "DE": {"munich": "munchen", "cologne": "koln", "nuremberg": "nurnberg"},
    "DK": {"copenhagen": "kobenhavn"},
    "EL": {"athina": "athens", "athinai": "athens", "piraeus": "pireas", "peiraias": "pireas",
           "peiraeus": "pireas", "heraklion": "iraklio", "irakleio": "iraklio", "iraklion": "iraklio",
           "patras": "patra", "marousi": "amaroussio", "maroussi": "amaroussio", "amarousio": "amaroussio",
           "agia paraskevi": "aghia paraskevi", "thessaloniki": "thessaloniki"},
    "IT": {"rome": "roma", "milan": "milano", "turin": "torino", "naples": "napoli", "florence": "firenze",
           "venice": "venezia", "genoa": "genova", "padua": "padova"},
    "NL": {"the hague": "s gravenhage", "den haag": "s gravenhage", "hague": "s gravenhage"},
    "PL": {"warsaw": "warszawa", "cracow": "krakow"},
    "RO": {"bucharest": "bucuresti"},
    "SE": {"gothenburg": "goteborg"},
    "ES": {"seville": "sevilla", "saragossa": "zaragoza"},
}

RegionOf = Callable[[float, float], "str | None"]  # (lon, lat) -> NUTS3 code, e.g. ShapeIndex.lookup

_NOISE = re.compile(r"\b(cedex|cdx|bp|cs)\b.*$|\d+")
_SPLIT = re.compile(r"\s*(?:,|/|\(| - )\s*")
_SAINT = {"st": "saint", "ste": "sainte", "s": "san"}
_UMLAUT_COUNTRIES = {"DE", "AT", "CH", "LU", "LI"}
_UMLAUT_PAIRS = re.compile(r"(?<=[a-z])(ae|oe|ue)")


def city_keys(city: str, country: str | None = None) -> list[str]:
    """Folded forms of a source's city, most specific first: "TORINO TO" -> ["torino to", "torino"]."""
    keys: list[str] = []

    def add(key: str) -> None:
        key = " ".join(key.split())
        if key and key not in keys:
            keys.append(key)

    whole = fold(city)
    first = fold(_SPLIT.split(city)[0])
    for candidate in (whole, first, _NOISE.sub(" ", whole), _NOISE.sub(" ", first)):
        add(candidate)
        words = candidate.split()
        while len(words) > 1 and len(words[-1]) <= 2:  # a trailing province code or district letter
            words.pop()
        add(" ".join(words))
    for key in list(keys):
        words = key.split()
        if words and words[0] in _SAINT and len(words) > 1:
            add(" ".join([_SAINT[words[0]], *words[1:]]))
    if country in _UMLAUT_COUNTRIES:  # MUENSTER -> munster, as fold gives for Münster
        for key in list(keys):
            add(_UMLAUT_PAIRS.sub(lambda m: m.group()[0], key))
    aliases = CITY_ALIASES.get(country or "", {})
    for key in list(keys):
        if key in aliases:
            add(aliases[key])
    return keys


class PlaceIndex:
    """Folded place names per country, for `locate`.

    `region_of(lon, lat)`, when given (e.g. `ShapeIndex.lookup`), lets a NUTS hint choose between places
    of one name; without it the hint is ignored and population decides.
    """

    def __init__(self, places: Iterable[Place], *, region_of: RegionOf | None = None) -> None:
        self._by_key: dict[tuple[str, str], list[Place]] = defaultdict(list)
        self._region_of = region_of
        self._cache: dict[tuple[str, str, str], tuple[float, float, str | None] | None] = {}
        count = 0
        for place in places:
            count += 1
            country = normalise_country(place.country) or place.country
            keys = {fold(place.name), fold(place.ascii_name)} | {fold(a) for a in place.alternate_names}
            for key in keys:
                if key:
                    self._by_key[(country, key)].append(place)
        self.size = count

    def candidates(self, city: str, country: str) -> tuple[str, list[Place]]:
        """(the matched key, the places under it) for the first key of `city` that names a place; failing
        that, the first word of it (4 letters or more) that does ("BRNO STRED" -> brno)."""
        cc = normalise_country(country) or country
        keys = city_keys(city, cc)
        words = [w for key in keys for w in key.split() if len(w) >= 4 and w not in keys]
        for key in [*keys, *dict.fromkeys(words)]:
            found = self._by_key.get((cc, key))
            if found:
                unique = {p.geonames_id: p for p in found}
                return key, sorted(unique.values(), key=lambda p: (-(p.population or 0), int(p.geonames_id)))
        return "", []

    def locate(self, city: str, country: str, *,
               nuts3_hint: str | None = None) -> tuple[float, float, str | None] | None:
        """(lat, lon, note) of the place called `city` in `country`, or None.

        The note is None for an unambiguous name; otherwise it reports the ambiguity and the choice
        ("3 places named Valencia in ES; took the most populous, Valencia (pop. 800,000)").
        """
        if not city or not country:
            return None
        cache_key = (country, city, nuts3_hint or "")
        if cache_key in self._cache:
            return self._cache[cache_key]
        result = self._locate(city, country, nuts3_hint)
        self._cache[cache_key] = result
        return result

    def _locate(self, city: str, country: str, nuts3_hint: str | None) -> tuple[float, float, str | None] | None:
        cc = normalise_country(country) or country
        key, found = self.candidates(city, cc)
        if not found:
            return None
        partial = "" if key in city_keys(city, cc) else f" (by its word {key!r})"
        if len(found) == 1:
            return found[0].lat, found[0].lon, (f"city {city!r} placed{partial}" if partial else None)
        n = len(found)
        if nuts3_hint and self._region_of is not None:
            hint = nuts3_hint.strip().upper()
            inside = [p for p in found if (self._region_of(p.lon, p.lat) or "").startswith(hint)]
            if inside:
                best = inside[0]
                more = "" if len(inside) == 1 else f" ({len(inside)} there; took the most populous)"
                return best.lat, best.lon, (f"{n} places named {city!r}{partial} in {cc}; took the one in {hint}, "
                                            f"{_describe(best)}{more}")
        best = found[0]
        return best.lat, best.lon, (f"{n} places named {city!r}{partial} in {cc}; took the most populous, "
                                    f"{_describe(best)}")


def _describe(place: Place) -> str:
    pop = f"pop. {place.population:,}" if place.population else "population unknown"
    admin = f", admin1 {place.admin1}" if place.admin1 else ""
    return f"{place.name} ({pop}{admin}, GeoNames {place.geonames_id})"
