"""A product family QA adds through change control (issue 13 §2): a version of
``production.release_rule_sets`` that defines its own families, "modified_release" placed
before oral_solid with a set of its own. Its sandbox names the batches awaiting release that
move family and the decided one it would have placed otherwise; from its date a prolonged-release
tablet runs modified_release's set while a plain tablet stays oral_solid; a decision made before
keeps the placement of the version it recorded, one made after records the new family."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from tests.compliance.configuration_steps import (
    approved_change_from_a_new_edition,
    draft,
    put_in_force,
    uses,
)
from tests.lifecycle.production.ebr_setup import Plant, effective_master, make_batch, plant, steps
from tests.lifecycle.production.setup import gtin
from tests.lifecycle.production.test_release_rule_sets import (
    ALL,
    KEY,
    MODIFIED_RELEASE,
    WITHOUT_SPC,
    with_modified_release,
)
from tests.support import PASSWORD
from tests.web.conftest import UiClient

from pharmaqms.compliance.configuration.service import get_version
from pharmaqms.compliance.configuration.service import test_version as run_on_sandbox
from pharmaqms.kernel import clock
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.release.families import (
    DEFAULT,
    FAMILIES,
    families_of,
    family_title,
)
from pharmaqms.platform.masterdata import service as masterdata

PROLONGED = "P-PARA-PR"
PLAIN = "P-IBU200"


def product_line(p: Plant, code: str, name: str, dosage_form: str, gtin_body: str) -> Plant:
    """A product of ``dosage_form`` and an effective master batch record of it: the plant
    making its batches."""
    with unit_of_work(p.db) as s:
        masterdata.add_product(
            s,
            actor=p.people.admin,
            gtin=gtin(gtin_body),
            code=code,
            name=name,
            dosage_form=dosage_form,
        )
    return replace(p, master_id=effective_master(p.db, p.people, steps(p.sop), product=code))


def checklist(api: Any, lot_id: int) -> dict[str, Any]:
    response = api("qp").get(f"/api/v1/production/batches/{lot_id}/release")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def reject(api: Any, lot_id: int) -> dict[str, Any]:
    response = api("qp").post(
        f"/api/v1/production/batches/{lot_id}/reject",
        json={"password": PASSWORD, "reason": "Dissolution profile out of trend."},
    )
    assert response.status_code == 200, response.text
    decision: dict[str, Any] = response.json()["decision"]
    return decision


def placed(body: dict[str, Any]) -> tuple[str, str, list[str]]:
    return body["product_family"], body["rule_set"], [r["code"] for r in body["rules"]]


def test_a_family_is_named_by_the_title_its_list_gives_it_and_the_default_set_in_words() -> None:
    own = families_of({"families": [MODIFIED_RELEASE]})
    assert family_title("modified_release", own) == MODIFIED_RELEASE["title"]
    assert family_title("oral_solid") == "Oral solid dosage forms"
    # a product no family matches runs the default set: no family's title to show
    assert family_title(DEFAULT, own) == "None: no family matches its dosage form"


@pytest.mark.postgres
def test_a_family_qa_adds_places_its_products_from_its_date_and_decisions_keep_theirs(
    db: Any, people: Any, api: Any, app: Any, frozen_clock: clock.FrozenClock
) -> None:
    # given two product lines: prolonged-release tablets and plain tablets
    p = plant(db, people, api)
    prolonged = product_line(
        p, PROLONGED, "Paracetamol 1 g prolonged-release tablets", "Prolonged-release tablet",
        "0501234500101",
    )  # fmt: skip
    tablets = product_line(p, PLAIN, "Ibuprofen 200 mg tablets", "tablet", "0501234500102")
    # and a prolonged-release batch the QP rejected under the code's families (oral_solid)
    early = make_batch(prolonged, "PR-001")[1]
    rejected = reject(api, early)
    assert placed(checklist(api, early)) == ("oral_solid", f"{KEY} v1", ALL)
    assert (KEY, 1, "the release checklist of the oral_solid family") in uses(
        db, "batch_release", rejected["id"]
    )
    # and two batches awaiting release
    waiting = make_batch(prolonged, "PR-002")[1]
    plain = make_batch(tablets, "TB-001")[1]
    assert placed(checklist(api, waiting))[0] == "oral_solid"

    # when QA puts in force, in an hour, a version whose own families add modified_release
    # before oral_solid (or "tablet" would place it first), with a set leaving out SPC alerts
    cid = approved_change_from_a_new_edition(db, people)
    content = {
        "families": with_modified_release(),
        "default": ALL,
        "modified_release": WITHOUT_SPC,
    }
    vid = put_in_force(
        db, people, KEY, content, effective_from=clock.now() + timedelta(hours=1), change_id=cid
    )

    # then its sandbox named the family, and the batches it moves
    with unit_of_work(db, write=False) as s:
        summary = get_version(s, vid).test_summary
    assert (
        "families: adds modified_release (Modified-release oral solids), placed by "
        "prolonged-release, modified-release, gastro-resistant"
    ) in summary
    assert (
        f"changes family under the proposal: batch {PROLONGED}/PR-002 oral_solid → modified_release"
    ) in summary
    assert any(line.startswith(f"batch {PROLONGED}/PR-002 (oral_solid → modified_release): ")
               for line in summary)  # fmt: skip
    assert any(line.startswith(f"batch {PLAIN}/TB-001 (oral_solid): ") for line in summary)
    assert (
        f"batch {PROLONGED}/PR-001 ({rejected['number']}) was decided as oral_solid under {KEY} "
        "v1; the proposal would place it in modified_release; the decision keeps the placement "
        "it was made under"
    ) in summary
    # a draft placing modified_release after oral_solid would leave the prolonged-release
    # tablets in oral_solid: its sandbox says so
    late = {**content, "families": [*(f.as_entry() for f in FAMILIES), MODIFIED_RELEASE]}
    late_id = draft(db, people.qa, KEY, late, effective_from=clock.now() + timedelta(hours=3),
                    change_id=cid, rationale="modified_release last")  # fmt: skip
    with unit_of_work(db) as s:
        run_on_sandbox(s, actor=people.qa, version_id=late_id)
        assert (
            f"{PROLONGED} (Prolonged-release tablet) names prolonged-release of modified_release "
            "but is placed in oral_solid, which comes first: move modified_release before "
            "oral_solid if it is meant for it"
        ) in get_version(s, late_id).test_summary
    # before its date nothing moves
    assert placed(checklist(api, waiting)) == ("oral_solid", f"{KEY} v1", ALL)
    seen = checklist(api, plain)

    # after it the prolonged-release batch runs modified_release's set, the plain tablet stays
    # oral_solid (the default set), and the decided batch keeps the version it recorded
    frozen_clock.advance(hours=2)
    assert placed(checklist(api, waiting)) == ("modified_release", f"{KEY} v2", WITHOUT_SPC)
    assert checklist(api, waiting)["product_family_title"] == MODIFIED_RELEASE["title"]
    assert placed(checklist(api, plain)) == ("oral_solid", f"{KEY} v2", ALL)
    # the plain tablet's results are the same, but under another rule set: the checklist the
    # QP saw before the date is not the one in force, so its hash (posted back with a
    # release, refused when it differs) differs too
    now_shown = checklist(api, plain)
    assert now_shown["rules"] == seen["rules"]
    assert now_shown["evaluation_hash"] != seen["evaluation_hash"]
    assert placed(checklist(api, early)) == ("oral_solid", f"{KEY} v1", ALL)
    # a decision now records the version, and by it the family its product was placed in
    later = reject(api, waiting)
    assert (KEY, 2, "the release checklist of the modified_release family") in uses(
        db, "batch_release", later["id"]
    )

    # the pages: the checklist names the family; the key page reads the version's own families
    reader = UiClient(app)
    assert reader.login("auditor").status_code == 303
    # by the title the version gives it, its code beside it
    page = reader.get(f"/production/release/{waiting}").text
    assert (
        f'Product family <strong data-family="modified_release">{MODIFIED_RELEASE["title"]}'
        "</strong> <code>modified_release</code>"
    ) in page
    # the batch decided under v1 shows the title of the code's families v1 placed it by
    oral_solid = next(f.title for f in FAMILIES if f.code == "oral_solid")
    assert (
        f'<strong data-family="oral_solid">{oral_solid}</strong> <code>oral_solid</code>'
        in reader.get(f"/production/release/{early}").text
    )
    key_page = reader.get(f"/compliance/configuration/keys/{KEY}").text
    for shown in (key_page, reader.get(f"/compliance/configuration/versions/{vid}").text):
        assert "Families by dosage form, this version&#39;s own (the first match wins)" in shown
        assert (
            f'<span data-family="modified_release">{MODIFIED_RELEASE["title"]} '
            "<code>modified_release</code> (prolonged-release, modified-release, "
            "gastro-resistant)</span>"
        ) in shown
