"""The pages for people: home, search, organisation profile with the partner finder, regions, clusters."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from api.deps import StoreDep
from api.limits import HeavyDep
from api.pages.filters import KNOWN_HELICES, check_filters, page_number
from api.pages.i18n import Translator
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
from api.pages.words import ei_sentence, evidence_sentence, partner_reasons, stability_sentence, synergy_sentence
from ecosystem.domain.errors import BadInputError, NotFoundError
from ecosystem.domain.nuts import is_nuts_code, nuts_prefix
from ecosystem.services.insights import (
    cluster_summary,
    clustering_stability,
    countries,
    ego_network,
    store_summary,
    warm_page_extras,
    warm_pages,
)
from ecosystem.services.organisations import profile_tags
from ecosystem.services.partners import recommendations
from ecosystem.services.regions import cached_region_profile, region_municipalities, region_tags, sub_regions
from ecosystem.services.themes import warm as warm_themes
from visualisations.ego import legend_marker, render_ego_svg

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20
RECOMMENDATIONS = 10
EGO_PARTNERS = 12  # partners drawn on the profile's own network map


@router.get("/", response_class=HTMLResponse)
def home(request: Request, store: StoreDep) -> Response:
    """Search, counts by helix and urban-rural type, entry points and sources."""
    t, stats = translator(request), store_summary(store)
    table = csv_table(request, t, mix_tables(stats["helix"], stats["urban_rural"]))
    if table is not None:
        return table
    return render(request, "home.html", title=t("home.title"), stats=stats, countries=countries(store))


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
def organisation(request: Request, store: StoreDep, _: HeavyDep, org_id: Annotated[str, Path(max_length=100)],
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
    suggestions, hubs = _suggestions(store, org, checked.values, hubs_out, favour, checked.problems)
    for cand in suggestions:
        cand["sentences"] = partner_reasons(t, cand, org)
    projects, partners = store.organisation_projects(org["id"]), store.partners(org["id"], limit=50)
    table = csv_table(request, t, organisation_tables(projects, partners, suggestions))
    if table is not None:
        return table
    helix_info = org["helix"]
    return render(request, "organisation.html", title=org["name"], org=org, loc=loc, region=region,
                  ego=ego_map(t, store, org["id"]), legend=ego_legend(t),
                  tags=profile_tags(org),
                  evidence=[evidence_sentence(t, e) for e in helix_info.get("evidence", [])],
                  projects=projects, partners=partners,
                  relations=store.relations(org["id"]), suggestions=suggestions,
                  finder={**{name: checked.values.get(name, "") for name in ("helix", "urban_rural", "nuts")},
                          "exclude_hubs": hubs_out, "favour": favour, "hubs": hubs},
                  problems=[t(key, **values) for key, values in checked.problems],
                  helices=KNOWN_HELICES, urban_rural_types=("urban", "intermediate", "rural"))


def _suggestions(store: Any, org: dict[str, Any], values: dict[str, str], hubs_out: bool, favour: bool,
                 problems: list[tuple[str, dict[str, str]]]) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Recommendations from the partner service, and the hub cut it made (None unless hubs are left out)."""
    try:
        found = recommendations(store, org["id"], k=RECOMMENDATIONS, favour_rural_civil=favour,
                                exclude_hubs=hubs_out, **values)
    except (BadInputError, NotFoundError) as exc:
        problems.append(("finder.failed", {"reason": str(exc)}))
        return [], None
    return list(found["items"]), found["hubs"]


def ego_map(t: Translator, store: Any, org_id: str) -> Markup | None:
    """The organisation's own small network map (inline SVG), or None when it has no partner."""
    try:
        payload = ego_network(store, org_id, limit=EGO_PARTNERS)
    except NotFoundError:
        return None
    if not payload["partners"]:
        return None

    def describe(node: Mapping[str, Any]) -> str:
        words = t("ego.node", name=node.get("name") or node["id"], helix=t.helix(node.get("helix")),
                  type=t.urban_rural(node.get("urban_rural")))
        return words + (" " + t("ego.shared", count=t.num(node["weight"])) if "weight" in node else "")

    return Markup(render_ego_svg(payload, describe, t("ego.title", count=t.num(len(payload["partners"])),
                                                      name=payload["centre"]["name"])))


def ego_legend(t: Translator) -> dict[str, list[tuple[Markup, str]]]:
    """The map's key in words, each with its marker: colours by helix, shapes by urban-rural type."""
    return {"helix": [(Markup(legend_marker("circle", h)), t.helix(h)) for h in (*KNOWN_HELICES, "unknown")],
            "urban_rural": [(Markup(legend_marker(u)), t.urban_rural(u))
                            for u in ("urban", "intermediate", "rural", "unknown")]}


