"""The interactive organisation map as an offline HTML page, in English or Polish (`?lang=`)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import SettingsDep, StoreDep
from api.limits import HeavyDep
from api.pages.i18n import LANGUAGES, catalogue
from api.pages.render import language
from api.routers.params import FormList, FormYear, form_filter
from ecosystem.domain.filters import NetworkFilter
from ecosystem.services.cache import cache
from ecosystem.services.networks import network_payload
from ecosystem.services.region_links import nuts3_outlines
from ecosystem.store.base import GraphReader
from visualisations import render_network_payload
from visualisations.map import force_positions

router = APIRouter(prefix="/maps", tags=["maps"])


class Layout(str, Enum):
    geo = "geo"
    force = "force"


def map_title(store: GraphReader, flt: NetworkFilter, layout: str, lang: str) -> str:
    """The map's title: the area it shows and the filters that made it."""
    messages = catalogue(lang)

    def t(key: str, **values: Any) -> str:
        return messages.get(key, key).format(**values)

    area = t("map.title_all")
    if flt.nuts:
        region = store.region(flt.nuts[0])
        name = (region or {}).get("name_latn") or (region or {}).get("name")
        area = f"{name} ({flt.nuts[0]})" if name else flt.nuts[0]
    bits = []
    if flt.helix:
        bits.append(t("map.title_helix", value=", ".join(t(f"map.helix_word.{h}") for h in flt.helix)))
    if flt.urban_rural:
        bits.append(t("map.title_urban_rural", value=", ".join(t(f"map.ur_word.{u}") for u in flt.urban_rural)))
    if flt.year_from is not None or flt.year_to is not None:
        bits.append(t("map.title_years", start=flt.year_from or "…", end=flt.year_to or "…"))
    if flt.min_weight > 1:
        bits.append(t("map.title_min_weight", count=flt.min_weight))
    if layout == "force":
        bits.append(t("map.title_layout_force"))
    return t("map.title", area=area) + (" · " + "; ".join(bits) if bits else "")


def _query(flt: NetworkFilter, extra: dict[str, Any]) -> str:
    params: list[tuple[str, Any]] = []
    params += [("nuts", c) for c in flt.nuts]
    params += [("helix", h) for h in flt.helix]
    params += [("urban_rural", u) for u in flt.urban_rural]
    if flt.min_weight > 1:
        params.append(("min_weight", flt.min_weight))
    params += [(k, v) for k, v in (("year_from", flt.year_from), ("year_to", flt.year_to)) if v is not None]
    params += [(k, v) for k, v in extra.items() if v is not None]
    return urlencode(params)


def render_map_page(store: GraphReader, flt: NetworkFilter, layout: str, lang: str, max_nodes: int) -> str:
    """The page (outlines and all), kept per data version, filter, layout and language; the force layout is
    computed once per data version and filter (both languages share it)."""
    def compute() -> str:
        payload = network_payload(store, flt, limit=max_nodes)
        outlines = nuts3_outlines(store, (n["nuts3"] for n in payload["nodes"] if n.get("nuts3"))) \
            if layout == "geo" else {}
        if flt.nuts and layout == "geo":  # the whole selected area, organisations or not
            outlines = {**nuts3_outlines(store, _area_codes(store, flt.nuts[0])), **outlines}
        other = next(code for code in LANGUAGES if code != lang)
        form = {"nuts": flt.nuts[0] if flt.nuts else "", "helix": flt.helix[0] if flt.helix else "",
                "urban_rural": flt.urban_rural[0] if flt.urban_rural else "",
                "year_from": flt.year_from or "", "year_to": flt.year_to or "", "other_lang": other,
                "other_lang_query": _query(flt, {"layout": layout, "lang": other})}
        positions = cache.get(store, ("map-force-layout", flt, max_nodes), lambda: force_positions(
            payload["nodes"], payload["edges"], max_nodes=max_nodes)) if layout == "force" else None
        return render_network_payload(payload, layout=layout, title=map_title(store, flt, layout, lang),
                                      max_nodes=max_nodes, outlines=outlines, messages=catalogue(lang), lang=lang,
                                      form=form, csv_query=_query(flt, {}), positions=positions)
    return cache.get(store, ("map-page", flt, layout, lang, max_nodes), compute)


def _area_codes(store: GraphReader, code: str) -> list[str]:
    return [shape.nuts_id for shape in store.region_shapes(3, code)]


@router.get("/network", response_class=HTMLResponse)
def map_page(request: Request, store: StoreDep, settings: SettingsDep, _: HeavyDep,
             nuts: Annotated[str | None, Query(max_length=5, description="NUTS code of any level, or a country "
                                                                          "code; empty: everything")] = None,
             helix: FormList = None,
             urban_rural: FormList = None,
             min_weight: Annotated[int, Query(ge=1, le=10_000)] = 1,
             year_from: FormYear = None,
             year_to: FormYear = None,
             layout: Layout = Layout.geo,
             lang: Annotated[str | None, Query(description="Page language: en or pl")] = None) -> HTMLResponse:
    """The interactive organisation map (offline page; at most ~1,500 organisations, the strongest kept):
    region outlines, links coloured by urban-rural or helix pair, a side panel per organisation, the same
    organisations and links as tables."""
    flt = form_filter(store, nuts=nuts, helix=helix, urban_rural=urban_rural, min_weight=min_weight,
                      year_from=year_from, year_to=year_to)
    html = render_map_page(store, flt, layout.value, language(request), settings.map_max_nodes)
    return HTMLResponse(html)
