"""The development recipe and its technology transfer through the services: a recipe is
written, approved by QA's signature and superseded by a later revision; an approved recipe
raises a change request naming the product and the production documents; implementing the
approved change makes production draft the master batch record and the specification from the
recipe; and the change cannot close until both drafts are in force. Every refusal changes
nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from tests.lifecycle.rnd.transfer_steps import (
    API,
    ATTRIBUTES,
    FILLER,
    FORMULA,
    STEPS,
    approve_master,
    approve_specification,
    approved_recipe,
    change_in_implementation,
    counts,
    draft_recipe,
    governing_sop,
    implemented,
    in_effectiveness_review,
    project_with_materials,
    raised_transfer,
)
from tests.support import PASSWORD

from pharmaqms.kernel.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    SegregationOfDuties,
    StaleRecord,
    TransitionNotAllowed,
)
from pharmaqms.kernel.models import ElectronicSignature
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.batchrecords import masters
from pharmaqms.lifecycle.production.qc import specifications
from pharmaqms.lifecycle.rnd.transfer import service
from pharmaqms.quality import events
from pharmaqms.quality.changes import service as changes
from pharmaqms.quality.changes.closure import closure_checks
from pharmaqms.quality.risk import service as risk


def _refused(
    db: Any, error: type[Exception], match: str, verb: Callable[..., Any], **kw: Any
) -> None:
    """The verb is refused with ``error`` and nothing changed: no row, no audit entry, no
    signature, no task."""
    before = counts(db)
    with pytest.raises(error, match=match), unit_of_work(db) as s:
        verb(s, **kw)
    assert counts(db) == before


def _recipe(db: Any, recipe_id: int) -> tuple[str, str, int]:
    with unit_of_work(db, write=False) as s:
        recipe = service.get_recipe(s, recipe_id)
        return recipe.number, recipe.status, recipe.version


@pytest.mark.postgres
def test_a_recipe_is_approved_by_qa_and_a_later_revision_supersedes_it(
    db: Any, people: Any
) -> None:
    project = project_with_materials(db, people)
    recipe_id = draft_recipe(db, people, project)
    with unit_of_work(db, write=False) as s:
        recipe = service.get_recipe(s, recipe_id)
        assert (recipe.number.endswith(" r1"), recipe.status, recipe.product_code) == (
            True,
            "draft",
            "IBU200",
        )
        assert [a["code"] for a in recipe.attributes] == ["ASSAY", "DISSOLUTION"]
        assert recipe.steps[1]["parameters"] == [
            {"name": "compression_force", "unit": "kN", "low": 10.0, "high": 14.0}
        ]
        assert recipe.formula[0] == FORMULA[0]

    # the scientist may not approve (QA signs), and the signature needs the password
    _refused(
        db,
        PermissionDenied,
        "needs one of the roles qa",
        service.approve_recipe,
        actor=people.rd,
        recipe_id=recipe_id,
        password=PASSWORD,
    )
    with unit_of_work(db) as s:
        service.approve_recipe(s, actor=people.qa, recipe_id=recipe_id, password=PASSWORD)
    number, status, _ = _recipe(db, recipe_id)
    assert status == "approved"
    # an approved recipe is not edited: it is revised
    _refused(
        db,
        Conflict,
        "only a draft is edited",
        service.edit_recipe,
        actor=people.rd,
        recipe_id=recipe_id,
        expected_version=_recipe(db, recipe_id)[2],
        title="Renamed",
    )
    _refused(
        db,
        InvalidInput,
        "say what the revision changes",
        service.revise_recipe,
        actor=people.rd,
        recipe_id=recipe_id,
        change_summary=" ",
    )
    with unit_of_work(db) as s:
        revised = service.revise_recipe(
            s, actor=people.rd, recipe_id=recipe_id, change_summary="Wider compression range"
        )
        s.flush()
        revised_id = revised.id
    with unit_of_work(db) as s:
        steps = [dict(step) for step in STEPS]
        steps[1] = {
            **steps[1],
            "parameters": [{"name": "compression_force", "unit": "kN", "low": 9, "high": 15}],
        }
        service.edit_recipe(
            s,
            actor=people.rd,
            recipe_id=revised_id,
            expected_version=_recipe(db, revised_id)[2],
            steps=steps,
        )
    _refused(
        db,
        Conflict,
        "is a draft revision already",
        service.revise_recipe,
        actor=people.rd,
        recipe_id=recipe_id,
        change_summary="Another one",
    )
    with unit_of_work(db) as s:
        service.approve_recipe(s, actor=people.qa, recipe_id=revised_id, password=PASSWORD)
    assert _recipe(db, revised_id)[:2] == (number.replace(" r1", " r2"), "approved")
    assert _recipe(db, recipe_id)[1] == "superseded"


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"formula": []}, r"formula: at least one is needed"),
        (
            {"formula": [{**FORMULA[0], "material_code": "M-NOWHERE"}]},
            "materials not in the master data: M-NOWHERE",
        ),
        ({"formula": [FORMULA[0], FORMULA[0]]}, "materials named twice in the formula: M-IBU-API"),
        ({"formula": [{**FORMULA[0], "quantity": 0}]}, r"formula\[0\].quantity must be positive"),
        (
            {"steps": [{**STEPS[0], "parameters": [{"name": "speed", "low": 150, "high": 100}]}]},
            r"steps\[0\].parameters\[0\] \(speed\): the lower limit exceeds the upper",
        ),
        ({"steps": [{**STEPS[0], "target_minutes": 0}]}, r"steps\[0\].target_minutes is 1 to"),
        ({"steps": [{**STEPS[0], "colour": "red"}]}, r"steps\[0\]: unknown keys colour"),
        (
            {"attributes": [{"code": "PH", "name": "pH"}]},
            r"attributes\[0\] \(pH\) needs a lower or an upper limit",
        ),
        ({"attributes": [ATTRIBUTES[0], ATTRIBUTES[0]]}, "attributes named twice: ASSAY"),
        ({"batch_size": -5}, "the batch size must be positive"),
    ],
)
def test_a_recipe_that_does_not_hold_together_is_refused(
    db: Any, people: Any, change: dict[str, Any], match: str
) -> None:
    project = project_with_materials(db, people)
    recipe: dict[str, Any] = {
        "project_id": project.project_id,
        "title": "Ibuprofen tablets",
        "batch_size": 1000,
        "batch_unit": "tablets",
        "formula": FORMULA,
        "steps": STEPS,
        "attributes": ATTRIBUTES,
        **change,
    }
    _refused(db, InvalidInput, match, service.define_recipe, actor=people.rd, **recipe)


def test_a_recipe_needs_a_planned_project_and_a_writer(db: Any, people: Any) -> None:
    project = project_with_materials(db, people)
    recipe: dict[str, Any] = {
        "project_id": project.project_id,
        "title": "Ibuprofen tablets",
        "batch_size": 1000,
        "batch_unit": "tablets",
        "formula": FORMULA,
        "steps": STEPS,
        "attributes": ATTRIBUTES,
    }
    _refused(
        db,
        PermissionDenied,
        "write development recipes",
        service.define_recipe,
        actor=people.supervisor,
        **recipe,
    )
    _refused(
        db,
        Conflict,
        "has no development plan",
        service.define_recipe,
        actor=people.rd,
        **{**recipe, "project_id": _unplanned_project(db, people)},
    )


def _unplanned_project(db: Any, people: Any) -> int:
    from tests.lifecycle.rnd.eln_steps import notebook

    return notebook(db, people, code="FORM-NOPLAN").project_id


def test_the_author_of_a_recipe_does_not_approve_it(db: Any, people: Any) -> None:
    project = project_with_materials(db, people)
    with unit_of_work(db) as s:
        recipe = service.define_recipe(
            s,
            actor=people.qa,
            project_id=project.project_id,
            title="Written by QA",
            batch_size=10,
            batch_unit="kg",
            formula=FORMULA,
            steps=STEPS,
            attributes=ATTRIBUTES,
        )
        s.flush()
        recipe_id = recipe.id
    _refused(
        db,
        SegregationOfDuties,
        "may not 'Approve the recipe' it",
        service.approve_recipe,
        actor=people.qa,
        recipe_id=recipe_id,
        password=PASSWORD,
    )


def test_only_an_approved_recipe_is_transferred_and_only_once_at_a_time(
    db: Any, people: Any
) -> None:
    project = project_with_materials(db, people)
    draft = draft_recipe(db, people, project)
    transfer: dict[str, Any] = {
        "market": "EU",
        "justification": "The process is ready for the plant.",
    }
    _refused(
        db,
        Conflict,
        "only an approved recipe is transferred",
        service.raise_transfer,
        actor=people.rd,
        recipe_id=draft,
        **transfer,
    )
    recipe_id = approved_recipe(db, people, project)
    _refused(
        db,
        InvalidInput,
        "say why the recipe goes to production",
        service.raise_transfer,
        actor=people.rd,
        recipe_id=recipe_id,
        **{**transfer, "justification": ""},
    )
    _refused(
        db,
        PermissionDenied,
        "raise technology transfers",
        service.raise_transfer,
        actor=people.supervisor,
        recipe_id=recipe_id,
        **transfer,
    )
    _transfer_id, change_id = raised_transfer(db, people, recipe_id)
    with unit_of_work(db, write=False) as s:
        number = changes.get_change(s, change_id).number
    _refused(
        db,
        Conflict,
        f"being transferred already under {number} \\(draft\\)",
        service.raise_transfer,
        actor=people.rd,
        recipe_id=recipe_id,
        **transfer,
    )
    # a cancelled change frees the recipe for another transfer
    with unit_of_work(db) as s:
        changes.transition(
            s, actor=people.rd, change_id=change_id, name="cancel", reason="wrong market"
        )
    second, _ = raised_transfer(db, people, recipe_id)
    assert second


@pytest.mark.postgres
def test_a_transfer_drafts_production_documents_and_its_change_closes_once_they_are_in_force(
    db: Any, people: Any
) -> None:
    # given an approved recipe raises its transfer
    project = project_with_materials(db, people)
    recipe_id = approved_recipe(db, people, project)
    transfer_id, change_id = raised_transfer(db, people, recipe_id)
    with unit_of_work(db, write=False) as s:
        change = changes.get_change(s, change_id)
        recipe = service.get_recipe(s, recipe_id)
        assert (change.status, change.owner_id) == ("draft", people.rd.user_id)
        assert change.title == f"Technology transfer of IBU200: {recipe.title}"
        assert change.description.endswith(
            "Affected:\n"
            "- product IBU200 — IBU200 tablets\n"
            f"- master batch record: a new draft made from {recipe.number}\n"
            f"- specification: a new draft release specification (EU) made from {recipe.number}"
        )
        # the loop is visible from both sides
        assert [
            (link.record_type, link.record_id)
            for link in events.links_of(s, "rnd_recipe", recipe_id).led_to
        ] == [("change_request", change_id)]
        assert [c.label for c in closure_checks(s, change)] == [
            f"Technology transfer of {recipe.number}"
        ]
        view = service.transfer_view(s, service.get_transfer(s, transfer_id))
        assert view.stage == "change raised"

    # the transfer is implemented only once the change is approved
    sop = governing_sop(db, people)
    _refused(
        db,
        Conflict,
        "the transfer is implemented once the change is approved",
        service.implement_transfer,
        actor=people.qa,
        transfer_id=transfer_id,
        governing_sops=[sop],
    )
    action_id = change_in_implementation(db, people, change_id)
    _refused(
        db,
        InvalidInput,
        "name the production SOP",
        service.implement_transfer,
        actor=people.qa,
        transfer_id=transfer_id,
        governing_sops=[" "],
    )
    # production's own rules hold: the scientist may not write a master batch record
    _refused(
        db,
        PermissionDenied,
        "define master batch records",
        service.implement_transfer,
        actor=people.rd,
        transfer_id=transfer_id,
        governing_sops=[sop],
    )
    _refused(
        db,
        InvalidInput,
        "SOPs in force",
        service.implement_transfer,
        actor=people.qa,
        transfer_id=transfer_id,
        governing_sops=["SOP-2026-0999"],
    )

    # when it is implemented, production holds the drafts made from the recipe
    drafts = implemented(db, people, transfer_id, sop)
    assert [d["kind"] for d in drafts] == ["master_batch_record", "specification"]
    with unit_of_work(db, write=False) as s:
        master = masters.get_master(s, drafts[0]["record_id"])
        assert (master.product_code, master.batch_size, master.batch_unit) == (
            "IBU200",
            100000.0,
            "tablets",
        )
        made = masters.steps(master)
        assert [step.title for step in made] == [
            "Dispense the formula",
            "Granulate",
            "Compress the tablets",
        ]
        assert [(m.material_code, m.quantity, m.tolerance_percent) for m in made[0].materials] == [
            (API, 20.0, 0.5),
            (FILLER, 12.5, 2.0),
        ]
        assert [(p.name, p.low, p.high) for p in made[2].parameters] == [
            ("compression_force", 10.0, 14.0)
        ]
        assert [c.name for c in made[2].in_process_controls] == ["tablet_hardness"]
        assert made[1].sop_numbers == (sop,)
        spec = specifications.get_specification(s, drafts[1]["record_id"])
        assert (spec.status, spec.item_code, spec.market) == ("draft", "IBU200", "EU")
        assert [(t.test_code, t.lower_limit, t.upper_limit, t.method) for t in spec.tests] == [
            ("ASSAY", 95.0, 105.0, "HPLC"),
            ("DISSOLUTION", 80.0, None, ""),
        ]
        master_number, spec_number = master.number, spec.number
        view = service.transfer_view(s, service.get_transfer(s, transfer_id))
        assert view.stage == "drafts in production"
    _refused(
        db,
        Conflict,
        f"drafted {master_number}, {spec_number} already",
        service.implement_transfer,
        actor=people.qa,
        transfer_id=transfer_id,
        governing_sops=[sop],
    )

    # then the change may not close while the drafts are not in force
    in_effectiveness_review(db, people, change_id, action_id)
    before = counts(db)
    with pytest.raises(TransitionNotAllowed) as refused, unit_of_work(db) as s:
        changes.transition(
            s, actor=people.qa2, change_id=change_id, name="close", password=PASSWORD
        )
    assert counts(db) == before
    label = f"Technology transfer of {_recipe(db, recipe_id)[0]}"
    assert f"{label}: {master_number} is draft, not effective" in refused.value.detail
    assert f"{label}: {spec_number} is draft, not approved" in refused.value.detail

    approve_master(db, people, drafts[0]["record_id"])
    with pytest.raises(TransitionNotAllowed) as still, unit_of_work(db) as s:
        changes.transition(
            s, actor=people.qa2, change_id=change_id, name="close", password=PASSWORD
        )
    assert master_number not in still.value.detail
    assert f"{spec_number} is draft, not approved" in still.value.detail

    # and once both are in force it closes
    approve_specification(db, people, drafts[1]["record_id"])
    with unit_of_work(db) as s:
        change = changes.get_change(s, change_id)
        assert [c.met for c in closure_checks(s, change)] == [True]
        changes.transition(
            s, actor=people.qa2, change_id=change_id, name="close", password=PASSWORD
        )
    with unit_of_work(db, write=False) as s:
        assert changes.get_change(s, change_id).status == "closed"
        assert service.transfer_view(s, service.get_transfer(s, transfer_id)).stage == "complete"
        closing = s.query(ElectronicSignature).filter_by(meaning="Closed").one()
        assert closing.signer_id == people.qa2.user_id


def test_an_edit_of_a_recipe_someone_changed_meanwhile_is_refused(db: Any, people: Any) -> None:
    project = project_with_materials(db, people)
    recipe_id = draft_recipe(db, people, project)
    version = _recipe(db, recipe_id)[2]
    with unit_of_work(db) as s:
        service.edit_recipe(
            s, actor=people.rd, recipe_id=recipe_id, expected_version=version, batch_size=50000
        )
    _refused(
        db,
        StaleRecord,
        f"is at version {version + 1}, not {version}",
        service.edit_recipe,
        actor=people.rd,
        recipe_id=recipe_id,
        expected_version=version,
        title="Overwriting what I did not see",
    )


def test_a_product_fmea_needs_a_product_of_the_master_data(db: Any, people: Any) -> None:
    project_with_materials(db, people)
    _refused(
        db,
        NotFound,
        "no product with id 999999",
        risk.create_assessment,
        actor=people.qa,
        title="Product FMEA",
        scope="Design",
        subject_type="product",
        subject_id=999999,
    )
    _refused(
        db,
        InvalidInput,
        "a risk assessment attaches to a product or a record; 'recipe' is neither",
        risk.create_assessment,
        actor=people.qa,
        title="Process FMEA",
        scope="Design",
        subject_type="recipe",
        subject_id=1,
    )