@router.get("/regions", response_class=HTMLResponse, response_model=None)
def region_lookup(request: Request, nuts: str | None = None) -> HTMLResponse | RedirectResponse:
    """The region form on the home page: go to /regions/{nuts}."""
    code = (nuts or "").strip().upper()
    if code and is_nuts_code(code):
        return RedirectResponse(f"/regions/{nuts_prefix(code)}", status_code=303)
    return not_found(request, "notfound.region", code=nuts or "")


@router.get("/regions/{nuts}", response_class=HTMLResponse)
def region(request: Request, store: StoreDep, _: HeavyDep, nuts: Annotated[str, Path(max_length=20)]) -> Response:
    """A region of any NUTS level, or a country: who is there and how they link."""
    t = translator(request)
    if not is_nuts_code(nuts.upper()):
        return not_found(request, "notfound.region", code=nuts)
    try:
        profile = cached_region_profile(store, nuts_prefix(nuts.upper()))
    except NotFoundError:
        return not_found(request, "notfound.region", code=nuts)
    code = profile["nuts"]
    links = profile["links"]
    matrix_total = sum(row["links"] for row in profile["urban_rural_links"]) or 1
    municipalities = region_municipalities(store, code)
    subs = sub_regions(store, code)
    analytics = profile["analytics"]
    table = csv_table(request, t, region_tables(profile, municipalities, subs))
    if table is not None:
        return table
    return render(request, "region.html", title=profile.get("name") or code, p=profile, code=code,
                  missing=[h for h in KNOWN_HELICES if not profile["helix"].get(h)],
                  matrix=[{**row, "share": row["links"] / matrix_total} for row in profile["urban_rural_links"]],
                  links_total=(links["inside"] + links["outside"]) or 1,
                  ei_sentences=[(t(f"region.ei_{kind}"), ei_sentence(t, analytics[f"ei_{kind}"], kind))
                                for kind in ("urban_rural", "helix")],
                  synergy=synergy_sentence(t, analytics["synergy"]["region"]),
                  bridges=analytics.get("top_bridges", []), municipalities=municipalities, subs=subs,
                  helices=KNOWN_HELICES, urban_rural_types=("urban", "intermediate", "rural", "unknown"),
                  degurba=Counter(m.get("degree_of_urbanisation") or "unknown" for m in municipalities),
                  tags=region_tags(store, code))


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    """Warm what every page reads before serving (in a worker thread: the event loop stays free), then the slower
    extras in the background, so the first visitor pays no building of shared data."""
    store = app.state.store
    await anyio.to_thread.run_sync(_quietly, warm_pages, store)
    threading.Thread(target=_quietly, args=(_warm_extras, store), name="atlas-warm-extras", daemon=True).start()
    yield


def _warm_extras(store: Any) -> None:
    """The slower extras of the atlas, then the choices and project names of the page of partners for an idea
    (after the extras, which fill the cache with many region profiles, so that these stay among the recent)."""
    warm_page_extras(store)
    warm_themes(store)


def _quietly(warm: Callable[[Any], None], store: Any) -> None:
    try:
        warm(store)
    except Exception:  # a page still builds what it needs on its first visit
        logging.getLogger(__name__).exception("warming the atlas pages failed")


@router.get("/clusters", response_class=HTMLResponse)
def clusters(request: Request, store: StoreDep, _: HeavyDep) -> Response:
    """Communities of the whole collaboration network."""
    t, report = translator(request), cluster_summary(store)
    table = csv_table(request, t, {"clusters": lambda: (
        ["col.cluster", "col.size", *[f"helix.{h}" for h in KNOWN_HELICES], "urban_rural.rural", "col.missing"],
        [[c["cluster"], c["size"], *[c["helix"].get(h, 0) for h in KNOWN_HELICES], c["urban_rural"].get("rural", 0),
          " ".join(c["missing_helices"])] for c in report["clusters"]])})
    if table is not None:
        return table
    return render(request, "clusters.html", title=t("clusters.title"), report=report, helices=KNOWN_HELICES,
                  stability=stability_sentence(t, clustering_stability(store)))


@router.get("/clusters/{cluster_id}", response_class=HTMLResponse)
def cluster(request: Request, store: StoreDep, _: HeavyDep,
            cluster_id: Annotated[str, Path(max_length=20)]) -> Response:
    """One community: size, mixes, missing helices, top members and its links to other clusters."""
    report = cluster_summary(store)
    found = next((c for c in report["clusters"] if str(c["cluster"]) == cluster_id), None)
    if found is None:
        return not_found(request, "notfound.cluster", id=cluster_id)
    t = translator(request)
    table = csv_table(request, t, cluster_tables(found))
    if table is not None:
        return table
    return render(request, "cluster.html", title=t("cluster.title", id=found["cluster"]), c=found, report=report,
                  helices=KNOWN_HELICES, stability=stability_sentence(t, clustering_stability(store)))


router.lifespan_context = lifespan
