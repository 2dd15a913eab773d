"""Settings of the quality processes that a site sets in its SOPs: how long a deviation of each
class may stay open, and which risk matrix turns scores into a risk level.

Environment variables with the ``PHARMAQMS_QUALITY_`` prefix override the defaults, e.g.
``PHARMAQMS_QUALITY_DEVIATION_DUE_DAYS='{"critical": 10, "major": 30, "minor": 60}'``.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
