"""What the server prepares at start (ecosystem.services.startup), over a real SQLite store."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest

from api.app import create_app
from ecosystem.config import Settings
from ecosystem.services import partners, startup
from ecosystem.store.sqlite import SQLiteStore

UCPH = "999991043"  # KOBENHAVNS UNIVERSITET in the CORDIS sample


@pytest.fixture()
def store(sample_store: SQLiteStore) -> SQLiteStore:
    return sample_store


def _start_and_stop(store: SQLiteStore) -> list[str]:
    """Run the application's start and stop as uvicorn does; the names of the threads alive inside."""
    app = create_app(Settings(store=store.uri), store=store)
    seen: list[str] = []

    async def run() -> None:
        async with app.router.lifespan_context(app):
            seen.extend(t.name for t in threading.enumerate())

    asyncio.run(run())
    return seen


def test_a_failing_step_at_start_is_logged_the_others_run_and_the_first_request_builds_it(
        store: SQLiteStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    real = partners.build_recommender_index
    calls: list[int] = []

    def fails_once(s: Any, *inputs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("disk on fire")
        return real(s)

    monkeypatch.setattr(partners, "build_recommender_index", fails_once)
    ran: list[str] = []
    # the partner finder's step, then another (the pages' warm-up is left out: slow, and not what is tested)
    monkeypatch.setattr(startup, "BEFORE_SERVING", (partners.warm, lambda s: ran.append("after")))
    monkeypatch.setattr(startup, "IN_BACKGROUND", ())
    with caplog.at_level(logging.ERROR, logger="ecosystem.services.startup"):
        _start_and_stop(store)
    assert "preparing warm at start failed" in caplog.text and "disk on fire" in caplog.text
    assert ran == ["after"]  # the steps after the failed one still ran
    assert len(partners.recommendations(store, UCPH, k=3)["items"]) == 3  # the first request built the index
    assert len(calls) == 2


def test_the_background_steps_run_in_their_named_thread(store: SQLiteStore, monkeypatch: pytest.MonkeyPatch) -> None:
    done = threading.Event()
    names: list[str] = []

    def step(s: Any) -> None:
        names.append(threading.current_thread().name)
        done.set()

    monkeypatch.setattr(startup, "BEFORE_SERVING", ())
    monkeypatch.setattr(startup, "IN_BACKGROUND", (step,))
    _start_and_stop(store)
    assert done.wait(timeout=60)
    assert names == [startup.BACKGROUND_THREAD]
