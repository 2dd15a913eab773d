"""A year of quality history for the demo, written in the order it would have happened.

Each record's life is scheduled as steps at moments in the past; the timeline runs them in time
order with the clock set to each moment (so every audit entry, signature and due date carries
the time it would have had). Steps still in the future are not run: a deviation discovered last
week is simply still under investigation today, one stalled past its due date is overdue.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from datetime import datetime

from pharmaqms.kernel import clock

Step = Callable[[], None]


class Timeline:
    def __init__(self, today: datetime) -> None:
        self.today = today
        self._steps: list[tuple[datetime, int, Step]] = []
        self._order = itertools.count()

    def at(self, moment: datetime, step: Step) -> None:
        """Schedule a step; steps may schedule later steps while the timeline runs."""
        heapq.heappush(self._steps, (moment, next(self._order), step))

    def run(self) -> None:
        while self._steps:
            moment, _order, step = heapq.heappop(self._steps)
            if moment > self.today:
                continue
            with clock.frozen_at(moment):
                step()
