"""Every role × every route (Part 11 §11.10(d), (g)): generated from the application's route
table, the expected outcome from the roles' permissions and the routes' declared access
(``pharmaqms.web.access``), zero unauthorised successes.

Each principal (anonymous, then each test person) calls every API route with a bearer token and
every page route with a session cookie and its CSRF token, with a syntactically valid request:
path parameters filled with records that exist, bodies holding every required field. A route
without a declared access fails here (and is refused by the application). Where the declared
access does not allow the principal, the route must refuse it before the handler runs, and must
neither show data nor write a line of audit trail. Where it allows them to read, the route must
not refuse them for want of a permission: the declaration is no laxer than the handler.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import select
from tests.kernel.helpers import sop_in_state
from tests.quality.quality_steps import report_deviation
from tests.support import PASSWORD, PEOPLE
from tests.web.conftest import CSRF_INPUT

from pharmaqms.kernel import auth
from pharmaqms.kernel.db import Database, set_database
from pharmaqms.kernel.http.context import MACHINE_PATHS
from pharmaqms.kernel.identity import Actor, Channel
from pharmaqms.kernel.models import AuditChainHead, User
from pharmaqms.kernel.registry import RECORD_TYPES
from pharmaqms.kernel.uow import unit_of_work
from pharmaqms.quality.documents.models import DocumentVersion
from pharmaqms.web import access
from pharmaqms.web.app import create_app

SAFE = {"GET", "HEAD", "OPTIONS"}
ANONYMOUS = "anonymous"
# The most powerful last: a principal allowed a write may change what later ones see, so the
# ones expected to be refused go first, while the records are as seeded.
PRINCIPALS = [ANONYMOUS, *reversed(list(PEOPLE))]
# A sign-in of the principal's own session ends it: called after everything else.
LAST = {("POST", "/logout")}


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # as declared, with {parameters}
    route: APIRoute

    @property
    def is_api(self) -> bool:
        # The machine endpoints outside /api/ (/metrics) are called with a bearer token and
        # refuse as the API does.
        return self.path.startswith("/api/") or self.path in MACHINE_PATHS


def routes(app: FastAPI) -> list[Call]:
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            found.extend(Call(m, str(context.path), route) for m in sorted(route.methods))
    return found


# --- the database every principal shares ------------------------------------------------------


@dataclass
class World:
    database: Database
    app: FastAPI
    ids: dict[str, Any]


@pytest.fixture(scope="module")
def world(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = tmp_path_factory.mktemp("matrix") / "matrix.db"
    shutil.copyfile(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    set_database(database)
    app = create_app(database)
    with unit_of_work(database, write=False) as s:
        people = {
            u.username: auth.actor_for(s, u, Channel.API)
            for u in s.scalars(select(User).where(User.username.in_(list(PEOPLE))))
        }
    version_id = sop_in_state(database, people["qc"], people["qa"], "in_review", "Gowning")
    reporter = TestClient(app)
    token = reporter.post("/api/v1/auth/token", json={"username": "operator", "password": PASSWORD})
    reporter.headers["authorization"] = f"Bearer {token.json()['token']}"
    deviation = report_deviation(reporter)
    with unit_of_work(database, write=False) as s:
        version = s.get(DocumentVersion, version_id)
        assert version is not None
        document_id = version.document_id
    yield World(
        database,
        app,
        {
            "user_id": people["rd"].user_id,
            "version_id": version_id,
            "document_id": document_id,
            "deviation_id": deviation["id"],
            "record_id": version_id,
            "type_name": "document_version",
            "name": "approve",
        },
    )
    set_database(None)
    database.dispose()


def fill(call: Call, ids: dict[str, Any]) -> str:
    """The path with every parameter set: a record that exists where the test made one."""
    path = call.path
    for param in call.route.dependant.path_params:
        if call.path.startswith("/data/browse") and param.name == "name":
            value: Any = "products"
        elif param.name in ids:
            value = ids[param.name]
        elif param.field_info.annotation is int:
            value = 1
        else:
            value = "X"
        path = path.replace("{" + param.name + "}", str(value))
        path = path.replace("{" + param.name + ":path}", str(value))
    return path


# --- syntactically valid bodies ---------------------------------------------------------------


def sample(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    """The smallest value the JSON schema accepts: required fields only."""
    if "$ref" in schema:
        return sample(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    for combined in ("anyOf", "oneOf", "allOf"):
        if combined in schema:
            options = [o for o in schema[combined] if o.get("type") != "null"]
            return sample(options[0], defs) if options else None
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {k: sample(props[k], defs) for k in schema.get("required", [])}
    if kind == "array":
        return [sample(schema.get("items", {}), defs) for _ in range(schema.get("minItems", 0))]
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return max(float(schema.get("minimum", 1)), 1.0)
    if kind == "boolean":
        return False
    if schema.get("format") == "date-time":
        return "2026-03-01T08:00:00Z"
    if schema.get("format") == "date":
        return "2026-03-01"
    return "x" * max(int(schema.get("minLength", 1)), 1)


def body_of(call: Call, version: int) -> dict[str, Any]:
    """JSON for an API route, form fields for a page; a transition's carry a signature."""
    params = call.route.dependant.body_params
    found: dict[str, Any] = {}
    for param in params:
        annotation = param.field_info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            schema = annotation.model_json_schema()
            value = sample(schema, schema.get("$defs", {}))
            if len(params) == 1 and type(param.field_info).__name__ != "Form":
                found = dict(value)
                continue
            found[param.alias] = value
        elif param.field_info.is_required():
            found[param.alias] = "1" if annotation is int else "x"
    if isinstance(access.access_of(call.method, call.path), access.NamedTransition):
        found.update({"password": PASSWORD, "expected_version": version})
    return found


