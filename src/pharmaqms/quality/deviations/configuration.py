"""The deviation due days as controlled configuration (``quality.deviation_due_days``), with
its sandbox run: what the proposed days would give the open deviations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel.configuration.store import ConfigKind, InForce, register_kind
from pharmaqms.kernel.reports.text import format_time
from pharmaqms.quality.config import DEVIATION_DUE_DAYS, due_days_problems, quality_settings
from pharmaqms.quality.deviations import rules
from pharmaqms.quality.deviations.models import OPEN_STATUSES, Deviation
from pharmaqms.quality.risk import configuration as _risk_configuration  # noqa: F401  (scored on it)


def _sandbox(session: Session, current: InForce, proposed: Any) -> list[str]:
    """Each open classified deviation: its due date as set, and what the proposal would give
    a deviation like it classified from the effective date. The open ones keep theirs: a
    deviation keeps the rule it was classified under."""
    rows = session.scalars(
        select(Deviation)
        .where(
            Deviation.status.in_([s.value for s in OPEN_STATUSES]),
            Deviation.classification.is_not(None),
        )
        .order_by(Deviation.id)
    ).all()
    changes = {c: (current.content.get(c), proposed.get(c)) for c in sorted(proposed)}
    lines = [
        "days by class: " + ", ".join(f"{c} {old} → {new}" for c, (old, new) in changes.items())
    ]
    differ = 0
    for deviation in rows:
        assert deviation.classification is not None
        would = rules.due_date(deviation.discovered_at, deviation.classification, proposed)
        if deviation.due_at is not None and would != deviation.due_at:
            differ += 1
            lines.append(
                f"{deviation.number} ({deviation.classification}): due "
                f"{format_time(deviation.due_at)}; under the proposal it would be "
                f"{format_time(would)} — it keeps its date"
            )
    lines.append(f"{len(rows)} open classified deviation(s), {differ} with a different due date")
    return lines


register_kind(
    ConfigKind(
        key=DEVIATION_DUE_DAYS,
        title="Deviation due days by class",
        module="deviations",
        description="Days from discovery to closure of a deviation, per class. Applies to the "
        "deviations classified while it is in force; each keeps the rule it was classified "
        "under.",
        builtin=lambda: dict(quality_settings().deviation_due_days),
        validate=due_days_problems,
        sandbox=_sandbox,
        regulatory_basis="EU GMP Part I 1.4(xiv); ICH Q10 3.2.2",
    )
)
