"""The server store: Neo4j 5 through the official driver.

Graph model::

    (:Organisation)-[:PARTICIPATES_IN {role, ec_contribution, source}]->(:Project)
    (:Organisation)-[:LOCATED_IN]->(:Region)-[:PART_OF]->(:Region)
    (:Organisation)-[:COLLABORATES_WITH {weight, funding, first_year, last_year}]-(:Organisation)

plus lookup nodes for locating organisations (:Municipality, :Postcode, :NutsConversion) and one
(:HelixmapMeta) node holding the data version. Writes are batched `UNWIND ... MERGE` in managed
transactions (retried on transient errors by the driver); every query names its database and routes
reads as reads; values always travel as parameters.

A Neo4j import is written in batches, not one transaction, so it scales; it is idempotent, and a
`collaborations_dirty` flag set before the collaboration projection is rewritten (and cleared after)
makes a re-run after an interruption finish the job: the same import twice equals one clean import.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any, Callable, Iterator

from ecosystem.errors import NotSupportedError, QueryRejectedError, StoreUnavailableError
from ecosystem.merge import merge_organisation, merge_project, stronger_role
from ecosystem.models import Municipality, Organisation, Project, Region
from ecosystem.store.base import HELIX_KEYS, URBAN_RURAL_KEYS, ImportBatch, ImportReport, NetworkFilter
from ecosystem.store.common import (COUNTRY_ALIASES, fts_query, name_index_text, note_location, nuts_prefix,
                                    unlocated_reason)

BATCH = 10_000
COLLAB_BATCH = 20_000

SCHEMA = [
    "CREATE CONSTRAINT organisation_id IF NOT EXISTS FOR (o:Organisation) REQUIRE o.id IS UNIQUE",
    "CREATE CONSTRAINT project_id IF NOT EXISTS FOR (p:Project) REQUIRE p.id IS UNIQUE",
    "CREATE CONSTRAINT region_id IF NOT EXISTS FOR (r:Region) REQUIRE r.nuts_id IS UNIQUE",
    "CREATE CONSTRAINT municipality_key IF NOT EXISTS FOR (m:Municipality) REQUIRE m.key IS UNIQUE",
    "CREATE CONSTRAINT postcode_key IF NOT EXISTS FOR (p:Postcode) REQUIRE p.key IS UNIQUE",
    "CREATE CONSTRAINT conversion_key IF NOT EXISTS FOR (c:NutsConversion) REQUIRE c.key IS UNIQUE",
    "CREATE CONSTRAINT meta_key IF NOT EXISTS FOR (m:HelixmapMeta) REQUIRE m.key IS UNIQUE",
    "CREATE INDEX organisation_helix IF NOT EXISTS FOR (o:Organisation) ON (o.helix)",
    "CREATE INDEX organisation_country IF NOT EXISTS FOR (o:Organisation) ON (o.country)",
    "CREATE INDEX organisation_nuts3 IF NOT EXISTS FOR (o:Organisation) ON (o.nuts3)",
    "CREATE INDEX organisation_urban_rural IF NOT EXISTS FOR (o:Organisation) ON (o.urban_rural)",
    "CREATE INDEX project_start_year IF NOT EXISTS FOR (p:Project) ON (p.start_year)",
    "CREATE INDEX region_country IF NOT EXISTS FOR (r:Region) ON (r.country)",
    "CREATE FULLTEXT INDEX organisation_names IF NOT EXISTS FOR (o:Organisation) ON EACH [o.name_text]",
]

# Read-only Cypher for researchers: the read transaction makes the server refuse writes; these are
# refused before they reach it (procedures that administer the server or read files).
_FORBIDDEN = ("dbms.", "db.create", "db.clear", "load csv", "apoc.", "gds.", "db.index.fulltext.drop")


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


class Neo4jStore:
    """`GraphStore` on a Neo4j 5 server (`neo4j://host:7687` or `bolt://host:7687`)."""

    def __init__(self, uri: str, username: str, password: str, *, database: str = "neo4j") -> None:
        import neo4j
        from neo4j import GraphDatabase
        from neo4j.exceptions import AuthError, ServiceUnavailable

        self._neo4j = neo4j
        self.uri = uri
        self.database = database
        try:
            self._driver = GraphDatabase.driver(uri, auth=(username, password), connection_timeout=10,
                                                max_transaction_retry_time=30, notifications_min_severity="OFF")
            self._driver.verify_connectivity()
        except AuthError as exc:
            self._driver.close()
            raise StoreUnavailableError(f"Neo4j at {uri} refused the credentials of user {username!r} "
                                        "(set NEO4J_USERNAME / NEO4J_PASSWORD)") from exc
        except (ServiceUnavailable, OSError, ValueError) as exc:
            if hasattr(self, "_driver"):
                self._driver.close()
            reason = "connection refused" if "refused" in str(exc) else " ".join(str(exc).split())[:200]
            raise StoreUnavailableError(f"cannot reach Neo4j at {uri}: {reason}") from exc
        self._ensure_schema()

    # -- plumbing --------------------------------------------------------------------------------
    def _run(self, query: str, read: bool = False, **params: Any) -> list[Any]:
        from neo4j import RoutingControl
        from neo4j.exceptions import ServiceUnavailable, SessionExpired

        try:
            records, _, _ = self._driver.execute_query(
                query, params, database_=self.database,
                routing_=RoutingControl.READ if read else RoutingControl.WRITE)
        except (ServiceUnavailable, SessionExpired) as exc:
            raise StoreUnavailableError(f"lost the connection to Neo4j at {self.uri}: {exc}") from exc
        return records

    def _write(self, work: Callable[[Any], Any]) -> Any:
        from neo4j.exceptions import ServiceUnavailable, SessionExpired

        try:
            with self._driver.session(database=self.database) as session:
                return session.execute_write(work)
        except (ServiceUnavailable, SessionExpired) as exc:
            raise StoreUnavailableError(f"lost the connection to Neo4j at {self.uri}: {exc}") from exc

    def _write_batches(self, query: str, rows: list[Any], size: int = BATCH, **params: Any) -> None:
        for chunk in _chunks(rows, size):
            self._write(lambda tx, c=chunk: tx.run(query, rows=c, **params).consume())

    def _run_implicit(self, query: str, **params: Any) -> None:
        """An auto-commit query: `CALL { ... } IN TRANSACTIONS` refuses to run in a managed transaction."""
        from neo4j.exceptions import ServiceUnavailable, SessionExpired

        try:
            with self._driver.session(database=self.database) as session:
                session.run(query, params).consume()
        except (ServiceUnavailable, SessionExpired) as exc:
            raise StoreUnavailableError(f"lost the connection to Neo4j at {self.uri}: {exc}") from exc

    def _ensure_schema(self) -> None:
        for statement in SCHEMA:
            self._run(statement)
        self._run("MERGE (m:HelixmapMeta {key: 'meta'}) ON CREATE SET m.data_version = 0, "
                  "m.collaborations_dirty = false")

    def close(self) -> None:
        self._driver.close()

    def clear(self) -> None:
        """Delete every helixmap node and relationship (used by tests and `--fresh` loads)."""
        # relationships first, in bounded transactions: a well-connected node detached at once can hold
        # hundreds of thousands of relationships and exceed the transaction memory limit
        for rel in ("COLLABORATES_WITH", "PARTICIPATES_IN", "LOCATED_IN", "PART_OF"):
            self._run_implicit(f"MATCH ()-[r:{rel}]->() CALL (r) {{ DELETE r }} IN TRANSACTIONS OF 50000 ROWS")
        for label in ("Organisation", "Project", "Region", "Municipality", "Postcode", "NutsConversion"):
            self._run_implicit(f"MATCH (n:{label}) CALL (n) {{ DETACH DELETE n }} IN TRANSACTIONS OF 10000 ROWS")
        self._run("MATCH (m:HelixmapMeta) SET m.data_version = coalesce(m.data_version, 0) + 1, "
                  "m.collaborations_dirty = false")

    def data_version(self) -> str:
        rows = self._run("MATCH (m:HelixmapMeta {key: 'meta'}) RETURN m.data_version AS v", read=True)
        return str(rows[0]["v"]) if rows else "0"

    def _bump(self) -> None:
        self._run("MATCH (m:HelixmapMeta {key: 'meta'}) SET m.data_version = m.data_version + 1")

    # -- writing ---------------------------------------------------------------------------------
    def apply(self, batch: ImportBatch, progress: Any = None) -> ImportReport:
        report = ImportReport(label=batch.label, warnings=list(batch.warnings))
        changed = 0
        regions_changed = self._write_regions(batch, report)
        changed += regions_changed
        org_changes = self._write_organisations(batch.organisations, report)
        changed += org_changes
        changed += self._write_projects(batch, report)
        part_changes = self._write_participations(batch, report)
        changed += part_changes
        changed += self._relocate(None if regions_changed else [o.id for o in batch.organisations], report)
        dirty = self._run("MATCH (m:HelixmapMeta {key: 'meta'}) RETURN m.collaborations_dirty AS d")[0]["d"]
        if part_changes or dirty:
            self._rebuild_collaborations(progress)
            changed += 1
        report.changed = changed
        if changed:
            self._bump()
        return report

    def _write_regions(self, batch: ImportBatch, report: ImportReport) -> int:
        if not batch.touches_regions():
            return 0
        changed = 0
        existing = {r["id"]: Region.model_validate_json(r["doc"]) for r in self._run(
            "MATCH (r:Region) RETURN r.nuts_id AS id, r.doc AS doc", read=True)}
        rows: dict[str, Region] = {}
        for region in batch.regions:
            old = existing.get(region.nuts_id)
            if old is not None and old.name and not region.name:
                region = region.model_copy(update={"name": old.name})
            existing[region.nuts_id] = region
            rows[region.nuts_id] = region
        for nuts_id, name in batch.region_names:
            old = existing.get(nuts_id)
            if old is None:
                level = max(0, len(nuts_id) - 2)
                if level > 3:
                    continue
                old = Region(nuts_id=nuts_id, level=level, country=nuts_id[:2],
                             parent=nuts_id[:-1] if level else None)
            if old.name != name:
                old = old.model_copy(update={"name": name})
                existing[nuts_id] = old
                rows[nuts_id] = old
        stored = {r["id"]: r["doc"] for r in self._run("MATCH (r:Region) RETURN r.nuts_id AS id, r.doc AS doc",
                                                         read=True)}
        region_rows = [{"id": r.nuts_id, "level": r.level, "country": r.country, "parent": r.parent,
                        "urban_rural": r.urban_rural.value, "doc": r.model_dump_json()}
                       for r in rows.values() if stored.get(r.nuts_id) != r.model_dump_json()]
        self._write_batches(
            "UNWIND $rows AS row MERGE (r:Region {nuts_id: row.id}) SET r.level = row.level, r.country = row.country, "
            "r.parent = row.parent, r.urban_rural = row.urban_rural, r.doc = row.doc", region_rows)
        self._write_batches(
            "UNWIND $rows AS row MATCH (r:Region {nuts_id: row.id}) MATCH (p:Region {nuts_id: row.parent}) "
            "MERGE (r)-[:PART_OF]->(p)", [r for r in region_rows if r["parent"]])
        changed += len(region_rows)
        shape_rows = [{"id": s.nuts_id, "level": s.level, "geometry": json.dumps(s.geometry, separators=(",", ":"))}
                      for s in batch.shapes]
        stored_shapes = {r["id"]: r["g"] for r in self._run(
            "MATCH (r:Region) WHERE r.shape IS NOT NULL RETURN r.nuts_id AS id, r.shape AS g", read=True)}
        shape_rows = [s for s in shape_rows if stored_shapes.get(s["id"]) != s["geometry"]]
        self._write_batches("UNWIND $rows AS row MERGE (r:Region {nuts_id: row.id}) "
                            "ON CREATE SET r.level = row.level, r.country = left(row.id, 2), r.urban_rural = 'unknown', "
                            "r.doc = null SET r.shape = row.geometry, r.shape_level = row.level", shape_rows, size=200)
        changed += len(shape_rows)
        changed += self._merge_simple(
            "Municipality", [{"key": f"{m.country}:{m.lau_code}", "nuts3": m.nuts3,
                              "degurba": m.degurba.value if m.degurba else None, "doc": m.model_dump_json()}
                             for m in batch.municipalities], ("nuts3", "degurba", "doc"))
        changed += self._merge_simple(
            "Postcode", [{"key": f"{c}:{p}", "nuts3": n, "version": v} for c, p, n, v in batch.postcodes],
            ("nuts3", "version"))
        changed += self._merge_simple(
            "NutsConversion", [{"key": f"{c.from_version}:{c.from_code}:{c.to_version}:{c.to_code}",
                                "from_version": c.from_version, "from_code": c.from_code,
                                "to_version": c.to_version, "to_code": c.to_code, "weight": c.weight}
                               for c in batch.conversions], ("from_version", "from_code", "to_version", "to_code",
                                                              "weight"))
        report.regions = len(batch.regions) + len(batch.region_names) + len(batch.shapes)
        report.municipalities = len(batch.municipalities)
        report.postcodes = len(batch.postcodes)
        return changed

    def _merge_simple(self, label: str, rows: list[dict[str, Any]], fields: tuple[str, ...]) -> int:
        """MERGE lookup nodes by key, writing only those that differ; returns how many changed."""
        if not rows:
            return 0
        props = ", ".join(f"n.{f} AS {f}" for f in fields)
        stored = {r["key"]: tuple(r[f] for f in fields) for r in self._run(
            f"MATCH (n:{label}) RETURN n.key AS key, {props}", read=True)}
        todo = [r for r in rows if stored.get(r["key"]) != tuple(r[f] for f in fields)]
        sets = ", ".join(f"n.{f} = row.{f}" for f in fields)
        self._write_batches(f"UNWIND $rows AS row MERGE (n:{label} {{key: row.key}}) SET {sets}", todo)
        return len(todo)

    def _load_orgs(self, ids: list[str] | None) -> dict[str, Organisation]:
        out: dict[str, Organisation] = {}
        if ids is None:
            for r in self._run("MATCH (o:Organisation) RETURN o.doc AS doc", read=True):
                org = Organisation.model_validate_json(r["doc"])
                out[org.id] = org
            return out
        for chunk in _chunks(ids, BATCH):
            for r in self._run("UNWIND $ids AS id MATCH (o:Organisation {id: id}) RETURN o.doc AS doc",
                               read=True, ids=chunk):
                org = Organisation.model_validate_json(r["doc"])
                out[org.id] = org
        return out

    def _save_orgs(self, orgs: list[Organisation]) -> None:
        rows = []
        for o in orgs:
            loc = o.location
            rows.append({"id": o.id, "name": o.name, "country": o.country, "helix": o.helix.value.value,
                         "helix_confidence": o.helix.confidence, "nuts3": loc.nuts3,
                         "urban_rural": loc.urban_rural.value, "degurba": loc.degurba.value if loc.degurba else None,
                         "lat": loc.lat, "lon": loc.lon, "city": loc.city, "name_text": name_index_text(o),
                         "doc": o.model_dump_json()})
        self._write_batches(
            "UNWIND $rows AS row MERGE (o:Organisation {id: row.id}) SET o.name = row.name, o.country = row.country, "
            "o.helix = row.helix, o.helix_confidence = row.helix_confidence, o.nuts3 = row.nuts3, "
            "o.urban_rural = row.urban_rural, o.degurba = row.degurba, o.lat = row.lat, o.lon = row.lon, "
            "o.city = row.city, o.name_text = row.name_text, o.doc = row.doc "
            "WITH o, row OPTIONAL MATCH (o)-[old:LOCATED_IN]->(r:Region) WHERE r.nuts_id <> row.nuts3 "
            "DELETE old WITH DISTINCT o, row WHERE row.nuts3 IS NOT NULL "
            "MATCH (r:Region {nuts_id: row.nuts3}) MERGE (o)-[:LOCATED_IN]->(r)", rows, size=5000)

    def _write_organisations(self, orgs: list[Organisation], report: ImportReport) -> int:
        report.organisations = len(orgs)
        if not orgs:
            return 0
        existing = self._load_orgs([o.id for o in orgs])
        changed = []
        for org in orgs:
            old = existing.get(org.id)
            merged = merge_organisation(old, org)
            if old is None or merged != old:
                changed.append(merged)
        self._save_orgs(changed)
        return len(changed)

    def _write_projects(self, batch: ImportBatch, report: ImportReport) -> int:
        report.projects = len(batch.projects)
        projects = {p.id: p for p in batch.projects}
        for pid in {p.project_id for p in batch.participations} - set(projects):
            projects[pid] = Project(id=pid)
        if not projects:
            return 0
        existing: dict[str, Project] = {}
        for chunk in _chunks(list(projects), BATCH):
            for r in self._run("UNWIND $ids AS id MATCH (p:Project {id: id}) RETURN p.doc AS doc", read=True,
                               ids=chunk):
                p = Project.model_validate_json(r["doc"])
                existing[p.id] = p
        rows = []
        for pid, project in projects.items():
            old = existing.get(pid)
            merged = merge_project(old, project) if project.model_fields_set - {"id"} or old is None else old
            if old is None or merged != old:
                rows.append({"id": pid, "acronym": merged.acronym, "start_year": merged.start_year,
                             "end_year": merged.end_year, "doc": merged.model_dump_json()})
        self._write_batches("UNWIND $rows AS row MERGE (p:Project {id: row.id}) SET p.acronym = row.acronym, "
                            "p.start_year = row.start_year, p.end_year = row.end_year, p.doc = row.doc", rows)
        return len(rows)

    def _write_participations(self, batch: ImportBatch, report: ImportReport) -> int:
        report.participations = len(batch.participations)
        if not batch.participations:
            return 0
        pids = sorted({p.project_id for p in batch.participations})
        existing: dict[tuple[str, str], tuple[Any, Any, Any]] = {}
        for chunk in _chunks(pids, BATCH):
            for r in self._run("UNWIND $ids AS id MATCH (o:Organisation)-[r:PARTICIPATES_IN]->(p:Project {id: id}) "
                               "RETURN p.id AS p, o.id AS o, r.role AS role, r.ec_contribution AS ec, "
                               "r.source AS source", read=True, ids=chunk):
                existing[(r["p"], r["o"])] = (r["role"], r["ec"], r["source"])
        rows = []
        for p in batch.participations:
            old = existing.get((p.project_id, p.organisation_id))
            role = stronger_role(old[0] if old else None, p.role)
            ec = p.ec_contribution if p.ec_contribution is not None else (old[1] if old else None)
            source = p.source.model_dump_json()
            if old == (role, ec, source):
                continue
            rows.append({"p": p.project_id, "o": p.organisation_id, "role": role, "ec": ec, "source": source})
        self._write_batches(
            "UNWIND $rows AS row MATCH (o:Organisation {id: row.o}) MATCH (p:Project {id: row.p}) "
            "MERGE (o)-[r:PARTICIPATES_IN]->(p) SET r.role = row.role, r.ec_contribution = row.ec, "
            "r.source = row.source", rows)
        return len(rows)

    def _rebuild_collaborations(self, progress: Any = None) -> None:
        """Rewrite the materialised COLLABORATES_WITH projection from the participations."""
        self._run("MATCH (m:HelixmapMeta {key: 'meta'}) SET m.collaborations_dirty = true")
        members: dict[str, list[tuple[str, float]]] = defaultdict(list)
        years: dict[str, tuple[Any, Any]] = {}
        with self._driver.session(database=self.database, default_access_mode="READ") as session:
            result = session.run("MATCH (o:Organisation)-[r:PARTICIPATES_IN]->(p:Project) "
                                 "RETURN p.id AS p, o.id AS o, r.ec_contribution AS ec, p.start_year AS sy, "
                                 "p.end_year AS ey")
            for rec in result:
                pid = rec["p"]
                members[pid].append((rec["o"], rec["ec"] or 0.0))
                years[pid] = (rec["sy"], rec["ey"] if rec["ey"] is not None else rec["sy"])
        pairs: dict[tuple[str, str], list[Any]] = {}
        for pid, group in members.items():
            group.sort()
            sy, ey = years[pid]
            for i, (a, ea) in enumerate(group):
                for b, eb in group[i + 1:]:
                    agg = pairs.get((a, b))
                    if agg is None:
                        pairs[(a, b)] = [1, ea + eb, sy, ey]
                    else:
                        agg[0] += 1
                        agg[1] += ea + eb
                        if sy is not None and (agg[2] is None or sy < agg[2]):
                            agg[2] = sy
                        if ey is not None and (agg[3] is None or ey > agg[3]):
                            agg[3] = ey
        self._run_implicit("MATCH ()-[c:COLLABORATES_WITH]->() CALL (c) { DELETE c } IN TRANSACTIONS OF 50000 ROWS")
        rows = [[a, b, w, f, fy, ly] for (a, b), (w, f, fy, ly) in pairs.items()]
        task = progress.add_task("writing collaborations", total=len(rows)) if progress is not None else None
        for chunk in _chunks(rows, COLLAB_BATCH):
            self._write(lambda tx, c=chunk: tx.run(
                "UNWIND $rows AS row MATCH (a:Organisation {id: row[0]}) MATCH (b:Organisation {id: row[1]}) "
                "CREATE (a)-[:COLLABORATES_WITH {weight: row[2], funding: row[3], first_year: row[4], "
                "last_year: row[5]}]->(b)", rows=c).consume())
            if task is not None:
                progress.advance(task, len(chunk))
        self._run("MATCH (m:HelixmapMeta {key: 'meta'}) SET m.collaborations_dirty = false")

    # -- locations -------------------------------------------------------------------------------
    def _resolver(self, orgs: list[Organisation]) -> Any:
        from ecosystem.location import LocationResolver, normalise_postcode
        from importers.regions import NutsConversion, RegionShape

        regions = [Region.model_validate_json(r["doc"]) for r in self._run(
            "MATCH (r:Region) WHERE r.doc IS NOT NULL RETURN r.doc AS doc", read=True)]
        shapes = [RegionShape(nuts_id=r["id"], level=r["level"], geometry=json.loads(r["g"])) for r in self._run(
            "MATCH (r:Region) WHERE r.shape IS NOT NULL AND r.shape_level = 3 "
            "RETURN r.nuts_id AS id, r.shape_level AS level, r.shape AS g", read=True)]
        municipalities = [Municipality.model_validate_json(r["doc"]) for r in self._run(
            "MATCH (m:Municipality) RETURN m.doc AS doc", read=True)]
        conversions = [NutsConversion(r["fv"], r["fc"], r["tv"], r["tc"], r["w"]) for r in self._run(
            "MATCH (c:NutsConversion) RETURN c.from_version AS fv, c.from_code AS fc, c.to_version AS tv, "
            "c.to_code AS tc, c.weight AS w", read=True)]
        keys = set()
        for org in orgs:
            country = org.location.country or org.country
            if country and org.location.postcode:
                pc = normalise_postcode(COUNTRY_ALIASES.get(country, country), org.location.postcode)
                if pc:
                    for n in range(len(pc), 0, -1):
                        keys.add(f"{COUNTRY_ALIASES.get(country, country)}:{pc[:n]}")
        found: dict[tuple[str, str], tuple[str, str]] = {}
        key_list = sorted(keys)
        for chunk in _chunks(key_list, BATCH):
            for r in self._run("UNWIND $keys AS k MATCH (p:Postcode {key: k}) RETURN p.key AS key, p.nuts3 AS n, "
                               "p.version AS v", read=True, keys=chunk):
                country, pc = r["key"].split(":", 1)
                found[(country, pc)] = (r["n"], r["v"])
        countries = [r["c"] for r in self._run("MATCH (p:Postcode) RETURN DISTINCT split(p.key, ':')[0] AS c",
                                                read=True)]
        return LocationResolver(regions, shapes, municipalities, conversions,
                                lambda country, pc: found.get((country, pc)), postcode_countries=countries)

    def _relocate(self, ids: list[str] | None, report: ImportReport) -> int:
        if ids is not None and not ids:
            return 0
        regions_loaded = bool(self._run("MATCH (r:Region) RETURN count(r) AS n", read=True)[0]["n"])
        orgs = self._load_orgs(ids)
        if not regions_loaded:
            for o in orgs.values():
                reason = unlocated_reason(o, regions_loaded=False)
                report.unlocated[reason] = report.unlocated.get(reason, 0) + 1
            return 0
        resolver = self._resolver(list(orgs.values()))
        changed = []
        for org in orgs.values():
            loc = resolver.resolve(org.location)
            if loc != org.location:
                org = org.model_copy(update={"location": loc})
                changed.append(org)
            note_location(report, org)
        self._save_orgs(changed)
        return len(changed)

    # -- reading ---------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        one = lambda q: self._run(q, read=True)[0]["n"]  # noqa: E731
        helix = dict.fromkeys(HELIX_KEYS, 0)
        for r in self._run("MATCH (o:Organisation) RETURN o.helix AS k, count(*) AS n", read=True):
            helix[r["k"]] = r["n"]
        urban_rural = dict.fromkeys(URBAN_RURAL_KEYS, 0)
        for r in self._run("MATCH (o:Organisation) RETURN o.urban_rural AS k, count(*) AS n", read=True):
            urban_rural[r["k"]] = r["n"]
        return {
            "organisations": one("MATCH (o:Organisation) RETURN count(o) AS n"),
            "projects": one("MATCH (p:Project) RETURN count(p) AS n"),
            "participations": one("MATCH ()-[r:PARTICIPATES_IN]->() RETURN count(r) AS n"),
            "collaborations": one("MATCH ()-[c:COLLABORATES_WITH]->() RETURN count(c) AS n"),
            "helix": helix,
            "urban_rural": urban_rural,
            "regions": one("MATCH (r:Region) WHERE r.doc IS NOT NULL RETURN count(r) AS n"),
            "municipalities": one("MATCH (m:Municipality) RETURN count(m) AS n"),
            "located": one("MATCH (o:Organisation) WHERE o.nuts3 IS NOT NULL RETURN count(o) AS n"),
        }

    @staticmethod
    def _org_where(params: dict[str, Any], *, helix: Any = None, country: Any = None, nuts: Any = None,
                   urban_rural: Any = None) -> list[str]:
        where = []
        if helix:
            where.append("o.helix = $helix")
            params["helix"] = helix
        if country:
            where.append("o.country = $country")
            params["country"] = COUNTRY_ALIASES.get(country.upper(), country.upper())
        if nuts:
            code = nuts_prefix(nuts)
            params["nuts"] = code
            where.append("(o.country = $nuts OR o.nuts3 STARTS WITH $nuts)" if len(code) == 2
                         else "o.nuts3 STARTS WITH $nuts")
        if urban_rural:
            where.append("o.urban_rural = $urban_rural")
            params["urban_rural"] = urban_rural
        return where

    def search_organisations(self, q: str | None = None, *, helix: str | None = None,
                             country: str | None = None, nuts: str | None = None,
                             urban_rural: str | None = None, limit: int = 20,
                             offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        where = self._org_where(params, helix=helix, country=country, nuts=nuts, urban_rural=urban_rural)
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        fields = ("o.id AS id, o.name AS name, o.country AS country, o.helix AS helix, "
                  "o.helix_confidence AS helix_confidence, o.nuts3 AS nuts3, o.urban_rural AS urban_rural, "
                  "o.degurba AS degurba, o.city AS city")
        if q:
            match = fts_query(q)
            if match is None:
                return 0, []
            params["q"] = " AND ".join(w.strip('"*') + "*" for w in match.split())
            head = "CALL db.index.fulltext.queryNodes('organisation_names', $q) YIELD node AS o, score"
            total = self._run(f"{head}{clause} RETURN count(o) AS n", read=True, **params)[0]["n"]
            rows = self._run(f"{head}{clause} RETURN {fields} ORDER BY score DESC, o.name, o.id "
                             "SKIP $offset LIMIT $limit", read=True, **params)
        else:
            total = self._run(f"MATCH (o:Organisation){clause} RETURN count(o) AS n", read=True, **params)[0]["n"]
            rows = self._run(f"MATCH (o:Organisation){clause} RETURN {fields} ORDER BY o.name, o.id "
                             "SKIP $offset LIMIT $limit", read=True, **params)
        return total, [dict(r) for r in rows]

    def organisation(self, org_id: str) -> dict[str, Any] | None:
        rows = self._run("MATCH (o:Organisation {id: $id}) RETURN o.doc AS doc", read=True, id=org_id)
        return json.loads(rows[0]["doc"]) if rows else None

    def organisation_projects(self, org_id: str) -> list[dict[str, Any]]:
        rows = self._run("MATCH (:Organisation {id: $id})-[r:PARTICIPATES_IN]->(p:Project) "
                         "RETURN p.id AS id, p.doc AS doc, r.role AS role, r.ec_contribution AS ec "
                         "ORDER BY p.start_year DESC, p.id", read=True, id=org_id)
        out = []
        for r in rows:
            d = json.loads(r["doc"])
            out.append({"id": r["id"], "acronym": d.get("acronym"), "title": d.get("title"),
                        "programme": d.get("programme"), "start_year": d.get("start_year"),
                        "end_year": d.get("end_year"), "role": r["role"], "ec_contribution": r["ec"]})
        # the same order as SQLite: NULL years last
        out.sort(key=lambda p: (p["start_year"] is None, -(p["start_year"] or 0), p["id"]))
        return out

    def partners(self, org_id: str, limit: int = 100) -> list[dict[str, Any]]:
        rows = self._run(
            "MATCH (:Organisation {id: $id})-[c:COLLABORATES_WITH]-(o:Organisation) "
            "RETURN o.id AS id, o.name AS name, o.helix AS helix, o.country AS country, o.nuts3 AS nuts3, "
            "o.urban_rural AS urban_rural, c.weight AS weight, c.funding AS funding, c.first_year AS first_year, "
            "c.last_year AS last_year ORDER BY weight DESC, name, id LIMIT $limit", read=True, id=org_id, limit=limit)
        return [dict(r) for r in rows]

    def region(self, nuts_id: str) -> dict[str, Any] | None:
        rows = self._run("MATCH (r:Region {nuts_id: $id}) WHERE r.doc IS NOT NULL RETURN r.doc AS doc",
                         read=True, id=nuts_id)
        return json.loads(rows[0]["doc"]) if rows else None

    def country_known(self, country: str) -> bool:
        rows = self._run("RETURN EXISTS { MATCH (o:Organisation {country: $c}) } OR "
                         "EXISTS { MATCH (r:Region {country: $c}) } AS known", read=True, c=country)
        return bool(rows[0]["known"])

    def organisations_for_network(self, flt: NetworkFilter) -> list[dict[str, Any]]:
        params: dict[str, Any] = {}
        where = []
        if flt.helix:
            where.append("o.helix IN $helix")
            params["helix"] = list(flt.helix)
        if flt.urban_rural:
            where.append("o.urban_rural IN $urban_rural")
            params["urban_rural"] = list(flt.urban_rural)
        if flt.country:
            where.append("o.country IN $countries")
            params["countries"] = [COUNTRY_ALIASES.get(c, c) for c in flt.country]
        if flt.nuts:
            params["nuts"] = [nuts_prefix(c) for c in flt.nuts]
            where.append("any(code IN $nuts WHERE (size(code) = 2 AND o.country = code) OR o.nuts3 STARTS WITH code)")
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        rows = self._run(
            f"MATCH (o:Organisation){clause} OPTIONAL MATCH (o)-[:LOCATED_IN]->(r:Region) "
            "RETURN o.id AS id, o.name AS name, o.helix AS helix, o.urban_rural AS urban_rural, o.country AS country, "
            "o.nuts3 AS nuts3, r.doc AS rdoc, o.city AS city, o.lat AS lat, o.lon AS lon, o.degurba AS degurba",
            read=True, **params)
        out = []
        for r in rows:
            d = dict(r)
            rdoc = d.pop("rdoc")
            d["region_name"] = json.loads(rdoc).get("name") if rdoc else None
            out.append(d)
        return out

    def collaboration_edges(self, flt: NetworkFilter, ids: set[str] | None = None
                            ) -> Iterator[tuple[str, str, int, float, int | None, int | None]]:
        if flt.year_from is not None or flt.year_to is not None:
            query = ("MATCH (a:Organisation)-[x:PARTICIPATES_IN]->(p:Project)<-[y:PARTICIPATES_IN]-(b:Organisation) "
                     "WHERE a.id < b.id AND p.start_year >= $from AND p.start_year <= $to "
                     "WITH a.id AS a, b.id AS b, count(p) AS w, "
                     "sum(coalesce(x.ec_contribution, 0.0) + coalesce(y.ec_contribution, 0.0)) AS f, "
                     "min(p.start_year) AS fy, max(coalesce(p.end_year, p.start_year)) AS ly WHERE w >= $min "
                     "RETURN a, b, w, f, fy, ly")
            params = {"from": flt.year_from if flt.year_from is not None else -10**6,
                      "to": flt.year_to if flt.year_to is not None else 10**6, "min": flt.min_weight}
        else:
            query = ("MATCH (a:Organisation)-[c:COLLABORATES_WITH]->(b:Organisation) WHERE c.weight >= $min "
                     "RETURN a.id AS a, b.id AS b, c.weight AS w, c.funding AS f, c.first_year AS fy, "
                     "c.last_year AS ly")
            params = {"min": flt.min_weight}
        with self._driver.session(database=self.database, default_access_mode="READ") as session:
            for rec in session.run(query, params):
                a, b = rec["a"], rec["b"]
                if ids is None or (a in ids and b in ids):
                    yield a, b, rec["w"], rec["f"], rec["fy"], rec["ly"]

    def location_report(self) -> dict[str, Any]:
        by_method: dict[str, int] = {}
        unlocated: dict[str, int] = {}
        regions_loaded = bool(self._run("MATCH (r:Region) RETURN count(r) AS n", read=True)[0]["n"])
        for org in self._load_orgs(None).values():
            if org.location.nuts3:
                key = org.location.method or "unknown"
                by_method[key] = by_method.get(key, 0) + 1
            else:
                reason = unlocated_reason(org, regions_loaded=regions_loaded)
                unlocated[reason] = unlocated.get(reason, 0) + 1
        return {"located_by": by_method, "unlocated": unlocated}

    # -- read-only Cypher ------------------------------------------------------------------------
    def query(self, cypher: str, parameters: dict[str, Any] | None = None, *, timeout_s: float = 10.0,
              max_rows: int = 1000) -> dict[str, Any]:
        """Run researcher Cypher in a read transaction with a time limit and a row cap."""
        from neo4j import unit_of_work
        from neo4j.exceptions import ClientError, Neo4jError, TransientError

        lowered = " ".join(cypher.lower().split())
        for word in _FORBIDDEN:
            if word in lowered:
                raise QueryRejectedError(f"'{word.strip('.')}' is not allowed in read-only queries")

        @unit_of_work(timeout=timeout_s)
        def work(tx: Any) -> dict[str, Any]:
            result = tx.run(cypher, parameters or {})
            rows = []
            truncated = False
            for record in result:
                if len(rows) >= max_rows:
                    truncated = True
                    break
                rows.append([_serialise(v) for v in record.values()])
            return {"columns": list(result.keys()), "rows": rows, "truncated": truncated}

        try:
            with self._driver.session(database=self.database, default_access_mode="READ") as session:
                answer = session.execute_read(work)
        except ClientError as exc:
            raise QueryRejectedError(f"{exc.code}: {exc.message}") from exc
        except TransientError as exc:
            raise QueryRejectedError(f"{exc.code}: {exc.message}") from exc
        except Neo4jError as exc:
            raise QueryRejectedError(f"{exc.code}: {exc.message}") from exc
        answer.update({"row_cap": max_rows, "timeout_s": timeout_s})
        return answer


def _serialise(value: Any) -> Any:
    """Nodes and relationships as JSON with their properties; paths as lists; the rest as is."""
    from neo4j.graph import Node, Path, Relationship
    from neo4j.time import Date, DateTime, Duration, Time

    if isinstance(value, Node):
        props = dict(value)
        props.pop("doc", None)
        props.pop("name_text", None)
        props.pop("shape", None)
        return {"type": "node", "element_id": value.element_id, "labels": sorted(value.labels), "properties": props}
    if isinstance(value, Relationship):
        props = dict(value)
        props.pop("source", None)
        return {"type": "relationship", "element_id": value.element_id, "rel_type": value.type,
                "start": value.start_node.element_id if value.start_node else None,
                "end": value.end_node.element_id if value.end_node else None, "properties": props}
    if isinstance(value, Path):
        return {"type": "path", "nodes": [_serialise(n) for n in value.nodes],
                "relationships": [_serialise(r) for r in value.relationships]}
    if isinstance(value, list):
        return [_serialise(v) for v in value]
    if isinstance(value, dict):
        return {k: _serialise(v) for k, v in value.items()}
    if isinstance(value, (Date, DateTime, Time, Duration)):
        return str(value)
    return value


def not_supported_query(*_: Any, **__: Any) -> Any:
    raise NotSupportedError("read-only Cypher needs the Neo4j store (start helixmap with --store neo4j://...)")
