"""Table files as the table reader meets them: plain, gzipped or XLSX; and where a broken one breaks.

The error paths (a bad byte, broken quoting) re-read the file to name the line and the column; the
normal path never pays for them.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import io
from pathlib import Path

from ecosystem.domain.errors import BadInputError

SNIFF_CANDIDATES = (",", ";", "\t", "|")


def open_binary(path: Path, stack: contextlib.ExitStack) -> io.BufferedReader | gzip.GzipFile:
    try:
        raw = stack.enter_context(open(path, "rb"))
    except FileNotFoundError:
        raise BadInputError("the file does not exist", file=str(path)) from None
    except IsADirectoryError:
        raise BadInputError("is a directory, not a table file", file=str(path)) from None
    except OSError as exc:
        raise BadInputError(f"cannot open the file ({exc})", file=path.name) from exc
    magic = raw.peek(4)[:4]
    if magic[:2] == b"\x1f\x8b":
        return stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
    if magic == b"PK\x03\x04":
        raise BadInputError("this is a zip archive, not a CSV/TSV table or an XLSX workbook; unzip it first",
                            file=path.name, line=1)
    return raw


def is_xlsx(path: Path) -> bool:
    """An XLSX workbook: a zip holding xl/workbook.xml."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            return "xl/workbook.xml" in zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def xlsx_to_csv(path: Path, sheet: str | int | None, target: Path) -> None:
    """The chosen sheet of a workbook as a UTF-8 CSV file with the same row numbers (line n = row n)."""
    import csv as _csv

    try:
        from openpyxl import load_workbook
    except ImportError as exc:  # pragma: no cover - openpyxl is a dependency
        raise BadInputError("reading XLSX needs openpyxl (pip install openpyxl)", file=path.name) from exc
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged workbook
        raise BadInputError(f"not a readable XLSX workbook ({exc})", file=path.name) from exc
    try:
        names = workbook.sheetnames
        if sheet is None:
            ws = workbook[names[0]]
        elif isinstance(sheet, int):
            if sheet > len(names):
                raise BadInputError(f"the workbook has {len(names)} sheet(s), not {sheet}", file=path.name,
                                    field="sheet")
            ws = workbook[names[sheet - 1]]
        elif sheet in names:
            ws = workbook[sheet]
        else:
            raise BadInputError(f"no sheet named {sheet!r}; the sheets are: {', '.join(names)}", file=path.name,
                                field="sheet")
        with target.open("w", encoding="utf-8", newline="") as fh:
            writer = _csv.writer(fh)
            for row in ws.iter_rows(values_only=True):
                writer.writerow(["" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer()
                                                       else str(v).replace("\r\n", " ").replace("\n", " "))
                                 for v in row])
    finally:
        workbook.close()


def open_text(path: Path, encoding: str, stack: contextlib.ExitStack) -> io.TextIOWrapper:
    return stack.enter_context(io.TextIOWrapper(open_binary(path, stack), encoding=encoding, newline=""))


def tokenise(text: str, delimiter: str, quote: str) -> tuple[int, int | None, int | None]:
    """Walk CSV text: (field index at its end, (line, field) where a quoted field went wrong or None)."""
    field = line = 0
    state = 0  # 0 start of field, 1 unquoted, 2 inside quotes, 3 just after a quote inside quotes
    open_at: tuple[int, int] = (0, 0)
    for ch in text:
        if ch == "\n":
            line += 1
        if state == 2:
            if ch == quote:
                state = 3
            continue
        if state == 3:
            if ch == quote:
                state = 2
                continue
            if ch not in (delimiter, "\r", "\n"):
                return field, *open_at
            state = 0
        if ch == delimiter:
            field += 1
            state = 0
        elif ch in "\r\n":
            if ch == "\n":
                field = 0
            state = 0
        elif state == 0 and ch == quote:
            state = 2
            open_at = (line, field)
        elif state == 0:
            state = 1
    if state == 2:
        return field, *open_at
    return field, None, None


def locate_decode_error(path: Path, encoding: str) -> tuple[int, str, bytes]:
    """Where a file stops being valid `encoding`: (line, text of that line before the bad byte, bad bytes).

    Reads the (decompressed) bytes in chunks through an incremental decoder; the error's offset gives
    the line. Only called after decoding failed, so the normal path never pays for it.
    """
    if encoding == "utf-8-sig":
        encoding = "utf-8"  # a BOM is valid UTF-8; offsets stay plain
    decoder = codecs.getincrementaldecoder(encoding)()
    pos = newlines = 0  # absolute offset of the next chunk; newlines before it
    tail = b""  # the bytes of the current line before `pos`
    with contextlib.ExitStack() as stack:
        stream = open_binary(path, stack)
        while True:
            chunk = stream.read(1 << 20)
            buffered = len(getattr(decoder, "buffer", b"") or b"")  # undecoded bytes from the last chunk
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                within = exc.start - buffered  # the bad byte's index in this chunk (< 0: in the buffer)
                head = chunk[:max(within, 0)]
                line = newlines + head.count(b"\n") + 1
                if within < 0:
                    current = tail[:len(tail) + within]
                else:
                    cut = head.rfind(b"\n")
                    current = head[cut + 1:] if cut >= 0 else tail + head
                return line, current.decode(encoding, "replace"), exc.object[exc.start:exc.end]
            if not chunk:
                break
            newlines += chunk.count(b"\n")
            cut = chunk.rfind(b"\n")
            tail = chunk[cut + 1:] if cut >= 0 else tail + chunk
            pos += len(chunk)
    return newlines + 1, "", b""


def read_lines(path: Path, encoding: str, first: int, last: int) -> str:
    """Lines `first`..`last` (1-based, inclusive) of a text file, as csv sees them."""
    out = []
    with contextlib.ExitStack() as stack:
        text = open_text(path, encoding, stack)
        for number, line in enumerate(text, start=1):
            if number > last:
                break
            if number >= first:
                out.append(line)
    return "".join(out)


def sniff_delimiter(header_line: str, quote: str, wanted: list[str]) -> str:
    """The delimiter of a header line: the candidate that finds every mapped column, else the commonest."""
    counts = {}
    for delim in SNIFF_CANDIDATES:
        cells = [c.strip() for c in next(csv.reader([header_line], delimiter=delim, quotechar=quote))]
        if wanted and all(w in cells for w in wanted):
            return delim
        counts[delim] = len(cells)
    best = max(SNIFF_CANDIDATES, key=lambda d: (counts[d], -SNIFF_CANDIDATES.index(d)))
    return best if counts[best] > 1 else ","


def show_delimiter(delim: str) -> str:
    return {"\t": "tab", " ": "space"}.get(delim, repr(delim))
