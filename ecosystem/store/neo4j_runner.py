"""The one way Cypher reaches Neo4j: a small `QueryRunner` (read, write, batched write, streamed read).

`BoltRunner` sends queries through the official driver, in managed transactions (retried by the driver on
transient errors), naming the database and routing reads as reads; it translates the driver's exceptions into
`ecosystem.domain.errors` in one place (`translated`). `CollectingRunner` sends nothing: it records every
(cypher, parameters) pair, so unit tests check what the store would send, without a server (as
graph-data-science-client's `CollectingQueryRunner` does). Values always travel as parameters.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ecosystem.domain.errors import QueryRejectedError, StoreUnavailableError

if TYPE_CHECKING:
    from neo4j import Driver

Row = dict[str, Any]
Parameters = Mapping[str, Any]
Statement = tuple[str, Parameters]
PlanCheck = Callable[[Mapping[str, Any] | None, str | None], None]


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
                     convert: Callable[[Any], Any], check_plan: PlanCheck | None = None,
                     max_bytes: int | None = None) -> dict[str, Any]:
        """Run a researcher's query read-only, with a time limit and a row cap: {"columns", "rows", "truncated"}.

        With `check_plan`, the query's `EXPLAIN` plan and query type go to it first (it raises to refuse); with
        `max_bytes`, rows stop once their JSON size would pass it."""

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


DEADLINE_GRACE_S = 1.5  # beyond the server's transaction timeout, before an HTTP request gets its answer
LIMITED_WORKERS = 4  # researcher queries read at once (a late one keeps its worker until its next row)
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _limited_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=LIMITED_WORKERS, thread_name_prefix="cypher")
        return _pool


def json_size(value: Any, budget: int) -> int:
    """The size of `value` as JSON, counted only up to a little past `budget` (a huge list stops early)."""
    if isinstance(value, dict):
        total = 2
        for k, v in value.items():
            total += len(str(k)) + 4 + json_size(v, budget - total)
            if total > budget:
                return total
        return total
    if isinstance(value, (list, tuple)):
        total = 2
        for v in value:
            total += 1 + json_size(v, budget - total)
            if total > budget:
                return total
        return total
    if isinstance(value, str):
        return len(value) + 2
    return len(str(value))


def collect_rows(result: Iterable[Any], *, max_rows: int, max_bytes: int | None, convert: Callable[[Any], Any],
                 stop: threading.Event | None = None) -> dict[str, Any]:
    """Rows of a result as lists of converted values, up to `max_rows` rows and `max_bytes` of JSON;
    `truncated` when more was there. Stops early (truncated) when `stop` is set."""
    rows: list[list[Any]] = []
    truncated = False
    used = 0
    for record in result:
        if len(rows) >= max_rows or (stop is not None and stop.is_set()):
            truncated = True
            break
        row = [convert(v) for v in record.values()]
        if max_bytes is not None:
            used += json_size(row, max_bytes - used)
            if used > max_bytes:
                truncated = True
                break
        rows.append(row)
    keys = getattr(result, "keys", None)
    return {"columns": list(keys()) if callable(keys) else [], "rows": rows, "truncated": truncated}


class BoltRunner:
    """`QueryRunner` over the official driver."""

    def __init__(self, driver: Driver, uri: str, database: str) -> None:
        self._driver = driver
        self.uri = uri
        self.database = database
        self._snapshot = threading.local()  # this thread's open read transaction, inside `snapshot()`

    def _execute(self, cypher: str, parameters: Parameters | None, *, read: bool) -> list[Row]:
        from neo4j import RoutingControl

        tx = getattr(self._snapshot, "tx", None)
        if tx is not None and read:
            with translated(self.uri):
                return [dict(r) for r in tx.run(cypher, dict(parameters or {}))]

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
                     convert: Callable[[Any], Any], check_plan: PlanCheck | None = None,
                     max_bytes: int | None = None) -> dict[str, Any]:
        """The server ends the transaction after `timeout_s`; this call returns by `timeout_s` + 1.5 s whatever
        the query (a huge single value can take longer to arrive than the server takes to send it): the reading
        goes on in a worker thread that stops at its next row and whose answer is dropped."""
        from concurrent.futures import TimeoutError as FutureTimeout

        from neo4j import unit_of_work

        stop = threading.Event()

        @unit_of_work(timeout=timeout_s)
        def work(tx: Any) -> dict[str, Any]:
            if check_plan is not None:
                summary = tx.run("EXPLAIN " + cypher, dict(parameters or {})).consume()
                check_plan(summary.plan, summary.query_type)
            result = tx.run(cypher, dict(parameters or {}))
            return collect_rows(result, max_rows=max_rows, max_bytes=max_bytes, convert=convert, stop=stop)

        def run() -> dict[str, Any]:
            with translated(self.uri, rejected=True), self._driver.session(database=self.database,
                                                                           default_access_mode="READ") as session:
                answer: dict[str, Any] = session.execute_read(work)
            return answer

        future = _limited_pool().submit(run)
        try:
            return future.result(timeout=timeout_s + DEADLINE_GRACE_S)
        except FutureTimeout:
            stop.set()
            future.cancel()
            raise QueryRejectedError(f"the query timed out: it ran longer than the limit of {timeout_s:g} s") from None

    def close(self) -> None:
        self._driver.close()

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """This thread's reads (`read`) inside run in one read transaction. Neo4j isolates transactions at
        read-committed level: the answer is read in one transaction, not from a frozen copy. Nests."""
        if getattr(self._snapshot, "tx", None) is not None:
            yield
            return
        with translated(self.uri), self._driver.session(database=self.database,
                                                        default_access_mode="READ") as session:
            tx = session.begin_transaction()
            self._snapshot.tx = tx
            try:
                yield
            finally:
                self._snapshot.tx = None
                tx.close()


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
    plan: Callable[[str], tuple[Mapping[str, Any] | None, str | None]] | None = None  # (plan, query type) of EXPLAIN
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
                     convert: Callable[[Any], Any], check_plan: PlanCheck | None = None,
                     max_bytes: int | None = None) -> dict[str, Any]:
        if check_plan is not None and self.plan is not None:
            check_plan(*self.plan(cypher))
        rows = self._record(cypher, {**(parameters or {})}, "limited")
        return {"columns": list(rows[0]) if rows else [], "rows": [[convert(v) for v in r.values()] for r in rows],
                "truncated": False}

    def close(self) -> None:
        self.closed = True

    def queries(self, mode: str | None = None) -> list[str]:
        """The Cypher texts sent (of one mode), in order."""
        return [s.cypher for s in self.sent if mode is None or s.mode == mode]

