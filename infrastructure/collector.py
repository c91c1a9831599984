"""The cyclic garbage collector in a long-running process: kept off the requests' tail.

A request that builds many containers (a 1,000-event history: ~20,000 dicts and lists)
crosses CPython's young-generation threshold (700 allocations) dozens of times, so its
temporaries are promoted and every few requests a full collection walks everything the
process holds. Measured on a claim's 1,000-event history, in process, 300 reads
(docs/performance.md, "The collector"): full collections of ~45 ms each, 18 in 300 reads,
made the p99 46 ms against a p50 of 9. Two changes remove that tail:

- what start-up built (modules, the application, its indexes) is frozen: a full collection
  no longer walks it;
- the young generation is collected after `young` net allocations instead of 700, so a
  request's temporaries are freed by their reference counts before a collection would
  promote them (the same 300 reads then ran no collection at all).

Garbage in cycles is still collected, only later: at most `young` objects of it wait.
The settings are the process's: a serving process has one app; where several apps live
in one process (the test suite), their lifespans nest, and each exit restores what it found.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def steady_collector(young: int) -> Iterator[None]:
    """Freeze what exists now and raise the young generation's threshold to `young` for
    the duration (both undone on exit: the test suite runs many apps in one process)."""
    before = gc.get_threshold()
    gc.collect(1)  # only the young generations: a full collection of a large heap costs seconds
    gc.freeze()
    gc.set_threshold(young, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()
