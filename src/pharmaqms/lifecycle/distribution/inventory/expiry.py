"""Expiry reminders for stock on hand: each line is flagged by the nearest horizon it falls
within (e.g. 180, 90 and 30 days before its expiry date), or overdue once expired — so that
near-expiry stock is sold, moved to a customer who accepts it, or withdrawn in time (EU GDP
§5.9), instead of being found expired on the shelf."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.platform.inventory.stock import StockLine

DEFAULT_HORIZONS: tuple[int, ...] = (180, 90, 30)
MAX_HORIZON_DAYS = 3660


def parse_horizons(text: str | None) -> tuple[int, ...]:
    """ "180,90,30" → (180, 90, 30); empty → the default horizons."""
    if text is None or not text.strip():
        return DEFAULT_HORIZONS
    try:
        days = sorted({int(part) for part in text.split(",") if part.strip()}, reverse=True)
    except ValueError:
        raise InvalidInput(
            f"horizons are whole days separated by commas (e.g. 180,90,30), not {text!r}",
            field="horizons",
        ) from None
    if not days or len(days) > 6 or any(d <= 0 or d > MAX_HORIZON_DAYS for d in days):
        raise InvalidInput(f"one to six horizons of 1 to {MAX_HORIZON_DAYS} days", field="horizons")
    return tuple(days)


@dataclass(frozen=True, slots=True)
class Reminder:
    line: StockLine
    days_left: int | None
    flag: str  # overdue | within N days | later | no expiry date
    horizon: int | None  # the nearest horizon it falls within


def reminders(
    lines: Iterable[StockLine], today: date, horizons: Sequence[int] = DEFAULT_HORIZONS
) -> list[Reminder]:
    """Every stock line with its flag, soonest expiry first."""
    ordered = sorted(horizons)
    found = []
    for line in lines:
        if line.quantity <= 0:
            continue
        if line.expires_on is None:
            found.append(Reminder(line, None, "no expiry date", None))
            continue
        left = (line.expires_on - today).days
        if left < 0:
            found.append(Reminder(line, left, "overdue", None))
            continue
        horizon = next((h for h in ordered if left <= h), None)
        flag = f"within {horizon} days" if horizon is not None else "later"
        found.append(Reminder(line, left, flag, horizon))
    found.sort(key=lambda r: (r.days_left if r.days_left is not None else 10**9, r.line.lot_number))
    return found
