"""Configuration pages: every configuration key with the version in force (and the whole
configuration as it was in force at a chosen moment), one key with its version history and a
draft form (a JSON editor), and one version with its sandbox findings, signatures, workflow
and audit trail. Thin: every change goes through ``compliance.configuration.service``."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from pharmaqms.compliance.configuration import (
    checks,
    sandbox_copy,
    sandbox_evidence,
    sandbox_removal,
    service,
)
from pharmaqms.compliance.configuration.workflow import CONFIG_WORKFLOW
from pharmaqms.kernel import clock
from pharmaqms.kernel.configuration import store
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import ActorDep, redirect, register_page
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.kernel.http.templating import render
from pharmaqms.kernel.timezones import from_form
from pharmaqms.quality.changes.models import OPEN_STATUSES, ChangeRequest
from pharmaqms.quality.view_support import record_parts

router = APIRouter(tags=["ui"], include_in_schema=False)
BASE = "/compliance/configuration"
READ = "read the configuration"

add(NavItem("Compliance", "Configuration", BASE, "records.read", 40))
register_page("config_version", lambda version_id: f"{BASE}/versions/{version_id}")

Key = Annotated[str, Form(min_length=1, max_length=120)]
Content = Annotated[str, Form(min_length=1, max_length=service.MAX_CONTENT_CHARS)]
When = Annotated[str, Form(min_length=1, max_length=40)]


COPIES_SHOWN = 50


def _copies_register(session: Any, copies: list[Any]) -> dict[str, Any]:
    """What the sandbox copies table shows of ``copies``: read back, removed, kept too long."""
    ids = [c.id for c in copies]
    return {
        "sandbox_copies": copies,
        "sandbox_evidence": sandbox_evidence.latest_evidence(session, ids),
        "sandbox_removed": sandbox_removal.disposals(session, ids),
        "sandbox_kept_days": sandbox_copy.KEEP_DAYS,
    }


def pretty(content: Any) -> str:
    return json.dumps(content, indent=2, ensure_ascii=False, sort_keys=True)


@router.get(BASE, response_class=HTMLResponse)
def overview(request: Request, actor: ActorDep, at: str = "") -> HTMLResponse:
    """Every key with the version in force now, or at the moment asked (``at``)."""
    actor.require("records.read", READ)
    moment = from_form(at[:40], "at") if at else None
    with transaction(request, write=False) as session:
        rows = service.overview(session)
        copies = sandbox_copy.latest_copies(session, COPIES_SHOWN)
        then = (
            {row.kind.key: store.in_force(session, row.kind.key, at=moment) for row in rows}
            if moment
            else {}
        )
        return render(
            request,
            "compliance/configuration.html",
            {
                "rows": rows,
                "at": moment,
                "then": then,
                "moment": clock.now(),
                "stale": checks.in_force_problems(session),
                **_copies_register(session, copies),
                "sandbox_shown": COPIES_SHOWN,
            },
        )


def _compared(
    session: Any, key: str, older: int | None, newer: int | None
) -> tuple[store.InForce, store.InForce, list[str]] | None:
    """Two versions of ``key`` asked for by number, and what changes between them."""
    if not older or not newer:
        return None
    first, second = store.version(session, key, older), store.version(session, key, newer)
    return first, second, service.differences(first.content, second.content)


@router.get(BASE + "/keys/{key}", response_class=HTMLResponse)
def key_page(
    key: str,
    request: Request,
    actor: ActorDep,
    at: str = "",
    compare_from: Annotated[int | None, Query(ge=1, le=100_000)] = None,
    compare_to: Annotated[int | None, Query(ge=1, le=100_000)] = None,
) -> HTMLResponse:
    actor.require("records.read", READ)
    moment = from_form(at[:40], "at") if at else None
    with transaction(request, write=False) as session:
        config_kind = store.kind(key[:120])
        now = store.in_force(session, key)
        versions = store.versions(session, key)
        then = store.in_force(session, key, at=moment) if moment else None
        changes = (
            session.scalars(
                select(ChangeRequest)
                .where(ChangeRequest.status.in_([s.value for s in OPEN_STATUSES]))
                .order_by(ChangeRequest.id.desc())
            ).all()
            if actor.can(service.MANAGE)
            else []
        )
        return render(
            request,
            "compliance/configuration_key.html",
            {
                "kind": config_kind,
                "in_force": now,
                "content": pretty(now.content),
                "reading": store.read(config_kind, now.content),
                "compared": _compared(session, key, compare_from, compare_to),
                "version_numbers": sorted({1, *(v.version_no for v in versions)}),
                "draft_content": pretty(store.draft_from(config_kind, now.content)),
                "versions": [(v, service.state_of(v, now)) for v in versions],
                "builtin_stored": any(v.version_no == 1 for v in versions),
                "at": moment,
                "then": then,
                "then_reading": store.read(config_kind, then.content) if then else None,
                "pretty": pretty,
                "changes": changes,
                "can_manage": actor.can(service.MANAGE),
                "moment": clock.now(),
            },
        )


@router.post(BASE + "/keys/{key}/versions")
def draft(
    key: str,
    request: Request,
    actor: ActorDep,
    content: Content,
    effective_from: When,
    change_id: Annotated[int, Form()],
    rationale: Annotated[str, Form(min_length=1, max_length=20_000)],
) -> RedirectResponse:
    with transaction(request, write=True) as session:
        version = service.draft_version(
            session,
            actor=actor,
            key=key[:120],
            content=service.parse_content(content),
            effective_from=from_form(effective_from, "effective_from") or clock.now(),
            change_id=change_id,
            rationale=rationale,
        )
        session.flush()
        target = f"{BASE}/versions/{version.id}"
    return redirect(target, "drafted: run it on the sandbox next")


@router.get(BASE + "/versions/{version_id}", response_class=HTMLResponse)
def version_page(version_id: RecordId, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", READ)
    with transaction(request, write=False) as session:
        version = service.get_version(session, version_id)
        now = store.in_force(session, version.key)
        config_kind = store.kind(version.key)
        copies = sandbox_copy.copies_of(session, version)
        previous = (
            store.version(session, version.key, version.version_no - 1)
            if version.version_no > 1
            else None
        )
        return render(
            request,
            "compliance/configuration_version.html",
            {
                **record_parts(session, version, CONFIG_WORKFLOW, actor),
                "v": version,
                "kind": config_kind,
                "reading": store.read(config_kind, version.content),
                "in_force_reading": store.read(config_kind, now.content),
                "previous": previous,
                "changes_from_previous": (
                    service.differences(previous.content, version.content) if previous else None
                ),
                "changes_from_in_force": service.differences(now.content, version.content),
                "state": service.state_of(version, now),
                "in_force": now,
                "content": pretty(version.content),
                "in_force_content": pretty(now.content),
                "can_manage": actor.can(service.MANAGE),
                **_copies_register(session, copies),
            },
        )


@router.post(BASE + "/versions/{version_id}/test")
def sandbox(
    version_id: RecordId,
    request: Request,
    actor: ActorDep,
    expected_version: Annotated[int, Form()],
) -> RedirectResponse:
    with transaction(request, write=True) as session:
        version = service.test_version(
            session, actor=actor, version_id=version_id, expected_version=expected_version
        )
        number = version.number
    return redirect(f"{BASE}/versions/{version_id}", f"{number} ran on the sandbox")


@router.post(BASE + "/versions/{version_id}/revision")
def revise(
    version_id: RecordId,
    request: Request,
    actor: ActorDep,
    expected_version: Annotated[int, Form()],
    content: Content,
    effective_from: When,
    rationale: Annotated[str, Form(min_length=1, max_length=20_000)],
) -> RedirectResponse:
    with transaction(request, write=True) as session:
        version = service.revise_draft(
            session,
            actor=actor,
            version_id=version_id,
            expected_version=expected_version,
            content=service.parse_content(content),
            effective_from=from_form(effective_from, "effective_from"),
            rationale=rationale,
        )
        number = version.number
    return redirect(f"{BASE}/versions/{version_id}", f"{number} revised")
