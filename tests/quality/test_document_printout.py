"""The printed document: the signature manifestation (Part 11 §11.50) and the watermark of
every copy that is not the controlled, effective one, read back from the PDF text."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from tests.quality.document_steps import SOP_BODY, effective_document


def pdf_text(client, version_id: int, copy: str = "controlled") -> str:  # type: ignore[no-untyped-def]
    response = client.get(f"/api/v1/document-versions/{version_id}/pdf?copy={copy}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


@pytest.mark.clause("part11:11.10(b)", "part11:11.50", "annex11:8", "alcoa:legible")
def test_the_controlled_copy_shows_who_signed_what_when_and_no_watermark(frozen_clock, api) -> None:  # type: ignore[no-untyped-def]
    qa = api("qa")
    document = effective_document(api("qc"), qa, "Cleaning of the tablet press")
    [version] = document["versions"]

    text = pdf_text(qa, version["id"])

    assert f"{version['number']} Cleaning of the tablet press" in text
    assert "Approved by Quentin Quality (qa) on 2026-03-02 09:00:00 UTC" in text
    assert "Approved Quentin Quality (qa) 2026-03-02 09:00:00 UTC (+00:00) yes" in text
    assert "printed 2026-03-02 09:00 UTC (+00:00) by Quentin Quality (qa) - controlled copy" in text
    assert "Remove all materials of the previous batch." in text
    assert "UNCONTROLLED COPY" not in text
    assert "NOT FOR USE" not in text


@pytest.mark.clause("part11:11.10(b)", "annex11:8")
def test_an_uncontrolled_copy_and_a_draft_carry_their_watermark(frozen_clock, api) -> None:  # type: ignore[no-untyped-def]
    qa = api("qa")
    document = effective_document(api("qc"), qa, "Cleaning of the tablet press")
    draft = (
        api("qc")
        .post("/api/v1/documents", json={"doc_type": "sop", "title": "Weighing", "body": SOP_BODY})
        .json()
    )

    uncontrolled = pdf_text(qa, document["versions"][0]["id"], copy="uncontrolled")
    draft_text = pdf_text(qa, draft["id"])

    assert "UNCONTROLLED COPY" in uncontrolled
    assert "controlled copy" not in uncontrolled.replace("UNCONTROLLED COPY", "")
    assert "Approved by Quentin Quality (qa) on 2026-03-02 09:00:00 UTC" in uncontrolled
    assert "DRAFT - NOT FOR USE" in draft_text
    assert "Not signed." in draft_text
