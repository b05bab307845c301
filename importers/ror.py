"""ROR, the Research Organization Registry: organisations from the schema v2 JSON dump.

Takes the dump as ROR publishes it (a zip holding the JSON), the JSON itself (an array of records,
gzipped or not), a directory holding them, or a URL. Every record becomes one `Organisation` with id
``ror:<id>`` (``ror:05f950310``); its relationships (parent, child, related, predecessor, successor)
become `OrganisationRelation`s. Inactive and withdrawn records are kept, flagged in `status`.
The helix rule for ROR types is documented in ``docs/ror.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ecosystem.domain.batch import ImportBatch
from ecosystem.domain.errors import BadInputError
from ecosystem.domain.helix import decide_helix
from ecosystem.domain.models import (
    Evidence,
    Helix,
    HelixAssignment,
    Location,
    Organisation,
    OrganisationRelation,
    Provenance,
)
from ecosystem.domain.nuts import normalise_country
from ecosystem.domain.text import fold, is_placeholder
from importers._http import local_input
from importers.files import iter_files, read_bytes, zip_members

__all__ = ["LICENCE", "SOURCE", "evidence_from_types", "organisation_id", "read_ror", "ror_suffix"]

SOURCE = "ror"
LICENCE = "CC0 1.0"
RELATION_KINDS = ("parent", "child", "related", "predecessor", "successor")
EXTERNAL_ID_TYPES = ("isni", "wikidata", "grid", "fundref")

_ROR_ID = re.compile(r"^(?:https?://ror\.org/)?(0[a-hj-km-np-tv-z0-9]{6}[0-9]{2})$", re.IGNORECASE)

# Types that say what an organisation is, most specific first, with the helix and confidence they give.
_DETERMINATE: dict[str, tuple[Helix, float]] = {
    "education": (Helix.ACADEMIA, 0.9),
    "facility": (Helix.ACADEMIA, 0.8),
    "company": (Helix.INDUSTRY, 0.9),
    "government": (Helix.GOVERNMENT, 0.85),
    "archive": (Helix.CIVIL_SOCIETY, 0.6),
    "nonprofit": (Helix.CIVIL_SOCIETY, 0.7),
}
# Types that do not say which helix: decided by the other types, else by the name, else a default.
# In this order: `funder` last, so it never decides when another type is given (docs/ror.md), `other` included.
_AMBIGUOUS: dict[str, tuple[Helix, float, float]] = {  # default helix, its confidence, confidence of a name cue
    "healthcare": (Helix.GOVERNMENT, 0.4, 0.6),
    "other": (Helix.CIVIL_SOCIETY, 0.3, 0.45),
    "funder": (Helix.GOVERNMENT, 0.3, 0.5),
}

# Name cues (on folded names, whole words), checked in this order.
_CUE_ACADEMIA = re.compile(r"\b(univ\w*|universit\w*|uniwersytet\w*|yliopisto\w*|academisch\w*|akademisch\w*|"
                           r"chu|chru|aou|umc|hochschule|politecnic\w*|polytechn\w*)\b")
_CUE_INDUSTRY = re.compile(r"\b(ltd|limited|plc|gmbh|ag|sarl|sas|sasu|srl|s r l|spa|s p a|sl|slu|s l|sa|s a|bv|"
                           r"b v|nv|oy|oyj|ab|a s|as|aps|sp z o o|spolka z ograniczona odpowiedzialnoscia|sro|s r o|"
                           r"kft|zrt|d o o|doo|inc|llc|company|spolka lekarska)\b")
_CUE_CIVIL = re.compile(r"\b(ggmbh|e v|ev|stichting|foundation|fondation|fundacion|fundacio|fundacao|fondazione|"
                        r"stiftung|stiftelsen|fond|fonds|fund|association|associacao|asociacion|associazione|"
                        r"vereniging|verein|society|societe|sociedad|sociedade|drustvo|udruzenje|asbl|vzw|onlus|"
                        r"charity|colegio|misericordia)\b")
_CUE_GOVERNMENT = re.compile(r"\b(ministry|ministere|ministerio|ministerium|ministero|agency|agence|agencia|"
                             r"government|gouvernement|public|publique|publica|state|national|nationale|region\w*|"
                             r"county|municipal\w*|city|council|interreg|evtz|azienda|nhs|zavod|parc national)\b")


def ror_suffix(raw: str) -> str | None:
    """The 9-character ROR id from ``https://ror.org/05f950310`` or ``05f950310``; None if it is not one."""
    match = _ROR_ID.match(str(raw).strip())
    return match.group(1).lower() if match else None


