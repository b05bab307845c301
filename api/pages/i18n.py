"""Message catalogues (api/locales/*.json), language negotiation and locale-aware numbers for the pages."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

LOCALES = Path(__file__).resolve().parents[1] / "locales"
LANGUAGES = ("en", "pl")
DEFAULT_LANGUAGE = "en"
COOKIE = "helixmap_lang"
# (thousands separator, decimal mark, minimum digits before grouping starts) per language (CLDR)
NUMBER_STYLE = {"en": (",", ".", 4), "pl": ("\u00a0", ",", 5)}
# CLDR date patterns per language: (long date, short time); month names (format context) are in the catalogues
DATE_STYLE = {"en": ("{month} {day}, {year}", "12h"), "pl": ("{day} {month} {year}", "24h")}


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The messages of one language, key -> text (str.format placeholders)."""
    data: dict[str, str] = json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def negotiate(query_lang: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The page language: `?lang=`, then the cookie, then the best of Accept-Language, else English."""
    for candidate in (query_lang, cookie):
        if candidate in LANGUAGES:
            return candidate
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        base = tag.strip().lower().split("-")[0]
        if base in LANGUAGES and q > 0:
            ranked.append((-q, i, base))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE


def format_number(value: float | int | None, lang: str, decimals: int = 0) -> str:
    """A number written the way the language writes it (en 12,345.6; pl 12 345,6)."""
    if value is None:
        return "–"
    group, point, min_digits = NUMBER_STYLE.get(lang, NUMBER_STYLE[DEFAULT_LANGUAGE])
    text = f"{abs(value):.{decimals}f}"
    whole, _, frac = text.partition(".")
    if len(whole) >= min_digits:
        parts: list[str] = []
        while len(whole) > 3:
            parts.insert(0, whole[-3:])
            whole = whole[:-3]
        whole = group.join([whole, *parts])
    sign = "−" if value < 0 and float(text) != 0 else ""
    return sign + whole + (point + frac if frac else "")


def parse_when(value: dt.date | dt.datetime | str | None) -> dt.date | dt.datetime | None:
    """A date or date-time from a value as stored (ISO 8601 text, a trailing Z for UTC); None when it is none."""
    if value is None or isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        if "T" in text or " " in text:
            return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def format_date(value: dt.date | dt.datetime | str | None, lang: str) -> str:
    """A date in the language's long CLDR style (en December 3, 2026; pl 3 grudnia 2026)."""
    when = parse_when(value)
    if when is None:
        return "–" if value is None else str(value)
    pattern, _ = DATE_STYLE.get(lang, DATE_STYLE[DEFAULT_LANGUAGE])
    month = Translator(lang)(f"date.month_{when.month}")
    return pattern.format(day=when.day, month=month, year=when.year)


def format_datetime(value: dt.datetime | str | None, lang: str) -> str:
    """A date and time (en December 3, 2026, 2:05 PM UTC; pl 3 grudnia 2026, 14:05 UTC)."""
    when = parse_when(value)
    if not isinstance(when, dt.datetime):
        return format_date(when, lang)
    _, clock = DATE_STYLE.get(lang, DATE_STYLE[DEFAULT_LANGUAGE])
    if clock == "12h":
        time = f"{(when.hour % 12) or 12}:{when.minute:02d}\u202f{'AM' if when.hour < 12 else 'PM'}"
    else:
        time = f"{when.hour:02d}:{when.minute:02d}"
    zone = " UTC" if when.utcoffset() is not None and not when.utcoffset() else ""
    return f"{format_date(when, lang)}, {time}{zone}"


@dataclass(frozen=True)
class Translator:
    """Messages and numbers of one language, handed to templates as `t`, `num` and `pct`."""

    lang: str

    def __call__(self, key: str, **values: Any) -> str:
        text = catalogue(self.lang).get(key) or catalogue(DEFAULT_LANGUAGE).get(key) or key
        return text.format(**values) if values else text

    def num(self, value: float | int | None, decimals: int = 0) -> str:
        return format_number(value, self.lang, decimals)

    def pct(self, share: float | None, decimals: int = 0) -> str:
        """A share in [0, 1] as a percentage."""
        if share is None:
            return "–"
        return format_number(100 * share, self.lang, decimals) + ("\u00a0%" if self.lang == "pl" else "%")

    def date(self, value: dt.date | dt.datetime | str | None) -> str:
        return format_date(value, self.lang)

    def datetime(self, value: dt.datetime | str | None) -> str:
        return format_datetime(value, self.lang)

    def helix(self, value: str | None) -> str:
        return self(f"helix.{value or 'unknown'}")

    def urban_rural(self, value: str | None) -> str:
        return self(f"urban_rural.{value or 'unknown'}")

    def degurba(self, value: str | None) -> str:
        return self(f"degurba.{value or 'unknown'}")

    def role(self, value: str | None) -> str:
        """A participant's role; a role the catalogue does not know is shown as the source wrote it."""
        key = f"role.{value or 'unknown'}"
        return self(key) if key in catalogue(self.lang) else (value or self("role.unknown"))
