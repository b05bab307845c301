"""Pydantic records from the aggregated rows of a table, once per distinct organisation, project and pair.

Built through each model's validator from plain dicts (what `Model(**fields)` does, without its Python
frame): the values were converted and checked row by row, the models check them again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ecosystem.domain.batch import ImportBatch
from ecosystem.domain.errors import BadInputError
from ecosystem.domain.helix import decide_helix, merge_evidence
from ecosystem.domain.models import (
    Evidence,
    Helix,
    HelixAssignment,
    Location,
    Organisation,
    Participation,
    Project,
    Provenance,
)
from ecosystem.domain.text import is_placeholder
from importers.table_plan import OrganisationPlan, ProjectPlan, TablePlan
from importers.table_rows import Aggregate, HelixVerdict

LOCATION_FIELDS = ("country", "city", "postcode", "street", "lat", "lon", "nuts_code", "municipality_code")
ORGANISATION_ATTRS = ("short_name", "country", "sme", "url")  # copied as they are when present
IDENTIFIER = "identifier:"
PLACEHOLDER_ATTRS = ("short_name",)  # text attributes where "unknown", "n/a", "-" ... mean no value

Validate = Callable[[dict[str, Any]], Any]
# one helix decision per distinct set of raw type values: (helix, confidence, evidence as dicts)
HelixDecision = tuple[Helix, float, list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class _Origin:
    """Where the records come from: for provenance and for messages."""

    source: str
    licence: str
    file: str
    provenance: Validate

    def of(self, record: str) -> Any:
        return self.provenance({"source": self.source, "file": self.file, "record": record,
                                "licence": self.licence})


def build_batch(plan: TablePlan, agg: Aggregate, file: str, warnings: list[str]) -> ImportBatch:
    """The batch of one table: its organisations, projects, participations and warnings."""
    origin = _Origin(plan.source, plan.licence, file, Provenance.__pydantic_validator__.validate_python)
    batch = ImportBatch(label=f"table:{plan.source}")
    if plan.organisation is not None:
        batch.organisations = _organisations(plan.organisation, agg, origin)
    if plan.project is not None:
        batch.projects = _projects(plan.project, agg.projects, origin)
        batch.participations = _participations(agg.parts, origin)
    batch.warnings.extend(warnings)
    return batch


# -- organisations ----------------------------------------------------------------------------------

def _organisations(plan: OrganisationPlan, agg: Aggregate, origin: _Origin) -> list[Organisation]:
    make_org = Organisation.__pydantic_validator__.validate_python
    make_location = Location.__pydantic_validator__.validate_python
    make_helix = HelixAssignment.__pydantic_validator__.validate_python
    make_evidence = Evidence.__pydantic_validator__.validate_python
    constants = plan.entity.constants
    helices: dict[frozenset[str], HelixDecision] = {}
    out = []
    for oid, (_, vals, types, names, line) in agg.orgs.items():
        for attr, value in constants.items():
            vals.setdefault(attr, value)
        if "coordinates" in vals:
            vals["lat"], vals["lon"] = vals.pop("coordinates")
        key = frozenset(types)
        decided = helices.get(key)
        if decided is None:
            decided = helices[key] = _decide_helix(plan, key, agg.helix)
        record = _organisation_record(oid, vals, names, origin)
        record["helix"] = make_helix({"value": decided[0], "confidence": decided[1],
                                      "evidence": [make_evidence(e) for e in decided[2]]})
        record["location"] = make_location({k: vals[k] for k in LOCATION_FIELDS if k in vals})
        try:
            out.append(make_org(record))
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            raise BadInputError(f"organisation {oid!r} is not valid: {exc}", file=origin.file, line=line) from None
    return out


def _decide_helix(plan: OrganisationPlan, raw_types: frozenset[str],
                  verdicts: dict[str, HelixVerdict]) -> HelixDecision:
    evidence = list(plan.fixed_evidence) or merge_evidence([], [e for t in raw_types for e in verdicts[t][1]])
    assignment = decide_helix(evidence)
    return assignment.value, assignment.confidence, [e.model_dump() for e in evidence]


def _organisation_record(oid: str, vals: dict[str, Any], names: dict[str, None] | None,
                         origin: _Origin) -> dict[str, Any]:
    """The fields of an organisation other than its helix and location."""
    name = vals.get("name", "")
    record: dict[str, Any] = {"id": oid, "name": "" if is_placeholder(name) else name, "sources": [origin.of(oid)]}
    for attr in ORGANISATION_ATTRS:
        if attr in vals and not (attr in PLACEHOLDER_ATTRS and is_placeholder(vals[attr])):
            record[attr] = vals[attr]
    category = vals.get("category")
    if category:  # one category, or several (a `separator` in the mapping); placeholders are no category
        tags = [c for c in ((category,) if isinstance(category, str) else category) if not is_placeholder(c)]
        if tags:
            record["tags"] = list(dict.fromkeys(tags))
    if names:
        kept = [n for n in names if not is_placeholder(n)]
        if kept:
            record["names"] = kept
    identifiers = {k[len(IDENTIFIER):]: v for k, v in vals.items()
                   if k.startswith(IDENTIFIER) and not is_placeholder(v)}
    if identifiers:
        record["identifiers"] = identifiers
    return record


# -- projects and participations --------------------------------------------------------------------

def _projects(plan: ProjectPlan, projects: dict[str, list[Any]], origin: _Origin) -> list[Project]:
    make_project = Project.__pydantic_validator__.validate_python
    constants = plan.entity.constants
    out = []
    for pid, (_, vals, line) in projects.items():
        for attr, value in constants.items():
            vals.setdefault(attr, value)
        start, end = vals.get("start_date"), vals.get("end_date")
        if start is not None and "start_year" not in vals:
            vals["start_year"] = start.year
        if end is not None and "end_year" not in vals:
            vals["end_year"] = end.year
        for key in ("topics", "topic_titles"):
            if key in vals:
                vals[key] = list(vals[key])
        vals["id"] = pid
        vals["sources"] = [origin.of(pid)]
        try:
            out.append(make_project(vals))
        except ValueError as exc:
            raise BadInputError(f"project {pid!r} is not valid: {exc}", file=origin.file, line=line) from None
    return out


def _participations(parts: dict[tuple[str, str], list[Any]], origin: _Origin) -> list[Participation]:
    """The hot spot of big tables: one participation and one provenance per distinct pair."""
    make_part = Participation.__pydantic_validator__.validate_python
    make_prov = origin.provenance
    source, file, licence = origin.source, origin.file, origin.licence
    return [make_part({"project_id": pid, "organisation_id": oid, "role": role, "ec_contribution": amount,
                       "source": make_prov({"source": source, "file": file, "record": f"{pid}/{oid}",
                                            "licence": licence})})
            for (pid, oid), (role, amount, _line) in parts.items()]
