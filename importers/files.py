"""Reading source files safely: decoding, delimiters, CSV rows with their line numbers, zips."""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

from ecosystem.domain.errors import BadInputError

csv.field_size_limit(1 << 26)


def read_bytes(path: Path, name: str | None = None) -> bytes:
    """A file's bytes, gunzipped when it ends in .gz; a truncated gzip is bad input."""
    label = name or path.name
    try:
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise BadInputError(f"cannot read the file ({exc})", file=label) from exc
    return data


def decode_text(data: bytes, label: str, encoding: str = "utf-8") -> str:
    """Text from bytes; a byte that is not valid in `encoding` is reported with its line."""
    if not data.strip():
        raise BadInputError("the file is empty", file=label, line=1)
    try:
        text = data.decode("utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding)
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise BadInputError(f"the file is not {encoding} text (byte 0x{data[exc.start]:02x} at offset "
                            f"{exc.start}); save it as UTF-8 or declare its encoding", file=label, line=line) from exc
    except LookupError as exc:
        raise BadInputError(f"unknown encoding '{encoding}'", file=label) from exc
    return text


def sniff_delimiter(first_line: str, expected: tuple[str, ...] = ()) -> str:
    """The delimiter of a CSV header: the one of `;`, `,`, tab, `|` that splits it most (or finds the expected
    columns)."""
    best, best_count = ",", -1
    for delim in (";", ",", "\t", "|"):
        fields = [f.strip().strip('"') for f in first_line.split(delim)]
        if expected and all(e in fields for e in expected):
            return delim
        if len(fields) - 1 > best_count:
            best, best_count = delim, len(fields) - 1
    return best


def csv_rows(text: str, label: str, *, delimiter: str | None = None,
             required: tuple[str, ...] = ()) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a CSV text as (line number, row dict); broken quotes and short rows are bad input."""
    first = text.split("\n", 1)[0]
    delim = delimiter or sniff_delimiter(first, required)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise BadInputError("the file is empty", file=label, line=1) from None
    except csv.Error as exc:
        raise BadInputError(f"malformed CSV header ({exc})", file=label, line=1) from exc
    missing = [c for c in required if c not in header]
    if missing:
        shown = ", ".join(header[:8]) + (" ..." if len(header) > 8 else "")
        raise BadInputError(
            f"missing required column(s) {', '.join(missing)}; the header read with delimiter {delim!r} has: "
            f"{shown}" + (" (is the delimiter right?)" if len(header) == 1 else ""),
            file=label, line=1, field=missing[0])
    width = len(header)
    line = 1
    try:
        for row in reader:
            line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != width:
                raise BadInputError(f"expected {width} fields, found {len(row)} (a stray delimiter or quote?)",
                                    file=label, line=line)
            yield line, dict(zip(header, row, strict=True))  # same width: checked above
    except csv.Error as exc:
        raise BadInputError(f"malformed CSV ({exc}); check the quotes", file=label,
                            line=reader.line_num or line) from exc


def zip_members(path: Path) -> Iterator[tuple[str, bytes]]:
    """(member name, bytes) of every file in a zip; a truncated or corrupt zip is bad input."""
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                yield info.filename, zf.read(info)
    except (zipfile.BadZipFile, EOFError, OSError, zipfile.LargeZipFile) as exc:
        raise BadInputError(f"not a readable zip archive ({exc}); is the download truncated?",
                            file=path.name) from exc


def parse_number(raw: object, label: str, line: int | None, field: str) -> float | None:
    """`1234.5`, `1234,5`, `1 234,50`, numbers from JSON; empty/NA -> None; anything else is bad input."""
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        return float(raw)
    text = str(raw).strip().replace("\u00a0", "").replace(" ", "")
    if text in ("", "NA", "NaN", "nan", "null", "None"):
        return None
    if "," in text and "." in text:
        text = text.replace(",", "") if text.rfind(".") > text.rfind(",") else text.replace(".", "").replace(",", ".")
    elif "," in text:
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        raise BadInputError(f"not a number: {raw!r}", file=label, line=line, field=field) from None


def iter_files(folder: Path, suffixes: tuple[str, ...]) -> Iterator[Path]:
    """Files under a folder (following links), sorted, with one of the given suffixes."""
    import os

    found = []
    for root, _dirs, files in os.walk(folder, followlinks=True):
        for name in files:
            if name.lower().endswith(suffixes):
                found.append(Path(root) / name)
    yield from sorted(found)
