"""The release rules on evidence built by hand (no database): how each judges what it finds,
and the engine failing closed — evidence that could not be loaded, or a rule that breaks, is a
failed rule, never a passed one."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pharmaqms.lifecycle.production.release import rules
from pharmaqms.lifecycle.production.release.evidence import (
    ConsumptionFacts,
    DeviationFacts,
    Evidence,
    SupplierAtUse,
    approval_at,
    status_at,
)
from pharmaqms.lifecycle.production.release.rules import Outcome, Rule, judge
from pharmaqms.platform.masterdata.models import Lot

USED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def lot(status: str = "quarantine") -> Lot:
    return Lot(kind="finished", item_code="P-1", lot_number="B1", status=status)


def evidence(**parts: object) -> Evidence:
    found = Evidence(lot=lot())
    for name, value in parts.items():
        setattr(found, name, value)
    return found


def deviation(status: str, disposition: str | None = None) -> DeviationFacts:
    return DeviationFacts("DEV-1", "Spill", status, "minor", disposition, "names the batch")


QUALIFIED = SupplierAtUse("S-1", "ASL-1", "qualified", date(2027, 12, 31))


def consumption(
    status: str | None,
    expires_on: date | None,
    override: str | None = None,
    codes: tuple[str, ...] = (),
    supplier: SupplierAtUse | None = QUALIFIED,
) -> ConsumptionFacts:
    return ConsumptionFacts(
        "M-1", "L1", 5.0, "kg", "EBR-1-0001", USED, status, expires_on, override, codes, supplier
    )


def test_a_part_that_could_not_be_loaded_fails_the_rules_that_need_it() -> None:
    found = evidence(unavailable={"deviations": "database went away"})
    by_code = {r.code: r for r in rules.judge_all(found)}
    assert by_code["deviations_closed"].passed is False
    assert by_code["deviations_closed"].findings == (
        "can't decide: evidence not available (deviations: database went away)",
    )
    assert by_code["no_blocking_change"].passed is True


def test_a_rule_that_breaks_fails() -> None:
    def broken(e: Evidence) -> Outcome:
        raise ZeroDivisionError("division by zero")

    result = judge(Rule("x", "X", "-", (), broken), evidence())
    assert (result.passed, result.findings) == (
        False,
        ("can't decide: the rule failed while judging (division by zero)",),
    )


def test_no_batch_record_fails_the_record_and_its_review() -> None:
    results = {r.code: r for r in rules.judge_all(evidence())}
    assert results["batch_record_complete"].findings == (
        "batch P-1/B1 has no electronic batch record",
    )
    assert results["exceptions_reviewed"].findings == (
        "no batch record, so no review of its exceptions",
    )
    assert results["qc_passed"].findings == ("the QC status of the batch is not known",)


def test_a_deviation_passes_closed_or_assessed_as_not_impacting_and_never_when_rejecting() -> None:
    cases = [
        (deviation("closed", "no_impact"), []),
        (deviation("cancelled"), []),
        (deviation("approved", "release_permitted"), []),
        (
            deviation("investigation"),
            [
                "DEV-1 (minor, investigation) is open and its impact on the batch is not "
                "assessed: Spill"
            ],
        ),
        (deviation("closed", "reject"), ["DEV-1 (minor, closed): decided reject for this batch"]),
        (
            deviation("closed", "reprocess"),
            ["DEV-1 (minor, closed): decided reprocess for this batch"],
        ),
    ]
    for facts, findings in cases:
        assert rules.deviations_closed(evidence(deviations=[facts])).findings == findings, facts


def test_a_material_passes_released_and_in_date_at_use_or_under_an_override_covering_it() -> None:
    cases = [
        (consumption("released", date(2027, 1, 1)), []),
        (
            consumption("quarantine", date(2027, 1, 1)),
            ["M-1 lot L1 (EBR-1-0001): it was quarantine when used"],
        ),
        (consumption("quarantine", date(2027, 1, 1), "MUO-1", ("quarantine",)), []),
        (
            consumption("quarantine", date(2026, 3, 1), "MUO-1", ("quarantine",)),
            [
                "M-1 lot L1 (EBR-1-0001): it was quarantine when used; it expired on "
                "2026-03-01, before its use"
            ],
        ),
        (
            consumption(None, date(2027, 1, 1)),
            ["M-1 lot L1 (EBR-1-0001): its status at the time of use is not on record"],
        ),
        (
            consumption("released", None),
            ["M-1 lot L1 (EBR-1-0001): it has no expiry or retest date"],
        ),
    ]
    for facts, findings in cases:
        assert rules.materials_released(evidence(consumptions=[facts])).findings == findings, facts


def test_a_material_passes_only_from_a_supplier_approved_for_it_at_use() -> None:
    in_date = date(2027, 1, 1)
    cases = [
        (consumption("released", in_date), []),
        (
            consumption(
                "released",
                in_date,
                supplier=SupplierAtUse("S-1", "ASL-1", "conditional", date(2026, 12, 31)),
            ),
            [],
        ),
        (
            consumption("released", in_date, supplier=SupplierAtUse("S-2", None, None, None)),
            [
                "M-1 lot L1 (EBR-1-0001): its supplier S-2 was not on the approved supplier "
                "list for M-1 when used"
            ],
        ),
        (
            consumption("released", in_date, supplier=SupplierAtUse("S-1", "ASL-1", None, None)),
            [
                "M-1 lot L1 (EBR-1-0001): its supplier S-1 was not on the approved supplier "
                "list for M-1 when used"
            ],
        ),
        (
            consumption(
                "released", in_date, supplier=SupplierAtUse("S-1", "ASL-1", "proposed", None)
            ),
            ["M-1 lot L1 (EBR-1-0001): its supplier S-1 was proposed for M-1 (ASL-1) when used"],
        ),
        (
            consumption(
                "released",
                in_date,
                supplier=SupplierAtUse("S-1", "ASL-1", "disqualified", date(2027, 12, 31)),
            ),
            [
                "M-1 lot L1 (EBR-1-0001): its supplier S-1 was disqualified for M-1 (ASL-1) "
                "when used"
            ],
        ),
        (
            consumption(
                "released",
                in_date,
                supplier=SupplierAtUse("S-1", "ASL-1", "qualified", date(2026, 3, 1)),
            ),
            [
                "M-1 lot L1 (EBR-1-0001): the qualification of its supplier S-1 for M-1 had "
                "expired (2026-03-01; ASL-1) when used"
            ],
        ),
        (
            consumption(
                "released",
                in_date,
                "MUO-2",
                ("supplier_not_approved",),
                supplier=SupplierAtUse("S-1", "ASL-1", "disqualified", date(2027, 12, 31)),
            ),
            [],
        ),
        (
            consumption("released", in_date, supplier=None),
            ["M-1 lot L1 (EBR-1-0001): it has no supplier recorded"],
        ),
    ]
    for facts, findings in cases:
        assert rules.materials_released(evidence(consumptions=[facts])).findings == findings, facts


def test_an_approval_at_a_moment_is_the_last_one_in_force_before_it() -> None:
    history = [
        (datetime(2026, 1, 1, tzinfo=UTC), "proposed", None),
        (datetime(2026, 1, 15, tzinfo=UTC), "proposed", date(2026, 2, 28)),
        (datetime(2026, 1, 16, tzinfo=UTC), "qualified", date(2026, 2, 28)),
        (datetime(2026, 3, 5, tzinfo=UTC), "qualified", date(2027, 12, 31)),
    ]
    assert approval_at(history, datetime(2025, 12, 31, tzinfo=UTC)) == (None, None)
    assert approval_at(history, datetime(2026, 1, 16, tzinfo=UTC)) == (
        "qualified",
        date(2026, 2, 28),
    )
    # The re-audit of 5 March does not reach back to a use on 2 March.
    assert approval_at(history, USED) == ("qualified", date(2026, 2, 28))


def test_a_status_at_a_moment_is_the_last_one_set_before_it() -> None:
    history = [
        (datetime(2026, 1, 1, tzinfo=UTC), "quarantine"),
        (datetime(2026, 2, 1, tzinfo=UTC), "released"),
        (datetime(2026, 4, 1, tzinfo=UTC), "on_hold"),
    ]
    assert status_at(history, datetime(2025, 12, 31, tzinfo=UTC)) is None
    assert status_at(history, datetime(2026, 2, 1, tzinfo=UTC)) == "released"
    assert status_at(history, USED) == "released"
    assert status_at(history, datetime(2026, 5, 1, tzinfo=UTC)) == "on_hold"


def test_a_hold_is_judged_by_the_rule_of_the_record_that_placed_it() -> None:
    held = Evidence(lot=lot("on_hold"))
    held.lot.status_reason = "QA: complaint on the previous batch"
    held.hold = ("QA", "quarantine")
    assert rules.lot_awaits_release(held).findings == [
        "the batch is on hold (QA: complaint on the previous batch), not awaiting release"
    ]
    held.hold = ("DEV-7", "quarantine")
    assert rules.lot_awaits_release(held).findings == [
        "the batch is on hold (QA: complaint on the previous batch), not awaiting release"
    ]
    held.deviations = [DeviationFacts("DEV-7", "Spill", "investigation", "minor", None, "")]
    assert rules.lot_awaits_release(held).findings == []
    # …and the deviation rule fails instead: one cause, one failing rule.
    assert len(rules.deviations_closed(held).findings) == 1
    released = Evidence(lot=lot("released"))
    assert rules.lot_awaits_release(released).findings == [
        "the batch is released, not awaiting release"
    ]


def test_the_fast_step_hash_is_the_signed_content_hash() -> None:
    from pharmaqms.lifecycle.production.batchrecords.models import BatchStep

    for title in ('Weigh the "API"', "back\\slash", "tab\there", "Ünïcode – dash", "plain"):
        step = BatchStep(
            number="EBR-2026-0001-0007",
            batch_record_id=3,
            position=7,
            title=title,
            entries_digest="ab" * 32,
        )
        assert (
            BatchStep.signed_hash(
                step.number, step.batch_record_id, step.position, step.title, step.entries_digest
            )
            == step.content_hash()
        ), title


def test_signatures_are_judged_in_stretches_between_training_dates() -> None:
    from pharmaqms.lifecycle.production.release.evidence import _intervals

    moment = [datetime(2026, 3, d, tzinfo=UTC) for d in (1, 2, 3, 4, 5, 6)]
    # Trainings dated 2 and 4 March: before, on 2, between, on 4, after.
    assert list(_intervals([moment[1], moment[3]], moment)) == [
        (0, 1),
        (1, 2),
        (2, 3),
        (3, 4),
        (4, 6),
    ]
    assert list(_intervals([], moment)) == [(0, 6)]
    assert list(_intervals([moment[0]], [])) == []
