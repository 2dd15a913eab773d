"""The annual product quality review on a small fixed data set: every section present with the
figures of the registers (counted here independently), the workflow draft → concluded →
effective with two different signers, the refusals (approving one's own review, editing a
signed review, a year without batches) that change nothing, regeneration as a new edition, and
the register of reviews due with its overdue flag."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.compliance.apqr_steps import (
    NAME,
    PRODUCT,
    approve,
    conclude,
    counts,
    generate,
    pdf_text,
    review_state,
    small_data_set,
)
from tests.support import PASSWORD

from pharmaqms.compliance.apqr import service
from pharmaqms.compliance.apqr.figures import section
from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import (
    InvalidInput,
    PermissionDenied,
    ReasonRequired,
    SegregationOfDuties,
    TransitionNotAllowed,
)
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.platform.masterdata.models import Lot
from pharmaqms.quality.complaints.models import Complaint
from pharmaqms.quality.deviations.models import Deviation, DeviationBatch

SECTIONS = [
    "batches",
    "yields",
    "capability",
    "oos_oot",
    "deviations",
    "capa",
    "changes",
    "complaints",
    "adverse_events",
    "stability",
    "recalls",
    "excursions",
    "suppliers",
    "previous_actions",
]


@pytest.fixture
def made(db: Any, people: Any, frozen_clock: clock.FrozenClock) -> None:
    small_data_set(db, people)


@pytest.mark.postgres
def test_the_review_holds_every_section_with_the_registers_own_counts(
    db: Any, people: Any, made: None
) -> None:
    review_id = generate(db, people)
    with unit_of_work(db, write=False) as s:
        review = service.get_review(s, review_id)
        figures, figures_sha256 = review.figures, review.figures_sha256
        # The registers counted here, without the review's code.
        lots = list(
            s.scalars(
                select(Lot).where(
                    Lot.item_code == PRODUCT,
                    Lot.manufactured_on >= date(2025, 1, 1),
                    Lot.manufactured_on <= date(2025, 12, 31),
                )
            )
        )
        numbers = [lot.lot_number for lot in lots]
        statuses = [lot.status for lot in lots]
        on_batches = set(
            s.scalars(
                select(DeviationBatch.deviation_id).where(DeviationBatch.batch_id.in_(numbers))
            )
        )
        deviations = [
            d.number
            for d in s.scalars(select(Deviation))
            if d.discovered_at.year == 2025
            and (d.id in on_batches or d.product.lower() in (PRODUCT.lower(), NAME.lower()))
        ]
        complaints = s.scalar(
            select(func.count())
            .select_from(Complaint)
            .where((Complaint.product == NAME) | Complaint.lot.in_(numbers))
        )
    assert [x["key"] for x in figures["sections"]] == SECTIONS
    for part in figures["sections"]:
        assert part["title"] and part["basis"]
        assert part["empty"] is None or part["empty"].strip()
    batches = section(figures, "batches")
    assert batches["made"] == len(numbers) == 3
    # The deviation on RT25-002 put that batch on hold.
    assert batches["released"] == statuses.count("released") == 1
    assert batches["by_status"] == {"on_hold": 1, "rejected": 1, "released": 1}
    assert batches["rejected"] == statuses.count("rejected") == 1
    assert sum(m["made"] for m in batches["months"]) == 3
    assert section(figures, "deviations")["total"] == len(deviations) == 2
    assert {r["number"] for r in section(figures, "deviations")["rows"]} == set(deviations)
    assert section(figures, "complaints")["total"] == complaints == 1
    # Sections whose registers hold nothing for this product say so, never blank.
    assert section(figures, "stability")["empty"].startswith("no stability data")
    assert "no recalls" in section(figures, "recalls")["empty"]
    assert "no excursions" in section(figures, "excursions")["empty"]
    assert "no monitored process parameters" in section(figures, "capability")["empty"]
    assert "no yield data" in section(figures, "yields")["empty"]
    assert (
        "no effective review of APQRTAB for 2024" in section(figures, "previous_actions")["empty"]
    )
    assert figures["interim"] is False
    assert figures_sha256 == service.content_hash(figures)


def test_draft_concluded_effective_with_two_signers_and_the_pdf_as_approved(
    db: Any, people: Any, made: None
) -> None:
    review_id = generate(db, people)
    with unit_of_work(db, write=False) as s:
        draft = pdf_text(service.render_pdf(s, service.get_review(s, review_id)))
    assert "DRAFT - NOT APPROVED" in draft and "not written yet" in draft
    conclude(db, people, review_id)
    assert review_state(db, review_id)[0] == "concluded"

    # The QA author may not approve it; the QP does.
    before = counts(db)
    with pytest.raises(SegregationOfDuties), unit_of_work(db) as s:
        service.approve_review(s, actor=people.qa, review_id=review_id, password=PASSWORD)
    assert counts(db) == before
    approve(db, people, review_id, who="qp")
    with unit_of_work(db, write=False) as s:
        review = service.get_review(s, review_id)
        assert review.status == "effective"
        content = service.stored_pdf(s, review)
        meanings = [x.meaning for x in service.signatures_of(s, review)]
        figures, figures_sha256, pdf_sha256 = (
            review.figures,
            review.figures_sha256,
            review.pdf_sha256,
        )
        # Rendered again from what it froze, the PDF is the same bytes.
        assert service.render_pdf(s, review) == content
    assert meanings == ["Authored", "Approved"]
    assert hashlib.sha256(content).hexdigest() == pdf_sha256
    text = pdf_text(content)
    assert "DRAFT" not in text
    for part in figures["sections"]:
        assert part["title"] in text
        if part["empty"]:
            assert part["empty"][:40] in text.replace("\n", " ")
    for person in ("Quentin Quality", "Petra Qualified"):
        assert person in text
    assert "Tighten the compression force alert limit." in text
    assert figures_sha256 in text


def test_refusals_change_nothing(db: Any, people: Any, made: None) -> None:
    before = counts(db)
    no_batches = "no batches of APQRTAB were manufactured in 2023"
    with pytest.raises(InvalidInput, match=no_batches), unit_of_work(db) as s:
        service.generate_review(s, actor=people.qa, product=PRODUCT, year=2023)
    with pytest.raises(InvalidInput, match="no product 'NOPE'"), unit_of_work(db) as s:
        service.generate_review(s, actor=people.qa, product="NOPE", year=2025)
    with pytest.raises(PermissionDenied), unit_of_work(db) as s:
        service.generate_review(s, actor=people.qp, product=PRODUCT, year=2025)
    assert counts(db) == before

    review_id = generate(db, people)
    # Signing conclusions that are not written yet, or by someone who did not write them.
    state, before = review_state(db, review_id), counts(db)
    with pytest.raises(TransitionNotAllowed, match="no conclusions"), unit_of_work(db) as s:
        service.conclude_review(s, actor=people.qa, review_id=review_id, password=PASSWORD)
    with pytest.raises(InvalidInput, match="write the conclusions"), unit_of_work(db) as s:
        service.write_conclusions(
            s, actor=people.qa, review_id=review_id, conclusions="  ", actions="none"
        )
    assert (review_state(db, review_id), counts(db)) == (state, before)

    conclude(db, people, review_id)
    state, before = review_state(db, review_id), counts(db)
    # Editing a signed review is refused: a new edition is the way.
    with pytest.raises(TransitionNotAllowed, match="generate a new edition"), unit_of_work(db) as s:
        service.write_conclusions(
            s, actor=people.qa, review_id=review_id, conclusions="changed", actions="x"
        )
    # The author approving their own review.
    own = "may not 'Approve the review'"
    with pytest.raises(SegregationOfDuties, match=own), unit_of_work(db) as s:
        service.approve_review(s, actor=people.qa, review_id=review_id, password=PASSWORD)
    # A wrong password.
    with pytest.raises(Exception, match="password"), unit_of_work(db) as s:
        service.approve_review(s, actor=people.qp, review_id=review_id, password="wrong")
    after = counts(db)
    assert review_state(db, review_id) == state
    assert (after["reviews"], after["files"], after["signatures"]) == (
        before["reviews"],
        before["files"],
        before["signatures"],
    )
    # A QA person who neither generated nor concluded it may approve (head of QA).
    approve(db, people, review_id, who="qa2")
    assert review_state(db, review_id)[0] == "effective"


def test_a_regeneration_is_a_new_edition_and_supersedes_on_approval(
    db: Any, people: Any, made: None
) -> None:
    first = generate(db, people)
    conclude(db, people, first)
    approve(db, people, first)
    second = generate(db, people, who="qa2")
    with unit_of_work(db, write=False) as s:
        editions = [(r.edition, r.status) for r in service.reviews(s, product_code=PRODUCT)]
    assert editions == [(2, "draft"), (1, "effective")]
    third = generate(db, people)  # the draft edition 2 is superseded at once
    conclude(db, people, third)
    approve(db, people, third)
    with unit_of_work(db, write=False) as s:
        editions = [(r.edition, r.status) for r in service.reviews(s, product_code=PRODUCT)]
        signed = service.get_review(s, first)
        assert all(x.valid_for_current_content for x in service.signatures_of(s, signed))
    assert editions == [(3, "effective"), (2, "superseded"), (1, "superseded")]
    assert review_state(db, second)[0] == "superseded"


def test_next_years_review_reads_the_actions_back(db: Any, people: Any, made: None) -> None:
    review_id = generate(db, people, year=2024)
    conclude(db, people, review_id)
    approve(db, people, review_id)
    later = generate(db, people, year=2025)
    with unit_of_work(db, write=False) as s:
        previous = section(service.get_review(s, later).figures, "previous_actions")
        number = service.get_review(s, review_id).number
    assert previous["empty"] is None
    assert previous["review"] == number
    assert previous["actions"] == "Tighten the compression force alert limit."


def test_the_register_lists_reviews_due_and_flags_the_overdue(
    db: Any, people: Any, made: None, frozen_clock: clock.FrozenClock
) -> None:
    # 2 March 2026: 2024's review (due 31 March 2025) is overdue; 2025's (due 31 March 2026)
    # is not yet.
    with unit_of_work(db, write=False) as s:
        rows = {(r.product_code, r.year): r for r in service.register(s)}
    assert rows[(PRODUCT, 2024)].overdue and rows[(PRODUCT, 2024)].state == "not started"
    assert str(rows[(PRODUCT, 2024)].due_on) == "2025-03-31"
    assert not rows[(PRODUCT, 2025)].overdue
    frozen_clock.advance(days=30)
    with unit_of_work(db, write=False) as s:
        assert {(r.product_code, r.year): r for r in service.register(s)}[(PRODUCT, 2025)].overdue
    review_id = generate(db, people, year=2025)
    conclude(db, people, review_id)
    with unit_of_work(db, write=False) as s:
        row = {(r.product_code, r.year): r for r in service.register(s)}[(PRODUCT, 2025)]
    assert row.overdue and row.state == "concluded"
    approve(db, people, review_id)
    with unit_of_work(db, write=False) as s:
        row = {(r.product_code, r.year): r for r in service.register(s)}[(PRODUCT, 2025)]
    assert not row.overdue and row.state == "effective"


def test_the_approver_returns_it_for_rework_with_a_reason(db: Any, people: Any, made: None) -> None:
    review_id = generate(db, people)
    conclude(db, people, review_id)
    state, before = review_state(db, review_id), counts(db)
    with pytest.raises(ReasonRequired), unit_of_work(db) as s:
        service.return_review(s, actor=people.qp, review_id=review_id, reason="  ")
    with pytest.raises(PermissionDenied), unit_of_work(db) as s:
        service.return_review(s, actor=people.rd, review_id=review_id, reason="no")
    assert (review_state(db, review_id), counts(db)) == (state, before)
    with unit_of_work(db) as s:
        service.return_review(
            s, actor=people.qp, review_id=review_id, reason="Say what the rejection taught us."
        )
    assert review_state(db, review_id)[0] == "draft"
    with unit_of_work(db) as s:
        service.write_conclusions(
            s,
            actor=people.qa,
            review_id=review_id,
            conclusions="In control; the rejected batch RT25-003 failed assay: cause found.",
            actions="Retrain the granulation team.",
        )
    with unit_of_work(db) as s:
        service.conclude_review(s, actor=people.qa, review_id=review_id, password=PASSWORD)
    approve(db, people, review_id)
    with unit_of_work(db, write=False) as s:
        review = service.get_review(s, review_id)
        blocks = service.signature_blocks(s, review)
        text = pdf_text(service.stored_pdf(s, review))
    # The PDF prints the signatures of the round that was approved, both valid.
    assert [b.meaning for b in blocks] == ["Authored", "Approved"]
    assert all("NO LONGER VALID" not in b.manifestation for b in blocks)
    assert "Retrain the granulation team." in text and "NO LONGER VALID" not in text
