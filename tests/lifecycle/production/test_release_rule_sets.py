"""Release rule sets per product family as controlled configuration
(``production.release_rule_sets``): a set that leaves out a rule of guidance only (SPC alerts
acknowledged) in force from its date lets a batch with an open SPC alert pass after the date,
not before; the decision records the set and its page shows it; a set that drops a rule a
regulation demands, names an unknown rule or an unknown family is refused, nothing stored.
A version may carry its own product families (``"families"``); malformed ones, and a set naming
a family the version does not define, are refused with the reason, nothing stored. (A family QA
adds, end to end: test_release_families.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.compliance.configuration_steps import (
    approved_change_from_a_new_edition,
    draft,
    put_in_force,
    snapshot,
    uses,
)
from tests.lifecycle.production.ebr_setup import (
    Plant,
    build_plant,
    make_batch,
    pass_qc,
    plant_database,
)
from tests.lifecycle.production.test_release_rules import open_spc_alert
from tests.support import PASSWORD
from tests.web.conftest import UiClient

from pharmaqms.compliance.configuration.service import get_version
from pharmaqms.kernel import clock
from pharmaqms.kernel.configuration import store
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import ControlBroken, InvalidInput
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.production.release.families import (
    FAMILIES,
    families_of,
    family_of,
)
from pharmaqms.lifecycle.production.release.rule_sets import (
    RELEASE_RULE_SETS,
    RULE_CODES,
    rule_set_controls,
    rule_set_problems,
)
from pharmaqms.lifecycle.production.release.rules import RULES

KEY = RELEASE_RULE_SETS
ALL = list(RULE_CODES)
WITHOUT_SPC = [c for c in ALL if c != "spc_alerts_acknowledged"]


@pytest.fixture(scope="module")
def built(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Plant]]:
    yield from build_plant(sqlite_template, tmp_path_factory.mktemp("plant"))


@pytest.fixture
def db(built: tuple[Path, Plant], tmp_path: Path) -> Iterator[Database]:
    yield from plant_database(built, tmp_path)


@pytest.fixture
def p(built: tuple[Path, Plant], db: Database, people: Any, api: Any, frozen_clock: Any) -> Plant:
    return built[1].rebind(db, people, api)


def test_the_rules_a_regulation_demands_are_marked() -> None:
    assert sorted(r.code for r in RULES if not r.mandatory) == [
        "exceptions_reviewed",
        "spc_alerts_acknowledged",
    ]


def test_a_product_is_placed_in_its_family_by_its_dosage_form() -> None:
    assert family_of("suspension for injection in pre-filled syringe") == "sterile"
    assert family_of("Film-coated tablet") == "oral_solid"
    assert family_of("") == "default"


def test_unknown_rules_and_families_and_dropped_mandatory_rules_are_named() -> None:
    assert rule_set_problems({"default": ALL}) == [] and rule_set_controls({"default": ALL}) == []
    assert rule_set_problems({"sterile": ALL, "tablets": ALL, "default": [*ALL, "qp_mood"]}) == [
        "unknown product family 'tablets'; known: default, sterile, biological, oral_solid, "
        "oral_liquid, topical",
        f"default: unknown rule(s) 'qp_mood'; the catalogue: {', '.join(ALL)}",
    ]
    assert rule_set_problems({"sterile": ALL}) == [
        "the default set is missing: a family without its own set runs it"
    ]
    dropped = [c for c in ALL if c != "qc_passed"]
    assert rule_set_controls({"default": ALL, "sterile": dropped}) == [
        "sterile drops 'qc_passed' (QC results in specification, no open OOS, certificate "
        "approved; 21 CFR 211.165; EU GMP Ch. 6; FDA OOS guidance): the rule is mandatory by "
        "regulation and no family's set may leave it out"
    ]


def _checklist(api: Any, lot_id: int) -> dict[str, Any]:
    response = api("qp").get(f"/api/v1/production/batches/{lot_id}/release")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_set_in_force_from_its_date_changes_the_checklist_after_it_not_before(
    p: Plant, api: Any, app: Any, frozen_clock: clock.FrozenClock
) -> None:
    # given a batch made and tested, with an SPC alert nobody acknowledged
    ids = make_batch(p, "B3101")
    pass_qc(p, ids[1])
    frozen_clock.advance(hours=1)
    open_spc_alert(p, ids)
    start = clock.now()
    # and a version whose default set leaves the SPC rule out, in force in an hour
    cid = approved_change_from_a_new_edition(p.db, p.people)
    effective = clock.now() + timedelta(hours=1)
    vid = put_in_force(
        p.db,
        p.people,
        KEY,
        {"default": WITHOUT_SPC, "sterile": ALL},
        effective_from=effective,
        change_id=cid,
    )
    with unit_of_work(p.db, write=False) as s:
        summary = get_version(s, vid).test_summary
    assert "default: adds nothing; drops spc_alerts_acknowledged" in summary
    assert any("fails spc_alerts_acknowledged; under the proposal all 10 rules pass" in line
               for line in summary)  # fmt: skip

    # before its date the SPC rule fails the checklist
    before = _checklist(api, ids[1])
    assert (before["failing_rules"], before["rule_set"], before["product_family"]) == (
        ["spc_alerts_acknowledged"], f"{KEY} v1", "default"
    )  # fmt: skip
    # after it the batch's family runs without it, and the QP may release
    frozen_clock.advance(hours=2)
    after = _checklist(api, ids[1])
    assert (after["failing_rules"], after["rule_set"]) == ([], f"{KEY} v2")
    assert [r["code"] for r in after["rules"]] == WITHOUT_SPC
    released = api("qp").post(
        f"/api/v1/production/batches/{ids[1]}/release",
        json={"password": PASSWORD, "evaluation_hash": after["evaluation_hash"]},
    )
    assert released.status_code == 200, released.text
    decision = released.json()["decision"]
    assert (KEY, 2, "the release checklist of the default family") in uses(
        p.db, "batch_release", decision["id"]
    )
    # the configuration in force at past moments is reconstructed
    with unit_of_work(p.db, write=False) as s:
        assert store.in_force(s, KEY, at=start).version_no == 1
        assert store.in_force(s, KEY, at=effective).content["default"] == WITHOUT_SPC
    # the checklist page names the set it ran under; the key's page shows the sets as a table
    reader = UiClient(app)
    assert reader.login("auditor").status_code == 303
    page = reader.get(f"/production/release/{ids[1]}").text
    assert "Rules it ran under" in page and f"{KEY}</a> v2" in page
    key_page = reader.get(f"/compliance/configuration/keys/{KEY}").text
    assert 'data-form="rule_sets"' in key_page and "— left out" in key_page
    assert "Families by dosage form, the code&#39;s built-in ones" in key_page


def test_bad_rule_sets_are_refused_with_the_reason_and_change_nothing(
    p: Plant, frozen_clock: clock.FrozenClock
) -> None:
    cid = approved_change_from_a_new_edition(p.db, p.people)
    good = {"effective_from": clock.now() + timedelta(hours=1), "change_id": cid, "rationale": "x"}
    no_qc = [c for c in ALL if c != "qc_passed"]
    before = snapshot(p.db)
    with pytest.raises(ControlBroken, match="sterile drops 'qc_passed'"):
        draft(p.db, p.people.qa, KEY, {"default": ALL, "sterile": no_qc}, **good)
    with pytest.raises(ControlBroken, match="default drops 'batch_record_complete'"):
        draft(p.db, p.people.qa, KEY, {"default": ALL[1:]}, **good)
    with pytest.raises(InvalidInput, match="unknown rule"):
        draft(p.db, p.people.qa, KEY, {"default": [*ALL, "qp_mood"]}, **good)
    with pytest.raises(InvalidInput, match="unknown product family 'tablets'"):
        draft(p.db, p.people.qa, KEY, {"default": ALL, "tablets": ALL}, **good)
    assert snapshot(p.db) == before


MODIFIED_RELEASE = {
    "code": "modified_release",
    "title": "Modified-release oral solids",
    "words": ["prolonged-release", "modified-release", "gastro-resistant"],
}


def with_modified_release(entry: Any = MODIFIED_RELEASE) -> list[Any]:
    """The code's families with ``entry`` placed before oral_solid (or "tablet" would win)."""
    families: list[Any] = [f.as_entry() for f in FAMILIES]
    at = [f["code"] for f in families].index("oral_solid")
    return [*families[:at], entry, *families[at:]]


