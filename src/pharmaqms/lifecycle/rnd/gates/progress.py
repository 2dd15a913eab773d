"""Where a project stands: each phase planned against actual. A phase actually starts when the
gate before it is approved (the first when the plan was made) and ends when its own gate is
approved. Reads only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from pharmaqms.lifecycle.rnd.gates import rules, service
from pharmaqms.lifecycle.rnd.gates.models import PHASES, DevelopmentPlan, StageGate


@dataclass(frozen=True)
class PhaseRow:
    phase: str
    label: str
    planned_start: date
    planned_end: date
    actual_start: datetime | None
    actual_end: datetime | None  # the approval of its gate
    gate: StageGate | None

    @property
    def days_late(self) -> int | None:
        """Days the gate passed after its planned end (negative: early)."""
        if self.actual_end is None:
            return None
        return (self.actual_end.date() - self.planned_end).days


@dataclass(frozen=True)
class Progress:
    plan: DevelopmentPlan
    rows: tuple[PhaseRow, ...]

    @property
    def passed(self) -> int:
        return sum(1 for r in self.rows if r.actual_end is not None)

    @property
    def percent(self) -> int:
        return round(100 * self.passed / len(self.rows))


def progress(session: Session, project_id: int) -> Progress:
    plan = service.get_plan(session, project_id)
    planned = {p.phase: p for p in plan.phases}
    gates = {g.phase: g for g in service.gates_of(session, project_id)}
    rows: list[PhaseRow] = []
    start: datetime | None = plan.started_at
    for phase in PHASES:
        gate = gates.get(phase)
        end = gate.approved_at if gate is not None else None
        rows.append(
            PhaseRow(
                phase=phase.value,
                label=rules.phase_label(phase),
                planned_start=planned[phase].planned_start,
                planned_end=planned[phase].planned_end,
                actual_start=start,
                actual_end=end,
                gate=gate,
            )
        )
        start = end  # the next phase opens when this gate is approved
    return Progress(plan, tuple(rows))
