"""Configuration as controlled records: a regulation's new edition → impact assessment →
change control → a new version of the deviation due days, tested on the sandbox, approved by a
second QA person, in force from its date (the clock moves) — new deviations take the new days,
an old one keeps its rule and shows it. Refusals change nothing; the configuration in force at
past moments is reconstructed; a workflow version that drops a signature is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.compliance.configuration_steps import (
    approved_change_from_a_new_edition,
    classified_deviation,
    draft,
    snapshot,
)
from tests.support import PASSWORD

from pharmaqms.compliance.configuration import service
from pharmaqms.kernel import clock
from pharmaqms.kernel.configuration import store
from pharmaqms.kernel.errors import (
    ControlBroken,
    InvalidInput,
    PermissionDenied,
    SegregationOfDuties,
    TransitionNotAllowed,
)
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.kernel.workflow import signature_rules
from pharmaqms.quality.changes.closure import closure_checks
from pharmaqms.quality.changes.models import ChangeRequest
from pharmaqms.quality.deviations import service as deviations
from pharmaqms.quality.deviations.workflow import DEVIATION_WORKFLOW

DUE = "quality.deviation_due_days"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NEW_DAYS = {"critical": 10, "major": 20, "minor": 45}


@pytest.fixture
def moving_clock(db: Any) -> Any:
    """The template database is made on real time first (the fixture order sees to it)."""
    with clock.frozen_at(START) as frozen:
        yield frozen


def _uses(db: Any, did: int) -> list[tuple[str, int, str]]:
    with unit_of_work(db, write=False) as s:
        return [(u.key, u.version_no, u.purpose) for u in store.uses_of(s, "deviation", did)]


def _due(db: Any, did: int) -> datetime:
    with unit_of_work(db, write=False) as s:
        due = deviations.get_deviation(s, did).due_at
        assert due is not None
        return due


@pytest.mark.clause("part11:11.10(k)", "annex11:10")
@pytest.mark.postgres
def test_a_regulation_change_brings_new_due_days_into_force_from_their_date(
    db: Any, people: Any, moving_clock: clock.FrozenClock
) -> None:
    # given the built-in first versions were seeded at installation
    with unit_of_work(db, write=False) as s:
        seed = store.in_force(s, DUE)
        assert (seed.version_no, seed.content, seed.number is not None) == (
            1, {"critical": 15, "major": 30, "minor": 60}, True
        )  # fmt: skip
    # and a deviation classified under them
    old = classified_deviation(db, people, "Old granulation end point", START)
    assert _due(db, old) == START + timedelta(days=30)
    # and a regulation's new edition led, through its impact assessment, to an approved change
    cid = approved_change_from_a_new_edition(db, people)

    # when QA drafts new due days under the change, effective in a week
    effective = START + timedelta(days=7)
    vid = draft(
        db,
        people.qa,
        DUE,
        NEW_DAYS,
        effective_from=effective,
        change_id=cid,
        rationale="TEST 1 (2024) shortens the time to close a deviation.",
    )
    # the change control can't close while the version is pending
    with unit_of_work(db, write=False) as s:
        change = s.get(ChangeRequest, cid)
        assert [c.problems for c in closure_checks(s, change)] == [
            ["still draft: approve or cancel it"]
        ]
    # approval before the sandbox run is refused
    with (
        pytest.raises(TransitionNotAllowed, match="not possible from status 'draft'"),
        unit_of_work(db) as s,
    ):
        service.transition(s, actor=people.qa2, version_id=vid, name="approve", password=PASSWORD)
    # then the sandbox run evaluates it against the open deviations and writes nothing else
    with unit_of_work(db) as s:
        tested = service.test_version(s, actor=people.qa, version_id=vid)
        summary = list(tested.test_summary)
    assert "days by class: critical 15 → 10, major 30 → 20, minor 60 → 45" in summary
    assert any(line.startswith("DEV-2026-0001 (major): due") and "keeps its date" in line
               for line in summary)  # fmt: skip
    assert "1 open classified deviation(s), 1 with a different due date" in summary
    # the drafter may not approve it (segregation of duties)
    before = snapshot(db)
    with pytest.raises(SegregationOfDuties), unit_of_work(db) as s:
        service.transition(s, actor=people.qa, version_id=vid, name="approve", password=PASSWORD)
    assert snapshot(db) == before
    # a second QA person approves it with her signature
    with unit_of_work(db) as s:
        result = service.transition(
            s, actor=people.qa2, version_id=vid, name="approve", password=PASSWORD
        )
        assert result.signature is not None and result.signature.meaning == "Approved"
        assert result.record.status == "approved"

    # before its date the old rule is still in force
    moving_clock.advance(days=1)
    before_date = classified_deviation(db, people, "Before the date", clock.now())
    assert _due(db, before_date) == clock.now() + timedelta(days=30)
    # once its date has passed, a new deviation takes the new days
    moving_clock.advance(days=7)
    after_date = classified_deviation(db, people, "After the date", clock.now())
    assert _due(db, after_date) == clock.now() + timedelta(days=20)
    assert (DUE, 2, "due date from the classification") in _uses(db, after_date)
    # the old deviation keeps its due date and shows the rule it ran under
    assert _due(db, old) == START + timedelta(days=30)
    assert (DUE, 1, "due date from the classification") in _uses(db, old)
    assert (DUE, 1, "due date from the classification") in _uses(db, before_date)

    # the configuration in force at any past moment is reconstructed
    with unit_of_work(db, write=False) as s:
        assert store.in_force(s, DUE, at=START).version_no == 1
        assert store.in_force(s, DUE, at=effective - timedelta(seconds=1)).version_no == 1
        assert store.in_force(s, DUE, at=effective).content == NEW_DAYS
        assert store.in_force(s, DUE).version_no == 2
        assert store.in_force(s, DUE, at=datetime(2001, 1, 1, tzinfo=UTC)).version_no == 1
        states = {v.version_no: service.state_of(v, store.in_force(s, DUE))
                  for v in store.versions(s, DUE)}  # fmt: skip
        assert states == {2: "in force", 1: "superseded"}
        # and the change control may now close as far as the configuration goes
        change = s.get(ChangeRequest, cid)
        assert [c.problems for c in closure_checks(s, change)] == [[]]


@pytest.mark.clause("part11:11.50")
@pytest.mark.postgres
def test_a_workflow_version_that_drops_a_signature_is_refused_and_nothing_is_stored(
    db: Any, people: Any, moving_clock: clock.FrozenClock
) -> None:
    cid = approved_change_from_a_new_edition(db, people)
    key = "workflow.deviation.signatures"
    builtin = signature_rules(DEVIATION_WORKFLOW)
    common = {
        "effective_from": START + timedelta(days=1),
        "change_id": cid,
        "rationale": "Simplify the deviation approval.",
    }

    def variant(transition: str, **rule: Any) -> dict[str, Any]:
        content = {name: dict(value) for name, value in builtin.items()}
        content[transition].update(rule)
        return content

    before = snapshot(db)
    # a signature the code demands dropped
    with pytest.raises(ControlBroken, match=r"'Approve' \(approve\) must be signed \(Approved\)"):
        draft(db, people.qa, key, variant("approve", signature=None), **common)
    # segregation of duties the code demands dropped
    with pytest.raises(ControlBroken, match="the author may not take it"):
        draft(db, people.qa, key, variant("approve", forbid_author=False), **common)
    with pytest.raises(ControlBroken, match="forbid_holders_of must keep investigator_id"):
        draft(db, people.qa, key, variant("approve", forbid_holders_of=[]), **common)
    # the meaning the code demands changed
    with pytest.raises(ControlBroken, match="may not change it to 'Reviewed'"):
        draft(db, people.qa, key, variant("approve", signature="Reviewed"), **common)
    # a signature without a meaning (on a transition the code does not sign)
    with pytest.raises(InvalidInput, match="a signature without a meaning is not a signature"):
        draft(db, people.qa, key, variant("cancel", signature=""), **common)
    # a transition left out, an unknown one, a field that names nobody
    with pytest.raises(InvalidInput, match="missing: close"):
        draft(db, people.qa, key, {k: v for k, v in builtin.items() if k != "close"}, **common)
    with pytest.raises(InvalidInput, match="'title' is not a field of Deviation naming a person"):
        draft(db, people.qa, key, variant("close", forbid_holders_of=["title"]), **common)
    assert snapshot(db) == before


@pytest.mark.postgres
def test_bad_configuration_drafts_are_refused_with_the_reason_and_change_nothing(
    db: Any, people: Any, moving_clock: clock.FrozenClock
) -> None:
    cid = approved_change_from_a_new_edition(db, people)
    good = {"effective_from": START + timedelta(days=1), "change_id": cid, "rationale": "why"}
    before = snapshot(db)
    with pytest.raises(InvalidInput, match=r"unknown configuration key 'quality\.nonsense'"):
        draft(db, people.qa, "quality.nonsense", {}, **good)
    with pytest.raises(InvalidInput, match="lacks the classes minor"):
        draft(db, people.qa, DUE, {"critical": 10, "major": 20}, **good)
    with pytest.raises(InvalidInput, match="between 1 and 365"):
        draft(db, people.qa, DUE, {"critical": 0, "major": 20, "minor": 30}, **good)
    with pytest.raises(InvalidInput, match="not valid JSON"):
        service.parse_content('{"critical": 10,')
    with pytest.raises(InvalidInput, match="no risk matrix '7x7'"):
        draft(db, people.qa, "quality.risk_matrix", {"matrix": "7x7"}, **good)
    with pytest.raises(ControlBroken, match="FDA OOS guidance"):
        draft(db, people.qa, "qc.oos_phase1_checklist", {"calculation": "Sums"}, **good)
    with pytest.raises(InvalidInput, match="effective date has passed"):
        draft(db, people.qa, DUE, NEW_DAYS, **{**good, "effective_from": START - timedelta(1)})
    with pytest.raises(InvalidInput, match="name the change control"):
        draft(db, people.qa, DUE, NEW_DAYS, **{**good, "change_id": None})
    with pytest.raises(PermissionDenied):
        draft(db, people.operator, DUE, NEW_DAYS, **good)
    assert snapshot(db) == before


@pytest.mark.postgres
def test_an_added_signature_applies_from_its_date_and_the_transition_records_its_rule(
    db: Any, people: Any, api: Any, moving_clock: clock.FrozenClock
) -> None:
    """A version may add what the code does not demand: cancelling a deviation becomes signed."""
    cid = approved_change_from_a_new_edition(db, people)
    key = "workflow.deviation.signatures"
    content = signature_rules(DEVIATION_WORKFLOW)
    content["cancel"]["signature"] = "Rejected"
    vid = draft(
        db,
        people.qa,
        key,
        content,
        effective_from=START + timedelta(hours=1),
        change_id=cid,
        rationale="Cancelling a deviation is a decision QA signs.",
    )
    with unit_of_work(db) as s:
        service.test_version(s, actor=people.qa, version_id=vid)
    with unit_of_work(db) as s:
        service.transition(s, actor=people.qa2, version_id=vid, name="approve", password=PASSWORD)
    first = classified_deviation(db, people, "Cancelled before", clock.now())
    with unit_of_work(db) as s:  # not yet in force: no signature needed
        deviations.transition(
            s, actor=people.qa, deviation_id=first, name="cancel", reason="not a deviation"
        )
    moving_clock.advance(hours=2)
    second = classified_deviation(db, people, "Cancelled after", clock.now())
    qa = api("qa")
    before = snapshot(db)
    # through the API the signer names the version reviewed, for an added signature too
    unreviewed = qa.post(
        f"/api/v1/records/deviation/{second}/transitions/cancel",
        json={"reason": "not a deviation", "password": PASSWORD},
    )
    assert unreviewed.status_code == 422, unreviewed.text
    assert "send expected_version" in unreviewed.json()["detail"]
    with (
        pytest.raises(InvalidInput, match=r"is signed \(Rejected\): enter your password"),
        unit_of_work(db) as s,
    ):
        deviations.transition(
            s, actor=people.qa, deviation_id=second, name="cancel", reason="not a deviation"
        )
    assert snapshot(db) == before
    with unit_of_work(db) as s:
        result = deviations.transition(
            s,
            actor=people.qa,
            deviation_id=second,
            name="cancel",
            reason="not a deviation",
            password=PASSWORD,
        )
        assert result.signature is not None and result.signature.meaning == "Rejected"
    assert (key, 2, "transition:cancel") in _uses(db, second)
    assert not [use for use in _uses(db, first) if use[0] == key]


@pytest.mark.postgres
def test_approval_needs_the_change_control_approved_and_a_date_not_passed(
    db: Any, people: Any, moving_clock: clock.FrozenClock
) -> None:
    cid = approved_change_from_a_new_edition(db, people)
    vid = draft(
        db,
        people.qa,
        DUE,
        NEW_DAYS,
        effective_from=START + timedelta(hours=1),
        change_id=cid,
        rationale="Shorter due days.",
    )
    with unit_of_work(db) as s:
        service.test_version(s, actor=people.qa, version_id=vid)
    moving_clock.advance(hours=2)  # the date passed while it waited for approval
    before = snapshot(db)
    with pytest.raises(TransitionNotAllowed, match="has passed"), unit_of_work(db) as s:
        service.transition(s, actor=people.qa2, version_id=vid, name="approve", password=PASSWORD)
    assert snapshot(db) == before
    # a second draft of the same key waits for the first
    with pytest.raises(InvalidInput, match="still tested"):
        draft(
            db,
            people.qa,
            DUE,
            NEW_DAYS,
            effective_from=clock.now() + timedelta(days=1),
            change_id=cid,
            rationale="again",
        )
    # reopened, revised with a later date, tested again: approved
    with unit_of_work(db) as s:
        service.transition(s, actor=people.qa, version_id=vid, name="reopen", reason="new date")
    with unit_of_work(db) as s:
        version = service.get_version(s, vid)
        assert (version.status, version.test_summary) == ("draft", [])
        service.revise_draft(
            s,
            actor=people.qa,
            version_id=vid,
            expected_version=version.version,
            effective_from=clock.now() + timedelta(days=1),
        )
    with unit_of_work(db) as s:
        service.test_version(s, actor=people.qa, version_id=vid)
    with unit_of_work(db) as s:
        service.transition(s, actor=people.qa2, version_id=vid, name="approve", password=PASSWORD)
    with unit_of_work(db, write=False) as s:
        assert store.in_force(s, DUE).version_no == 1
        assert store.in_force(s, DUE, at=clock.now() + timedelta(days=2)).version_no == 2
