"""The demo's submission documents: the tablet's stability summary for the FDA approved (the
scientist generated it, regulatory affairs reviewed, QA approved, its signed PDF stored), its
process development summary (EMA) and batch analyses (NMPA) waiting for review."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from tests.demo_support import demo_copy, demo_template
from tests.lifecycle.rnd.submission_steps import text_of

from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.rnd.submissions import service


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_template(tmp_path_factory)


def test_the_demo_tablet_has_one_document_per_section(template: Path, tmp_path: Path) -> None:
    database = demo_copy(template, tmp_path / "submissions.db")
    try:
        with unit_of_work(database, write=False) as s:
            found = {d.kind: d for d in service.documents(s, product_code="PARA500")}
            assert {k: (d.authority, d.status) for k, d in found.items()} == {
                "stability_summary": ("FDA", "approved"),
                "process_development": ("EMA", "draft"),
                "batch_analyses": ("NMPA", "draft"),
            }
            approved = found["stability_summary"]
            signers = [(v.meaning, v.signer_username) for v in signatures_of(s, approved)]
            assert signers == [("Reviewed", "rene.ra"), ("Approved", "quinn.qa")]
            pdf = service.current_pdf(s, approved)
            assert hashlib.sha256(pdf).hexdigest() == approved.pdf_sha256
            assert "PS2402" in text_of(pdf)
            development = found["process_development"].content["sections"]
            assert all(section["tables"] for section in development)
            production = found["batch_analyses"].content["sections"][1]
            assert production["tables"], production["empty"]
    finally:
        database.dispose()
