-- helixmap embedded store (SQLite). One file; WAL mode; one transaction per import.
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS organisations (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  country TEXT,
  helix TEXT NOT NULL DEFAULT 'unknown',
  helix_confidence REAL NOT NULL DEFAULT 0,
  nuts3 TEXT,
  urban_rural TEXT NOT NULL DEFAULT 'unknown',
  degurba TEXT,
  lat REAL,
  lon REAL,
  city TEXT,
  doc TEXT NOT NULL               -- the whole Organisation record as JSON
);
CREATE INDEX IF NOT EXISTS organisations_helix ON organisations(helix);
CREATE INDEX IF NOT EXISTS organisations_country ON organisations(country);
CREATE INDEX IF NOT EXISTS organisations_nuts3 ON organisations(nuts3);
CREATE INDEX IF NOT EXISTS organisations_urban_rural ON organisations(urban_rural);

CREATE VIRTUAL TABLE IF NOT EXISTS organisation_names USING fts5(
  id UNINDEXED, text, tokenize = "unicode61 remove_diacritics 2");

CREATE TABLE IF NOT EXISTS projects (
  id TEXT PRIMARY KEY,
  acronym TEXT,
  start_year INTEGER,
  end_year INTEGER,
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS projects_start_year ON projects(start_year);

-- organisation_id is the organisation node; record_id the source record that took part when that record is one
-- of several merged into the node by entity resolution ('' when the record is the node itself)
CREATE TABLE IF NOT EXISTS participations (
  project_id TEXT NOT NULL,
  organisation_id TEXT NOT NULL,
  record_id TEXT NOT NULL DEFAULT '',
  role TEXT,
  ec_contribution REAL,
  source TEXT NOT NULL,
  PRIMARY KEY (project_id, organisation_id, record_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS participations_organisation ON participations(organisation_id, project_id);

-- the source records of organisations made from several records by entity resolution, as imported
CREATE TABLE IF NOT EXISTS organisation_records (
  record_id TEXT PRIMARY KEY,
  canonical_id TEXT NOT NULL,
  doc TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS organisation_records_canonical ON organisation_records(canonical_id);

CREATE TABLE IF NOT EXISTS collaborations (
  a TEXT NOT NULL,
  b TEXT NOT NULL,
  weight INTEGER NOT NULL,
  funding REAL NOT NULL,
  first_year INTEGER,
  last_year INTEGER,
  PRIMARY KEY (a, b)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS collaborations_b ON collaborations(b, a);

CREATE TABLE IF NOT EXISTS regions (
  nuts_id TEXT PRIMARY KEY,
  level INTEGER NOT NULL,
  country TEXT NOT NULL,
  parent TEXT,
  urban_rural TEXT NOT NULL DEFAULT 'unknown',
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS regions_country_level ON regions(country, level);

CREATE TABLE IF NOT EXISTS region_shapes (
  nuts_id TEXT PRIMARY KEY,
  level INTEGER NOT NULL,
  geometry TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS municipalities (
  country TEXT NOT NULL,
  lau_code TEXT NOT NULL,
  nuts3 TEXT,
  degurba TEXT,
  doc TEXT NOT NULL,
  PRIMARY KEY (country, lau_code)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS municipalities_nuts3 ON municipalities(nuts3);

CREATE TABLE IF NOT EXISTS postcodes (
  country TEXT NOT NULL,
  postcode TEXT NOT NULL,
  nuts3 TEXT NOT NULL,
  version TEXT NOT NULL,
  PRIMARY KEY (country, postcode)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS nuts_conversions (
  from_version TEXT NOT NULL,
  from_code TEXT NOT NULL,
  to_version TEXT NOT NULL,
  to_code TEXT NOT NULL,
  weight REAL NOT NULL,
  PRIMARY KEY (from_version, from_code, to_version, to_code)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS places (
  geonames_id TEXT PRIMARY KEY,
  country TEXT NOT NULL,
  doc TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS organisation_relations (
  source_id TEXT NOT NULL,
  target_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  source TEXT NOT NULL,
  PRIMARY KEY (source_id, target_id, kind)
) WITHOUT ROWID;
