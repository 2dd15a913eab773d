"""The shipped manuals as controlled documents: every file in docs/manuals reads; a file not in
the expected form is refused by name and nothing is loaded; a load creates drafts, loading
again changes nothing, a changed text opens a revision of that manual only; the demonstration's
way approves them and puts them in force with authorship and approval kept apart; the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.kernel.cli import run_cli
from tests.support import PASSWORD

from pharmaqms.compliance.manuals import files, service
from pharmaqms.compliance.manuals.files import ManualError
from pharmaqms.kernel.db import Database
from pharmaqms.kernel.errors import PermissionDenied
from pharmaqms.kernel.models import AuditEntry, ElectronicSignature
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.documents.models import (
    ControlledDocument,
    DocumentStatus,
    DocumentVersion,
    VersionStatus,
)

ROOT = Path(__file__).resolve().parents[2]


def counts(db: Database) -> dict[str, Any]:
    with unit_of_work(db, write=False) as s:
        return {
            "documents": s.scalar(select(func.count()).select_from(ControlledDocument)),
            "versions": s.scalar(select(func.count()).select_from(DocumentVersion)),
            "audit": s.scalar(select(func.count()).select_from(AuditEntry)),
        }


def shipped_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "manuals"
    shutil.copytree(ROOT / "docs" / "manuals", folder)
    return folder


def test_the_shipped_folder_holds_the_manuals_the_issue_asks_for() -> None:
    manuals = files.read_all(ROOT / "docs" / "manuals")
    assert files.SHIPPED == ROOT / "docs" / "manuals"
    titles = " | ".join(m.title.lower() for m in manuals)
    for module in ("quality processes", "production", "distribution", "pharmacovigilance"):
        assert f"operation manual: {module}" in titles or module in titles, module
    for topic in ("r&d", "data platform", "data-governance", "incident", "backup", "periodic"):
        assert topic in titles, topic
    assert len(manuals) == 11
    # Each manual is real text, not a heading: every one has numbered sections.
    assert all(m.body.count("\n## ") >= 3 for m in manuals)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("# No header\n\ntext\n", "does not start with a header"),
        ("---\ntype: sop\narea: QA\n---\n# T\n", "the header lacks review_months"),
        ("---\ntype: memo\narea: QA\nreview_months: 24\n---\n# T\n", "type 'memo' is not one"),
        ("---\ntype: sop\narea: QA\nreview_months: 99\n---\n# T\n", "review_months must be"),
        ("---\ntype: sop\narea: QA\nreview_months: 24\n---\nNo title\n", "does not start with"),
        ("---\ntype: sop\nowner: me\n---\n# T\n", "header line 'owner: me'"),
    ],
)
def test_a_file_not_in_the_form_is_refused_by_name_and_nothing_is_loaded(
    db: Database, people: Any, tmp_path: Path, text: str, problem: str
) -> None:
    folder = shipped_copy(tmp_path)
    (folder / "zz-bad.md").write_text(text, encoding="utf-8")
    before = counts(db)
    with pytest.raises(ManualError) as refused:
        manuals = files.read_all(folder)
        with unit_of_work(db) as s:
            service.load_manuals(s, manuals, actor=people.qa)
    assert "zz-bad.md" in str(refused.value) and problem in str(refused.value)
    assert counts(db) == before


def test_two_manuals_with_one_title_are_refused(tmp_path: Path) -> None:
    folder = shipped_copy(tmp_path)
    shutil.copy(folder / "incidents.md", folder / "incidents-copy.md")
    with pytest.raises(ManualError, match="share the title"):
        files.read_all(folder)


def test_loading_creates_drafts_and_loading_again_changes_nothing(
    db: Database, people: Any
) -> None:
    manuals = files.read_all(ROOT / "docs" / "manuals")
    with unit_of_work(db) as s:
        first = service.load_manuals(s, manuals, actor=people.qa)
    assert {r.outcome for r in first} == {"draft created"}
    with unit_of_work(db, write=False) as s:
        for result in first:
            document = s.scalars(
                select(ControlledDocument).where(ControlledDocument.number == result.number)
            ).one()
            version = s.get(DocumentVersion, result.version_id)
            assert version is not None and version.status == VersionStatus.DRAFT
            assert version.body == result.manual.body
            assert document.area == result.manual.area
            assert document.review_period_months == result.manual.review_months
    before = counts(db)
    with unit_of_work(db) as s:
        again = service.load_manuals(s, manuals, actor=people.qa)
    assert {r.outcome for r in again} == {"unchanged"}
    assert counts(db) == before


def test_the_demonstration_puts_them_in_force_and_a_changed_text_opens_one_revision(
    db: Database, people: Any, tmp_path: Path
) -> None:
    folder = shipped_copy(tmp_path)
    approval = service.Approval(people.qa2, PASSWORD)
    with unit_of_work(db) as s:
        loaded = service.load_manuals(s, files.read_all(folder), actor=people.qa, approval=approval)
    with unit_of_work(db, write=False) as s:
        for result in loaded:
            document = s.scalars(
                select(ControlledDocument).where(ControlledDocument.number == result.number)
            ).one()
            assert document.status == DocumentStatus.CURRENT
            signers = {
                sig.signer_id
                for sig in s.scalars(
                    select(ElectronicSignature).where(
                        ElectronicSignature.record_type == "document_version",
                        ElectronicSignature.record_id == result.version_id,
                    )
                )
            }
            assert signers == {people.qa2.user_id}, result.manual.file
        states = service.shipped_status(s, files.read_all(folder))
    assert all(state.startswith("in force as shipped") for _m, _n, state in states)

    drill = folder / "backup-restore-drill.md"
    drill.write_text(
        drill.read_text(encoding="utf-8").replace("under four hours", "under two hours"),
        encoding="utf-8",
    )
    with unit_of_work(db) as s:
        changed = service.load_manuals(s, files.read_all(folder), actor=people.qa)
    outcomes = {r.manual.file: r.outcome for r in changed}
    assert outcomes.pop("backup-restore-drill.md") == "revision opened"
    assert set(outcomes.values()) == {"unchanged"}
    with unit_of_work(db, write=False) as s:
        status = dict(
            (m.file, state) for m, _n, state in service.shipped_status(s, files.read_all(folder))
        )
    assert "differs from the shipped text" in status["backup-restore-drill.md"]


def test_only_an_author_of_documents_may_load_them(db: Database, people: Any) -> None:
    before = counts(db)
    with pytest.raises(PermissionDenied), unit_of_work(db) as s:
        service.load_manuals(s, files.read_all(), actor=people.operator)
    assert counts(db) == before


def test_the_command_loads_and_lists(db: Database) -> None:
    env = {"PHARMAQMS_PASSWORD": PASSWORD}
    loaded = run_cli(db, "manuals", "load", "--as", "qa", env=env)
    assert loaded.exit_code == 0, loaded.output
    assert loaded.output.count("draft created") == 11
    listed = run_cli(db, "manuals", "list")
    assert listed.exit_code == 0, listed.output
    assert listed.output.count("no version in force yet") == 11
    before = counts(db)
    elsewhere = {**env, "PHARMAQMS_MANUALS_DIR": "/nonexistent/manuals"}
    refused = run_cli(db, "manuals", "load", "--as", "qa", env=elsewhere)
    assert refused.exit_code == 2
    assert "no manuals folder at /nonexistent/manuals" in refused.output
    assert counts(db) == before
