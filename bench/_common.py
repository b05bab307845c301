"""Shared helpers for the benchmarks: where the sample data is, peak memory, timing a phase in its own process."""

from __future__ import annotations

import multiprocessing as mp
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
sys.path.insert(0, str(REPO))


def peak_rss_mb() -> float:
    """This process's peak resident set size in MiB (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _child(fn: Callable[..., dict[str, Any]], args: tuple[Any, ...], queue: Any) -> None:
    start, cpu = time.perf_counter(), time.process_time()
    result = fn(*args)
    result.setdefault("seconds", round(time.perf_counter() - start, 3))
    # CPU time of this process: what the phase costs whatever else the machine is doing
    result["cpu_seconds"] = round(time.process_time() - cpu, 3)
    result["peak_rss_mb"] = peak_rss_mb()
    queue.put(result)


def in_fresh_process(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run a phase in a fresh process, so its time and peak memory are its own."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return dict(result)
