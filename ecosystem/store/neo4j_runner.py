"""The one way Cypher reaches Neo4j: a small `QueryRunner` (read, write, batched write, streamed read).

`BoltRunner` sends queries through the official driver, in managed transactions (retried by the driver on
transient errors), naming the database and routing reads as reads; it translates the driver's exceptions into
`ecosystem.domain.errors` in one place (`translated`). `CollectingRunner` sends nothing: it records every
(cypher, parameters) pair, so unit tests check what the store would send, without a server (as
graph-data-science-client's `CollectingQueryRunner` does). Values always travel as parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ecosystem.domain.errors import QueryRejectedError, StoreUnavailableError

if TYPE_CHECKING:
    from neo4j import Driver

Row = dict[str, Any]
Parameters = Mapping[str, Any]
Statement = tuple[str, Parameters]


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Consecutive slices of at most `size` items."""
    for i in range(0, len(items), size):
        yield items[i:i + size]


class QueryRunner(Protocol):
    """What the Neo4j store needs from a connection: every query it sends goes through one of these."""

    def read(self, cypher: str, parameters: Parameters | None = None) -> list[Row]:
        """Run a read query; every row as a dict."""

    def write(self, cypher: str, parameters: Parameters | None = None) -> list[Row]:
        """Run a write query in one transaction; every row as a dict."""

    def write_batches(self, cypher: str, rows: Sequence[Any], size: int, parameters: Parameters | None = None) -> None:
        """Run a write query once per slice of `rows` (as `$rows`), one transaction per slice."""

    def write_together(self, statements: Sequence[Statement]) -> None:
        """Run several write queries in one transaction: all of them happen, or none."""

    def write_auto_commit(self, cypher: str, parameters: Parameters | None = None) -> None:
        """Run a query outside a managed transaction (`CALL { ... } IN TRANSACTIONS` refuses to run inside one)."""

    def stream(self, cypher: str, parameters: Parameters | None = None) -> Iterator[Row]:
        """Run a read query, yielding rows as they arrive (large results)."""

    def read_limited(self, cypher: str, parameters: Parameters | None, *, timeout_s: float, max_rows: int,
                     convert: Callable[[Any], Any]) -> dict[str, Any]:
        """Run a researcher's query read-only, with a time limit and a row cap: {"columns", "rows", "truncated"}."""

    def close(self) -> None:
        """Release the connection."""


@contextmanager
def translated(uri: str, *, rejected: bool = False) -> Iterator[None]:
    """Translate the driver's errors: a lost or refused connection is `StoreUnavailableError`; with `rejected`, an
    error the server reports for the query itself (syntax, a write in a read transaction, a timeout) is
    `QueryRejectedError`."""
    from neo4j.exceptions import Neo4jError, ServiceUnavailable, SessionExpired

    try:
        yield
    except (ServiceUnavailable, SessionExpired) as exc:
        raise StoreUnavailableError(f"lost the connection to Neo4j at {uri}: {exc}") from exc
    except Neo4jError as exc:
        if not rejected:
            raise
        raise QueryRejectedError(f"{exc.code}: {exc.message}") from exc


