"""Every table on a page as CSV (`?csv=<table>` on the page's own URL), for people who work in spreadsheets."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from api.pages.i18n import Translator
from ecosystem.domain.models import HELICES, URBAN_RURAL

# a table: its column headers (message keys) and its rows (plain values, as the data holds them)
Table = tuple[list[str], list[list[Any]]]


def csv_table(request: Request, t: Translator, tables: dict[str, Callable[[], Table]]) -> Response | None:
    """The CSV of the table `?csv=` names, headers in the page language; None when no table is asked for."""
    name = request.query_params.get("csv")
    if not name or name not in tables:
        return None
    headers, rows = tables[name]()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([t(h) for h in headers])
    writer.writerows(rows)
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="helixmap-{name}.csv"'})


def org_rows(items: list[dict[str, Any]], count_key: str) -> list[list[Any]]:
    return [[i.get("id"), i.get("name"), i.get("helix"), i.get("country"), i.get("nuts3"), i.get("urban_rural"),
             i.get(count_key)] for i in items]


ORG_HEADERS = ["col.id", "col.name", "col.helix", "col.country", "col.region", "col.urban_rural"]


def organisation_tables(projects: list[dict[str, Any]], partners: list[dict[str, Any]],
                        suggestions: list[dict[str, Any]]) -> dict[str, Callable[[], Table]]:
    """The profile's tables: projects, partners, suggested partners with their reasons."""
    def reasons(c: dict[str, Any]) -> str:
        return " / ".join(" ".join([r["text"], ", ".join(p["name"] for p in r["links"]), r["more"]]).strip()
                          for r in c.get("sentences", []))

    return {
        "projects": lambda: (["col.id", "col.project", "col.role", "col.funding", "col.start", "col.end"],
                             [[p["id"], p.get("acronym"), p.get("role"), p.get("ec_contribution"),
                               p.get("start_date") or p.get("start_year"), p.get("end_date") or p.get("end_year")]
                              for p in projects]),
        "partners": lambda: ([*ORG_HEADERS, "col.shared_projects"], org_rows(partners, "weight")),
        "suggestions": lambda: ([*ORG_HEADERS, "col.score", "col.reasons"],
                                [[*row, reasons(c)] for row, c in zip(org_rows(suggestions, "score"), suggestions,
                                                                       strict=True)]),
    }


def region_tables(profile: dict[str, Any], municipalities: list[dict[str, Any]],
                  subs: list[dict[str, Any]]) -> dict[str, Callable[[], Table]]:
    """The region page's tables: helix counts, urban-rural mix, link matrix, bridges, municipalities, sub-regions."""
    bridges = profile["analytics"].get("top_bridges", [])
    return {
        **mix_tables(profile["helix"], profile["organisations_by_urban_rural"]),
        "links": lambda: (["region.end_a", "region.end_b", "col.links"],
                          [[r["a"], r["b"], r["links"]] for r in profile["urban_rural_links"]]),
        "bridges": lambda: ([*ORG_HEADERS, "col.partners", "col.outside_links"],
                            [[*row, b.get("outside_links")] for row, b in zip(org_rows(bridges, "degree"), bridges,
                                                                              strict=True)]),
        "municipalities": lambda: (["col.id", "col.municipality", "col.degurba", "col.population", "col.projects"],
                                   [[m["lau"], m.get("name"), m.get("degree_of_urbanisation"), m.get("population"),
                                     m.get("projects")] for m in municipalities]),
        "sub_regions": lambda: (["col.region", "col.name", "col.urban_rural", "col.organisations",
                                 *[f"helix.{h}" for h in HELICES], *[f"urban_rural.{u}" for u in URBAN_RURAL],
                                 "col.links_inside", "col.outside_links"],
                                [[r["nuts"], r.get("name"), r.get("urban_rural"), r["organisations"],
                                  *[r["helix"].get(h, 0) for h in HELICES],
                                  *[r["organisations_by_urban_rural"].get(u, 0) for u in URBAN_RURAL],
                                  r["links_inside"], r["links_outside"]] for r in subs]),
    }


def mix_tables(helix: dict[str, int], urban_rural: dict[str, int]) -> dict[str, Callable[[], Table]]:
    """Counts by helix and by urban-rural type."""
    return {"helix": lambda: (["col.helix", "col.organisations"], [[h, n] for h, n in helix.items()]),
            "urban_rural": lambda: (["col.urban_rural", "col.organisations"], [[u, n] for u, n in urban_rural.items()])}


def cluster_tables(cluster: dict[str, Any]) -> dict[str, Callable[[], Table]]:
    """A cluster's tables: helix and urban-rural mix, top members."""
    return {**mix_tables(cluster["helix"], cluster["urban_rural"]),
            "members": lambda: (["col.id", "col.name", "col.helix", "col.within_strength"],
                                [[m["id"], m.get("name"), m.get("helix"), m.get("within_strength")]
                                 for m in cluster["top_members"]])}
