"""What one import writes (`ImportBatch`) and what it did (`ImportReport`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ecosystem.domain.location import NutsConversion, RegionShape
from ecosystem.domain.models import (
    Municipality,
    Organisation,
    OrganisationRelation,
    Participation,
    Place,
    Project,
    Region,
)

__all__ = ["ImportBatch", "ImportReport"]


@dataclass
class ImportBatch:
    """Everything one import writes, validated before the store is touched.

    A store applies a batch in one transaction: all of it or nothing.
    """

    label: str = "import"
    organisations: list[Organisation] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    participations: list[Participation] = field(default_factory=list)
    regions: list[Region] = field(default_factory=list)
    region_names: list[tuple[str, str]] = field(default_factory=list)
    shapes: list[RegionShape] = field(default_factory=list)
    municipalities: list[Municipality] = field(default_factory=list)
    postcodes: list[tuple[str, str, str, str]] = field(default_factory=list)  # country, postcode, nuts3, version
    conversions: list[NutsConversion] = field(default_factory=list)
    relations: list[OrganisationRelation] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def touches_regions(self) -> bool:
        return bool(self.regions or self.region_names or self.shapes or self.municipalities
                    or self.postcodes or self.conversions or self.places)

    def size(self) -> int:
        return (len(self.organisations) + len(self.projects) + len(self.participations)
                + len(self.regions) + len(self.region_names) + len(self.shapes)
                + len(self.municipalities) + len(self.postcodes) + len(self.conversions)
                + len(self.relations) + len(self.places))


@dataclass
class ImportReport:
    """What an import did: rows seen and rows that changed the store."""

    label: str
    organisations: int = 0
    projects: int = 0
    participations: int = 0
    regions: int = 0
    municipalities: int = 0
    postcodes: int = 0
    changed: int = 0
    located: int = 0
    unlocated: dict[str, int] = field(default_factory=dict)
    merged: int = 0  # source records merged into another organisation by entity resolution (all, not only new)
    uncertain: int = 0  # pairs entity resolution could not decide (`helixmap resolve --review FILE` lists them)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()
