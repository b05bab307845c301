"""The services' one cache: keyed by store, data version and key; least recently used evicted; computed once."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from ecosystem.services.cache import DataVersionCache


@dataclass
class FakeStore:
    """Just what the cache reads of a store: its URI and its data version."""

    uri: str = "sqlite:///a.db"
    version: str = "1"

    def data_version(self) -> str:
        return self.version


class Counting:
    """A computation that counts its calls and returns a fresh object each time."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> object:
        self.calls += 1
        return object()


def test_a_value_is_computed_once_and_then_served_from_the_cache() -> None:
    cache, store, compute = DataVersionCache(), FakeStore(), Counting()
    first = cache.get(store, ("graph",), compute)  # type: ignore[arg-type]
    assert cache.get(store, ("graph",), compute) is first  # type: ignore[arg-type]
    assert compute.calls == 1


def test_a_new_data_version_is_computed_again() -> None:
    cache, store, compute = DataVersionCache(), FakeStore(), Counting()
    first = cache.get(store, "k", compute)  # type: ignore[arg-type]
    store.version = "2"
    second = cache.get(store, "k", compute)  # type: ignore[arg-type]
    assert second is not first and compute.calls == 2


def test_stores_and_keys_do_not_share_entries() -> None:
    cache, compute = DataVersionCache(), Counting()
    a, b = FakeStore(uri="sqlite:///a.db"), FakeStore(uri="neo4j://b:7687")
    values = {cache.get(a, "k", compute), cache.get(b, "k", compute), cache.get(a, "other", compute)}  # type: ignore[arg-type]
    assert len(values) == 3 and compute.calls == 3


def test_beyond_its_size_the_least_recently_used_entry_goes() -> None:
    cache, store, compute = DataVersionCache(max_entries=2), FakeStore(), Counting()
    a = cache.get(store, "a", compute)  # type: ignore[arg-type]
    cache.get(store, "b", compute)  # type: ignore[arg-type]
    assert cache.get(store, "a", compute) is a  # type: ignore[arg-type]  # "a" used again: "b" is now the oldest
    cache.get(store, "c", compute)  # type: ignore[arg-type]
    assert len(cache) == 2
    assert cache.get(store, "a", compute) is a  # type: ignore[arg-type]
    calls = compute.calls
    cache.get(store, "b", compute)  # type: ignore[arg-type]
    assert compute.calls == calls + 1


def test_a_failed_computation_caches_nothing() -> None:
    cache, store = DataVersionCache(), FakeStore()

    def fail() -> object:
        raise RuntimeError("store went away")

    with pytest.raises(RuntimeError):
        cache.get(store, "k", fail)  # type: ignore[arg-type]
    assert len(cache) == 0
    assert cache.get(store, "k", lambda: 7) == 7  # type: ignore[arg-type]


def test_threads_asking_for_the_same_value_at_once_compute_it_once() -> None:
    cache, store = DataVersionCache(), FakeStore()
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow() -> list[int]:
        calls.append(1)
        started.set()
        release.wait(timeout=30)
        return calls

    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get(store, "k", slow)))  # type: ignore[arg-type]
               for _ in range(8)]
    threads[0].start()
    assert started.wait(timeout=30)
    for t in threads[1:]:
        t.start()
    release.set()
    for t in threads:
        t.join(timeout=30)
    assert len(calls) == 1 and len(results) == 8 and all(r is results[0] for r in results)


def test_an_empty_cache_is_refused() -> None:
    with pytest.raises(ValueError):
        DataVersionCache(max_entries=0)
