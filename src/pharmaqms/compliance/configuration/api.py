"""Configuration API (``/api/v1/configuration…``): thin. Reading is ``records.read``;
drafting, revising and the sandbox run are QA's (``config.manage``). Approving, reopening and
cancelling a version go through the generic transitions of ``config_version`` records
(``/api/v1/records/config_version/{id}/transitions/{name}``), approval with QA's signature."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from pharmaqms.compliance.configuration import service
from pharmaqms.compliance.configuration.schemas import (
    DraftIn,
    KeyOut,
    KindOut,
    TestIn,
    UseOut,
    VersionOut,
    in_force_out,
    kind_out,
    use_out,
    version_out,
)
from pharmaqms.kernel.configuration import store
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.pages import ActorDep
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.kernel.registry import readable_record_type

router = APIRouter(prefix="/api/v1/configuration", tags=["configuration"])
READ = "read the configuration"
Key = Annotated[str, Query(max_length=120)]


def _aware(at: datetime | None, field: str = "at") -> datetime | None:
    if at is not None and at.tzinfo is None:
        raise InvalidInput("give the moment with its UTC offset (…Z or +01:00)", field=field)
    return at


@router.get("/keys", response_model=list[KindOut])
def keys(actor: ActorDep, request: Request) -> list[KindOut]:
    """Every configuration key with the version in force now."""
    actor.require("records.read", READ)
    with transaction(request, write=False) as session:
        return [kind_out(row.kind, row.in_force) for row in service.overview(session)]


@router.get("/keys/{key}", response_model=KeyOut)
def key_detail(key: str, actor: ActorDep, request: Request, at: datetime | None = None) -> KeyOut:
    """A key with its version history and, with ``at``, the version in force at that moment."""
    actor.require("records.read", READ)
    moment = _aware(at)
    with transaction(request, write=False) as session:
        config_kind = store.kind(key[:120])
        now = store.in_force(session, config_kind.key)
        then = store.in_force(session, config_kind.key, at=moment) if moment else None
        base = kind_out(config_kind, now)
        return KeyOut(
            **base.model_dump(),
            at=moment,
            in_force_at=in_force_out(then) if then else None,
            versions=[
                version_out(v, service.state_of(v, now))
                for v in store.versions(session, config_kind.key)
            ],
        )


@router.post("/keys/{key}/versions", response_model=VersionOut, status_code=201)
def draft(key: str, body: DraftIn, actor: ActorDep, request: Request) -> VersionOut:
    """Draft a new version under an open change control. Refused with the reasons, nothing
    stored, when malformed or when it would break a control the code demands."""
    with transaction(request) as session:
        version = service.draft_version(
            session,
            actor=actor,
            key=key[:120],
            content=body.content,
            effective_from=_aware(body.effective_from, "effective_from") or body.effective_from,
            change_id=body.change_id,
            rationale=body.rationale,
        )
        session.flush()
        return version_out(version, version.status)


@router.get("/versions/{version_id}", response_model=VersionOut)
def version_detail(version_id: RecordId, actor: ActorDep, request: Request) -> VersionOut:
    actor.require("records.read", READ)
    with transaction(request, write=False) as session:
        version = service.get_version(session, version_id)
        return version_out(version, service.state_of(version, store.in_force(session, version.key)))


@router.post("/versions/{version_id}/test", response_model=VersionOut)
def sandbox(version_id: RecordId, body: TestIn, actor: ActorDep, request: Request) -> VersionOut:
    """Run the draft on the sandbox: checked again, evaluated on the current records without
    writing to them; the findings are kept as the test evidence and the version is tested."""
    with transaction(request) as session:
        version = service.test_version(
            session, actor=actor, version_id=version_id, expected_version=body.expected_version
        )
        return version_out(version, version.status)


@router.get("/uses/{record_type}/{record_id}", response_model=list[UseOut])
def uses(record_type: str, record_id: RecordId, actor: ActorDep, request: Request) -> list[UseOut]:
    """The configuration versions the actions on a record ran under, oldest first."""
    actor.require("records.read", READ)
    readable_record_type(record_type[:60], actor)
    with transaction(request, write=False) as session:
        return [use_out(u) for u in store.uses_of(session, record_type[:60], record_id)]
