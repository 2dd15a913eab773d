"""The notebook's verbs, one function each; the only code that writes it.

``create_project`` (with its data key) · ``create_template`` · ``start_experiment`` ·
``write_entry`` (a draft; or an amendment of a signed entry) · ``edit_entry`` (drafts only,
by their author) · ``sign_entry`` (hash, Ed25519 signature, the author's e-signature) ·
``witness_entry`` (another person's e-signature) · ``close_experiment``.

Encrypted fields are written through ``_seal`` (table, row uid and column in the associated
data) and read through ``reading``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmaqms.kernel import audit, clock
from pharmaqms.kernel.errors import Conflict, InvalidInput, NotFound, StaleRecord
from pharmaqms.kernel.identity import Actor
from pharmaqms.kernel.keys import RND_SIGNING
from pharmaqms.kernel.models import User
from pharmaqms.kernel.workflow import perform
from pharmaqms.lifecycle.rnd.eln import vault
from pharmaqms.lifecycle.rnd.eln.crypto import encrypt_field
from pharmaqms.lifecycle.rnd.eln.integrity import public_key_hex, sign_hash
from pharmaqms.lifecycle.rnd.eln.models import (
    EntryAttestation,
    EntryStatus,
    Experiment,
    ExperimentEntry,
    ExperimentStatus,
    ExperimentTemplate,
    ProjectStatus,
    RawDataBlob,
    RawDataFile,
    RndProject,
    TemplateStatus,
    new_uid,
)
from pharmaqms.lifecycle.rnd.eln.uploads import Upload, checked, sniff
from pharmaqms.lifecycle.rnd.eln.workflow import (
    ENTRY_WORKFLOW,
    EXPERIMENT_WORKFLOW,
    SCIENTISTS,
)

MAX_TEXT: Final = 100_000
MAX_ITEMS: Final = 100
FIELD_KINDS: Final = ("text", "number")
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9._-]{1,39}$")
_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


# --- lookups ----------------------------------------------------------------------------------


def get_project(session: Session, project_id: int) -> RndProject:
    project = session.get(RndProject, project_id)
    if project is None:
        raise NotFound(f"no R&D project #{project_id}")
    return project


def get_template(session: Session, template_id: int) -> ExperimentTemplate:
    template = session.get(ExperimentTemplate, template_id)
    if template is None:
        raise NotFound(f"no experiment template #{template_id}")
    return template


def get_experiment(session: Session, experiment_id: int) -> Experiment:
    experiment = session.get(Experiment, experiment_id)
    if experiment is None:
        raise NotFound(f"no experiment #{experiment_id}")
    return experiment


def get_entry(session: Session, entry_id: int) -> ExperimentEntry:
    entry = session.get(ExperimentEntry, entry_id)
    if entry is None:
        raise NotFound(f"no notebook entry #{entry_id}")
    return entry


def projects(session: Session) -> list[RndProject]:
    return list(session.scalars(select(RndProject).order_by(RndProject.code)))


def templates(session: Session, *, active_only: bool = False) -> list[ExperimentTemplate]:
    query = select(ExperimentTemplate).order_by(
        ExperimentTemplate.experiment_type, ExperimentTemplate.name
    )
    if active_only:
        query = query.where(ExperimentTemplate.status == TemplateStatus.ACTIVE.value)
    return list(session.scalars(query))


def experiments_of(session: Session, project_id: int) -> list[Experiment]:
    query = select(Experiment).where(Experiment.project_id == project_id)
    return list(session.scalars(query.order_by(Experiment.id.desc())))


def entries_of(session: Session, experiment_id: int) -> list[ExperimentEntry]:
    query = select(ExperimentEntry).where(ExperimentEntry.experiment_id == experiment_id)
    return list(session.scalars(query.order_by(ExperimentEntry.seq)))


def attestations_of(session: Session, entry_id: int) -> list[EntryAttestation]:
    query = select(EntryAttestation).where(EntryAttestation.entry_id == entry_id)
    return list(session.scalars(query.order_by(EntryAttestation.id)))


def files_of(session: Session, entry_id: int) -> list[RawDataFile]:
    query = select(RawDataFile).where(RawDataFile.entry_id == entry_id)
    return list(session.scalars(query.order_by(RawDataFile.id)))


# --- input ------------------------------------------------------------------------------------


def _text(value: str | None, field: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"{field.replace('_', ' ')} is required", field=field)
    if len(text) > limit:
        raise InvalidInput(f"{field} is over {limit:,} characters", field=field)
    return text


def _items(values: Sequence[str], field: str) -> list[str]:
    found = [v.strip() for v in values if v and v.strip()]
    if len(found) > MAX_ITEMS or any(len(v) > 500 for v in found):
        raise InvalidInput(f"{field}: at most {MAX_ITEMS} items of 500 characters", field=field)
    return found


def _sections(sections: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if not sections:
        raise InvalidInput("a template has at least one section", field="sections")
    cleaned: list[dict[str, Any]] = []
    names: set[str] = set()
    for number, section in enumerate(sections, 1):
        title = str(section.get("title") or "").strip()
        if not title or len(title) > 200:
            raise InvalidInput(f"section {number} needs a title (1-200)", field="sections")
        fields = []
        for spec in section.get("fields") or []:
            name = str(spec.get("name") or "").strip()
            kind = str(spec.get("kind") or "text")
            label = str(spec.get("label") or name).strip()[:200]
            if not _FIELD_NAME.match(name) or name in names:
                raise InvalidInput(
                    f"section {number}: field name {name!r} must be unique, lower case, "
                    "letters, digits and _",
                    field="sections",
                )
            if kind not in FIELD_KINDS:
                raise InvalidInput(
                    f"field {name}: kind {kind!r} is one of {', '.join(FIELD_KINDS)}",
                    field="sections",
                )
            names.add(name)
            fields.append({"name": name, "label": label, "kind": kind})
        cleaned.append({"title": title, "fields": fields})
    return cleaned


def template_fields(template: ExperimentTemplate | None) -> list[dict[str, str]]:
    if template is None:
        return []
    return [f for section in template.sections for f in section["fields"]]


def _field_values(
    template: ExperimentTemplate | None, values: Mapping[str, str] | None
) -> dict[str, str]:
    given = {k: str(v).strip() for k, v in (values or {}).items() if str(v).strip()}
    specs = {f["name"]: f for f in template_fields(template)}
    unknown = sorted(set(given) - set(specs))
    if unknown:
        raise InvalidInput(
            f"the experiment's template has no field {', '.join(unknown)}", field="fields"
        )
    for name, value in given.items():
        if len(value) > 10_000:
            raise InvalidInput(f"field {name} is over 10,000 characters", field="fields")
        if specs[name]["kind"] == "number":
            try:
                float(value)
            except ValueError:
                raise InvalidInput(
                    f"field {name} is a number, not {value!r}", field="fields"
                ) from None
    return given


def _seal(data_key: bytes, table: str, uid: str, field: str, value: str | bytes) -> bytes:
    raw = value.encode("utf-8") if isinstance(value, str) else value
    return encrypt_field(data_key, raw, table=table, uid=uid, field=field)


# --- projects and templates -------------------------------------------------------------------


def create_project(
    session: Session,
    *,
    actor: Actor,
    code: str,
    title: str,
    lead_id: int | None = None,
    description: str = "",
) -> RndProject:
    """A new R&D project with its own data key (wrapped by the master key)."""
    actor.require("rnd.manage", "set up R&D projects")
    code = (code or "").strip().upper()
    if not _CODE.match(code):
        raise InvalidInput(
            "the project code is 2-40 capital letters, digits, '.', '_' or '-'", field="code"
        )
    if session.scalar(select(RndProject.id).where(RndProject.code == code)) is not None:
        raise Conflict(f"an R&D project {code} exists already", field="code")
    lead = session.get(User, lead_id if lead_id is not None else actor.user_id)
    if lead is None or not lead.is_active or lead.is_service_account:
        raise InvalidInput("the project lead is an active person's account", field="lead_id")
    project = RndProject(
        status=ProjectStatus.ACTIVE.value,
        code=code,
        title=_text(title, "title", required=True, limit=200),
        lead_id=lead.id,
        description=_text(description, "description", limit=4000),
    )
    with audit.changes(session, actor=actor, reason=f"R&D project {code} set up"):
        session.add(project)
        session.flush()
        vault.create_data_key(session, project.id)
    return project


def create_template(
    session: Session,
    *,
    actor: Actor,
    experiment_type: str,
    name: str,
    sections: Sequence[Mapping[str, Any]],
) -> ExperimentTemplate:
    actor.require("rnd.manage", "set up experiment templates")
    template = ExperimentTemplate(
        status=TemplateStatus.ACTIVE.value,
        experiment_type=_text(experiment_type, "experiment_type", required=True, limit=80),
        name=_text(name, "name", required=True, limit=200),
        sections=_sections(sections),
    )
    with audit.changes(session, actor=actor, reason=f"template {template.name}"):
        session.add(template)
    return template


# --- experiments ------------------------------------------------------------------------------


def start_experiment(
    session: Session,
    *,
    actor: Actor,
    project_id: int,
    title: str,
    protocol: str,
    template_id: int | None = None,
    materials: Sequence[str] = (),
    equipment: Sequence[str] = (),
) -> Experiment:
    """An experiment of an active project: protocol, materials and equipment encrypted."""
    actor.require("rnd.write", "start experiments")
    project = get_project(session, project_id)
    if project.status != ProjectStatus.ACTIVE.value:
        raise Conflict(f"{project.code} is {project.status}: it takes no new experiments")
    if template_id is not None:
        template = get_template(session, template_id)
        if template.status != TemplateStatus.ACTIVE.value:
            raise InvalidInput(f"template {template.number} is retired", field="template_id")
    title = _text(title, "title", required=True, limit=200)
    protocol = _text(protocol, "protocol", required=True)
    used = _items(materials, "materials"), _items(equipment, "equipment")
    key = vault.data_key(session, project.id)
    uid, table = new_uid(), Experiment.__tablename__
    experiment = Experiment(
        status=ExperimentStatus.OPEN.value,
        uid=uid,
        project_id=project.id,
        template_id=template_id,
        title=title,
    )
    experiment.protocol_ct = _seal(key, table, uid, "protocol", protocol)
    experiment.materials_ct = _seal(key, table, uid, "materials", json.dumps(used[0]))
    experiment.equipment_ct = _seal(key, table, uid, "equipment", json.dumps(used[1]))
    with audit.changes(session, actor=actor, reason=f"experiment started in {project.code}"):
        session.add(experiment)
    return experiment


def close_experiment(
    session: Session, *, actor: Actor, experiment_id: int, reason: str
) -> Experiment:
    experiment = get_experiment(session, experiment_id)
    drafts = [e.number for e in entries_of(session, experiment.id) if e.status == "draft"]
    if drafts:
        raise Conflict(
            f"{experiment.number} has unsigned entries ({', '.join(drafts)}): sign them first"
        )
    perform(session, EXPERIMENT_WORKFLOW, experiment, "close", actor=actor, reason=reason)
    return experiment


# --- entries ----------------------------------------------------------------------------------


def _write_body(
    entry: ExperimentEntry,
    key: bytes,
    *,
    content: str,
    fields: dict[str, str],
    results: str,
    conclusions: str,
) -> None:
    table, uid = ExperimentEntry.__tablename__, entry.uid
    entry.content_ct = _seal(key, table, uid, "content", content)
    entry.fields_ct = _seal(key, table, uid, "fields", json.dumps(fields, sort_keys=True))
    entry.results_ct = _seal(key, table, uid, "results", results)
    entry.conclusions_ct = _seal(key, table, uid, "conclusions", conclusions)


def _store_files(
    session: Session, actor: Actor, entry: ExperimentEntry, key: bytes, uploads: list[Upload]
) -> None:
    now = clock.now()
    for upload in uploads:
        file_uid = new_uid()
        blob = RawDataBlob(
            file_uid=file_uid,
            content_ct=encrypt_field(
                key, upload.content, table=RawDataBlob.__tablename__, uid=file_uid, field="content"
            ),
            stored_at=now,
        )
        session.add(blob)
        session.flush()
        session.add(
            RawDataFile(
                uid=file_uid,
                entry_id=entry.id,
                blob_id=blob.id,
                name_ct=_seal(key, RawDataFile.__tablename__, file_uid, "name", upload.name),
                media_type=sniff(upload.content),
                size=len(upload.content),
                sha256=upload.sha256,
                uploaded_at=now,
                uploaded_by_id=actor.user_id,
            )
        )


def write_entry(
    session: Session,
    *,
    actor: Actor,
    experiment_id: int,
    content: str,
    results: str = "",
    conclusions: str = "",
    fields: Mapping[str, str] | None = None,
    files: Sequence[Upload] = (),
    amends_id: int | None = None,
) -> ExperimentEntry:
    """A new draft entry of an open experiment, with its raw data files. With ``amends_id``
    it is an amendment: it points at a signed entry of the same experiment, which stays as it
    was signed."""
    actor.require("rnd.write", "write notebook entries")
    experiment = get_experiment(session, experiment_id)
    if experiment.status != ExperimentStatus.OPEN.value:
        raise Conflict(f"{experiment.number} is closed: it takes no new entries")
    if amends_id is not None:
        amended = session.get(ExperimentEntry, amends_id)
        if amended is None or amended.experiment_id != experiment.id:
            raise InvalidInput(
                f"entry #{amends_id} is not an entry of {experiment.number}", field="amends_id"
            )
        if amended.status == EntryStatus.DRAFT.value:
            raise Conflict(
                f"{amended.number} is a draft: change it instead of amending it",
                field="amends_id",
            )
    template = session.get(ExperimentTemplate, experiment.template_id or 0)
    values = _field_values(template, fields)
    body = {
        "content": _text(content, "content", required=True),
        "results": _text(results, "results"),
        "conclusions": _text(conclusions, "conclusions"),
    }
    uploads = checked(list(files))
    key = vault.data_key(session, experiment.project_id)
    seq = (
        session.scalar(
            select(func.max(ExperimentEntry.seq)).where(
                ExperimentEntry.experiment_id == experiment.id
            )
        )
        or 0
    ) + 1
    entry = ExperimentEntry(
        status=EntryStatus.DRAFT.value,
        uid=new_uid(),
        experiment_id=experiment.id,
        seq=seq,
        amends_id=amends_id,
    )
    _write_body(entry, key, fields=values, **body)
    what = f"amendment of entry #{amends_id}" if amends_id else "entry"
    with audit.changes(session, actor=actor, reason=f"{experiment.number}: {what} {seq} written"):
        session.add(entry)
        session.flush()
        _store_files(session, actor, entry, key, uploads)
    return entry


def edit_entry(
    session: Session,
    *,
    actor: Actor,
    entry_id: int,
    content: str,
    results: str = "",
    conclusions: str = "",
    fields: Mapping[str, str] | None = None,
    files: Sequence[Upload] = (),
) -> ExperimentEntry:
    """Change a draft entry (its author only). A signed entry is never edited: its correction
    is an amendment, a new entry that points at it."""
    actor.require("rnd.write", "write notebook entries")
    entry = get_entry(session, entry_id)
    if entry.status != EntryStatus.DRAFT.value:
        raise Conflict(
            f"{entry.number} is {entry.status}: a signed entry is never changed; write an "
            "amendment that points at it",
            field="entry_id",
        )
    if entry.created_by_id != actor.user_id:
        raise Conflict(f"{entry.number} is a draft of another author", field="entry_id")
    experiment = get_experiment(session, entry.experiment_id)
    template = session.get(ExperimentTemplate, experiment.template_id or 0)
    values = _field_values(template, fields)
    body = {
        "content": _text(content, "content", required=True),
        "results": _text(results, "results"),
        "conclusions": _text(conclusions, "conclusions"),
    }
    uploads = checked(list(files))
    key = vault.data_key(session, experiment.project_id)
    with audit.changes(session, actor=actor, reason=f"{entry.number} draft changed"):
        _write_body(entry, key, fields=values, **body)
        _store_files(session, actor, entry, key, uploads)
    return entry


def sign_entry(
    session: Session,
    *,
    actor: Actor,
    entry_id: int,
    password: str,
    expected_version: int | None = None,
) -> ExperimentEntry:
    """The author signs the draft: its plaintext is hashed, the hash signed with the
    installation's Ed25519 key, and then the author's electronic signature ("Authored") is
    taken over the entry including that hash. From here on the entry never changes."""
    from pharmaqms.lifecycle.rnd.eln.reading import plaintext_of

    actor.require("rnd.write", "sign notebook entries")
    entry = get_entry(session, entry_id)
    if entry.status != EntryStatus.DRAFT.value:
        raise Conflict(f"{entry.number} is signed already", field="entry_id")
    if entry.created_by_id != actor.user_id or not actor.has_role(*SCIENTISTS):
        raise Conflict(f"only the author of {entry.number} signs it as authored")
    if not password:
        raise InvalidInput("enter your password to sign", field="password")
    if expected_version is not None and entry.version != expected_version:
        raise StaleRecord(
            f"{entry.number} is at version {entry.version}, not {expected_version}: it changed "
            "since you read it; reload and sign again",
            extra={"current_version": entry.version},
        )
    signing_key = vault.keyring_of(session).newest(RND_SIGNING)
    entry_hash = plaintext_of(session, entry).sha256()
    with audit.changes(session, actor=actor, reason=f"{entry.number} hashed and sealed"):
        entry.entry_hash = entry_hash
        entry.ed25519_signature = sign_hash(signing_key, entry_hash)
        entry.signing_key_id = signing_key.id
        entry.signing_public_key = public_key_hex(signing_key)
        entry.signed_at = clock.now()
    perform(
        session,
        ENTRY_WORKFLOW,
        entry,
        "sign",
        actor=actor,
        password=password,
        comment=f"SHA-256 {entry_hash}",
    )
    return entry


def witness_entry(
    session: Session,
    *,
    actor: Actor,
    entry_id: int,
    password: str,
    comment: str | None = None,
    expected_version: int | None = None,
) -> ExperimentEntry:
    """A second person signs "Read and understood" the entry as its author signed it."""
    actor.require("rnd.witness", "witness notebook entries")
    entry = get_entry(session, entry_id)
    perform(
        session,
        ENTRY_WORKFLOW,
        entry,
        "witness",
        actor=actor,
        password=password,
        comment=comment or f"SHA-256 {entry.entry_hash}",
        expected_version=expected_version,
    )
    return entry


def attach_files(
    session: Session, *, actor: Actor, entry_id: int, files: Sequence[Upload]
) -> ExperimentEntry:
    """Add raw data files to a draft entry (its author's): a signed entry's files are the
    ones its hash covers, for good."""
    actor.require("rnd.write", "attach raw data files")
    entry = get_entry(session, entry_id)
    if entry.status != EntryStatus.DRAFT.value:
        raise Conflict(
            f"{entry.number} is {entry.status}: its files are sealed with it; attach new files "
            "to an amendment",
            field="entry_id",
        )
    if entry.created_by_id != actor.user_id:
        raise Conflict(f"{entry.number} is a draft of another author", field="entry_id")
    uploads = checked(list(files))
    if not uploads:
        raise InvalidInput("attach at least one file", field="files")
    experiment = get_experiment(session, entry.experiment_id)
    key = vault.data_key(session, experiment.project_id)
    with audit.changes(session, actor=actor, reason=f"{entry.number}: raw data attached"):
        _store_files(session, actor, entry, key, uploads)
    return entry