def organisation_id(raw: str) -> str | None:
    """The helixmap organisation id of a ROR id: ``ror:05f950310``."""
    suffix = ror_suffix(raw)
    return f"ror:{suffix}" if suffix else None


def _name_cue(names: Iterable[str]) -> tuple[Helix, str] | None:
    folded = " | ".join(fold(n) for n in names)
    for pattern, helix, label in ((_CUE_ACADEMIA, Helix.ACADEMIA, "university"),
                                  (_CUE_INDUSTRY, Helix.INDUSTRY, "company legal form"),
                                  (_CUE_CIVIL, Helix.CIVIL_SOCIETY, "association or foundation"),
                                  (_CUE_GOVERNMENT, Helix.GOVERNMENT, "public body")):
        match = pattern.search(folded)
        if match:
            return helix, f"{label} ({match.group(0)!r})"
    return None


def evidence_from_types(types: Iterable[str], names: Iterable[str] = ()) -> list[Evidence]:
    """Helix evidence from ROR types: the most specific determinate type; the ambiguous types (healthcare,
    funder, other) only when no determinate type is given, then read with the help of the names."""
    given = [str(t).strip().lower() for t in types if str(t).strip()]
    for kind, (helix, confidence) in _DETERMINATE.items():
        if kind in given:
            return [Evidence(source=SOURCE, field="types", value=kind, helix=helix, confidence=confidence)]
    for kind, (helix, confidence, cue_confidence) in _AMBIGUOUS.items():
        if kind in given:
            cue = _name_cue(names)
            if cue is not None:
                return [Evidence(source=SOURCE, field="types", value=f"{kind}; name: {cue[1]}", helix=cue[0],
                                 confidence=cue_confidence)]
            return [Evidence(source=SOURCE, field="types", value=kind, helix=helix, confidence=confidence)]
    return []


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def _parse_record(rec: Any, label: str, index: int, warnings: list[str]) -> tuple[Organisation,
                                                                                 list[OrganisationRelation]]:
    """One ROR v2 record; `index` (1-based) stands in for the line number in errors."""
    if not isinstance(rec, dict):
        raise BadInputError(f"record {index} is not a JSON object", file=label, line=index)
    suffix = _record_id(rec, label, index)
    org_id = f"ror:{suffix}"
    display, names, acronyms = _record_names(rec, label, index)
    provenance = Provenance(source=SOURCE, file=label, record=f"https://ror.org/{suffix}", licence=LICENCE)
    types = [t for t in (rec.get("types") or []) if isinstance(t, str)]
    evidence = evidence_from_types(types, [display, *names])
    if not evidence:
        warnings.append(f"{label}, record {index} ({org_id}), field 'types': no helix from {types!r}")
    country, location = _record_location(rec)
    established = rec.get("established")
    status = _text(rec.get("status")).lower() or None
    org = Organisation(
        id=org_id, name=display, names=names, acronyms=acronyms, country=country,
        helix=HelixAssignment(evidence=evidence), location=location,
        identifiers=_record_identifiers(rec, suffix), url=_record_website(rec),
        established=established if isinstance(established, int) and not isinstance(established, bool) else None,
        status=status, tags=[f"ror:{t}" for t in types], sources=[provenance])
    org = org.model_copy(update={"helix": decide_helix(evidence)})
    return org, _record_relations(rec, org_id, provenance, label, index, warnings)


