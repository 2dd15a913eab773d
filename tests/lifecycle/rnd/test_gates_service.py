"""Stage gates through the services: phases pass in order, a gate needs evidence for every
deliverable, the named functions approve with their signatures (each a different person, never
the submitter), the last approval opens the next phase, and every refusal changes nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.lifecycle.rnd.eln_steps import counts
from tests.lifecycle.rnd.gates_steps import (
    PRODUCT,
    approve_all,
    open_with_evidence,
    pass_gate,
    planned_project,
    product,
    submit,
)
from tests.support import PASSWORD

from pharmaqms.kernel import auth
from pharmaqms.kernel.errors import (
    Conflict,
    InvalidInput,
    PermissionDenied,
    SegregationOfDuties,
    SignatureRefused,
    TransitionNotAllowed,
)
from pharmaqms.kernel.identity import Channel
from pharmaqms.kernel.models import ElectronicSignature
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.rnd.gates import rules, service
from pharmaqms.lifecycle.rnd.gates.models import GateApproval, GateEvidence, StageGate
from pharmaqms.lifecycle.rnd.stability import service as stability
from pharmaqms.platform.gs1 import check_digit


def _gate(db: Any, gate_id: int) -> tuple[str, int, int, int]:
    """(status, version, round, approvals) of a gate."""
    with unit_of_work(db, write=False) as s:
        gate = service.get_gate(s, gate_id)
        approvals = s.scalar(
            select(func.count()).select_from(GateApproval).where(GateApproval.gate_id == gate_id)
        )
        return gate.status, gate.version, gate.round, approvals or 0


def _refused(db: Any, error: type[Exception], match: str, verb: Any, **kw: Any) -> None:
    """The verb is refused with ``error`` and nothing changed: no row, no audit entry, no
    signature."""
    before = counts(db)
    with pytest.raises(error, match=match), unit_of_work(db) as s:
        verb(s, **kw)
    assert counts(db) == before


@pytest.mark.postgres
def test_a_gate_passes_when_every_named_function_signed_and_opens_the_next_phase(
    db: Any, people: Any
) -> None:
    project = planned_project(db, people)
    gate_id = open_with_evidence(db, people, project, "pre_formulation")
    submit(db, people, gate_id)
    with unit_of_work(db) as s:
        service.approve_gate(
            s, actor=people.rd, gate_id=gate_id, function="project_lead", password=PASSWORD
        )
    assert _gate(db, gate_id)[0] == "submitted"  # QA R&D has not signed yet
    with unit_of_work(db) as s:
        service.approve_gate(
            s, actor=people.qa, gate_id=gate_id, function="qa_rnd", password=PASSWORD
        )
    with unit_of_work(db, write=False) as s:
        gate = service.get_gate(s, gate_id)
        assert (gate.status, gate.round) == ("approved", 1)
        assert gate.approved_at is not None
        assert service.get_plan(s, project.project_id).current_phase == "formulation"
        meanings = s.execute(
            select(ElectronicSignature.signer_username, ElectronicSignature.meaning)
            .where(
                ElectronicSignature.record_type == "rnd_gate",
                ElectronicSignature.record_id == gate_id,
            )
            .order_by(ElectronicSignature.id)
        ).all()
        assert [tuple(m) for m in meanings] == [("rd", "Approved"), ("qa", "Approved")]


@pytest.mark.postgres
def test_the_submitter_may_not_approve_and_nothing_changes(db: Any, people: Any) -> None:
    project = planned_project(db, people)
    gate_id = open_with_evidence(db, people, project, "pre_formulation")
    submit(db, people, gate_id, who="qa")  # QA submits, then tries to approve for QA R&D
    before = _gate(db, gate_id)
    _refused(
        db,
        SegregationOfDuties,
        "who submits a gate does not approve it",
        service.approve_gate,
        actor=people.qa,
        gate_id=gate_id,
        function="qa_rnd",
        password=PASSWORD,
    )
    assert _gate(db, gate_id) == before
    # Another QA person may.
    with unit_of_work(db) as s:
        service.approve_gate(
            s, actor=people.qa2, gate_id=gate_id, function="qa_rnd", password=PASSWORD
        )
    assert _gate(db, gate_id)[3] == 1


def test_one_person_signs_for_one_function_only(db: Any, people: Any) -> None:
    # A QA person who also holds regulatory affairs: signs once, never twice.
    with unit_of_work(db) as s:
        auth.add_user(
            s,
            actor=auth.system_actor(s, Channel.CLI),
            username="dual",
            full_name="Dana Dual",
            roles=["qa", "regulatory_affairs"],
            password=PASSWORD,
            must_change_password=False,
        )
    project = planned_project(db, people)
    pass_gate(db, people, project, "pre_formulation")
    pass_gate(db, people, project, "formulation")
    gate_id = open_with_evidence(db, people, project, "scale_up")
    submit(db, people, gate_id)
    with unit_of_work(db) as s:
        service.approve_gate(
            s, actor=people.dual, gate_id=gate_id, function="qa_rnd", password=PASSWORD
        )
    before = _gate(db, gate_id)
    _refused(
        db,
        SegregationOfDuties,
        "already signed .* for QA R&D: each function is a different person",
        service.approve_gate,
        actor=people.dual,
        gate_id=gate_id,
        function="regulatory_affairs",
        password=PASSWORD,
    )
    _refused(
        db,
        Conflict,
        "QA R&D has already approved",
        service.approve_gate,
        actor=people.qa2,
        gate_id=gate_id,
        function="qa_rnd",
        password=PASSWORD,
    )
    assert _gate(db, gate_id) == before
    # Returned and resubmitted: in the new round still one function for one person.
    with unit_of_work(db) as s:
        service.return_gate(
            s, actor=people.ra, gate_id=gate_id, password=PASSWORD, reason="batch 3 missing"
        )
    submit(db, people, gate_id)
    _refused(
        db,
        SegregationOfDuties,
        "already signed .* for QA R&D",
        service.approve_gate,
        actor=people.dual,
        gate_id=gate_id,
        function="regulatory_affairs",
        password=PASSWORD,
    )


def test_only_the_project_lead_signs_as_project_lead_and_only_for_a_named_function(
    db: Any, people: Any
) -> None:
    project = planned_project(db, people)
    gate_id = open_with_evidence(db, people, project, "pre_formulation")
    submit(db, people, gate_id, who="qa")
    _refused(
        db,
        PermissionDenied,
        "only the lead of FORM-IBU signs as its project lead",
        service.approve_gate,
        actor=people.rd2,
        gate_id=gate_id,
        function="project_lead",
        password=PASSWORD,
    )
    _refused(
        db,
        InvalidInput,
        "Pre-formulation gates are approved by project_lead, qa_rnd, not 'regulatory_affairs'",
        service.approve_gate,
        actor=people.ra,
        gate_id=gate_id,
        function="regulatory_affairs",
        password=PASSWORD,
    )
    _refused(
        db,
        PermissionDenied,
        "signing for QA R&D needs the role qa",
        service.approve_gate,
        actor=people.rd,
        gate_id=gate_id,
        function="qa_rnd",
        password=PASSWORD,
    )


def test_a_gate_without_evidence_for_every_deliverable_is_neither_submitted_nor_approved(
    db: Any, people: Any
) -> None:
    project = planned_project(db, people)
    with unit_of_work(db) as s:
        gate = service.open_gate(
            s, actor=people.rd2, project_id=project.project_id, phase="pre_formulation"
        )
        s.flush()
        gate_id = gate.id
        service.add_evidence(
            s,
            actor=people.rd2,
            gate_id=gate_id,
            deliverable="api_characterisation",
            reference=project.experiment,
        )
    _refused(
        db,
        TransitionNotAllowed,
        "no evidence for 'Drug substance-excipient compatibility'",
        service.submit_gate,
        actor=people.rd2,
        gate_id=gate_id,
    )
    _refused(
        db,
        TransitionNotAllowed,
        "only a submitted gate is approved .*excipient compatibility",
        service.approve_gate,
        actor=people.rd,
        gate_id=gate_id,
        function="project_lead",
        password=PASSWORD,
    )
    assert _gate(db, gate_id)[0] == "open"


def test_phases_pass_in_order_and_none_is_skipped(db: Any, people: Any) -> None:
    project = planned_project(db, people)
    _refused(
        db,
        TransitionNotAllowed,
        "FORM-IBU is in Pre-formulation: the Scale-up gate opens only after the gates before "
        "it are approved",
        service.open_gate,
        actor=people.rd2,
        project_id=project.project_id,
        phase="scale_up",
    )
    gate_id = open_with_evidence(db, people, project, "pre_formulation")
    _refused(
        db,
        Conflict,
        "has its Pre-formulation gate",
        service.open_gate,
        actor=people.rd2,
        project_id=project.project_id,
        phase="pre_formulation",
    )
    # Submitted but not approved: the next phase is still closed.
    submit(db, people, gate_id)
    _refused(
        db,
        TransitionNotAllowed,
        "is in Pre-formulation",
        service.open_gate,
        actor=people.rd2,
        project_id=project.project_id,
        phase="formulation",
    )
    approve_all(db, people, gate_id)
    with unit_of_work(db) as s:
        assert (
            service.open_gate(
                s, actor=people.rd2, project_id=project.project_id, phase="formulation"
            ).phase
            == "formulation"
        )


def test_an_approved_gate_never_changes(db: Any, people: Any) -> None:
    project = planned_project(db, people)
    gate_id = pass_gate(db, people, project, "pre_formulation")
    with unit_of_work(db, write=False) as s:
        evidence_id = s.scalars(
            select(GateEvidence.id).where(GateEvidence.gate_id == gate_id)
        ).first()
    assert evidence_id is not None
    before = _gate(db, gate_id)
    for verb, kw in (
        (service.edit_gate, {"gate_id": gate_id, "summary": "rewritten afterwards"}),
        (
            service.add_evidence,
            {"gate_id": gate_id, "deliverable": "api_characterisation", "reference": project.risk},
        ),
        (service.withdraw_evidence, {"evidence_id": evidence_id, "reason": "no longer wanted"}),
    ):
        _refused(db, Conflict, "an approved gate never changes", verb, actor=people.rd2, **kw)
    _refused(
        db,
        TransitionNotAllowed,
        "only a submitted gate is approved",
        service.approve_gate,
        actor=people.ra,
        gate_id=gate_id,
        function="qa_rnd",
        password=PASSWORD,
    )
    assert _gate(db, gate_id) == before


def test_evidence_is_checked_against_what_it_names(db: Any, people: Any) -> None:
    project = planned_project(db, people)
    with unit_of_work(db) as s:
        gate_id = service.open_gate(
            s, actor=people.rd2, project_id=project.project_id, phase="pre_formulation"
        ).id
    for deliverable, reference, message in (
        ("api_characterisation", "EXP-1999-0001", "no experiment EXP-1999-0001 in this project"),
        ("api_characterisation", project.risk, "no experiment"),  # the kind the deliverable asks
        ("stability", "STB-1", "Pre-formulation has no deliverable 'stability'"),
        ("api_characterisation", "<script>", "the reference is the number"),
    ):
        _refused(
            db,
            InvalidInput,
            message,
            service.add_evidence,
            actor=people.rd2,
            gate_id=gate_id,
            deliverable=deliverable,
            reference=reference,
        )


def test_an_experiment_without_a_signed_entry_is_not_evidence(db: Any, people: Any) -> None:
    from pharmaqms.lifecycle.rnd.eln import service as notebook

    project = planned_project(db, people)
    with unit_of_work(db) as s:
        unsigned = notebook.start_experiment(
            s, actor=people.rd, project_id=project.project_id, title="Pending", protocol="p"
        )
        gate_id = service.open_gate(
            s, actor=people.rd2, project_id=project.project_id, phase="pre_formulation"
        ).id
        s.flush()
        number = unsigned.number
    _refused(
        db,
        InvalidInput,
        f"{number} has no signed entry",
        service.add_evidence,
        actor=people.rd2,
        gate_id=gate_id,
        deliverable="api_characterisation",
        reference=number,
    )


def test_a_returned_gate_starts_a_new_round_and_earlier_approvals_no_longer_count(
    db: Any, people: Any
) -> None:
    project = planned_project(db, people)
    gate_id = open_with_evidence(db, people, project, "pre_formulation")
    submit(db, people, gate_id)
    with unit_of_work(db) as s:
        service.approve_gate(
            s, actor=people.rd, gate_id=gate_id, function="project_lead", password=PASSWORD
        )
        version = service.get_gate(s, gate_id).version
    with unit_of_work(db) as s:
        service.return_gate(
            s,
            actor=people.qa,
            gate_id=gate_id,
            password=PASSWORD,
            reason="the compatibility study lacks the humidity arm",
            expected_version=version,
        )
    assert _gate(db, gate_id)[:1] == ("open",)
    submit(db, people, gate_id)
    with unit_of_work(db) as s:
        gate = service.get_gate(s, gate_id)
        assert gate.round == 2 and gate.current_approvals() == []
        service.approve_gate(
            s, actor=people.qa, gate_id=gate_id, function="qa_rnd", password=PASSWORD
        )
    assert _gate(db, gate_id)[0] == "submitted"  # the lead's round-1 signature doesn't count
    with unit_of_work(db) as s:
        service.approve_gate(
            s, actor=people.rd, gate_id=gate_id, function="project_lead", password=PASSWORD
        )
    assert _gate(db, gate_id)[0] == "approved"


def test_a_wrong_password_signs_nothing(db: Any, people: Any) -> None:
    project = planned_project(db, people)
    gate_id = open_with_evidence(db, people, project, "pre_formulation")
    submit(db, people, gate_id)
    with pytest.raises(SignatureRefused, match="the password is wrong"), unit_of_work(db) as s:
        service.approve_gate(
            s, actor=people.rd, gate_id=gate_id, function="project_lead", password="wrong-one"
        )
    assert _gate(db, gate_id)[3] == 0


def test_the_tables_of_deliverables_and_approvers_cover_every_phase() -> None:
    from pharmaqms.lifecycle.rnd.gates.models import PHASES

    for phase in PHASES:
        assert rules.DELIVERABLES[phase] and all(d.basis for d in rules.DELIVERABLES[phase])
        approvers = rules.APPROVERS[phase]
        assert rules.Function.PROJECT_LEAD in approvers and rules.Function.QA_RND in approvers
    assert rules.next_phase("technology_transfer") is None
    assert StageGate.__number_prefix__ == "GATE"


def test_a_stability_study_is_evidence_only_when_approved_and_of_the_projects_product(
    db: Any, people: Any
) -> None:
    project = planned_project(db, people)
    for phase in ("pre_formulation", "formulation", "scale_up"):
        gate_id = open_with_evidence(db, people, project, phase)
        submit(db, people, gate_id)
        approve_all(db, people, gate_id)
    other = "0501234567892"
    product(db, people, code="OTHER-TAB", gtin=f"{other}{check_digit(other)}")
    with unit_of_work(db) as s:
        gate_id = service.open_gate(
            s, actor=people.rd2, project_id=project.project_id, phase="clinical_supply"
        ).id
        protocol: dict[str, Any] = {
            "title": "Stability",
            "start_on": date(2026, 1, 15),
            "conditions": [{"code": "25C60RH", "role": "long_term", "time_points": [0, 3]}],
            "attributes": [{"code": "ASSAY", "name": "Assay", "unit": "%", "lower": 95.0}],
            "batches": ["B9"],
        }
        of_another = stability.create_study(
            s, actor=people.rd, product_code="OTHER-TAB", **protocol
        )
        draft = stability.create_study(s, actor=people.rd, product_code=PRODUCT, **protocol)
        s.flush()
        stability.approve_study(s, actor=people.qa, study_id=of_another.id, password=PASSWORD)
        numbers = of_another.number, draft.number
    for reference, message in (
        ("STB-1999-0001", "no stability study STB-1999-0001"),
        (numbers[0], "a study of OTHER-TAB, not of the project's product"),
        (numbers[1], "a draft protocol"),
    ):
        _refused(
            db,
            InvalidInput,
            message,
            service.add_evidence,
            actor=people.rd2,
            gate_id=gate_id,
            deliverable="clinical_stability",
            reference=reference,
        )
    with unit_of_work(db) as s:
        cited = service.add_evidence(
            s,
            actor=people.rd2,
            gate_id=gate_id,
            deliverable="clinical_stability",
            reference=project.stability,
        )
        assert cited.reference == project.stability


def _open_gate_tasks(db: Any, gate_id: int) -> dict[str, tuple[str | None, int | None]]:
    from pharmaqms.kernel.models import Task

    with unit_of_work(db, write=False) as s:
        found = s.scalars(
            select(Task).where(
                Task.record_type == "rnd_gate", Task.record_id == gate_id, Task.status == "open"
            )
        )
        return {t.kind: (t.assignee_role, t.assignee_user_id) for t in found}


def test_submitting_asks_each_named_function_in_its_inbox_and_a_signature_closes_its_task(
    db: Any, people: Any
) -> None:
    project = planned_project(db, people)
    gate_id = pass_gate(db, people, project, "pre_formulation")
    assert _open_gate_tasks(db, gate_id) == {}  # approved: nothing left to do
    gate_id = open_with_evidence(db, people, project, "formulation")
    submit(db, people, gate_id)
    lead = people.rd.user_id  # the planned project's lead
    assert _open_gate_tasks(db, gate_id) == {
        "gate_approval:project_lead": (None, lead),
        "gate_approval:qa_rnd": ("qa", None),
    }
    with unit_of_work(db, write=False) as s:
        from pharmaqms.kernel import tasks

        in_qa_inbox = [i.task.kind for i in tasks.inbox(s, people.qa)]
        assert "gate_approval:qa_rnd" in in_qa_inbox
        assert "gate_approval:project_lead" not in in_qa_inbox
    with unit_of_work(db) as s:
        service.approve_gate(
            s, actor=people.qa, gate_id=gate_id, function="qa_rnd", password=PASSWORD
        )
    assert set(_open_gate_tasks(db, gate_id)) == {"gate_approval:project_lead"}
    with unit_of_work(db) as s:
        service.return_gate(
            s, actor=people.rd, gate_id=gate_id, password=PASSWORD, reason="batch size unclear"
        )
    assert _open_gate_tasks(db, gate_id) == {}  # returned: the round is over
