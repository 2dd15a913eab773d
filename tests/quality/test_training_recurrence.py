"""Recurring training falls due again after its recurrence period: the daily job assigns the
refresher ahead of time (once), and past the date the person may no longer work under it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from tests.quality.document_steps import counts, effective_document
from tests.support import PASSWORD
from typer.testing import CliRunner

from pharmaqms.cli.jobs import app as jobs_cli
from pharmaqms.kernel import auth, clock
from pharmaqms.kernel.errors import TrainingMissing
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.training import service
from pharmaqms.quality.training.gate import require_current_training
from pharmaqms.quality.training.models import TrainingRequirement
from pharmaqms.quality.training.status import Standing, assessments

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

RENEWED = "Renewed-Secret-77!"


def run_daily() -> str:
    result = CliRunner().invoke(jobs_cli, ["run-daily"])
    assert result.exit_code == 0, result.output
    return result.output


def standing(db, user_id: int, document_id: int) -> Standing:  # type: ignore[no-untyped-def]
    with unit_of_work(db, write=False) as session:
        return assessments(session, [user_id], [document_id])[(user_id, document_id)].standing


def requirements(db, user_id: int) -> list[tuple[str, str, datetime, datetime | None]]:  # type: ignore[no-untyped-def]
    """(status, source, due, expires) of the person's requirements, oldest first."""
    with unit_of_work(db, write=False) as session:
        return [
            (r.status, r.source, r.due_at, r.expires_at)
            for r in session.scalars(
                select(TrainingRequirement)
                .where(TrainingRequirement.user_id == user_id)
                .order_by(TrainingRequirement.id)
            )
        ]


@pytest.mark.postgres
def test_a_recurring_training_falls_due_again_after_its_recurrence_period(db, api, people) -> None:  # type: ignore[no-untyped-def]
    operator = people.operator
    with clock.frozen_at(T0) as moment:
        qa = api("qa")
        sop = effective_document(api("qc"), qa, "Aseptic gowning")
        role = qa.post("/api/v1/training/job-roles", json={"name": "Filling operator"}).json()
        curriculum = qa.post(
            f"/api/v1/training/job-roles/{role['id']}/curricula", json={"name": "Aseptic"}
        ).json()
        qa.post(
            f"/api/v1/training/curricula/{curriculum['id']}/items",
            json={"document_id": sop["id"], "recurrence_months": 12},
        )
        [first] = qa.post(
            f"/api/v1/training/job-roles/{role['id']}/holders",
            json={"user_id": operator.user_id},
        ).json()["assigned"]
        api("operator").post(f"/api/v1/training/requirements/{first['id']}/open")
        signed = api("operator").post(
            f"/api/v1/training/requirements/{first['id']}/complete", json={"password": PASSWORD}
        )
        assert signed.json()["expires_at"] == "2027-03-02T09:00:00Z"

        # given: 31 days before it falls due again, the job leaves it alone
        moment.current = datetime(2027, 1, 30, 9, 0, tzinfo=UTC)
        assert "recurring training assigned: 0, training overdue: 0" in run_daily()

        # when: within the notice period
        moment.current = datetime(2027, 2, 20, 9, 0, tzinfo=UTC)
        output = run_daily()

        # then: one refresher, due when the first runs out; the first still counts
        assert "recurring training assigned: 1, training overdue: 0" in output
        expires = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
        assert requirements(db, operator.user_id) == [
            ("completed", "job_role", datetime(2026, 3, 16, 9, 0, tzinfo=UTC), expires),
            ("assigned", "recurrence", expires, None),
        ]
        assert standing(db, operator.user_id, sop["id"]) == Standing.CURRENT
        before = counts(db)
        assert "recurring training assigned: 0, training overdue: 0" in run_daily()
        assert counts(db) == before

        # when: the recurrence period is over and the refresher not read
        moment.current = datetime(2027, 3, 2, 9, 1, tzinfo=UTC)

        # then: overdue, and governed work is refused
        assert "recurring training assigned: 0, training overdue: 1" in run_daily()
        assert standing(db, operator.user_id, sop["id"]) == Standing.OVERDUE
        with unit_of_work(db, write=False) as session, pytest.raises(TrainingMissing) as refusal:
            require_current_training(session, operator, [sop["number"]])
        [reason] = refusal.value.reasons
        assert reason.endswith("v1.0 overdue since 2027-03-02")

        # when: read again, signed with a password changed as password ageing requires
        with unit_of_work(db) as session:
            auth.change_password(
                session, username="operator", old_password=PASSWORD, new_password=RENEWED
            )
        with unit_of_work(db) as session:
            [refresher] = service.requirements_of(session, operator.user_id, statuses=["assigned"])
            service.open_for_reading(session, actor=operator, requirement_id=refresher.id)
            service.complete_training(
                session, actor=operator, requirement_id=refresher.id, password=RENEWED
            )

        # then: current for another twelve months
        assert standing(db, operator.user_id, sop["id"]) == Standing.CURRENT
        assert requirements(db, operator.user_id)[-1] == (
            "completed",
            "recurrence",
            expires,
            datetime(2028, 3, 2, 9, 1, tzinfo=UTC),
        )
