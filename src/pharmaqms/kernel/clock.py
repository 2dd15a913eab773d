"""The one injectable clock: every timestamp the system writes comes from here, in UTC."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    value = _now()
    if value.tzinfo is None:
        raise ValueError("the clock returned a naive datetime")
    return value.astimezone(UTC)


def set_clock(fn: Callable[[], datetime]) -> None:
    global _now
    _now = fn


def reset_clock() -> None:
    set_clock(lambda: datetime.now(UTC))


class FrozenClock:
    """A clock tests can move: ``clock.advance(days=3)``."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self.current = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> datetime:
        self.current = self.current + timedelta(**kwargs)
        return self.current


@contextmanager
def frozen_at(start: datetime) -> Iterator[FrozenClock]:
    clock = FrozenClock(start)
    previous = _now
    set_clock(clock)
    try:
        yield clock
    finally:
        set_clock(previous)
