"""Counts computed straight from the input files with the csv/json modules, independently of helixmap."""

from __future__ import annotations

import csv
import itertools
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path


def counts_from_rows(rows: Iterable[tuple[str, str]],
                     groups: Mapping[str, Iterable[str]] | None = None) -> dict[str, int]:
    """organisations, projects, participations, collaborations from (project id, organisation id) pairs.

    `groups` (canonical id -> record ids, what entity resolution merged) counts the records of a group as one
    organisation, as the stores do."""
    canonical = {rid: c for c, members in (groups or {}).items() for rid in members}
    members: dict[str, set[str]] = defaultdict(set)
    orgs: set[str] = set()
    parts: set[tuple[str, str]] = set()
    for pid, oid in rows:
        oid = canonical.get(oid, oid)
        members[pid].add(oid)
        orgs.add(oid)
        parts.add((pid, oid))
    pairs = set()
    for group in members.values():
        pairs.update(itertools.combinations(sorted(group), 2))
    return {"organisations": len(orgs), "projects": len(members), "participations": len(parts),
            "collaborations": len(pairs)}


def csv_pairs(path: Path, delimiter: str = ",") -> list[tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [(r["projectID"], r["organisationID"]) for r in csv.DictReader(fh, delimiter=delimiter)]


def json_pairs(path: Path) -> list[tuple[str, str]]:
    return [(str(r["projectID"]), str(r["organisationID"])) for r in json.loads(path.read_text(encoding="utf-8"))]
