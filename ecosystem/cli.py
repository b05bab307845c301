"""The `helixmap` command line: import, stats, serve, quickstart, map.

Errors print one clear line and exit 1 (bad input, failed import, store unavailable); usage errors
exit 2; success exits 0.
"""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from ecosystem.analysis.export import ExportFormat
from ecosystem.config import Settings, load_settings
from ecosystem.domain.batch import ImportBatch, ImportReport
from ecosystem.domain.errors import HelixmapError
from ecosystem.domain.models import Helix, UrbanRural
from ecosystem.store import GraphStore, open_store

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="helixmap: map quadruple-helix collaboration (government, academia, industry, "
                       "civil society) across cities and the countryside, from real open data.")
import_app = typer.Typer(no_args_is_help=True, help="Import open data into the store.")
app.add_typer(import_app, name="import")

# Markup off: everything printed is data or plain words (file names, values, messages), never rich markup.
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)
out = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)

STORE_SCHEMES = ("sqlite", "neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc")


class Layout(str, Enum):
    geo = "geo"
    force = "force"


if TYPE_CHECKING:
    HelixChoice = Helix
    UrbanRuralChoice = UrbanRural
else:  # the domain's vocabularies, spelt by value on the command line
    HelixChoice = Enum("HelixChoice", {h.value: h.value for h in Helix}, type=str)
    UrbanRuralChoice = Enum("UrbanRuralChoice", {u.value: u.value for u in UrbanRural}, type=str)


class _State:
    settings: Settings


state = _State()


@app.callback()
def _main(store: str | None = typer.Option(None, "--store", envvar="HELIXMAP_STORE",
                                              help="Store URL (default sqlite:///helixmap.db)."),
          cache_dir: Path | None = typer.Option(None, "--cache-dir", help="Download cache folder.")) -> None:
    if store is not None and (store.split("://", 1)[0] not in STORE_SCHEMES or "://" not in store):
        raise typer.BadParameter(f"unknown store URL {store!r}: use sqlite:///FILE, neo4j://HOST:PORT or "
                                 "bolt://HOST:PORT", param_hint="'--store' / HELIXMAP_STORE")
    state.settings = load_settings(store=store, cache_dir=cache_dir)


@contextmanager
def _progress() -> Iterator[Progress]:
    with Progress(TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True) as progress:
        yield progress


def _fail(message: str, code: int = 1) -> None:
    """One line on standard error, then the exit code."""
    err.print(Text.assemble(("error:", "bold red"), " ", " ".join(message.split())), soft_wrap=True)
    raise typer.Exit(code)


def _run(action: Callable[[], Any]) -> Any:
    """Run an action, translating helixmap errors into one line and exit code 1."""
    try:
        return action()
    except HelixmapError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted; the store is unchanged by the unfinished import")


@contextmanager
def _opened_store() -> Iterator[GraphStore]:
    """The store of `--store`, closed when the command ends, on error too."""
    store = open_store(state.settings.store, state.settings)
    try:
        yield store
    finally:
        store.close()


def _apply(store: GraphStore, batch: ImportBatch, progress: Progress) -> ImportReport:
    task = progress.add_task(f"writing {batch.size():,} records", total=None)
    report = store.apply(batch, progress)
    progress.remove_task(task)
    return report


def _print_report(report: ImportReport) -> None:
    parts = [f"{n:,} {what}" for what, n in (("organisations", report.organisations), ("projects", report.projects),
                                             ("participations", report.participations), ("regions", report.regions),
                                             ("municipalities", report.municipalities),
                                             ("postcodes", report.postcodes)) if n]
    err.print(f"imported {', '.join(parts) or 'nothing'}; {report.changed:,} rows changed in the store")
    if report.unlocated:
        reasons = ", ".join(f"{n:,} {why}" for why, n in sorted(report.unlocated.items(), key=lambda kv: -kv[1]))
        err.print(f"not placed in a NUTS3 region: {reasons}")
    if report.merged or report.uncertain:
        err.print(f"entity resolution: {report.merged:,} source records are part of another organisation; "
                  f"{report.uncertain:,} uncertain pairs (list them: helixmap resolve --review review.csv)")
    if report.warnings:
        err.print(f"{len(report.warnings):,} warnings (rows skipped or fields ignored); first ones:")
        for w in report.warnings[:5]:
            err.print(f"  - {w}")


