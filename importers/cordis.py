"""CORDIS: EU project participations (organization.csv/json, project.csv/json, topics.csv).

Takes the files as CORDIS publishes them (`;`-separated CSV, or `,`), the JSON export, the published
zips, a directory holding them, or a URL. Every row of organization.csv is one participation whatever
its role; duplicate (project, organisation) rows are one participation (the stronger role, the
contributions summed: CORDIS splits one participation into several rows, e.g. a third party's
ended and continuing parts).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ecosystem.domain.batch import ImportBatch
from ecosystem.domain.errors import BadInputError
from ecosystem.domain.helix import evidence_from_activity_type, split_activity_type
from ecosystem.domain.merge import merge_organisation, stronger_role
from ecosystem.domain.models import (
    HelixAssignment,
    Location,
    Organisation,
    Participation,
    Project,
    Provenance,
)
from ecosystem.domain.text import real_value
from importers._http import local_input
from importers.files import (
    csv_rows,
    decode_text,
    gunzip,
    iter_files,
    parse_number,
    read_bytes,
    zip_members,
)

SOURCE = "cordis"
LICENCE = "CC BY 4.0 (© European Union, CORDIS; Commission Decision 2011/833/EU)"
ORG_REQUIRED = ("projectID", "organisationID")
PROJECT_REQUIRED = ("id", "acronym")
TOPIC_REQUIRED = ("projectID", "topic")


@dataclass
class _Accumulator:
    orgs: dict[str, Organisation] = field(default_factory=dict)
    projects: dict[str, Project] = field(default_factory=dict)
    stubs: dict[str, Project] = field(default_factory=dict)
    parts: dict[tuple[str, str], list[Any]] = field(default_factory=dict)  # role, ec, Provenance
    topics: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _parse_date(raw: Any, label: str, line: int | None, fld: str) -> date | None:
    text = _text(raw)
    if text in ("", "NA", "null"):
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise BadInputError(f"not a date (YYYY-MM-DD): {text!r}", file=label, line=line, field=fld) from None


def _parse_geolocation(raw: Any) -> tuple[float, float] | None:
    """CORDIS `geolocation` is "lat,lon" (latitude first)."""
    text = _text(raw)
    if not text or "," not in text:
        return None
    try:
        lat, lon = (float(x) for x in text.split(",", 1))
    except ValueError:
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


def _sme(raw: Any) -> bool | None:
    text = _text(raw).lower()
    return True if text in ("true", "1", "yes") else False if text in ("false", "0", "no") else None


def _add_organisation_row(acc: _Accumulator, row: dict[str, Any], label: str, line: int | None) -> None:
    """One row of organization.csv: an organisation (merged with earlier rows), a project stub, a participation."""
    pid = _text(row.get("projectID"))
    oid = _text(row.get("organisationID"))
    if not pid:
        raise BadInputError("empty project id", file=label, line=line, field="projectID")
    if not oid:
        raise BadInputError("empty organisation id (PIC)", file=label, line=line, field="organisationID")
    ec = parse_number(row.get("ecContribution"), label, line, "ecContribution", acc.warnings)
    parse_number(row.get("totalCost"), label, line, "totalCost", acc.warnings)
    org = _organisation(row, oid, label, line, acc.warnings)
    acc.orgs[oid] = merge_organisation(acc.orgs.get(oid), org) if oid in acc.orgs else org
    if pid not in acc.projects and pid not in acc.stubs:
        acc.stubs[pid] = Project(id=pid, acronym=_text(row.get("projectAcronym")) or None,
                                 sources=[Provenance(source=SOURCE, file=label, record=pid, licence=LICENCE)])
    _add_participation(acc, pid, oid, _text(row.get("role")) or None, ec, label)


def _organisation(row: dict[str, Any], oid: str, label: str, line: int | None, warnings: list[str]) -> Organisation:
    """The organisation of a row, with helix evidence from its activity type; doubtful cells are warned about."""
    short = real_value(_text(row.get("shortName")))  # "n/a", "-", "unknown" ...: no short name
    name = real_value(_text(row.get("name"))) or short
    if not name:
        warnings.append(f"{label}, line {line}: organisation {oid} has no name")
        name = f"PIC {oid}"
    raw_type = _text(row.get("activityType"))
    evidence = evidence_from_activity_type(raw_type)
    if raw_type and not evidence:
        warnings.append(f"{label}, line {line}, field 'activityType': unknown type {raw_type!r}")
    country = _text(row.get("country")).upper() or None
    identifiers = {"pic": oid}
    vat = real_value(_text(row.get("vatNumber")))  # "MISSING", "NOTAPPLICABLE", "N/A": no VAT number
    if vat:
        identifiers["vat"] = vat
    return Organisation(
        id=oid, name=name, short_name=short, country=country,
        helix=HelixAssignment(evidence=evidence), location=_location(row, country, label, line, warnings),
        identifiers=identifiers, sme=_sme(row.get("SME")), url=_text(row.get("organizationURL")) or None,
        sources=[Provenance(source=SOURCE, file=label, record=oid, licence=LICENCE)])


def _location(row: dict[str, Any], country: str | None, label: str, line: int | None,
              warnings: list[str]) -> Location:
    """Address and coordinates of a row; a geolocation that is not "lat,lon" is warned about and left out."""
    geo = _parse_geolocation(row.get("geolocation"))
    if _text(row.get("geolocation")) and geo is None:
        warnings.append(f"{label}, line {line}, field 'geolocation': not 'lat,lon': "
                        f"{_text(row.get('geolocation'))!r}")
    return Location(country=country, city=_text(row.get("city")) or None,
                    postcode=_text(row.get("postCode")) or None, street=_text(row.get("street")) or None,
                    lat=geo[0] if geo else None, lon=geo[1] if geo else None,
                    nuts_code=_text(row.get("nutsCode")) or None)


def _add_participation(acc: _Accumulator, pid: str, oid: str, role: str | None, ec: float | None,
                       label: str) -> None:
    """A (project, organisation) pair; a repeated pair keeps the stronger role and sums the contributions."""
    key = (pid, oid)
    if key in acc.parts:
        old = acc.parts[key]
        old[0] = stronger_role(old[0], role)
        old[1] = ec if old[1] is None else old[1] + (ec or 0.0)
    else:
        acc.parts[key] = [role, ec, Provenance(source=SOURCE, file=label, record=f"{pid}/{oid}", licence=LICENCE)]


def _add_project_row(acc: _Accumulator, row: dict[str, Any], label: str, line: int | None) -> None:
    pid = _text(row.get("id"))
    if not pid:
        raise BadInputError("empty project id", file=label, line=line, field="id")
    start = _parse_date(row.get("startDate"), label, line, "startDate")
    end = _parse_date(row.get("endDate"), label, line, "endDate")
    topics = [t.strip() for t in _text(row.get("topics")).replace(",", ";").split(";") if t.strip()]
    acc.projects[pid] = Project(
        id=pid, acronym=_text(row.get("acronym")) or None, title=_text(row.get("title")) or None,
        programme=_text(row.get("frameworkProgramme")) or None,
        funding_scheme=_text(row.get("fundingScheme")) or None,
        start_date=start, end_date=end, start_year=start.year if start else None,
        end_year=end.year if end else None, topics=topics,
        objective=_text(row.get("objective")) or None,
        ec_max_contribution=parse_number(row.get("ecMaxContribution"), label, line, "ecMaxContribution",
                                         acc.warnings),
        total_cost=parse_number(row.get("totalCost"), label, line, "totalCost", acc.warnings),
        sources=[Provenance(source=SOURCE, file=label, record=pid, licence=LICENCE)])


def _add_topic_row(acc: _Accumulator, row: dict[str, Any], label: str, line: int | None) -> None:
    pid = _text(row.get("projectID"))
    topic = _text(row.get("topic"))
    if not pid:
        raise BadInputError("empty project id", file=label, line=line, field="projectID")
    if topic:
        acc.topics.setdefault(pid, []).append((topic, _text(row.get("title"))))


def _classify(keys: Iterable[str]) -> str | None:
    ks = set(keys)
    if set(ORG_REQUIRED) <= ks:
        return "organisations"
    if set(PROJECT_REQUIRED) <= ks and ("startDate" in ks or "frameworkProgramme" in ks):
        return "projects"
    if set(TOPIC_REQUIRED) <= ks:
        return "topics"
    return None


HANDLERS: dict[str, Callable[[_Accumulator, dict[str, Any], str, int | None], None]] = {
    "organisations": _add_organisation_row, "projects": _add_project_row, "topics": _add_topic_row}


def _unrecognised(header: str, label: str) -> BadInputError:
    """The clearest error for a CSV header that fits no CORDIS file: the closest kind and what it lacks."""
    best: tuple[int, str] | None = None
    for delim in (";", ",", "\t"):
        cols = {h.strip().strip('"') for h in header.split(delim)}
        for required in (ORG_REQUIRED, PROJECT_REQUIRED, TOPIC_REQUIRED):
            missing = [c for c in required if c not in cols]
            if best is None or len(missing) < best[0]:
                best = (len(missing), missing[0])
    missing_col = best[1] if best else "projectID"
    return BadInputError(
        f"not a CORDIS organization, project or topics file: missing column {missing_col!r} (is the delimiter "
        f"';' or ','?); the header starts {header[:80]!r}", file=label, line=1, field=missing_col)


def _read_document(acc: _Accumulator, label: str, data: bytes, *, strict: bool) -> None:
    """One file's bytes: JSON or CSV, recognised by content."""
    if label.endswith(".gz"):
        data = gunzip(data, label)
    text = decode_text(data, label)
    if text.lstrip()[:1] in ("[", "{"):
        _read_json_document(acc, label, text, strict=strict)
    else:
        _read_csv_document(acc, label, text, strict=strict)


