"""Cell converters shared by the table mapping and the table reader: a stripped, non-null cell in, a value
out, ValueError (with a message) on bad input."""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Any

__all__ = ["BOOL", "COORDINATES", "COUNTRY", "DATE", "LAT", "LIST", "LON", "NUMBER", "TEXT", "YEAR", "convert",
           "parse_number"]

# Field kinds: how a cell becomes a value.
TEXT, COUNTRY, NUMBER, LAT, LON, COORDINATES, BOOL, DATE, YEAR, LIST = (
    "text", "country", "number", "lat", "lon", "coordinates", "bool", "date", "year", "list")


_GROUPING = str.maketrans("", "", " \u00a0\u202f'\u2019")
_DOT_DECIMAL = re.compile(r"[+-]?(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d*)?|[+-]?\.\d+")
_COMMA_DECIMAL = re.compile(r"[+-]?(?:\d+|\d{1,3}(?:\.\d{3})+)(?:,\d*)?|[+-]?,\d+")
_TRUE = frozenset({"true", "t", "yes", "y", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "0"})


def parse_number(text: str, decimal: str = "auto") -> float:
    """`1234.5`, `1234,5`, `1 234,50`, `1.234,50`, `1,234.50`, `1'234.5`; anything else is a ValueError.

    With `decimal="auto"` a lone separator is the decimal one (`1,234` is 1.234) and several of the same
    are thousands (`1.234.567`); declare `decimal` in the mapping to read `1,234` as 1234.
    """
    if decimal != ",":
        try:
            number = float(text)
        except ValueError:
            pass
        else:
            if math.isfinite(number) and "_" not in text:
                return number
            raise ValueError(f"not a number: {text!r}")
    plain = text.translate(_GROUPING)
    sep = decimal
    if sep == "auto":
        commas, dots = plain.count(","), plain.count(".")
        if commas and dots:
            sep = "," if plain.rfind(",") > plain.rfind(".") else "."
        elif commas:
            sep = "," if commas == 1 else "."
        else:
            sep = "." if dots <= 1 else ","
    if sep == "." and _DOT_DECIMAL.fullmatch(plain):
        return float(plain.replace(",", ""))
    if sep == "," and _COMMA_DECIMAL.fullmatch(plain):
        return float(plain.replace(".", "").replace(",", "."))
    raise ValueError(f"not a number: {text!r} (numbers look like 1234.5, 1234,5 or 1 234,50)")


def _parse_date(text: str, date_format: str | None) -> date:
    try:
        if date_format:
            return datetime.strptime(text, date_format).date()
        try:
            return date.fromisoformat(text)
        except ValueError:
            return datetime.fromisoformat(text).date()  # a timestamp: 2019-05-01 00:00:00
    except ValueError:
        expected = date_format or "YYYY-MM-DD"
        raise ValueError(f"not a date: {text!r} (expected {expected}; set [project] date_format "
                         "for other layouts)") from None


def _parse_year(text: str) -> int:
    try:
        year = int(text) if text.isdigit() else int(float(text)) if float(text).is_integer() else -1
    except ValueError:
        year = -1
    if not 1000 <= year <= 9999:
        raise ValueError(f"not a year: {text!r}")
    return year


def _parse_coordinates(text: str) -> tuple[float, float]:
    parts = [p for p in re.split(r"\s*[,;]\s*|\s+", text) if p]
    if len(parts) != 2:
        raise ValueError(f"not a \"lat,lon\" pair: {text!r}")
    lat, lon = (parse_number(p, ".") for p in parts)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"coordinates out of range (latitude first): {text!r}")
    return lat, lon


def convert(kind: str, text: str, *, decimal: str = "auto", date_format: str | None = None,
            separator: str = ";") -> Any:
    """One cell (stripped, not a null value) as the value of a field of this kind."""
    if kind == TEXT:
        return text
    if kind == COUNTRY:
        return text.upper() if len(text) == 2 and text.isalpha() else text
    if kind == NUMBER:
        return parse_number(text, decimal)
    if kind in (LAT, LON):
        value = parse_number(text, decimal)
        limit = 90 if kind == LAT else 180
        if not -limit <= value <= limit:
            raise ValueError(f"{'latitude' if kind == LAT else 'longitude'} out of range: {text!r}")
        return value
    if kind == COORDINATES:
        return _parse_coordinates(text)
    if kind == BOOL:
        lowered = text.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(f"not true/false: {text!r}")
    if kind == DATE:
        return _parse_date(text, date_format)
    if kind == YEAR:
        return _parse_year(text)
    if kind == LIST:
        return tuple(dict.fromkeys(p.strip() for p in text.split(separator) if p.strip()))
    raise ValueError(f"unknown field kind {kind!r}")