def _import_batch(read: Callable[[Progress], ImportBatch]) -> None:
    """Read a batch (with progress), write it to the store, report: the body of every `helixmap import`."""
    from importers.files import expansion_limit

    def action() -> None:
        with (expansion_limit(state.settings.max_expanded_mb * 2**20), _opened_store() as store,
              _progress() as progress):
            report = _apply(store, read(progress), progress)
        _print_report(report)
    _run(action)


@import_app.command("cordis")
def import_cordis(paths: list[str] = typer.Argument(..., help="organization/project/topics CSV or JSON, zips, "
                                                               "directories or URLs")) -> None:
    """Import CORDIS project participations."""
    from importers.cordis import read_cordis

    _import_batch(lambda progress: read_cordis(paths, cache_dir=state.settings.cache_dir, progress=progress))


@import_app.command("regions")
def import_regions(paths: list[str] = typer.Argument(..., help="NUTS typology, names, GeoJSON, LAU, postcode "
                                                               "and converter files, directories or URLs")) -> None:
    """Import Eurostat/GISCO regions: NUTS, urban-rural types, municipalities, postcodes."""
    from importers.eurostat import read_regions

    _import_batch(lambda progress: read_regions(paths, cache_dir=state.settings.cache_dir, progress=progress))


@import_app.command("ror")
def import_ror(paths: list[str] = typer.Argument(..., help="ROR schema v2 JSON dump (.json, .json.gz, the "
                                                            "published zip), a directory or a URL")) -> None:
    """Import the Research Organization Registry: organisations, helices from types, relationships."""
    from importers.ror import read_ror

    _import_batch(lambda progress: read_ror(paths, cache_dir=state.settings.cache_dir, progress=progress))


@import_app.command("table")
def import_table(path: Path = typer.Argument(..., help="CSV/TSV register or participation table"),
                 mapping: Path = typer.Option(..., "--mapping", help="TOML file mapping columns to fields")) -> None:
    """Import any register or participation table through a column mapping."""
    from importers.table import read_table

    def read(progress: Progress) -> ImportBatch:
        task = progress.add_task(f"reading {path.name}", total=None)
        batch = read_table(path, mapping, progress=lambda n: progress.update(task, completed=n))
        progress.remove_task(task)
        return batch

    _import_batch(read)


@app.command()
def resolve(overrides: Path | None = typer.Option(
                None, "--overrides", help="Your decisions: the review file with 'merge'/'forbid' filled in, a CSV "
                "left_id,right_id,decision or TOML (docs/entity-resolution.md). Kept in the store for later imports."),
            clear: bool = typer.Option(False, "--clear-overrides", help="Drop the overrides kept in the store."),
            review: Path | None = typer.Option(None, "--review", help="Write the uncertain pairs to this CSV."),
            ) -> None:
    """Run entity resolution again: one organisation per real organisation, with your overrides."""
    def action() -> None:
        from ecosystem.domain.resolution import load_overrides

        given = load_overrides(overrides) if overrides is not None else None
        with _opened_store() as store:
            with _progress() as progress:
                task = progress.add_task("resolving organisations", total=None)
                report = store.resolve(given, keep_overrides=not clear, review_path=review)
                progress.remove_task(task)
            groups = store.record_groups()
        records = sum(len(m) for m in groups.values())
        err.print(f"{len(groups):,} organisations are made of {records:,} source records; "
                  f"{report.uncertain:,} uncertain pairs" + (f" written to {review}" if review else ""))
        for w in report.warnings[:5]:
            err.print(f"  - {w}")
    _run(action)


