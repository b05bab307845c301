"""`helixmap import table`: any CSV/TSV register or participation table, read through a TOML column mapping.

`read_table(path, mapping_path)` parses the whole table and returns one `ImportBatch`; nothing is written
here, so a bad row anywhere stops the import before the store is touched. The mapping format is in
`importers.mapping` and documented in `docs/mapping.md`.

One row is one organisation record, plus one participation of it in one project when `[project]` is
mapped. Rows are aggregated with plain dicts and tuples; pydantic records are built once per distinct
organisation, project and (project, organisation) pair at the end. A row whose mapped cells are the same
as the first row seen for its organisation (or project) is not converted again: the cells were already
checked. Any row that differs is converted and checked in full.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import difflib
import gc
import gzip
import io
import zlib
from collections import Counter
from collections.abc import Callable
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import Any

from ecosystem.domain.batch import ImportBatch
from ecosystem.domain.errors import BadInputError
from ecosystem.domain.helix import (
    decide_helix,
    evidence_from_activity_type,
    merge_evidence,
)
from ecosystem.domain.merge import stronger_role
from ecosystem.domain.models import (
    Evidence,
    Helix,
    HelixAssignment,
    Location,
    Organisation,
    Participation,
    Project,
    Provenance,
)
from importers.cells import (
    COUNTRY,
    LIST,
    NUMBER,
    TEXT,
    convert,
    parse_number,
)
from importers.mapping import (
    TYPED_NULLS,
    EntitySpec,
    FieldSpec,
    TableMapping,
    load_mapping,
)

__all__ = ["read_table", "load_mapping", "parse_number", "convert"]

csv.field_size_limit(1 << 26)

PROGRESS_EVERY = 8192
SNIFF_CANDIDATES = (",", ";", "\t", "|")
LOCATION_FIELDS = ("country", "city", "postcode", "street", "lat", "lon", "nuts_code", "municipality_code")


def _converter(kind: str, mapping: TableMapping, entity: EntitySpec | None) -> Callable[[str], Any] | None:
    """The converter for one field, bound to the mapping's decimal separator, date format and list separator."""
    if kind == TEXT:
        return None
    decimal = mapping.source.decimal
    if kind == NUMBER:
        return partial(parse_number, decimal=decimal)
    return partial(convert, kind, decimal=decimal, date_format=entity.date_format if entity else None,
                   separator=entity.list_separator if entity else ";")


# --------------------------------------------------------------------------------------------------
# files

