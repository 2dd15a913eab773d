"""Document authoring pages: a preview of a draft's Markdown (nothing saved, what was typed
kept in the editor), source files, named reviewers and their comments, and two versions side
by side. Thin: every change goes through the document services."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse

from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep, redirect
from pharmaqms.kernel.http.templating import render
from pharmaqms.quality.documents import attachments, compare, reviews, service
from pharmaqms.quality.documents.markdown import render_markdown
from pharmaqms.quality.documents.views import page_context

router = APIRouter(tags=["ui"], include_in_schema=False)


def _page(document_id: int, version_id: int) -> str:
    return f"/documents/{document_id}?version={version_id}"


@router.post("/documents/versions/{version_id}/preview", response_class=HTMLResponse)
def preview(
    version_id: int,
    request: Request,
    actor: ActorDep,
    title: Annotated[str, Form(max_length=300)] = "",
    body: Annotated[str, Form(max_length=500_000)] = "",
    change_summary: Annotated[str, Form(max_length=4000)] = "",
) -> HTMLResponse:
    """The draft as it would read with the typed text; nothing is saved (the session is
    read only), and the editor holds the typed text for the author to go on."""
    actor.require("documents.author", "edit documents")
    with transaction(request, write=False) as session:
        version = service.get_version(session, version_id)
        document = service.get_document(session, version.document_id)
        context = page_context(session, actor, document, version)
        context["preview"] = render_markdown(body)
        context["typed"] = {"title": title, "body": body, "change_summary": change_summary}
        return render(request, "documents/document.html", context)


@router.post("/documents/versions/{version_id}/attachments")
async def attach(
    version_id: int,
    request: Request,
    actor: ActorDep,
    file: Annotated[UploadFile, File()],
) -> RedirectResponse:
    content = await file.read(attachments.MAX_BYTES + 1)
    with transaction(request, write=True) as session:
        attachment = attachments.attach_file(
            session,
            actor=actor,
            version_id=version_id,
            filename=file.filename or "",
            content=content,
        )
        version = service.get_version(session, version_id)
        target, name = _page(version.document_id, version.id), attachment.filename
    return redirect(target, f"{name} attached.")


@router.post("/documents/versions/{version_id}/reviewers")
def name_reviewers(
    version_id: int,
    request: Request,
    actor: ActorDep,
    reviewer_ids: Annotated[list[int] | None, Form()] = None,
    in_sequence: Annotated[bool, Form()] = False,
    expected_version: Annotated[int | None, Form()] = None,
) -> RedirectResponse:
    with transaction(request) as session:
        version = reviews.name_reviewers(
            session,
            actor=actor,
            version_id=version_id,
            reviewer_ids=reviewer_ids or [],
            in_sequence=in_sequence,
            expected_version=expected_version,
        )
        target = _page(version.document_id, version.id)
    return redirect(target, "Reviewers named.")


@router.post("/documents/versions/{version_id}/review")
def record_review(
    version_id: int,
    request: Request,
    actor: ActorDep,
    comments: Annotated[str, Form(max_length=20_000)] = "",
    expected_version: Annotated[int | None, Form()] = None,
) -> RedirectResponse:
    with transaction(request) as session:
        reviews.record_review(
            session,
            actor=actor,
            version_id=version_id,
            comments=comments,
            expected_version=expected_version,
        )
        version = service.get_version(session, version_id)
        target = _page(version.document_id, version.id)
    return redirect(target, "Review recorded.")


@router.get("/documents/{document_id}/compare", response_class=HTMLResponse)
def compare_page(
    document_id: int,
    request: Request,
    actor: ActorDep,
    old_id: Annotated[int, Query(alias="from", ge=1)],
    new_id: Annotated[int, Query(alias="to", ge=1)],
) -> HTMLResponse:
    """Two versions side by side (the older on the left)."""
    actor.require("records.read", "read documents")
    with transaction(request) as session:
        document = service.get_document(session, document_id)
        old, new = service.versions_to_compare(session, document_id, old_id, new_id)
        return render(
            request,
            "documents/compare.html",
            {
                "document": document,
                "old": old,
                "new": new,
                "comparison": compare.side_by_side(old.body, new.body),
            },
        )