def test_a_version_without_families_places_products_by_the_codes() -> None:
    assert families_of({"default": ALL}) == FAMILIES
    own = families_of({"families": with_modified_release(), "default": ALL})
    assert [f.code for f in own] == [
        "sterile", "biological", "modified_release", "oral_solid", "oral_liquid", "topical"
    ]  # fmt: skip
    assert family_of("Prolonged-release tablet", own) == "modified_release"
    assert family_of("Prolonged-release tablet") == "oral_solid"
    assert family_of("tablet", own) == "oral_solid"
    # a draft starts from the families spelled out, reading the same
    offered = store.draft_from(store.kind(KEY), {"default": ALL})
    assert offered == {"families": [f.as_entry() for f in FAMILIES], "default": ALL}
    assert rule_set_problems(offered) == [] and families_of(offered) == FAMILIES


def _entry(**changes: Any) -> dict[str, Any]:
    return {**MODIFIED_RELEASE, **changes}


MALFORMED_FAMILIES: list[tuple[Any, str]] = [
    (MODIFIED_RELEASE, "families: give the product families as a non-empty list"),
    ([], "families: give the product families as a non-empty list"),
    (with_modified_release("modified_release"), 'families entry 3: give it as {"code"'),
    (
        with_modified_release(_entry(code="Modified-Release")),
        "families entry 3: code 'Modified-Release' is not a lowercase snake_case name",
    ),
    (with_modified_release(_entry(code="default")), "code 'default' is reserved"),
    (with_modified_release(_entry(code="families")), "code 'families' is reserved"),
    (
        with_modified_release(_entry(code="sterile")),
        "families entry 3: code 'sterile' names a family defined above already",
    ),
    (
        with_modified_release(_entry(title=" ")),
        r"families entry 3 \(modified_release\): give the family a title",
    ),
    (with_modified_release(_entry(words=[])), "a non-empty list of non-empty words"),
    (with_modified_release(_entry(words=["prolonged-release", ""])), "non-empty words"),
    (
        with_modified_release(_entry(words=["Prolonged-Release"])),
        "matched against the lower-cased dosage form; write 'prolonged-release'",
    ),
    (
        with_modified_release({**MODIFIED_RELEASE, "word": ["retard"]}),
        "families entry 3: unknown field\\(s\\) 'word'",
    ),
]


