"""A stability summary (CTD 3.2.P.8) for a submission: generated from the product's stability
study into a frozen PDF (the data tables per condition, batch, attribute and time point, the
Q1E conclusion per attribute, the chart), reviewed by a second person and approved by QA, the
approved PDF re-rendered with its signature page and kept with its SHA-256. The author never
approves; a product without data gets a clear refusal and nothing is stored."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from tests.lifecycle.rnd.stability_steps import (
    ASSAY,
    LONG_TERM,
    PRODUCT,
    approved_study,
    assay_results,
    record,
)
from tests.lifecycle.rnd.submission_steps import (
    approve,
    counts,
    generate,
    pdf_of,
    review,
    status_of,
    text_of,
)
from tests.quality.quality_steps import add_person
from tests.support import PASSWORD

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import (
    AuthenticationFailed,
    InvalidInput,
    PermissionDenied,
    SegregationOfDuties,
)
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.rnd.stability import service as stability
from pharmaqms.lifecycle.rnd.stability.q1e import Observation, estimate_shelf_life
from pharmaqms.lifecycle.rnd.stability.service import ResultIn
from pharmaqms.lifecycle.rnd.submissions import service
from pharmaqms.lifecycle.rnd.submissions.models import SubmissionFile
from pharmaqms.lifecycle.rnd.submissions.pdf import DRAFT_MARK

KIND = "stability_summary"


def _study_with_data(db: Database, people: Any) -> int:
    study_id = approved_study(db, people)
    results = assay_results()
    results.append(ResultIn("S2601", "40C75RH", 3.0, "ASSAY", 94.1, "%"))
    record(db, people, study_id, results)
    return study_id


def test_the_stability_summary_holds_the_tables_the_conclusion_and_the_chart(
    db: Database, people: Any
) -> None:
    _study_with_data(db, people)
    document_id = generate(db, people, KIND, PRODUCT, authority="NMPA")
    text = text_of(pdf_of(db, document_id))
    # the cover names the authority; the content is the CTD's
    assert "National Medical Products Administration (NMPA), China" in text
    assert "Module 3 — 3.2.P.8 Stability" in text
    assert DRAFT_MARK in text
    # 3.2.P.8.3: per condition and attribute, a row per batch, a column per time point
    assert "3.2.P.8.3 Assay (ASSAY), 25 °C ± 2 °C / 60 % RH ± 5 % RH (long term); " in text
    assert "acceptance 95–105 %" in text
    assert "S2602 100.1 99.8 99.2 99 98.4 97.9 97.1" in text
    assert "S2601 — 94.1 (OOS) —" in text  # the accelerated condition
    # 3.2.P.8.1: the Q1E conclusion, the same as the statistics give
    expected = estimate_shelf_life(
        [Observation(b, m, v[i]) for b, v in ASSAY.items() for i, m in enumerate(LONG_TERM)],
        lower=95.0,
        upper=105.0,
    )
    pooling = expected.pooling.value.replace("_", " ")
    assert f"{expected.shelf_life_months} months {pooling}" in text
    assert "Impurity A at 25 °C ± 2 °C / 60 % RH ± 5 % RH — — — no results to evaluate" in text
    assert "3.2.P.8.2 Post-approval stability protocol and commitment" in text
    # the chart: a drawing with the batches' legend and the proposed shelf life
    assert "Assay at 25 °C ± 2 °C / 60 % RH ± 5 % RH (STB-" in text
    assert "batch S2603" in text and f"{expected.shelf_life_months} months" in text


@pytest.mark.postgres
def test_review_and_approval_sign_the_pdf_which_is_stored_with_its_hash(
    db: Database, people: Any
) -> None:
    _study_with_data(db, people)
    document_id = generate(db, people, KIND, PRODUCT)
    with unit_of_work(db, write=False) as s:
        document = service.get_document(s, document_id)
        frozen = s.get(SubmissionFile, document.draft_file_id)
        assert frozen is not None
        assert hashlib.sha256(frozen.content).hexdigest() == document.draft_pdf_sha256
        assert document.number.startswith("SUB-") and document.edition == 1
    review(db, people, document_id)
    assert status_of(db, document_id) == "reviewed"
    approve(db, people, document_id)
    assert status_of(db, document_id) == "approved"
    with unit_of_work(db, write=False) as s:
        document = service.get_document(s, document_id)
        meanings = [(v.meaning, v.signer_username) for v in signatures_of(s, document)]
        assert meanings == [("Reviewed", "qa2"), ("Approved", "qa")]
        assert document.pdf_file_id is not None and document.pdf_file_id != document.draft_file_id
    approved = pdf_of(db, document_id)
    with unit_of_work(db, write=False) as s:
        assert (
            hashlib.sha256(approved).hexdigest() == service.get_document(s, document_id).pdf_sha256
        )
    text = text_of(approved)
    assert "U.S. Food and Drug Administration (FDA)" in text
    assert "Reviewed by Rosa Reviewer (qa2) on" in text
    assert "Approved by Quentin Quality (qa) on" in text
    assert DRAFT_MARK not in text
    assert "S2602 100.1 99.8 99.2 99 98.4 97.9 97.1" in text


def test_a_new_generation_supersedes_the_draft_and_later_the_approved_one(
    db: Database, people: Any
) -> None:
    _study_with_data(db, people)
    first = generate(db, people, KIND, PRODUCT)
    second = generate(db, people, KIND, PRODUCT)
    assert status_of(db, first) == "superseded"
    other_authority = generate(db, people, KIND, PRODUCT, authority="EMA")
    assert status_of(db, second) == "draft"  # another authority is another document
    review(db, people, second)
    approve(db, people, second)
    third = generate(db, people, KIND, PRODUCT)
    assert status_of(db, second) == "approved"  # until the next one is approved
    review(db, people, third)
    approve(db, people, third)
    assert status_of(db, second) == "superseded"
    assert status_of(db, other_authority) == "draft"


def test_a_product_without_stability_data_is_refused_and_nothing_is_stored(
    db: Database, people: Any
) -> None:
    approved_study(db, people)  # a protocol, but no result yet
    before = counts(db)
    with pytest.raises(InvalidInput, match="no stability data recorded for PARA-500-TAB"):
        generate(db, people, KIND, PRODUCT)
    with pytest.raises(InvalidInput, match="no product 'NO-SUCH'"):
        generate(db, people, KIND, "NO-SUCH")
    with pytest.raises(InvalidInput, match="kind 'summary' is one of"):
        generate(db, people, "summary", PRODUCT)
    with pytest.raises(InvalidInput, match="authority 'PMDA' is one of"):
        generate(db, people, KIND, PRODUCT, authority="PMDA")
    assert counts(db) == before


@pytest.mark.postgres
def test_the_author_may_not_review_or_approve_and_nothing_changes(
    db: Database, people: Any
) -> None:
    add_person(db, "rdqa", "Alex Both", ["rd_scientist", "qa"])
    _study_with_data(db, people)
    document_id = generate(db, people, KIND, PRODUCT, who="rdqa")
    before = counts(db)
    with pytest.raises(SegregationOfDuties):
        review(db, people, document_id, who="rdqa")
    assert counts(db) == before and status_of(db, document_id) == "draft"
    review(db, people, document_id)
    before = counts(db)
    with pytest.raises(SegregationOfDuties):
        approve(db, people, document_id, who="rdqa")  # the author, though they hold QA's role
    with pytest.raises(SegregationOfDuties):
        approve(db, people, document_id, who="qa2")  # the reviewer
    assert counts(db) == before and status_of(db, document_id) == "reviewed"
    with unit_of_work(db, write=False) as s:
        assert service.get_document(s, document_id).pdf_file_id is None


def test_a_wrong_password_or_a_scientist_approving_changes_nothing(
    db: Database, people: Any
) -> None:
    _study_with_data(db, people)
    document_id = generate(db, people, KIND, PRODUCT)
    review(db, people, document_id)
    before = counts(db)
    with pytest.raises(PermissionDenied):
        approve(db, people, document_id, who="rd")
    with pytest.raises(AuthenticationFailed), unit_of_work(db) as s:
        service.approve_document(
            s, actor=people.qa, document_id=document_id, password=PASSWORD + "x"
        )
    after = counts(db)
    # a failed signature attempt is audited (Part 11), nothing else changes
    assert {k: v for k, v in after.items() if k != "audit"} == {
        k: v for k, v in before.items() if k != "audit"
    }
    assert status_of(db, document_id) == "reviewed"
    with unit_of_work(db, write=False) as s:
        assert stability.studies_of_product(s, PRODUCT)
