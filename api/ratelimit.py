"""Per-principal token buckets (in each API process): a caller over its rate gets 429."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class RateLimiter:
    """`rate` requests a second on average, bursts of up to `burst`."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, who: str) -> float:
        """0 when the request may go ahead, else the seconds to wait before retrying."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(who, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[who] = (tokens - 1, now)
                return 0.0
            self._buckets[who] = (tokens, now)
            return (1 - tokens) / self.rate


def retry_after(seconds: float) -> str:
    """Retry-After in whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))


class FailureThrottle:
    """Failed authentications per client address: `limit` a minute (a bucket of `limit`
    refilled at `limit` / 60 a second). Only failures are counted and only failures are
    refused, so a valid token from the same address always goes through."""

    MINUTE = 60.0
    TRACKED = 100_000  # addresses remembered at most; the recovered ones are forgotten first

    def __init__(self, limit: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = float(limit)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def _tokens(self, address: str, now: float) -> float:
        tokens, last = self._buckets.get(address, (self.limit, now))
        return min(self.limit, tokens + (now - last) * self.limit / self.MINUTE)

    def refused(self, address: str) -> float:
        """0 when another failure may be answered with 401, else the seconds to wait."""
        if self.limit <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens = self._tokens(address, now)
        return 0.0 if tokens >= 1 else (1 - tokens) * self.MINUTE / self.limit

    def failed(self, address: str) -> None:
        """Count a failed authentication from the address."""
        if self.limit <= 0:
            return
        now = self.clock()
        with self._lock:
            if len(self._buckets) >= self.TRACKED:
                self._buckets = {
                    a: b for a, b in self._buckets.items() if self._tokens(a, now) < self.limit
                }
            self._buckets[address] = (max(0.0, self._tokens(address, now) - 1), now)
