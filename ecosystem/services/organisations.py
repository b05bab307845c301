"""Organisation profiles: names, helix with evidence, region, projects, partners and sources in one view."""

from __future__ import annotations

from typing import Any

from ecosystem.analysis.placement import coordinates_rejected, real_point
from ecosystem.domain.errors import NotFoundError
from ecosystem.services.snapshot import in_snapshot
from ecosystem.store.base import GraphReader

LOCATION_FIELDS = ("city", "postcode", "street", "lat", "lon", "nuts_code")


@in_snapshot
def organisation_profile(store: GraphReader, org_id: str, *, partners_limit: int = 100) -> dict[str, Any]:
    """An organisation's profile; a source record merged into an organisation answers as that organisation."""
    org = store.organisation(org_id)
    if org is None:
        raise NotFoundError(f"no organisation with id {org_id!r}")
    org_id = org["id"]
    loc = org.get("location", {})
    return {
        "id": org["id"], "name": org["name"], "short_name": org.get("short_name"), "names": org.get("names", []),
        "country": org.get("country"), "identifiers": org.get("identifiers", {}), "sme": org.get("sme"),
        "url": org.get("url"),
        "tags": profile_tags(org),
        "helix": org["helix"],
        "region": _region(store, loc),
        "location": profile_location(loc),
        "relations": store.relations(org_id),
        "projects": store.organisation_projects(org_id),
        "partners": store.partners(org_id, limit=partners_limit),
        "sources": org.get("sources", []),
        "records": org.get("records", []),
        "same_as": org.get("same_as", []),
    }


def profile_location(loc: dict[str, Any]) -> dict[str, Any]:
    """The stored location fields, with the coordinates only when they are a place: never (0, 0), out of range
    or coordinates the location resolver rejected (its notes say so)."""
    out = {k: loc.get(k) for k in LOCATION_FIELDS}
    if real_point(loc.get("lat"), loc.get("lon")) is None or coordinates_rejected(loc.get("notes")):
        out["lat"] = out["lon"] = None
    return out


# tags a source gives with its name as a prefix ("ror:education"), and tags helixmap adds itself
_PREFIXED_TAG_SOURCES = ("ror",)
_OWN_TAGS = {"municipal government": "helixmap (municipality link)"}
_NOT_CATEGORY_SOURCES = frozenset({"cordis", "ror"})


def profile_tags(org: dict[str, Any]) -> list[dict[str, str | None]]:
    """The organisation's tags with their source: ROR types (`ror:...`) from ROR, the municipality link's own
    tag, and a register's categories from the register (the organisation's sources other than CORDIS and ROR)."""
    registers = [s.get("source") for s in org.get("sources", []) if s.get("source") not in _NOT_CATEGORY_SOURCES]
    out: list[dict[str, str | None]] = []
    for tag in org.get("tags", []):
        prefix = tag.split(":", 1)[0] if ":" in tag else None
        if prefix in _PREFIXED_TAG_SOURCES:
            source: str | None = prefix
        else:
            source = _OWN_TAGS.get(tag) or (", ".join(dict.fromkeys(str(r) for r in registers)) or None)
        out.append({"tag": tag, "source": source})
    return out


def _region(store: GraphReader, loc: dict[str, Any]) -> dict[str, Any]:
    """Where an organisation was placed: NUTS3 region, urban-rural type, municipality, and how."""
    region = store.region(loc["nuts3"]) if loc.get("nuts3") else None
    return {"nuts3": loc.get("nuts3"), "name": region.get("name") if region else None,
            "urban_rural": loc.get("urban_rural"), "degree_of_urbanisation": loc.get("degurba"),
            "lau_code": loc.get("lau_code"), "located_by": loc.get("method"), "notes": loc.get("notes", [])}
