"""Steps of the QC demo that other production demos take too: a specification written and
approved, a certificate prepared, reviewed and approved (which releases a material lot in
quarantine), and a GTIN with its check digit. Here, in QC, so that the materials demo builds
on QC and not the other way round."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from pharmaqms.kernel.demo import DemoContext
from pharmaqms.kernel.workflow import perform
from pharmaqms.lifecycle.production.qc import certificates, specifications
from pharmaqms.lifecycle.production.qc.workflow import CERTIFICATE_WORKFLOW, SPECIFICATION_WORKFLOW
from pharmaqms.platform.gs1 import check_digit


def gtin(body13: str) -> str:
    return f"{body13}{check_digit(body13)}"


def approve_specification(
    session: Session,
    ctx: DemoContext,
    *,
    subject_kind: str,
    item_code: str,
    market: str,
    title: str,
    tests: Sequence[specifications.TestInput],
) -> int:
    author, approver = ctx.people["chen.qc"], ctx.people["rosa.qa"]
    spec = specifications.create_specification(
        session,
        actor=author,
        subject_kind=subject_kind,
        item_code=item_code,
        market=market,
        title=title,
        tests=tests,
    )
    perform(session, SPECIFICATION_WORKFLOW, spec, "submit", actor=author)
    perform(session, SPECIFICATION_WORKFLOW, spec, "approve", actor=approver, password=ctx.password)
    return spec.id


def certify(session: Session, ctx: DemoContext, lot_id: int, spec_id: int) -> None:
    """QC prepares and reviews the certificate, QA approves it (a material lot is released)."""
    reviewer, approver = ctx.people["chen.qc"], ctx.people["quinn.qa"]
    coa = certificates.prepare_certificate(
        session, actor=reviewer, lot_id=lot_id, specification_id=spec_id
    )
    perform(session, CERTIFICATE_WORKFLOW, coa, "review", actor=reviewer, password=ctx.password)
    perform(session, CERTIFICATE_WORKFLOW, coa, "approve", actor=approver, password=ctx.password)
