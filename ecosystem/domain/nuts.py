"""Country and NUTS codes: Eurostat spellings (EL, UK), codes of any level, and what lies inside a code."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["COUNTRY_ALIASES", "NUTS_PATTERN", "in_region", "is_nuts_code", "normalise_country", "nuts_prefix"]

COUNTRY_ALIASES = {"GR": "EL", "GB": "UK"}


def normalise_country(raw: str | None) -> str | None:
    """Eurostat country code (EL for Greece, UK) from an ISO or Eurostat code; first of `"FI;FI"`."""
    if not raw:
        return None
    code = str(raw).strip().upper().split(";")[0].strip()
    if not code:
        return None
    return COUNTRY_ALIASES.get(code, code)



NUTS_PATTERN = re.compile(r"^[A-Z]{2}[A-Z0-9]{0,3}$")


def nuts_prefix(code: str) -> str:
    """A NUTS code of any level (or a country code), upper-cased, with ISO aliases mapped (GR -> EL)."""
    code = code.strip().upper()
    if code[:2] in COUNTRY_ALIASES:
        code = COUNTRY_ALIASES[code[:2]] + code[2:]
    return code


def is_nuts_code(code: str) -> bool:
    """True for a country code or a NUTS code of level 1 to 3 (ISO aliases accepted)."""
    return bool(NUTS_PATTERN.match(nuts_prefix(code)))


def in_region(node: dict[str, Any], code: str) -> bool:
    """True when an organisation lies in a NUTS region of any level (or a country)."""
    nuts3 = node.get("nuts3") or ""
    if len(code) == 2:
        return node.get("country") == code or nuts3.startswith(code)
    return nuts3.startswith(code)
