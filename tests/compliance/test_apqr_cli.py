"""``pharmaqms compliance apqr-register / apqr-generate / apqr-pdf``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.compliance.apqr_steps import PRODUCT, counts, pdf_text, small_data_set
from tests.kernel.cli import run_cli
from tests.support import PASSWORD

from pharmaqms.kernel import clock


def test_the_register_generation_and_pdf_from_the_command_line(
    db: Any, people: Any, frozen_clock: clock.FrozenClock, tmp_path: Path
) -> None:
    small_data_set(db, people)
    listed = run_cli(db, "compliance", "apqr-register")
    assert listed.exit_code == 0, listed.output
    assert f"{PRODUCT} 2024: due 2025-03-31, not started  OVERDUE" in listed.output
    assert f"{PRODUCT} 2025: due 2026-03-31, not started\n" in listed.output

    as_qa = {"PHARMAQMS_PASSWORD": PASSWORD}
    before = counts(db)
    refused = run_cli(db, "compliance", "apqr-generate", PRODUCT, "2023", "--as", "qa", env=as_qa)
    assert refused.exit_code != 0
    assert "no batches of APQRTAB were manufactured in 2023" in refused.output
    after = counts(db)
    # Only the sign-in of --as is audited (authentication writes its own entry); no review.
    assert after == {**before, "audit": before["audit"] + 1}
    made = run_cli(db, "compliance", "apqr-generate", PRODUCT, "2025", "--as", "qa", env=as_qa)
    assert made.exit_code == 0, made.output
    assert "(APQRTAB 2025, edition 1) generated (draft)" in made.output
    assert "Stability results" in made.output  # among the sections without data
    number = made.output.split(" ", 1)[0]
    out = tmp_path / "review.pdf"
    written = run_cli(db, "compliance", "apqr-pdf", number, "--out", str(out))
    assert written.exit_code == 0, written.output
    assert "DRAFT - NOT APPROVED" in pdf_text(out.read_bytes())
    again = run_cli(db, "compliance", "apqr-pdf", number, "--out", str(out))
    assert again.exit_code != 0 and "exists already" in again.output
    listed = run_cli(db, "compliance", "apqr-register")
    assert f"{PRODUCT} 2025: due 2026-03-31, draft {number}" in listed.output
