"""Master batch records: the structured recipe of a product, kept as a controlled document of
type ``master_batch_record`` so that it is versioned, reviewed, approved with a signature and
made effective by document control like every other GMP document.

The document version's body is the rendered recipe ending with the SHA-256 of the structured
definition; a batch record is only opened from a master whose version is effective, whose
"Approved" signature still covers that body, and whose definition still hashes to the value in
it — so the steps executed are the steps approved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.signatures import signatures_of
from pharmaqms.lifecycle.production.batchrecords import definition
from pharmaqms.lifecycle.production.batchrecords.definition import StepDefinition
from pharmaqms.lifecycle.production.batchrecords.models import BatchRecord, MasterBatchRecord
from pharmaqms.platform.masterdata.models import Material, Product
from pharmaqms.quality.changes.affected import register_affected_lookup
from pharmaqms.quality.documents import service as documents
from pharmaqms.quality.documents.models import (
    ControlledDocument,
    DocumentStatus,
    DocumentType,
    DocumentVersion,
    VersionStatus,
)

# Documents a step may be governed by.
PROCEDURE_TYPES = frozenset({DocumentType.SOP.value, DocumentType.WORK_INSTRUCTION.value})


OWNER = "master_batch_record"


def _revised_here(session: Session, document_id: int) -> str | None:
    """Document control asks before revising or editing a document: a master batch record's
    document is revised here, so that every effective version has its structured steps."""
    master = session.scalars(
        select(MasterBatchRecord)
        .where(MasterBatchRecord.document_id == document_id)
        .order_by(MasterBatchRecord.id.desc())
    ).first()
    if master is None:
        return None
    return (
        f"it is the master batch record {master.number.split(' ')[0]}; revise it as a master "
        f"batch record (POST /api/v1/production/masters/{master.id}/revisions, or its page "
        "under Production › Master batch records), so that the new version carries its steps"
    )


documents.register_structured_owner(OWNER, _revised_here)


def _named_by_a_change(session: Session, number: str) -> str | None:
    """Change control names a master batch record by its document number (MBR-…)."""
    document = session.scalars(
        select(ControlledDocument).where(
            ControlledDocument.number == number,
            ControlledDocument.doc_type == DocumentType.MASTER_BATCH_RECORD.value,
        )
    ).first()
    if document is None or _revised_here(session, document.id) is None:
        return None
    return f"{document.number} {document.title}"


register_affected_lookup("master_batch_record", _named_by_a_change)


class MasterNotEffective(Conflict):
    code = "master_not_effective"
    title = "Master batch record not in force"


def get_master(session: Session, master_id: int) -> MasterBatchRecord:
    master = session.get(MasterBatchRecord, master_id)
    if master is None:
        raise NotFound(f"no master batch record with id {master_id}")
    return master


def version_of(session: Session, master: MasterBatchRecord) -> DocumentVersion:
    return documents.get_version(session, master.document_version_id)


def header_of(master: MasterBatchRecord) -> dict[str, Any]:
    return {
        "product_code": master.product_code,
        "title": master.title,
        "batch_size": master.batch_size,
        "batch_unit": master.batch_unit,
    }


def steps(master: MasterBatchRecord) -> list[StepDefinition]:
    return definition.steps_of(master.steps)


def procedures_not_in_force(session: Session, numbers: set[str]) -> list[str]:
    """The SOP numbers among ``numbers`` that are not procedures in force, with why."""
    found = {
        d.number: d
        for d in session.scalars(
            select(ControlledDocument).where(ControlledDocument.number.in_(sorted(numbers)))
        )
    }
    reasons = []
    for number in sorted(numbers):
        document = found.get(number)
        if document is None:
            reasons.append(f"{number}: no such document")
        elif document.doc_type not in PROCEDURE_TYPES:
            reasons.append(f"{number} is a {document.doc_type}, not an SOP or work instruction")
        elif document.status != DocumentStatus.CURRENT:
            reasons.append(f"{number} is not in force ({document.status})")
    return reasons


def _checked(
    session: Session, product_code: str, raw_steps: Sequence[Mapping[str, Any]]
) -> tuple[Product, list[StepDefinition]]:
    product = session.scalars(select(Product).where(Product.code == product_code.strip())).first()
    if product is None:
        raise InvalidInput(f"no product {product_code!r}", field="product_code")
    parsed = definition.parse_steps(raw_steps)
    sops = {n for step in parsed for n in step.sop_numbers}
    problems = procedures_not_in_force(session, sops)
    if problems:
        raise InvalidInput(
            "a step must be governed by SOPs in force: " + "; ".join(problems),
            field="steps",
            reasons=problems,
        )
    codes = {m.material_code for step in parsed for m in step.materials}
    known = set(session.scalars(select(Material.code).where(Material.code.in_(sorted(codes)))))
    unknown = sorted(codes - known)
    if unknown:
        raise InvalidInput(f"unknown materials: {', '.join(unknown)}", field="steps")
    return product, parsed


def _header(product_code: str, title: str, batch_size: float, batch_unit: str) -> dict[str, Any]:
    title = (title or "").strip()
    if not title or len(title) > 300:
        raise InvalidInput("a title (1–300 characters)", field="title")
    size = definition.number(batch_size, "batch_size")
    if size <= 0:
        raise InvalidInput("the batch size must be positive", field="batch_size")
    unit = (batch_unit or "").strip()
    if not unit or len(unit) > 20:
        raise InvalidInput("the unit of the batch size (1–20 characters)", field="batch_unit")
    return {
        "product_code": product_code.strip(),
        "title": title,
        "batch_size": size,
        "batch_unit": unit,
    }


def define_master_batch_record(
    session: Session,
    *,
    actor: Actor,
    product_code: str,
    title: str,
    batch_size: float,
    batch_unit: str,
    steps: Sequence[Mapping[str, Any]],
) -> MasterBatchRecord:
    """A new master batch record: its controlled document (version 1.0, draft) and the
    structured steps behind it. It is reviewed, approved and made effective through document
    control."""
    actor.require("batchrecords.masters", "define master batch records")
    header = _header(product_code, title, batch_size, batch_unit)
    product, parsed = _checked(session, header["product_code"], steps)
    digest = definition.definition_hash(header, parsed)
    version = documents.create_document(
        session,
        actor=actor,
        doc_type=DocumentType.MASTER_BATCH_RECORD.value,
        title=header["title"],
        body=definition.render(header, parsed, digest),
        area="Production",
    )
    master = MasterBatchRecord(
        number=version.number,
        document_id=version.document_id,
        document_version_id=version.id,
        product_id=product.id,
        product_code=product.code,
        title=header["title"],
        batch_size=header["batch_size"],
        batch_unit=header["batch_unit"],
        steps=[s.as_dict() for s in parsed],
        definition_hash=digest,
        created_by_id=actor.user_id,
    )
    with audit.changes(session, actor=actor, reason="master batch record defined"):
        session.add(master)
    return master


def edit_master_batch_record(
    session: Session,
    *,
    actor: Actor,
    master_id: int,
    steps: Sequence[Mapping[str, Any]] | None = None,
    title: str | None = None,
    batch_size: float | None = None,
    batch_unit: str | None = None,
    reason: str | None = None,
) -> MasterBatchRecord:
    """Change a master while its document version is a draft; the document's body follows."""
    actor.require("batchrecords.masters", "edit master batch records")
    master = get_master(session, master_id)
    version = version_of(session, master)
    if version.status != VersionStatus.DRAFT:
        raise Conflict(
            f"{master.number} is {version.status}: only a draft is edited (revise it, or return "
            "it to draft)"
        )
    header = _header(
        master.product_code,
        title if title is not None else master.title,
        batch_size if batch_size is not None else master.batch_size,
        batch_unit if batch_unit is not None else master.batch_unit,
    )
    _, parsed = _checked(session, master.product_code, steps if steps is not None else master.steps)
    digest = definition.definition_hash(header, parsed)
    documents.edit_draft(
        session,
        actor=actor,
        version_id=version.id,
        expected_version=version.version,
        title=header["title"],
        body=definition.render(header, parsed, digest),
        reason=reason,
        owner=OWNER,
    )
    with audit.changes(session, actor=actor, reason=reason or "master batch record edited"):
        master.title = header["title"]
        master.batch_size = header["batch_size"]
        master.batch_unit = header["batch_unit"]
        master.steps = [s.as_dict() for s in parsed]
        master.definition_hash = digest
    return master


