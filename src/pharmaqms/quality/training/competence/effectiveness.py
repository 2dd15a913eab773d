"""The organisation's training-effectiveness figures, by month (EU GMP Chapter 2 §2.14: "the
practical effectiveness of training should be periodically assessed"; ICH Q10 §2.6):

- first-time quiz pass rate: of the quizzes people took (the quiz of a read-and-understood
  training, or a quiz assessment), the share passed at the first attempt; month of that attempt;
- assessment pass rate: of the confirmed assessments (quiz and observed practice), the share
  passed; month assessed;
- on-time training completion: of the settled trainings (signed, or not signed and past their
  due date; cancelled ones left out), the share signed by their due date; month signed, or
  month due for those still open;
- retraining after human error: deviations whose root cause is "man" (the Ishikawa bone for
  people, which is where deviations record human error), and how many of them were followed by
  a retraining, that is an ad-hoc training whose reason names the deviation's number (the only
  link the records carry between the two); month the deviation occurred.

Reads only."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.models import AuditEntry
from pharmaqms.kernel.registry import RECORD_TYPES
from pharmaqms.quality.training.competence.models import (
    AssessmentStatus,
    CompetenceAssessment,
    RequirementKind,
)
from pharmaqms.quality.training.models import (
    QuizAttempt,
    RequirementSource,
    RequirementStatus,
    TrainingRequirement,
)

# The deviation's Ishikawa category for people (``deviations.models.RootCauseCategory.MAN``).
# Deviations are read through the kernel's record-type registry, not imported: deviations
# (through CAPA) already depend on training, and the import would close a module cycle.
HUMAN_ERROR = "man"
CANCELLED = "cancelled"


@dataclass
class Rate:
    numerator: int = 0
    denominator: int = 0

    def add(self, yes: bool) -> None:
        self.denominator += 1
        self.numerator += 1 if yes else 0

    @property
    def percent(self) -> float | None:
        if not self.denominator:
            return None
        return round(100 * self.numerator / self.denominator, 1)

    def as_dict(self) -> dict[str, object]:
        return {
            "numerator": self.numerator,
            "denominator": self.denominator,
            "percent": self.percent,
        }


@dataclass
class MonthFigures:
    month: str  # "2026-03", or "total"
    first_time_quiz: Rate = field(default_factory=Rate)
    assessments: Rate = field(default_factory=Rate)
    on_time: Rate = field(default_factory=Rate)
    # numerator: followed by a retraining; denominator: human-error deviations
    retrained_after_human_error: Rate = field(default_factory=Rate)

    def as_dict(self) -> dict[str, object]:
        return {
            "month": self.month,
            "first_time_quiz_pass": self.first_time_quiz.as_dict(),
            "assessment_pass": self.assessments.as_dict(),
            "on_time_completion": self.on_time.as_dict(),
            "retrained_after_human_error": self.retrained_after_human_error.as_dict(),
        }


@dataclass(frozen=True)
class Effectiveness:
    since: datetime
    until: datetime
    months: list[MonthFigures]
    total: MonthFigures

    def as_dict(self) -> dict[str, object]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "months": [m.as_dict() for m in self.months],
            "total": self.total.as_dict(),
        }


def month_of(at: datetime) -> str:
    return f"{at.astimezone(UTC):%Y-%m}"


def _months(since: datetime, until: datetime) -> list[str]:
    year, month = since.year, since.month
    found = []
    while (year, month) <= (until.year, until.month):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def default_since(now: datetime) -> datetime:
    """The first day of the month eleven months back: twelve calendar months with this one."""
    year, month = now.year, now.month - 11
    if month < 1:
        year, month = year - 1, month + 12
    return datetime(year, month, 1, tzinfo=UTC)


def figures(
    session: Session, *, since: datetime | None = None, until: datetime | None = None
) -> Effectiveness:
    until = until or clock.now()
    since = since or default_since(until)
    by_month = {m: MonthFigures(m) for m in _months(since, until)}
    total = MonthFigures("total")

    def count(at: datetime, pick: str, yes: bool) -> None:
        if not since <= at <= until:
            return
        month = by_month.get(month_of(at))
        if month is None:
            return
        getattr(month, pick).add(yes)
        getattr(total, pick).add(yes)

    # First attempts at the quiz of each read-and-understood training.
    first: dict[tuple[object, ...], tuple[datetime, int, bool]] = {}
    for attempt in session.scalars(select(QuizAttempt)):
        key: tuple[object, ...] = ("training", attempt.requirement_id)
        seen = first.get(key)
        if seen is None or (attempt.attempted_at, attempt.id) < seen[:2]:
            first[key] = (attempt.attempted_at, attempt.id, attempt.passed)
    confirmed = session.scalars(
        select(CompetenceAssessment).where(
            CompetenceAssessment.status == AssessmentStatus.CONFIRMED
        )
    ).all()
    for assessment in confirmed:
        count(assessment.assessed_at, "assessments", assessment.passed)
        if assessment.kind != RequirementKind.QUIZ:
            continue
        key = ("assessment", assessment.user_id, assessment.requirement_id)
        seen = first.get(key)
        if seen is None or (assessment.assessed_at, assessment.id) < seen[:2]:
            first[key] = (assessment.assessed_at, assessment.id, assessment.passed)
    for at, _id, passed in first.values():
        count(at, "first_time_quiz", passed)

    for requirement in session.scalars(
        select(TrainingRequirement).where(
            TrainingRequirement.status != RequirementStatus.CANCELLED,
            or_(
                TrainingRequirement.completed_at.is_not(None),
                TrainingRequirement.due_at <= until,
            ),
        )
    ):
        done = requirement.completed_at
        # Settled trainings only: signed (in the month signed), or overdue (the month due).
        if done is not None:
            count(done, "on_time", done <= requirement.due_at)
        elif requirement.due_at <= until:
            count(requirement.due_at, "on_time", False)

    deviations = RECORD_TYPES.get("deviation")
    if deviations is not None:
        retraining_reasons = _retraining_reasons(session)
        model: Any = deviations.model
        for deviation in session.scalars(
            select(model).where(model.root_cause_category == HUMAN_ERROR, model.status != CANCELLED)
        ):
            retrained = any(deviation.number in reason for reason in retraining_reasons)
            count(deviation.occurred_at, "retrained_after_human_error", retrained)
    return Effectiveness(since, until, list(by_month.values()), total)


def _retraining_reasons(session: Session) -> list[str]:
    """The reasons given when ad-hoc training was assigned (QA's "retraining after …")."""
    ad_hoc = select(TrainingRequirement.id).where(
        TrainingRequirement.source == RequirementSource.AD_HOC.value
    )
    return [
        reason
        for reason in session.scalars(
            select(AuditEntry.reason).where(
                AuditEntry.record_type == TrainingRequirement.__audit_type__,
                AuditEntry.action == "create",
                AuditEntry.record_id.in_(ad_hoc),
            )
        )
        if reason
    ]


def monthly_trend(effectiveness: Effectiveness) -> dict[str, list[float | None]]:
    """Each figure's percentages in month order, for the chart."""
    found: dict[str, list[float | None]] = defaultdict(list)
    for month in effectiveness.months:
        found["first_time_quiz_pass"].append(month.first_time_quiz.percent)
        found["assessment_pass"].append(month.assessments.percent)
        found["on_time_completion"].append(month.on_time.percent)
        found["retrained_after_human_error"].append(month.retrained_after_human_error.percent)
    return dict(found)
