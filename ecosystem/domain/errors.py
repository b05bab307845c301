"""The helixmap error tree: one root, a few meaningful kinds.

The command line maps these to exit codes and one clear line; the API maps them to HTTP status codes
in one handler. Lower-level errors (csv, json, sqlite3, neo4j, httpx) are translated at the boundary.
"""

from __future__ import annotations


class HelixmapError(Exception):
    """Root of every error helixmap raises on purpose."""


class BadInputError(HelixmapError):
    """Input that cannot be imported: names the file, line and field where known."""

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class DownloadError(HelixmapError):
    """A source could not be downloaded (no network, HTTP error, timeout)."""


class StoreUnavailableError(HelixmapError):
    """The graph store cannot be reached or opened (wrong URI, refused connection, bad credentials)."""


class NotFoundError(HelixmapError):
    """An organisation, project or region id that the store does not hold."""


class QueryRejectedError(HelixmapError):
    """A read-only query that the store refused (a write, over a limit, a syntax error)."""


class NotSupportedError(HelixmapError):
    """The chosen store does not offer this (e.g. Cypher on the embedded SQLite store)."""
