"""The regulations register: the shipped seed (idempotent, honest about its test references),
import refusals that change nothing, a new edition that supersedes and opens QA's impact
assessment, the export → import round trip, and the change control opened from a regulation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.compliance.steps import register_file, regulation, snapshot

from pharmaqms.compliance import fileformat, service
from pharmaqms.compliance.models import ControlKind, Regulation
from pharmaqms.kernel.errors import Conflict, InvalidInput, PermissionDenied
from pharmaqms.kernel.models import Task
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.changes.models import ChangeRequest

ROOT = Path(__file__).resolve().parents[2]


def _import(db, actor, text: str, source: str = "test.json") -> service.ImportOutcome:  # type: ignore[no-untyped-def]
    entries = fileformat.parse_register(text)
    with unit_of_work(db) as s:
        return service.import_register(s, actor=actor, entries=entries, source=source)


def test_every_test_the_shipped_register_names_exists() -> None:
    named = [
        control.reference
        for entry in fileformat.shipped_register()
        for requirement in entry.requirements
        for control in requirement.controls
        if control.kind == ControlKind.TEST.value
    ]
    assert named, "the shipped register maps requirements to tests"
    missing = [path for path in named if not (ROOT / path.split("::")[0]).is_file()]
    assert missing == []


def test_the_shipped_register_covers_the_regulations_asked_for() -> None:
    entries = {e.code: e for e in fileformat.shipped_register()}
    asked = {"21 CFR 11", "21 CFR 211", "EU GMP Annex 11", "EU GDP", "ICH Q9(R1)", "ICH Q10"}
    asked |= {"ICH E2B(R3)", "ICH Q1E", "China GMP", "NMPA ADR monitoring"}
    assert asked <= set(entries)
    part11 = [r.clause for r in entries["21 CFR 11"].requirements]
    assert [f"11.10({c})" for c in "abcdefghijk"] == part11[:11]
    assert {"11.50", "11.70", "11.100", "11.200", "11.300"} <= set(part11)
    assert [r.clause for r in entries["EU GMP Annex 11"].requirements] == [
        str(n) for n in range(1, 18)
    ]
    audit_trail = next(r for r in entries["21 CFR 11"].requirements if r.clause == "11.10(e)")
    assert "tests/kernel/test_tamper_keyed.py" in {c.reference for c in audit_trail.controls}


def test_the_shipped_file_is_in_the_form_export_writes() -> None:
    path = ROOT / "src/pharmaqms/compliance/data/register.json"
    text = path.read_text(encoding="utf-8")
    assert fileformat.dump_register(fileformat.parse_register(text)) == text


@pytest.mark.postgres
def test_the_seed_loads_once(db, people) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(db) as s:
        first = service.seed(s, actor=people.qa)
    assert len(first.added) == len(fileformat.shipped_register()) and not first.unchanged
    before = snapshot(db)
    with unit_of_work(db) as s:
        again = service.seed(s, actor=people.qa)
    assert again.added == [] and again.superseded == []
    assert len(again.unchanged) == len(first.added)
    assert snapshot(db) == before
    with unit_of_work(db, write=False) as s:
        covers = service.coverage(s)
        part11 = service.current(s, "21 CFR 11")
        assert part11 is not None and part11.number.startswith("REG-")
        assert covers[part11.id].requirements == 16
        assert 0 < covers[part11.id].covered <= 16


def test_only_qa_imports(db, people) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(db)
    with pytest.raises(PermissionDenied), unit_of_work(db) as s:
        service.seed(s, actor=people.operator)
    assert snapshot(db) == before


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{\n  "format": \n}', "line 3"),  # the value is missing where } stands
        (register_file(regulation(), {"code": "X"}), "regulations[1].title"),
        (register_file(regulation(edition="")), "regulations[0].edition"),
        (register_file(regulation(effective_on="2020-13-01")), "regulations[0].effective_on"),
        (register_file(regulation(effective_on=2020)), "regulations[0].effective_on"),
        (
            register_file(
                regulation(
                    requirements=[
                        {
                            "clause": "1",
                            "summary": "x",
                            "controls": [{"kind": "wish", "reference": "r"}],
                        }
                    ]
                )
            ),
            "regulations[0].requirements[0].controls[0].kind",
        ),
        (
            register_file(
                regulation(
                    requirements=[{"clause": "1", "summary": "x"}, {"clause": "1", "summary": "y"}]
                )
            ),
            "regulations[0].requirements[1].clause",
        ),
        (register_file(regulation(), regulation()), "regulations[1].code"),
        (json.dumps({"format": "other", "regulations": []}), "format"),
        (register_file(regulation(extra=1)), "regulations[0]"),
    ],
)
def test_a_bad_file_is_refused_whole_with_the_place_named(db, people, text, field) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(db) as s:
        service.seed(s, actor=people.qa)
    before = snapshot(db)
    with pytest.raises(InvalidInput) as refused:
        _import(db, people.qa, text)
    assert refused.value.field == field
    assert snapshot(db) == before


def test_a_changed_text_under_the_same_edition_is_refused_and_changes_nothing(db, people) -> None:  # type: ignore[no-untyped-def]
    _import(db, people.qa, register_file(regulation()))
    reworded = regulation()
    reworded["requirements"][0]["summary"] = "Keep records for ten years."
    before = snapshot(db)
    # The first regulation of the file is new and fine; the second conflicts: neither is kept.
    with pytest.raises(Conflict, match="regulations\\[1\\]"):
        _import(db, people.qa, register_file(regulation(code="NEW 2"), reworded))
    assert snapshot(db) == before


@pytest.mark.postgres
def test_a_new_edition_supersedes_and_opens_the_impact_assessment(db, people) -> None:  # type: ignore[no-untyped-def]
    _import(db, people.qa, register_file(regulation()))
    newer = regulation(edition="2024")
    newer["requirements"] = [
        {"clause": "1", "summary": "Keep records for ten years.", "controls": []},  # reworded
        {"clause": "2", "summary": "Sign records.", "controls": []},  # same summary
        {"clause": "4", "summary": "Review the system yearly.", "controls": []},  # added
    ]  # clause 3 removed
    outcome = _import(db, people.qa, register_file(newer))
    assert outcome.superseded == ["TEST 1 (2020) → 2024"] and len(outcome.impact_tasks) == 1
    with unit_of_work(db, write=False) as s:
        old, new = s.scalars(select(Regulation).order_by(Regulation.id)).all()
        assert (old.status, old.superseded_by_id) == ("superseded", new.id)
        assert old.retired_at is not None
        assert new.status == "current" and service.current(s, "TEST 1") is new
        changes = json.loads(new.changes_from_previous or "")
        assert changes == {
            "previous_id": old.id,
            "previous_edition": "2020",
            "added": ["4"],
            "removed": ["3"],
            "reworded": ["1"],
        }
        task = s.get(Task, outcome.impact_tasks[0])
        assert task is not None
        assert (task.record_type, task.record_id, task.assignee_role, task.status) == (
            "regulation", new.id, "qa", "open"
        )  # fmt: skip
        assert "added 4" in task.title and "removed 3" in task.title
        assert "reworded 1" in task.title
    # The superseded edition can't come back by import.
    with pytest.raises(Conflict):
        _import(db, people.qa, register_file(regulation()))


def test_export_then_import_is_the_same_register(db, people, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with unit_of_work(db) as s:
        service.seed(s, actor=people.qa)
    with unit_of_work(db, write=False) as s:
        exported = fileformat.dump_register(service.export_register(s))
    shipped = sorted(fileformat.shipped_register(), key=lambda e: e.code)
    assert fileformat.parse_register(exported) == shipped  # the register is listed by code
    before = snapshot(db)
    outcome = _import(db, people.qa, exported)
    assert outcome.added == [] and outcome.superseded == []
    assert snapshot(db) == before
    with unit_of_work(db, write=False) as s:
        assert fileformat.dump_register(service.export_register(s)) == exported


@pytest.mark.postgres
def test_qa_opens_a_change_control_from_a_regulation_linked_both_ways(db, people) -> None:  # type: ignore[no-untyped-def]
    _import(db, people.qa, register_file(regulation()))
    with unit_of_work(db) as s:
        reg = service.current(s, "TEST 1")
        assert reg is not None
        change = service.request_change(
            s, actor=people.qa, regulation_id=reg.id, title="Update the SOP", description=""
        )
        s.flush()
        reg_id, change_id, number = reg.id, change.id, change.number
    with unit_of_work(db, write=False) as s:
        led = service.led_to(s, reg_id)
        assert [(link.record_type, link.record_id) for link in led] == [
            ("change_request", change_id)
        ]
        from pharmaqms.quality import events

        back = events.links_of(s, "change_request", change_id).raised_from
        assert [(link.record_type, link.record_id) for link in back] == [("regulation", reg_id)]
        assert s.get(ChangeRequest, change_id) is not None and number
    before = snapshot(db)
    with pytest.raises(PermissionDenied), unit_of_work(db) as s:
        service.request_change(
            s, actor=people.operator, regulation_id=reg_id, title="x", description=""
        )
    assert snapshot(db) == before
