"""Steps the notebook tests share: a project with a template and an experiment, entries
written and signed by the R&D scientist (rd), witnessed by QA."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from tests.support import PASSWORD

from pharmaqms.kernel.db import Database
from pharmaqms.kernel.models import AuditEntry, ElectronicSignature
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.lifecycle.rnd.eln import service
from pharmaqms.lifecycle.rnd.eln.uploads import Upload

MARKER = "ZEBRA-QUARTZ-7781 polymorph II recrystallised from ethanol"
RAW = b"\x00\x01RAW-SPECTRUM-MARKER-4417\xff" * 50

SECTIONS = [
    {
        "title": "Dissolution",
        "fields": [
            {"name": "medium", "label": "Medium", "kind": "text"},
            {"name": "rpm", "label": "Paddle speed (rpm)", "kind": "number"},
        ],
    }
]


@dataclass(frozen=True)
class Notebook:
    project_id: int
    template_id: int
    experiment_id: int


def notebook(db: Database, people: Any, code: str = "FORM-01") -> Notebook:
    with unit_of_work(db) as s:
        project = service.create_project(
            s, actor=people.rd, code=code, title="Tablet formulation of API-X"
        )
        template = service.create_template(
            s, actor=people.rd, experiment_type="dissolution", name="USP II", sections=SECTIONS
        )
        s.flush()
        experiment = service.start_experiment(
            s,
            actor=people.rd,
            project_id=project.id,
            template_id=template.id,
            title="Dissolution of trial blend 3",
            protocol="Six vessels, 900 mL, 37 °C",
            materials=["API-X lot 12", "lactose"],
            equipment=["Dissolution bath DB-2"],
        )
        s.flush()
        return Notebook(project.id, template.id, experiment.id)


def write(
    db: Database,
    people: Any,
    book: Notebook,
    content: str = MARKER,
    *,
    files: tuple[Upload, ...] = (Upload("spectrum.bin", RAW),),
    amends_id: int | None = None,
    author: str = "rd",
) -> int:
    with unit_of_work(db) as s:
        entry = service.write_entry(
            s,
            actor=getattr(people, author),
            experiment_id=book.experiment_id,
            content=content,
            fields={"medium": "pH 6.8 buffer", "rpm": "50"},
            results="Q30 = 87 %",
            conclusions="meets the target profile",
            files=files,
            amends_id=amends_id,
        )
        s.flush()
        return entry.id


def sign(db: Database, people: Any, entry_id: int, author: str = "rd") -> None:
    with unit_of_work(db) as s:
        service.sign_entry(s, actor=getattr(people, author), entry_id=entry_id, password=PASSWORD)


def signed_entry(db: Database, people: Any, book: Notebook, **kw: Any) -> int:
    entry_id = write(db, people, book, **kw)
    sign(db, people, entry_id)
    return entry_id


def counts(db: Database) -> tuple[int, int]:
    """(audit entries, electronic signatures): a refusal leaves both as they were."""
    with unit_of_work(db, write=False) as s:
        return (
            s.scalar(select(func.count()).select_from(AuditEntry)) or 0,
            s.scalar(select(func.count()).select_from(ElectronicSignature)) or 0,
        )
