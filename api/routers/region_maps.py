"""Region-to-region flows: `GET /api/v1/region-links` (JSON and CSV) and the map page `GET /maps/regions` (in
English or Polish: `?lang=`, then the cookie, then Accept-Language)."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import StoreDep
from api.limits import HeavyDep
from api.pages.i18n import LANGUAGES, catalogue, format_number
from api.pages.render import language
from api.routers.params import FormList, FormYear, HelixName, form_filter
from ecosystem.domain.filters import NetworkFilter, network_filter
from ecosystem.services.region_links import region_links, region_map
from visualisations.regions import render_region_map

__all__ = ["router"]

router = APIRouter()

NutsQuery = Annotated[str | None, Query(max_length=5, description="The area: a NUTS code of any level or a country "
                                                                  "code (EL, DE1, DEA23); everything when absent")]
LevelQuery = Annotated[int, Query(ge=2, le=3, description="NUTS level of the regions: 2 or 3")]
HelixQuery = Annotated[list[HelixName] | None, Query(description="Only organisations of these helices")]
YearQuery = Annotated[int | None, Query(ge=1950, le=2100, description="Only projects starting in or after/before")]


def _filter(nuts: str | None, helix: list[HelixName] | None, year_from: int | None,
            year_to: int | None) -> NetworkFilter:
    return network_filter(nuts=[nuts] if nuts else [], helix=[h.value for h in helix or []], year_from=year_from,
                          year_to=year_to)


@router.get("/api/v1/region-links", tags=["regions"])
def region_links_json(store: StoreDep, _: HeavyDep,
                      nuts: NutsQuery = None, level: LevelQuery = 3, helix: HelixQuery = None,
                      year_from: YearQuery = None, year_to: YearQuery = None) -> dict[str, Any]:
    """Collaboration aggregated to NUTS regions: every region of the area (code, name, level, urban-rural type,
    label point, organisations by helix) and every link touching it (two codes, organisation pairs, shared
    projects, pair type), links to regions outside the area included; totals equal the region profile's
    urban-rural matrix."""
    return region_links(store, _filter(nuts, helix, year_from, year_to), level)


@router.get("/api/v1/region-links.csv", tags=["regions"], response_class=Response)
def region_links_csv(store: StoreDep, _: HeavyDep,
                     nuts: NutsQuery = None, level: LevelQuery = 3, helix: HelixQuery = None,
                     year_from: YearQuery = None, year_to: YearQuery = None,
                     table: Literal["links", "regions"] = "links") -> Response:
    """The same regions or links as CSV (one row each)."""
    payload = region_links(store, _filter(nuts, helix, year_from, year_to), level)
    out = io.StringIO()
    if table == "regions":
        columns = ["code", "name", "level", "urban_rural", "inside", "organisations", "lon", "lat"]
        writer = csv.DictWriter(out, [*columns, "academia", "industry", "government", "civil_society", "unknown"])
        writer.writeheader()
        for r in payload["regions"]:
            writer.writerow({**{k: r[k] for k in columns}, **r["helix"]})
    else:
        names = {r["code"]: r["name"] for r in payload["regions"]}
        columns = ["a", "b", "organisation_pairs", "shared_projects", "pair_type", "touches_rural", "leaves_area",
                   "first_year", "last_year"]
        writer = csv.DictWriter(out, ["a", "a_name", "b", "b_name", *columns[2:]])
        writer.writeheader()
        for lk in payload["links"]:
            writer.writerow({**{k: lk[k] for k in columns}, "a_name": names.get(lk["a"]), "b_name": names.get(lk["b"])})
    area = payload["nuts"] or "europe"
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="helixmap-region-{table}-{area}-nuts{level}.csv"'})


@router.get("/maps/regions", tags=["maps"], response_class=HTMLResponse)
def region_map_page(request: Request, store: StoreDep, _: HeavyDep, nuts: NutsQuery = None, level: LevelQuery = 3,
                    helix: FormList = None, year_from: FormYear = None, year_to: FormYear = None,
                    lang: Annotated[str | None, Query(description="Page language: en or pl")] = None,
                    ) -> HTMLResponse:
    """The region flow map: outlines filled by urban-rural type, links coloured by pair type, a table
    alternative; an offline page (inline SVG, no script, nothing loaded from elsewhere), in the request's
    language with a link to the other one. Empty form fields mean "any"."""
    flt = form_filter(store, nuts=nuts, helix=helix, year_from=year_from, year_to=year_to)
    payload = region_map(store, flt, level)
    page_lang = language(request)
    messages = catalogue(page_lang)
    return HTMLResponse(render_region_map(
        payload, notice=messages["regionmap.notice"], messages=messages, lang=page_lang,
        number=lambda value: format_number(value, page_lang),
        other_lang=next(code for code in LANGUAGES if code != page_lang)))

