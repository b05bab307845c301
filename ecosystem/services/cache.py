"""The one cache of the services: values computed from a store, kept until the store's data changes.

Entries are keyed by (store URI, data version, key), so a changed graph is never served from the cache:
its new version simply misses. One eviction rule: at most `max_entries` entries and at most `max_weight` of
summed size (`weight_of`), the least recently used goes first (entries of an old data version are never used
again, so they age out the same way). Except what is asked for with `keep=True`: the few values a server builds
before it answers (the partner finder's indexes, ...) are held for their store and key, whatever else is
computed later (a background warm-up of hundreds of region pages would push them out), until a new data
version's value replaces them.
Thread-safe; a value is computed once even when several threads ask for it at the same time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from ecosystem.store.base import GraphReader

T = TypeVar("T")

MAX_ENTRIES = 64
"""Enough for the full graph, its clusters, the partner index, the participations and a few dozen filtered
views (a crowd asking for 20-30 views thrashed a cache of 16: each miss rebuilt a graph)."""

MAX_WEIGHT = 3_000_000
"""Bound on the summed weight of the entries (`weight_of`: nodes + edges of a graph, items of a collection):
about three and a half full H2020 collaboration graphs (36k nodes, 800k links each); keeps memory bounded when
the views asked for are large."""


def weight_of(value: Any) -> int:
    """A rough size: nodes + edges of a graph, the length of anything sized, else 1."""
    edges = getattr(value, "number_of_edges", None)
    if callable(edges):
        return int(value.number_of_nodes()) + int(edges())
    try:
        return len(value) + 1
    except TypeError:
        return 1


class DataVersionCache:
    """Values keyed by (store URI, data version, key); least recently used evicted beyond `max_entries` (values
    asked for with `keep=True` excepted)."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_weight: int = MAX_WEIGHT) -> None:
        if max_entries < 1:
            raise ValueError("a cache holds at least one entry")
        self.max_entries = max_entries
        self.max_weight = max_weight
        self._weights: dict[tuple[str, str, Hashable], int] = {}
        self._entries: OrderedDict[tuple[str, str, Hashable], Any] = OrderedDict()
        self._kept: dict[tuple[str, Hashable], tuple[str, Any]] = {}  # (uri, key) -> (data version, value)
        self._computing: dict[tuple[str, str, Hashable], threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, store: GraphReader, key: Hashable, compute: Callable[[], T], *, keep: bool = False) -> T:
        """The cached value for `key` at the store's current data version, computed (once) when missing.

        `keep`: never evicted; one value per store and key (a new data version's replaces the old one). For the
        few values a server prepares before it answers; ask for a key always with the same `keep`."""
        full_key = (store.uri, store.data_version(), key)
        with self._lock:
            found, value = self._lookup(full_key, keep)
            if found:
                return value
            computing = self._computing.setdefault(full_key, threading.Lock())
        with computing:  # a second caller of the same key waits for the first instead of computing again
            with self._lock:
                found, value = self._lookup(full_key, keep)
                if found:
                    return value
            try:
                value = compute()
                with self._lock:
                    self._store(full_key, value, keep)
            finally:
                with self._lock:
                    self._computing.pop(full_key, None)
        return value

    def _lookup(self, full_key: tuple[str, str, Hashable], keep: bool) -> tuple[bool, Any]:
        if keep:
            kept = self._kept.get((full_key[0], full_key[2]))
            return (True, kept[1]) if kept is not None and kept[0] == full_key[1] else (False, None)
        if full_key in self._entries:
            self._entries.move_to_end(full_key)
            return True, self._entries[full_key]
        return False, None

    def _store(self, full_key: tuple[str, str, Hashable], value: Any, keep: bool) -> None:
        if keep:
            self._kept[(full_key[0], full_key[2])] = (full_key[1], value)
            return
        self._entries[full_key] = value
        self._weights[full_key] = weight_of(value)
        while len(self._entries) > self.max_entries or (
                len(self._entries) > 1 and sum(self._weights.values()) > self.max_weight):
            old, _ = self._entries.popitem(last=False)
            self._weights.pop(old, None)

    def holds(self, store: GraphReader, key: Hashable) -> bool:
        """Whether a value for `key` at the store's current data version is held (kept or not)."""
        version = store.data_version()
        with self._lock:
            kept = self._kept.get((store.uri, key))
            return (kept is not None and kept[0] == version) or (store.uri, version, key) in self._entries

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()
            self._weights.clear()
            self._kept.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries) + len(self._kept)


cache = DataVersionCache()
"""The cache every service shares: keys are tuples naming the view first, e.g. ("graph", filter)."""
