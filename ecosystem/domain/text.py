"""Folding text for search and name matching: lower-case ASCII-ish words, one space apart.

`fold("KØBENHAVNS Universitet")` is ``"kobenhavns universitet"``; `fold("Łódzka")` is ``"lodzka"``.
Accents are removed, letters that are not accented forms are transliterated (ø, ł, ß, æ, œ, đ, ħ, ı, þ,
ð, ...), Greek and Cyrillic get a basic transliteration, punctuation becomes a space.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["PLACEHOLDERS", "fold", "is_placeholder", "real_value"]

# Letters that NFKD does not decompose into a base letter plus marks (applied after lower-casing).
_SPECIAL = {
    "ø": "o", "ł": "l", "ß": "ss", "æ": "ae", "œ": "oe", "đ": "d", "ħ": "h", "ı": "i", "þ": "th",
    "ð": "d", "ŧ": "t", "ŋ": "n", "ĸ": "q", "ſ": "s", "ƒ": "f", "ǥ": "g", "ɨ": "i", "ȥ": "z",
    "ꝁ": "k", "ɛ": "e", "ɔ": "o", "ə": "e",
    "\u00b7": "", "\u2027": "",  # Catalan middle dot: col·legi -> collegi
    # Cyrillic letters that NFKD would reduce to a different letter
    "й": "y", "ё": "e", "ї": "yi",
}

# Greek and Cyrillic base letters (after NFKD has taken the accents off).
_GREEK = dict(zip("αβγδεζηθικλμνξοπρσςτυφχψω",
                  ["a", "v", "g", "d", "e", "z", "i", "th", "i", "k", "l", "m", "n", "x", "o", "p", "r",
                   "s", "s", "t", "y", "f", "ch", "ps", "o"], strict=True))
_CYRILLIC = dict(zip(
    "абвгдежзиклмнопрстуфхцчшщъыьэюяіғґєђјљњћџѓќѕўқңүұһә",
    ["a", "b", "v", "g", "d", "e", "zh", "z", "i", "k", "l", "m", "n", "o", "p", "r", "s", "t", "u", "f",
     "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya", "i", "g", "g", "ye", "dj", "j", "lj",
     "nj", "c", "dz", "gj", "kj", "dz", "u", "q", "n", "u", "u", "h", "a"], strict=True))

_COMBINING = [(0x0300, 0x036F), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF), (0xFE20, 0xFE2F)]

_PRE = str.maketrans(_SPECIAL)
_POST: dict[int, str | None] = {cp: None for lo, hi in _COMBINING for cp in range(lo, hi + 1)}
_POST.update({ord(k): v for k, v in {**_SPECIAL, **_GREEK, **_CYRILLIC}.items()})
_NOT_WORD = re.compile(r"[\W_]+")
_GREEK_DIGRAPHS = {"ου": "ou", "αυ": "av", "ευ": "ev"}
_GREEK_DIGRAPH = re.compile("ου|αυ|ευ")


def fold(text: str | None) -> str:
    """Lower-case, accent-free, transliterated form of `text`, punctuation as spaces, whitespace collapsed."""
    if not text:
        return ""
    s = text.lower()
    if not s.isascii():
        s = s.translate(_PRE)
        s = unicodedata.normalize("NFKD", s)
        if "υ" in s:
            s = _GREEK_DIGRAPH.sub(lambda m: _GREEK_DIGRAPHS[m.group()], s)
        s = s.translate(_POST)
    return _NOT_WORD.sub(" ", s).strip()


# Values that registers and exports write where they have nothing: never a name, a short name, a category or
# an identifier (compared folded, so "N/A", "n.a." and "-" are caught; an empty fold is a placeholder too).
# English first, then the EU languages (and Norwegian, Icelandic).
PLACEHOLDERS = frozenset({
    "", "unknown", "n a", "na", "n d", "nd", "none", "null", "nil", "missing", "notapplicable", "not applicable",
    "not available", "not known", "no data", "no name", "tbd", "tba", "x", "xx", "xxx", "0", "00", "000",
    "unbekannt", "keine angabe", "k a", "nicht bekannt", "nicht verfugbar",            # de
    "inconnu", "inconnue", "non connu", "non renseigne", "neant", "sans objet",          # fr
    "desconocido", "desconocida", "sin datos", "ninguno", "ninguna", "no consta",       # es
    "sconosciuto", "sconosciuta", "non disponibile", "nessuno", "nessuna",              # it
    "desconhecido", "desconhecida", "nenhum", "nenhuma",                                # pt
    "onbekend", "geen", "niet bekend",                                                  # nl
    "ukjent", "ikke oppgitt", "ingen", "okand", "ej angivet", "ukendt", "ikke angivet",  # no, sv, da
    "tuntematon", "ei tiedossa", "ei tietoa",                                           # fi
    "nieznany", "nieznana", "brak", "brak danych",                                      # pl
    "neznamy", "neznama", "nezname", "neuvedeno", "ziadny",                             # cs, sk
    "ismeretlen", "nincs",                                                              # hu
    "necunoscut", "necunoscuta", "nespecificat",                                        # ro
    "nepoznat", "nepoznato", "neznano", "nema",                                         # hr, sl
    "agnosto", "agnostos", "neizvesten", "nezinomas", "nezinoma", "nezinams", "teadmata", "tundmatu",  # el bg lt lv et
    "obekant", "oekant", "othekkt", "ekki vitad",                                       # sv variants, is
})


def is_placeholder(value: object) -> bool:
    """Whether a cell holds nothing real: empty, a dash, "unknown", "n/a", "none", or the like in an EU language
    (see `PLACEHOLDERS`)."""
    if value is None:
        return True
    return fold(str(value)) in PLACEHOLDERS


def real_value(value: str | None) -> str | None:
    """The value stripped, or None when it is a placeholder (see `is_placeholder`)."""
    if value is None:
        return None
    text = str(value).strip()
    return None if is_placeholder(text) else text
