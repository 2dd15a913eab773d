"""The risk matrix as a controlled grid (``quality.risk_matrix``): named levels, the class of
every cell; a version refused when not monotonic, with cells missing, unknown classes or fewer
than three levels (nothing stored); a stricter grid in force from its date scores the
assessments started after it higher, not those started before; a version that named a built-in
matrix still resolves."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from tests.compliance.configuration_steps import (
    approved_change_from_a_new_edition,
    classified_deviation,
    draft,
    put_in_force,
    snapshot,
    uses,
)
from tests.conftest import Api
from tests.web.conftest import UiClient

from pharmaqms.compliance.configuration.service import get_version
from pharmaqms.kernel import clock
from pharmaqms.kernel.configuration import store
from pharmaqms.kernel.errors import ControlBroken, InvalidInput
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.config import RISK_MATRIX
from pharmaqms.quality.deviations import service as deviations
from pharmaqms.quality.risk import service as risk
from pharmaqms.quality.risk.configuration import (
    grid_content,
    grid_controls,
    grid_problems,
    matrix_of,
)
from pharmaqms.quality.risk.matrix import DEFAULT_5X5, SIMPLE_3X3

BUILTIN = grid_content(DEFAULT_5X5)


def stricter() -> dict[str, Any]:
    """The 5x5 grid with moderate × possible raised from medium to high (still monotonic)."""
    content = copy.deepcopy(BUILTIN)
    content["name"] = "5x5 strict"
    content["grid"][2] = ["low", "medium", "high", "high", "high"]
    return content


def with_grid(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(BUILTIN), **changes}


# --- pure: the schema and the controls -------------------------------------------------------


def test_the_built_in_grid_is_valid_and_scores_as_the_code_did() -> None:
    assert grid_problems(BUILTIN) == [] and grid_controls(BUILTIN) == []
    assert BUILTIN["severity"] == ["negligible", "minor", "moderate", "major", "critical"]
    m = matrix_of(BUILTIN)
    assert [m.level(3, 3, 2), m.level(3, 3, 4), m.level(5, 1, 1)] == ["medium", "high", "medium"]
    assert m.grid == DEFAULT_5X5.grid


def test_a_version_that_named_a_built_in_matrix_still_resolves() -> None:
    assert matrix_of({"matrix": "3x3"}) == SIMPLE_3X3
    assert matrix_of({"matrix": "5x5"}).level(3, 3, 4) == "high"
    # but a new version gives the grid itself: the configuration page offers the grid to draft
    offered = store.draft_from(store.kind(RISK_MATRIX), {"matrix": "3x3"})
    assert offered == grid_content(SIMPLE_3X3) and grid_problems(offered) == []
    assert grid_problems({"matrix": "3x3"}) == [
        "give the grid itself, not the name '3x3': the severity, occurrence and detection "
        "levels and the class of every cell (the version in force shows the form)"
    ]


def test_fewer_than_three_levels_missing_cells_and_unknown_classes_are_named() -> None:
    two = with_grid(
        severity=["low", "high"],
        occurrence=["rare", "often"],
        detection=["seen", "unseen"],
        grid=[["low", "low"], ["low", "high"]],
    )
    assert grid_problems(two) == [
        "severity has 2 level(s): a scale needs at least 3",
        "occurrence has 2 level(s): a scale needs at least 3",
        "detection has 2 level(s): a scale needs at least 3",
    ]
    holes = copy.deepcopy(BUILTIN)
    holes["grid"][4] = ["medium", "high", "high"]
    holes["grid"][1][2] = "severe"
    assert grid_problems(holes) == [
        "severity 'minor' × occurrence 'possible': 'severe' is not a risk class "
        "(low, medium, high)",
        "missing cells: severity 'critical' × occurrence 'likely', 'frequent'",
    ]
    assert grid_problems(with_grid(grid=BUILTIN["grid"][:4])) == [
        "grid has 4 row(s) for 5 severity levels: a row per severity level, lowest first"
    ]
    assert grid_problems(with_grid(detection=["a", "b", "c"], escalate_from_detection=None)) == [
        "every factor is scored on one scale (the RPN is severity × occurrence × detection): "
        "severity has 5, occurrence has 5, detection has 3"
    ]
    assert grid_problems(with_grid(escalate_from_detection=6)) == [
        "escalate_from_detection: a detection score from 1 to 5, or null for none"
    ]


def test_a_grid_where_a_worse_factor_gives_a_lower_class_breaks_the_control() -> None:
    falling = copy.deepcopy(BUILTIN)
    falling["grid"][4][4] = "low"  # critical × frequent
    assert grid_problems(falling) == []
    assert grid_controls(falling) == [
        "not monotonic: severity 'critical' × occurrence 'frequent' is low, lower than high at "
        "the less frequent 'likely'",
        "not monotonic: severity 'critical' × occurrence 'frequent' is low, lower than high at "
        "the less severe 'major'",
    ]


# --- through the configuration change and the services ----------------------------------------


def _assessment(db: Any, people: Any, deviation_id: int, title: str) -> int:
    with unit_of_work(db) as s:
        ra = risk.create_assessment(
            s,
            actor=people.qa,
            title=title,
            scope="The deviation's effect on the batch.",
            subject_type="deviation",
            subject_id=deviation_id,
        )
        s.flush()
        return int(ra.id)


def _level(db: Any, people: Any, assessment_id: int) -> str:
    """A line scored severity 3 (moderate), occurrence 3 (possible), detectability 2."""
    with unit_of_work(db) as s:
        item = risk.add_item(
            s,
            actor=people.qa,
            assessment_id=assessment_id,
            failure_mode="Granule too wet",
            effect="Tablets stick",
            cause="End point missed",
            scores=risk.Scores(3, 3, 2),
        )
        return item.risk_level


@pytest.mark.postgres
def test_a_stricter_grid_scores_assessments_started_after_its_date_not_before(
    db: Any, people: Any, app: Any, frozen_clock: clock.FrozenClock
) -> None:
    start = clock.now()
    subject = classified_deviation(db, people, "Granulation end point", start)
    before = _assessment(db, people, subject, "Before the date")
    cid = approved_change_from_a_new_edition(db, people)
    effective = clock.now() + timedelta(hours=1)
    vid = put_in_force(db, people, RISK_MATRIX, stricter(), effective_from=effective, change_id=cid)
    with unit_of_work(db, write=False) as s:  # the sandbox's findings are kept on the version
        summary = get_version(s, vid).test_summary
    for line in (
        "5x5 (5 levels) → 5x5 strict (5 levels)",
        "1 cell(s) change class",
        "severity moderate × occurrence possible: medium → high",
    ):
        assert line in summary
    # before its date the built-in grid is in force
    assert _level(db, people, before) == "medium"
    frozen_clock.advance(hours=2)
    after = _assessment(db, people, subject, "After the date")
    # after it, a new assessment is scored on the stricter grid
    assert _level(db, people, after) == "high"
    # the one started before keeps the grid it was started on, even for a line added now
    assert _level(db, people, before) == "medium"
    assert uses(db, "risk_assessment", before) == [(RISK_MATRIX, 1, "the matrix it is scored on")]
    assert uses(db, "risk_assessment", after) == [(RISK_MATRIX, 2, "the matrix it is scored on")]
    # deviations are classified on the grid in force too: 3/3/2 now asks for critical
    with pytest.raises(InvalidInput, match="high risk on the 5x5 strict matrix"):
        classified_deviation(db, people, "After the date", clock.now())
    # the configuration in force at a past moment is reconstructed
    with unit_of_work(db, write=False) as s:
        assert store.in_force(s, RISK_MATRIX, at=start).version_no == 1
        assert store.in_force(s, RISK_MATRIX, at=effective - timedelta(seconds=1)).version_no == 1
        assert store.in_force(s, RISK_MATRIX, at=effective).content == stricter()
    # the pages show the grid as a table: the assessment's, and the version's
    reader = UiClient(app)
    assert reader.login("auditor").status_code == 303
    page = reader.get(f"/risk-assessments/{after}").text
    assert "Risk matrix 5x5 strict" in page and "3 · moderate" in page
    assert f"{RISK_MATRIX}</a> v2" in page
    key_page = reader.get(f"/compliance/configuration/keys/{RISK_MATRIX}").text
    assert 'data-form="risk_grid"' in key_page and "5 · frequent" in key_page
    # and the API gives the grid in force with its version (the built-in list stays the code's)
    in_force = reader.get("/api/v1/risk-matrix").json()
    assert (in_force["name"], in_force["version_no"]) == ("5x5 strict", 2)
    assert in_force["grid"][2] == ["low", "medium", "high", "high", "high"]
    assert in_force["severity_levels"][2] == "moderate"
    assert in_force["configuration"] == RISK_MATRIX
    assert "5x5 strict" not in {m["name"] for m in reader.get("/api/v1/risk-matrices").json()}
    with unit_of_work(db, write=False) as s:
        shown = store.read(store.kind(RISK_MATRIX), store.in_force(s, RISK_MATRIX).content)
    assert shown is not None and shown.form == "risk_grid"


def test_the_api_shows_a_matrix_the_same_way_in_the_built_in_list_and_in_force(
    people: Any, app: Any
) -> None:
    # The list and the matrix in force share one spelling of a matrix's fields; the one in
    # force adds its named levels and the configuration version it is.
    reader = Api(app, "auditor")
    listed = {m["name"]: m for m in reader.get("/api/v1/risk-matrices").json()}
    assert set(listed) == {DEFAULT_5X5.name, SIMPLE_3X3.name}
    assert listed[SIMPLE_3X3.name] == {
        "name": SIMPLE_3X3.name,
        "scale": 3,
        "grid": [list(row) for row in SIMPLE_3X3.grid],
        "escalate_from_detectability": SIMPLE_3X3.escalate_from_detectability,
        "description": SIMPLE_3X3.description,
    }
    in_force = reader.get("/api/v1/risk-matrix").json()
    shared = {key: in_force.pop(key) for key in listed[DEFAULT_5X5.name]}
    assert shared == listed[DEFAULT_5X5.name]
    assert in_force.pop("detection_levels") == list(DEFAULT_5X5.detection_levels)
    assert (in_force.pop("configuration"), in_force.pop("version_no")) == (RISK_MATRIX, 1)
    assert set(in_force) == {
        "severity_levels", "occurrence_levels", "effective_from", "content_sha256"
    }  # fmt: skip


@pytest.mark.postgres
def test_bad_grids_are_refused_with_the_reason_and_change_nothing(
    db: Any, people: Any, frozen_clock: clock.FrozenClock
) -> None:
    cid = approved_change_from_a_new_edition(db, people)
    good = {"effective_from": clock.now() + timedelta(hours=1), "change_id": cid, "rationale": "x"}
    falling = copy.deepcopy(BUILTIN)
    falling["grid"][4][4] = "low"
    holes = copy.deepcopy(BUILTIN)
    holes["grid"][0] = ["low"]
    unknown = copy.deepcopy(BUILTIN)
    unknown["grid"][0][0] = "negligible"
    two = with_grid(
        severity=["a", "b"], occurrence=["c", "d"], detection=["e", "f"], grid=[["low"] * 2] * 2
    )
    before = snapshot(db)
    with pytest.raises(ControlBroken, match="not monotonic: severity 'critical'"):
        draft(db, people.qa, RISK_MATRIX, falling, **good)
    with pytest.raises(InvalidInput, match="missing cells: severity 'negligible'"):
        draft(db, people.qa, RISK_MATRIX, holes, **good)
    with pytest.raises(InvalidInput, match="'negligible' is not a risk class"):
        draft(db, people.qa, RISK_MATRIX, unknown, **good)
    with pytest.raises(InvalidInput, match="severity has 2 level"):
        draft(db, people.qa, RISK_MATRIX, two, **good)
    with pytest.raises(InvalidInput, match="give the grid itself, not the name '3x3'"):
        draft(db, people.qa, RISK_MATRIX, {"matrix": "3x3"}, **good)
    assert snapshot(db) == before


@pytest.mark.postgres
def test_an_assessment_is_not_scored_on_a_matrix_chosen_by_name(
    db: Any, people: Any, frozen_clock: clock.FrozenClock
) -> None:
    subject = classified_deviation(db, people, "Granulation end point", clock.now())
    before = snapshot(db)
    with (
        pytest.raises(InvalidInput, match=r"scored on the matrix in force \(5x5, "),
        unit_of_work(db) as s,
    ):
        risk.create_assessment(
            s,
            actor=people.qa,
            title="On the small matrix",
            scope="x",
            subject_type="deviation",
            subject_id=subject,
            matrix_name="3x3",
        )
    assert snapshot(db) == before
    # the deviation itself was classified on the grid in force, and says so
    assert (RISK_MATRIX, 1, "classification scored on it") in uses(db, "deviation", subject)
    with unit_of_work(db, write=False) as s:
        assert deviations.get_deviation(s, subject).classification == "major"
