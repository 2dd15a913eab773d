"""Notebook API: projects, templates, experiments with their entries (decrypted for readers),
the verbs (write, edit a draft, attach files, sign, witness) and the disclosure bundle. Thin:
parse, call a service, shape the answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.downloads import download, file_responses
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.kernel.settings import get_settings
from pharmaqms.lifecycle.rnd.eln import disclosure, reading, service
from pharmaqms.lifecycle.rnd.eln.models import ExperimentEntry
from pharmaqms.lifecycle.rnd.eln.schemas import (
    CheckOut,
    DisclosureIn,
    EntryEditIn,
    EntryIn,
    EntryOut,
    ExperimentIn,
    ExperimentOut,
    ExperimentSummaryOut,
    FileOut,
    ProjectDetailOut,
    ProjectIn,
    ProjectOut,
    SignatureOut,
    SignIn,
    TemplateIn,
    TemplateOut,
)
from pharmaqms.lifecycle.rnd.eln.uploads import MAX_FILES, Upload
from pharmaqms.lifecycle.rnd.http import PREFIX

router = APIRouter(prefix=PREFIX, tags=["rnd: notebook"])


def check_out(check: reading.EntryCheck) -> CheckOut:
    return CheckOut(
        signed=check.signed,
        signature_valid=check.signature_valid,
        key_known=check.key_known,
        content_matches=check.content_matches,
        intact=check.intact,
        problems=check.problems,
    )


def entry_out(view: reading.EntryView) -> EntryOut:
    entry, text = view.entry, view.plaintext
    return EntryOut(
        id=entry.id,
        number=entry.number,
        seq=entry.seq,
        status=entry.status,
        version=entry.version,
        author=view.author,
        amends_id=entry.amends_id,
        amended_by=view.amended_by,
        created_at=entry.created_at,
        entry_hash=entry.entry_hash,
        ed25519_signature=entry.ed25519_signature,
        signing_key_id=entry.signing_key_id,
        signing_public_key=entry.signing_public_key,
        signed_at=entry.signed_at,
        content=text.content if text else None,
        fields=text.fields if text else None,
        results=text.results if text else None,
        conclusions=text.conclusions if text else None,
        files=[FileOut(**vars(f)) for f in view.files],
        signatures=[
            SignatureOut(
                meaning=s.meaning,
                signer_name=s.signer_name,
                signer_username=s.signer_username,
                signed_at=s.signed_at,
                valid_for_current_content=s.valid_for_current_content,
            )
            for s in view.signatures
        ],
        check=check_out(view.check),
        error=view.error,
    )


def experiment_out(session: Session, experiment_id: int) -> ExperimentOut:
    session.flush()
    experiment = service.get_experiment(session, experiment_id)
    view = reading.experiment_view(session, experiment)
    return ExperimentOut(
        id=experiment.id,
        number=experiment.number,
        project_id=experiment.project_id,
        template_id=experiment.template_id,
        title=experiment.title,
        status=experiment.status,
        protocol=view.protocol,
        materials=view.materials,
        equipment=view.equipment,
        entries=[entry_out(v) for v in reading.entry_views(session, experiment)],
    )


def _entry_out(session: Session, entry: ExperimentEntry) -> EntryOut:
    session.flush()
    experiment = service.get_experiment(session, entry.experiment_id)
    (view,) = [v for v in reading.entry_views(session, experiment) if v.entry.id == entry.id]
    return entry_out(view)


@router.get("/projects", response_model=list[ProjectOut])
def list_projects(actor: ActorDep, request: Request) -> list[ProjectOut]:
    actor.require("rnd.read", "read R&D projects")
    with transaction(request, write=False) as session:
        return [ProjectOut.model_validate(p) for p in service.projects(session)]


@router.post("/projects", response_model=ProjectOut, status_code=201)
def create_project(body: ProjectIn, actor: ActorDep, request: Request) -> ProjectOut:
    with transaction(request) as session:
        project = service.create_project(session, actor=actor, **body.model_dump())
        session.flush()
        return ProjectOut.model_validate(project)


@router.get("/projects/{project_id}", response_model=ProjectDetailOut)
def get_project(project_id: RecordId, actor: ActorDep, request: Request) -> ProjectDetailOut:
    actor.require("rnd.read", "read R&D projects")
    with transaction(request, write=False) as session:
        out = ProjectDetailOut.model_validate(service.get_project(session, project_id))
        out.experiments = [
            ExperimentSummaryOut.model_validate(e)
            for e in service.experiments_of(session, project_id)
        ]
        return out


@router.get("/templates", response_model=list[TemplateOut])
def list_templates(actor: ActorDep, request: Request) -> list[TemplateOut]:
    actor.require("rnd.read", "read experiment templates")
    with transaction(request, write=False) as session:
        return [TemplateOut.model_validate(t) for t in service.templates(session)]


@router.post("/templates", response_model=TemplateOut, status_code=201)
def create_template(body: TemplateIn, actor: ActorDep, request: Request) -> TemplateOut:
    with transaction(request) as session:
        template = service.create_template(
            session,
            actor=actor,
            experiment_type=body.experiment_type,
            name=body.name,
            sections=[s.model_dump() for s in body.sections],
        )
        session.flush()
        return TemplateOut.model_validate(template)


@router.post("/experiments", response_model=ExperimentOut, status_code=201)
def start_experiment(body: ExperimentIn, actor: ActorDep, request: Request) -> ExperimentOut:
    with transaction(request) as session:
        experiment = service.start_experiment(session, actor=actor, **body.model_dump())
        session.flush()
        return experiment_out(session, experiment.id)


@router.get("/experiments/{experiment_id}", response_model=ExperimentOut)
def get_experiment(experiment_id: RecordId, actor: ActorDep, request: Request) -> ExperimentOut:
    """The experiment and its entries, decrypted, each with its integrity check."""
    actor.require("rnd.read", "read the notebook")
    with transaction(request, write=False) as session:
        return experiment_out(session, experiment_id)


@router.post("/experiments/{experiment_id}/entries", response_model=EntryOut, status_code=201)
def write_entry(
    experiment_id: RecordId, body: EntryIn, actor: ActorDep, request: Request
) -> EntryOut:
    """A draft entry (an amendment with ``amends_id``); files go to ``/entries/{id}/files``."""
    with transaction(request) as session:
        entry = service.write_entry(
            session, actor=actor, experiment_id=experiment_id, **body.model_dump()
        )
        return _entry_out(session, entry)


@router.patch("/entries/{entry_id}", response_model=EntryOut)
def edit_entry(
    entry_id: RecordId, body: EntryEditIn, actor: ActorDep, request: Request
) -> EntryOut:
    """Change a draft. A signed entry is refused (409): amend it instead."""
    with transaction(request) as session:
        entry = service.edit_entry(session, actor=actor, entry_id=entry_id, **body.model_dump())
        return _entry_out(session, entry)


async def read_uploads(files: list[UploadFile]) -> list[Upload]:
    limit = get_settings().rnd_max_file_bytes
    if len(files) > MAX_FILES:
        raise InvalidInput(f"at most {MAX_FILES} raw data files per entry", field="files")
    found = []
    for upload in files:
        content = await upload.read(limit + 1)
        if len(content) > limit:
            raise InvalidInput(f"{upload.filename} is larger than {limit:,} bytes", field="files")
        found.append(Upload(upload.filename or "", content))
    return found


@router.post("/entries/{entry_id}/files", response_model=EntryOut)
async def attach_files(
    entry_id: RecordId,
    actor: ActorDep,
    request: Request,
    files: Annotated[list[UploadFile], File()],
) -> EntryOut:
    """Raw data files of a draft entry, any type, kept byte for byte (multipart ``files``)."""
    uploads = await read_uploads(files)
    with transaction(request) as session:
        entry = service.attach_files(session, actor=actor, entry_id=entry_id, files=uploads)
        return _entry_out(session, entry)


@router.post("/entries/{entry_id}/sign", response_model=EntryOut)
def sign_entry(entry_id: RecordId, body: SignIn, actor: ActorDep, request: Request) -> EntryOut:
    """The author signs: hash, Ed25519 signature, e-signature "Authored"."""
    with transaction(request) as session:
        entry = service.sign_entry(
            session,
            actor=actor,
            entry_id=entry_id,
            password=body.password,
            expected_version=body.expected_version,
        )
        return _entry_out(session, entry)


@router.post("/entries/{entry_id}/witness", response_model=EntryOut)
def witness_entry(entry_id: RecordId, body: SignIn, actor: ActorDep, request: Request) -> EntryOut:
    """Another person signs "Read and understood"."""
    with transaction(request) as session:
        entry = service.witness_entry(
            session,
            actor=actor,
            entry_id=entry_id,
            password=body.password,
            comment=body.comment,
            expected_version=body.expected_version,
        )
        return _entry_out(session, entry)


@router.get("/entries/{entry_id}/verify", response_model=CheckOut)
def verify_entry(entry_id: RecordId, actor: ActorDep, request: Request) -> CheckOut:
    actor.require("rnd.read", "check notebook entries")
    with transaction(request, write=False) as session:
        return check_out(reading.check_entry(session, service.get_entry(session, entry_id)))


@router.get(
    "/files/{file_id}",
    response_class=Response,
    responses=file_responses("application/octet-stream"),
)
def raw_file(file_id: RecordId, actor: ActorDep, request: Request) -> Response:
    """A raw data file's exact bytes (checked against its SHA-256 first)."""
    actor.require("rnd.read", "read raw data files")
    with transaction(request, write=False) as session:
        row, name, content = reading.file_content(session, file_id)
        return download(
            content,
            filename=name,
            media_type="application/octet-stream",
            headers={"x-content-sha256": row.sha256},
        )


@router.post(
    "/experiments/{experiment_id}/disclosure",
    response_class=Response,
    responses=file_responses("application/zip"),
)
def disclose(
    experiment_id: RecordId, body: DisclosureIn, actor: ActorDep, request: Request
) -> Response:
    """The inspector's bundle of the chosen entries (by their number in the experiment)."""
    with transaction(request) as session:
        bundle = disclosure.export_entries(
            session, actor=actor, experiment_id=experiment_id, entry_seqs=body.entries
        )
        return download(bundle.content, filename=bundle.filename, media_type="application/zip")