def revise_master_batch_record(
    session: Session, *, actor: Actor, master_id: int, change_summary: str, major: bool = False
) -> MasterBatchRecord:
    """A new draft version of the master's document, starting from this master's steps."""
    actor.require("batchrecords.masters", "revise master batch records")
    master = get_master(session, master_id)
    version = documents.revise(
        session,
        actor=actor,
        document_id=master.document_id,
        major=major,
        change_summary=change_summary,
        owner=OWNER,
    )
    revised = MasterBatchRecord(
        number=version.number,
        document_id=master.document_id,
        document_version_id=version.id,
        product_id=master.product_id,
        product_code=master.product_code,
        title=master.title,
        batch_size=master.batch_size,
        batch_unit=master.batch_unit,
        steps=master.steps,
        definition_hash=master.definition_hash,
        created_by_id=actor.user_id,
    )
    with audit.changes(session, actor=actor, reason=f"revision of {master.number}"):
        session.add(revised)
    return revised


def effectiveness_problems(session: Session, master: MasterBatchRecord) -> list[str]:
    """Why batches may not be made to this master now; empty when they may."""
    version = version_of(session, master)
    problems = []
    if version.status == VersionStatus.SUPERSEDED:
        problems.append(_superseded(session, master))
    elif version.status != VersionStatus.EFFECTIVE:
        problems.append(f"{master.number} is {version.status.replace('_', ' ')}, not effective")
    digest = definition.definition_hash(header_of(master), steps(master))
    if digest != master.definition_hash:
        problems.append(f"{master.number}: the stored steps no longer hash to the recorded value")
    if definition.hash_line(master.definition_hash) not in version.body:
        problems.append(f"{master.number}: the approved document does not carry these steps")
    approvals = [s for s in signatures_of(session, version) if s.meaning == "Approved"]
    if not any(s.valid_for_current_content for s in approvals):
        problems.append(f"{master.number}: no approval signature covers the current content")
    sops = {n for step in steps(master) for n in step.sop_numbers}
    problems.extend(procedures_not_in_force(session, sops))
    return problems


