"""Municipalities as government actors: public bodies that *are* a municipality's government.

A CORDIS PUB row named "Comune di Prato", "Ayuntamiento de Vigo", "Gemeente Helmond", "Aarhus Kommune",
"Mesto Nitra" or "Newcastle City Council" is the government of a municipality in the LAU table. The
matcher reads the municipality's name out of the organisation's name with per-language patterns, finds
it among the country's LAU municipalities (folded names; "Hamburg, Freie und Hansestadt" and
"Rozas de Madrid, Las" are matched too), and prefers the one in the organisation's own NUTS3 region.
County councils, provinces and regions are not municipalities and are left alone.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from ecosystem.domain.models import Evidence, Helix, Municipality, Organisation
from ecosystem.domain.text import fold

# Folded forms (lower case, no accents, punctuation as spaces).
_PREFIXES = (
    "freie und hansestadt", "landeshauptstadt", "hansestadt", "stadtgemeinde", "marktgemeinde", "stadt",
    "gemeinde", "gemeente", "comune di", "comune", "citta di", "ayuntamiento de", "ayuntamiento",
    "ajuntament de", "ajuntament d", "ajuntament", "concello de", "concello", "camara municipal de",
    "camara municipal do", "camara municipal da", "municipio de", "municipio", "commune de", "commune d",
    "commune", "ville de", "ville d", "mairie de", "miasto stoleczne", "urzad miasta", "miasto", "gmina miejska",
    "gmina", "statutarne mesto", "statutarni mesto", "mesto", "mestna obcina", "obcina", "obec", "municipiul",
    "orasul", "oras", "comuna", "grad", "opcina", "municipality of", "city of", "dimos", "kaupunki",
)
_SUFFIXES = (
    "city council", "borough council", "district council", "metropolitan borough council", "council",
    "municipality", "kommune", "kommun", "kaupunki", "stad", "gemeinde", "linn", "linnavalitsus", "vald",
    "vallavalitsus", "miesto savivaldybe", "rajono savivaldybe", "savivaldybe", "pilsetas dome", "novada dome",
    "onkormanyzata", "varos", "obcina", "opstina",
)
_NOT_MUNICIPAL = ("county council", "provincie", "province", "provincia", "region", "regione", "departement",
                  "diputacion", "kreis", "landkreis", "wojewodztwo", "powiat", "judetul", "perifereia")
_PREFIX_RE = re.compile(r"^(?:" + "|".join(re.escape(p) for p in sorted(_PREFIXES, key=len, reverse=True))
                        + r")\s+(.+)$")
_SUFFIX_RE = re.compile(r"^(.+?)\s+(?:" + "|".join(re.escape(s) for s in sorted(_SUFFIXES, key=len, reverse=True))
                        + r")$")


def municipality_name_in(name: str) -> str | None:
    """The (folded) municipality name inside a public body's name, or None when it names no municipality."""
    folded = fold(name)
    if any(f" {word} " in f" {folded} " for word in _NOT_MUNICIPAL):
        return None
    for pattern in (_PREFIX_RE, _SUFFIX_RE):
        match = pattern.match(folded)
        if match:
            inner = match.group(1).strip()
            inner = re.sub(r"^(?:de|di|d|da|do|del|de la|of|van|the)\s+", "", inner)
            return inner or None
    return None


def _name_variants(m: Municipality) -> set[str]:
    names = {m.name}
    if m.name_latn:
        names.add(m.name_latn)
    out: set[str] = set()
    for name in names:
        out.add(fold(name))
        if "," in name:
            head, _, tail = name.partition(",")
            out.add(fold(head))
            out.add(fold(f"{tail.strip()} {head}"))
        if "/" in name:
            out.update(fold(part) for part in name.split("/"))
    return {v for v in out if v}


@dataclass(frozen=True)
class MunicipalMatch:
    municipality: Municipality
    extracted: str
    note: str

    @property
    def key(self) -> str:
        return f"{self.municipality.country}:{self.municipality.lau_code}"