class _RowError(Exception):
    """A bad cell or row: becomes a BadInputError, or a counted warning when rows may be skipped."""

    def __init__(self, message: str, field: str | None = None, kind: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.kind = kind or message


def _open_binary(path: Path, stack: contextlib.ExitStack) -> io.BufferedIOBase:
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


def _is_xlsx(path: Path) -> bool:
    """An XLSX workbook: a zip holding xl/workbook.xml."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            return "xl/workbook.xml" in zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def _xlsx_to_csv(path: Path, sheet: str | int | None, target: Path) -> None:
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


def _open_text(path: Path, encoding: str, stack: contextlib.ExitStack) -> io.TextIOWrapper:
    return stack.enter_context(io.TextIOWrapper(_open_binary(path, stack), encoding=encoding, newline=""))


def _tokenise(text: str, delimiter: str, quote: str) -> tuple[int, int | None, int | None]:
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


def _locate_decode_error(path: Path, encoding: str) -> tuple[int, str, bytes]:
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
        stream = _open_binary(path, stack)
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


def _read_lines(path: Path, encoding: str, first: int, last: int) -> str:
    """Lines `first`..`last` (1-based, inclusive) of a text file, as csv sees them."""
    out = []
    with contextlib.ExitStack() as stack:
        text = _open_text(path, encoding, stack)
        for number, line in enumerate(text, start=1):
            if number > last:
                break
            if number >= first:
                out.append(line)
    return "".join(out)


def _sniff(header_line: str, quote: str, wanted: list[str]) -> str:
    """The delimiter of a header line: the candidate that finds every mapped column, else the commonest."""
    counts = {}
    for delim in SNIFF_CANDIDATES:
        cells = [c.strip() for c in next(csv.reader([header_line], delimiter=delim, quotechar=quote))]
        if wanted and all(w in cells for w in wanted):
            return delim
        counts[delim] = len(cells)
    best = max(SNIFF_CANDIDATES, key=lambda d: (counts[d], -SNIFF_CANDIDATES.index(d)))
    return best if counts[best] > 1 else ","


def _show(delim: str) -> str:
    return {"\t": "tab", " ": "space"}.get(delim, repr(delim))


# --------------------------------------------------------------------------------------------------
# the reader

class _TableReader:
    def __init__(self, path: Path, mapping: TableMapping, progress: Callable[[int], None] | None) -> None:
        self.path = path
        self.file = path.name
        self.mapping = mapping
        self.source = mapping.source
        self.progress = progress
        self.warn: dict[tuple[str, str | None], list[Any]] = {}  # (kind, field) -> [count, first line, Counter]
        self.order: list[tuple[str, str | None]] = []

    # -- warnings --------------------------------------------------------------------------
    def _count(self, kind: str, field: str | None, line: int, example: str | None = None) -> None:
        key = (kind, field)
        entry = self.warn.get(key)
        if entry is None:
            entry = self.warn[key] = [0, line, Counter()]
            self.order.append(key)
        entry[0] += 1
        if example is not None:
            entry[2][example] += 1

    def _warnings(self) -> list[str]:
        out = []
        for key in self.order:
            kind, field = key
            count, line, examples = self.warn[key]
            rows = f"{count} row{'s' if count != 1 else ''}"
            seen = ""
            if examples:
                shown = ", ".join(f"{v!r} x{n}" for v, n in examples.most_common(5))
                seen = f" ({shown}{', ...' if len(examples) > 5 else ''})"
            where = f"first at line {line}"
            col = f" in column '{field}'" if field else ""
            if kind == "unknown-helix":
                out.append(f"{self.file}: {rows} with an unknown value{col}{seen}: no helix evidence from them "
                           f"({where})")
            elif kind == "skipped-helix":
                out.append(f"{self.file}: {rows} skipped: unknown value{col}{seen} ({where})")
            elif kind == "empty-helix":
                out.append(f"{self.file}: {rows} with no value{col}: no helix evidence from them ({where})")
            elif kind == "duplicate":
                out.append(f"{self.file}: {rows} repeating a (project, organisation) pair seen before: merged "
                           f"into one participation (stronger role kept, contributions summed; {where})")
            elif kind == "blank":
                continue
            else:
                out.append(f"{self.file}: {rows} skipped: {kind}{col}{seen} ({where})")
        return out

    # -- header ----------------------------------------------------------------------------
    def _header(self, text: io.TextIOWrapper) -> tuple[list[str], str, int]:
        src = self.source
        id_column = self.mapping.organisation.id.column
        for number in range(1, src.skip_lines + 1):
            if text.readline() == "":
                raise BadInputError(f"the file ends at line {number}, inside the {src.skip_lines} line(s) "
                                    "that [source] skip_lines skips before the header", file=self.file,
                                    line=number, field=id_column)
        header_no = src.skip_lines + 1
        line = text.readline()
        if line == "":
            raise BadInputError(f"the file is empty: expected a header row naming the mapped columns "
                                f"(at least '{id_column}')", file=self.file, line=header_no, field=id_column)
        if not line.strip():
            raise BadInputError(f"line {header_no} is blank where the header row should be (set [source] "
                                "skip_lines to skip lines before the header)", file=self.file, line=header_no,
                                field=id_column)
        specs = self.mapping.column_specs()
        wanted = [s.column for s in specs if s.column]
        delim = src.delimiter or _sniff(line, src.quote, wanted)
        try:
            header = [c.strip() for c in next(csv.reader([line], delimiter=delim, quotechar=src.quote,
                                                        strict=True))]
        except csv.Error as exc:
            raise BadInputError(f"malformed header row ({exc}); check the quotes", file=self.file,
                                line=header_no) from exc
        for spec in specs:
            if spec.column in header:
                if header.count(spec.column) > 1:
                    raise BadInputError(f"column '{spec.column}' ({spec.key} in {self.mapping.file}) appears "
                                        f"{header.count(spec.column)} times in the header", file=self.file,
                                        line=header_no, field=spec.column)
                continue
            shown = ", ".join(repr(c) for c in header[:20]) + (", ..." if len(header) > 20 else "")
            message = (f"column '{spec.column}' (mapped by {spec.key} in {self.mapping.file}) is not in the "
                       f"header; read with delimiter {_show(delim)} the header has {len(header)} column"
                       f"{'s' if len(header) != 1 else ''}: {shown}")
            other = _sniff(line, src.quote, wanted)
            if other != delim and all(w in [c.strip() for c in next(csv.reader([line], delimiter=other))]
                                      for w in wanted):
                message += (f". The file looks {_show(other)}-separated: set [source] delimiter = "
                            f"{other!r} (or leave it out to detect it)")
            elif len(header) == 1:
                message += ". Only one column: is the delimiter right?"
            else:
                close = difflib.get_close_matches(spec.column, header, n=1)
                if close:
                    message += f". Did you mean '{close[0]}'?"
            raise BadInputError(message, file=self.file, line=header_no, field=spec.column)
        return header, delim, header_no

    # -- errors while reading --------------------------------------------------------------
    def _csv_error(self, exc: csv.Error, start: int, end: int, header: list[str], delim: str) -> BadInputError:
        src = self.source
        text = _read_lines(self.path, src.encoding, start, max(end, start))
        _, line_off, field_no = _tokenise(text, delim, src.quote)
        if line_off is None:
            return BadInputError(f"malformed CSV ({exc}); check the quotes and the delimiter", file=self.file,
                                 line=max(end, start), field=None)
        field = header[field_no] if field_no is not None and field_no < len(header) else None
        return BadInputError(f"broken quoting: the quoted field that starts here is not closed properly "
                             f"({exc}); a quote inside a quoted field must be doubled (\"\")",
                             file=self.file, line=start + line_off, field=field)

    def _decode_error(self, header: list[str] | None, delim: str | None) -> BadInputError:
        line, before, bad = _locate_decode_error(self.path, self.source.encoding)
        field = None
        header_no = self.source.skip_lines + 1
        if header is None and line > header_no:  # the bad byte came in the first chunk read: get the header
            with contextlib.ExitStack() as stack:
                text = stack.enter_context(io.TextIOWrapper(_open_binary(self.path, stack),
                                                            encoding=self.source.encoding, errors="replace",
                                                            newline=""))
                lines = [text.readline() for _ in range(header_no)]
            wanted = [s.column for s in self.mapping.column_specs() if s.column]
            delim = self.source.delimiter or _sniff(lines[-1], self.source.quote, wanted)
            header = [c.strip() for c in next(csv.reader([lines[-1]], delimiter=delim,
                                                         quotechar=self.source.quote))]
        if header and delim and line > header_no:
            index, _, _ = _tokenise(before, delim, self.source.quote)
            field = header[index] if index < len(header) else None
        encoding = "UTF-8" if self.source.encoding == "utf-8-sig" else self.source.encoding
        return BadInputError(f"not {encoding} text: bytes {bad.hex(' ')} cannot be decoded; save the file as "
                             "UTF-8 or declare its encoding in [source] encoding (e.g. \"cp1252\")",
                             file=self.file, line=line, field=field)

    # -- rows ------------------------------------------------------------------------------
    def _specs(self, entity: EntitySpec | None, header: list[str],
               extra: dict[str, FieldSpec] | None = None) -> list[tuple[str, int, Any, str, frozenset[str]]]:
        """(attribute, column index, converter, column, null values) for column-fed fields."""
        out = []
        fields = dict(entity.fields) if entity else {}
        if extra:
            fields.update(extra)
        for attr, spec in fields.items():
            if spec.column is None:
                continue
            conv = _converter(spec.kind, self.mapping, entity)
            nulls = self.source.null_values if spec.kind in (TEXT, COUNTRY, LIST) else \
                self.source.null_values | TYPED_NULLS
            out.append((attr, header.index(spec.column), conv, spec.column, nulls))
        return out

    def read(self) -> ImportBatch:
        with contextlib.ExitStack() as stack:
            text = _open_text(self.path, self.source.encoding, stack)
            header: list[str] | None = None
            delim: str | None = None
            try:
                header, delim, header_no = self._header(text)
                return self._rows(text, header, delim, header_no)
            except UnicodeDecodeError:
                raise self._decode_error(header, delim) from None
            except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
                raise BadInputError(f"cannot read the compressed file ({exc or 'truncated'}); is the "
                                    "download complete?", file=self.file) from None

    def _rows(self, text: io.TextIOWrapper, header: list[str], delim: str, header_no: int) -> ImportBatch:
        mapping, src = self.mapping, self.source
        org_spec, proj_spec = mapping.organisation, mapping.project
        ncols = len(header)
        text_nulls = src.null_values
        skip_bad = src.on_bad_row == "skip"
        file = self.file

        # organisations
        oi = header.index(org_spec.id.column)
        o_pre, _, o_post = (org_spec.id_template or "{value}").partition("{value}")
        o_tpl = org_spec.id_template is not None
        id_fields = {f"identifier:{k}": v for k, v in org_spec.identifiers.items()}
        o_specs = self._specs(org_spec, header, id_fields)
        o_name = header.index(org_spec.fields["name"].column) \
            if "name" in org_spec.fields and org_spec.fields["name"].column else -1
        helix = org_spec.helix
        hi = header.index(helix.column) if helix is not None and helix.column else -1
        h_cache: dict[str, tuple[str, list[Evidence]]] = {}
        o_cols = sorted({i for _, i, _, _, _ in o_specs} | ({hi} if hi >= 0 else set()))
        o_key = itemgetter(*o_cols) if o_cols else (lambda row: None)
        orgs: dict[str, list[Any]] = {}  # id -> [key cells, values, helix raw values, other names, line]

        # projects and participations
        pi = header.index(proj_spec.id.column) if proj_spec else -1
        p_pre, _, p_post = ((proj_spec.id_template if proj_spec else None) or "{value}").partition("{value}")
        p_tpl = bool(proj_spec and proj_spec.id_template)
        p_specs = self._specs(proj_spec, header) if proj_spec else []
        p_cols = sorted({i for _, i, _, _, _ in p_specs})
        p_key = itemgetter(*p_cols) if p_cols else (lambda row: None)
        projects: dict[str, list[Any]] = {}  # id -> [key cells, values, line]
        parts: dict[tuple[str, str], list[Any]] = {}  # (project, organisation) -> [role, contribution, line]
        role_spec = mapping.participation.get("role")
        ri = header.index(role_spec.column) if role_spec and role_spec.column else -1
        amount_spec = mapping.participation.get("ec_contribution")
        ci = header.index(amount_spec.column) if amount_spec and amount_spec.column else -1
        amount_nulls = text_nulls | TYPED_NULLS
        decimal = src.decimal
        plain_floats = decimal != ","  # float() reads the cell as it is: 1234.5
        role_const = role_spec.value if role_spec and role_spec.value is not None else None
        amount_const = amount_spec.value if amount_spec and amount_spec.value is not None else None

        def values(specs: list[tuple[str, int, Any, str, frozenset[str]]], row: list[str]) -> dict[str, Any]:
            out = {}
            for attr, idx, conv, column, nulls in specs:
                cell = row[idx].strip()
                if cell in nulls:
                    continue
                if conv is None:
                    out[attr] = cell
                else:
                    try:
                        out[attr] = conv(cell)
                    except ValueError as exc:
                        raise _RowError(str(exc), column, "bad value") from None
            return out

        def helix_of(raw: str, line: int) -> tuple[str, list[Evidence]]:
            cell = raw.strip()
            if cell in text_nulls:
                return "empty", []
            if helix.codes == "cordis":
                evidence = evidence_from_activity_type(cell, source=src.name, field=helix.column)
            else:
                found = helix.values.get(cell.upper())
                evidence = [Evidence(source=src.name, field=helix.column, value=cell, helix=found,
                                     confidence=helix.confidence)] if found else []
            if evidence:
                return "ok", evidence
            if helix.unknown == "error":
                known = "HES, REC, PRC, PUB, OTH" if helix.codes == "cordis" else ", ".join(helix.values)
                raise BadInputError(f"unknown value {cell!r} in the helix column (known: {known}); map it in "
                                    f"[organisation.helix] values or set unknown = \"warn\" or \"skip\" in "
                                    f"{mapping.file}", file=file, line=line, field=helix.column)
            return "unknown", []

        n = 0
        end = 0  # reader.line_num after the previous record
        offset = header_no
        reader = csv.reader(text, delimiter=delim, quotechar=src.quote, strict=True)
        progress = self.progress
        try:
            for row in reader:
                start = end + 1
                end = reader.line_num
                n += 1
                if progress is not None and not n % PROGRESS_EVERY:
                    progress(n)
                try:
                    if len(row) != ncols:
                        if not any(c.strip() for c in row):
                            self._count("blank", None, start + offset)
                            continue
                        raise _RowError(f"the row has {len(row)} fields, the header has {ncols} (a stray "
                                        "delimiter or an unquoted delimiter inside a value?)", None,
                                        "wrong number of fields")
                    oid = row[oi].strip()
                    if oid in text_nulls:
                        if not any(c.strip() for c in row):
                            self._count("blank", None, start + offset)
                            continue
                        raise _RowError(f"no organisation id in column '{org_spec.id.column}' "
                                        f"({mapping.file}: organisation.id)", org_spec.id.column,
                                        "no organisation id")
                    if o_tpl:
                        oid = o_pre + oid + o_post
                    # helix: once per distinct raw value
                    status = ""  # "ok", "unknown" or "empty" when a helix column is mapped
                    if hi >= 0:
                        raw_type = row[hi]
                        cached = h_cache.get(raw_type)
                        if cached is None:
                            cached = h_cache[raw_type] = helix_of(raw_type, start + offset)
                        status = cached[0]
                        if status == "unknown" and helix.unknown == "skip":
                            self._count("skipped-helix", helix.column, start + offset, raw_type.strip())
                            continue
                    # organisation: converted in full when new or when its cells differ from the first row's
                    key = o_key(row)
                    org = orgs.get(oid)
                    org_values = None
                    if org is None or key != org[0]:
                        org_values = values(o_specs, row)
                    # project and participation
                    if pi >= 0:
                        pid = row[pi].strip()
                        if pid in text_nulls:
                            raise _RowError(f"no project id in column '{proj_spec.id.column}' "
                                            f"({mapping.file}: project.id)", proj_spec.id.column,
                                            "no project id")
                        if p_tpl:
                            pid = p_pre + pid + p_post
                        pkey = p_key(row)
                        proj = projects.get(pid)
                        proj_values = None
                        if proj is None or pkey != proj[0]:
                            proj_values = values(p_specs, row)
                        role = role_const
                        if ri >= 0:
                            role = row[ri].strip()
                            if role in text_nulls:
                                role = None
                        amount = amount_const
                        if ci >= 0:
                            cell = row[ci].strip()
                            if cell in amount_nulls:
                                amount = None
                            else:
                                try:
                                    amount = float(cell) if plain_floats else None  # the common case, inline
                                    if amount is None or amount - amount != 0.0 or "_" in cell:  # inf, nan
                                        amount = parse_number(cell, decimal)
                                except ValueError:
                                    try:
                                        amount = parse_number(cell, decimal)
                                    except ValueError as exc:
                                        raise _RowError(str(exc), amount_spec.column, "bad value") from None
                except _RowError as exc:
                    if not skip_bad:
                        raise BadInputError(exc.message, file=file, line=start + offset, field=exc.field) from None
                    self._count(exc.kind, exc.field, start + offset)
                    continue

                # the row is good: commit it
                line = start + offset
                if status == "unknown":
                    self._count("unknown-helix", helix.column, line, row[hi].strip())
                elif status == "empty":
                    self._count("empty-helix", helix.column, line)
                if org is None:
                    orgs[oid] = [key, org_values, {row[hi]} if status == "ok" else set(), None, line]
                elif org_values is not None:
                    known = org[1]
                    for attr, value in org_values.items():
                        if attr not in known:
                            known[attr] = value
                    if status == "ok":
                        org[2].add(row[hi])
                    if o_name >= 0:
                        name = org_values.get("name")
                        if name and name != known.get("name"):
                            if org[3] is None:
                                org[3] = {}
                            org[3][name] = None
                if pi < 0:
                    continue
                if proj is None:
                    projects[pid] = [pkey, proj_values, line]
                elif proj_values is not None:
                    known = proj[1]
                    for attr, value in proj_values.items():
                        if attr not in known:
                            known[attr] = value
                        elif attr in ("topics", "topic_titles"):
                            known[attr] = tuple(dict.fromkeys((*known[attr], *value)))
                pair = (pid, oid)
                part = parts.get(pair)
                if part is None:
                    parts[pair] = [role, amount, line]
                else:
                    self._count("duplicate", None, line)
                    part[0] = stronger_role(part[0], role)
                    if amount is not None:
                        part[1] = amount if part[1] is None else part[1] + amount
        except csv.Error as exc:
            raise self._csv_error(exc, end + 1 + offset, reader.line_num + offset, header, delim) from None
        if progress is not None:
            progress(n)
        if not orgs and all(kind == "blank" for kind, _ in self.warn):
            raise BadInputError("no data rows after the header", file=file, line=header_no + 1)
        return self._batch(orgs, projects, parts, h_cache)

    # -- records ---------------------------------------------------------------------------
    def _batch(self, orgs: dict[str, list[Any]], projects: dict[str, list[Any]],
               parts: dict[tuple[str, str], list[Any]], h_cache: dict[str, tuple[str, list[Evidence]]]) -> ImportBatch:
        """Pydantic records, once per distinct organisation, project and pair.

        Built through each model's validator from plain dicts (what `Model(**fields)` does, without its
        Python frame): the values were converted and checked row by row, the models check them again.
        """
        mapping, src = self.mapping, self.source
        org_spec, proj_spec = mapping.organisation, mapping.project
        name, licence, file = src.name, src.licence, self.file
        batch = ImportBatch(label=f"table:{name}")
        make_org, make_location, make_helix, make_evidence, make_prov, make_project, make_part = (
            m.__pydantic_validator__.validate_python
            for m in (Organisation, Location, HelixAssignment, Evidence, Provenance, Project, Participation))

        o_consts = {a: s.value for a, s in org_spec.fields.items() if s.column is None}
        o_consts.update({f"identifier:{k}": s.value for k, s in org_spec.identifiers.items() if s.column is None})
        fixed = org_spec.helix.fixed if org_spec.helix is not None else None
        fixed_evidence = [Evidence(source=name, field="helix", value=fixed.value, helix=fixed,
                                   confidence=org_spec.helix.confidence)] if fixed is not None else None
        # one helix decision per distinct set of raw type values: (helix, confidence, evidence as dicts)
        helices: dict[frozenset[str], tuple[Helix, float, list[dict[str, Any]]]] = {}
        organisations = batch.organisations
        for oid, (_, vals, types, names, line) in orgs.items():
            for attr, value in o_consts.items():
                vals.setdefault(attr, value)
            if "coordinates" in vals:
                vals["lat"], vals["lon"] = vals.pop("coordinates")
            key = frozenset(types)
            decided = helices.get(key)
            if decided is None:
                evidence = fixed_evidence or merge_evidence([], [e for t in key for e in h_cache[t][1]])
                assignment = decide_helix(evidence)
                decided = helices[key] = (assignment.value, assignment.confidence,
                                          [e.model_dump() for e in evidence])
            record: dict[str, Any] = {
                "id": oid, "name": vals.get("name", ""),
                "helix": make_helix({"value": decided[0], "confidence": decided[1],
                                     "evidence": [make_evidence(e) for e in decided[2]]}),
                "location": make_location({k: vals[k] for k in LOCATION_FIELDS if k in vals}),
                "sources": [make_prov({"source": name, "file": file, "record": oid, "licence": licence})],
            }
            for attr in ("short_name", "country", "sme", "url"):
                if attr in vals:
                    record[attr] = vals[attr]
            if vals.get("category"):
                record["tags"] = [vals["category"]]
            if names:
                record["names"] = list(names)
            identifiers = {k[11:]: v for k, v in vals.items() if k.startswith("identifier:")}
            if identifiers:
                record["identifiers"] = identifiers
            try:
                organisations.append(make_org(record))
            except ValueError as exc:  # pydantic's ValidationError is a ValueError
                raise BadInputError(f"organisation {oid!r} is not valid: {exc}", file=file, line=line) from None

        if proj_spec is not None:
            p_consts = {a: s.value for a, s in proj_spec.fields.items() if s.column is None}
            for pid, (_, vals, line) in projects.items():
                for attr, value in p_consts.items():
                    vals.setdefault(attr, value)
                start, end = vals.get("start_date"), vals.get("end_date")
                if start is not None and "start_year" not in vals:
                    vals["start_year"] = start.year
                if end is not None and "end_year" not in vals:
                    vals["end_year"] = end.year
                for key in ("topics", "topic_titles"):
                    if key in vals:
                        vals[key] = list(vals[key])
                vals["id"] = pid
                vals["sources"] = [make_prov({"source": name, "file": file, "record": pid, "licence": licence})]
                try:
                    batch.projects.append(make_project(vals))
                except ValueError as exc:
                    raise BadInputError(f"project {pid!r} is not valid: {exc}", file=file, line=line) from None
            # the hot spot of big tables: one participation and one provenance per distinct pair
            batch.participations = [
                make_part({"project_id": pid, "organisation_id": oid, "role": role, "ec_contribution": amount,
                           "source": make_prov({"source": name, "file": file, "record": f"{pid}/{oid}",
                                                "licence": licence})})
                for (pid, oid), (role, amount, _line) in parts.items()]
        batch.warnings.extend(self._warnings())
        return batch


def read_table(path: Path, mapping_path: Path, *, progress: Callable[[int], None] | None = None) -> ImportBatch:
    """Parse a CSV/TSV table (optionally gzipped) through a TOML column mapping into one ImportBatch.

    Everything is checked before the batch is returned: a bad cell raises BadInputError naming the file,
    line and field (or becomes a counted warning when the mapping says `on_bad_row = "skip"`).
    `progress`, when given, is called with the number of data rows read so far, every few thousand rows
    and once at the end.
    """
    mapping = load_mapping(Path(mapping_path))
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm") or (path.is_file() and _is_xlsx(path)):
        import dataclasses
        import tempfile

        with tempfile.TemporaryDirectory(prefix="helixmap-xlsx-") as tmp:
            converted = Path(tmp) / (path.stem + ".csv")
            _xlsx_to_csv(path, mapping.source.sheet, converted)
            sheet_mapping = dataclasses.replace(mapping, source=dataclasses.replace(
                mapping.source, delimiter=",", encoding="utf-8-sig", quote='"'))
            reader = _TableReader(converted, sheet_mapping, progress)
            reader.file = path.name
            return reader.read()
    # Hundreds of thousands of new objects that all stay alive: the cyclic garbage collector would
    # rescan them again and again (it triples the time on the full H2020 table) and can free nothing.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _TableReader(Path(path), mapping, progress).read()
    finally:
        if was_enabled:
            gc.enable()

