"""`helixmap import table`: any CSV/TSV register or participation table, read through a TOML column mapping.

`read_table(path, mapping_path)` parses the whole table and returns one `ImportBatch`; nothing is written
here, so a bad row anywhere stops the import before the store is touched. The mapping format is in
`importers.mapping` and documented in `docs/mapping.md`.

One row is one organisation record, plus one participation of it in one project when `[project]` is
mapped. The pieces: `table_files` opens the file (and explains a broken one), `table_plan` compiles the
mapping against the header, `table_rows` aggregates the rows, `table_records` builds the records.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import gc
import gzip
import io
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ecosystem.domain.batch import ImportBatch
from ecosystem.domain.errors import BadInputError
from importers.cells import convert, parse_number
from importers.mapping import FieldSpec, TableMapping, load_mapping
from importers.table_files import (
    is_xlsx,
    locate_decode_error,
    open_binary,
    open_text,
    read_lines,
    show_delimiter,
    sniff_delimiter,
    tokenise,
    xlsx_to_csv,
)
from importers.table_plan import RowError, compile_plan
from importers.table_records import build_batch
from importers.table_rows import Aggregate, Context, row_taker

__all__ = ["read_table", "load_mapping", "parse_number", "convert"]

csv.field_size_limit(1 << 26)

PROGRESS_EVERY = 8192


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
        """The header row (after [source] skip_lines), its delimiter and its line number."""
        line, header_no = self._header_line(text)
        specs = self._column_specs()
        wanted = [column for column, _ in specs]
        delim = self.source.delimiter or sniff_delimiter(line, self.source.quote, wanted)
        try:
            header = [c.strip() for c in next(csv.reader([line], delimiter=delim, quotechar=self.source.quote,
                                                        strict=True))]
        except csv.Error as exc:
            raise BadInputError(f"malformed header row ({exc}); check the quotes", file=self.file,
                                line=header_no) from exc
        for column, key in specs:
            found = header.count(column)
            if found > 1:
                raise BadInputError(f"column '{column}' ({key} in {self.mapping.file}) appears {found} times in "
                                    "the header", file=self.file, line=header_no, field=column)
            if not found:
                raise self._missing_column(column, key, line, header, delim, wanted, header_no)
        return header, delim, header_no

    def _column_specs(self) -> list[tuple[str, str]]:
        """(column, mapping key) of every field fed by a column, in mapping order."""
        specs: list[FieldSpec] = self.mapping.column_specs()
        return [(s.column, s.key) for s in specs if s.column]

    def _header_line(self, text: io.TextIOWrapper) -> tuple[str, int]:
        src = self.source
        id_column = self.mapping.id_column
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
        return line, header_no

    def _missing_column(self, column: str, key: str, line: str, header: list[str], delim: str,
                        wanted: list[str], header_no: int) -> BadInputError:
        """A mapped column the header lacks, with the likeliest reason: another delimiter, or a typo."""
        shown = ", ".join(repr(c) for c in header[:20]) + (", ..." if len(header) > 20 else "")
        message = (f"column '{column}' (mapped by {key} in {self.mapping.file}) is not in the "
                   f"header; read with delimiter {show_delimiter(delim)} the header has {len(header)} column"
                   f"{'s' if len(header) != 1 else ''}: {shown}")
        other = sniff_delimiter(line, self.source.quote, wanted)
        if other != delim and all(w in [c.strip() for c in next(csv.reader([line], delimiter=other))]
                                  for w in wanted):
            message += (f". The file looks {show_delimiter(other)}-separated: set [source] delimiter = "
                        f"{other!r} (or leave it out to detect it)")
        elif len(header) == 1:
            message += ". Only one column: is the delimiter right?"
        else:
            close = difflib.get_close_matches(column, header, n=1)
            if close:
                message += f". Did you mean '{close[0]}'?"
        return BadInputError(message, file=self.file, line=header_no, field=column)

    # -- errors while reading --------------------------------------------------------------
    def _csv_error(self, exc: csv.Error, start: int, end: int, header: list[str], delim: str) -> BadInputError:
        src = self.source
        text = read_lines(self.path, src.encoding, start, max(end, start))
        _, line_off, field_no = tokenise(text, delim, src.quote)
        if line_off is None:
            return BadInputError(f"malformed CSV ({exc}); check the quotes and the delimiter", file=self.file,
                                 line=max(end, start), field=None)
        field = header[field_no] if field_no is not None and field_no < len(header) else None
        return BadInputError(f"broken quoting: the quoted field that starts here is not closed properly "
                             f"({exc}); a quote inside a quoted field must be doubled (\"\")",
                             file=self.file, line=start + line_off, field=field)

    def _decode_error(self, header: list[str] | None, delim: str | None) -> BadInputError:
        line, before, bad = locate_decode_error(self.path, self.source.encoding)
        field = None
        header_no = self.source.skip_lines + 1
        if header is None and line > header_no:  # the bad byte came in the first chunk read: get the header
            with contextlib.ExitStack() as stack:
                text = stack.enter_context(io.TextIOWrapper(open_binary(self.path, stack),
                                                            encoding=self.source.encoding, errors="replace",
                                                            newline=""))
                lines = [text.readline() for _ in range(header_no)]
            wanted = [s.column for s in self.mapping.column_specs() if s.column]
            delim = self.source.delimiter or sniff_delimiter(lines[-1], self.source.quote, wanted)
            header = [c.strip() for c in next(csv.reader([lines[-1]], delimiter=delim,
                                                         quotechar=self.source.quote))]
        if header and delim and line > header_no:
            index, _, _ = tokenise(before, delim, self.source.quote)
            field = header[index] if index < len(header) else None
        encoding = "UTF-8" if self.source.encoding == "utf-8-sig" else self.source.encoding
        return BadInputError(f"not {encoding} text: bytes {bad.hex(' ')} cannot be decoded; save the file as "
                             "UTF-8 or declare its encoding in [source] encoding (e.g. \"cp1252\")",
                             file=self.file, line=line, field=field)

    # -- rows ------------------------------------------------------------------------------
    def read(self) -> ImportBatch:
        with contextlib.ExitStack() as stack:
            text = open_text(self.path, self.source.encoding, stack)
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
        plan = compile_plan(self.mapping, header)
        agg = Aggregate()
        take = row_taker(plan, agg, Context(self.file, self.mapping.file, self._count))
        skip_bad, file, progress = plan.skip_bad_rows, self.file, self.progress
        n = end = 0  # rows read; reader.line_num after the previous record
        reader = csv.reader(text, delimiter=delim, quotechar=self.source.quote, strict=True)
        try:
            for row in reader:
                line = end + 1 + header_no  # the record's first line in the file
                end = reader.line_num
                n += 1
                if progress is not None and not n % PROGRESS_EVERY:
                    progress(n)
                try:
                    take(row, line)
                except RowError as exc:
                    if not skip_bad:
                        raise BadInputError(exc.message, file=file, line=line, field=exc.field) from None
                    self._count(exc.kind, exc.field, line)
        except csv.Error as exc:
            raise self._csv_error(exc, end + 1 + header_no, reader.line_num + header_no, header, delim) from None
        if progress is not None:
            progress(n)
        if not agg.orgs and not agg.projects and all(kind == "blank" for kind, _ in self.warn):
            raise BadInputError("no data rows after the header", file=file, line=header_no + 1)
        return build_batch(plan, agg, file, self._warnings())


def read_table(path: Path, mapping_path: Path, *, progress: Callable[[int], None] | None = None) -> ImportBatch:
    """Parse a CSV/TSV table (optionally gzipped) through a TOML column mapping into one ImportBatch.

    Everything is checked before the batch is returned: a bad cell raises BadInputError naming the file,
    line and field (or becomes a counted warning when the mapping says `on_bad_row = "skip"`).
    `progress`, when given, is called with the number of data rows read so far, every few thousand rows
    and once at the end.
    """
    mapping = load_mapping(Path(mapping_path))
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm") or (path.is_file() and is_xlsx(path)):
        import dataclasses
        import tempfile

        with tempfile.TemporaryDirectory(prefix="helixmap-xlsx-") as tmp:
            converted = Path(tmp) / (path.stem + ".csv")
            xlsx_to_csv(path, mapping.source.sheet, converted)
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

