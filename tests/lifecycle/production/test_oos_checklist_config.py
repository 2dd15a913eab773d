"""The OOS phase I checklist as controlled configuration: a version that adds a check, approved
under a change control, applies from its date — an investigation after it answers the new
check, one recorded before keeps (and shows) the checklist it was recorded on; a version that
drops a check the FDA guidance names is refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tests.compliance.configuration_steps import (
    approved_change_from_a_new_edition,
    draft,
    snapshot,
)
from tests.lifecycle.production.setup import (
    PRODUCT,
    add_batch,
    approved_specification,
    seed_master_data,
)
from tests.lifecycle.production.test_oos_flow import ALL_CHECKS_OK, assay
from tests.support import PASSWORD
from tests.web.conftest import UiClient

from pharmaqms.compliance.configuration import service
from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import ControlBroken
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.qc.investigations import PHASE1_CHECKLIST, PHASE1_CHECKS

RETAINED = "Retained sample examined against the original"


def _phase1(client: Any, inv_id: int, checklist: dict[str, str]) -> Any:
    return client.post(
        f"/api/v1/production/qc/investigations/{inv_id}/phase-1",
        json={"findings": "All checked.", "checklist": checklist, "assignable_cause": False},
    )


@pytest.mark.postgres
def test_a_new_check_applies_from_its_date_and_old_findings_keep_their_checklist(
    api: Any, app: Any, db: Any, people: Any, frozen_clock: clock.FrozenClock
) -> None:
    seed_master_data(db, people)
    cid = approved_change_from_a_new_edition(db, people)
    qc, qa = api("qc"), api("qa")
    approved_specification(qc, qa, item_code=PRODUCT)
    checks = {**PHASE1_CHECKS, "retained_sample": RETAINED}
    vid = draft(
        db,
        people.qa,
        PHASE1_CHECKLIST,
        checks,
        effective_from=clock.now() + timedelta(hours=1),
        change_id=cid,
        rationale="Examine the retained sample in every phase I.",
    )
    with unit_of_work(db) as s:
        service.test_version(s, actor=people.qa, version_id=vid)
    with unit_of_work(db) as s:
        service.transition(s, actor=people.qa2, version_id=vid, name="approve", password=PASSWORD)

    before_date = assay(qc, add_batch(db, people, "B26001"), 94.0).json()["investigation_id"]
    assert _phase1(qc, before_date, ALL_CHECKS_OK).status_code == 200
    frozen_clock.advance(hours=2)
    qc = api("qc")
    after_date = assay(qc, add_batch(db, people, "B26002"), 94.0, "S-2").json()["investigation_id"]
    missing = _phase1(qc, after_date, ALL_CHECKS_OK)
    assert missing.status_code == 422, missing.text
    assert f"missing: {RETAINED}" in missing.json()["detail"]
    done = _phase1(qc, after_date, {**ALL_CHECKS_OK, "retained_sample": "ok"})
    assert done.status_code == 200, done.text

    reader = UiClient(app)
    assert reader.login("auditor").status_code == 303
    old_page = reader.get(f"/production/qc/investigations/{before_date}")
    new_page = reader.get(f"/production/qc/investigations/{after_date}")
    assert RETAINED not in old_page.text and f"{PHASE1_CHECKLIST}</a> v1" in old_page.text
    assert RETAINED in new_page.text and f"{PHASE1_CHECKLIST}</a> v2" in new_page.text


def test_a_checklist_without_a_check_the_guidance_names_is_refused(
    db: Any, people: Any, frozen_clock: clock.FrozenClock
) -> None:
    cid = approved_change_from_a_new_edition(db, people)
    without = {k: v for k, v in PHASE1_CHECKS.items() if k != "calculation"}
    before = snapshot(db)
    with pytest.raises(ControlBroken, match=r"'calculation'.*FDA OOS guidance III\.B"):
        draft(
            db,
            people.qa,
            PHASE1_CHECKLIST,
            without,
            effective_from=clock.now() + timedelta(hours=1),
            change_id=cid,
            rationale="Fewer checks.",
        )
    assert snapshot(db) == before
