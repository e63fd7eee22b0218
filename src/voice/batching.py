"""Group commit: callers that arrive together share one database round trip and one commit.

A submission stored on its own costs a round trip, a plan execution and a WAL flush; most of that is the
same for ten rows as for one. ``GroupCommit`` collects what callers hand it while earlier batches are
being stored and sends it as the next batch. With nothing in flight a caller's item goes at once, so a
lone caller waits no longer than before; under load the batches grow by themselves.

No library found did this (aiodataloader batches *loads* per key and caches them, which is wrong for
writes), so it is written here, small.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """Run ``store(batch)`` for items handed to ``submit``; each caller gets its own item's result.

    ``store`` returns one result per item, in order; a result that is an exception is raised to that
    item's caller only. An exception raised by ``store`` itself reaches every caller of the batch (the
    batch is one statement: nothing of it was stored). ``conflict_key`` keeps two items with the same
    key out of one batch. At most ``max_in_flight`` batches run at once; each holds a database
    connection.
    """

    def __init__(self, store: Callable[[list[T]], Awaitable[list[R | BaseException]]], *,
                 max_batch: int = 100, max_in_flight: int = 2,
                 conflict_key: Callable[[T], Hashable | None] | None = None) -> None:
        if max_batch < 1 or max_in_flight < 1:
            raise ValueError("max_batch and max_in_flight must be at least 1")
        self._store = store
        self._max_batch = max_batch
        self._max_in_flight = max_in_flight
        self._conflict_key = conflict_key
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._running: set[asyncio.Task[None]] = set()
        self.batches = 0  # counters for metrics and tests
        self.items = 0

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        # Mark the outcome as seen even if the caller has gone, so asyncio does not log it as lost.
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._waiting.append((item, future))
        self._start_batches()
        # A caller that goes away (client disconnected) leaves its item in the batch: it is stored,
        # as it would have been had the statement already been sent.
        return await asyncio.shield(future)

    async def drain(self) -> None:
        """Wait until everything handed in so far is stored (on shutdown)."""
        while self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    def _start_batches(self) -> None:
        while self._waiting and len(self._running) < self._max_in_flight:
            batch = self._take_batch()
            task = asyncio.get_running_loop().create_task(self._run(batch))
            self._running.add(task)
            task.add_done_callback(self._finished)

    def _take_batch(self) -> list[tuple[T, asyncio.Future[R]]]:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        later: list[tuple[T, asyncio.Future[R]]] = []
        seen: set[Hashable] = set()
        for entry in self._waiting:
            key = self._conflict_key(entry[0]) if self._conflict_key else None
            if len(batch) >= self._max_batch or (key is not None and key in seen):
                later.append(entry)
                continue
            if key is not None:
                seen.add(key)
            batch.append(entry)
        self._waiting = later
        return batch

    async def _run(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        self.batches += 1
        self.items += len(batch)
        try:
            results = await self._store([item for item, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"store returned {len(results)} results for {len(batch)} items")
        except BaseException as exc:  # handed to the callers, who raise it
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if not task.cancelled() and task.exception() is not None:  # already handed to the callers
            log.debug("intake batch failed", exc_info=task.exception())
        self._start_batches()
