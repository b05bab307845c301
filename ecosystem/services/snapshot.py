"""Answers made of several reads, read in one snapshot of the store (`GraphReader.snapshot`), and kept.

`in_snapshot` wraps a service whose first argument is the store: every read it makes on this thread runs in one
read transaction, so its counts come from one state of the store even while an import commits.
`kept_per_data_version(name)` keeps a service's answers in the services' `DataVersionCache`, keyed by its
arguments: a repeated identical request is answered from there until the data changes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from ecosystem.services.cache import cache
from ecosystem.store.base import GraphReader

P = ParamSpec("P")
T = TypeVar("T")
S = TypeVar("S", bound=GraphReader)


def in_snapshot(service: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
    """The service, run inside `store.snapshot()`."""

    @functools.wraps(service)
    def wrapper(store: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        with store.snapshot():
            return service(store, *args, **kwargs)

    return wrapper


def kept_per_data_version(name: str) -> Callable[[Callable[Concatenate[S, P], T]], Callable[Concatenate[S, P], T]]:
    """The service's answers kept in the services' cache under (name, arguments) until the data changes."""

    def decorate(service: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], T]:
        @functools.wraps(service)
        def wrapper(store: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
            key = (name, args, tuple(sorted(kwargs.items())))
            return cache.get(store, key, lambda: service(store, *args, **kwargs))

        return wrapper

    return decorate


def stats(store: GraphReader) -> dict[str, object]:
    """The store's counts, read in one snapshot (kept until the data changes)."""
    def read() -> dict[str, object]:
        with store.snapshot():
            return store.stats()

    return cache.get(store, ("stats",), read)
