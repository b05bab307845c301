"""Helix classification: evidence in, one helix with a confidence out.

CORDIS `activityType`: HES and REC are academia, PRC industry, PUB government, OTH civil society (at
lower confidence: OTH also holds clusters, chambers and other intermediaries). A value like `PRC;PRC`
is one type. An explicit override always wins.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from ecosystem.domain.models import Evidence, Helix, HelixAssignment

CORDIS_ACTIVITY_TYPES: dict[str, tuple[Helix, float]] = {
    "HES": (Helix.ACADEMIA, 0.95),
    "REC": (Helix.ACADEMIA, 0.9),
    "PRC": (Helix.INDUSTRY, 0.9),
    "PUB": (Helix.GOVERNMENT, 0.9),
    "OTH": (Helix.CIVIL_SOCIETY, 0.5),
}

OVERRIDE_SOURCE = "override"


def split_activity_type(raw: str | None) -> list[str]:
    """`"PRC;PRC"` -> `["PRC"]`; `" hes "` -> `["HES"]`; empty -> `[]`."""
    if not raw:
        return []
    seen: list[str] = []
    for part in str(raw).replace(",", ";").split(";"):
        code = part.strip().upper()
        if code and code not in seen:
            seen.append(code)
    return seen


def evidence_from_activity_type(raw: str | None, source: str = "cordis",
                                field: str = "activityType") -> list[Evidence]:
    """Evidence from a CORDIS activity type; unknown codes give none (and are reported by the caller)."""
    codes = split_activity_type(raw)
    out: list[Evidence] = []
    for code in codes:
        if code in CORDIS_ACTIVITY_TYPES:
            helix, confidence = CORDIS_ACTIVITY_TYPES[code]
            if len(codes) > 1:  # genuinely mixed types: less sure of each
                confidence = round(confidence * 0.6, 3)
            out.append(Evidence(source=source, field=field, value=code, helix=helix, confidence=confidence))
    return out


def merge_evidence(old: Iterable[Evidence], new: Iterable[Evidence]) -> list[Evidence]:
    """Union of evidence, one entry per (source, field, value), in a stable order."""
    seen: dict[tuple[str, str, str], Evidence] = {}
    for ev in list(old) + list(new):
        key = (ev.source, ev.field, ev.value)
        if key not in seen or ev.confidence > seen[key].confidence:
            seen[key] = ev
    return sorted(seen.values(), key=lambda e: (e.source, e.field, e.value))


def decide_helix(evidence: Iterable[Evidence]) -> HelixAssignment:
    """One helix from all evidence: an override wins; otherwise the best-supported helix.

    Support for a helix is the probabilistic OR of its evidence confidences; the result's confidence
    is that support, lowered when other helices have support too.
    """
    items = list(evidence)
    overrides = [e for e in items if e.source == OVERRIDE_SOURCE]
    if overrides:
        chosen = overrides[-1]
        return HelixAssignment(value=chosen.helix, confidence=1.0, evidence=items)
    support: dict[Helix, float] = defaultdict(float)
    for ev in items:
        if ev.helix is Helix.UNKNOWN:
            continue
        support[ev.helix] = 1 - (1 - support[ev.helix]) * (1 - ev.confidence)
    if not support:
        return HelixAssignment(value=Helix.UNKNOWN, confidence=0.0, evidence=items)
    ranked = sorted(support.items(), key=lambda kv: (-kv[1], kv[0].value))
    best, score = ranked[0]
    others = sum(s for _, s in ranked[1:])
    confidence = score / (score + others) * score if others else score
    return HelixAssignment(value=best, confidence=round(confidence, 3), evidence=items)
