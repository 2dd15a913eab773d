"""``pharmaqms rnd submission-generate / submission-pdf``: a refusal is one line and stores
nothing; a generated document's PDF is written once (never over a file), handed out as an
export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.kernel.cli import run_cli
from tests.lifecycle.rnd.stability_steps import PRODUCT, approved_study, assay_results, record
from tests.lifecycle.rnd.submission_steps import counts, text_of
from tests.support import PASSWORD


def test_generation_and_pdf_from_the_command_line(db: Any, people: Any, tmp_path: Path) -> None:
    study_id = approved_study(db, people)
    as_rd = {"PHARMAQMS_PASSWORD": PASSWORD}
    before = counts(db)
    refused = run_cli(
        db,
        "rnd",
        "submission-generate",
        "stability_summary",
        PRODUCT,
        "FDA",
        "--as",
        "rd",
        env=as_rd,
    )
    assert refused.exit_code != 0
    assert "no stability data recorded for PARA-500-TAB" in refused.output
    # only the sign-in of --as is audited; no document, no file
    assert counts(db) == {**before, "audit": before["audit"] + 1}
    record(db, people, study_id, assay_results())
    made = run_cli(
        db,
        "rnd",
        "submission-generate",
        "stability_summary",
        PRODUCT,
        "NMPA",
        "--as",
        "rd",
        env=as_rd,
    )
    assert made.exit_code == 0, made.output
    assert "(3.2.P.8 PARA-500-TAB NMPA, edition 1) generated (draft); PDF SHA-256 " in made.output
    number = made.output.split(" ", 1)[0]
    out = tmp_path / "stability.pdf"
    written = run_cli(
        db, "rnd", "submission-pdf", number, "--out", str(out), "--as", "rd", env=as_rd
    )
    assert written.exit_code == 0, written.output
    assert f"{number} (draft) written to {out}" in written.output
    text = text_of(out.read_bytes())
    assert "National Medical Products Administration (NMPA), China" in text
    assert "DRAFT - NOT APPROVED" in text
    again = run_cli(db, "rnd", "submission-pdf", number, "--out", str(out), "--as", "rd", env=as_rd)
    assert again.exit_code != 0 and "exists already" in again.output
