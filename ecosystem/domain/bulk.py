"""Helpers for bulk work: loads and whole-graph computations that allocate millions of small objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: it would rescan the many new, long-lived objects over and over
    (it triples the time of a full-table import) while it can free none of them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
