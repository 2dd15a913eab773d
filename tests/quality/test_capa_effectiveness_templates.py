"""CAPA effectiveness criteria templates as controlled configuration
(``quality.capa_effectiveness_templates``): a template fitting the CAPA's source prefills the
plan of its effectiveness check and the CAPA records the version; a version with a shorter
period in force from its date changes the plan of a CAPA planned after it, not before; a
template with a period of 0 or above 24 months, without a measurable criterion, or a duplicate
is refused, nothing stored."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

import pytest
from tests.compliance.configuration_steps import (
    approved_change_from_a_new_edition,
    classified_deviation,
    draft,
    put_in_force,
    snapshot,
    user_id,
    uses,
)
from tests.web.conftest import UiClient

from pharmaqms.kernel import clock
from pharmaqms.kernel.configuration import store
from pharmaqms.kernel.errors import ControlBroken, InvalidInput
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality import events
from pharmaqms.quality.capa import service as capas
from pharmaqms.quality.capa.effectiveness import (
    BUILTIN,
    CAPA_EFFECTIVENESS_TEMPLATES,
    add_months,
    template_controls,
    template_problems,
    templates_for,
)

KEY = CAPA_EFFECTIVENESS_TEMPLATES


def three_months() -> list[dict[str, Any]]:
    content = copy.deepcopy(BUILTIN)
    content[0]["period_months"] = 3
    return content


def _capa_from_deviation(db: Any, people: Any, deviation_id: int) -> int:
    with unit_of_work(db) as s:
        capa = events.open_capa(
            s,
            actor=people.qa,
            source_type="deviation",
            source_id=deviation_id,
            source_label=None,
            title="Granulation end point",
            problem_statement="The end point was missed twice.",
            owner_id=user_id(db, "supervisor"),
            due_at=clock.now() + timedelta(days=30),
        )
        s.flush()
        return int(capa.id)


def _offered(db: Any, capa_id: int) -> dict[str, tuple[str, datetime]]:
    with unit_of_work(db, write=False) as s:
        capa = capas.get_capa(s, capa_id)
        return {p.template_id: (p.criteria, p.due_at) for p in templates_for(s, capa)}


def _plan(db: Any, people: Any, capa_id: int) -> tuple[str, datetime]:
    with unit_of_work(db) as s:
        capa = capas.plan_effectiveness(
            s, actor=people.qa, capa_id=capa_id, required=True, template_id="deviation_recurrence"
        )
        check = capa.pending_check
        assert check is not None
        return check.criteria, check.due_at


# --- pure -------------------------------------------------------------------------------------


def test_the_built_in_templates_are_valid() -> None:
    assert template_problems(BUILTIN) == [] and template_controls(BUILTIN) == []
    assert add_months(datetime(2026, 8, 31, 9), 6) == datetime(2027, 2, 28, 9)


def test_periods_out_of_range_unmeasurable_criteria_and_duplicates_are_named() -> None:
    content = copy.deepcopy(BUILTIN)
    content[0]["period_months"] = 0
    content[1]["period_months"] = 25
    content[2]["target"] = "fewer"
    content[3]["metric"] = " "
    assert template_controls(content) == [
        "deviation_recurrence: a period of 0 months can't judge the actions: give 1 to 24 "
        "(3–6 is usual)",
        "complaint_recurrence: a period of 25 months can't judge the actions: give 1 to 24 "
        "(3–6 is usual)",
        "oos_recurrence: no measurable criterion: give the metric, a comparison "
        "(<=, <, =, >=, >) and a numeric target",
        "audit_repeat_finding: no measurable criterion: give the metric, a comparison "
        "(<=, <, =, >=, >) and a numeric target",
    ]
    twice = [*copy.deepcopy(BUILTIN), {**BUILTIN[0]}, {**BUILTIN[1], "id": "complaint_again"}]
    assert template_problems(twice) == [
        "duplicate template id 'deviation_recurrence'",
        "duplicate: two templates for complaint measure "
        "'complaints of the same defect type on the product'",
        "duplicate: two templates for deviation measure "
        "'deviations with the same root cause in the same area'",
    ]
    assert template_problems([{**BUILTIN[0], "source": "rumour"}])[0].startswith(
        "deviation_recurrence: unknown source 'rumour'; known: any, deviation"
    )


# --- through the configuration change and the CAPA services ----------------------------------


@pytest.mark.postgres
def test_a_shorter_period_prefills_plans_made_after_its_date_not_before(
    db: Any, people: Any, app: Any, frozen_clock: clock.FrozenClock
) -> None:
    start = clock.now()
    deviation = classified_deviation(db, people, "Granulation end point", start)
    early, late = (_capa_from_deviation(db, people, deviation) for _ in range(2))
    # a CAPA raised from a deviation is offered the deviation's template only
    assert list(_offered(db, early)) == ["deviation_recurrence"]
    cid = approved_change_from_a_new_edition(db, people)
    effective = clock.now() + timedelta(hours=1)
    put_in_force(db, people, KEY, three_months(), effective_from=effective, change_id=cid)

    # before its date the plan is prefilled from the built-in template: six months
    criteria, due = _plan(db, people, early)
    assert criteria == (
        "deviations with the same root cause in the same area: at most 0 deviations within 6 "
        "months after the actions are done (data: deviation register)"
    )
    assert due == add_months(clock.now(), 6)
    # after it, from the new version: three months
    frozen_clock.advance(hours=2)
    criteria, due = _plan(db, people, late)
    assert "within 3 months" in criteria and due == add_months(clock.now(), 3)
    # each CAPA records the version its plan came from
    purpose = "effectiveness check from the template deviation_recurrence"
    assert uses(db, "capa", early) == [(KEY, 1, purpose)]
    assert uses(db, "capa", late) == [(KEY, 2, purpose)]
    # and the early plan kept its six months
    with unit_of_work(db, write=False) as s:
        check = capas.get_capa(s, early).pending_check
        assert check is not None and "within 6 months" in check.criteria
        assert store.in_force(s, KEY, at=start).version_no == 1
        assert store.in_force(s, KEY, at=effective).content == three_months()
    # the CAPA's page shows the rule it ran under; the key's page the templates as a table
    reader = UiClient(app)
    assert reader.login("auditor").status_code == 303
    assert f"{KEY}</a> v2" in reader.get(f"/capas/{late}").text
    key_page = reader.get(f"/compliance/configuration/keys/{KEY}").text
    assert 'data-form="templates"' in key_page and "3 months" in key_page


@pytest.mark.postgres
def test_a_template_that_does_not_fit_the_capa_is_refused_and_changes_nothing(
    db: Any, people: Any, frozen_clock: clock.FrozenClock
) -> None:
    deviation = classified_deviation(db, people, "Granulation end point", clock.now())
    capa = _capa_from_deviation(db, people, deviation)
    before = snapshot(db)
    with (
        pytest.raises(InvalidInput, match="no effectiveness template 'complaint_recurrence' fits"),
        unit_of_work(db) as s,
    ):
        capas.plan_effectiveness(
            s, actor=people.qa, capa_id=capa, required=True, template_id="complaint_recurrence"
        )
    assert snapshot(db) == before


@pytest.mark.postgres
def test_bad_template_versions_are_refused_with_the_reason_and_change_nothing(
    db: Any, people: Any, frozen_clock: clock.FrozenClock
) -> None:
    cid = approved_change_from_a_new_edition(db, people)
    good = {"effective_from": clock.now() + timedelta(hours=1), "change_id": cid, "rationale": "x"}

    def changed(n: int, **fields: Any) -> list[dict[str, Any]]:
        content = copy.deepcopy(BUILTIN)
        content[n].update(fields)
        return content

    before = snapshot(db)
    with pytest.raises(ControlBroken, match="a period of 0 months"):
        draft(db, people.qa, KEY, changed(0, period_months=0), **good)
    with pytest.raises(ControlBroken, match="a period of 25 months"):
        draft(db, people.qa, KEY, changed(0, period_months=25), **good)
    with pytest.raises(ControlBroken, match="oos_recurrence: no measurable criterion"):
        draft(db, people.qa, KEY, changed(2, target=None), **good)
    with pytest.raises(InvalidInput, match="duplicate template id 'deviation_recurrence'"):
        draft(db, people.qa, KEY, [*BUILTIN, BUILTIN[0]], **good)
    with pytest.raises(InvalidInput, match="unknown source 'rumour'"):
        draft(db, people.qa, KEY, changed(1, source="rumour"), **good)
    assert snapshot(db) == before
