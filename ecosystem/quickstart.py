"""Quickstart: the official open data (or local copies of it) to a served graph in one command."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ecosystem.config import Settings
from ecosystem.domain.batch import ImportBatch, ImportReport
from ecosystem.domain.errors import BadInputError, DownloadError
from ecosystem.store.base import GraphStore

# The official files, as their publishers name them. `--data-dir` takes local copies of the same files.
OFFICIAL_REGIONS = [
    "https://gisco-services.ec.europa.eu/distribution/v2/nuts/geojson/NUTS_RG_20M_2021_4326_LEVL_3.geojson",
    "https://gisco-services.ec.europa.eu/distribution/v2/nuts/geojson/NUTS_RG_60M_2021_4326.geojson",
]
# CORDIS publishes one archive of project files (projects, organisations, ...) per framework programme, under
# one address; each project keeps its programme (`frameworkProgramme`: H2020, HORIZON, FP7).
CORDIS_DATA = "https://cordis.europa.eu/data/"
CORDIS_ARCHIVES = {
    "H2020": "cordis-h2020projects-csv.zip",      # Horizon 2020, 2014-2020
    "HORIZON": "cordis-HORIZONprojects-csv.zip",  # Horizon Europe, 2021-2027
    "FP7": "cordis-fp7projects-csv.zip",          # the 7th framework programme, 2007-2013: an option
}
DEFAULT_PROGRAMMES = ("H2020", "HORIZON")


def official_cordis(programmes: Sequence[str] = DEFAULT_PROGRAMMES, base: str = CORDIS_DATA) -> list[str]:
    """The official CORDIS archives of the programmes (`CORDIS_ARCHIVES` keys, any case), at `base`."""
    wanted = [p.strip().upper() for p in programmes if p.strip()]
    unknown = [p for p in wanted if p not in CORDIS_ARCHIVES]
    if unknown:
        raise BadInputError(f"unknown framework programme(s) {', '.join(unknown)}; known: "
                            f"{', '.join(CORDIS_ARCHIVES)}", field="programmes")
    return [base.rstrip("/") + "/" + CORDIS_ARCHIVES[p] for p in dict.fromkeys(wanted)]


OFFICIAL_CORDIS = official_cordis()


def filter_countries(batch: ImportBatch, countries: set[str]) -> ImportBatch:
    """Keep the projects with at least one participant in `countries`, with all their participants
    (so links across borders stay visible)."""
    country_of = {o.id: (o.country or "") for o in batch.organisations}
    keep_projects = {p.project_id for p in batch.participations if country_of.get(p.organisation_id) in countries}
    participations = [p for p in batch.participations if p.project_id in keep_projects]
    keep_orgs = {p.organisation_id for p in participations}
    return ImportBatch(label=batch.label + f" (projects with partners in {', '.join(sorted(countries))})",
                       organisations=[o for o in batch.organisations if o.id in keep_orgs],
                       projects=[p for p in batch.projects if p.id in keep_projects],
                       participations=participations, warnings=batch.warnings)


def _classify_local(data_dir: Path) -> tuple[list[Path], list[Path], list[str]]:
    """Split a folder of local copies into regions files and CORDIS files, by content."""
    from importers.files import iter_files
    from importers.places import detect_places_file
    from importers.regions import detect_region_file

    regions: list[Path] = []
    cordis: list[Path] = []
    skipped: list[str] = []
    for path in iter_files(data_dir, (".csv", ".json", ".geojson", ".gz", ".zip")):
        try:
            detect_region_file(path)
            regions.append(path)
            continue
        except BadInputError:
            pass
        if detect_places_file(path):  # GeoNames places: geocoding by city name, imported with the regions
            regions.append(path)
            continue
        if _looks_like_cordis(path):
            cordis.append(path)
        else:
            skipped.append(str(path.relative_to(data_dir)))
    return regions, cordis, skipped


def _looks_like_cordis(path: Path) -> bool:
    if path.suffix.lower() == ".zip":
        return True
    if path.suffix.lower() == ".gz":
        return False
    with path.open("rb") as file:
        head = file.read(4096).decode("utf-8", "ignore")
    return (("projectID" in head and ("organisationID" in head or "topic" in head))
            or ('"acronym"' in head and '"startDate"' in head)
            or head.startswith("id;acronym") or head.startswith('"id";"acronym"'))


def run_quickstart(store: GraphStore, settings: Settings, *, data_dir: Path | None, countries: str | None,
                   progress: Any = None, programmes: Sequence[str] = DEFAULT_PROGRAMMES,
                   cordis_base: str = CORDIS_DATA, region_urls: Sequence[str] | None = None) -> list[ImportReport]:
    """Import regions then CORDIS participations, from local copies or the official downloads (the CORDIS
    archives of `programmes`, Horizon 2020 and Horizon Europe by default, at `cordis_base`; the regions at
    `region_urls`, the official GISCO files by default)."""
    from importers.cordis import read_cordis
    from importers.eurostat import read_regions

    wanted = {c.strip().upper() for c in countries.split(",")} if countries else set()
    if data_dir is not None:
        if not data_dir.is_dir():
            raise BadInputError("not a directory", file=str(data_dir))
        region_inputs, cordis_inputs, _skipped = _classify_local(data_dir)
        region_args: list[str | Path] = list(region_inputs)
        cordis_args: list[str | Path] = list(cordis_inputs)
        if not cordis_args:
            raise BadInputError("no CORDIS organisation or project file in the folder", file=str(data_dir))
    else:
        region_args = list(region_urls if region_urls is not None else OFFICIAL_REGIONS)
        cordis_args = list(official_cordis(programmes, cordis_base))
    reports = []
    try:
        if region_args:
            reports.append(store.apply(read_regions(region_args, cache_dir=settings.cache_dir, progress=progress),
                                       progress))
        batch = read_cordis(cordis_args, cache_dir=settings.cache_dir, progress=progress)
    except DownloadError as exc:
        raise DownloadError(f"{exc}. Without network, download the files elsewhere and run "
                            "`helixmap quickstart --data-dir DIR`.") from exc
    if wanted:
        batch = filter_countries(batch, wanted)
    reports.append(store.apply(batch, progress))
    return reports
