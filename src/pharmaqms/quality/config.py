"""Settings of the quality processes that a site sets in its SOPs: how long a deviation of each
class may stay open, and which risk matrix turns scores into a risk level.

Environment variables with the ``PHARMAQMS_QUALITY_`` prefix override the defaults, e.g.
``PHARMAQMS_QUALITY_DEVIATION_DUE_DAYS='{"critical": 10, "major": 30, "minor": 60}'``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pharmaqms.kernel.configuration.store import ConfigKind, register_kind

DEVIATION_CLASSES = ("minor", "major", "critical")


class QualitySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PHARMAQMS_QUALITY_", extra="ignore")

    # Days from discovery to closure, per deviation class (a common SOP: 15 / 30 / 60).
    deviation_due_days: dict[str, int] = Field(
        default_factory=lambda: {"critical": 15, "major": 30, "minor": 60}
    )
    # Days QA has to classify a newly reported deviation.
    deviation_triage_days: int = Field(default=2, ge=1, le=30)
    # The risk matrix new risk assessments use (see quality.risk.matrix.MATRICES).
    risk_matrix: str = "5x5"
    # Days a complaint may stay open before the register flags it as overdue.
    complaint_due_days: int = Field(default=30, ge=1, le=365)

    @field_validator("deviation_due_days")
    @classmethod
    def _every_class_has_a_due_time(cls, value: dict[str, int]) -> dict[str, int]:
        missing = [c for c in DEVIATION_CLASSES if c not in value]
        if missing:
            raise ValueError(f"deviation_due_days lacks the classes {', '.join(missing)}")
        unknown = sorted(set(value) - set(DEVIATION_CLASSES))
        if unknown:
            raise ValueError(f"deviation_due_days has unknown classes {', '.join(unknown)}")
        if any(days < 1 or days > 365 for days in value.values()):
            raise ValueError("deviation due days must be between 1 and 365")
        return value


@lru_cache(maxsize=1)
def quality_settings() -> QualitySettings:
    return QualitySettings()


def reset_quality_settings() -> None:
    quality_settings.cache_clear()


# The same settings as controlled configuration (kernel/configuration): the values above are
# the built-in first version; from then on QA changes them through change control, and each
# rule is read as it is in force when it applies.
DEVIATION_DUE_DAYS = "quality.deviation_due_days"
DEVIATION_TRIAGE_DAYS = "quality.deviation_triage_days"
COMPLAINT_DUE_DAYS = "quality.complaint_due_days"
RISK_MATRIX = "quality.risk_matrix"


def due_days_problems(content: Any) -> list[str]:
    if not isinstance(content, dict):
        return ['give the days per class, e.g. {"critical": 15, "major": 30, "minor": 60}']
    try:
        QualitySettings(deviation_due_days=content)
    except ValidationError as error:
        return [str(e["msg"]).removeprefix("Value error, ") for e in error.errors()]
    return []


def _days_problems(low: int, high: int) -> Callable[[Any], list[str]]:
    def problems(content: Any) -> list[str]:
        if not isinstance(content, int) or isinstance(content, bool):
            return [f"give a whole number of days ({low} to {high})"]
        if not low <= content <= high:
            return [f"the days must be between {low} and {high}"]
        return []

    return problems


register_kind(
    ConfigKind(
        key=DEVIATION_TRIAGE_DAYS,
        title="Deviation triage days",
        module="deviations",
        description="Days QA has to classify a newly reported deviation.",
        builtin=lambda: quality_settings().deviation_triage_days,
        validate=_days_problems(1, 30),
        regulatory_basis="ICH Q9(R1) 4.3; EU GMP Part I 1.4(xiv)",
    )
)
register_kind(
    ConfigKind(
        key=COMPLAINT_DUE_DAYS,
        title="Complaint due days",
        module="complaints",
        description="Days a complaint may stay open before the register flags it as overdue.",
        builtin=lambda: quality_settings().complaint_due_days,
        validate=_days_problems(1, 365),
        regulatory_basis="EU GMP Part I chapter 8",
    )
)
