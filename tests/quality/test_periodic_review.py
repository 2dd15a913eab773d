"""Periodic review of documents in force: the due date, the daily job (with an injected clock),
the two ways a review ends, and the refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from tests.quality.document_steps import bring_revision_into_force, counts, effective_document
from tests.support import PASSWORD
from typer.testing import CliRunner

from pharmaqms.cli.jobs import app as jobs_cli
from pharmaqms.kernel import clock
from pharmaqms.kernel.auth import system_actor
from pharmaqms.kernel.models import AuditEntry, Task
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.documents import periodic_review
from pharmaqms.quality.documents.periodic_review import ReviewState, add_months, review_state

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (datetime(2026, 1, 31, 8, 0, tzinfo=UTC), 1, datetime(2026, 2, 28, 8, 0, tzinfo=UTC)),
        (datetime(2028, 1, 31, 8, 0, tzinfo=UTC), 1, datetime(2028, 2, 29, 8, 0, tzinfo=UTC)),
        (datetime(2026, 11, 30, 8, 0, tzinfo=UTC), 3, datetime(2027, 2, 28, 8, 0, tzinfo=UTC)),
        (datetime(2026, 3, 15, 8, 0, tzinfo=UTC), 24, datetime(2028, 3, 15, 8, 0, tzinfo=UTC)),
    ],
)
def test_a_review_period_ends_on_the_same_day_or_the_last_day_of_a_shorter_month(
    start: datetime, months: int, expected: datetime
) -> None:
    assert add_months(start, months) == expected


def test_a_review_is_due_within_the_notice_period_and_overdue_after_its_date() -> None:
    due = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
    assert review_state(due, datetime(2026, 5, 31, 11, 59, tzinfo=UTC)) == ReviewState.SCHEDULED
    assert review_state(due, datetime(2026, 5, 31, 12, 0, tzinfo=UTC)) == ReviewState.DUE
    assert review_state(due, due) == ReviewState.DUE
    assert review_state(due, datetime(2026, 6, 30, 12, 1, tzinfo=UTC)) == ReviewState.OVERDUE


def test_the_next_review_is_due_a_review_period_after_the_effective_date(frozen_clock, api) -> None:  # type: ignore[no-untyped-def]
    document = effective_document(api("qc"), api("qa"), "Line clearance", review_period_months=12)

    assert document["next_review_due"] == "2027-03-02T09:00:00Z"
    [row] = api("qa").get("/api/v1/periodic-reviews/schedule").json()
    assert (row["number"], row["state"], row["due_at"]) == (
        document["number"],
        "scheduled",
        "2027-03-02T09:00:00Z",
    )
    assert api("qa").get("/api/v1/periodic-reviews/schedule?state=due").json() == []


def _run_daily() -> str:
    result = CliRunner().invoke(jobs_cli, ["run-daily"])
    assert result.exit_code == 0, result.output
    return result.output


def _tasks(db, kind: str) -> list[tuple[int | None, str | None, str, datetime | None]]:  # type: ignore[no-untyped-def]
    """(user, role, title, due) of the tasks of this kind."""
    with unit_of_work(db, write=False) as session:
        return [
            (t.assignee_user_id, t.assignee_role, t.title, t.due_at)
            for t in session.scalars(select(Task).where(Task.kind == kind).order_by(Task.id))
        ]


def test_the_daily_job_opens_one_review_per_due_document_and_flags_it_once_when_overdue(
    db, api, people
) -> None:  # type: ignore[no-untyped-def]
    with clock.frozen_at(T0) as moment:
        document = effective_document(api("qc"), api("qa"), "Gowning", review_period_months=12)
        effective_document(api("qc"), api("qa"), "Weighing", review_period_months=24)

        # given: 31 days before the due date, nothing is due yet
        moment.current = datetime(2027, 1, 30, 9, 0, tzinfo=UTC)
        assert "periodic reviews opened: 0, flagged overdue: 0" in _run_daily()

        # when: the notice period starts
        moment.current = datetime(2027, 2, 10, 9, 0, tzinfo=UTC)
        output = _run_daily()

        # then: one review, and a task for the owner due on the review date
        assert "periodic reviews opened: 1, flagged overdue: 0" in output
        assert _tasks(db, "periodic_review") == [
            (
                people.qc.user_id,
                None,
                f"Periodic review of {document['number']} Gowning",
                datetime(2027, 3, 2, 9, 0, tzinfo=UTC),
            )
        ]
        before = counts(db)
        assert "periodic reviews opened: 0, flagged overdue: 0" in _run_daily()
        assert counts(db) == before

        # when: the due date passes
        moment.current = datetime(2027, 3, 2, 9, 1, tzinfo=UTC)
        assert "periodic reviews opened: 0, flagged overdue: 1" in _run_daily()
        assert _tasks(db, "periodic_review_overdue") == [
            (
                None,
                "qa",
                f"Overdue: periodic review PR-2027-0001 of {document['number']} Gowning "
                "was due 2027-03-02",
                None,
            )
        ]
        before = counts(db)
        assert "periodic reviews opened: 0, flagged overdue: 0" in _run_daily()
        assert counts(db) == before
        with unit_of_work(db, write=False) as session:
            [row] = periodic_review.review_schedule(session, states=[ReviewState.OVERDUE])
            assert row.document.number == document["number"]
            assert row.open_review is not None
            assert row.open_review.overdue_flagged_at == datetime(2027, 3, 2, 9, 1, tzinfo=UTC)


def _open_review(db, api, moment, *, period: int = 1) -> tuple[dict, int]:  # type: ignore[no-untyped-def, type-arg]
    """A document in force whose review the job has just opened; the clock stands 2 days on."""
    document = effective_document(api("qc"), api("qa"), "Gowning", review_period_months=period)
    moment.advance(days=2)
    with unit_of_work(db) as session:
        result = periodic_review.open_due_periodic_reviews(session, actor=system_actor(session))
    [review] = result.opened
    return document, review.id


@pytest.mark.clause("part11:11.10(k)")
@pytest.mark.postgres
def test_concluding_no_change_is_signed_reviewed_and_restarts_the_review_period(
    frozen_clock, db, api
) -> None:  # type: ignore[no-untyped-def]
    document, review_id = _open_review(db, api, frozen_clock)
    reviewer = api("qa")

    concluded = reviewer.post(
        f"/api/v1/periodic-reviews/{review_id}/conclude-no-change",
        json={"password": PASSWORD, "justification": "Still matches the process and GMP."},
    )

    assert concluded.status_code == 200, concluded.text
    body = concluded.json()
    assert body["status"] == "no_change"
    assert body["concluded_at"] == "2026-03-04T09:00:00Z"
    [signature] = body["signatures"]
    assert (signature["meaning"], signature["signer_username"]) == ("Reviewed", "qa")
    assert signature["valid_for_current_content"] is True
    again = reviewer.get(f"/api/v1/documents/{document['id']}").json()
    assert again["next_review_due"] == "2026-04-04T09:00:00Z"
    assert api("qc").get("/api/v1/tasks").json() == []
    [row] = reviewer.get("/api/v1/periodic-reviews/schedule").json()
    assert (row["state"], row["open_review_id"]) == ("scheduled", None)
    with unit_of_work(db) as session:
        assert periodic_review.open_due_periodic_reviews(session, actor=system_actor(session)) == (
            periodic_review.ReviewJobResult([], [])
        )


def test_refused_conclusions_change_nothing(frozen_clock, db, api) -> None:  # type: ignore[no-untyped-def]
    _document, review_id = _open_review(db, api, frozen_clock)
    url = f"/api/v1/periodic-reviews/{review_id}/conclude-no-change"
    qa, operator = api("qa"), api("operator")
    before = counts(db)

    missing = qa.post(url, json={"password": PASSWORD})
    wrong_role = operator.post(url, json={"password": PASSWORD, "justification": "fine"})
    unsigned = qa.post(url, json={"justification": "fine"})

    assert (missing.status_code, missing.json()["field"]) == (422, "justification")
    assert (wrong_role.status_code, wrong_role.json()["code"]) == (403, "permission_denied")
    assert "'Conclude: no change needed' needs one of the roles" in wrong_role.json()["detail"]
    assert (unsigned.status_code, unsigned.json()["field"]) == (422, "password")
    assert counts(db) == before

    wrong_password = qa.post(url, json={"password": "not-it-at-all", "justification": "ok"})

    assert (wrong_password.status_code, wrong_password.json()["code"]) == (401, "signature_refused")
    after = counts(db)
    assert {k: v for k, v in after.items() if k != "audit"} == {
        k: v for k, v in before.items() if k != "audit"
    }
    with unit_of_work(db, write=False) as session:
        added = session.scalars(select(AuditEntry).where(AuditEntry.seq > before["audit"])).all()
        # only the failed attempt on the account is recorded, nothing on the review
        assert [(e.action, e.record_type) for e in added] == [("signature_failed", "user")]

    done = qa.post(url, json={"password": PASSWORD, "justification": "Still valid."})
    assert done.status_code == 200, done.text
    before = counts(db)
    twice = qa.post(url, json={"password": PASSWORD, "justification": "Still valid."})
    assert (twice.status_code, twice.json()["code"]) == (409, "transition_not_allowed")
    assert counts(db) == before


@pytest.mark.clause("part11:11.10(k)")
def test_a_review_that_starts_a_revision_ends_when_the_revision_is_in_force(
    frozen_clock, db, api
) -> None:  # type: ignore[no-untyped-def]
    document, review_id = _open_review(db, api, frozen_clock)
    author = api("qc")

    started = author.post(
        f"/api/v1/periodic-reviews/{review_id}/start-revision",
        json={"change_summary": "Gowning steps updated for the new grade C change room."},
    )

    assert started.status_code == 201, started.text
    draft = started.json()
    assert (draft["number"], draft["status"]) == (f"{document['number']} v1.1", "draft")
    review = author.get(f"/api/v1/periodic-reviews/{review_id}").json()
    assert (review["status"], review["revision_version_id"]) == ("revision_started", draft["id"])
    with unit_of_work(db) as session:
        assert periodic_review.open_due_periodic_reviews(session, actor=system_actor(session)) == (
            periodic_review.ReviewJobResult([], [])
        )

    frozen_clock.advance(days=1)
    author, approver = api("qc"), api("qa")
    version = bring_revision_into_force(
        author, approver, document["id"], "", version_id=draft["id"]
    )

    assert version["status"] == "effective"
    shown = approver.get(f"/api/v1/documents/{document['id']}").json()
    assert shown["next_review_due"] == "2026-04-05T09:00:00Z"


def test_a_revision_can_only_start_from_an_open_review_by_an_author(frozen_clock, db, api) -> None:  # type: ignore[no-untyped-def]
    _document, review_id = _open_review(db, api, frozen_clock)
    url = f"/api/v1/periodic-reviews/{review_id}/start-revision"
    operator, author = api("operator"), api("qc")
    before = counts(db)

    refused = operator.post(url, json={"change_summary": "change"})
    bare = author.post(
        f"/api/v1/records/periodic_review/{review_id}/transitions/start_revision",
        json={"reason": "change"},
    )

    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    assert (bare.status_code, bare.json()["code"]) == (409, "transition_not_allowed")
    assert bare.json()["reasons"] == [
        "start the revision from the periodic review: it creates or links the new draft"
    ]
    assert counts(db) == before
