"""Page-side results kept per store data version (until the services' own cache covers them)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
KEPT = 64
_kept: OrderedDict[tuple[str, str, str], Any] = OrderedDict()
_lock = threading.Lock()


def remembered(store: Any, name: str, compute: Callable[[], T]) -> T:
    """`compute()` once per store, data version and name; the 64 most recently used results are kept."""
    key = (store.uri, store.data_version(), name)
    with _lock:
        if key in _kept:
            _kept.move_to_end(key)
            return _kept[key]
    value = compute()
    with _lock:
        _kept[key] = value
        while len(_kept) > KEPT:
            _kept.popitem(last=False)
    return value
