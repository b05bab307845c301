"""Organisation profiles: names, helix with evidence, region, projects, partners and sources in one view."""

from __future__ import annotations

from typing import Any

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
        "helix": org["helix"],
        "region": _region(store, loc),
        "location": {k: loc.get(k) for k in LOCATION_FIELDS},
        "relations": store.relations(org_id),
        "projects": store.organisation_projects(org_id),
        "partners": store.partners(org_id, limit=partners_limit),
        "sources": org.get("sources", []),
        "records": org.get("records", []),
        "same_as": org.get("same_as", []),
    }


def _region(store: GraphReader, loc: dict[str, Any]) -> dict[str, Any]:
    """Where an organisation was placed: NUTS3 region, urban-rural type, municipality, and how."""
    region = store.region(loc["nuts3"]) if loc.get("nuts3") else None
    return {"nuts3": loc.get("nuts3"), "name": region.get("name") if region else None,
            "urban_rural": loc.get("urban_rural"), "degree_of_urbanisation": loc.get("degurba"),
            "lau_code": loc.get("lau_code"), "located_by": loc.get("method"), "notes": loc.get("notes", [])}
