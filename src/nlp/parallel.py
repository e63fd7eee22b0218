"""One shared thread pool for the numeric steps that release the GIL (sparse products, partitions).

numpy and scipy run these single-threaded but without the GIL, so splitting the rows over threads uses
every core of a small machine without the cost of processes (no copying of the matrices).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["row_blocks", "thread_map", "workers"]

T = TypeVar("T")
R = TypeVar("R")
_POOL: ThreadPoolExecutor | None = None
_PREFIX = "nlp-worker"


def workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(workers(), thread_name_prefix=_PREFIX)
    return _POOL


def _inline() -> bool:
    # A task already running in the pool must not wait for other pool tasks: with every worker busy
    # waiting, nothing would run. Nested calls run inline instead.
    return workers() == 1 or threading.current_thread().name.startswith(_PREFIX)


def thread_map(fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """fn over items in the shared pool, results in order; inline for one core, one item or a nested call."""
    items = list(items)
    if len(items) <= 1 or _inline():
        return [fn(item) for item in items]
    return list(_pool().map(fn, items))


def row_blocks(n: int, size: int | None = None) -> list[tuple[int, int]]:
    """[start, stop) ranges covering n rows: one per core, or of at most ``size`` rows."""
    if size is None:
        size = max(1, -(-n // workers()))
    return [(start, min(start + size, n)) for start in range(0, n, size)]
