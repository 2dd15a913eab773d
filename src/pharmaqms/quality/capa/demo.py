"""Demo CAPAs: the life of a CAPA as the demo timeline plays it, and a few CAPAs raised from
outside deviations (an audit finding, a complaint trend)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.orm import Session

from pharmaqms.kernel import clock
from pharmaqms.kernel.demo import DemoContext, register
from pharmaqms.kernel.identity import Actor
from pharmaqms.quality import events
from pharmaqms.quality.capa import service
from pharmaqms.quality.demo_timeline import Timeline


class Course(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"  # actions finished after their due dates: closed after the CAPA's due date
    FAILED_ONCE = "failed_once"  # the first effectiveness check fails and actions reopen
    STALLED = "stalled"  # the owner never finishes the second action: overdue today


# A CAPA is due when its effectiveness has been shown: actions take weeks, the check months.
CAPA_DAYS = 120


@dataclass(frozen=True)
class CapaPlan:
    actions: tuple[tuple[str, str], ...]  # (kind, description)
    criteria: str


def _approver(ctx: DemoContext, owner: Actor) -> Actor:
    quinn = ctx.people["quinn.qa"]
    return ctx.people["rosa.qa"] if owner.user_id == quinn.user_id else quinn


def schedule_life(
    timeline: Timeline,
    session: Session,
    ctx: DemoContext,
    *,
    capa_id: int,
    owner: Actor,
    plan: CapaPlan,
    course: Course,
    opened: datetime,
) -> None:
    """Schedule a CAPA's plan, approval, actions, effectiveness check and closure."""
    qa = _approver(ctx, owner)
    slow = course in (Course.LATE, Course.STALLED)

    def plan_it() -> None:
        for number, (kind, description) in enumerate(plan.actions):
            service.add_action(
                session,
                actor=owner,
                capa_id=capa_id,
                kind=kind,
                description=description,
                owner_id=owner.user_id,
                due_at=opened + timedelta(days=25 + 20 * number),
            )
        service.plan_effectiveness(
            session,
            actor=owner,
            capa_id=capa_id,
            required=True,
            criteria=plan.criteria,
            due_at=opened + timedelta(days=CAPA_DAYS - 20),
        )
        service.transition(session, actor=owner, capa_id=capa_id, name="submit_plan")

    def approve() -> None:
        service.transition(
            session,
            actor=qa,
            capa_id=capa_id,
            name="approve_plan",
            password=ctx.password,
            comment="actions address the root cause; check criteria are measurable",
        )

    def complete(index: int) -> None:
        action = service.get_capa(session, capa_id).actions[index]
        service.complete_action(
            session,
            actor=owner,
            capa_id=capa_id,
            action_id=action.id,
            evidence=f"Done: {action.description.lower()} — records attached to the CAPA file.",
        )

    def start_check() -> None:
        service.transition(session, actor=owner, capa_id=capa_id, name="start_effectiveness_check")

    def verdict(passed: bool) -> None:
        now = clock.now()
        service.record_effectiveness_result(
            session,
            actor=qa,
            capa_id=capa_id,
            passed=passed,
            evidence="No recurrence in the batches reviewed since implementation."
            if passed
            else "The problem recurred once during the review period.",
            password=ctx.password,
            actions_due_at=None if passed else now + timedelta(days=20),
            next_check_due_at=None if passed else now + timedelta(days=50),
        )

    def close() -> None:
        service.transition(session, actor=qa, capa_id=capa_id, name="close", password=ctx.password)

    timeline.at(opened + timedelta(days=2), plan_it)
    timeline.at(opened + timedelta(days=4), approve)
    delay = 45 if slow else 0
    timeline.at(opened + timedelta(days=18 + delay), lambda: complete(0))
    if course == Course.STALLED:
        return
    timeline.at(opened + timedelta(days=38 + delay), lambda: complete(1))
    timeline.at(opened + timedelta(days=40 + delay), start_check)
    checked = opened + timedelta(days=CAPA_DAYS - 20 + delay)
    if course == Course.FAILED_ONCE:
        timeline.at(checked, lambda: verdict(False))
        timeline.at(checked + timedelta(days=14), lambda: complete(0))
        timeline.at(checked + timedelta(days=15), lambda: complete(1))
        timeline.at(checked + timedelta(days=16), start_check)
        checked += timedelta(days=50)
    timeline.at(checked, lambda: verdict(True))
    timeline.at(checked + timedelta(days=2), close)


STANDALONE = (
    (
        "audit_finding",
        "GDP self-inspection 2025-Q4, finding 2",
        "Qualify passive shippers for summer lanes",
        "Two summer shipments of insulin left the 2–8 °C range: the shippers were "
        "qualified for winter profiles only.",
        "lena.logistics",
        CapaPlan(
            (
                ("corrective", "Qualify the 96-hour shipper against the summer profile"),
                ("preventive", "Add seasonal profiles to the shipper qualification SOP"),
            ),
            "No temperature excursion on summer lanes from June to August",
        ),
        Course.ON_TIME,
        300,
    ),
    (
        "audit_finding",
        "Internal audit IA-2026-02, finding 5",
        "Audit trail review of the HPLC data system",
        "Audit trails of chromatography data are not reviewed before results are released.",
        "chen.qc",
        CapaPlan(
            (
                ("corrective", "Review the audit trails of the last 20 released sequences"),
                ("preventive", "Add audit-trail review to the result release checklist"),
            ),
            "Audit-trail review recorded for every sequence released over two months",
        ),
        Course.STALLED,
        95,
    ),
)


def load(session: Session, ctx: DemoContext) -> None:
    today = clock.now()
    timeline = Timeline(today)
    qa = ctx.people["quinn.qa"]
    for source_type, label, title, problem, owner_name, plan, course, age in STANDALONE:
        opened = today - timedelta(days=age)
        owner = ctx.people[owner_name]

        def open_it(
            label: str = label,
            source_type: str = source_type,
            title: str = title,
            problem: str = problem,
            owner: Actor = owner,
            plan: CapaPlan = plan,
            course: Course = course,
            opened: datetime = opened,
        ) -> None:
            capa = events.open_capa(
                session,
                actor=qa,
                source_type=source_type,
                source_id=None,
                source_label=label,
                title=title,
                problem_statement=problem,
                owner_id=owner.user_id,
                due_at=opened + timedelta(days=CAPA_DAYS),
            )
            session.flush()
            schedule_life(
                timeline,
                session,
                ctx,
                capa_id=capa.id,
                owner=owner,
                plan=plan,
                course=course,
                opened=opened,
            )

        timeline.at(opened, open_it)
    timeline.run()


register("capa", load)
