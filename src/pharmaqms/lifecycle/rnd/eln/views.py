"""Notebook pages: the projects (and templates), a project with its experiments, and an
experiment with its entries — decrypted for readers, with their signed / witnessed badges, the
amendment chain, the new-entry form with raw data files, the sign and witness dialogs, and the
inspector's disclosure bundle. Thin: every change goes through the notebook services."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.downloads import download
from pharmaqms.kernel.http.flash import set_flash
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.workflow import options
from pharmaqms.lifecycle.rnd.eln import disclosure, reading, service
from pharmaqms.lifecycle.rnd.eln.api import read_uploads
from pharmaqms.lifecycle.rnd.eln.workflow import ENTRY_WORKFLOW, SCIENTISTS

router = APIRouter(tags=["ui"], include_in_schema=False)
BASE = "/rnd"

add(NavItem("R&D", "Lab notebook", BASE, "rnd.read", 10))

_LINE = re.compile(r"^\s*([^:]+?)\s*:\s*(.*)$")


def parse_sections(text: str) -> list[dict[str, object]]:
    """``Dissolution: medium, rpm:number`` per line → the template's sections. A person types
    this in a textarea; the service checks names and kinds."""
    sections: list[dict[str, object]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        found = _LINE.match(line)
        if not found:
            raise InvalidInput(
                f"line {number}: write 'Section title: field, field:number'", field="sections"
            )
        fields = []
        for item in filter(None, (p.strip() for p in found.group(2).split(","))):
            name, _, kind = item.partition(":")
            fields.append(
                {"name": name.strip(), "label": name.strip(), "kind": kind.strip() or "text"}
            )
        sections.append({"title": found.group(1), "fields": fields})
    return sections


def _back(url: str, message: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    set_flash(response, "success", message)
    return response


@router.get(BASE, response_class=HTMLResponse)
def projects(request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("rnd.read", "read the lab notebook")
    with transaction(request, write=False) as session:
        return render(
            request,
            "rnd/projects.html",
            {"projects": service.projects(session), "templates": service.templates(session)},
        )


@router.post(f"{BASE}/projects")
def create_project(
    request: Request,
    actor: ActorDep,
    code: Annotated[str, Form(max_length=40)],
    title: Annotated[str, Form(max_length=200)],
    description: Annotated[str, Form(max_length=4000)] = "",
) -> RedirectResponse:
    with transaction(request) as session:
        project = service.create_project(
            session, actor=actor, code=code, title=title, description=description
        )
        session.flush()
        project_id, code = project.id, project.code
    return _back(f"{BASE}/projects/{project_id}", f"Project {code} set up with its own data key.")


@router.post(f"{BASE}/templates")
def create_template(
    request: Request,
    actor: ActorDep,
    experiment_type: Annotated[str, Form(max_length=80)],
    name: Annotated[str, Form(max_length=200)],
    sections: Annotated[str, Form(max_length=20_000)],
) -> RedirectResponse:
    with transaction(request) as session:
        template = service.create_template(
            session,
            actor=actor,
            experiment_type=experiment_type,
            name=name,
            sections=parse_sections(sections),
        )
        session.flush()
        number = template.number
    return _back(BASE, f"Template {number} added.")


@router.get(f"{BASE}/projects/{{project_id}}", response_class=HTMLResponse)
def project_page(project_id: RecordId, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("rnd.read", "read the lab notebook")
    with transaction(request, write=False) as session:
        return render(
            request,
            "rnd/project.html",
            {
                "project": service.get_project(session, project_id),
                "experiments": service.experiments_of(session, project_id),
                "templates": service.templates(session, active_only=True),
            },
        )


@router.post(f"{BASE}/projects/{{project_id}}/experiments")
def start_experiment(
    project_id: RecordId,
    request: Request,
    actor: ActorDep,
    title: Annotated[str, Form(max_length=200)],
    protocol: Annotated[str, Form(max_length=100_000)],
    template_id: Annotated[str, Form(max_length=12)] = "",
    materials: Annotated[str, Form(max_length=50_000)] = "",
    equipment: Annotated[str, Form(max_length=50_000)] = "",
) -> RedirectResponse:
    if template_id.strip() and not template_id.strip().isdecimal():
        raise InvalidInput("choose a template from the list", field="template_id")
    with transaction(request) as session:
        experiment = service.start_experiment(
            session,
            actor=actor,
            project_id=project_id,
            title=title,
            protocol=protocol,
            template_id=int(template_id) if template_id.strip() else None,
            materials=materials.splitlines(),
            equipment=equipment.splitlines(),
        )
        session.flush()
        experiment_id, number = experiment.id, experiment.number
    return _back(f"{BASE}/experiments/{experiment_id}", f"{number} started.")


@router.get(f"{BASE}/experiments/{{experiment_id}}", response_class=HTMLResponse)
def experiment_page(experiment_id: RecordId, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("rnd.read", "read the lab notebook")
    with transaction(request, write=False) as session:
        experiment = service.get_experiment(session, experiment_id)
        views = reading.entry_views(session, experiment)
        template = (
            service.get_template(session, experiment.template_id)
            if experiment.template_id
            else None
        )
        return render(
            request,
            "rnd/experiment.html",
            {
                "experiment": experiment,
                "project": service.get_project(session, experiment.project_id),
                "view": reading.experiment_view(session, experiment),
                "entries": views,
                # The author signs a draft here (the notebook's verb hashes it first, so the
                # workflow's own guard, which wants the hash, can't offer it); the witness
                # step is the workflow's, with its checks (never the author).
                "sign": ENTRY_WORKFLOW.transition("sign"),
                "may_sign": {
                    v.entry.id
                    for v in views
                    if v.entry.status == "draft"
                    and v.entry.created_by_id == actor.user_id
                    and actor.has_role(*SCIENTISTS)
                },
                "options": {
                    v.entry.id: [
                        o
                        for o in options(session, ENTRY_WORKFLOW, v.entry, actor)
                        if o.transition.name != "sign"
                    ]
                    for v in views
                },
                "template": template,
                "template_fields": service.template_fields(template),
                "signed": [v for v in views if v.entry.entry_hash],
            },
        )


@router.post(f"{BASE}/experiments/{{experiment_id}}/entries")
async def write_entry(
    experiment_id: RecordId,
    request: Request,
    actor: ActorDep,
    content: Annotated[str, Form(max_length=100_000)],
    results: Annotated[str, Form(max_length=100_000)] = "",
    conclusions: Annotated[str, Form(max_length=100_000)] = "",
    amends_id: Annotated[str, Form(max_length=12)] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> RedirectResponse:
    form = await request.form()
    fields = {
        str(k)[2:]: str(v)
        for k, v in form.multi_items()
        if str(k).startswith("f_") and isinstance(v, str)
    }
    uploads = await read_uploads([f for f in files or [] if f.filename])
    if amends_id.strip() and not amends_id.strip().isdecimal():
        raise InvalidInput("choose the entry to amend from the list", field="amends_id")
    with transaction(request) as session:
        entry = service.write_entry(
            session,
            actor=actor,
            experiment_id=experiment_id,
            content=content,
            results=results,
            conclusions=conclusions,
            fields=fields,
            files=uploads,
            amends_id=int(amends_id) if amends_id.strip() else None,
        )
        session.flush()
        number = entry.number
    return _back(
        f"{BASE}/experiments/{experiment_id}",
        f"{number} saved as a draft: sign it to seal it.",
    )


@router.post(f"{BASE}/entries/{{entry_id}}/transitions/sign")
def sign_entry(
    entry_id: RecordId,
    request: Request,
    actor: ActorDep,
    password: Annotated[str, Form(max_length=256)] = "",
    expected_version: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
) -> RedirectResponse:
    with transaction(request) as session:
        entry = service.sign_entry(
            session,
            actor=actor,
            entry_id=entry_id,
            password=password,
            expected_version=expected_version,
        )
        experiment_id, number, digest = entry.experiment_id, entry.number, entry.entry_hash
    return _back(f"{BASE}/experiments/{experiment_id}", f"{number} signed; SHA-256 {digest}.")


@router.post(f"{BASE}/entries/{{entry_id}}/transitions/witness")
def witness_entry(
    entry_id: RecordId,
    request: Request,
    actor: ActorDep,
    password: Annotated[str, Form(max_length=256)] = "",
    comment: Annotated[str, Form(max_length=2000)] = "",
    expected_version: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
) -> RedirectResponse:
    with transaction(request) as session:
        entry = service.witness_entry(
            session,
            actor=actor,
            entry_id=entry_id,
            password=password,
            comment=comment or None,
            expected_version=expected_version,
        )
        experiment_id, number = entry.experiment_id, entry.number
    return _back(f"{BASE}/experiments/{experiment_id}", f"{number} witnessed.")


@router.get(f"{BASE}/files/{{file_id}}")
def raw_file(file_id: RecordId, request: Request, actor: ActorDep) -> Response:
    actor.require("rnd.read", "read raw data files")
    with transaction(request, write=False) as session:
        _row, name, content = reading.file_content(session, file_id)
        return download(content, filename=name, media_type="application/octet-stream")


@router.post(f"{BASE}/experiments/{{experiment_id}}/disclosure")
async def disclose(experiment_id: RecordId, request: Request, actor: ActorDep) -> Response:
    form = await request.form()
    chosen = [str(v) for v in form.getlist("entries")]
    if not chosen or not all(v.isdecimal() and len(v) < 10 for v in chosen):
        raise InvalidInput("tick the entries to disclose", field="entries")
    with transaction(request) as session:
        bundle = disclosure.export_entries(
            session,
            actor=actor,
            experiment_id=experiment_id,
            entry_seqs=[int(v) for v in chosen],
        )
        return download(bundle.content, filename=bundle.filename, media_type="application/zip")