# --- the principals ---------------------------------------------------------------------------


class Principal:
    def __init__(self, app: FastAPI, username: str) -> None:
        self.username = username
        self.api = TestClient(app, follow_redirects=False, raise_server_exceptions=False)
        self.ui = TestClient(app, follow_redirects=False, raise_server_exceptions=False)
        self.csrf = ""
        if username == ANONYMOUS:
            return
        token = self.api.post(
            "/api/v1/auth/token", json={"username": username, "password": PASSWORD}
        )
        assert token.status_code == 200, token.text
        self.api.headers["authorization"] = f"Bearer {token.json()['token']}"
        # The login form carries a pre-session CSRF token: read it from the page first.
        login_form = CSRF_INPUT.search(self.ui.get("/login").text)
        assert login_form, "the login page carries a CSRF token"
        logged_in = self.ui.post(
            "/login",
            data={"username": username, "password": PASSWORD, "csrf_token": login_form.group(1)},
        )
        assert logged_in.status_code == 303, logged_in.text
        found = CSRF_INPUT.search(self.ui.get("/").text)
        assert found, "the home page carries the CSRF token"
        self.csrf = found.group(1)

    def call(self, call: Call, path: str, body: dict[str, Any]) -> Any:
        if call.is_api:
            if call.method in SAFE:
                return self.api.request(call.method, path)
            return self.api.request(call.method, path, json=body)
        if call.method in SAFE:
            return self.ui.request(call.method, path)
        files = {k: ("x.txt", b"x") for k, v in body.items() if k == "file"}
        data = {k: v for k, v in body.items() if k != "file"}
        data["csrf_token"] = self.csrf
        return self.ui.request(
            call.method,
            path,
            data=data,
            files=files or None,
            headers={"referer": "http://testserver/refused-here"},
        )


def actor_of(database: Database, username: str) -> Actor | None:
    if username == ANONYMOUS:
        return None
    with unit_of_work(database, write=False) as s:
        user = auth.user_by_username(s, username)
        assert user is not None
        return auth.actor_for(s, user, Channel.API)


def expected(call: Call, actor: Actor | None) -> tuple[bool, access.Access]:
    """(may succeed, the declared access) for this principal on this route."""
    declared = access.access_of(call.method, call.path)
    assert declared is not None, f"{call.method} {call.path} declares no access"
    if isinstance(declared, access.Public):
        return True, declared
    if actor is None:
        return False, declared
    if isinstance(declared, access.SignedIn):
        return True, declared
    if isinstance(declared, access.Needs):
        return declared.allows(actor), declared
    if isinstance(declared, access.Step):
        roles = RECORD_TYPES[declared.record_type].workflow.transition(declared.transition).roles
        return bool(actor.roles & roles), declared
    assert isinstance(declared, access.NamedTransition)
    workflow = RECORD_TYPES["document_version"].workflow
    return bool(actor.roles & workflow.transition("approve").roles), declared


def flash(response: Any) -> dict[str, str]:
    raw = response.cookies.get("pqms_flash")
    return dict(json.loads(unquote(raw))) if raw else {}


def succeeded(call: Call, response: Any) -> bool:
    if response.status_code >= 400:
        return False
    if call.is_api or response.status_code < 300:
        return True
    location = response.headers.get("location", "")
    return not location.startswith("/login") and flash(response).get("kind") != "error"


