"""FastAPI application: JSON under /api/v1, OpenAPI at /docs, maps under /maps."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from fastapi import FastAPI, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from api.pages import install_docs
from api.pages import router as pages_router
from ecosystem import __version__
from ecosystem.config import Settings
from ecosystem.domain.errors import (
    BadInputError,
    HelixmapError,
    NotFoundError,
    NotSupportedError,
    QueryRejectedError,
    StoreUnavailableError,
)
from ecosystem.domain.filters import network_filter
from ecosystem.domain.nuts import is_nuts_code, nuts_prefix
from ecosystem.services.networks import network_payload
from ecosystem.services.regions import municipal_participation, region_profile
from ecosystem.store import GraphStore, open_store
from visualisations import render_network_payload

STATUS = {NotFoundError: 404, BadInputError: 422, QueryRejectedError: 400, NotSupportedError: 501,
          StoreUnavailableError: 503}


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


class ExportFormat(str, Enum):
    graphml = "graphml"
    gexf = "gexf"
    csv = "csv"
    json = "json"
    vosviewer = "vosviewer"


class Layout(str, Enum):
    geo = "geo"
    force = "force"


class CypherRequest(BaseModel):
    cypher: str = Field(min_length=1, max_length=20_000, description="A read-only Cypher query")
    parameters: dict[str, Any] = Field(default_factory=dict)


NutsParam = Annotated[str | None, Query(description="NUTS code of any level, or a country code (EL, DE1, DEA23)",
                                        max_length=5)]


def create_app(settings: Settings | None = None, store: GraphStore | None = None) -> FastAPI:
    """The API bound to one store (opened from `settings.store` unless given)."""
    settings = settings or Settings()
    app = FastAPI(title="helixmap API", version=__version__,
                  description="Quadruple-helix collaboration networks (government, academia, industry, civil "
                              "society) across cities and the countryside, from open data. Data: CORDIS © European "
                              "Union (CC BY 4.0); NUTS © EuroGeographics, Eurostat/GISCO.",
                  docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.store = store or open_store(settings.store, settings)

    @app.exception_handler(HelixmapError)
    async def _helixmap_error(request: Request, exc: HelixmapError) -> JSONResponse:
        status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)
        body: dict[str, Any] = {"detail": str(exc)}
        if isinstance(exc, BadInputError) and exc.field:
            body["field"] = exc.field
        return JSONResponse(status_code=status, content=body)

    def db() -> GraphStore:
        return app.state.store  # type: ignore[no-any-return]

    def check_nuts(nuts: str | None) -> str | None:
        if nuts is None:
            return None
        if not is_nuts_code(nuts):
            raise BadInputError(f"not a NUTS or country code: {nuts!r}", field="nuts")
        code = nuts_prefix(nuts)
        if db().region(code) is None and not (len(code) == 2 and db().country_known(code)):
            raise NotFoundError(f"unknown NUTS region {code!r}")
        return code

    @app.get("/api/v1/health", tags=["meta"])
    def health() -> dict[str, Any]:
        """Liveness and the store in use."""
        return {"status": "ok", "store": db().uri.split("@")[-1], "version": __version__}

    @app.get("/api/v1/stats", tags=["meta"])
    def stats() -> dict[str, Any]:
        """The same counts as `helixmap stats --json`."""
        return db().stats()

    @app.get("/api/v1/organisations", tags=["organisations"])
    def search(q: Annotated[str | None, Query(max_length=200, description="Name words (case and accents ignored)")] = None,
               helix: HelixName | None = None,
               country: Annotated[str | None, Query(pattern="^[A-Za-z]{2}$")] = None,
               nuts: NutsParam = None,
               urban_rural: UrbanRuralName | None = None,
               limit: Annotated[int, Query(ge=1, le=500)] = 20,
               offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> dict[str, Any]:
        """Search organisations by name, helix, country, region (any NUTS level) and urban-rural type."""
        total, items = db().search_organisations(
            q, helix=helix.value if helix else None, country=country, nuts=check_nuts(nuts),
            urban_rural=urban_rural.value if urban_rural else None, limit=limit, offset=offset)
        return {"total": total, "limit": limit, "offset": offset, "items": items}

    def _canonical(org_id: str) -> str:
        """The organisation a source record belongs to (a PIC merged into its ROR record answers as it)."""
        lookup = getattr(db(), "canonical_id", None)
        return lookup(org_id) if lookup is not None else org_id

    @app.get("/api/v1/organisations/{org_id}", tags=["organisations"])
    def profile(org_id: Annotated[str, Path(max_length=100)],
                partners_limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
        """An organisation's profile: names, helix with evidence, region, projects, partners, sources."""
        org = db().organisation(org_id)
        if org is None:
            raise NotFoundError(f"no organisation with id {org_id!r}")
        org_id = org["id"]  # a source record merged into an organisation answers with that organisation
        loc = org.get("location", {})
        region = db().region(loc["nuts3"]) if loc.get("nuts3") else None
        return {
            "id": org["id"], "name": org["name"], "short_name": org.get("short_name"), "names": org.get("names", []),
            "country": org.get("country"), "identifiers": org.get("identifiers", {}), "sme": org.get("sme"),
            "url": org.get("url"),
            "helix": org["helix"],
            "region": {"nuts3": loc.get("nuts3"), "name": region.get("name") if region else None,
                       "urban_rural": loc.get("urban_rural"), "degree_of_urbanisation": loc.get("degurba"),
                       "lau_code": loc.get("lau_code"), "located_by": loc.get("method"),
                       "notes": loc.get("notes", [])},
            "location": {k: loc.get(k) for k in ("city", "postcode", "street", "lat", "lon", "nuts_code")},
            "relations": db().relations(org_id),
            "projects": db().organisation_projects(org_id),
            "partners": db().partners(org_id, limit=partners_limit),
            "sources": org.get("sources", []),
            "records": org.get("records", []),
            "same_as": org.get("same_as", []),
        }

    @app.get("/api/v1/organisations/{org_id}/recommendations", tags=["organisations"])
    def recommendations(org_id: Annotated[str, Path(max_length=100)],
                        k: Annotated[int, Query(ge=1, le=100)] = 10,
                        helix: HelixName | None = None,
                        urban_rural: UrbanRuralName | None = None,
                        country: Annotated[str | None, Query(pattern="^[A-Za-z]{2}$")] = None,
                        nuts: NutsParam = None,
                        favour_rural_civil: bool = False) -> dict[str, Any]:
        """Organisations this one should work with next (never a current partner), best first, each with its
        reasons: shared partners by name, shared topics and programme parts, the helix it fills, geography,
        recent activity. `favour_rural_civil` re-ranks in favour of rural and civil-society candidates."""
        from ecosystem.services.partners import recommendations as find

        return find(db(), org_id, k=k, helix=helix.value if helix else None,
                    urban_rural=urban_rural.value if urban_rural else None,
                    country=nuts_prefix(country) if country else None, nuts=check_nuts(nuts),
                    favour_rural_civil=favour_rural_civil)

    def _filter(nuts: str | None, helix: list[HelixName] | None, urban_rural: list[UrbanRuralName] | None,
                min_weight: int, year_from: int | None, year_to: int | None) -> Any:
        code = check_nuts(nuts)
        return network_filter(nuts=[code] if code else [], helix=[h.value for h in helix or []],
                              urban_rural=[u.value for u in urban_rural or []], min_weight=min_weight,
                              year_from=year_from, year_to=year_to)

    @app.get("/api/v1/network", tags=["network"])
    def network(nuts: NutsParam = None,
                helix: Annotated[list[HelixName] | None, Query()] = None,
                urban_rural: Annotated[list[UrbanRuralName] | None, Query()] = None,
                min_weight: Annotated[int, Query(ge=1, le=10_000)] = 1,
                year_from: Annotated[int | None, Query(ge=1950, le=2100)] = None,
                year_to: Annotated[int | None, Query(ge=1950, le=2100)] = None,
                limit: Annotated[int, Query(ge=1, le=20_000)] = 500) -> dict[str, Any]:
        """The collaboration network (weight = shared projects), capped at `limit` nodes (strongest kept;
        `truncated` says when the cap cut it)."""
        flt = _filter(nuts, helix, urban_rural, min_weight, year_from, year_to)
        return network_payload(db(), flt, limit=min(limit, app.state.settings.network_max_nodes * 10))

    @app.get("/api/v1/regions/{nuts}", tags=["regions"])
    def region(nuts: Annotated[str, Path(max_length=5)]) -> dict[str, Any]:
        """A region's ecosystem: helix counts, urban-rural mix, links inside and outside, link matrices."""
        if not is_nuts_code(nuts):
            raise BadInputError(f"not a NUTS or country code: {nuts!r}", field="nuts")
        return region_profile(db(), nuts)

    @app.get("/api/v1/municipalities", tags=["regions"])
    def municipalities(country: Annotated[str | None, Query(pattern="^[A-Za-z]{2}$")] = None,
                       nuts: NutsParam = None,
                       degree_of_urbanisation: Annotated[DegurbaName | None, Query()] = None) -> dict[str, Any]:
        """Municipalities whose own government takes part in projects, with their degree of urbanisation
        (city / town_suburb / rural_area), population and the participating bodies."""
        code = check_nuts(nuts)
        rows = municipal_participation(db())
        items = [m for m in rows
                 if (not country or m["country"] == nuts_prefix(country))
                 and (not code or (m.get("nuts3") or "").startswith(code) or (len(code) == 2 and m["country"] == code))
                 and (degree_of_urbanisation is None or m.get("degree_of_urbanisation") == degree_of_urbanisation.value)]
        counts: dict[str, int] = {}
        for m in items:
            key = m.get("degree_of_urbanisation") or "unknown"
            counts[key] = counts.get(key, 0) + 1
        return {"total": len(items), "by_degree_of_urbanisation": counts, "items": items}

    @app.post("/api/v1/query", tags=["cypher"])
    def cypher(body: CypherRequest) -> dict[str, Any]:
        """Read-only Cypher (Neo4j store only): runs in a read transaction, with a time limit and a row cap
        (both reported). Writes, schema and admin procedures are refused with 400; on the SQLite store: 501."""
        run = getattr(db(), "query", None)
        if run is None:
            raise NotSupportedError("read-only Cypher needs the Neo4j store (serve with --store neo4j://HOST:PORT)")
        s = app.state.settings
        return run(body.cypher, body.parameters, timeout_s=s.cypher_timeout_s, max_rows=s.cypher_max_rows)

    @app.get("/api/v1/clusters", tags=["network"])
    def clusters(nuts: NutsParam = None,
                 helix: Annotated[list[HelixName] | None, Query()] = None,
                 urban_rural: Annotated[list[UrbanRuralName] | None, Query()] = None,
                 min_weight: Annotated[int, Query(ge=1, le=10_000)] = 1,
                 top: Annotated[int, Query(ge=1, le=100)] = 10,
                 min_size: Annotated[int, Query(ge=1, le=100_000)] = 2) -> dict[str, Any]:
        """Communities (Leiden, modularity, fixed seed: the same every run): size, helix mix with missing helices
        flagged, urban-rural mix, regions, top members, links to other clusters."""
        from ecosystem.services.insights import cluster_report

        return cluster_report(db(), _filter(nuts, helix, urban_rural, min_weight, None, None), top=top,
                              min_size=min_size)

    @app.get("/api/v1/organisations/{org_id}/metrics", tags=["organisations"])
    def metrics(org_id: Annotated[str, Path(max_length=100)]) -> dict[str, Any]:
        """Degree and weighted degree, partners by helix and urban-rural type, shares of links crossing them,
        betweenness and Gould-Fernandez brokerage roles, and the organisation's cluster."""
        from ecosystem.services.insights import organisation_metrics

        return organisation_metrics(db(), _canonical(org_id))

    @app.get("/api/v1/export", tags=["network"], response_class=Response)
    def export(format: Annotated[ExportFormat, Query(description="graphml, gexf, csv (zip), json, vosviewer")],
               nuts: NutsParam = None,
               helix: Annotated[list[HelixName] | None, Query()] = None,
               urban_rural: Annotated[list[UrbanRuralName] | None, Query()] = None,
               min_weight: Annotated[int, Query(ge=1, le=10_000)] = 1,
               year_from: Annotated[int | None, Query(ge=1950, le=2100)] = None,
               year_to: Annotated[int | None, Query(ge=1950, le=2100)] = None) -> Response:
        """The network with the same filters as /network, for Gephi, VOSviewer, pandas or networkx; nodes carry
        helix, urban-rural type, region, country and cluster."""
        from ecosystem.services.insights import export as make_export

        flt = _filter(nuts, helix, urban_rural, min_weight, year_from, year_to)
        content, media, suffix = make_export(db(), flt, format.value)
        return Response(content, media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="helixmap-network.{suffix}"'})

    @app.get("/maps/network", response_class=HTMLResponse, tags=["maps"])
    def map_page(nuts: NutsParam = None,
                 helix: Annotated[list[HelixName] | None, Query()] = None,
                 urban_rural: Annotated[list[UrbanRuralName] | None, Query()] = None,
                 min_weight: Annotated[int, Query(ge=1, le=10_000)] = 1,
                 year_from: Annotated[int | None, Query(ge=1950, le=2100)] = None,
                 year_to: Annotated[int | None, Query(ge=1950, le=2100)] = None,
                 layout: Layout = Layout.geo) -> HTMLResponse:
        """The interactive network map (offline page; at most ~1,500 organisations, the strongest kept)."""
        flt = _filter(nuts, helix, urban_rural, min_weight, year_from, year_to)
        max_nodes = app.state.settings.map_max_nodes
        html = render_network_payload(network_payload(db(), flt, limit=max_nodes), layout=layout.value,
                                      max_nodes=max_nodes)
        return HTMLResponse(html)

    install_docs(app)
    app.include_router(pages_router)
    return app
