"""Checks every quality service makes on its input, phrased once so that a refusal reads the
same in every module: the field it concerns and what would make it acceptable."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound, StaleRecord
from pharmaqms.kernel.models import User
from pharmaqms.kernel.records import GxPRecord
from pharmaqms.kernel.reports.text import format_time

R = TypeVar("R")

# Clocks of the machines that report events drift; a timestamp this little ahead of ours is
# taken as "now" rather than refused as a time in the future.
CLOCK_TOLERANCE = timedelta(minutes=5)


def get_or_404(session: Session, model: type[R], record_id: int, what: str) -> R:
    found = session.get(model, record_id)
    if found is None:
        raise NotFound(f"no {what} with id {record_id}")
    return found


def check_version(record: GxPRecord, expected_version: int | None) -> None:
    if expected_version is not None and record.version != expected_version:
        raise StaleRecord(
            f"{record.audit_label()} is at version {record.version}, not {expected_version}: "
            "someone changed it meanwhile; reload it and make your change again",
            extra={"current_version": record.version},
        )


def require_status(record: GxPRecord, allowed: Iterable[str], doing: str) -> None:
    allowed = tuple(allowed)
    if record.status not in allowed:
        shown = " or ".join(s.replace("_", " ") for s in allowed)
        raise Conflict(
            f"{record.audit_label()} is {record.status.replace('_', ' ')}: {doing} is only "
            f"possible while it is {shown}"
        )


def required_text(value: str | None, field: str, what: str, *, max_length: int = 4000) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        raise InvalidInput(f"{what} is required", field=field)
    if len(cleaned) > max_length:
        raise InvalidInput(f"{what} is longer than {max_length} characters", field=field)
    return cleaned


def optional_text(value: str | None, field: str, *, max_length: int = 4000) -> str:
    cleaned = (value or "").strip()
    if len(cleaned) > max_length:
        raise InvalidInput(f"{field} is longer than {max_length} characters", field=field)
    return cleaned


def aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None:
        raise InvalidInput(
            f"{field} needs a time zone (e.g. 2026-03-02T08:30:00+01:00 or …Z)", field=field
        )
    return value


def not_in_future(value: datetime, field: str, what: str) -> datetime:
    aware(value, field)
    if value > clock.now() + CLOCK_TOLERANCE:
        raise InvalidInput(f"{what} ({format_time(value)}) is in the future", field=field)
    return value


def in_future(value: datetime, field: str, what: str) -> datetime:
    aware(value, field)
    if value <= clock.now():
        raise InvalidInput(f"{what} ({format_time(value)}) must lie in the future", field=field)
    return value


def score(value: int | None, field: str, what: str, *, scale: int = 5) -> int:
    if value is None:
        raise InvalidInput(f"{what} is required (1 to {scale})", field=field)
    if isinstance(value, bool) or not 1 <= value <= scale:
        raise InvalidInput(f"{what} must be a whole number from 1 to {scale}", field=field)
    return value


def active_user(session: Session, user_id: int, field: str, what: str) -> User:
    user = session.get(User, user_id)
    if user is None or user.is_service_account:
        raise InvalidInput(f"{what}: there is no person with id {user_id}", field=field)
    if not user.is_active:
        raise InvalidInput(f"{what}: {user.username} is deactivated", field=field)
    return user


def choice(value: str | None, field: str, allowed: Iterable[str], what: str) -> str:
    allowed = tuple(allowed)
    if value is None or value not in allowed:
        raise InvalidInput(f"{what} must be one of: {', '.join(allowed)}", field=field)
    return value