def _record_id(rec: dict[str, Any], label: str, index: int) -> str:
    """The record's 9-character ROR id; a record without a valid one is an error."""
    raw_id = _text(rec.get("id"))
    if index == 1 and not raw_id and "names" not in rec:
        raise BadInputError("not a ROR dump: the first record has neither 'id' nor 'names'", file=label,
                            line=index, field="id")
    if not raw_id:
        raise BadInputError("record without an id", file=label, line=index, field="id")
    suffix = ror_suffix(raw_id)
    if suffix is None:
        raise BadInputError(f"not a ROR id: {raw_id!r}", file=label, line=index, field="id")
    return suffix


def _names_list(rec: dict[str, Any], label: str, index: int) -> list[Any]:
    """The record's `names`; a schema v1 record or one without names is an error."""
    names_raw = rec.get("names")
    if not isinstance(names_raw, list) or not names_raw:
        if "name" in rec or "labels" in rec:
            raise BadInputError("a ROR schema v1 record; use the schema v2 dump", file=label, line=index,
                                field="names")
        raise BadInputError("record without names", file=label, line=index, field="names")
    return names_raw


def _record_names(rec: dict[str, Any], label: str, index: int) -> tuple[str, list[str], list[str]]:
    """(display name, other names, acronyms): the `ror_display` name, else the first name, else an acronym."""
    names_raw = _names_list(rec, label, index)
    display: str | None = None
    names: list[str] = []
    acronyms: list[str] = []
    for entry in names_raw:
        if not isinstance(entry, dict) or not _text(entry.get("value")):
            raise BadInputError("a name without a value", file=label, line=index, field="names")
        value = _text(entry["value"])
        kinds = entry.get("types") or []
        if is_placeholder(value) and "ror_display" not in kinds:
            continue  # never a name or an acronym
        if "ror_display" in kinds and display is None:
            display = value
        elif "acronym" in kinds:
            if value not in acronyms:
                acronyms.append(value)
        elif value not in names:
            names.append(value)
    if display is None and not names and not acronyms:
        raise BadInputError("record whose names are all placeholders ('unknown', 'n/a', ...)", file=label,
                            line=index, field="names")
    if display is None:
        display = names.pop(0) if names else acronyms[0]
    return display, [n for n in names if n != display], acronyms


def _record_location(rec: dict[str, Any]) -> tuple[str | None, Location]:
    """The country and place of the first location (GeoNames details)."""
    locations = rec.get("locations") or []
    if not locations or not isinstance(locations[0], dict):
        return None, Location()
    details = locations[0].get("geonames_details") or {}
    country = normalise_country(_text(details.get("country_code")) or None)
    lat, lng = details.get("lat"), details.get("lng")
    return country, Location(country=country, city=_text(details.get("name")) or None,
                             lat=float(lat) if isinstance(lat, (int, float)) else None,
                             lon=float(lng) if isinstance(lng, (int, float)) else None)


def _record_identifiers(rec: dict[str, Any], suffix: str) -> dict[str, str]:
    """The ROR id and the preferred (else first) ISNI, Wikidata, GRID and FundRef ids."""
    identifiers = {"ror": suffix}
    for ext in rec.get("external_ids") or []:
        if not isinstance(ext, dict):
            continue
        kind = _text(ext.get("type")).lower()
        if kind not in EXTERNAL_ID_TYPES:
            continue
        values = [_text(v) for v in (ext.get("all") or []) if _text(v)]
        preferred = _text(ext.get("preferred")) or (values[0] if values else "")
        if preferred:
            identifiers[kind] = preferred
    return identifiers


def _record_website(rec: dict[str, Any]) -> str | None:
    return next((_text(link.get("value")) for link in rec.get("links") or []
                 if isinstance(link, dict) and link.get("type") == "website" and _text(link.get("value"))), None)