def _not_cordis(acc: _Accumulator, label: str) -> None:
    acc.warnings.append(f"{label}: not a CORDIS organisation, project or topics file; skipped")


def _read_json_document(acc: _Accumulator, label: str, text: str, *, strict: bool) -> None:
    """A JSON export: a list of records, or an object holding one list of them."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInputError(f"malformed JSON ({exc.msg})", file=label, line=exc.lineno) from exc
    except RecursionError:
        raise BadInputError("JSON nested too deeply to be a CORDIS export", file=label) from None
    if isinstance(doc, dict):
        lists = [v for v in doc.values() if isinstance(v, list)]
        doc = lists[0] if len(lists) == 1 else [doc]
    records = [r for r in doc if isinstance(r, dict)]
    kind = _classify(records[0].keys()) if records else None
    if kind is None:
        if strict:
            raise BadInputError("not a CORDIS organisation, project or topics file", file=label)
        _not_cordis(acc, label)
        return
    for i, rec in enumerate(records, 1):
        HANDLERS[kind](acc, rec, label, i)
    acc.files.append(f"{label} ({kind}, {len(records)} records)")


def _read_csv_document(acc: _Accumulator, label: str, text: str, *, strict: bool) -> None:
    """A CSV export, its kind (organisations, projects, topics) recognised by the header under any delimiter."""
    header = text.split("\n", 1)[0]
    kind = None
    for delim in (";", ",", "\t"):
        kind = _classify(h.strip().strip('"') for h in header.split(delim))
        if kind:
            break
    if kind is None:
        if strict:
            raise _unrecognised(header, label)
        _not_cordis(acc, label)
        return
    required = {"organisations": ORG_REQUIRED, "projects": PROJECT_REQUIRED, "topics": TOPIC_REQUIRED}[kind]
    n = 0
    for line, row in csv_rows(text, label, required=required):
        HANDLERS[kind](acc, row, label, line)
        n += 1
    if n == 0:
        if strict:
            raise BadInputError(f"a CORDIS {kind} file with a header and no rows", file=label, line=2)
        acc.warnings.append(f"{label}: a CORDIS {kind} file with a header and no rows; skipped")
        return
    acc.files.append(f"{label} ({kind}, {n} rows)")


def _documents(inputs: Iterable[str | Path], cache_dir: Path, progress: Any) -> Iterator[tuple[str, bytes, bool]]:
    """(label, bytes, strict) for every file named, inside a directory, or inside a zip."""
    for item in inputs:
        path, label = local_input(item, cache_dir, progress)
        if path.is_dir():
            for sub in iter_files(path, (".csv", ".json", ".zip", ".gz")):
                yield from _file_documents(sub, str(sub.relative_to(path)), strict=False)
            continue
        yield from _file_documents(path, label, strict=True)


def _file_documents(path: Path, label: str, *, strict: bool) -> Iterator[tuple[str, bytes, bool]]:
    if path.suffix.lower() == ".zip":
        for name, data in zip_members(path):
            if name.lower().endswith((".zip", ".gz")):
                raise BadInputError("an archive inside the archive is not read; unpack it and import the files "
                                    "inside", file=f"{label}!{name}")
            if name.lower().endswith((".csv", ".json")):
                yield f"{label}!{name}", data, False
        return
    data = read_bytes(path, label) if path.suffix == ".gz" else path.read_bytes()
    yield label.removesuffix(".gz") if path.suffix == ".gz" else label, data, strict


def read_cordis(inputs: Iterable[str | Path], *, cache_dir: Path, progress: Any = None) -> ImportBatch:
    """Parse CORDIS files into one validated batch (nothing is written here)."""
    acc = _Accumulator()
    for label, data, strict in _documents(inputs, cache_dir, progress):
        _read_document(acc, label, data, strict=strict)
    if not acc.files:
        raise BadInputError("no CORDIS organisation, project or topics file found in the input")
    projects = dict(acc.stubs)
    projects.update(acc.projects)
    skipped_topics = 0
    for pid, pairs in acc.topics.items():
        if pid not in projects:
            skipped_topics += 1
            continue
        p = projects[pid]
        topics = list(dict.fromkeys([*p.topics, *(t for t, _ in pairs)]))
        titles = list(dict.fromkeys([*p.topic_titles, *(tt for _, tt in pairs if tt)]))
        projects[pid] = p.model_copy(update={"topics": topics, "topic_titles": titles})
    if skipped_topics:
        acc.warnings.append(f"topics for {skipped_topics} projects not in this import were not attached "
                            "(import topics together with the projects they describe)")
    participations = [Participation(project_id=pid, organisation_id=oid, role=v[0], ec_contribution=v[1],
                                    source=v[2]) for (pid, oid), v in acc.parts.items()]
    batch = ImportBatch(label="cordis: " + ", ".join(acc.files), organisations=list(acc.orgs.values()),
                        projects=list(projects.values()), participations=participations,
                        warnings=acc.warnings)
    return batch


def activity_types(raw: str | None) -> list[str]:
    """Exposed for reports: the distinct CORDIS activity type codes in a raw value."""
    return split_activity_type(raw)
