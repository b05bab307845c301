"""The pages for people: home, search, organisation profile with the partner finder, regions, clusters."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import StoreDep
from api.pages.filters import KNOWN_HELICES, check_filters, page_number
from api.pages.memo import remembered
from api.pages.render import not_found, render, translator, url_with
from api.pages.tables import (
    ORG_HEADERS,
    cluster_tables,
    csv_table,
    mix_tables,
    org_rows,
    organisation_tables,
    region_tables,
)
from api.pages.words import ei_sentence, evidence_sentence, partner_reasons, synergy_sentence
from ecosystem.domain.errors import BadInputError, NotFoundError
from ecosystem.domain.filters import NetworkFilter
from ecosystem.domain.nuts import in_region, is_nuts_code, nuts_prefix
from ecosystem.services.insights import cluster_report
from ecosystem.services.networks import collaboration_graph
from ecosystem.services.organisations import profile_tags
from ecosystem.services.partners import recommendations, recommender_index
from ecosystem.services.regions import municipal_participation, region_profile, region_tags

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
RECOMMENDATIONS = 10
HUB_SHARE = 0.01  # "leave out the biggest hubs": the top 1% of organisations by number of partners


@router.get("/", response_class=HTMLResponse)
def home(request: Request, store: StoreDep) -> Response:
    """Search, counts by helix and urban-rural type, entry points and sources."""
    t, stats = translator(request), remembered(store, "stats", store.stats)
    table = csv_table(request, t, mix_tables(stats["helix"], stats["urban_rural"]))
    if table is not None:
        return table
    return render(request, "home.html", title=t("home.title"), stats=stats, countries=_countries(store))


@router.get("/search", response_class=HTMLResponse)
def search(request: Request, store: StoreDep, q: str | None = None, helix: str | None = None,
           country: str | None = None, nuts: str | None = None, urban_rural: str | None = None,
           tag: str | None = None, page: str | None = None) -> Response:
    """Organisations by name and filters, 20 a page; the URL holds the whole query."""
    t = translator(request)
    checked = check_filters(store, {"helix": helix, "country": country, "nuts": nuts, "urban_rural": urban_rural})
    number = page_number(page, checked)
    tag = (tag or "").strip()[:200] or None
    text = (q or "").strip()[:200] or None
    total, items = store.search_organisations(text, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE,
                                              tag=tag, **checked.values)
    for item in items:
        item["projects"] = len(store.organisation_projects(item["id"]))
    table = csv_table(request, t, {"results": lambda: ([*ORG_HEADERS, "col.projects"], org_rows(items, "projects"))})
    if table is not None:
        return table
    pages = max(1, -(-total // PAGE_SIZE))
    return render(request, "search.html", title=t("search.title"), total=total, items=items, page=number,
                  pages=pages, filters=checked.values, raw={"helix": helix or "", "urban_rural": urban_rural or "",
                                                            "country": country or "", "nuts": nuts or "",
                                                            "tag": tag or ""},
                  problems=[t(key, **values) for key, values in checked.problems],
                  helices=(*KNOWN_HELICES, "unknown"), urban_rural_types=("urban", "intermediate", "rural", "unknown"),
                  prev_url=_page_url(request, number - 1) if number > 1 else None,
                  next_url=_page_url(request, number + 1) if number < pages else None)


def _page_url(request: Request, number: int) -> str:
    return url_with(request, page=number)


@router.get("/organisations/{org_id}", response_class=HTMLResponse)
def organisation(request: Request, store: StoreDep, org_id: Annotated[str, Path(max_length=100)],
                 helix: str | None = None, urban_rural: str | None = None, nuts: str | None = None,
                 exclude_hubs: str | None = None, favour_rural_civil: str | None = None) -> Response:
    """The profile and the partner finder."""
    t = translator(request)
    org = store.organisation(org_id)
    if org is None:
        return not_found(request, "notfound.organisation", id=org_id)
    loc = org.get("location", {})
    region = store.region(loc["nuts3"]) if loc.get("nuts3") else None
    checked = check_filters(store, {"helix": helix, "urban_rural": urban_rural, "nuts": nuts})
    hubs_out, favour = exclude_hubs == "true", favour_rural_civil == "true"
    suggestions = _suggestions(store, org, checked.values, hubs_out, favour, checked.problems)
    for cand in suggestions:
        cand["sentences"] = partner_reasons(t, cand, org)
    projects, partners = store.organisation_projects(org["id"]), store.partners(org["id"], limit=50)
    table = csv_table(request, t, organisation_tables(projects, partners, suggestions))
    if table is not None:
        return table
    helix_info = org["helix"]
    return render(request, "organisation.html", title=org["name"], org=org, loc=loc, region=region,
                  tags=profile_tags(org),
                  evidence=[evidence_sentence(t, e) for e in helix_info.get("evidence", [])],
                  projects=projects, partners=partners,
                  relations=store.relations(org["id"]), suggestions=suggestions,
                  finder={**{name: checked.values.get(name, "") for name in ("helix", "urban_rural", "nuts")},
                          "exclude_hubs": hubs_out, "favour": favour},
                  problems=[t(key, **values) for key, values in checked.problems],
                  helices=KNOWN_HELICES, urban_rural_types=("urban", "intermediate", "rural"))


def _suggestions(store: Any, org: dict[str, Any], values: dict[str, str], hubs_out: bool, favour: bool,
                 problems: list[tuple[str, dict[str, str]]]) -> list[dict[str, Any]]:
    """Recommendations from the partner service; without the top 1% hubs when asked."""
    k = RECOMMENDATIONS * 4 if hubs_out else RECOMMENDATIONS
    try:
        found = recommendations(store, org["id"], k=k, favour_rural_civil=favour, **values)["items"]
    except (BadInputError, NotFoundError) as exc:
        problems.append(("finder.failed", {"reason": str(exc)}))
        return []
    if hubs_out:
        index = recommender_index(store)
        degrees = sorted(int(d) for d in index.degree)
        cut = degrees[int(len(degrees) * (1 - HUB_SHARE))] if degrees else 0
        found = [c for c in found if int(index.degree[index.pos[c["id"]]]) < cut or cut == 0]
    return list(found[:RECOMMENDATIONS])


@router.get("/regions", response_class=HTMLResponse, response_model=None)
def region_lookup(request: Request, nuts: str | None = None) -> HTMLResponse | RedirectResponse:
    """The region form on the home page: go to /regions/{nuts}."""
    code = (nuts or "").strip().upper()
    if code and is_nuts_code(code):
        return RedirectResponse(f"/regions/{nuts_prefix(code)}", status_code=303)
    return not_found(request, "notfound.region", code=nuts or "")


@router.get("/regions/{nuts}", response_class=HTMLResponse)
def region(request: Request, store: StoreDep, nuts: Annotated[str, Path(max_length=20)]) -> Response:
    """A region of any NUTS level, or a country: who is there and how they link."""
    t = translator(request)
    if not is_nuts_code(nuts.upper()):
        return not_found(request, "notfound.region", code=nuts)
    try:
        profile = _region(store, nuts_prefix(nuts.upper()))
    except NotFoundError:
        return not_found(request, "notfound.region", code=nuts)
    code = profile["nuts"]
    links = profile["links"]
    matrix_total = sum(row["links"] for row in profile["urban_rural_links"]) or 1
    municipalities = [m for m in municipal_participation(store)
                      if in_region({"nuts3": m.get("nuts3"), "country": m.get("country")}, code)]
    analytics = profile["analytics"]
    table = csv_table(request, t, region_tables(profile, municipalities))
    if table is not None:
        return table
    return render(request, "region.html", title=profile.get("name") or code, p=profile, code=code,
                  missing=[h for h in KNOWN_HELICES if not profile["helix"].get(h)],
                  matrix=[{**row, "share": row["links"] / matrix_total} for row in profile["urban_rural_links"]],
                  links_total=(links["inside"] + links["outside"]) or 1,
                  ei_sentences=[(t(f"region.ei_{kind}"), ei_sentence(t, analytics[f"ei_{kind}"], kind))
                                for kind in ("urban_rural", "helix")],
                  synergy=synergy_sentence(t, analytics["synergy"]["region"]),
                  bridges=analytics.get("top_bridges", []), municipalities=municipalities,
                  degurba=Counter(m.get("degree_of_urbanisation") or "unknown" for m in municipalities),
                  tags=region_tags(store, code))


def _region(store: Any, code: str) -> dict[str, Any]:
    return remembered(store, f"region:{code}", lambda: region_profile(store, code))


def _report(store: Any) -> dict[str, Any]:
    return remembered(store, "clusters", lambda: cluster_report(store, NetworkFilter(), top=10, min_size=2))


def _countries(store: Any) -> list[tuple[str, int]]:
    """Countries with their number of organisations (the home page's entry points)."""
    def count() -> list[tuple[str, int]]:
        graph = collaboration_graph(store)
        return sorted(Counter(d["country"] for _, d in graph.nodes(data=True) if d.get("country")).items())

    return remembered(store, "countries", count)


def warm(store: Any) -> None:
    """Build what the pages read (collaboration graph, recommender index, clusters) before the first visitor."""
    remembered(store, "stats", store.stats)
    _countries(store)
    recommender_index(store)
    _report(store)


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Warm the pages' data in the background at start, so the server answers at once and visitors pay nothing."""
    store = app.state.store
    threading.Thread(target=_warm_quietly, args=(store,), name="atlas-warm", daemon=True).start()
    yield


def _warm_quietly(store: Any) -> None:
    try:
        warm(store)
    except Exception:  # a page still builds what it needs on its first visit
        logging.getLogger(__name__).exception("warming the atlas pages failed")


@router.get("/clusters", response_class=HTMLResponse)
def clusters(request: Request, store: StoreDep) -> Response:
    """Communities of the whole collaboration network."""
    t, report = translator(request), _report(store)
    table = csv_table(request, t, {"clusters": lambda: (
        ["col.cluster", "col.size", *[f"helix.{h}" for h in KNOWN_HELICES], "urban_rural.rural", "col.missing"],
        [[c["cluster"], c["size"], *[c["helix"].get(h, 0) for h in KNOWN_HELICES], c["urban_rural"].get("rural", 0),
          " ".join(c["missing_helices"])] for c in report["clusters"]])})
    if table is not None:
        return table
    return render(request, "clusters.html", title=t("clusters.title"), report=report, helices=KNOWN_HELICES)


@router.get("/clusters/{cluster_id}", response_class=HTMLResponse)
def cluster(request: Request, store: StoreDep, cluster_id: Annotated[str, Path(max_length=20)]) -> Response:
    """One community: size, mixes, missing helices, top members and its links to other clusters."""
    report = _report(store)
    found = next((c for c in report["clusters"] if str(c["cluster"]) == cluster_id), None)
    if found is None:
        return not_found(request, "notfound.cluster", id=cluster_id)
    t = translator(request)
    table = csv_table(request, t, cluster_tables(found))
    if table is not None:
        return table
    return render(request, "cluster.html", title=t("cluster.title", id=found["cluster"]), c=found, report=report,
                  helices=KNOWN_HELICES)


router.lifespan_context = lifespan
