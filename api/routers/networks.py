"""The collaboration network: nodes and links, communities, and exports for researchers' tools."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

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
from ecosystem.analysis.export import ExportFormat
from ecosystem.services.insights import cluster_report
from ecosystem.services.insights import export as make_export
from ecosystem.services.networks import network_payload

router = APIRouter(prefix="/api/v1", tags=["network"])


@router.get("/network")
def network(store: StoreDep, settings: SettingsDep, _: HeavyDep,
            nuts: NutsParam = None,
            helix: HelixListParam = None,
            urban_rural: UrbanRuralListParam = None,
            min_weight: MinWeightParam = 1,
            year_from: YearParam = None,
            year_to: YearParam = None,
            limit: Annotated[int, Query(ge=1, le=20_000)] = 500) -> dict[str, Any]:
    """The collaboration network (weight = shared projects), capped at `limit` nodes (strongest kept;
    `truncated` says when the cap cut it)."""
    flt = filter_of(store, nuts, helix, urban_rural, min_weight, year_from, year_to)
    return network_payload(store, flt, limit=min(limit, settings.network_max_nodes * 10))


@router.get("/clusters")
def clusters(store: StoreDep, _: HeavyDep,
             nuts: NutsParam = None,
             helix: HelixListParam = None,
             urban_rural: UrbanRuralListParam = None,
             min_weight: MinWeightParam = 1,
             top: Annotated[int, Query(ge=1, le=100)] = 10,
             min_size: Annotated[int, Query(ge=1, le=100_000)] = 2) -> dict[str, Any]:
    """Communities (Leiden, modularity, fixed seed: the same every run): size, helix mix with missing helices
    flagged, urban-rural mix, regions, top members, links to other clusters."""
    return cluster_report(store, filter_of(store, nuts, helix, urban_rural, min_weight), top=top, min_size=min_size)


@router.get("/export", response_class=Response)
def export(store: StoreDep, _: HeavyDep,
           format: Annotated[ExportFormat, Query(description="graphml, gexf, csv (zip), json, vosviewer")],
           nuts: NutsParam = None,
           helix: HelixListParam = None,
           urban_rural: UrbanRuralListParam = None,
           min_weight: MinWeightParam = 1,
           year_from: YearParam = None,
           year_to: YearParam = None) -> Response:
    """The network with the same filters as /network, for Gephi, VOSviewer, pandas or networkx; nodes carry
    helix, urban-rural type, region, country and cluster."""
    flt = filter_of(store, nuts, helix, urban_rural, min_weight, year_from, year_to)
    content, media, suffix = make_export(store, flt, format.value)
    return Response(content, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="helixmap-network.{suffix}"'})


NODE_CSV = ["id", "name", "helix", "urban_rural", "country", "nuts3", "region_name", "city", "lat", "lon",
            "placed_by", "degree", "weighted_degree"]
LINK_CSV = ["source", "source_name", "target", "target_name", "weight", "funding", "first_year", "last_year",
            "pair_type", "helix_pair"]


@router.get("/network.csv", response_class=Response)
def network_csv(store: StoreDep, settings: SettingsDep,
                nuts: NutsParam = None,
                helix: HelixListParam = None,
                urban_rural: UrbanRuralListParam = None,
                min_weight: MinWeightParam = 1,
                year_from: YearParam = None,
                year_to: YearParam = None,
                table: Literal["organisations", "links"] = "organisations") -> Response:
    """The organisations or the links of the network map as CSV (the same filters and cap as the map;
    `lat` / `lon` are each organisation's place on the map, `placed_by` says how it was placed)."""
    flt = filter_of(store, nuts, helix, urban_rural, min_weight, year_from, year_to)
    payload = network_payload(store, flt, limit=settings.map_max_nodes)
    out = io.StringIO()
    if table == "organisations":
        writer = csv.DictWriter(out, NODE_CSV, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(payload["nodes"])
    else:
        names = {n["id"]: n.get("name") for n in payload["nodes"]}
        writer = csv.DictWriter(out, LINK_CSV, extrasaction="ignore")
        writer.writeheader()
        for edge in payload["edges"]:
            writer.writerow({**edge, "source_name": names.get(edge["source"]),
                             "target_name": names.get(edge["target"])})
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="helixmap-network-{table}.csv"'})
