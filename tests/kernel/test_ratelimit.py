"""The public pages' rate limit, counted in the database: the same count for every process
(here: every connection), exact under concurrency, forgetting what left the window."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from pharmaqms.kernel import clock
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.http import ratelimit
from pharmaqms.kernel.http.ratelimit import RateLimiter
from pharmaqms.kernel.observability.models import RateLimitWindow
from pharmaqms.kernel.uow import unit_of_work


def rows(db: Database) -> int:
    with unit_of_work(db, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(RateLimitWindow)) or 0)


@pytest.mark.postgres
def test_an_address_gets_its_attempts_then_waits_out_the_window(
    db: Database, frozen_clock: clock.FrozenClock
) -> None:
    limiter = RateLimiter("scan", limit=3, window_s=60)

    admitted = [limiter.allow("10.0.0.7") for _ in range(5)]
    other = limiter.allow("10.0.0.8")

    assert admitted == [True, True, True, False, False]
    assert other is True  # another address counts on its own
    frozen_clock.advance(seconds=59)
    assert limiter.allow("10.0.0.7") is False  # the first attempts are still inside
    frozen_clock.advance(seconds=1)
    # 60 s after the first three: the refused attempts were not counted, so all three slots
    # are free again
    assert [limiter.allow("10.0.0.7") for _ in range(4)] == [True, True, True, False]


def test_two_limiters_count_apart(db: Database, frozen_clock: clock.FrozenClock) -> None:
    scans = RateLimiter("scan", limit=1, window_s=60)
    reports = RateLimiter("report", limit=1, window_s=60)

    assert scans.allow("10.0.0.7") and reports.allow("10.0.0.7")
    assert not scans.allow("10.0.0.7") and not reports.allow("10.0.0.7")


@pytest.mark.postgres
def test_concurrent_attempts_admit_exactly_the_limit(db: Database) -> None:
    # given twelve requests from one address arriving at once on separate connections (as
    # on separate server processes), and a limit of five
    limiter = RateLimiter("scan", limit=5, window_s=600)
    start = threading.Barrier(12)
    results: list[bool] = []
    lock = threading.Lock()

    def attempt() -> None:
        start.wait()
        allowed = limiter.allow("10.0.0.9", db)
        with lock:
            results.append(allowed)

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    # then exactly five get in
    assert len(results) == 12
    assert results.count(True) == 5


@pytest.mark.postgres
def test_rows_of_quiet_addresses_are_pruned_by_their_own_limiter_only(
    db: Database, frozen_clock: clock.FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    short = RateLimiter("scan", limit=2, window_s=60)
    long = RateLimiter("report", limit=2, window_s=3600)
    short.allow("10.0.0.1")
    long.allow("10.0.0.1")
    frozen_clock.advance(seconds=120)
    monkeypatch.setattr(ratelimit, "PRUNE_EVERY", 1)  # tidy at every check

    short.allow("10.0.0.2")

    # the short limiter's quiet row went; the long limiter's row is still inside its window
    assert rows(db) == 2
    assert long.allow("10.0.0.1") is True
    assert long.allow("10.0.0.1") is False
