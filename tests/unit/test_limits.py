"""The bound on heavy work: a few at once, a short queue, then 503 with Retry-After."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import HTTPException

from api.limits import HeavyLimiter


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_beyond_the_slots_and_the_queue_the_answer_is_503_with_retry_after() -> None:
    async def scenario() -> None:
        limiter = HeavyLimiter(slots=2, queue=0, wait_s=5)
        await limiter.acquire()
        await limiter.acquire()
        with pytest.raises(HTTPException) as busy:
            await limiter.acquire()
        assert busy.value.status_code == 503 and busy.value.headers == {"Retry-After": "5"}
        assert "busy" in busy.value.detail and limiter.refused == 1
        limiter.release()
        await limiter.acquire()  # a freed slot is taken again at once
        assert limiter.status()["running"] == 2

    run(scenario())


def test_a_queued_request_gets_the_slot_freed_within_its_wait() -> None:
    async def scenario() -> None:
        limiter = HeavyLimiter(slots=1, queue=1, wait_s=5)
        await limiter.acquire()
        waiter = asyncio.create_task(limiter.acquire())
        await asyncio.sleep(0)
        assert limiter.waiting == 1
        with pytest.raises(HTTPException):  # the queue is full
            await limiter.acquire()
        limiter.release()
        await waiter
        assert limiter.running == 1 and limiter.waiting == 0

    run(scenario())


def test_a_queued_request_is_refused_when_its_wait_is_over() -> None:
    async def scenario() -> None:
        limiter = HeavyLimiter(slots=1, queue=4, wait_s=0.01)
        await limiter.acquire()
        with pytest.raises(HTTPException) as busy:
            await limiter.acquire()
        assert busy.value.status_code == 503 and "waited" in busy.value.detail
        assert limiter.waiting == 0 and limiter.running == 1

    run(scenario())


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELIXMAP_HEAVY_SLOTS", "3")
    monkeypatch.setenv("HELIXMAP_HEAVY_QUEUE", "0")
    monkeypatch.setenv("HELIXMAP_HEAVY_WAIT_S", "oops")
    limiter = HeavyLimiter.from_environment()
    assert (limiter.slots, limiter.queue, limiter.wait_s) == (3, 0, 5.0)


HEAVY = {"/api/v1/network", "/api/v1/clusters", "/api/v1/export", "/maps/network", "/api/v1/region-links",
         "/api/v1/region-links.csv", "/maps/regions", "/api/v1/regions/{nuts}", "/api/v1/organisations/{org_id}/metrics",
         "/api/v1/organisations/{org_id}/recommendations", "/organisations/{org_id}", "/regions/{nuts}", "/clusters",
         "/clusters/{cluster_id}", "/api/v1/partners"}


def test_every_heavy_route_takes_a_slot_and_the_light_ones_do_not(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fastapi.routing import APIRoute

    from api.app import create_app
    from api.limits import heavy_slot
    from ecosystem.config import Settings
    from ecosystem.store.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "routes.db")
    app = create_app(Settings(store=store.uri), store=store)
    routes = [r for top in app.routes for r in getattr(getattr(top, "original_router", None), "routes", [top])]
    paths = {route.path for route in routes if isinstance(route, APIRoute)}
    slotted = {route.path for route in routes if isinstance(route, APIRoute)
               and any(d.call is heavy_slot for d in route.dependant.dependencies)}
    assert HEAVY <= paths
    store.close()
    assert HEAVY - slotted == set()
    assert not slotted & {"/api/v1/stats", "/api/v1/health", "/api/v1/organisations", "/api/v1/organisations/{org_id}",
                          "/", "/search", "/api/v1/query"}


def test_the_application_bounds_its_worker_threads_on_start(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from anyio import to_thread

    from api.app import create_app
    from api.limits import WORKER_THREADS
    from ecosystem.config import Settings
    from ecosystem.store.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "threads.db")
    app = create_app(Settings(store=store.uri), store=store)

    async def start() -> int:
        async with app.router.lifespan_context(app):
            return int(to_thread.current_default_thread_limiter().total_tokens)

    try:
        assert run(start()) == WORKER_THREADS != 40
    finally:
        store.close()
