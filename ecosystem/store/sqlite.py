"""The embedded store: one SQLite file, WAL mode, one transaction per import."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from ecosystem.domain.batch import ImportBatch, ImportReport
from ecosystem.domain.errors import StoreUnavailableError
from ecosystem.domain.filters import NetworkFilter
from ecosystem.domain.location import LocationResolver, NutsConversion, NutsVersions, RegionShape
from ecosystem.domain.merge import stronger_role
from ecosystem.domain.models import (
    HELICES,
    URBAN_RURAL,
    Municipality,
    Organisation,
    OrganisationRelation,
    Place,
    Project,
    Region,
)
from ecosystem.domain.municipalities import MunicipalityMatcher
from ecosystem.domain.nuts import COUNTRY_ALIASES, nuts_prefix
from ecosystem.domain.resolution import Overrides
from ecosystem.store.common import (
    fts_query,
    merge_regions,
    name_index_text,
    unlocated_reason,
)
from ecosystem.store.entities import Plan, override_ids, overrides_from_json, overrides_to_json
from ecosystem.store.pipeline import (
    Held,
    ParticipationKey,
    Participations,
    ParticipationState,
    RunsImportPipeline,
)

BATCH = 5000


def _chunks(items: list[Any], size: int = 900) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


READER_CACHE_KIB = 16_000
"""Page cache of each connection of another thread than the opener's (a server's worker threads): bounded, so the
server's memory is too (the opener's connection, which imports write through, keeps 200 MB)."""


class SQLiteStore(RunsImportPipeline):
    """`GraphStore` on SQLite: zero set-up, one file (`sqlite:///helixmap.db`)."""

    def __init__(self, path: str | Path, *, uri: str | None = None) -> None:
        self.path = str(path)
        self.uri = uri or f"sqlite:///{self.path}"
        self._local = threading.local()
        self._owner = threading.get_ident()  # the thread that opened the store (imports) gets the big page cache
        try:
            conn = self._conn()
            columns = [r[1] for r in conn.execute("PRAGMA table_info(participations)")]
            if columns and "record_id" not in columns:
                raise StoreUnavailableError(
                    f"the SQLite store {self.path} was made by an older helixmap (participations without "
                    "record ids); delete it and import again")
            schema = resources.files("ecosystem.store").joinpath("sqlite_schema.sql").read_text()
            conn.executescript(schema)
            conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('data_version', '0')")
            conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('regions_version', '0')")
            conn.commit()
        except sqlite3.Error as exc:
            raise StoreUnavailableError(f"cannot open the SQLite store {self.path}: {exc}") from exc

    # -- connections -----------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=OFF")
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute(f"PRAGMA cache_size=-{200000 if threading.get_ident() == self._owner else READER_CACHE_KIB}")
            self._local.conn = conn
        return conn

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    def _meta(self, key: str) -> str:
        row = self._conn().execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else "0"

    def data_version(self) -> str:
        return self._meta("data_version")

    # -- writing: the storage primitives of the import pipeline (`ecosystem.store.pipeline`) ---------------------
    # (`apply` and `resolve` run the pipeline: `RunsImportPipeline`)
    @contextmanager
    def import_transaction(self) -> Iterator[Held]:
        """One transaction for the whole import: all of it or nothing."""
        with self._transaction() as conn:
            self._changes0 = conn.total_changes
            one = lambda sql: conn.execute(sql).fetchone()[0]
            yield Held(organisations=one("SELECT count(*) FROM organisations"),
                       projects=one("SELECT count(*) FROM projects"),
                       participations=one("SELECT count(*) FROM participations"),
                       collaborations=one("SELECT count(*) FROM collaborations"),
                       regions=one("SELECT count(*) FROM regions"))

    def changes(self, counted: int) -> int:
        """The rows this import's statements changed."""
        return self._conn().total_changes - self._changes0

    def bump(self, *, regions_changed: bool) -> None:
        conn = self._conn()
        conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='data_version'")
        _stamp_data_change(conn)
        if regions_changed:
            conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='regions_version'")

    def write_regions(self, batch: ImportBatch) -> int:
        conn = self._conn()
        before = conn.total_changes
        existing: dict[str, Region] = {}
        ids = [r.nuts_id for r in batch.regions] + [n for n, _ in batch.region_names]
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for nuts_id, doc in conn.execute(f"SELECT nuts_id, doc FROM regions WHERE nuts_id IN ({marks})", chunk):
                existing[nuts_id] = Region.model_validate_json(doc)
        rows = merge_regions(existing, batch.regions, batch.region_names)
        conn.executemany(
            "INSERT INTO regions(nuts_id, level, country, parent, urban_rural, doc) VALUES (?,?,?,?,?,?) "
            "ON CONFLICT(nuts_id) DO UPDATE SET level=excluded.level, country=excluded.country, "
            "parent=excluded.parent, urban_rural=excluded.urban_rural, doc=excluded.doc "
            "WHERE doc IS NOT excluded.doc",
            [(r.nuts_id, r.level, r.country, r.parent, r.urban_rural.value, r.model_dump_json()) for r in rows])
        conn.executemany(
            "INSERT INTO region_shapes(nuts_id, level, geometry) VALUES (?,?,?) ON CONFLICT(nuts_id) DO UPDATE "
            "SET level=excluded.level, geometry=excluded.geometry WHERE geometry IS NOT excluded.geometry",
            [(s.nuts_id, s.level, json.dumps(s.geometry, separators=(",", ":"))) for s in batch.shapes])
        conn.executemany(
            "INSERT INTO municipalities(country, lau_code, nuts3, degurba, doc) VALUES (?,?,?,?,?) "
            "ON CONFLICT(country, lau_code) DO UPDATE SET nuts3=excluded.nuts3, degurba=excluded.degurba, "
            "doc=excluded.doc WHERE doc IS NOT excluded.doc",
            [(m.country, m.lau_code, m.nuts3, m.degurba.value if m.degurba else None, m.model_dump_json())
             for m in batch.municipalities])
        for chunk in _chunks(batch.postcodes, BATCH):
            conn.executemany(
                "INSERT INTO postcodes(country, postcode, nuts3, version) VALUES (?,?,?,?) "
                "ON CONFLICT(country, postcode) DO UPDATE SET nuts3=excluded.nuts3, version=excluded.version "
                "WHERE nuts3 IS NOT excluded.nuts3 OR version IS NOT excluded.version", chunk)
        conn.executemany(
            "INSERT INTO nuts_conversions(from_version, from_code, to_version, to_code, weight) VALUES (?,?,?,?,?) "
            "ON CONFLICT DO UPDATE SET weight=excluded.weight WHERE weight IS NOT excluded.weight",
            [(c.from_version, c.from_code, c.to_version, c.to_code, c.weight) for c in batch.conversions])
        conn.executemany(
            "INSERT INTO places(geonames_id, country, doc) VALUES (?,?,?) ON CONFLICT(geonames_id) DO UPDATE "
            "SET country=excluded.country, doc=excluded.doc WHERE doc IS NOT excluded.doc",
            [(p.geonames_id, p.country, p.model_dump_json()) for p in batch.places])
        return conn.total_changes - before

    def region_count(self) -> int:
        return int(self._conn().execute("SELECT count(*) FROM regions").fetchone()[0])

    def grouped(self) -> dict[str, str]:
        return dict(self._conn().execute("SELECT record_id, canonical_id FROM organisation_records"))

    def load_organisations(self, ids: list[str]) -> dict[str, Organisation]:
        found: dict[str, Organisation] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for oid, doc in self._conn().execute(f"SELECT id, doc FROM organisations WHERE id IN ({marks})", chunk):
                found[oid] = Organisation.model_validate_json(doc)
        return found

    def all_organisations(self) -> dict[str, Organisation]:
        return {oid: Organisation.model_validate_json(doc)
                for oid, doc in self._conn().execute("SELECT id, doc FROM organisations")}

    def create_organisations(self, orgs: list[Organisation]) -> None:
        self.save_organisations(orgs)

    def save_organisations(self, orgs: list[Organisation]) -> None:
        for chunk in _chunks(orgs, BATCH):
            self._save_orgs(self._conn(), chunk)

    def _save_orgs(self, conn: sqlite3.Connection, orgs: list[Organisation]) -> None:
        rows = []
        for o in orgs:
            loc = o.location
            rows.append((o.id, o.name, o.country, o.helix.value.value, o.helix.confidence, loc.nuts3,
                         loc.urban_rural.value, loc.degurba.value if loc.degurba else None, loc.lat, loc.lon,
                         loc.city, o.model_dump_json()))
        conn.executemany(
            "INSERT INTO organisations(id, name, country, helix, helix_confidence, nuts3, urban_rural, degurba,"
            " lat, lon, city, doc) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
            "name=excluded.name, country=excluded.country, helix=excluded.helix, "
            "helix_confidence=excluded.helix_confidence, nuts3=excluded.nuts3, urban_rural=excluded.urban_rural, "
            "degurba=excluded.degurba, lat=excluded.lat, lon=excluded.lon, city=excluded.city, doc=excluded.doc",
            rows)
        ids = [o.id for o in orgs]
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            conn.execute(f"DELETE FROM organisation_names WHERE id IN ({marks})", chunk)
        conn.executemany("INSERT INTO organisation_names(id, text) VALUES (?, ?)",
                         [(o.id, name_index_text(o)) for o in orgs])

    def group_members(self, canonical_ids: list[str]) -> dict[str, dict[str, Organisation]]:
        out: dict[str, dict[str, Organisation]] = {}
        for c in canonical_ids:
            members = {rid: Organisation.model_validate_json(doc) for rid, doc in self._conn().execute(
                "SELECT record_id, doc FROM organisation_records WHERE canonical_id = ?", (c,))}
            if members:
                out[c] = members
        return out

    def save_group_records(self, members: dict[str, dict[str, Organisation]]) -> None:
        self._conn().executemany(
            "UPDATE organisation_records SET doc = ? WHERE record_id = ? AND doc IS NOT ?",
            [(doc.model_dump_json(), rid, doc.model_dump_json()) for c in sorted(members)
             for rid, doc in members[c].items()])

    def load_projects(self, ids: list[str]) -> dict[str, Project]:
        existing: dict[str, Project] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for pid, doc in self._conn().execute(f"SELECT id, doc FROM projects WHERE id IN ({marks})", chunk):
                existing[pid] = Project.model_validate_json(doc)
        return existing

    def write_projects(self, new: list[Project], changed: list[Project]) -> None:
        self._conn().executemany(
            "INSERT INTO projects(id, acronym, start_year, end_year, doc) VALUES (?,?,?,?,?) "
            "ON CONFLICT(id) DO UPDATE SET acronym=excluded.acronym, start_year=excluded.start_year, "
            "end_year=excluded.end_year, doc=excluded.doc",
            [(p.id, p.acronym, p.start_year, p.end_year, p.model_dump_json()) for p in [*new, *changed]])

    def load_participations(self, project_ids: list[str]) -> dict[ParticipationKey, ParticipationState]:
        existing: dict[ParticipationKey, ParticipationState] = {}
        for chunk in _chunks(project_ids):
            marks = ",".join("?" * len(chunk))
            for pid, oid, rid, role, ec, source in self._conn().execute(
                    "SELECT project_id, organisation_id, record_id, role, ec_contribution, source FROM participations "
                    f"WHERE project_id IN ({marks})", chunk):
                existing[(pid, oid, rid)] = (role, ec, source)
        return existing

    def write_participations(self, parts: Participations, report: ImportReport) -> int:
        conn = self._conn()
        before = conn.total_changes
        rows = [(*key, *parts.state[key]) for key in parts.todo]
        for chunk in _chunks(rows, BATCH):
            conn.executemany(
                "INSERT INTO participations(project_id, organisation_id, record_id, role, ec_contribution, source) "
                "VALUES (?,?,?,?,?,?) ON CONFLICT(project_id, organisation_id, record_id) DO UPDATE SET "
                "role=excluded.role, ec_contribution=excluded.ec_contribution, source=excluded.source", chunk)
        return conn.total_changes - before

    def write_relations(self, relations: list[OrganisationRelation]) -> int:
        conn = self._conn()
        before = conn.total_changes
        conn.executemany(
            "INSERT INTO organisation_relations(source_id, target_id, kind, source) VALUES (?,?,?,?) "
            "ON CONFLICT DO UPDATE SET source=excluded.source WHERE source IS NOT excluded.source",
            [(r.source_id, r.target_id, r.kind, r.source.model_dump_json()) for r in relations])
        return conn.total_changes - before

    # -- entity resolution -----------------------------------------------------------------------
    def store_overrides(self, overrides: Overrides | None) -> None:
        value = json.dumps(overrides_to_json(overrides)) if overrides is not None else "null"
        self._conn().execute("INSERT INTO meta(key, value) VALUES ('resolution_overrides', ?) "
                             "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (value,))

    def stored_overrides(self) -> Overrides | None:
        row = self._conn().execute("SELECT value FROM meta WHERE key = 'resolution_overrides'").fetchone()
        return overrides_from_json(json.loads(row[0]) if row else None)

    def resolution_records(self, overrides: Overrides | None) -> list[Organisation]:
        conn = self._conn()
        # the records on their own node that can match (see `worth_resolving`) or that an override names, and the
        # records of every group (a group's node is not a record)
        records = [Organisation.model_validate_json(doc) for (doc,) in conn.execute(
            "SELECT doc FROM organisations WHERE json_array_length(doc, '$.records') = 0 AND (name != id "
            "OR EXISTS (SELECT 1 FROM json_each(doc, '$.identifiers') WHERE key <> 'pic') "
            "OR id IN (SELECT value FROM json_each(?)))", (json.dumps(sorted(override_ids(overrides))),))]
        records += [Organisation.model_validate_json(doc) for (doc,) in
                    conn.execute("SELECT doc FROM organisation_records")]
        return records

    def projects_of(self, ids: list[str]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for chunk in _chunks(ids, 400):
            marks = ",".join("?" * len(chunk))
            for pid, oid, rid in self._conn().execute(
                    "SELECT project_id, organisation_id, record_id FROM participations "
                    f"WHERE (organisation_id IN ({marks}) AND record_id = '') OR record_id IN ({marks})",
                    [*chunk, *chunk]):
                out.setdefault(rid or oid, set()).add(pid)
        return out

    def defer_regrouping(self, plan: Plan) -> bool:
        return False

    def dissolve_group(self, canonical_id: str, members: list[Organisation]) -> None:
        conn = self._conn()
        conn.execute("DELETE FROM organisations WHERE id = ?", (canonical_id,))
        conn.execute("DELETE FROM organisation_names WHERE id = ?", (canonical_id,))
        self._save_orgs(conn, members)
        conn.execute("UPDATE participations SET organisation_id = record_id, record_id = '' "
                     "WHERE organisation_id = ? AND record_id <> ''", (canonical_id,))
        conn.execute("DELETE FROM organisation_records WHERE canonical_id = ?", (canonical_id,))

    def form_group(self, canonical_id: str, record_ids: list[str], records: dict[str, Organisation],
                   organisation: Organisation) -> None:
        conn = self._conn()
        conn.executemany("INSERT INTO organisation_records(record_id, canonical_id, doc) VALUES (?,?,?)",
                         [(rid, canonical_id, records[rid].model_dump_json()) for rid in record_ids])
        for rid in record_ids:
            if rid != canonical_id:
                conn.execute("UPDATE participations SET organisation_id = ?, record_id = ? "
                             "WHERE organisation_id = ?", (canonical_id, rid, rid))
                conn.execute("DELETE FROM organisations WHERE id = ?", (rid,))
                conn.execute("DELETE FROM organisation_names WHERE id = ?", (rid,))
        self._save_orgs(conn, [organisation])

    # -- the collaboration projection ------------------------------------------------------------
    def mark_dirty(self) -> None:
        """Nothing to note: the projection is rebuilt in the import's own transaction."""

    def collaborations_dirty(self) -> bool:
        return False

    def rebuild_collaborations(self, progress: Any) -> None:
        """Materialise the organisation-organisation projection: weight = shared projects."""
        conn = self._conn()
        conn.execute("DELETE FROM collaborations")
        members = self._members_table(conn)
        conn.execute(
            "INSERT INTO collaborations(a, b, weight, funding, first_year, last_year) "
            "SELECT x.organisation_id, y.organisation_id, count(*), "
            "sum(coalesce(x.ec_contribution, 0) + coalesce(y.ec_contribution, 0)), "
            "min(p.start_year), max(coalesce(p.end_year, p.start_year)) "
            f"FROM {members} x JOIN {members} y "
            "ON x.project_id = y.project_id AND x.organisation_id < y.organisation_id "
            "LEFT JOIN projects p ON p.id = x.project_id "
            "GROUP BY x.organisation_id, y.organisation_id")

    @staticmethod
    def _members_table(conn: sqlite3.Connection) -> str:
        """Participations with one row per (project, organisation node): the table itself unless merged records
        take part in a project twice through one node, else a temporary table folding them (contributions added)."""
        if conn.execute("SELECT NOT EXISTS (SELECT 1 FROM participations WHERE record_id <> '')").fetchone()[0]:
            return "participations"
        conn.execute("DROP TABLE IF EXISTS temp.node_participations")
        conn.execute("CREATE TEMP TABLE node_participations(project_id TEXT, organisation_id TEXT, ec_contribution "
                     "REAL, PRIMARY KEY (project_id, organisation_id)) WITHOUT ROWID")
        conn.execute("INSERT INTO temp.node_participations SELECT project_id, organisation_id, sum(ec_contribution) "
                     "FROM participations GROUP BY project_id, organisation_id")
        conn.execute("CREATE INDEX temp.node_participations_org ON node_participations(organisation_id)")
        return "temp.node_participations"

    # -- locations -------------------------------------------------------------------------------
    def location_resolver(self, orgs: list[Organisation]) -> tuple[LocationResolver, MunicipalityMatcher]:
        conn = self._conn()
        regions = [Region.model_validate_json(d) for (d,) in conn.execute("SELECT doc FROM regions")]
        shapes = [RegionShape(nuts_id=n, level=lv, geometry=json.loads(g))
                  for n, lv, g in conn.execute("SELECT nuts_id, level, geometry FROM region_shapes WHERE level=3")]
        municipalities = [Municipality.model_validate_json(d)
                          for (d,) in conn.execute("SELECT doc FROM municipalities")]
        conversions = [NutsConversion(*row) for row in conn.execute(
            "SELECT from_version, from_code, to_version, to_code, weight FROM nuts_conversions")]
        def lookup_in_tx(country: str, postcode: str) -> tuple[str, str] | None:
            row = conn.execute("SELECT nuts3, version FROM postcodes WHERE country=? AND postcode=?",
                               (country, postcode)).fetchone()
            return (row[0], row[1]) if row else None

        countries = [c for (c,) in conn.execute("SELECT DISTINCT country FROM postcodes")]
        places = [Place.model_validate_json(d) for (d,) in conn.execute("SELECT doc FROM places")]
        resolver = LocationResolver(regions, shapes, municipalities, conversions, lookup_in_tx,
                                    postcode_countries=countries, places=places)
        return resolver, MunicipalityMatcher(municipalities, NutsVersions(conversions))

    # -- reading ---------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        conn = self._conn()
        one = lambda sql: conn.execute(sql).fetchone()[0]
        helix = dict.fromkeys(HELICES, 0)
        for key, n in conn.execute("SELECT helix, count(*) FROM organisations GROUP BY helix"):
            helix[key] = n
        urban_rural = dict.fromkeys(URBAN_RURAL, 0)
        for key, n in conn.execute("SELECT urban_rural, count(*) FROM organisations GROUP BY urban_rural"):
            urban_rural[key] = n
        return {
            "organisations": one("SELECT count(*) FROM organisations"),
            "projects": one("SELECT count(*) FROM projects"),
            "participations": one("SELECT count(*) FROM (SELECT DISTINCT project_id, organisation_id "
                                  "FROM participations)"),
            "collaborations": one("SELECT count(*) FROM collaborations"),
            "helix": helix,
            "urban_rural": urban_rural,
            "regions": one("SELECT count(*) FROM regions"),
            "municipalities": one("SELECT count(*) FROM municipalities"),
            "located": one("SELECT count(*) FROM organisations WHERE nuts3 IS NOT NULL"),
            "records": one("SELECT count(*) FROM organisations")
            + one("SELECT count(*) FROM organisation_records WHERE record_id <> canonical_id"),
        }

    def record_groups(self) -> dict[str, list[str]]:
        """Organisations made of several source records by entity resolution: canonical id -> record ids."""
        out: dict[str, list[str]] = {}
        for rid, c in self._conn().execute(
                "SELECT record_id, canonical_id FROM organisation_records ORDER BY canonical_id, record_id"):
            out.setdefault(c, []).append(rid)
        return out

    def _org_filter_sql(self, *, helix: str | None = None, country: str | None = None, nuts: str | None = None,
                        urban_rural: str | None = None, alias: str = "o") -> tuple[list[str], list[Any]]:
        where: list[str] = []
        args: list[Any] = []
        if helix:
            where.append(f"{alias}.helix = ?")
            args.append(helix)
        if country:
            where.append(f"{alias}.country = ?")
            args.append(COUNTRY_ALIASES.get(country.upper(), country.upper()))
        if nuts:
            code = nuts_prefix(nuts)
            if len(code) == 2:
                where.append(f"({alias}.country = ? OR {alias}.nuts3 LIKE ?)")
                args += [code, code + "%"]
            else:
                where.append(f"{alias}.nuts3 LIKE ?")
                args.append(code + "%")
        if urban_rural:
            where.append(f"{alias}.urban_rural = ?")
            args.append(urban_rural)
        return where, args

    def search_organisations(self, q: str | None = None, *, helix: str | None = None,
                             country: str | None = None, nuts: str | None = None,
                             urban_rural: str | None = None, limit: int = 20,
                             offset: int = 0, tag: str | None = None,
                             programme: str | None = None) -> tuple[int, list[dict[str, Any]]]:
        conn = self._conn()
        where, args = self._org_filter_sql(helix=helix, country=country, nuts=nuts, urban_rural=urban_rural)
        if tag:  # a register's category: the tags kept in the organisation's document
            where.append("EXISTS (SELECT 1 FROM json_each(o.doc, '$.tags') t WHERE t.value = ?)")
            args.append(tag)
        if programme:  # a project of that framework programme
            where.append("EXISTS (SELECT 1 FROM participations p JOIN projects j ON j.id = p.project_id "
                         "WHERE p.organisation_id = o.id AND json_extract(j.doc, '$.programme') = ?)")
            args.append(programme)
        match = fts_query(q) if q else None
        if q and match is None:
            return 0, []
        base = "FROM organisations o"
        order = "o.name, o.id"
        if match:
            base += (" JOIN (SELECT id, min(rank) AS rank FROM organisation_names WHERE organisation_names MATCH ? "
                     "GROUP BY id) f ON f.id = o.id")
            args = [match, *args]
            order = "f.rank, o.name, o.id"
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        total = conn.execute(f"SELECT count(*) {base}{clause}", args).fetchone()[0]
        rows = conn.execute(
            f"SELECT o.id, o.name, o.country, o.helix, o.helix_confidence, o.nuts3, o.urban_rural, o.degurba, "
            f"o.city {base}{clause} ORDER BY {order} LIMIT ? OFFSET ?", [*args, limit, offset]).fetchall()
        keys = ("id", "name", "country", "helix", "helix_confidence", "nuts3", "urban_rural", "degurba", "city")
        return total, [dict(zip(keys, r, strict=True)) for r in rows]

    def canonical_id(self, org_id: str) -> str:
        """The id of the organisation node a source record belongs to (itself unless it was merged)."""
        row = self._conn().execute("SELECT canonical_id FROM organisation_records WHERE record_id = ?",
                                   (org_id,)).fetchone()
        return row[0] if row else org_id

    def organisation(self, org_id: str) -> dict[str, Any] | None:
        row = self._conn().execute("SELECT doc FROM organisations WHERE id = ?", (org_id,)).fetchone()
        if row is None and (canonical := self.canonical_id(org_id)) != org_id:
            row = self._conn().execute("SELECT doc FROM organisations WHERE id = ?", (canonical,)).fetchone()
        return json.loads(row[0]) if row else None

    def organisation_projects(self, org_id: str) -> list[dict[str, Any]]:
        rows = self._conn().execute(
            "SELECT p.project_id, group_concat(p.role, '|'), sum(p.ec_contribution), j.doc FROM participations p "
            "JOIN projects j ON j.id = p.project_id WHERE p.organisation_id = ? GROUP BY p.project_id "
            "ORDER BY j.start_year DESC, p.project_id", (org_id,)).fetchall()
        out = []
        for pid, roles, ec, doc in rows:
            role = None
            for r in (roles or "").split("|"):
                role = stronger_role(role, r or None)
            d = json.loads(doc)
            out.append({"id": pid, "acronym": d.get("acronym"), "title": d.get("title"),
                        "programme": d.get("programme"), "start_year": d.get("start_year"),
                        "end_year": d.get("end_year"), "role": role, "ec_contribution": ec,
                        "start_date": d.get("start_date"), "end_date": d.get("end_date")})
        return out

    def partners(self, org_id: str, limit: int = 100) -> list[dict[str, Any]]:
        rows = self._conn().execute(
            "SELECT c.other, o.name, o.helix, o.country, o.nuts3, o.urban_rural, c.weight, c.funding, "
            "c.first_year, c.last_year FROM ("
            " SELECT b AS other, weight, funding, first_year, last_year FROM collaborations WHERE a = ?"
            " UNION ALL SELECT a, weight, funding, first_year, last_year FROM collaborations WHERE b = ?) c "
            "JOIN organisations o ON o.id = c.other ORDER BY c.weight DESC, o.name, o.id LIMIT ?",
            (org_id, org_id, limit)).fetchall()
        keys = ("id", "name", "helix", "country", "nuts3", "urban_rural", "weight", "funding",
                "first_year", "last_year")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def partner_count(self, org_id: str) -> int:
        return self._conn().execute(
            "SELECT (SELECT count(*) FROM collaborations WHERE a = ?) + (SELECT count(*) FROM collaborations "
            "WHERE b = ?)", (org_id, org_id)).fetchone()[0]

    def region(self, nuts_id: str) -> dict[str, Any] | None:
        row = self._conn().execute("SELECT doc FROM regions WHERE nuts_id = ?", (nuts_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def country_known(self, country: str) -> bool:
        return self._conn().execute(
            "SELECT EXISTS(SELECT 1 FROM organisations WHERE country = ?) OR "
            "EXISTS(SELECT 1 FROM regions WHERE country = ?)", (country, country)).fetchone()[0] == 1

    def organisations_for_network(self, flt: NetworkFilter) -> list[dict[str, Any]]:
        where: list[str] = []
        args: list[Any] = []
        for field, values in (("helix", flt.helix), ("urban_rural", flt.urban_rural)):
            if values:
                where.append(f"o.{field} IN ({','.join('?' * len(values))})")
                args += list(values)
        if flt.country:
            where.append(f"o.country IN ({','.join('?' * len(flt.country))})")
            args += [COUNTRY_ALIASES.get(c, c) for c in flt.country]
        if flt.nuts:
            parts = []
            for code in flt.nuts:
                code = nuts_prefix(code)
                if len(code) == 2:
                    parts.append("(o.country = ? OR o.nuts3 LIKE ?)")
                    args += [code, code + "%"]
                else:
                    parts.append("o.nuts3 LIKE ?")
                    args.append(code + "%")
            where.append("(" + " OR ".join(parts) + ")")
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        rows = self._conn().execute(
            "SELECT o.id, o.name, o.helix, o.urban_rural, o.country, o.nuts3, "
            "json_extract(r.doc, '$.name'), o.city, o.lat, o.lon, o.degurba, "
            "(SELECT group_concat(t.value, '; ') FROM json_each(o.doc, '$.tags') t) "
            f"FROM organisations o LEFT JOIN regions r ON r.nuts_id = o.nuts3{clause}", args).fetchall()
        keys = ("id", "name", "helix", "urban_rural", "country", "nuts3", "region_name", "city", "lat", "lon",
                "degurba", "tags")  # tags: a register's categories, "; "-joined
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def collaboration_edges(self, flt: NetworkFilter, ids: set[str] | None = None
                            ) -> Iterator[tuple[str, str, int, float, int | None, int | None]]:
        conn = self._conn()
        if flt.year_from is not None or flt.year_to is not None:
            sql = ("SELECT x.organisation_id, y.organisation_id, count(*), "
                   "sum(coalesce(x.ec_contribution, 0) + coalesce(y.ec_contribution, 0)), "
                   "min(p.start_year), max(coalesce(p.end_year, p.start_year)) "
                   "FROM participations x JOIN participations y ON x.project_id = y.project_id "
                   "AND x.organisation_id < y.organisation_id JOIN projects p ON p.id = x.project_id "
                   "WHERE p.start_year BETWEEN ? AND ? GROUP BY x.organisation_id, y.organisation_id "
                   "HAVING count(*) >= ?")
            sql = sql.replace("participations", self._members_table(conn))
            cursor = conn.execute(sql, (flt.year_from if flt.year_from is not None else -10**6,
                                        flt.year_to if flt.year_to is not None else 10**6, flt.min_weight))
        else:
            cursor = conn.execute("SELECT a, b, weight, funding, first_year, last_year FROM collaborations "
                                  "WHERE weight >= ?", (flt.min_weight,))
        if ids is None:
            yield from cursor
        else:
            for row in cursor:
                if row[0] in ids and row[1] in ids:
                    yield row

    def iter_participations(self) -> Iterator[tuple[str, str, str | None, float | None]]:
        for pid, oid, roles, ec in self._conn().execute(
                "SELECT project_id, organisation_id, group_concat(role, '|'), sum(ec_contribution) FROM participations "
                "GROUP BY project_id, organisation_id"):
            role = None
            for r in (roles or "").split("|"):
                role = stronger_role(role, r or None)
            yield pid, oid, role, ec

    def iter_projects(self) -> Iterator[tuple[str, int | None, list[str], str | None, str | None]]:
        """(id, start year, topics, programme part, programme) of every project."""
        for pid, year, topics, part, programme in self._conn().execute(
                "SELECT id, start_year, json_extract(doc, '$.topics'), json_extract(doc, '$.programme_part'), "
                "json_extract(doc, '$.programme') FROM projects"):
            yield pid, year, json.loads(topics) if topics else [], part, programme

    def iter_project_texts(self) -> Iterator[tuple[str, str | None, str | None, list[str]]]:
        """(id, acronym, title, call topic titles) of every project."""
        for pid, acronym, title, titles in self._conn().execute(
                "SELECT id, json_extract(doc, '$.acronym'), json_extract(doc, '$.title'), "
                "json_extract(doc, '$.topic_titles') FROM projects"):
            yield pid, acronym, title, json.loads(titles) if titles else []

    def relations(self, org_id: str) -> list[dict[str, Any]]:
        """Links of an organisation that are not collaboration (ROR parent, child, related...)."""
        conn = self._conn()
        ids = [org_id, *(r for (r,) in conn.execute(
            "SELECT record_id FROM organisation_records WHERE canonical_id = ?", (org_id,)))]
        marks = ",".join("?" * len(ids))
        rows = conn.execute(
            "SELECT DISTINCT coalesce(m.canonical_id, r.target_id) AS t, r.kind, o.name FROM organisation_relations r "
            "LEFT JOIN organisation_records m ON m.record_id = r.target_id "
            "LEFT JOIN organisations o ON o.id = coalesce(m.canonical_id, r.target_id) "
            f"WHERE r.source_id IN ({marks}) AND coalesce(m.canonical_id, r.target_id) <> ? ORDER BY r.kind, t",
            [*ids, org_id]).fetchall()
        return [{"id": t, "kind": k, "name": n} for t, k, n in rows]

    def municipal_governments(self) -> list[dict[str, Any]]:
        """Organisations linked as the government of a municipality, with their project counts."""
        rows = self._conn().execute(
            "SELECT o.id, o.name, o.country, json_extract(o.doc, '$.identifiers.lau'), "
            "(SELECT count(DISTINCT p.project_id) FROM participations p WHERE p.organisation_id = o.id), "
            "o.nuts3, o.urban_rural FROM organisations o "
            "WHERE o.helix = 'government' AND json_extract(o.doc, '$.identifiers.lau') IS NOT NULL "
            "ORDER BY o.id").fetchall()
        keys = ("id", "name", "country", "lau", "projects", "nuts3", "urban_rural")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def municipality(self, key: str) -> dict[str, Any] | None:
        """One LAU municipality by its key `COUNTRY:LAU_CODE`."""
        country, _, code = key.partition(":")
        row = self._conn().execute("SELECT doc FROM municipalities WHERE country = ? AND lau_code = ?",
                                   (country, code)).fetchone()
        return json.loads(row[0]) if row else None

    def location_report(self) -> dict[str, Any]:
        """How many organisations are placed, by method, and why the others are not."""
        by_method: dict[str, int] = {}
        unlocated: dict[str, int] = {}
        regions_loaded = self._conn().execute("SELECT count(*) FROM regions").fetchone()[0] > 0
        for (doc,) in self._conn().execute("SELECT doc FROM organisations"):
            org = Organisation.model_validate_json(doc)
            if org.location.nuts3:
                key = org.location.method or "unknown"
                by_method[key] = by_method.get(key, 0) + 1
            else:
                reason = unlocated_reason(org, regions_loaded=regions_loaded)
                unlocated[reason] = unlocated.get(reason, 0) + 1
        return {"located_by": by_method, "unlocated": unlocated}

    def region_shapes(self, level: int, nuts: str | None = None) -> list[RegionShape]:
        """Stored NUTS boundaries of one level, inside `nuts` (any level, or a country) when given."""
        rows = self._conn().execute(
            "SELECT nuts_id, level, geometry FROM region_shapes WHERE level = ? AND nuts_id LIKE ? ORDER BY nuts_id",
            (level, (nuts_prefix(nuts) if nuts else "") + "%"))
        return [RegionShape(nuts_id=n, level=lv, geometry=json.loads(g)) for n, lv, g in rows]

    def organisation_places(self) -> dict[str, dict[str, Any]]:
        """What the location resolver decided for each organisation placed in a NUTS3 region, for maps:
        id -> lat, lon (the source's), nuts3, method, notes and the region's label point (label_lat, label_lon)."""
        rows = self._conn().execute(
            "SELECT o.id, o.lat, o.lon, o.nuts3, json_extract(o.doc, '$.location.method'), "
            "json_extract(o.doc, '$.location.notes'), json_extract(r.doc, '$.label_lat'), "
            "json_extract(r.doc, '$.label_lon') FROM organisations o LEFT JOIN regions r ON r.nuts_id = o.nuts3 "
            "WHERE o.nuts3 IS NOT NULL")
        return {oid: {"lat": lat, "lon": lon, "nuts3": nuts3, "method": method,
                      "notes": json.loads(notes) if notes else [], "label_lat": llat, "label_lon": llon}
                for oid, lat, lon, nuts3, method, notes, llat, llon in rows}

    def data_updated(self) -> str | None:
        """When the data last changed (ISO 8601, UTC), or None when the store has not recorded it."""
        row = self._conn().execute("SELECT value FROM meta WHERE key = 'data_updated'").fetchone()
        return str(row[0]) if row else None

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """This thread's reads inside see one state of the store: one read transaction (WAL keeps it stable
        while an import commits). Nests: an inner snapshot joins the outer one."""
        conn = self._conn()
        if conn.in_transaction:
            yield
            return
        conn.execute("BEGIN")
        try:
            yield
        finally:
            if conn.in_transaction:
                conn.execute("COMMIT")


def _stamp_data_change(conn: sqlite3.Connection) -> None:
    """Record when the data version changed (read by `SQLiteStore.data_updated`)."""
    conn.execute("INSERT INTO meta(key, value) VALUES ('data_updated', ?) ON CONFLICT(key) DO UPDATE SET "
                 "value = excluded.value", (datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),))
