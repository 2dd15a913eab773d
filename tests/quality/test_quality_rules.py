"""The pure rules of the quality loops: due dates by class and their configuration, the
deviation and CAPA guards, and calendar months for trends. No database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from pharmaqms.quality.capa import rules as capa_rules
from pharmaqms.quality.config import QualitySettings, reset_quality_settings
from pharmaqms.quality.deviations import rules
from pharmaqms.quality.trends import Month, month_of, months_back

DISCOVERED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    reset_quality_settings()
    yield
    reset_quality_settings()


@pytest.mark.parametrize(
    ("classification", "due"),
    [
        ("critical", datetime(2026, 3, 17, 9, 0, tzinfo=UTC)),
        ("major", datetime(2026, 4, 1, 9, 0, tzinfo=UTC)),
        ("minor", datetime(2026, 5, 1, 9, 0, tzinfo=UTC)),
    ],
)
def test_a_deviation_is_due_by_its_class(
    fresh_settings: None, classification: str, due: datetime
) -> None:
    assert rules.due_date(DISCOVERED, classification) == due


def test_a_site_sets_its_own_due_days(
    fresh_settings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "PHARMAQMS_QUALITY_DEVIATION_DUE_DAYS", '{"critical": 10, "major": 20, "minor": 45}'
    )
    reset_quality_settings()
    assert rules.due_date(DISCOVERED, "critical") == datetime(2026, 3, 12, 9, 0, tzinfo=UTC)


def test_due_days_must_cover_every_class() -> None:
    with pytest.raises(ValidationError, match="deviation_due_days lacks the classes minor"):
        QualitySettings(deviation_due_days={"critical": 10, "major": 20})


def _deviation(**fields: object) -> SimpleNamespace:
    base: dict[str, object] = {
        "classification": "major",
        "severity": 4,
        "probability": 2,
        "detectability": 3,
        "severity_basis": "patients could be harmed",
        "probability_basis": "first time",
        "detectability_basis": "detector catches large fragments",
        "root_cause": "fatigue",
        "root_cause_category": "machine",
        "why_chain": ["a", "b"],
        "fishbone": {"machine": ["fatigue"]},
        "capa_decision": "no_capa",
        "no_capa_rationale": "one-off",
        "capas": [],
        "batches": [],
        "extensions": [],
    }
    base.update(fields)
    return SimpleNamespace(**base)


def test_a_complete_deviation_passes_every_guard() -> None:
    deviation = _deviation()
    for guard in (
        rules.classified,
        rules.investigation_complete,
        rules.capa_decided,
        rules.batches_assessed,
        rules.batches_dispositioned,
        rules.no_pending_extension,
    ):
        assert guard(deviation) == []


def test_the_classification_guard_names_each_missing_part_of_the_basis() -> None:
    deviation = _deviation(classification="severe", probability=None, detectability_basis=" ")
    assert rules.classified(deviation) == [
        "the deviation is not classified (minor, major or critical)",
        "the probability of occurrence score of the ICH Q9 basis is missing",
        "the justification of the detectability score is missing",
    ]


def test_a_class_below_the_risk_its_scores_give_is_not_a_classification() -> None:
    # 5x5 matrix: severity 3 × probability 2 is medium; detectability 4 raises it to high
    deviation = _deviation(classification="major", severity=3, probability=2, detectability=4)

    assert rules.classified(deviation) == [
        "severity 3, probability 2 and detectability 4 give a high risk on the 5x5 matrix, "
        "which makes it at least critical, not major: raise the class or revise the scores "
        "and their basis"
    ]
    assert rules.classified(_deviation(classification="critical", severity=2)) == []


def test_the_fishbone_takes_only_the_six_categories() -> None:
    assert rules.fishbone_problems({"management": ["x"], "method": [""]}) == [
        "unknown fishbone categories management; the categories are man, machine, method, "
        "material, measurement, environment",
        "the fishbone category method needs a list of non-empty factors",
    ]


def test_no_capa_without_rationale_is_not_a_decision() -> None:
    assert rules.capa_decided(_deviation(no_capa_rationale="")) == ["'no CAPA' needs a rationale"]


def test_only_a_capa_not_cancelled_decides_for_a_capa() -> None:
    cancelled = SimpleNamespace(number="CAPA-2026-0001", status="cancelled")
    live = SimpleNamespace(number="CAPA-2026-0002", status="draft")
    raised = _deviation(capa_decision="capa", no_capa_rationale="")

    assert rules.capa_decided(_deviation(**{**vars(raised), "capas": [cancelled]})) == [
        "its CAPA (CAPA-2026-0001) was cancelled: raise another CAPA or give a rationale for "
        "'no CAPA'"
    ]
    assert rules.capa_decided(_deviation(**{**vars(raised), "capas": [cancelled, live]})) == []
    assert rules.capa_decided(_deviation(**{**vars(raised), "capas": []})) == [
        "neither a CAPA is raised nor a rationale for 'no CAPA' given"
    ]


def _capa(required: bool | None, checks: list[str], justification: str = "") -> SimpleNamespace:
    check_rows = [SimpleNamespace(status=s) for s in checks]
    planned = next((c for c in check_rows if c.status == "planned"), None)
    decided = [c for c in check_rows if c.status in ("passed", "failed")]
    return SimpleNamespace(
        effectiveness_required=required,
        effectiveness_justification=justification,
        pending_check=planned,
        last_result=decided[-1] if decided else None,
    )


@pytest.mark.parametrize(
    ("capa", "reasons"),
    [
        (_capa(True, ["passed"]), []),
        (_capa(True, ["failed", "passed"]), []),
        (
            _capa(True, ["planned"]),
            ["the effectiveness check has not passed yet: no result is recorded"],
        ),
        (
            _capa(True, ["failed", "planned"]),
            ["the effectiveness check has not passed yet: the last check failed"],
        ),
        (_capa(False, [], "typo fixed in an SOP"), []),
        (_capa(False, []), ["'no effectiveness check' needs a justification"]),
        (_capa(None, []), ["it is not decided whether an effectiveness check is required"]),
    ],
)
def test_closure_needs_effectiveness_shown(capa: SimpleNamespace, reasons: list[str]) -> None:
    assert capa_rules.effectiveness_shown(capa) == reasons


def test_months_back_crosses_the_year() -> None:
    months = months_back(datetime(2026, 2, 15, tzinfo=UTC), 4)
    assert [m.label for m in months] == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert months[1].end == datetime(2026, 1, 1, tzinfo=UTC)


def test_a_moment_belongs_to_its_utc_month() -> None:
    late_evening_in_new_york = datetime(2026, 3, 31, 21, 0, tzinfo=timezone(timedelta(hours=-4)))
    assert month_of(late_evening_in_new_york) == Month(2026, 4)
