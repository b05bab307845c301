"""Checking the pages' filter values: a bad value becomes a message on the page, never a JSON error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ecosystem.domain.models import HELICES, URBAN_RURAL
from ecosystem.domain.nuts import is_nuts_code, nuts_prefix
from ecosystem.store.base import GraphReader

KNOWN_HELICES = tuple(h for h in HELICES if h != "unknown")


@dataclass
class Checked:
    """Filter values that passed, and messages (key, values) for those that did not."""

    values: dict[str, Any] = field(default_factory=dict)
    problems: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def bad(self, name: str, value: str) -> None:
        self.problems.append(("filter.bad_value", {"field": name, "value": value}))


def check_filters(store: GraphReader, raw: dict[str, str | None]) -> Checked:
    """helix, urban_rural, country, nuts checked against the vocabularies and the store's regions."""
    out = Checked()
    for name, allowed in (("helix", HELICES), ("urban_rural", URBAN_RURAL)):
        value = (raw.get(name) or "").strip()
        if value:
            if value in allowed:
                out.values[name] = value
            else:
                out.bad(name, value)
    country = (raw.get("country") or "").strip().upper()
    if country:
        if len(country) == 2 and country.isalpha():
            out.values["country"] = nuts_prefix(country)
        else:
            out.bad("country", country)
    nuts = (raw.get("nuts") or "").strip().upper()
    if nuts:
        code = nuts_prefix(nuts) if is_nuts_code(nuts) else None
        if code and (store.region(code) is not None or (len(code) == 2 and store.country_known(code))):
            out.values["nuts"] = code
        else:
            out.bad("nuts", nuts)
    return out


def page_number(raw: str | None, checked: Checked) -> int:
    """A page number of 1 or more; anything else is page 1, with a message."""
    if not raw:
        return 1
    if raw.isdigit() and 1 <= int(raw) <= 100_000:
        return int(raw)
    checked.bad("page", raw)
    return 1


def bounded_number(raw: str | None, name: str, checked: Checked, *, default: int, high: int) -> int:
    """A whole number from 1 to `high`; empty is `default`; anything else is `default`, with a message."""
    text = (raw or "").strip()
    if not text:
        return default
    if text.isdigit() and 1 <= int(text) <= high:
        return int(text)
    checked.bad(name, text)
    return default


def id_list(raw: str | None, limit: int = 50) -> list[str]:
    """Identifiers typed into one field, separated by commas, semicolons or spaces (duplicates dropped)."""
    return list(dict.fromkeys(part for part in (raw or "").replace(";", ",").replace(",", " ").split()))[:limit]