def _record_relations(rec: dict[str, Any], org_id: str, provenance: Provenance, label: str, index: int,
                      warnings: list[str]) -> list[OrganisationRelation]:
    """Parent, child, related, predecessor and successor links; any other is warned about and skipped."""
    relations = []
    for rel in rec.get("relationships") or []:
        if not isinstance(rel, dict):
            continue
        kind = _text(rel.get("type")).lower()
        target = organisation_id(_text(rel.get("id")))
        if kind not in RELATION_KINDS or target is None:
            warnings.append(f"{label}, record {index} ({org_id}), field 'relationships': skipped {rel!r}")
            continue
        relations.append(OrganisationRelation(source_id=org_id, target_id=target, kind=kind, source=provenance))
    return relations


def _is_v2(records: list[Any]) -> bool:
    first = next((r for r in records if isinstance(r, dict)), None)
    return first is not None and isinstance(first.get("names"), list)


def _parse_json(data: bytes, label: str) -> list[Any]:
    text = data.decode("utf-8-sig", errors="strict") if data else ""
    if not text.strip():
        raise BadInputError("the file is empty", file=label, line=1)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInputError(f"not JSON ({exc.msg})", file=label, line=exc.lineno) from exc
    except RecursionError:
        raise BadInputError("JSON nested too deeply to be a ROR dump", file=label) from None
    if not isinstance(doc, list):
        raise BadInputError("not a ROR dump: expected a JSON array of records", file=label, line=1)
    return doc


def _documents(inputs: Iterable[str | Path], cache_dir: Path, progress: Any) -> Iterator[tuple[str, list[Any]]]:
    """(label, records) for every ROR JSON named, inside a directory, or inside a zip (v2 files only)."""
    for item in inputs:
        path, label = local_input(item, cache_dir, progress)
        paths = list(iter_files(path, (".json", ".json.gz", ".zip"))) if path.is_dir() else [path]
        for sub in paths:
            sub_label = str(sub.relative_to(path)) if path.is_dir() else label
            if sub.suffix.lower() == ".zip":
                found = False
                for name, data in zip_members(sub):
                    if not name.lower().endswith(".json"):
                        continue
                    records = _parse_json(data, f"{sub_label}!{name}")
                    if _is_v2(records):
                        found = True
                        yield f"{sub_label}!{name}", records
                if not found:
                    raise BadInputError("no ROR schema v2 JSON file in the zip", file=sub_label)
                continue
            data = read_bytes(sub, sub_label)
            yield sub_label.removesuffix(".gz"), _parse_json(data, sub_label)


def read_ror(inputs: Iterable[str | Path], *, cache_dir: Path, progress: Any = None) -> ImportBatch:
    """Parse ROR schema v2 dumps into one validated batch (nothing is written here)."""
    orgs: dict[str, Organisation] = {}
    relations: dict[tuple[str, str, str], OrganisationRelation] = {}
    warnings: list[str] = []
    files: list[str] = []
    for label, records in _documents(inputs, cache_dir, progress):
        task = progress.add_task(f"reading {label}", total=len(records)) if progress is not None else None
        for index, rec in enumerate(records, 1):
            org, rels = _parse_record(rec, label, index, warnings)
            if org.id in orgs:
                warnings.append(f"{label}, record {index}: {org.id} appears twice; the last one is kept")
            orgs[org.id] = org
            for rel in rels:
                relations[(rel.source_id, rel.target_id, rel.kind)] = rel
            if task is not None and index % 1000 == 0:
                progress.update(task, completed=index)
        if task is not None:
            progress.remove_task(task)
        files.append(f"{label} ({len(records)} records)")
    if not files:
        raise BadInputError("no ROR JSON file found in the input")
    flagged = sum(1 for o in orgs.values() if o.status in ("inactive", "withdrawn"))
    if flagged:
        warnings.append(f"{flagged} ROR records are inactive or withdrawn: kept, flagged in 'status'")
    return ImportBatch(label="ror: " + ", ".join(files), organisations=list(orgs.values()),
                       relations=list(relations.values()), warnings=warnings)