def master_in_force(session: Session, document_id: int) -> MasterBatchRecord | None:
    """The master batch record of the document's version in force, if any."""
    document = session.get(ControlledDocument, document_id)
    if document is None or document.current_version_id is None:
        return None
    return session.scalars(
        select(MasterBatchRecord).where(
            MasterBatchRecord.document_version_id == document.current_version_id
        )
    ).first()


def _superseded(session: Session, master: MasterBatchRecord) -> str:
    successor = master_in_force(session, master.document_id)
    if successor is None:
        return f"{master.number} is superseded, and no master batch record is in force"
    return (
        f"{master.number} is superseded by {successor.number}: open the batch record from "
        f"that master (id {successor.id})"
    )


def require_effective(session: Session, master: MasterBatchRecord) -> None:
    problems = effectiveness_problems(session, master)
    if problems:
        raise MasterNotEffective(
            f"no batch can be made to {master.number}: " + "; ".join(problems), reasons=problems
        )


def list_masters(
    session: Session, *, product_code: str | None = None
) -> list[tuple[MasterBatchRecord, DocumentVersion]]:
    query = (
        select(MasterBatchRecord, DocumentVersion)
        .join(DocumentVersion, DocumentVersion.id == MasterBatchRecord.document_version_id)
        .order_by(MasterBatchRecord.product_code, MasterBatchRecord.id.desc())
    )
    if product_code:
        query = query.where(MasterBatchRecord.product_code == product_code)
    return [(m, v) for m, v in session.execute(query)]


def theoretical_sizes(session: Session, lot_ids: list[int]) -> dict[int, tuple[float, str]]:
    """The theoretical batch size (and its unit) of each lot made under a master batch record,
    from the master its batch record was opened on: the denominator of a batch's yield. A lot
    without a batch record here has none."""
    if not lot_ids:
        return {}
    rows = session.execute(
        select(BatchRecord.lot_id, MasterBatchRecord.batch_size, MasterBatchRecord.batch_unit)
        .join(MasterBatchRecord, MasterBatchRecord.id == BatchRecord.master_id)
        .where(BatchRecord.lot_id.in_(lot_ids))
    )
    return {lot_id: (size, unit) for lot_id, size, unit in rows}
