"""Domain records: organisations, projects, participations, regions and their provenance.

Pydantic models sit at the boundaries (importers, API); hot loops use plain tuples.
No personal data about individuals is modelled: no contact persons, phones or e-mails.
"""

from __future__ import annotations

from datetime import date
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field


class Helix(str, Enum):
    """The four helices of an innovation ecosystem, plus unknown."""

    ACADEMIA = "academia"
    INDUSTRY = "industry"
    GOVERNMENT = "government"
    CIVIL_SOCIETY = "civil_society"
    UNKNOWN = "unknown"


class UrbanRural(str, Enum):
    """Eurostat urban-rural typology of a NUTS3 region (URBN_TYPE 1, 2, 3)."""

    URBAN = "urban"
    INTERMEDIATE = "intermediate"
    RURAL = "rural"
    UNKNOWN = "unknown"


class Degurba(str, Enum):
    """Eurostat degree of urbanisation of a municipality (DEGURBA 1, 2, 3)."""

    CITY = "city"
    TOWN_SUBURB = "town_suburb"
    RURAL_AREA = "rural_area"


URBN_TYPE_CODES = {"1": UrbanRural.URBAN, "2": UrbanRural.INTERMEDIATE, "3": UrbanRural.RURAL}
DEGURBA_CODES = {"1": Degurba.CITY, "2": Degurba.TOWN_SUBURB, "3": Degurba.RURAL_AREA}

# The vocabularies as plain strings, in the enums' order: declared once here, used as keys everywhere.
HELICES: tuple[str, ...] = tuple(h.value for h in Helix)
FOUR_HELICES: tuple[str, ...] = HELICES[:4]
URBAN_RURAL: tuple[str, ...] = tuple(u.value for u in UrbanRural)
DEGREES_OF_URBANISATION: tuple[str, ...] = tuple(d.value for d in Degurba)


class _Record(BaseModel):
    model_config = ConfigDict(frozen=False, extra="forbid", use_enum_values=False)


class Provenance(_Record):
    """Where a stored fact came from: source, file or URL, record id, licence."""

    source: str
    file: str | None = None
    record: str | None = None
    licence: str

    def key(self) -> tuple[str, str | None, str | None]:
        return (self.source, self.file, self.record)


class Evidence(_Record):
    """One piece of evidence for an organisation's helix."""

    source: str
    field: str
    value: str
    helix: Helix
    confidence: float = Field(ge=0.0, le=1.0)


class HelixAssignment(_Record):
    value: Helix = Helix.UNKNOWN
    confidence: float = 0.0
    evidence: list[Evidence] = Field(default_factory=list)


class Location(_Record):
    """What a source says about where an organisation is (raw), and what helixmap resolved."""

    country: str | None = None
    city: str | None = None
    postcode: str | None = None
    street: str | None = None
    lat: float | None = None
    lon: float | None = None
    nuts_code: str | None = None
    municipality_code: str | None = None  # a LAU code given by the source (national municipality code)
    # resolved
    nuts3: str | None = None
    method: str | None = None  # nuts | municipality | postcode | coordinates | city | place
    urban_rural: UrbanRural = UrbanRural.UNKNOWN
    lau_code: str | None = None
    degurba: Degurba | None = None
    notes: list[str] = Field(default_factory=list)


class Organisation(_Record):
    id: str
    name: str
    short_name: str | None = None
    names: list[str] = Field(default_factory=list)
    country: str | None = None
    helix: HelixAssignment = Field(default_factory=HelixAssignment)
    location: Location = Field(default_factory=Location)
    identifiers: dict[str, str] = Field(default_factory=dict)
    sme: bool | None = None
    url: str | None = None
    acronyms: list[str] = Field(default_factory=list)
    established: int | None = None
    status: str | None = None  # e.g. ROR "active", "inactive", "withdrawn"
    tags: list[str] = Field(default_factory=list)  # a register's own categories
    sources: list[Provenance] = Field(default_factory=list)
    # set on an organisation that entity resolution made from several source records (see ecosystem/entities.py)
    records: list[str] = Field(default_factory=list)  # the ids of the source records it is made of
    same_as: list[SameAs] = Field(default_factory=list)  # why: the judged pairs that joined them


class SameAs(_Record):
    """Why two source records are one organisation: a pair judged by entity resolution."""

    left: str
    right: str
    score: float
    reasons: list[str] = Field(default_factory=list)


class OrganisationRelation(_Record):
    """A link between organisations that is not collaboration: parent, child, related, successor..."""

    source_id: str
    target_id: str
    kind: str
    source: Provenance


class Place(_Record):
    """A populated place (GeoNames) for geocoding a city name within a country."""

    geonames_id: str
    name: str
    ascii_name: str | None = None
    alternate_names: list[str] = Field(default_factory=list)
    country: str
    lat: float
    lon: float
    population: int | None = None
    admin1: str | None = None


class Project(_Record):
    id: str
    acronym: str | None = None
    title: str | None = None
    programme: str | None = None
    programme_part: str | None = None
    funding_scheme: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    start_year: int | None = None
    end_year: int | None = None
    topics: list[str] = Field(default_factory=list)
    topic_titles: list[str] = Field(default_factory=list)
    objective: str | None = None
    ec_max_contribution: float | None = None
    total_cost: float | None = None
    sources: list[Provenance] = Field(default_factory=list)


class Participation(_Record):
    project_id: str
    organisation_id: str
    role: str | None = None
    ec_contribution: float | None = None
    source: Provenance


class Region(_Record):
    """A NUTS region (2021 version) at any level, with its Eurostat typologies."""

    nuts_id: str
    level: int = Field(ge=0, le=3)
    country: str
    name: str | None = None
    name_latn: str | None = None
    parent: str | None = None
    urban_rural: UrbanRural = UrbanRural.UNKNOWN
    mount_type: int | None = None
    coast_type: int | None = None
    label_lon: float | None = None
    label_lat: float | None = None
    source: Provenance | None = None


class Municipality(_Record):
    """A local administrative unit (LAU) with its degree of urbanisation."""

    country: str
    lau_code: str
    name: str
    name_latn: str | None = None
    nuts3: str | None = None  # as the LAU table gives it, in `nuts3_source_version` (converted when resolving)
    nuts3_source_version: str | None = None
    population: int | None = None
    area_km2: float | None = None
    degurba: Degurba | None = None
    source: Provenance | None = None


Organisation.model_rebuild()