@app.command()
def stats(as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """Counts of organisations, projects, participations, collaborations, helices, urban-rural types."""
    def action() -> None:
        with _opened_store() as store:
            result = store.stats()
        if as_json:
            print(json.dumps(result, sort_keys=True))
            return
        out.print(f"organisations   {result['organisations']:>10,}")
        out.print(f"projects        {result['projects']:>10,}")
        out.print(f"participations  {result['participations']:>10,}")
        out.print(f"collaborations  {result['collaborations']:>10,}")
        out.print("helix           " + ", ".join(f"{k} {v:,}" for k, v in result["helix"].items()))
        out.print("urban-rural     " + ", ".join(f"{k} {v:,}" for k, v in result["urban_rural"].items()))
    _run(action)


def _check_port_free(host: str, port: int) -> None:
    """Exit 1 with one line when the address cannot be bound (another server on the port, a bad host)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        _fail(f"cannot serve on {host}:{port}: {exc.strerror or exc}")
        return
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            _fail(f"cannot serve on {host}:{port}: {exc.strerror or exc} (is another server running there? "
                  "choose one with --port)")


def _checked_codes(store: GraphStore, codes: list[str]) -> list[str]:
    """NUTS or country codes of the command line checked against the store, as the API checks them (an unknown
    code is the API's 404 message, exit 1)."""
    from ecosystem.services.regions import checked_nuts

    return [c for c in (checked_nuts(store, code) for code in codes) if c]


@app.command()
def serve(host: str | None = typer.Option(None, help="Interface (default 127.0.0.1)."),
          port: int | None = typer.Option(None, help="Port (default 8000).")) -> None:
    """Serve the HTTP API and the maps."""
    def action() -> None:
        import uvicorn

        from api.app import create_app

        settings = state.settings
        bind_host, bind_port = host or settings.host, port or settings.port
        _check_port_free(bind_host, bind_port)
        with _opened_store() as store:
            application = create_app(settings, store)
            err.print(f"serving {settings.store} on http://{bind_host}:{bind_port} "
                      "(API docs at /docs, map at /maps/network)")
            uvicorn.run(application, host=bind_host, port=bind_port, log_level="warning")
    _run(action)


@app.command("map")
def write_map(out_file: Path = typer.Option(Path("helixmap-network.html"), "--out", help="HTML file to write."),
              layout: Layout = typer.Option(Layout.geo, help="geo (positions from coordinates) or force."),
              nuts: list[str] = typer.Option([], help="NUTS code of any level, or a country code (repeatable)."),
              helix: list[HelixChoice] = typer.Option([], help="Helix (repeatable)."),
              urban_rural: list[UrbanRuralChoice] = typer.Option([], "--urban-rural",
                                                                 help="urban, intermediate, rural."),
              min_weight: int = typer.Option(1, "--min-weight", help="Minimum shared projects on a link.")) -> None:
    """Write an interactive network map (works offline)."""
    def action() -> None:
        from api.pages.i18n import catalogue
        from ecosystem.domain.filters import network_filter
        from ecosystem.services.networks import network_payload
        from ecosystem.services.region_links import nuts3_outlines
        from visualisations import render_network_payload

        max_nodes = state.settings.map_max_nodes
        with _opened_store() as store:
            flt = network_filter(nuts=_checked_codes(store, nuts), helix=[h.value for h in helix],
                                 urban_rural=[u.value for u in urban_rural], min_weight=min_weight)
            payload = network_payload(store, flt, limit=max_nodes)
            outlines = nuts3_outlines(store, (n["nuts3"] for n in payload["nodes"] if n.get("nuts3")))
        html = render_network_payload(payload, layout=layout.value, max_nodes=max_nodes, outlines=outlines,
                                      messages=catalogue("en"), csv_query=None)
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(html, encoding="utf-8")
        err.print(f"wrote {out_file}")
    _run(action)


@app.command()
def recommend(org_id: str = typer.Argument(..., help="Organisation id (e.g. a PIC)."),
              k: int = typer.Option(10, "-k", min=1, max=100, help="How many partners."),
              helix: HelixChoice | None = typer.Option(None, help="Only candidates of this helix."),
              urban_rural: UrbanRuralChoice | None = typer.Option(None, "--urban-rural",
                                                                 help="urban, intermediate, rural."),
              country: str | None = typer.Option(None, help="Only candidates in this country."),
              nuts: str | None = typer.Option(None, help="Only candidates in this NUTS region (any level)."),
              favour_rural_civil: bool = typer.Option(False, "--favour-rural-civil",
                                                      help="Re-rank in favour of rural and civil-society partners."),
              exclude_hubs: bool = typer.Option(False, "--exclude-hubs",
                                                help="Leave out the top 1% of organisations by number of partners."),
              as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Recommend partners for an organisation, with the reasons for each."""
    def action() -> None:
        from ecosystem.services.partners import recommendations

        with _opened_store() as store, _progress() as progress:
            task = progress.add_task("building the partner index", total=None)
            code = _checked_codes(store, [nuts])[0] if nuts else None
            result = recommendations(store, org_id, k=k, helix=helix.value if helix else None,
                                     urban_rural=urban_rural.value if urban_rural else None, country=country,
                                     nuts=code, favour_rural_civil=favour_rural_civil,
                                     exclude_hubs=exclude_hubs)
            progress.remove_task(task)
        if as_json:
            print(json.dumps(result, ensure_ascii=False, indent=1))
            return
        if result.get("hubs"):
            out.print(f"Hubs left out: the {result['hubs']['organisations']} organisations with "
                      f"{result['hubs']['min_partners']} or more partners (top 1%)")
        for i, item in enumerate(result["items"], 1):
            place = ", ".join(x for x in (item.get("nuts3"), item.get("country")) if x)
            out.print(f"{i:>2}. {item['name']} ({item['helix']}, {place}; score {item['score']:.3f})")
            for reason in item["reasons"]:
                out.print(f"      - {reason}")
    _run(action)


@app.command()
def partners(topic: str | None = typer.Option(None, help="Call topic code (e.g. ICT-01-2014)."),
             programme: str | None = typer.Option(None, help="Programme part (e.g. SC1) or framework programme "
                                                             "(e.g. H2020)."),
             q: str | None = typer.Option(None, "--q", help="Keywords, matched in project titles, acronyms and "
                                                            "call topic titles."),
             helix: HelixChoice | None = typer.Option(None, help="Only candidates of this helix."),
             urban_rural: UrbanRuralChoice | None = typer.Option(None, "--urban-rural",
                                                                help="urban, intermediate, rural."),
             nuts: str | None = typer.Option(None, help="Only candidates in this NUTS region (any level) or country."),
             exclude: list[str] = typer.Option([], help="Organisation id already in the consortium (repeatable, or "
                                                        "comma-separated): never suggested, its partners count."),
             k: int = typer.Option(20, "-k", min=1, max=100, help="How many partners."),
             as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Partners for an idea: organisations ranked for a call topic, a programme part or keywords, with reasons."""
    if not any(v and v.strip() for v in (topic, programme, q)):
        raise typer.BadParameter("say what the idea is about: give --topic, --programme or --q",
                                 param_hint="'--topic' / '--programme' / '--q'")

    def action() -> None:
        from ecosystem.services.partners import partners_for_idea

        team = [oid for value in exclude for oid in value.replace(",", " ").split()]
        with _opened_store() as store, _progress() as progress:
            task = progress.add_task("building the idea index", total=None)
            code = _checked_codes(store, [nuts])[0] if nuts else None
            result = partners_for_idea(store, topic=topic, programme=programme, q=q,
                                       helix=helix.value if helix else None,
                                       urban_rural=urban_rural.value if urban_rural else None, nuts=code,
                                       exclude=team, k=k)
            progress.remove_task(task)
        if as_json:
            print(json.dumps(result, ensure_ascii=False, indent=1))
            return
        matched = result["matched_projects"]
        out.print(f"{matched:,} project{'' if matched == 1 else 's'} match{'es' if matched == 1 else ''} the idea"
                  + ("" if result["items"] else "; no organisation to suggest"))
        for note in result["notes"]:
            out.print(f"note: {note}")
        for i, item in enumerate(result["items"], 1):
            place = ", ".join(x for x in (item.get("nuts3"), item.get("urban_rural"), item.get("country")) if x)
            out.print(f"{i:>2}. {item['name']} ({item['helix']}, {place}; score {item['score']:.3f})")
            for reason in item["reasons"]:
                out.print(f"      - {reason}")
    _run(action)


@app.command("export")
def export_network(fmt: ExportFormat = typer.Option(ExportFormat.graphml, "--format",
                                                   help="graphml, gexf, csv (zip), json, vosviewer."),
                   out_file: Path | None = typer.Option(None, "--out", help="File to write (default by format)."),
                   nuts: list[str] = typer.Option([], help="NUTS code of any level, or a country code (repeatable)."),
                   helix: list[HelixChoice] = typer.Option([], help="Helix (repeatable)."),
                   urban_rural: list[UrbanRuralChoice] = typer.Option([], "--urban-rural",
                                                                      help="urban, intermediate, rural."),
                   min_weight: int = typer.Option(1, "--min-weight", help="Minimum shared projects on a link."),
                   year_from: int | None = typer.Option(None, "--year-from"),
                   year_to: int | None = typer.Option(None, "--year-to")) -> None:
    """Export the network for Gephi, VOSviewer, pandas or networkx (helix, urban-rural, region, cluster)."""
    def action() -> None:
        from ecosystem.domain.filters import network_filter
        from ecosystem.services.insights import export

        with _opened_store() as store, _progress() as progress:
            flt = network_filter(nuts=_checked_codes(store, nuts), helix=[h.value for h in helix],
                                 urban_rural=[u.value for u in urban_rural], min_weight=min_weight,
                                 year_from=year_from, year_to=year_to)
            task = progress.add_task("computing the network and its clusters", total=None)
            content, _media, suffix = export(store, flt, fmt.value)
            progress.remove_task(task)
        target = out_file or Path(f"helixmap-network.{suffix}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        err.print(f"wrote {target}")
    _run(action)


@app.command()
def clusters(nuts: list[str] = typer.Option([], help="NUTS code of any level, or a country code (repeatable)."),
             min_size: int = typer.Option(2, "--min-size", help="Smallest cluster to list."),
             as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Communities of the collaboration graph (Leiden, fixed seed) with their helix and urban-rural mix."""
    def action() -> None:
        from ecosystem.domain.filters import network_filter
        from ecosystem.services.insights import cluster_report

        with _opened_store() as store, _progress() as progress:
            task = progress.add_task("detecting clusters", total=None)
            report = cluster_report(store, network_filter(nuts=_checked_codes(store, nuts)), min_size=min_size)
            progress.remove_task(task)
        if as_json:
            print(json.dumps(report, ensure_ascii=False, indent=1, default=str))
            return
        out.print(f"{report['n_clusters']:,} clusters, modularity {report['modularity']:.3f}")
        for c in report["clusters"][:20]:
            missing = ", ".join(c.get("missing_helices", [])) or "none"
            out.print(f"  cluster {c.get('cluster')}: {c.get('size')} organisations; missing helices: {missing}")
    _run(action)


@app.command()
def quickstart(countries: str | None = typer.Option(None, help="Comma-separated country codes (default: all)."),
               data_dir: Path | None = typer.Option(None, "--data-dir", help="Local copies of the official files."),
               serve_after: bool = typer.Option(True, "--serve/--no-serve", help="Serve the API and map after."),
               port: int | None = typer.Option(None, help="Port to serve on.")) -> None:
    """Download the official open data (or read --data-dir), build the graph, serve it."""
    from ecosystem.quickstart import run_quickstart

    def action() -> None:
        with _opened_store() as store:
            with _progress() as progress:
                reports = run_quickstart(store, state.settings, data_dir=data_dir, countries=countries,
                                         progress=progress)
            for report in reports:
                _print_report(report)
            result = store.stats()
        err.print(f"graph ready: {result['organisations']:,} organisations, {result['projects']:,} projects, "
                  f"{result['collaborations']:,} collaborations in {state.settings.store}")
        if serve_after:
            serve(host=None, port=port)
    _run(action)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except SystemExit:
        raise
    except Exception as exc:  # last resort: one line, no traceback
        err.print(Text.assemble(("error:", "bold red"), f" unexpected {type(exc).__name__}: {exc}"))
        sys.exit(1)


if __name__ == "__main__":
    main()
