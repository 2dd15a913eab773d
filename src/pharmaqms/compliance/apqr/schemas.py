"""API shapes of annual product quality reviews and of the register of reviews due."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from pharmaqms.compliance.apqr.models import ProductQualityReview
from pharmaqms.compliance.apqr.service import DueReview
from pharmaqms.kernel.schemas import SignatureOut, Strict
from pharmaqms.quality.schemas import signatures_out


class GenerateIn(Strict):
    product: str = Field(min_length=1, max_length=200, description="product code or name")
    year: int = Field(ge=2000, le=9999)


class ConclusionsIn(Strict):
    conclusions: str = Field(min_length=1, max_length=20_000)
    actions: str = Field(
        min_length=1, max_length=20_000, description="the actions decided; 'none' if none"
    )
    expected_version: int | None = None


class SignIn(Strict):
    password: str = Field(min_length=1, max_length=256)
    expected_version: int = Field(description="the version of the review you read")
    comment: str = Field(default="", max_length=4000)


class ReturnIn(Strict):
    reason: str = Field(min_length=1, max_length=4000)
    expected_version: int | None = None


class ReviewRowOut(BaseModel):
    id: int
    number: str
    status: str
    product_code: str
    year: int
    edition: int
    figures_sha256: str
    pdf_sha256: str


class ReviewOut(ReviewRowOut):
    version: int
    product_name: str
    conclusions: str
    actions: str
    pdf_url: str
    figures: dict[str, Any] = Field(
        description="product, year, period, data_cut_off, interim, and sections (each with "
        "key, title, basis, and empty: the sentence saying it had no data, else null)"
    )
    signatures: list[SignatureOut]


class DueReviewOut(BaseModel):
    product_code: str
    product_name: str
    year: int
    due_on: date
    state: str
    review_id: int | None
    review_number: str | None
    overdue: bool


def row_out(review: ProductQualityReview) -> ReviewRowOut:
    return ReviewRowOut(
        id=review.id,
        number=review.number,
        status=review.status,
        product_code=review.product_code,
        year=review.year,
        edition=review.edition,
        figures_sha256=review.figures_sha256,
        pdf_sha256=review.pdf_sha256,
    )


def review_out(session: Session, review: ProductQualityReview) -> ReviewOut:
    return ReviewOut(
        **row_out(review).model_dump(),
        version=review.version,
        product_name=review.product_name,
        conclusions=review.conclusions,
        actions=review.actions,
        pdf_url=f"/api/v1/compliance/apqr/reviews/{review.id}/pdf",
        figures=review.figures,
        signatures=signatures_out(session, review),
    )


def due_out(row: DueReview) -> DueReviewOut:
    return DueReviewOut(
        product_code=row.product_code,
        product_name=row.product_name,
        year=row.year,
        due_on=row.due_on,
        state=row.state,
        review_id=row.review_id,
        review_number=row.review_number,
        overdue=row.overdue,
    )