class MunicipalityMatcher:
    """Finds the municipality a public body governs."""

    def __init__(self, municipalities: Iterable[Municipality], to_2021: object = None) -> None:
        self._by_name: dict[tuple[str, str], list[Municipality]] = defaultdict(list)
        for m in municipalities:
            for variant in _name_variants(m):
                self._by_name[(m.country, variant)].append(m)
        self._to_2021 = to_2021  # NutsVersions, to compare the LAU table's NUTS3 with the organisation's

    def _nuts3_2021(self, m: Municipality) -> list[str]:
        if not m.nuts3:
            return []
        if self._to_2021 is None or not m.nuts3_source_version or m.nuts3_source_version == "2021":
            return [m.nuts3]
        return list(self._to_2021.to_2021(m.nuts3, m.nuts3_source_version))  # type: ignore[attr-defined]

    def _lookup(self, country: str, extracted: str, nuts3: str | None) -> list[Municipality]:
        found = self._by_name.get((country, extracted), [])
        if not found and extracted.endswith("s"):  # Scandinavian genitive: "Gotlands kommun"
            found = self._by_name.get((country, extracted[:-1]), [])
        if not found and nuts3:  # "Newcastle City Council" governs "Newcastle upon Tyne" in its own region
            prefix = extracted + " "
            found = [m for (c, name), ms in self._by_name.items() if c == country and name.startswith(prefix)
                     for m in ms if nuts3 in self._nuts3_2021(m)]
            found = list({m.lau_code: m for m in found}.values())
            if len(found) != 1:
                return []
        return found

    def match(self, org: Organisation) -> MunicipalMatch | None:
        """The municipality this organisation governs, when it is a municipal government."""
        if org.helix.value is not Helix.GOVERNMENT:
            return None
        country = org.location.country or org.country
        if not country:
            return None
        for name in [org.name, *org.names]:
            extracted = municipality_name_in(name)
            if not extracted:
                continue
            found = self._lookup(country, extracted, org.location.nuts3)
            if not found:
                continue
            if len(found) > 1 and org.location.nuts3:
                local = [m for m in found if org.location.nuts3 in self._nuts3_2021(m)]
                found = local or found
            found = sorted(found, key=lambda m: (-(m.population or 0), m.lau_code))
            note = f"'{name}' governs {found[0].name} (LAU {country} {found[0].lau_code})"
            if len(found) > 1:
                note += f"; {len(found)} municipalities share the name, the most populous taken"
            return MunicipalMatch(found[0], extracted, note)
        return None


def link_municipality(org: Organisation, matcher: MunicipalityMatcher) -> Organisation:
    """The organisation with its governed municipality as an identifier, a tag and helix evidence."""
    found = matcher.match(org)
    identifiers = {k: v for k, v in org.identifiers.items() if k != "lau"}
    tags = [t for t in org.tags if t != "municipal government"]
    evidence = [e for e in org.helix.evidence if e.source != "helixmap-municipal"]
    if found is not None:
        identifiers["lau"] = found.key
        tags.append("municipal government")
        evidence.append(Evidence(source="helixmap-municipal", field="name", value=found.note,
                                 helix=Helix.GOVERNMENT, confidence=0.9))
    from ecosystem.domain.helix import decide_helix, merge_evidence

    evidence = merge_evidence([], evidence)  # the canonical order, as every merge writes it
    if identifiers == org.identifiers and tags == org.tags and evidence == org.helix.evidence:
        return org

    return org.model_copy(update={"identifiers": identifiers, "tags": tags, "helix": decide_helix(evidence)})


def lau_code_forms(code: str, width: int | None) -> list[str]:
    """The forms a source's municipality code may take in the LAU table: as given, padded with leading zeros to
    the LAU width of its country (`301` -> `0301` in Norway, where codes have four digits; `0091` -> `091`), and
    without leading zeros (`0301` -> `301`, where the table drops them). Letters are never padded (`2A004`)."""
    code = code.strip()
    forms = [code]
    if code.isdigit():
        plain = code.lstrip("0")
        if width and len(code) != width:
            forms.append(plain.zfill(width))  # "91" or "0091" -> "091"
        forms.append(plain)
    return [f for f in dict.fromkeys(forms) if f]
