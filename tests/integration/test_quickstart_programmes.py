"""Quickstart downloads the CORDIS archives of Horizon 2020 and Horizon Europe (FP7 as an option) from a real
local HTTP server serving archives built here, in CORDIS's layout (`;`-separated `project.csv` and
`organization.csv` in one zip a programme), from the CORDIS JSON export of the test data.

The test data holds H2020 projects and one FP7 project, no Horizon Europe one: the Horizon Europe archive is
built from some of the H2020 projects, so the test checks that the archive is fetched and read and that
every project keeps the framework programme its file states, not Horizon Europe figures.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ecosystem.config import Settings
from ecosystem.domain.errors import BadInputError
from ecosystem.quickstart import CORDIS_ARCHIVES, official_cordis, run_quickstart
from ecosystem.store.sqlite import SQLiteStore


def _csv(rows: list[dict[str, object]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=";", lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in rows)
    return out.getvalue()


def _archive(path: Path, projects: list[dict[str, object]], organisations: list[dict[str, object]]) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.csv", _csv(projects))
        zf.writestr("organization.csv", _csv(organisations))


class _Handler(SimpleHTTPRequestHandler):
    requested: list[str] = []

    def do_GET(self) -> None:
        _Handler.requested.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def cordis_server(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[tuple[str, dict[str, set[str]]]]:
    """A local server with the three programme archives; yields its base URL and each archive's project ids."""
    root = tmp_path_factory.mktemp("cordis-data")
    projects = json.loads((data_dir / "cordis/json/project.json").read_text(encoding="utf-8"))
    organisations = json.loads((data_dir / "cordis/json/organization.json").read_text(encoding="utf-8"))
    h2020 = [p for p in projects if p["frameworkProgramme"] == "H2020"]
    split = {"H2020": h2020[: len(h2020) // 2], "HORIZON": h2020[len(h2020) // 2:],
             "FP7": [p for p in projects if p["frameworkProgramme"] == "FP7"]}
    ids = {}
    for programme, chosen in split.items():
        ids[programme] = {str(p["id"]) for p in chosen}
        _archive(root / CORDIS_ARCHIVES[programme], chosen,
                 [o for o in organisations if str(o["projectID"]) in ids[programme]])
    # the regions, as GISCO serves them
    for name in ("NUTS_RG_20M_2021_4326_LEVL_3.geojson", "NUTS_RG_60M_2021_4326.geojson"):
        (root / name).write_bytes((data_dir / "regions" / name).read_bytes())
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", ids
    finally:
        server.shutdown()
        server.server_close()


def test_quickstart_takes_horizon_2020_and_horizon_europe_and_fp7_on_request(
        cordis_server: tuple[str, dict[str, set[str]]], tmp_path: Path) -> None:
    base, ids = cordis_server
    regions = [base + "NUTS_RG_20M_2021_4326_LEVL_3.geojson", base + "NUTS_RG_60M_2021_4326.geojson"]
    settings = Settings(cache_dir=tmp_path / "cache")
    store = SQLiteStore(tmp_path / "quick.db")
    _Handler.requested.clear()
    run_quickstart(store, settings, data_dir=None, countries=None, cordis_base=base, region_urls=regions)
    assert {"/" + CORDIS_ARCHIVES["H2020"], "/" + CORDIS_ARCHIVES["HORIZON"]} <= set(_Handler.requested)
    assert "/" + CORDIS_ARCHIVES["FP7"] not in _Handler.requested
    assert store.stats()["projects"] == len(ids["H2020"] | ids["HORIZON"])
    store.close()

    store = SQLiteStore(tmp_path / "with-fp7.db")
    run_quickstart(store, settings, data_dir=None, countries=None, cordis_base=base, region_urls=regions,
                   programmes=("h2020", "horizon", "fp7"))
    assert "/" + CORDIS_ARCHIVES["FP7"] in _Handler.requested
    assert store.stats()["projects"] == sum(len(v) for v in ids.values())
    (fp7,) = ids["FP7"]
    some_org = store.search_organisations(limit=100_000)[1]
    programmes = {p["id"]: p["programme"] for o in some_org for p in store.organisation_projects(o["id"])}
    assert programmes[fp7] == "FP7"
    assert {programmes[p] for p in ids["H2020"] | ids["HORIZON"] if p in programmes} == {"H2020"}
    # the programme as a search filter: the FP7 project's participants
    total, found = store.search_organisations(programme="FP7", limit=500)
    fp7_participants = {o["id"] for o in some_org if any(p["id"] == fp7 for p in store.organisation_projects(o["id"]))}
    assert total == len(fp7_participants) > 0 and {o["id"] for o in found} == fp7_participants
    assert store.search_organisations(programme="FP6")[0] == 0
    store.close()


def test_the_download_list_names_the_official_archives() -> None:
    assert official_cordis() == ["https://cordis.europa.eu/data/cordis-h2020projects-csv.zip",
                                 "https://cordis.europa.eu/data/cordis-HORIZONprojects-csv.zip"]
    assert official_cordis(["FP7"])[0].endswith("/cordis-fp7projects-csv.zip")
    with pytest.raises(BadInputError, match="unknown framework programme"):
        official_cordis(["FP6"])