def test_malformed_families_and_sets_of_families_not_defined_are_refused_nothing_changed(
    p: Plant, frozen_clock: clock.FrozenClock
) -> None:
    cid = approved_change_from_a_new_edition(p.db, p.people)
    good = {"effective_from": clock.now() + timedelta(hours=1), "change_id": cid, "rationale": "x"}
    before = snapshot(p.db)
    refusals: list[tuple[Any, str]] = [
        ({"families": families, "default": ALL, "modified_release": ALL}, reason)
        for families, reason in MALFORMED_FAMILIES
    ]
    without_sterile = [f for f in with_modified_release() if f["code"] != "sterile"]
    refusals += [
        # a set for a family this version's own list leaves out
        (
            {"families": without_sterile, "default": ALL, "sterile": ALL},
            "unknown product family 'sterile'; this version's families: default, biological, "
            "modified_release, oral_solid, oral_liquid, topical",
        ),
        # a set for a family only a version's own list would define
        (
            {"default": ALL, "modified_release": WITHOUT_SPC},
            "unknown product family 'modified_release'; known: default, sterile",
        ),
    ]
    for content, reason in refusals:
        with pytest.raises(InvalidInput, match=reason):
            draft(p.db, p.people.qa, KEY, content, **good)
        assert snapshot(p.db) == before, reason
    # the mandatory rules hold in the set of a family the version defines
    no_qc = [c for c in ALL if c != "qc_passed"]
    dropping = {"families": with_modified_release(), "default": ALL, "modified_release": no_qc}
    with pytest.raises(ControlBroken, match="modified_release drops 'qc_passed'"):
        draft(p.db, p.people.qa, KEY, dropping, **good)
    assert snapshot(p.db) == before
