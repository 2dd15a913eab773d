"""The quality demo loaders on a fresh database: a year of history that is consistent with the
workflows (everything written through the services), a few deviations overdue today, CAPAs
closed on time and late, and an audit trail that still verifies."""

from __future__ import annotations

from random import Random
from typing import Any

from sqlalchemy import func, select

from pharmaqms.cli import demo_risk
from pharmaqms.cli.demo import DEMO_PASSWORD, DEMO_PEOPLE
from pharmaqms.kernel import auth, clock
from pharmaqms.kernel.demo import DemoContext
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.verify import verify
from pharmaqms.quality.capa import demo as capa_demo
from pharmaqms.quality.capa import queries as capa_queries
from pharmaqms.quality.changes import demo as changes_demo
from pharmaqms.quality.changes.models import ChangeRequest
from pharmaqms.quality.complaints import demo as complaints_demo
from pharmaqms.quality.complaints.models import Complaint
from pharmaqms.quality.deviations import demo as deviations_demo
from pharmaqms.quality.deviations import queries as deviation_queries
from pharmaqms.quality.deviations import rules as deviation_rules
from pharmaqms.quality.risk.models import RiskAssessment


def _demo_people(db: Any) -> DemoContext:
    with unit_of_work(db) as session:
        system = auth.system_actor(session, Channel.CLI)
        for username, name, roles in DEMO_PEOPLE:
            auth.add_user(
                session,
                actor=system,
                username=username,
                full_name=name,
                roles=roles,
                password=DEMO_PASSWORD,
                must_change_password=False,
            )
        # The demo's operators are the only ones on a demo database (it loads into no other):
        # the change demo's retraining is done when every operator has read the revision.
        operator = auth.user_by_username(session, "operator")
        assert operator is not None
        auth.deactivate_user(
            session, actor=system, user_id=operator.id, reason="not a person of the demo"
        )
    with unit_of_work(db, write=False) as session:
        people = {}
        for username, _name, _roles in DEMO_PEOPLE:
            user = auth.user_by_username(session, username)
            assert user is not None
            people[username] = auth.actor_for(session, user, Channel.CLI)
    return DemoContext(db, people, DEMO_PASSWORD, Random(7), 0.5)


def test_the_quality_demo_writes_a_consistent_year(db: Any) -> None:
    ctx = _demo_people(db)

    for loader in (
        deviations_demo.load,
        capa_demo.load,
        complaints_demo.load,
        changes_demo.load,
        demo_risk.load,
    ):
        with unit_of_work(db) as session:
            loader(session, ctx)

    with unit_of_work(db, write=False) as session:
        rows, total = deviation_queries.find_deviations(
            session, deviation_queries.DeviationFilter(), limit=100
        )
        assert total == 20
        overdue = [
            d
            for d in rows
            if d.due_at is not None
            and d.due_at < clock.now()
            and d.status not in ("closed", "cancelled")
        ]
        assert [d.classification for d in overdue] == ["critical"]
        assert {d.status for d in rows} == {"closed", "investigation"}
        # every class fits the ICH Q9 scores it rests on (the configured risk matrix)
        assert [
            d.number
            for d in rows
            if deviation_rules.class_below_risk(
                d.classification, d.severity, d.probability, d.detectability
            )
        ] == []
        assert capa_queries.register_counts(session) == capa_queries.RegisterCounts(
            open=3, overdue=1, due_this_week=0, overdue_actions=2
        )
        rate = capa_queries.on_time_rate(session, months=13)
        assert (sum(rate.closed), sum(rate.on_time)) == (7, 5)
        changes = dict(session.execute(select(ChangeRequest.title, ChangeRequest.status)).all())
        assert changes == {
            "Stroke counter for tablet press punches": "closed",
            "Summer packing configuration for insulin shipments": "approval",
        }
        complaints = session.scalar(select(func.count()).select_from(Complaint))
        assert complaints == len(complaints_demo.COMPLAINTS)
        assessments = sorted(session.scalars(select(RiskAssessment.status)))
        assert assessments == ["approved", "draft"]
        report = verify(session)
        assert report.intact, report.findings
