"""The interactive network map as an offline HTML page."""

from __future__ import annotations

from enum import Enum

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.deps import SettingsDep, StoreDep
from api.limits import HeavyDep
from api.routers.params import (
    HelixListParam,
    MinWeightParam,
    NutsParam,
    UrbanRuralListParam,
    YearParam,
    filter_of,
)
from ecosystem.services.networks import network_payload
from visualisations import render_network_payload

router = APIRouter(prefix="/maps", tags=["maps"])


class Layout(str, Enum):
    geo = "geo"
    force = "force"


@router.get("/network", response_class=HTMLResponse)
def map_page(store: StoreDep, settings: SettingsDep, _: HeavyDep,
             nuts: NutsParam = None,
             helix: HelixListParam = None,
             urban_rural: UrbanRuralListParam = None,
             min_weight: MinWeightParam = 1,
             year_from: YearParam = None,
             year_to: YearParam = None,
             layout: Layout = Layout.geo) -> HTMLResponse:
    """The interactive network map (offline page; at most ~1,500 organisations, the strongest kept)."""
    flt = filter_of(store, nuts, helix, urban_rural, min_weight, year_from, year_to)
    max_nodes = settings.map_max_nodes
    html = render_network_payload(network_payload(store, flt, limit=max_nodes), layout=layout.value,
                                  max_nodes=max_nodes)
    return HTMLResponse(html)
