"""The services' cache is bounded by the size of what it holds, not only by the number of entries."""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from ecosystem.services.cache import DataVersionCache, weight_of


@dataclass
class Store:
    uri: str = "sqlite:///w.db"

    def data_version(self) -> str:
        return "1"


def test_weights_count_graph_nodes_and_edges_and_collection_items() -> None:
    assert weight_of(nx.path_graph(10)) == 10 + 9
    assert weight_of(list(range(5))) == 6
    assert weight_of(object()) == 1


def test_large_entries_push_the_oldest_out_even_below_the_entry_bound() -> None:
    cache = DataVersionCache(max_entries=100, max_weight=1000)
    store = Store()
    for i in range(5):
        cache.get(store, ("big", i), lambda: list(range(400)))  # 401 each: two fit, a third pushes one out
    assert len(cache) == 2
    calls = []
    cache.get(store, ("big", 4), lambda: calls.append(1) or [])  # the newest is still there
    cache.get(store, ("big", 0), lambda: calls.append(1) or [])  # the oldest was evicted
    assert calls == [1]


def test_one_entry_larger_than_the_bound_is_still_kept_alone() -> None:
    cache = DataVersionCache(max_entries=10, max_weight=10)
    store = Store()
    value = cache.get(store, ("huge",), lambda: list(range(100)))
    assert len(cache) == 1 and cache.get(store, ("huge",), lambda: []) is value


@dataclass
class VersionedStore:
    uri: str = "sqlite:///v.db"
    version: str = "1"

    def data_version(self) -> str:
        return self.version


def test_kept_values_survive_any_number_of_later_entries_and_give_way_to_a_new_data_version() -> None:
    cache = DataVersionCache(max_entries=3, max_weight=1000)
    store = VersionedStore()
    index = cache.get(store, ("index",), lambda: list(range(900)), keep=True)
    for i in range(50):  # a background warm-up: many entries, together far above both bounds
        cache.get(store, ("region", i), lambda: list(range(400)))
    assert cache.holds(store, ("index",)) and cache.get(store, ("index",), lambda: [], keep=True) is index
    assert not cache.holds(store, ("region", 0))  # the ordinary entries were evicted as before
    store.version = "2"  # an import: the kept value of the old version is not served, the new one replaces it
    assert not cache.holds(store, ("index",))
    fresh = cache.get(store, ("index",), lambda: ["new"], keep=True)
    assert fresh == ["new"] and len([k for k in cache._kept if k[1] == ("index",)]) == 1
