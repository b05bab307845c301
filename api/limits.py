"""Bounds on heavy work: a few at once, a short queue, then 503 with `Retry-After`.

Networks, maps, region analytics, clusters, exports and recommendations can each take seconds and hundreds
of megabytes on a large graph. Each such route takes the dependency `heavy` (one line per route):

- at most `slots` of them run at once (default: the number of CPU cores, at least 2);
- up to `queue` more wait, each for at most `wait_s` seconds; beyond that, or after the wait, the answer is
  503 with a `Retry-After` header (seconds) and a `detail` that says why;
- a request whose client has gone while it waited is dropped before its work starts (a client that leaves
  mid-way cannot stop a computation already running in a worker thread; that result lands in the services'
  data-version cache, so the client's retry is answered from it).

Settings come from the environment (read once when the application is built): `HELIXMAP_HEAVY_SLOTS`,
`HELIXMAP_HEAVY_QUEUE`, `HELIXMAP_HEAVY_WAIT_S`. `bound_worker_threads` caps the threads that run the sync
routes, so that per-thread resources (one SQLite connection and its page cache each) stay bounded.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request

WORKER_THREADS = 16
"""Threads for sync routes (anyio's default is 40); each holds its own SQLite connection."""


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        return default


@dataclass
class HeavyLimiter:
    """At most `slots` heavy requests at once, at most `queue` waiting for at most `wait_s` seconds each."""

    slots: int = max(2, os.cpu_count() or 2)
    queue: int = 8
    wait_s: float = 5.0
    retry_after_s: int = 5
    running: int = 0
    waiting: int = 0
    refused: int = 0
    _semaphore: asyncio.Semaphore | None = field(default=None, repr=False)

    @classmethod
    def from_environment(cls) -> HeavyLimiter:
        return cls(slots=max(1, int(_env_number("HELIXMAP_HEAVY_SLOTS", max(2, os.cpu_count() or 2)))),
                   queue=max(0, int(_env_number("HELIXMAP_HEAVY_QUEUE", 8))),
                   wait_s=max(0.0, _env_number("HELIXMAP_HEAVY_WAIT_S", 5.0)))

    def _busy(self, why: str) -> HTTPException:
        self.refused += 1
        return HTTPException(status_code=503, headers={"Retry-After": str(self.retry_after_s)},
                             detail=f"the server is busy with other heavy requests ({why}); retry in "
                                    f"{self.retry_after_s} s")

    async def acquire(self) -> None:
        """Take a slot, waiting in the queue if there is room; 503 when there is none or the wait is over."""
        if self._semaphore is None:  # made on the event loop that uses it
            self._semaphore = asyncio.Semaphore(self.slots)
        if self._semaphore.locked():
            if self.waiting >= self.queue:
                raise self._busy(f"{self.running} running, {self.waiting} waiting")
            self.waiting += 1
            try:
                await asyncio.wait_for(self._semaphore.acquire(), timeout=self.wait_s)
            except TimeoutError:
                raise self._busy(f"waited {self.wait_s:g} s for a free slot") from None
            finally:
                self.waiting -= 1
        else:
            await self._semaphore.acquire()
        self.running += 1

    def release(self) -> None:
        self.running -= 1
        assert self._semaphore is not None
        self._semaphore.release()

    def status(self) -> dict[str, int | float]:
        return {"slots": self.slots, "queue": self.queue, "running": self.running, "waiting": self.waiting,
                "refused": self.refused}


def limiter_of(request: Request) -> HeavyLimiter:
    """The application's limiter (one per application; made on first use when `install` was not called)."""
    limiter = getattr(request.app.state, "heavy_limiter", None)
    if limiter is None:
        limiter = request.app.state.heavy_limiter = HeavyLimiter.from_environment()
    return limiter


async def heavy_slot(request: Request) -> AsyncIterator[None]:
    """Dependency of a heavy route: holds one slot of the limiter while the route runs."""
    limiter = limiter_of(request)
    await limiter.acquire()
    try:
        if await request.is_disconnected():  # the client left while waiting: do not start its work
            raise HTTPException(status_code=499, detail="the client closed the connection")
        yield
    finally:
        limiter.release()


HeavyDep = Annotated[None, Depends(heavy_slot)]
"""Add `_: HeavyDep` to a heavy route's parameters."""


async def bound_worker_threads(threads: int = WORKER_THREADS) -> None:
    """Cap the threads that run sync routes (call on start-up, on the server's event loop)."""
    from anyio import to_thread

    to_thread.current_default_thread_limiter().total_tokens = threads


def install(app: FastAPI) -> None:
    """Give the application its limiter and, on start-up, the bounded worker threads."""
    app.state.heavy_limiter = HeavyLimiter.from_environment()
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        await bound_worker_threads()
        async with inner(app_) as state:
            yield state

    app.router.lifespan_context = lifespan