def refused_for_permission(call: Call, response: Any, anonymous: bool) -> bool:
    """The refusal of the access check itself: log in first, or a permission denied."""
    if call.is_api:
        if anonymous:
            return response.status_code == 401
        return response.status_code == 403 and response.json()["code"] == "permission_denied"
    if anonymous:
        return response.status_code == 303 and response.headers["location"].startswith("/login")
    if call.method in SAFE:
        return response.status_code == 403 and "may not" in response.text
    return response.status_code == 303 and "may not" in flash(response).get("message", "")


def head(database: Database) -> int:
    with unit_of_work(database, write=False) as s:
        found = s.get(AuditChainHead, 1)
        assert found is not None
        return found.seq


@pytest.mark.clause("part11:11.10(d)", "annex11:12")
def test_every_route_declares_who_may_call_it_and_every_declaration_has_a_route() -> None:
    app = create_app(Database("sqlite://"))
    declared = {(c.method, c.path) for c in routes(app)}

    undeclared = sorted(declared - set(access.ROUTES))
    stale = sorted(set(access.ROUTES) - declared)

    assert undeclared == []
    assert stale == []
    # and the write routes that need no more than reading say why (they only look things up)
    reading_writes = sorted(
        (m, p)
        for (m, p), rule in access.ROUTES.items()
        if m not in SAFE and isinstance(rule, access.Needs) and rule.permission == "records.read"
    )
    assert reading_writes == [("POST", "/api/v1/production/scan")]
    # and the writes open to any account, or to nobody in particular, are about one's own
    # identity: logging in and out, one's own password, one's own password resets, one's own
    # notification settings and time zone (the services change only the actor's own, or ask
    # for users.manage for anyone else's); one's own tasks,
    # handed on or back (the service checks the task is one's own or one's role's); and
    # the public side-effect form, open by design (CSRF, honeypot and rate limit in its handler)
    open_writes = sorted(
        (m, p)
        for (m, p), rule in access.ROUTES.items()
        if m not in SAFE and isinstance(rule, access.Public | access.SignedIn)
    )
    assert open_writes == [
        ("POST", "/account/notifications"),
        ("POST", "/account/password-resets/{reset_id}/confirm"),
        ("POST", "/account/password-resets/{reset_id}/dispute"),
        ("POST", "/account/time-zone"),
        ("POST", "/api/v1/auth/password"),
        ("POST", "/api/v1/auth/token"),
        ("POST", "/api/v1/me/password-resets/{reset_id}/confirm"),
        ("POST", "/api/v1/me/password-resets/{reset_id}/dispute"),
        ("POST", "/login"),
        ("POST", "/logout"),
        ("POST", "/password"),
        ("POST", "/report-side-effect"),
        ("POST", "/tasks/{task_id}/delegate"),
        ("POST", "/tasks/{task_id}/return"),
    ]


@pytest.mark.clause("part11:11.10(d)", "part11:11.10(g)", "annex11:12")
@pytest.mark.parametrize("username", PRINCIPALS)
def test_no_role_succeeds_on_a_route_its_permissions_do_not_allow(
    world: World, username: str
) -> None:
    principal = Principal(world.app, username)
    actor = actor_of(world.database, username)
    calls = sorted(
        routes(world.app),
        key=lambda c: ((c.method, c.path) in LAST, c.method not in SAFE, c.path, c.method),
    )
    with unit_of_work(world.database, write=False) as s:
        version = s.get(DocumentVersion, world.ids["version_id"])
        assert version is not None
        sop_version = version.version
    unauthorised_successes: list[str] = []
    wrong_refusals: list[str] = []
    refused_readers: list[str] = []
    server_errors: list[str] = []
    checked = 0
    for call in calls:
        allowed, declared = expected(call, actor)
        path = fill(call, world.ids)
        before = head(world.database)
        response = principal.call(call, path, body_of(call, sop_version))
        checked += 1
        what = f"{call.method} {path} → {response.status_code}"
        if response.status_code >= 500:
            server_errors.append(what)
        if allowed:
            if (
                call.method in SAFE
                and not (isinstance(declared, access.Needs) and declared.narrower)
                and response.status_code in (401, 403)
            ):
                refused_readers.append(f"{what}: {response.text[:200]}")
            continue
        if succeeded(call, response):
            unauthorised_successes.append(what)
        gated = isinstance(declared, access.Needs | access.SignedIn)
        if gated and not refused_for_permission(call, response, actor is None):
            wrong_refusals.append(f"{what}: {response.text[:200]}")
        if call.method not in SAFE and head(world.database) != before:
            unauthorised_successes.append(f"{what}: wrote to the audit trail")

    assert checked == len(calls) > 400
    found = {
        "unauthorised successes": unauthorised_successes,
        "refused otherwise than for want of permission": wrong_refusals,
        "readers refused what their permissions allow": refused_readers,
        "server errors": server_errors,
    }
    assert found == {kind: [] for kind in found}
