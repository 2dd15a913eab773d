"""Signing a periodic safety report: only the QPPV, only with their password; the report
freezes the figures, the PDF carries the tables and the signature, its bytes are stored
append-only with their SHA-256 and come out again byte for byte; later cases change the
figures of a new summary, never the signed one. Refusals change nothing."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import text
from tests.lifecycle.use.cases.pv_steps import staff_report
from tests.lifecycle.use.psur.psur_steps import (
    PRODUCT,
    add_person,
    hand_built_cases,
    psur_counts,
)
from tests.support import PASSWORD

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import PermissionDenied, QMSError
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.use.cases import service as cases
from pharmaqms.lifecycle.use.psur import service
from pharmaqms.lifecycle.use.psur.models import PeriodicReportFile

JANUARY = (date(2026, 1, 1), date(2026, 1, 31))


@pytest.fixture
def made(db: Any, people: Any, frozen_clock: clock.FrozenClock) -> dict[str, str]:
    add_person(db, "qppv", ["qppv"])
    return hand_built_cases(db, people)


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def sign(db: Any, people: Any, password: str = PASSWORD, who: str = "qppv") -> int:
    with unit_of_work(db) as s:
        report = service.sign_report(
            s,
            actor=people.actor(who),
            product=PRODUCT,
            start=JANUARY[0],
            end=JANUARY[1],
            password=password,
            comment="PBRER January 2026",
        )
        s.flush()
        return int(report.id)


@pytest.mark.postgres
def test_the_qppv_signs_and_the_pdf_is_stored_with_its_hash(
    db: Any, people: Any, made: Any
) -> None:
    report_id = sign(db, people)
    with unit_of_work(db, write=False) as s:
        report = service.get_report(s, report_id)
        content = service.stored_pdf(s, report)
        assert report.status == "signed" and report.number.startswith("PSUR-")
        assert hashlib.sha256(content).hexdigest() == report.pdf_sha256
        [signature] = signatures_of(s, report)
        assert (signature.meaning, signature.signer_username) == ("Approved", "qppv")
        assert signature.valid_for_current_content
        # the stored PDF is the frozen figures and the signature, rendered again byte for byte
        assert service.render_signed(s, report) == content
        assert report.figures["totals"]["interval"]["cases"] == 3
        number = report.number
    assert content.startswith(b"%PDF")
    words = pdf_text(content)
    for expected in (
        "Periodic safety summary",
        number,
        PRODUCT,
        "2026-01-01 to 2026-01-31",
        "10037844 (skin rash)",
        "hepatic failure",
        made["C2"],
        made["C3"],
        made["C7"],
        "Approved by QPPV Person (qppv)",
    ):
        assert expected in words, expected
    assert made["C1"] not in words and made["C4"] not in words


@pytest.mark.postgres
def test_later_cases_change_a_new_summary_never_the_signed_report(
    db: Any, people: Any, made: Any, frozen_clock: clock.FrozenClock
) -> None:
    report_id = sign(db, people)
    with unit_of_work(db, write=False) as s:
        before = service.get_report(s, report_id)
        frozen, sha = dict(before.figures), before.pdf_sha256
    with unit_of_work(db) as s:  # a late report of a January case arrives in March
        cases.record_case(
            s,
            actor=people.pv,
            report=staff_report(received_at=datetime(2026, 1, 30, 9, 0, tzinfo=UTC)),
        )
    with unit_of_work(db, write=False) as s:
        assert service.summary(s, PRODUCT, *JANUARY).figures["totals"]["interval"]["cases"] == 4
        after = service.get_report(s, report_id)
        assert after.figures == frozen and after.pdf_sha256 == sha
        assert service.render_signed(s, after) == service.stored_pdf(s, after)


@pytest.mark.postgres
def test_the_stored_pdf_can_not_be_changed_in_the_database(db: Any, people: Any, made: Any) -> None:
    report_id = sign(db, people)
    # SQLite: the append-only trigger; PostgreSQL: the application's role may not even UPDATE
    with (
        pytest.raises(Exception, match=r"(?i)append-only|permission denied"),
        unit_of_work(db) as s,
    ):
        report = service.get_report(s, report_id)
        s.execute(
            text("UPDATE pv_periodic_report_files SET content = :c WHERE id = :i"),
            {"c": b"%PDF-forged", "i": report.pdf_file_id},
        )
    with unit_of_work(db, write=False) as s:
        report = service.get_report(s, report_id)
        stored = s.get(PeriodicReportFile, report.pdf_file_id)
        assert stored is not None and stored.sha256 == report.pdf_sha256


@pytest.mark.postgres
def test_a_wrong_password_signs_nothing(db: Any, people: Any, made: Any) -> None:
    before = psur_counts(db)
    with pytest.raises(QMSError, match=r"(?i)password"):
        sign(db, people, password="not-my-password")
    after = psur_counts(db)
    # the failed attempt is itself audited (Part 11); no report, file or signature
    for model in ("PeriodicSafetyReport", "PeriodicReportFile", "ElectronicSignature"):
        assert after[model] == before[model]


@pytest.mark.parametrize("who", ["pv", "qa", "auditor"])
def test_only_the_qppv_signs(db: Any, people: Any, made: Any, who: str) -> None:
    before = psur_counts(db)
    with pytest.raises(PermissionDenied, match="periodic safety reports"):
        sign(db, people, who=who)
    assert psur_counts(db) == before


def test_a_period_in_the_future_is_not_signed(db: Any, people: Any, made: Any) -> None:
    before = psur_counts(db)
    with pytest.raises(QMSError, match="future"), unit_of_work(db) as s:
        service.sign_report(
            s,
            actor=people.actor("qppv"),
            product=PRODUCT,
            start=date(2026, 3, 1),
            end=date(2026, 3, 31),
            password=PASSWORD,
        )
    assert psur_counts(db) == before


def test_the_draft_pdf_is_watermarked_and_stores_nothing(db: Any, people: Any, made: Any) -> None:
    before = psur_counts(db)
    with unit_of_work(db, write=False) as s:
        one = service.draft_pdf(s, PRODUCT, *JANUARY)
        two = service.draft_pdf(s, PRODUCT, *JANUARY)
    assert one == two  # invariant rendering: no creation time, no random id
    words = pdf_text(one)
    assert "Draft: not signed" in words and "DRAFT - NOT SIGNED" in words
    assert psur_counts(db) == before