class BoltRunner:
    """`QueryRunner` over the official driver."""

    def __init__(self, driver: Driver, uri: str, database: str) -> None:
        self._driver = driver
        self.uri = uri
        self.database = database

    def _execute(self, cypher: str, parameters: Parameters | None, *, read: bool) -> list[Row]:
        from neo4j import RoutingControl

        with translated(self.uri):
            records, _, _ = self._driver.execute_query(
                cypher, dict(parameters or {}), database_=self.database,
                routing_=RoutingControl.READ if read else RoutingControl.WRITE)
        return [dict(r) for r in records]

    def read(self, cypher: str, parameters: Parameters | None = None) -> list[Row]:
        return self._execute(cypher, parameters, read=True)

    def write(self, cypher: str, parameters: Parameters | None = None) -> list[Row]:
        return self._execute(cypher, parameters, read=False)

    def write_batches(self, cypher: str, rows: Sequence[Any], size: int, parameters: Parameters | None = None) -> None:
        for chunk in chunks(rows, size):
            self.write_together([(cypher, {**(parameters or {}), "rows": list(chunk)})])

    def write_together(self, statements: Sequence[Statement]) -> None:
        def work(tx: Any) -> None:
            for cypher, parameters in statements:
                tx.run(cypher, dict(parameters)).consume()

        with translated(self.uri), self._driver.session(database=self.database) as session:
            session.execute_write(work)

    def write_auto_commit(self, cypher: str, parameters: Parameters | None = None) -> None:
        with translated(self.uri), self._driver.session(database=self.database) as session:
            session.run(cypher, dict(parameters or {})).consume()

    def stream(self, cypher: str, parameters: Parameters | None = None) -> Iterator[Row]:
        with translated(self.uri), self._driver.session(database=self.database,
                                                        default_access_mode="READ") as session:
            for record in session.run(cypher, dict(parameters or {})):
                yield dict(record)

    def read_limited(self, cypher: str, parameters: Parameters | None, *, timeout_s: float, max_rows: int,
                     convert: Callable[[Any], Any]) -> dict[str, Any]:
        from neo4j import unit_of_work

        @unit_of_work(timeout=timeout_s)
        def work(tx: Any) -> dict[str, Any]:
            result = tx.run(cypher, dict(parameters or {}))
            rows: list[list[Any]] = []
            truncated = False
            for record in result:
                if len(rows) >= max_rows:
                    truncated = True
                    break
                rows.append([convert(v) for v in record.values()])
            return {"columns": list(result.keys()), "rows": rows, "truncated": truncated}

        with translated(self.uri, rejected=True), self._driver.session(database=self.database,
                                                                       default_access_mode="READ") as session:
            answer: dict[str, Any] = session.execute_read(work)
        return answer

    def close(self) -> None:
        self._driver.close()


@dataclass
class Sent:
    """One query a `CollectingRunner` was given: its text, parameters and how it was to run."""

    cypher: str
    parameters: dict[str, Any]
    mode: str  # "read", "write", "batch", "together", "auto_commit", "stream", "limited"


@dataclass
class CollectingRunner:
    """`QueryRunner` that sends nothing and records every query, for unit tests of what a store sends.

    `answer(cypher, parameters)` gives the rows a query returns (none when it gives None)."""

    answer: Callable[[str, Parameters], list[Row] | None] | None = None
    sent: list[Sent] = field(default_factory=list)
    closed: bool = False

    def _record(self, cypher: str, parameters: Parameters | None, mode: str) -> list[Row]:
        params = dict(parameters or {})
        self.sent.append(Sent(cypher, params, mode))
        rows = self.answer(cypher, params) if self.answer is not None else None
        return rows if rows is not None else []

    def read(self, cypher: str, parameters: Parameters | None = None) -> list[Row]:
        return self._record(cypher, parameters, "read")

    def write(self, cypher: str, parameters: Parameters | None = None) -> list[Row]:
        return self._record(cypher, parameters, "write")

    def write_batches(self, cypher: str, rows: Sequence[Any], size: int, parameters: Parameters | None = None) -> None:
        for chunk in chunks(rows, size):
            self._record(cypher, {**(parameters or {}), "rows": list(chunk)}, "batch")

    def write_together(self, statements: Sequence[Statement]) -> None:
        for cypher, parameters in statements:
            self._record(cypher, parameters, "together")

    def write_auto_commit(self, cypher: str, parameters: Parameters | None = None) -> None:
        self._record(cypher, parameters, "auto_commit")

    def stream(self, cypher: str, parameters: Parameters | None = None) -> Iterator[Row]:
        yield from self._record(cypher, parameters, "stream")

    def read_limited(self, cypher: str, parameters: Parameters | None, *, timeout_s: float, max_rows: int,
                     convert: Callable[[Any], Any]) -> dict[str, Any]:
        rows = self._record(cypher, {**(parameters or {})}, "limited")
        return {"columns": list(rows[0]) if rows else [], "rows": [[convert(v) for v in r.values()] for r in rows],
                "truncated": False}

    def close(self) -> None:
        self.closed = True

    def queries(self, mode: str | None = None) -> list[str]:
        """The Cypher texts sent (of one mode), in order."""
        return [s.cypher for s in self.sent if mode is None or s.mode == mode]

