"""A small sliding-window rate limiter for public pages, keyed by client address.

Per process and in memory: behind a load balancer or with several workers each process counts
its own share, and a restart forgets. Enough to stop one client hammering a public page (and
the verification records each scan writes); not a defence against a distributed attack, which
belongs in front of the application."""

from __future__ import annotations

import threading
import time
from collections import deque

from fastapi import Request


class RateLimiter:
    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Counts this attempt; False when ``key`` has used up its attempts in the window."""
        now = time.monotonic()
        with self._lock:
            # Forget addresses that went quiet, so the table does not grow without bound.
            if len(self._seen) > 10_000:
                self._seen = {
                    k: v for k, v in self._seen.items() if v and now - v[-1] <= self.window_s
                }
            seen = self._seen.setdefault(key, deque())
            while seen and now - seen[0] > self.window_s:
                seen.popleft()
            if len(seen) >= self.limit:
                return False
            seen.append(now)
            return True

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
