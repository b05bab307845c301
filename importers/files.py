"""Reading source files safely: decoding, delimiters, CSV rows with their line numbers, zips."""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import math
import zipfile
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Protocol

from ecosystem.domain.errors import BadInputError

csv.field_size_limit(1 << 26)

DEFAULT_MAX_EXPANDED_BYTES = 512 * 1024 * 1024
"""The most bytes one member of a zip or one gzip file may expand to (a decompression bomb stops there)."""

_max_expanded: ContextVar[int] = ContextVar("max_expanded", default=DEFAULT_MAX_EXPANDED_BYTES)
_CHUNK = 1 << 20


@contextlib.contextmanager
def expansion_limit(max_bytes: int) -> Iterator[None]:
    """Within the block, archives expand to at most `max_bytes` per file (the command line sets the setting)."""
    token = _max_expanded.set(max_bytes)
    try:
        yield
    finally:
        _max_expanded.reset(token)


class _Stream(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


def read_capped(stream: _Stream, label: str) -> bytes:
    """Everything a (decompressing) stream gives, read in chunks; more than the expansion limit is bad input,
    stopped as soon as the limit is passed, so memory stays bounded whatever the archive claims."""
    limit = _max_expanded.get()
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = stream.read(min(_CHUNK, limit + 1 - total))
        if not chunk:
            break
        total += len(chunk)
        if total > limit:
            raise BadInputError(f"expands to more than {limit / 2**20:,.0f} MiB (a decompression bomb?); raise "
                                "HELIXMAP_MAX_EXPANDED_MB to read it", file=label)
        chunks.append(chunk)
    return b"".join(chunks)


def gunzip(data: bytes, label: str) -> bytes:
    """The bytes of a gzip file held in memory, within the expansion limit; a broken gzip is bad input."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb") as fh:
            return read_capped(fh, label)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise BadInputError(f"not a readable gzip file ({exc})", file=label) from exc


def read_bytes(path: Path, name: str | None = None) -> bytes:
    """A file's bytes, gunzipped (streamed, within the expansion limit) when it ends in .gz; a truncated gzip is
    bad input."""
    label = name or path.name
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return read_capped(fh, label)
        return path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise BadInputError(f"cannot read the file ({exc})", file=label) from exc


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
    """(member name, bytes) of every file in a zip, each streamed within the expansion limit; a truncated or
    corrupt zip is bad input."""
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                with zf.open(info) as fh:
                    data = read_capped(fh, f"{path.name}!{info.filename}")
                yield info.filename, data
    except (zipfile.BadZipFile, EOFError, OSError, zipfile.LargeZipFile, NotImplementedError) as exc:
        raise BadInputError(f"not a readable zip archive ({exc}); is the download truncated?",
                            file=path.name) from exc


def parse_number(raw: object, label: str, line: int | None, field: str,
                 warnings: list[str] | None = None) -> float | None:
    """`1234.5`, `1234,5`, `1 234,50`, numbers from JSON; empty/NA -> None; anything else is bad input.

    A value that is not a finite number (`inf`, `1e309`, `Infinity`, `NaN`) is left out (None), with a warning
    naming the file, line and field appended to `warnings`."""
    if raw is None or isinstance(raw, bool):
        return None
    value = _number(raw, label, line, field)
    if value is not None and not math.isfinite(value):
        if warnings is not None:
            where = f"{label}, line {line}" if line is not None else label
            warnings.append(f"{where}, field '{field}': not a finite number: {raw!r}; left out")
        return None
    return value


def _number(raw: object, label: str, line: int | None, field: str) -> float | None:
    if isinstance(raw, (int, float)):
        try:
            return float(raw)
        except OverflowError:  # an integer too large for a float
            return math.inf
    text = str(raw).strip().replace("\u00a0", "").replace(" ", "")
    if text in ("", "NA", "null", "None"):
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
