"""Source files attached to a document version: the Word original an SOP was written in, a
signed PDF, a drawing. Kept byte for byte (append-only, with their SHA-256); what is handed
out is checked against that hash first. The version's ``attachments_digest`` sums them up and
is part of what the approval signature covers."""

from __future__ import annotations

import hashlib
from pathlib import PurePath

from sqlalchemy import select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.canonical import content_hash
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound
from pharmaqms.kernel.identity import Actor
from pharmaqms.quality.documents.models import DocumentAttachment, DocumentVersion, VersionStatus

MAX_BYTES = 20 * 1024 * 1024
# The kinds of source a controlled document is kept in; the media type is ours, not the
# sender's (a browser's guess is not evidence).
MEDIA_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".doc": "application/msword",
    ".pdf": "application/pdf",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".txt": "text/plain",
    ".md": "text/markdown",
}
# The first bytes a file of these kinds starts with: a renamed file is refused.
MAGIC = {
    ".docx": b"PK\x03\x04",
    ".xlsx": b"PK\x03\x04",
    ".odt": b"PK\x03\x04",
    ".pdf": b"%PDF-",
    ".doc": b"\xd0\xcf\x11\xe0",
    ".png": b"\x89PNG",
    ".jpg": b"\xff\xd8\xff",
    ".jpeg": b"\xff\xd8\xff",
}


class AttachmentCorrupted(Conflict):
    code = "attachment_corrupted"
    title = "Attachment no longer matches its hash"


def attachments_of(session: Session, version_id: int) -> list[DocumentAttachment]:
    return list(
        session.scalars(
            select(DocumentAttachment)
            .where(DocumentAttachment.version_id == version_id)
            .order_by(DocumentAttachment.id)
        )
    )


def digest_of(attachments: list[DocumentAttachment]) -> str:
    if not attachments:
        return ""
    return content_hash([{"filename": a.filename, "sha256": a.sha256} for a in attachments])


def _filename(name: str) -> tuple[str, str]:
    cleaned = PurePath((name or "").replace("\\", "/")).name.strip()
    if not cleaned or len(cleaned) > 255 or any(ord(c) < 32 for c in cleaned):
        raise InvalidInput("the file needs a name (at most 255 characters)", field="file")
    suffix = PurePath(cleaned).suffix.lower()
    if suffix not in MEDIA_TYPES:
        raise InvalidInput(
            f"{cleaned}: a {suffix or 'file without extension'} is not kept as a document "
            f"source; one of: {', '.join(sorted(MEDIA_TYPES))}",
            field="file",
        )
    return cleaned, suffix


def attach_file(
    session: Session, *, actor: Actor, version_id: int, filename: str, content: bytes
) -> DocumentAttachment:
    """Attach a source file to a draft."""
    from pharmaqms.quality.documents.service import get_version

    actor.require("documents.author", "attach files to documents")
    version = get_version(session, version_id)
    if version.status != VersionStatus.DRAFT:
        raise Conflict(
            f"{version.number} is {version.status.replace('_', ' ')}: files are attached to a "
            "draft (revise the document to change its sources)"
        )
    name, suffix = _filename(filename)
    if not content:
        raise InvalidInput(f"{name} is empty", field="file")
    if len(content) > MAX_BYTES:
        raise InvalidInput(f"{name} is larger than {MAX_BYTES:,} bytes", field="file")
    magic = MAGIC.get(suffix)
    if magic is not None and not content.startswith(magic):
        raise InvalidInput(
            f"{name} is not a {suffix} file (its content says otherwise)", field="file"
        )
    existing = attachments_of(session, version.id)
    if any(a.filename == name for a in existing):
        raise Conflict(f"{version.number} already has a file named {name}")
    sha = hashlib.sha256(content).hexdigest()
    attachment = DocumentAttachment(
        version_id=version.id,
        filename=name,
        media_type=MEDIA_TYPES[suffix],
        size=len(content),
        sha256=sha,
        content=content,
        attached_by_id=actor.user_id,
        attached_at=clock.now(),
    )
    with audit.changes(session, actor=actor, reason=f"{name} attached (SHA-256 {sha})"):
        session.add(attachment)
        session.flush()
        version.attachments_digest = digest_of([*existing, attachment])
    return attachment


def carry_over(
    session: Session, *, actor: Actor, source: DocumentVersion, target: DocumentVersion
) -> None:
    """A revision starts from its base's sources, as it starts from its text."""
    copied = [
        DocumentAttachment(
            version_id=target.id,
            filename=a.filename,
            media_type=a.media_type,
            size=a.size,
            sha256=a.sha256,
            content=a.content,
            attached_by_id=actor.user_id,
            attached_at=clock.now(),
        )
        for a in attachments_of(session, source.id)
    ]
    if not copied:
        return
    with audit.changes(session, actor=actor, reason=f"sources of {source.number} carried over"):
        session.add_all(copied)
        session.flush()
        target.attachments_digest = digest_of(copied)


def get_attachment(session: Session, attachment_id: int) -> DocumentAttachment:
    attachment = session.get(DocumentAttachment, attachment_id)
    if attachment is None:
        raise NotFound(f"no document attachment with id {attachment_id}")
    return attachment


def content_of(attachment: DocumentAttachment) -> bytes:
    """The file as attached; refused when the stored bytes no longer match their hash."""
    if hashlib.sha256(attachment.content).hexdigest() != attachment.sha256:
        raise AttachmentCorrupted(
            f"{attachment.filename} no longer matches the SHA-256 recorded when it was attached"
        )
    return attachment.content
