"""Flat-memory concurrency for streams of frames and faces: bounded thread-pool maps,
background prefetching and batching. Nothing here knows about movies or models."""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")
R = TypeVar("R")


def bounded_map(
    fn: Callable[[T], R], items: Iterable[T], workers: int = 2, depth: int | None = None
) -> Iterator[R]:
    """Ordered map on a thread pool with at most `depth` (default 2 * workers) items in flight,
    so memory stays flat however long the input."""
    depth = depth or 2 * workers
    with ThreadPoolExecutor(workers) as pool:
        pending: deque[Future] = deque()
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= depth:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def prefetch(items: Iterable[T], depth: int) -> Iterator[T]:
    """Run the iterator in a background thread at most `depth` items ahead of the consumer.

    Its exceptions re-raise in the consumer; when the consumer stops early the producer is told
    to stop and the iterator is closed in its own thread.
    """
    ahead: queue.Queue = queue.Queue(depth)
    stop = threading.Event()
    end = object()

    def put(entry: tuple[Any, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                ahead.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                if not put((item, None)):
                    break
            else:
                put((end, None))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put((end, exc))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    producer = threading.Thread(target=produce, name="prefetch", daemon=True)
    producer.start()
    try:
        while True:
            item, error = ahead.get()
            if error is not None:
                raise error
            if item is end:
                return
            yield item
    finally:
        stop.set()
        producer.join()


def batches(
    groups: Iterable[tuple[list[int], list[np.ndarray]]], size: int
) -> Iterator[tuple[list[int], list[np.ndarray]]]:
    """Regroup (ids, faces) per frame into batches of about `size` faces for the recogniser."""
    ids: list[int] = []
    chips: list[np.ndarray] = []
    for group_ids, group_chips in groups:
        ids.extend(group_ids)
        chips.extend(group_chips)
        if len(chips) >= size:
            yield ids, chips
            ids, chips = [], []
    if chips:
        yield ids, chips
