"""A token bucket: at most ``rate`` messages a second on average, bursts of at most ``burst``.

One bucket may be shared by threads (the web app's requests deliver at the same time): each ``take`` reserves
its moment under a lock and sleeps outside it, so together they keep to the rate."""

from __future__ import annotations

import threading
import time
from typing import Callable


class TokenBucket:
    def __init__(self, rate: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self.clock, self.sleep = clock, sleep
        self.tokens = self.burst
        self.last = clock()
        self.waited = 0.0
        self._lock = threading.Lock()

    def take(self, max_wait: float | None = None) -> float | None:
        """Take a token, waiting until there is one; returns the seconds waited. With ``max_wait``, take none and
        return None when that would mean waiting longer."""
        with self._lock:
            now = self.clock()
            tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
            self.last = now
            wait = (1.0 - tokens) / self.rate if tokens < 1.0 else 0.0
            if max_wait is not None and wait > max_wait:
                self.tokens = tokens
                return None
            self.tokens = tokens - 1.0  # below 0 while its taker waits: the next taker waits behind it
            self.waited += wait
        if wait > 0:
            self.sleep(wait)
        return wait
